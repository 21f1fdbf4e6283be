//! `lecteur atr HEX [--json]`: decodes an ATR and identifies the card, for
//! technicians. Needs no daemon and no reader.

use lecteur::card::atr::{self, Atr, AtrError, Historical};

/// Why `lecteur atr` decodes nothing.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AtrInputError {
    #[error("no ATR given")]
    Empty,
    #[error("the ATR is not hex: {0}")]
    NotHex(#[from] hex::FromHexError),
    #[error("not a valid ATR {atr}: {source}{}", identified.as_ref().map(|g| format!(" (the table would identify it as {g})")).unwrap_or_default())]
    Invalid {
        atr: String,
        source: AtrError,
        /// What the identification table alone would say.
        identified: Option<String>,
    },
    #[error("{0}")]
    Json(#[from] serde_json::Error),
}

/// Parses hex with or without spaces or colons (`3B 75 13`, `3B:75:13`, `3B7513`).
pub(crate) fn parse_hex(text: &str) -> Result<Vec<u8>, AtrInputError> {
    let clean: String = text.chars().filter(|c| !c.is_whitespace() && *c != ':').collect();
    let clean = clean.strip_prefix("0x").unwrap_or(&clean);
    if clean.is_empty() {
        return Err(AtrInputError::Empty);
    }
    Ok(hex::decode(clean)?)
}

pub(crate) fn run(text: &str, json: bool) -> Result<(), AtrInputError> {
    let bytes = parse_hex(text)?;
    let atr = atr::parse(&bytes).map_err(|source| AtrInputError::Invalid {
        atr: spaced(&bytes),
        source,
        identified: atr::lookup(&bytes).map(|e| e.generation.to_string()),
    })?;
    if json {
        println!("{}", serde_json::to_string_pretty(&atr)?);
    } else {
        print!("{}", describe(&atr));
    }
    Ok(())
}

fn spaced(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect::<Vec<_>>().join(" ")
}

fn line(out: &mut String, label: &str, bytes: &str, meaning: &str) {
    let text = format!("{label:<6}{bytes:<16}{meaning}");
    out.push_str(text.trim_end());
    out.push('\n');
}

/// The human decode: one line per byte or byte group.
pub(crate) fn describe(a: &Atr) -> String {
    let mut out = String::new();
    out.push_str(&format!("ATR   {} ({} bytes)\n", spaced(&a.atr), a.atr.len()));
    line(
        &mut out,
        "TS",
        &spaced(&a.atr[..1]),
        &format!("{} convention", a.convention.as_str()),
    );
    let t0 = a.atr[1];
    let y1: Vec<String> = ['A', 'B', 'C', 'D']
        .iter()
        .enumerate()
        .filter(|(b, _)| (t0 >> 4) & (1 << b) != 0)
        .map(|(_, c)| format!("T{c}1"))
        .collect();
    let y1 = if y1.is_empty() {
        "no interface bytes".to_string()
    } else {
        y1.join(" ")
    };
    line(
        &mut out,
        "T0",
        &spaced(&a.atr[1..2]),
        &format!("{y1}; K={} historical bytes", t0 & 0x0F),
    );
    for b in &a.interface_bytes {
        line(&mut out, &b.name, &b.value, &b.meaning);
    }
    if let Some(h) = &a.historical {
        line(&mut out, "hist", &spaced(&a.historical_bytes), "");
        historical(&mut out, h, &a.historical_bytes);
    }
    if let Some(tck) = a.tck {
        let status = if a.tck_ok == Some(true) {
            "checksum correct (XOR from T0 to TCK is 00)".to_string()
        } else {
            let x = a.atr[1..].iter().fold(0u8, |acc, b| acc ^ b);
            format!(
                "WRONG checksum: XOR from T0 to TCK is {x:02X}, expected {:02X}",
                tck ^ x
            )
        };
        line(&mut out, "TCK", &format!("{tck:02X}"), &status);
    } else {
        line(&mut out, "TCK", "-", "absent (only T=0 offered)");
    }
    let protocols: Vec<String> = a.protocols.iter().map(|p| p.to_string()).collect();
    out.push_str(&format!("\nProtocols     {}\n", protocols.join(", ")));
    let fi = a.fi.map_or("RFU".to_string(), |f| f.to_string());
    let di = a.di.map_or("RFU".to_string(), |d| d.to_string());
    out.push_str(&format!("Fi / Di       {fi} / {di}"));
    if let Some(f) = a.fmax_mhz {
        out.push_str(&format!(", f max {f} MHz"));
    }
    out.push_str(&format!(", extra guard time N={}\n", a.extra_guard_time));
    if let Some(t0) = &a.t0 {
        out.push_str(&format!("T=0           WI={}", t0.wi));
        if let Some(wt) = t0.wt_etu {
            out.push_str(&format!(" (waiting time {wt} etu)"));
        }
        out.push('\n');
    }
    if let Some(t1) = &a.t1 {
        out.push_str(&format!(
            "T=1           IFSC={} BWI={} CWI={} {}\n",
            t1.ifsc, t1.bwi, t1.cwi, t1.error_detection
        ));
    }
    match a.generation {
        Some(g) => out.push_str(&format!(
            "Card          {}: {g}\n              identified by {}\n",
            a.kind.as_str(),
            a.identified_by.unwrap_or("?")
        )),
        None => out.push_str("Card          unknown: not a CPS or carte Vitale ATR lecteur knows\n"),
    }
    out
}

fn historical(out: &mut String, h: &Historical, bytes: &[u8]) {
    line(out, "", &h.category, &format!("category: {}", h.layout));
    if let Some(r) = &h.dir_reference {
        line(out, "", r, "DIR data reference");
    }
    if let Some(p) = &h.pcsc_storage {
        line(
            out,
            "",
            &spaced(&bytes[1..]),
            &format!(
                "RID {}, standard {}, card name {}",
                p.rid, p.standard, p.card_name
            ),
        );
    }
    for o in &h.objects {
        let len = o.value.len() / 2;
        let raw = bytes
            .get(o.offset..o.offset + 1 + len)
            .map(spaced)
            .unwrap_or_default();
        let meaning = match &o.meaning {
            Some(m) => format!("{}: {m}", o.name),
            None if o.value.is_empty() => o.name.to_string(),
            None => format!("{}: {}", o.name, o.value),
        };
        // Long objects get their own line for the bytes.
        if raw.len() > 15 {
            line(out, "", &raw, "");
            line(out, "", "", &meaning);
        } else {
            line(out, "", &raw, &meaning);
        }
    }
    if let (Some(s), "00") = (&h.status, h.category.as_str()) {
        let tail = &bytes[bytes.len().saturating_sub(3)..];
        let lcs = s.lcs.as_deref().unwrap_or("-");
        let meaning = s.lcs_meaning.unwrap_or("");
        let sw = s.sw.as_deref().unwrap_or("-");
        line(
            out,
            "",
            &spaced(tail),
            &format!("status indicator: life cycle {lcs} ({meaning}), SW {sw}"),
        );
    }
    if let Some(e) = &h.error {
        line(out, "", "!", &format!("does not follow the layout: {e}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_forms() {
        let want = vec![0x3B, 0x75, 0x13];
        assert_eq!(parse_hex("3B 75 13").unwrap(), want);
        assert_eq!(parse_hex("3b:75:13").unwrap(), want);
        assert_eq!(parse_hex(" 3B7513\n").unwrap(), want);
        assert!(parse_hex("3B 7").is_err());
        assert!(parse_hex("").is_err());
        assert!(parse_hex("zz").is_err());
    }

    #[test]
    fn describes_a_cps4() {
        let a =
            atr::parse(&parse_hex("3B 9B 18 80 01 00 12 25 00 64 80 04 01 00 00 90 44").unwrap()).unwrap();
        let text = describe(&a);
        assert!(text.contains("TA1   18"), "{text}");
        assert!(text.contains("checksum correct"), "{text}");
        assert!(text.contains("cps4: CPS4 (ChipDoc)"), "{text}");
        assert!(text.contains("country code 250 (France)"), "{text}");
    }
}
