//! The service: the slots the transports reported, one worker per slot, card
//! events for subscribers, and the operations the API offers, with the PIN
//! policy (a verification belongs to the connection that made it).

mod cache;
mod cps;
mod dmp;
mod error;
mod slot;
pub mod trace;
mod vitale;
mod worker;

pub use cache::VitaleRead;
pub use cps::{AuthInput, LastTry, PinEntry, SignInput};
pub use dmp::SituationPick;
pub use error::ServiceError;
pub use slot::ConnId;
pub use vitale::Freshness;
pub use worker::CARD_WAIT;

use crate::card::atr::{identify, CardKind};
use crate::card::profile::SlotRole;
use crate::card::Profiles;
use crate::transport::{ReaderEvent, SlotInfo, SlotLink};
use lecteur_proto::event::{Event, EventType};
use lecteur_proto::system::{CardView, ModelView, ReaderView};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};
use worker::Worker;

/// A card as the API shows it.
fn card_view(atr: &[u8]) -> CardView {
    card_view_as(identify(atr), atr)
}

/// A card of a kind already identified, as the API shows it.
fn card_view_as(kind: crate::card::CardKind, atr: &[u8]) -> CardView {
    CardView {
        kind: kind.as_str().to_string(),
        atr: hex::encode_upper(atr),
    }
}

/// Service settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// A PIN verification unused this long is dropped (the card is reset).
    pub pin_idle_timeout: Duration,
    /// Directory whose profiles replace the built-in ones, file by file.
    pub profiles_dir: Option<std::path::PathBuf>,
    /// How long a request waits while another application holds the card
    /// (a PC/SC transaction) before it is answered `reader_busy`.
    pub card_wait: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            pin_idle_timeout: Duration::from_secs(15 * 60),
            profiles_dir: None,
            card_wait: CARD_WAIT,
        }
    }
}

struct Slot {
    info: SlotInfo,
    worker: Worker,
    atr: Option<Vec<u8>>,
    /// Bumped at every card movement: voids PIN verifications.
    epoch: Arc<AtomicU64>,
    /// What the reader profile says the slot is for.
    role: Option<SlotRole>,
}

struct Inner {
    slots: Mutex<BTreeMap<String, Slot>>,
    profiles: Arc<Profiles>,
    events: broadcast::Sender<Event>,
    next_conn: AtomicU64,
    trace: Arc<trace::Trace>,
    card_wait: Duration,
}

/// Cheap to clone; shared by every connection.
#[derive(Clone)]
pub struct Service {
    inner: Arc<Inner>,
}

impl Service {
    /// Starts the service on the events of the transports. Fails when a
    /// profile in `options.profiles_dir` is invalid (the error names file and line).
    pub fn start(
        mut transport_events: mpsc::UnboundedReceiver<ReaderEvent>,
        options: Options,
    ) -> Result<Service, crate::card::ProfileError> {
        let profiles = Arc::new(Profiles::load(options.profiles_dir.as_deref())?);
        let (events, _) = broadcast::channel(256);
        let service = Service {
            inner: Arc::new(Inner {
                slots: Mutex::new(BTreeMap::new()),
                profiles,
                events,
                next_conn: AtomicU64::new(1),
                trace: Arc::new(trace::Trace::default()),
                card_wait: options.card_wait,
            }),
        };
        let s = service.clone();
        tokio::spawn(async move {
            while let Some(ev) = transport_events.recv().await {
                s.apply(ev);
            }
        });
        service.expire_idle_verifications(options.pin_idle_timeout);
        Ok(service)
    }

    fn slots(&self) -> MutexGuard<'_, BTreeMap<String, Slot>> {
        self.inner.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn publish(&self, kind: EventType, reader: &str, atr: Option<&[u8]>) {
        tracing::info!(reader, event = kind.as_str(), "event");
        let _ = self.inner.events.send(Event {
            kind,
            reader: reader.to_string(),
            card: atr.map(card_view),
        });
    }

    fn apply(&self, ev: ReaderEvent) {
        match ev {
            ReaderEvent::Added { slot, link } => {
                let epoch = Arc::new(AtomicU64::new(0));
                let label = Arc::new(trace::SlotLabel {
                    id: slot.id.clone(),
                    name: slot.name.clone(),
                });
                let trace = self.inner.trace.clone();
                let worker = Worker::spawn(label, link, epoch.clone(), self.inner.card_wait, trace);
                let id = slot.id.clone();
                let role = self.inner.profiles.readers.role(&slot.name);
                self.slots().insert(
                    id.clone(),
                    Slot {
                        info: slot,
                        worker,
                        atr: None,
                        epoch,
                        role,
                    },
                );
                self.publish(EventType::ReaderAdded, &id, None);
            }
            ReaderEvent::Removed { id } => {
                let had_card = match self.slots().remove(&id) {
                    Some(slot) => {
                        slot.epoch.fetch_add(1, Ordering::SeqCst);
                        slot.atr.is_some()
                    }
                    None => return,
                };
                if had_card {
                    self.publish(EventType::CardRemoved, &id, None);
                }
                self.publish(EventType::ReaderRemoved, &id, None);
            }
            ReaderEvent::CardInserted { id, atr } => {
                if let Some(slot) = self.slots().get_mut(&id) {
                    slot.epoch.fetch_add(1, Ordering::SeqCst);
                    slot.atr = Some(atr.clone());
                } else {
                    return;
                }
                self.publish(EventType::CardInserted, &id, Some(&atr));
            }
            ReaderEvent::CardRemoved { id } => {
                if let Some(slot) = self.slots().get_mut(&id) {
                    slot.epoch.fetch_add(1, Ordering::SeqCst);
                    // The patient data read from the card leaves with it.
                    slot.worker.post(|ctx| *ctx.vitale_cache = None);
                    slot.atr = None;
                } else {
                    return;
                }
                self.publish(EventType::CardRemoved, &id, None);
            }
        }
    }

    /// A new client connection.
    pub fn connect(&self) -> ConnId {
        self.inner.next_conn.fetch_add(1, Ordering::SeqCst)
    }

    /// A client connection ended: the PIN verifications it made are dropped by
    /// resetting those cards.
    pub fn disconnect(&self, conn: ConnId) {
        for slot in self.slots().values() {
            slot.worker.post(move |ctx| {
                if ctx.verified_by(conn) {
                    if let Err(e) = ctx.drop_verification() {
                        tracing::debug!("reset after disconnect: {e}");
                    }
                }
            });
        }
    }

    /// Every so often, drops PIN verifications idle for `idle`.
    fn expire_idle_verifications(&self, idle: Duration) {
        let s = self.clone();
        let tick = (idle / 4).clamp(Duration::from_millis(100), Duration::from_secs(5));
        tokio::spawn(async move {
            let mut every = tokio::time::interval(tick);
            loop {
                every.tick().await;
                for slot in s.slots().values() {
                    slot.worker.post(move |ctx| ctx.expire(idle));
                }
            }
        });
    }

    /// The card and reader events, from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.inner.events.subscribe()
    }

    /// The APDU trace of every slot (`diag.trace`).
    pub fn trace(&self) -> &trace::Trace {
        &self.inner.trace
    }

    /// Every slot (`readers.list`).
    pub fn readers(&self) -> Vec<ReaderView> {
        self.slots()
            .values()
            .map(|s| ReaderView {
                id: s.info.id.clone(),
                name: s.info.name.clone(),
                transport: s.info.kind.as_str().to_string(),
                pinpad: s.info.pinpad,
                role: s.role.map(|r| r.as_str().to_string()),
                card: s.atr.as_deref().map(card_view),
                model: s.info.model.as_ref().map(|m| ModelView {
                    firmware: m.firmware.clone(),
                    profile: m.profile.to_string(),
                    chosen_by: m.chosen_by.to_string(),
                }),
            })
            .collect()
    }

    /// Chooses the slot for an operation on a card of one of the kinds `want`:
    /// the one named (by id or name), or the only one holding such a card.
    fn pick(&self, reader: Option<&str>, want: &[CardKind], label: &str) -> Result<Worker, ServiceError> {
        let slots = self.slots();
        let holds = |s: &Slot| s.atr.as_deref().map(identify).is_some_and(|k| want.contains(&k));
        let slot = match reader {
            Some(r) => {
                let slot = slots
                    .values()
                    .find(|s| s.info.id == r || s.info.name == r)
                    .ok_or_else(|| ServiceError::InvalidParams(format!("no reader {r:?}")))?;
                match slot.atr.as_deref().map(identify) {
                    None => return Err(ServiceError::NoCard(format!("no card in {r}"))),
                    Some(k) if !holds(slot) => {
                        return Err(ServiceError::WrongCardType(format!(
                            "{r} holds a {} card, not a {label}",
                            k.as_str()
                        )))
                    }
                    Some(_) => slot,
                }
            }
            None => {
                let found: Vec<&Slot> = slots.values().filter(|s| holds(s)).collect();
                // Several candidates: the slot the reader profile meant for this card.
                let role = if want.contains(&CardKind::Vitale2) {
                    SlotRole::Vitale
                } else {
                    SlotRole::Cps
                };
                let meant: Vec<&Slot> = found.iter().copied().filter(|s| s.role == Some(role)).collect();
                match (found.as_slice(), meant.as_slice()) {
                    ([], _) => return Err(ServiceError::NoCard(format!("no {label} card in any reader"))),
                    ([one], _) | (_, [one]) => *one,
                    _ => {
                        return Err(ServiceError::InvalidParams(format!(
                            "several readers hold a {label} card: say which with `reader`"
                        )))
                    }
                }
            }
        };
        Ok(slot.worker.clone())
    }
}

/// Starts an operation of `conn` on a slot: connects to the card, checks it is
/// still of the kind expected, and closes another connection's verification.
fn open(
    ctx: &mut slot::SlotCtx<'_>,
    conn: ConnId,
    want: &[CardKind],
) -> Result<(Vec<u8>, CardKind), ServiceError> {
    let atr = ctx.link.connect()?;
    let kind = identify(&atr);
    if !want.contains(&kind) {
        return Err(ServiceError::CardRemoved);
    }
    ctx.claim(conn)?;
    Ok((atr, kind))
}
