//! HID interfaces of health-card reader makers (readers in a keyboard/HID
//! mode, PIN pads): listed through hidapi (its native Linux backend over
//! hidraw, with a pure-Rust udev: no C library), with their usage page and
//! usage, interface number, product string and node, and whether this user
//! may open the node (lecteur's udev rules give them to the group lecteur).
//!
//! With `LECTEUR_SYSFS` (the tests' fake tree, where no HID device can be
//! made) they are read from sysfs instead (`class/hidraw/*/device/uevent`,
//! `HID_ID=bus:vid:pid`); so they are too when hidapi fails, which is a
//! finding of its own.

use super::os;
use super::report::Report;
use super::usb::{maker, sysfs_root};
use serde_json::json;
use std::path::Path;

/// One HID interface, whichever source found it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct HidInterface {
    /// `/dev/hidrawN`.
    path: String,
    vid: u16,
    pid: u16,
    usage_page: Option<u16>,
    usage: Option<u16>,
    interface: Option<i32>,
    product: Option<String>,
}

pub(super) fn check(report: &mut Report) {
    let (source, found) = if std::env::var_os("LECTEUR_SYSFS").is_some() {
        ("sysfs", from_sysfs())
    } else {
        match from_hidapi() {
            Ok(found) => ("hidapi", found),
            Err(e) => {
                report.warning(
                    "usb",
                    format!("HID interfaces cannot be listed through hidapi ({e}); read from sysfs instead"),
                    "run lecteur diag on the host itself, where /sys and /dev are visible (not in a sandbox or container)",
                );
                ("sysfs", from_sysfs())
            }
        }
    };
    report.hid_source = Some(source);
    let mut seen = std::collections::BTreeSet::new();
    for h in found {
        let Some(m) = maker(h.vid, h.pid) else {
            continue;
        };
        let hidraw = Path::new(&h.path)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // hidapi lists a node once per top-level usage: one finding a node.
        if seen.insert(h.path.clone()) {
            finding(report, &h, &hidraw, m);
        }
        report.hid.push(json!({
            "source": source,
            "hidraw": hidraw,
            "path": h.path,
            "vid": format!("{:04X}", h.vid),
            "pid": format!("{:04X}", h.pid),
            "maker": m,
            "usage_page": h.usage_page.map(|u| format!("{u:04X}")),
            "usage": h.usage.map(|u| format!("{u:04X}")),
            "usage_name": usage_name(h.usage_page, h.usage),
            "interface": h.interface,
            "product": h.product,
            "node": os::describe(Path::new(&h.path)).map(|n| n.json),
        }));
    }
}

fn finding(report: &mut Report, h: &HidInterface, hidraw: &str, m: &str) {
    let mut label = format!("{hidraw} ({:04X}:{:04X} {m}", h.vid, h.pid);
    if let Some(p) = &h.product {
        label.push_str(&format!(" \"{p}\""));
    }
    if let Some(i) = h.interface {
        label.push_str(&format!(", interface {i}"));
    }
    if let Some(u) = usage_name(h.usage_page, h.usage) {
        label.push_str(&format!(", {u}"));
    }
    label.push(')');
    let dev = Path::new(&h.path);
    match os::describe(dev) {
        Some(n) if n.can_open => report.ok("usb", format!("{label}: HID interface, usable by this user")),
        Some(n) => report.warning(
            "usb",
            format!("{label}: HID interface this user may not open ({})", n.summary),
            "install lecteur's udev rules and join the group lecteur",
        ),
        None => report.info(
            "usb",
            format!("{label}: HID interface, no {} node", dev.display()),
        ),
    }
}

/// What a top-level usage says about a reader's HID interface.
fn usage_name(page: Option<u16>, usage: Option<u16>) -> Option<&'static str> {
    Some(match (page?, usage?) {
        (0x01, 0x06) => "keyboard usage (a reader in keyboard mode)",
        (0x01, 0x02) => "mouse usage",
        (0x0C, 0x01) => "consumer-control usage",
        (0xFF00..=0xFFFF, _) => "vendor-defined usage (the maker's protocol or PIN pad)",
        _ => return None,
    })
}

/// Every HID interface hidapi sees (a fixed-size list: what the kernel has).
fn from_hidapi() -> Result<Vec<HidInterface>, hidapi::HidError> {
    let api = hidapi::HidApi::new()?;
    Ok(api
        .device_list()
        .map(|d| HidInterface {
            path: d.path().to_string_lossy().into_owned(),
            vid: d.vendor_id(),
            pid: d.product_id(),
            usage_page: Some(d.usage_page()).filter(|&u| u != 0),
            usage: Some(d.usage()).filter(|_| d.usage_page() != 0),
            interface: Some(d.interface_number()).filter(|&i| i >= 0),
            product: d
                .product_string()
                .map(|p| p.chars().filter(|c| !c.is_control()).take(128).collect()),
        })
        .collect())
}

/// The hidraw nodes sysfs lists, sorted, with their ids.
fn from_sysfs() -> Vec<HidInterface> {
    let class = sysfs_root().join("class/hidraw");
    let Ok(entries) = std::fs::read_dir(&class) else {
        return Vec::new(); // no hidraw at all (or no sysfs): nothing to say
    };
    let mut names: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
        .into_iter()
        .filter_map(|name| {
            let (vid, pid) = hid_id(&class.join(&name).join("device/uevent"))?;
            Some(HidInterface {
                path: format!("/dev/{name}"),
                vid,
                pid,
                usage_page: None,
                usage: None,
                interface: None,
                product: None,
            })
        })
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usages_named() {
        assert_eq!(
            usage_name(Some(1), Some(6)),
            Some("keyboard usage (a reader in keyboard mode)")
        );
        assert!(usage_name(Some(0xFF20), Some(1)).unwrap().starts_with("vendor"));
        assert_eq!(usage_name(Some(0x0D), Some(1)), None);
        assert_eq!(usage_name(None, Some(6)), None);
    }
}
