//! The connection to lecteurd, the one place the platforms differ: a Unix
//! socket, or on Windows the named pipe opened as a file. Both give
//! `Stream::connect`, `try_clone`, `set_read_timeout`, `Read` and `Write`.

#[cfg(unix)]
#[path = "unix.rs"]
mod platform;
#[cfg(windows)]
#[path = "windows.rs"]
mod platform;

pub use platform::Stream;

#[cfg(test)]
pub(crate) use platform::one_connection_server;
