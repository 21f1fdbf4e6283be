//! PC/SC through pcscd. One monitor thread with its own context watches readers
//! and cards; each reader slot gets a [`PcscSlot`] whose context is created
//! in the worker thread that uses it (pcsc-lite: one context per thread).
//! When pcscd restarts every context is dead for good (`is_valid()` lies), so
//! the monitor drops everything and establishes anew.

mod part10;

use super::{EventSink, PinpadVerify, ReaderEvent, SlotInfo, SlotLink, TransportError, TransportKind};
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
struct PcscSlot {
    reader: CString,
    ctx: Option<Context>,
    card: Option<(pcsc::Card, Vec<u8>)>,
    /// The reader's `FEATURE_VERIFY_PIN_DIRECT` control code, once asked
    /// (PC/SC part 10): `Some(None)` for a reader without a PIN pad.
    pin_verify: Option<Option<u32>>,
    /// An error met inside a session, acted on when the session is over.
    failed: Option<Error>,
    /// The card handle was found void (card removed, swapped or reset).
    moved: bool,
}

impl PcscSlot {
    /// The control code for PIN verification on the keypad, asking the reader
    /// (GET_FEATURE_REQUEST) once per context. A reader that does not know
    /// the request (`SCARD_E_UNSUPPORTED_FEATURE`, as vpcd answers) has no
    /// PIN pad; other failures answer "none" for now and are asked again.
    fn pin_verify_code(&mut self) -> Option<u32> {
        if let Some(known) = self.pin_verify {
            return known;
        }
        match self.feature_request() {
            Ok(tlv) => {
                let code = part10::find_feature(&tlv, part10::FEATURE_VERIFY_PIN_DIRECT);
                tracing::debug!(reader = ?self.reader, pinpad = code.is_some(), "PC/SC part 10 features");
                self.pin_verify = Some(code);
                code
            }
            Err(Error::UnsupportedFeature) => {
                tracing::debug!(reader = ?self.reader, "no PC/SC part 10 features: no PIN pad");
                self.pin_verify = Some(None);
                None
            }
            Err(e) => {
                tracing::debug!(reader = ?self.reader, "PC/SC feature request failed: {e}");
                let _ = self.forget_after(e);
                None
            }
        }
    }

    /// `SCardControl(CM_IOCTL_GET_FEATURE_REQUEST)` on the card connection,
    /// or on a direct connection to the reader when no card is connected.
    fn feature_request(&mut self) -> Result<Vec<u8>, Error> {
        let mut buf = [0u8; 256];
        if let Some((card, _)) = &self.card {
            return card
                .control(dword(part10::get_feature_request()), &[], &mut buf)
                .map(<[u8]>::to_vec);
        }
        if self.ctx.is_none() {
            self.ctx = Some(Context::establish(Scope::User)?);
        }
        let ctx = self.ctx.as_ref().ok_or(Error::InvalidHandle)?;
        let direct = ctx.connect(&self.reader, ShareMode::Direct, Protocols::UNDEFINED)?;
        let tlv = direct
            .control(dword(part10::get_feature_request()), &[], &mut buf)
            .map(<[u8]>::to_vec);
        // Leave whatever card there is as it is.
        let _ = direct.disconnect(Disposition::LeaveCard);
        tlv
    }
}

impl PcscSlot {
    /// Lets go of the card handle, leaving the card as it is. Dropping a
    /// `pcsc::Card` would reset it: a reset aimed at a card that went away
    /// makes pcscd clear the reader's state, and the next card inserted was
    /// then never reported (seen with vpcd: the slot stayed empty).
    fn release_card(&mut self) {
        if let Some((card, _)) = self.card.take() {
            // On failure (pcscd gone, handle void) the card comes back and
            // is dropped: the reset it tries fails the same way.
            let _ = card.disconnect(Disposition::LeaveCard);
        }
    }

    fn forget_after(&mut self, e: Error) -> TransportError {
        match e {
            // NotTransacted: the exchange with the card failed (a mute card, a
            // vpcd card gone); reconnect next time rather than reuse the handle.
            Error::RemovedCard | Error::ResetCard | Error::NoSmartcard | Error::NotTransacted => {
                self.moved |= self.card.is_some();
                self.release_card();
            }
            e if is_service_gone(e) || matches!(e, Error::UnknownReader | Error::ReaderUnavailable) => {
                self.moved |= self.card.is_some();
                self.release_card();
                self.ctx = None;
                self.pin_verify = None;
            }
            _ => {}
        }
        map_error(e)
    }
}

fn card_atr(card: &pcsc::Card) -> Result<Vec<u8>, Error> {
    Ok(card.status2_owned()?.atr().to_vec())
}

/// A response shorter than a status word is no card's answer: pcscd hands
/// one over (as a success) when the card goes away in the middle of a
/// command (seen with vpcd). It must never reach the card code as data:
/// what became of the card says which error it is, and the handle is
/// dropped either way.
fn check_response(card: &pcsc::Card, resp: &[u8]) -> Result<(), (Error, TransportError)> {
    if resp.len() >= 2 {
        return Ok(());
    }
    let e = match card.status2_owned() {
        Err(e) => e,
        Ok(s) if !s.status().contains(pcsc::Status::PRESENT) => Error::RemovedCard,
        Ok(_) => Error::NotTransacted,
    };
    let err = match e {
        Error::NotTransacted => TransportError::Protocol(format!(
            "PC/SC: the reader answered {} byte(s), no status word",
            resp.len()
        )),
        e => map_error(e),
    };
    Err((e, err))
}

impl SlotLink for PcscSlot {
    fn session(&mut self) -> Box<dyn SlotLink + '_> {
        if let Some(e) = self.failed.take() {
            let _ = self.forget_after(e);
        }
        // Connect first so that the transaction has a card; a failure is left
        // for the operation to meet.
        if self.card.is_none() && self.connect().is_err() {
            return Box::new(super::Direct(self));
        }
        let pin_verify = self.pin_verify_code();
        let Some((card, atr)) = self.card.as_mut() else {
            return Box::new(Failed(TransportError::NoCard));
        };
        let atr = atr.clone();
        match card.transaction() {
            Ok(tx) => Box::new(Held {
                tx,
                atr,
                failed: &mut self.failed,
                pin_verify,
            }),
            Err(e) => {
                let err = map_error(e);
                self.failed = Some(e);
                Box::new(Failed(err))
            }
        }
    }

    fn connect(&mut self) -> Result<Vec<u8>, TransportError> {
        if let Some(e) = self.failed.take() {
            let _ = self.forget_after(e);
        }
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
        // Short APDUs only (apdu::Command refuses extended ones): 256 + SW fits.
        let mut buf = [0u8; pcsc::MAX_BUFFER_SIZE];
        let resp = match card.transmit(apdu, &mut buf) {
            Ok(resp) => resp,
            Err(e) => return Err(self.forget_after(e)),
        };
        match check_response(card, resp) {
            Ok(()) => Ok(resp.to_vec()),
            Err((e, err)) => {
                let _ = self.forget_after(e);
                Err(err)
            }
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
        self.release_card();
    }

    fn has_pinpad(&mut self) -> bool {
        self.pin_verify_code().is_some()
    }

    fn card_moved(&mut self) -> bool {
        if let Some(e) = self.failed.take() {
            let _ = self.forget_after(e);
        }
        std::mem::take(&mut self.moved)
    }

    fn verify_pin_pinpad(&mut self, request: &PinpadVerify) -> Result<Vec<u8>, TransportError> {
        let code = self.pin_verify_code().ok_or(TransportError::NoPinpad)?;
        self.connect()?;
        let structure = part10::verify_structure(request);
        let (card, _) = self.card.as_ref().ok_or(TransportError::NoCard)?;
        let mut buf = [0u8; 64];
        // Blocks while the holder types (libccid waits up to max(90 s, bTimeOut + 10 s)).
        match card.control(dword(code), &structure, &mut buf) {
            Ok(answer) => super::pinpad_answer(answer),
            Err(e) => Err(self.forget_after(e)),
        }
    }
}

/// The card held in a PC/SC transaction for one operation (ended, leaving
/// the card as it is, when dropped).
struct Held<'a> {
    tx: pcsc::Transaction<'a>,
    atr: Vec<u8>,
    /// Where an error that voids the card handle is left for the link.
    failed: &'a mut Option<Error>,
    pin_verify: Option<u32>,
}

impl Held<'_> {
    fn fail(&mut self, e: Error) -> TransportError {
        *self.failed = Some(e);
        map_error(e)
    }
}

impl SlotLink for Held<'_> {
    fn connect(&mut self) -> Result<Vec<u8>, TransportError> {
        Ok(self.atr.clone())
    }

    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        // Short APDUs only (apdu::Command refuses extended ones): 256 + SW fits.
        let mut buf = [0u8; pcsc::MAX_BUFFER_SIZE];
        let resp = match self.tx.transmit(apdu, &mut buf) {
            Ok(resp) => resp,
            Err(e) => return Err(self.fail(e)),
        };
        match check_response(&self.tx, resp) {
            Ok(()) => Ok(resp.to_vec()),
            Err((e, err)) => {
                *self.failed = Some(e);
                Err(err)
            }
        }
    }

    fn reset(&mut self) -> Result<Vec<u8>, TransportError> {
        let done = self
            .tx
            .reconnect(ShareMode::Shared, Protocols::ANY, Disposition::ResetCard)
            .and_then(|_| card_atr(&self.tx));
        match done {
            Ok(atr) => {
                self.atr = atr.clone();
                Ok(atr)
            }
            Err(e) => Err(self.fail(e)),
        }
    }

    fn disconnect(&mut self) {}

    fn has_pinpad(&mut self) -> bool {
        self.pin_verify.is_some()
    }

    fn verify_pin_pinpad(&mut self, request: &PinpadVerify) -> Result<Vec<u8>, TransportError> {
        let code = self.pin_verify.ok_or(TransportError::NoPinpad)?;
        let structure = part10::verify_structure(request);
        let mut buf = [0u8; 64];
        // Blocks while the holder types (libccid waits up to max(90 s, bTimeOut + 10 s)).
        match self.tx.control(dword(code), &structure, &mut buf) {
            Ok(answer) => super::pinpad_answer(answer),
            Err(e) => Err(self.fail(e)),
        }
    }

    fn session(&mut self) -> Box<dyn SlotLink + '_> {
        Box::new(super::Direct(self))
    }
}

/// A session that could not hold the card: every call meets the error.
struct Failed(TransportError);

impl SlotLink for Failed {
    fn connect(&mut self) -> Result<Vec<u8>, TransportError> {
        Err(self.0.clone())
    }
    fn transmit(&mut self, _: &[u8]) -> Result<Vec<u8>, TransportError> {
        Err(self.0.clone())
    }
    fn reset(&mut self) -> Result<Vec<u8>, TransportError> {
        Err(self.0.clone())
    }
    fn disconnect(&mut self) {}
    fn session(&mut self) -> Box<dyn SlotLink + '_> {
        Box::new(super::Direct(self))
    }
}

/// What the monitor knows of one reader.
struct Watched {
    id: String,
    card: Option<Vec<u8>>,
    events: u32,
}

/// Starts the monitor thread. It runs until the daemon's event receiver closes.
pub(crate) fn start(sink: EventSink) {
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
            let mut link = Box::new(PcscSlot {
                reader: name.clone(),
                ctx: None,
                card: None,
                pin_verify: None,
                failed: None,
                moved: false,
            });
            // Asked here, before the slot is announced: a few milliseconds
            // of SCardControl, answered from the reader's descriptor.
            let pinpad = link.has_pinpad();
            let slot = SlotInfo {
                id: id.clone(),
                name: name.to_string_lossy().into_owned(),
                kind: TransportKind::Pcsc,
                model: None,
                pinpad,
            };
            let _ = sink.send(ReaderEvent::Added { slot, link });
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

/// A control code as the platform's `DWORD` (u64 on Linux, u32 on Windows),
/// which `pcsc` does not name.
fn dword<T: From<u32>>(code: u32) -> T {
    T::from(code)
}
