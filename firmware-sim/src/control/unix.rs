//! The `--control` server on a Unix socket: a listening thread and one
//! thread per client, each line answered by [`CardBay::execute`]; and
//! [`request`], the client side used by `lecteur-sim control`.

use super::{CardBay, ControlError, MAX_CLIENTS, MAX_LINE};
use rustix::event::{PollFd, PollFlags, Timespec};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// How often blocked waits look at the stop flag.
const TICK: Duration = Duration::from_millis(200);

/// The control socket server: a listening thread and one thread per client.
/// Dropping it stops the threads and removes the socket file.
pub struct ControlServer {
    path: PathBuf,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ControlServer {
    /// Listens on `path` (a stale socket file there is replaced).
    pub fn start(path: &Path, bay: CardBay) -> Result<Self, ControlError> {
        let socket_err = |source| ControlError::Socket {
            path: path.to_path_buf(),
            source,
        };
        match std::fs::symlink_metadata(path) {
            Ok(meta) if meta.file_type().is_socket() => {
                if UnixStream::connect(path).is_ok() {
                    return Err(ControlError::InUse {
                        path: path.to_path_buf(),
                    });
                }
                std::fs::remove_file(path).map_err(socket_err)?;
            }
            Ok(_) => {
                return Err(ControlError::NotASocket {
                    path: path.to_path_buf(),
                })
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(socket_err(e)),
        }
        let listener = UnixListener::bind(path).map_err(socket_err)?;
        // Only the owner may insert cards.
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(socket_err)?;
        listener.set_nonblocking(true).map_err(socket_err)?;
        let stop = Arc::new(AtomicBool::new(false));
        let thread_stop = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("control".to_string())
            .spawn(move || accept_loop(listener, bay, thread_stop))
            .map_err(socket_err)?;
        eprintln!("lecteur-sim: control: listening on {}", path.display());
        Ok(ControlServer {
            path: path.to_path_buf(),
            stop,
            thread: Some(thread),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ControlServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Waits up to `timeout` for `fd` to become readable; `false` on timeout.
fn wait_readable(fd: impl AsFd, timeout: Duration) -> bool {
    let mut pfd = [PollFd::new(&fd, PollFlags::IN)];
    let timeout = Timespec::try_from(timeout).ok();
    rustix::event::poll(&mut pfd, timeout.as_ref()).is_ok_and(|n| n > 0)
}

fn accept_loop(listener: UnixListener, bay: CardBay, stop: Arc<AtomicBool>) {
    let clients = Arc::new(AtomicUsize::new(0));
    let mut workers: Vec<JoinHandle<()>> = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        workers.retain(|w| !w.is_finished());
        if !wait_readable(&listener, TICK) {
            continue;
        }
        let mut stream = match listener.accept() {
            Ok((s, _)) => s,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => {
                eprintln!("lecteur-sim: control: accept failed: {e}");
                std::thread::sleep(TICK);
                continue;
            }
        };
        if clients.load(Ordering::SeqCst) >= MAX_CLIENTS {
            let _ = stream.set_nonblocking(false);
            let _ = stream.set_write_timeout(Some(TICK));
            let _ = stream.write_all(b"error: too many control connections\n");
            continue;
        }
        clients.fetch_add(1, Ordering::SeqCst);
        let bay = bay.clone();
        let stop = Arc::clone(&stop);
        let counter = Arc::clone(&clients);
        let spawned = std::thread::Builder::new()
            .name("control-client".to_string())
            .spawn(move || {
                if let Err(e) = serve_client(stream, &bay, &stop) {
                    eprintln!("lecteur-sim: control: client error: {e}");
                }
                counter.fetch_sub(1, Ordering::SeqCst);
            });
        match spawned {
            Ok(handle) => workers.push(handle),
            Err(e) => {
                clients.fetch_sub(1, Ordering::SeqCst);
                eprintln!("lecteur-sim: control: cannot start a client thread: {e}");
            }
        }
    }
    for w in workers {
        let _ = w.join();
    }
}

fn serve_client(mut stream: UnixStream, bay: &CardBay, stop: &AtomicBool) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(TICK))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    let mut pending: Vec<u8> = Vec::with_capacity(MAX_LINE);
    let mut chunk = [0u8; 512];
    loop {
        if stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        let n = match stream.read(&mut chunk) {
            Ok(0) => {
                // A last command without a newline still counts.
                if !pending.is_empty() {
                    answer(&mut stream, bay, &pending)?;
                }
                return Ok(());
            }
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
                ) =>
            {
                continue
            }
            Err(e) => return Err(e),
        };
        pending.extend_from_slice(&chunk[..n]);
        while let Some(pos) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=pos).collect();
            if line.len() > MAX_LINE {
                stream.write_all(format!("error: line too long (max {MAX_LINE} bytes)\n").as_bytes())?;
                return Ok(());
            }
            answer(&mut stream, bay, &line[..line.len() - 1])?;
        }
        if pending.len() > MAX_LINE {
            stream.write_all(format!("error: line too long (max {MAX_LINE} bytes)\n").as_bytes())?;
            return Ok(());
        }
    }
}

fn answer(stream: &mut UnixStream, bay: &CardBay, line: &[u8]) -> io::Result<()> {
    let reply = match std::str::from_utf8(line) {
        Ok(text) => bay.execute(text.trim_end_matches('\r')),
        Err(_) => vec!["error: the command is not UTF-8 text".to_string()],
    };
    let mut out = String::new();
    for l in reply {
        out.push_str(&l);
        out.push('\n');
    }
    stream.write_all(out.as_bytes())
}

/// Sends one command line to the control socket at `socket` and returns the
/// answer lines, the last being `ok` or `error: ...`.
pub fn request(socket: &Path, line: &str) -> Result<Vec<String>, ControlError> {
    let err = |source| ControlError::Socket {
        path: socket.to_path_buf(),
        source,
    };
    let mut stream = UnixStream::connect(socket).map_err(err)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(err)?;
    stream.write_all(format!("{line}\n").as_bytes()).map_err(err)?;
    let mut reader = BufReader::new(stream);
    let mut lines = Vec::new();
    // status prints one line per slot (at most a few), then ok/error.
    for _ in 0..1000 {
        let mut answer = String::new();
        // One line is bounded by what the server writes (under MAX_LINE
        // for commands, a few hundred bytes for status lines).
        let n = reader.read_line(&mut answer).map_err(err)?;
        if n == 0 {
            return Err(err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the simulator closed the connection without answering",
            )));
        }
        let answer = answer.trim_end().to_string();
        let last = answer == "ok" || answer.starts_with("error: ");
        lines.push(answer);
        if last {
            return Ok(lines);
        }
    }
    Err(err(io::Error::new(
        io::ErrorKind::InvalidData,
        "the answer never ended",
    )))
}
