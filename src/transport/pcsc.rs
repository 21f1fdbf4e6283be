//! PC/SC through pcscd. One monitor thread with its own context watches readers
//! and cards; each reader slot gets a [`PcscChannel`] whose context is created
//! in the worker thread that uses it (pcsc-lite: one context per thread).
//! When pcscd restarts every context is dead for good (`is_valid()` lies), so
//! the monitor drops everything and establishes anew.

use super::{CardChannel, EventSink, PinpadVerify, ReaderEvent, SlotInfo, TransportError, TransportKind};
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
    /// The reader's `FEATURE_VERIFY_PIN_DIRECT` control code, once asked
    /// (PC/SC part 10): `Some(None)` for a reader without a PIN pad.
    pin_verify: Option<Option<u32>>,
    /// An error met inside a session, acted on when the session is over.
    failed: Option<Error>,
}

impl PcscChannel {
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
                .control(part10::get_feature_request().into(), &[], &mut buf)
                .map(<[u8]>::to_vec);
        }
        if self.ctx.is_none() {
            self.ctx = Some(Context::establish(Scope::User)?);
        }
        let ctx = self.ctx.as_ref().ok_or(Error::InvalidHandle)?;
        let direct = ctx.connect(&self.reader, ShareMode::Direct, Protocols::UNDEFINED)?;
        let tlv = direct
            .control(part10::get_feature_request().into(), &[], &mut buf)
            .map(<[u8]>::to_vec);
        // Leave whatever card there is as it is.
        let _ = direct.disconnect(Disposition::LeaveCard);
        tlv
    }
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

impl CardChannel for PcscChannel {
    fn session(&mut self) -> Box<dyn CardChannel + '_> {
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

    fn has_pinpad(&mut self) -> bool {
        self.pin_verify_code().is_some()
    }

    fn verify_pin_pinpad(&mut self, request: &PinpadVerify) -> Result<Vec<u8>, TransportError> {
        let code = self.pin_verify_code().ok_or(TransportError::NoPinpad)?;
        self.connect()?;
        let structure = part10::verify_structure(request);
        let (card, _) = self.card.as_ref().ok_or(TransportError::NoCard)?;
        let mut buf = [0u8; 64];
        // Blocks while the holder types (libccid waits up to max(90 s, bTimeOut + 10 s)).
        match card.control(code.into(), &structure, &mut buf) {
            Ok(answer) => part10::verify_answer(answer),
            Err(e) => Err(self.forget_after(e)),
        }
    }
}

/// The card held in a PC/SC transaction for one operation (ended, leaving
/// the card as it is, when dropped).
struct Held<'a> {
    tx: pcsc::Transaction<'a>,
    atr: Vec<u8>,
    /// Where an error that voids the card handle is left for the channel.
    failed: &'a mut Option<Error>,
    pin_verify: Option<u32>,
}

impl Held<'_> {
    fn fail(&mut self, e: Error) -> TransportError {
        *self.failed = Some(e);
        map_error(e)
    }
}

impl CardChannel for Held<'_> {
    fn connect(&mut self) -> Result<Vec<u8>, TransportError> {
        Ok(self.atr.clone())
    }

    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        // Short APDUs only (apdu::Command refuses extended ones): 256 + SW fits.
        let mut buf = [0u8; pcsc::MAX_BUFFER_SIZE];
        match self.tx.transmit(apdu, &mut buf) {
            Ok(resp) => Ok(resp.to_vec()),
            Err(e) => Err(self.fail(e)),
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
        match self.tx.control(code.into(), &structure, &mut buf) {
            Ok(answer) => part10::verify_answer(answer),
            Err(e) => Err(self.fail(e)),
        }
    }

    fn session(&mut self) -> Box<dyn CardChannel + '_> {
        Box::new(super::Direct(self))
    }
}

/// A session that could not hold the card: every call meets the error.
struct Failed(TransportError);

impl CardChannel for Failed {
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
    fn session(&mut self) -> Box<dyn CardChannel + '_> {
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
                pin_verify: None,
                failed: None,
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

/// PC/SC part 10 ("IFDs with Secure PIN Entry Capabilities"): the feature
/// list and the PIN verification structure. Pure functions, unit-tested.
mod part10 {
    use crate::transport::{PinpadVerify, TransportError};

    /// `CM_IOCTL_GET_FEATURE_REQUEST = SCARD_CTL_CODE(3400)`.
    pub fn get_feature_request() -> u32 {
        pcsc::ctl_code(3400) as u32
    }

    /// Feature tag of PIN verification on the reader's keypad.
    pub const FEATURE_VERIFY_PIN_DIRECT: u8 = 0x06;

    /// `bmFormatString`: bytes, PIN at offset 0, left-justified, ASCII.
    const FORMAT_ASCII: u8 = 0x82;
    /// `bmPINBlockString`: no length field, the block is the typed digits.
    const BLOCK_DIGITS: u8 = 0x00;
    /// `bmPINLengthFormat`: no PIN length to insert.
    const LENGTH_NONE: u8 = 0x00;
    /// `bEntryValidationCondition`: validation key pressed.
    const VALIDATION_KEY: u8 = 0x02;
    /// `bNumberMessage`: one message (what the GemPC Pinpad accepts).
    const MESSAGES: u8 = 0x01;
    /// `wLangId`: French.
    const LANG_FRENCH: u16 = 0x040C;

    /// The control code of `feature` in a GET_FEATURE_REQUEST answer: TLVs of
    /// tag (1 byte), length (1 byte, 4) and the control code (4 bytes, big
    /// endian). Entries of another length are skipped; a truncated list ends
    /// the search.
    pub fn find_feature(tlv: &[u8], feature: u8) -> Option<u32> {
        let mut rest = tlv;
        while let [tag, len, tail @ ..] = rest {
            let len = usize::from(*len);
            if tail.len() < len {
                return None;
            }
            let (value, next) = tail.split_at(len);
            if *tag == feature {
                if let Ok(code) = <[u8; 4]>::try_from(value) {
                    return Some(u32::from_be_bytes(code));
                }
            }
            rest = next;
        }
        None
    }

    /// `PIN_VERIFY_STRUCTURE` (little-endian fields) followed by the APDU
    /// template `CLA INS P1 P2`; no PIN: the reader appends Lc and the digits.
    pub fn verify_structure(request: &PinpadVerify) -> Vec<u8> {
        let mut s = Vec::with_capacity(19 + request.header.len());
        s.push(request.timeout_secs); // bTimerOut
        s.push(request.timeout_secs); // bTimerOut2 (after the first key)
        s.push(FORMAT_ASCII);
        s.push(BLOCK_DIGITS);
        s.push(LENGTH_NONE);
        // wPINMaxExtraDigit = XXYY: XX minimum, YY maximum digits.
        s.extend_from_slice(&u16::from_be_bytes([request.min_len, request.max_len]).to_le_bytes());
        s.push(VALIDATION_KEY);
        s.push(MESSAGES);
        s.extend_from_slice(&LANG_FRENCH.to_le_bytes());
        s.push(0x00); // bMsgIndex
        s.extend_from_slice(&[0x00; 3]); // bTeoPrologue
        s.extend_from_slice(&(request.header.len() as u32).to_le_bytes()); // ulDataLength
        s.extend_from_slice(&request.header);
        s
    }

    /// The reader's answer must be exactly SW1 SW2; `64 00` (timeout) and
    /// `64 01` (cancel) become typed errors (libccid maps the CCID errors
    /// 0xF0 and 0xEF to them).
    pub fn verify_answer(answer: &[u8]) -> Result<Vec<u8>, TransportError> {
        match answer {
            [0x64, 0x00] => Err(TransportError::PinTimeout),
            [0x64, 0x01] => Err(TransportError::PinCancelled),
            [sw1, sw2] => Ok(vec![*sw1, *sw2]),
            other => Err(TransportError::Protocol(format!(
                "the reader answered the PIN-pad verification with {} bytes instead of a status word",
                other.len()
            ))),
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        /// Feature tag of PIN modification (not used by lecteur yet).
        const FEATURE_MODIFY_PIN_DIRECT: u8 = 0x07;

        #[test]
        fn feature_request_code() {
            // pcsc-lite: SCARD_CTL_CODE(code) = 0x42000000 + code.
            assert_eq!(get_feature_request(), 0x4200_0000 + 3400);
        }

        #[test]
        fn feature_list() {
            // What libccid answers for a pinpad reader: verify, modify,
            // PIN properties, TLV properties.
            let tlv = hex::decode("0604 42330006 0704 42330007 0A04 4233000A 1204 42330012".replace(' ', ""))
                .unwrap();
            assert_eq!(find_feature(&tlv, FEATURE_VERIFY_PIN_DIRECT), Some(0x4233_0006));
            assert_eq!(find_feature(&tlv, FEATURE_MODIFY_PIN_DIRECT), Some(0x4233_0007));
            assert_eq!(find_feature(&tlv, 0x13), None);
            // A reader with only TLV properties (vpcd upstream): no pinpad.
            let tlv = hex::decode("120442330012").unwrap();
            assert_eq!(find_feature(&tlv, FEATURE_VERIFY_PIN_DIRECT), None);
            assert_eq!(find_feature(&[], FEATURE_VERIFY_PIN_DIRECT), None);
            // Odd entries are skipped, truncated lists end the search.
            let tlv = hex::decode("0102AAAA 060442330006".replace(' ', "")).unwrap();
            assert_eq!(find_feature(&tlv, FEATURE_VERIFY_PIN_DIRECT), Some(0x4233_0006));
            let tlv = hex::decode("060201020604423300").unwrap();
            assert_eq!(find_feature(&tlv, FEATURE_VERIFY_PIN_DIRECT), None);
            assert_eq!(find_feature(&[0x06], FEATURE_VERIFY_PIN_DIRECT), None);
            assert_eq!(find_feature(&[0x06, 0xFF, 0x00], FEATURE_VERIFY_PIN_DIRECT), None);
        }

        #[test]
        fn verify_structure_bytes() {
            let request = PinpadVerify {
                header: [0x00, 0x20, 0x00, 0x01],
                min_len: 4,
                max_len: 8,
                timeout_secs: 30,
            };
            let s = verify_structure(&request);
            assert_eq!(s.len(), 19 + 4);
            assert_eq!(
                hex::encode_upper(&s),
                concat!(
                    "1E", "1E", // bTimerOut, bTimerOut2
                    "82", "00", "00",   // bmFormatString, bmPINBlockString, bmPINLengthFormat
                    "0804", // wPINMaxExtraDigit 0x0408: 4 to 8 digits
                    "02", "01", // bEntryValidationCondition, bNumberMessage
                    "0C04", "00",       // wLangId 0x040C, bMsgIndex
                    "000000",   // bTeoPrologue
                    "04000000", // ulDataLength
                    "00200001", // CLA INS P1 P2
                )
            );
        }

        /// Manual check against a real reader with a keypad, or lecteur-sim's
        /// GemPC PinPad behind pcscd's libccidtwin:
        /// `LECTEUR_PCSC_PINPAD="GemPC PinPad sim 00 00" cargo test --lib
        /// pcsc::part10::tests::real_reader -- --ignored --nocapture`
        /// (type 1234 on the keypad, or script it first: `lecteur-sim
        /// control --socket SOCK keys 1234`).
        #[test]
        #[ignore = "needs a PC/SC reader: set LECTEUR_PCSC_PINPAD"]
        fn real_reader() {
            use crate::transport::CardChannel;
            let Ok(name) = std::env::var("LECTEUR_PCSC_PINPAD") else {
                eprintln!("LECTEUR_PCSC_PINPAD not set");
                return;
            };
            let mut channel = super::super::PcscChannel {
                reader: std::ffi::CString::new(name).unwrap(),
                ctx: None,
                card: None,
                pin_verify: None,
                failed: None,
            };
            let pinpad = channel.has_pinpad();
            eprintln!("has_pinpad: {pinpad} (control code {:08X?})", channel.pin_verify);
            match channel.connect() {
                Ok(atr) => eprintln!("ATR {}", hex::encode_upper(atr)),
                Err(e) => eprintln!("connect: {e}"),
            }
            let request = PinpadVerify {
                header: [0x00, 0x20, 0x00, 0x01],
                min_len: 4,
                max_len: 8,
                timeout_secs: 30,
            };
            for _ in 0..std::env::var("LECTEUR_PCSC_PINPAD_TRIES")
                .ok()
                .and_then(|n| n.parse().ok())
                .unwrap_or(1)
            {
                match channel.verify_pin_pinpad(&request) {
                    Ok(sw) => eprintln!("verify_pin_pinpad: SW {}", hex::encode_upper(sw)),
                    Err(e) => eprintln!("verify_pin_pinpad: {e:?}"),
                }
            }
            channel.disconnect();
        }

        #[test]
        fn verify_answers() {
            assert_eq!(verify_answer(&[0x90, 0x00]), Ok(vec![0x90, 0x00]));
            assert_eq!(verify_answer(&[0x63, 0xC2]), Ok(vec![0x63, 0xC2]));
            assert_eq!(verify_answer(&[0x64, 0x00]), Err(TransportError::PinTimeout));
            assert_eq!(verify_answer(&[0x64, 0x01]), Err(TransportError::PinCancelled));
            assert!(matches!(verify_answer(&[]), Err(TransportError::Protocol(_))));
            assert!(matches!(verify_answer(&[0x90]), Err(TransportError::Protocol(_))));
            assert!(matches!(
                verify_answer(&[1, 0x90, 0x00]),
                Err(TransportError::Protocol(_))
            ));
        }
    }
}
