//! Scriptable faults of the simulated serial line, set at run time through
//! the control socket (`fault ber=1e-4 seed=7`) or `--fault`. Random faults
//! come from a seeded generator, so a failing run can be replayed: the same
//! seed gives the same faults at the same byte positions.
//!
//! ```text
//! ber=P          flips each bit the reader sends with probability P
//! rx-ber=P       the same on the bytes the reader receives
//! drop=P         drops each byte the reader sends with probability P
//! dup=P          sends a byte twice with probability P
//! garbage=P      inserts a random byte before a sent byte with probability P
//! nak-storm      the reader NAKs every frame the host sends
//! time-ext[=MS]  XfrBlocks are never answered: a time-extension byte every
//!                MS ms instead (default 200), the card asking for more time
//! mute-after=N   the reader goes silent after N more bytes (mid-frame)
//! delay=MS       every answer leaves MS ms late
//! unplug         the pseudo-terminal is closed (the port vanishes); it comes
//!                back with the next fault line that does not say unplug
//! seed=S         seed of the random faults (default 1)
//! none           no fault
//! ```

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Default interval of the endless time-extension bytes.
pub const DEFAULT_TIME_EXT: Duration = Duration::from_millis(200);
/// Longest delay or time-extension interval accepted.
const MAX_INTERVAL_MS: u64 = 60_000;

/// What is wrong with the line, as set by one `fault` command.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FaultSpec {
    pub ber: f64,
    pub rx_ber: f64,
    pub drop: f64,
    pub dup: f64,
    pub garbage: f64,
    pub nak_storm: bool,
    pub time_ext: Option<Duration>,
    pub mute_after: Option<u64>,
    pub delay: Option<Duration>,
    pub unplug: bool,
    pub seed: u64,
}

/// A `fault` line that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0} (faults: ber=P rx-ber=P drop=P dup=P garbage=P nak-storm time-ext[=MS] mute-after=N delay=MS unplug seed=S none)")]
pub struct FaultParseError(pub String);

fn probability(key: &str, value: &str) -> Result<f64, FaultParseError> {
    let p: f64 = value
        .parse()
        .map_err(|_| FaultParseError(format!("{key}: {value:?} is not a number")))?;
    if !(0.0..=1.0).contains(&p) {
        return Err(FaultParseError(format!(
            "{key}: {p} is not a probability (0 to 1)"
        )));
    }
    Ok(p)
}

fn millis(key: &str, value: &str) -> Result<Duration, FaultParseError> {
    let ms: u64 = value
        .parse()
        .map_err(|_| FaultParseError(format!("{key}: {value:?} is not a number of milliseconds")))?;
    if ms == 0 || ms > MAX_INTERVAL_MS {
        return Err(FaultParseError(format!(
            "{key}: {ms} ms is outside 1..={MAX_INTERVAL_MS}"
        )));
    }
    Ok(Duration::from_millis(ms))
}

impl FaultSpec {
    /// Parses whitespace-separated words; an empty line or `none` is no fault.
    pub fn parse(line: &str) -> Result<Self, FaultParseError> {
        let mut spec = FaultSpec {
            seed: 1,
            ..FaultSpec::default()
        };
        for word in line.split_whitespace() {
            let (key, value) = match word.split_once('=') {
                Some((k, v)) => (k, Some(v)),
                None => (word, None),
            };
            let need = || value.ok_or_else(|| FaultParseError(format!("{key} needs a value ({key}=...)")));
            match key {
                "none" => {}
                "ber" => spec.ber = probability(key, need()?)?,
                "rx-ber" => spec.rx_ber = probability(key, need()?)?,
                "drop" => spec.drop = probability(key, need()?)?,
                "dup" => spec.dup = probability(key, need()?)?,
                "garbage" => spec.garbage = probability(key, need()?)?,
                "nak-storm" => spec.nak_storm = true,
                "time-ext" => {
                    spec.time_ext = Some(match value {
                        Some(v) => millis(key, v)?,
                        None => DEFAULT_TIME_EXT,
                    })
                }
                "mute-after" => {
                    let n = need()?;
                    spec.mute_after =
                        Some(n.parse().map_err(|_| {
                            FaultParseError(format!("mute-after: {n:?} is not a byte count"))
                        })?);
                }
                "delay" => spec.delay = Some(millis(key, need()?)?),
                "unplug" => spec.unplug = true,
                "seed" => {
                    let s = need()?;
                    spec.seed = s
                        .parse()
                        .map_err(|_| FaultParseError(format!("seed: {s:?} is not a number")))?;
                }
                other => {
                    let shown: String = other.chars().take(30).collect();
                    return Err(FaultParseError(format!("unknown fault {shown:?}")));
                }
            }
        }
        Ok(spec)
    }

    /// The line that gives this spec back (for `fault` without arguments).
    pub fn describe(&self) -> String {
        let mut words = Vec::new();
        for (key, p) in [
            ("ber", self.ber),
            ("rx-ber", self.rx_ber),
            ("drop", self.drop),
            ("dup", self.dup),
            ("garbage", self.garbage),
        ] {
            if p > 0.0 {
                words.push(format!("{key}={p:e}"));
            }
        }
        if self.nak_storm {
            words.push("nak-storm".into());
        }
        if let Some(t) = self.time_ext {
            words.push(format!("time-ext={}", t.as_millis()));
        }
        if let Some(n) = self.mute_after {
            words.push(format!("mute-after={n}"));
        }
        if let Some(d) = self.delay {
            words.push(format!("delay={}", d.as_millis()));
        }
        if self.unplug {
            words.push("unplug".into());
        }
        if words.is_empty() {
            return "none".into();
        }
        words.push(format!("seed={}", self.seed));
        words.join(" ")
    }

    fn noisy(&self) -> bool {
        self.ber > 0.0 || self.drop > 0.0 || self.dup > 0.0 || self.garbage > 0.0
    }
}

/// xorshift64*: small, deterministic, good enough for fault positions.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        // Never zero (xorshift's fixed point); spread small seeds.
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// True with probability `p`.
    fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    /// `byte` with each bit flipped with probability `p`.
    fn flip_bits(&mut self, byte: u8, p: f64, flipped: &mut u64) -> u8 {
        let mut b = byte;
        for bit in 0..8 {
            if self.chance(p) {
                b ^= 1 << bit;
                *flipped += 1;
            }
        }
        b
    }
}

/// Faults applied so far, for `fault` status lines and logs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FaultCounts {
    pub bits_flipped: u64,
    pub rx_bits_flipped: u64,
    pub dropped: u64,
    pub duplicated: u64,
    pub garbage: u64,
    pub muted: u64,
}

#[derive(Debug)]
struct State {
    spec: FaultSpec,
    rng: Rng,
    /// Bytes still sent before a `mute-after` silence.
    mute_left: Option<u64>,
    counts: FaultCounts,
}

/// The faults of one simulated reader, shared by its loop and the control
/// socket.
#[derive(Debug, Clone)]
pub struct Faults(Arc<Mutex<State>>);

impl Default for Faults {
    fn default() -> Self {
        Faults::new(FaultSpec::parse("none").unwrap_or_default())
    }
}

impl Faults {
    pub fn new(spec: FaultSpec) -> Self {
        let state = State {
            rng: Rng::new(spec.seed),
            mute_left: spec.mute_after,
            spec,
            counts: FaultCounts::default(),
        };
        Faults(Arc::new(Mutex::new(state)))
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Replaces the faults (the generator restarts from the spec's seed).
    pub fn set(&self, spec: FaultSpec) {
        let mut s = self.lock();
        s.rng = Rng::new(spec.seed);
        s.mute_left = spec.mute_after;
        s.spec = spec;
    }

    pub fn spec(&self) -> FaultSpec {
        self.lock().spec.clone()
    }

    pub fn counts(&self) -> FaultCounts {
        self.lock().counts
    }

    /// Bytes the reader sends, as the host will receive them.
    pub fn tx(&self, bytes: &[u8]) -> Vec<u8> {
        let mut guard = self.lock();
        let s = &mut *guard;
        if !s.spec.noisy() && s.mute_left.is_none() {
            return bytes.to_vec();
        }
        let mut out = Vec::with_capacity(bytes.len() + 8);
        for &b in bytes {
            if let Some(left) = s.mute_left.as_mut() {
                if *left == 0 {
                    s.counts.muted += 1;
                    continue;
                }
                *left -= 1;
            }
            if s.rng.chance(s.spec.garbage) {
                out.push(s.rng.next() as u8);
                s.counts.garbage += 1;
            }
            if s.rng.chance(s.spec.drop) {
                s.counts.dropped += 1;
                continue;
            }
            let b = s.rng.flip_bits(b, s.spec.ber, &mut s.counts.bits_flipped);
            out.push(b);
            if s.rng.chance(s.spec.dup) {
                out.push(b);
                s.counts.duplicated += 1;
            }
        }
        out
    }

    /// Bytes the host sends, as the reader receives them.
    pub fn rx(&self, bytes: &[u8]) -> Vec<u8> {
        let mut guard = self.lock();
        let s = &mut *guard;
        if s.spec.rx_ber <= 0.0 {
            return bytes.to_vec();
        }
        let p = s.spec.rx_ber;
        bytes
            .iter()
            .map(|&b| s.rng.flip_bits(b, p, &mut s.counts.rx_bits_flipped))
            .collect()
    }

    pub fn nak_storm(&self) -> bool {
        self.lock().spec.nak_storm
    }

    pub fn time_ext(&self) -> Option<Duration> {
        self.lock().spec.time_ext
    }

    pub fn delay(&self) -> Option<Duration> {
        self.lock().spec.delay
    }

    pub fn unplugged(&self) -> bool {
        self.lock().spec.unplug
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_describe() {
        let s = FaultSpec::parse("ber=1e-4 seed=7").unwrap();
        assert_eq!((s.ber, s.seed), (1e-4, 7));
        assert_eq!(FaultSpec::parse(&s.describe()).unwrap(), s);
        assert_eq!(FaultSpec::parse("none").unwrap().describe(), "none");
        assert_eq!(FaultSpec::parse("").unwrap().describe(), "none");
        let s = FaultSpec::parse("nak-storm time-ext mute-after=12 delay=30 unplug drop=0.01").unwrap();
        assert!(s.nak_storm && s.unplug);
        assert_eq!(s.time_ext, Some(DEFAULT_TIME_EXT));
        assert_eq!(s.mute_after, Some(12));
        assert_eq!(s.delay, Some(Duration::from_millis(30)));
        assert_eq!(FaultSpec::parse(&s.describe()).unwrap(), s);
        for bad in [
            "ber=2",
            "ber=x",
            "ber",
            "frob",
            "time-ext=0",
            "mute-after=-1",
            "seed=q",
            "delay=99999999",
        ] {
            assert!(FaultSpec::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn same_seed_same_faults() {
        let data: Vec<u8> = (0..4096u32).map(|i| i as u8).collect();
        let a = Faults::new(FaultSpec::parse("ber=1e-3 drop=1e-3 dup=1e-3 garbage=1e-3 seed=9").unwrap());
        let b = Faults::new(FaultSpec::parse("ber=1e-3 drop=1e-3 dup=1e-3 garbage=1e-3 seed=9").unwrap());
        let c = Faults::new(FaultSpec::parse("ber=1e-3 drop=1e-3 dup=1e-3 garbage=1e-3 seed=10").unwrap());
        let (ta, tb, tc) = (a.tx(&data), b.tx(&data), c.tx(&data));
        assert_eq!(ta, tb);
        assert_ne!(ta, data);
        assert_ne!(ta, tc);
        assert!(a.counts().bits_flipped > 0);
    }

    #[test]
    fn bit_error_rate_is_about_right() {
        let f = Faults::new(FaultSpec::parse("ber=1e-3 seed=3").unwrap());
        let data = vec![0u8; 100_000];
        let out = f.tx(&data);
        let ones: u32 = out.iter().map(|b| b.count_ones()).sum();
        // 800 000 bits at 1e-3: 800 expected, far from 400 or 1200.
        assert!((400..1200).contains(&ones), "{ones}");
        assert_eq!(u64::from(ones), f.counts().bits_flipped);
    }

    #[test]
    fn mute_after_cuts_the_stream() {
        let f = Faults::new(FaultSpec::parse("mute-after=5").unwrap());
        assert_eq!(f.tx(&[1, 2, 3]), vec![1, 2, 3]);
        assert_eq!(f.tx(&[4, 5, 6, 7]), vec![4, 5]);
        assert!(f.tx(&[8]).is_empty());
        f.set(FaultSpec::parse("none").unwrap());
        assert_eq!(f.tx(&[9]), vec![9]);
        let clean = Faults::default();
        assert_eq!(clean.tx(&[1, 2]), vec![1, 2]);
        assert_eq!(clean.rx(&[1, 2]), vec![1, 2]);
    }
}
