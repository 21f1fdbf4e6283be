//! The token's objects, built from what lecteurd gives: the two certificates
//! (`cps.certificates`), a private key for each (attributes from the
//! certificate; the key never leaves the card), and the data objects
//! (`cps.data_objects`, raw bytes). Labels are Cryptolib's.

use crate::mechanisms;
use base64::Engine;
use cryptoki_sys::*;
use der::{Decode, Encode};
use rsa::traits::PublicKeyParts;
use serde_json::Value;

pub const LABEL_AUTH_CERT: &str = "Certificat d'Authentification CPS";
pub const LABEL_SIG_CERT: &str = "Certificat de Signature CPS";
pub const LABEL_AUTH_KEY: &str = "CPS_PRIV_AUT";
pub const LABEL_SIG_KEY: &str = "CPS_PRIV_SIG";

/// The CPS3 PKCS#15 application id: Cryptolib's CKA_ID is this ‖ key id.
const AID: [u8; 13] = [
    0xE8, 0x28, 0xBD, 0x08, 0x0F, 0x80, 0x25, 0x00, 0x00, 0x01, 0xFF, 0x00, 0x10,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    Signature,
    Authentication,
}

impl Usage {
    /// Key id: 01/02 on a CPS3 (PrKDF), 10/20 on a CPS4 (Cryptolib's ids).
    fn key_id(self, cps4: bool) -> u8 {
        match (self, cps4) {
            (Usage::Signature, false) => 0x01,
            (Usage::Authentication, false) => 0x02,
            (Usage::Signature, true) => 0x10,
            (Usage::Authentication, true) => 0x20,
        }
    }
}

pub enum Attr {
    Value(Vec<u8>),
    /// Exists, never given out (the private key's secret parts).
    Sensitive,
}

/// What signing with a private key object needs.
#[derive(Debug, Clone, Copy)]
pub struct KeyRef {
    pub usage: Usage,
    /// Signature length.
    pub modulus_len: usize,
}

pub struct Object {
    pub handle: CK_OBJECT_HANDLE,
    /// Visible only after C_Login.
    pub private: bool,
    pub key: Option<KeyRef>,
    attrs: Vec<(CK_ATTRIBUTE_TYPE, Attr)>,
}

impl Object {
    pub fn get(&self, t: CK_ATTRIBUTE_TYPE) -> Option<&Attr> {
        self.attrs.iter().find(|(k, _)| *k == t).map(|(_, v)| v)
    }

    /// Whether every attribute of the template has exactly that value.
    pub fn matches(&self, template: &[(CK_ATTRIBUTE_TYPE, Vec<u8>)]) -> bool {
        template
            .iter()
            .all(|(t, want)| matches!(self.get(*t), Some(Attr::Value(v)) if v == want))
    }
}

#[derive(Default)]
pub struct Objects {
    pub list: Vec<Object>,
    /// The private data objects were read (after C_Login).
    pub private_loaded: bool,
}

fn ulong(v: CK_ULONG) -> Attr {
    Attr::Value(v.to_ne_bytes().to_vec())
}

fn flag(b: bool) -> Attr {
    Attr::Value(vec![if b { CK_TRUE } else { CK_FALSE }])
}

fn bytes(b: impl Into<Vec<u8>>) -> Attr {
    Attr::Value(b.into())
}

fn b64(v: &Value) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(v.as_str()?).ok()
}

/// What the objects need from a certificate; `None` when it does not parse
/// (every byte from the socket is untrusted).
struct CertParts {
    der: Vec<u8>,
    subject: Vec<u8>,
    issuer: Vec<u8>,
    serial: Vec<u8>,
    modulus: Vec<u8>,
    exponent: Vec<u8>,
}

fn cert_parts(der: Vec<u8>) -> Option<CertParts> {
    use rsa::pkcs8::DecodePublicKey;
    let cert = x509_cert::Certificate::from_der(&der).ok()?;
    let tbs = &cert.tbs_certificate;
    let spki = tbs.subject_public_key_info.to_der().ok()?;
    let key = rsa::RsaPublicKey::from_public_key_der(&spki).ok()?;
    Some(CertParts {
        subject: tbs.subject.to_der().ok()?,
        issuer: tbs.issuer.to_der().ok()?,
        serial: tbs.serial_number.to_der().ok()?,
        modulus: key.n().to_bytes_be(),
        exponent: key.e().to_bytes_be(),
        der,
    })
}

impl Objects {
    /// The certificates and their private keys, from `cps.certificates`.
    pub fn from_certificates(certs: &Value, cps4: bool, next: &mut CK_OBJECT_HANDLE) -> Option<Objects> {
        let mut out = Objects::default();
        for c in certs.as_array()? {
            let usage = match c.get("usage").and_then(Value::as_str) {
                Some("signature") => Usage::Signature,
                Some("authentication") => Usage::Authentication,
                _ => continue,
            };
            let p = cert_parts(b64(c.get("der_b64")?)?)?;
            let id = [&AID[..], &[usage.key_id(cps4)]].concat();
            let (cert_label, key_label) = match usage {
                Usage::Signature => (LABEL_SIG_CERT, LABEL_SIG_KEY),
                Usage::Authentication => (LABEL_AUTH_CERT, LABEL_AUTH_KEY),
            };
            *next += 1;
            out.list.push(Object {
                handle: *next,
                private: false,
                key: None,
                attrs: vec![
                    (CKA_CLASS, ulong(CKO_CERTIFICATE)),
                    (CKA_TOKEN, flag(true)),
                    (CKA_PRIVATE, flag(false)),
                    (CKA_MODIFIABLE, flag(false)),
                    (CKA_COPYABLE, flag(false)),
                    (CKA_DESTROYABLE, flag(false)),
                    (CKA_LABEL, bytes(cert_label)),
                    (CKA_CERTIFICATE_TYPE, ulong(CKC_X_509)),
                    (CKA_TRUSTED, flag(false)),
                    // 1 = token user.
                    (CKA_CERTIFICATE_CATEGORY, ulong(1)),
                    (CKA_JAVA_MIDP_SECURITY_DOMAIN, ulong(0)),
                    (CKA_ID, bytes(id.clone())),
                    (CKA_SUBJECT, bytes(p.subject.clone())),
                    (CKA_ISSUER, bytes(p.issuer)),
                    (CKA_SERIAL_NUMBER, bytes(p.serial)),
                    (CKA_VALUE, bytes(p.der)),
                ],
            });
            let allowed: Vec<u8> = mechanisms::list(cps4)
                .iter()
                .flat_map(|m| m.to_ne_bytes())
                .collect();
            *next += 1;
            out.list.push(Object {
                handle: *next,
                // A private object: found after C_Login only, as the
                // specification says and as OpenSSL's pkcs11 engine expects
                // (it logs in when it does not find the key without).
                private: true,
                key: Some(KeyRef {
                    usage,
                    modulus_len: p.modulus.len(),
                }),
                attrs: vec![
                    (CKA_CLASS, ulong(CKO_PRIVATE_KEY)),
                    (CKA_TOKEN, flag(true)),
                    (CKA_PRIVATE, flag(true)),
                    (CKA_MODIFIABLE, flag(false)),
                    (CKA_COPYABLE, flag(false)),
                    (CKA_DESTROYABLE, flag(false)),
                    (CKA_LABEL, bytes(key_label)),
                    (CKA_KEY_TYPE, ulong(CKK_RSA)),
                    (CKA_ID, bytes(id)),
                    (CKA_SUBJECT, bytes(p.subject)),
                    (CKA_LOCAL, flag(false)),
                    (CKA_KEY_GEN_MECHANISM, ulong(CK_UNAVAILABLE_INFORMATION)),
                    (CKA_ALLOWED_MECHANISMS, bytes(allowed)),
                    (CKA_SENSITIVE, flag(true)),
                    (CKA_ALWAYS_SENSITIVE, flag(true)),
                    (CKA_EXTRACTABLE, flag(false)),
                    (CKA_NEVER_EXTRACTABLE, flag(true)),
                    (CKA_SIGN, flag(true)),
                    (CKA_SIGN_RECOVER, flag(false)),
                    (CKA_DECRYPT, flag(false)),
                    (CKA_UNWRAP, flag(false)),
                    (CKA_DERIVE, flag(false)),
                    (CKA_WRAP_WITH_TRUSTED, flag(false)),
                    (CKA_ALWAYS_AUTHENTICATE, flag(false)),
                    (CKA_MODULUS_BITS, ulong((p.modulus.len() * 8) as CK_ULONG)),
                    (CKA_MODULUS, bytes(p.modulus)),
                    (CKA_PUBLIC_EXPONENT, bytes(p.exponent)),
                    (CKA_PRIVATE_EXPONENT, Attr::Sensitive),
                    (CKA_PRIME_1, Attr::Sensitive),
                    (CKA_PRIME_2, Attr::Sensitive),
                    (CKA_EXPONENT_1, Attr::Sensitive),
                    (CKA_EXPONENT_2, Attr::Sensitive),
                    (CKA_COEFFICIENT, Attr::Sensitive),
                    (CKA_VALUE, Attr::Sensitive),
                ],
            });
        }
        // Both keys or nothing: a CPS without them is no token.
        (out.list.len() == 4).then_some(out)
    }

    /// Adds the data objects of `cps.data_objects` not already there.
    pub fn add_data_objects(&mut self, answer: &Value, next: &mut CK_OBJECT_HANDLE) -> Option<()> {
        for o in answer.get("objects")?.as_array()? {
            let label = o.get("label")?.as_str()?;
            let private = o.get("private")?.as_bool()?;
            let value = b64(o.get("value_b64")?)?;
            let known = self.list.iter().any(|x| {
                matches!(x.get(CKA_CLASS), Some(Attr::Value(v)) if *v == CKO_DATA.to_ne_bytes())
                    && matches!(x.get(CKA_LABEL), Some(Attr::Value(v)) if v == label.as_bytes())
            });
            if known {
                continue;
            }
            *next += 1;
            self.list.push(Object {
                handle: *next,
                private,
                key: None,
                attrs: vec![
                    (CKA_CLASS, ulong(CKO_DATA)),
                    (CKA_TOKEN, flag(true)),
                    (CKA_PRIVATE, flag(private)),
                    (CKA_MODIFIABLE, flag(false)),
                    (CKA_COPYABLE, flag(false)),
                    (CKA_DESTROYABLE, flag(false)),
                    (CKA_LABEL, bytes(label)),
                    (CKA_APPLICATION, bytes("")),
                    (CKA_OBJECT_ID, bytes(Vec::new())),
                    (CKA_VALUE, bytes(value)),
                ],
            });
        }
        Some(())
    }

    /// The objects a session sees: the private ones only when logged in.
    pub fn visible(&self, logged_in: bool) -> impl Iterator<Item = &Object> {
        self.list.iter().filter(move |o| logged_in || !o.private)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn untrusted_answers_give_no_token_not_a_panic() {
        let mut next = 0;
        for certs in [
            json!(null),
            json!([{"usage": "signature", "der_b64": "not base64"}]),
            json!([{"usage": "signature", "der_b64": "AAAA"}]),
            json!([]),
        ] {
            assert!(Objects::from_certificates(&certs, false, &mut next).is_none());
        }
        let mut o = Objects::default();
        assert!(o
            .add_data_objects(&json!({"objects": [{"label": 1}]}), &mut next)
            .is_none());
        let ok = json!({"objects": [{"label": "CPS_DATA", "private": false, "value_b64": "AQI="}]});
        assert!(o.add_data_objects(&ok, &mut next).is_some());
        assert!(o.add_data_objects(&ok, &mut next).is_some());
        assert_eq!(o.list.len(), 1, "an object is added once");
        assert!(o.list[0].matches(&[(CKA_VALUE, vec![1, 2])]));
        assert!(!o.list[0].matches(&[(CKA_VALUE, vec![1])]));
    }
}
