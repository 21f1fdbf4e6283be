//! In a Windows console lecteurd stops on ctrl-c, ctrl-break, or the console
//! being closed (Windows then gives the process a few seconds). Under the
//! service manager, Stop and Shutdown come through service.rs instead.

use tokio::signal::windows::{ctrl_break, ctrl_c, ctrl_close};

/// Resolves on the first console stop event.
pub(crate) async fn requested() {
    let (Ok(mut c), Ok(mut b), Ok(mut close)) = (ctrl_c(), ctrl_break(), ctrl_close()) else {
        // No console handler could be set: only ctrl-c, as tokio can.
        let _ = tokio::signal::ctrl_c().await;
        return;
    };
    tokio::select! {
        _ = c.recv() => {}
        _ = b.recv() => {}
        _ = close.recv() => {}
    }
}
