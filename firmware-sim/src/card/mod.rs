//! Card models, card side. Each card answers raw short APDUs (T=0 TPDUs) with
//! response data followed by SW1 SW2, exactly as the chip would. Bytes from the
//! host are untrusted: a card model never panics on them.

pub mod apdu;
pub mod cps3;
pub mod cps4;
pub mod fs;
pub mod spec;
pub mod tlv;
pub mod unknown;
pub mod vitale1;
pub mod vitale2;

pub use cps3::Cps3Card;
pub use cps4::Cps4Card;
pub use unknown::UnknownCard;
pub use vitale1::Vitale1Card;
pub use vitale2::Vitale2Card;

/// A simulated card in a slot.
pub trait SimCard: Send {
    /// The answer to reset.
    fn atr(&self) -> Vec<u8>;
    /// A reset (cold or warm): the card forgets its security state and current file.
    fn reset(&mut self);
    /// One command APDU in, response data + SW1 SW2 out (always at least 2 bytes).
    fn transmit(&mut self, apdu: &[u8]) -> Vec<u8>;
}

/// Why a card description could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("unknown card {0:?}: use a TOML file or one of cps3, cps4, vitale2, vitale1, unknown, cps3-blocked, cps3-last-try, cps3-expired, cps3-16-situations, cps3-adeli, cps3-usage-spent, cps3-actua-empty, cps3-actua-garbled, vitale2-6-beneficiaries, vitale2-missing-century, vitale2-lunar")]
    Unknown(String),
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("invalid card description {path}: {message}")]
    Invalid { path: String, message: String },
}

/// Makes a card from a name (`cps3`, `cps4`, `vitale2`, `vitale1`,
/// `unknown`, or any other card of `cards/` by its file stem, such as
/// `cps3-blocked`) or a TOML file path.
pub fn load(spec: &str) -> Result<Box<dyn SimCard>, LoadError> {
    match spec {
        "cps3" => return Ok(default_cps3()),
        "vitale2" => return Ok(default_vitale2()),
        "unknown" => return Ok(unknown_card()),
        _ => {}
    }
    if let Some(text) = spec::bundled(spec) {
        return spec::card_from_toml(text).map_err(|message| LoadError::Invalid {
            path: format!("cards/{spec}.toml"),
            message,
        });
    }
    let path = std::path::Path::new(spec);
    let looks_like_path = spec.ends_with(".toml") || spec.contains(std::path::MAIN_SEPARATOR);
    if !looks_like_path && !path.exists() {
        return Err(LoadError::Unknown(spec.to_string()));
    }
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
        path: spec.to_string(),
        source,
    })?;
    spec::card_from_toml(&text).map_err(|message| LoadError::Invalid {
        path: spec.to_string(),
        message,
    })
}

/// Makes a card from TOML text (format: see `cards/cps3.toml`); fields left
/// out take the default card's values.
pub fn from_toml_str(text: &str) -> Result<Box<dyn SimCard>, LoadError> {
    spec::card_from_toml(text).map_err(|message| LoadError::Invalid {
        path: "<toml text>".to_string(),
        message,
    })
}

/// The default CPS3 (`cards/cps3.toml`): TRAL ADEMIS, PIN 1234.
pub fn default_cps3() -> Box<dyn SimCard> {
    spec::card_from_toml(spec::CPS3_TOML).expect("embedded cards/cps3.toml is valid")
}

/// The default CPS4 (`cards/cps4.toml`).
pub fn default_cps4() -> Box<dyn SimCard> {
    spec::card_from_toml(spec::CPS4_TOML).expect("embedded cards/cps4.toml is valid")
}

/// The default Vitale 1 (`cards/vitale1.toml`): an ATR, `6E 00` to everything.
pub fn default_vitale1() -> Box<dyn SimCard> {
    spec::card_from_toml(spec::VITALE1_TOML).expect("embedded cards/vitale1.toml is valid")
}

/// The default Vitale 2 (`cards/vitale2.toml`).
pub fn default_vitale2() -> Box<dyn SimCard> {
    spec::card_from_toml(spec::VITALE2_TOML).expect("embedded cards/vitale2.toml is valid")
}

/// A non-health card (`cards/unknown.toml`).
pub fn unknown_card() -> Box<dyn SimCard> {
    Box::new(UnknownCard::new(unknown::DEFAULT_ATR.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_names_paths_and_errors() {
        assert_eq!(load("cps3").unwrap().atr()[..3], [0x3B, 0xAC, 0x00]);
        assert_eq!(load("vitale2").unwrap().atr()[..3], [0x3B, 0x75, 0x13]);
        assert_eq!(load("unknown").unwrap().atr()[..3], [0x3B, 0x8F, 0x80]);
        assert_eq!(load("cps4").unwrap().atr()[..3], [0x3B, 0x9B, 0x18]);
        assert_eq!(load("vitale1").unwrap().atr()[..3], [0x3F, 0x65, 0x25]);
        let mut blocked = load("cps3-blocked").unwrap();
        assert_eq!(blocked.transmit(&[0, 0x20, 0, 1]), [0x69, 0x83]);
        for (name, _) in spec::BUNDLED {
            assert!(load(name).is_ok(), "{name}");
            let path = format!("{}/cards/{name}.toml", env!("CARGO_MANIFEST_DIR"));
            assert_eq!(load(&path).unwrap().atr(), load(name).unwrap().atr());
        }
        assert!(matches!(load("cps9"), Err(LoadError::Unknown(_))));
        assert!(matches!(
            load("/nonexistent/card.toml"),
            Err(LoadError::Io { .. })
        ));
        let dir = std::env::temp_dir().join(format!("lecteur-sim-load-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("blocked.toml");
        std::fs::write(&good, "kind = \"cps3\"\n[pin]\ntries_left = 0\n").unwrap();
        let mut card = load(good.to_str().unwrap()).unwrap();
        assert_eq!(card.transmit(&[0, 0x20, 0, 1]), [0x69, 0x83]);
        let bad = dir.join("bad.toml");
        std::fs::write(&bad, "kind = \"cps3\"\nholder = 3\n").unwrap();
        match load(bad.to_str().unwrap()) {
            Err(LoadError::Invalid { path, message }) => {
                assert!(path.ends_with("bad.toml"));
                assert!(!message.is_empty());
            }
            _ => panic!("expected Invalid"),
        }
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn unknown_defaults_agree_with_the_toml() {
        assert_eq!(
            from_toml_str(spec::UNKNOWN_TOML).unwrap().atr(),
            unknown_card().atr()
        );
        assert_eq!(default_vitale1().atr(), vitale1::DEFAULT_ATR);
        assert_eq!(
            default_cps4().atr(),
            [
                0x3B, 0x9B, 0x18, 0x80, 0x01, 0x00, 0x12, 0x25, 0x00, 0x64, 0x80, 0x04, 0x01, 0x00, 0x00,
                0x90, 0x44
            ]
        );
    }
}
