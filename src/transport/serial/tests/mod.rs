//! Integration-style tests of the whole serial transport against a fake reader
//! on a pseudo-terminal.

mod fake;
mod pinpad;

use std::time::{Duration, Instant};

use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

use self::fake::{pty_pair, FakeReader, Script};
use super::{start_with_config, SerialConfig};
use crate::transport::{ReaderEvent, SlotInfo, SlotLink, TransportError, TransportKind};

const ATR: &[u8] = &[0x3B, 0x65, 0x00, 0x00, 0x20, 0x63, 0xCB, 0x6A, 0x00];
const ATR2: &[u8] = &[0x3B, 0x88, 0x80, 0x01, 0x11];

fn cfg() -> SerialConfig {
    SerialConfig {
        baud_rate: 115_200,
        startup_timeout: Duration::from_millis(500),
        answer_timeout: Duration::from_millis(500),
        char_timeout: Duration::from_millis(50),
        quiet_gap: Duration::from_millis(20),
        movement_grace: Duration::from_millis(100),
        max_retries: 3,
        max_extensions: 5,
        command_ceiling: Duration::from_secs(5),
        poll_interval: Duration::from_millis(50),
        fast_poll_interval: Duration::from_millis(10),
        idle_tick: Duration::from_millis(10),
        max_poll_failures: 3,
        probe_timeout: Duration::from_millis(200),
        reopen_interval: Duration::from_millis(100),
        max_power_on_attempts: 3,
        pinpad_min_wait: Duration::from_millis(1500),
        pinpad_grace: Duration::from_millis(500),
    }
}

fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .try_init();
}

struct Events {
    rx: UnboundedReceiver<ReaderEvent>,
}

impl Events {
    fn next(&mut self, timeout: Duration) -> Option<ReaderEvent> {
        let until = Instant::now() + timeout;
        loop {
            if let Ok(e) = self.rx.try_recv() {
                return Some(e);
            }
            if Instant::now() >= until {
                return None;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    fn expect(&mut self, what: &str) -> ReaderEvent {
        self.next(Duration::from_secs(3))
            .unwrap_or_else(|| panic!("no event, expected {what}"))
    }

    fn added(&mut self) -> (SlotInfo, Box<dyn SlotLink>) {
        match self.expect("Added") {
            ReaderEvent::Added { slot, link } => (slot, link),
            other => panic!("expected Added, got {other:?}"),
        }
    }

    fn inserted(&mut self, id: &str) -> Vec<u8> {
        match self.expect("CardInserted") {
            ReaderEvent::CardInserted { id: got, atr } if got == id => atr,
            other => panic!("expected CardInserted({id}), got {other:?}"),
        }
    }

    fn removed_card(&mut self, id: &str) {
        match self.expect("CardRemoved") {
            ReaderEvent::CardRemoved { id: got } if got == id => {}
            other => panic!("expected CardRemoved({id}), got {other:?}"),
        }
    }

    fn quiet(&mut self, d: Duration) {
        if let Some(e) = self.next(d) {
            panic!("unexpected event {e:?}");
        }
    }
}

/// Starts the transport on `spec` and returns its events.
fn start(index: usize, spec: &str, config: SerialConfig) -> Events {
    init_tracing();
    let (tx, rx) = unbounded_channel();
    start_with_config(index, spec, tx, config).expect("start");
    Events { rx }
}

/// A SIM Pro (2 slots, no echo) with a card in slot 0, started and announced.
fn sim_pro(script: Script) -> (FakeReader, Events, Vec<Box<dyn SlotLink>>) {
    let fake = FakeReader::spawn(script);
    // No periodic polling: scripted faults must hit the command under test.
    let config = SerialConfig {
        poll_interval: Duration::from_secs(30),
        ..cfg()
    };
    let mut ev = start(3, &format!("{}:GemCoreSIMPro", fake.path), config);
    let (s0, c0) = ev.added();
    let (s1, c1) = ev.added();
    assert_eq!(s0.id, "serial:3.0");
    assert_eq!(s1.id, "serial:3.1");
    assert_eq!(ev.inserted("serial:3.0"), ATR);
    (fake, ev, vec![c0, c1])
}

fn one_card_two_slots() -> Script {
    Script::new(vec![Some(ATR.to_vec()), None], false)
}

const SELECT: &[u8] = &[0x00, 0xA4, 0x04, 0x00, 0x05, 1, 2, 3, 4, 5];

fn expected(apdu: &[u8]) -> Vec<u8> {
    let mut r = apdu.to_vec();
    r.extend_from_slice(&[0x90, 0x00]);
    r
}

#[test]
fn startup_two_slots_power_on_and_exchange() {
    let fake = FakeReader::spawn(one_card_two_slots());
    let mut ev = start(7, &format!("{}:gemcoresimpro", fake.path), cfg());
    let (s0, mut c0) = ev.added();
    let (s1, mut c1) = ev.added();
    assert_eq!(s0.id, "serial:7.0");
    assert_eq!(s0.name, format!("GemCore SIM Pro ({}) slot 0", fake.path));
    assert_eq!(s1.name, format!("GemCore SIM Pro ({}) slot 1", fake.path));
    assert_eq!(s0.kind, TransportKind::Serial);
    assert_eq!(ev.inserted("serial:7.0"), ATR);
    {
        // Start-up escapes come first, in order.
        let s = fake.script();
        assert_eq!(s.executed[0], (0x6B, 0, vec![0x02]));
        assert_eq!(s.executed[1], (0x6B, 0, vec![0x01, 0x01, 0x00]));
    }
    assert_eq!(c0.connect().unwrap(), ATR);
    assert_eq!(fake.script().executed_of(0x62), 1, "connect reuses the power-on");
    assert_eq!(c0.transmit(SELECT).unwrap(), expected(SELECT));
    let long: Vec<u8> = (0..261).map(|i| i as u8).collect();
    assert_eq!(c0.transmit(&long).unwrap(), expected(&long));
    assert!(matches!(
        c0.transmit(&[0u8; 262]),
        Err(TransportError::Protocol(_))
    ));
    assert_eq!(c1.connect(), Err(TransportError::NoCard));
    assert_eq!(c1.transmit(SELECT), Err(TransportError::NoCard));

    // Reset: IccPowerOff + IccPowerOn, a fresh ATR.
    let atr = c0.reset().unwrap();
    assert_ne!(atr, ATR);
    assert_eq!(&atr[..ATR.len() - 1], &ATR[..ATR.len() - 1]);
    assert_eq!(fake.script().executed_of(0x63), 1);
    assert_eq!(c0.transmit(SELECT).unwrap(), expected(SELECT));

    // A card arrives in slot 1, found by polling.
    fake.script().cards[1] = Some(ATR2.to_vec());
    assert_eq!(ev.inserted("serial:7.1"), ATR2);
    assert_eq!(c1.connect().unwrap(), ATR2);

    // Both slots busy at once from two threads: no cross-talk.
    let t0 = std::thread::spawn(move || {
        for i in 0..40u8 {
            let apdu = [0x00, 0xB0, 0x00, i, 0x01, 0xA0];
            assert_eq!(c0.transmit(&apdu).unwrap(), expected(&apdu));
        }
        c0
    });
    let t1 = std::thread::spawn(move || {
        for i in 0..40u8 {
            let apdu = [0x80, 0xCA, 0x01, i, 0x02, 0xB1, 0xB2];
            assert_eq!(c1.transmit(&apdu).unwrap(), expected(&apdu));
        }
        c1
    });
    let mut c0 = t0.join().unwrap();
    let _c1 = t1.join().unwrap();

    // The card of slot 0 is pulled silently: polling notices.
    fake.script().cards[0] = None;
    ev.removed_card("serial:7.0");
    assert_eq!(c0.transmit(SELECT), Err(TransportError::CardRemoved));
    c0.disconnect();
    assert_eq!(c0.connect(), Err(TransportError::NoCard));
}

#[test]
fn no_answer_at_startup_then_reader_appears() {
    let mut script = one_card_two_slots();
    script.silent = true;
    let fake = FakeReader::spawn(script);
    let mut ev = start(1, &format!("{}:GemCoreSIMPro", fake.path), cfg());
    ev.quiet(Duration::from_millis(1300));
    assert!(fake.script().naks_received == 0);
    fake.script().silent = false;
    let (s0, _c0) = ev.added();
    assert_eq!(s0.id, "serial:1.0");
}

#[test]
fn corrupted_answer_is_nakked_and_never_delivered() {
    let (fake, _ev, mut ch) = sim_pro(one_card_two_slots());
    fake.script().corrupt_answers = 1;
    assert_eq!(ch[0].transmit(SELECT).unwrap(), expected(SELECT));
    // One NAK for the corrupted copy, one to confirm the good copy (the
    // line is noisy now): the command itself ran once.
    assert_eq!(fake.script().naks_received, 2);
    assert_eq!(fake.script().executed_of(0x6F), 1, "executed once");

    // A reader that never gets it right: typed error after the NAK budget.
    fake.script().corrupt_answers = 100;
    match ch[0].transmit(SELECT) {
        Err(TransportError::Protocol(m)) => assert!(m.contains("corrupted"), "{m}"),
        other => panic!("expected a protocol error, got {other:?}"),
    }
    assert_eq!(fake.script().naks_received, 2 + 3);
    fake.script().corrupt_answers = 0;
    assert_eq!(ch[0].transmit(SELECT).unwrap(), expected(SELECT));
}

#[test]
fn noisy_line_answers_are_confirmed() {
    let (fake, _ev, mut ch) = sim_pro(one_card_two_slots());
    ch[0].connect().unwrap();
    // A clean line: one copy is enough.
    assert_eq!(ch[0].transmit(SELECT).unwrap(), expected(SELECT));
    assert_eq!(fake.script().naks_received, 0);
    // A line error makes the line noisy; then a corruption the LRC cannot
    // see is caught because the retransmitted copy differs.
    fake.script().corrupt_answers = 1;
    assert_eq!(ch[0].transmit(SELECT).unwrap(), expected(SELECT));
    let naks = fake.script().naks_received;
    fake.script().lrc_blind_answers = 1;
    assert_eq!(ch[0].transmit(SELECT).unwrap(), expected(SELECT));
    // First copy (bad), second (good, differs), third (equals the second).
    assert_eq!(fake.script().naks_received, naks + 2);
    assert_eq!(fake.script().executed_of(0x6F), 3, "each command ran once");
}

#[test]
fn reader_nak_makes_us_resend() {
    let (fake, _ev, mut ch) = sim_pro(one_card_two_slots());
    fake.script().nak_commands = 1;
    assert_eq!(ch[0].transmit(SELECT).unwrap(), expected(SELECT));
    assert_eq!(fake.script().executed_of(0x6F), 1);

    fake.script().nak_commands = 100;
    match ch[0].transmit(SELECT) {
        Err(TransportError::Protocol(m)) => assert!(m.contains("rejected"), "{m}"),
        other => panic!("expected a protocol error, got {other:?}"),
    }
    fake.script().nak_commands = 0;
    assert_eq!(ch[0].transmit(SELECT).unwrap(), expected(SELECT));
}

#[test]
fn a_reader_nak_after_our_nak_never_runs_the_command_again() {
    // Our NAK (for a corrupted answer) reaches the reader garbled: it NAKs
    // it. Resending the command would run it twice (a GET RESPONSE would
    // then find nothing); our NAK goes again instead.
    let (fake, _ev, mut ch) = sim_pro(one_card_two_slots());
    fake.script().corrupt_answers = 1;
    fake.script().nak_naks = 1;
    assert_eq!(ch[0].transmit(SELECT).unwrap(), expected(SELECT));
    assert_eq!(fake.script().executed_of(0x6F), 1, "executed once");
}

#[test]
fn echo_profile() {
    let fake = FakeReader::spawn(Script::new(vec![Some(ATR.to_vec())], true));
    // Default profile: GemPC Twin, one slot, echo. No periodic polling so
    // that the scripted faults hit the command under test.
    let config = SerialConfig {
        poll_interval: Duration::from_secs(30),
        ..cfg()
    };
    let mut ev = start(0, &fake.path, config);
    let (s0, mut c0) = ev.added();
    assert_eq!(s0.name, format!("GemPC Twin ({}) slot 0", fake.path));
    assert_eq!(ev.inserted("serial:0.0"), ATR);
    assert_eq!(c0.connect().unwrap(), ATR);
    assert_eq!(c0.transmit(SELECT).unwrap(), expected(SELECT));

    // Corrupted answer, NAK (echoed back by the reader), good answer.
    fake.script().corrupt_answers = 1;
    assert_eq!(c0.transmit(SELECT).unwrap(), expected(SELECT));
    // The NAK for the corrupted copy, then one to confirm the good copy.
    assert_eq!(fake.script().naks_received, 2);

    // The reader NAKs our frame after echoing it.
    fake.script().nak_commands = 1;
    assert_eq!(c0.transmit(SELECT).unwrap(), expected(SELECT));

    // A mismatched echo: the answer is not delivered.
    fake.script().mangle_echoes = 1;
    match c0.transmit(SELECT) {
        Err(TransportError::Protocol(m)) => assert!(m.contains("echo"), "{m}"),
        other => panic!("expected a protocol error, got {other:?}"),
    }
    assert_eq!(c0.transmit(SELECT).unwrap(), expected(SELECT));
    ev.quiet(Duration::from_millis(200));
}

#[test]
fn wrong_echo_profile_still_works() {
    // GemPC Twin profile (echo expected) on a reader that does not echo.
    let fake = FakeReader::spawn(Script::new(vec![Some(ATR.to_vec())], false));
    let mut ev = start(8, &fake.path, cfg());
    let (_, mut c) = ev.added();
    assert_eq!(ev.inserted("serial:8.0"), ATR);
    assert_eq!(c.transmit(SELECT).unwrap(), expected(SELECT));
    // SIM Pro profile (no echo) on a reader that echoes.
    let fake2 = FakeReader::spawn(Script::new(vec![Some(ATR.to_vec()), None], true));
    let mut ev2 = start(9, &format!("{}:GemCoreSIMPro", fake2.path), cfg());
    let (_, mut c2) = ev2.added();
    let _ = ev2.added();
    assert_eq!(ev2.inserted("serial:9.0"), ATR);
    assert_eq!(c2.transmit(SELECT).unwrap(), expected(SELECT));
}

#[test]
fn time_extensions_within_and_beyond_the_ceiling() {
    let (fake, _ev, mut ch) = sim_pro(one_card_two_slots());
    // Each extension restarts the 500 ms answer timer: 4 x 150 ms > 500 ms.
    {
        let mut s = fake.script();
        s.time_requests = 4;
        s.time_request_gap = Duration::from_millis(150);
    }
    assert_eq!(ch[0].transmit(SELECT).unwrap(), expected(SELECT));
    fake.script().time_ext_answers = 3;
    assert_eq!(ch[0].transmit(SELECT).unwrap(), expected(SELECT));

    // Beyond the ceiling (5): a typed timeout, then the line is usable again.
    {
        let mut s = fake.script();
        s.time_requests = 12;
        s.time_request_gap = Duration::from_millis(5);
    }
    assert_eq!(ch[0].transmit(SELECT), Err(TransportError::Timeout));
    assert_eq!(ch[0].transmit(SELECT).unwrap(), expected(SELECT));
    fake.script().time_ext_answers = 8;
    assert_eq!(ch[0].transmit(SELECT), Err(TransportError::Timeout));
    assert_eq!(ch[0].transmit(SELECT).unwrap(), expected(SELECT));
}

#[test]
fn silent_reader_gives_timeout() {
    let (fake, _ev, mut ch) = sim_pro(one_card_two_slots());
    ch[0].connect().unwrap();
    fake.script().silent = true;
    let t = Instant::now();
    // The command times out; the probe that follows (GetSlotStatus) is not
    // answered either, so the reader is gone, not merely slow.
    assert!(matches!(
        ch[0].transmit(SELECT),
        Err(TransportError::ReaderGone(_))
    ));
    assert!(t.elapsed() < Duration::from_secs(2));
}

#[test]
fn card_movement_notification_when_idle() {
    let fake = FakeReader::spawn(one_card_two_slots());
    // Polling far apart: only the 0x50 notification can explain the events.
    let config = SerialConfig {
        poll_interval: Duration::from_secs(30),
        ..cfg()
    };
    let mut ev = start(4, &format!("{}:GemCoreSIMPro", fake.path), config);
    let (_, mut c0) = ev.added();
    let (_, mut c1) = ev.added();
    assert_eq!(ev.inserted("serial:4.0"), ATR);
    assert_eq!(c0.connect().unwrap(), ATR);
    {
        let mut s = fake.script();
        s.cards[0] = None;
        s.outbox = vec![0x50, 0x02];
    }
    ev.removed_card("serial:4.0");
    assert_eq!(c0.transmit(SELECT), Err(TransportError::CardRemoved));
    // Card back in slot 0 and a new card in slot 1, one notification.
    {
        let mut s = fake.script();
        s.cards[0] = Some(ATR.to_vec());
        s.cards[1] = Some(ATR2.to_vec());
        s.outbox = vec![0x50, 0x0F];
    }
    let mut got = vec![];
    for _ in 0..2 {
        match ev.expect("CardInserted") {
            ReaderEvent::CardInserted { id, atr } => got.push((id, atr)),
            other => panic!("unexpected {other:?}"),
        }
    }
    got.sort();
    assert_eq!(got[0].0, "serial:4.0");
    assert_eq!(got[1], ("serial:4.1".to_string(), ATR2.to_vec()));
    // The old session on slot 0 is still dead until a new connect.
    assert_eq!(c0.transmit(SELECT), Err(TransportError::CardRemoved));
    c0.connect().unwrap();
    assert_eq!(c0.transmit(SELECT).unwrap(), expected(SELECT));
    assert_eq!(c1.transmit(SELECT).unwrap(), expected(SELECT));
}

#[test]
fn idle_link_wakes_for_notifications_and_requests() {
    let fake = FakeReader::spawn(one_card_two_slots());
    // Neither polling nor the idle tick can explain a quick event or answer:
    // the thread must wake on the tty's bytes and on the request itself.
    let config = SerialConfig {
        poll_interval: Duration::from_secs(30),
        idle_tick: Duration::from_secs(5),
        ..cfg()
    };
    let mut ev = start(8, &format!("{}:GemCoreSIMPro", fake.path), config);
    let (_, mut c0) = ev.added();
    let _ = ev.added();
    assert_eq!(ev.inserted("serial:8.0"), ATR);
    std::thread::sleep(Duration::from_millis(100));
    let t = Instant::now();
    assert_eq!(c0.connect().unwrap(), ATR);
    assert_eq!(c0.transmit(SELECT).unwrap(), expected(SELECT));
    assert!(t.elapsed() < Duration::from_millis(500), "{:?}", t.elapsed());
    for round in 0..3 {
        std::thread::sleep(Duration::from_millis(100));
        let t = Instant::now();
        {
            let mut s = fake.script();
            s.cards[1] = Some(ATR2.to_vec());
            s.outbox = vec![0x50, 0x0D];
        }
        // The fake varies the ATR's last byte at every power-on.
        assert_eq!(ev.inserted("serial:8.1")[..4], ATR2[..4]);
        let took = t.elapsed();
        assert!(
            took < Duration::from_millis(500),
            "round {round}: insertion seen after {took:?}"
        );
        let t = Instant::now();
        {
            let mut s = fake.script();
            s.cards[1] = None;
            s.outbox = vec![0x50, 0x09];
        }
        ev.removed_card("serial:8.1");
        let took = t.elapsed();
        assert!(
            took < Duration::from_millis(500),
            "round {round}: removal seen after {took:?}"
        );
    }
    let s = fake.script();
    assert_eq!(
        s.executed[1],
        (0x6B, 0, vec![0x01, 0x01, 0x00]),
        "asynchronous notification asked"
    );
}

#[test]
fn reader_without_async_notification_is_polled_fast() {
    let mut script = one_card_two_slots();
    script.refuse_async_notify = true;
    let fake = FakeReader::spawn(script);
    let config = SerialConfig {
        poll_interval: Duration::from_secs(30),
        fast_poll_interval: Duration::from_millis(20),
        ..cfg()
    };
    let mut ev = start(9, &format!("{}:GemCoreSIMPro", fake.path), config);
    let _ = ev.added();
    let _ = ev.added();
    assert_eq!(ev.inserted("serial:9.0"), ATR);
    {
        // Asked asynchronous, refused, then synchronous (pcscd's choice).
        let s = fake.script();
        assert_eq!(s.executed[1], (0x6B, 0, vec![0x01, 0x01, 0x00]));
        assert_eq!(s.executed[2], (0x6B, 0, vec![0x01, 0x01, 0x01]));
    }
    // No notification at all: only a fast poll finds the card in time.
    let t = Instant::now();
    fake.script().cards[1] = Some(ATR2.to_vec());
    assert_eq!(ev.inserted("serial:9.1"), ATR2);
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    let t = Instant::now();
    fake.script().cards[1] = None;
    ev.removed_card("serial:9.1");
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
}

#[test]
fn synchronous_notification_before_an_answer() {
    // Polling on: the notification arrives inside a GetSlotStatus exchange
    // and must be applied before that answer, giving exactly one event.
    let fake = FakeReader::spawn(one_card_two_slots());
    let mut ev = start(6, &format!("{}:GemCoreSIMPro", fake.path), cfg());
    let _ = ev.added();
    let _ = ev.added();
    assert_eq!(ev.inserted("serial:6.0"), ATR);
    {
        let mut s = fake.script();
        s.cards[1] = Some(ATR2.to_vec());
        s.notify_before_next_answer = Some(0x0D);
    }
    assert_eq!(ev.inserted("serial:6.1"), ATR2);
    ev.quiet(Duration::from_millis(300));
    {
        let mut s = fake.script();
        s.cards[0] = None;
        s.notify_before_next_answer = Some(0x06);
    }
    ev.removed_card("serial:6.0");
    ev.quiet(Duration::from_millis(300));
}

#[test]
fn card_movement_during_an_apdu() {
    let (fake, mut ev, mut ch) = sim_pro(one_card_two_slots());
    ch[0].connect().unwrap();
    fake.script().notify_on_xfr = Some(0x02);
    let t = Instant::now();
    assert_eq!(ch[0].transmit(SELECT), Err(TransportError::CardRemoved));
    assert!(
        t.elapsed() < Duration::from_millis(450),
        "grace, not the full timeout"
    );
    ev.removed_card("serial:3.0");
    assert_eq!(ch[0].transmit(SELECT), Err(TransportError::CardRemoved));
    ch[0].disconnect();
    assert_eq!(ch[0].transmit(SELECT), Err(TransportError::NoCard));
}

#[test]
fn pty_closing_gives_reader_gone_then_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("ttyFAKE");
    let fake = FakeReader::spawn(one_card_two_slots());
    std::os::unix::fs::symlink(&fake.path, &link).unwrap();
    let link_str = link.to_str().unwrap().to_string();
    let mut ev = start(5, &format!("{link_str}:GemCoreSIMPro"), cfg());
    let (_, mut c0) = ev.added();
    let (_, _c1) = ev.added();
    assert_eq!(ev.inserted("serial:5.0"), ATR);
    assert_eq!(c0.transmit(SELECT).unwrap(), expected(SELECT));

    fake.unplug();
    // Remove the link at once: the pty number may be reused by another test.
    std::fs::remove_file(&link).unwrap();
    let mut removed = vec![];
    for _ in 0..2 {
        match ev.expect("Removed") {
            ReaderEvent::Removed { id } => removed.push(id),
            other => panic!("expected Removed, got {other:?}"),
        }
    }
    removed.sort();
    assert_eq!(removed, ["serial:5.0", "serial:5.1"]);
    match c0.transmit(SELECT) {
        Err(TransportError::ReaderGone(m)) => assert!(m.contains("ttyFAKE"), "{m}"),
        other => panic!("expected ReaderGone, got {other:?}"),
    }
    ev.quiet(Duration::from_millis(400));

    // The reader comes back on the same path: announced again.
    let (master, slave, path) = pty_pair();
    std::os::unix::fs::symlink(&path, &link).unwrap();
    let fake2 = FakeReader::spawn_on(master, slave, path, one_card_two_slots());
    let (s0, mut n0) = ev.added();
    assert_eq!(s0.id, "serial:5.0");
    let _ = ev.added();
    assert_eq!(ev.inserted("serial:5.0"), ATR);
    assert_eq!(n0.transmit(SELECT).unwrap(), expected(SELECT));
    // The channel of the previous session stays dead.
    assert!(matches!(c0.transmit(SELECT), Err(TransportError::ReaderGone(_))));
    drop(ev);
    drop(fake2);
}

#[test]
fn bad_spec_is_rejected() {
    let (tx, _rx) = unbounded_channel();
    assert!(matches!(
        super::start(0, "/dev/ttyS0:GemFoo", tx),
        Err(TransportError::Protocol(_))
    ));
}

/// Manual end-to-end check against a running reader or simulator:
/// `LECTEUR_SERIAL_SPEC=/tmp/ttySIM:GemCoreSIMPro cargo test --lib
/// transport::serial::tests::external_reader -- --ignored --nocapture`
/// (e.g. with `lecteur-sim serial --link /tmp/ttySIM --slots cps3,vitale2`).
#[test]
#[ignore = "needs a reader or simulator: set LECTEUR_SERIAL_SPEC"]
fn external_reader() {
    let Ok(spec) = std::env::var("LECTEUR_SERIAL_SPEC") else {
        eprintln!("LECTEUR_SERIAL_SPEC not set");
        return;
    };
    let mut ev = start(0, &spec, SerialConfig::default());
    let mut channels = vec![];
    let until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < until {
        match ev.next(Duration::from_millis(200)) {
            Some(ReaderEvent::Added { slot, link }) => {
                eprintln!("Added {} \"{}\"", slot.id, slot.name);
                channels.push(link);
            }
            Some(ReaderEvent::CardInserted { id, atr }) => {
                eprintln!("CardInserted {id} ATR {}", hex::encode_upper(&atr));
            }
            Some(other) => eprintln!("{other:?}"),
            None => {}
        }
    }
    assert!(!channels.is_empty(), "the reader was not announced");
    // SELECT MF, then GET RESPONSE / re-send per T=0 rules are the APDU
    // layer's job; here the raw TPDU answers are printed.
    for (i, c) in channels.iter_mut().enumerate() {
        match c.connect() {
            Ok(atr) => eprintln!("slot {i}: connect ATR {}", hex::encode_upper(&atr)),
            Err(e) => {
                eprintln!("slot {i}: connect: {e}");
                continue;
            }
        }
        for apdu in [
            &[0x00, 0xA4, 0x00, 0x00, 0x02, 0x3F, 0x00][..],
            &[0x00, 0xCA, 0x9F, 0x7F, 0x00][..],
            &[0x00, 0xB0, 0x00, 0x00, 0x10][..],
        ] {
            match c.transmit(apdu) {
                Ok(r) => eprintln!(
                    "slot {i}: {} -> {}",
                    hex::encode_upper(apdu),
                    hex::encode_upper(&r)
                ),
                Err(e) => eprintln!("slot {i}: {} -> error {e}", hex::encode_upper(apdu)),
            }
        }
        match c.reset() {
            Ok(atr) => eprintln!("slot {i}: reset ATR {}", hex::encode_upper(&atr)),
            Err(e) => eprintln!("slot {i}: reset: {e}"),
        }
        let t = Instant::now();
        for _ in 0..50 {
            c.transmit(&[0x00, 0xA4, 0x00, 0x00, 0x02, 0x3F, 0x00]).unwrap();
        }
        eprintln!("slot {i}: 50 exchanges in {:?}", t.elapsed());
    }
    // Optionally watch card movements / unplugging for a while.
    let watch: u64 = std::env::var("LECTEUR_SERIAL_WATCH")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let until = Instant::now() + Duration::from_secs(watch);
    while Instant::now() < until {
        match ev.next(Duration::from_millis(200)) {
            Some(ReaderEvent::CardInserted { id, atr }) => {
                eprintln!("CardInserted {id} ATR {}", hex::encode_upper(&atr));
            }
            Some(ReaderEvent::Added { slot, link }) => {
                eprintln!("Added {} \"{}\"", slot.id, slot.name);
                channels.push(link);
            }
            Some(other) => eprintln!("{other:?}"),
            None => {}
        }
        if let Some(c) = channels.first_mut() {
            if let Err(e) = c.transmit(&[0x00, 0xA4, 0x00, 0x00, 0x02, 0x3F, 0x00]) {
                eprintln!("slot 0 (first channel): {e}");
            }
        }
    }
}
