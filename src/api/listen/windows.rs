//! Windows: the named pipe `\\.\pipe\lecteur` (tokio's named pipes); the
//! client's process id and user SID from the pipe (lecteur-win).
//!
//! The pipe is claimed with `FILE_FLAG_FIRST_PIPE_INSTANCE`: if another
//! process created the name first (a squatter would receive every client),
//! lecteurd refuses to start. Its DACL then keeps others from adding
//! instances: SYSTEM, Administrators and lecteurd's own user have full
//! control; the clients (interactive users, or the socket group, or the
//! allowed SIDs) may read and write but not create instances
//! (`FILE_CREATE_PIPE_INSTANCE` is the bit `FILE_APPEND_DATA` shares, so
//! they get no generic write either: clients open the pipe with
//! `FILE_GENERIC_READ | FILE_WRITE_DATA`). Remote clients are rejected.

use super::ListenError;
use crate::api::access::Access;
use lecteur_win::PipeSecurity;
use std::convert::Infallible;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncRead, ReadBuf};
use tokio::net::windows::named_pipe::{NamedPipeServer, ServerOptions};

/// Nothing: there is no socket activation on Windows.
pub type Activated = Infallible;

/// What `--allow-sid` calls the peer, for the log.
pub(crate) const WHO: &str = "user SID";
/// The option that lets a refused peer in.
pub(crate) const ALLOW_HINT: &str = "--allow-sid";

/// A client's rights on the pipe: `FILE_GENERIC_READ` (0x120089) and
/// `FILE_GENERIC_WRITE` (0x120116) without `FILE_APPEND_DATA` =
/// `FILE_CREATE_PIPE_INSTANCE` (4).
const CLIENT_RIGHTS: &str = "0x12019b";

/// Who may open the pipe besides SYSTEM, Administrators and lecteurd's
/// user: the allowed SIDs, else the socket group, else interactive users.
fn sddl(access: &Access, me: &str) -> Result<String, ListenError> {
    let clients: Vec<&str> = match (&access.allowed_sids, &access.group) {
        (Some(sids), _) => sids.iter().map(String::as_str).collect(),
        (None, Some(group)) => vec![group.as_str()],
        (None, None) => vec!["IU"],
    };
    let mut sddl = format!("D:P(A;;GA;;;SY)(A;;GA;;;BA)(A;;GA;;;{me})");
    for who in clients {
        // A SID (`S-1-5-…`) or an SDDL alias (`IU`, `BU`): nothing that
        // could close the ACE and add another.
        if who.is_empty() || !who.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(ListenError::Principal(who.to_string()));
        }
        sddl.push_str(&format!("(A;;{CLIENT_RIGHTS};;;{who})"));
    }
    Ok(sddl)
}

/// The API's pipe: the instance waiting for the next client.
pub struct Listener {
    name: String,
    options: ServerOptions,
    security: PipeSecurity,
    next: NamedPipeServer,
}

/// Creates the pipe `path`'s first instance, or fails with `InUse` if any
/// instance of that name exists (another lecteurd, or a squatter).
pub fn bind(path: &Path, access: &Access) -> Result<Listener, ListenError> {
    let bind_error = |source| ListenError::Bind {
        path: path.to_path_buf(),
        source,
    };
    if access.allowed_uids.is_some() {
        tracing::warn!("allowed uids (--allow-uid) are for Unix: ignored here (see --allow-sid)");
    }
    let name = path
        .to_str()
        .ok_or_else(|| bind_error(io::ErrorKind::InvalidInput.into()))?;
    let me = lecteur_win::current_user_sid().map_err(bind_error)?;
    let security = PipeSecurity::from_sddl(&sddl(access, &me)?).map_err(bind_error)?;
    if name_taken(name) {
        return Err(ListenError::InUse {
            path: path.to_path_buf(),
        });
    }
    let mut options = ServerOptions::new();
    options.reject_remote_clients(true).first_pipe_instance(true);
    let next = match lecteur_win::create_pipe(&options, name, &security) {
        Ok(pipe) => pipe,
        // tokio's documented answer when an instance already exists.
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
            return Err(ListenError::InUse {
                path: path.to_path_buf(),
            })
        }
        Err(e) => return Err(bind_error(e)),
    };
    options.first_pipe_instance(false);
    Ok(Listener {
        name: name.to_string(),
        options,
        security,
        next,
    })
}

/// Whether a pipe of that name exists, by opening it as a client would:
/// `FILE_FLAG_FIRST_PIPE_INSTANCE` is the real check (a pipe created after
/// this look is still caught), this one also holds where that flag is not
/// honoured (Wine 8). Opened anonymously: a squatter learns nothing of
/// lecteurd's user and cannot act as it.
fn name_taken(name: &str) -> bool {
    use std::os::windows::fs::OpenOptionsExt;
    /// `SECURITY_ANONYMOUS` (winbase.h); std adds `SECURITY_SQOS_PRESENT`.
    const SECURITY_ANONYMOUS: u32 = 0;
    let probe = std::fs::OpenOptions::new()
        .read(true)
        .security_qos_flags(SECURITY_ANONYMOUS)
        .open(name);
    // Busy, refused or opened: something serves that name.
    !matches!(probe, Err(e) if e.kind() == io::ErrorKind::NotFound)
}

/// Never called: there is no socket activation on Windows.
pub fn activated(listener: Activated) -> Result<(PathBuf, Listener), ListenError> {
    match listener {}
}

impl Listener {
    /// The next client. The next instance is created before the connected
    /// one is handed out, so one always exists (a client in between would
    /// otherwise find no pipe); a client gone before it was accepted costs
    /// its instance only.
    pub(crate) async fn accept(&mut self) -> io::Result<Stream> {
        loop {
            let connected = self.next.connect().await;
            let fresh = lecteur_win::create_pipe(&self.options, &self.name, &self.security)?;
            let pipe = std::mem::replace(&mut self.next, fresh);
            match connected {
                Ok(()) => {
                    return Ok(Stream {
                        pipe: Arc::new(pipe),
                        first: Vec::new(),
                    })
                }
                Err(e) => tracing::debug!("a client left before it was accepted: {e}"),
            }
        }
    }
}

/// A client's connection.
pub(crate) struct Stream {
    pipe: Arc<NamedPipeServer>,
    /// The client's first bytes, read to identify it; read again first.
    first: Vec<u8>,
}

impl Stream {
    /// The client's process id and user SID. Impersonation gives the
    /// security context of the last message read, so this waits for the
    /// client's first bytes and reads them (they are kept for the reader).
    /// An error means the client is not served.
    pub(crate) async fn identify(&mut self) -> io::Result<Peer> {
        let mut buf = vec![0u8; 4096];
        let n = loop {
            self.pipe.readable().await?;
            match self.pipe.try_read(&mut buf) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e),
            }
        };
        buf.truncate(n);
        self.first = buf;
        // Synchronous, on this thread: impersonate, open the token, revert.
        let id = lecteur_win::client_identity(&self.pipe).map_err(io::Error::other)?;
        Ok(Peer {
            pid: Some(id.pid),
            sid: id.sid,
        })
    }

    pub(crate) fn split(self) -> (ReadHalf, WriteHalf) {
        let read = ReadHalf {
            pipe: self.pipe.clone(),
            first: self.first,
            at: 0,
        };
        (read, WriteHalf(self.pipe))
    }
}

/// What the connection reads: the bytes read to identify the client, then
/// the pipe.
pub(crate) struct ReadHalf {
    pipe: Arc<NamedPipeServer>,
    first: Vec<u8>,
    at: usize,
}

impl AsyncRead for ReadHalf {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.at < this.first.len() {
            let n = buf.remaining().min(this.first.len() - this.at);
            buf.put_slice(&this.first[this.at..this.at + n]);
            this.at += n;
            if this.at == this.first.len() {
                this.first = Vec::new();
                this.at = 0;
            }
            return Poll::Ready(Ok(()));
        }
        loop {
            ready!(this.pipe.poll_read_ready(cx))?;
            match this.pipe.try_read(buf.initialize_unfilled()) {
                Ok(n) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                // Readiness was cleared: the next poll waits for real.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

/// What the connection's outbox writes, never waiting but in `writable`.
pub(crate) struct WriteHalf(Arc<NamedPipeServer>);

impl WriteHalf {
    pub(crate) fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.0.try_write(buf)
    }

    pub(crate) async fn writable(&self) -> io::Result<()> {
        self.0.writable().await
    }

    /// Disconnects the client: both ends fail from now on, so the
    /// connection's reader ends too.
    pub(crate) fn cut(&self) {
        let _ = self.0.disconnect();
    }
}

/// Who is calling: the client process and its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// Its process.
    pub pid: Option<u32>,
    /// Its user's SID (`S-1-5-21-…`).
    pub sid: String,
}

impl Peer {
    /// Whether the SID allow-list lets it in (always without a list).
    pub fn allowed_by(&self, access: &Access) -> bool {
        access.allows_sid(&self.sid)
    }
}

impl std::fmt::Display for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "sid={} pid={:?}", self.sid, self.pid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_dacl_lets_interactive_users_read_and_write_only() {
        let sddl = sddl(&Access::default(), "S-1-5-21-1-2-3-1000").unwrap();
        assert_eq!(
            sddl,
            "D:P(A;;GA;;;SY)(A;;GA;;;BA)(A;;GA;;;S-1-5-21-1-2-3-1000)(A;;0x12019b;;;IU)"
        );
        PipeSecurity::from_sddl(&sddl).unwrap();
    }

    #[test]
    fn allowed_sids_replace_interactive_users_and_cannot_inject() {
        let mut access = Access {
            allowed_sids: Some(vec!["S-1-5-21-9-9-9-1001".into()]),
            group: Some("BU".into()),
            ..Access::default()
        };
        assert!(sddl(&access, "SY")
            .unwrap()
            .ends_with("(A;;0x12019b;;;S-1-5-21-9-9-9-1001)"));
        access.allowed_sids = None;
        assert!(sddl(&access, "SY").unwrap().ends_with("(A;;0x12019b;;;BU)"));
        access.group = Some("IU)(A;;GA;;;WD".into());
        assert!(matches!(sddl(&access, "SY"), Err(ListenError::Principal(_))));
    }
}
