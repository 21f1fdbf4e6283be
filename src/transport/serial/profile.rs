//! Reader profiles of the GemPC Twin / GemCore family and parsing of the
//! `PATH[:PROFILE]` device spec (the same convention as pcscd's
//! `DEVICENAME /dev/ttyS0:GemCoreSIMPro`).

use crate::transport::TransportError;

/// What the host must know about a serial reader model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profile {
    /// Name used in the spec (`GemCoreSIMPro`), compared case-insensitively.
    pub key: &'static str,
    /// Human name used in slot names.
    pub display: &'static str,
    /// Number of card slots.
    pub slots: u8,
    /// The reader echoes every host frame before its answer.
    pub echo: bool,
    /// The reader has a keypad and takes `PC_to_RDR_Secure` (PIN entry on
    /// the reader, the PIN never reaches the host).
    pub pinpad: bool,
}

pub const GEMPC_TWIN: Profile = Profile {
    key: "GemPCTwin",
    display: "GemPC Twin",
    slots: 1,
    echo: true,
    pinpad: false,
};
pub const GEMCORE_SIM_PRO: Profile = Profile {
    key: "GemCoreSIMPro",
    display: "GemCore SIM Pro",
    slots: 2,
    echo: false,
    pinpad: false,
};
pub const GEMCORE_POS_PRO: Profile = Profile {
    key: "GemCorePOSPro",
    display: "GemCore POS Pro",
    slots: 5,
    echo: false,
    pinpad: false,
};
pub const GEMPC_PINPAD: Profile = Profile {
    key: "GemPCPinPad",
    display: "GemPC PinPad",
    slots: 1,
    echo: true,
    pinpad: true,
};

pub const PROFILES: [Profile; 4] = [GEMPC_TWIN, GEMCORE_SIM_PRO, GEMCORE_POS_PRO, GEMPC_PINPAD];

impl Profile {
    pub fn by_name(name: &str) -> Option<Profile> {
        PROFILES
            .iter()
            .copied()
            .find(|p| p.key.eq_ignore_ascii_case(name))
    }
}

/// Splits `PATH[:PROFILE]`. Device paths may themselves contain colons
/// (`/dev/serial/by-path/pci-0000:00:14.0-usb-0:1:1.0-port0`), so only a last
/// component made of letters is taken as a profile name, and it must be a
/// known one.
pub fn parse_spec(spec: &str) -> Result<(String, Profile), TransportError> {
    let spec = spec.trim();
    let (path, profile) = match spec.rsplit_once(':') {
        Some((path, name)) if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphabetic()) => {
            let profile = Profile::by_name(name).ok_or_else(|| {
                let known: Vec<&str> = PROFILES.iter().map(|p| p.key).collect();
                TransportError::Protocol(format!(
                    "unknown serial reader profile {name:?} (known: {})",
                    known.join(", ")
                ))
            })?;
            (path, profile)
        }
        _ => (spec, GEMPC_TWIN),
    };
    if path.is_empty() {
        return Err(TransportError::Protocol(format!(
            "serial reader spec {spec:?} has no device path"
        )));
    }
    Ok((path.to_string(), profile))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        assert_eq!(
            parse_spec("/dev/ttyUSB0").unwrap(),
            ("/dev/ttyUSB0".into(), GEMPC_TWIN)
        );
        assert_eq!(
            parse_spec("/dev/ttyUSB0:gemcoresimpro").unwrap(),
            ("/dev/ttyUSB0".into(), GEMCORE_SIM_PRO)
        );
        assert_eq!(parse_spec("/dev/ttyS1:GemCorePOSPro").unwrap().1.slots, 5);
        assert!(parse_spec("/dev/ttyS1:GemPCPinPad").unwrap().1.echo);
        assert!(parse_spec("/dev/ttyS1:gempcpinpad").unwrap().1.pinpad);
        assert!(PROFILES.iter().filter(|p| p.pinpad).count() == 1);
        let by_path = "/dev/serial/by-path/pci-0000:00:14.0-usb-0:1:1.0-port0";
        assert_eq!(parse_spec(by_path).unwrap(), (by_path.into(), GEMPC_TWIN));
        assert_eq!(
            parse_spec(&format!("{by_path}:GemCoreSIMPro")).unwrap().0,
            by_path
        );
        assert!(matches!(
            parse_spec("/dev/ttyS0:GemFoo"),
            Err(TransportError::Protocol(m)) if m.contains("unknown serial reader profile")
        ));
        assert!(parse_spec(":GemPCTwin").is_err());
        assert!(parse_spec("").is_err());
    }
}
