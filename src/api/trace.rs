//! `diag.trace`: the recent APDU exchanges of every slot and, with `follow`,
//! each new one as a `trace.apdu` notification on this connection. A follower
//! that reads too slowly loses records (counted in `trace.lost`) instead of
//! being cut off; card work never waits for it.

use super::outbox::Outbox;
use super::{rpc, Api};
use crate::service::trace::Next;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::OwnedSemaphorePermit;

/// Bytes waiting for the client past which new records are dropped for it:
/// well under the outbox's bound, so that its answers still fit.
const FOLLOW_BACKLOG: usize = 256 * 1024;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    /// Keep sending new exchanges after the answer.
    follow: Option<bool>,
}

/// Answers the request and, when following, forwards exchanges until the
/// client goes (the task is aborted then).
pub async fn serve(
    api: &Api,
    id: Option<Value>,
    params: Value,
    outbox: &Outbox,
    permit: OwnedSemaphorePermit,
) {
    let follow = match serde_json::from_value::<Params>(params) {
        Ok(p) => p.follow.unwrap_or(false),
        Err(e) => {
            if let Some(id) = id {
                outbox.send(rpc::failure(id, rpc::RpcError::invalid_params(e.to_string())).to_string());
            }
            return;
        }
    };
    let trace = api.service.trace();
    if !follow {
        if let Some(id) = id {
            let answer = json!({ "recent": trace.recent(), "following": false });
            outbox.send(rpc::success(id, answer).to_string());
        }
        return;
    }
    // Following lasts: it does not count as a request in flight.
    drop(permit);
    let (recent, mut follower) = trace.follow();
    if let Some(id) = id {
        let answer = json!({ "recent": recent, "following": true });
        outbox.send(rpc::success(id, answer).to_string());
    }
    drop(recent);
    let mut lost = 0u64;
    while let Some(next) = follower.next().await {
        let rec = match next {
            Next::Record(rec) => rec,
            Next::Lost(n) => {
                lost += n;
                continue;
            }
        };
        if outbox.waiting() > FOLLOW_BACKLOG {
            lost += 1;
            continue;
        }
        if lost > 0 {
            tracing::debug!(lost, "trace follower too slow");
            let note = json!({ "jsonrpc": "2.0", "method": "trace.lost", "params": { "lost": lost } });
            outbox.send(note.to_string());
            lost = 0;
        }
        let note = json!({ "jsonrpc": "2.0", "method": "trace.apdu", "params": rec });
        outbox.send(note.to_string());
    }
}
