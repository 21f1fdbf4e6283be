//! Round-trip figures through lecteurd, per reader with a card: a few
//! `readers.list` (the socket and daemon alone) against a card operation
//! (`vitale.read` with `fresh: true`, whose content is dropped unread, or
//! `cps.info`, which lecteurd answers from its cache after the first read).
//! Reported as figures, not judged.

use super::report::Report;
use lecteur_client::Client;
use lecteur_proto::method::{CpsInfo, ReadersList, VitaleRead};
use lecteur_proto::Method;
use serde_json::json;
use std::time::Instant;

const RUNS: usize = 3;

pub(super) fn check(client: &mut Client, report: &mut Report) {
    // Answers dropped unread, as JSON (nothing to type).
    let base = time(RUNS, || client.call_json(ReadersList::NAME, json!({})).map(drop));
    if let Some(ms) = &base {
        report.info("latency", format!("readers.list (no card I/O): {}", figures(ms)));
    }
    report
        .latency
        .push(json!({ "method": ReadersList::NAME, "ms": base }));
    let slots: Vec<(String, String)> = report
        .readers
        .iter()
        .filter_map(|r| {
            Some((
                r["id"].as_str()?.to_string(),
                r["card"]["kind"].as_str()?.to_string(),
            ))
        })
        .collect();
    for (id, kind) in slots {
        let (method, params) = match kind.as_str() {
            "vitale2" => (VitaleRead::NAME, json!({ "reader": id, "fresh": true })),
            k if k.starts_with("cps") => (CpsInfo::NAME, json!({ "reader": id })),
            _ => continue,
        };
        // The answer is dropped at once: patient data never reaches the report.
        let ms = time(RUNS, || client.call_json(method, params.clone()).map(drop));
        match &ms {
            Some(ms) => report.info("latency", format!("{id} {method}: {}", figures(ms))),
            None => report.warning(
                "latency",
                format!("{id} {method} failed"),
                "pull the card out and insert it again",
            ),
        }
        report
            .latency
            .push(json!({ "reader": id, "method": method, "ms": ms }));
    }
}

/// Milliseconds of each of `runs` calls; `None` if one fails.
fn time<E>(runs: usize, mut f: impl FnMut() -> Result<(), E>) -> Option<Vec<f64>> {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            f().ok()?;
            Some((start.elapsed().as_secs_f64() * 1000.0 * 100.0).round() / 100.0)
        })
        .collect()
}

fn figures(ms: &[f64]) -> String {
    let list: Vec<String> = ms.iter().map(|m| format!("{m:.2}")).collect();
    format!("{} ms", list.join(" / "))
}
