//! Scriptable faults of the vpcd front-end, set at run time through the
//! control socket (`fault pull-on=2A`), for tests of a client of pcscd:
//!
//! ```text
//! delay=MS       every answer to an APDU leaves MS ms late
//! pull-after=N   the card is pulled when the (N+1)th APDU from now arrives,
//!                before it is answered (the slot is then empty)
//! pull-on=INS    the card is pulled when an APDU with this INS (hex) arrives,
//!                before it is answered
//! disconnect     the connection to vpcd is closed now, the card left in the
//!                slot: pcscd sees it go, and come back when the front-end
//!                reconnects (after its retry pause)
//! none           no fault
//! ```
//!
//! A pull or a disconnect happens once; `delay` stays until the next `fault`
//! line. Each `fault` line replaces the previous one.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Longest delay accepted.
const MAX_DELAY_MS: u64 = 60_000;

/// What one `fault` line asks of the vpcd front-end.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VpcdFaultSpec {
    pub delay: Option<Duration>,
    pub pull_after: Option<u64>,
    pub pull_on: Option<u8>,
    pub disconnect: bool,
}

/// A `fault` line that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0} (vpcd faults: delay=MS pull-after=N pull-on=INS disconnect none)")]
pub struct VpcdFaultParseError(pub String);

impl VpcdFaultSpec {
    /// Parses whitespace-separated words; an empty line or `none` is no fault.
    pub fn parse(line: &str) -> Result<Self, VpcdFaultParseError> {
        let mut spec = VpcdFaultSpec::default();
        for word in line.split_whitespace() {
            let (key, value) = match word.split_once('=') {
                Some((k, v)) => (k, Some(v)),
                None => (word, None),
            };
            let need =
                || value.ok_or_else(|| VpcdFaultParseError(format!("{key} needs a value ({key}=...)")));
            match key {
                "none" => {}
                "delay" => {
                    let v = need()?;
                    let ms: u64 = v.parse().map_err(|_| {
                        VpcdFaultParseError(format!("delay: {v:?} is not a number of milliseconds"))
                    })?;
                    if ms == 0 || ms > MAX_DELAY_MS {
                        return Err(VpcdFaultParseError(format!(
                            "delay: {ms} ms is outside 1..={MAX_DELAY_MS}"
                        )));
                    }
                    spec.delay = Some(Duration::from_millis(ms));
                }
                "pull-after" => {
                    let v = need()?;
                    spec.pull_after = Some(v.parse().map_err(|_| {
                        VpcdFaultParseError(format!("pull-after: {v:?} is not an APDU count"))
                    })?);
                }
                "pull-on" => {
                    let v = need()?;
                    let ins = (v.len() == 2)
                        .then(|| u8::from_str_radix(v, 16).ok())
                        .flatten()
                        .ok_or_else(|| {
                            VpcdFaultParseError(format!("pull-on: {v:?} is not an INS byte in hex (2A)"))
                        })?;
                    spec.pull_on = Some(ins);
                }
                "disconnect" => spec.disconnect = true,
                other => {
                    let shown: String = other.chars().take(30).collect();
                    return Err(VpcdFaultParseError(format!("unknown fault {shown:?}")));
                }
            }
            if value.is_some() && matches!(key, "none" | "disconnect") {
                return Err(VpcdFaultParseError(format!("{key} takes no value")));
            }
        }
        Ok(spec)
    }

    /// The spec as a `fault` line (`none` when empty).
    pub fn describe(&self) -> String {
        let mut words = Vec::new();
        if let Some(d) = self.delay {
            words.push(format!("delay={}", d.as_millis()));
        }
        if let Some(n) = self.pull_after {
            words.push(format!("pull-after={n}"));
        }
        if let Some(ins) = self.pull_on {
            words.push(format!("pull-on={ins:02X}"));
        }
        if self.disconnect {
            words.push("disconnect".to_string());
        }
        if words.is_empty() {
            "none".to_string()
        } else {
            words.join(" ")
        }
    }
}

/// What the front-end does with one APDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApduFault {
    /// Answer it, after this delay.
    Answer(Option<Duration>),
    /// Pull the card instead of answering.
    Pull,
}

#[derive(Debug, Default)]
struct State {
    spec: VpcdFaultSpec,
    pulls: u64,
    disconnects: u64,
}

/// The faults in force, shared by the front-end and the control socket.
#[derive(Debug, Clone, Default)]
pub struct VpcdFaults {
    inner: Arc<Mutex<State>>,
}

impl VpcdFaults {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Replaces the faults in force.
    pub fn set(&self, spec: VpcdFaultSpec) {
        self.lock().spec = spec;
    }

    /// What is in force (pulls and disconnects not yet done included).
    pub fn spec(&self) -> VpcdFaultSpec {
        self.lock().spec.clone()
    }

    /// Cards pulled and connections closed by faults so far.
    pub fn counts(&self) -> (u64, u64) {
        let s = self.lock();
        (s.pulls, s.disconnects)
    }

    /// Decides the fate of an APDU arriving now (a pull happens once).
    pub fn on_apdu(&self, apdu: &[u8]) -> ApduFault {
        let mut s = self.lock();
        let by_ins = s.spec.pull_on.is_some() && apdu.get(1).copied() == s.spec.pull_on;
        let by_count = match s.spec.pull_after.as_mut() {
            Some(0) => true,
            Some(n) => {
                *n -= 1;
                false
            }
            None => false,
        };
        if by_ins || by_count {
            s.spec.pull_on = None;
            s.spec.pull_after = None;
            s.pulls += 1;
            return ApduFault::Pull;
        }
        ApduFault::Answer(s.spec.delay)
    }

    /// Whether the connection must be closed now (once per `disconnect`).
    pub fn take_disconnect(&self) -> bool {
        let mut s = self.lock();
        let now = std::mem::take(&mut s.spec.disconnect);
        if now {
            s.disconnects += 1;
        }
        now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_describes() {
        let s = VpcdFaultSpec::parse("delay=30 pull-on=2a").unwrap();
        assert_eq!(s.delay, Some(Duration::from_millis(30)));
        assert_eq!(s.pull_on, Some(0x2A));
        assert_eq!(s.describe(), "delay=30 pull-on=2A");
        assert_eq!(VpcdFaultSpec::parse("none").unwrap().describe(), "none");
        assert_eq!(VpcdFaultSpec::parse("").unwrap(), VpcdFaultSpec::default());
        assert!(VpcdFaultSpec::parse("delay=0").is_err());
        assert!(VpcdFaultSpec::parse("delay").is_err());
        assert!(VpcdFaultSpec::parse("pull-on=2").is_err());
        assert!(VpcdFaultSpec::parse("pull-on=GG").is_err());
        assert!(VpcdFaultSpec::parse("pull-after=x").is_err());
        assert!(VpcdFaultSpec::parse("disconnect=1").is_err());
        assert!(VpcdFaultSpec::parse("ber=1e-4").is_err());
    }

    #[test]
    fn pulls_once() {
        let f = VpcdFaults::default();
        f.set(VpcdFaultSpec::parse("pull-after=2 delay=5").unwrap());
        let apdu = [0, 0xB0, 0, 0, 0];
        let late = ApduFault::Answer(Some(Duration::from_millis(5)));
        assert_eq!(f.on_apdu(&apdu), late);
        assert_eq!(f.on_apdu(&apdu), late);
        assert_eq!(f.on_apdu(&apdu), ApduFault::Pull);
        assert_eq!(f.on_apdu(&apdu), late);
        f.set(VpcdFaultSpec::parse("pull-on=2A").unwrap());
        assert_eq!(f.on_apdu(&apdu), ApduFault::Answer(None));
        assert_eq!(f.on_apdu(&[0, 0x2A, 0x9E, 0x9A, 0]), ApduFault::Pull);
        assert_eq!(f.on_apdu(&[0, 0x2A, 0x9E, 0x9A, 0]), ApduFault::Answer(None));
        assert!(!f.take_disconnect());
        f.set(VpcdFaultSpec::parse("disconnect").unwrap());
        assert!(f.take_disconnect());
        assert!(!f.take_disconnect());
        assert_eq!(f.counts(), (2, 1));
    }
}
