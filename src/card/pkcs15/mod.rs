//! PKCS#15 discovery: EF.DIR → application DF → ODF → PrKDF, CDF, AODF,
//! DODF. The CPS code then finds its objects by their (public) labels.

pub mod parse;

use super::files::Reader;
use super::{files, CardError};
use crate::apdu::Exchange;
use serde::{Serialize, Serializer};

fn hex_upper<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode_upper(v))
}

fn hex_opt<S: Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.serialize_str(&hex::encode_upper(v)),
        None => s.serialize_none(),
    }
}

/// Where an object's value is: an absolute path, optionally a slice of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectPath {
    /// The file's absolute path from `3F00` (hex in JSON).
    #[serde(serialize_with = "hex_upper")]
    pub path: Vec<u8>,
    /// Where the value starts in the file, in bytes (absent: 0).
    pub offset: Option<usize>,
    /// The value's length, in bytes (absent: to the end of the file).
    pub length: Option<usize>,
}

/// A certificate listed in a CDF (X.509 only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertificateObject {
    /// Its label (CommonObjectAttributes).
    pub label: String,
    /// Its iD, shared with the matching key (hex in JSON).
    #[serde(serialize_with = "hex_upper")]
    pub id: Vec<u8>,
    /// Whether it is a CA certificate.
    pub authority: bool,
    /// Where its DER value is.
    pub path: ObjectPath,
}

/// An RSA private key listed in a PrKDF.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyObject {
    /// Its label.
    pub label: String,
    /// Its iD, shared with the matching certificate (hex in JSON).
    #[serde(serialize_with = "hex_upper")]
    pub id: Vec<u8>,
    /// The authId of the PIN that guards it (hex in JSON).
    #[serde(serialize_with = "hex_opt")]
    pub auth_id: Option<Vec<u8>>,
    /// Its keyReference, used in MSE.
    pub key_ref: Option<u8>,
    /// Its modulus size, in bits.
    pub modulus_bits: Option<usize>,
    /// KeyUsageFlags names set (`sign`, `nonRepudiation`, …).
    pub usage: Vec<&'static str>,
}

/// A PIN listed in an AODF.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PinObject {
    /// Its label.
    pub label: String,
    /// Its authId, which keys and data objects name (hex in JSON).
    #[serde(serialize_with = "hex_opt")]
    pub auth_id: Option<Vec<u8>>,
    /// Its pinReference (VERIFY P2).
    pub reference: Option<u8>,
    /// PinType: 0 bcd, 1 ascii-numeric, 2 utf8, …
    pub pin_type: Option<usize>,
    /// minLength, in characters.
    pub min: usize,
    /// storedLength, in bytes.
    pub stored: usize,
    /// maxLength, in characters.
    pub max: Option<usize>,
    /// padChar.
    pub pad: Option<u8>,
    /// PinFlags `local`: the PIN belongs to the application DF, not the MF.
    pub local: bool,
    /// PinFlags `initialized`.
    pub initialized: bool,
    /// PinFlags `needs-padding`: sent padded to `stored` bytes with `pad`.
    pub needs_padding: bool,
    /// A PUK rather than a user PIN.
    pub unblocking: bool,
}

/// An opaque data object listed in a DODF.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataObject {
    /// Its label.
    pub label: String,
    /// Its applicationName.
    pub application: Option<String>,
    /// Needs the PIN (CommonObjectFlags `private`).
    pub private: bool,
    /// The authId of the PIN that guards it (hex in JSON).
    #[serde(serialize_with = "hex_opt")]
    pub auth_id: Option<Vec<u8>>,
    /// Where its value is.
    pub path: ObjectPath,
}

/// What a card's PKCS#15 structure lists.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Pkcs15 {
    /// The application DF's absolute path (hex in JSON).
    #[serde(serialize_with = "hex_upper")]
    pub application_path: Vec<u8>,
    /// Certificates, from the CDFs.
    pub certificates: Vec<CertificateObject>,
    /// Private keys, from the PrKDFs.
    pub keys: Vec<KeyObject>,
    /// PINs, from the AODFs.
    pub pins: Vec<PinObject>,
    /// Data objects, from the DODFs.
    pub data_objects: Vec<DataObject>,
}

impl Pkcs15 {
    /// The first certificate with this label.
    pub fn certificate(&self, label: &str) -> Option<&CertificateObject> {
        self.certificates.iter().find(|c| c.label == label)
    }

    /// The first private key with this label.
    pub fn key(&self, label: &str) -> Option<&KeyObject> {
        self.keys.iter().find(|k| k.label == label)
    }

    /// The first data object with this label.
    pub fn data_object(&self, label: &str) -> Option<&DataObject> {
        self.data_objects.iter().find(|d| d.label == label)
    }

    /// The user PIN: the first PIN that is not an unblocking code.
    pub fn user_pin(&self) -> Option<&PinObject> {
        self.pins.iter().find(|p| !p.unblocking)
    }
}

/// Where discovery starts: EF.DIR's path, the application's AID (to pick its
/// EF.DIR entry), its DF when EF.DIR has none, and the ODF's file id.
pub struct Start<'a> {
    /// EF.DIR's absolute path.
    pub dir: &'a [u8],
    /// The AID of the application's EF.DIR entry.
    pub aid: &'a [u8],
    /// The application DF used when EF.DIR gives no path.
    pub default_app: &'a [u8],
    /// The ODF's file id, in the application DF.
    pub odf: [u8; 2],
}

/// Walks the PKCS#15 structure. Status errors and malformed files are errors
/// (the caller falls back to pinned file ids); an EF.DIR that cannot be read
/// only means the default application DF.
pub fn discover(ex: &mut dyn Exchange, reader: &Reader, start: &Start<'_>) -> Result<Pkcs15, CardError> {
    let app = match reader.read(ex, start.dir, "READ EF.DIR") {
        Ok(data) => parse::dir(&data)?
            .into_iter()
            .find(|e| e.aid == start.aid)
            .and_then(|e| e.path),
        Err(CardError::Status { .. }) => None,
        Err(e) => return Err(e),
    }
    .unwrap_or_else(|| start.default_app.to_vec());
    let odf_path = [app.as_slice(), &start.odf].concat();
    let odf = parse::odf(&reader.read(ex, &odf_path, "READ ODF")?, &app)?;
    let mut out = Pkcs15 {
        application_path: app.clone(),
        ..Pkcs15::default()
    };
    for p in &odf.private_keys {
        out.keys
            .extend(parse::prkdf(&read_object(ex, reader, p, "READ PrKDF")?)?);
    }
    for p in &odf.certificates {
        out.certificates
            .extend(parse::cdf(&read_object(ex, reader, p, "READ CDF")?, &app)?);
    }
    for p in &odf.auth_objects {
        out.pins
            .extend(parse::aodf(&read_object(ex, reader, p, "READ AODF")?)?);
    }
    for p in &odf.data_objects {
        out.data_objects
            .extend(parse::dodf(&read_object(ex, reader, p, "READ DODF")?, &app)?);
    }
    Ok(out)
}

/// Reads the value an [`ObjectPath`] names (the whole file, or its slice).
pub fn read_object(
    ex: &mut dyn Exchange,
    reader: &Reader,
    p: &ObjectPath,
    what: &'static str,
) -> Result<Vec<u8>, CardError> {
    let data = reader.read(ex, &p.path, what)?;
    slice(data, p, what)
}

fn slice(data: Vec<u8>, p: &ObjectPath, what: &'static str) -> Result<Vec<u8>, CardError> {
    if p.offset.is_none() && p.length.is_none() {
        return Ok(data);
    }
    let start = p.offset.unwrap_or(0);
    let end = match p.length {
        Some(l) => start.checked_add(l),
        None => Some(data.len()),
    };
    end.and_then(|end| data.get(start..end))
        .map(<[u8]>::to_vec)
        .ok_or_else(|| CardError::Malformed(format!("{what}: object beyond its file")))
}

/// Like [`read_object`], with an absent file as `None`.
pub fn read_object_optional(
    ex: &mut dyn Exchange,
    reader: &Reader,
    p: &ObjectPath,
    what: &'static str,
) -> Result<Option<Vec<u8>>, CardError> {
    match read_object(ex, reader, p, what) {
        Ok(d) => Ok(Some(d)),
        Err(e) if files::is_absent(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
pub(crate) mod tests;
