//! The shutdown trigger the binary passes to [`crate::Node::run`].

/// Completes on the first SIGINT or SIGTERM. If a handler cannot be installed (no signal support), that signal
/// is simply not waited for.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let wait = |kind: SignalKind| async move {
        match signal(kind) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot install a signal handler");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = wait(SignalKind::interrupt()) => tracing::info!("SIGINT: shutting down"),
        () = wait(SignalKind::terminate()) => tracing::info!("SIGTERM: shutting down"),
    }
}
