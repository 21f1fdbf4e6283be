//! PIN entry on the reader's keypad (`PC_to_RDR_Secure`) against the fake
//! reader: the bytes on the line, the answer mapping and the separate budget.

use std::time::{Duration, Instant};

use super::fake::{FakeReader, Script, SecureReply};
use super::{cfg, start, Events, ATR, SELECT};
use crate::transport::serial::SerialConfig;
use crate::transport::{PinpadVerify, SlotLink, TransportError};

const SECURE: u8 = 0x69;

fn cps_verify(timeout_secs: u8) -> PinpadVerify {
    PinpadVerify {
        header: [0x00, 0x20, 0x00, 0x01],
        min_len: 4,
        max_len: 8,
        timeout_secs,
    }
}

/// A GemPC PinPad (1 slot, echo) with a card, started and announced; no
/// periodic polling, so scripted replies hit the command under test.
fn pinpad_reader(index: usize) -> (FakeReader, Events, Box<dyn SlotLink>) {
    let fake = FakeReader::spawn(Script::new(vec![Some(ATR.to_vec())], true));
    let config = SerialConfig {
        poll_interval: Duration::from_secs(30),
        ..cfg()
    };
    let mut ev = start(index, &format!("{}:GemPCPinPad", fake.path), config);
    let (slot, mut channel) = ev.added();
    assert_eq!(slot.name, format!("GemPC PinPad ({}) slot 0", fake.path));
    assert_eq!(ev.inserted(&format!("serial:{index}.0")), ATR);
    assert_eq!(channel.connect().unwrap(), ATR);
    (fake, ev, channel)
}

fn secure_data(fake: &FakeReader) -> Vec<Vec<u8>> {
    fake.script()
        .executed
        .iter()
        .filter(|(t, _, _)| *t == SECURE)
        .map(|(_, _, d)| d.clone())
        .collect()
}

#[test]
fn only_the_pinpad_profile_has_a_keypad() {
    for (index, profile) in [(20, ""), (21, ":GemPCTwin"), (22, ":GemCoreSIMPro")] {
        let slots = if profile == ":GemCoreSIMPro" { 2 } else { 1 };
        let mut cards = vec![None; slots];
        cards[0] = Some(ATR.to_vec());
        let fake = FakeReader::spawn(Script::new(cards, profile != ":GemCoreSIMPro"));
        let mut ev = start(index, &format!("{}{profile}", fake.path), cfg());
        let (_, mut c) = ev.added();
        assert!(!c.has_pinpad(), "{profile}");
        assert_eq!(
            c.verify_pin_pinpad(&cps_verify(30)),
            Err(TransportError::NoPinpad)
        );
        assert_eq!(fake.script().executed_of(SECURE), 0, "nothing sent");
    }
}

#[test]
fn verify_sends_the_pin_verify_structure_and_returns_the_sw() {
    let (fake, _ev, mut c) = pinpad_reader(23);
    assert!(c.has_pinpad());
    assert_eq!(c.verify_pin_pinpad(&cps_verify(30)).unwrap(), [0x90, 0x00]);
    let sent = secure_data(&fake);
    assert_eq!(sent.len(), 1);
    assert_eq!(
        hex::encode_upper(&sent[0]),
        "00 1E 82 00 00 0804 02 01 0C04 00 000000 00200001".replace(' ', "")
    );
    // Wrong PIN: the card's SW comes back as it is.
    fake.script().secure_reply = SecureReply::Data(vec![0x63, 0xC2]);
    assert_eq!(c.verify_pin_pinpad(&cps_verify(30)).unwrap(), [0x63, 0xC2]);
    fake.script().secure_reply = SecureReply::Data(vec![0x69, 0x83]);
    assert_eq!(c.verify_pin_pinpad(&cps_verify(30)).unwrap(), [0x69, 0x83]);
    // The line is still in step for APDUs.
    let mut expected = SELECT.to_vec();
    expected.extend_from_slice(&[0x90, 0x00]);
    assert_eq!(c.transmit(SELECT).unwrap(), expected);
}

#[test]
fn cancel_and_timeout_are_typed() {
    let (fake, _ev, mut c) = pinpad_reader(24);
    let cases = [
        (SecureReply::Failed(0xEF), TransportError::PinCancelled),
        (SecureReply::Failed(0xF0), TransportError::PinTimeout),
        (SecureReply::Data(vec![0x64, 0x01]), TransportError::PinCancelled),
        (SecureReply::Data(vec![0x64, 0x00]), TransportError::PinTimeout),
        (SecureReply::Failed(0x00), TransportError::NoPinpad),
    ];
    for (reply, error) in cases {
        fake.script().secure_reply = reply.clone();
        assert_eq!(c.verify_pin_pinpad(&cps_verify(30)), Err(error), "{reply:?}");
    }
    // Anything but a status word is a protocol error.
    for data in [vec![], vec![0x90], vec![0x01, 0x90, 0x00]] {
        fake.script().secure_reply = SecureReply::Data(data.clone());
        assert!(
            matches!(
                c.verify_pin_pinpad(&cps_verify(30)),
                Err(TransportError::Protocol(_))
            ),
            "{data:?}"
        );
    }
    fake.script().secure_reply = SecureReply::Failed(0xFB);
    match c.verify_pin_pinpad(&cps_verify(30)) {
        Err(TransportError::Protocol(m)) => assert!(m.contains("HW_ERROR"), "{m}"),
        other => panic!("expected a protocol error, got {other:?}"),
    }
    // The card is still usable.
    assert_eq!(c.verify_pin_pinpad(&cps_verify(30)).unwrap(), [0x90, 0x00]);
}

#[test]
fn the_holder_may_take_longer_than_an_apdu() {
    let (fake, _ev, mut c) = pinpad_reader(25);
    // 12 time requests 150 ms apart: 1.8 s, beyond the 500 ms answer
    // timeout and the 5-extension APDU ceiling, within the keypad budget
    // (max(1.5 s, 2 s + 0.5 s) = 2.5 s).
    {
        let mut s = fake.script();
        s.secure_time_requests = 12;
        s.secure_gap = Duration::from_millis(150);
    }
    let t = Instant::now();
    assert_eq!(c.verify_pin_pinpad(&cps_verify(2)).unwrap(), [0x90, 0x00]);
    assert!(t.elapsed() >= Duration::from_millis(1700));
    // A reader that says nothing while the holder types (libccid's readers
    // do that too) is waited for as long, without time requests.
    {
        let mut s = fake.script();
        s.secure_time_requests = 1;
        s.secure_gap = Duration::from_millis(1200);
    }
    assert_eq!(c.verify_pin_pinpad(&cps_verify(0)).unwrap(), [0x90, 0x00]);
}

#[test]
fn a_flood_of_time_extensions_is_bounded() {
    let (fake, _ev, mut c) = pinpad_reader(30);
    // Budget 2.5 s: at most 25 extensions (ten a second).
    {
        let mut s = fake.script();
        s.secure_time_requests = 60;
        s.secure_gap = Duration::from_millis(2);
    }
    let t = Instant::now();
    assert_eq!(c.verify_pin_pinpad(&cps_verify(2)), Err(TransportError::Timeout));
    assert!(t.elapsed() < Duration::from_secs(2), "cut short, not waited out");
    assert_eq!(c.verify_pin_pinpad(&cps_verify(2)).unwrap(), [0x90, 0x00]);
}

#[test]
fn a_reader_that_never_answers_times_out_after_the_budget() {
    let (fake, _ev, mut c) = pinpad_reader(26);
    fake.script().secure_reply = SecureReply::Silent;
    let t = Instant::now();
    assert_eq!(c.verify_pin_pinpad(&cps_verify(2)), Err(TransportError::Timeout));
    let took = t.elapsed();
    // Budget max(1.5 s, 2 s + 0.5 s) = 2.5 s, not the 500 ms APDU timeout.
    assert!(took >= Duration::from_millis(2400), "{took:?}");
    assert!(took < Duration::from_millis(4000), "{took:?}");
    // Still talking afterwards.
    assert_eq!(c.verify_pin_pinpad(&cps_verify(2)).unwrap(), [0x90, 0x00]);
}

#[test]
fn card_pulled_during_pin_entry() {
    let (fake, mut ev, mut c) = pinpad_reader(27);
    fake.script().secure_reply = SecureReply::CardPulled(0x02);
    let t = Instant::now();
    assert_eq!(
        c.verify_pin_pinpad(&cps_verify(30)),
        Err(TransportError::CardRemoved)
    );
    assert!(t.elapsed() < Duration::from_millis(450), "grace, not the budget");
    ev.removed_card("serial:27.0");
    assert_eq!(
        c.verify_pin_pinpad(&cps_verify(30)),
        Err(TransportError::CardRemoved)
    );
    c.disconnect();
    assert_eq!(c.verify_pin_pinpad(&cps_verify(30)), Err(TransportError::NoCard));
}

#[test]
fn bad_requests_never_reach_the_line() {
    let (fake, _ev, mut c) = pinpad_reader(28);
    for (min_len, max_len) in [(0, 8), (9, 8), (4, 65)] {
        let r = PinpadVerify {
            min_len,
            max_len,
            ..cps_verify(30)
        };
        assert!(matches!(
            c.verify_pin_pinpad(&r),
            Err(TransportError::Protocol(_))
        ));
    }
    assert_eq!(fake.script().executed_of(SECURE), 0);
}

/// `lecteur-sim`'s GemPC PinPad (in-process, on a pty) with a CPS3 card
/// whose PIN is 1234: the transport against the other side's firmware.
struct SimPinpad {
    link: std::path::PathBuf,
    keypad: lecteur_sim::serial::Keypad,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl SimPinpad {
    fn start() -> SimPinpad {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("ttyPINPAD");
        let reader = lecteur_sim::SimReader::new(1);
        reader
            .insert(0, lecteur_sim::card::load("cps3").unwrap())
            .unwrap();
        let device =
            lecteur_sim::serial::Reader::open(&link, lecteur_sim::serial::Profile::GemPcPinpad, reader)
                .unwrap();
        let keypad = device.keypad().expect("a keypad");
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let thread = {
            let stop = stop.clone();
            let mut device = device;
            std::thread::spawn(move || device.run(&stop).unwrap())
        };
        SimPinpad {
            link,
            keypad,
            stop,
            thread: Some(thread),
            _dir: dir,
        }
    }
}

impl Drop for SimPinpad {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn against_the_simulated_pinpad() {
    let sim = SimPinpad::start();
    // The APDU timings of the other tests (500 ms answer timeout, 5 time
    // extensions); the keypad budget is the default (90 s).
    let config = SerialConfig {
        pinpad_min_wait: SerialConfig::default().pinpad_min_wait,
        pinpad_grace: SerialConfig::default().pinpad_grace,
        ..cfg()
    };
    let mut ev = start(29, &format!("{}:GemPCPinPad", sim.link.display()), config);
    let (_, mut c) = ev.added();
    let atr = ev.inserted("serial:29.0");
    assert_eq!(c.connect().unwrap(), atr);
    assert!(c.has_pinpad());

    // Keys ready: verified.
    sim.keypad.keys("1234").unwrap();
    assert_eq!(c.verify_pin_pinpad(&cps_verify(30)).unwrap(), [0x90, 0x00]);
    // A wrong PIN: one try less, reported by the card.
    sim.keypad.keys("0000").unwrap();
    assert_eq!(c.verify_pin_pinpad(&cps_verify(30)).unwrap(), [0x63, 0xC2]);
    // Cancel and timeout as typed errors.
    sim.keypad.cancel().unwrap();
    assert_eq!(
        c.verify_pin_pinpad(&cps_verify(30)),
        Err(TransportError::PinCancelled)
    );
    sim.keypad.timeout().unwrap();
    assert_eq!(
        c.verify_pin_pinpad(&cps_verify(30)),
        Err(TransportError::PinTimeout)
    );
    // The holder takes 2.5 s (the reader sends time extensions): longer
    // than an APDU may take, fine for a PIN entry.
    let keypad = sim.keypad.clone();
    let typist = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(2500));
        keypad.keys("1234").unwrap();
    });
    let t = Instant::now();
    assert_eq!(c.verify_pin_pinpad(&cps_verify(30)).unwrap(), [0x90, 0x00]);
    assert!(t.elapsed() >= Duration::from_millis(2400));
    typist.join().unwrap();
    // The reader's own timeout (bTimeOut 1 s).
    let t = Instant::now();
    assert_eq!(
        c.verify_pin_pinpad(&cps_verify(1)),
        Err(TransportError::PinTimeout)
    );
    assert!(t.elapsed() < Duration::from_secs(3));
    // APDUs still go through afterwards.
    let r = c.transmit(&[0x00, 0x20, 0x00, 0x01]).unwrap();
    assert_eq!(r, [0x90, 0x00], "VERIFY without data: verified");
}
