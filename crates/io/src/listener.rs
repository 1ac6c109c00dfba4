//! TCP and TLS listeners: accept, apply the connection limits, hand each admitted connection to its own task.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use causeway_sip::Transport;
use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::shared::{bump, Shared};
use crate::stream::{self, Peer};

/// Pending connections the kernel queues before `accept`.
const BACKLOG: i32 = 1024;
/// Pause after a failed accept (EMFILE, ENFILE) so a full fd table does not become a busy loop.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

pub(crate) fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    TcpListener::from_std(socket.into())
}

/// Accepts until cancelled. A connection over the total or per-IP limit is closed at once and counted.
pub(crate) async fn accept(
    listener: TcpListener,
    local: SocketAddr,
    transport: Transport,
    tls: Option<TlsAcceptor>,
    shared: Arc<Shared>,
) {
    // Registered once: a fresh `cancelled()` per wake-up would lock the token's waiter list every time.
    let cancelled = shared.cancel.cancelled();
    tokio::pin!(cancelled);
    loop {
        let accepted = tokio::select! {
            () = &mut cancelled => return,
            accepted = listener.accept() => accepted,
        };
        let (tcp, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!(%local, error = %e, "accept failed");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let Some(permit) = shared.admit(peer.ip()) else {
            bump(&shared.counters.connections_refused);
            tracing::debug!(%peer, %local, "connection refused: limit reached");
            continue;
        };
        bump(&shared.counters.connections_accepted);
        let who = Peer { flow: shared.next_flow(), transport, peer };
        tokio::spawn(stream::serve_accepted(tcp, local, who, tls.clone(), permit, Arc::clone(&shared)));
    }
}
