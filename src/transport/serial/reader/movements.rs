//! Card presence on the link thread: what polls and notifications say
//! becomes slot state and `CardInserted` / `CardRemoved` events; new cards
//! are powered (bounded attempts per insertion).

use tracing::warn;

use super::{Fail, ReaderThread, Stop};
use crate::transport::serial::ccid::{Command, IccStatus};
use crate::transport::serial::link::{slot_changed, slot_present, Link};
use crate::transport::serial::port::Port;
use crate::transport::ReaderEvent;

impl ReaderThread {
    /// GetSlotStatus on every slot, then power on new cards.
    pub(super) fn poll_all<P: Port>(&mut self, link: &mut Link<P>) -> Result<(), Fail> {
        for slot in 0..self.slots.len() {
            let answer = self.exchange(link, &Command::get_slot_status(slot as u8), false)?;
            self.observe(slot, answer.icc);
        }
        self.settle(link)
    }

    /// Presence as polled.
    pub(super) fn observe(&mut self, slot: usize, icc: IccStatus) {
        let s = &self.slots[slot];
        match icc {
            IccStatus::Absent => self.card_gone(slot),
            IccStatus::Inactive if s.present && s.powered => {
                // Powered by us, now inactive: pulled and put back between
                // two polls, or reset by the reader. Either way a new card.
                self.card_gone(slot);
                self.card_seen(slot);
            }
            IccStatus::Inactive | IccStatus::Active => {
                if !s.present {
                    self.card_seen(slot);
                }
            }
        }
    }

    pub(super) fn card_gone(&mut self, slot: usize) {
        let s = &mut self.slots[slot];
        if s.present || s.powered || s.announced {
            s.generation += 1;
        }
        s.present = false;
        s.powered = false;
        s.atr = None;
        s.power_attempts = 0;
        if s.announced {
            s.announced = false;
            self.emit(ReaderEvent::CardRemoved {
                id: self.slot_id(slot),
            });
        }
    }

    pub(super) fn card_seen(&mut self, slot: usize) {
        let s = &mut self.slots[slot];
        s.present = true;
        s.powered = false;
        s.atr = None;
        s.power_attempts = 0;
    }

    /// Applies the card-movement notifications the link collected (state and
    /// `CardRemoved` events; new cards are powered by [`Self::settle`]).
    pub(super) fn apply_movements<P: Port>(&mut self, link: &mut Link<P>) {
        for state in link.take_movements() {
            for slot in 0..self.slots.len() {
                let Some(present) = slot_present(state, slot as u8) else {
                    continue;
                };
                if slot_changed(state, slot as u8) {
                    self.card_gone(slot);
                    if present {
                        self.card_seen(slot);
                    }
                } else if present != self.slots[slot].present {
                    if present {
                        self.card_seen(slot);
                    } else {
                        self.card_gone(slot);
                    }
                }
            }
        }
    }

    /// Movements read while idle, then power-on of new cards.
    pub(super) fn after_activity<P: Port>(&mut self, link: &mut Link<P>) -> Result<(), Stop> {
        self.apply_movements(link);
        match self.settle(link) {
            Err(fail) => match fail.gone() {
                Some(why) => Err(Stop::Gone(why)),
                None => Ok(()),
            },
            Ok(()) => Ok(()),
        }
    }

    /// Powers on present cards that have not been announced yet (bounded
    /// attempts per insertion), which sends `CardInserted` with the ATR.
    pub(super) fn settle<P: Port>(&mut self, link: &mut Link<P>) -> Result<(), Fail> {
        for slot in 0..self.slots.len() {
            let s = &mut self.slots[slot];
            if !s.present || s.announced || s.power_attempts >= self.cfg.max_power_on_attempts {
                continue;
            }
            s.power_attempts += 1;
            let attempt = s.power_attempts;
            match self.power_on(link, slot) {
                Ok(_) => {}
                Err(fail) => {
                    if fail.gone().is_some() {
                        return Err(fail);
                    }
                    let why = fail.into_transport();
                    warn!(slot, attempt, %why, "cannot power on the inserted card");
                }
            }
        }
        Ok(())
    }
}
