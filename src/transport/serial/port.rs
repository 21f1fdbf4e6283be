//! The tty itself: opening it raw at 115200 8N2 and byte I/O with timeouts.

use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::time::Duration;

use serialport::{ClearBuffer, DataBits, FlowControl, Parity, SerialPort, StopBits, TTYPort};

/// Byte I/O the link needs; implemented by the tty (and by test doubles).
pub(super) trait Port: Send {
    /// Writes the whole buffer.
    fn write_all_bytes(&mut self, bytes: &[u8]) -> io::Result<()>;
    /// Reads what is available, waiting at most `timeout`. `Ok(None)` is a
    /// timeout; end of file is an error (`UnexpectedEof`).
    fn read_some(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<Option<usize>>;
    /// The descriptor to wait on for input, if the port has one; without
    /// it, the idle link looks for input at every idle tick.
    fn input_fd(&self) -> Option<RawFd> {
        None
    }
}

/// Opens the device raw at `baud` 8N2, no flow control, RTS low, flushed.
pub(super) fn open_tty(path: &str, baud: u32) -> Result<TTYPort, serialport::Error> {
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

impl Port for TTYPort {
    fn write_all_bytes(&mut self, bytes: &[u8]) -> io::Result<()> {
        SerialPort::set_timeout(self, WRITE_TIMEOUT).map_err(io::Error::from)?;
        self.write_all(bytes)
    }

    fn read_some(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<Option<usize>> {
        SerialPort::set_timeout(self, timeout).map_err(io::Error::from)?;
        // EINTR is retried a bounded number of times.
        for _ in 0..8 {
            return match self.read(buf) {
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

    fn input_fd(&self) -> Option<RawFd> {
        Some(self.as_raw_fd())
    }
}
