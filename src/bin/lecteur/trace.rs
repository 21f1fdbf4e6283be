//! `lecteur trace [--json] [--recent-only]`: lecteurd's APDU trace, one line
//! per exchange (like `pcscd -a`, masked by lecteurd: docs/diag.md), the
//! recent ones first, then live until Ctrl-C or lecteurd goes. The same lines
//! go into `lecteur diag --bundle`.

use lecteur_client::{Client, ClientError};
use lecteur_proto::method::DiagTrace;
use lecteur_proto::trace::TraceParams;
use lecteur_proto::Method;
use serde_json::{json, Value};
use std::io::Write;

pub(crate) fn run(client: &mut Client, json_out: bool, recent_only: bool) -> Result<(), ClientError> {
    // The records are printed as lecteurd sent them (`--json`): read as JSON.
    let params = TraceParams {
        follow: Some(!recent_only),
    };
    let answer = client.call_json(DiagTrace::NAME, serde_json::to_value(params).unwrap_or_default())?;
    for rec in answer["recent"].as_array().into_iter().flatten() {
        if !print(rec, json_out) {
            return Ok(());
        }
    }
    if recent_only {
        return Ok(());
    }
    loop {
        match client.next_notification_json().map(|(_, params)| params) {
            Ok(ev) if print(&ev, json_out) => {}
            // Whoever read the output is gone (`| head`): so are we.
            Ok(_) => return Ok(()),
            // lecteurd stopped: the trace ends with it.
            Err(ClientError::Closed) => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}

/// Prints one line; false when stdout is closed.
fn print(v: &Value, json_out: bool) -> bool {
    let text = if json_out { v.to_string() } else { line(v) };
    writeln!(std::io::stdout(), "{text}").is_ok()
}

/// The recent exchanges as text, for the support bundle.
pub(crate) fn recent_text(client: &mut Client) -> String {
    match client.call_json(DiagTrace::NAME, json!({})) {
        Ok(answer) => {
            let recent = answer["recent"].as_array().cloned().unwrap_or_default();
            let mut text = format!(
                "# lecteurd's last {} APDU exchanges, times UTC. Command data is shown only \
                 when known to be safe (SELECT, MSE, GET DATA); PINs and response data never.\n",
                recent.len()
            );
            for rec in &recent {
                text += &line(rec);
                text.push('\n');
            }
            text
        }
        Err(e) => format!("no APDU trace: diag.trace failed: {e}\n"),
    }
}

/// One exchange (or a `trace.lost` notice) as a line:
/// `12:00:01.234 sim:1 "reader" 00 A4 04 0C Lc=7 A0 00 … → 90 00 (0 bytes) 412 µs`.
pub(crate) fn line(v: &Value) -> String {
    if let Some(n) = v.get("lost").and_then(Value::as_u64) {
        return format!("-- {n} exchange(s) not shown: this client read the trace too slowly --");
    }
    let str_of = |k: &str| v[k].as_str().unwrap_or("");
    let mut out = format!(
        "{} {} \"{}\" {}",
        clock(v["time_ms"].as_u64().unwrap_or(0)),
        str_of("reader"),
        str_of("reader_name"),
        spaced(str_of("header")),
    );
    if v["kind"] == "pinpad_verify" {
        out += " PIN pad";
    }
    match str_of("body") {
        "shown" => {
            out += &format!(" Lc={} {}", v["lc"], spaced(str_of("data")));
            if v["truncated"] == true {
                out += " …";
            }
        }
        "masked" => out += &format!(" Lc={} [data masked]", v["lc"]),
        "secret" => out += " [PIN data hidden]",
        _ => {}
    }
    if let Some(le) = v["le"].as_u64() {
        out += &format!(" Le={le}");
    }
    match v["sw"].as_str() {
        Some(sw) => out += &format!("  → {} ({} bytes)", spaced(sw), v["resp_len"]),
        None => out += &format!("  → error {}", str_of("error")),
    }
    out + &format!(" {} µs", v["us"])
}

/// `A0000000` → `A0 00 00 00`.
fn spaced(hex: &str) -> String {
    let mut out = String::with_capacity(hex.len() * 3 / 2);
    for (i, c) in hex.chars().enumerate() {
        if i > 0 && i % 2 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// `HH:MM:SS.mmm` (UTC) of a time in ms since the Unix epoch.
fn clock(ms: u64) -> String {
    let day_ms = ms % 86_400_000;
    let (h, m, s) = (day_ms / 3_600_000, day_ms / 60_000 % 60, day_ms / 1000 % 60);
    format!("{h:02}:{m:02}:{s:02}.{:03}", ms % 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_read_like_pcscd() {
        let rec = json!({"seq": 3, "time_ms": 1_764_118_861_234u64, "reader": "sim:1",
            "reader_name": "slot 1", "kind": "apdu", "header": "00A4040C", "body": "shown",
            "lc": 7, "data": "A0000000041010", "truncated": false, "le": null,
            "resp_len": 0, "sw": "9000", "error": null, "us": 412});
        assert_eq!(
            line(&rec),
            "01:01:01.234 sim:1 \"slot 1\" 00 A4 04 0C Lc=7 A0 00 00 00 04 10 10  → 90 00 (0 bytes) 412 µs"
        );
        let pin = json!({"time_ms": 0, "reader": "sim:0", "reader_name": "r", "kind": "pinpad_verify",
            "header": "00200081", "body": "secret", "lc": null, "data": null, "le": null,
            "resp_len": 0, "sw": "63C2", "us": 9});
        assert_eq!(
            line(&pin),
            "00:00:00.000 sim:0 \"r\" 00 20 00 81 PIN pad [PIN data hidden]  → 63 C2 (0 bytes) 9 µs"
        );
        assert!(line(&json!({"lost": 4})).contains("4 exchange(s)"));
        let failed = json!({"time_ms": 0, "reader": "serial:0", "reader_name": "r", "kind": "apdu",
            "header": "00B00000", "body": "empty", "le": 256, "sw": null, "error": "timeout", "us": 4_000_000});
        assert!(line(&failed).ends_with("00 B0 00 00 Le=256  → error timeout 4000000 µs"));
    }
}
