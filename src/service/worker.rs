//! One OS thread per slot owns the slot's transport channel and runs card
//! operations one at a time, in arrival order. A slow slot never holds up another.

use super::ServiceError;
use crate::transport::CardChannel;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use tokio::sync::oneshot;

/// Identifies a client connection, for the PIN policy.
pub type ConnId = u64;

/// Operations waiting on one slot beyond which new ones are refused (`reader_busy`).
const MAX_QUEUED: usize = 64;

/// What a card operation sees: the channel and who verified the PIN.
pub struct SlotCtx {
    pub channel: Box<dyn CardChannel>,
    /// The connection whose PIN verification the card holds, for one card insertion.
    verified: Option<(ConnId, u64)>,
    epoch: Arc<AtomicU64>,
}

impl SlotCtx {
    /// Whether the card in the slot now holds `conn`'s PIN verification.
    pub fn verified_by(&self, conn: ConnId) -> bool {
        self.verified == Some((conn, self.epoch.load(Ordering::SeqCst)))
    }

    /// Whether another connection's verification is open on this card.
    pub fn verified_by_other(&self, conn: ConnId) -> bool {
        matches!(self.verified, Some((c, e)) if c != conn && e == self.epoch.load(Ordering::SeqCst))
    }

    pub fn set_verified(&mut self, conn: Option<ConnId>) {
        self.verified = conn.map(|c| (c, self.epoch.load(Ordering::SeqCst)));
    }
}

type Job = Box<dyn FnOnce(&mut SlotCtx) + Send>;

#[derive(Clone)]
pub struct Worker {
    tx: mpsc::Sender<Job>,
    queued: Arc<AtomicUsize>,
}

impl Worker {
    /// Starts the slot's thread. `epoch` is bumped by the service at every card
    /// movement, which voids any PIN verification.
    pub fn spawn(name: &str, channel: Box<dyn CardChannel>, epoch: Arc<AtomicU64>) -> Worker {
        let (tx, rx) = mpsc::channel::<Job>();
        let mut ctx = SlotCtx {
            channel,
            verified: None,
            epoch,
        };
        std::thread::Builder::new()
            .name(format!("slot {name}"))
            .spawn(move || {
                // Ends when the service forgets the slot (every sender dropped).
                for job in rx {
                    job(&mut ctx);
                }
                ctx.channel.disconnect();
            })
            .expect("spawning a slot thread");
        Worker {
            tx,
            queued: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Runs `f` on the slot's thread and waits for its result.
    pub async fn run<R, F>(&self, f: F) -> Result<R, ServiceError>
    where
        R: Send + 'static,
        F: FnOnce(&mut SlotCtx) -> R + Send + 'static,
    {
        if self.queued.fetch_add(1, Ordering::SeqCst) >= MAX_QUEUED {
            self.queued.fetch_sub(1, Ordering::SeqCst);
            return Err(ServiceError::ReaderBusy);
        }
        let (done, result) = oneshot::channel();
        let queued = self.queued.clone();
        let job: Job = Box::new(move |ctx| {
            queued.fetch_sub(1, Ordering::SeqCst);
            // The requester may have gone (client vanished): the work is still
            // done whole, its result dropped.
            let _ = done.send(f(ctx));
        });
        if self.tx.send(job).is_err() {
            self.queued.fetch_sub(1, Ordering::SeqCst);
            return Err(ServiceError::ReaderGone);
        }
        result.await.map_err(|_| ServiceError::ReaderGone)
    }

    /// Queues `f` without waiting for it.
    pub fn post<F>(&self, f: F)
    where
        F: FnOnce(&mut SlotCtx) + Send + 'static,
    {
        let _ = self.tx.send(Box::new(f));
    }
}
