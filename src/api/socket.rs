//! Where the socket lives and how it is claimed.

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use tokio::net::UnixListener;

/// `--socket`, else `$LECTEUR_SOCKET`, else `$XDG_RUNTIME_DIR/lecteur.sock`,
/// else `/run/lecteur/lecteur.sock`: the contract's, which clients share.
pub use lecteur_proto::socket::resolve;

/// Binds the socket with mode 0660, owned by group `gid` when given (its
/// members may connect). A socket a live daemon answers on is refused; a stale
/// one (nobody listening) is replaced.
pub fn bind(path: &Path, gid: Option<u32>) -> io::Result<UnixListener> {
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(io::Error::new(
                io::ErrorKind::AddrInUse,
                format!("another lecteurd is serving {}", path.display()),
            ));
        }
        std::fs::remove_file(path)?;
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))?;
    if let Some(gid) = gid {
        std::os::unix::fs::chown(path, None, Some(gid))?;
    }
    Ok(listener)
}
