//! A slot's memory between card operations (who verified the PIN, on which
//! card insertion; what was read of the card) and what an operation sees of
//! it, [`SlotCtx`].

use super::cache::{CpsCache, VitaleCache};
use super::trace::Tap;
use crate::transport::{SlotLink, TransportError};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Identifies a client connection, for the PIN policy.
pub type ConnId = u64;

/// A PIN verification the card holds: whose, on which card insertion, and
/// when it was last used (for the idle timeout).
#[derive(Clone, Copy)]
struct Verified {
    conn: ConnId,
    epoch: u64,
    last_used: Instant,
}

/// What a slot remembers between card operations.
pub(super) struct SlotState {
    verified: Option<Verified>,
    epoch: Arc<AtomicU64>,
    cps_cache: Option<CpsCache>,
    vitale_cache: Option<VitaleCache>,
}

impl SlotState {
    pub(super) fn new(epoch: Arc<AtomicU64>) -> SlotState {
        SlotState {
            verified: None,
            epoch,
            cps_cache: None,
            vitale_cache: None,
        }
    }

    /// What an operation over `link` sees of the slot.
    pub(super) fn ctx<'a>(&'a mut self, link: &'a mut Tap<'a>) -> SlotCtx<'a> {
        SlotCtx {
            link,
            cps_cache: &mut self.cps_cache,
            vitale_cache: &mut self.vitale_cache,
            verified: &mut self.verified,
            epoch: &self.epoch,
        }
    }

    /// The card moved under the link: its PIN state and the data read
    /// from it are void.
    pub(super) fn card_moved(&mut self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.vitale_cache = None;
    }
}

/// What a card operation sees: the slot's link (for PC/SC, the card held in
/// a transaction for the operation), traced, and who verified the PIN. Card
/// operations run on the slot's thread, so these checks cannot race. The
/// link is an `apdu::Exchange` for card code as it is.
pub(super) struct SlotCtx<'a> {
    pub link: &'a mut Tap<'a>,
    /// What was read of the CPS in the slot (see `cps::cached_info`).
    pub cps_cache: &'a mut Option<CpsCache>,
    /// The last Vitale read in the slot (see `vitale::cached_read`).
    pub vitale_cache: &'a mut Option<VitaleCache>,
    verified: &'a mut Option<Verified>,
    epoch: &'a AtomicU64,
}

impl SlotCtx<'_> {
    /// The card insertion now in the slot (bumped at every card movement).
    pub(super) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    fn current(&self) -> Option<Verified> {
        self.verified
            .filter(|v| v.epoch == self.epoch.load(Ordering::SeqCst))
    }

    /// Whether the card in the slot now holds `conn`'s PIN verification.
    pub(super) fn verified_by(&self, conn: ConnId) -> bool {
        self.current().is_some_and(|v| v.conn == conn)
    }

    /// Records `conn`'s verification (or its use) now.
    pub(super) fn set_verified(&mut self, conn: ConnId) {
        *self.verified = Some(Verified {
            conn,
            epoch: self.epoch.load(Ordering::SeqCst),
            last_used: Instant::now(),
        });
    }

    /// Forgets a verification the card no longer holds (after a failed VERIFY).
    pub(super) fn forget_verification(&mut self) {
        *self.verified = None;
    }

    /// Closes the card's security state: forgets the verification and resets
    /// the card so that it forgets it too.
    pub(super) fn drop_verification(&mut self) -> Result<(), TransportError> {
        if self.verified.take().is_some() {
            // A reset card is read again.
            *self.vitale_cache = None;
            self.link.reset()?;
        }
        Ok(())
    }

    /// Before an operation of `conn`: a verification that another connection
    /// left open on this card is closed first, so `conn` can never use it.
    pub(super) fn claim(&mut self, conn: ConnId) -> Result<(), TransportError> {
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
    pub(super) fn expire(&mut self, idle: Duration) {
        if self.current().is_some_and(|v| v.last_used.elapsed() >= idle) {
            tracing::info!("PIN verification idle for {idle:?}: card reset");
            let _ = self.drop_verification();
        }
    }
}
