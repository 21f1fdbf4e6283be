//! Test helper: walks a CPS card's PKCS#15 structure as a host would (EF.DIR
//! → ODF → PrKDF, CDF, DODF, AODF) with raw APDUs on a given class byte, and
//! a small strict DER reader (single-byte tags, definite minimal lengths).

use crate::card::SimCard;

/// One DER object: tag and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Der<'a> {
    pub tag: u8,
    pub value: &'a [u8],
}

/// All the objects of `data`, in order. Panics on anything that is not DER.
pub(crate) fn der_items(mut data: &[u8]) -> Vec<Der<'_>> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let tag = data[0];
        assert_ne!(tag & 0x1F, 0x1F, "multi-byte tag in {data:02X?}");
        let (len, header) = match data[1] {
            n if n < 0x80 => (usize::from(n), 2),
            0x81 => {
                assert!(data[2] >= 0x80, "non-minimal 81 length");
                (usize::from(data[2]), 3)
            }
            0x82 => {
                let n = usize::from(u16::from_be_bytes([data[2], data[3]]));
                assert!(n >= 0x100, "non-minimal 82 length");
                (n, 4)
            }
            other => panic!("unexpected length byte {other:02X}"),
        };
        assert!(data.len() >= header + len, "truncated object {tag:02X}");
        out.push(Der {
            tag,
            value: &data[header..header + len],
        });
        data = &data[header + len..];
    }
    out
}

/// The only object of `data`, with the expected tag.
pub(crate) fn one(data: &[u8], tag: u8) -> &[u8] {
    let items = der_items(data);
    assert_eq!(items.len(), 1, "{data:02X?}");
    assert_eq!(items[0].tag, tag, "{data:02X?}");
    items[0].value
}

/// The children of a constructed value, checked against the expected tags.
pub(crate) fn fields<'a>(value: &'a [u8], tags: &[u8]) -> Vec<&'a [u8]> {
    let items = der_items(value);
    let got: Vec<u8> = items.iter().map(|d| d.tag).collect();
    assert_eq!(got, tags, "{value:02X?}");
    items.into_iter().map(|d| d.value).collect()
}

/// `30 { 04 path }` → the path bytes.
pub(crate) fn path_of(value: &[u8]) -> Vec<u8> {
    fields(value, &[0x04])[0].to_vec()
}

fn text(v: &[u8]) -> String {
    String::from_utf8(v.to_vec()).unwrap()
}

/// A private key found in the PrKDF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Key {
    pub label: String,
    pub auth_id: Vec<u8>,
    pub id: Vec<u8>,
    pub key_ref: u32,
    pub path: Vec<u8>,
    pub modulus_bits: u32,
}

/// A certificate found in the CDF, with its content read from the card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cert {
    pub label: String,
    pub id: Vec<u8>,
    pub path: Vec<u8>,
    pub der: Vec<u8>,
}

/// A data object of the DODF; `content` is `None` when READ BINARY answered
/// `69 82` (the PIN was not verified).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DataObject {
    pub label: String,
    pub private: bool,
    pub auth_id: Option<Vec<u8>>,
    pub app_name: String,
    pub path: Vec<u8>,
    pub content: Option<Vec<u8>>,
}

/// The PIN of the AODF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pin {
    pub label: String,
    pub auth_id: Vec<u8>,
    pub pin_type: u8,
    pub min: u32,
    pub stored: u32,
    pub max: u32,
    pub reference: u8,
    pub path: Vec<u8>,
}

#[derive(Debug, Default)]
pub(crate) struct Found {
    pub app_path: Vec<u8>,
    pub odf_tags: Vec<u8>,
    pub keys: Vec<Key>,
    pub certs: Vec<Cert>,
    pub data: Vec<DataObject>,
    pub pins: Vec<Pin>,
}

fn integer(v: &[u8]) -> u32 {
    assert!(!v.is_empty() && v.len() <= 4 && v[0] & 0x80 == 0);
    assert!(
        v.len() == 1 || v[0] != 0 || v[1] & 0x80 != 0,
        "non-minimal INTEGER"
    );
    v.iter().fold(0, |n, b| (n << 8) | u32::from(*b))
}

/// Selects `path` (from the MF, `3F00` first) with `cla`, reads it whole;
/// `None` on `69 82`. On channel 1 (a CPS4, which takes no `3F00` path under
/// P1 09) the path goes without `3F00` under P1 08.
pub(crate) fn read_path(card: &mut dyn SimCard, cla: u8, path: &[u8]) -> Option<Vec<u8>> {
    let (p1, path) = match (cla, path) {
        (0x01, [0x3F, 0x00, rest @ ..]) => (0x08, rest),
        _ => (0x09, path),
    };
    let mut select = vec![cla, 0xA4, p1, 0x0C, path.len() as u8];
    select.extend_from_slice(path);
    assert_eq!(card.transmit(&select), [0x90, 0x00], "select {path:02X?}");
    let mut out = Vec::new();
    loop {
        let [hi, lo] = (out.len() as u16).to_be_bytes();
        let mut r = card.transmit(&[cla, 0xB0, hi, lo, 0xE7]);
        if let [0x6C, n] = r.as_slice() {
            r = card.transmit(&[cla, 0xB0, hi, lo, *n]);
        }
        match r.as_slice() {
            [0x6B, 0x00] => return Some(out),
            [0x69, 0x82] => return None,
            _ => {}
        }
        let sw = r.split_off(r.len() - 2);
        assert_eq!(sw, [0x90, 0x00], "read {path:02X?}");
        out.extend(r);
    }
}

/// CommonObjectAttributes → (label, private flag, authId).
fn common(value: &[u8]) -> (String, bool, Option<Vec<u8>>) {
    let items = der_items(value);
    assert_eq!(items[0].tag, 0x0C);
    let label = text(items[0].value);
    let mut private = false;
    let mut auth_id = None;
    for item in &items[1..] {
        match item.tag {
            0x03 => {
                let bits = item.value;
                assert!(bits.len() >= 2 && bits[0] < 8);
                private = bits[1] & 0x80 != 0;
            }
            0x04 => auth_id = Some(item.value.to_vec()),
            other => panic!("unexpected {other:02X} in CommonObjectAttributes"),
        }
    }
    (label, private, auth_id)
}

/// Walks everything; data objects are read too.
pub(crate) fn walk(card: &mut dyn SimCard, cla: u8) -> Found {
    let mut found = Found::default();
    let dir = read_path(card, cla, &[0x3F, 0x00, 0x2F, 0x00]).unwrap();
    let app = fields(one(&dir, 0x61), &[0x4F, 0x50, 0x51]);
    assert_eq!(app[0], super::layout::AID_PKCS15);
    found.app_path = app[2].to_vec();
    let mut odf_path = found.app_path.clone();
    odf_path.extend_from_slice(&[0x50, 0x31]);
    let odf = read_path(card, cla, &odf_path).unwrap();
    for entry in der_items(&odf) {
        found.odf_tags.push(entry.tag);
        let df_path = path_of(one(entry.value, 0x30));
        assert!(df_path.starts_with(&found.app_path));
        let df = read_path(card, cla, &df_path).unwrap();
        for object in der_items(&df) {
            assert_eq!(object.tag, 0x30);
            match entry.tag {
                0xA0 => {
                    let f = fields(object.value, &[0x30, 0x30, 0xA1]);
                    let (label, private, auth_id) = common(f[0]);
                    assert!(private);
                    let key = fields(f[1], &[0x04, 0x03, 0x03, 0x02]);
                    let rsa = fields(one(f[2], 0x30), &[0x30, 0x02]);
                    found.keys.push(Key {
                        label,
                        auth_id: auth_id.unwrap(),
                        id: key[0].to_vec(),
                        key_ref: integer(key[3]),
                        path: path_of(rsa[0]),
                        modulus_bits: integer(rsa[1]),
                    });
                }
                0xA4 => {
                    let f = fields(object.value, &[0x30, 0x30, 0xA1]);
                    let (label, _, _) = common(f[0]);
                    let id = fields(f[1], &[0x04])[0].to_vec();
                    let path = path_of(one(one(f[2], 0x30), 0x30));
                    let der = read_path(card, cla, &path).unwrap();
                    found.certs.push(Cert { label, id, path, der });
                }
                0xA7 => {
                    let f = fields(object.value, &[0x30, 0x30, 0xA1]);
                    let (label, private, auth_id) = common(f[0]);
                    let app_name = text(fields(f[1], &[0x0C])[0]);
                    let path = path_of(one(f[2], 0x30));
                    let content = read_path(card, cla, &path);
                    found.data.push(DataObject {
                        label,
                        private,
                        auth_id,
                        app_name,
                        path,
                        content,
                    });
                }
                0xA8 => {
                    let f = fields(object.value, &[0x30, 0x30, 0xA1]);
                    let (label, _, _) = common(f[0]);
                    let auth_id = fields(f[1], &[0x04])[0].to_vec();
                    let a = fields(one(f[2], 0x30), &[0x03, 0x0A, 0x02, 0x02, 0x02, 0x80, 0x30]);
                    found.pins.push(Pin {
                        label,
                        auth_id,
                        pin_type: a[1][0],
                        min: integer(a[2]),
                        stored: integer(a[3]),
                        max: integer(a[4]),
                        reference: a[5][0],
                        path: path_of(a[6]),
                    });
                }
                other => panic!("unexpected ODF entry {other:02X}"),
            }
        }
    }
    found
}
