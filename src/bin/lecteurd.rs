//! lecteurd: the daemon. Drives readers (PC/SC, CCID serial, the built-in
//! simulator) and serves the JSON-RPC API on a Unix socket.

use clap::Parser;
use lecteur::{api, daemon};
use std::path::PathBuf;

#[derive(Parser)]
#[command(version, about = "Daemon for French health smart cards (CPS, carte Vitale)")]
struct Args {
    /// Socket path (default: $LECTEUR_SOCKET, $XDG_RUNTIME_DIR/lecteur.sock, /run/lecteur/lecteur.sock).
    #[arg(long)]
    socket: Option<PathBuf>,
    /// Do not use PC/SC (pcscd).
    #[arg(long)]
    no_pcsc: bool,
    /// A CCID-over-serial reader, PATH[:PROFILE] (GemPCTwin, GemCoreSIMPro, GemCorePOSPro, GemPCPinPad).
    #[arg(long, value_name = "PATH[:PROFILE]")]
    serial: Vec<String>,
    /// Add the built-in simulated two-slot reader (CPS3 in slot 0, Vitale 2 in slot 1).
    #[arg(long)]
    sim: bool,
    /// Cards of the simulated reader's slots, e.g. `cps4,vitale2-6-beneficiaries,empty` (implies --sim).
    #[arg(long, value_name = "CARD,CARD", value_delimiter = ',')]
    sim_cards: Vec<String>,
    /// Drop a PIN verification unused for this many seconds (the card is reset).
    #[arg(long, value_name = "SECONDS", default_value_t = 900)]
    pin_idle_timeout: u64,
    /// Directory of card profiles (cps3.toml, cps4.toml, vitale2.toml, readers.toml, vihf.toml) replacing the built-in ones.
    #[arg(long, value_name = "DIR")]
    profiles: Option<PathBuf>,
    /// Group owning the socket (mode 0660), by name or number: its members may connect.
    #[arg(long, value_name = "GROUP")]
    socket_group: Option<String>,
    /// Serve only these uids (repeat the option); others are refused with `not_allowed`.
    #[arg(long, value_name = "UID")]
    allow_uid: Vec<u32>,
    /// Requests per second one connection may send (0: no limit); beyond, `rate_limited`.
    #[arg(long, value_name = "N", default_value_t = api::access::DEFAULT_MAX_RATE)]
    max_rate: u32,
}

fn main() {
    let runtime = daemon::runtime().unwrap_or_else(|e| {
        eprintln!("lecteurd: runtime: {e}");
        std::process::exit(1);
    });
    runtime.block_on(serve());
}

async fn serve() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        // Colours only on a terminal: a journal or a log file gets plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("LECTEUR_LOG").unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let config = daemon::Config {
        socket: args.socket,
        pcsc: !args.no_pcsc,
        serial: args.serial,
        sim: args.sim || !args.sim_cards.is_empty(),
        sim_cards: args.sim_cards,
        service: lecteur::service::Options {
            pin_idle_timeout: std::time::Duration::from_secs(args.pin_idle_timeout),
            profiles_dir: args.profiles,
        },
        access: api::access::Access {
            group: args.socket_group,
            allowed_uids: (!args.allow_uid.is_empty()).then_some(args.allow_uid),
            max_rate: args.max_rate,
        },
    };
    let ready = match daemon::start(&config) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("lecteurd: {e}");
            std::process::exit(1);
        }
    };
    tracing::info!(socket = %ready.socket.display(), transports = ?ready.api.transports, "lecteurd ready");
    tokio::select! {
        r = api::serve(ready.listener, ready.api) => {
            if let Err(e) = r {
                eprintln!("lecteurd: {e}");
            }
        }
        _ = shutdown() => tracing::info!("stopping"),
    }
    let _ = std::fs::remove_file(&ready.socket);
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
