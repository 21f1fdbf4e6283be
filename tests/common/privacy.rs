//! Every lecteurd a test starts logs at trace level, and its log is scanned
//! when the test ends for the simulated cards' PINs, PUK, NIRs and names in any
//! encoding (text, hex, base64): lecteur must never log them.

use base64::Engine;
use std::path::PathBuf;

/// PINs and PUK the tests type, and the default simulated cards' personal data
/// (firmware-sim/cards/*.toml). `0000`-like PINs are left out: they occur in
/// any hex dump.
const SECRETS: &[&str] = &[
    "1234",
    "2468",
    "5678",
    "12345678",
    // NIRs (13 digits) with their keys, of the default Vitale's beneficiaries.
    "280057505612389",
    "183209935001884",
    "115037511508706",
    "2800575056123",
    "1832099350018",
    "1150375115087",
    // Names (Vitale beneficiaries, CPS holder's given name).
    "LEGRAND",
    "CAMILLE",
    "AMRANI",
    "YOUSSEF",
    "ADEMIS",
];

/// Scans a lecteurd log file when dropped (the test's end).
pub(crate) struct LogScan(pub PathBuf);

impl Drop for LogScan {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return; // the test failed already; its own message matters more
        }
        let log = std::fs::read_to_string(&self.0).unwrap_or_default();
        let hits = leaks(&log);
        assert!(
            hits.is_empty(),
            "lecteurd logged secrets or personal data: {hits:?}"
        );
    }
}

/// The log lines that carry a secret, with the encoding found.
pub(crate) fn leaks(log: &str) -> Vec<String> {
    let needles: Vec<(String, &str)> = SECRETS.iter().flat_map(|s| encodings(s.as_bytes())).collect();
    let mut hits = Vec::new();
    for line in log.lines() {
        // The timestamp is digits that mean nothing: skip it.
        let text = line.split_once(' ').map_or(line, |(_, rest)| rest);
        for (needle, what) in &needles {
            if contains(text, needle, *what == "text") {
                hits.push(format!("{what} {needle:?} in: {line}"));
            }
        }
    }
    hits
}

/// A secret as text, as hex (both cases) and as base64 at the three
/// alignments it can take inside a longer encoded string.
fn encodings(secret: &[u8]) -> Vec<(String, &'static str)> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut out = vec![
        (String::from_utf8_lossy(secret).into_owned(), "text"),
        (hex::encode_upper(secret), "hex"),
        (hex::encode(secret), "hex"),
    ];
    for shift in 0..3 {
        let mut padded = vec![0u8; shift];
        padded.extend_from_slice(secret);
        let enc = b64.encode(&padded);
        // Characters that depend only on the secret's bytes.
        let start = (shift * 4).div_ceil(3);
        let whole = (padded.len() / 3) * 4;
        if whole > start + 3 {
            out.push((enc[start..whole].to_string(), "base64"));
        }
    }
    out
}

/// Substring search; a number in text must not touch other digits (a PIN
/// inside a longer number is not that PIN). Hex and base64 may sit anywhere.
fn contains(text: &str, needle: &str, as_text: bool) -> bool {
    let digits = as_text && needle.bytes().all(|b| b.is_ascii_digit());
    text.match_indices(needle).any(|(i, _)| {
        if !digits {
            return true;
        }
        let before = text[..i].bytes().next_back();
        let after = text[i + needle.len()..].bytes().next();
        !before.is_some_and(|b| b.is_ascii_digit()) && !after.is_some_and(|b| b.is_ascii_digit())
    })
}
