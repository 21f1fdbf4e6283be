//! The functions a CPS token has no use for: all there, all refusing.

use cryptoki_sys::*;
use std::os::raw::c_void;

macro_rules! unsupported {
    ($rv:expr; $($name:ident($($t:ty),*);)*) => {
        $(
            pub(crate) unsafe extern "C" fn $name($(_: $t),*) -> CK_RV {
                $rv
            }
        )*
    };
}

type H = CK_SESSION_HANDLE;
type O = CK_OBJECT_HANDLE;
type B = *mut CK_BYTE;
type L = *mut CK_ULONG;
type M = *mut CK_MECHANISM;
type A = *mut CK_ATTRIBUTE;
type U = *mut CK_UTF8CHAR;

unsupported! { CKR_FUNCTION_NOT_SUPPORTED;
    C_InitToken(CK_SLOT_ID, U, CK_ULONG, U);
    C_InitPIN(H, U, CK_ULONG);
    C_SetPIN(H, U, CK_ULONG, U, CK_ULONG);
    C_GetOperationState(H, B, L);
    C_SetOperationState(H, B, CK_ULONG, O, O);
    C_CreateObject(H, A, CK_ULONG, *mut O);
    C_CopyObject(H, O, A, CK_ULONG, *mut O);
    C_DestroyObject(H, O);
    C_GetObjectSize(H, O, L);
    C_SetAttributeValue(H, O, A, CK_ULONG);
    C_EncryptInit(H, M, O);
    C_Encrypt(H, B, CK_ULONG, B, L);
    C_EncryptUpdate(H, B, CK_ULONG, B, L);
    C_EncryptFinal(H, B, L);
    C_DecryptInit(H, M, O);
    C_Decrypt(H, B, CK_ULONG, B, L);
    C_DecryptUpdate(H, B, CK_ULONG, B, L);
    C_DecryptFinal(H, B, L);
    C_DigestInit(H, M);
    C_Digest(H, B, CK_ULONG, B, L);
    C_DigestUpdate(H, B, CK_ULONG);
    C_DigestKey(H, O);
    C_DigestFinal(H, B, L);
    C_SignRecoverInit(H, M, O);
    C_SignRecover(H, B, CK_ULONG, B, L);
    C_VerifyRecoverInit(H, M, O);
    C_VerifyRecover(H, B, CK_ULONG, B, L);
    C_DigestEncryptUpdate(H, B, CK_ULONG, B, L);
    C_DecryptDigestUpdate(H, B, CK_ULONG, B, L);
    C_SignEncryptUpdate(H, B, CK_ULONG, B, L);
    C_DecryptVerifyUpdate(H, B, CK_ULONG, B, L);
    C_GenerateKey(H, M, A, CK_ULONG, *mut O);
    C_GenerateKeyPair(H, M, A, CK_ULONG, A, CK_ULONG, *mut O, *mut O);
    C_WrapKey(H, M, O, O, B, L);
    C_UnwrapKey(H, M, O, B, CK_ULONG, A, CK_ULONG, *mut O);
    C_DeriveKey(H, M, O, A, CK_ULONG, *mut O);
    C_WaitForSlotEvent(CK_FLAGS, *mut CK_SLOT_ID, *mut c_void);
}

unsupported! { CKR_FUNCTION_NOT_PARALLEL;
    C_GetFunctionStatus(H);
    C_CancelFunction(H);
}

// The token has no random number generator (CKF_RNG is not set): the
// specification's answer, which OpenSC's `pkcs11-tool --test` expects.
unsupported! { CKR_RANDOM_NO_RNG;
    C_SeedRandom(H, B, CK_ULONG);
    C_GenerateRandom(H, B, CK_ULONG);
}
