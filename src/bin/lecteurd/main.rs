//! lecteurd: the daemon. Drives readers (PC/SC, CCID serial, the built-in
//! simulator) and serves the JSON-RPC API on a Unix socket (a named pipe on
//! Windows). On Windows it is also its own service: `lecteurd service
//! install|uninstall|run` (service.rs).

mod run;
// What stops the daemon in a console: SIGTERM and ctrl-c on Unix; ctrl-c,
// ctrl-break and closing the console on Windows.
#[cfg_attr(unix, path = "stop/unix.rs")]
#[cfg_attr(windows, path = "stop/windows.rs")]
mod stop;
// The Windows service manager and the Windows event log.
#[cfg(windows)]
mod eventlog;
#[cfg(windows)]
mod service;

use std::process::ExitCode;

fn main() -> ExitCode {
    #[cfg(windows)]
    if let Some(code) = service::command() {
        return code;
    }
    run::console()
}
