//! One load client: its own connection, requests one at a time, each timed.
//! Answers are checked for their id and for `result` or `error` only: parsing
//! whole results would measure this tool rather than lecteurd.

use crate::error::CallError;
use crate::mix::{self, Method, Mix};
use crate::stats::Tally;
use lecteur_client::Stream;
use lecteur_proto::error::ErrorData;
use lecteur_proto::method::CpsVerifyPin;
use lecteur_proto::Method as _;
use serde::de::IgnoredAny;
use serde::Deserialize;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::time::{Duration, Instant};

#[derive(Deserialize)]
struct Answer {
    id: Option<u64>,
    result: Option<IgnoredAny>,
    error: Option<ErrorObject>,
}

#[derive(Deserialize)]
struct ErrorObject {
    data: Option<ErrorData>,
}

pub(crate) struct Conn {
    reader: BufReader<Stream>,
    writer: Stream,
    next_id: u64,
    line: String,
}

impl Conn {
    pub(crate) fn open(socket: &Path) -> std::io::Result<Conn> {
        let stream = Stream::connect(socket)?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        Ok(Conn {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
            next_id: 1,
            line: String::new(),
        })
    }

    /// Sends one request (`params`: a JSON object, serialised once from the
    /// contract's types) and waits for its answer.
    pub(crate) fn call(&mut self, method: &str, params: &str) -> Result<(), CallError> {
        let id = self.next_id;
        self.next_id += 1;
        // The frame around params already serialised (`RequestFrame` would
        // serialise them again for every request).
        let request = format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"{method}","params":{params}}}"#);
        self.writer
            .write_all(format!("{request}\n").as_bytes())
            .map_err(|_| CallError::Io)?;
        loop {
            self.line.clear();
            match self.reader.read_line(&mut self.line) {
                Ok(0) | Err(_) => return Err(CallError::Io),
                Ok(_) => {}
            }
            let answer: Answer = serde_json::from_str(&self.line).map_err(|_| CallError::Protocol)?;
            match answer {
                // An event notification: not ours.
                Answer { id: None, .. } => continue,
                Answer { id: Some(i), .. } if i != id => return Err(CallError::Protocol),
                Answer { error: Some(e), .. } => return Err(CallError::Api(e.data.and_then(|d| d.kind))),
                Answer { result: Some(_), .. } => return Ok(()),
                _ => return Err(CallError::Protocol),
            }
        }
    }
}

/// What a client does: requests or a deadline, whichever comes first.
pub(crate) struct Plan<'a> {
    pub socket: &'a Path,
    pub mix: &'a Mix,
    pub pin: &'a str,
    /// Where in the mix's cycle this client starts (clients do not march in step).
    pub offset: usize,
    pub warmup: usize,
    pub requests: Option<u64>,
    pub duration: Option<Duration>,
}

/// Runs one client. The warm-up (untimed) fills lecteurd's caches and, when
/// the mix signs, checks the PIN once.
pub(crate) fn run(plan: Plan<'_>, ready: &std::sync::Barrier) -> Tally {
    let mut tally = Tally::default();
    let params: Vec<String> = Method::ALL.iter().map(|m| m.params(plan.pin)).collect();
    let mut conn = match Conn::open(plan.socket) {
        Ok(c) => c,
        Err(_) => {
            tally.error("connect");
            ready.wait();
            return tally;
        }
    };
    if plan.mix.has(Method::Sign) {
        let verify = mix::verify_params(plan.pin);
        if let Err(kind) = conn.call(CpsVerifyPin::NAME, &verify) {
            tally.error(&format!("warm-up {}: {kind}", CpsVerifyPin::NAME));
        }
    }
    let cycle = &plan.mix.0;
    for i in 0..plan.warmup {
        let m = cycle[(plan.offset + i) % cycle.len()];
        if let Err(kind) = conn.call(m.name(), &params[m as usize]) {
            tally.error(&format!("warm-up {}: {kind}", m.name()));
        }
    }
    ready.wait();
    let deadline = plan.duration.map(|d| Instant::now() + d);
    let mut sent = 0u64;
    loop {
        if plan.requests.is_some_and(|n| sent >= n) || deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        let m = cycle[(plan.offset + sent as usize) % cycle.len()];
        let t = Instant::now();
        let outcome = conn.call(m.name(), &params[m as usize]);
        tally.record(m.name(), t.elapsed());
        sent += 1;
        if let Err(e) = outcome {
            tally.error(&e.to_string());
            if e.is_fatal() {
                break;
            }
        }
    }
    tally
}
