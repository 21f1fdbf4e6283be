//! The mechanisms of a token: RSA PKCS#1 v1.5 on both generations, RSA-PSS
//! (SHA-256, MGF1-SHA-256, salt 32) only on a CPS4, the one that can. Each
//! signs on the card and verifies in the module (with the public key
//! objects).

use cryptoki_sys::*;

// SHA256-RSA-PKCS first: the one mechanism both keys do whatever the input
// (CKM_RSA_PKCS takes only a SHA-256 DigestInfo with the signature key), so
// the first that a generic tool picks (OpenSC's `pkcs11-tool --test` takes
// the first of the list for its multi-part test).
const PKCS1: [CK_MECHANISM_TYPE; 2] = [CKM_SHA256_RSA_PKCS, CKM_RSA_PKCS];
const ALL: [CK_MECHANISM_TYPE; 4] = [
    CKM_SHA256_RSA_PKCS,
    CKM_RSA_PKCS,
    CKM_RSA_PKCS_PSS,
    CKM_SHA256_RSA_PKCS_PSS,
];

/// CPS keys are RSA-2048.
pub(crate) const KEY_BITS: CK_ULONG = 2048;

pub(crate) fn list(cps4: bool) -> &'static [CK_MECHANISM_TYPE] {
    if cps4 {
        &ALL
    } else {
        &PKCS1
    }
}

pub(crate) fn info(cps4: bool, m: CK_MECHANISM_TYPE) -> Option<CK_MECHANISM_INFO> {
    list(cps4).contains(&m).then_some(CK_MECHANISM_INFO {
        ulMinKeySize: KEY_BITS,
        ulMaxKeySize: KEY_BITS,
        // CKF_HW: the signature is the card's (verification is not, but the
        // flags are per mechanism).
        flags: CKF_HW | CKF_SIGN | CKF_VERIFY,
    })
}
