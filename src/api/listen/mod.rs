//! Where the API listens and who is calling: the one place the platforms
//! differ for the API. Each platform's module gives the same names:
//! - `bind(path, &Access)` → a [`Listener`] (Unix: a socket file, mode 0660
//!   and the socket group; Windows: the named pipe, first instance claimed
//!   or a squatter detected, a DACL for the allowed users), and
//!   `activated(Activated)` for a listener systemd passed (Unix; on Windows
//!   `Activated` has no value);
//! - `Listener::accept` → a `Stream`, whose `identify` gives the [`Peer`]
//!   (Unix: SO_PEERCRED; Windows: process id and user SID, after the
//!   client's first bytes are read) and `split` a `ReadHalf` (`AsyncRead`)
//!   and a `WriteHalf` (`try_write`, `writable`, `cut`);
//! - `Peer::allowed_by(&Access)` and its `Display` for the log; `ALLOW_HINT`,
//!   the option that lets a refused user in.
//!
//! `connection` and `outbox` use only these, with no `cfg` of their own.

use std::path::PathBuf;

#[cfg(unix)]
#[path = "unix.rs"]
mod platform;
#[cfg(windows)]
#[path = "windows.rs"]
mod platform;

pub use platform::{activated, bind, Activated, Listener, Peer};
pub(crate) use platform::{Stream, WriteHalf, ALLOW_HINT, WHO};

/// `--socket`, else `$LECTEUR_SOCKET`, else the platform's default
/// (`$XDG_RUNTIME_DIR/lecteur.sock` or `/run/lecteur/lecteur.sock`;
/// `\\.\pipe\lecteur` on Windows): the contract's, which clients share.
pub use lecteur_proto::socket::resolve;

/// Why the API cannot listen. The messages are lecteurd's (after `lecteurd: `).
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    /// The socket systemd passed cannot be used.
    #[error("socket from systemd: {0}")]
    Activated(#[source] std::io::Error),
    /// The socket group is unknown or /etc/group unreadable.
    #[error(transparent)]
    Group(#[from] super::access::GroupError),
    /// Another process already serves this path or pipe name (another
    /// lecteurd, or on Windows a squatter that created the pipe first).
    #[error("socket {}: another process already serves it (another lecteurd, or a squatter)", path.display())]
    InUse {
        /// The socket path or pipe name.
        path: PathBuf,
    },
    /// A user or group for the pipe's access list is not a SID or an SDDL
    /// alias (Windows `--allow-sid`, `--socket-group`).
    #[error("not a SID or an SDDL alias: {0:?}")]
    Principal(String),
    /// The socket cannot be bound (or the pipe created).
    #[error("socket {}: {source}", path.display())]
    Bind {
        /// The socket path or pipe name.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}
