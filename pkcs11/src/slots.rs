//! The slot table: one slot per reader slot of lecteurd that may hold a CPS
//! (every slot whose reader profile does not reserve it for the Vitale card),
//! a token when a CPS3 or CPS4 is inside. Slot ids stay the same for a reader
//! while the module is loaded. Each card insertion gets a new generation:
//! sessions opened on an earlier one are dead.

use crate::client::Daemon;
use crate::error::Fail;
use crate::objects::Objects;
use cryptoki_sys::CK_SLOT_ID;
use lecteur_proto::cps::CpsInfo;
use lecteur_proto::method::ReadersList;
use lecteur_proto::system::NoParams;

/// Card kinds that are a token (a contactless CPS3 has no PIN and no keys).
const TOKENS: &[&str] = &["cps3", "cps4"];

pub(crate) struct Slot {
    /// lecteurd's reader id (`sim:0`, `pcsc:1`).
    pub reader: String,
    pub name: String,
    pub pinpad: bool,
    /// Listed by lecteurd now.
    pub present: bool,
    pub card: Option<Card>,
}

pub(crate) struct Card {
    pub generation: u64,
    /// `cps3` or `cps4`.
    pub kind: String,
    /// Whether this connection verified the PIN for this card.
    pub logged_in: bool,
    /// Loaded at the first need.
    pub objects: Option<Objects>,
    /// `cps.info`, read once: any card operation of this connection would
    /// close another application's PIN verification (lecteurd's policy), so
    /// C_GetTokenInfo, which applications call often, must not be one. Read
    /// again after this module's own PIN operations.
    pub info: Option<CpsInfo>,
}

impl Card {
    pub(crate) fn is_cps4(&self) -> bool {
        self.kind == "cps4"
    }
}

#[derive(Default)]
pub(crate) struct Slots {
    pub slots: Vec<Slot>,
    generations: u64,
    /// The daemon connection the cards were seen on.
    connection: u64,
}

impl Slots {
    /// Brings the table up to date with lecteurd: the readers and cards now,
    /// and any card movement since the last call (events), so that a card
    /// pulled and put back is still a new card.
    pub(crate) fn refresh(&mut self, daemon: &mut Daemon) -> Result<(), Fail> {
        let readers = daemon.call::<ReadersList>(&NoParams {})?;
        if daemon.connection != self.connection {
            // A new connection: nothing verified on the old one holds.
            self.connection = daemon.connection;
            self.slots.iter_mut().for_each(|s| s.card = None);
        }
        for ev in daemon.take_events() {
            // Every event is a card or reader movement: the slot's card may
            // have changed.
            if let Some(s) = self.slots.iter_mut().find(|s| s.reader == ev.reader) {
                s.card = None;
            }
        }
        self.slots.iter_mut().for_each(|s| s.present = false);
        for r in &readers {
            let id = r.id.as_str();
            if r.role.as_deref() == Some("vitale") {
                continue;
            }
            let index = match self.slots.iter().position(|s| s.reader == id) {
                Some(i) => i,
                None => {
                    self.slots.push(Slot {
                        reader: id.to_string(),
                        name: String::new(),
                        pinpad: false,
                        present: false,
                        card: None,
                    });
                    self.slots.len() - 1
                }
            };
            let kind = r
                .card
                .as_ref()
                .map(|c| c.kind.as_str())
                .filter(|k| TOKENS.contains(k));
            let slot = &mut self.slots[index];
            slot.present = true;
            slot.name = r.name.clone();
            slot.pinpad = r.pinpad;
            match kind {
                None => slot.card = None,
                Some(k) if slot.card.as_ref().is_some_and(|c| c.kind == k) => {}
                Some(k) => {
                    self.generations += 1;
                    slot.card = Some(Card {
                        generation: self.generations,
                        kind: k.to_string(),
                        logged_in: false,
                        objects: None,
                        info: None,
                    });
                }
            }
        }
        for s in self.slots.iter_mut().filter(|s| !s.present) {
            s.card = None;
        }
        Ok(())
    }

    pub(crate) fn get(&self, id: CK_SLOT_ID) -> Option<&Slot> {
        usize::try_from(id).ok().and_then(|i| self.slots.get(i))
    }

    pub(crate) fn get_mut(&mut self, id: CK_SLOT_ID) -> Option<&mut Slot> {
        usize::try_from(id).ok().and_then(|i| self.slots.get_mut(i))
    }

    /// The ids of the listed slots (with a token only, if asked).
    pub(crate) fn ids(&self, token_present: bool) -> Vec<CK_SLOT_ID> {
        (0..)
            .zip(&self.slots)
            .filter(|(_, s)| s.present && (!token_present || s.card.is_some()))
            .map(|(i, _)| i)
            .collect()
    }
}
