//! Real-socket tests of causeway-io on 127.0.0.1 with ephemeral ports. Every wait is bounded by a timeout.

mod common;
mod kept;
mod stream;
mod tls;
mod udp;
mod udp_errors;
