//! The CPS3's IAS-ECC access rules: the security attributes of its files
//! (shown in their FCPs) and of its security data objects (the PIN, the PUK
//! and the two private keys, shown by GET DATA of their DOCP).
//!
//! Each rule is an access-mode byte (AM) followed by one security condition
//! byte (SCB) per AM bit set, highest bit first. SCB `00` = always, `FF` =
//! never, `1x` = after user authentication in security environment x, `4x` =
//! secure messaging in SE x.
//!
//! From real CPS3 cards (FCPs and DOCPs posted in OpenSC issues #2223 and
//! #2275, 2021): EF.SN.ICC `8C 7B FF FF FF FF FF 00` (read free, everything
//! else never) on both interfaces; EF.ATR and EF.DIR the same except DELETE
//! and UPDATE `45` (secure messaging, SE 5) on the contact interface; the
//! PIN's DOCP `8C F3 00 00 13 FF 00`. No public trace shows a DF's FCP, a
//! PIN-protected file's, or a private key's DOCP: those rules are this
//! simulator's choice, written as an issued card would state them (each
//! operation listed, what the card forbids as `FF`).

use super::layout::{FID_CPS_DATA, FID_EF_ATR, FID_EF_DIR};
use crate::card::fs::{FileSystem, Security};

/// EF access modes, highest bit first: DELETE, TERMINATE, ACTIVATE,
/// DEACTIVATE, UPDATE, READ (bit 04, RFU, absent).
const AM_EF: u8 = 0x7B;
/// DF access modes: DELETE, TERMINATE, ACTIVATE, DEACTIVATE, CREATE DF,
/// CREATE EF, DELETE CHILD.
const AM_DF: u8 = 0x7F;

pub const ALWAYS: u8 = 0x00;
pub const NEVER: u8 = 0xFF;
/// Secure messaging in SE 5: the issuer's administration on EF.ATR and
/// EF.DIR (real card, contact interface).
const ISSUER_SM: u8 = 0x45;
/// User authentication (the PIN) in SE 1. The SE number the real card uses
/// for its PIN is not in any public trace (its PIN's RESET condition is `13`,
/// SE 3, presumably the PUK's).
pub const USER_PIN: u8 = 0x11;
/// User authentication in SE 3 (the PIN's RESET RETRY COUNTER, real card).
const USER_PUK: u8 = 0x13;

/// An EF rule: DELETE, TERMINATE, ACTIVATE, DEACTIVATE never; UPDATE and READ as given.
fn ef(delete: u8, update: u8, read: u8) -> Vec<u8> {
    vec![AM_EF, delete, NEVER, NEVER, NEVER, update, read]
}

/// The security attributes of the CPS3 file `index`.
fn file_security(fs: &FileSystem, index: usize) -> Option<Security> {
    let node = fs.node(index)?;
    if fs.is_df(index) {
        let never = [&[AM_DF][..], &[NEVER; 7]].concat();
        return Some(Security {
            contact: never.clone(),
            contactless: never,
        });
    }
    let free = ef(NEVER, NEVER, ALWAYS);
    let (contact, contactless) = match node.fid {
        // Real card (#2223): the issuer updates them through secure messaging.
        Some(FID_EF_ATR | FID_EF_DIR) => (ef(ISSUER_SM, ISSUER_SM, ALWAYS), free),
        // The protected situations: read after the PIN, contact only.
        _ if node.read_needs_pin => (ef(NEVER, NEVER, USER_PIN), ef(NEVER, NEVER, NEVER)),
        // CPS_DATA, the one object applications may write (Cryptolib);
        // this simulator has no UPDATE BINARY.
        Some(FID_CPS_DATA) => (ef(NEVER, USER_PIN, ALWAYS), free),
        _ => (free.clone(), free),
    };
    Some(Security { contact, contactless })
}

/// Gives every file of a CPS3 tree its security attributes (call once the
/// tree is complete).
pub fn apply(fs: &mut FileSystem) {
    for index in 0..fs.len() {
        if let Some(security) = file_security(fs, index) {
            fs.set_security(index, security);
        }
    }
}

/// CHV access modes (GET DATA of the DOCP): CHANGE, VERIFY, RESET RETRY
/// COUNTER, PUT DATA, GET DATA; bit 80 is set on the real card and has no SCB.
/// The PIN's rule as the real card states it (#2275): change and verify
/// free, unblock after the PUK, never written, its DOCP free to read.
pub const PIN_RULE: [u8; 6] = [0xF3, ALWAYS, ALWAYS, USER_PUK, NEVER, ALWAYS];
/// The PUK's (simulator's choice): verified as part of RESET RETRY COUNTER
/// only, never changed, unblocked or written.
pub const PUK_RULE: [u8; 6] = [0xF3, NEVER, ALWAYS, NEVER, NEVER, ALWAYS];

/// Private-key access modes: PSO COMPUTE DIGITAL SIGNATURE, INTERNAL
/// AUTHENTICATE, PSO DECIPHER, GENERATE, PUT DATA, GET DATA.
const AM_KEY: u8 = 0x7B;
/// The signature key (81): PSO CDS after the PIN.
pub const SIGNATURE_KEY_RULE: [u8; 7] = [AM_KEY, USER_PIN, NEVER, NEVER, NEVER, NEVER, ALWAYS];
/// The authentication key (82): INTERNAL AUTHENTICATE and PSO DECIPHER
/// after the PIN (Cryptolib deciphers with it; this simulator does not).
pub const AUTHENTICATION_KEY_RULE: [u8; 7] = [AM_KEY, NEVER, USER_PIN, USER_PIN, NEVER, NEVER, ALWAYS];
