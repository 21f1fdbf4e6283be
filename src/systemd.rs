//! The two pieces of the systemd protocol lecteurd speaks: socket activation
//! (`LISTEN_FDS`, sd_listen_fds(3); `listenfd` takes the inherited descriptor,
//! which safe Rust cannot claim by itself) and readiness notification
//! (`NOTIFY_SOCKET`, sd_notify(3)).

use std::os::unix::net::{UnixDatagram, UnixListener};

/// The listening socket systemd passed to this process, if any.
pub fn activated_listener() -> Option<UnixListener> {
    let pid = std::env::var("LISTEN_PID").ok()?;
    let fds = std::env::var("LISTEN_FDS").ok()?;
    if !passed_to_us(&pid, &fds, std::process::id()) {
        return None;
    }
    // The first descriptor systemd passes (3), checked to be a Unix stream
    // socket: a socket unit with another kind of socket fails here, not later.
    // listenfd also unsets LISTEN_PID/LISTEN_FDS, as sd_listen_fds(1) does.
    let listener = listenfd::ListenFd::from_env().take_unix_listener(0).ok()??;
    listener.local_addr().ok()?;
    Some(listener)
}

/// Whether `LISTEN_PID`/`LISTEN_FDS` give this process (`me`) a socket.
fn passed_to_us(pid: &str, fds: &str, me: u32) -> bool {
    pid.parse() == Ok(me) && fds.parse::<i32>().is_ok_and(|n| n >= 1)
}

/// Tells systemd (Type=notify) the daemon's state; a no-op outside systemd.
pub fn notify(state: &str) {
    if let Some(path) = std::env::var_os("NOTIFY_SOCKET") {
        notify_to(&path, state);
    }
}

fn notify_to(path: &std::ffi::OsStr, state: &str) {
    let Ok(sock) = UnixDatagram::unbound() else {
        return;
    };
    let bytes = path.as_encoded_bytes();
    let sent = if let Some(name) = bytes.strip_prefix(b"@") {
        // An abstract socket name.
        use std::os::linux::net::SocketAddrExt;
        std::os::unix::net::SocketAddr::from_abstract_name(name)
            .and_then(|a| sock.send_to_addr(state.as_bytes(), &a))
    } else {
        sock.send_to(state.as_bytes(), path)
    };
    if let Err(e) = sent {
        tracing::warn!("systemd notification failed: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notify_sends_the_state_to_the_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let receiver = UnixDatagram::bind(&path).unwrap();
        notify_to(path.as_os_str(), "READY=1");
        let mut buf = [0u8; 64];
        let n = receiver.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1");
    }

    #[test]
    fn only_sockets_passed_to_this_process() {
        assert!(passed_to_us("42", "1", 42));
        assert!(!passed_to_us("41", "1", 42), "another process's fds");
        assert!(!passed_to_us("42", "0", 42));
        assert!(!passed_to_us("x", "1", 42) && !passed_to_us("42", "", 42));
    }
}
