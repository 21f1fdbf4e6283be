//! Where the socket is, for the daemon and its clients alike: a Unix socket
//! file, or on Windows a named pipe (`\\.\pipe\…`), which lives in a
//! namespace of its own.

use std::path::{Path, PathBuf};

/// `explicit` (`--socket`), else `$LECTEUR_SOCKET`, else the platform's
/// default: `$XDG_RUNTIME_DIR/lecteur.sock`, else `/run/lecteur/lecteur.sock`
/// on Unix; `\\.\pipe\lecteur` on Windows.
pub fn resolve(explicit: Option<&Path>) -> PathBuf {
    if let Some(p) = explicit {
        return p.to_path_buf();
    }
    if let Some(p) = std::env::var_os("LECTEUR_SOCKET").filter(|p| !p.is_empty()) {
        return p.into();
    }
    platform::default()
}

/// The socket of a daemon of one's own (tests, `lecteur demo`,
/// `lecteur-load`): `DIR/lecteur.sock` on Unix; on Windows, where pipes are
/// not files, `\\.\pipe\lecteur-TAG` (make `tag` unique, e.g. from the
/// process id).
pub fn private(dir: &Path, tag: &str) -> PathBuf {
    platform::private(dir, tag)
}

#[cfg(not(windows))]
mod platform {
    use std::path::{Path, PathBuf};

    pub(super) fn default() -> PathBuf {
        if let Some(d) = std::env::var_os("XDG_RUNTIME_DIR").filter(|p| !p.is_empty()) {
            return Path::new(&d).join("lecteur.sock");
        }
        PathBuf::from("/run/lecteur/lecteur.sock")
    }

    pub(super) fn private(dir: &Path, _tag: &str) -> PathBuf {
        dir.join("lecteur.sock")
    }
}

#[cfg(windows)]
mod platform {
    use std::path::{Path, PathBuf};

    pub(super) fn default() -> PathBuf {
        PathBuf::from(r"\\.\pipe\lecteur")
    }

    pub(super) fn private(_dir: &Path, tag: &str) -> PathBuf {
        PathBuf::from(format!(r"\\.\pipe\lecteur-{tag}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_explicit_path_wins() {
        let p = Path::new("/tmp/x.sock");
        assert_eq!(resolve(Some(p)), p);
    }

    #[test]
    fn private_sockets_differ_by_dir_or_tag() {
        let a = private(Path::new("a"), "1");
        let b = private(Path::new("b"), "2");
        assert_ne!(a, b);
        if cfg!(windows) {
            assert_eq!(a, Path::new(r"\\.\pipe\lecteur-1"));
        }
    }

    #[test]
    fn the_default_is_the_platforms() {
        let d = platform::default();
        if cfg!(windows) {
            assert_eq!(d, Path::new(r"\\.\pipe\lecteur"));
        } else {
            assert!(d.ends_with("lecteur.sock"), "{}", d.display());
        }
    }
}
