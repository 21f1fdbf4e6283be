//! Windows: lecteurd's named pipe (`\\.\pipe\lecteur`), opened as a file.
//!
//! The handle is synchronous: its reads and writes are serialised, which
//! suits this client, as it writes a request and then reads until the
//! answer, never both at once. Reads cannot be interrupted, so a read
//! timeout waits for bytes to arrive (PeekNamedPipe) before reading.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::windows::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What a client asks of the pipe: `FILE_GENERIC_READ` (0x120089) and
/// `FILE_WRITE_DATA` (2). Not `GENERIC_WRITE`: it includes
/// `FILE_CREATE_PIPE_INSTANCE`, which lecteurd's pipe grants no client.
const RIGHTS: u32 = 0x0012_0089 | 0x0000_0002;
/// `SECURITY_IDENTIFICATION` (winbase.h): lecteurd may learn who the
/// client is, not act as it (std adds `SECURITY_SQOS_PRESENT`).
const SECURITY_IDENTIFICATION: u32 = 0x0001_0000;
/// `ERROR_PIPE_BUSY`: every instance is taken, lecteurd is creating the next.
const ERROR_PIPE_BUSY: i32 = 231;
/// How long a busy pipe is retried before giving up.
const BUSY_WAIT: Duration = Duration::from_secs(2);

/// A blocking connection to lecteurd: its named pipe.
#[derive(Debug)]
pub struct Stream {
    file: File,
    /// Shared by the clones: the read timeout.
    timeout: Arc<Mutex<Option<Duration>>>,
}

impl Stream {
    /// Opens lecteurd's pipe, retrying briefly while every instance is busy.
    pub fn connect<P: AsRef<Path>>(path: P) -> io::Result<Stream> {
        let deadline = Instant::now() + BUSY_WAIT;
        loop {
            let opened = OpenOptions::new()
                .access_mode(RIGHTS)
                .security_qos_flags(SECURITY_IDENTIFICATION)
                .open(path.as_ref());
            match opened {
                Ok(file) => {
                    return Ok(Stream {
                        file,
                        timeout: Arc::default(),
                    })
                }
                Err(e) if e.raw_os_error() == Some(ERROR_PIPE_BUSY) && Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Another handle on the same connection.
    pub fn try_clone(&self) -> io::Result<Stream> {
        Ok(Stream {
            file: self.file.try_clone()?,
            timeout: self.timeout.clone(),
        })
    }

    /// Bounds each read's wait (none by default); past it a read fails
    /// with `TimedOut`.
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        if timeout == Some(Duration::ZERO) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "a zero timeout"));
        }
        *self.timeout.lock().unwrap_or_else(|p| p.into_inner()) = timeout;
        Ok(())
    }

    /// Waits until bytes are there to read, or the pipe broke (the read
    /// then says how), or `timeout` passed.
    fn wait_readable(&self, timeout: Duration) -> io::Result<()> {
        let deadline = Instant::now() + timeout;
        let mut spins = 0u32;
        loop {
            match lecteur_win::pipe_bytes_available(&self.file) {
                Ok(0) => {}
                Ok(_) | Err(_) => return Ok(()),
            }
            if Instant::now() >= deadline {
                return Err(io::Error::new(io::ErrorKind::TimedOut, "no answer in time"));
            }
            // A local answer often comes within microseconds: yield first.
            spins += 1;
            if spins < 100 {
                std::thread::yield_now();
            } else {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let timeout = *self.timeout.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(timeout) = timeout {
            self.wait_readable(timeout)?;
        }
        match self.file.read(buf) {
            // ERROR_BROKEN_PIPE (109): lecteurd closed its end.
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(0),
            r => r,
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// A daemon of one connection at a fresh pipe name, answering each
/// request line with the given lines; hands back what it read.
#[cfg(test)]
pub(crate) fn one_connection_server(
    answers: Vec<Vec<&'static str>>,
) -> (std::path::PathBuf, std::thread::JoinHandle<Vec<String>>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let name = format!(
        r"\\.\pipe\lecteur-client-test-{}-{}",
        std::process::id(),
        answers.len()
    );
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let pipe = name.clone();
    let server = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let server = tokio::net::windows::named_pipe::ServerOptions::new()
                .first_pipe_instance(true)
                .create(&pipe)
                .unwrap();
            ready_tx.send(()).unwrap();
            server.connect().await.unwrap();
            let (read, mut writer) = tokio::io::split(server);
            let mut reader = BufReader::new(read);
            let mut seen = Vec::new();
            for lines in answers {
                let mut line = String::new();
                reader.read_line(&mut line).await.unwrap();
                seen.push(line);
                for l in lines {
                    writer.write_all(format!("{l}\n").as_bytes()).await.unwrap();
                }
            }
            seen
        })
    });
    ready_rx.recv().unwrap();
    (name.into(), server)
}
