//! The APDU trace: every exchange of every slot, masked as it is recorded
//! (`apdu::safe_command`), kept in a fixed ring of the last [`RING_SIZE`] and
//! sent to live followers (`diag.trace`). Recording is always on and cheap: a
//! fixed struct, one uncontended lock, no formatting.

mod record;
mod tap;

pub use record::{Kind, Record, SlotLabel};
pub use tap::Tap;

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};
use tokio::sync::broadcast;

/// Exchanges the ring keeps (a few whole card reads).
pub const RING_SIZE: usize = 512;
/// Records a follower may fall behind by before it loses some.
const LIVE_BACKLOG: usize = 256;

struct Ring {
    records: VecDeque<Record>,
    next_seq: u64,
}

/// The trace: the ring of recent records and the live followers' channel.
pub struct Trace {
    ring: Mutex<Ring>,
    live: broadcast::Sender<Record>,
    size: usize,
}

impl Default for Trace {
    fn default() -> Self {
        Trace::new(RING_SIZE)
    }
}

impl Trace {
    /// An empty trace keeping the last `size` records (at least one).
    pub fn new(size: usize) -> Trace {
        let size = size.max(1);
        Trace {
            ring: Mutex::new(Ring {
                // Allocated once: recording never grows it.
                records: VecDeque::with_capacity(size),
                next_seq: 0,
            }),
            live: broadcast::channel(LIVE_BACKLOG).0,
            size,
        }
    }

    fn ring(&self) -> MutexGuard<'_, Ring> {
        self.ring.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Numbers the record, keeps it, and sends it to the followers. Never
    /// waits on a follower: a slow one loses records (and is told how many).
    pub fn record(&self, mut rec: Record) {
        let mut ring = self.ring();
        rec.seq = ring.next_seq;
        ring.next_seq += 1;
        // Under the lock, so that followers get records in `seq` order.
        if self.live.receiver_count() > 0 {
            let _ = self.live.send(rec.clone());
        }
        if ring.records.len() == self.size {
            ring.records.pop_front();
        }
        ring.records.push_back(rec);
    }

    /// The ring, oldest first.
    pub fn recent(&self) -> Vec<Record> {
        self.ring().records.iter().cloned().collect()
    }

    /// The ring and every exchange after it, none missing or twice.
    pub fn follow(&self) -> (Vec<Record>, Follower) {
        let ring = self.ring();
        let rx = self.live.subscribe();
        (ring.records.iter().cloned().collect(), Follower(rx))
    }
}

/// The exchanges after a [`Trace::follow`] snapshot.
pub struct Follower(broadcast::Receiver<Record>);

/// What a follower gets next.
pub enum Next {
    /// The next exchange.
    Record(Record),
    /// The follower fell behind and this many records were dropped for it.
    Lost(u64),
}

impl Follower {
    /// `None` when the trace is gone (lecteurd stops).
    pub async fn next(&mut self) -> Option<Next> {
        match self.0.recv().await {
            Ok(rec) => Some(Next::Record(rec)),
            Err(broadcast::error::RecvError::Lagged(n)) => Some(Next::Lost(n)),
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apdu::safe_command;
    use std::sync::Arc;

    fn rec(slot: &Arc<SlotLabel>) -> Record {
        Record {
            seq: 0,
            time_ms: 0,
            slot: slot.clone(),
            kind: Kind::Apdu,
            command: safe_command(&[0, 0xB0, 0, 0, 0]),
            resp_len: 0,
            sw: Some([0x90, 0]),
            error: None,
            micros: 1,
        }
    }

    fn label() -> Arc<SlotLabel> {
        Arc::new(SlotLabel {
            id: "sim:0".into(),
            name: "slot 0".into(),
        })
    }

    #[test]
    fn the_ring_keeps_the_newest() {
        let t = Trace::new(4);
        let slot = label();
        for _ in 0..10 {
            t.record(rec(&slot));
        }
        let seqs: Vec<u64> = t.recent().iter().map(|r| r.seq).collect();
        assert_eq!(seqs, [6, 7, 8, 9]);
    }

    #[tokio::test]
    async fn a_follower_gets_what_follows_its_snapshot_and_its_losses() {
        let t = Trace::new(4);
        let slot = label();
        t.record(rec(&slot));
        let (snapshot, mut f) = t.follow();
        assert_eq!(snapshot.len(), 1);
        t.record(rec(&slot));
        assert!(matches!(f.next().await, Some(Next::Record(r)) if r.seq == 1));
        for _ in 0..LIVE_BACKLOG + 5 {
            t.record(rec(&slot));
        }
        assert!(matches!(f.next().await, Some(Next::Lost(5))));
        assert!(matches!(f.next().await, Some(Next::Record(r)) if r.seq == 7));
    }
}
