//! The CPS through lecteurd: PIN tries left (read without using one) and
//! certificate expiry. Holder names are never put in the report; they are
//! returned so that the bundle can redact them from the logs.

use super::report::Report;
use lecteur_client::Client;
use lecteur_proto::cps::{Certificate, PinTries};
use lecteur_proto::method::{CpsCertificates, CpsInfo};
use lecteur_proto::system::ReaderParams;
use lecteur_proto::ErrorKind;
use serde_json::{json, Value};
use std::time::{SystemTime, UNIX_EPOCH};

/// Under this many days left, an expiry is a warning.
const EXPIRY_WARNING_DAYS: i64 = 30;

/// Checks every slot holding a CPS; returns the holder names met.
pub(super) fn check(client: &mut Client, report: &mut Report) -> Vec<String> {
    let mut names = Vec::new();
    let slots: Vec<String> = report
        .readers
        .iter()
        .filter(|r| r["card"]["kind"].as_str().is_some_and(|k| k.starts_with("cps")))
        .filter_map(|r| r["id"].as_str().map(str::to_string))
        .collect();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    for id in slots {
        let mut entry = json!({ "reader": id });
        let reader = ReaderParams::new(Some(&id));
        match client.call::<CpsInfo>(&reader) {
            Ok(info) => {
                names.extend(info.holder.surname);
                names.extend(info.holder.given_name);
                entry["pin"] = pin(&id, info.pin, report);
            }
            Err(e) if e.kind() == Some(ErrorKind::CardBeingUpdated) => report.error(
                "cps",
                format!("{id}: an update of the CPS was interrupted (EF_ACTUA): it will not sign"),
                "let the update finish where the ANS's CPS update runs, or contact the ANS",
            ),
            Err(e) => report.error(
                "cps",
                format!("{id}: cps.info failed: {e}"),
                "pull the CPS out and insert it again",
            ),
        }
        match client.call::<CpsCertificates>(&reader) {
            Ok(certs) => {
                let list: Vec<Value> = certs.iter().map(|c| certificate(&id, c, now, report)).collect();
                if list.is_empty() {
                    report.warning(
                        "cps",
                        format!("{id}: the CPS holds no certificate"),
                        "ask the ANS for a new card",
                    );
                }
                entry["certificates"] = json!(list);
            }
            Err(e) => report.error(
                "cps",
                format!("{id}: cps.certificates failed: {e}"),
                "pull the CPS out and insert it again",
            ),
        }
        report.cps.push(entry);
    }
    names
}

fn pin(id: &str, pin: PinTries, report: &mut Report) -> Value {
    let (left, max) = (pin.tries_left, pin.tries_max);
    let of = format!(" of {max}");
    match left {
        0 => report.error(
            "cps",
            format!("{id}: the CPS PIN is blocked (0 tries left{of})"),
            "unblock it with the PUK (cps.unblock_pin) or ask the ANS",
        ),
        1 => report.warning(
            "cps",
            format!("{id}: one PIN try left{of}"),
            "a wrong PIN blocks the card: make sure of the PIN first",
        ),
        n => report.ok("cps", format!("{id}: {n} PIN tries left{of}")),
    }
    json!({ "tries_left": left, "tries_max": max })
}

fn certificate(id: &str, c: &Certificate, now: i64, report: &mut Report) -> Value {
    let usage = c.usage.as_str();
    let not_after = c.not_after.as_str();
    let days = parse_utc(not_after).map(|t| (t - now).div_euclid(86_400));
    let expired = c.expired || days.is_some_and(|d| d < 0);
    match days {
        _ if expired => report.error(
            "cps",
            format!("{id}: the {usage} certificate expired on {not_after}"),
            "the card must be renewed: ask the ANS (e-CPS or a new CPS)",
        ),
        Some(d) if d < EXPIRY_WARNING_DAYS => report.warning(
            "cps",
            format!("{id}: the {usage} certificate expires in {d} day(s) ({not_after})"),
            "order the renewal of the card from the ANS now",
        ),
        Some(d) => report.ok(
            "cps",
            format!("{id}: {usage} certificate valid until {not_after} ({d} days)"),
        ),
        None => report.warning(
            "cps",
            format!("{id}: the {usage} certificate's expiry is unreadable"),
            "send lecteur diag --bundle to support",
        ),
    }
    json!({ "usage": usage, "not_after": not_after, "days_left": days, "expired": expired })
}

/// `YYYY-MM-DDTHH:MM:SSZ` to seconds since the epoch.
pub(super) fn parse_utc(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'Z'
    {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    let (hh, mm, ss) = (n(11..13)?, n(14..16)?, n(17..19)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    Some(days_from_civil(y, m, d) * 86_400 + hh * 3600 + mm * 60 + ss)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_utc_times() {
        assert_eq!(parse_utc("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_utc("2000-03-01T00:00:00Z"), Some(951_868_800));
        assert_eq!(parse_utc("2024-02-29T12:30:15Z"), Some(1_709_209_815));
        assert_eq!(parse_utc("2024-13-01T00:00:00Z"), None);
        assert_eq!(parse_utc("garbage"), None);
        assert_eq!(parse_utc("2024-02-29 12:30:15Z"), None);
    }
}
