//! The serial front-end driven over its pseudo-terminal with hand-built frames.

// Unix only: uses the pty front-end and the Unix control socket.
#![cfg(unix)]

mod common;

use common::{bay, frame, msg, temp_dir, Control, Host, Item, TestCard, ATR_A, ATR_B};
use lecteur_sim::control::{CardBay, ControlServer};
use lecteur_sim::serial::{Profile, Reader};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const POWER_ON: u8 = 0x62;
const POWER_OFF: u8 = 0x63;
const SLOT_STATUS: u8 = 0x65;
const XFR: u8 = 0x6F;
const ESCAPE: u8 = 0x6B;
const GET_PARAMS: u8 = 0x6C;
const SET_PARAMS: u8 = 0x61;

/// A running simulated reader; stops and joins on drop.
struct Sim {
    link: PathBuf,
    bay: CardBay,
    faults: lecteur_sim::serial::Faults,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    _dir: PathBuf,
}

impl Sim {
    fn start(profile: Profile, cards: &[Option<&[u8]>]) -> Sim {
        let dir = temp_dir("serial");
        let link = dir.join("ttySIM");
        let bay = bay(profile.default_slots());
        for (slot, atr) in cards.iter().enumerate() {
            if let Some(atr) = atr {
                bay.insert_card(slot, "test", TestCard::boxed(atr)).unwrap();
            }
        }
        let mut reader = Reader::open(&link, profile, bay.reader().clone()).unwrap();
        reader.set_verbose(true);
        let faults = reader.faults();
        let stop = Arc::new(AtomicBool::new(false));
        let s = Arc::clone(&stop);
        let thread = std::thread::spawn(move || reader.run(&s).unwrap());
        Sim {
            link,
            bay,
            faults,
            stop,
            thread: Some(thread),
            _dir: dir,
        }
    }

    fn host(&self) -> Host {
        Host::open(&self.link)
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = std::fs::remove_dir_all(&self._dir);
    }
}

/// (type, dwLength, slot, seq, status, error, specific, data)
fn parts(m: &[u8]) -> (u8, u32, u8, u8, u8, u8, u8, Vec<u8>) {
    assert!(m.len() >= 10);
    let dw = u32::from_le_bytes([m[1], m[2], m[3], m[4]]);
    assert_eq!(dw as usize, m.len() - 10);
    (m[0], dw, m[5], m[6], m[7], m[8], m[9], m[10..].to_vec())
}

#[test]
fn start_up_sequence_power_on_both_slots_and_exchange() {
    let sim = Sim::start(Profile::GemCoreSimPro, &[Some(&ATR_A), Some(&ATR_B)]);
    let mut host = sim.host();

    // What libccidtwin does first: firmware version, then notifications on.
    let (t, _, _, seq, status, err, _, data) = parts(&host.call(&msg(ESCAPE, 0, 0, [0; 3], &[0x02])));
    assert_eq!((t, seq, status & 0xC0, err), (0x83, 0, 0, 0));
    assert_eq!(
        String::from_utf8(data).unwrap(),
        "GemCore SIM Pro v1.0-lecteur-sim"
    );
    let (t, dw, ..) = parts(&host.call(&msg(ESCAPE, 0, 1, [0; 3], &[0x01, 0x01, 0x01])));
    assert_eq!((t, dw), (0x83, 0));

    for slot in 0..2u8 {
        let (t, _, s, _, status, ..) = parts(&host.call(&msg(SLOT_STATUS, slot, 2, [0; 3], &[])));
        assert_eq!((t, s, status), (0x81, slot, 0x01), "present, inactive");
    }
    let (t, _, s, seq, status, err, _, atr) = parts(&host.call(&msg(POWER_ON, 0, 3, [1, 0, 0], &[])));
    assert_eq!((t, s, seq, status, err), (0x80, 0, 3, 0, 0));
    assert_eq!(atr, ATR_A);
    let (_, _, s, _, status, _, _, atr) = parts(&host.call(&msg(POWER_ON, 1, 4, [1, 0, 0], &[])));
    assert_eq!((s, status), (1, 0));
    assert_eq!(atr, ATR_B);
    let (_, _, _, _, status, ..) = parts(&host.call(&msg(SLOT_STATUS, 1, 5, [0; 3], &[])));
    assert_eq!(status, 0x00, "present, active");

    // TPDUs go to the card as they are; each slot has its own card.
    let (t, _, s, _, status, _, _, data) = parts(&host.call(&msg(
        XFR,
        1,
        6,
        [0; 3],
        &[0x00, 0xA4, 0x04, 0x00, 0x02, 0x3F, 0x00],
    )));
    assert_eq!((t, s, status), (0x80, 1, 0));
    assert_eq!(data, [1, 0xA4, 0x90, 0x00]);
    let (.., data) = parts(&host.call(&msg(XFR, 1, 7, [0; 3], &[0x00, 0xB0, 0x00, 0x00, 0x10])));
    assert_eq!(data, [2, 0xB0, 0x90, 0x00]);
    let (.., data) = parts(&host.call(&msg(XFR, 0, 8, [0; 3], &[0x00, 0xCA, 0x00, 0x00, 0x00])));
    assert_eq!(data, [1, 0xCA, 0x90, 0x00]);

    // Power off: slot status "inactive", the card forgot its state, and
    // XfrBlock fails with ICC_MUTE until the next power on.
    let (t, _, _, _, status, err, ..) = parts(&host.call(&msg(POWER_OFF, 1, 9, [0; 3], &[])));
    assert_eq!((t, status, err), (0x81, 0x01, 0));
    let (t, _, _, _, status, err, ..) = parts(&host.call(&msg(XFR, 1, 10, [0; 3], &[0, 0xB0, 0, 0, 1])));
    assert_eq!((t, status, err), (0x80, 0x41, 0xFE));
    parts(&host.call(&msg(POWER_ON, 1, 11, [0; 3], &[])));
    let (.., data) = parts(&host.call(&msg(XFR, 1, 12, [0; 3], &[0x00, 0xB0, 0x00, 0x00, 0x10])));
    assert_eq!(data[0], 1, "counter restarted after power off");

    // An answer too long for a frame is an overrun, not a broken frame.
    let (t, _, _, _, status, err, ..) =
        parts(&host.call(&msg(XFR, 1, 13, [0; 3], &[0x00, 0xEE, 0x00, 0x00])));
    assert_eq!((t, status, err), (0x80, 0x40, 0xFC));
}

#[test]
fn parameters_pps_and_misc_commands() {
    let sim = Sim::start(Profile::GemCoreSimPro, &[Some(&ATR_B), None]);
    let mut host = sim.host();
    parts(&host.call(&msg(POWER_ON, 0, 0, [0; 3], &[])));
    // PPS right after the ATR: the card echoes it.
    let pps = [0xFF, 0x10, 0x13, 0xFF ^ 0x10 ^ 0x13];
    let (t, _, _, _, status, _, _, data) = parts(&host.call(&msg(XFR, 0, 1, [0; 3], &pps)));
    assert_eq!((t, status), (0x80, 0));
    assert_eq!(data, pps);
    let (t, dw, _, _, status, _, proto, data) = parts(&host.call(&msg(GET_PARAMS, 0, 2, [0; 3], &[])));
    assert_eq!((t, dw, status, proto), (0x82, 5, 0, 0));
    assert_eq!(data[0], 0x13, "Fi/Di from the PPS");
    let params = [0x13, 0x00, 0x00, 0x0A, 0x00];
    let (t, _, _, _, status, err, proto, data) =
        parts(&host.call(&msg(SET_PARAMS, 0, 3, [0, 0, 0], &params)));
    assert_eq!((t, status, err, proto), (0x82, 0, 0, 0));
    assert_eq!(data, params);
    // T=1 is refused: bError points at bProtocolNum.
    let (t, _, _, _, status, err, ..) = parts(&host.call(&msg(
        SET_PARAMS,
        0,
        4,
        [1, 0, 0],
        &[0x11, 0x10, 0, 0x4D, 0, 0x20, 0],
    )));
    assert_eq!((t, status, err), (0x82, 0x40, 7));
    // Parameters of an empty slot: ICC mute.
    let (t, _, _, _, status, err, ..) = parts(&host.call(&msg(GET_PARAMS, 1, 5, [0; 3], &[])));
    assert_eq!((t, status, err), (0x82, 0x42, 0xFE));
    // Power on an empty slot: ICC mute, card absent.
    let (t, _, _, _, status, err, ..) = parts(&host.call(&msg(POWER_ON, 1, 6, [0; 3], &[])));
    assert_eq!((t, status, err), (0x80, 0x42, 0xFE));
    let (t, _, _, _, status, err, ..) = parts(&host.call(&msg(SLOT_STATUS, 1, 7, [0; 3], &[])));
    assert_eq!((t, status, err), (0x81, 0x02, 0));
    // Abort, IccClock, SetDataRateAndClockFrequency.
    let (t, _, _, _, status, ..) = parts(&host.call(&msg(0x72, 0, 8, [0; 3], &[])));
    assert_eq!((t, status), (0x81, 0));
    let (t, _, _, _, status, ..) = parts(&host.call(&msg(0x6E, 0, 9, [0; 3], &[])));
    assert_eq!((t, status), (0x81, 0));
    let mut rate = 4000u32.to_le_bytes().to_vec();
    rate.extend_from_slice(&43010u32.to_le_bytes());
    let (t, dw, _, _, status, _, _, data) = parts(&host.call(&msg(0x73, 0, 10, [0; 3], &rate)));
    assert_eq!((t, dw, status), (0x84, 8, 0));
    assert_eq!(data, rate);
    // Unknown message type and unknown escape: failed, "command not supported".
    let (t, _, _, _, status, err, ..) = parts(&host.call(&msg(0x99, 0, 11, [0; 3], &[])));
    assert_eq!((t, status & 0xC0, err), (0x81, 0x40, 0x00));
    let (t, _, _, _, status, err, ..) = parts(&host.call(&msg(ESCAPE, 0, 12, [0; 3], &[0x7F, 1])));
    assert_eq!((t, status & 0xC0, err), (0x83, 0x40, 0x00));
}

#[test]
fn slot_out_of_range_is_error_5() {
    let sim = Sim::start(Profile::GemCoreSimPro, &[Some(&ATR_A), Some(&ATR_B)]);
    let mut host = sim.host();
    for (kind, answer) in [
        (POWER_ON, 0x80),
        (SLOT_STATUS, 0x81),
        (XFR, 0x80),
        (GET_PARAMS, 0x82),
    ] {
        let data: &[u8] = if kind == XFR { &[0, 0xA4, 0, 0] } else { &[] };
        let (t, _, s, seq, status, err, ..) = parts(&host.call(&msg(kind, 2, 0x42, [0; 3], data)));
        assert_eq!((t, s, seq, status, err), (answer, 2, 0x42, 0x42, 5));
    }
}

#[test]
fn bad_lrc_gets_a_nak_and_the_link_recovers() {
    let sim = Sim::start(Profile::GemCoreSimPro, &[Some(&ATR_A), None]);
    let mut host = sim.host();
    let mut f = frame(&msg(SLOT_STATUS, 0, 1, [0; 3], &[]));
    let last = f.len() - 1;
    f[last] ^= 0x5A;
    host.send(&f);
    assert_eq!(host.item(), Item::Nak);
    host.expect_silence(Duration::from_millis(150));
    let (t, _, _, seq, ..) = parts(&host.call(&msg(SLOT_STATUS, 0, 1, [0; 3], &[])));
    assert_eq!((t, seq), (0x81, 1));

    // Noise before a frame is skipped.
    let mut noisy = vec![0xAA, 0x55, 0x00];
    noisy.extend_from_slice(&frame(&msg(SLOT_STATUS, 0, 2, [0; 3], &[])));
    host.send(&noisy);
    let (t, _, _, seq, ..) = parts(&host.answer());
    assert_eq!((t, seq), (0x81, 2));
}

#[test]
fn bad_length_gets_a_nak_after_resync() {
    let sim = Sim::start(Profile::GemCoreSimPro, &[Some(&ATR_A), None]);
    let mut host = sim.host();
    // dwLength 0x10000: beyond any short-APDU frame. The rest of the junk
    // (which contains SYNC bytes) must not produce more answers.
    let mut junk = vec![0x03, 0x06, 0x6F, 0x00, 0x00, 0x01, 0x00, 0x00, 0x01];
    junk.extend_from_slice(&[0x03, 0x06, 0x03, 0x03, 0x15, 0x00, 0x03]);
    host.send(&junk);
    assert_eq!(host.item(), Item::Nak);
    host.expect_silence(Duration::from_millis(200));
    let (t, _, _, seq, ..) = parts(&host.call(&msg(SLOT_STATUS, 0, 9, [0; 3], &[])));
    assert_eq!((t, seq), (0x81, 9));
}

#[test]
fn incomplete_frame_times_out_with_a_nak() {
    let sim = Sim::start(Profile::GemCoreSimPro, &[Some(&ATR_A), None]);
    let mut host = sim.host();
    let f = frame(&msg(SLOT_STATUS, 0, 1, [0; 3], &[]));
    host.send(&f[..6]);
    host.expect_silence(Duration::from_millis(500));
    assert_eq!(host.item_within(Duration::from_secs(3)), Item::Nak);
    let (t, ..) = parts(&host.call(&msg(SLOT_STATUS, 0, 2, [0; 3], &[])));
    assert_eq!(t, 0x81);
}

#[test]
fn host_nak_gets_the_last_answer_again() {
    let sim = Sim::start(Profile::GemCoreSimPro, &[Some(&ATR_A), None]);
    let mut host = sim.host();
    // Nothing sent yet: the reader cannot retransmit and NAKs.
    host.send(&[0x03, 0x15, 0x16]);
    assert_eq!(host.item(), Item::Nak);
    let first = host.call(&msg(POWER_ON, 0, 7, [0; 3], &[]));
    host.send(&[0x03, 0x15, 0x16]);
    assert_eq!(host.answer(), first, "same frame again");
    host.send(&[0x03, 0x15, 0x16]);
    assert_eq!(host.answer(), first);
    // Retransmission does not re-run the command.
    let (.., data) = parts(&host.call(&msg(XFR, 0, 8, [0; 3], &[0, 0xB0, 0, 0, 1])));
    assert_eq!(data[0], 1);
}

#[test]
fn gempc_twin_echoes_every_host_frame() {
    let sim = Sim::start(Profile::GemPcTwin, &[Some(&ATR_A)]);
    let mut host = sim.host();
    let m = msg(ESCAPE, 0, 3, [0; 3], &[0x02]);
    host.send_msg(&m);
    assert_eq!(host.item(), Item::Frame(m.clone()), "echo first");
    let (t, _, _, _, _, _, _, data) = parts(&host.answer());
    assert_eq!(t, 0x83);
    assert_eq!(String::from_utf8(data).unwrap(), "GemPC Twin v1.0-lecteur-sim");
    let m = msg(POWER_ON, 0, 4, [0; 3], &[]);
    host.send_msg(&m);
    assert_eq!(host.item(), Item::Frame(m));
    let (.., atr) = parts(&host.answer());
    assert_eq!(atr, ATR_A);
    // One slot only.
    let m = msg(SLOT_STATUS, 1, 5, [0; 3], &[]);
    host.send_msg(&m);
    assert_eq!(host.item(), Item::Frame(m));
    let (_, _, _, _, status, err, ..) = parts(&host.answer());
    assert_eq!((status, err), (0x42, 5));
    // A host NAK is echoed too, then the last answer comes again.
    host.send(&[0x03, 0x15, 0x16]);
    assert_eq!(host.item(), Item::Nak);
    let (_, _, _, seq, ..) = parts(&host.answer());
    assert_eq!(seq, 5);
}

#[test]
fn card_movement_via_the_control_socket() {
    let sim = Sim::start(Profile::GemCoreSimPro, &[Some(&ATR_A), Some(&ATR_B)]);
    let dir = temp_dir("control");
    let sock = dir.join("control.sock");
    let _server = ControlServer::start(&sock, sim.bay.clone()).unwrap();
    let mut control = Control::connect(&sock);
    assert_eq!(
        control.command("status"),
        ["0 test 3B021450", "1 test 3B751300004509EA9000", "ok"]
    );

    let mut host = sim.host();
    // Without notification, nothing but answers.
    parts(&host.call(&msg(POWER_ON, 0, 0, [0; 3], &[])));
    assert_eq!(control.command("remove 0"), ["ok"]);
    let (_, _, _, _, status, ..) = parts(&host.call(&msg(SLOT_STATUS, 0, 1, [0; 3], &[])));
    assert_eq!(status, 0x02, "absent");
    assert_eq!(control.command("insert 0 a"), ["ok"]);

    // Synchronous notification: `50 state` after the next command, before the answer.
    host.call(&msg(ESCAPE, 0, 2, [0; 3], &[0x01, 0x01, 0x01]));
    host.expect_silence(Duration::from_millis(300));
    assert_eq!(control.command("remove 0"), ["ok"]);
    host.expect_silence(Duration::from_millis(300));
    host.send_msg(&msg(SLOT_STATUS, 0, 3, [0; 3], &[]));
    // slot 0: absent + changed (10), slot 1: present (01): 0b0110.
    assert_eq!(host.item(), Item::Notify(0x06));
    let (t, _, _, seq, status, ..) = parts(&host.answer());
    assert_eq!((t, seq, status), (0x81, 3, 0x02));
    // Reported once only.
    let (_, _, _, _, status, ..) = parts(&host.call(&msg(SLOT_STATUS, 1, 4, [0; 3], &[])));
    assert_eq!(status, 0x01);

    assert_eq!(control.command("insert 0 b"), ["ok"]);
    host.send_msg(&msg(SLOT_STATUS, 0, 5, [0; 3], &[]));
    assert_eq!(host.item(), Item::Notify(0x07));
    let (_, _, _, _, status, ..) = parts(&host.answer());
    assert_eq!(status, 0x01, "present, not powered yet");
    let (.., atr) = parts(&host.call(&msg(POWER_ON, 0, 6, [0; 3], &[])));
    assert_eq!(atr, ATR_B);

    // A card pulled while powered: XfrBlock fails, the host learns why.
    assert_eq!(control.command("remove 0"), ["ok"]);
    host.send_msg(&msg(XFR, 0, 7, [0; 3], &[0, 0xB0, 0, 0, 1]));
    assert_eq!(host.item(), Item::Notify(0x06));
    let (t, _, _, _, status, err, ..) = parts(&host.answer());
    assert_eq!((t, status, err), (0x80, 0x42, 0xFE));

    // Control errors.
    assert!(control.command("insert 5 a")[0].starts_with("error: no slot 5"));
    assert!(control.command("insert 0 zzz")[0].starts_with("error: cannot load card"));
    assert_eq!(
        control.command("status"),
        ["0 empty", "1 test 3B751300004509EA9000", "ok"]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn async_notification_arrives_without_a_command() {
    let sim = Sim::start(Profile::GemPcTwin, &[Some(&ATR_A)]);
    let mut host = sim.host();
    let m = msg(ESCAPE, 0, 0, [0; 3], &[0x01, 0x01, 0x00]);
    host.send_msg(&m);
    assert_eq!(host.item(), Item::Frame(m));
    host.answer();
    sim.bay.remove(0).unwrap();
    assert_eq!(host.item_within(Duration::from_secs(2)), Item::Notify(0x02));
    sim.bay.insert_card(0, "test", TestCard::boxed(&ATR_A)).unwrap();
    assert_eq!(host.item_within(Duration::from_secs(2)), Item::Notify(0x03));
}

#[test]
fn async_notification_goes_out_as_soon_as_the_card_moves() {
    // A real reader notices a card at once; the simulator's loop must not
    // sleep through a movement until its next 100 ms tick.
    let sim = Sim::start(Profile::GemCoreSimPro, &[Some(&ATR_A), None]);
    let mut host = sim.host();
    let m = msg(ESCAPE, 0, 0, [0; 3], &[0x01, 0x01, 0x00]);
    host.send_msg(&m);
    host.answer();
    let mut slowest = Duration::ZERO;
    for round in 0..10u64 {
        // At varying moments of the loop's tick.
        std::thread::sleep(Duration::from_millis(13 * round % 100));
        let t = Instant::now();
        if round % 2 == 0 {
            sim.bay.insert_card(1, "test", TestCard::boxed(&ATR_A)).unwrap();
            assert_eq!(host.item_within(Duration::from_secs(2)), Item::Notify(0x0D));
        } else {
            sim.bay.remove(1).unwrap();
            assert_eq!(host.item_within(Duration::from_secs(2)), Item::Notify(0x09));
        }
        slowest = slowest.max(t.elapsed());
    }
    assert!(
        slowest < Duration::from_millis(50),
        "a notification took {slowest:?}"
    );
}

#[test]
fn stale_link_is_replaced_and_removed_on_drop() {
    let dir = temp_dir("link");
    let link = dir.join("ttyOLD");
    std::os::unix::fs::symlink("/nonexistent/pts/99", &link).unwrap();
    let reader = Reader::open(&link, Profile::GemPcTwin, lecteur_sim::SimReader::new(1)).unwrap();
    assert_eq!(std::fs::read_link(&link).unwrap(), reader.slave_path());
    drop(reader);
    assert!(std::fs::symlink_metadata(&link).is_err(), "link removed");
    // A regular file is never replaced.
    std::fs::write(&link, b"keep").unwrap();
    assert!(Reader::open(&link, Profile::GemPcTwin, lecteur_sim::SimReader::new(1)).is_err());
    assert_eq!(std::fs::read(&link).unwrap(), b"keep");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn faults_nak_storm_time_extension_mute_and_unplug() {
    use lecteur_sim::serial::FaultSpec;
    let sim = Sim::start(Profile::GemCoreSimPro, &[Some(&ATR_A), None]);
    let set = |spec: &str| sim.faults.set(FaultSpec::parse(spec).unwrap());
    let mut host = sim.host();
    host.call(&msg(POWER_ON, 0, 1, [1, 0, 0], &[]));

    // NAK storm: every frame is NAKed, nothing runs.
    set("nak-storm");
    host.send_msg(&msg(XFR, 0, 2, [0; 3], &[0x00, 0xB0, 0x00, 0x00, 0x02]));
    assert_eq!(host.item(), Item::Nak);
    let apdus = sim.bay.reader().counters().apdus;
    set("none");
    let (.., seq, _, _, _, _) = parts(&host.call(&msg(XFR, 0, 3, [0; 3], &[0x00, 0xB0, 0x00, 0x00, 0x02])));
    assert_eq!(seq, 3);
    assert_eq!(sim.bay.reader().counters().apdus, apdus + 1);

    // Endless time extension: extension bytes, never the answer.
    set("time-ext=20");
    host.send_msg(&msg(XFR, 0, 4, [0; 3], &[0x00, 0xB0, 0x00, 0x00, 0x02]));
    for _ in 0..5 {
        assert_eq!(host.item(), Item::TimeExtension(0x80));
    }
    set("none");
    // An extension byte may have left just before.
    host.discard(Duration::from_millis(60));
    host.expect_silence(Duration::from_millis(100));

    // Silent after 5 bytes: the answer stops in the middle.
    set("mute-after=5");
    host.send_msg(&msg(SLOT_STATUS, 0, 5, [0; 3], &[]));
    host.expect_silence_after(5, Duration::from_millis(300));
    set("none");

    // The port vanishes, then a new pty comes behind the same link.
    let old = std::fs::read_link(&sim.link).unwrap();
    set("unplug");
    assert!(
        wait(|| std::fs::symlink_metadata(&sim.link).is_err()),
        "the link stays while unplugged"
    );
    set("none");
    assert!(wait(|| std::fs::read_link(&sim.link).is_ok()), "the link is back");
    assert_ne!(std::fs::read_link(&sim.link).unwrap(), old, "a new pty");
    let mut host = sim.host();
    // Power-cycled: the card is present but unpowered.
    let (t, _, s, _, status, ..) = parts(&host.call(&msg(SLOT_STATUS, 0, 6, [0; 3], &[])));
    assert_eq!((t, s, status), (0x81, 0, 0x01));
}

fn wait(mut f: impl FnMut() -> bool) -> bool {
    let end = std::time::Instant::now() + Duration::from_secs(3);
    while std::time::Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}
