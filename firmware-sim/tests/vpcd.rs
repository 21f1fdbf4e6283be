//! The vpcd front-end against a fake vpcd (a TCP listener on an ephemeral port).

// Unix only: uses the helpers in common/ (pty and Unix-socket ones among them).
#![cfg(unix)]

mod common;

use common::{TestCard, ATR_A};
use lecteur_sim::{vpcd, SimReader};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

struct Sim {
    reader: SimReader,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Sim {
    fn start(addr: SocketAddr, card: bool) -> Sim {
        let reader = SimReader::new(1);
        if card {
            reader.insert(0, TestCard::boxed(&ATR_A)).unwrap();
        }
        let stop = Arc::new(AtomicBool::new(false));
        let (r, s) = (reader.clone(), Arc::clone(&stop));
        let opts = vpcd::Options {
            verbose: true,
            ..vpcd::Options::default()
        };
        let thread = std::thread::spawn(move || vpcd::run_with(r, addr, &s, &opts).unwrap());
        Sim {
            reader,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Accepts the card's connection within `timeout`.
fn accept(listener: &TcpListener, timeout: Duration) -> TcpStream {
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + timeout;
    loop {
        match listener.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(false).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
                return s;
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                assert!(Instant::now() < deadline, "the card did not connect");
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("accept: {e}"),
        }
    }
}

fn send(s: &mut TcpStream, payload: &[u8]) {
    let mut f = (payload.len() as u16).to_be_bytes().to_vec();
    f.extend_from_slice(payload);
    s.write_all(&f).unwrap();
}

fn recv(s: &mut TcpStream) -> Vec<u8> {
    let mut len = [0u8; 2];
    s.read_exact(&mut len).unwrap();
    let mut v = vec![0u8; u16::from_be_bytes(len) as usize];
    s.read_exact(&mut v).unwrap();
    v
}

fn transmit(s: &mut TcpStream, apdu: &[u8]) -> Vec<u8> {
    send(s, apdu);
    recv(s)
}

/// The peer closes within `timeout` (read returns 0 or an error).
fn assert_closed(s: &mut TcpStream, timeout: Duration) {
    s.set_read_timeout(Some(timeout)).unwrap();
    let mut b = [0u8; 1];
    match s.read(&mut b) {
        Ok(0) => {}
        Ok(_) => panic!("unexpected data"),
        Err(e) => assert!(
            !matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
            "connection still open"
        ),
    }
}

fn listener() -> (TcpListener, SocketAddr) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let a = l.local_addr().unwrap();
    (l, a)
}

#[test]
fn power_atr_and_apdus() {
    let (l, addr) = listener();
    let _sim = Sim::start(addr, true);
    let mut s = accept(&l, Duration::from_secs(3));
    send(&mut s, &[vpcd::CTRL_ON]);
    send(&mut s, &[vpcd::CTRL_ATR]);
    assert_eq!(recv(&mut s), ATR_A);
    assert_eq!(
        transmit(&mut s, &[0x00, 0xA4, 0x04, 0x00, 0x02, 0x3F, 0x00]),
        [1, 0xA4, 0x90, 0x00]
    );
    assert_eq!(
        transmit(&mut s, &[0x00, 0xB0, 0x00, 0x00, 0x10]),
        [2, 0xB0, 0x90, 0x00]
    );
    // Long answers fit a vpcd frame.
    assert_eq!(transmit(&mut s, &[0x00, 0xEE, 0x00, 0x00]).len(), 300);
    // Reset and power off make the card forget.
    send(&mut s, &[vpcd::CTRL_RESET]);
    send(&mut s, &[vpcd::CTRL_ATR]);
    assert_eq!(recv(&mut s), ATR_A);
    assert_eq!(transmit(&mut s, &[0x00, 0xB0, 0x00, 0x00, 0x10])[0], 1);
    send(&mut s, &[vpcd::CTRL_OFF]);
    send(&mut s, &[vpcd::CTRL_ON]);
    assert_eq!(transmit(&mut s, &[0x00, 0xB0, 0x00, 0x00, 0x10])[0], 1);
    // Unknown control bytes and empty frames get no answer, and do no harm.
    send(&mut s, &[0x07]);
    send(&mut s, &[]);
    // A 2-byte frame is an APDU (the card judges it).
    assert_eq!(transmit(&mut s, &[0x00, 0x70]), [2, 0x70, 0x90, 0x00]);
}

#[test]
fn reconnects_when_vpcd_drops_the_connection() {
    let (l, addr) = listener();
    let _sim = Sim::start(addr, true);
    let mut s = accept(&l, Duration::from_secs(3));
    send(&mut s, &[vpcd::CTRL_ATR]);
    assert_eq!(recv(&mut s), ATR_A);
    drop(s);
    let mut s = accept(&l, Duration::from_secs(3));
    send(&mut s, &[vpcd::CTRL_ATR]);
    assert_eq!(recv(&mut s), ATR_A);
}

#[test]
fn reconnects_when_vpcd_comes_back() {
    // pcscd restarts: nobody listens for a while, then the port is back.
    let (l, addr) = listener();
    drop(l);
    let _sim = Sim::start(addr, true);
    std::thread::sleep(Duration::from_millis(700));
    let l = TcpListener::bind(addr).expect("rebind the same port");
    let mut s = accept(&l, Duration::from_secs(3));
    send(&mut s, &[vpcd::CTRL_ATR]);
    assert_eq!(recv(&mut s), ATR_A);
    // And again, with the listener gone mid-session.
    drop(l);
    drop(s);
    std::thread::sleep(Duration::from_millis(500));
    let l = TcpListener::bind(addr).expect("rebind the same port");
    let mut s = accept(&l, Duration::from_secs(3));
    send(&mut s, &[vpcd::CTRL_ATR]);
    assert_eq!(recv(&mut s), ATR_A);
}

#[test]
fn card_removal_closes_and_insertion_reconnects() {
    let (l, addr) = listener();
    let sim = Sim::start(addr, false);
    // No card: no connection.
    l.set_nonblocking(true).unwrap();
    std::thread::sleep(Duration::from_millis(600));
    assert!(l.accept().is_err(), "connected without a card");
    sim.reader.insert(0, TestCard::boxed(&ATR_A)).unwrap();
    let mut s = accept(&l, Duration::from_secs(3));
    send(&mut s, &[vpcd::CTRL_ON]);
    assert_eq!(transmit(&mut s, &[0x00, 0xB0, 0x00, 0x00, 0x01])[0], 1);
    sim.reader.remove(0).unwrap();
    assert_closed(&mut s, Duration::from_secs(2));
    // A swap is a removal then an insertion: a new connection, a fresh card.
    sim.reader.insert(0, TestCard::boxed(&ATR_A)).unwrap();
    let mut s = accept(&l, Duration::from_secs(3));
    assert_eq!(transmit(&mut s, &[0x00, 0xB0, 0x00, 0x00, 0x01])[0], 1);
    sim.reader.insert(0, TestCard::boxed(&[0x3B, 0x00])).unwrap();
    assert_closed(&mut s, Duration::from_secs(2));
    let mut s = accept(&l, Duration::from_secs(3));
    send(&mut s, &[vpcd::CTRL_ATR]);
    assert_eq!(recv(&mut s), [0x3B, 0x00]);
}

#[test]
fn stops_promptly() {
    let (l, addr) = listener();
    let mut sim = Sim::start(addr, true);
    let _s = accept(&l, Duration::from_secs(3));
    let t0 = Instant::now();
    sim.stop.store(true, Ordering::SeqCst);
    sim.thread.take().unwrap().join().unwrap();
    assert!(t0.elapsed() < Duration::from_secs(1));
}
