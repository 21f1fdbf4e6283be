//! The in-process simulated reader: a few slots that hold [`SimCard`]s, with
//! insert/remove and change notifications. The vpcd and serial front-ends and
//! `lecteurd --sim` all drive cards through it.

use crate::card::SimCard;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};

/// A card moved in or out of a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotChange {
    pub slot: usize,
    pub present: bool,
}

/// Why a slot operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SlotError {
    #[error("no such slot")]
    NoSlot,
    #[error("no card in the slot")]
    NoCard,
    /// The card the caller connected to was removed (another may be there now).
    #[error("the card was removed")]
    CardChanged,
}

struct Slot {
    card: Option<Box<dyn SimCard>>,
    /// Bumped at every insertion, so a caller holding an old connection notices a swap.
    generation: u64,
}

/// Called after each card movement (once the watchers have it); false
/// when it wants no more calls.
type Wake = Box<dyn Fn() -> bool + Send>;

struct Inner {
    slots: Vec<Mutex<Slot>>,
    watchers: Mutex<Vec<mpsc::Sender<SlotChange>>>,
    wakers: Mutex<Vec<Wake>>,
    counters: Counters,
}

/// What the cards received, for tests that must prove a command was not
/// repeated (a PIN sent twice costs a try).
#[derive(Debug, Default)]
pub struct Counters {
    apdus: AtomicU64,
    verify_with_pin: AtomicU64,
}

/// A snapshot of [`Counters`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CounterValues {
    /// APDUs that reached a card.
    pub apdus: u64,
    /// VERIFY commands (INS 20) that carried data, i.e. a PIN, that reached a card.
    pub verify_with_pin: u64,
}

/// A simulated multi-slot reader, cheap to clone and share between threads.
#[derive(Clone)]
pub struct SimReader {
    inner: Arc<Inner>,
}

impl SimReader {
    /// A reader with `slots` empty slots.
    pub fn new(slots: usize) -> Self {
        let slots = (0..slots)
            .map(|_| {
                Mutex::new(Slot {
                    card: None,
                    generation: 0,
                })
            })
            .collect();
        SimReader {
            inner: Arc::new(Inner {
                slots,
                watchers: Mutex::new(Vec::new()),
                wakers: Mutex::new(Vec::new()),
                counters: Counters::default(),
            }),
        }
    }

    pub fn slot_count(&self) -> usize {
        self.inner.slots.len()
    }

    fn slot(&self, slot: usize) -> Result<MutexGuard<'_, Slot>, SlotError> {
        let m = self.inner.slots.get(slot).ok_or(SlotError::NoSlot)?;
        // A panic in a card model must not poison the reader for everyone.
        Ok(m.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn notify(&self, change: SlotChange) {
        let mut w = self.inner.watchers.lock().unwrap_or_else(|e| e.into_inner());
        w.retain(|tx| tx.send(change).is_ok());
        drop(w);
        let mut w = self.inner.wakers.lock().unwrap_or_else(|e| e.into_inner());
        w.retain(|wake| wake());
    }

    /// Puts a card in a slot (replacing any card there).
    pub fn insert(&self, slot: usize, card: Box<dyn SimCard>) -> Result<(), SlotError> {
        let replaced = {
            let mut s = self.slot(slot)?;
            let replaced = s.card.is_some();
            s.card = Some(card);
            s.generation += 1;
            replaced
        };
        if replaced {
            self.notify(SlotChange { slot, present: false });
        }
        self.notify(SlotChange { slot, present: true });
        Ok(())
    }

    /// Takes the card out of a slot. Removing from an empty slot is not an error.
    pub fn remove(&self, slot: usize) -> Result<(), SlotError> {
        let had = self.slot(slot)?.card.take().is_some();
        if had {
            self.notify(SlotChange { slot, present: false });
        }
        Ok(())
    }

    /// Whether a card sits in the slot.
    pub fn present(&self, slot: usize) -> bool {
        self.slot(slot).map(|s| s.card.is_some()).unwrap_or(false)
    }

    /// Powers the card: returns the insertion generation and the ATR.
    pub fn connect(&self, slot: usize) -> Result<(u64, Vec<u8>), SlotError> {
        let mut s = self.slot(slot)?;
        let generation = s.generation;
        let card = s.card.as_mut().ok_or(SlotError::NoCard)?;
        card.reset();
        Ok((generation, card.atr()))
    }

    /// Sends an APDU to the card inserted at `generation`.
    pub fn transmit(&self, slot: usize, generation: u64, apdu: &[u8]) -> Result<Vec<u8>, SlotError> {
        let mut s = self.slot(slot)?;
        if s.generation != generation {
            return Err(SlotError::CardChanged);
        }
        let card = s.card.as_mut().ok_or(SlotError::CardChanged)?;
        let c = &self.inner.counters;
        c.apdus.fetch_add(1, Ordering::Relaxed);
        // INS 20 with Lc: a PIN goes to the card (without data it only asks
        // for the tries left).
        if apdu.len() > 5 && apdu[1] == 0x20 {
            c.verify_with_pin.fetch_add(1, Ordering::Relaxed);
        }
        Ok(card.transmit(apdu))
    }

    /// Resets the card inserted at `generation`; returns its ATR.
    pub fn reset(&self, slot: usize, generation: u64) -> Result<Vec<u8>, SlotError> {
        let mut s = self.slot(slot)?;
        if s.generation != generation {
            return Err(SlotError::CardChanged);
        }
        let card = s.card.as_mut().ok_or(SlotError::CardChanged)?;
        card.reset();
        Ok(card.atr())
    }

    /// The insertion generation of the card in the slot, if any.
    pub fn generation(&self, slot: usize) -> Option<u64> {
        let s = self.slot(slot).ok()?;
        s.card.as_ref().map(|_| s.generation)
    }

    /// The ATR of the card in the slot, without powering anything.
    pub fn atr(&self, slot: usize) -> Option<Vec<u8>> {
        self.slot(slot).ok()?.card.as_ref().map(|c| c.atr())
    }

    /// What the cards received so far (all slots).
    pub fn counters(&self) -> CounterValues {
        let c = &self.inner.counters;
        CounterValues {
            apdus: c.apdus.load(Ordering::Relaxed),
            verify_with_pin: c.verify_with_pin.load(Ordering::Relaxed),
        }
    }

    /// Calls `wake` after every card movement from now on, once the
    /// [`subscribe`](Self::subscribe)rs have it (to end a front-end's poll
    /// at once), until it returns false.
    pub fn on_change(&self, wake: impl Fn() -> bool + Send + 'static) {
        self.inner
            .wakers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Box::new(wake));
    }

    /// Card movements from now on.
    pub fn subscribe(&self) -> mpsc::Receiver<SlotChange> {
        let (tx, rx) = mpsc::channel();
        self.inner
            .watchers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(tx);
        rx
    }
}
