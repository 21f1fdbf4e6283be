//! [`Reader`]: a [`Link`] served on a pseudo-terminal, with line pacing,
//! faults and the `unplug` fault closing and reopening the pty.

#[path = "pty.rs"]
mod pty;

use super::{pace, Faults, Keypad, Link, Profile, SerialError};
use crate::reader::SimReader;
use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::net::SendFlags;
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How often the loop looks at the stop flag and the card slots.
const TICK: Duration = Duration::from_millis(100);
/// Output waiting for a host that does not read is capped at this.
const MAX_BACKLOG: usize = 64 * 1024;

/// A simulated serial reader on a pseudo-terminal. The slave is reachable at
/// the link path given to [`Reader::open`]; the link is removed on drop.
pub struct Reader {
    /// `None` while the `unplug` fault holds the port away.
    pty: Option<pty::Pty>,
    link_path: PathBuf,
    /// The slave path of the last pty (kept while unplugged).
    slave_path: PathBuf,
    link: Link,
    backlog: Vec<u8>,
    pace: pace::Pacer,
    faults: Faults,
    /// Output held back by the `delay` fault, with when it may leave.
    delayed: VecDeque<(Instant, Vec<u8>)>,
    /// Readable when a card moved: a real reader notices at once, so the
    /// loop must not sleep through a movement until its next tick.
    moved: UnixStream,
}

impl Reader {
    /// Creates the pty, points `link_path` at its slave (replacing a stale
    /// symlink) and prepares a reader with `profile` over `reader`'s slots.
    pub fn open(link_path: &Path, profile: Profile, reader: SimReader) -> Result<Self, SerialError> {
        let slots = reader.slot_count();
        if !(1..=4).contains(&slots) {
            return Err(SerialError::SlotCount(slots));
        }
        let moved = movement_wake(&reader).map_err(SerialError::Io)?;
        let pty = pty::Pty::open().map_err(SerialError::Pty)?;
        pty::make_link(link_path, &pty.slave_path).map_err(|e| match e {
            pty::LinkError::Occupied => SerialError::LinkOccupied {
                path: link_path.to_path_buf(),
            },
            pty::LinkError::Io(source) => SerialError::Link {
                path: link_path.to_path_buf(),
                source,
            },
        })?;
        eprintln!(
            "lecteur-sim: serial: {profile} reader on {} (link {}), {slots} slot(s), {}{}",
            pty.slave_path.display(),
            link_path.display(),
            if profile.echoes() { "echo" } else { "no echo" },
            if profile.has_keypad() { ", keypad" } else { "" }
        );
        Ok(Reader {
            slave_path: pty.slave_path.clone(),
            pty: Some(pty),
            link_path: link_path.to_path_buf(),
            link: Link::new(profile, reader),
            backlog: Vec::new(),
            pace: pace::Pacer::new(),
            faults: Faults::default(),
            delayed: VecDeque::new(),
            moved,
        })
    }

    /// The line faults of this reader, for the control socket and `--fault`.
    pub fn faults(&self) -> Faults {
        self.faults.clone()
    }

    /// Closes the pty (the host sees its port vanish) or opens a new one
    /// behind the same link, as the `unplug` fault says.
    fn follow_plug(&mut self) -> Result<(), SerialError> {
        let unplugged = self.faults.unplugged();
        if unplugged && self.pty.is_some() {
            if let Some(pty) = self.pty.take() {
                pty::remove_link(&self.link_path, &pty.slave_path);
            }
            self.backlog.clear();
            self.delayed.clear();
            eprintln!("lecteur-sim: serial: fault: port unplugged");
        } else if !unplugged && self.pty.is_none() {
            let pty = pty::Pty::open().map_err(SerialError::Pty)?;
            pty::make_link(&self.link_path, &pty.slave_path).map_err(|e| match e {
                pty::LinkError::Occupied => SerialError::LinkOccupied {
                    path: self.link_path.clone(),
                },
                pty::LinkError::Io(source) => SerialError::Link {
                    path: self.link_path.clone(),
                    source,
                },
            })?;
            self.link.power_cycle();
            eprintln!(
                "lecteur-sim: serial: fault: port back on {}",
                pty.slave_path.display()
            );
            self.slave_path = pty.slave_path.clone();
            self.pty = Some(pty);
        }
        Ok(())
    }

    pub fn set_verbose(&mut self, verbose: bool) {
        self.link.set_verbose(verbose);
    }

    /// Times the line as a real one at `baud` would (none: as fast as the pty).
    pub fn set_baud(&mut self, baud: Option<u32>) {
        self.pace.set_baud(baud);
    }

    /// Bytes that crossed the line so far, each way.
    pub fn line_counts(&self) -> std::sync::Arc<pace::LineCounts> {
        self.pace.counts.clone()
    }

    /// The reader's keypad (PIN-pad profile only), for the control socket.
    pub fn keypad(&self) -> Option<Keypad> {
        self.link.keypad()
    }

    /// The pty slave, e.g. `/dev/pts/3`.
    pub fn slave_path(&self) -> &Path {
        &self.slave_path
    }

    /// The symbolic link given to [`Reader::open`].
    pub fn link_path(&self) -> &Path {
        &self.link_path
    }

    /// Output goes through the line faults, then waits for its delay.
    fn queue(&mut self, bytes: Vec<u8>) {
        if bytes.is_empty() {
            return;
        }
        let bytes = self.faults.tx(&bytes);
        if let Some(delay) = self.faults.delay() {
            self.delayed.push_back((Instant::now() + delay, bytes));
            return;
        }
        // A line never reorders bytes: once the delay is lifted, new output
        // still leaves behind what it held back (an asynchronous card
        // notification must not be overtaken by a later answer).
        if let Some(&(at, _)) = self.delayed.back() {
            self.delayed.push_back((at, bytes));
            return;
        }
        self.send(bytes);
    }

    /// Moves delayed output whose time has come to the backlog.
    fn release_delayed(&mut self, now: Instant) {
        // Bounded by the queue's length; each turn pops one entry.
        while self.delayed.front().is_some_and(|(at, _)| *at <= now) {
            if let Some((_, bytes)) = self.delayed.pop_front() {
                self.send(bytes);
            }
        }
    }

    fn send(&mut self, bytes: Vec<u8>) {
        if bytes.is_empty() {
            return;
        }
        if self.backlog.len() + bytes.len() > MAX_BACKLOG {
            eprintln!(
                "lecteur-sim: serial: the host is not reading; dropping {} byte(s) of output",
                self.backlog.len()
            );
            self.backlog.clear();
        }
        self.backlog.extend_from_slice(&bytes);
    }

    fn flush(&mut self) -> Result<(), SerialError> {
        let Some(pty) = self.pty.as_mut() else {
            self.backlog.clear();
            return Ok(());
        };
        // Each write either makes progress or stops on WouldBlock.
        if !self.backlog.is_empty() {
            self.pace.begin();
        }
        while !self.backlog.is_empty() {
            let due = self.pace.sendable(self.backlog.len());
            match pty.master.write(&self.backlog[..due]) {
                Ok(0) => break,
                Ok(n) => {
                    self.pace.sent(n);
                    self.backlog.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(SerialError::Io(e)),
            }
        }
        Ok(())
    }

    /// Serves the host until `stop` is set.
    pub fn run(&mut self, stop: &AtomicBool) -> Result<(), SerialError> {
        let mut buf = [0u8; 1024];
        while !stop.load(Ordering::SeqCst) {
            if let Err(e) = self.follow_plug() {
                // The port stays away; the next turn tries again.
                eprintln!("lecteur-sim: serial: fault: cannot bring the port back: {e}");
                std::thread::sleep(TICK);
                continue;
            }
            self.link
                .set_faults(self.faults.nak_storm(), self.faults.time_ext());
            let Some(pty) = self.pty.as_ref() else {
                std::thread::sleep(TICK / 4);
                continue;
            };
            let now = Instant::now();
            let wait = [self.link.next_deadline(), self.delayed.front().map(|(at, _)| *at)]
                .into_iter()
                .flatten()
                .min()
                .map(|d| d.saturating_duration_since(now).min(TICK))
                .unwrap_or(TICK);
            let out = if self.backlog.is_empty() {
                PollFlags::empty()
            } else {
                PollFlags::OUT
            };
            let mut pfds = [
                PollFd::new(&pty.master, PollFlags::IN | out),
                PollFd::new(&self.moved, PollFlags::IN),
            ];
            // Rounded up so a deadline 0.4 ms away does not spin.
            let timeout = Timespec::try_from(Duration::from_millis(
                u64::try_from(wait.as_millis() + 1).unwrap_or(100),
            ))
            .ok();
            match rustix::event::poll(&mut pfds, timeout.as_ref()) {
                Ok(_) => {}
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => return Err(SerialError::Io(e.into())),
            }
            let (revents, moved) = (pfds[0].revents(), pfds[1].revents());
            if moved.contains(PollFlags::IN) {
                drain(&self.moved);
            }
            if revents.contains(PollFlags::IN) {
                let read = match self.pty.as_mut() {
                    Some(pty) => pty.master.read(&mut buf),
                    None => Ok(0),
                };
                match read {
                    Ok(n) if n > 0 => {
                        self.pace.received(n);
                        // The faults of this very moment (set while we polled).
                        self.link
                            .set_faults(self.faults.nak_storm(), self.faults.time_ext());
                        let bytes = self.faults.rx(&buf[..n]);
                        let out = self.link.receive(&bytes, Instant::now());
                        self.queue(out);
                    }
                    Ok(_) => std::thread::sleep(TICK),
                    Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) => {}
                    // EIO: no slave side; should not happen as we hold one.
                    Err(e) if e.raw_os_error() == Some(rustix::io::Errno::IO.raw_os_error()) => {
                        std::thread::sleep(TICK)
                    }
                    Err(e) => return Err(SerialError::Io(e)),
                }
            } else if revents.intersects(PollFlags::HUP | PollFlags::ERR) {
                std::thread::sleep(TICK);
            }
            let now = Instant::now();
            let out = self.link.tick(now);
            self.queue(out);
            self.release_delayed(now);
            self.flush()?;
        }
        eprintln!("lecteur-sim: serial: stopping");
        Ok(())
    }
}

/// A socket made readable by every card movement in `reader`.
fn movement_wake(reader: &SimReader) -> io::Result<UnixStream> {
    let (tx, rx) = UnixStream::pair()?;
    tx.set_nonblocking(true)?;
    rx.set_nonblocking(true)?;
    reader.on_change(move || {
        // MSG_NOSIGNAL: a closed peer (the reader dropped) must not raise
        // SIGPIPE; a full buffer is still a wake-up.
        let r = rustix::net::send(&tx, &[1], SendFlags::NOSIGNAL | SendFlags::DONTWAIT);
        matches!(r, Ok(1) | Err(rustix::io::Errno::WOULDBLOCK))
    });
    Ok(rx)
}

/// Empties the movement socket (bounded).
fn drain(mut socket: &UnixStream) {
    let mut buf = [0u8; 256];
    for _ in 0..64 {
        match socket.read(&mut buf) {
            Ok(n) if n == buf.len() => continue,
            _ => break,
        }
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        if let Some(pty) = &self.pty {
            pty::remove_link(&self.link_path, &pty.slave_path);
        }
    }
}
