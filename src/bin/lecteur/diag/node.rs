//! A file's owner, group and mode, and whether this user may open it.

use serde_json::{json, Value};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Group name of a gid (the number when it has none).
pub(super) fn group_name(gid: u32) -> String {
    match nix::unistd::Group::from_gid(nix::unistd::Gid::from_raw(gid)) {
        Ok(Some(g)) => g.name,
        _ => gid.to_string(),
    }
}

/// Whether this process may read and write `path` (its real uid and groups).
pub(super) fn can_open(path: &Path) -> bool {
    rustix::fs::access(path, rustix::fs::Access::READ_OK | rustix::fs::Access::WRITE_OK).is_ok()
}

/// `{path, owner_uid, group, mode, can_open}` or `None` when absent.
pub(super) fn describe(path: &Path) -> Option<Value> {
    let m = std::fs::metadata(path).ok()?;
    Some(json!({
        "path": path.display().to_string(),
        "owner_uid": m.uid(),
        "group": group_name(m.gid()),
        "mode": format!("{:04o}", m.mode() & 0o7777),
        "can_open": can_open(path),
    }))
}
