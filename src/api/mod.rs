//! The local socket API: JSON-RPC 2.0, one JSON object per line, on a Unix
//! socket or a Windows named pipe. [`listen`] finds and binds the path and
//! tells who is calling (the one place the platforms differ), `connection`
//! reads lines and runs them, `outbox` writes lines without waiting,
//! [`access`] says who may connect and how often, [`rpc`] is the frame,
//! [`methods`] maps methods onto the service, `trace` serves the APDU trace.

pub mod access;
pub(crate) mod connection;
pub mod listen;
pub mod methods;
pub(crate) mod outbox;
pub mod rpc;
mod trace;

use crate::service::Service;
use std::sync::Arc;

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
pub async fn serve(mut listener: listen::Listener, api: Api) -> std::io::Result<()> {
    let api = Arc::new(api);
    loop {
        let stream = listener.accept().await?;
        tokio::spawn(connection::run(stream, api.clone()));
    }
}
