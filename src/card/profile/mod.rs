//! Card profiles: the facts about each card that are not public, as TOML
//! files shipped in `profiles/` and compiled in, each replaceable by a file of
//! the same name in a profile directory.

mod cps;
mod hex;
mod readers;
mod vihf;
mod vitale;

pub use self::hex::{Fid, FilePath, Hex, HexError, Tag};
pub use cps::*;
pub use readers::{ReaderRoles, ReaderRule, SlotRole};
pub use vihf::*;
pub use vitale::*;

use super::CardKind;
use serde::de::DeserializeOwned;
use std::path::Path;
use std::sync::{Arc, OnceLock};

const READERS_FILE: &str = "readers.toml";
const READERS_TOML: &str = include_str!("../../../profiles/readers.toml");
const CPS3_FILE: &str = "cps3.toml";
const CPS4_FILE: &str = "cps4.toml";
const VITALE2_FILE: &str = "vitale2.toml";
const CPS3_TOML: &str = include_str!("../../../profiles/cps3.toml");
const CPS4_TOML: &str = include_str!("../../../profiles/cps4.toml");
const VITALE2_TOML: &str = include_str!("../../../profiles/vitale2.toml");
const VIHF_FILE: &str = "vihf.toml";
const VIHF_TOML: &str = include_str!("../../../profiles/vihf.toml");

/// A profile that cannot be used: which file, which line (when known), why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct ProfileError {
    /// The file: its path, or `<built-in NAME>`.
    pub file: String,
    /// The line (1-based) of a syntax or type error; `None` for a rule broken
    /// or a file that cannot be read.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

/// A profile value out of range or inconsistent: the rule it breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

impl From<&str> for Invalid {
    fn from(rule: &str) -> Self {
        Invalid(rule.to_string())
    }
}

impl From<String> for Invalid {
    fn from(rule: String) -> Self {
        Invalid(rule)
    }
}

/// The profiles in use, shared by every slot.
#[derive(Debug, Clone)]
pub struct Profiles {
    /// The CPS3 profile (`cps3.toml`).
    pub cps3: Arc<CpsProfile>,
    /// The CPS4 profile (`cps4.toml`).
    pub cps4: Arc<CpsProfile>,
    /// The Vitale 2 profile (`vitale2.toml`).
    pub vitale2: Arc<VitaleProfile>,
    /// The reader slot roles (`readers.toml`).
    pub readers: Arc<ReaderRoles>,
    /// The VIHF assertion profile (`vihf.toml`).
    pub vihf: Arc<VihfProfile>,
}

impl Profiles {
    /// The compiled-in profiles, overridden file by file from `dir`.
    pub fn load(dir: Option<&Path>) -> Result<Profiles, ProfileError> {
        let read = |name: &str, builtin: &'static str| -> Result<(String, String), ProfileError> {
            let Some(dir) = dir else {
                return Ok((format!("<built-in {name}>"), builtin.to_string()));
            };
            let path = dir.join(name);
            match std::fs::read_to_string(&path) {
                Ok(text) => Ok((path.display().to_string(), text)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && dir.is_dir() => {
                    Ok((format!("<built-in {name}>"), builtin.to_string()))
                }
                Err(e) => Err(ProfileError {
                    file: path.display().to_string(),
                    line: None,
                    message: e.to_string(),
                }),
            }
        };
        let (f, t) = read(CPS3_FILE, CPS3_TOML)?;
        let cps3: CpsProfile = parse(&f, &t, CpsProfile::validate)?;
        let (f, t) = read(CPS4_FILE, CPS4_TOML)?;
        let cps4: CpsProfile = parse(&f, &t, CpsProfile::validate)?;
        let (f, t) = read(VITALE2_FILE, VITALE2_TOML)?;
        let vitale2: VitaleProfile = parse(&f, &t, VitaleProfile::validate)?;
        let (f, t) = read(READERS_FILE, READERS_TOML)?;
        let readers: ReaderRoles = parse(&f, &t, ReaderRoles::validate)?;
        let (f, t) = read(VIHF_FILE, VIHF_TOML)?;
        let vihf: VihfProfile = parse(&f, &t, VihfProfile::validate)?;
        Ok(Profiles {
            cps3: Arc::new(cps3),
            cps4: Arc::new(cps4),
            vitale2: Arc::new(vitale2),
            readers: Arc::new(readers),
            vihf: Arc::new(vihf),
        })
    }

    /// The compiled-in profiles (checked by this module's tests).
    pub fn builtin() -> Result<&'static Profiles, ProfileError> {
        static BUILTIN: OnceLock<Result<Profiles, ProfileError>> = OnceLock::new();
        BUILTIN
            .get_or_init(|| Profiles::load(None))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The CPS profile for a card kind, `None` for a card that is not a
    /// contact CPS.
    pub fn cps(&self, kind: CardKind) -> Option<Arc<CpsProfile>> {
        match kind {
            CardKind::Cps3 => Some(self.cps3.clone()),
            CardKind::Cps4 => Some(self.cps4.clone()),
            _ => None,
        }
    }
}

/// Parses and validates one profile, turning toml's byte spans into lines.
pub fn parse<T: DeserializeOwned>(
    file: &str,
    text: &str,
    validate: impl Fn(&T) -> Result<(), Invalid>,
) -> Result<T, ProfileError> {
    let value: T = toml::from_str(text).map_err(|e| ProfileError {
        file: file.to_string(),
        line: e.span().map(|s| line_of(text, s.start)),
        message: e.message().to_string(),
    })?;
    validate(&value).map_err(|Invalid(message)| ProfileError {
        file: file.to_string(),
        line: None,
        message,
    })?;
    Ok(value)
}

fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end].iter().filter(|b| **b == b'\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_profiles_load() {
        let p = Profiles::builtin().unwrap();
        assert_eq!(p.cps3.generation, Generation::Cps3);
        assert_eq!(p.cps4.generation, Generation::Cps4);
        assert_eq!(p.cps4.application.cla, 0x01);
        assert_eq!(
            p.cps3.files.situation(16).unwrap(),
            [0x3F, 0x00, 0x00, 0x01, 0xD1, 0x2F]
        );
        assert_eq!(p.cps3.files.situation(17), None);
        assert_eq!(p.cps3.labels.situation(7), "CPS_ACTIVITY_07_PS");
        assert!(p.vitale2.tags.beneficiary_fields.regime.is_none());
        assert!(p.cps(CardKind::Cps3).is_some());
        assert!(p.cps(CardKind::Vitale2).is_none());
        assert_eq!(p.vihf.signature.digest, VihfDigest::Sha256);
        assert_eq!(p.vihf.names.mode, "Authentification_mode");
    }

    #[test]
    fn errors_name_the_file_and_the_line() {
        let text = CPS3_TOML.replace("chunk = 0xE7", "chunk = \"big\"");
        let e = parse::<CpsProfile>("x/cps3.toml", &text, CpsProfile::validate).unwrap_err();
        let line = CPS3_TOML.lines().position(|l| l.starts_with("chunk")).unwrap() + 1;
        assert_eq!((e.file.as_str(), e.line), ("x/cps3.toml", Some(line)));
        assert!(e.to_string().starts_with(&format!("x/cps3.toml:{line}: ")));

        let text = CPS3_TOML.replace("category = \"81\"", "category = \"9F\"");
        let e = parse::<CpsProfile>("f", &text, CpsProfile::validate).unwrap_err();
        assert!(e.line.is_some() && e.message.contains("BER tag"), "{e}");

        let text = format!("{CPS3_TOML}\nsurprise = 1\n");
        assert!(parse::<CpsProfile>("f", &text, CpsProfile::validate).is_err());

        let text = CPS3_TOML.replace("min_length = 4", "min_length = 9");
        let e = parse::<CpsProfile>("f", &text, CpsProfile::validate).unwrap_err();
        assert_eq!(e.line, None);
    }

    #[test]
    fn the_cps4_profile_says_how_cryptolib_drives_it() {
        let p = Profiles::builtin().unwrap();
        let (c3, c4) = (&p.cps3, &p.cps4);
        assert_eq!(
            (c3.read.select, c4.read.select),
            (PathSelection::MfPath, PathSelection::Relative)
        );
        assert_eq!((c3.read.chunk, c4.read.chunk), (0xE7, 256));
        assert_eq!(c3.discovery.dir_aid(&c3.application), c3.application.aid.0);
        assert_eq!(c4.discovery.dir_aid(&c4.application), c3.application.aid.0);
        assert_eq!(c3.authentication_pkcs1(), AuthPkcs1::InternalAuthenticate);
        assert_eq!(c4.authentication_pkcs1(), AuthPkcs1::Decipher);
        assert_eq!(c4.authentication.unwrap().decipher_key, Some(0x20));
        let r = c4.application.reselect.as_ref().unwrap();
        assert_eq!(r.status.0, [0x69, 0x85]);
        assert_eq!(
            r.steps,
            [
                SelectStep {
                    cla: 0x01,
                    aid: Hex(vec![0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00])
                },
                SelectStep {
                    cla: 0x00,
                    aid: Hex(vec![0x80, 0x25, 0x00, 0x00, 0x01, 0xFF, 0x00, 0x02])
                },
            ]
        );
        assert!(c3.application.reselect.is_none());

        // A replacement written before these fields keeps the old commands.
        let old = CPS4_TOML
            .replace("select = \"relative\"", "")
            .replace("[authentication]\npkcs1 = \"decipher\"\ndecipher_key = 0x20", "");
        let o = parse::<CpsProfile>("f", &old, CpsProfile::validate).unwrap();
        assert_eq!(
            (o.read.select, o.authentication_pkcs1()),
            (PathSelection::MfPath, AuthPkcs1::PsoCds)
        );
        // Inconsistent ones are refused.
        for (from, to) in [
            ("decipher_key = 0x20", ""),
            ("status = \"69 85\"", "status = \"69\""),
            ("pkcs1 = \"decipher\"", "pkcs1 = \"internal_authenticate\""),
        ] {
            let text = CPS4_TOML.replace(from, to);
            assert!(
                parse::<CpsProfile>("f", &text, CpsProfile::validate).is_err(),
                "{to}"
            );
        }
    }

    #[test]
    fn a_directory_overrides_file_by_file() {
        let dir = tempfile::tempdir().unwrap();
        let text = CPS3_TOML.replace(
            "reverify_before_signature = false",
            "reverify_before_signature = true",
        );
        std::fs::write(dir.path().join("cps3.toml"), text).unwrap();
        let p = Profiles::load(Some(dir.path())).unwrap();
        assert!(p.cps3.pin.reverify_before_signature);
        assert!(!p.cps4.pin.reverify_before_signature);

        std::fs::write(dir.path().join("vitale2.toml"), "[applications]\n").unwrap();
        let e = Profiles::load(Some(dir.path())).unwrap_err();
        assert!(e.file.ends_with("vitale2.toml"), "{e}");
        assert!(Profiles::load(Some(&dir.path().join("missing"))).is_err());
    }
}
