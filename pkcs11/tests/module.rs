//! The module's C entry points, called in-process (the rlib) against a
//! daemon on simulated cards: slots and token flags, login and the PIN
//! policy, the attribute rules, signatures verified with the `rsa` crate,
//! PSS on a CPS4, a card pulled, bad pointers. The module has one state per
//! process, so these tests take turns.

mod common;

use common::*;
use cryptoki_sys::*;
use lecteur_pkcs11::*;
use rsa::traits::PublicKeyParts;
use serde_json::json;
use sha2::Digest;
use std::ptr::null_mut;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

static TURN: Mutex<()> = Mutex::new(());

/// The module initialised on a daemon's socket, finalised on drop.
struct Loaded(#[allow(dead_code)] MutexGuard<'static, ()>);

fn load(d: &Daemon) -> Loaded {
    let turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    // The module finds the socket as the CLI does: $LECTEUR_SOCKET first.
    std::env::set_var("LECTEUR_SOCKET", &d.socket);
    assert_eq!(unsafe { C_Initialize(null_mut()) }, CKR_OK);
    Loaded(turn)
}

impl Drop for Loaded {
    fn drop(&mut self) {
        unsafe { C_Finalize(null_mut()) };
    }
}

fn slots(token_present: bool) -> Vec<CK_SLOT_ID> {
    // A token that comes between the two calls makes the list grow: the
    // module answers CKR_BUFFER_TOO_SMALL, and the caller asks again.
    for _ in 0..10 {
        let mut n: CK_ULONG = 0;
        unsafe {
            assert_eq!(
                C_GetSlotList(token_present as CK_BBOOL, null_mut(), &mut n),
                CKR_OK
            );
            let mut list = vec![0; n as usize];
            match C_GetSlotList(token_present as CK_BBOOL, list.as_mut_ptr(), &mut n) {
                CKR_OK => {
                    list.truncate(n as usize);
                    return list;
                }
                CKR_BUFFER_TOO_SMALL => continue,
                rv => panic!("C_GetSlotList: {rv:#x}"),
            }
        }
    }
    panic!("the slot list never held still");
}

fn the_slot() -> CK_SLOT_ID {
    let s = slots(true);
    assert_eq!(s.len(), 1, "one token expected");
    s[0]
}

fn token(slot: CK_SLOT_ID) -> Result<CK_TOKEN_INFO, CK_RV> {
    let mut t = CK_TOKEN_INFO::default();
    match unsafe { C_GetTokenInfo(slot, &mut t) } {
        CKR_OK => Ok(t),
        rv => Err(rv),
    }
}

fn open(slot: CK_SLOT_ID) -> CK_SESSION_HANDLE {
    let mut h = 0;
    let rv = unsafe { C_OpenSession(slot, CKF_SERIAL_SESSION, null_mut(), None, &mut h) };
    assert_eq!(rv, CKR_OK);
    h
}

fn login(h: CK_SESSION_HANDLE, pin: &str) -> CK_RV {
    let mut pin = pin.as_bytes().to_vec();
    unsafe { C_Login(h, CKU_USER, pin.as_mut_ptr(), pin.len() as CK_ULONG) }
}

fn ulong(v: CK_ULONG) -> Vec<u8> {
    v.to_ne_bytes().to_vec()
}

fn find(h: CK_SESSION_HANDLE, class: CK_OBJECT_CLASS, label: &str) -> Vec<CK_OBJECT_HANDLE> {
    let mut class = ulong(class);
    let mut label = label.as_bytes().to_vec();
    let mut t = [
        CK_ATTRIBUTE {
            type_: CKA_CLASS,
            pValue: class.as_mut_ptr().cast(),
            ulValueLen: class.len() as CK_ULONG,
        },
        CK_ATTRIBUTE {
            type_: CKA_LABEL,
            pValue: label.as_mut_ptr().cast(),
            ulValueLen: label.len() as CK_ULONG,
        },
    ];
    let mut out = [0; 8];
    let mut n = 0;
    unsafe {
        assert_eq!(C_FindObjectsInit(h, t.as_mut_ptr(), 2), CKR_OK);
        assert_eq!(C_FindObjects(h, out.as_mut_ptr(), 8, &mut n), CKR_OK);
        assert_eq!(C_FindObjectsFinal(h), CKR_OK);
    }
    out[..n as usize].to_vec()
}

fn attr(h: CK_SESSION_HANDLE, o: CK_OBJECT_HANDLE, t: CK_ATTRIBUTE_TYPE) -> Result<Vec<u8>, CK_RV> {
    let mut a = CK_ATTRIBUTE {
        type_: t,
        pValue: null_mut(),
        ulValueLen: 0,
    };
    unsafe {
        match C_GetAttributeValue(h, o, &mut a, 1) {
            CKR_OK => {}
            rv => return Err(rv),
        }
        let mut v = vec![0u8; a.ulValueLen as usize];
        a.pValue = v.as_mut_ptr().cast();
        assert_eq!(C_GetAttributeValue(h, o, &mut a, 1), CKR_OK);
        Ok(v)
    }
}

fn sign(
    h: CK_SESSION_HANDLE,
    mut m: CK_MECHANISM,
    key: CK_OBJECT_HANDLE,
    data: &[u8],
) -> Result<Vec<u8>, CK_RV> {
    let mut data = data.to_vec();
    unsafe {
        match C_SignInit(h, &mut m, key) {
            CKR_OK => {}
            rv => return Err(rv),
        }
        let mut sig = vec![0u8; 512];
        let mut len = sig.len() as CK_ULONG;
        match C_Sign(
            h,
            data.as_mut_ptr(),
            data.len() as CK_ULONG,
            sig.as_mut_ptr(),
            &mut len,
        ) {
            CKR_OK => {
                sig.truncate(len as usize);
                Ok(sig)
            }
            rv => Err(rv),
        }
    }
}

fn verify(
    h: CK_SESSION_HANDLE,
    mut m: CK_MECHANISM,
    key: CK_OBJECT_HANDLE,
    data: &[u8],
    sig: &[u8],
) -> CK_RV {
    let (mut data, mut sig) = (data.to_vec(), sig.to_vec());
    unsafe {
        match C_VerifyInit(h, &mut m, key) {
            CKR_OK => C_Verify(
                h,
                data.as_mut_ptr(),
                data.len() as CK_ULONG,
                sig.as_mut_ptr(),
                sig.len() as CK_ULONG,
            ),
            rv => rv,
        }
    }
}

fn mechanism(m: CK_MECHANISM_TYPE) -> CK_MECHANISM {
    CK_MECHANISM {
        mechanism: m,
        pParameter: null_mut(),
        ulParameterLen: 0,
    }
}

fn public_key(cert_der: &[u8]) -> rsa::RsaPublicKey {
    use der::{Decode, Encode};
    use rsa::pkcs8::DecodePublicKey;
    let cert = x509_cert::Certificate::from_der(cert_der).unwrap();
    let spki = cert.tbs_certificate.subject_public_key_info.to_der().unwrap();
    rsa::RsaPublicKey::from_public_key_der(&spki).unwrap()
}

/// The certificate label that goes with a private key label.
fn cert_label(key_label: &str) -> &'static str {
    match key_label {
        "CPS_PRIV_AUT" => "Certificat d'Authentification CPS",
        _ => "Certificat de Signature CPS",
    }
}

fn tries_left(d: &Daemon) -> u64 {
    d.client().call_json("cps.info", json!({})).unwrap()["pin"]["tries_left"]
        .as_u64()
        .unwrap()
}

#[test]
fn slots_token_flags_and_the_pin_policy() {
    let d = Daemon::start(&["cps3", "vitale2"]);
    let _m = load(&d);
    let slot = the_slot();
    assert!(slots(false).len() >= slots(true).len());
    let mut info = CK_SLOT_INFO::default();
    assert_eq!(unsafe { C_GetSlotInfo(slot, &mut info) }, CKR_OK);
    assert_ne!(info.flags & CKF_TOKEN_PRESENT, 0);
    assert_eq!(unsafe { C_GetSlotInfo(999, &mut info) }, CKR_SLOT_ID_INVALID);

    let t = token(slot).unwrap();
    assert!(
        t.label.starts_with(b"CPS "),
        "{:?}",
        String::from_utf8_lossy(&t.label)
    );
    assert!(t.serialNumber.starts_with(b"2500577253"));
    assert_eq!(&t.model[..4], b"CPS3");
    assert_ne!(t.flags & CKF_LOGIN_REQUIRED, 0);
    assert_eq!(
        t.flags & (CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_LOCKED),
        0
    );

    let h = open(slot);
    // A PIN of the wrong length never reaches the card.
    assert_eq!(login(h, "12"), CKR_PIN_LEN_RANGE);
    assert_eq!(tries_left(&d), 3);
    // A wrong PIN: CKR_PIN_INCORRECT, and the token says the count is low.
    assert_eq!(login(h, "9999"), CKR_PIN_INCORRECT);
    let t = token(slot).unwrap();
    assert_ne!(t.flags & CKF_USER_PIN_COUNT_LOW, 0);
    assert_eq!(t.flags & CKF_USER_PIN_FINAL_TRY, 0);
    assert_eq!(tries_left(&d), 2);

    assert_eq!(login(h, TEST_PIN), CKR_OK);
    let mut s = CK_SESSION_INFO::default();
    assert_eq!(unsafe { C_GetSessionInfo(h, &mut s) }, CKR_OK);
    assert_eq!((s.slotID, s.state), (slot, CKS_RO_USER_FUNCTIONS));
    assert_eq!(login(h, TEST_PIN), CKR_USER_ALREADY_LOGGED_IN);
    assert_eq!(token(slot).unwrap().flags & CKF_USER_PIN_COUNT_LOW, 0);
    // Private data objects only after login, with the card's bytes.
    let sit = find(h, CKO_DATA, "CPS_ACTIVITY_01_PS");
    assert_eq!(sit.len(), 1);
    assert_eq!(attr(h, sit[0], CKA_PRIVATE).unwrap(), [CK_TRUE]);
    assert_eq!(unsafe { C_Logout(h) }, CKR_OK);
    assert_eq!(unsafe { C_Logout(h) }, CKR_USER_NOT_LOGGED_IN);
    assert!(find(h, CKO_DATA, "CPS_ACTIVITY_01_PS").is_empty());
    assert_eq!(find(h, CKO_DATA, "CPS_NAME_PS").len(), 1);
    assert_eq!(unsafe { C_CloseSession(h) }, CKR_OK);
    assert_eq!(unsafe { C_CloseSession(h) }, CKR_SESSION_HANDLE_INVALID);
}

#[test]
fn attributes_and_signatures_through_the_c_abi() {
    let d = Daemon::start(&["cps3", "vitale2"]);
    let _m = load(&d);
    let h = open(the_slot());
    let auth_cert = d.certificate("authentication");
    let sig_cert = d.certificate("signature");
    // Private keys are private objects: there after C_Login only.
    assert!(find(h, CKO_PRIVATE_KEY, "CPS_PRIV_AUT").is_empty());
    assert_eq!(login(h, TEST_PIN), CKR_OK);
    let key = find(h, CKO_PRIVATE_KEY, "CPS_PRIV_AUT")[0];
    assert_eq!(attr(h, key, CKA_PRIVATE).unwrap(), [CK_TRUE]);
    let cert = find(h, CKO_CERTIFICATE, "Certificat d'Authentification CPS")[0];
    assert_eq!(attr(h, cert, CKA_VALUE).unwrap(), auth_cert);
    assert_eq!(attr(h, key, CKA_ID).unwrap(), attr(h, cert, CKA_ID).unwrap());

    // The attribute rules: modulus from the certificate, secrets sensitive,
    // unknown types invalid, short buffers refused, every entry processed.
    let n = public_key(&auth_cert).n().to_bytes_be();
    let mut short = [0u8; 8];
    let mut t = [
        CK_ATTRIBUTE {
            type_: CKA_MODULUS,
            pValue: short.as_mut_ptr().cast(),
            ulValueLen: 8,
        },
        CK_ATTRIBUTE {
            type_: CKA_PRIVATE_EXPONENT,
            pValue: null_mut(),
            ulValueLen: 0,
        },
        CK_ATTRIBUTE {
            type_: CKA_SIGN,
            pValue: null_mut(),
            ulValueLen: 0,
        },
        CK_ATTRIBUTE {
            type_: 0x7FFF_0000,
            pValue: null_mut(),
            ulValueLen: 0,
        },
    ];
    let rv = unsafe { C_GetAttributeValue(h, key, t.as_mut_ptr(), 4) };
    assert!(
        [
            CKR_BUFFER_TOO_SMALL,
            CKR_ATTRIBUTE_SENSITIVE,
            CKR_ATTRIBUTE_TYPE_INVALID
        ]
        .contains(&rv),
        "{rv:#x}"
    );
    assert_eq!({ t[0].ulValueLen }, CK_UNAVAILABLE_INFORMATION);
    assert_eq!({ t[1].ulValueLen }, CK_UNAVAILABLE_INFORMATION);
    assert_eq!({ t[2].ulValueLen }, 1);
    assert_eq!({ t[3].ulValueLen }, CK_UNAVAILABLE_INFORMATION);
    assert_eq!(attr(h, key, CKA_MODULUS).unwrap(), n);
    assert_eq!(attr(h, key, CKA_SENSITIVE).unwrap(), [CK_TRUE]);
    assert_eq!(attr(h, key, CKA_EXTRACTABLE).unwrap(), [CK_FALSE]);
    assert_eq!(attr(h, key, CKA_VALUE), Err(CKR_ATTRIBUTE_SENSITIVE));

    // Length query and short buffer keep the operation; the signature ends it.
    let mut m = mechanism(CKM_SHA256_RSA_PKCS);
    let mut data = b"client hello".to_vec();
    unsafe {
        assert_eq!(C_SignInit(h, &mut m, key), CKR_OK);
        assert_eq!(C_SignInit(h, &mut m, key), CKR_OPERATION_ACTIVE);
        let mut len = 0;
        assert_eq!(C_Sign(h, data.as_mut_ptr(), 12, null_mut(), &mut len), CKR_OK);
        assert_eq!(len, 256);
        let mut sig = vec![0u8; 256];
        let mut short_len = 10;
        assert_eq!(
            C_Sign(h, data.as_mut_ptr(), 12, sig.as_mut_ptr(), &mut short_len),
            CKR_BUFFER_TOO_SMALL
        );
        assert_eq!(short_len, 256);
        assert_eq!(C_SignUpdate(h, data.as_mut_ptr(), 6), CKR_OK);
        assert_eq!(C_SignUpdate(h, data.as_mut_ptr().add(6), 6), CKR_OK);
        assert_eq!(C_SignFinal(h, sig.as_mut_ptr(), &mut len), CKR_OK);
        let k = public_key(&auth_cert);
        let digest = sha2::Sha256::digest(&data);
        k.verify(rsa::pkcs1v15::Pkcs1v15Sign::new::<sha2::Sha256>(), &digest, &sig)
            .expect("multi-part signature verifies");
        assert_eq!(
            C_SignFinal(h, sig.as_mut_ptr(), &mut len),
            CKR_OPERATION_NOT_INITIALIZED
        );
    }

    // CKM_RSA_PKCS: the auth key signs any TLS DigestInfo; the signature key
    // a SHA-256 one only (the card builds the DigestInfo).
    let sig_key = find(h, CKO_PRIVATE_KEY, "CPS_PRIV_SIG")[0];
    let d384 = sha2::Sha384::digest(b"handshake");
    let di384 = [
        &rsa::pkcs1v15::Pkcs1v15Sign::new::<sha2::Sha384>().prefix[..],
        &d384,
    ]
    .concat();
    let sig = sign(h, mechanism(CKM_RSA_PKCS), key, &di384).unwrap();
    public_key(&auth_cert)
        .verify(rsa::pkcs1v15::Pkcs1v15Sign::new::<sha2::Sha384>(), &d384, &sig)
        .expect("SHA-384 DigestInfo signature verifies");
    assert_eq!(
        sign(h, mechanism(CKM_RSA_PKCS), sig_key, &di384),
        Err(CKR_DATA_INVALID)
    );
    assert_eq!(
        sign(h, mechanism(CKM_RSA_PKCS), key, b"not a DigestInfo"),
        Err(CKR_DATA_INVALID)
    );
    let d256 = sha2::Sha256::digest(b"ordonnance");
    let di256 = [
        &rsa::pkcs1v15::Pkcs1v15Sign::new::<sha2::Sha256>().prefix[..],
        &d256,
    ]
    .concat();
    let sig = sign(h, mechanism(CKM_RSA_PKCS), sig_key, &di256).unwrap();
    public_key(&sig_cert)
        .verify(rsa::pkcs1v15::Pkcs1v15Sign::new::<sha2::Sha256>(), &d256, &sig)
        .expect("signature key over a SHA-256 DigestInfo");
    // No PSS on a CPS3; a certificate is no key.
    assert_eq!(
        sign(h, mechanism(CKM_RSA_PKCS_PSS), key, &d256),
        Err(CKR_MECHANISM_INVALID)
    );
    assert_eq!(
        sign(h, mechanism(CKM_RSA_PKCS), cert, &di256),
        Err(CKR_KEY_FUNCTION_NOT_PERMITTED)
    );
    // Logged out, the key is out of reach.
    assert_eq!(unsafe { C_Logout(h) }, CKR_OK);
    assert_eq!(
        sign(h, mechanism(CKM_RSA_PKCS), key, &di256),
        Err(CKR_KEY_HANDLE_INVALID)
    );
}

#[test]
fn public_keys_verify_in_the_module() {
    let d = Daemon::start(&["cps3", "vitale2"]);
    let _m = load(&d);
    let slot = the_slot();
    let certs = [
        (
            "Certificat d'Authentification CPS",
            d.certificate("authentication"),
        ),
        ("Certificat de Signature CPS", d.certificate("signature")),
    ];
    let h = open(slot);
    // Mechanism info: the card's key size, sign and verify.
    for m in [CKM_RSA_PKCS, CKM_SHA256_RSA_PKCS] {
        let mut info = CK_MECHANISM_INFO::default();
        assert_eq!(unsafe { C_GetMechanismInfo(slot, m, &mut info) }, CKR_OK);
        assert_eq!((info.ulMinKeySize, info.ulMaxKeySize), (2048, 2048));
        assert_eq!({ info.flags }, CKF_HW | CKF_SIGN | CKF_VERIFY);
    }
    let mut info = CK_MECHANISM_INFO::default();
    assert_eq!(
        unsafe { C_GetMechanismInfo(slot, CKM_RSA_PKCS_PSS, &mut info) },
        CKR_MECHANISM_INVALID
    );

    // Before login: a public key per certificate, its modulus and the
    // certificate's CKA_ID, labelled as Cryptolib labels one.
    let mut public = Vec::new();
    for (label, der) in &certs {
        let key = find(h, CKO_PUBLIC_KEY, &format!("Cle publique - {label}"));
        assert_eq!(key.len(), 1, "{label}");
        let cert = find(h, CKO_CERTIFICATE, label)[0];
        let k = public_key(der);
        assert_eq!(attr(h, key[0], CKA_ID).unwrap(), attr(h, cert, CKA_ID).unwrap());
        assert_eq!(attr(h, key[0], CKA_MODULUS).unwrap(), k.n().to_bytes_be());
        assert_eq!(attr(h, key[0], CKA_PUBLIC_EXPONENT).unwrap(), k.e().to_bytes_be());
        assert_eq!(attr(h, key[0], CKA_MODULUS_BITS).unwrap(), ulong(2048));
        assert_eq!(attr(h, key[0], CKA_KEY_TYPE).unwrap(), ulong(CKK_RSA));
        assert_eq!(attr(h, key[0], CKA_PRIVATE).unwrap(), [CK_FALSE]);
        assert_eq!(attr(h, key[0], CKA_TOKEN).unwrap(), [CK_TRUE]);
        assert_eq!(attr(h, key[0], CKA_VERIFY).unwrap(), [CK_TRUE]);
        assert_eq!(attr(h, key[0], CKA_ENCRYPT).unwrap(), [CK_FALSE]);
        let spki = {
            use der::{Decode, Encode};
            let c = x509_cert::Certificate::from_der(der).unwrap();
            c.tbs_certificate.subject_public_key_info.to_der().unwrap()
        };
        assert_eq!(attr(h, key[0], CKA_PUBLIC_KEY_INFO).unwrap(), spki);
        public.push((key[0], cert));
    }
    assert_eq!(login(h, TEST_PIN), CKR_OK);
    // The private keys carry the same modulus, exponent and bits.
    for (label, (public, _)) in ["CPS_PRIV_AUT", "CPS_PRIV_SIG"].into_iter().zip(&public) {
        let private = find(h, CKO_PRIVATE_KEY, label)[0];
        for t in [CKA_MODULUS, CKA_PUBLIC_EXPONENT, CKA_MODULUS_BITS, CKA_ID] {
            assert_eq!(attr(h, private, t), attr(h, *public, t), "{label} {t:#x}");
        }
        assert_eq!(attr(h, private, CKA_SENSITIVE).unwrap(), [CK_TRUE]);
        assert_eq!(attr(h, private, CKA_EXTRACTABLE).unwrap(), [CK_FALSE]);
    }

    // What the card signs, the module verifies; anything else it refuses.
    let (auth_pub, cert) = public[0];
    let key = find(h, CKO_PRIVATE_KEY, "CPS_PRIV_AUT")[0];
    let sig = sign(h, mechanism(CKM_SHA256_RSA_PKCS), key, b"ordonnance").unwrap();
    let m = mechanism(CKM_SHA256_RSA_PKCS);
    assert_eq!(verify(h, m, auth_pub, b"ordonnance", &sig), CKR_OK);
    assert_eq!(verify(h, m, auth_pub, b"ordonnancE", &sig), CKR_SIGNATURE_INVALID);
    let mut bad = sig.clone();
    bad[100] ^= 1;
    assert_eq!(verify(h, m, auth_pub, b"ordonnance", &bad), CKR_SIGNATURE_INVALID);
    assert_eq!(
        verify(h, m, auth_pub, b"ordonnance", &sig[..255]),
        CKR_SIGNATURE_LEN_RANGE
    );
    // The other key's public key does not verify it.
    assert_eq!(
        verify(h, m, public[1].0, b"ordonnance", &sig),
        CKR_SIGNATURE_INVALID
    );
    // CKM_RSA_PKCS over the DigestInfo, as signed.
    let di = [
        &rsa::pkcs1v15::Pkcs1v15Sign::new::<sha2::Sha256>().prefix[..],
        &sha2::Sha256::digest(b"ordonnance"),
    ]
    .concat();
    assert_eq!(verify(h, mechanism(CKM_RSA_PKCS), auth_pub, &di, &sig), CKR_OK);
    // A certificate, a private key: no verification.
    assert_eq!(
        verify(h, m, cert, b"ordonnance", &sig),
        CKR_KEY_FUNCTION_NOT_PERMITTED
    );
    assert_eq!(
        verify(h, m, key, b"ordonnance", &sig),
        CKR_KEY_FUNCTION_NOT_PERMITTED
    );
    // No PSS on a CPS3; multi-part; the operation ends with the answer.
    assert_eq!(
        verify(h, mechanism(CKM_SHA256_RSA_PKCS_PSS), auth_pub, b"x", &sig),
        CKR_MECHANISM_INVALID
    );
    let mut m = mechanism(CKM_SHA256_RSA_PKCS);
    let mut data = b"ordonnance".to_vec();
    let mut sig = sig;
    unsafe {
        assert_eq!(C_VerifyInit(h, &mut m, auth_pub), CKR_OK);
        assert_eq!(C_VerifyInit(h, &mut m, auth_pub), CKR_OPERATION_ACTIVE);
        assert_eq!(C_VerifyUpdate(h, data.as_mut_ptr(), 4), CKR_OK);
        assert_eq!(C_VerifyUpdate(h, data.as_mut_ptr().add(4), 6), CKR_OK);
        assert_eq!(C_VerifyFinal(h, sig.as_mut_ptr(), 256), CKR_OK);
        assert_eq!(
            C_VerifyFinal(h, sig.as_mut_ptr(), 256),
            CKR_OPERATION_NOT_INITIALIZED
        );
    }
    // Verification needs no login.
    assert_eq!(unsafe { C_Logout(h) }, CKR_OK);
    assert_eq!(
        verify(h, mechanism(CKM_SHA256_RSA_PKCS), auth_pub, b"ordonnance", &sig),
        CKR_OK
    );
}

#[test]
fn a_pulled_card_ends_the_sessions() {
    let d = Daemon::start(&["cps3", "vitale2"]);
    let _m = load(&d);
    let slot = the_slot();
    let h = open(slot);
    assert_eq!(login(h, TEST_PIN), CKR_OK);

    d.reader.remove(0).unwrap();
    assert!(wait_until(Duration::from_secs(10), || slots(true).is_empty()));
    assert_eq!(token(slot).err(), Some(CKR_TOKEN_NOT_PRESENT));
    let mut s = CK_SESSION_INFO::default();
    assert_eq!(unsafe { C_GetSessionInfo(h, &mut s) }, CKR_SESSION_HANDLE_INVALID);
    let mut h2 = 0;
    let rv = unsafe { C_OpenSession(slot, CKF_SERIAL_SESSION, null_mut(), None, &mut h2) };
    assert_eq!(rv, CKR_TOKEN_NOT_PRESENT);

    // Back in: a new token, nobody logged in.
    d.reader
        .insert(0, lecteur_sim::card::load("cps3").unwrap())
        .unwrap();
    assert!(wait_until(Duration::from_secs(10), || slots(true) == [slot]));
    let h = open(slot);
    assert_eq!(unsafe { C_GetSessionInfo(h, &mut s) }, CKR_OK);
    assert_eq!({ s.state }, CKS_RO_PUBLIC_SESSION);
    assert!(find(h, CKO_PRIVATE_KEY, "CPS_PRIV_AUT").is_empty());

    // Pulled and put back between two calls: the session is still dead.
    let mut events = d.client();
    events.call_json("events.subscribe", json!({})).unwrap();
    d.reader.remove(0).unwrap();
    d.reader
        .insert(0, lecteur_sim::card::load("cps3").unwrap())
        .unwrap();
    let mut seen = Vec::new();
    while !seen
        .iter()
        .any(|e: &serde_json::Value| e["type"] == "card.inserted")
    {
        seen.push(events.next_notification_json().map(|(_, params)| params).unwrap());
    }
    assert_eq!(unsafe { C_GetSessionInfo(h, &mut s) }, CKR_DEVICE_REMOVED);
    assert_eq!(unsafe { C_GetSessionInfo(h, &mut s) }, CKR_SESSION_HANDLE_INVALID);
}

#[test]
fn last_try_is_allowed_and_a_blocked_pin_is_locked() {
    {
        let d = Daemon::start(&["cps3-last-try", "vitale2"]);
        let _m = load(&d);
        let slot = the_slot();
        let t = token(slot).unwrap();
        assert_ne!(t.flags & CKF_USER_PIN_FINAL_TRY, 0);
        assert_ne!(t.flags & CKF_USER_PIN_COUNT_LOW, 0);
        assert_eq!(login(open(slot), TEST_PIN), CKR_OK);
    }
    let d = Daemon::start(&["cps3-blocked", "vitale2"]);
    let _m = load(&d);
    let slot = the_slot();
    assert_ne!(token(slot).unwrap().flags & CKF_USER_PIN_LOCKED, 0);
    assert_eq!(login(open(slot), TEST_PIN), CKR_PIN_LOCKED);
}

#[test]
fn cps4_signs_with_pss() {
    let d = Daemon::start(&["cps4", "vitale2"]);
    let _m = load(&d);
    let slot = the_slot();
    let mut n = 0;
    unsafe {
        assert_eq!(C_GetMechanismList(slot, null_mut(), &mut n), CKR_OK);
        let mut list = vec![0; n as usize];
        assert_eq!(C_GetMechanismList(slot, list.as_mut_ptr(), &mut n), CKR_OK);
        assert!(list.contains(&CKM_SHA256_RSA_PKCS_PSS) && list.contains(&CKM_RSA_PKCS_PSS));
        let mut info = CK_MECHANISM_INFO::default();
        assert_eq!(C_GetMechanismInfo(slot, CKM_RSA_PKCS_PSS, &mut info), CKR_OK);
        assert_eq!({ info.flags }, CKF_HW | CKF_SIGN | CKF_VERIFY);
    }
    // Read before logging in: another connection's operation on the card
    // closes this one's verification (lecteurd's policy).
    let certs = [d.certificate("authentication"), d.certificate("signature")];
    let h = open(slot);
    assert_eq!(login(h, TEST_PIN), CKR_OK);
    let mut params = CK_RSA_PKCS_PSS_PARAMS {
        hashAlg: CKM_SHA256,
        mgf: CKG_MGF1_SHA256,
        sLen: 32,
    };
    for (label, cert) in [("CPS_PRIV_AUT", &certs[0]), ("CPS_PRIV_SIG", &certs[1])] {
        let key = find(h, CKO_PRIVATE_KEY, label)[0];
        let m = CK_MECHANISM {
            mechanism: CKM_SHA256_RSA_PKCS_PSS,
            pParameter: (&mut params as *mut CK_RSA_PKCS_PSS_PARAMS).cast(),
            ulParameterLen: std::mem::size_of::<CK_RSA_PKCS_PSS_PARAMS>() as CK_ULONG,
        };
        let sig = sign(h, m, key, b"tls 1.3").unwrap();
        // The module verifies it with the public key object, in software.
        let public = find(
            h,
            CKO_PUBLIC_KEY,
            &format!("Cle publique - {}", cert_label(label)),
        )[0];
        assert_eq!(verify(h, m, public, b"tls 1.3", &sig), CKR_OK, "{label}");
        assert_eq!(verify(h, m, public, b"tls 1.2", &sig), CKR_SIGNATURE_INVALID);
        // CKM_RSA_PKCS_PSS over the digest, as signed.
        let raw = CK_MECHANISM {
            mechanism: CKM_RSA_PKCS_PSS,
            ..m
        };
        let digest = sha2::Sha256::digest(b"tls 1.3");
        assert_eq!(verify(h, raw, public, &digest, &sig), CKR_OK, "{label}");
        assert_eq!(verify(h, raw, public, &digest[..31], &sig), CKR_DATA_LEN_RANGE);
        public_key(cert)
            .verify(
                rsa::Pss::new::<sha2::Sha256>(),
                &sha2::Sha256::digest(b"tls 1.3"),
                &sig,
            )
            .unwrap_or_else(|e| panic!("{label} PSS: {e}"));
    }
    params.sLen = 20;
    let m = CK_MECHANISM {
        mechanism: CKM_RSA_PKCS_PSS,
        pParameter: (&mut params as *mut CK_RSA_PKCS_PSS_PARAMS).cast(),
        ulParameterLen: std::mem::size_of::<CK_RSA_PKCS_PSS_PARAMS>() as CK_ULONG,
    };
    let key = find(h, CKO_PRIVATE_KEY, "CPS_PRIV_AUT")[0];
    assert_eq!(sign(h, m, key, &[0; 32]), Err(CKR_MECHANISM_PARAM_INVALID));
    // CKM_RSA_PKCS with the authentication key: the CPS4 deciphers a block
    // lecteurd pads (Cryptolib's way), so any TLS DigestInfo fits.
    let d384 = sha2::Sha384::digest(b"handshake");
    let di384 = [
        &rsa::pkcs1v15::Pkcs1v15Sign::new::<sha2::Sha384>().prefix[..],
        &d384,
    ]
    .concat();
    let sig = sign(h, mechanism(CKM_RSA_PKCS), key, &di384).unwrap();
    public_key(&certs[0])
        .verify(rsa::pkcs1v15::Pkcs1v15Sign::new::<sha2::Sha384>(), &d384, &sig)
        .expect("CPS4 SHA-384 DigestInfo signature verifies");
}

#[test]
fn bad_calls_get_codes_not_crashes() {
    let d = Daemon::start(&["cps3", "vitale2"]);
    let turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let mut n = 0;
    unsafe {
        assert_eq!(
            C_GetSlotList(CK_TRUE, null_mut(), &mut n),
            CKR_CRYPTOKI_NOT_INITIALIZED
        );
        assert_eq!(C_GetFunctionList(null_mut()), CKR_ARGUMENTS_BAD);
        // Through the function list, as applications call it.
        let mut list: *mut CK_FUNCTION_LIST = null_mut();
        assert_eq!(C_GetFunctionList(&mut list), CKR_OK);
        let f = &*list;
        std::env::set_var("LECTEUR_SOCKET", &d.socket);
        let mut args = CK_C_INITIALIZE_ARGS {
            CreateMutex: None,
            DestroyMutex: None,
            LockMutex: None,
            UnlockMutex: None,
            flags: CKF_OS_LOCKING_OK,
            pReserved: null_mut(),
        };
        assert_eq!(
            f.C_Initialize.unwrap()((&mut args as *mut CK_C_INITIALIZE_ARGS).cast()),
            CKR_OK
        );
        assert_eq!(
            f.C_Initialize.unwrap()(null_mut()),
            CKR_CRYPTOKI_ALREADY_INITIALIZED
        );
        assert_eq!(
            f.C_GetSlotList.unwrap()(CK_TRUE, null_mut(), null_mut()),
            CKR_ARGUMENTS_BAD
        );
        assert_eq!(f.C_GetInfo.unwrap()(null_mut()), CKR_ARGUMENTS_BAD);
        let mut info = CK_INFO::default();
        assert_eq!(f.C_GetInfo.unwrap()(&mut info), CKR_OK);
        assert_eq!(info.cryptokiVersion.major, 2);
        let slot = the_slot();
        let mut h = 0;
        assert_eq!(
            f.C_OpenSession.unwrap()(slot, 0, null_mut(), None, &mut h),
            CKR_SESSION_PARALLEL_NOT_SUPPORTED
        );
        assert_eq!(
            f.C_OpenSession.unwrap()(slot, CKF_SERIAL_SESSION, null_mut(), None, null_mut()),
            CKR_ARGUMENTS_BAD
        );
        let h = open(slot);
        assert_eq!(
            f.C_Encrypt.unwrap()(h, null_mut(), 0, null_mut(), null_mut()),
            CKR_FUNCTION_NOT_SUPPORTED
        );
        assert_eq!(f.C_FindObjectsInit.unwrap()(h, null_mut(), 1), CKR_ARGUMENTS_BAD);
        assert_eq!(
            f.C_FindObjects.unwrap()(h, null_mut(), 1, &mut n),
            CKR_ARGUMENTS_BAD
        );
        assert_eq!(f.C_SignInit.unwrap()(h, null_mut(), 1), CKR_ARGUMENTS_BAD);
        assert_eq!(f.C_VerifyInit.unwrap()(h, null_mut(), 1), CKR_ARGUMENTS_BAD);
        assert_eq!(
            f.C_Verify.unwrap()(h, null_mut(), 5, null_mut(), 0),
            CKR_ARGUMENTS_BAD
        );
        assert_eq!(
            f.C_VerifyFinal.unwrap()(h, null_mut(), 0),
            CKR_OPERATION_NOT_INITIALIZED
        );
        // No random number generator on the token (CKF_RNG is not set).
        let mut random = [0u8; 8];
        assert_eq!(
            f.C_GenerateRandom.unwrap()(h, random.as_mut_ptr(), 8),
            CKR_RANDOM_NO_RNG
        );
        assert_eq!(
            f.C_Sign.unwrap()(h, null_mut(), 5, null_mut(), &mut n),
            CKR_ARGUMENTS_BAD
        );
        assert_eq!(
            f.C_GetAttributeValue.unwrap()(h, 1, null_mut(), 1),
            CKR_ARGUMENTS_BAD
        );
        assert_eq!(
            f.C_GetAttributeValue.unwrap()(h, 0xFFFF, null_mut(), 0),
            CKR_OBJECT_HANDLE_INVALID
        );
        assert_eq!(f.C_GetSessionInfo.unwrap()(0xFFFF, null_mut()), CKR_ARGUMENTS_BAD);
        let mut s = CK_SESSION_INFO::default();
        assert_eq!(
            f.C_GetSessionInfo.unwrap()(0xFFFF, &mut s),
            CKR_SESSION_HANDLE_INVALID
        );
        assert_eq!(
            f.C_Login.unwrap()(h, CKU_SO, null_mut(), 0),
            CKR_USER_TYPE_INVALID
        );
        // A NULL PIN asks the PIN pad: this reader has none.
        assert_eq!(f.C_Login.unwrap()(h, CKU_USER, null_mut(), 0), CKR_ARGUMENTS_BAD);
        assert_eq!(f.C_CloseAllSessions.unwrap()(slot), CKR_OK);
        assert_eq!(f.C_Finalize.unwrap()(null_mut()), CKR_OK);
        assert_eq!(f.C_Finalize.unwrap()(null_mut()), CKR_CRYPTOKI_NOT_INITIALIZED);
    }
    drop(turn);
}

#[test]
fn a_null_pin_is_typed_on_the_pin_pad() {
    let d = Daemon::start_pinpad();
    let keypad = d.keypad.clone().expect("a keypad");
    let _m = load(&d);
    let slot = the_slot();
    let t = token(slot).unwrap();
    assert_ne!(t.flags & CKF_PROTECTED_AUTHENTICATION_PATH, 0);
    let h = open(slot);
    let pinpad_login = || unsafe { C_Login(h, CKU_USER, null_mut(), 0) };

    keypad.cancel().unwrap();
    assert_eq!(pinpad_login(), CKR_FUNCTION_CANCELED);
    keypad.keys("9999").unwrap();
    assert_eq!(pinpad_login(), CKR_PIN_INCORRECT);
    assert_ne!(token(slot).unwrap().flags & CKF_USER_PIN_COUNT_LOW, 0);
    keypad.keys(TEST_PIN).unwrap();
    assert_eq!(pinpad_login(), CKR_OK);
    let key = find(h, CKO_PRIVATE_KEY, "CPS_PRIV_SIG")[0];
    let sig = sign(h, mechanism(CKM_SHA256_RSA_PKCS), key, b"ordonnance").unwrap();
    assert_eq!(sig.len(), 256);
}

#[test]
fn polling_the_token_leaves_another_applications_login_alone() {
    let d = Daemon::start(&["cps3", "vitale2"]);
    let _m = load(&d);
    let slot = the_slot();
    token(slot).unwrap();
    let h = open(slot);
    assert_eq!(find(h, CKO_CERTIFICATE, "Certificat de Signature CPS").len(), 1);

    // Another application verifies the PIN on its own connection…
    let mut other = d.client();
    other
        .call_json("cps.verify_pin", json!({"pin": TEST_PIN}))
        .unwrap();
    // …while a browser polls the module, as browsers do.
    for _ in 0..3 {
        assert_eq!(slots(true), [slot]);
        token(slot).unwrap();
        let mut info = CK_SLOT_INFO::default();
        assert_eq!(unsafe { C_GetSlotInfo(slot, &mut info) }, CKR_OK);
        assert_eq!(find(h, CKO_CERTIFICATE, "Certificat de Signature CPS").len(), 1);
    }
    // Its verification still holds: it signs without the PIN.
    let r = other.call_json("cps.sign", json!({"key": "signature", "data_b64": "eA=="}));
    assert!(r.is_ok(), "{r:?}");
}
