//! HID interfaces of health-card reader makers (readers in a keyboard/HID
//! mode, PIN pads) as the kernel's hidraw nodes: which exist and whether this
//! user may open them (lecteur's udev rules give them to the group lecteur).
//! Read from sysfs (`class/hidraw/*/device/uevent`, `HID_ID=bus:vid:pid`)
//! rather than through hidapi: the same facts without linking libudev.

use super::node;
use super::report::Report;
use super::usb::{maker, sysfs_root};
use serde_json::json;
use std::path::Path;

pub fn check(report: &mut Report) {
    let class = sysfs_root().join("class/hidraw");
    let Ok(entries) = std::fs::read_dir(&class) else {
        return; // no hidraw at all (or no sysfs): nothing to say
    };
    let mut names: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in names {
        let Some((vid, pid)) = hid_id(&class.join(&name).join("device/uevent")) else {
            continue;
        };
        let Some(m) = maker(vid, pid) else {
            continue;
        };
        let dev = Path::new("/dev").join(&name);
        let node = node::describe(&dev);
        let label = format!("{name} ({vid:04X}:{pid:04X} {m})");
        match &node {
            Some(n) if n["can_open"] == true => {
                report.ok("usb", format!("{label}: HID interface, usable by this user"))
            }
            Some(n) => report.warning(
                "usb",
                format!(
                    "{label}: HID interface this user may not open (group {}, mode {})",
                    n["group"].as_str().unwrap_or("?"),
                    n["mode"].as_str().unwrap_or("?")
                ),
                "install lecteur's udev rules and join the group lecteur",
            ),
            None => report.info(
                "usb",
                format!("{label}: HID interface, no {} node", dev.display()),
            ),
        }
        report.hid.push(json!({ "hidraw": name, "vid": format!("{vid:04X}"), "pid": format!("{pid:04X}"), "maker": m, "node": node }));
    }
}

/// `HID_ID=0003:00002947:00000105` → (0x2947, 0x0105); bounded read.
fn hid_id(uevent: &Path) -> Option<(u16, u16)> {
    let bytes = std::fs::read(uevent).ok()?;
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]).into_owned();
    let id = text.lines().find_map(|l| l.strip_prefix("HID_ID="))?;
    let mut parts = id.trim().split(':');
    let _bus = parts.next()?;
    let vid = u32::from_str_radix(parts.next()?, 16).ok()?;
    let pid = u32::from_str_radix(parts.next()?, 16).ok()?;
    Some((u16::try_from(vid).ok()?, u16::try_from(pid).ok()?))
}
