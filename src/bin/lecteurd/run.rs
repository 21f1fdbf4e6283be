//! One daemon run, the same in a console and under a service manager: the
//! configuration (file, then command line), the log, then serving until a
//! stop is requested.

use clap::Parser;
use lecteur::cli::LecteurdArgs as Args;
use lecteur::config::{self, FileConfig, LoadError};
use lecteur::{api, daemon};
use std::future::Future;
use std::process::ExitCode;
use tracing_subscriber::fmt::MakeWriter;

/// Why a run ended early; the caller says it where its user will look.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RunError {
    /// The configuration file does not parse.
    #[error("configuration {0}")]
    Config(#[from] LoadError),
    /// The runtime could not be made.
    #[error("runtime: {0}")]
    Runtime(std::io::Error),
    /// The daemon did not start (socket, readers...).
    #[error("{0}")]
    Start(#[from] daemon::DaemonError),
    /// Accepting connections failed.
    #[error("{0}")]
    Serve(std::io::Error),
}

/// A run's settings and its log filter, before the log exists.
pub(crate) struct Settings {
    pub(crate) config: daemon::Config,
    pub(crate) log: String,
}

/// lecteurd in a terminal or under systemd: the log on stderr, stopped by
/// the console's signals ([`crate::stop`]).
pub(crate) fn console() -> ExitCode {
    let settings = match Settings::from(Args::parse()) {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    let stderr = std::io::stderr;
    // Colours only on a terminal: a journal or a log file gets plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    init_log(&settings.log, stderr, ansi, true);
    match serve(settings.config, crate::stop::requested(), || {}) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn fail(e: &RunError) -> ExitCode {
    eprintln!("lecteurd: {e}");
    ExitCode::FAILURE
}

impl Settings {
    /// The command line over the file over the defaults. The file first: its
    /// log level sets up the log.
    pub(crate) fn from(args: Args) -> Result<Self, RunError> {
        let file = match &args.config {
            Some(path) => FileConfig::load(path, true)?,
            None => FileConfig::load(&config::default_path(), false)?,
        };
        let file = file.unwrap_or_default();
        let log = std::env::var("LECTEUR_LOG")
            .ok()
            .or_else(|| file.log.clone())
            .unwrap_or_else(|| "info".into());
        Ok(Settings {
            config: merge(args, file),
            log,
        })
    }
}

/// The global log: `filter` (an EnvFilter directive) to `writer`; `time`
/// off where the log has its own timestamps (the event log).
pub(crate) fn init_log<W>(filter: &str, writer: W, ansi: bool, time: bool)
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = tracing_subscriber::EnvFilter::try_new(filter).unwrap_or_else(|_| "info".into());
    let log = tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(ansi)
        .with_env_filter(filter);
    if time {
        log.init();
    } else {
        log.without_time().init();
    }
}

/// Starts the daemon and serves until `stop` resolves; `ready` is called
/// once it accepts connections (the service manager's Running).
pub(crate) fn serve(
    config: daemon::Config,
    stop: impl Future<Output = ()>,
    ready: impl FnOnce(),
) -> Result<(), RunError> {
    let runtime = daemon::runtime().map_err(RunError::Runtime)?;
    runtime.block_on(async move {
        let ready_daemon = daemon::start(&config)?;
        tracing::info!(
            socket = %ready_daemon.socket.display(),
            activated = ready_daemon.activated,
            transports = ?ready_daemon.api.transports,
            "lecteurd ready"
        );
        lecteur::systemd::notify("READY=1");
        ready();
        let served = tokio::select! {
            r = api::serve(ready_daemon.listener, ready_daemon.api) => r.map_err(RunError::Serve),
            _ = stop => {
                tracing::info!("stopping");
                Ok(())
            }
        };
        lecteur::systemd::notify("STOPPING=1");
        if !ready_daemon.activated {
            let _ = std::fs::remove_file(&ready_daemon.socket);
        }
        served
    })
}

/// The command line over the file over the defaults.
fn merge(args: Args, file: FileConfig) -> daemon::Config {
    let serial = if args.serial.is_empty() {
        file.serial.iter().map(config::SerialPort::spec).collect()
    } else {
        args.serial
    };
    let allowed = if args.allow_uid.is_empty() {
        file.allowed_uids
    } else {
        Some(args.allow_uid)
    };
    let allowed_sids = if args.allow_sid.is_empty() {
        file.allowed_sids
    } else {
        Some(args.allow_sid)
    };
    daemon::Config {
        socket: args.socket.or(file.socket),
        pcsc: !args.no_pcsc && file.pcsc.unwrap_or(true),
        serial,
        sim: args.sim || !args.sim_cards.is_empty(),
        sim_cards: args.sim_cards,
        service: lecteur::service::Options {
            pin_idle_timeout: std::time::Duration::from_secs(
                args.pin_idle_timeout.or(file.pin_idle_timeout).unwrap_or(900),
            ),
            card_wait: args
                .card_wait
                .or(file.card_wait)
                .map_or(lecteur::service::CARD_WAIT, std::time::Duration::from_secs),
            profiles_dir: args.profiles_dir.or(file.profiles_dir),
        },
        access: api::access::Access {
            group: args.socket_group.or(file.socket_group),
            allowed_uids: allowed,
            allowed_sids,
            max_rate: args
                .max_rate
                .or(file.max_rate)
                .unwrap_or(api::access::DEFAULT_MAX_RATE),
        },
    }
}
