//! The Unix line: serialport's `TTYPort` and the link thread's wake-up.
//!
//! The link thread sleeps in `poll(2)` on the tty and on a wake socket, so
//! a byte from the reader (a card movement) and a request from a slot
//! channel both end its wait at once, and an idle link costs no line time
//! and no busy wake-ups.

use nix::poll::{PollFd, PollFlags};
use rustix::net::SendFlags;
use serialport::TTYPort;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::time::Duration;

use super::{Port, Ready};

/// The serial device on Unix.
pub(in crate::transport::serial) type Device = TTYPort;

impl Port for TTYPort {
    fn write_all_bytes(&mut self, bytes: &[u8]) -> io::Result<()> {
        super::write_all(self, bytes)
    }

    /// TTYPort polls the descriptor for `timeout`, then reads.
    fn read_some(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<Option<usize>> {
        super::read_within(self, buf, timeout)
    }

    fn wait_idle(&self, wake: &WakeRx, timeout: Duration) -> io::Result<Ready> {
        wait(Some(self.as_raw_fd()), wake, timeout)
    }
}

/// The sending side, cloned into every slot channel.
#[derive(Clone)]
pub(in crate::transport::serial) struct Waker(Arc<UnixStream>);

/// The receiving side, owned by the link thread.
pub(in crate::transport::serial) struct WakeRx(UnixStream);

/// A connected waker and its receiver.
pub(in crate::transport::serial) fn wake_pair() -> io::Result<(Waker, WakeRx)> {
    let (tx, rx) = UnixStream::pair()?;
    tx.set_nonblocking(true)?;
    rx.set_nonblocking(true)?;
    Ok((Waker(Arc::new(tx)), WakeRx(rx)))
}

impl Waker {
    /// Makes the receiver readable. A full buffer already means "awake";
    /// a gone receiver means no one is left to wake: both are fine.
    pub(in crate::transport::serial) fn wake(&self) {
        // MSG_NOSIGNAL: a closed peer must not raise SIGPIPE.
        let _ = rustix::net::send(&*self.0, &[1], SendFlags::NOSIGNAL | SendFlags::DONTWAIT);
    }
}

impl WakeRx {
    fn fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }

    /// Waits for a wake-up alone, at most `timeout`.
    pub(in crate::transport::serial) fn wait(&self, timeout: Duration) -> io::Result<Ready> {
        wait(None, self, timeout)
    }

    /// Empties the socket (bounded: its buffer is finite, and each turn
    /// reads or stops).
    pub(in crate::transport::serial) fn drain(&mut self) {
        let mut buf = [0u8; 256];
        for _ in 0..64 {
            match (&self.0).read(&mut buf) {
                Ok(n) if n == buf.len() => continue,
                _ => break,
            }
        }
    }
}

/// Waits until `tty` (if any) is readable, `wake` is woken, or `timeout`.
/// The tty is a raw descriptor (serialport's `TTYPort` has no `AsFd`), so
/// this is serialport's own nix, whose `PollFd` takes one.
fn wait(tty: Option<RawFd>, wake: &WakeRx, timeout: Duration) -> io::Result<Ready> {
    let mut fds = [
        PollFd::new(wake.fd(), PollFlags::POLLIN),
        // A negative descriptor is ignored by poll(2).
        PollFd::new(tty.unwrap_or(-1), PollFlags::POLLIN),
    ];
    // Rounded up, so that a wait of 0.4 ms does not spin.
    let ms = i32::try_from(timeout.as_micros().div_ceil(1000)).unwrap_or(i32::MAX);
    match nix::poll::poll(&mut fds, ms) {
        Ok(_) => {}
        Err(nix::errno::Errno::EINTR) => return Ok(Ready::default()),
        Err(e) => return Err(e.into()),
    }
    let events = |fd: &PollFd| fd.revents().unwrap_or(PollFlags::empty());
    let (woken, tty) = (events(&fds[0]), events(&fds[1]));
    let bad = PollFlags::POLLERR | PollFlags::POLLHUP | PollFlags::POLLNVAL;
    Ok(Ready {
        input: tty.contains(PollFlags::POLLIN),
        hangup: tty.intersects(bad),
        woken: woken.contains(PollFlags::POLLIN),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn wake_ends_the_wait_and_drains() {
        let (waker, mut rx) = wake_pair().unwrap();
        let t = Instant::now();
        assert_eq!(
            wait(None, &rx, Duration::from_millis(30)).unwrap(),
            Ready::default()
        );
        assert!(t.elapsed() >= Duration::from_millis(25));
        for _ in 0..10_000 {
            waker.wake(); // far beyond the socket's buffer: never blocks
        }
        let r = wait(None, &rx, Duration::from_secs(5)).unwrap();
        assert!(r.woken && !r.input);
        rx.drain();
        rx.drain();
        assert!(!wait(None, &rx, Duration::ZERO).unwrap().woken);
        drop(rx);
        waker.wake(); // no one left: no signal, no error
    }
}
