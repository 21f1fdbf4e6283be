//! `lecteur-sim`: simulated cards and reader firmware for lecteur's tests.
//! The work happens in the library ([`lecteur_sim::vpcd`],
//! [`lecteur_sim::serial`], [`lecteur_sim::control`]); this is the CLI.

use clap::{Parser, Subcommand};
use lecteur_sim::control::{is_empty_spec, CardBay, ControlServer};
use lecteur_sim::serial::{self, Profile};
use lecteur_sim::{vpcd, SimReader};
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "lecteur-sim",
    version,
    about = "Simulated French health cards and reader firmware for lecteur"
)]
struct Cli {
    /// Log every command (headers and lengths, never APDU data).
    #[arg(short, long, global = true)]
    verbose: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// A virtual card for pcscd's vpcd driver (connects to vpcd over TCP).
    Vpcd {
        /// vpcd's port: 35963 is "Virtual PCD 00 00", 35964 "Virtual PCD 00 01".
        #[arg(long, default_value_t = vpcd::DEFAULT_PORT)]
        port: u16,
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        /// cps3, vitale2, unknown, a TOML card file, echo[:ATRHEX], or none.
        #[arg(long)]
        card: String,
        /// Unix socket for insert/remove/status/counters commands and faults
        /// (`fault delay=MS pull-after=N pull-on=INS disconnect`, `fault none`).
        #[arg(long)]
        control: Option<PathBuf>,
    },
    /// A CCID-over-serial reader on a pseudo-terminal (libccidtwin, lecteur's serial transport).
    Serial {
        /// Where to put the symbolic link to the pty slave.
        #[arg(long)]
        link: PathBuf,
        /// Cards per slot, comma-separated: cps3, vitale2, unknown, FILE, echo[:ATRHEX], empty.
        #[arg(long, value_delimiter = ',')]
        slots: Vec<String>,
        /// gemcore-sim-pro (2 slots, no echo), gempc-twin (1 slot, echo) or
        /// gempc-pinpad (a GemPC Twin with a keypad: PIN entry scripted with
        /// the control commands keys DIGITS, cancel, timeout).
        #[arg(long, default_value = "gemcore-sim-pro")]
        reader: Profile,
        /// Unix socket for insert/remove/status (and keypad) commands.
        #[arg(long)]
        control: Option<PathBuf>,
        /// Time the line as a real one at this speed (8N2, 11 bits a byte);
        /// by default bytes cross the pty as fast as it goes.
        #[arg(long)]
        baud: Option<u32>,
        /// Line faults from the start, e.g. "ber=1e-4 seed=7" (ber=P rx-ber=P
        /// drop=P dup=P garbage=P nak-storm time-ext[=MS] mute-after=N
        /// delay=MS unplug seed=S); changed at run time with the control
        /// command `fault SPEC` (`fault none` clears them).
        #[arg(long, value_name = "SPEC")]
        fault: Option<String>,
    },
    /// Sends one command to a running simulator's control socket and prints the answer.
    Control {
        /// The socket given to --control.
        #[arg(long)]
        socket: PathBuf,
        /// The command: insert SLOT SPEC, remove SLOT, status, counters, help; keys DIGITS, cancel, timeout, keypad; fault SPEC.
        #[arg(required = true, trailing_var_arg = true)]
        command: Vec<String>,
    },
    /// Writes the simulated PKI (CA and card certificates) to a directory.
    GenFixtures {
        #[arg(long)]
        out: PathBuf,
    },
}

/// Set by SIGTERM and SIGINT: the front-end ends its loop and cleans up.
fn stop_on_signals() -> Result<Arc<AtomicBool>, String> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, Arc::clone(&stop)).map_err(|e| format!("signal handler: {e}"))?;
    }
    Ok(stop)
}

fn start_control(path: Option<&PathBuf>, bay: &CardBay) -> Result<Option<ControlServer>, String> {
    path.map(|p| ControlServer::start(p, bay.clone()).map_err(|e| e.to_string()))
        .transpose()
}

fn resolve(host: &str, port: u16) -> Result<SocketAddr, String> {
    (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}:{port}: {e}"))?
        .next()
        .ok_or_else(|| format!("{host}:{port} resolves to no address"))
}

fn run_vpcd(
    port: u16,
    host: &str,
    card: &str,
    control: Option<&PathBuf>,
    verbose: bool,
) -> Result<(), String> {
    let addr = resolve(host, port)?;
    let reader = SimReader::new(1);
    let faults = lecteur_sim::vpcd_faults::VpcdFaults::default();
    let bay = CardBay::new(reader.clone()).with_vpcd_faults(Some(faults.clone()));
    if !is_empty_spec(card) {
        bay.insert_spec(0, card).map_err(|e| e.to_string())?;
        eprintln!("lecteur-sim: vpcd: card {card} in the slot");
    }
    let _control = start_control(control, &bay)?;
    let stop = stop_on_signals()?;
    let opts = vpcd::Options {
        verbose,
        faults,
        ..vpcd::Options::default()
    };
    vpcd::run_with(reader, addr, &stop, &opts).map_err(|e| e.to_string())
}

fn run_serial(
    link: &std::path::Path,
    slots: &[String],
    profile: Profile,
    control: Option<&PathBuf>,
    baud: Option<u32>,
    fault: Option<&str>,
    verbose: bool,
) -> Result<(), String> {
    // Checked before anything is created.
    let fault = fault
        .map(serial::FaultSpec::parse)
        .transpose()
        .map_err(|e| format!("--fault: {e}"))?;
    let count = profile.default_slots();
    if slots.len() > count {
        return Err(format!(
            "--slots lists {} cards but the {profile} reader has {count} slot(s)",
            slots.len()
        ));
    }
    let reader = SimReader::new(count);
    let bay = CardBay::new(reader.clone());
    for (slot, spec) in slots.iter().enumerate() {
        if !is_empty_spec(spec) {
            bay.insert_spec(slot, spec).map_err(|e| e.to_string())?;
            eprintln!("lecteur-sim: serial: slot {slot}: card {}", spec.trim());
        }
    }
    let mut device = serial::Reader::open(link, profile, reader).map_err(|e| e.to_string())?;
    device.set_verbose(verbose);
    device.set_baud(baud);
    if let Some(spec) = fault {
        eprintln!("lecteur-sim: serial: fault: {}", spec.describe());
        device.faults().set(spec);
    }
    let bay = bay
        .with_keypad(device.keypad())
        .with_faults(Some(device.faults()));
    let _control = start_control(control, &bay)?;
    let stop = stop_on_signals()?;
    device.run(&stop).map_err(|e| e.to_string())
}

/// Sends `command` and prints the answer lines; an `error:` answer is an error.
fn run_control_client(socket: &std::path::Path, command: &[String]) -> Result<(), String> {
    let line = command.join(" ");
    if line.contains('\n') || line.len() >= lecteur_sim::control::MAX_LINE {
        return Err("the command must be one line, under 1024 bytes".to_string());
    }
    let answer = lecteur_sim::control::request(socket, &line).map_err(|e| e.to_string())?;
    for l in answer {
        if l == "ok" {
            return Ok(());
        }
        if let Some(message) = l.strip_prefix("error: ") {
            return Err(message.to_string());
        }
        println!("{l}");
    }
    Err("the answer never ended".to_string())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Vpcd {
            port,
            host,
            card,
            control,
        } => run_vpcd(*port, host, card, control.as_ref(), cli.verbose),
        Command::Serial {
            link,
            slots,
            reader,
            control,
            baud,
            fault,
        } => run_serial(
            link,
            slots,
            *reader,
            control.as_ref(),
            *baud,
            fault.as_deref(),
            cli.verbose,
        ),
        Command::Control { socket, command } => run_control_client(socket, command),
        Command::GenFixtures { out } => lecteur_sim::pki::generate_fixtures(out)
            .map(|()| eprintln!("lecteur-sim: fixtures written to {}", out.display()))
            .map_err(|e| format!("cannot write fixtures to {}: {e}", out.display())),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("lecteur-sim: error: {message}");
            ExitCode::FAILURE
        }
    }
}
