//! Unix: a stream socket file (mode 0660, the socket group), or the one
//! systemd passed; the peer's uid, gid and pid from SO_PEERCRED.

use super::ListenError;
use crate::api::access::{gid_of, Access};
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{UnixListener, UnixStream};

/// A listening socket systemd passed (socket activation).
pub type Activated = std::os::unix::net::UnixListener;

/// What `--allow-uid` calls the peer, for the log.
pub(crate) const WHO: &str = "uid";
/// The option that lets a refused peer in.
pub(crate) const ALLOW_HINT: &str = "--allow-uid";

/// The API's listening socket.
pub struct Listener(UnixListener);

/// Binds `path` with mode 0660, owned by the socket group when `access`
/// names one (its members may connect). A socket a live daemon answers on
/// is refused; a stale one (nobody listening) is replaced.
pub fn bind(path: &Path, access: &Access) -> Result<Listener, ListenError> {
    if access.allowed_sids.is_some() {
        tracing::warn!("allowed SIDs (--allow-sid) are for Windows: ignored here");
    }
    let gid = access.group.as_deref().map(gid_of).transpose()?;
    let bind_error = |source| ListenError::Bind {
        path: path.to_path_buf(),
        source,
    };
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(ListenError::InUse {
                path: path.to_path_buf(),
            });
        }
        std::fs::remove_file(path).map_err(bind_error)?;
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(bind_error)?;
    }
    let listener = UnixListener::bind(path).map_err(bind_error)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660)).map_err(bind_error)?;
    if let Some(gid) = gid {
        std::os::unix::fs::chown(path, None, Some(gid)).map_err(bind_error)?;
    }
    Ok(Listener(listener))
}

/// The listener systemd passed, and its path (systemd's to remove).
pub fn activated(listener: Activated) -> Result<(PathBuf, Listener), ListenError> {
    let path = listener
        .local_addr()
        .ok()
        .and_then(|a| a.as_pathname().map(PathBuf::from))
        .unwrap_or_default();
    listener.set_nonblocking(true).map_err(ListenError::Activated)?;
    let listener = UnixListener::from_std(listener).map_err(ListenError::Activated)?;
    Ok((path, Listener(listener)))
}

impl Listener {
    /// The next client.
    pub(crate) async fn accept(&mut self) -> io::Result<Stream> {
        let (stream, _) = self.0.accept().await?;
        Ok(Stream(stream))
    }
}

/// A client's connection.
pub(crate) struct Stream(UnixStream);

impl Stream {
    /// The peer's credentials, known from the connection itself. Never
    /// fails: credentials the system does not give are `None` (such a peer
    /// is served only without an allow-list).
    pub(crate) async fn identify(&mut self) -> io::Result<Peer> {
        let cred = self.0.peer_cred().ok();
        Ok(Peer {
            uid: cred.map(|c| c.uid()),
            gid: cred.map(|c| c.gid()),
            pid: cred.and_then(|c| c.pid()),
        })
    }

    pub(crate) fn split(self) -> (ReadHalf, WriteHalf) {
        let (read, write) = self.0.into_split();
        (read, WriteHalf(write))
    }
}

/// What the connection reads.
pub(crate) type ReadHalf = OwnedReadHalf;

/// What the connection's outbox writes, never waiting but in `writable`.
pub(crate) struct WriteHalf(OwnedWriteHalf);

impl WriteHalf {
    pub(crate) fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.0.try_write(buf)
    }

    pub(crate) async fn writable(&self) -> io::Result<()> {
        self.0.writable().await
    }

    /// Cuts the connection both ways, so that its reader ends too.
    pub(crate) fn cut(&self) {
        let _ = rustix::net::shutdown(self.0.as_ref(), rustix::net::Shutdown::Both);
    }
}

/// Who is calling (SO_PEERCRED).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// Its user.
    pub uid: Option<u32>,
    /// Its group.
    pub gid: Option<u32>,
    /// Its process.
    pub pid: Option<i32>,
}

impl Peer {
    /// Whether the uid allow-list lets it in (a peer of unknown uid only
    /// without a list).
    pub fn allowed_by(&self, access: &Access) -> bool {
        match self.uid {
            Some(uid) => access.allows(uid),
            None => access.allowed_uids.is_none(),
        }
    }
}

impl std::fmt::Display for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "uid={:?} gid={:?} pid={:?}", self.uid, self.gid, self.pid)
    }
}
