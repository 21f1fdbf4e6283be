//! The Windows side of the diagnosis. There are no device nodes, groups or
//! modes: a COM port is opened exclusively by whoever comes first, and its
//! name is what Windows' port enumeration lists (`serialport::
//! available_ports`: SetupAPI's Ports and Modem classes, plus
//! `HKLM\HARDWARE\DEVICEMAP\SERIALCOMM`).

use super::report::Report;
use super::usb;
use serde_json::{json, Value};
use serialport::{SerialPortInfo, SerialPortType};
use std::io;
use std::path::Path;

/// A COM port as the diagnosis shows it.
pub(super) struct Node {
    /// `{path, listed, kind}`.
    pub json: Value,
    /// Whether to try it: always (only opening it tells whether another
    /// program holds it).
    pub can_open: bool,
    /// One line for the finding.
    pub summary: String,
}

/// Never shown (`can_open` is always true); kept for the shared code.
pub(super) const OPEN_REMEDY: &str = "close the program that holds the port";

fn ports() -> Vec<SerialPortInfo> {
    serialport::available_ports().unwrap_or_default()
}

/// `COM3`, `\\.\COM3` and `com3` name the same port.
fn same_port(spec: &str, name: &str) -> bool {
    spec.trim_start_matches(r"\\.\")
        .eq_ignore_ascii_case(name.trim_start_matches(r"\\.\"))
}

/// What Windows says a port is: `USB 08E6:3437 Gemalto (GemPC Twin)`, `PCI`...
fn kind(port: &SerialPortInfo) -> String {
    match &port.port_type {
        SerialPortType::UsbPort(u) => {
            let mut s = format!("USB {:04X}:{:04X}", u.vid, u.pid);
            if let Some(m) = usb::maker(u.vid, u.pid) {
                s.push_str(&format!(" {m}"));
            }
            if let Some(p) = &u.product {
                s.push_str(&format!(" \"{p}\""));
            }
            s
        }
        SerialPortType::PciPort => "PCI".into(),
        SerialPortType::BluetoothPort => "Bluetooth".into(),
        SerialPortType::Unknown => "listed in SERIALCOMM".into(),
    }
}

/// The port named `path`. Always `Some`: a port Windows does not list may
/// still open (a virtual one), so it is tried and the probe tells.
pub(super) fn describe(path: &Path) -> Option<Node> {
    let name = path.display().to_string();
    let listed = ports().into_iter().find(|p| same_port(&name, &p.port_name));
    let summary = match &listed {
        Some(p) => format!("listed by Windows ({})", kind(p)),
        None => "not listed by Windows' port enumeration; tried anyway".into(),
    };
    Some(Node {
        json: json!({
            "path": name,
            "listed": listed.is_some(),
            "kind": listed.as_ref().map(kind),
        }),
        can_open: true,
        summary,
    })
}

/// Nothing is probed unasked on Windows: any COM port may be a modem or a
/// device another program drives (`lecteur diag --serial COM3` probes one).
pub(super) fn serial_candidates() -> Vec<String> {
    Vec::new()
}

/// Lists the COM ports Windows knows, so that the user can pick the reader's.
pub(super) fn list_ports(report: &mut Report) {
    let ports = ports();
    if ports.is_empty() {
        report.info("serial", "Windows lists no COM port");
        return;
    }
    let shown: Vec<String> = ports
        .iter()
        .map(|p| format!("{} ({})", p.port_name, kind(p)))
        .collect();
    report.info(
        "serial",
        format!(
            "COM ports: {} (probe one with lecteur diag --serial COMn[:PROFILE])",
            shown.join(", ")
        ),
    );
}

/// lecteurd's named pipe cannot be looked at without taking one of its
/// instances: connecting says whether it is there.
pub(super) fn endpoint(_path: &Path) -> io::Result<bool> {
    Ok(true)
}

/// The bundle's work directory: under the user's own temporary directory,
/// which only the user (and administrators) may read by default.
pub(super) fn create_private_dir(path: &Path) -> io::Result<()> {
    std::fs::create_dir_all(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_names_compare_without_prefix_or_case() {
        assert!(same_port("COM3", "COM3"));
        assert!(same_port(r"\\.\COM10", "COM10"));
        assert!(same_port("com4", "COM4"));
        assert!(!same_port("COM1", "COM10"));
    }
}
