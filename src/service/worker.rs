//! One OS thread per slot owns the slot's transport channel and runs card
//! operations one at a time, in arrival order. A slow slot never holds up another.

use super::trace::{SlotLabel, Tap, Trace};
use super::ServiceError;
use crate::transport::{CardChannel, TransportError};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// Identifies a client connection, for the PIN policy.
pub type ConnId = u64;

/// Operations waiting on one slot beyond which new ones are refused (`reader_busy`).
const MAX_QUEUED: usize = 64;

/// A PIN verification the card holds: whose, on which card insertion, and
/// when it was last used (for the idle timeout).
#[derive(Clone, Copy)]
struct Verified {
    conn: ConnId,
    epoch: u64,
    last_used: Instant,
}

/// What a slot remembers between card operations.
struct SlotState {
    verified: Option<Verified>,
    epoch: Arc<AtomicU64>,
    cps_cache: Option<super::cps::CpsCache>,
    vitale_cache: Option<super::vitale::VitaleCache>,
}

/// What a card operation sees: the channel (for PC/SC, the card held in a
/// transaction for the operation) and who verified the PIN. Card operations
/// run on the slot's thread, so these checks cannot race.
pub struct SlotCtx<'a> {
    pub channel: &'a mut dyn CardChannel,
    /// What was read of the CPS in the slot (see `cps::cached_info`).
    pub cps_cache: &'a mut Option<super::cps::CpsCache>,
    /// The last Vitale read in the slot (see `vitale::cached_read`).
    pub vitale_cache: &'a mut Option<super::vitale::VitaleCache>,
    verified: &'a mut Option<Verified>,
    epoch: &'a AtomicU64,
}

impl SlotCtx<'_> {
    /// The card insertion now in the slot (bumped at every card movement).
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    fn current(&self) -> Option<Verified> {
        self.verified
            .filter(|v| v.epoch == self.epoch.load(Ordering::SeqCst))
    }

    /// Whether the card in the slot now holds `conn`'s PIN verification.
    pub fn verified_by(&self, conn: ConnId) -> bool {
        self.current().is_some_and(|v| v.conn == conn)
    }

    /// Records `conn`'s verification (or its use) now.
    pub fn set_verified(&mut self, conn: ConnId) {
        *self.verified = Some(Verified {
            conn,
            epoch: self.epoch.load(Ordering::SeqCst),
            last_used: Instant::now(),
        });
    }

    /// Forgets a verification the card no longer holds (after a failed VERIFY).
    pub fn forget_verification(&mut self) {
        *self.verified = None;
    }

    /// Closes the card's security state: forgets the verification and resets
    /// the card so that it forgets it too.
    pub fn drop_verification(&mut self) -> Result<(), TransportError> {
        if self.verified.take().is_some() {
            // A reset card is read again.
            *self.vitale_cache = None;
            self.channel.reset()?;
        }
        Ok(())
    }

    /// Before an operation of `conn`: a verification that another connection
    /// left open on this card is closed first, so `conn` can never use it.
    pub fn claim(&mut self, conn: ConnId) -> Result<(), TransportError> {
        match self.current() {
            Some(v) if v.conn != conn => self.drop_verification(),
            Some(_) => Ok(()),
            None => {
                *self.verified = None;
                Ok(())
            }
        }
    }

    /// Drops a verification unused for `idle`.
    pub fn expire(&mut self, idle: Duration) {
        if self.current().is_some_and(|v| v.last_used.elapsed() >= idle) {
            tracing::info!("PIN verification idle for {idle:?}: card reset");
            let _ = self.drop_verification();
        }
    }
}

/// A card operation. An exclusive one runs in the channel's session (a PC/SC
/// transaction); bookkeeping (PIN pad query, idle expiry, logout on
/// disconnect) runs on the channel as it is.
struct Job {
    exclusive: bool,
    task: Box<dyn Task>,
}

/// The work of a job and where its result goes.
trait Task: Send {
    /// Does the card work and returns how to hand its result over, which the
    /// slot's thread calls once the card is released: a client that gets its
    /// answer and goes to the card itself never finds it still held by us.
    fn run(self: Box<Self>, ctx: &mut SlotCtx<'_>) -> Deliver;
    /// The job will not run (the slot is gone).
    fn refuse(self: Box<Self>, e: ServiceError);
}

type Deliver = Box<dyn FnOnce() + Send>;

/// A card operation `f` whose result goes to `then`.
struct Op<F, T> {
    f: F,
    then: T,
}

impl<R, F, T> Task for Op<F, T>
where
    R: Send + 'static,
    F: FnOnce(&mut SlotCtx) -> R + Send,
    T: FnOnce(Result<R, ServiceError>) + Send + 'static,
{
    fn run(self: Box<Self>, ctx: &mut SlotCtx<'_>) -> Deliver {
        let result = (self.f)(ctx);
        let then = self.then;
        Box::new(move || then(Ok(result)))
    }

    fn refuse(self: Box<Self>, e: ServiceError) {
        (self.then)(Err(e))
    }
}

#[derive(Clone)]
pub struct Worker {
    tx: mpsc::Sender<Job>,
    queued: Arc<AtomicUsize>,
}

impl Worker {
    /// Starts the slot's thread. `epoch` is bumped by the service at every card
    /// movement, which voids any PIN verification. Every exchange of the slot
    /// goes to `trace`.
    pub fn spawn(
        slot: Arc<SlotLabel>,
        channel: Box<dyn CardChannel>,
        epoch: Arc<AtomicU64>,
        trace: Arc<Trace>,
    ) -> Worker {
        let (tx, rx) = mpsc::channel::<Job>();
        let queued = Arc::new(AtomicUsize::new(0));
        let worker = Worker {
            tx,
            queued: queued.clone(),
        };
        let mut channel = channel;
        let mut state = SlotState {
            verified: None,
            epoch,
            cps_cache: None,
            vitale_cache: None,
        };
        std::thread::Builder::new()
            .name(format!("slot {}", slot.id))
            .spawn(move || {
                // Ends when the service forgets the slot (every sender dropped).
                for job in rx {
                    if job.exclusive {
                        queued.fetch_sub(1, Ordering::SeqCst);
                    }
                    let SlotState {
                        verified,
                        epoch,
                        cps_cache,
                        vitale_cache,
                    } = &mut state;
                    let deliver = if job.exclusive {
                        let mut session = channel.session();
                        let mut tap = Tap::new(session.as_mut(), &trace, &slot);
                        job.task.run(&mut SlotCtx {
                            channel: &mut tap,
                            cps_cache,
                            vitale_cache,
                            verified,
                            epoch,
                        })
                    } else {
                        let mut tap = Tap::new(channel.as_mut(), &trace, &slot);
                        job.task.run(&mut SlotCtx {
                            channel: &mut tap,
                            cps_cache,
                            vitale_cache,
                            verified,
                            epoch,
                        })
                    };
                    deliver();
                }
                channel.disconnect();
            })
            .expect("spawning a slot thread");
        worker
    }

    /// Runs `f` on the slot's thread and waits for its result.
    pub async fn run<R, F>(&self, f: F) -> Result<R, ServiceError>
    where
        R: Send + 'static,
        F: FnOnce(&mut SlotCtx) -> R + Send + 'static,
    {
        let (done, result) = oneshot::channel();
        // The requester may have gone (client vanished): the work is still
        // done whole, its result dropped.
        self.run_then(f, move |r| drop(done.send(r)));
        result.await.map_err(|_| ServiceError::ReaderGone)?
    }

    /// Runs `f` on the slot's thread and hands its result to `then` on that
    /// thread once the card is released, so that an answer can leave without
    /// a hop back to the runtime. `then` is called exactly once: with
    /// `reader_busy` or `reader_gone` at once when the job cannot be queued.
    pub fn run_then<R, F, T>(&self, f: F, then: T)
    where
        R: Send + 'static,
        F: FnOnce(&mut SlotCtx) -> R + Send + 'static,
        T: FnOnce(Result<R, ServiceError>) + Send + 'static,
    {
        if self.queued.fetch_add(1, Ordering::SeqCst) >= MAX_QUEUED {
            self.queued.fetch_sub(1, Ordering::SeqCst);
            return then(Err(ServiceError::ReaderBusy));
        }
        let job = Job {
            exclusive: true,
            task: Box::new(Op { f, then }),
        };
        if let Err(mpsc::SendError(job)) = self.tx.send(job) {
            self.queued.fetch_sub(1, Ordering::SeqCst);
            job.task.refuse(ServiceError::ReaderGone);
        }
    }

    /// Queues `f` without waiting for it.
    pub fn post<F>(&self, f: F)
    where
        F: FnOnce(&mut SlotCtx) + Send + 'static,
    {
        let _ = self.tx.send(Job {
            exclusive: false,
            task: Box::new(Op { f, then: |_| () }),
        });
    }
}
