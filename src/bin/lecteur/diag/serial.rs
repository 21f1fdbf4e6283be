//! Serial ports: the configured ones (`lecteur.toml` or `--serial`) and
//! those the system names as readers (`/dev/lecteur-serial-*`; on Windows
//! the COM ports are listed, not probed); their device nodes, and whether a CCID-serial
//! reader answers the firmware-version escape (through lecteur's own serial
//! transport, bounded) when lecteurd does not hold the port; the firmware
//! and the reader profile chosen, and why (from lecteurd's `readers.list`
//! when it holds the port).

use super::os;
use super::report::Report;
use lecteur::transport::{serial, ReaderEvent};
use serde_json::json;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const PROBE_BUDGET: Duration = Duration::from_secs(4);

/// `lecteurd_serial`: lecteurd runs with its serial transport. It then holds
/// the ports of its configuration (retrying absent readers every second) and
/// those its readers are named after: they are not opened a second time.
pub(super) fn check(extra: &[String], lecteurd_serial: bool, report: &mut Report) {
    let mut specs: Vec<String> = Vec::new();
    let mut configured = 0;
    let config = std::env::var_os("LECTEUR_CONFIG").map_or_else(lecteur::config::default_path, PathBuf::from);
    match lecteur::config::FileConfig::load(&config, false) {
        Ok(Some(c)) => {
            specs.extend(c.serial.iter().map(|p| p.spec()));
            configured = specs.len();
        }
        Ok(None) => {}
        Err(e) => report.error(
            "serial",
            format!("{}: {e}", config.display()),
            "fix the configuration: lecteurd refuses to start with it",
        ),
    }
    specs.extend(extra.iter().cloned());
    for l in os::serial_candidates() {
        if !specs.iter().any(|s| s == &l || s.starts_with(&format!("{l}:"))) {
            specs.push(l);
        }
    }
    os::list_ports(report);
    if specs.is_empty() {
        report.info("serial", "no serial reader configured or found");
        return;
    }
    for (i, spec) in specs.iter().enumerate() {
        let path = PathBuf::from(spec.split(':').next().unwrap_or(spec));
        let node = os::describe(&path);
        let mut entry = json!({ "spec": spec, "node": node.as_ref().map(|n| &n.json) });
        let Some(n) = node else {
            report.error(
                "serial",
                format!("{}: no such device", path.display()),
                "plug the reader in; check the cable and the USB-serial adapter",
            );
            report.serial.push(entry);
            continue;
        };
        if n.can_open {
            report.ok("serial", format!("{}: {}", path.display(), n.summary));
        } else {
            report.warning(
                "serial",
                format!("{}: this user may not open it ({})", path.display(), n.summary),
                os::OPEN_REMEDY,
            );
        }
        let in_use = format!("({})", path.display());
        let held = lecteurd_serial
            && (i < configured
                || report.readers.iter().any(|r| {
                    r["transport"] == "serial" && r["name"].as_str().is_some_and(|n| n.contains(&in_use))
                }));
        if held {
            let model = report
                .readers
                .iter()
                .find(|r| r["name"].as_str().is_some_and(|n| n.contains(&in_use)) && r["model"].is_object())
                .map(|r| r["model"].clone());
            match model {
                Some(m) => {
                    model_finding(spec, &m, "lecteurd holds it", report);
                    entry["model"] = m;
                }
                None => report.info(
                    "serial",
                    format!("{spec}: not probed, lecteurd holds it (see readers)"),
                ),
            }
        } else if n.can_open {
            entry["probe"] = probe(i, spec, report);
        }
        report.serial.push(entry);
    }
}

/// Starts lecteur's serial transport on `spec` and waits (bounded) for the
/// reader to answer its start-up escapes; stops it by closing the sink.
fn probe(index: usize, spec: &str, report: &mut Report) -> serde_json::Value {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let cfg = serial::SerialConfig {
        startup_timeout: Duration::from_millis(1500),
        ..serial::SerialConfig::default()
    };
    if let Err(e) = serial::start_with_config(index, spec, tx, cfg) {
        report.error(
            "serial",
            format!("{spec}: {e}"),
            "PATH[:PROFILE], profiles GemPCTwin, GemCoreSIMPro, GemCorePOSPro, GemPCPinPad",
        );
        return json!({ "answered": false, "error": e.to_string() });
    }
    let end = Instant::now() + PROBE_BUDGET;
    let mut slots = Vec::new();
    let mut model = None;
    // Slots are announced one after the other: a short quiet gap ends the wait.
    let mut last = Instant::now();
    while Instant::now() < end {
        match rx.try_recv() {
            Ok(ReaderEvent::Added { slot, .. }) => {
                slots.push(slot.name);
                model = slot.model.or(model);
                last = Instant::now();
            }
            Ok(_) => {}
            Err(tokio::sync::mpsc::error::TryRecvError::Empty) => {
                if !slots.is_empty() && last.elapsed() > Duration::from_millis(300) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(_) => break,
        }
    }
    drop(rx);
    if slots.is_empty() {
        report.error(
            "serial",
            format!("{spec}: no CCID-serial reader answered within {} s", PROBE_BUDGET.as_secs()),
            "check the reader is powered, the cable, the profile (PATH:PROFILE) and that no other program holds the port",
        );
        json!({ "answered": false })
    } else {
        let model =
            model.map(|m| json!({ "firmware": m.firmware, "profile": m.profile, "chosen_by": m.chosen_by }));
        let answered = format!("a CCID-serial reader answered, {} slot(s)", slots.len());
        match &model {
            Some(m) => model_finding(spec, m, &answered, report),
            None => report.ok("serial", format!("{spec}: {answered}")),
        }
        json!({ "answered": true, "slots": slots, "firmware": model.as_ref().map(|m| m["firmware"].clone()), "model": model })
    }
}

/// The finding on a reader's model: its firmware, the profile chosen and
/// why; a warning when the firmware names no known model.
fn model_finding(spec: &str, model: &serde_json::Value, what: &str, report: &mut Report) {
    let firmware = model["firmware"].as_str().unwrap_or("?");
    let profile = model["profile"].as_str().unwrap_or("?");
    let why = match model["chosen_by"].as_str() {
        Some("configured") => "configured as PATH:PROFILE",
        Some("firmware") => "named by the firmware",
        _ => "the firmware names no known model: the default",
    };
    let msg = format!("{spec}: {what}, firmware {firmware:?}, profile {profile} ({why})");
    if model["chosen_by"] == "default" {
        report.warning(
            "serial",
            msg,
            "if the reader is not a GemPC Twin, give its profile as PATH:PROFILE (GemPCTwin, GemCoreSIMPro, GemCorePOSPro, GemPCPinPad)",
        );
    } else {
        report.ok("serial", msg);
    }
}
