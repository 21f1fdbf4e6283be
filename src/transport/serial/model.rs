//! The serial reader models of the GemPC Twin / GemCore family and parsing
//! of the `PATH[:PROFILE]` device spec (the same convention as pcscd's
//! `DEVICENAME /dev/ttyS0:GemCoreSIMPro`). Users call a model a "profile"
//! (the spec, the configuration key `profile`, `readers.list`'s
//! `model.profile`); in the code, "profile" is a card profile
//! (`crate::card::profile`) and this is a `SerialModel`.

use crate::transport::TransportError;

/// What the host must know about a serial reader model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SerialModel {
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

pub(super) const GEMPC_TWIN: SerialModel = SerialModel {
    key: "GemPCTwin",
    display: "GemPC Twin",
    slots: 1,
    echo: true,
    pinpad: false,
};
pub(super) const GEMCORE_SIM_PRO: SerialModel = SerialModel {
    key: "GemCoreSIMPro",
    display: "GemCore SIM Pro",
    slots: 2,
    echo: false,
    pinpad: false,
};
pub(super) const GEMCORE_POS_PRO: SerialModel = SerialModel {
    key: "GemCorePOSPro",
    display: "GemCore POS Pro",
    slots: 5,
    echo: false,
    pinpad: false,
};
pub(super) const GEMPC_PINPAD: SerialModel = SerialModel {
    key: "GemPCPinPad",
    display: "GemPC PinPad",
    slots: 1,
    echo: true,
    pinpad: true,
};

/// Every known model.
pub const MODELS: [SerialModel; 4] = [GEMPC_TWIN, GEMCORE_SIM_PRO, GEMCORE_POS_PRO, GEMPC_PINPAD];

impl SerialModel {
    /// The model whose `key` is `name`, compared case-insensitively.
    pub fn by_name(name: &str) -> Option<SerialModel> {
        MODELS.iter().copied().find(|p| p.key.eq_ignore_ascii_case(name))
    }

    /// The model a firmware-version string (the answer to Escape `02`)
    /// names: the family's model names, compared without case, spaces or
    /// dashes ("GemCore SIM Pro v1.0", "GEMCORE-SIM-PRO"). Real readers'
    /// exact strings have not been seen here; the model name is what their
    /// firmware reports (ccid-serial.md), so an unknown string is `None`.
    pub fn by_firmware(firmware: &str) -> Option<SerialModel> {
        let folded: String = firmware
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect();
        const NAMES: [(&str, SerialModel); 5] = [
            ("simpro", GEMCORE_SIM_PRO),
            ("pospro", GEMCORE_POS_PRO),
            ("pinpad", GEMPC_PINPAD),
            ("gempctwin", GEMPC_TWIN),
            ("gemtwin", GEMPC_TWIN),
        ];
        NAMES
            .iter()
            .find(|(name, _)| folded.contains(name))
            .map(|&(_, p)| p)
    }
}

/// How a serial reader's model was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ModelChoice {
    /// Given as `PATH:PROFILE`: it wins over the firmware.
    Configured,
    /// Named by the reader's firmware-version string.
    Firmware,
    /// The firmware names no known model: the default (GemPC Twin).
    Default,
}

impl ModelChoice {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            ModelChoice::Configured => "configured",
            ModelChoice::Firmware => "firmware",
            ModelChoice::Default => "default",
        }
    }
}

/// The model for a reader whose firmware answered `firmware`: the
/// configured one if any, else the one the firmware names, else the
/// default, with a warning where the two disagree or the firmware is unknown.
pub(super) fn choose(configured: Option<SerialModel>, firmware: &str) -> (SerialModel, ModelChoice) {
    let named = SerialModel::by_firmware(firmware);
    match (configured, named) {
        (Some(c), named) => {
            if let Some(n) = named.filter(|n| n != &c) {
                tracing::warn!(
                    firmware,
                    configured = c.key,
                    named = n.key,
                    "the reader's firmware names another model than the configured profile; the configured one is used"
                );
            }
            (c, ModelChoice::Configured)
        }
        (None, Some(n)) => (n, ModelChoice::Firmware),
        (None, None) => {
            let known: Vec<&str> = MODELS.iter().map(|p| p.key).collect();
            tracing::warn!(
                firmware,
                "the reader's firmware names no known model: {} assumed; give PATH:PROFILE (profiles {}) if it is another",
                DEFAULT.key,
                known.join(", ")
            );
            (DEFAULT, ModelChoice::Default)
        }
    }
}

/// What a reader that names no known model is taken for.
pub(super) const DEFAULT: SerialModel = GEMPC_TWIN;

/// Splits `PATH[:PROFILE]`; no PROFILE is `None` (the firmware will tell).
/// Device paths may themselves contain colons
/// (`/dev/serial/by-path/pci-0000:00:14.0-usb-0:1:1.0-port0`), so only a last
/// component made of letters is taken as a model name, and it must be a
/// known one.
pub(super) fn parse_spec(spec: &str) -> Result<(String, Option<SerialModel>), TransportError> {
    let spec = spec.trim();
    let (path, model) = match spec.rsplit_once(':') {
        Some((path, name)) if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphabetic()) => {
            let model = SerialModel::by_name(name).ok_or_else(|| {
                let known: Vec<&str> = MODELS.iter().map(|p| p.key).collect();
                TransportError::Protocol(format!(
                    "unknown serial reader profile {name:?} (known: {})",
                    known.join(", ")
                ))
            })?;
            (path, Some(model))
        }
        _ => (spec, None),
    };
    if path.is_empty() {
        return Err(TransportError::Protocol(format!(
            "serial reader spec {spec:?} has no device path"
        )));
    }
    Ok((path.to_string(), model))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        assert_eq!(parse_spec("/dev/ttyUSB0").unwrap(), ("/dev/ttyUSB0".into(), None));
        assert_eq!(
            parse_spec("/dev/ttyUSB0:gemcoresimpro").unwrap(),
            ("/dev/ttyUSB0".into(), Some(GEMCORE_SIM_PRO))
        );
        assert_eq!(
            parse_spec("/dev/ttyS1:GemCorePOSPro").unwrap().1.unwrap().slots,
            5
        );
        assert!(parse_spec("/dev/ttyS1:GemPCPinPad").unwrap().1.unwrap().echo);
        assert!(parse_spec("/dev/ttyS1:gempcpinpad").unwrap().1.unwrap().pinpad);
        assert!(MODELS.iter().filter(|p| p.pinpad).count() == 1);
        let by_path = "/dev/serial/by-path/pci-0000:00:14.0-usb-0:1:1.0-port0";
        assert_eq!(parse_spec(by_path).unwrap(), (by_path.into(), None));
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

    #[test]
    fn firmware_names_the_model() {
        assert_eq!(
            SerialModel::by_firmware("GemCore SIM Pro v1.0-lecteur-sim"),
            Some(GEMCORE_SIM_PRO)
        );
        assert_eq!(
            SerialModel::by_firmware("GEMCORE-POS-PRO 2.1"),
            Some(GEMCORE_POS_PRO)
        );
        assert_eq!(SerialModel::by_firmware("GemPC PinPad v1.0"), Some(GEMPC_PINPAD));
        assert_eq!(SerialModel::by_firmware("GemPC Twin v1.0"), Some(GEMPC_TWIN));
        assert_eq!(SerialModel::by_firmware("GemPC Fake 1.00"), None);
        assert_eq!(SerialModel::by_firmware(""), None);
        let sim_pro = "GemCore SIM Pro v1.0";
        assert_eq!(choose(None, sim_pro), (GEMCORE_SIM_PRO, ModelChoice::Firmware));
        assert_eq!(
            choose(Some(GEMPC_TWIN), sim_pro),
            (GEMPC_TWIN, ModelChoice::Configured)
        );
        assert_eq!(choose(None, "OS-X 3.3"), (DEFAULT, ModelChoice::Default));
    }
}
