//! Is lecteurd there, and what does it serve: socket, reachability, version,
//! transports, readers.

use super::report::Report;
use lecteur_client::Client;
use lecteur_proto::method::{ReadersList, SystemInfo};
use lecteur_proto::system::{DaemonInfo, NoParams};
use lecteur_proto::Method;
use serde_json::{json, Value};
use std::io::ErrorKind;
use std::path::Path;
use std::time::Duration;

/// Every answer is awaited at most this long: lecteurd may be wedged.
pub(super) const CALL_TIMEOUT: Duration = Duration::from_secs(10);

const START: &str = "start it: sudo systemctl start lecteurd.socket (or run lecteurd)";

/// Connects to lecteurd at `path`; the findings say why not.
pub(super) fn check(path: &Path, report: &mut Report) -> Option<Client> {
    let shown = path.display().to_string();
    report.lecteurd = json!({ "socket": shown, "running": false });
    let is_socket = match super::os::endpoint(path) {
        Ok(s) => s,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            report.error(
                "lecteurd",
                format!("lecteurd is not running: no socket at {shown}"),
                START,
            );
            return None;
        }
        Err(e) => {
            report.error(
                "lecteurd",
                format!("cannot look at {shown}: {e}"),
                "add this user to the group lecteur (sudo usermod -aG lecteur $USER, then log in again)",
            );
            return None;
        }
    };
    report.lecteurd["socket_found"] = json!(true);
    if !is_socket {
        report.error(
            "lecteurd",
            format!("{shown} exists but is not a socket"),
            "remove it, then start lecteurd: sudo systemctl restart lecteurd.socket",
        );
        return None;
    }
    let mut client = match Client::connect(path) {
        Ok(c) => c,
        Err(e) => {
            let io = match &e {
                lecteur_client::ClientError::Io(io) => Some(io.kind()),
                _ => None,
            };
            match io {
                Some(ErrorKind::PermissionDenied) => report.error(
                    "lecteurd",
                    format!("permission denied on {shown}"),
                    "add this user to the group lecteur (sudo usermod -aG lecteur $USER, then log in again)",
                ),
                _ => report.error(
                    "lecteurd",
                    format!("lecteurd is not running: nothing answers on {shown} ({e})"),
                    START,
                ),
            }
            return None;
        }
    };
    if client.set_timeout(Some(CALL_TIMEOUT)).is_err() {
        report.error("lecteurd", "cannot set a timeout on the socket", START);
        return None;
    }
    match client.call::<SystemInfo>(&NoParams {}) {
        Ok(DaemonInfo { version, transports }) => {
            report.lecteurd["running"] = json!(true);
            report.lecteurd["version"] = json!(version);
            report.lecteurd["transports"] = json!(transports);
            report.ok(
                "lecteurd",
                format!(
                    "lecteurd {version} running on {shown}, transports: {}",
                    transports.join(", ")
                ),
            );
            if transports.is_empty() {
                report.warning(
                    "lecteurd",
                    "lecteurd serves no transport: no reader can appear",
                    "check /etc/lecteur/lecteur.toml (pcsc = true, serial ports)",
                );
            }
            Some(client)
        }
        Err(e) => {
            report.error(
                "lecteurd",
                format!("lecteurd on {shown} does not answer system.info: {e}"),
                "restart it: sudo systemctl restart lecteurd; send its log (lecteur diag --bundle)",
            );
            None
        }
    }
}

/// `readers.list` through lecteurd, or `None` (with a finding) when it fails.
pub(super) fn readers(client: &mut Client, report: &mut Report) -> Option<Vec<Value>> {
    // As JSON: the report takes lecteurd's list and pcscd's alike, and a
    // daemon answering something else is itself a finding.
    match client.call_json(ReadersList::NAME, json!({})) {
        Ok(Value::Array(list)) => Some(list),
        Ok(other) => {
            report.error(
                "readers",
                format!("readers.list answered a non-list: {}", kind(&other)),
                "report this bug",
            );
            None
        }
        Err(e) => {
            report.error("readers", format!("readers.list failed: {e}"), "restart lecteurd");
            None
        }
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}
