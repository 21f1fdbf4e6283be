//! PC/SC through pcscd. One monitor thread with its own context watches readers
//! and cards; each reader slot gets a [`PcscChannel`] whose context is created
//! in the worker thread that uses it (pcsc-lite: one context per thread).
//! When pcscd restarts every context is dead for good (`is_valid()` lies), so
//! the monitor drops everything and establishes anew.

use super::{CardChannel, EventSink, ReaderEvent, SlotInfo, TransportError, TransportKind};
use pcsc::{Context, Disposition, Error, Protocols, ReaderState, Scope, ShareMode, State};
use std::collections::HashMap;
use std::ffi::{CStr, CString};
use std::time::Duration;

/// How long the monitor blocks before it looks for new readers on its own.
const MONITOR_WAKE: Duration = Duration::from_millis(1000);
/// Pause before trying pcscd again after it went away.
const RETRY_PAUSE: Duration = Duration::from_millis(500);

/// Errors after which a context is dead and must be replaced.
fn is_service_gone(e: Error) -> bool {
    matches!(
        e,
        Error::NoService | Error::ServiceStopped | Error::CommError | Error::InvalidHandle
    )
}

fn map_error(e: Error) -> TransportError {
    match e {
        Error::NoSmartcard | Error::UnpoweredCard | Error::UnresponsiveCard => TransportError::NoCard,
        Error::RemovedCard | Error::ResetCard => TransportError::CardRemoved,
        Error::SharingViolation => TransportError::Busy,
        Error::Timeout => TransportError::Timeout,
        Error::UnknownReader | Error::ReaderUnavailable => {
            TransportError::ReaderGone("the reader was unplugged".into())
        }
        e if is_service_gone(e) => TransportError::ReaderGone(format!("pcscd is not reachable ({e})")),
        e => TransportError::Protocol(format!("PC/SC: {e}")),
    }
}

/// One PC/SC reader, used from a single worker thread.
struct PcscChannel {
    reader: CString,
    ctx: Option<Context>,
    card: Option<(pcsc::Card, Vec<u8>)>,
}

impl PcscChannel {
    fn forget_after(&mut self, e: Error) -> TransportError {
        match e {
            // NotTransacted: the exchange with the card failed (a mute card, a
            // vpcd card gone); reconnect next time rather than reuse the handle.
            Error::RemovedCard | Error::ResetCard | Error::NoSmartcard | Error::NotTransacted => {
                self.card = None
            }
            e if is_service_gone(e) || matches!(e, Error::UnknownReader | Error::ReaderUnavailable) => {
                self.card = None;
                self.ctx = None;
            }
            _ => {}
        }
        map_error(e)
    }
}

fn card_atr(card: &pcsc::Card) -> Result<Vec<u8>, Error> {
    Ok(card.status2_owned()?.atr().to_vec())
}

impl CardChannel for PcscChannel {
    fn connect(&mut self) -> Result<Vec<u8>, TransportError> {
        if let Some((_, atr)) = &self.card {
            return Ok(atr.clone());
        }
        if self.ctx.is_none() {
            self.ctx = Some(Context::establish(Scope::User).map_err(map_error)?);
        }
        let ctx = self.ctx.as_ref().ok_or(TransportError::NoCard)?;
        let connected = ctx
            .connect(&self.reader, ShareMode::Shared, Protocols::ANY)
            .and_then(|card| card_atr(&card).map(|atr| (card, atr)));
        match connected {
            Ok((card, atr)) => {
                self.card = Some((card, atr.clone()));
                Ok(atr)
            }
            Err(e) => Err(self.forget_after(e)),
        }
    }

    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        let (card, _) = self.card.as_ref().ok_or(TransportError::NoCard)?;
        let mut buf = [0u8; pcsc::MAX_BUFFER_SIZE_EXTENDED];
        match card.transmit(apdu, &mut buf) {
            Ok(resp) => Ok(resp.to_vec()),
            Err(e) => Err(self.forget_after(e)),
        }
    }

    fn reset(&mut self) -> Result<Vec<u8>, TransportError> {
        let (card, atr) = self.card.as_mut().ok_or(TransportError::NoCard)?;
        let done = card
            .reconnect(ShareMode::Shared, Protocols::ANY, Disposition::ResetCard)
            .and_then(|_| card_atr(card));
        match done {
            Ok(new_atr) => {
                *atr = new_atr.clone();
                Ok(new_atr)
            }
            Err(e) => Err(self.forget_after(e)),
        }
    }

    fn disconnect(&mut self) {
        if let Some((card, _)) = self.card.take() {
            // Leave the card as it is; on failure the Drop resets it, which is safe.
            let _ = card.disconnect(Disposition::LeaveCard);
        }
    }
}

/// What the monitor knows of one reader.
struct Watched {
    id: String,
    card: Option<Vec<u8>>,
    events: u32,
}

/// Starts the monitor thread. It runs until the daemon's event receiver closes.
pub fn start(sink: EventSink) {
    std::thread::Builder::new()
        .name("pcsc-monitor".into())
        .spawn(move || {
            let mut ids: HashMap<CString, String> = HashMap::new();
            while !sink.is_closed() {
                match Context::establish(Scope::User) {
                    Ok(ctx) => {
                        if let Err(e) = monitor(&ctx, &sink, &mut ids) {
                            tracing::warn!("PC/SC: {e}; waiting for pcscd");
                        }
                    }
                    Err(e) => tracing::debug!("PC/SC: no context yet ({e})"),
                }
                std::thread::sleep(RETRY_PAUSE);
            }
        })
        .expect("spawning a thread at start-up");
}

/// Watches readers on one context until the context dies.
fn monitor(ctx: &Context, sink: &EventSink, ids: &mut HashMap<CString, String>) -> Result<(), Error> {
    let mut watched: HashMap<CString, Watched> = HashMap::new();
    let result = watch(ctx, sink, ids, &mut watched);
    for (_, w) in watched {
        let _ = sink.send(ReaderEvent::Removed { id: w.id });
    }
    result
}

fn watch(
    ctx: &Context,
    sink: &EventSink,
    ids: &mut HashMap<CString, String>,
    watched: &mut HashMap<CString, Watched>,
) -> Result<(), Error> {
    let pnp: &CStr = pcsc::PNP_NOTIFICATION();
    let mut states = vec![ReaderState::new(pnp, State::UNAWARE)];
    while !sink.is_closed() {
        let names = ctx.list_readers_owned()?;
        // Readers gone.
        watched.retain(|name, w| {
            let keep = names.contains(name);
            if !keep {
                let _ = sink.send(ReaderEvent::Removed { id: w.id.clone() });
            }
            keep
        });
        states.retain(|s| s.name() == pnp || names.iter().any(|n| n.as_c_str() == s.name()));
        // Readers new.
        for name in names {
            if watched.contains_key(&name) {
                continue;
            }
            let next = ids.len();
            let id = ids
                .entry(name.clone())
                .or_insert_with(|| format!("pcsc:{next}"))
                .clone();
            let slot = SlotInfo {
                id: id.clone(),
                name: name.to_string_lossy().into_owned(),
                kind: TransportKind::Pcsc,
            };
            let channel = Box::new(PcscChannel {
                reader: name.clone(),
                ctx: None,
                card: None,
            });
            let _ = sink.send(ReaderEvent::Added { slot, channel });
            states.push(ReaderState::new(name.clone(), State::UNAWARE));
            watched.insert(
                name,
                Watched {
                    id,
                    card: None,
                    events: u32::MAX,
                },
            );
        }
        match ctx.get_status_change(MONITOR_WAKE, &mut states) {
            Ok(()) | Err(Error::Timeout) => {}
            Err(Error::UnknownReader) => continue,
            Err(e) => return Err(e),
        }
        for rs in &mut states {
            if let Some(w) = watched.get_mut(rs.name()) {
                report(rs, w, sink);
            }
            rs.sync_current_state();
        }
    }
    Ok(())
}

/// Turns one reader's state into card events, noticing a swap between polls.
fn report(rs: &ReaderState, w: &mut Watched, sink: &EventSink) {
    let state = rs.event_state();
    let present = state.contains(State::PRESENT) && !state.contains(State::MUTE);
    let count = rs.event_count();
    let swapped = w.events != u32::MAX && count != w.events && w.card.is_some() && present;
    w.events = count;
    if w.card.is_some() && (!present || swapped) {
        w.card = None;
        let _ = sink.send(ReaderEvent::CardRemoved { id: w.id.clone() });
    }
    if present && w.card.is_none() {
        let atr = rs.atr().to_vec();
        w.card = Some(atr.clone());
        let _ = sink.send(ReaderEvent::CardInserted {
            id: w.id.clone(),
            atr,
        });
    }
}
