//! What lecteur reads out of a CPS certificate: the subject (whose last RDN is
//! multi-valued, `CN=<national id> + SN=<surname> + GN=<given name>`), the
//! validity end and the public key.

use super::CardError;
use der::{Decode, Encode};
use rsa::pkcs8::DecodePublicKey;
use x509_cert::Certificate;

const OID_CN: &str = "2.5.4.3";
const OID_SURNAME: &str = "2.5.4.4";
const OID_GIVEN_NAME: &str = "2.5.4.42";

#[derive(Debug, Clone)]
pub struct CertInfo {
    /// RFC 4514 string of the subject.
    pub subject: String,
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    pub not_after: String,
    pub national_id: Option<String>,
    pub surname: Option<String>,
    pub given_name: Option<String>,
    pub public_key: rsa::RsaPublicKey,
}

/// Parses a DER certificate read from a card (untrusted bytes).
pub fn parse(der_bytes: &[u8]) -> Result<CertInfo, CardError> {
    let bad = |e: &dyn std::fmt::Display| CardError::Malformed(format!("certificate: {e}"));
    let cert = Certificate::from_der(der_bytes).map_err(|e| bad(&e))?;
    let tbs = &cert.tbs_certificate;
    let mut info = (None, None, None);
    for rdn in tbs.subject.0.iter() {
        for atv in rdn.0.iter() {
            let text = String::from_utf8_lossy(atv.value.value()).into_owned();
            match atv.oid.to_string().as_str() {
                OID_CN => info.0 = Some(text),
                OID_SURNAME => info.1 = Some(text),
                OID_GIVEN_NAME => info.2 = Some(text),
                _ => {}
            }
        }
    }
    let spki = tbs.subject_public_key_info.to_der().map_err(|e| bad(&e))?;
    let public_key = rsa::RsaPublicKey::from_public_key_der(&spki).map_err(|e| bad(&e))?;
    let t = tbs.validity.not_after.to_date_time();
    Ok(CertInfo {
        subject: tbs.subject.to_string(),
        not_after: format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minutes(),
            t.seconds()
        ),
        national_id: info.0,
        surname: info.1,
        given_name: info.2,
        public_key,
    })
}
