//! The GemPC PinPad simulation driven over its pseudo-terminal with
//! hand-built PC_to_RDR_Secure frames, the keypad scripted through the
//! control socket.

// Unix only: uses the pty front-end and the Unix control socket.
#![cfg(unix)]

mod common;

use common::{msg, temp_dir, Control, Host, Item};
use lecteur_sim::control::{CardBay, ControlServer, Loader};
use lecteur_sim::serial::{Profile, Reader};
use lecteur_sim::{SimCard, SimReader};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const POWER_ON: u8 = 0x62;
const SLOT_STATUS: u8 = 0x65;
const ESCAPE: u8 = 0x6B;
const SECURE: u8 = 0x69;
const XFR: u8 = 0x6F;
const ABORT: u8 = 0x72;

const ATR: [u8; 4] = [0x3B, 0x02, 0x14, 0x50];

/// Commands the card received.
type Seen = Arc<Mutex<Vec<Vec<u8>>>>;

/// A card whose PIN (reference 01) is `1234`, possibly padded with `FF`, with
/// 3 tries; it records every command it gets.
struct PinCard {
    seen: Seen,
    tries: u8,
}

impl SimCard for PinCard {
    fn atr(&self) -> Vec<u8> {
        ATR.to_vec()
    }

    fn reset(&mut self) {}

    fn transmit(&mut self, apdu: &[u8]) -> Vec<u8> {
        self.seen.lock().unwrap().push(apdu.to_vec());
        if apdu.len() < 5 || apdu[..4] != [0x00, 0x20, 0x00, 0x01] {
            return vec![0x6D, 0x00];
        }
        if self.tries == 0 {
            return vec![0x69, 0x83];
        }
        let pin: Vec<u8> = apdu[5..].iter().copied().filter(|&b| b != 0xFF).collect();
        if pin == b"1234" {
            self.tries = 3;
            vec![0x90, 0x00]
        } else {
            self.tries -= 1;
            vec![0x63, 0xC0 | self.tries]
        }
    }
}

/// A running GemPC PinPad with a [`PinCard`] and a control socket; stops on drop.
struct Pinpad {
    link: PathBuf,
    control: PathBuf,
    bay: CardBay,
    seen: Seen,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    _server: ControlServer,
    dir: PathBuf,
}

impl Pinpad {
    fn start() -> Pinpad {
        Self::start_profile(Profile::GemPcPinpad)
    }

    fn start_profile(profile: Profile) -> Pinpad {
        let dir = temp_dir("pinpad");
        let link = dir.join("ttyPINPAD");
        let control = dir.join("control.sock");
        let seen: Seen = Arc::default();
        let loader: Loader = {
            let seen = Arc::clone(&seen);
            Arc::new(move |spec: &str| match spec {
                "pin" => Ok(Box::new(PinCard {
                    seen: Arc::clone(&seen),
                    tries: 3,
                }) as Box<dyn SimCard>),
                other => Err(format!("no test card {other:?}")),
            })
        };
        let bay = CardBay::with_loader(SimReader::new(1), loader);
        bay.insert_spec(0, "pin").unwrap();
        let mut reader = Reader::open(&link, profile, bay.reader().clone()).unwrap();
        reader.set_verbose(true);
        let bay = bay.with_keypad(reader.keypad());
        let server = ControlServer::start(&control, bay.clone()).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let s = Arc::clone(&stop);
        let thread = std::thread::spawn(move || reader.run(&s).unwrap());
        Pinpad {
            link,
            control,
            bay,
            seen,
            stop,
            thread: Some(thread),
            _server: server,
            dir,
        }
    }

    /// A host that has powered the card on (sequence numbers from 0x10 up).
    fn host(&self) -> Host {
        let mut host = Host::open(&self.link);
        host.send_msg(&msg(POWER_ON, 0, 0x10, [0; 3], &[]));
        assert!(matches!(host.item(), Item::Frame(_)), "echo");
        let (t, .., atr) = parts(&host.answer());
        assert_eq!((t, atr), (0x80, ATR.to_vec()));
        host
    }

    fn control(&self) -> Control {
        Control::connect(&self.control)
    }

    fn seen(&self) -> Vec<Vec<u8>> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for Pinpad {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// (type, slot, seq, status, error, data)
fn parts(m: &[u8]) -> (u8, u8, u8, u8, u8, Vec<u8>) {
    assert!(m.len() >= 10);
    let dw = u32::from_le_bytes([m[1], m[2], m[3], m[4]]);
    assert_eq!(dw as usize, m.len() - 10);
    (m[0], m[5], m[6], m[7], m[8], m[10..].to_vec())
}

/// PC_to_RDR_Secure data for a PIN verification as lecteur sends it:
/// ASCII, left-justified, no length field, digits only, `min..=max` digits,
/// validation key, one message, French, template `00 20 00 01`.
fn verify(timeout: u8, min: u8, max: u8) -> Vec<u8> {
    let mut d = vec![
        0x00, timeout, 0x82, 0x00, 0x00, max, min, 0x02, 0x01, 0x0C, 0x04, 0x00,
    ];
    d.extend_from_slice(&[0x00; 3]);
    d.extend_from_slice(&[0x00, 0x20, 0x00, 0x01]);
    d
}

/// Sends a Secure command and takes its echo.
fn start_entry(host: &mut Host, seq: u8, data: &[u8]) {
    let m = msg(SECURE, 0, seq, [0; 3], data);
    host.send_msg(&m);
    assert_eq!(host.item(), Item::Frame(m), "echo first");
}

/// The next frame, skipping time-extension bytes (counted).
fn answer_after_extensions(host: &mut Host, within: Duration) -> (Vec<u8>, usize) {
    let deadline = Instant::now() + within;
    let mut extensions = 0;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match host.item_within(left.max(Duration::from_millis(1))) {
            Item::TimeExtension(0x80) => extensions += 1,
            Item::Frame(m) => return (m, extensions),
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[test]
fn keys_queued_before_the_entry_verify_the_pin() {
    let pad = Pinpad::start();
    let mut host = pad.host();
    let mut control = pad.control();
    assert_eq!(control.command("keys 1234"), ["ok"]);
    start_entry(&mut host, 0x20, &verify(30, 4, 8));
    let (t, slot, seq, status, err, data) = parts(&host.answer());
    assert_eq!((t, slot, seq, status, err), (0x80, 0, 0x20, 0x00, 0x00));
    assert_eq!(data, [0x90, 0x00]);
    // The firmware built VERIFY from the template and the typed digits.
    assert_eq!(
        pad.seen(),
        [vec![0x00, 0x20, 0x00, 0x01, 0x04, b'1', b'2', b'3', b'4']]
    );

    // A wrong PIN: the card's answer comes back as it is.
    assert_eq!(control.command("keys 0000"), ["ok"]);
    start_entry(&mut host, 0x21, &verify(30, 4, 8));
    let (.., seq, status, _, data) = parts(&host.answer());
    assert_eq!((seq, status), (0x21, 0x00));
    assert_eq!(data, [0x63, 0xC2]);

    // A host NAK gets the entry's answer again, without a new entry.
    host.send(&[0x03, 0x15, 0x16]);
    assert_eq!(host.item(), Item::Nak, "echo of the NAK");
    let (.., seq, _, _, data) = parts(&host.answer());
    assert_eq!((seq, data), (0x21, vec![0x63, 0xC2]));
    assert_eq!(pad.seen().len(), 2);
    assert_eq!(control.command("keypad"), ["idle 0 queued", "ok"]);
}

#[test]
fn keys_typed_while_the_reader_waits() {
    let pad = Pinpad::start();
    let mut host = pad.host();
    let mut control = pad.control();
    start_entry(&mut host, 0x22, &verify(30, 4, 8));
    // The holder takes their time: the reader keeps the host waiting.
    assert_eq!(
        host.item_within(Duration::from_millis(1500)),
        Item::TimeExtension(0x80)
    );
    assert_eq!(control.command("keypad"), ["entering 0 queued", "ok"]);
    assert!(pad.seen().is_empty(), "nothing reached the card yet");
    let typed = Instant::now();
    assert_eq!(control.command("keys 1234"), ["ok"]);
    let (answer, _) = answer_after_extensions(&mut host, Duration::from_secs(2));
    assert!(
        typed.elapsed() < Duration::from_millis(500),
        "{:?}",
        typed.elapsed()
    );
    let (t, _, seq, status, _, data) = parts(&answer);
    assert_eq!((t, seq, status, data), (0x80, 0x22, 0x00, vec![0x90, 0x00]));
    assert_eq!(control.command("keypad"), ["idle 0 queued", "ok"]);
    host.expect_silence(Duration::from_millis(1200));
}

#[test]
fn cancel_and_timeout() {
    let pad = Pinpad::start();
    let mut host = pad.host();
    let mut control = pad.control();

    // Cancel pressed during the entry.
    start_entry(&mut host, 0x30, &verify(30, 4, 8));
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(control.command("cancel"), ["ok"]);
    let (answer, _) = answer_after_extensions(&mut host, Duration::from_secs(2));
    let (t, _, seq, status, err, data) = parts(&answer);
    assert_eq!((t, seq, status, err), (0x80, 0x30, 0x40, 0xEF), "PIN_CANCELLED");
    assert!(data.is_empty());

    // Cancel queued before the entry.
    assert_eq!(control.command("cancel"), ["ok"]);
    start_entry(&mut host, 0x31, &verify(30, 4, 8));
    let (_, _, seq, status, err, _) = parts(&host.answer());
    assert_eq!((seq, status, err), (0x31, 0x40, 0xEF));

    // A scripted timeout answers at once.
    assert_eq!(control.command("timeout"), ["ok"]);
    start_entry(&mut host, 0x32, &verify(30, 4, 8));
    let (_, _, seq, status, err, _) = parts(&host.answer());
    assert_eq!((seq, status, err), (0x32, 0x40, 0xF0), "PIN_TIMEOUT");

    // A real one after bTimeOut (2 s), with time extensions meanwhile.
    let t0 = Instant::now();
    start_entry(&mut host, 0x33, &verify(2, 4, 8));
    let (answer, extensions) = answer_after_extensions(&mut host, Duration::from_secs(4));
    let took = t0.elapsed();
    let (_, _, seq, status, err, _) = parts(&answer);
    assert_eq!((seq, status, err), (0x33, 0x40, 0xF0));
    assert!(
        took >= Duration::from_millis(1900) && took < Duration::from_secs(3),
        "{took:?}"
    );
    assert!(extensions >= 1, "time extensions while waiting");
    assert!(pad.seen().is_empty(), "the card never saw a VERIFY");
}

#[test]
fn wrong_length_and_padded_template() {
    let pad = Pinpad::start();
    let mut host = pad.host();
    let mut control = pad.control();
    // Too short for min 4: the reader answers 64 03, the card is not asked.
    assert_eq!(control.command("keys 123"), ["ok"]);
    start_entry(&mut host, 0x40, &verify(30, 4, 8));
    let (_, _, seq, status, _, data) = parts(&host.answer());
    assert_eq!((seq, status, data), (0x40, 0x00, vec![0x64, 0x03]));
    assert!(pad.seen().is_empty());

    // An 8-byte block padded with FF in the template (Lc given).
    let mut d = verify(30, 4, 8);
    d[3] = 0x08; // bmPINBlockString: block of 8 bytes
    d.extend_from_slice(&[0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);
    assert_eq!(control.command("keys 1234"), ["ok"]);
    start_entry(&mut host, 0x41, &d);
    let (.., data) = parts(&host.answer());
    assert_eq!(data, [0x90, 0x00]);
    assert_eq!(hex::encode_upper(&pad.seen()[0]), "002000010831323334FFFFFFFF");
}

#[test]
fn unsupported_requests_are_refused_at_once() {
    let pad = Pinpad::start();
    let mut host = pad.host();
    // PIN modification (bPINOperation 01) is not supported: bError points
    // at bPINOperation (offset 10).
    let mut modify = vec![
        0x01, 30, 0x82, 0x00, 0x00, 0, 0, 0x03, 0x08, 0x04, 0x03, 0x02, 0x01, 0x0C, 0x04,
    ];
    modify.extend_from_slice(&[0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x24, 0x00, 0x01]);
    start_entry(&mut host, 0x50, &modify);
    let (t, _, seq, status, err, _) = parts(&host.answer());
    assert_eq!((t, seq, status, err), (0x80, 0x50, 0x40, 10));
    // Too short, other validation conditions, bits as units.
    start_entry(&mut host, 0x51, &verify(30, 4, 8)[..17]);
    assert_eq!(parts(&host.answer()).4, 1, "dwLength");
    let mut d = verify(30, 4, 8);
    d[7] = 0x07;
    start_entry(&mut host, 0x52, &d);
    assert_eq!(parts(&host.answer()).4, 17, "bEntryValidationCondition");
    let mut d = verify(30, 4, 8);
    d[2] = 0x02;
    start_entry(&mut host, 0x53, &d);
    assert_eq!(parts(&host.answer()).4, 12, "bmFormatString");
    let mut d = verify(30, 9, 8);
    d[2] = 0x82;
    start_entry(&mut host, 0x54, &d);
    assert_eq!(parts(&host.answer()).4, 15, "wPINMaxExtraDigit");
    // Still a working reader.
    let mut control = pad.control();
    assert_eq!(control.command("keys 1234"), ["ok"]);
    start_entry(&mut host, 0x55, &verify(30, 4, 8));
    assert_eq!(parts(&host.answer()).5, [0x90, 0x00]);
}

#[test]
fn the_slot_is_busy_while_the_holder_types() {
    let pad = Pinpad::start();
    let mut host = pad.host();
    let mut control = pad.control();
    start_entry(&mut host, 0x60, &verify(30, 4, 8));
    // An APDU meanwhile: CMD_SLOT_BUSY with its own sequence number.
    let m = msg(XFR, 0, 0x61, [0; 3], &[0x00, 0xA4, 0x00, 0x00]);
    host.send_msg(&m);
    assert_eq!(host.item(), Item::Frame(m));
    let (answer, _) = answer_after_extensions(&mut host, Duration::from_secs(2));
    let (t, _, seq, status, err, _) = parts(&answer);
    assert_eq!((t, seq, status, err), (0x80, 0x61, 0x40, 0xE0));
    // Slot status is still answered.
    let m = msg(SLOT_STATUS, 0, 0x62, [0; 3], &[]);
    host.send_msg(&m);
    assert_eq!(host.item(), Item::Frame(m));
    let (answer, _) = answer_after_extensions(&mut host, Duration::from_secs(2));
    let (t, slot, seq, status, ..) = parts(&answer);
    assert_eq!((t, slot, seq, status), (0x81, 0, 0x62, 0x00));
    // Then the holder types, and the entry answers with its own seq.
    assert_eq!(control.command("keys 1234"), ["ok"]);
    let (answer, _) = answer_after_extensions(&mut host, Duration::from_secs(2));
    let (_, _, seq, status, _, data) = parts(&answer);
    assert_eq!((seq, status, data), (0x60, 0x00, vec![0x90, 0x00]));

    // Abort ends an entry without an answer to it.
    start_entry(&mut host, 0x63, &verify(30, 4, 8));
    let m = msg(ABORT, 0, 0x64, [0; 3], &[]);
    host.send_msg(&m);
    assert_eq!(host.item(), Item::Frame(m));
    let (answer, _) = answer_after_extensions(&mut host, Duration::from_secs(2));
    assert_eq!(parts(&answer).2, 0x64);
    assert_eq!(control.command("keypad"), ["idle 0 queued", "ok"]);
    host.expect_silence(Duration::from_millis(1200));
}

#[test]
fn card_pulled_during_the_entry() {
    let pad = Pinpad::start();
    let mut host = pad.host();
    // Synchronous card-movement notification, as libccidtwin and lecteur set up.
    let m = msg(ESCAPE, 0, 0x70, [0; 3], &[0x01, 0x01, 0x01]);
    host.send_msg(&m);
    assert_eq!(host.item(), Item::Frame(m));
    host.answer();
    start_entry(&mut host, 0x71, &verify(30, 4, 8));
    std::thread::sleep(Duration::from_millis(100));
    pad.bay.remove(0).unwrap();
    let mut extensions = 0;
    let item = loop {
        match host.item_within(Duration::from_secs(2)) {
            Item::TimeExtension(_) => extensions += 1,
            other => break other,
        }
    };
    assert!(extensions <= 1);
    assert_eq!(item, Item::Notify(0x02), "removed, changed");
    let (t, _, seq, status, err, _) = parts(&host.answer());
    assert_eq!(
        (t, seq, status, err),
        (0x80, 0x71, 0x42, 0xFE),
        "ICC mute, no card"
    );
}

#[test]
fn keypad_commands_need_a_pinpad_reader() {
    let pad = Pinpad::start_profile(Profile::GemPcTwin);
    let mut control = pad.control();
    assert_eq!(control.command("keys 1234"), ["error: this reader has no keypad"]);
    assert_eq!(control.command("timeout"), ["error: this reader has no keypad"]);
    // And the twin refuses Secure: command not supported.
    let mut host = pad.host();
    start_entry(&mut host, 0x80, &verify(30, 4, 8));
    let (t, _, seq, status, err, _) = parts(&host.answer());
    assert_eq!((t, seq, status, err), (0x80, 0x80, 0x40, 0x00));
}
