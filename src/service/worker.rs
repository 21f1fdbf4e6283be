//! One OS thread per slot owns the slot's link to the card and runs card
//! operations one at a time, in arrival order. A slow slot never holds up another.
//!
//! Waiting for the card is bounded. On PC/SC, taking the card (connecting,
//! beginning the transaction) blocks without limit while another
//! application holds it in a transaction (pcsc-lite polls every 100 ms and
//! no call cancels that wait). The slot's thread notes when it starts such a
//! wait; a request whose operation has not started once the thread has
//! waited [`CARD_WAIT`] gives up with `reader_busy`, and new requests are
//! refused at once while the wait lasts. Each request's job is `PENDING`
//! until the thread, holding the card, moves it to `RUNNING`; a requester
//! that gives up moves it to `ABANDONED` first, and the thread then skips it
//! (releasing the card without sending anything): an abandoned operation
//! never runs late.

use super::slot::{SlotCtx, SlotState};
use super::trace::{SlotLabel, Tap, Trace};
use super::ServiceError;
use crate::transport::SlotLink;
use std::sync::atomic::{AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// Operations waiting on one slot beyond which new ones are refused (`reader_busy`).
const MAX_QUEUED: usize = 64;

/// How long a request waits while the slot's thread waits for the card
/// (another application holds it) before it is answered `reader_busy`.
pub const CARD_WAIT: Duration = Duration::from_secs(5);

/// A job's life: waiting for the card, running, or given up by its requester.
const PENDING: u8 = 0;
const RUNNING: u8 = 1;
const ABANDONED: u8 = 2;

/// A card operation. An exclusive one runs in the link's session (a PC/SC
/// transaction); bookkeeping (PIN pad query, idle expiry, logout on
/// disconnect) runs on the link as it is.
struct Job {
    exclusive: bool,
    /// `PENDING`, `RUNNING` or `ABANDONED`, for a job a requester waits
    /// for; `None` for bookkeeping nobody waits for.
    state: Option<Arc<AtomicU8>>,
    /// Does the card work and returns how to hand its result over, which the
    /// slot's thread calls once the card is released: a client that gets its
    /// answer and goes to the card itself never finds it still held by us.
    run: Box<dyn FnOnce(&mut SlotCtx<'_>) -> Deliver + Send>,
}

type Deliver = Box<dyn FnOnce() + Send>;

#[derive(Clone)]
pub(super) struct Worker {
    tx: mpsc::Sender<Job>,
    shared: Arc<Shared>,
}

/// What the requesters and the slot's thread both see.
struct Shared {
    /// The bound on a request's wait for a card held elsewhere ([`CARD_WAIT`]).
    card_wait: Duration,
    /// Operations sent and not yet taken by the slot's thread.
    queued: AtomicUsize,
    /// Since when the slot's thread has been waiting for the card (taking
    /// it for an operation, or bookkeeping outside a transaction).
    waiting: Mutex<Option<Instant>>,
}

impl Shared {
    fn waiting_since(&self) -> Option<Instant> {
        *self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set_waiting(&self, since: Option<Instant>) {
        *self.waiting.lock().unwrap_or_else(|e| e.into_inner()) = since;
    }

    /// Whether the thread has waited for the card for `card_wait` already.
    fn stuck(&self) -> bool {
        self.waiting_since()
            .is_some_and(|t| t.elapsed() >= self.card_wait)
    }
}

impl Worker {
    /// Starts the slot's thread. `epoch` is bumped by the service at every card
    /// movement, which voids any PIN verification.
    /// `card_wait` bounds a request's wait for a card held elsewhere. Every
    /// exchange of the slot goes to `trace`.
    pub(super) fn spawn(
        slot: Arc<SlotLabel>,
        link: Box<dyn SlotLink>,
        epoch: Arc<AtomicU64>,
        card_wait: Duration,
        trace: Arc<Trace>,
    ) -> Worker {
        let (tx, rx) = mpsc::channel::<Job>();
        let mut link = link;
        let mut state = SlotState::new(epoch);
        let shared = Arc::new(Shared {
            card_wait,
            queued: AtomicUsize::new(0),
            waiting: Mutex::new(None),
        });
        let thread_shared = shared.clone();
        std::thread::Builder::new()
            .name(format!("slot {}", slot.id))
            .spawn(move || {
                let shared = thread_shared;
                // Ends when the service forgets the slot (every sender dropped).
                for job in rx {
                    if job.state.is_some() {
                        shared.queued.fetch_sub(1, Ordering::SeqCst);
                    }
                    let abandoned = |state: &Option<Arc<AtomicU8>>| {
                        state.as_ref().is_some_and(|s| {
                            s.compare_exchange(PENDING, RUNNING, Ordering::SeqCst, Ordering::SeqCst)
                                .is_err()
                        })
                    };
                    // Given up while queued: the card is not even taken.
                    if job
                        .state
                        .as_ref()
                        .is_some_and(|s| s.load(Ordering::SeqCst) == ABANDONED)
                    {
                        tracing::debug!("an operation given up while it waited for the card is skipped");
                        continue;
                    }
                    let deliver = if job.exclusive {
                        shared.set_waiting(Some(Instant::now()));
                        let mut session = link.session();
                        shared.set_waiting(None);
                        if abandoned(&job.state) {
                            // Its requester was answered `reader_busy`: the
                            // card is released (the session ends) untouched.
                            tracing::debug!(
                                "an operation given up while the card was held elsewhere is skipped"
                            );
                            continue;
                        }
                        let mut tap = Tap::new(session.as_mut(), &trace, &slot);
                        (job.run)(&mut state.ctx(&mut tap))
                    } else {
                        // Bookkeeping outside a transaction (a reset, a PIN
                        // pad query) may wait for the card too.
                        shared.set_waiting(Some(Instant::now()));
                        let mut tap = Tap::new(link.as_mut(), &trace, &slot);
                        let deliver = (job.run)(&mut state.ctx(&mut tap));
                        shared.set_waiting(None);
                        deliver
                    };
                    if link.card_moved() {
                        // Found out by the transport before (or without)
                        // the reader's event: the card's PIN state and the
                        // data read from it are void now.
                        tracing::debug!("the card moved under the link: epoch bumped");
                        state.card_moved();
                    }
                    deliver();
                }
                link.disconnect();
            })
            .expect("spawning a slot thread");
        Worker { tx, shared }
    }

    /// Runs `f` on the slot's thread and waits for its result. While the
    /// thread waits for the card held by another application, the request
    /// waits at most `card_wait` ([`CARD_WAIT`] by default) of that wait, then gets `reader_busy`
    /// and `f` never runs.
    pub(super) async fn run<R, F>(&self, f: F) -> Result<R, ServiceError>
    where
        R: Send + 'static,
        F: FnOnce(&mut SlotCtx<'_>) -> R + Send + 'static,
    {
        if self.shared.stuck() {
            return Err(self.held_elsewhere());
        }
        if self.shared.queued.fetch_add(1, Ordering::SeqCst) >= MAX_QUEUED {
            self.shared.queued.fetch_sub(1, Ordering::SeqCst);
            return Err(ServiceError::ReaderBusy);
        }
        let (done, mut result) = oneshot::channel();
        let state = Arc::new(AtomicU8::new(PENDING));
        let job = Job {
            exclusive: true,
            state: Some(state.clone()),
            run: Box::new(move |ctx| {
                let result = f(ctx);
                // The requester may have gone (client vanished): the work is
                // still done whole, its result dropped.
                Box::new(move || drop(done.send(result)))
            }),
        };
        if self.tx.send(job).is_err() {
            self.shared.queued.fetch_sub(1, Ordering::SeqCst);
            return Err(ServiceError::ReaderGone);
        }
        let card_wait = self.shared.card_wait;
        let mut wait = card_wait;
        // Each turn ends with the answer, or at the moment the thread's wait
        // for the card reaches the bound (it may have started after this
        // request): a bounded number of wake-ups per request.
        loop {
            match tokio::time::timeout(wait, &mut result).await {
                Ok(r) => return r.map_err(|_| ServiceError::ReaderGone),
                Err(_) if state.load(Ordering::SeqCst) != PENDING => {
                    // Running: bounded by the transport's own timeouts.
                    return result.await.map_err(|_| ServiceError::ReaderGone);
                }
                Err(_) => match self.shared.waiting_since() {
                    Some(t) if t.elapsed() >= card_wait => {
                        if state
                            .compare_exchange(PENDING, ABANDONED, Ordering::SeqCst, Ordering::SeqCst)
                            .is_ok()
                        {
                            return Err(self.held_elsewhere());
                        }
                        // The thread took it just now.
                        return result.await.map_err(|_| ServiceError::ReaderGone);
                    }
                    Some(t) => {
                        wait = card_wait
                            .saturating_sub(t.elapsed())
                            .max(Duration::from_millis(1))
                    }
                    // Behind operations of ours: they are bounded by the transport.
                    None => wait = card_wait,
                },
            }
        }
    }

    fn held_elsewhere(&self) -> ServiceError {
        ServiceError::HeldElsewhere(self.shared.card_wait.as_secs())
    }

    /// Queues `f` without waiting for it.
    pub(super) fn post<F>(&self, f: F)
    where
        F: FnOnce(&mut SlotCtx<'_>) + Send + 'static,
    {
        let _ = self.tx.send(Job {
            exclusive: false,
            state: None,
            run: Box::new(|ctx| {
                f(ctx);
                Box::new(|| ())
            }),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::TransportError;
    use std::sync::Condvar;

    /// A link whose card another application holds until the gate opens.
    struct Gated {
        gate: Gate,
        apdus: Arc<AtomicUsize>,
    }

    impl SlotLink for Gated {
        fn connect(&mut self) -> Result<Vec<u8>, TransportError> {
            Ok(vec![0x3B, 0x00])
        }
        fn transmit(&mut self, _: &[u8]) -> Result<Vec<u8>, TransportError> {
            self.apdus.fetch_add(1, Ordering::SeqCst);
            Ok(vec![0x90, 0x00])
        }
        fn reset(&mut self) -> Result<Vec<u8>, TransportError> {
            Ok(vec![0x3B, 0x00])
        }
        fn disconnect(&mut self) {}
        fn session(&mut self) -> Box<dyn SlotLink + '_> {
            {
                let gate = self.gate.clone();
                let (open, cv) = &*gate;
                let end = Instant::now() + Duration::from_secs(10);
                let mut open = open.lock().unwrap();
                while !*open && Instant::now() < end {
                    open = cv.wait_timeout(open, Duration::from_millis(50)).unwrap().0;
                }
            }
            Box::new(crate::transport::Direct(self))
        }
    }

    type Gate = Arc<(Mutex<bool>, Condvar)>;

    fn gated(wait: Duration) -> (Worker, Gate, Arc<AtomicUsize>) {
        let gate = Arc::new((Mutex::new(false), Condvar::new()));
        let apdus = Arc::new(AtomicUsize::new(0));
        let link = Gated {
            gate: gate.clone(),
            apdus: apdus.clone(),
        };
        let label = Arc::new(SlotLabel {
            id: "test".into(),
            name: "test".into(),
        });
        let trace = Arc::new(Trace::default());
        let worker = Worker::spawn(label, Box::new(link), Arc::new(AtomicU64::new(0)), wait, trace);
        (worker, gate, apdus)
    }

    fn open(gate: &(Mutex<bool>, Condvar)) {
        *gate.0.lock().unwrap() = true;
        gate.1.notify_all();
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
    }

    fn apdu(ctx: &mut SlotCtx<'_>) -> Result<Vec<u8>, TransportError> {
        ctx.link.transmit(&[0x00, 0xB0, 0x00, 0x00, 0x00])
    }

    #[test]
    fn a_card_held_elsewhere_gives_reader_busy_in_bounded_time() {
        let wait = Duration::from_millis(200);
        let (worker, gate, apdus) = gated(wait);
        runtime().block_on(async {
            let t = Instant::now();
            let r = worker.run(apdu).await;
            assert!(matches!(r, Err(ServiceError::HeldElsewhere(_))), "{r:?}");
            assert_eq!(r.unwrap_err().kind(), lecteur_proto::ErrorKind::ReaderBusy);
            assert!(t.elapsed() >= wait && t.elapsed() < wait * 4, "{:?}", t.elapsed());

            // While the slot still waits: refused at once, nothing queued.
            let t = Instant::now();
            assert!(worker.run(apdu).await.is_err());
            assert!(t.elapsed() < Duration::from_millis(100), "{:?}", t.elapsed());
            assert_eq!(worker.shared.queued.load(Ordering::SeqCst), 0);

            // Released: the abandoned operation never runs, the next one does
            // (once the slot's thread has the card: until then it is refused).
            open(&gate);
            let end = Instant::now() + Duration::from_secs(10);
            while worker.shared.waiting_since().is_some() && Instant::now() < end {
                std::thread::sleep(Duration::from_millis(10));
            }
            let r = worker.run(apdu).await;
            assert_eq!(r.unwrap(), Ok(vec![0x90, 0x00]));
            assert_eq!(apdus.load(Ordering::SeqCst), 1, "an abandoned operation ran");
        });
    }

    #[test]
    fn operations_queued_behind_ours_are_not_refused() {
        let wait = Duration::from_millis(100);
        let (worker, gate, apdus) = gated(wait);
        open(&gate);
        runtime().block_on(async {
            // A slow operation of ours (a PIN pad entry, say) is not a card
            // held elsewhere: the one queued behind it waits its turn.
            let slow = worker.run(|ctx| {
                std::thread::sleep(Duration::from_millis(400));
                apdu(ctx)
            });
            let next = worker.run(apdu);
            let (a, b) = tokio::join!(slow, next);
            assert!(a.unwrap().is_ok());
            assert!(b.unwrap().is_ok());
            assert_eq!(apdus.load(Ordering::SeqCst), 2);
        });
    }
}
