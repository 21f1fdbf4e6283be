//! A small blocking client of the socket API, for the CLI, the tests and other
//! tools. Event notifications that arrive while waiting for an answer are kept
//! for [`Client::next_event`].

use serde_json::{json, Value};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot reach lecteurd: {0}")]
    Io(#[from] std::io::Error),
    #[error("{message}")]
    Rpc { code: i64, message: String, data: Value },
    #[error("bad answer from lecteurd: {0}")]
    Protocol(String),
}

impl ClientError {
    /// The `data.kind` of an API error.
    pub fn kind(&self) -> Option<&str> {
        match self {
            ClientError::Rpc { data, .. } => data.get("kind").and_then(Value::as_str),
            _ => None,
        }
    }
}

pub struct Client {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
    next_id: u64,
    events: VecDeque<Value>,
}

impl Client {
    pub fn connect(path: &Path) -> Result<Client, ClientError> {
        let stream = UnixStream::connect(path)?;
        Ok(Client {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
            next_id: 1,
            events: VecDeque::new(),
        })
    }

    /// Bounds every wait for an answer (none by default).
    pub fn set_timeout(&self, timeout: Option<Duration>) -> std::io::Result<()> {
        self.writer.set_read_timeout(timeout)
    }

    fn read_message(&mut self) -> Result<Value, ClientError> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(ClientError::Protocol("connection closed".into()));
        }
        serde_json::from_str(&line).map_err(|e| ClientError::Protocol(e.to_string()))
    }

    /// Calls a method and waits for its answer.
    pub fn call(&mut self, method: &str, params: Value) -> Result<Value, ClientError> {
        let id = self.next_id;
        self.next_id += 1;
        let mut request = json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params });
        let mut line = request.to_string();
        forget_strings(&mut request); // they may carry a PIN
        line.push('\n');
        let written = self.writer.write_all(line.as_bytes());
        zeroize::Zeroize::zeroize(&mut line);
        written?;
        loop {
            let mut msg = self.read_message()?;
            if msg.get("method").is_some() {
                self.events.push_back(msg);
                continue;
            }
            if msg.get("id") != Some(&json!(id)) {
                return Err(ClientError::Protocol(format!("answer to another request: {msg}")));
            }
            if let Some(err) = msg.get_mut("error") {
                return Err(ClientError::Rpc {
                    code: err.get("code").and_then(Value::as_i64).unwrap_or(0),
                    message: err
                        .get("message")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                    data: err.get_mut("data").map(Value::take).unwrap_or(Value::Null),
                });
            }
            return msg
                .get_mut("result")
                .map(Value::take)
                .ok_or_else(|| ClientError::Protocol("answer without result".into()));
        }
    }

    /// The `params` of the event notifications received so far, without
    /// waiting for more.
    pub fn take_events(&mut self) -> Vec<Value> {
        self.events
            .drain(..)
            .map(|mut ev| ev.get_mut("params").map(Value::take).unwrap_or(Value::Null))
            .collect()
    }

    /// The next event notification's `params` (after `events.subscribe`).
    pub fn next_event(&mut self) -> Result<Value, ClientError> {
        if let Some(mut ev) = self.events.pop_front() {
            return Ok(ev.get_mut("params").map(Value::take).unwrap_or(Value::Null));
        }
        let mut msg = self.read_message()?;
        Ok(msg.get_mut("params").map(Value::take).unwrap_or(Value::Null))
    }
}

/// Zeroizes every string of a request once it is written.
fn forget_strings(v: &mut Value) {
    match v {
        Value::String(s) => zeroize::Zeroize::zeroize(s),
        Value::Array(a) => a.iter_mut().for_each(forget_strings),
        Value::Object(o) => o.values_mut().for_each(forget_strings),
        _ => {}
    }
}
