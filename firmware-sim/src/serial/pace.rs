//! The line's own time: a pty moves bytes instantly, a real 115 200 baud line
//! takes one byte time (start + 8 data + 2 stop bits, 8N2 as the readers use)
//! per byte, each way. With a baud rate set, bytes from the host are handed to
//! the reader only once they would have arrived, and the reader's bytes reach
//! the host one byte time apart. The schedule is absolute, so a late wake-up
//! is caught up on the next byte instead of adding up. Bytes are counted
//! either way, paced or not.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Bits per byte on an 8N2 line.
pub const BITS_PER_BYTE: u32 = 11;

/// Bytes that crossed the line, each way.
#[derive(Debug, Default)]
pub struct LineCounts {
    pub from_host: AtomicU64,
    pub to_host: AtomicU64,
}

impl LineCounts {
    pub fn total(&self) -> u64 {
        self.from_host.load(Ordering::Relaxed) + self.to_host.load(Ordering::Relaxed)
    }
}

pub struct Pacer {
    byte_time: Option<Duration>,
    /// When the bytes received so far will all have arrived.
    rx_done: Instant,
    /// When the reader's current burst started, and bytes of it delivered.
    tx_start: Instant,
    tx_sent: u32,
    pub counts: Arc<LineCounts>,
}

impl Default for Pacer {
    fn default() -> Self {
        Self::new()
    }
}

impl Pacer {
    pub fn new() -> Pacer {
        let now = Instant::now();
        Pacer {
            byte_time: None,
            rx_done: now,
            tx_start: now,
            tx_sent: 0,
            counts: Arc::default(),
        }
    }

    /// Paces the line at `baud` (none: as fast as the pty goes).
    pub fn set_baud(&mut self, baud: Option<u32>) {
        self.byte_time = baud
            .filter(|b| *b > 0)
            .map(|b| Duration::from_secs(u64::from(BITS_PER_BYTE)) / b);
    }

    /// `n` bytes read from the host now: waits until the last of them would
    /// have arrived on the line.
    pub fn received(&mut self, n: usize) {
        self.counts.from_host.fetch_add(n as u64, Ordering::Relaxed);
        let Some(bt) = self.byte_time else { return };
        let now = Instant::now();
        self.rx_done = self.rx_done.max(now) + bt * n as u32;
        sleep_until(self.rx_done);
    }

    /// Before the reader writes: when the line has gone quiet, a new burst
    /// starts now.
    pub fn begin(&mut self) {
        let Some(bt) = self.byte_time else { return };
        let now = Instant::now();
        if self.tx_start + bt * self.tx_sent <= now {
            self.tx_start = now;
            self.tx_sent = 0;
        }
    }

    /// How many of the `pending` bytes of the burst may go to the host now;
    /// waits for the next one's byte time when none may yet.
    pub fn sendable(&mut self, pending: usize) -> usize {
        let Some(bt) = self.byte_time else { return pending };
        let next = self.tx_start + bt * (self.tx_sent + 1);
        sleep_until(next);
        let arrived = (Instant::now() - self.tx_start).as_nanos() / bt.as_nanos().max(1);
        let due = (arrived as u64).saturating_sub(u64::from(self.tx_sent)).max(1);
        usize::try_from(due).unwrap_or(usize::MAX).min(pending)
    }

    /// `n` bytes went to the host.
    pub fn sent(&mut self, n: usize) {
        self.counts.to_host.fetch_add(n as u64, Ordering::Relaxed);
        self.tx_sent = self.tx_sent.saturating_add(n as u32);
    }
}

fn sleep_until(t: Instant) {
    let now = Instant::now();
    if t > now {
        std::thread::sleep(t - now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unpaced_counts_only() {
        let mut p = Pacer::new();
        p.received(5);
        assert_eq!(p.sendable(7), 7);
        p.sent(7);
        assert_eq!(p.counts.total(), 12);
    }

    #[test]
    fn a_burst_takes_its_wire_time() {
        let mut p = Pacer::new();
        p.set_baud(Some(115_200));
        let t = Instant::now();
        p.begin();
        let mut left = 100;
        while left > 0 {
            let n = p.sendable(left);
            p.sent(n);
            left -= n;
        }
        // 100 bytes × 11 bits at 115 200 baud ≈ 9.5 ms; never faster.
        assert!(t.elapsed() >= Duration::from_micros(9_500), "{:?}", t.elapsed());
        let t = Instant::now();
        p.received(100);
        assert!(t.elapsed() >= Duration::from_micros(9_500));
    }
}
