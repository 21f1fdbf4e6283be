//! pcscd: installed, running, version, and (when lecteurd does not run) the
//! readers and ATRs it sees, asked directly through PC/SC without connecting
//! to any card.

use super::probe::{command_output, within};
use super::report::Report;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

const PCSCD: &str = "/usr/sbin/pcscd";
const PCSCD_SOCKET: &str = "/run/pcscd/pcscd.comm";

pub(super) fn check(report: &mut Report, lecteurd_uses_pcsc: Option<bool>) {
    let installed = Path::new(PCSCD).exists();
    let socket = Path::new(PCSCD_SOCKET).exists();
    let process = super::probe::process_running("pcscd");
    let version = if installed {
        command_output(PCSCD, &["--version"], Duration::from_secs(3)).and_then(|out| {
            out.lines()
                .find(|l| l.contains("pcsc-lite"))
                .map(|l| l.trim().to_string())
        })
    } else {
        None
    };
    report.pcscd = json!({
        "installed": installed, "socket": socket, "process": process, "version": version,
    });
    if !installed {
        // Serial-only set-ups do not need it; lecteurd without PC/SC says so.
        let msg = format!("pcscd is not installed ({PCSCD})");
        match lecteurd_uses_pcsc {
            Some(false) => report.info("pcscd", format!("{msg}; lecteurd does not use PC/SC")),
            _ => report.warning("pcscd", msg, "sudo apt install pcscd libccid"),
        }
        return;
    }
    match &version {
        Some(v) => report.ok("pcscd", format!("pcscd installed: {v}")),
        None => report.ok("pcscd", "pcscd installed"),
    }
    if process || socket {
        let how = if process {
            "process running"
        } else {
            "socket-activated"
        };
        report.ok("pcscd", format!("pcscd available ({how}, {PCSCD_SOCKET})"));
    } else if lecteurd_uses_pcsc != Some(false) {
        report.warning(
            "pcscd",
            "pcscd is not running and its socket is absent: USB readers are not seen",
            "sudo systemctl enable --now pcscd.socket",
        );
    }
}

/// Readers and ATRs as pcscd reports them; `None` when PC/SC cannot be asked
/// (no pcscd), within a bound (a wedged pcscd must not hang the diagnosis).
pub(super) fn readers(report: &mut Report) -> Option<Vec<Value>> {
    match within(Duration::from_secs(5), list_direct) {
        Some(Ok(list)) => Some(list),
        Some(Err(e)) => {
            report.info("pcscd", format!("PC/SC cannot be asked directly: {e}"));
            None
        }
        None => {
            report.warning(
                "pcscd",
                "pcscd did not answer within 5 s",
                "sudo systemctl restart pcscd",
            );
            None
        }
    }
}

fn list_direct() -> Result<Vec<Value>, pcsc::Error> {
    let ctx = pcsc::Context::establish(pcsc::Scope::User)?;
    let names = match ctx.list_readers_owned() {
        Ok(n) => n,
        Err(pcsc::Error::NoReadersAvailable) => Vec::new(),
        Err(e) => return Err(e),
    };
    let mut states: Vec<pcsc::ReaderState> = names
        .iter()
        .map(|n| pcsc::ReaderState::new(n.clone(), pcsc::State::UNAWARE))
        .collect();
    if !states.is_empty() {
        ctx.get_status_change(Duration::from_millis(500), &mut states)?;
    }
    Ok(states
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let present = s.event_state().contains(pcsc::State::PRESENT);
            let card = if present && !s.atr().is_empty() {
                json!({ "atr": hex::encode_upper(s.atr()) })
            } else {
                Value::Null
            };
            json!({
                "id": format!("pcscd:{i}"),
                "name": s.name().to_string_lossy(),
                "transport": "pcsc",
                "role": null,
                "card": card,
            })
        })
        .collect())
}
