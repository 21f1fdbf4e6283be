//! A certificate subject as an RFC 2253 string, the form of the VIHF Issuer:
//! last RDN first, a multi-valued RDN kept whole (`+`), attribute types in the
//! keyword table by name with their string value, any other as
//! `OID=#<hex of the DER value>` (RFC 2253 §2.3–2.4). With RFC 2253's own
//! keywords this gives the official sample's
//! `CN=899900038839+2.5.4.4=#14045452414c+2.5.4.42=#14064144454d4953,OU=…`.

use super::DmpError;
use der::{Decode, Encode, Tag, Tagged};
use std::collections::BTreeMap;
use std::fmt::Write;
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::Certificate;

/// The subject of a DER certificate, in RFC 2253 form.
pub fn subject_rfc2253(cert_der: &[u8], keywords: &BTreeMap<String, String>) -> Result<String, DmpError> {
    let cert = Certificate::from_der(cert_der).map_err(|e| DmpError::Certificate(e.to_string()))?;
    let mut out = String::new();
    for (i, rdn) in cert.tbs_certificate.subject.0.iter().rev().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for (j, atv) in rdn.0.iter().enumerate() {
            if j > 0 {
                out.push('+');
            }
            atv_rfc2253(atv, keywords, &mut out)?;
        }
    }
    Ok(out)
}

/// The text of a directory string, when the value is one.
fn string_value(atv: &AttributeTypeAndValue) -> Option<String> {
    let bytes = atv.value.value();
    match atv.value.tag() {
        Tag::PrintableString | Tag::Utf8String | Tag::Ia5String => {
            std::str::from_utf8(bytes).ok().map(String::from)
        }
        // As Java's X500Principal reads it: one byte, one Latin-1 character.
        Tag::TeletexString => Some(bytes.iter().map(|b| char::from(*b)).collect()),
        Tag::BmpString => {
            let units: Option<Vec<u16>> = bytes
                .chunks(2)
                .map(|c| Some(u16::from_be_bytes([*c.first()?, *c.get(1)?])))
                .collect();
            String::from_utf16(&units?).ok()
        }
        _ => None,
    }
}

fn atv_rfc2253(
    atv: &AttributeTypeAndValue,
    keywords: &BTreeMap<String, String>,
    out: &mut String,
) -> Result<(), DmpError> {
    let oid = atv.oid.to_string();
    match (keywords.get(&oid), string_value(atv)) {
        (Some(keyword), Some(value)) => {
            out.push_str(keyword);
            out.push('=');
            escape_value(&value, out);
        }
        _ => {
            let der = atv
                .value
                .to_der()
                .map_err(|e| DmpError::Certificate(e.to_string()))?;
            out.push_str(&oid);
            out.push_str("=#");
            for b in der {
                let _ = write!(out, "{b:02x}");
            }
        }
    }
    Ok(())
}

/// RFC 2253 §2.4: special characters behind a backslash, a leading `#` or
/// space and a trailing space too; control characters as `\XX`.
fn escape_value(value: &str, out: &mut String) {
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        match c {
            ',' | '+' | '"' | '\\' | '<' | '>' | ';' => {
                out.push('\\');
                out.push(c);
            }
            '#' if i == 0 => out.push_str("\\#"),
            ' ' if i == 0 || i == last => out.push_str("\\ "),
            c if c.is_control() => {
                let mut buf = [0; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    let _ = write!(out, "\\{b:02X}");
                }
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::profile::Profiles;

    #[test]
    fn the_ca_subject() {
        let der = include_bytes!("../../firmware-sim/fixtures/ca.cert.der");
        let k = &Profiles::builtin().unwrap().vihf.issuer_keywords;
        assert_eq!(
            subject_rfc2253(der, k).unwrap(),
            "CN=lecteur-sim test CA,O=lecteur-sim,C=FR"
        );
        assert!(matches!(
            subject_rfc2253(&der[..100], k),
            Err(DmpError::Certificate(_))
        ));
    }

    #[test]
    fn values_are_escaped() {
        let mut s = String::new();
        escape_value("#a, b+c\"d<e>f;g\\ ", &mut s);
        assert_eq!(s, "\\#a\\, b\\+c\\\"d\\<e\\>f\\;g\\\\\\ ");
        let mut s = String::new();
        escape_value(" Médecin\n", &mut s);
        assert_eq!(s, "\\ Médecin\\0A");
    }
}
