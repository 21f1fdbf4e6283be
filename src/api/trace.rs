//! `diag.trace`: the recent APDU exchanges of every slot and, with `follow`,
//! each new one as a `trace.apdu` notification on this connection. A follower
//! that reads too slowly loses records (counted in `trace.lost`); card work
//! never waits for it.

use super::connection::Outgoing;
use super::{rpc, Api};
use crate::service::trace::Next;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::mpsc;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    /// Keep sending new exchanges after the answer.
    #[serde(default)]
    follow: Option<bool>,
}

/// Answers the request and, when following, forwards exchanges until the
/// client goes (the task is aborted then).
pub async fn serve(api: &Api, id: Option<Value>, params: Value, out: &mpsc::Sender<Outgoing>) {
    let follow = match serde_json::from_value::<Params>(params) {
        Ok(p) => p.follow.unwrap_or(false),
        Err(e) => {
            if let Some(id) = id {
                let err = rpc::RpcError::invalid_params(e.to_string());
                let _ = out.send(rpc::failure(id, err).into()).await;
            }
            return;
        }
    };
    let trace = api.service.trace();
    if !follow {
        if let Some(id) = id {
            let answer = json!({ "recent": trace.recent(), "following": false });
            let _ = out.send(rpc::success(id, answer).into()).await;
        }
        return;
    }
    let (recent, mut follower) = trace.follow();
    if let Some(id) = id {
        let answer = json!({ "recent": recent, "following": true });
        if out.send(rpc::success(id, answer).into()).await.is_err() {
            return;
        }
    }
    drop(recent);
    while let Some(next) = follower.next().await {
        let note = match next {
            Next::Record(rec) => json!({ "jsonrpc": "2.0", "method": "trace.apdu", "params": rec }),
            Next::Lost(n) => {
                tracing::debug!(lost = n, "trace follower too slow");
                json!({ "jsonrpc": "2.0", "method": "trace.lost", "params": { "lost": n } })
            }
        };
        // Waiting here only holds this follower back: the trace drops for it.
        if out.send(note.into()).await.is_err() {
            break;
        }
    }
}
