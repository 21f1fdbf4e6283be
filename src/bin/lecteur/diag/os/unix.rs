//! The Unix side of the diagnosis: device nodes (owner, group, mode and
//! whether this user may open them), the readers udev names, the socket
//! file, and a private work directory.

use serde_json::{json, Value};
use std::io;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt};
use std::path::Path;

/// A device node as the diagnosis shows it.
pub(super) struct Node {
    /// `{path, owner_uid, group, mode, can_open}`.
    pub json: Value,
    /// Whether this user may open it.
    pub can_open: bool,
    /// One line for the finding: `group dialout, mode 0660`.
    pub summary: String,
}

/// What to do when this user may not open a serial node.
pub(super) const OPEN_REMEDY: &str =
    "install lecteur's udev rules and join the group lecteur (lecteurd itself runs as lecteur)";

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

/// The node at `path`, or `None` when absent.
pub(super) fn describe(path: &Path) -> Option<Node> {
    let m = std::fs::metadata(path).ok()?;
    let group = group_name(m.gid());
    let mode = format!("{:04o}", m.mode() & 0o7777);
    let can_open = can_open(path);
    Some(Node {
        summary: format!("group {group}, mode {mode}"),
        json: json!({
            "path": path.display().to_string(),
            "owner_uid": m.uid(),
            "group": group,
            "mode": mode,
            "can_open": can_open,
        }),
        can_open,
    })
}

/// Serial readers found without configuration: lecteur's udev rules name
/// them `/dev/lecteur-serial-*`; they are probed.
pub(super) fn serial_candidates() -> Vec<String> {
    let Ok(dev) = std::fs::read_dir("/dev") else {
        return Vec::new();
    };
    let mut links: Vec<String> = dev
        .flatten()
        .map(|e| e.path().display().to_string())
        .filter(|p| p.starts_with("/dev/lecteur-serial-"))
        .collect();
    links.sort();
    links
}

/// Whether lecteurd's endpoint at `path` is there and is a socket.
pub(super) fn endpoint(path: &Path) -> io::Result<bool> {
    Ok(std::fs::symlink_metadata(path)?.file_type().is_socket())
}

/// A directory only this user may read (the bundle's work directory).
pub(super) fn create_private_dir(path: &Path) -> io::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
}

/// The udev-named links are probed as candidates; nothing more to list.
pub(super) fn list_ports(_report: &mut super::report::Report) {}
