//! ICMP errors for what a UDP listener sent (Linux). A UDP next hop that is down answers with ICMP port (or host)
//! unreachable; without this the core would learn it only when Timer B or F fires, 32 s later. With `IP_RECVERR`
//! / `IPV6_RECVERR` set, the kernel queues each such error on the socket's error queue together with the
//! destination of the datagram that caused it. One task per socket waits for error readiness — on a registration
//! of its own, never on the receive path — reads the queue with `MSG_ERRQUEUE` and reports each error as
//! [`Note::Unreachable`], which the driver hands to the core as a transport error: the transactions to that
//! destination fail at once (RFC 3261 §17.1.4, §18.4) and the request fails over (RFC 3263 §4.3).
//!
//! The one cost on the hot path: while an error is pending, the next receive on the socket returns it once
//! (`ECONNREFUSED`), which the receive loop already ignores.

use std::io::{self, IoSliceMut};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::Arc;

use nix::libc;
use nix::sys::socket::{recvmsg, setsockopt, sockopt, ControlMessageOwned, MsgFlags, SockaddrStorage};
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

use crate::shared::{Note, Shared};
use crate::udp::{to_std, UdpPort};

/// One ICMP error read from a socket's error queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Unreachable {
    destination: SocketAddr,
    kind: io::ErrorKind,
}

/// Turns on ICMP error reporting for `port` and starts the task that reads its error queue until the I/O layer
/// shuts down. Must run inside a tokio runtime.
pub(crate) fn watch(port: &UdpPort, shared: &Arc<Shared>) -> io::Result<()> {
    let socket = port.sender.try_clone()?;
    if port.local.is_ipv6() {
        setsockopt(&socket, sockopt::Ipv6RecvErr, &true)?;
    } else {
        setsockopt(&socket, sockopt::Ipv4RecvErr, &true)?;
    }
    // Error interest only (tokio registers it as readable with the reactor; no task waits for that): a
    // `tokio::net::UdpSocket` over the same socket would also take an event for every datagram sent. The
    // deprecation is about owners whose descriptor may change under the registration; a std `UdpSocket` owns
    // its descriptor for its whole life, which is what the unsafe replacement asks, and unsafe is forbidden here.
    #[allow(deprecated)]
    let errors = AsyncFd::with_interest(socket, Interest::ERROR)?;
    let (local, shared) = (port.local, Arc::clone(shared));
    tokio::spawn(async move {
        tokio::select! {
            () = shared.cancel.cancelled() => {}
            () = read_errors(errors, local, &shared) => {}
        }
    });
    Ok(())
}

/// Waits for error readiness and reports every ICMP error the queue holds, until the socket fails.
async fn read_errors(errors: AsyncFd<std::net::UdpSocket>, local: SocketAddr, shared: &Shared) {
    loop {
        let mut ready = match errors.ready(Interest::ERROR).await {
            Ok(ready) => ready,
            Err(error) => {
                tracing::debug!(%local, %error, "UDP error queue: not watched any more");
                return;
            }
        };
        loop {
            match read_one(errors.get_ref()) {
                Ok(Some(error)) => {
                    tracing::debug!(%local, destination = %error.destination, kind = %error.kind, "ICMP: destination unreachable");
                    let note = Note::Unreachable { local, destination: error.destination, kind: error.kind };
                    if shared.notes.send(note).await.is_err() {
                        return;
                    }
                }
                Ok(None) => {}
                Err(error) => {
                    if error.kind() != io::ErrorKind::WouldBlock {
                        tracing::debug!(%local, %error, "UDP error queue read failed");
                    }
                    ready.clear_ready();
                    break;
                }
            }
        }
    }
}

/// Reads one entry of the error queue: `Ok(None)` for an entry that is not an ICMP unreachable (a path-MTU
/// notice, say), `WouldBlock` when the queue is empty.
fn read_one(socket: &std::net::UdpSocket) -> io::Result<Option<Unreachable>> {
    let mut byte = [0u8; 1];
    let mut iov = [IoSliceMut::new(&mut byte)];
    let mut control = nix::cmsg_space!(libc::sock_extended_err, libc::sockaddr_in6);
    let flags = MsgFlags::MSG_ERRQUEUE | MsgFlags::MSG_DONTWAIT;
    let msg = recvmsg::<SockaddrStorage>(socket.as_raw_fd(), &mut iov, Some(&mut control), flags)?;
    // ip(7): msg_name holds the destination of the datagram that caused the error.
    let Some(destination) = msg.address.as_ref().and_then(to_std) else { return Ok(None) };
    let error = msg.cmsgs()?.find_map(|cmsg| match cmsg {
        ControlMessageOwned::Ipv4RecvErr(e, _) if e.ee_origin == libc::SO_EE_ORIGIN_ICMP => Some(e.ee_errno),
        ControlMessageOwned::Ipv6RecvErr(e, _) if e.ee_origin == libc::SO_EE_ORIGIN_ICMP6 => Some(e.ee_errno),
        _ => None,
    });
    Ok(error.and_then(|errno| unreachable(destination, errno)))
}

/// The errors that say nothing serves the destination (port, host or network unreachable, or administratively
/// prohibited); "fragmentation needed" (`EMSGSIZE`) is a path-MTU notice, not a failure.
fn unreachable(destination: SocketAddr, errno: u32) -> Option<Unreachable> {
    let errno = i32::try_from(errno).ok()?;
    let serves_nothing = [libc::ECONNREFUSED, libc::EHOSTUNREACH, libc::ENETUNREACH, libc::EHOSTDOWN, libc::EACCES];
    serves_nothing.contains(&errno).then(|| Unreachable { destination, kind: io::Error::from_raw_os_error(errno).kind() })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real socket: a datagram to a closed loopback port comes back as ICMP port unreachable, read from the
    /// error queue with the destination it was sent to.
    #[test]
    fn rfc1122_icmp_port_unreachable_names_the_destination() {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        setsockopt(&socket, sockopt::Ipv4RecvErr, &true).unwrap_or_else(|e| panic!("{e}"));
        let closed = std::net::UdpSocket::bind("127.0.0.1:0").and_then(|s| s.local_addr()).unwrap_or_else(|e| panic!("{e}"));
        socket.send_to(b"OPTIONS sip:x SIP/2.0\r\n\r\n", closed).unwrap_or_else(|e| panic!("{e}"));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        let found = loop {
            match read_one(&socket) {
                Ok(found) => break found,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock && std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                Err(e) => panic!("{e}"),
            }
        };
        assert_eq!(found, Some(Unreachable { destination: closed, kind: io::ErrorKind::ConnectionRefused }));
        assert_eq!(read_one(&socket).map_err(|e| e.kind()), Err(io::ErrorKind::WouldBlock), "the queue is drained");
    }

    #[test]
    fn a_path_mtu_notice_is_not_a_failure() {
        let at = SocketAddr::from(([192, 0, 2, 1], 5060));
        assert_eq!(unreachable(at, libc::EMSGSIZE as u32), None);
        assert_eq!(unreachable(at, libc::EHOSTUNREACH as u32).map(|u| u.kind), Some(io::ErrorKind::HostUnreachable));
    }
}
