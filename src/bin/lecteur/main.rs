//! lecteur: the command line of lecteurd, for practice-software developers and
//! technicians.

mod assets;
mod atr;
mod demo;
mod diag;
mod dmp;
mod error;
mod show;
mod trace;

use clap::{Parser, Subcommand, ValueEnum};
use error::CliError;
use lecteur_client::Client;
use lecteur_proto::cps::{KeyUsage, SignAlgorithm, SignParams, VerifyPinParams};
use lecteur_proto::method::{
    CpsCertificates, CpsInfo, CpsSign, CpsVerifyPin, EventsSubscribe, ReadersList, VitaleRead,
};
use lecteur_proto::system::{NoParams, ReaderParams};
use lecteur_proto::vitale::VitaleParams;
use serde::Serialize;
use std::path::PathBuf;
use zeroize::Zeroizing;

#[derive(Parser)]
#[command(version, about = "Command line for lecteurd (CPS and carte Vitale)")]
struct Cli {
    /// Socket of lecteurd (default: $LECTEUR_SOCKET, $XDG_RUNTIME_DIR/lecteur.sock, /run/lecteur/lecteur.sock; Windows: \\.\pipe\lecteur).
    #[arg(long, global = true)]
    socket: Option<PathBuf>,
    /// Print the method's JSON result instead of human text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List readers and the cards in them.
    Readers,
    /// Print reader and card events until Ctrl-C.
    Watch,
    /// Print lecteurd's APDU exchanges (masked), the recent ones then live until Ctrl-C.
    Trace {
        /// Print the recent exchanges only, do not follow.
        #[arg(long)]
        recent_only: bool,
    },
    /// Read the carte Vitale.
    Vitale {
        #[arg(long)]
        reader: Option<String>,
    },
    /// CPS commands.
    Cps {
        #[command(subcommand)]
        command: CpsCommand,
    },
    /// DMP: the VIHF assertion.
    Dmp {
        #[command(subcommand)]
        command: dmp::DmpCommand,
    },
    /// Run a daemon on the simulated reader and show a Vitale read and a CPS signature
    /// (development builds only: the cargo feature `sim`).
    Demo,
    /// Diagnose lecteurd, pcscd, readers, cards, USB, serial ports and permissions.
    Diag(diag::DiagArgs),
    /// Decode an ATR and identify the card (no daemon or reader needed).
    Atr {
        /// The ATR in hex, with or without spaces or colons: 3B 75 13 00 00 44 09 EA 90 00
        #[arg(required = true, num_args = 1..)]
        hex: Vec<String>,
    },
}

#[derive(Subcommand)]
enum CpsCommand {
    /// Card, holder and PIN state.
    Info {
        #[arg(long)]
        reader: Option<String>,
    },
    /// Verify the PIN (asked on the terminal when --pin is not given).
    Verify {
        #[arg(long)]
        pin: Option<String>,
        #[arg(long)]
        reader: Option<String>,
    },
    /// Save a certificate (DER).
    Certs {
        #[arg(long, value_enum)]
        usage: Key,
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        reader: Option<String>,
    },
    /// Sign data or a SHA-256 digest; writes the raw signature bytes.
    Sign {
        #[arg(long)]
        pin: Option<String>,
        #[arg(long, value_enum)]
        key: Key,
        #[arg(long, conflicts_with = "digest", required_unless_present = "digest")]
        data_file: Option<PathBuf>,
        /// SHA-256 digest in hex.
        #[arg(long)]
        digest: Option<String>,
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        reader: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Key {
    Signature,
    Authentication,
}

impl Key {
    fn usage(self) -> KeyUsage {
        match self {
            Key::Signature => KeyUsage::Signature,
            Key::Authentication => KeyUsage::Authentication,
        }
    }
}

fn main() {
    // Packaging only, outside clap so that neither the help, the man page nor
    // the completions offer it.
    let args: Vec<_> = std::env::args_os().collect();
    if args.len() == 3 && args[1] == "generate-assets" {
        if let Err(e) = assets::run(std::path::Path::new(&args[2])) {
            eprintln!("lecteur: generate-assets: {e}");
            std::process::exit(1);
        }
        return;
    }
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        eprintln!("lecteur: {e}");
        std::process::exit(1);
    }
}

fn pin_or_prompt(pin: Option<String>) -> Result<Zeroizing<String>, CliError> {
    match pin {
        Some(p) => Ok(Zeroizing::new(p)),
        // Asked on the terminal without echo; without a terminal, one line of stdin.
        None if std::io::IsTerminal::is_terminal(&std::io::stdin()) => {
            rpassword::prompt_password("CPS PIN: ")
                .map(Zeroizing::new)
                .map_err(CliError::Pin)
        }
        None => {
            let mut line = Zeroizing::new(String::new());
            std::io::stdin().read_line(&mut line).map_err(CliError::Pin)?;
            Ok(Zeroizing::new(line.trim_end().to_string()))
        }
    }
}

/// Prints a result: its JSON with `--json`, else as a person reads it.
fn print<T: Serialize>(json: bool, result: &T, human: impl FnOnce(&T) -> String) {
    if json {
        println!("{}", serde_json::to_string_pretty(result).unwrap_or_default());
    } else {
        println!("{}", human(result));
    }
}

fn run(cli: Cli) -> Result<(), CliError> {
    if let Command::Demo = cli.command {
        return demo::run();
    }
    if let Command::Atr { hex } = &cli.command {
        return Ok(atr::run(&hex.join(" "), cli.json)?);
    }
    if let Command::Dmp {
        command: dmp::DmpCommand::Verify { file },
    } = &cli.command
    {
        return dmp::verify(file, cli.json);
    }
    let path = lecteur_client::socket_path(cli.socket.as_deref());
    if let Command::Diag(args) = cli.command {
        // Findings are printed either way; errors among them give status 1.
        return match diag::run(&path, cli.json, args)? {
            true => Ok(()),
            false => std::process::exit(1),
        };
    }
    let mut client = Client::connect(&path).map_err(|source| CliError::Connect { path, source })?;
    let json = cli.json;
    match cli.command {
        Command::Demo | Command::Atr { .. } | Command::Diag(_) => unreachable!("handled above"),
        Command::Dmp { command } => print(
            json,
            &dmp::vihf(&mut client, command, pin_or_prompt)?,
            dmp::written,
        ),
        Command::Readers => print(json, &client.call::<ReadersList>(&NoParams {})?, |r| {
            show::readers(r)
        }),
        Command::Watch => {
            client.call::<EventsSubscribe>(&NoParams {})?;
            loop {
                let ev = client.next_event()?;
                if json {
                    println!("{}", serde_json::to_string(&ev).unwrap_or_default());
                } else {
                    println!("{}", show::event(&ev));
                }
            }
        }
        Command::Trace { recent_only } => return Ok(trace::run(&mut client, json, recent_only)?),
        Command::Vitale { reader } => {
            let params = VitaleParams { reader, fresh: false };
            print(json, &client.call::<VitaleRead>(&params)?, show::vitale)
        }
        Command::Cps { command } => cps(&mut client, json, command)?,
    }
    Ok(())
}

fn cps(client: &mut Client, json: bool, command: CpsCommand) -> Result<(), CliError> {
    match command {
        CpsCommand::Info { reader } => {
            let info = client.call::<CpsInfo>(&ReaderParams { reader })?;
            print(json, &info, show::cps_info)
        }
        CpsCommand::Verify { pin, reader } => {
            let params = VerifyPinParams {
                reader,
                pin: Some(pin_or_prompt(pin)?),
                ..Default::default()
            };
            print(json, &client.call::<CpsVerifyPin>(&params)?, show::verified)
        }
        CpsCommand::Certs { usage, out, reader } => {
            let certs = client.call::<CpsCertificates>(&ReaderParams { reader })?;
            let cert = certs
                .into_iter()
                .find(|c| c.usage == usage.usage())
                .ok_or(CliError::NoCertificate)?;
            std::fs::write(&out, &cert.der).map_err(CliError::file(&out))?;
            print(json, &cert, show::certificate)
        }
        CpsCommand::Sign {
            pin,
            key,
            data_file,
            digest,
            out,
            reader,
        } => {
            let (data, digest) = match (data_file, digest) {
                (Some(f), _) => (Some(std::fs::read(&f).map_err(CliError::file(&f))?), None),
                (None, Some(d)) => {
                    let d = hex::decode(d.trim()).map_err(|e| CliError::Usage(format!("--digest: {e}")))?;
                    (None, Some(d))
                }
                (None, None) => return Err(CliError::Usage("give --data-file or --digest".into())),
            };
            let params = SignParams {
                reader,
                pin: Some(pin_or_prompt(pin)?),
                pinpad: false,
                allow_last_try: false,
                key: key.usage(),
                algorithm: SignAlgorithm::RsaPkcs1Sha256,
                data,
                digest,
            };
            let signed = client.call::<CpsSign>(&params)?;
            std::fs::write(&out, &signed.signature).map_err(CliError::file(&out))?;
            print(json, &signed, show::signed)
        }
    }
    Ok(())
}
