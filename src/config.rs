//! `/etc/lecteur/lecteur.toml` (`%ProgramData%\lecteur\lecteur.toml` on
//! Windows): what an administrator sets once. Options on
//! lecteurd's command line override it. An invalid file is refused with its
//! path and line, never half-applied.

use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Where lecteurd looks when `--config` is not given (read only if it
/// exists): `/etc/lecteur/lecteur.toml`, on Windows
/// `%ProgramData%\lecteur\lecteur.toml`.
pub fn default_path() -> PathBuf {
    if cfg!(windows) {
        under_program_data(std::env::var_os("ProgramData"))
    } else {
        PathBuf::from("/etc/lecteur/lecteur.toml")
    }
}

/// `lecteur\lecteur.toml` under the ProgramData folder as the environment
/// names it. Windows sets that variable in every process's environment,
/// services' included, from the registry value (ProfileList\ProgramData) that
/// the known-folder API (FOLDERID_ProgramData) reads too, and Microsoft does
/// not support moving that folder: no `unsafe` call is worth it.
/// `C:\ProgramData`, its default since Vista, when the variable is missing
/// or not absolute.
fn under_program_data(dir: Option<std::ffi::OsString>) -> PathBuf {
    let mut path = dir
        .filter(|d| is_absolute_windows(&d.to_string_lossy()))
        .unwrap_or_else(|| r"C:\ProgramData".into());
    path.push(r"\lecteur\lecteur.toml");
    PathBuf::from(path)
}

/// `X:\...` or `\\server\...`: never a path relative to the current directory.
fn is_absolute_windows(p: &str) -> bool {
    let b = p.as_bytes();
    (b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'\\') || p.starts_with(r"\\")
}

/// The file's settings; each left out keeps lecteurd's default.
#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Socket path (ignored under systemd socket activation).
    pub socket: Option<PathBuf>,
    /// Group owning the socket (name or number).
    pub socket_group: Option<String>,
    /// Only these uids are served.
    pub allowed_uids: Option<Vec<u32>>,
    /// Windows: only these user SIDs may open the pipe and are served.
    pub allowed_sids: Option<Vec<String>>,
    /// Requests per second per connection (0: no limit).
    pub max_rate: Option<u32>,
    /// Seconds an unused PIN verification is kept.
    pub pin_idle_timeout: Option<u64>,
    /// Seconds a request waits for a card another application holds.
    pub card_wait: Option<u64>,
    /// Log filter (`info`, `debug`, `lecteur=trace`…); `LECTEUR_LOG` wins.
    pub log: Option<String>,
    /// Use PC/SC (pcscd); default true.
    pub pcsc: Option<bool>,
    /// Directory of card profiles replacing the built-in ones, file by file.
    #[serde(rename = "profiles")]
    pub profiles_dir: Option<PathBuf>,
    /// CCID-over-serial readers.
    #[serde(default)]
    pub serial: Vec<SerialPort>,
}

/// One `[[serial]]` reader.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SerialPort {
    /// The serial device (`/dev/ttyS0`...).
    pub port: PathBuf,
    /// The reader's model (`GemPCTwin`, `GemCoreSIMPro`, `GemCorePOSPro`,
    /// `GemPCPinPad`), spelt `profile` as in `PATH:PROFILE`.
    #[serde(rename = "profile")]
    pub model: Option<String>,
}

impl SerialPort {
    /// As `--serial` spells it: `PATH[:PROFILE]`.
    pub fn spec(&self) -> String {
        match &self.model {
            Some(p) => format!("{}:{p}", self.port.display()),
            None => self.port.display().to_string(),
        }
    }
}

/// A configuration that does not parse; the message names the line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The TOML is invalid at this line.
    #[error("line {line}: {message}")]
    At {
        /// 1-based.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// toml gave no position.
    #[error("{0}")]
    Unplaced(String),
    /// `log` is not a valid log filter.
    #[error("line {line}: log filter {filter:?} is not valid")]
    LogFilter {
        /// The line of `log`, 1-based (0: not found).
        line: usize,
        /// The filter given.
        filter: String,
    },
}

/// A configuration file that cannot be read or used.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct LoadError {
    /// The file.
    pub path: std::path::PathBuf,
    /// What went wrong.
    #[source]
    pub source: LoadErrorKind,
}

/// Why a configuration file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LoadErrorKind {
    /// It cannot be read.
    #[error(transparent)]
    Read(std::io::Error),
    /// It does not parse.
    #[error(transparent)]
    Parse(ConfigError),
}

impl FileConfig {
    /// Parses a configuration; the error names the line.
    pub fn parse(text: &str) -> Result<FileConfig, ConfigError> {
        let config: FileConfig = toml::from_str(text).map_err(|e| {
            let message = e.message().to_string();
            match e.span().map(|s| line_of(text, s.start)) {
                Some(line) => ConfigError::At { line, message },
                None => ConfigError::Unplaced(message),
            }
        })?;
        if let Some(filter) = config.log.as_deref().filter(|l| !filter_ok(l)) {
            let line = text
                .lines()
                .position(|l| l.trim_start().starts_with("log"))
                .map_or(0, |i| i + 1);
            return Err(ConfigError::LogFilter {
                line,
                filter: filter.to_string(),
            });
        }
        Ok(config)
    }

    /// Reads `path`; `Ok(None)` when it does not exist and `required` is false.
    pub fn load(path: &Path, required: bool) -> Result<Option<FileConfig>, LoadError> {
        let fail = |source| LoadError {
            path: path.to_path_buf(),
            source,
        };
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text)
                .map(Some)
                .map_err(|e| fail(LoadErrorKind::Parse(e))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => Ok(None),
            Err(e) => Err(fail(LoadErrorKind::Read(e))),
        }
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).map_or(0, |t| t.matches('\n').count()) + 1
}

/// Whether a log filter parses (directives like `info` or `lecteur=trace`).
fn filter_ok(filter: &str) -> bool {
    tracing_subscriber::EnvFilter::try_new(filter).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_path_on_windows_is_under_program_data() {
        let at = |d: Option<&str>| {
            under_program_data(d.map(Into::into))
                .to_string_lossy()
                .into_owned()
        };
        assert_eq!(at(Some(r"D:\Data")), r"D:\Data\lecteur\lecteur.toml");
        assert_eq!(at(Some(r"\\srv\share")), r"\\srv\share\lecteur\lecteur.toml");
        // Missing, empty or relative: never a path under the current directory.
        for d in [None, Some(""), Some("ProgramData"), Some(r"C:ProgramData")] {
            assert_eq!(at(d), r"C:\ProgramData\lecteur\lecteur.toml", "{d:?}");
        }
        if cfg!(unix) {
            assert_eq!(default_path(), Path::new("/etc/lecteur/lecteur.toml"));
        }
    }

    #[test]
    fn a_whole_file() {
        let c = FileConfig::parse(
            r#"
socket = "/run/lecteur/lecteur.sock"
socket_group = "lecteur"
allowed_uids = [1000, 1001]
allowed_sids = ["S-1-5-21-1-2-3-1001"]
max_rate = 500
pin_idle_timeout = 600
card_wait = 10
log = "info,lecteur=debug"
pcsc = true

[[serial]]
port = "/dev/lecteur-serial-0"
profile = "GemCoreSIMPro"

[[serial]]
port = "/dev/ttyS0"
"#,
        )
        .unwrap();
        assert_eq!(c.allowed_uids, Some(vec![1000, 1001]));
        assert_eq!(c.allowed_sids, Some(vec!["S-1-5-21-1-2-3-1001".to_string()]));
        assert_eq!(c.card_wait, Some(10));
        assert_eq!(c.serial[0].spec(), "/dev/lecteur-serial-0:GemCoreSIMPro");
        assert_eq!(c.serial[1].spec(), "/dev/ttyS0");
        assert_eq!(FileConfig::parse("").unwrap(), FileConfig::default());
    }

    #[test]
    fn errors_name_the_line() {
        let e = |text| FileConfig::parse(text).unwrap_err().to_string();
        let e1 = e("max_rate = 5\nsockett = \"/x\"\n");
        assert!(e1.starts_with("line 2:") && e1.contains("sockett"), "{e1}");
        let e2 = e("\n\nmax_rate = \"many\"\n");
        assert!(e2.starts_with("line 3:"), "{e2}");
        let e3 = e("[[serial]]\nprofile = \"GemPCTwin\"\n");
        assert!(e3.contains("port"), "{e3}");
        let e4 = e("pcsc = true\nlog = \"lecteur=nonsense\"\n");
        assert!(e4.starts_with("line 2:"), "{e4}");
    }

    #[test]
    fn the_shipped_example_parses() {
        let text = include_str!("../udev/lecteur.toml");
        assert_eq!(FileConfig::parse(text).unwrap(), FileConfig::default());
        let uncommented: String = text
            .lines()
            .map(|l| {
                l.strip_prefix('#')
                    .filter(|r| !r.starts_with(' ') && !r.is_empty())
                    .unwrap_or(l)
            })
            .collect::<Vec<_>>()
            .join("\n");
        let c = FileConfig::parse(&uncommented).unwrap();
        assert_eq!(c.socket_group.as_deref(), Some("lecteur"));
        assert_eq!(c.serial.len(), 1);
    }

    #[test]
    fn a_missing_file_is_no_configuration_unless_asked_for() {
        let p = Path::new("/nonexistent/lecteur.toml");
        assert_eq!(FileConfig::load(p, false).unwrap(), None);
        assert!(FileConfig::load(p, true)
            .unwrap_err()
            .to_string()
            .contains("/nonexistent/lecteur.toml"));
    }
}
