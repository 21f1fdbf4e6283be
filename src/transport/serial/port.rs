//! The line: what the link needs from it (byte I/O with timeouts, and an
//! idle wait that ends on input or on a wake-up), with each platform's
//! device behind one module, chosen here: the tty (`TTYPort`) with
//! `poll(2)` and a wake socket on Unix, the COM port (`COMPort`, blocking
//! `ReadFile` under `COMMTIMEOUTS`) with a condition variable on Windows.

use std::io;
use std::time::Duration;

use serialport::{ClearBuffer, DataBits, FlowControl, Parity, SerialPort, StopBits};

#[cfg_attr(unix, path = "port/unix.rs")]
#[cfg_attr(windows, path = "port/windows.rs")]
mod os;

pub(super) use os::{wake_pair, Device, WakeRx, Waker};

/// Byte I/O the link needs; implemented by the platform's serial device
/// (and by test doubles).
pub(super) trait Port: Send {
    /// Writes the whole buffer.
    fn write_all_bytes(&mut self, bytes: &[u8]) -> io::Result<()>;
    /// Reads what is available, waiting at most `timeout`. `Ok(None)` is a
    /// timeout; end of file is an error (`UnexpectedEof`).
    fn read_some(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<Option<usize>>;
    /// Waits until the port has input, `wake` is woken, or `timeout`.
    /// Without a device to watch (test doubles), only a wake-up or the
    /// timeout ends it, and the idle link looks for input at every tick.
    fn wait_idle(&self, wake: &WakeRx, timeout: Duration) -> io::Result<Ready> {
        wake.wait(timeout)
    }
}

/// What ended an idle wait.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Ready {
    /// The port has bytes (or hung up: the next read says which).
    pub input: bool,
    /// The port reported an error or a hang-up.
    pub hangup: bool,
    /// Someone called [`Waker::wake`].
    pub woken: bool,
}

/// Opens the device raw at `baud` 8N2, no flow control, RTS low, flushed.
pub(super) fn open_device(path: &str, baud: u32) -> Result<Device, serialport::Error> {
    let mut port = serialport::new(path, baud)
        .data_bits(DataBits::Eight)
        .parity(Parity::None)
        .stop_bits(StopBits::Two)
        .flow_control(FlowControl::None)
        .timeout(Duration::from_secs(1))
        .open_native()?;
    // Dropping RTS stops a plug-and-play identification string; a pty or
    // some adapters refuse it, which is harmless.
    let _ = port.write_request_to_send(false);
    port.clear(ClearBuffer::All)?;
    Ok(port)
}

/// Write timeout: a frame is at most ~300 bytes, 26 ms at 115200 baud.
const WRITE_TIMEOUT: Duration = Duration::from_secs(1);

/// [`Port::write_all_bytes`] for any serialport device.
fn write_all<S: SerialPort>(port: &mut S, bytes: &[u8]) -> io::Result<()> {
    SerialPort::set_timeout(port, WRITE_TIMEOUT).map_err(io::Error::from)?;
    port.write_all(bytes)
}

/// [`Port::read_some`] for any serialport device, once the platform has
/// made `timeout` something its read honours.
fn read_within<S: SerialPort>(port: &mut S, buf: &mut [u8], timeout: Duration) -> io::Result<Option<usize>> {
    SerialPort::set_timeout(port, timeout).map_err(io::Error::from)?;
    // EINTR is retried a bounded number of times.
    for _ in 0..8 {
        return match port.read(buf) {
            Ok(0) => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "end of file on the serial device",
            )),
            Ok(n) => Ok(Some(n)),
            Err(e) if e.kind() == io::ErrorKind::TimedOut => Ok(None),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => Err(e),
        };
    }
    Ok(None)
}
