//! causeway-sip: the SIP message layer (RFC 3261 §7, §19, §20, §25). It turns bytes into a
//! [`Message`] that keeps the original buffer plus a one-pass header index, decodes typed
//! headers ([`header`]) and URIs ([`uri`]) only when asked, frames TCP/TLS streams
//! ([`framing`]), writes a message back as its original bytes plus an edit list ([`edit`]),
//! builds responses, ACKs and CANCELs ([`build`]), runs the proxy's RFC 3261 §16.3 request
//! checks ([`validate`]) and the strict checker behind `causeway sip check` ([`check`]).
//!
//! It never does I/O, never reads a clock, keeps no transaction or dialog state, and never
//! panics on input: bad input is a typed [`ParseError`] that maps to the status code to
//! answer (`StatusCode::from(&err)`).
//!
//! Main types: [`Message`], [`Method`], [`StatusCode`], [`Transport`], [`ParseError`],
//! [`HeaderName`], [`Uri`], [`Edits`], [`framing::Frame`], [`check::Report`],
//! [`validate::Rejection`].
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

pub mod build;
pub mod check;
pub mod edit;
mod error;
pub mod framing;
mod head;
pub mod header;
mod message;
mod method;
mod scan;
mod status;
mod transport;
pub mod uri;
pub mod validate;

pub use edit::{EditError, Edits};
pub use error::{HeaderFault, ParseError, UriError};
pub use header::name::HeaderName;
pub use message::{HeaderField, Message, ParseLimits, StartLine, UriSpan};
pub use method::{ExtensionMethod, Method};
pub use status::StatusCode;
pub use transport::Transport;
pub use uri::Uri;

#[cfg(test)]
mod message_tests;
