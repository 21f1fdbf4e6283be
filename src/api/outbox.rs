//! A connection's outgoing lines: answers and notifications are handed over
//! without waiting (a request task or an event forwarder never blocks on a
//! slow client), written at once when the socket takes them, and otherwise
//! kept, in order, for the connection's flusher task. Lines never interleave.
//! A client that stops reading is cut off past a bound rather than buffered
//! without limit.

use super::listen::WriteHalf;
use std::io::ErrorKind;
use std::sync::{Mutex, MutexGuard};
use tokio::sync::Notify;

/// Bytes waiting for a client that does not read before it is cut off: many
/// times the largest answers of 16 requests in flight, or thousands of events.
pub(crate) const MAX_PENDING: usize = 4 * 1024 * 1024;

pub(crate) struct Outbox {
    write: WriteHalf,
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

fn would_block(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted)
}

impl Outbox {
    pub(crate) fn new(write: WriteHalf) -> Outbox {
        Outbox {
            write,
            state: Mutex::new(State::default()),
            flush: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere while holding it leaves nothing half-written we rely on.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Bytes waiting for the client (for senders that would rather drop
    /// their own lines than have the connection cut off).
    pub(crate) fn waiting(&self) -> usize {
        self.lock().pending.len()
    }

    /// Sends one line (the newline is added); never blocks.
    pub(crate) fn send(&self, mut line: String) {
        line.push('\n');
        let mut st = self.lock();
        if st.closed {
            return;
        }
        let mut rest = line.as_bytes();
        if st.pending.is_empty() {
            match self.write.try_write(rest) {
                Ok(n) => rest = &rest[n..],
                Err(e) if would_block(&e) => {}
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
            // Both ways, so that the connection's reader ends too.
            self.write.cut();
            return;
        }
        st.pending.extend_from_slice(rest);
    }

    /// Writes what waits whenever the socket takes it; ends when the client
    /// is gone, the outbox is closed, or it is finished and all is written.
    pub(crate) async fn flusher(&self) {
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
                    match self.write.try_write(&st.pending) {
                        Ok(n) => {
                            st.pending.drain(..n);
                            continue;
                        }
                        Err(e) if would_block(&e) => {}
                        Err(_) => {
                            st.closed = true;
                            return;
                        }
                    }
                }
                // A full socket cleared tokio's readiness: this waits for real.
                if self.write.writable().await.is_err() {
                    self.lock().closed = true;
                    return;
                }
            }
        }
    }

    /// Lets the flusher end once what waits is written.
    pub(crate) fn finish(&self) {
        self.lock().finishing = true;
        self.flush.notify_one();
    }
}
