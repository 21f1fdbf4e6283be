//! One client connection: lines in, lines out. Requests run concurrently (a
//! slow card never blocks `readers.list`); answers and event notifications
//! go out through the connection's [`Outbox`], which never makes them wait.

use super::access::{Access, RateLimit};
use super::outbox::Outbox;
use super::{listen, methods, rpc, Api};
use futures_util::StreamExt;
use lecteur_proto::event::{Subscribed, EVENT};
use lecteur_proto::Request;
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio_util::bytes::BytesMut;
use tokio_util::codec::{Decoder, FramedRead, LinesCodec, LinesCodecError};

/// Longest request line (a VIHF or a document digest fits many times over).
pub(crate) const MAX_LINE: usize = 1024 * 1024;
/// Requests of one connection running at once; reading pauses beyond.
const MAX_IN_FLIGHT: u32 = 16;
/// How long answers still waiting are offered to a client that closed its side.
const LAST_FLUSH: Duration = Duration::from_secs(5);

pub(crate) async fn run(mut stream: listen::Stream, api: Arc<Api>) {
    let conn = api.service.connect();
    // Who is calling, for the log and the allow-list (`listen`: SO_PEERCRED
    // on Unix; on Windows the client's pid and SID, once it has sent).
    let peer = stream.identify().await;
    let (read, write) = stream.split();
    let peer = match admit(conn, peer, &api.access) {
        Ok(peer) => peer,
        Err(refusal) => {
            let err = rpc::RpcError::new(rpc::ErrorKind::NotAllowed, refusal.to_string());
            let mut line = rpc::failure(&Value::Null, &err);
            line.push('\n');
            write_all(&write, line.as_bytes()).await;
            api.service.disconnect(conn);
            return;
        }
    };
    let outbox = Arc::new(Outbox::new(write));
    let flusher = {
        let outbox = outbox.clone();
        tokio::spawn(async move { outbox.flusher().await })
    };

    let mut lines = FramedRead::new(read, Lines(LinesCodec::new_with_max_length(MAX_LINE)));
    let in_flight = Arc::new(Semaphore::new(MAX_IN_FLIGHT as usize));
    let mut rate = RateLimit::new(api.access.max_rate);
    let mut tasks = JoinSet::new();
    while let Some(item) = lines.next().await {
        let refusal = match item {
            Ok(Line::Text(line)) => Ok(line),
            Ok(Line::TooLong) => Err(format!("request line longer than {MAX_LINE} bytes")),
            Ok(Line::NotUtf8) => Err("request line is not UTF-8".to_string()),
            // The socket failed: nobody to answer.
            Err(_) => break,
        };
        let line = match refusal {
            Ok(line) => zeroize::Zeroizing::new(line), // it may carry a PIN
            Err(message) => {
                let err = rpc::RpcError::new(rpc::ErrorKind::InvalidRequest, message);
                outbox.send(rpc::failure(&Value::Null, &err));
                continue;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        if !rate.take(Instant::now()) {
            refuse_over_rate(&line, api.access.max_rate, &outbox);
            // Backpressure: this connection is not read again before its next
            // token, so a flood costs one refusal per token, not one per line,
            // and the other clients do not pay for it.
            tokio::time::sleep(rate.until_next()).await;
            continue;
        }
        let Ok(permit) = in_flight.clone().acquire_owned().await else {
            break;
        };
        let (api, outbox) = (api.clone(), outbox.clone());
        tasks.spawn(async move { handle(&api, conn, &line, outbox, permit).await });
        // Reap finished requests so the set does not grow with the connection.
        while tasks.try_join_next().is_some() {}
    }
    // The client closed its side (or is gone): what it asked is answered
    // (a card operation runs whole anyway), then its subscriptions stop and
    // its PIN state is dropped.
    let _ = in_flight.acquire_many(MAX_IN_FLIGHT).await;
    tasks.abort_all();
    api.service.disconnect(conn);
    outbox.finish();
    let mut flusher = flusher;
    if tokio::time::timeout(LAST_FLUSH, &mut flusher).await.is_err() {
        // The socket closes with the last reference to the outbox.
        flusher.abort();
    }
    tracing::info!(conn, %peer, "client disconnected");
}

/// The peer if it may be served, else the message it is refused with. A
/// client that cannot be identified is refused: it is never served as
/// lecteurd's own user.
fn admit(conn: u64, peer: std::io::Result<listen::Peer>, access: &Access) -> Result<listen::Peer, Refusal> {
    let peer = peer.map_err(|e| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            // Gone before its first request (a probe, as another lecteurd's).
            tracing::info!(conn, "client left before sending anything");
        } else {
            tracing::warn!(conn, "client refused: cannot tell who it is: {e}");
        }
        Refusal::Unidentified
    })?;
    tracing::info!(conn, %peer, "client connected");
    if !peer.allowed_by(access) {
        tracing::warn!(conn, %peer, "client refused: {} not in the allow-list", listen::WHO);
        return Err(Refusal::NotAllowed);
    }
    Ok(peer)
}

/// Why a client is not served, as it is told (`not_allowed`).
#[derive(Debug, thiserror::Error)]
enum Refusal {
    #[error("lecteurd cannot tell who this client is")]
    Unidentified,
    #[error("this user may not use lecteurd (see {})", listen::ALLOW_HINT)]
    NotAllowed,
}

/// Writes all of `bytes`, waiting for the client (a refusal, before any outbox).
async fn write_all(write: &listen::WriteHalf, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        match write.try_write(bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if write.writable().await.is_err() {
                    return;
                }
            }
            Err(_) => return,
        }
    }
}

/// Answers a request over the connection's rate without running it.
fn refuse_over_rate(line: &str, max_rate: u32, outbox: &Outbox) {
    let id = match rpc::parse(line) {
        Ok(envelope) => envelope.id,
        Err((id, _)) => Some(id),
    };
    if let Some(id) = id {
        let err = rpc::RpcError::new(
            rpc::ErrorKind::RateLimited,
            format!("more than {max_rate} requests per second on this connection"),
        );
        outbox.send(rpc::failure(&id, &err));
    }
}

/// Runs one request; its place in flight is released once it is answered.
async fn handle(api: &Api, conn: u64, line: &str, outbox: Arc<Outbox>, permit: OwnedSemaphorePermit) {
    let envelope = match rpc::parse(line) {
        Ok(e) => e,
        Err((id, err)) => return outbox.send(rpc::failure(&id, &err)),
    };
    let id = envelope.id;
    let request = match Request::parse(&envelope.method, envelope.params) {
        Ok(r) => r,
        Err(e) => {
            if let Some(id) = &id {
                outbox.send(rpc::failure(id, &e));
            }
            return;
        }
    };
    match request {
        Request::EventsSubscribe(_) => {
            // A subscription lasts: it does not count as a request in flight.
            drop(permit);
            if let Some(id) = &id {
                outbox.send(rpc::success(id, Subscribed { subscribed: true }));
            }
            forward_events(api, &outbox).await
        }
        Request::DiagTrace(p) => super::trace::serve(api, id, p, &outbox, permit).await,
        request => {
            let result = methods::call(api, conn, request).await;
            if let Some(id) = &id {
                outbox.send(match result {
                    Ok(methods::Reply::Value(v)) => rpc::success(id, v),
                    Ok(methods::Reply::Json(json)) => rpc::success_line(id, &json),
                    Err(e) => rpc::failure(id, &e),
                });
            }
            drop(permit);
        }
    }
}

/// Forwards events to the client; the task is aborted when the client goes.
async fn forward_events(api: &Api, outbox: &Outbox) {
    let mut events = api.service.subscribe();
    loop {
        let ev = match events.recv().await {
            Ok(ev) => ev,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
            Err(_) => break,
        };
        outbox.send(rpc::notification(EVENT, ev));
    }
}

/// A line of the protocol, or why a line was dropped.
enum Line {
    Text(String),
    TooLong,
    NotUtf8,
}

/// `LinesCodec`, except that a too long or non-UTF-8 line is an item, not a
/// stream error: `FramedRead` ends the stream after any error, and one bad
/// request must not cost the client its connection. `LinesCodec` itself
/// discards the rest of a too long line.
struct Lines(LinesCodec);

impl Decoder for Lines {
    type Item = Line;
    type Error = LinesCodecError;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Line>, LinesCodecError> {
        classify(self.0.decode(buf))
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Line>, LinesCodecError> {
        classify(self.0.decode_eof(buf))
    }
}

fn classify(r: Result<Option<String>, LinesCodecError>) -> Result<Option<Line>, LinesCodecError> {
    match r {
        Ok(line) => Ok(line.map(Line::Text)),
        Err(LinesCodecError::MaxLineLengthExceeded) => Ok(Some(Line::TooLong)),
        // Decoding only fails with an I/O error on invalid UTF-8; the line is consumed.
        Err(LinesCodecError::Io(e)) if e.kind() == std::io::ErrorKind::InvalidData => Ok(Some(Line::NotUtf8)),
        Err(e) => Err(e),
    }
}
