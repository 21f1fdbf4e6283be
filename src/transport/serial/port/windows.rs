//! The Windows line: serialport's `COMPort` and the link thread's wake-up.
//!
//! `COMPort` is opened without `FILE_FLAG_OVERLAPPED`: a read is a blocking
//! `ReadFile` that `COMMTIMEOUTS` ends (serialport asks for "return at once
//! with what is buffered, else wait for the first byte, else time out", but
//! Wine 8 waits for a full buffer or the timeout, so reads ask for one byte
//! and then take what the driver holds), and there is no descriptor to `poll` together with a wake-up. So the
//! idle link waits on a condition variable (a request wakes it at once)
//! in slices of [`INPUT_CHECK`], asking the driver between slices whether
//! bytes came in (`ClearCommError`'s input count, which reads nothing): a
//! card-movement byte is acted on within one slice. Reads never block
//! beyond the timeout the link asks for, so nothing has to interrupt them.
//! The OS opens COM ports exclusively (share mode 0), as `TIOCEXCL` does
//! on Unix.

use serialport::{COMPort, SerialPort};
use std::io;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use super::{Port, Ready};

/// The serial device on Windows. `COM3`, `COM10` and `\\.\COM10` all work:
/// serialport puts `\\.\` before a name that lacks it.
pub(in crate::transport::serial) type Device = COMPort;

/// How often the idle link asks the driver for input: the most a card
/// movement the reader notifies waits before the link sees it.
const INPUT_CHECK: Duration = Duration::from_millis(10);
/// The timeout of reads of bytes the driver already holds. A zero-timeout
/// read looks at the input count first rather than trusting `COMMTIMEOUTS`
/// with a zero constant, which each driver reads its own way.
const BUFFERED_READ: Duration = Duration::from_millis(1);

impl Port for COMPort {
    fn write_all_bytes(&mut self, bytes: &[u8]) -> io::Result<()> {
        super::write_all(self, bytes)
    }

    /// One byte first, waiting at most `timeout`: a read returns when its
    /// buffer is full, under any driver's reading of `COMMTIMEOUTS` (Wine
    /// 8 waits out the whole constant for a larger buffer, even with bytes
    /// in hand). Then what the driver already holds, which is there.
    fn read_some(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<Option<usize>> {
        let Some((first, rest)) = buf.split_first_mut() else {
            return Ok(Some(0));
        };
        let mut one = [0u8; 1];
        let got = if timeout.is_zero() {
            if self.bytes_to_read().map_err(io::Error::from)? == 0 {
                return Ok(None);
            }
            super::read_within(self, &mut one, BUFFERED_READ)?
        } else {
            super::read_within(self, &mut one, timeout)?
        };
        if got.is_none() {
            return Ok(None);
        }
        *first = one[0];
        let held = usize::try_from(self.bytes_to_read().unwrap_or(0)).unwrap_or(0);
        let more = held.min(rest.len());
        if more == 0 {
            return Ok(Some(1));
        }
        // The bytes are in the driver: this read does not wait. An error
        // here comes back on the next read; the byte in hand is delivered.
        match super::read_within(self, &mut rest[..more], BUFFERED_READ) {
            Ok(Some(n)) => Ok(Some(1 + n)),
            _ => Ok(Some(1)),
        }
    }

    fn wait_idle(&self, wake: &WakeRx, timeout: Duration) -> io::Result<Ready> {
        wake.wait_for(timeout, || self.bytes_to_read().map(|n| n > 0))
    }
}

/// Set by a wake-up, cleared by [`WakeRx::drain`].
#[derive(Default)]
struct Flag {
    woken: Mutex<bool>,
    changed: Condvar,
}

/// The sending side, cloned into every slot channel.
#[derive(Clone)]
pub(in crate::transport::serial) struct Waker(Arc<Flag>);

/// The receiving side, owned by the link thread.
pub(in crate::transport::serial) struct WakeRx(Arc<Flag>);

/// A connected waker and its receiver (cannot fail on Windows; the
/// `Result` matches the Unix socket pair).
pub(in crate::transport::serial) fn wake_pair() -> io::Result<(Waker, WakeRx)> {
    let flag = Arc::new(Flag::default());
    Ok((Waker(Arc::clone(&flag)), WakeRx(flag)))
}

impl Waker {
    /// Wakes the receiver; waking it twice is waking it once.
    pub(in crate::transport::serial) fn wake(&self) {
        let mut woken = self.0.woken.lock().unwrap_or_else(|e| e.into_inner());
        *woken = true;
        self.0.changed.notify_all();
    }
}

impl WakeRx {
    /// Waits for a wake-up alone, at most `timeout`.
    pub(in crate::transport::serial) fn wait(&self, timeout: Duration) -> io::Result<Ready> {
        Ok(Ready {
            woken: self.sleep(timeout),
            ..Ready::default()
        })
    }

    /// Waits for a wake-up or for `has_input`, asked every [`INPUT_CHECK`].
    /// A failing `has_input` (the device gone) ends the wait as a hang-up
    /// with input, so that the next read reports the error.
    fn wait_for(
        &self,
        timeout: Duration,
        has_input: impl Fn() -> serialport::Result<bool>,
    ) -> io::Result<Ready> {
        let deadline = Instant::now() + timeout;
        loop {
            match has_input() {
                Ok(true) => {
                    return Ok(Ready {
                        input: true,
                        ..Ready::default()
                    })
                }
                Ok(false) => {}
                Err(_) => {
                    return Ok(Ready {
                        input: true,
                        hangup: true,
                        woken: false,
                    })
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if self.sleep(left.min(INPUT_CHECK)) {
                return Ok(Ready {
                    woken: true,
                    ..Ready::default()
                });
            }
            if left <= INPUT_CHECK {
                return Ok(Ready::default());
            }
        }
    }

    /// Sleeps until woken or `timeout`; whether it was woken.
    fn sleep(&self, timeout: Duration) -> bool {
        let woken = self.0.woken.lock().unwrap_or_else(|e| e.into_inner());
        let (woken, _) = self
            .0
            .changed
            .wait_timeout_while(woken, timeout, |w| !*w)
            .unwrap_or_else(|e| e.into_inner());
        *woken
    }

    /// Clears the wake-up.
    pub(in crate::transport::serial) fn drain(&mut self) {
        *self.0.woken.lock().unwrap_or_else(|e| e.into_inner()) = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn wake_ends_the_wait_and_drains() {
        let (waker, mut rx) = wake_pair().unwrap();
        let t = Instant::now();
        assert_eq!(rx.wait(Duration::from_millis(30)).unwrap(), Ready::default());
        assert!(t.elapsed() >= Duration::from_millis(25));
        let remote = waker.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            remote.wake();
        });
        let r = rx.wait(Duration::from_secs(5)).unwrap();
        assert!(r.woken && !r.input);
        rx.drain();
        assert!(!rx.wait(Duration::ZERO).unwrap().woken);
        drop(rx);
        waker.wake(); // no one left: nothing happens
    }

    #[test]
    fn input_ends_the_wait_within_a_slice() {
        let (_waker, rx) = wake_pair().unwrap();
        let asked = AtomicUsize::new(0);
        let t = Instant::now();
        let r = rx
            .wait_for(Duration::from_secs(5), || {
                Ok(asked.fetch_add(1, Ordering::SeqCst) >= 3)
            })
            .unwrap();
        assert!(r.input && !r.hangup && !r.woken);
        assert!(t.elapsed() < Duration::from_secs(1));
        let gone = rx
            .wait_for(Duration::from_secs(5), || {
                Err(serialport::Error::new(serialport::ErrorKind::NoDevice, "gone"))
            })
            .unwrap();
        assert!(gone.input && gone.hangup);
        let t = Instant::now();
        let idle = rx.wait_for(Duration::from_millis(35), || Ok(false)).unwrap();
        assert_eq!(idle, Ready::default());
        assert!(t.elapsed() >= Duration::from_millis(30));
    }
}
