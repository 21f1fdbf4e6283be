//! A pseudo-terminal whose slave plays the reader's serial port, and the
//! symbolic link that gives it a stable name.

use rustix::fs::{Mode, OFlags};
use rustix::pty::OpenptFlags;
use rustix::termios::{ControlModes, OptionalActions, SpecialCodeIndex};
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The master side (the reader end) plus a held slave descriptor.
pub(super) struct Pty {
    pub master: File,
    /// Kept open so the master never sees EIO/hang-up while no host has the
    /// port open, and so the line settings survive between host sessions.
    /// Never read from.
    _slave: OwnedFd,
    pub slave_path: PathBuf,
}

/// Raw mode, 8 data bits, 2 stop bits, 115 200 baud (only cosmetic on a pty).
fn set_raw(fd: impl AsFd) -> io::Result<()> {
    let mut t = rustix::termios::tcgetattr(&fd)?;
    t.make_raw();
    t.control_modes |= ControlModes::CLOCAL | ControlModes::CREAD | ControlModes::CSTOPB;
    t.special_codes[SpecialCodeIndex::VMIN] = 1;
    t.special_codes[SpecialCodeIndex::VTIME] = 0;
    t.set_speed(115_200)?;
    rustix::termios::tcsetattr(&fd, OptionalActions::Now, &t)?;
    Ok(())
}

impl Pty {
    /// Opens a new pseudo-terminal pair; the master is non-blocking.
    pub(super) fn open() -> io::Result<Pty> {
        let master = rustix::pty::openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)?;
        rustix::pty::grantpt(&master)?;
        rustix::pty::unlockpt(&master)?;
        let name = rustix::pty::ptsname(&master, Vec::new())?;
        let slave_path = PathBuf::from(std::ffi::OsStr::from_bytes(name.as_bytes()));
        let slave = rustix::fs::open(
            name.as_c_str(),
            OFlags::RDWR | OFlags::NOCTTY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        set_raw(&slave)?;
        let flags = rustix::fs::fcntl_getfl(&master)?;
        rustix::fs::fcntl_setfl(&master, flags | OFlags::NONBLOCK)?;
        Ok(Pty {
            master: File::from(master),
            _slave: slave,
            slave_path,
        })
    }
}

/// Why the link could not be made.
#[derive(Debug)]
pub(super) enum LinkError {
    Occupied,
    Io(io::Error),
}

/// Points `link` at `target`, replacing a stale symbolic link but never a
/// regular file or directory.
pub(super) fn make_link(link: &Path, target: &Path) -> Result<(), LinkError> {
    match std::fs::symlink_metadata(link) {
        Ok(meta) if meta.file_type().is_symlink() => {
            std::fs::remove_file(link).map_err(LinkError::Io)?;
        }
        Ok(_) => return Err(LinkError::Occupied),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(LinkError::Io(e)),
    }
    std::os::unix::fs::symlink(target, link).map_err(LinkError::Io)
}

/// Removes `link` if it still points at `target`.
pub(super) fn remove_link(link: &Path, target: &Path) {
    if std::fs::read_link(link).is_ok_and(|t| t == target) {
        let _ = std::fs::remove_file(link);
    }
}
