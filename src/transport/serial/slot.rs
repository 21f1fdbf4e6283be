//! The per-slot [`SlotLink`] handed out in `ReaderEvent::Added`. It runs on
//! the slot's worker thread and asks the link thread (which owns the tty) to do
//! the exchanges, so that exchanges on the line stay strictly one at a time.

use std::sync::mpsc;

use zeroize::Zeroize;

use super::port::Waker;
use crate::transport::{PinpadVerify, SlotLink, TransportError};

/// What a slot asks the link thread to do.
pub(super) enum Op {
    /// Power the card if needed and return its ATR.
    Connect,
    /// XfrBlock on the card that was current at `generation`.
    Transmit { apdu: Vec<u8>, generation: u64 },
    /// IccPowerOff + IccPowerOn.
    Reset,
    /// PC_to_RDR_Secure: the holder types the PIN on the reader's keypad, for
    /// the card that was current at `generation`. Carries no PIN.
    VerifyPinpad { request: PinpadVerify, generation: u64 },
}

/// The link thread's answer to a connect or reset.
pub(super) struct Connected {
    pub atr: Vec<u8>,
    /// Changes whenever the slot's card is removed, swapped or reset behind
    /// the slot's back.
    pub generation: u64,
}

pub(super) enum Reply {
    Connected(Connected),
    Response(Vec<u8>),
}

/// One request to the link thread, with where to send the reply.
pub(super) struct Request {
    pub slot: u8,
    /// The link session the slot belongs to; a slot of a previous
    /// session (before the reader vanished) gets `ReaderGone`.
    pub session: u64,
    pub op: Op,
    pub reply: mpsc::SyncSender<Result<Reply, TransportError>>,
}

impl Drop for Request {
    fn drop(&mut self) {
        if let Op::Transmit { apdu, .. } = &mut self.op {
            apdu.zeroize();
        }
    }
}

/// Where slots send their requests: the link thread's queue, and a
/// nudge that ends its wait on the line.
#[derive(Clone)]
pub(super) struct RequestTx {
    queue: mpsc::Sender<Request>,
    waker: Waker,
}

impl RequestTx {
    pub(super) fn new(queue: mpsc::Sender<Request>, waker: Waker) -> Self {
        Self { queue, waker }
    }

    /// Queues `request` and wakes the link thread; fails when it has stopped.
    fn send(&self, request: Request) -> Result<(), ()> {
        self.queue.send(request).map_err(|_| ())?;
        self.waker.wake();
        Ok(())
    }
}

/// A slot of a serial reader.
pub(super) struct SerialSlot {
    slot: u8,
    session: u64,
    requests: RequestTx,
    /// Generation of the card we are connected to.
    connected: Option<u64>,
    /// The reader has a keypad (from its profile).
    pinpad: bool,
}

impl SerialSlot {
    pub(super) fn new(slot: u8, session: u64, requests: RequestTx, pinpad: bool) -> Self {
        Self {
            slot,
            session,
            requests,
            connected: None,
            pinpad,
        }
    }

    /// The generation of the connected card, connecting first if needed.
    fn generation(&mut self) -> Result<u64, TransportError> {
        match self.connected {
            Some(g) => Ok(g),
            None => {
                self.connect()?;
                Ok(self.connected.unwrap_or_default())
            }
        }
    }

    fn call(&self, op: Op) -> Result<Reply, TransportError> {
        let (reply, answer) = mpsc::sync_channel(1);
        let request = Request {
            slot: self.slot,
            session: self.session,
            op,
            reply,
        };
        let gone = || TransportError::ReaderGone("the serial link thread has stopped".into());
        self.requests.send(request).map_err(|()| gone())?;
        // The link thread answers every request within its bounded command
        // ceiling and retry budget; if it dies, the sender is dropped.
        answer.recv().map_err(|_| gone())?
    }

    fn connected(&mut self, reply: Reply) -> Result<Vec<u8>, TransportError> {
        match reply {
            Reply::Connected(c) => {
                self.connected = Some(c.generation);
                Ok(c.atr)
            }
            Reply::Response(_) => Err(TransportError::Protocol(
                "internal: unexpected reply to a connect".into(),
            )),
        }
    }
}

impl SlotLink for SerialSlot {
    fn session(&mut self) -> Box<dyn SlotLink + '_> {
        Box::new(crate::transport::Direct(self))
    }

    fn connect(&mut self) -> Result<Vec<u8>, TransportError> {
        let reply = self.call(Op::Connect)?;
        self.connected(reply)
    }

    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        let generation = self.generation()?;
        match self.call(Op::Transmit {
            apdu: apdu.to_vec(),
            generation,
        })? {
            Reply::Response(r) => Ok(r),
            Reply::Connected(_) => Err(TransportError::Protocol(
                "internal: unexpected reply to a transmit".into(),
            )),
        }
    }

    fn reset(&mut self) -> Result<Vec<u8>, TransportError> {
        self.connected = None;
        let reply = self.call(Op::Reset)?;
        self.connected(reply)
    }

    fn disconnect(&mut self) {
        // The card stays powered as it is; only our binding to it goes.
        self.connected = None;
    }

    fn has_pinpad(&mut self) -> bool {
        self.pinpad
    }

    fn verify_pin_pinpad(&mut self, request: &PinpadVerify) -> Result<Vec<u8>, TransportError> {
        if !self.pinpad {
            return Err(TransportError::NoPinpad);
        }
        let generation = self.generation()?;
        match self.call(Op::VerifyPinpad {
            request: request.clone(),
            generation,
        })? {
            Reply::Response(sw) => Ok(sw),
            Reply::Connected(_) => Err(TransportError::Protocol(
                "internal: unexpected reply to a PIN-pad verification".into(),
            )),
        }
    }
}
