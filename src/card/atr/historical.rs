//! Historical bytes (ISO/IEC 7816-4 §8.1.1): the category indicator and, for
//! categories `00` and `80`, the compact-TLV objects (tag = high nibble,
//! length = low nibble). A layout the card does not follow is reported in
//! `error`; it never fails the ATR.

use serde::Serialize;

/// The historical bytes, decoded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Historical {
    /// The category indicator byte, hex.
    pub category: String,
    /// What the category says about the layout.
    pub layout: &'static str,
    /// The compact-TLV objects (categories `00` and `80`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<CompactObject>,
    /// The status indicator, when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// Category `10`: reference of a DIR data object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dir_reference: Option<String>,
    /// The PC/SC part 3 layout of contactless storage cards (`80 4F len RID SS NN NN ...`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pcsc_storage: Option<PcscStorage>,
    /// Why the bytes do not follow the category's layout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One compact-TLV object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CompactObject {
    /// The tag nibble, hex ("6").
    pub tag: String,
    /// The tag's name in ISO/IEC 7816-4.
    pub name: &'static str,
    /// The value, hex.
    pub value: String,
    /// What the value says, when lecteur decodes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meaning: Option<String>,
    /// Offset of the object's first byte within the historical bytes.
    #[serde(skip)]
    pub offset: usize,
}

/// Status indicator: life cycle status and/or status word.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    /// The life cycle status byte, hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lcs: Option<String>,
    /// What the life cycle status says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lcs_meaning: Option<&'static str>,
    /// The status word, hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sw: Option<String>,
}

/// The PC/SC part 3 fields of a contactless storage card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PcscStorage {
    /// Registered application provider id (RID), hex.
    pub rid: String,
    /// Standard byte (SS).
    pub standard: String,
    /// Card name (NN NN).
    pub card_name: String,
}

fn hex_upper(b: &[u8]) -> String {
    hex::encode_upper(b)
}

/// Decodes historical bytes; `None` when there are none.
pub(super) fn decode(bytes: &[u8]) -> Option<Historical> {
    let (&category, rest) = bytes.split_first()?;
    let mut h = Historical {
        category: format!("{category:02X}"),
        layout: "",
        objects: Vec::new(),
        status: None,
        dir_reference: None,
        pcsc_storage: None,
        error: None,
    };
    match category {
        0x00 => {
            h.layout = "compact-TLV objects followed by a 3-byte status indicator";
            if rest.len() < 3 {
                h.error = Some(format!(
                    "{} byte(s) after the category, the status indicator needs 3",
                    rest.len()
                ));
                return Some(h);
            }
            let (objects, status) = rest.split_at(rest.len() - 3);
            match compact_tlv(objects, 1, &mut h.objects) {
                Ok(()) => h.status = Some(status_of(status)),
                Err(e) => h.error = Some(e.to_string()),
            }
        }
        0x10 => {
            h.layout = "DIR data reference";
            match rest {
                [r] => h.dir_reference = Some(format!("{r:02X}")),
                _ => h.error = Some(format!("{} byte(s) after the category, expected 1", rest.len())),
            }
        }
        0x80 => {
            h.layout = "compact-TLV objects (status indicator optional, tag 8)";
            if let Some(s) = pcsc_storage(rest) {
                h.layout = "PC/SC part 3 contactless storage card";
                h.pcsc_storage = Some(s);
                return Some(h);
            }
            match compact_tlv(rest, 1, &mut h.objects) {
                Ok(()) => {
                    if let Some(o) = h.objects.iter().find(|o| o.tag == "8") {
                        h.status = hex::decode(&o.value).ok().map(|v| status_of(&v));
                    }
                }
                Err(e) => h.error = Some(e.to_string()),
            }
        }
        0x81..=0x8F => h.layout = "RFU category",
        _ => h.layout = "proprietary",
    }
    Some(h)
}

/// A compact-TLV object longer than the bytes left.
#[derive(Debug, thiserror::Error)]
#[error("object {tl:02X} at historical byte {at} announces {len} byte(s), {remain} remain")]
struct Truncated {
    tl: u8,
    at: usize,
    len: usize,
    remain: usize,
}

/// Parses compact-TLV objects; `base` is the offset of `bytes` in the
/// historical bytes, for the error message. Objects parsed before an error are kept.
fn compact_tlv(bytes: &[u8], base: usize, out: &mut Vec<CompactObject>) -> Result<(), Truncated> {
    let mut pos = 0;
    while let Some(&tl) = bytes.get(pos) {
        let (tag, len) = (tl >> 4, usize::from(tl & 0x0F));
        let Some(value) = bytes.get(pos + 1..pos + 1 + len) else {
            return Err(Truncated {
                tl,
                at: base + pos,
                len,
                remain: bytes.len() - pos - 1,
            });
        };
        out.push(CompactObject {
            tag: format!("{tag:X}"),
            name: tag_name(tag),
            value: hex_upper(value),
            meaning: meaning(tag, value),
            offset: base + pos,
        });
        pos += 1 + len;
    }
    Ok(())
}

fn tag_name(tag: u8) -> &'static str {
    match tag {
        0x1 => "country code and national data",
        0x2 => "issuer identification number",
        0x3 => "card service data",
        0x4 => "initial access data",
        0x5 => "card issuer's data",
        0x6 => "pre-issuing data",
        0x7 => "card capabilities",
        0x8 => "status indicator",
        0xF => "application identifier",
        _ => "RFU tag",
    }
}

fn meaning(tag: u8, v: &[u8]) -> Option<String> {
    match tag {
        0x1 if v.len() >= 2 => {
            let code = format!("{:02X}{:X}", v[0], v[1] >> 4);
            let name = if code == "250" { " (France)" } else { "" };
            Some(format!("country code {code}{name}"))
        }
        0x3 if v.len() == 1 => Some(card_service_data(v[0])),
        0x7 if !v.is_empty() && v.len() <= 3 => Some(card_capabilities(v)),
        0x8 => {
            let s = status_of(v);
            let mut parts = Vec::new();
            if let Some(l) = &s.lcs {
                parts.push(format!("life cycle {l} ({})", s.lcs_meaning.unwrap_or("?")));
            }
            if let Some(sw) = &s.sw {
                parts.push(format!("SW {sw}"));
            }
            Some(parts.join(", "))
        }
        _ => None,
    }
}

/// Status indicator of 1 (LCS), 2 (SW1 SW2) or 3 (LCS SW1 SW2) bytes.
fn status_of(v: &[u8]) -> Status {
    let (lcs, sw) = match v {
        [l] => (Some(*l), None),
        [a, b] => (None, Some([*a, *b])),
        [l, a, b] => (Some(*l), Some([*a, *b])),
        _ => (None, None),
    };
    Status {
        lcs: lcs.map(|l| format!("{l:02X}")),
        lcs_meaning: lcs.map(lcs_meaning),
        sw: sw.map(|s| hex_upper(&s)),
    }
}

/// ISO/IEC 7816-4 life cycle status byte.
fn lcs_meaning(l: u8) -> &'static str {
    match l {
        0x00 => "no information given",
        0x01 => "creation state",
        0x03 => "initialisation state",
        0x05 | 0x07 => "operational state (activated)",
        0x04 | 0x06 => "operational state (deactivated)",
        0x0C..=0x0F => "termination state",
        0x10..=0xFF => "proprietary",
        _ => "RFU",
    }
}

fn card_service_data(b: u8) -> String {
    let mut parts = Vec::new();
    if b & 0x80 != 0 {
        parts.push("selection by full DF name");
    }
    if b & 0x40 != 0 {
        parts.push("selection by partial DF name");
    }
    if b & 0x20 != 0 {
        parts.push("BER-TLV objects in EF.DIR");
    }
    if b & 0x10 != 0 {
        parts.push("BER-TLV objects in EF.ATR");
    }
    parts.push(match (b >> 1) & 0x07 {
        0b100 => "EF.DIR/EF.ATR read by READ BINARY",
        0b010 => "EF.DIR/EF.ATR read by GET DATA",
        0b000 => "EF.DIR/EF.ATR read by READ RECORD(S)",
        _ => "EF.DIR/EF.ATR access RFU",
    });
    parts.push(if b & 0x01 != 0 {
        "card without MF"
    } else {
        "card with MF"
    });
    parts.join("; ")
}

fn card_capabilities(v: &[u8]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let s = v[0];
    let names = [
        (0x80, "DF selection by full DF name"),
        (0x40, "by partial DF name"),
        (0x20, "by path"),
        (0x10, "by file identifier"),
        (0x08, "implicit DF selection"),
        (0x04, "short EF identifiers"),
        (0x02, "record numbers"),
        (0x01, "record identifiers"),
    ];
    parts.extend(
        names
            .iter()
            .filter(|(m, _)| s & m != 0)
            .map(|(_, n)| n.to_string()),
    );
    if let Some(&c) = v.get(1) {
        parts.push(format!("data unit {} quartet(s)", 1u32 << (c & 0x0F)));
        if c & 0x80 != 0 {
            parts.push("EFs of TLV structure".into());
        }
    }
    if let Some(&c) = v.get(2) {
        if c & 0x80 != 0 {
            parts.push("command chaining".into());
        }
        if c & 0x40 != 0 {
            parts.push("extended Lc/Le".into());
        }
        let channels = c & 0x07;
        if c & 0x18 != 0 {
            parts.push(if channels == 7 {
                "8 or more logical channels".to_string()
            } else {
                format!("{} logical channel(s)", channels + 1)
            });
        }
    }
    parts.join("; ")
}

/// `4F len RID(5) SS NN NN RFU...` after category 80 (PC/SC part 3).
fn pcsc_storage(rest: &[u8]) -> Option<PcscStorage> {
    match rest {
        [0x4F, len, aid @ ..] if usize::from(*len) == aid.len() && aid.len() >= 8 => Some(PcscStorage {
            rid: hex_upper(&aid[..5]),
            standard: format!("{:02X}", aid[5]),
            card_name: hex_upper(&aid[6..8]),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    #[test]
    fn cps3_contact() {
        let d = decode(&h("00 12 25 00 64 80 00 03 10 00 90 00")).unwrap();
        assert_eq!(d.category, "00");
        assert_eq!(d.error, None);
        assert_eq!(d.objects.len(), 2);
        assert_eq!(d.objects[0].meaning.as_deref(), Some("country code 250 (France)"));
        assert_eq!(d.objects[1].name, "pre-issuing data");
        assert_eq!(d.objects[1].value, "80000310");
        let s = d.status.unwrap();
        assert_eq!((s.lcs.as_deref(), s.sw.as_deref()), (Some("00"), Some("9000")));
    }

    #[test]
    fn cps3_contactless() {
        let d = decode(&h("00 31 B8 64 04 B0 EC C1 73 94 01 80 82 90 00")).unwrap();
        assert_eq!(d.error, None);
        let tags: Vec<_> = d.objects.iter().map(|o| o.tag.as_str()).collect();
        assert_eq!(tags, ["3", "6", "7"]);
        let csd = d.objects[0].meaning.as_deref().unwrap();
        assert!(
            csd.contains("full DF name") && csd.contains("READ BINARY") && csd.contains("with MF"),
            "{csd}"
        );
        let caps = d.objects[2].meaning.as_deref().unwrap();
        assert!(
            caps.contains("command chaining") && caps.contains("short EF"),
            "{caps}"
        );
        assert_eq!(d.status.unwrap().lcs_meaning, Some("proprietary"));
    }

    #[test]
    fn cps4_tail_does_not_follow_the_layout() {
        let d = decode(&h("00 12 25 00 64 80 04 01 00 00 90")).unwrap();
        assert!(d.error.unwrap().contains("announces 4"));
        assert_eq!(d.status, None);
        assert_eq!(d.objects.len(), 1);
    }

    #[test]
    fn other_categories() {
        let d = decode(&h("80 31 B8 82 90 00")).unwrap();
        assert_eq!(d.status.unwrap().sw.as_deref(), Some("9000"));
        assert_eq!(decode(&h("10 42")).unwrap().dir_reference.as_deref(), Some("42"));
        assert!(decode(&h("10")).unwrap().error.is_some());
        assert_eq!(decode(&h("44 09 EA 90 00")).unwrap().layout, "proprietary");
        assert_eq!(decode(&h("85")).unwrap().layout, "RFU category");
        assert!(decode(&h("00 90")).unwrap().error.is_some());
        assert_eq!(decode(&[]), None);
        let p = decode(&h("80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00")).unwrap();
        assert_eq!(p.pcsc_storage.unwrap().rid, "A000000306");
    }

    #[test]
    fn never_panics_on_short_inputs() {
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                let _ = decode(&[a, b]);
                let _ = decode(&[0x00, a, b, 0x90]);
                let _ = decode(&[0x80, a, b]);
            }
        }
    }
}
