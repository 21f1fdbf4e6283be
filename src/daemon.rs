//! Assembling a daemon: the socket, the transports, the service, the API.
//! Used by `lecteurd` and by `lecteur demo`, which runs one in-process.

use crate::api::{self, Api};
use crate::service::Service;
use crate::transport;
use std::path::PathBuf;

/// What a daemon runs (lecteurd makes it from its options and configuration file).
#[derive(Debug, Default, Clone)]
pub struct Config {
    /// Socket path (a pipe name on Windows); resolved by
    /// [`api::listen::resolve`] when `None`.
    pub socket: Option<PathBuf>,
    /// Use PC/SC (pcscd).
    pub pcsc: bool,
    /// `PATH[:PROFILE]` of each serial reader.
    pub serial: Vec<String>,
    /// Add the built-in simulated reader (CPS3 in slot 0, Vitale 2 in slot 1).
    pub sim: bool,
    /// Other cards for the simulated reader's slots (names or TOML files).
    pub sim_cards: Vec<String>,
    /// The service's options (PIN idle timeout, card wait...).
    pub service: crate::service::Options,
    /// Socket group, uid allow-list, request rate.
    pub access: api::access::Access,
}

/// Why a daemon could not start. The messages are lecteurd's (after `lecteurd: `).
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// The API cannot listen (socket or named pipe).
    #[error(transparent)]
    Listen(#[from] api::listen::ListenError),
    /// A serial reader cannot be started.
    #[error("serial {spec}: {source}")]
    Serial {
        /// Its `PATH[:PROFILE]`.
        spec: String,
        /// Why.
        #[source]
        source: transport::TransportError,
    },
    /// A simulated reader was asked for in a build without one.
    #[error("this build has no simulator (built without the cargo feature `sim`)")]
    NoSimulator,
    /// A simulated card cannot be loaded.
    #[cfg(feature = "sim")]
    #[error("simulator: {0}")]
    Simulator(#[source] lecteur_sim::card::LoadError),
    /// The card profiles cannot be loaded.
    #[error("profile {0}")]
    Profile(#[source] crate::card::profile::ProfileError),
    /// The runtime or the thread of [`spawn`].
    #[error("{0}")]
    Thread(#[source] std::io::Error),
    /// The daemon's thread ended before it was ready.
    #[error("the daemon thread ended before it was ready")]
    NotReady,
}

/// A daemon ready to serve: call [`api::serve`] with these.
pub struct Ready {
    /// The socket's path (the pipe's name on Windows).
    pub socket: PathBuf,
    /// The listening socket (or named pipe).
    pub listener: api::listen::Listener,
    /// What the connections share.
    pub api: Api,
    /// The socket came from systemd (socket activation): it is systemd's to remove.
    pub activated: bool,
}

/// Whether this build has the simulated reader (the cargo feature `sim`, off
/// in the Debian package: the simulator's cards carry private keys).
pub const HAS_SIMULATOR: bool = cfg!(feature = "sim");

/// Binds the socket and starts the transports. Must run inside a tokio runtime.
pub fn start(config: &Config) -> Result<Ready, DaemonError> {
    if config.sim && !HAS_SIMULATOR {
        return Err(DaemonError::NoSimulator);
    }
    let (socket, listener, activated) = match crate::systemd::activated_listener() {
        Some(passed) => {
            let (socket, listener) = api::listen::activated(passed)?;
            (socket, listener, true)
        }
        None => {
            let socket = api::listen::resolve(config.socket.as_deref());
            let listener = api::listen::bind(&socket, &config.access)?;
            (socket, listener, false)
        }
    };
    let (sink, events) = tokio::sync::mpsc::unbounded_channel();
    let mut transports = Vec::new();
    if config.pcsc {
        transport::pcsc::start(sink.clone());
        transports.push("pcsc");
    }
    for (i, spec) in config.serial.iter().enumerate() {
        transport::serial::start(i, spec, sink.clone()).map_err(|source| DaemonError::Serial {
            spec: spec.clone(),
            source,
        })?;
        if !transports.contains(&"serial") {
            transports.push("serial");
        }
    }
    #[cfg(feature = "sim")]
    if config.sim {
        let reader = if config.sim_cards.is_empty() {
            lecteur_sim::default_reader()
        } else {
            lecteur_sim::reader_with(&config.sim_cards)
        }
        .map_err(DaemonError::Simulator)?;
        transport::sim::start(reader, sink.clone());
        transports.push("sim");
    }
    drop(sink);
    let service = Service::start(events, config.service.clone()).map_err(DaemonError::Profile)?;
    Ok(Ready {
        socket,
        listener,
        api: Api {
            service,
            transports,
            access: config.access.clone(),
        },
        activated,
    })
}

/// The runtime lecteurd serves on: **one thread**. Card I/O runs on each slot's
/// own thread, so nothing on the socket side blocks; on one thread a request
/// and its answer wake no other runtime thread, a fixed cost that counts on a
/// fast card (benches/vitale_read.rs, see docs/performance.md).
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread().enable_all().build()
}

/// Runs a daemon on a thread of its own (for tools and benchmarks that embed
/// one) and returns its socket path once it accepts connections. The thread
/// lives as long as the process.
pub fn spawn(config: Config) -> Result<PathBuf, DaemonError> {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("lecteurd".into())
        .spawn(move || {
            let runtime = match runtime() {
                Ok(r) => r,
                Err(e) => return drop(ready_tx.send(Err(DaemonError::Thread(e)))),
            };
            runtime.block_on(async move {
                match start(&config) {
                    Ok(ready) => {
                        let _ = ready_tx.send(Ok(ready.socket.clone()));
                        if let Err(e) = api::serve(ready.listener, ready.api).await {
                            tracing::error!("lecteurd: {e}");
                        }
                    }
                    Err(e) => drop(ready_tx.send(Err(e))),
                }
            })
        })
        .map_err(DaemonError::Thread)?;
    ready_rx.recv().map_err(|_| DaemonError::NotReady)?
}
