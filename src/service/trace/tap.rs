//! The trace tap: a `SlotLink` around a slot's link that records each
//! exchange. The slot's worker puts it around every job's link, so every
//! transport and every card operation is traced in one place.

use super::{Kind, Record, SlotLabel, Trace};
use crate::apdu::{safe_command, Body, SafeCommand};
use crate::transport::{Direct, PinpadVerify, SlotLink, TransportError};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// A slot's link that records each exchange in the trace.
pub struct Tap<'a> {
    inner: &'a mut dyn SlotLink,
    trace: &'a Trace,
    slot: &'a Arc<SlotLabel>,
}

impl<'a> Tap<'a> {
    /// Wraps `inner`, recording its exchanges under `slot`.
    pub fn new(inner: &'a mut dyn SlotLink, trace: &'a Trace, slot: &'a Arc<SlotLabel>) -> Self {
        Tap { inner, trace, slot }
    }

    /// Runs one exchange and records it, masked.
    fn traced(
        &mut self,
        kind: Kind,
        command: SafeCommand,
        send: impl FnOnce(&mut dyn SlotLink) -> Result<Vec<u8>, TransportError>,
    ) -> Result<Vec<u8>, TransportError> {
        let time_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let start = Instant::now();
        let answer = send(&mut *self.inner);
        let micros = u32::try_from(start.elapsed().as_micros()).unwrap_or(u32::MAX);
        let mut rec = Record {
            seq: 0,
            time_ms,
            slot: self.slot.clone(),
            kind,
            command,
            resp_len: 0,
            sw: None,
            error: None,
            micros,
        };
        rec.answered(&answer);
        self.trace.record(rec);
        answer
    }
}

impl SlotLink for Tap<'_> {
    fn connect(&mut self) -> Result<Vec<u8>, TransportError> {
        self.inner.connect()
    }

    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.traced(Kind::Apdu, safe_command(apdu), |c| c.transmit(apdu))
    }

    fn reset(&mut self) -> Result<Vec<u8>, TransportError> {
        self.inner.reset()
    }

    fn disconnect(&mut self) {
        self.inner.disconnect()
    }

    fn has_pinpad(&mut self) -> bool {
        self.inner.has_pinpad()
    }

    fn verify_pin_pinpad(&mut self, request: &PinpadVerify) -> Result<Vec<u8>, TransportError> {
        let command = SafeCommand {
            header: request.header,
            le: None,
            body: Body::Secret,
        };
        self.traced(Kind::PinpadVerify, command, |c| c.verify_pin_pinpad(request))
    }

    fn session(&mut self) -> Box<dyn SlotLink + '_> {
        // The worker taps the session already: a nested one is the tap itself.
        Box::new(Direct(self))
    }
}
