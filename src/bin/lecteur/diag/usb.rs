//! USB devices of health-card reader makers, read from sysfs (root
//! overridable with `LECTEUR_SYSFS` for tests): VID:PID, names, and the
//! classes of their interfaces (0x0B CCID, 0x03 HID, 0x02/0x0A serial).
//! sysfs interface classes tell the HID interfaces apart without linking
//! hidapi (and libudev); hidraw node permissions are in `permissions`.

use super::report::Report;
use serde_json::json;
use std::path::{Path, PathBuf};

struct Maker {
    vid: u16,
    /// Only this product (Teo is an Omnikey OEM: not every 076B device).
    pid: Option<u16>,
    name: &'static str,
}

const MAKERS: &[Maker] = &[
    Maker {
        vid: 0x2947,
        pid: None,
        name: "Kapelse",
    },
    Maker {
        vid: 0x0F14,
        pid: None,
        name: "Ingenico/Xiring",
    },
    Maker {
        vid: 0x076B,
        pid: Some(0xA022),
        name: "Xiring Teo",
    },
    Maker {
        vid: 0x046A,
        pid: None,
        name: "Cherry",
    },
    Maker {
        vid: 0x08E6,
        pid: None,
        name: "Gemalto",
    },
    Maker {
        vid: 0x0B00,
        pid: None,
        name: "Ingenico",
    },
];

/// Ingenico healthcare terminals that are not CCID (their own PSS protocol).
const NOT_CCID: &[(u16, u16)] = &[(0x0B00, 0x0090)];

/// The maker of a known reader, by VID:PID.
pub(super) fn maker(vid: u16, pid: u16) -> Option<&'static str> {
    MAKERS
        .iter()
        .find(|m| m.vid == vid && m.pid.is_none_or(|p| p == pid))
        .map(|m| m.name)
}

pub(super) fn sysfs_root() -> PathBuf {
    std::env::var_os("LECTEUR_SYSFS").map_or_else(|| PathBuf::from("/sys"), PathBuf::from)
}

/// A small sysfs attribute, trimmed; `None` if absent or odd.
fn attr(dir: &Path, name: &str) -> Option<String> {
    let bytes = std::fs::read(dir.join(name)).ok()?;
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(256)]);
    let text: String = text.trim().chars().filter(|c| !c.is_control()).collect();
    (!text.is_empty()).then_some(text)
}

fn hex16(dir: &Path, name: &str) -> Option<u16> {
    u16::from_str_radix(&attr(dir, name)?, 16).ok()
}

pub(super) fn check(report: &mut Report) {
    let devices = sysfs_root().join("bus/usb/devices");
    let entries = match std::fs::read_dir(&devices) {
        Ok(e) => e,
        Err(e) => {
            report.info(
                "usb",
                format!("USB devices cannot be listed ({}: {e})", devices.display()),
            );
            return;
        }
    };
    let mut names: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut found = 0;
    for dev in names.iter().filter(|n| !n.contains(':')) {
        let dir = devices.join(dev);
        let (Some(vid), Some(pid)) = (hex16(&dir, "idVendor"), hex16(&dir, "idProduct")) else {
            continue;
        };
        let Some(maker_name) = maker(vid, pid) else {
            continue;
        };
        found += 1;
        // Interfaces are `<dev>:<config>.<n>` beside the device.
        let prefix = format!("{dev}:");
        let classes: Vec<u8> = names
            .iter()
            .filter(|n| n.starts_with(&prefix))
            .filter_map(|n| u8::from_str_radix(&attr(&devices.join(n), "bInterfaceClass")?, 16).ok())
            .collect();
        let product = attr(&dir, "product").unwrap_or_default();
        let manufacturer = attr(&dir, "manufacturer").unwrap_or_default();
        let ccid = classes.iter().filter(|&&c| c == 0x0B).count();
        let hid = classes.iter().filter(|&&c| c == 0x03).count();
        let id = format!("{vid:04X}:{pid:04X}");
        let label = format!("{id} {} {}", maker_name, product).trim_end().to_string();
        report.usb.push(json!({
            "bus_id": dev, "vid": format!("{vid:04X}"), "pid": format!("{pid:04X}"),
            "maker": maker_name, "manufacturer": manufacturer, "product": product,
            "interface_classes": classes.iter().map(|c| format!("{c:02X}")).collect::<Vec<_>>(),
            "ccid_interfaces": ccid, "hid_interfaces": hid,
            "not_ccid": NOT_CCID.contains(&(vid, pid)),
        }));
        if NOT_CCID.contains(&(vid, pid)) {
            report.warning(
                "usb",
                format!("{label}: not CCID, pcscd's generic driver cannot use it"),
                "install the terminal maker's driver (Ingenico/Olaqin), or use a CCID reader",
            );
        } else if ccid > 0 {
            report.ok("usb", format!("{label}: {ccid} CCID interface(s)"));
        } else if classes.is_empty() {
            report.info("usb", format!("{label}: interfaces unknown"));
        } else {
            report.warning(
                "usb",
                format!("{label}: no CCID interface (classes {})", hexes(&classes)),
                "switch the reader to its PC/SC (CCID) mode (maker's configuration tool)",
            );
        }
        if hid > 0 {
            report.info(
                "usb",
                format!("{label}: {hid} HID interface(s) (keyboard mode or PIN pad)"),
            );
        }
    }
    if found == 0 {
        report.info("usb", "no USB device of a known health-card reader maker");
    }
}

fn hexes(classes: &[u8]) -> String {
    classes
        .iter()
        .map(|c| format!("{c:02X}"))
        .collect::<Vec<_>>()
        .join(" ")
}
