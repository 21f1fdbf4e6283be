//! Serial transport: the host side of CCID over a serial line, for the
//! GemPC Twin / GemCore family (what pcsc-lite's `libccidtwin.so` drives).
//!
//! One OS thread per reader owns the tty ([`reader`]); the per-slot
//! [`SlotLink`](crate::transport::SlotLink)s ([`slot`]) send it requests
//! on a queue, so exchanges on the line are strictly one at a time.
//! Each exchange ([`link`]) frames a CCID message ([`ccid`]) with SYNC/CTRL/LRC
//! ([`frame`]), checks the echo of echoing readers, NAKs corrupted answers and
//! resends NAKed frames (bounded), follows card-movement and time-extension
//! bytes (with a ceiling), and matches the answer's sequence number and slot.
//! Corrupted answers are never delivered. APDU payloads are never logged.
//!
//! Spec: `PATH[:PROFILE]`, PROFILE one of `GemPCTwin`, `GemCoreSIMPro`,
//! `GemCorePOSPro`, `GemPCPinPad` ([`model`]); without it, the model the
//! reader's firmware-version string names, else `GemPCTwin` ([`startup`]).

mod ccid;
mod config;
mod frame;
mod link;
mod model;
mod port;
mod presence;
mod reader;
mod slot;
mod startup;

// The tests drive fake readers and the simulator over ptys.
#[cfg(all(test, unix))]
mod tests;

pub use config::SerialConfig;
pub use model::{SerialModel, MODELS};

use super::{EventSink, TransportError};

/// Starts the serial reader `spec` (`PATH[:PROFILE]`) as reader number
/// `index`: slot ids are `serial:<index>.<slot>`.
///
/// Only a malformed spec fails here. The link thread then opens the device,
/// runs the start-up escapes, sends `Added` per slot and card events, and if
/// the reader is absent or vanishes, keeps retrying (every second) until the
/// event sink is closed.
pub fn start(index: usize, spec: &str, sink: EventSink) -> Result<(), TransportError> {
    start_with_config(index, spec, sink, SerialConfig::default())
}

/// [`start`] with explicit timeouts and limits.
pub fn start_with_config(
    index: usize,
    spec: &str,
    sink: EventSink,
    config: SerialConfig,
) -> Result<(), TransportError> {
    let (path, model) = model::parse_spec(spec)?;
    let thread = reader::ReaderThread::new(index, path, model, config, sink)
        .map_err(|e| TransportError::Protocol(format!("cannot make the serial thread's wake socket: {e}")))?;
    std::thread::Builder::new()
        .name(format!("serial-{index}"))
        .spawn(move || thread.run())
        .map_err(|e| TransportError::Protocol(format!("cannot start the serial thread: {e}")))?;
    Ok(())
}
