//! Who may use lecteurd and the readers: the socket's group and mode, the
//! group `lecteur` and this user, the udev rules, and ModemManager (it probes
//! serial ports and confuses CCID-serial readers).

use super::os;
use super::probe::process_running;
use super::report::Report;
use serde_json::json;
use std::path::Path;

const RULES: &[&str] = &[
    "/usr/lib/udev/rules.d/60-lecteur.rules",
    "/lib/udev/rules.d/60-lecteur.rules",
    "/etc/udev/rules.d/60-lecteur.rules",
];
const JOIN: &str = "sudo usermod -aG lecteur $USER, then log out and in again";

pub(super) fn check(socket: &Path, report: &mut Report) {
    let sock = os::describe(socket).map(|n| n.json);
    if let Some(s) = &sock {
        let field = |k: &str| s[k].as_str().unwrap_or("?").to_string();
        let msg = format!(
            "socket {}: group {}, mode {}",
            field("path"),
            field("group"),
            field("mode")
        );
        if s["can_open"] == true {
            report.ok("permissions", msg);
        } else {
            report.error("permissions", format!("{msg}: this user may not use it"), JOIN);
        }
    }
    let group = lecteur_group();
    let member = group
        .as_ref()
        .map(|(gid, listed)| (in_process_groups(*gid), *listed));
    match member {
        None => report.warning(
            "permissions",
            "the group lecteur does not exist",
            "sudo groupadd --system lecteur (see README, installing as a system service)",
        ),
        Some((true, _)) => report.ok("permissions", "this user is in the group lecteur"),
        Some((false, true)) => report.warning(
            "permissions",
            "this user was added to the group lecteur but this session does not have it yet",
            "log out and in again (or run: newgrp lecteur)",
        ),
        Some((false, false)) => {
            // root, or a socket open to all, needs no group: only say so.
            report.info(
                "permissions",
                format!("this user is not in the group lecteur (to join: {JOIN})"),
            )
        }
    }
    let rules = RULES.iter().find(|p| Path::new(p).exists());
    let keeps_mm = rules
        .and_then(|p| std::fs::read_to_string(p).ok())
        .is_some_and(|t| t.contains("ID_MM_DEVICE_IGNORE"));
    match rules {
        Some(p) => report.ok("permissions", format!("udev rules installed: {p}")),
        None => report.warning(
            "permissions",
            "lecteur's udev rules are not installed: serial and HID reader nodes stay root-only",
            "sudo install -m 0644 udev/60-lecteur.rules /etc/udev/rules.d/ && sudo udevadm control --reload && sudo udevadm trigger",
        ),
    }
    let mm = process_running("ModemManager");
    match (mm, keeps_mm) {
        (false, _) => report.ok("permissions", "ModemManager is not running"),
        (true, true) => report.ok(
            "permissions",
            "ModemManager runs; the udev rules keep it away from the readers",
        ),
        (true, false) => report.warning(
            "permissions",
            "ModemManager runs and nothing keeps it away from serial readers (it probes them)",
            "install lecteur's udev rules, or: sudo systemctl disable --now ModemManager",
        ),
    }
    report.permissions = json!({
        "socket": sock,
        "group_lecteur": group.map(|(gid, listed)| json!({ "gid": gid, "user_listed": listed })),
        "in_group_now": member.map(|m| m.0),
        "udev_rules": rules,
        "modemmanager_running": mm,
        "modemmanager_kept_away": keeps_mm,
    });
}

/// The group `lecteur`: its gid and whether this user is listed as a member.
fn lecteur_group() -> Option<(u32, bool)> {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_default();
    let g = nix::unistd::Group::from_name("lecteur").ok()??;
    Some((g.gid.as_raw(), g.mem.contains(&user)))
}

/// Whether this process has `gid` (primary or supplementary).
fn in_process_groups(gid: u32) -> bool {
    let gid = nix::unistd::Gid::from_raw(gid);
    nix::unistd::getegid() == gid || nix::unistd::getgroups().is_ok_and(|groups| groups.contains(&gid))
}
