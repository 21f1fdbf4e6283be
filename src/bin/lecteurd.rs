//! lecteurd: the daemon. Drives readers (PC/SC, CCID serial, the built-in
//! simulator) and serves the JSON-RPC API on a Unix socket.

use clap::Parser;
use lecteur::cli::LecteurdArgs as Args;
use lecteur::config::{self, FileConfig};
use lecteur::{api, daemon};

fn main() {
    let args = Args::parse();
    // The configuration file first: its log level sets up the log.
    let file = match &args.config {
        Some(path) => FileConfig::load(path, true),
        None => FileConfig::load(std::path::Path::new(config::DEFAULT_PATH), false),
    };
    let file = file.unwrap_or_else(|e| {
        eprintln!("lecteurd: configuration {e}");
        std::process::exit(1);
    });
    let file = file.unwrap_or_default();
    let log = std::env::var("LECTEUR_LOG")
        .ok()
        .or_else(|| file.log.clone())
        .unwrap_or_else(|| "info".into());
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        // Colours only on a terminal: a journal or a log file gets plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(&log).unwrap_or_else(|_| "info".into()))
        .init();
    let config = merge(args, file);
    let runtime = daemon::runtime().unwrap_or_else(|e| {
        eprintln!("lecteurd: runtime: {e}");
        std::process::exit(1);
    });
    runtime.block_on(serve(config));
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

async fn serve(config: daemon::Config) {
    let ready = match daemon::start(&config) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("lecteurd: {e}");
            std::process::exit(1);
        }
    };
    tracing::info!(
        socket = %ready.socket.display(),
        activated = ready.activated,
        transports = ?ready.api.transports,
        "lecteurd ready"
    );
    lecteur::systemd::notify("READY=1");
    tokio::select! {
        r = api::serve(ready.listener, ready.api) => {
            if let Err(e) = r {
                eprintln!("lecteurd: {e}");
            }
        }
        _ = shutdown() => tracing::info!("stopping"),
    }
    lecteur::systemd::notify("STOPPING=1");
    if !ready.activated {
        let _ = std::fs::remove_file(&ready.socket);
    }
}

async fn shutdown() {
    use tokio::signal::unix::{signal, SignalKind};
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
