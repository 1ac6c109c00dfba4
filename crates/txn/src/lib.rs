//! causeway-txn: the SIP transaction layer of RFC 3261 §17 with the RFC 6026 corrections —
//! INVITE and non-INVITE, client and server, every timer (A, B, D-M; Timer C is the proxy
//! core's), retransmission over UDP only, transport errors, and the §17.1.3 / §17.2.3
//! matching rules including the RFC 2543 fallback. It is a deterministic, sans-IO state
//! machine: it never touches a socket, never reads a clock (time comes in as `now`), never
//! spawns, locks or allocates per timer tick. It knows nothing about routing or dialogs.
//!
//! Main types: [`TransactionTable`] (all transactions of one engine), [`TxnConfig`]
//! (T1/T2/T4), [`Transmit`] and [`Event`] (its outputs), [`Timer`], [`TxnId`], [`TxnError`].
//!
//! # Calling order
//!
//! Inputs are `handle_*` calls and TU commands, each with the current `now`:
//! [`TransactionTable::handle_message`] (a parsed message from the network),
//! [`TransactionTable::handle_timeout`], [`TransactionTable::handle_transport_error`],
//! [`TransactionTable::start_client`] and [`TransactionTable::respond`]. After any of them,
//! drain the outputs in this order:
//!
//! 1. [`TransactionTable::poll_transmit`] until `None`: bytes to send, each carrying the
//!    peer value the TU gave (address, transport, flow — passed through untouched);
//! 2. [`TransactionTable::poll_event`] until `None`: new requests, responses, 2xx ACKs,
//!    timeouts (on B or F the TU acts as if a 408 arrived), transport errors, terminations;
//! 3. [`TransactionTable::poll_timeout`]: when to call `handle_timeout` next.
//!
//! # What the transaction user (the proxy core) does
//!
//! - Chooses the peer value `P` (address, transport, flow). For server transactions it is
//!   where responses go, computed per RFC 3261 §18.2.2 before `handle_message`.
//! - Answers every [`Event::Request`] with [`TransactionTable::respond`], starting with 100
//!   (Trying) for an INVITE (§17.2.1); forwards each 2xx of a client INVITE transaction to
//!   the server transaction, which passes them on in RFC 6026's Accepted state.
//! - Treats [`Event::Timeout`] with Timer B or F as a 408 from that branch (§8.1.3.1,
//!   §16.7 step 6). Timer C (§16.6 step 11) is the proxy's own.
//! - Forwards [`Event::Ack`] (ACKs for 2xx are end to end, §13.2.2.4, §16.6) and drops
//!   [`Event::StrayResponse`] (RFC 6026 §8.9).
//! - Sends ACKs for 2xx itself, outside any transaction; the table builds and resends only
//!   the ACK for non-2xx finals (§17.1.1.3).
//! - For CANCEL (§9.2, §16.10) finds the INVITE with [`TransactionTable::find_cancelled_invite`]
//!   and builds per-branch CANCELs from [`TransactionTable::sent_request`].
//! - Reports failed sends with [`TransactionTable::handle_transport_error`].
//! - Answers a [`Rejected`] message statelessly (400, 503) or drops it.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use bytes::Bytes;
//! use causeway_sip::{Message, Transport};
//! use causeway_txn::{Event, TransactionTable, TxnConfig};
//!
//! let mut table: TransactionTable<&str> = TransactionTable::new(TxnConfig::default())?;
//! let t0 = Instant::now();
//! let options = Message::parse(Bytes::from_static(
//!     b"OPTIONS sip:edge.example.com SIP/2.0\r\n\
//!       Via: SIP/2.0/UDP edge.example.com;branch=z9hG4bKopt1\r\n\
//!       From: <sip:edge.example.com>;tag=1\r\nTo: <sip:peer.example.com>\r\n\
//!       Call-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
//! ))?;
//! let txn = table.start_client(t0, options, Transport::Udp, "peer")?;
//! assert_eq!(table.poll_transmit().map(|t| t.to), Some("peer"));
//! // No answer: Timer E retransmits at T1 = 500 ms.
//! assert_eq!(table.poll_timeout(), Some(t0 + Duration::from_millis(500)));
//! table.handle_timeout(t0 + Duration::from_millis(500));
//! assert!(table.poll_transmit().is_some());
//! assert!(table.poll_event().is_none());
//! # let _ = txn;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

mod config;
mod error;
mod invite_client;
mod invite_server;
mod key;
mod machine;
mod message;
mod non_invite_client;
mod non_invite_server;
mod output;
mod peer;
mod table;
mod timer;

pub use config::{ConfigError, TxnConfig};
pub use error::{Missing, TxnError};
pub use output::{Event, Transmit, TxnId, TxnKind, TxnMap, TxnState};
pub use peer::PeerKey;
pub use table::{MessageKey, Rejected, TransactionTable};
pub use timer::Timer;
