//! CK_SLOT_INFO and CK_TOKEN_INFO. The token label is the holder's name as
//! the card gives it ("CPS " + given name + surname, cut at 32 bytes), what the
//! holder recognises in a browser's device list; the serial number is the
//! card's (EF.SN.ICC), as with Cryptolib. The PIN flags come from the tries
//! left, read without using one.

use crate::slots::Slot;
use cryptoki_sys::*;
use lecteur_proto::cps::{CpsInfo, PIN_LENGTH};

/// Copies `s` into a blank-padded PKCS#11 string, cut on a UTF-8 boundary.
pub(crate) fn pad(dst: &mut [u8], s: &str) {
    dst.fill(b' ');
    let mut end = s.len().min(dst.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    dst[..end].copy_from_slice(&s.as_bytes()[..end]);
}

fn version() -> CK_VERSION {
    let v = |s: &str| s.parse::<u8>().unwrap_or(0);
    CK_VERSION {
        major: v(env!("CARGO_PKG_VERSION_MAJOR")),
        minor: v(env!("CARGO_PKG_VERSION_MINOR")),
    }
}

pub(crate) fn library_info() -> CK_INFO {
    let mut info = CK_INFO {
        cryptokiVersion: CK_VERSION { major: 2, minor: 40 },
        libraryVersion: version(),
        ..Default::default()
    };
    pad(&mut info.manufacturerID, "lecteur");
    pad(&mut info.libraryDescription, "lecteur CPS PKCS#11 module");
    info
}

pub(crate) fn slot_info(slot: &Slot) -> CK_SLOT_INFO {
    let mut info = CK_SLOT_INFO {
        flags: CKF_REMOVABLE_DEVICE | CKF_HW_SLOT,
        hardwareVersion: CK_VERSION { major: 0, minor: 0 },
        firmwareVersion: CK_VERSION { major: 0, minor: 0 },
        ..Default::default()
    };
    if slot.card.is_some() {
        info.flags |= CKF_TOKEN_PRESENT;
    }
    pad(&mut info.slotDescription, &slot.name);
    pad(&mut info.manufacturerID, "lecteur");
    info
}

/// The PIN flags of a token from the tries left.
pub(crate) fn pin_flags(tries_left: u64, tries_max: u64) -> CK_FLAGS {
    let mut flags = 0;
    if tries_left < tries_max {
        flags |= CKF_USER_PIN_COUNT_LOW;
    }
    if tries_left == 1 {
        flags |= CKF_USER_PIN_FINAL_TRY;
    }
    if tries_left == 0 {
        flags |= CKF_USER_PIN_LOCKED;
    }
    flags
}

/// The label from `cps.info`'s holder, else the card serial.
fn label(info: &CpsInfo) -> String {
    let h = &info.holder;
    let name: Vec<&str> = [&h.given_name, &h.surname]
        .into_iter()
        .filter_map(Option::as_deref)
        .filter(|s| !s.is_empty())
        .collect();
    if name.is_empty() {
        format!("CPS {}", info.card.serial)
    } else {
        format!("CPS {}", name.join(" "))
    }
}

pub(crate) struct Counts {
    pub sessions: u64,
    pub rw_sessions: u64,
}

/// The token of `slot` from `cps.info`'s answer.
pub(crate) fn token_info(slot: &Slot, info: &CpsInfo, counts: Counts) -> CK_TOKEN_INFO {
    let kind = info.card.kind.as_str();
    let mut t = CK_TOKEN_INFO {
        flags: CKF_TOKEN_INITIALIZED | CKF_USER_PIN_INITIALIZED | CKF_LOGIN_REQUIRED,
        ulMaxSessionCount: CK_EFFECTIVELY_INFINITE,
        ulSessionCount: counts.sessions as CK_ULONG,
        ulMaxRwSessionCount: CK_EFFECTIVELY_INFINITE,
        ulRwSessionCount: counts.rw_sessions as CK_ULONG,
        ulMaxPinLen: *PIN_LENGTH.end() as CK_ULONG,
        ulMinPinLen: *PIN_LENGTH.start() as CK_ULONG,
        ulTotalPublicMemory: CK_UNAVAILABLE_INFORMATION,
        ulFreePublicMemory: CK_UNAVAILABLE_INFORMATION,
        ulTotalPrivateMemory: CK_UNAVAILABLE_INFORMATION,
        ulFreePrivateMemory: CK_UNAVAILABLE_INFORMATION,
        ..Default::default()
    };
    t.flags |= pin_flags(info.pin.tries_left.into(), info.pin.tries_max.into());
    if slot.pinpad {
        t.flags |= CKF_PROTECTED_AUTHENTICATION_PATH;
    }
    pad(&mut t.label, &label(info));
    pad(&mut t.manufacturerID, "ANS (lecteur)");
    pad(&mut t.model, &kind.to_uppercase());
    // The serial's last 16 characters when it is longer.
    let serial = info.card.serial.as_str();
    let start = serial.len().saturating_sub(16);
    pad(&mut t.serialNumber, serial.get(start..).unwrap_or(""));
    pad(&mut t.utcTime, "");
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pin_flags_follow_the_tries() {
        assert_eq!(pin_flags(3, 3), 0);
        assert_eq!(pin_flags(2, 3), CKF_USER_PIN_COUNT_LOW);
        assert_eq!(pin_flags(1, 3), CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY);
        assert_eq!(pin_flags(0, 3), CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_LOCKED);
    }

    #[test]
    fn padding_cuts_on_a_character() {
        let mut b = [0u8; 6];
        pad(&mut b, "Éloïse");
        assert_eq!(&b, "Éloï".as_bytes());
        pad(&mut b, "ab");
        assert_eq!(&b, b"ab    ");
    }
}
