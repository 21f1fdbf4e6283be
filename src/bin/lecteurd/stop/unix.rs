//! A console or systemd stops lecteurd with SIGTERM or ctrl-c (SIGINT).

use tokio::signal::unix::{signal, SignalKind};

/// Resolves on the first stop signal.
pub(crate) async fn requested() {
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
