//! Why lecteur-load stopped, and why one request failed.

use lecteur_proto::ErrorKind;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub(crate) enum LoadError {
    #[error(transparent)]
    Mix(#[from] crate::mix::MixError),
    #[error("--clients must be at least 1")]
    NoClients,
    #[error("cannot find this program: {0}")]
    Exe(std::io::Error),
    #[error("{}: {source}", path.display())]
    File { path: PathBuf, source: std::io::Error },
    #[error("starting {}: {source}", path.display())]
    Spawn { path: PathBuf, source: std::io::Error },
    #[error("lecteurd exited: {0}")]
    Exited(std::process::ExitStatus),
    #[error("lecteurd did not open its socket within 10 s")]
    NoSocket,
    #[error("connect: {0}")]
    Connect(std::io::Error),
}

/// Why one request failed; its `Display` is the label the statistics count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum CallError {
    /// The connection failed: the client stops.
    #[error("io")]
    Io,
    /// An answer that is not one: the client stops.
    #[error("protocol")]
    Protocol,
    /// lecteurd answered with an error of this kind (`None`: unknown kind).
    #[error("{}", .0.map_or("unknown", ErrorKind::as_str))]
    Api(Option<ErrorKind>),
}

impl CallError {
    /// The connection cannot be used any more.
    pub(crate) fn is_fatal(self) -> bool {
        matches!(self, CallError::Io | CallError::Protocol)
    }
}

/// A `--duration` that is not one.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum DurationError {
    #[error("bad duration {0:?} (e.g. 10s, 500ms, 2m)")]
    Number(String),
    #[error("bad duration unit in {0:?} (ms, s, m)")]
    Unit(String),
    #[error(transparent)]
    Range(#[from] std::time::TryFromFloatSecsError),
}
