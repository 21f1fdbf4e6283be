//! The local socket API: JSON-RPC 2.0, one JSON object per line, on a Unix
//! socket. [`socket`] finds and binds the path, `connection` reads lines and
//! runs them, `outbox` writes lines without waiting, [`access`] says who
//! may connect and how often, [`rpc`] is the frame, [`methods`] maps methods
//! onto the service, `trace` serves the APDU trace.

pub mod access;
pub(crate) mod connection;
pub mod methods;
pub(crate) mod outbox;
pub mod rpc;
pub mod socket;
mod trace;

use crate::service::Service;
use std::sync::Arc;
use tokio::net::UnixListener;

/// What every connection shares.
pub struct Api {
    /// The readers, cards and their operations.
    pub service: Service,
    /// The transports this daemon runs (`system.info`).
    pub transports: Vec<&'static str>,
    /// Who may connect, and how many requests a second.
    pub access: access::Access,
}

/// Serves clients until the listener fails.
pub async fn serve(listener: UnixListener, api: Api) -> std::io::Result<()> {
    let api = Arc::new(api);
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(connection::run(stream, api.clone()));
    }
}
