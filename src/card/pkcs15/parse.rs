//! ISO 7816-15 / PKCS#15 DER, decoded as far as lecteur needs: EF.DIR, the
//! ODF and the PrKDF, CDF, AODF and DODF entries. An entry of a known type
//! that does not parse fails its whole file (no partial directory); entries
//! of other types (EC keys, other certificate kinds) are skipped.

use super::{CertificateObject, DataObject, KeyObject, ObjectPath, PinObject};
use crate::card::tlv::{self, Tlv};
use crate::card::CardError;

const SEQ: &[u8] = &[0x30];
const OCTETS: &[u8] = &[0x04];
const INT: &[u8] = &[0x02];
const BITS: &[u8] = &[0x03];
const UTF8: &[u8] = &[0x0C];

fn bad(what: &str) -> CardError {
    CardError::Malformed(format!("PKCS#15: {what}"))
}

/// An application of EF.DIR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    /// Its AID (tag `4F`).
    pub aid: Vec<u8>,
    /// Its label (tag `50`).
    pub label: Option<String>,
    /// Its DF's absolute path (tag `51`, made absolute from `3F00`).
    pub path: Option<Vec<u8>>,
}

/// EF.DIR: `61 { 4F aid, 50 label, 51 path }` per application.
pub fn dir(data: &[u8]) -> Result<Vec<DirEntry>, CardError> {
    let top = tlv::parse_all(data).ok_or_else(|| bad("EF.DIR is not BER-TLV"))?;
    top.iter()
        .filter(|t| t.is(&[0x61]))
        .map(|t| {
            let c = t.children().ok_or_else(|| bad("EF.DIR entry"))?;
            let aid = tlv::find(&c, &[0x4F]).filter(|a| (1..=16).contains(&a.len()));
            let path = match tlv::find(&c, &[0x51]) {
                Some(p) => Some(resolve(&[0x3F, 0x00], p).ok_or_else(|| bad("EF.DIR path"))?),
                None => None,
            };
            Ok(DirEntry {
                aid: aid.ok_or_else(|| bad("EF.DIR entry without AID"))?.to_vec(),
                label: tlv::find(&c, &[0x50]).map(tlv::text),
                path,
            })
        })
        .collect()
}

/// The directory files an ODF points at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Odf {
    /// PrKDFs (`A0`).
    pub private_keys: Vec<ObjectPath>,
    /// CDFs (`A4`, `A5`, `A6`: certificates, trusted, useful).
    pub certificates: Vec<ObjectPath>,
    /// DODFs (`A7`).
    pub data_objects: Vec<ObjectPath>,
    /// AODFs (`A8`).
    pub auth_objects: Vec<ObjectPath>,
}

/// ODF: `A0|A4|A5|A6|A7|A8 { Path }`, paths relative to the application.
pub fn odf(data: &[u8], app: &[u8]) -> Result<Odf, CardError> {
    let top = tlv::parse_all(data).ok_or_else(|| bad("ODF is not DER"))?;
    let mut odf = Odf::default();
    for t in &top {
        let list = match t.tag {
            [0xA0] => &mut odf.private_keys,
            [0xA4..=0xA6] => &mut odf.certificates,
            [0xA7] => &mut odf.data_objects,
            [0xA8] => &mut odf.auth_objects,
            _ => continue,
        };
        // A directory held in the ODF itself ([0] objects) is not supported.
        let c = t.children().ok_or_else(|| bad("ODF entry"))?;
        if let [p] = c.as_slice() {
            if p.is(SEQ) {
                list.push(path(p, app)?);
            }
        }
    }
    Ok(odf)
}

/// A `Path ::= SEQUENCE { efidOrPath OCTET STRING, index INTEGER OPTIONAL,
/// length [0] INTEGER OPTIONAL }`, made absolute.
fn path(seq: &Tlv<'_>, app: &[u8]) -> Result<ObjectPath, CardError> {
    let c = seq.children().ok_or_else(|| bad("path"))?;
    let raw = tlv::find(&c, OCTETS).ok_or_else(|| bad("path without efidOrPath"))?;
    let path = resolve(app, raw).ok_or_else(|| bad("path of odd or excessive length"))?;
    let offset = tlv::find(&c, INT).map(uint).transpose()?;
    let length = tlv::find(&c, &[0x80]).map(uint).transpose()?;
    Ok(ObjectPath { path, offset, length })
}

/// Makes a card path absolute: `3F00…` as is, `3FFF…` (current DF) and
/// relative paths under `app`.
fn resolve(app: &[u8], p: &[u8]) -> Option<Vec<u8>> {
    if p.is_empty() || p.len() % 2 != 0 {
        return None;
    }
    let out = match p {
        [0x3F, 0x00, ..] => p.to_vec(),
        [0x3F, 0xFF, rest @ ..] => [app, rest].concat(),
        _ => [app, p].concat(),
    };
    (out.len() <= 16).then_some(out)
}

/// A non-negative INTEGER of up to 4 bytes. A one-byte value with its top bit
/// set is taken as unsigned: cards write key references 81/82 that way.
fn uint(v: &[u8]) -> Result<usize, CardError> {
    let v = match v {
        [0, rest @ ..] if !rest.is_empty() => rest,
        _ => v,
    };
    if v.is_empty() || v.len() > 4 || (v.len() > 1 && v[0] & 0x80 != 0) {
        return Err(bad("integer out of range"));
    }
    Ok(v.iter().fold(0usize, |a, b| (a << 8) | *b as usize))
}

/// Whether named bit `n` of a BIT STRING is set (bit 0 = MSB of the first byte).
fn bit(bits: &[u8], n: usize) -> bool {
    bits.get(1 + n / 8).is_some_and(|b| b & (0x80 >> (n % 8)) != 0)
}

fn bit_string(v: &[u8]) -> Result<&[u8], CardError> {
    match v {
        [unused, ..] if *unused <= 7 => Ok(v),
        _ => Err(bad("BIT STRING")),
    }
}

/// CommonObjectAttributes: label, flags (private = bit 0), authId.
struct Common {
    label: String,
    private: bool,
    auth_id: Option<Vec<u8>>,
}

/// Splits a PKCS#15 object into (common attributes, class attributes,
/// type attributes) and checks the shape every object has.
fn object<'a>(t: &Tlv<'a>) -> Result<(Common, Vec<Tlv<'a>>, Vec<Tlv<'a>>), CardError> {
    let parts = t.children().ok_or_else(|| bad("object is not constructed"))?;
    let (Some(common), Some(class)) = (parts.first(), parts.get(1)) else {
        return Err(bad("object without common attributes"));
    };
    if !common.is(SEQ) || !class.is(SEQ) {
        return Err(bad("object attributes are not sequences"));
    }
    let co = common.children().ok_or_else(|| bad("common attributes"))?;
    let flags = tlv::find(&co, BITS).map(bit_string).transpose()?;
    let common = Common {
        label: tlv::find(&co, UTF8).map(utf8).unwrap_or_default(),
        private: flags.is_some_and(|f| bit(f, 0)),
        auth_id: tlv::find(&co, OCTETS).map(<[u8]>::to_vec),
    };
    let class = class.children().ok_or_else(|| bad("class attributes"))?;
    let typ = parts
        .iter()
        .find(|p| p.is(&[0xA1]))
        .ok_or_else(|| bad("object without type attributes"))?;
    Ok((common, class, type_attributes(typ)?))
}

/// The contents of `[1] typeAttributes`, whether the encoder wrapped the
/// SEQUENCE in the context tag (usual) or replaced its tag (implicit).
fn type_attributes<'a>(a1: &Tlv<'a>) -> Result<Vec<Tlv<'a>>, CardError> {
    let c = a1.children().ok_or_else(|| bad("type attributes"))?;
    if let [inner] = c.as_slice() {
        if inner.is(SEQ) {
            let ic = inner.children().ok_or_else(|| bad("type attributes"))?;
            // A lone Path (first child OCTET STRING) is the value itself.
            if !ic.first().is_some_and(|f| f.is(OCTETS)) {
                return Ok(ic);
            }
        }
    }
    Ok(c)
}

/// The first Path among type attributes (the object's value).
fn value_path(attrs: &[Tlv<'_>], app: &[u8]) -> Result<ObjectPath, CardError> {
    if attrs.first().is_some_and(|f| f.is(OCTETS)) {
        // Implicit form: the attributes are the Path's own fields.
        let p = resolve(app, attrs[0].value).ok_or_else(|| bad("object path"))?;
        return Ok(ObjectPath {
            path: p,
            offset: tlv::find(attrs, INT).map(uint).transpose()?,
            length: tlv::find(attrs, &[0x80]).map(uint).transpose()?,
        });
    }
    let seq = attrs
        .iter()
        .find(|t| t.is(SEQ))
        .ok_or_else(|| bad("object without a path"))?;
    path(seq, app)
}

fn utf8(v: &[u8]) -> String {
    String::from_utf8_lossy(v).into_owned()
}

fn entries<'a>(data: &'a [u8], what: &str) -> Result<Vec<Tlv<'a>>, CardError> {
    tlv::parse_all(data).ok_or_else(|| bad(&format!("{what} is not DER")))
}

const KEY_USAGE: [&str; 10] = [
    "encrypt",
    "decrypt",
    "sign",
    "signRecover",
    "wrap",
    "unwrap",
    "verify",
    "verifyRecover",
    "derive",
    "nonRepudiation",
];

/// PrKDF: RSA private keys (untagged SEQUENCE); other key types are skipped.
pub fn prkdf(data: &[u8]) -> Result<Vec<KeyObject>, CardError> {
    let mut out = Vec::new();
    for t in entries(data, "PrKDF")?.iter().filter(|t| t.is(SEQ)) {
        let (common, class, typ) = object(t)?;
        let id = tlv::find(&class, OCTETS).ok_or_else(|| bad("key without iD"))?;
        let usage = bit_string(tlv::find(&class, BITS).ok_or_else(|| bad("key without usage"))?)?;
        let key_ref = tlv::find(&class, INT).map(uint).transpose()?;
        let modulus = tlv::find(&typ, INT).map(uint).transpose()?;
        out.push(KeyObject {
            label: common.label,
            id: id.to_vec(),
            auth_id: common.auth_id,
            key_ref: key_ref
                .map(u8::try_from)
                .transpose()
                .map_err(|_| bad("key reference"))?,
            modulus_bits: modulus,
            usage: KEY_USAGE
                .iter()
                .enumerate()
                .filter(|(i, _)| bit(usage, *i))
                .map(|(_, n)| *n)
                .collect(),
        });
    }
    Ok(out)
}

/// CDF: X.509 certificates (untagged SEQUENCE); other kinds are skipped.
pub fn cdf(data: &[u8], app: &[u8]) -> Result<Vec<CertificateObject>, CardError> {
    let mut out = Vec::new();
    for t in entries(data, "CDF")?.iter().filter(|t| t.is(SEQ)) {
        let (common, class, typ) = object(t)?;
        let id = tlv::find(&class, OCTETS).ok_or_else(|| bad("certificate without iD"))?;
        out.push(CertificateObject {
            label: common.label,
            id: id.to_vec(),
            authority: tlv::find(&class, &[0x01]).is_some_and(|b| b.first().is_some_and(|x| *x != 0)),
            path: value_path(&typ, app)?,
        });
    }
    Ok(out)
}

/// AODF: PINs (untagged SEQUENCE); biometric and other objects are skipped.
pub fn aodf(data: &[u8]) -> Result<Vec<PinObject>, CardError> {
    let mut out = Vec::new();
    for t in entries(data, "AODF")?.iter().filter(|t| t.is(SEQ)) {
        let (common, class, attrs) = object(t)?;
        let flags = bit_string(tlv::find(&attrs, BITS).ok_or_else(|| bad("PIN without flags"))?)?;
        let ints = attrs
            .iter()
            .filter(|a| a.is(INT))
            .map(|a| uint(a.value))
            .collect::<Result<Vec<_>, _>>()?;
        let (Some(min), Some(stored)) = (ints.first(), ints.get(1)) else {
            return Err(bad("PIN without lengths"));
        };
        let reference = tlv::find(&attrs, &[0x80]).map(uint).transpose()?;
        let pad = match tlv::find(&attrs, OCTETS) {
            Some([c]) => Some(*c),
            Some(_) => return Err(bad("PIN pad character")),
            None => None,
        };
        out.push(PinObject {
            label: common.label,
            auth_id: tlv::find(&class, OCTETS).map(<[u8]>::to_vec),
            reference: reference
                .map(u8::try_from)
                .transpose()
                .map_err(|_| bad("PIN reference"))?,
            pin_type: tlv::find(&attrs, &[0x0A]).map(uint).transpose()?,
            min: *min,
            stored: *stored,
            max: ints.get(2).copied(),
            pad,
            local: bit(flags, 1),
            initialized: bit(flags, 4),
            needs_padding: bit(flags, 5),
            unblocking: bit(flags, 6),
        });
    }
    Ok(out)
}

/// DODF: opaque data objects (untagged SEQUENCE) with their path.
pub fn dodf(data: &[u8], app: &[u8]) -> Result<Vec<DataObject>, CardError> {
    let mut out = Vec::new();
    for t in entries(data, "DODF")?.iter().filter(|t| t.is(SEQ)) {
        let (common, class, typ) = object(t)?;
        out.push(DataObject {
            label: common.label,
            application: tlv::find(&class, UTF8).map(utf8),
            private: common.private,
            auth_id: common.auth_id,
            path: value_path(&typ, app)?,
        });
    }
    Ok(out)
}
