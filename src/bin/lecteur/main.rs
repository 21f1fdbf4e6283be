//! lecteur: the command line of lecteurd, for practice-software developers and
//! technicians.

mod assets;
mod atr;
mod demo;
mod diag;
mod dmp;
mod show;
mod trace;

use base64::Engine;
use clap::{Parser, Subcommand, ValueEnum};
use lecteur_client::{Client, ClientError};
use serde_json::{json, Value};
use std::path::PathBuf;
use zeroize::Zeroizing;

#[derive(Parser)]
#[command(version, about = "Command line for lecteurd (CPS and carte Vitale)")]
struct Cli {
    /// Socket of lecteurd (default: $LECTEUR_SOCKET, $XDG_RUNTIME_DIR/lecteur.sock, /run/lecteur/lecteur.sock).
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
    /// Run a daemon on the simulated reader and show a Vitale read and a CPS signature.
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
    fn name(self) -> &'static str {
        match self {
            Key::Signature => "signature",
            Key::Authentication => "authentication",
        }
    }
}

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

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

fn pin_or_prompt(pin: Option<String>) -> Result<Zeroizing<String>, String> {
    match pin {
        Some(p) => Ok(Zeroizing::new(p)),
        // Asked on the terminal without echo; without a terminal, one line of stdin.
        None if std::io::IsTerminal::is_terminal(&std::io::stdin()) => {
            rpassword::prompt_password("CPS PIN: ")
                .map(Zeroizing::new)
                .map_err(|e| format!("cannot read the PIN: {e}"))
        }
        None => {
            let mut line = Zeroizing::new(String::new());
            std::io::stdin()
                .read_line(&mut line)
                .map_err(|e| format!("cannot read the PIN: {e}"))?;
            Ok(Zeroizing::new(line.trim_end().to_string()))
        }
    }
}

fn with_reader(mut params: Value, reader: Option<String>) -> Value {
    if let Some(r) = reader {
        params["reader"] = json!(r);
    }
    params
}

fn run(cli: Cli) -> Result<(), String> {
    if let Command::Demo = cli.command {
        return demo::run();
    }
    if let Command::Atr { hex } = &cli.command {
        return atr::run(&hex.join(" "), cli.json);
    }
    if let Command::Dmp {
        command: dmp::DmpCommand::Verify { file },
    } = &cli.command
    {
        return dmp::verify(file, cli.json);
    }
    let path = lecteur::api::socket::resolve(cli.socket.as_deref());
    if let Command::Diag(args) = cli.command {
        // Findings are printed either way; errors among them give status 1.
        return match diag::run(&path, cli.json, args)? {
            true => Ok(()),
            false => std::process::exit(1),
        };
    }
    let mut client = Client::connect(&path).map_err(|e| format!("{e} ({})", path.display()))?;
    let call = |client: &mut Client, method: &str, params: Value| -> Result<Value, String> {
        client.call_json(method, params).map_err(|e| describe(&e))
    };
    let (result, human): (Value, fn(&Value) -> String) = match cli.command {
        Command::Demo => unreachable!("handled above"),
        Command::Atr { .. } | Command::Diag(_) => unreachable!("handled above"),
        Command::Dmp { command } => (dmp::vihf(&mut client, command, pin_or_prompt)?, dmp::written),
        Command::Readers => (call(&mut client, "readers.list", json!({}))?, show::readers),
        Command::Watch => {
            call(&mut client, "events.subscribe", json!({}))?;
            loop {
                let ev = client.next_notification_json().map(|(_, params)| params).map_err(|e| describe(&e))?;
                if cli.json {
                    println!("{ev}");
                } else {
                    println!("{}", show::event(&ev));
                }
            }
        }
        Command::Trace { recent_only } => return trace::run(&mut client, cli.json, recent_only),
        Command::Vitale { reader } => (
            call(&mut client, "vitale.read", with_reader(json!({}), reader))?,
            show::vitale,
        ),
        Command::Cps { command } => match command {
            CpsCommand::Info { reader } => (
                call(&mut client, "cps.info", with_reader(json!({}), reader))?,
                show::cps_info,
            ),
            CpsCommand::Verify { pin, reader } => {
                let pin = pin_or_prompt(pin)?;
                let params = with_reader(json!({ "pin": pin.as_str() }), reader);
                (call(&mut client, "cps.verify_pin", params)?, show::verified)
            }
            CpsCommand::Certs { usage, out, reader } => {
                let certs = call(&mut client, "cps.certificates", with_reader(json!({}), reader))?;
                let cert = certs
                    .as_array()
                    .and_then(|a| a.iter().find(|c| c["usage"] == usage.name()))
                    .ok_or("the card has no such certificate")?;
                let der = B64
                    .decode(cert["der_b64"].as_str().unwrap_or(""))
                    .map_err(|e| e.to_string())?;
                std::fs::write(&out, der).map_err(|e| format!("{}: {e}", out.display()))?;
                (cert.clone(), show::certificate)
            }
            CpsCommand::Sign {
                pin,
                key,
                data_file,
                digest,
                out,
                reader,
            } => {
                let mut params = json!({ "key": key.name(), "algorithm": "rsa-pkcs1-sha256" });
                match (data_file, digest) {
                    (Some(f), _) => {
                        let data = std::fs::read(&f).map_err(|e| format!("{}: {e}", f.display()))?;
                        params["data_b64"] = json!(B64.encode(data));
                    }
                    (None, Some(d)) => {
                        let d = hex::decode(d.trim()).map_err(|e| format!("--digest: {e}"))?;
                        params["digest_b64"] = json!(B64.encode(d));
                    }
                    (None, None) => return Err("give --data-file or --digest".into()),
                }
                let pin = pin_or_prompt(pin)?;
                params["pin"] = json!(pin.as_str());
                let result = call(&mut client, "cps.sign", with_reader(params, reader))?;
                let sig = B64
                    .decode(result["signature_b64"].as_str().unwrap_or(""))
                    .map_err(|e| e.to_string())?;
                std::fs::write(&out, &sig).map_err(|e| format!("{}: {e}", out.display()))?;
                (result, show::signed)
            }
        },
    };
    if cli.json {
        println!("{}", serde_json::to_string_pretty(&result).unwrap_or_default());
    } else {
        println!("{}", human(&result));
    }
    Ok(())
}

/// An API error as a person reads it.
fn describe(e: &ClientError) -> String {
    match e.kind() {
        Some(kind) => format!("{e} [{kind}]"),
        None => e.to_string(),
    }
}
