//! The token's objects, built from what lecteurd gives: the two certificates
//! (`cps.certificates`), a private key for each (attributes from the
//! certificate; the key never leaves the card), a public key for each (from
//! the certificate, for C_Verify in software), and the data objects
//! (`cps.data_objects`, raw bytes, whatever labels lecteurd lists). Labels
//! are Cryptolib's.

use crate::mechanisms;
use cryptoki_sys::*;
use der::{Decode, Encode};
use lecteur_proto::cps::{self, Certificate, DataObjects};
use rsa::traits::PublicKeyParts;

pub(crate) const LABEL_AUTH_CERT: &str = "Certificat d'Authentification CPS";
pub(crate) const LABEL_SIG_CERT: &str = "Certificat de Signature CPS";
pub(crate) const LABEL_AUTH_KEY: &str = "CPS_PRIV_AUT";
pub(crate) const LABEL_SIG_KEY: &str = "CPS_PRIV_SIG";
/// Cryptolib labels a public key taken from a certificate with this prefix
/// and the certificate's label (its `framework-pkcs15.c`, public key
/// CKA_LABEL when no PuKDF entry names it).
pub(crate) const PUBLIC_KEY_PREFIX: &str = "Cle publique - ";

/// The CPS3 PKCS#15 application id: Cryptolib's CKA_ID is this ‖ key id.
const AID: [u8; 13] = [
    0xE8, 0x28, 0xBD, 0x08, 0x0F, 0x80, 0x25, 0x00, 0x00, 0x01, 0xFF, 0x00, 0x10,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Usage {
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

pub(crate) enum Attr {
    Value(Vec<u8>),
    /// Exists, never given out (the private key's secret parts).
    Sensitive,
}

/// What signing with a private key object needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeyRef {
    pub usage: Usage,
    /// Signature length.
    pub modulus_len: usize,
}

pub(crate) struct Object {
    pub handle: CK_OBJECT_HANDLE,
    /// Visible only after C_Login.
    pub private: bool,
    /// A private key: what signing with it needs.
    pub key: Option<KeyRef>,
    /// A public key: what verifying with it needs.
    pub public: Option<rsa::RsaPublicKey>,
    attrs: Vec<(CK_ATTRIBUTE_TYPE, Attr)>,
}

impl Object {
    pub(crate) fn get(&self, t: CK_ATTRIBUTE_TYPE) -> Option<&Attr> {
        self.attrs.iter().find(|(k, _)| *k == t).map(|(_, v)| v)
    }

    /// Whether every attribute of the template has exactly that value.
    pub(crate) fn matches(&self, template: &[(CK_ATTRIBUTE_TYPE, Vec<u8>)]) -> bool {
        template
            .iter()
            .all(|(t, want)| matches!(self.get(*t), Some(Attr::Value(v)) if v == want))
    }
}

#[derive(Default)]
pub(crate) struct Objects {
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

/// What the objects need from a certificate; `None` when it does not parse
/// (every byte from the socket is untrusted).
struct CertParts {
    der: Vec<u8>,
    subject: Vec<u8>,
    issuer: Vec<u8>,
    serial: Vec<u8>,
    /// `None` when the certificate's key is not RSA.
    rsa: Option<RsaParts>,
}

/// An RSA public key and its encodings.
struct RsaParts {
    key: rsa::RsaPublicKey,
    /// The SubjectPublicKeyInfo (CKA_PUBLIC_KEY_INFO).
    spki: Vec<u8>,
}

impl RsaParts {
    /// CKA_MODULUS, CKA_MODULUS_BITS, CKA_PUBLIC_EXPONENT, CKA_PUBLIC_KEY_INFO.
    fn attrs(&self) -> Vec<(CK_ATTRIBUTE_TYPE, Attr)> {
        vec![
            (CKA_MODULUS, bytes(self.key.n().to_bytes_be())),
            (CKA_MODULUS_BITS, ulong(self.key.n().bits() as CK_ULONG)),
            (CKA_PUBLIC_EXPONENT, bytes(self.key.e().to_bytes_be())),
            (CKA_PUBLIC_KEY_INFO, bytes(self.spki.clone())),
        ]
    }
}

fn cert_parts(der: Vec<u8>) -> Option<CertParts> {
    use rsa::pkcs8::DecodePublicKey;
    let cert = x509_cert::Certificate::from_der(&der).ok()?;
    let tbs = &cert.tbs_certificate;
    let spki = tbs.subject_public_key_info.to_der().ok()?;
    let rsa = match rsa::RsaPublicKey::from_public_key_der(&spki) {
        Ok(key) => Some(RsaParts { key, spki }),
        Err(e) => {
            crate::log::warn(&format!(
                "the certificate's key ({}) is not RSA ({e}): no public key object, no modulus on its private key",
                tbs.subject_public_key_info.algorithm.oid
            ));
            None
        }
    };
    Some(CertParts {
        subject: tbs.subject.to_der().ok()?,
        issuer: tbs.issuer.to_der().ok()?,
        serial: tbs.serial_number.to_der().ok()?,
        rsa,
        der,
    })
}

impl Objects {
    /// The certificates and their private keys, from `cps.certificates`.
    pub(crate) fn from_certificates(
        certs: &[Certificate],
        cps4: bool,
        next: &mut CK_OBJECT_HANDLE,
    ) -> Option<Objects> {
        let mut out = Objects::default();
        let allowed: Vec<u8> = mechanisms::list(cps4)
            .iter()
            .flat_map(|m| m.to_ne_bytes())
            .collect();
        // The authentication key first: it signs any DigestInfo (a TLS
        // client's), so a generic tool that takes the token's first key (as
        // OpenSC's `pkcs11-tool --test` does) gets the one that can.
        let usage_of = |c: &Certificate| match c.usage {
            cps::KeyUsage::Signature => Usage::Signature,
            cps::KeyUsage::Authentication => Usage::Authentication,
        };
        let mut certs: Vec<(Usage, &Certificate)> = certs.iter().map(|c| (usage_of(c), c)).collect();
        certs.sort_by_key(|(u, _)| *u != Usage::Authentication);
        for (usage, c) in certs {
            let p = cert_parts(c.der.clone())?;
            let id = [&AID[..], &[usage.key_id(cps4)]].concat();
            let (cert_label, key_label) = match usage {
                Usage::Signature => (LABEL_SIG_CERT, LABEL_SIG_KEY),
                Usage::Authentication => (LABEL_AUTH_CERT, LABEL_AUTH_KEY),
            };
            let rsa_attrs = p.rsa.as_ref().map(RsaParts::attrs).unwrap_or_default();
            // The card's keys are RSA-2048: the signature's length even when
            // the certificate does not say.
            let modulus_len = p
                .rsa
                .as_ref()
                .map_or(mechanisms::KEY_BITS as usize / 8, |r| r.key.size());
            out.push(
                next,
                false,
                None,
                None,
                vec![
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
            );
            // The attributes every key object of this token has.
            let key_common = |class: CK_OBJECT_CLASS, private: bool, label: &str| {
                vec![
                    (CKA_CLASS, ulong(class)),
                    (CKA_TOKEN, flag(true)),
                    (CKA_PRIVATE, flag(private)),
                    (CKA_MODIFIABLE, flag(false)),
                    (CKA_COPYABLE, flag(false)),
                    (CKA_DESTROYABLE, flag(false)),
                    (CKA_LABEL, bytes(label)),
                    (CKA_KEY_TYPE, ulong(CKK_RSA)),
                    (CKA_ID, bytes(id.clone())),
                    (CKA_SUBJECT, bytes(p.subject.clone())),
                    (CKA_LOCAL, flag(false)),
                    (CKA_KEY_GEN_MECHANISM, ulong(CK_UNAVAILABLE_INFORMATION)),
                    (CKA_ALLOWED_MECHANISMS, bytes(allowed.clone())),
                    (CKA_DERIVE, flag(false)),
                ]
            };
            let mut attrs = key_common(CKO_PRIVATE_KEY, true, key_label);
            attrs.extend([
                (CKA_SENSITIVE, flag(true)),
                (CKA_ALWAYS_SENSITIVE, flag(true)),
                (CKA_EXTRACTABLE, flag(false)),
                (CKA_NEVER_EXTRACTABLE, flag(true)),
                (CKA_SIGN, flag(true)),
                (CKA_SIGN_RECOVER, flag(false)),
                (CKA_DECRYPT, flag(false)),
                (CKA_UNWRAP, flag(false)),
                (CKA_WRAP_WITH_TRUSTED, flag(false)),
                (CKA_ALWAYS_AUTHENTICATE, flag(false)),
                (CKA_PRIVATE_EXPONENT, Attr::Sensitive),
                (CKA_PRIME_1, Attr::Sensitive),
                (CKA_PRIME_2, Attr::Sensitive),
                (CKA_EXPONENT_1, Attr::Sensitive),
                (CKA_EXPONENT_2, Attr::Sensitive),
                (CKA_COEFFICIENT, Attr::Sensitive),
                (CKA_VALUE, Attr::Sensitive),
            ]);
            attrs.extend(p.rsa.as_ref().map(RsaParts::attrs).unwrap_or_default());
            // A private object: found after C_Login only, as the
            // specification says and as OpenSSL's pkcs11 engine expects (it
            // logs in when it does not find the key without).
            out.push(next, true, Some(KeyRef { usage, modulus_len }), None, attrs);
            // The public key: public, verifies only (in the module).
            if let Some(r) = p.rsa {
                let label = format!("{PUBLIC_KEY_PREFIX}{cert_label}");
                let mut attrs = key_common(CKO_PUBLIC_KEY, false, &label);
                attrs.extend([
                    (CKA_VERIFY, flag(true)),
                    (CKA_VERIFY_RECOVER, flag(false)),
                    (CKA_ENCRYPT, flag(false)),
                    (CKA_WRAP, flag(false)),
                    (CKA_TRUSTED, flag(false)),
                ]);
                attrs.extend(rsa_attrs);
                out.push(next, false, None, Some(r.key), attrs);
            }
        }
        // Both keys, once each, or nothing: a CPS without them is no token.
        let count = |u| {
            out.list
                .iter()
                .filter(|o| o.key.is_some_and(|k| k.usage == u))
                .count()
        };
        (count(Usage::Signature) == 1 && count(Usage::Authentication) == 1).then_some(out)
    }

    fn push(
        &mut self,
        next: &mut CK_OBJECT_HANDLE,
        private: bool,
        key: Option<KeyRef>,
        public: Option<rsa::RsaPublicKey>,
        attrs: Vec<(CK_ATTRIBUTE_TYPE, Attr)>,
    ) {
        *next += 1;
        self.list.push(Object {
            handle: *next,
            private,
            key,
            public,
            attrs,
        });
    }

    /// Adds the data objects of `cps.data_objects` not already there.
    pub(crate) fn add_data_objects(&mut self, answer: &DataObjects, next: &mut CK_OBJECT_HANDLE) {
        for o in &answer.objects {
            let (label, private, value) = (o.label.as_str(), o.private, o.value.clone());
            let known = self.list.iter().any(|x| {
                matches!(x.get(CKA_CLASS), Some(Attr::Value(v)) if *v == CKO_DATA.to_ne_bytes())
                    && matches!(x.get(CKA_LABEL), Some(Attr::Value(v)) if v == label.as_bytes())
            });
            if known {
                continue;
            }
            self.push(
                next,
                private,
                None,
                None,
                vec![
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
            );
        }
    }

    /// The objects a session sees: the private ones only when logged in.
    pub(crate) fn visible(&self, logged_in: bool) -> impl Iterator<Item = &Object> {
        self.list.iter().filter(move |o| logged_in || !o.private)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    use lecteur_proto::cps::DataObject;

    fn cert(usage: cps::KeyUsage, der: Vec<u8>) -> Certificate {
        Certificate {
            usage,
            subject: String::new(),
            issuer: String::new(),
            not_before: String::new(),
            not_after: String::new(),
            expired: false,
            key_bits: 2048,
            der,
        }
    }

    fn ec_cert() -> Vec<u8> {
        STANDARD.decode(EC_CERT_B64).unwrap()
    }

    fn data(objects: &[(&str, bool, &[u8])]) -> DataObjects {
        DataObjects {
            objects: objects
                .iter()
                .map(|(label, private, value)| DataObject {
                    label: label.to_string(),
                    private: *private,
                    value: value.to_vec(),
                })
                .collect(),
        }
    }

    #[test]
    fn untrusted_answers_give_no_token_not_a_panic() {
        let mut next = 0;
        let sig = cps::KeyUsage::Signature;
        for certs in [
            vec![cert(sig, vec![0; 3])],
            vec![],
            vec![cert(sig, ec_cert()), cert(sig, ec_cert())],
        ] {
            assert!(Objects::from_certificates(&certs, false, &mut next).is_none());
        }
        let mut o = Objects::default();
        let ok = data(&[("CPS_DATA", false, &[1, 2])]);
        o.add_data_objects(&ok, &mut next);
        o.add_data_objects(&ok, &mut next);
        assert_eq!(o.list.len(), 1, "an object is added once");
        assert!(o.list[0].matches(&[(CKA_VALUE, vec![1, 2])]));
        assert!(!o.list[0].matches(&[(CKA_VALUE, vec![1])]));
    }

    /// A self-signed ECDSA P-256 certificate (made with the openssl CLI).
    const EC_CERT_B64: &str = "MIIBbzCCARWgAwIBAgIUE+8BTHVq9bHQc3D7HstkMlHQ958wCgYIKoZIzj0EAwIwDTELMAkGA1UEAwwCZWMwHhcNMjYxMjA3MjI0ODE4WhcNMjYxMjA4MjI0ODE4WjANMQswCQYDVQQDDAJlYzBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABOAM+Nd2uF0jOr8Y602xZJ54qKPtgIHPLLlplr6IF4T1WQxWWbxPdlOF8LbZcAwtL0ChXT5EovwvsckmEwkBvXqjUzBRMB0GA1UdDgQWBBQCsbgGvSa8sD3XpShyxPh1BFfIqjAfBgNVHSMEGDAWgBQCsbgGvSa8sD3XpShyxPh1BFfIqjAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIQCKvSigiJgudEU1ANtG6VhxmAIDdIXApIjUMdKNJv5gyAIgNu8yIUTAp7plnuy5As/9MyoLw1ZBQTiFebW1TYtGym0=";

    fn class_of(o: &Object) -> CK_ULONG {
        match o.get(CKA_CLASS) {
            Some(Attr::Value(v)) => CK_ULONG::from_ne_bytes(v.as_slice().try_into().unwrap()),
            _ => panic!("no class"),
        }
    }

    #[test]
    fn a_public_key_per_rsa_certificate_and_none_for_another_key() {
        let rsa_cert = lecteur_sim::pki::CA_CERT_DER;
        let certs = [
            cert(cps::KeyUsage::Signature, rsa_cert.to_vec()),
            cert(cps::KeyUsage::Authentication, ec_cert()),
        ];
        let mut next = 0;
        let o = Objects::from_certificates(&certs, false, &mut next).expect("a token");
        let classes: Vec<_> = o.list.iter().map(class_of).collect();
        // The authentication key's objects first.
        assert_eq!(
            classes,
            [
                CKO_CERTIFICATE,
                CKO_PRIVATE_KEY,
                CKO_CERTIFICATE,
                CKO_PRIVATE_KEY,
                CKO_PUBLIC_KEY
            ]
        );
        let (cert, private, public) = (&o.list[2], &o.list[3], &o.list[4]);
        let n = lecteur_sim::pki::ca_key().n().to_bytes_be();
        assert!(public.matches(&[
            (CKA_LABEL, b"Cle publique - Certificat de Signature CPS".to_vec()),
            (CKA_MODULUS, n.clone()),
            (CKA_MODULUS_BITS, CK_ULONG::to_ne_bytes(2048).to_vec()),
            (CKA_PUBLIC_EXPONENT, vec![1, 0, 1]),
            (CKA_VERIFY, vec![CK_TRUE]),
            (CKA_PRIVATE, vec![CK_FALSE]),
            (CKA_TOKEN, vec![CK_TRUE]),
        ]));
        assert!(private.matches(&[(CKA_MODULUS, n)]));
        for other in [cert, private] {
            let Some(Attr::Value(id)) = other.get(CKA_ID) else {
                panic!()
            };
            assert!(public.matches(&[(CKA_ID, id.clone())]));
        }
        assert!(public.public.is_some() && !public.private);
        // The ECDSA certificate: its private key keeps the card's size for
        // the signature, and has no modulus.
        let ec_key = &o.list[1];
        assert!(ec_key.get(CKA_MODULUS).is_none());
        assert_eq!(ec_key.key.map(|k| k.modulus_len), Some(256));
    }

    #[test]
    fn data_objects_come_with_their_labels_private_ones_after_login() {
        let mut o = Objects::default();
        let mut next = 0;
        let answer = data(&[("CPS_ID_CARD", false, &[1, 2]), ("CPS_SIT_FACT", true, &[3, 4])]);
        o.add_data_objects(&answer, &mut next);
        let labels = |logged_in| {
            o.visible(logged_in)
                .filter_map(|x| match x.get(CKA_LABEL) {
                    Some(Attr::Value(v)) => Some(String::from_utf8(v.clone()).unwrap()),
                    _ => None,
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(labels(false), ["CPS_ID_CARD"]);
        assert_eq!(labels(true), ["CPS_ID_CARD", "CPS_SIT_FACT"]);
    }
}
