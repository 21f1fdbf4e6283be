//! Why a `lecteur` command failed, as the person at the terminal reads it.

use lecteur_client::ClientError;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// lecteurd answered with an error (its `data.kind` in brackets), or the
    /// connection failed.
    #[error("{}", describe(.0))]
    Api(#[from] ClientError),
    /// The same, for a step of `lecteur demo`.
    #[error("{method}: {source}")]
    Step {
        method: &'static str,
        source: ClientError,
    },
    #[error("{source} ({})", path.display())]
    Connect { path: PathBuf, source: ClientError },
    #[error("{}: {source}", path.display())]
    File { path: PathBuf, source: std::io::Error },
    #[error("cannot read the PIN: {0}")]
    Pin(std::io::Error),
    /// The command line asks for something that cannot be done.
    #[error("{0}")]
    Usage(String),
    #[error("the card has no such certificate")]
    NoCertificate,
    /// The in-process daemon of `lecteur demo` did not start.
    #[error("{0}")]
    Daemon(#[from] lecteur::daemon::DaemonError),
    #[error("invalid certificate: {0}")]
    Certificate(#[from] lecteur::card::CardError),
    #[error("the signature does NOT verify: {0}")]
    BadSignature(rsa::Error),
    #[error("{}: {source}", path.display())]
    Assertion {
        path: PathBuf,
        source: lecteur::dmp::DmpError,
    },
    #[error("{}: larger than {max} bytes", path.display())]
    TooLarge { path: PathBuf, max: usize },
    #[error("{}: not UTF-8", .0.display())]
    NotUtf8(PathBuf),
    #[error(transparent)]
    Atr(#[from] crate::atr::AtrInputError),
    #[error(transparent)]
    Bundle(#[from] crate::diag::bundle::BundleError),
}

impl CliError {
    pub(crate) fn file(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> CliError + '_ {
        move |source| CliError::File {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// An API error as a person reads it: the message and its kind.
fn describe(e: &ClientError) -> String {
    match e.rpc() {
        Some(rpc) => match rpc.data.kind {
            Some(kind) => format!("{e} [{kind}]"),
            None => e.to_string(),
        },
        None => e.to_string(),
    }
}
