//! BER-TLV over `iso7816-tlv`, wrapping its known quirks: it rejects the `00`
//! filler allowed between objects and stops silently at the first error.

use iso7816_tlv::ber::{Tag, Tlv, Value};

/// Parses every top-level object; `None` if any byte cannot be parsed.
pub fn parse_all(mut data: &[u8]) -> Option<Vec<Tlv>> {
    let mut out = Vec::new();
    let mut guard = 0;
    loop {
        // Skip inter-object filler (00 or FF) that ISO 7816-4 allows.
        while let [0x00 | 0xFF, rest @ ..] = data {
            data = rest;
        }
        if data.is_empty() {
            return Some(out);
        }
        guard += 1;
        if guard > 4096 {
            return None;
        }
        let (tlv, rest) = Tlv::parse(data);
        out.push(tlv.ok()?);
        data = rest;
    }
}

/// The value of a primitive child with tag `tag` (one byte) of a constructed object.
pub fn child(tlv: &Tlv, tag: u8) -> Option<&[u8]> {
    let tag = Tag::try_from(tag).ok()?;
    match tlv.find(&tag)?.value() {
        Value::Primitive(v) => Some(v),
        Value::Constructed(_) => None,
    }
}

/// Whether the object has the one-byte tag `tag`.
pub fn has_tag(tlv: &Tlv, tag: u8) -> bool {
    Tag::try_from(tag).is_ok_and(|t| *tlv.tag() == t)
}

/// File size from an FCI/FCP template (`62` or `6F` holding `80` or `81`).
pub fn fci_size(fci: &[u8]) -> Option<usize> {
    let top = parse_all(fci)?;
    let t = top.first()?;
    let v = child(t, 0x80).or_else(|| child(t, 0x81))?;
    if v.is_empty() || v.len() > 4 {
        return None;
    }
    Some(v.iter().fold(0usize, |acc, b| (acc << 8) | *b as usize))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_filler_and_reports_garbage() {
        let all = parse_all(&[0x80, 1, 1, 0, 0, 0x81, 1, 2]).unwrap();
        assert_eq!(all.len(), 2);
        assert!(parse_all(&[0x80, 5, 1]).is_none());
    }

    #[test]
    fn reads_fci_size() {
        assert_eq!(fci_size(&[0x62, 0x08, 0x80, 0x02, 0x01, 0x2C, 0x83, 0x02, 0xD0, 0x01]), Some(300));
        assert_eq!(fci_size(&[0x62, 0x00]), None);
        assert_eq!(fci_size(&[]), None);
    }
}
