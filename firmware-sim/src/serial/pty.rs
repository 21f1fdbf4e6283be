//! A pseudo-terminal whose slave plays the reader's serial port, and the
//! symbolic link that gives it a stable name.

use std::ffi::CStr;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

/// The master side (the reader end) plus a held slave descriptor.
pub struct Pty {
    pub master: File,
    /// Kept open so the master never sees EIO/hang-up while no host has the
    /// port open, and so the line settings survive between host sessions.
    /// Never read from.
    _slave: OwnedFd,
    pub slave_path: PathBuf,
}

fn check(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// Raw mode, 8 data bits, 2 stop bits, 115 200 baud (only cosmetic on a pty).
fn set_raw(fd: libc::c_int) -> io::Result<()> {
    // SAFETY: termios is plain data; tcgetattr fills it.
    let mut t: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: fd is a valid terminal descriptor, t is writable.
    check(unsafe { libc::tcgetattr(fd, &mut t) })?;
    // SAFETY: t is a valid termios.
    unsafe { libc::cfmakeraw(&mut t) };
    t.c_cflag |= libc::CLOCAL | libc::CREAD | libc::CSTOPB;
    t.c_cc[libc::VMIN] = 1;
    t.c_cc[libc::VTIME] = 0;
    // SAFETY: t is a valid termios.
    unsafe {
        libc::cfsetispeed(&mut t, libc::B115200);
        libc::cfsetospeed(&mut t, libc::B115200);
    }
    // SAFETY: fd valid, t initialised.
    check(unsafe { libc::tcsetattr(fd, libc::TCSANOW, &t) })?;
    Ok(())
}

impl Pty {
    /// Opens a new pseudo-terminal pair; the master is non-blocking.
    pub fn open() -> io::Result<Pty> {
        // SAFETY: plain libc calls on descriptors we own; each result is checked.
        let master_fd =
            check(unsafe { libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC) })?;
        // SAFETY: master_fd was just returned by posix_openpt and is owned here.
        let master = unsafe { File::from_raw_fd(master_fd) };
        // SAFETY: valid master descriptor.
        check(unsafe { libc::grantpt(master_fd) })?;
        // SAFETY: valid master descriptor.
        check(unsafe { libc::unlockpt(master_fd) })?;
        let mut name = [0 as libc::c_char; 128];
        // SAFETY: the buffer and its length match; ptsname_r NUL-terminates on success.
        let r = unsafe { libc::ptsname_r(master_fd, name.as_mut_ptr(), name.len()) };
        if r != 0 {
            return Err(io::Error::from_raw_os_error(r));
        }
        // SAFETY: ptsname_r succeeded, so name is NUL-terminated.
        let cname = unsafe { CStr::from_ptr(name.as_ptr()) };
        let slave_path = PathBuf::from(cname.to_string_lossy().into_owned());
        // SAFETY: cname is a valid C string.
        let slave_fd =
            check(unsafe { libc::open(cname.as_ptr(), libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC) })?;
        // SAFETY: slave_fd was just opened and is owned here.
        let slave = unsafe { OwnedFd::from_raw_fd(slave_fd) };
        set_raw(slave.as_raw_fd())?;
        // SAFETY: valid descriptor; F_GETFL/F_SETFL on it.
        unsafe {
            let flags = check(libc::fcntl(master_fd, libc::F_GETFL))?;
            check(libc::fcntl(master_fd, libc::F_SETFL, flags | libc::O_NONBLOCK))?;
        }
        Ok(Pty {
            master,
            _slave: slave,
            slave_path,
        })
    }
}

/// Why the link could not be made.
#[derive(Debug)]
pub enum LinkError {
    Occupied,
    Io(io::Error),
}

/// Points `link` at `target`, replacing a stale symbolic link but never a
/// regular file or directory.
pub fn make_link(link: &Path, target: &Path) -> Result<(), LinkError> {
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
pub fn remove_link(link: &Path, target: &Path) {
    if std::fs::read_link(link).is_ok_and(|t| t == target) {
        let _ = std::fs::remove_file(link);
    }
}
