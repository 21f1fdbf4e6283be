//! A certificate subject as an RFC 2253 string, the form of the VIHF Issuer:
//! last RDN first, a multi-valued RDN kept whole (`+`), attribute types in the
//! keyword table by name with their string value, any other as
//! `OID=#<hex of the DER value>` (RFC 2253 §2.3–2.4). With RFC 2253's own
//! keywords this gives the official sample's
//! `CN=899900038839+2.5.4.4=#14045452414c+2.5.4.42=#14064144454d4953,OU=…`.
//! The values of a multi-valued RDN keep the certificate's order (the sample's
//! CN, SN, GN), which is not DER's sorted order: the subject is read from the
//! raw bytes, since `x509-cert` sorts a SET OF when it decodes one.

use super::DmpError;
use der::{AnyRef, Decode, Encode, Reader, SliceReader, Tag, Tagged};
use std::collections::BTreeMap;
use std::fmt::Write;
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::Certificate;

/// The subject's RDNs, each as encoded in the certificate.
fn subject_rdns(cert_der: &[u8]) -> Result<Vec<Vec<AttributeTypeAndValue>>, der::Error> {
    let cert = AnyRef::from_der(cert_der)?;
    let tbs = SliceReader::new(cert.value())?.decode::<AnyRef<'_>>()?;
    let mut r = SliceReader::new(tbs.value())?;
    let mut fields = Vec::new();
    while !r.is_finished() && fields.len() < 7 {
        fields.push(r.decode::<AnyRef<'_>>()?);
    }
    // [0] version, serial, signature algorithm, issuer, validity, subject.
    let skip = usize::from(fields.first().is_some_and(|f| f.tag().is_context_specific()));
    let subject = fields
        .get(skip + 4)
        .filter(|s| s.tag() == Tag::Sequence)
        .ok_or_else(|| der::Error::from(der::ErrorKind::Failed))?;
    let mut rdns = Vec::new();
    let mut r = SliceReader::new(subject.value())?;
    while !r.is_finished() {
        let set = r.decode::<AnyRef<'_>>()?;
        set.tag().assert_eq(Tag::Set)?;
        let mut s = SliceReader::new(set.value())?;
        let mut atvs = Vec::new();
        while !s.is_finished() {
            atvs.push(s.decode::<AttributeTypeAndValue>()?);
        }
        rdns.push(atvs);
    }
    Ok(rdns)
}

/// The subject of a DER certificate, in RFC 2253 form.
pub(crate) fn subject_rfc2253(
    cert_der: &[u8],
    keywords: &BTreeMap<String, String>,
) -> Result<String, DmpError> {
    let bad = |e: der::Error| DmpError::Certificate(e.to_string());
    Certificate::from_der(cert_der).map_err(bad)?;
    let rdns = subject_rdns(cert_der).map_err(bad)?;
    let mut out = String::new();
    for (i, rdn) in rdns.iter().rev().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for (j, atv) in rdn.iter().enumerate() {
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

    /// A card whose multi-valued RDN is not in DER order (CN first, as the
    /// official sample's): the order is kept.
    #[test]
    fn the_certificate_order_is_kept() {
        use lecteur_sim::pki::{issue_cps_certificates, CpsHolder, Date};
        let holder = CpsHolder {
            card_serial: "2500577253".into(),
            national_id: "899900038839".into(),
            surname: "TRAL".into(),
            given_name: "ADEMIS".into(),
            organisation: "TEST".into(),
            profession_label: "Médecin".into(),
            profession_code: 10,
            specialty: "SM26".into(),
            card_type: 0,
            not_before: Date::parse("2024-01-01").unwrap(),
            not_after: Date::parse("2034-01-01").unwrap(),
        };
        let mut der = issue_cps_certificates(&holder).unwrap().signature;
        let k = &Profiles::builtin().unwrap().vihf.issuer_keywords;
        let sorted =
            "2.5.4.4=#14045452414c+2.5.4.42=#14064144454d4953+CN=899900038839,OU=Médecin,O=TEST,C=FR";
        assert_eq!(subject_rfc2253(&der, k).unwrap(), sorted);
        // Move the CN (30 11 06 03 55 04 03 13 0C …, 19 bytes) to the front of
        // its SET: no length changes.
        let cn = [0x30, 0x13, 0x06, 0x03, 0x55, 0x04, 0x03, 0x13, 0x0C];
        let at = der.windows(cn.len()).position(|w| w == cn).unwrap();
        let sn = [0x30, 0x0B, 0x06, 0x03, 0x55, 0x04, 0x04];
        let set = der.windows(sn.len()).position(|w| w == sn).unwrap();
        der[set..at + 21].rotate_right(21);
        assert_eq!(
            subject_rfc2253(&der, k).unwrap(),
            "CN=899900038839+2.5.4.4=#14045452414c+2.5.4.42=#14064144454d4953,OU=Médecin,O=TEST,C=FR"
        );
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
