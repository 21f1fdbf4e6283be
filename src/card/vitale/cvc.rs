//! The Vitale 2's card-verifiable certificate objects, named as cardpeek
//! names them (`vitale_2.lua`, public-sources §2.6): `7F21` "Certificat",
//! `5F37` "Signature de l'AC", `5F38` "Résidu de la clé publique". Their
//! inner layout is not public: the values are given raw (hex). `5F37`/`5F38`
//! are taken beside a `7F21` or inside it (the ISO 7816 form), whichever the
//! card uses.

use super::super::tlv::{self, Tlv};

pub(super) const CERTIFICATE: [u8; 2] = [0x7F, 0x21];
pub(super) const CA_SIGNATURE: [u8; 2] = [0x5F, 0x37];
pub(super) const KEY_REMAINDER: [u8; 2] = [0x5F, 0x38];

pub use lecteur_proto::vitale::CardCertificate;

/// Whether a top-level object is one of the three.
pub(super) fn is_cvc(t: &Tlv<'_>) -> bool {
    t.is(&CERTIFICATE) || t.is(&CA_SIGNATURE) || t.is(&KEY_REMAINDER)
}

/// The certificate objects among a file's top-level objects, `None` when
/// there are none.
pub(super) fn collect(file: &str, top: &[Tlv<'_>]) -> Option<CardCertificate> {
    let mut c = CardCertificate {
        file: file.to_string(),
        ..Default::default()
    };
    let mut found = false;
    let take = |t: &Tlv<'_>, c: &mut CardCertificate| {
        let v = Some(hex::encode_upper(t.value));
        if t.is(&CA_SIGNATURE) && c.ca_signature.is_none() {
            c.ca_signature = v;
        } else if t.is(&KEY_REMAINDER) && c.public_key_remainder.is_none() {
            c.public_key_remainder = v;
        }
    };
    for t in top.iter().filter(|t| is_cvc(t)) {
        found = true;
        if t.is(&CERTIFICATE) {
            if c.certificate.is_none() {
                c.certificate = Some(hex::encode_upper(t.value));
            }
            for inner in tlv::parse_all(t.value).unwrap_or_default() {
                take(&inner, &mut c);
            }
        } else {
            take(t, &mut c);
        }
    }
    found.then_some(c)
}

/// A file cardpeek shows raw rather than as TLV (content starting with `00`
/// or `04 00`, public-sources §2.7).
pub(super) fn is_raw(content: &[u8]) -> bool {
    matches!(content, [0x00, ..] | [0x04, 0x00, ..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::testutil::h;

    #[test]
    fn names_the_three_objects_inside_or_beside() {
        let inside = h("7F21 09 5F37 02 AABB 5F38 01 CC");
        let top = tlv::parse_all(&inside).unwrap();
        let c = collect("D003", &top).unwrap();
        assert_eq!(c.certificate.as_deref(), Some("5F3702AABB5F3801CC"));
        assert_eq!(c.ca_signature.as_deref(), Some("AABB"));
        assert_eq!(c.public_key_remainder.as_deref(), Some("CC"));
        let beside = h("7F21 02 0102 5F37 01 AA 5F38 01 BB 80 01 00");
        let c = collect("D001", &tlv::parse_all(&beside).unwrap()).unwrap();
        assert_eq!(
            (
                c.certificate.as_deref(),
                c.ca_signature.as_deref(),
                c.public_key_remainder.as_deref()
            ),
            (Some("0102"), Some("AA"), Some("BB"))
        );
        assert!(collect("D001", &tlv::parse_all(&h("6503 800141")).unwrap()).is_none());
        assert!(is_raw(&h("0012")) && is_raw(&h("0400")) && !is_raw(&h("7F21")));
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut rng = crate::card::testutil::Rng::new(0x7F);
        for input in rng.inputs(&[h("7F21 09 5F37 02 AABB 5F38 01 CC")]) {
            if let Some(top) = tlv::parse_all(&input) {
                let _ = collect("X", &top);
            }
        }
    }
}
