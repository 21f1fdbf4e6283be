//! A connection's outgoing lines, written by whichever thread has one: a card
//! operation's answer straight from the slot's thread (no hop back to the
//! runtime on the way out), everything else from the runtime. Lines never
//! interleave. What the socket does not take at once waits, in order, for
//! the connection's flusher task; a client that stops reading is cut off past
//! a bound rather than buffered without limit.

use std::io::{ErrorKind, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream as StdStream;
use std::sync::{Mutex, MutexGuard};
use tokio::net::unix::OwnedWriteHalf;
use tokio::sync::Notify;

/// Bytes waiting for a client that does not read before it is cut off: many
/// times the largest answers of 16 requests in flight, or thousands of events.
pub const MAX_PENDING: usize = 4 * 1024 * 1024;

pub struct Outbox {
    /// The connection's socket, duplicated: non-blocking like the original
    /// (the flag belongs to the shared open file), writable from any thread.
    sock: StdStream,
    state: Mutex<State>,
    flush: Notify,
}

#[derive(Default)]
struct State {
    /// Bytes the socket did not take yet, whole lines after a partial one.
    pending: Vec<u8>,
    closed: bool,
    /// The connection ends once what waits is written.
    finishing: bool,
}

impl Outbox {
    pub fn new(write: &OwnedWriteHalf) -> std::io::Result<Outbox> {
        let fd = AsRef::<tokio::net::UnixStream>::as_ref(write)
            .as_fd()
            .try_clone_to_owned()?;
        Ok(Outbox {
            sock: StdStream::from(fd),
            state: Mutex::new(State::default()),
            flush: Notify::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere while holding it leaves nothing half-written we rely on.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sends one line (the newline is added); never blocks.
    pub fn send(&self, mut line: String) {
        line.push('\n');
        let mut st = self.lock();
        if st.closed {
            return;
        }
        let mut rest = line.as_bytes();
        if st.pending.is_empty() {
            match (&self.sock).write(rest) {
                Ok(n) => rest = &rest[n..],
                Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::Interrupted => {}
                Err(_) => {
                    // The client is gone; its reader sees it too.
                    st.closed = true;
                    return;
                }
            }
            if rest.is_empty() {
                return;
            }
            self.flush.notify_one();
        }
        if st.pending.len() + rest.len() > MAX_PENDING {
            tracing::warn!(
                "client does not read its answers ({MAX_PENDING} bytes waiting): connection closed"
            );
            st.closed = true;
            st.pending = Vec::new();
            let _ = self.sock.shutdown(std::net::Shutdown::Both);
            return;
        }
        st.pending.extend_from_slice(rest);
    }

    /// Writes what waits whenever the socket takes it; ends when the client
    /// is gone, the outbox is closed, or it is finished and all is written.
    pub async fn flusher(&self, write: &OwnedWriteHalf) {
        loop {
            self.flush.notified().await;
            loop {
                {
                    let mut st = self.lock();
                    if st.closed {
                        return;
                    }
                    if st.pending.is_empty() {
                        if st.finishing {
                            return;
                        }
                        break;
                    }
                    // Through tokio's half, so that a full socket clears its
                    // readiness and `writable` below waits for real.
                    match write.try_write(&st.pending) {
                        Ok(n) => {
                            st.pending.drain(..n);
                            continue;
                        }
                        Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::Interrupted => {
                        }
                        Err(_) => {
                            st.closed = true;
                            return;
                        }
                    }
                }
                if write.writable().await.is_err() {
                    self.lock().closed = true;
                    return;
                }
            }
        }
    }

    /// Bytes waiting for the client (a trace follower drops records past a bound).
    pub fn waiting(&self) -> usize {
        self.lock().pending.len()
    }

    /// Lets the flusher end once what waits is written.
    pub fn finish(&self) {
        self.lock().finishing = true;
        self.flush.notify_one();
    }
}
