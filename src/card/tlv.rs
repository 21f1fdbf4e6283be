//! A small bounded BER-TLV walker, used for both the ISO 7816 BER-TLV of card
//! files and the DER of PKCS#15. Zero-copy: objects borrow the card bytes and
//! keep their raw tag, so unmapped objects can be handed back as they were.
//! (`iso7816-tlv` rejects the `00`/`FF` filler ISO 7816-4 allows between
//! objects and stops silently at the first error; this walker does neither.)

/// At most this many objects in one list (a card file is a few KiB).
const MAX_OBJECTS: usize = 4096;
/// Longest tag accepted (three bytes covers ISO 7816 and PKCS#15).
const MAX_TAG: usize = 3;

/// One object: its raw tag bytes and its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Tlv<'a> {
    pub tag: &'a [u8],
    pub value: &'a [u8],
}

impl<'a> Tlv<'a> {
    /// Constructed (bit 6 of the first tag byte): its value is more objects.
    pub(super) fn constructed(&self) -> bool {
        self.tag.first().is_some_and(|b| b & 0x20 != 0)
    }

    pub(super) fn is(&self, tag: &[u8]) -> bool {
        self.tag == tag
    }

    /// The children of a constructed object (DER: no filler allowed inside).
    pub(super) fn children(&self) -> Option<Vec<Tlv<'a>>> {
        if !self.constructed() {
            return None;
        }
        parse_der(self.value)
    }

    pub(super) fn tag_hex(&self) -> String {
        hex::encode_upper(self.tag)
    }
}

/// Reads one object from the front of `data`; returns it and the rest.
pub(super) fn parse_one(data: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let first = *data.first()?;
    let mut tag_len = 1;
    if first & 0x1F == 0x1F {
        loop {
            let b = *data.get(tag_len)?;
            tag_len += 1;
            if b & 0x80 == 0 {
                break;
            }
            if tag_len >= MAX_TAG {
                return None;
            }
        }
    }
    let (tag, rest) = data.split_at(tag_len);
    let (&l0, rest) = rest.split_first()?;
    let (len, rest) = match l0 {
        0..=0x7F => (l0 as usize, rest),
        0x81..=0x83 => {
            let n = (l0 & 0x7F) as usize;
            if rest.len() < n {
                return None;
            }
            let (bytes, rest) = rest.split_at(n);
            (bytes.iter().fold(0usize, |a, b| (a << 8) | *b as usize), rest)
        }
        // Indefinite (80) and lengths over 16 MiB have no place on a card.
        _ => return None,
    };
    if len > rest.len() {
        return None;
    }
    let (value, rest) = rest.split_at(len);
    Some((Tlv { tag, value }, rest))
}

/// Every top-level object of a card file, skipping the `00`/`FF` filler ISO
/// 7816-4 allows between objects (and the unused tail of a file); `None` if
/// anything else fails to parse.
pub(super) fn parse_all(data: &[u8]) -> Option<Vec<Tlv<'_>>> {
    walk(data, true)
}

/// Every object of a DER value: no filler, no trailing garbage.
pub(super) fn parse_der(data: &[u8]) -> Option<Vec<Tlv<'_>>> {
    walk(data, false)
}

fn walk(mut data: &[u8], filler: bool) -> Option<Vec<Tlv<'_>>> {
    let mut out = Vec::new();
    loop {
        if filler {
            while let [0x00 | 0xFF, rest @ ..] = data {
                data = rest;
            }
        }
        if data.is_empty() {
            return Some(out);
        }
        if out.len() >= MAX_OBJECTS {
            return None;
        }
        let (tlv, rest) = parse_one(data)?;
        out.push(tlv);
        data = rest;
    }
}

/// The value of the first object with tag `tag` in `list`.
pub(super) fn find<'a>(list: &[Tlv<'a>], tag: &[u8]) -> Option<&'a [u8]> {
    list.iter().find(|t| t.is(tag)).map(|t| t.value)
}

/// File size from an FCI/FCP template (`62` or `6F` holding `80` or `81`).
pub(super) fn fci_size(fci: &[u8]) -> Option<usize> {
    let top = parse_all(fci)?;
    let children = top.first()?.children()?;
    let v = find(&children, &[0x80]).or_else(|| find(&children, &[0x81]))?;
    if v.is_empty() || v.len() > 4 {
        return None;
    }
    Some(v.iter().fold(0usize, |acc, b| (acc << 8) | *b as usize))
}

/// Card text is single-byte: each byte as its Latin-1 character, with the
/// trailing spaces and NULs of fixed-size fields removed.
pub(super) fn text(bytes: &[u8]) -> String {
    let s: String = bytes.iter().map(|&b| b as char).collect();
    s.trim_end_matches([' ', '\0']).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_filler_and_reports_garbage() {
        let all = parse_all(&[0x80, 1, 1, 0, 0, 0x81, 1, 2, 0xFF]).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[1].value, [2]);
        assert!(parse_all(&[0x80, 5, 1]).is_none());
        assert!(parse_der(&[0x80, 1, 1, 0]).is_none());
    }

    #[test]
    fn multi_byte_tags_and_long_lengths() {
        let mut data = vec![0x7F, 0x21, 0x81, 0x80];
        data.extend([0xAA; 0x80]);
        data.extend([0x5F, 0x37, 0x82, 0x00, 0x01, 0xBB]);
        let all = parse_all(&data).unwrap();
        assert_eq!(all[0].tag, [0x7F, 0x21]);
        assert_eq!(all[0].value.len(), 0x80);
        assert_eq!(all[1].tag_hex(), "5F37");
        assert!(all[0].constructed() && !all[1].constructed());
        // Tag running past three bytes, indefinite length, length past the end.
        assert!(parse_one(&[0x1F, 0x81, 0x81, 0x01, 0x00]).is_none());
        assert!(parse_one(&[0x30, 0x80, 0, 0]).is_none());
        assert!(parse_one(&[0x30, 0x84, 0, 0, 0, 1, 0]).is_none());
        assert!(parse_one(&[0x30, 0x82, 0x01]).is_none());
    }

    #[test]
    fn reads_fci_size() {
        assert_eq!(
            fci_size(&[0x62, 0x08, 0x80, 0x02, 0x01, 0x2C, 0x83, 0x02, 0xD0, 0x01]),
            Some(300)
        );
        assert_eq!(fci_size(&[0x62, 0x00]), None);
        assert_eq!(fci_size(&[]), None);
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut rng = crate::card::testutil::Rng::new(1);
        let seeds = [vec![
            0x7F, 0x21, 0x03, 0x5F, 0x37, 0x00, 0x62, 0x04, 0x80, 0x02, 0x01, 0x2C,
        ]];
        for input in rng.inputs(&seeds) {
            if let Some(all) = parse_all(&input) {
                for t in all {
                    let _ = t.children();
                }
            }
            let _ = parse_der(&input);
            let _ = fci_size(&input);
        }
    }
}
