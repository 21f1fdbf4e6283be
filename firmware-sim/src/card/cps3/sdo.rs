//! GET DATA of the CPS3's security data objects (IAS-ECC SDOs):
//! `00 CB 3F FF Lc 4D L 70 L BF <class> <ref> L <tag> 80`. Tag `A0` asks for
//! the object's DOCP (counters, size, access rule), `7F41` (CHV) or `7F48`
//! (private key) for its data.
//!
//! The DOCP answer has the real card's shape (OpenSC issue #2275, the PIN):
//! `70 L BF 81 01 L A0 { 9A max, 9B left, A1 { 8C rule } }`; the simulator
//! adds the usage counter `9D` that Cryptolib reads on a CPS3
//! (public-sources.md 1.4.3). A private key's DOCP follows the same pattern
//! with its size in bytes, `80 02 01 00`, as an IAS-ECC card's key DOCP
//! shows it (OpenSC issue #2158); no public trace shows a CPS3 key's.

use super::acl;
use super::pin::{PinState, PIN_REF, PUK_REF};
use crate::card::apdu::{Apdu, Reply, Sw};
use crate::card::tlv::{constructed, tlv};

/// SDO classes as the request names them (class | 0x80).
pub const CLASS_CHV: u8 = 0x81;
pub const CLASS_RSA_PRIVATE: u8 = 0x90;
/// The private keys' SDO references (key reference 81/82 without the
/// "local" bit).
pub const SIGNATURE_KEY: u8 = 0x01;
pub const AUTHENTICATION_KEY: u8 = 0x02;
/// The DOCP tag.
const TAG_DOCP: &[u8] = &[0xA0];

/// One request: which object, which part.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Query<'a> {
    class: u8,
    reference: u8,
    tag: &'a [u8],
}

/// Splits `tag L value` with a one-byte length that must cover `data` exactly.
fn exact<'a>(data: &'a [u8], tag: &[u8]) -> Result<&'a [u8], Sw> {
    let rest = data.strip_prefix(tag).ok_or(Sw::WRONG_DATA)?;
    match rest {
        [len, value @ ..] if usize::from(*len) == value.len() => Ok(value),
        _ => Err(Sw::WRONG_DATA),
    }
}

fn parse(data: &[u8]) -> Result<Query<'_>, Sw> {
    let list = exact(exact(data, &[0x4D])?, &[0x70])?;
    let (class, reference, header) = match list {
        [0xBF, class, reference, rest @ ..] => (*class, *reference, rest),
        _ => return Err(Sw::WRONG_DATA),
    };
    // The header names one tag, followed by `80` ("the whole object").
    let tag = match exact(header, &[])? {
        [tag @ .., 0x80] if matches!(tag.len(), 1 | 2) => tag,
        _ => return Err(Sw::WRONG_DATA),
    };
    Ok(Query {
        class,
        reference,
        tag,
    })
}

/// The sizes in bytes of the signature and authentication keys' moduli.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySizes {
    pub signature: usize,
    pub authentication: usize,
}

/// GET DATA `00 CB 3F FF …`.
pub fn get_data(apdu: &Apdu<'_>, pins: &PinState, keys: KeySizes) -> Result<Reply, Sw> {
    if (apdu.p1, apdu.p2) != (0x3F, 0xFF) {
        return Err(Sw::WRONG_P1P2);
    }
    let query = parse(apdu.data)?;
    let docp = match (query.class, query.reference) {
        (CLASS_CHV, PIN_REF | PUK_REF) => {
            let counters = pins.counters(query.reference).ok_or(Sw::REF_NOT_FOUND)?;
            let rule = match query.reference {
                PIN_REF => &acl::PIN_RULE[..],
                _ => &acl::PUK_RULE[..],
            };
            vec![
                tlv(&[0x9A], &[counters.max]),
                tlv(&[0x9B], &[counters.left]),
                tlv(&[0x9D], &counters.usage),
                constructed(&[0xA1], &[tlv(&[0x8C], rule)]),
            ]
        }
        (CLASS_RSA_PRIVATE, SIGNATURE_KEY | AUTHENTICATION_KEY) => {
            let (size, rule) = match query.reference {
                SIGNATURE_KEY => (keys.signature, &acl::SIGNATURE_KEY_RULE),
                _ => (keys.authentication, &acl::AUTHENTICATION_KEY_RULE),
            };
            let size = u16::try_from(size).map_err(|_| Sw::WRONG_DATA)?;
            vec![
                constructed(&[0xA1], &[tlv(&[0x8C], rule)]),
                tlv(&[0x80], &size.to_be_bytes()),
            ]
        }
        _ => return Err(Sw::REF_NOT_FOUND),
    };
    if query.tag != TAG_DOCP {
        // The data of a PIN or a private key are never read out. OpenSC's
        // IAS-ECC driver asks for them first and goes on to the DOCP only
        // after an "incorrect parameters" SW (6A80, 6A86, ...; 6A88 stops
        // it); it logs in and signs on real CPS3s (OpenSC issue #2267), so the
        // real card answers one of those. Which one is not public.
        return Err(Sw::WRONG_DATA);
    }
    let object = constructed(
        &[0xBF, query.class, query.reference],
        &[constructed(TAG_DOCP, &docp)],
    );
    Ok(Reply::Later(tlv(&[0x70], &object)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_requests_hosts_send() {
        let q = parse(&[0x4D, 0x08, 0x70, 0x06, 0xBF, 0x81, 0x01, 0x02, 0xA0, 0x80]).unwrap();
        assert_eq!((q.class, q.reference, q.tag), (0x81, 0x01, &[0xA0][..]));
        let q = parse(&[0x4D, 0x09, 0x70, 0x07, 0xBF, 0x90, 0x02, 0x03, 0x7F, 0x48, 0x80]).unwrap();
        assert_eq!((q.class, q.reference, q.tag), (0x90, 0x02, &[0x7F, 0x48][..]));
        for bad in [
            &[][..],
            &[0x4D, 0x08, 0x70, 0x06, 0xBF, 0x81, 0x01, 0x02, 0xA0],
            &[0x4D, 0x07, 0x70, 0x06, 0xBF, 0x81, 0x01, 0x02, 0xA0, 0x80],
            &[0x4D, 0x08, 0x70, 0x06, 0xBF, 0x81, 0x01, 0x02, 0xA0, 0x00],
            &[0x4D, 0x05, 0x70, 0x03, 0xBF, 0x81, 0x01],
        ] {
            assert_eq!(parse(bad), Err(Sw::WRONG_DATA), "{bad:02X?}");
        }
    }
}
