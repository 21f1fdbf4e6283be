//! lecteur-pkcs11: a PKCS#11 module for the CPS that talks to lecteurd over
//! its socket (never to a card), so the PIN policy, the card cache and the
//! reader sharing stay the daemon's. See docs/pkcs11.md.
//!
//! This file holds the C entry points only: each checks its pointers, runs
//! under `catch_unwind` (no panic crosses the C boundary) and the module's
//! one lock (CKF_OS_LOCKING_OK: the module locks for itself), and hands
//! safe values to `module.rs`.
#![allow(non_snake_case)]
#![allow(clippy::missing_safety_doc)] // the PKCS#11 specification is the contract

mod client;
mod error;
mod input;
mod log;
mod mechanisms;
mod module;
mod objects;
mod session;
mod sign;
mod slots;
mod token;
mod unsupported;
mod verify;

use cryptoki_sys::*;
use error::Result;
use module::Module;
use std::os::raw::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Mutex, MutexGuard};
use unsupported::*;
use zeroize::Zeroizing;

static STATE: Mutex<Option<Module>> = Mutex::new(None);

fn state() -> MutexGuard<'static, Option<Module>> {
    // A panic is caught at the boundary; the state it left is still usable.
    STATE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `f` on the initialised module: every entry point goes through here.
fn entry(f: impl FnOnce(&mut Module) -> Result<()>) -> CK_RV {
    catch_unwind(AssertUnwindSafe(|| match state().as_mut() {
        None => CKR_CRYPTOKI_NOT_INITIALIZED,
        Some(m) => f(m).err().unwrap_or(CKR_OK),
    }))
    .unwrap_or(CKR_GENERAL_ERROR)
}

/// The two-call convention: a null `out` asks the count; a short buffer is
/// CKR_BUFFER_TOO_SMALL with the count needed.
unsafe fn out_list<T: Copy>(items: &[T], out: *mut T, count: *mut CK_ULONG) -> Result<()> {
    if count.is_null() {
        return Err(CKR_ARGUMENTS_BAD);
    }
    let n = items.len() as CK_ULONG;
    if out.is_null() {
        *count = n;
        return Ok(());
    }
    if *count < n {
        *count = n;
        return Err(CKR_BUFFER_TOO_SMALL);
    }
    std::ptr::copy_nonoverlapping(items.as_ptr(), out, items.len());
    *count = n;
    Ok(())
}

unsafe fn write<T>(out: *mut T, v: T) -> Result<()> {
    if out.is_null() {
        return Err(CKR_ARGUMENTS_BAD);
    }
    out.write(v);
    Ok(())
}

/// Input bytes; a null pointer is only valid for an empty input.
unsafe fn input<'a>(p: *const CK_BYTE, len: CK_ULONG) -> Result<&'a [u8]> {
    match (p.is_null(), len) {
        (true, 0) => Ok(&[]),
        (true, _) => Err(CKR_ARGUMENTS_BAD),
        (false, _) => Ok(std::slice::from_raw_parts(p, len as usize)),
    }
}

/// Copies a template's (type, value) pairs.
unsafe fn template(t: *const CK_ATTRIBUTE, count: CK_ULONG) -> Result<Vec<(CK_ATTRIBUTE_TYPE, Vec<u8>)>> {
    if count == 0 {
        return Ok(Vec::new());
    }
    if t.is_null() {
        return Err(CKR_ARGUMENTS_BAD);
    }
    std::slice::from_raw_parts(t, count as usize)
        .iter()
        .map(|a| Ok((a.type_, input(a.pValue as *const CK_BYTE, a.ulValueLen)?.to_vec())))
        .collect()
}

/// C_GetAttributeValue's rules for each attribute: absent → TYPE_INVALID,
/// secret → SENSITIVE (both with CK_UNAVAILABLE_INFORMATION), a null buffer
/// asks the length, a short one is BUFFER_TOO_SMALL; every attribute is
/// processed whatever happens to the others.
unsafe fn fill(o: &objects::Object, t: *mut CK_ATTRIBUTE, count: CK_ULONG) -> CK_RV {
    let mut rv = CKR_OK;
    for a in std::slice::from_raw_parts_mut(t, count as usize) {
        match o.get(a.type_) {
            None => {
                a.ulValueLen = CK_UNAVAILABLE_INFORMATION;
                rv = CKR_ATTRIBUTE_TYPE_INVALID;
            }
            Some(objects::Attr::Sensitive) => {
                a.ulValueLen = CK_UNAVAILABLE_INFORMATION;
                rv = CKR_ATTRIBUTE_SENSITIVE;
            }
            Some(objects::Attr::Value(v)) => {
                if a.pValue.is_null() {
                    a.ulValueLen = v.len() as CK_ULONG;
                } else if (a.ulValueLen as usize) < v.len() {
                    a.ulValueLen = CK_UNAVAILABLE_INFORMATION;
                    rv = CKR_BUFFER_TOO_SMALL;
                } else {
                    std::ptr::copy_nonoverlapping(v.as_ptr(), a.pValue as *mut u8, v.len());
                    a.ulValueLen = v.len() as CK_ULONG;
                }
            }
        }
    }
    rv
}

#[no_mangle]
pub unsafe extern "C" fn C_Initialize(args: *mut c_void) -> CK_RV {
    catch_unwind(|| {
        if !args.is_null() {
            // SAFETY: a non-null argument is a CK_C_INITIALIZE_ARGS (spec).
            let a = &*(args as *const CK_C_INITIALIZE_ARGS);
            // Copies (`{ }`), not borrows: Windows' Cryptoki structs are packed.
            let some = [
                { a.CreateMutex }.is_some(),
                { a.DestroyMutex }.is_some(),
                { a.LockMutex }.is_some(),
                { a.UnlockMutex }.is_some(),
            ];
            if some.iter().any(|b| *b) && !some.iter().all(|b| *b) {
                return CKR_ARGUMENTS_BAD;
            }
            // With or without the caller's mutexes, the module uses the OS's.
        }
        let mut s = state();
        if s.is_some() {
            return CKR_CRYPTOKI_ALREADY_INITIALIZED;
        }
        *s = Some(Module::new());
        CKR_OK
    })
    .unwrap_or(CKR_GENERAL_ERROR)
}

#[no_mangle]
pub unsafe extern "C" fn C_Finalize(reserved: *mut c_void) -> CK_RV {
    if !reserved.is_null() {
        return CKR_ARGUMENTS_BAD;
    }
    // Dropping the module closes the connection: lecteurd resets a card this
    // connection had verified.
    catch_unwind(|| match state().take() {
        Some(_) => CKR_OK,
        None => CKR_CRYPTOKI_NOT_INITIALIZED,
    })
    .unwrap_or(CKR_GENERAL_ERROR)
}

#[no_mangle]
pub unsafe extern "C" fn C_GetInfo(info: *mut CK_INFO) -> CK_RV {
    entry(|_| write(info, token::library_info()))
}

#[no_mangle]
pub unsafe extern "C" fn C_GetFunctionList(list: *mut *mut CK_FUNCTION_LIST) -> CK_RV {
    if list.is_null() {
        return CKR_ARGUMENTS_BAD;
    }
    // The caller reads it only (PKCS#11 declares it non-const).
    list.write(&FUNCTION_LIST as *const CK_FUNCTION_LIST as *mut CK_FUNCTION_LIST);
    CKR_OK
}

#[no_mangle]
pub unsafe extern "C" fn C_GetSlotList(
    token_present: CK_BBOOL,
    list: *mut CK_SLOT_ID,
    count: *mut CK_ULONG,
) -> CK_RV {
    entry(|m| {
        if count.is_null() {
            return Err(CKR_ARGUMENTS_BAD);
        }
        out_list(&m.slot_list(token_present != CK_FALSE), list, count)
    })
}

#[no_mangle]
pub unsafe extern "C" fn C_GetSlotInfo(slot: CK_SLOT_ID, info: *mut CK_SLOT_INFO) -> CK_RV {
    entry(|m| {
        if info.is_null() {
            return Err(CKR_ARGUMENTS_BAD);
        }
        write(info, m.slot_info(slot)?)
    })
}

#[no_mangle]
pub unsafe extern "C" fn C_GetTokenInfo(slot: CK_SLOT_ID, info: *mut CK_TOKEN_INFO) -> CK_RV {
    entry(|m| {
        if info.is_null() {
            return Err(CKR_ARGUMENTS_BAD);
        }
        write(info, m.token_info(slot)?)
    })
}

#[no_mangle]
pub unsafe extern "C" fn C_GetMechanismList(
    slot: CK_SLOT_ID,
    list: *mut CK_MECHANISM_TYPE,
    count: *mut CK_ULONG,
) -> CK_RV {
    entry(|m| {
        if count.is_null() {
            return Err(CKR_ARGUMENTS_BAD);
        }
        out_list(m.mechanisms(slot)?, list, count)
    })
}

#[no_mangle]
pub unsafe extern "C" fn C_GetMechanismInfo(
    slot: CK_SLOT_ID,
    t: CK_MECHANISM_TYPE,
    info: *mut CK_MECHANISM_INFO,
) -> CK_RV {
    entry(|m| {
        if info.is_null() {
            return Err(CKR_ARGUMENTS_BAD);
        }
        write(info, m.mechanism_info(slot, t)?)
    })
}

#[no_mangle]
pub unsafe extern "C" fn C_OpenSession(
    slot: CK_SLOT_ID,
    flags: CK_FLAGS,
    _app: *mut c_void,
    _notify: CK_NOTIFY,
    session: *mut CK_SESSION_HANDLE,
) -> CK_RV {
    entry(|m| {
        if session.is_null() {
            return Err(CKR_ARGUMENTS_BAD);
        }
        write(session, m.open_session(slot, flags)?)
    })
}

#[no_mangle]
pub unsafe extern "C" fn C_CloseSession(session: CK_SESSION_HANDLE) -> CK_RV {
    entry(|m| m.close_session(session))
}

#[no_mangle]
pub unsafe extern "C" fn C_CloseAllSessions(slot: CK_SLOT_ID) -> CK_RV {
    entry(|m| m.close_all(slot))
}

#[no_mangle]
pub unsafe extern "C" fn C_GetSessionInfo(session: CK_SESSION_HANDLE, info: *mut CK_SESSION_INFO) -> CK_RV {
    entry(|m| {
        if info.is_null() {
            return Err(CKR_ARGUMENTS_BAD);
        }
        write(info, m.session_info(session)?)
    })
}

#[no_mangle]
pub unsafe extern "C" fn C_Login(
    session: CK_SESSION_HANDLE,
    user: CK_USER_TYPE,
    pin: *mut CK_UTF8CHAR,
    len: CK_ULONG,
) -> CK_RV {
    entry(|m| {
        let pin = if pin.is_null() {
            None // protected authentication path: the reader's PIN pad
        } else {
            let bytes = Zeroizing::new(input(pin, len)?.to_vec());
            let text = std::str::from_utf8(&bytes).map_err(|_| CKR_PIN_INVALID)?;
            Some(Zeroizing::new(text.to_string()))
        };
        m.login(session, user, pin)
    })
}

#[no_mangle]
pub unsafe extern "C" fn C_Logout(session: CK_SESSION_HANDLE) -> CK_RV {
    entry(|m| m.logout(session))
}

#[no_mangle]
pub unsafe extern "C" fn C_GetAttributeValue(
    session: CK_SESSION_HANDLE,
    object: CK_OBJECT_HANDLE,
    t: *mut CK_ATTRIBUTE,
    count: CK_ULONG,
) -> CK_RV {
    entry(|m| {
        if t.is_null() && count > 0 {
            return Err(CKR_ARGUMENTS_BAD);
        }
        match m.with_object(session, object, |o| fill(o, t, count))? {
            CKR_OK => Ok(()),
            rv => Err(rv),
        }
    })
}

#[no_mangle]
pub unsafe extern "C" fn C_FindObjectsInit(
    session: CK_SESSION_HANDLE,
    t: *mut CK_ATTRIBUTE,
    count: CK_ULONG,
) -> CK_RV {
    entry(|m| m.find_init(session, template(t, count)?))
}

#[no_mangle]
pub unsafe extern "C" fn C_FindObjects(
    session: CK_SESSION_HANDLE,
    out: *mut CK_OBJECT_HANDLE,
    max: CK_ULONG,
    count: *mut CK_ULONG,
) -> CK_RV {
    entry(|m| {
        if out.is_null() || count.is_null() {
            return Err(CKR_ARGUMENTS_BAD);
        }
        let found = m.find(session, max as usize)?;
        std::ptr::copy_nonoverlapping(found.as_ptr(), out, found.len());
        write(count, found.len() as CK_ULONG)
    })
}

#[no_mangle]
pub unsafe extern "C" fn C_FindObjectsFinal(session: CK_SESSION_HANDLE) -> CK_RV {
    entry(|m| m.find_final(session))
}

#[no_mangle]
pub unsafe extern "C" fn C_SignInit(
    session: CK_SESSION_HANDLE,
    mechanism: *mut CK_MECHANISM,
    key: CK_OBJECT_HANDLE,
) -> CK_RV {
    entry(|m| {
        if mechanism.is_null() {
            return Err(CKR_ARGUMENTS_BAD);
        }
        m.sign_init(session, &*mechanism, key)
    })
}

/// The end of a signature: length query, short buffer (both keep the
/// operation), or the signature (which ends it).
unsafe fn finish(
    m: &mut Module,
    session: CK_SESSION_HANDLE,
    out: *mut CK_BYTE,
    len: *mut CK_ULONG,
) -> Result<()> {
    if len.is_null() {
        return Err(CKR_ARGUMENTS_BAD);
    }
    let need = m.sign_len(session)?;
    if out.is_null() {
        return write(len, need as CK_ULONG);
    }
    if (*len as usize) < need {
        *len = need as CK_ULONG;
        return Err(CKR_BUFFER_TOO_SMALL);
    }
    let sig = m.sign_final(session)?;
    std::ptr::copy_nonoverlapping(sig.as_ptr(), out, sig.len());
    write(len, sig.len() as CK_ULONG)
}

#[no_mangle]
pub unsafe extern "C" fn C_Sign(
    session: CK_SESSION_HANDLE,
    data: *mut CK_BYTE,
    data_len: CK_ULONG,
    out: *mut CK_BYTE,
    len: *mut CK_ULONG,
) -> CK_RV {
    entry(|m| {
        let data = input(data, data_len)?;
        if len.is_null() {
            return Err(CKR_ARGUMENTS_BAD);
        }
        if out.is_null() || (*len as usize) < m.sign_len(session)? {
            // A length query: the data is not taken yet.
            return finish(m, session, out, len);
        }
        m.sign_update(session, data)?;
        finish(m, session, out, len)
    })
}

#[no_mangle]
pub unsafe extern "C" fn C_SignUpdate(
    session: CK_SESSION_HANDLE,
    data: *mut CK_BYTE,
    len: CK_ULONG,
) -> CK_RV {
    entry(|m| m.sign_update(session, input(data, len)?))
}

#[no_mangle]
pub unsafe extern "C" fn C_SignFinal(
    session: CK_SESSION_HANDLE,
    out: *mut CK_BYTE,
    len: *mut CK_ULONG,
) -> CK_RV {
    entry(|m| finish(m, session, out, len))
}

#[no_mangle]
pub unsafe extern "C" fn C_VerifyInit(
    session: CK_SESSION_HANDLE,
    mechanism: *mut CK_MECHANISM,
    key: CK_OBJECT_HANDLE,
) -> CK_RV {
    entry(|m| {
        if mechanism.is_null() {
            return Err(CKR_ARGUMENTS_BAD);
        }
        m.verify_init(session, &*mechanism, key)
    })
}

#[no_mangle]
pub unsafe extern "C" fn C_Verify(
    session: CK_SESSION_HANDLE,
    data: *mut CK_BYTE,
    data_len: CK_ULONG,
    signature: *mut CK_BYTE,
    signature_len: CK_ULONG,
) -> CK_RV {
    entry(|m| {
        let (data, signature) = match (input(data, data_len), input(signature, signature_len)) {
            (Ok(d), Ok(s)) => (d, s),
            // A bad call ends the operation too (C_Verify always does).
            _ => return m.verify_abort(session).and(Err(CKR_ARGUMENTS_BAD)),
        };
        m.verify_update(session, data)?;
        m.verify_final(session, signature)
    })
}

#[no_mangle]
pub unsafe extern "C" fn C_VerifyUpdate(
    session: CK_SESSION_HANDLE,
    data: *mut CK_BYTE,
    len: CK_ULONG,
) -> CK_RV {
    entry(|m| m.verify_update(session, input(data, len)?))
}

#[no_mangle]
pub unsafe extern "C" fn C_VerifyFinal(
    session: CK_SESSION_HANDLE,
    signature: *mut CK_BYTE,
    len: CK_ULONG,
) -> CK_RV {
    entry(|m| match input(signature, len) {
        Ok(s) => m.verify_final(session, s),
        Err(rv) => m.verify_abort(session).and(Err(rv)),
    })
}

static FUNCTION_LIST: CK_FUNCTION_LIST = CK_FUNCTION_LIST {
    version: CK_VERSION { major: 2, minor: 40 },
    C_Initialize: Some(C_Initialize),
    C_Finalize: Some(C_Finalize),
    C_GetInfo: Some(C_GetInfo),
    C_GetFunctionList: Some(C_GetFunctionList),
    C_GetSlotList: Some(C_GetSlotList),
    C_GetSlotInfo: Some(C_GetSlotInfo),
    C_GetTokenInfo: Some(C_GetTokenInfo),
    C_GetMechanismList: Some(C_GetMechanismList),
    C_GetMechanismInfo: Some(C_GetMechanismInfo),
    C_InitToken: Some(C_InitToken),
    C_InitPIN: Some(C_InitPIN),
    C_SetPIN: Some(C_SetPIN),
    C_OpenSession: Some(C_OpenSession),
    C_CloseSession: Some(C_CloseSession),
    C_CloseAllSessions: Some(C_CloseAllSessions),
    C_GetSessionInfo: Some(C_GetSessionInfo),
    C_GetOperationState: Some(C_GetOperationState),
    C_SetOperationState: Some(C_SetOperationState),
    C_Login: Some(C_Login),
    C_Logout: Some(C_Logout),
    C_CreateObject: Some(C_CreateObject),
    C_CopyObject: Some(C_CopyObject),
    C_DestroyObject: Some(C_DestroyObject),
    C_GetObjectSize: Some(C_GetObjectSize),
    C_GetAttributeValue: Some(C_GetAttributeValue),
    C_SetAttributeValue: Some(C_SetAttributeValue),
    C_FindObjectsInit: Some(C_FindObjectsInit),
    C_FindObjects: Some(C_FindObjects),
    C_FindObjectsFinal: Some(C_FindObjectsFinal),
    C_EncryptInit: Some(C_EncryptInit),
    C_Encrypt: Some(C_Encrypt),
    C_EncryptUpdate: Some(C_EncryptUpdate),
    C_EncryptFinal: Some(C_EncryptFinal),
    C_DecryptInit: Some(C_DecryptInit),
    C_Decrypt: Some(C_Decrypt),
    C_DecryptUpdate: Some(C_DecryptUpdate),
    C_DecryptFinal: Some(C_DecryptFinal),
    C_DigestInit: Some(C_DigestInit),
    C_Digest: Some(C_Digest),
    C_DigestUpdate: Some(C_DigestUpdate),
    C_DigestKey: Some(C_DigestKey),
    C_DigestFinal: Some(C_DigestFinal),
    C_SignInit: Some(C_SignInit),
    C_Sign: Some(C_Sign),
    C_SignUpdate: Some(C_SignUpdate),
    C_SignFinal: Some(C_SignFinal),
    C_SignRecoverInit: Some(C_SignRecoverInit),
    C_SignRecover: Some(C_SignRecover),
    C_VerifyInit: Some(C_VerifyInit),
    C_Verify: Some(C_Verify),
    C_VerifyUpdate: Some(C_VerifyUpdate),
    C_VerifyFinal: Some(C_VerifyFinal),
    C_VerifyRecoverInit: Some(C_VerifyRecoverInit),
    C_VerifyRecover: Some(C_VerifyRecover),
    C_DigestEncryptUpdate: Some(C_DigestEncryptUpdate),
    C_DecryptDigestUpdate: Some(C_DecryptDigestUpdate),
    C_SignEncryptUpdate: Some(C_SignEncryptUpdate),
    C_DecryptVerifyUpdate: Some(C_DecryptVerifyUpdate),
    C_GenerateKey: Some(C_GenerateKey),
    C_GenerateKeyPair: Some(C_GenerateKeyPair),
    C_WrapKey: Some(C_WrapKey),
    C_UnwrapKey: Some(C_UnwrapKey),
    C_DeriveKey: Some(C_DeriveKey),
    C_SeedRandom: Some(C_SeedRandom),
    C_GenerateRandom: Some(C_GenerateRandom),
    C_GetFunctionStatus: Some(C_GetFunctionStatus),
    C_CancelFunction: Some(C_CancelFunction),
    C_WaitForSlotEvent: Some(C_WaitForSlotEvent),
};
