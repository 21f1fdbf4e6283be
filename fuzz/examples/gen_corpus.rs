//! Writes the seed corpora under `fuzz/corpus/<target>/`: the reference ATRs,
//! R-APDU traces recorded from the simulated cards (`lecteur_sim::card::load`)
//! while lecteur's own card code reads them, the files and certificates in
//! those traces, serial CCID frames and JSON-RPC lines.
//!
//! Run from `fuzz/`: `cargo run --example gen_corpus` (deterministic: the
//! simulator's keys and certificates are made from fixed seeds).

use lecteur::apdu::{Exchange, LinkError};
use lecteur::card::cps::AID_CPS3;
use lecteur::card::{pkcs15, vitale};
use lecteur_fuzz::{encode_chunks, run, sim_card_for, OPERATIONS};
use lecteur_sim::SimCard;
use std::fs;
use std::path::{Path, PathBuf};

/// Forwards to a simulated card and records every exchange.
struct Recorder {
    card: Box<dyn SimCard>,
    log: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Recorder {
    fn new(name: &str) -> Self {
        Recorder {
            card: lecteur_sim::card::load(name).expect("built-in card"),
            log: Vec::new(),
        }
    }

    fn responses(&self) -> Vec<&[u8]> {
        self.log.iter().map(|(_, r)| r.as_slice()).collect()
    }

    /// The files read: the data of the successful READ BINARY answers after
    /// each SELECT, concatenated.
    fn files(&self) -> Vec<Vec<u8>> {
        let mut files = vec![Vec::new()];
        for (c, r) in &self.log {
            match c.get(1) {
                Some(0xA4) => files.push(Vec::new()),
                Some(0xB0) if r.ends_with(&[0x90, 0x00]) => {
                    if let Some(f) = files.last_mut() {
                        f.extend_from_slice(&r[..r.len() - 2]);
                    }
                }
                _ => {}
            }
        }
        files.retain(|f| !f.is_empty());
        files
    }
}

impl Exchange for Recorder {
    fn exchange(&mut self, apdu: &[u8]) -> Result<Vec<u8>, LinkError> {
        let r = self.card.transmit(apdu);
        self.log.push((apdu.to_vec(), r.clone()));
        Ok(r)
    }
}

struct Corpus {
    root: PathBuf,
    count: usize,
}

impl Corpus {
    fn put(&mut self, target: &str, name: &str, data: &[u8]) {
        let dir = self.root.join(target);
        fs::create_dir_all(&dir).expect("corpus directory");
        fs::write(dir.join(name), data).expect("seed file");
        self.count += 1;
    }
}

fn op(name: &str) -> u8 {
    OPERATIONS
        .iter()
        .position(|o| *o == name)
        .expect("known operation") as u8
}

fn h(s: &str) -> Vec<u8> {
    hex::decode(s.replace([' ', ':'], "")).expect("hex")
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut c = Corpus { root, count: 0 };

    // ATRs: every reference ATR, the simulator's unknown card, a T=1/T=15 ATR.
    let atrs = [
        (
            "cps3_contact",
            "3B AC 00 40 2A 00 12 25 00 64 80 00 03 10 00 90 00",
        ),
        (
            "cps3_contact_b",
            "3B AC 00 40 2A 00 12 25 00 64 80 82 02 12 00 90 00",
        ),
        (
            "cps3_contactless",
            "3B 8F 80 01 00 31 B8 64 04 B0 EC C1 73 94 01 80 82 90 00 0E",
        ),
        ("cps4", "3B 9B 18 80 01 00 12 25 00 64 80 04 01 00 00 90 44"),
        ("cps4_rc", "3B 9B 18 80 01 00 12 25 00 64 80 00 04 01 00 90 44"),
        ("cps4_t0", "3B DC 18 FF 00 00 12 25 00 64 80 00 04 01 00 90 00"),
        ("vitale2", "3B 75 13 00 00 44 09 EA 90 00"),
        ("vitale2_fa", "3B 75 13 00 00 45 09 FA 90 00"),
        ("vitale1_2c", "3F 65 25 00 2C 09 69 90 00"),
        ("vitale1_52", "3F 65 25 00 52 09 6A 90 00"),
        ("vitale1_a3", "3F 65 25 00 A3 09 6A 90 00"),
        (
            "pcsc_storage",
            "3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00 6A",
        ),
        ("t1_t15", "3B 80 91 81 F1 FE 45 01 3F C3 00 27"),
    ];
    for (name, atr) in atrs {
        c.put("atr", name, &h(atr));
    }

    // Every card operation, recorded from the simulated card it is meant for.
    let mut files: Vec<Vec<u8>> = Vec::new();
    for (i, &name) in OPERATIONS.iter().enumerate() {
        let Some(sim) = sim_card_for(name) else { continue };
        let mut rec = Recorder::new(sim);
        run(name, &mut rec);
        let mut trace = vec![i as u8];
        trace.extend(encode_chunks(rec.responses()));
        c.put("apdu_response", name, &trace);
        for f in rec.files() {
            if !files.contains(&f) {
                files.push(f);
            }
        }
    }

    // The files in those traces, to the parser that takes them.
    type Accepts = fn(&[u8]) -> bool;
    let parsers: [(u8, &str, Accepts); 6] = [
        (0, "dir", |f| pkcs15::parse::dir(f).is_ok_and(|v| !v.is_empty())),
        (1, "odf", |f| pkcs15::parse::odf(f, &AID_CPS3).is_ok()),
        (2, "prkdf", |f| {
            pkcs15::parse::prkdf(f).is_ok_and(|v| !v.is_empty())
        }),
        (3, "cdf", |f| {
            pkcs15::parse::cdf(f, &AID_CPS3).is_ok_and(|v| !v.is_empty())
        }),
        (4, "aodf", |f| pkcs15::parse::aodf(f).is_ok_and(|v| !v.is_empty())),
        (5, "dodf", |f| {
            pkcs15::parse::dodf(f, &AID_CPS3).is_ok_and(|v| !v.is_empty())
        }),
    ];
    let (mut certs, mut idents) = (0, 0);
    for f in &files {
        if f.first() == Some(&0x30) && lecteur::card::cert::parse(f).is_ok() {
            certs += 1;
            c.put("certificate", &format!("card_certificate_{certs}"), f);
            continue;
        }
        if vitale::parse_identity(f).is_ok_and(|v| !v.beneficiaries.is_empty()) {
            idents += 1;
            c.put("vitale_identity", &format!("identity_{idents}"), f);
            c.put(
                "vitale_identity",
                &format!("identity_{idents}_cut"),
                &f[..f.len() / 2],
            );
            let mut raw = vec![0u8];
            raw.extend_from_slice(f);
            c.put("tlv", &format!("identity_{idents}_raw"), &raw);
            continue;
        }
        for (which, name, accepts) in parsers {
            // ODF parsing accepts almost anything: keep the files that start like one.
            if accepts(f) && (which != 1 || matches!(f.first(), Some(0xA0..=0xA8))) {
                let mut seed = vec![which];
                seed.extend_from_slice(f);
                c.put(
                    "pkcs15",
                    &format!("{name}_{}", hex::encode(&f[..f.len().min(4)])),
                    &seed,
                );
            }
        }
    }
    for (mode, body) in [
        (1u8, "80 05 54 52 41 4C 20 81 06 41 44 45 4D 49 53"),
        (3, "04 80 02 41 42 81 02 43 44"),
    ] {
        let mut seed = vec![mode];
        seed.extend(h(body));
        c.put("tlv", &format!("wrapped_mode{mode}"), &seed);
    }
    c.put("tlv", "filler_mode2", &h("02 80 08 32 30 32 34 30 31 30 31"));
    c.put("certificate", "empty_sequence", &h("30 00"));

    // T=0 rules: 61xx then GET RESPONSE, 6Cxx then the resend.
    let t = |chunks: &[&str]| {
        let bytes: Vec<Vec<u8>> = chunks.iter().map(|s| h(s)).collect();
        let mut seed = vec![op("transmit")];
        seed.extend(encode_chunks(bytes.iter().map(Vec::as_slice)));
        seed
    };
    c.put(
        "apdu_response",
        "transmit_61xx",
        &t(&["61 03", "6F 01 01 90 00", "6C 04", "01 02 03 04 90 00"]),
    );
    c.put(
        "apdu_response",
        "transmit_61_chain",
        &t(&["61 02", "AA BB 61 02", "CC DD 90 00", "6A 82"]),
    );
    let mut resp = vec![op("response")];
    resp.extend(encode_chunks([&h("90 00")[..], &h("01 02 63 C2"), &h("6F"), &[]]));
    c.put("apdu_response", "responses", &resp);

    // Serial CCID frames: a data block with an ATR, a slot status, NAK,
    // card movement and time extension bytes.
    let frame = |message: &[u8]| {
        let mut f = vec![0x03, 0x06];
        f.extend_from_slice(message);
        f.push(f.iter().fold(0, |a, b| a ^ b));
        f
    };
    let message = |kind: u8, slot: u8, seq: u8, status: u8, error: u8, data: &[u8]| {
        let mut m = vec![kind];
        m.extend_from_slice(&(data.len() as u32).to_le_bytes());
        m.extend([slot, seq, status, error, 0]);
        m.extend_from_slice(data);
        m
    };
    let atr = h("3B AC 00 40 2A 00 12 25 00 64 80 00 03 10 00 90 00");
    let mut power_on = vec![0x10];
    power_on.extend(frame(&message(0x80, 0, 1, 0x00, 0, &atr)));
    c.put("ccid_serial_frame", "power_on_atr", &power_on);
    let mut mixed = vec![0x00];
    mixed.extend([0x80, 0x50, 0x02]);
    mixed.extend(frame(&message(0x80, 0, 2, 0x00, 0, &h("6F 01 01 90 00"))));
    mixed.extend([0x03, 0x15, 0x16]);
    mixed.extend(frame(&message(0x81, 1, 3, 0x42, 0xFE, &[])));
    mixed.extend([0x50, 0x03, 0xFF]);
    c.put("ccid_serial_frame", "mixed_stream", &mixed);
    let mut bad = vec![0x03];
    let mut f = frame(&message(0x83, 0, 4, 0x00, 0, &h("02 47 65 6D")));
    let n = f.len();
    f[n - 1] ^= 0x01;
    bad.extend(f);
    bad.extend([0x11, 0x03, 0x42]);
    c.put("ccid_serial_frame", "bad_lrc_resync", &bad);

    // JSON-RPC lines.
    let lines = [
        (
            "readers_list",
            r#"{"jsonrpc":"2.0","id":1,"method":"readers.list"}"#,
        ),
        (
            "vitale_read",
            r#"{"jsonrpc":"2.0","id":"v","method":"vitale.read","params":{"reader":"sim:0"}}"#,
        ),
        (
            "cps_sign",
            r#"{"jsonrpc":"2.0","id":7,"method":"cps.sign","params":{"key":"signature","algorithm":"rsa-pkcs1-sha256","digest_b64":"AAAA","pin":"1234"}}"#,
        ),
        (
            "notification",
            r#"{"jsonrpc":"2.0","method":"events.subscribe","params":{}}"#,
        ),
        ("bad_version", r#"{"jsonrpc":"1.0","id":null,"method":"x"}"#),
        ("batch", r#"[{"jsonrpc":"2.0","id":1,"method":"readers.list"}]"#),
        (
            "nested",
            r#"{"jsonrpc":"2.0","id":[[[[{}]]]],"method":{"a":[1,2,3e400]}}"#,
        ),
    ];
    for (name, line) in lines {
        c.put("jsonrpc_request", name, line.as_bytes());
    }

    println!("{} seed files under {}", c.count, c.root.display());
}
