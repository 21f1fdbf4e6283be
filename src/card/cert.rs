//! What lecteur reads out of a CPS certificate: the subject (whose last RDN is
//! multi-valued, `CN=<national id> + SN=<surname> + GN=<given name>`), issuer,
//! validity, the public key and the ANS extensions (arc 1.2.250.1.71), which
//! back up the data objects when a card's tag map is unknown.

use super::{tlv, CardError};
use der::{Decode, Encode};
use rsa::pkcs8::DecodePublicKey;
use rsa::traits::PublicKeyParts;
use std::time::{Duration, SystemTime};
use x509_cert::Certificate;

const OID_CN: &str = "2.5.4.3";
const OID_SURNAME: &str = "2.5.4.4";
const OID_GIVEN_NAME: &str = "2.5.4.42";
/// INTEGER card type (G02).
const OID_CARD_TYPE: &str = "1.2.250.1.71.1.2.2";
/// INTEGER profession (G15).
const OID_PROFESSION: &str = "1.2.250.1.71.1.2.7";
/// SEQUENCE { UTF8String specialty (R01) }.
const OID_SPECIALTY: &str = "1.2.250.1.71.4.2.5";

/// A certificate's fields lecteur uses.
#[derive(Debug, Clone)]
pub struct CertInfo {
    /// RFC 4514 string of the subject.
    pub subject: String,
    /// RFC 4514 string of the issuer.
    pub issuer: String,
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    pub not_before: String,
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    pub not_after: String,
    /// Seconds since the epoch of `not_after`.
    pub not_after_unix: u64,
    /// The subject's CN: the holder's national id.
    pub national_id: Option<String>,
    /// The subject's SN.
    pub surname: Option<String>,
    /// The subject's GN.
    pub given_name: Option<String>,
    /// The RSA public key.
    pub public_key: rsa::RsaPublicKey,
    /// Its modulus size in bits.
    pub key_bits: usize,
    /// ANS extensions, when present and well formed: the card type (G02).
    pub card_type: Option<u32>,
    /// The profession (G15), from the ANS extension.
    pub profession: Option<u32>,
    /// The specialty (R01), from the ANS extension.
    pub specialty: Option<String>,
}

impl CertInfo {
    /// Whether the certificate has expired at `now`.
    pub fn expired_at(&self, now: SystemTime) -> bool {
        now > SystemTime::UNIX_EPOCH + Duration::from_secs(self.not_after_unix)
    }
}

fn timestamp(t: &x509_cert::time::Time) -> String {
    let t = t.to_date_time();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minutes(),
        t.seconds()
    )
}

/// A DER INTEGER extension value, when it fits 32 bits unsigned.
fn ext_int(der: &[u8]) -> Option<u32> {
    let top = tlv::parse_der(der)?;
    let v = match top.as_slice() {
        [t] if t.is(&[0x02]) => t.value,
        _ => return None,
    };
    // Empty or negative: not a code.
    if v.first().is_none_or(|b| b & 0x80 != 0) {
        return None;
    }
    let v = if v.len() > 1 && v[0] == 0 { &v[1..] } else { v };
    (v.len() <= 4).then(|| v.iter().fold(0u32, |a, b| (a << 8) | u32::from(*b)))
}

/// The first string inside a DER value (`SEQUENCE { UTF8String }` or a bare string).
fn ext_string(der: &[u8]) -> Option<String> {
    let mut list = tlv::parse_der(der)?;
    for _ in 0..4 {
        match list.first() {
            Some(t) if matches!(t.tag, [0x0C | 0x13 | 0x16]) => {
                return std::str::from_utf8(t.value).ok().map(str::to_string)
            }
            Some(t) if t.is(&[0x30]) => list = t.children()?,
            _ => return None,
        }
    }
    None
}

/// Parses a DER certificate read from a card (untrusted bytes).
pub fn parse(der_bytes: &[u8]) -> Result<CertInfo, CardError> {
    let bad = |e: &dyn std::fmt::Display| CardError::Malformed(format!("certificate: {e}"));
    let cert = Certificate::from_der(der_bytes).map_err(|e| bad(&e))?;
    let tbs = &cert.tbs_certificate;
    let mut names = (None, None, None);
    for rdn in tbs.subject.0.iter() {
        for atv in rdn.0.iter() {
            let text = String::from_utf8_lossy(atv.value.value()).into_owned();
            match atv.oid.to_string().as_str() {
                OID_CN => names.0 = Some(text),
                OID_SURNAME => names.1 = Some(text),
                OID_GIVEN_NAME => names.2 = Some(text),
                _ => {}
            }
        }
    }
    let (mut card_type, mut profession, mut specialty) = (None, None, None);
    for ext in tbs.extensions.iter().flatten() {
        let value = ext.extn_value.as_bytes();
        match ext.extn_id.to_string().as_str() {
            OID_CARD_TYPE => card_type = ext_int(value),
            OID_PROFESSION => profession = ext_int(value),
            OID_SPECIALTY => specialty = ext_string(value),
            _ => {}
        }
    }
    let spki = tbs.subject_public_key_info.to_der().map_err(|e| bad(&e))?;
    let public_key = rsa::RsaPublicKey::from_public_key_der(&spki).map_err(|e| bad(&e))?;
    Ok(CertInfo {
        subject: tbs.subject.to_string(),
        issuer: tbs.issuer.to_string(),
        not_before: timestamp(&tbs.validity.not_before),
        not_after: timestamp(&tbs.validity.not_after),
        not_after_unix: tbs.validity.not_after.to_unix_duration().as_secs(),
        national_id: names.0,
        surname: names.1,
        given_name: names.2,
        key_bits: public_key.n().bits(),
        public_key,
        card_type,
        profession,
        specialty,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_values() {
        assert_eq!(ext_int(&[0x02, 0x01, 0x0A]), Some(10));
        assert_eq!(ext_int(&[0x02, 0x02, 0x00, 0x80]), Some(128));
        assert_eq!(ext_int(&[0x02, 0x01, 0x80]), None);
        assert_eq!(ext_int(&[0x02, 0x00]), None);
        assert_eq!(ext_int(&[0x04, 0x01, 0x0A]), None);
        assert_eq!(
            ext_string(&[0x30, 0x06, 0x0C, 0x04, b'S', b'M', b'2', b'6']).as_deref(),
            Some("SM26")
        );
        assert_eq!(ext_string(&[0x0C, 0x01, 0xFF]), None);
        assert_eq!(ext_string(&[0x30, 0x02, 0x02, 0x00]), None);
    }

    #[test]
    fn garbage_is_malformed() {
        assert!(matches!(
            parse(&[0x30, 0x03, 0x02, 0x01, 0x00]),
            Err(CardError::Malformed(_))
        ));
    }
}
