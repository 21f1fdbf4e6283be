//! Where the socket is, for the daemon and its clients alike.

use std::path::{Path, PathBuf};

/// `explicit` (`--socket`), else `$LECTEUR_SOCKET`, else
/// `$XDG_RUNTIME_DIR/lecteur.sock`, else `/run/lecteur/lecteur.sock`.
pub fn resolve(explicit: Option<&Path>) -> PathBuf {
    if let Some(p) = explicit {
        return p.to_path_buf();
    }
    if let Some(p) = std::env::var_os("LECTEUR_SOCKET").filter(|p| !p.is_empty()) {
        return p.into();
    }
    if let Some(d) = std::env::var_os("XDG_RUNTIME_DIR").filter(|p| !p.is_empty()) {
        return Path::new(&d).join("lecteur.sock");
    }
    PathBuf::from("/run/lecteur/lecteur.sock")
}
