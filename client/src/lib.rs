//! The Rust client of lecteurd's socket API (JSON-RPC 2.0 over a Unix
//! socket, or the named pipe `\\.\pipe\lecteur` on Windows; docs/api.md),
//! over the typed contract of `lecteur-proto`: what Rust practice software,
//! the `lecteur` CLI, `lecteur-load`, the PKCS#11 module and the tests use.
//!
//! ```no_run
//! use lecteur_client::Client;
//! use lecteur_proto::cps::VerifyPinParams;
//! use lecteur_proto::method::{CpsInfo, CpsVerifyPin};
//! use lecteur_proto::system::ReaderParams;
//!
//! let mut client = Client::connect_default()?;
//! let info = client.call::<CpsInfo>(&ReaderParams::default())?;
//! let pin = VerifyPinParams { pin: Some("1234".to_string().into()), ..Default::default() };
//! match client.call::<CpsVerifyPin>(&pin) {
//!     Ok(answer) => println!("verified, {} tries left", answer.tries_left),
//!     Err(e) if e.kind() == Some(lecteur_proto::ErrorKind::PinIncorrect) => println!("wrong PIN"),
//!     Err(e) => return Err(e.into()),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! **Blocking**, on purpose: the CLI and the PKCS#11 C API are blocking, and
//! a call is one line out and one line back on a local socket. A tokio
//! program calls it from `tokio::task::spawn_blocking` (one `Client` per
//! task, or behind a mutex: a PIN verification belongs to the connection).
//!
//! One `Client` is one connection, reused for every call: keep it, since
//! lecteurd ties a PIN verification to the connection that made it.
//! Notifications (events after `events.subscribe`, trace records after
//! `diag.trace` with `follow`) that arrive while a call waits are kept for
//! [`Client::next_notification`] and [`Client::take_events`].
//!
//! PIN hygiene: params hold PINs as `Zeroizing<String>`, and the request
//! line, which holds them in clear, is zeroized once written.

#![deny(missing_docs)]

use lecteur_proto::error::RpcError;
use lecteur_proto::event::{Event, Notification};
use lecteur_proto::frame::{FrameError, Incoming, RequestFrame};
use lecteur_proto::{ErrorKind, Method};
use serde::Serialize;
use serde_json::Value;
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::time::Duration;
use zeroize::Zeroizing;

mod stream;

pub use lecteur_proto as proto;
pub use lecteur_proto::socket::resolve as socket_path;
pub use stream::Stream;

/// Why a call failed: lecteurd answered with an error ([`ClientError::Rpc`],
/// see [`ClientError::kind`]), or the connection or the answer failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The socket could not be reached, read or written (lecteurd not
    /// running, permissions, a timeout set with [`Client::set_timeout`]).
    #[error("cannot reach lecteurd: {0}")]
    Io(#[from] std::io::Error),
    /// lecteurd answered with an error.
    #[error("{0}")]
    Rpc(#[from] RpcError),
    /// lecteurd closed the connection (it stopped, or refused the client).
    #[error("lecteurd closed the connection")]
    Closed,
    /// An answer that is not what the contract says (not JSON, another
    /// request's `id`, a result of the wrong shape).
    #[error("bad answer from lecteurd: {0}")]
    Protocol(String),
    /// A notification of an unknown method, or whose params do not fit.
    #[error("bad notification from lecteurd: {0}")]
    Frame(#[from] FrameError),
}

impl ClientError {
    /// The `data.kind` of an API error (`None` for a kind this version of
    /// the contract does not know, or when lecteurd did not answer).
    pub fn kind(&self) -> Option<ErrorKind> {
        match self {
            ClientError::Rpc(e) => e.kind(),
            _ => None,
        }
    }

    /// The API error, when lecteurd answered with one.
    pub fn rpc(&self) -> Option<&RpcError> {
        match self {
            ClientError::Rpc(e) => Some(e),
            _ => None,
        }
    }
}

/// One connection to lecteurd: calls go one at a time, each waiting for its
/// answer. The PIN verifications it makes belong to it, and end when it is
/// dropped (lecteurd resets the card).
pub struct Client {
    reader: BufReader<Stream>,
    writer: Stream,
    next_id: u64,
    notifications: VecDeque<(String, Value)>,
}

impl Client {
    /// Connects to lecteurd's socket (or pipe) at `path`.
    pub fn connect(path: &Path) -> Result<Client, ClientError> {
        let stream = Stream::connect(path)?;
        Ok(Client {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
            next_id: 1,
            notifications: VecDeque::new(),
        })
    }

    /// Connects to the socket where lecteurd is by default ([`socket_path`]).
    pub fn connect_default() -> Result<Client, ClientError> {
        Client::connect(&socket_path(None))
    }

    /// Bounds every wait for an answer (none by default).
    pub fn set_timeout(&self, timeout: Option<Duration>) -> std::io::Result<()> {
        self.writer.set_read_timeout(timeout)
    }

    /// Calls `M` and waits for its answer.
    pub fn call<M: Method>(&mut self, params: &M::Params) -> Result<M::Result, ClientError> {
        let result = self.call_with(M::NAME, params)?;
        serde_json::from_value(result).map_err(|e| ClientError::Protocol(format!("{}: {e}", M::NAME)))
    }

    /// Calls a method by name with params as JSON, and returns the result as
    /// JSON: for tools and tests that look at the wire itself.
    pub fn call_json(&mut self, method: &str, params: Value) -> Result<Value, ClientError> {
        self.call_with(method, &params)
    }

    fn call_with<P: Serialize>(&mut self, method: &str, params: &P) -> Result<Value, ClientError> {
        let id = self.next_id;
        self.next_id += 1;
        // The line may carry a PIN: zeroized once written.
        let mut line = Zeroizing::new(
            serde_json::to_string(&RequestFrame::new(id, method, params))
                .map_err(|e| ClientError::Protocol(e.to_string()))?,
        );
        line.push('\n');
        self.writer.write_all(line.as_bytes())?;
        drop(line);
        loop {
            let msg = self.read_message()?;
            if let Some(method) = msg.method {
                self.notifications
                    .push_back((method, msg.params.unwrap_or(Value::Null)));
                continue;
            }
            // An error lecteurd could not tie to a request (`id` null): the
            // connection's refusal (`not_allowed`), or a line it could not read.
            if matches!(msg.id, None | Some(Value::Null)) {
                if let Some(err) = msg.error {
                    return Err(ClientError::Rpc(err));
                }
            }
            if msg.id != Some(Value::from(id)) {
                return Err(ClientError::Protocol(format!(
                    "answer to another request: {:?}",
                    msg.id
                )));
            }
            if let Some(err) = msg.error {
                return Err(ClientError::Rpc(err));
            }
            return msg
                .result
                .ok_or_else(|| ClientError::Protocol("answer without result".into()));
        }
    }

    fn read_message(&mut self) -> Result<Incoming, ClientError> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(ClientError::Closed);
        }
        serde_json::from_str(&line).map_err(|e| ClientError::Protocol(e.to_string()))
    }

    /// The next notification's method and params, as JSON.
    pub fn next_notification_json(&mut self) -> Result<(String, Value), ClientError> {
        if let Some(n) = self.notifications.pop_front() {
            return Ok(n);
        }
        loop {
            let msg = self.read_message()?;
            if let Some(method) = msg.method {
                return Ok((method, msg.params.unwrap_or(Value::Null)));
            }
            // An answer to no call under way (a notification request of ours).
        }
    }

    /// The next notification (after `events.subscribe` or `diag.trace`
    /// with `follow`), waiting for it.
    pub fn next_notification(&mut self) -> Result<Notification, ClientError> {
        let (method, params) = self.next_notification_json()?;
        Ok(Notification::parse(&method, params)?)
    }

    /// The next card or reader event, waiting for it (other notifications
    /// are skipped).
    pub fn next_event(&mut self) -> Result<Event, ClientError> {
        loop {
            if let Notification::Event(e) = self.next_notification()? {
                return Ok(e);
            }
        }
    }

    /// The card and reader events received so far, without waiting for
    /// more (other notifications are kept).
    pub fn take_events(&mut self) -> Vec<Event> {
        let mut events = Vec::new();
        self.notifications.retain(|(method, params)| {
            if method != lecteur_proto::event::EVENT {
                return true;
            }
            // An event this version cannot read is dropped, not kept forever.
            if let Ok(e) = serde_json::from_value(params.clone()) {
                events.push(e);
            }
            false
        });
        events
    }

    /// The notifications received so far as JSON, without waiting for more.
    pub fn take_notifications_json(&mut self) -> Vec<(String, Value)> {
        self.notifications.drain(..).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::one_connection_server as daemon;
    use lecteur_proto::cps::VerifyPinParams;
    use lecteur_proto::event::EventType;
    use lecteur_proto::method::CpsVerifyPin;

    #[test]
    fn typed_calls_keep_the_events_that_come_first() {
        let (path, server) = daemon(vec![
            vec![
                r#"{"jsonrpc":"2.0","method":"event","params":{"type":"card.removed","reader":"sim:0","card":null}}"#,
                r#"{"jsonrpc":"2.0","id":1,"result":{"tries_left":3}}"#,
            ],
            vec![
                r#"{"jsonrpc":"2.0","id":2,"error":{"code":-32005,"message":"wrong PIN, 2 tries left","data":{"kind":"pin_incorrect","tries_left":2}}}"#,
            ],
        ]);
        let mut c = Client::connect(&path).unwrap();
        // Answers then wait with a bound (on Windows, by peeking the pipe).
        c.set_timeout(Some(Duration::from_secs(10))).unwrap();
        let pin = VerifyPinParams {
            pin: Some("1234".to_string().into()),
            ..Default::default()
        };
        assert_eq!(c.call::<CpsVerifyPin>(&pin).unwrap().tries_left, 3);
        let e = c.call::<CpsVerifyPin>(&pin).unwrap_err();
        assert_eq!(e.kind(), Some(ErrorKind::PinIncorrect));
        assert_eq!(e.rpc().and_then(|r| r.data.tries_left), Some(2));
        let events = c.take_events();
        assert_eq!(events.len(), 1);
        assert_eq!(
            (events[0].kind, events[0].reader.as_str()),
            (EventType::CardRemoved, "sim:0")
        );
        let seen = server.join().unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(&seen[0]).unwrap(),
            serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "cps.verify_pin", "params": {"pin": "1234"}})
        );
        assert!(matches!(c.next_notification(), Err(ClientError::Closed)));
    }

    #[test]
    fn a_refused_connection_is_the_servers_error() {
        let (path, server) = daemon(vec![vec![
            r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32016,"message":"this user may not use lecteurd","data":{"kind":"not_allowed"}}}"#,
        ]]);
        let mut c = Client::connect(&path).unwrap();
        let e = c.call_json("system.info", Value::Null).unwrap_err();
        assert_eq!(e.kind(), Some(ErrorKind::NotAllowed), "{e}");
        server.join().unwrap();
    }
}
