//! A file's owner, group and mode, and whether this user may open it.

use serde_json::{json, Value};
use std::ffi::CString;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Group name of a gid (the number when it has none).
pub fn group_name(gid: u32) -> String {
    // SAFETY: getgrgid returns null or a pointer to static storage, read at once.
    unsafe {
        let g = libc::getgrgid(gid);
        if g.is_null() || (*g).gr_name.is_null() {
            return gid.to_string();
        }
        std::ffi::CStr::from_ptr((*g).gr_name)
            .to_string_lossy()
            .into_owned()
    }
}

/// Whether this process may read and write `path` (its real uid and groups).
pub fn can_open(path: &Path) -> bool {
    let Ok(c) = CString::new(path.as_os_str().as_encoded_bytes()) else {
        return false;
    };
    // SAFETY: a valid NUL-terminated path.
    unsafe { libc::access(c.as_ptr(), libc::R_OK | libc::W_OK) == 0 }
}

/// `{path, owner_uid, group, mode, can_open}` or `None` when absent.
pub fn describe(path: &Path) -> Option<Value> {
    let m = std::fs::metadata(path).ok()?;
    Some(json!({
        "path": path.display().to_string(),
        "owner_uid": m.uid(),
        "group": group_name(m.gid()),
        "mode": format!("{:04o}", m.mode() & 0o7777),
        "can_open": can_open(path),
    }))
}
