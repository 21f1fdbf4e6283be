//! `diag.trace`: the recent APDU exchanges of every slot and, with `follow`,
//! each new one as a `trace.apdu` notification on this connection. A follower
//! that reads too slowly loses records (counted in `trace.lost`) instead of
//! being cut off; card work never waits for it.

use super::outbox::Outbox;
use super::{rpc, Api};
use crate::service::trace::Next;
use lecteur_proto::event::{TRACE_APDU, TRACE_LOST};
use lecteur_proto::trace::{TraceLost, TraceParams};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::OwnedSemaphorePermit;

/// Bytes waiting for the client past which new records are dropped for it:
/// well under the outbox's bound, so that its answers still fit.
const FOLLOW_BACKLOG: usize = 256 * 1024;

/// `diag.trace`'s answer, as `lecteur_proto::trace::Trace` reads it: the
/// records serialise themselves (`service::trace::record`), no copy made.
#[derive(Serialize)]
struct Answer<R> {
    recent: R,
    following: bool,
}

/// Answers the request and, when following, forwards exchanges until the
/// client goes (the task is aborted then).
pub(super) async fn serve(
    api: &Api,
    id: Option<Value>,
    params: TraceParams,
    outbox: &Outbox,
    permit: OwnedSemaphorePermit,
) {
    let follow = params.follow.unwrap_or(false);
    let trace = api.service.trace();
    if !follow {
        if let Some(id) = id {
            let answer = Answer {
                recent: trace.recent(),
                following: false,
            };
            outbox.send(rpc::success(&id, answer));
        }
        return;
    }
    // Following lasts: it does not count as a request in flight.
    drop(permit);
    let (recent, mut follower) = trace.follow();
    if let Some(id) = id {
        let answer = Answer {
            recent: &recent,
            following: true,
        };
        outbox.send(rpc::success(&id, answer));
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
            outbox.send(rpc::notification(TRACE_LOST, TraceLost { lost }));
            lost = 0;
        }
        outbox.send(rpc::notification(TRACE_APDU, rec));
    }
}
