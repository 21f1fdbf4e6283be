//! `lecteur diag [--json] [--bundle FILE]`: answers "the reader does not
//! work" in one command, with or without a running lecteurd. Each topic has
//! its file; each adds findings (severity, message, remedy) to one report.

pub(crate) mod bundle;
mod cps;
mod hid;
mod latency;
mod lecteurd;
// Device nodes, the socket file and who may open them are Unix matters;
// on Windows the COM ports are listed and the pipe's ACL says who may use it.
#[cfg_attr(unix, path = "os/unix.rs")]
#[cfg_attr(windows, path = "os/windows.rs")]
mod os;
mod pcsc;
#[cfg_attr(unix, path = "permissions/unix.rs")]
#[cfg_attr(windows, path = "permissions/windows.rs")]
mod permissions;
mod probe;
mod readers;
mod redact;
mod report;
mod serial;
mod usb;

use clap::Args;
use report::{Report, Severity};
use std::path::Path;

#[derive(Args)]
pub(crate) struct DiagArgs {
    /// Write a redacted archive (.tar.gz) for a support ticket.
    #[arg(long, value_name = "FILE")]
    pub bundle: Option<std::path::PathBuf>,
    /// A serial port to check besides the configured ones (PATH[:PROFILE]); repeatable.
    #[arg(long, value_name = "PATH[:PROFILE]")]
    pub serial: Vec<String>,
}

/// Runs every check; the exit status is 1 when a finding is an error.
pub(crate) fn run(socket: &Path, json: bool, args: DiagArgs) -> Result<bool, bundle::BundleError> {
    let mut report = Report::new();
    let client = lecteurd::check(socket, &mut report);
    let transports: Option<Vec<String>> = client.as_ref().map(|_| {
        report.lecteurd["transports"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t.as_str().map(str::to_string))
            .collect()
    });
    let uses_pcsc = transports.as_ref().map(|t| t.iter().any(|t| t == "pcsc"));
    pcsc::check(&mut report, uses_pcsc);
    let (names, trace) = match client {
        Some(mut client) => {
            if let Some(list) = lecteurd::readers(&mut client, &mut report) {
                readers::check(&list, "readers.list of lecteurd", &mut report);
            }
            let names = cps::check(&mut client, &mut report);
            latency::check(&mut client, &mut report);
            // After the latency reads, so that the trace shows them too.
            let trace = args
                .bundle
                .is_some()
                .then(|| crate::trace::recent_text(&mut client));
            (names, trace)
        }
        None => {
            // Tests set this: they must not depend on the machine's readers.
            let direct = std::env::var_os("LECTEUR_DIAG_NO_PCSC").is_none();
            if let Some(list) = direct.then(|| pcsc::readers(&mut report)).flatten() {
                readers::check(&list, "pcscd, asked directly", &mut report);
            }
            report.info("cps", "CPS not checked: lecteurd is not running");
            (Vec::new(), None)
        }
    };
    usb::check(&mut report);
    hid::check(&mut report);
    let serial_held = transports
        .as_ref()
        .is_some_and(|t| t.iter().any(|t| t == "serial"));
    serial::check(&args.serial, serial_held, &mut report);
    permissions::check(socket, &mut report);
    let (text, json_text) = (
        report.to_text(),
        serde_json::to_string_pretty(&report.to_json()).unwrap_or_default(),
    );
    if json {
        println!("{json_text}");
    } else {
        print!("{text}");
    }
    // After the report, so that a failed bundle still leaves the findings shown.
    if let Some(file) = &args.bundle {
        let trace = trace.unwrap_or_else(|| "lecteurd is not running: no APDU trace\n".into());
        bundle::write(file, &text, &json_text, &trace, &names)?;
        eprintln!("bundle written: {}", file.display());
    }
    Ok(report.worst() < Severity::Error)
}
