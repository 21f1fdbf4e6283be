//! Interface bytes TAi TBi TCi TDi (ISO/IEC 7816-3 §8.3): reading the groups
//! and what each byte means.
//!
//! Group 1 and TA2/TB2 are global, TC2 is specific to T=0. For i > 2 a group
//! belongs to the protocol T announced by TD(i-1): the first TAi/TBi/TCi for
//! T=1 give IFSC, BWI/CWI and the error detection code, the first TAi/TBi for
//! T=15 the class, clock stop and SPU.

use super::{tables, AtrError, Field, Protocol};
use serde::Serialize;

/// One group of interface bytes, i from 1.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Group {
    pub i: u8,
    pub ta: Option<u8>,
    pub tb: Option<u8>,
    pub tc: Option<u8>,
    pub td: Option<u8>,
}

/// Reads the groups announced by T0 and the TD bytes. Returns them and the
/// offset of the first historical byte.
pub(super) fn read_groups(atr: &[u8], t0: u8) -> Result<(Vec<Group>, usize), AtrError> {
    let mut groups = Vec::new();
    let mut pos = 2;
    let mut y = t0 >> 4;
    let mut i: u8 = 1;
    loop {
        let mut g = Group {
            i,
            ..Group::default()
        };
        for (bit, name, slot) in [
            (1, 'A', &mut g.ta),
            (2, 'B', &mut g.tb),
            (4, 'C', &mut g.tc),
            (8, 'D', &mut g.td),
        ] {
            if y & bit != 0 {
                let b = *atr.get(pos).ok_or(AtrError::Truncated {
                    missing: Field::Interface(name, i),
                    offset: pos,
                })?;
                *slot = Some(b);
                pos += 1;
            }
        }
        groups.push(g);
        match g.td {
            // Every further group costs at least one byte (its TD), and the
            // ATR is at most 33 bytes: the loop is bounded.
            Some(td) => {
                y = td >> 4;
                i = i.saturating_add(1);
            }
            None => break,
        }
    }
    Ok((groups, pos))
}

/// One interface byte with its meaning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InterfaceByte {
    /// `TA1`, `TD2`...
    pub name: String,
    /// The byte, hex.
    pub value: String,
    /// What it says.
    pub meaning: String,
    /// The byte itself.
    #[serde(skip)]
    pub byte: u8,
}

/// TA2: specific mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpecificMode {
    /// The protocol the card runs.
    pub protocol: Protocol,
    /// Bit 8 = 0: the card can change to negotiable mode (after a warm reset).
    pub can_change: bool,
    /// Bit 5 = 1: transmission parameters are implicit, not those of TA1.
    pub implicit_parameters: bool,
}

/// The T=0 parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct T0Params {
    /// Waiting time integer (TC2, default 10).
    pub wi: u8,
    /// Waiting time 960 × D × WI, in etu; `None` when Di is RFU.
    pub wt_etu: Option<u32>,
}

/// The T=1 parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct T1Params {
    /// Information field size of the card (default 32).
    pub ifsc: u8,
    /// Block waiting time integer (default 4).
    pub bwi: u8,
    /// Character waiting time integer (default 13).
    pub cwi: u8,
    /// `LRC` (default) or `CRC`.
    pub error_detection: &'static str,
}

/// The global parameters of T=15.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct T15Params {
    /// Classes A (5 V), B (3 V), C (1.8 V) accepted, from the first TA for T=15.
    pub classes: Vec<&'static str>,
    /// Clock stop: `not supported`, `state L`, `state H` or `no preference`.
    pub clock_stop: Option<&'static str>,
    /// First TB for T=15 (use of contact C6), hex.
    pub spu: Option<String>,
}

/// What the interface bytes say.
pub(super) struct Decoded {
    pub protocols: Vec<Protocol>,
    pub fi: Option<u16>,
    pub di: Option<u8>,
    pub fmax_khz: Option<u32>,
    pub specific_mode: Option<SpecificMode>,
    pub t0: Option<T0Params>,
    pub t1: Option<T1Params>,
    pub t15: Option<T15Params>,
    pub bytes: Vec<InterfaceByte>,
}

pub(super) fn decode(groups: &[Group]) -> Decoded {
    let ta1 = groups.first().and_then(|g| g.ta).unwrap_or(tables::DEFAULT_TA1);
    let fi_fmax = tables::fi_fmax(ta1 >> 4);
    let di = tables::di(ta1 & 0x0F);

    let mut protocols: Vec<Protocol> = Vec::new();
    for t in groups.iter().filter_map(|g| g.td).map(|td| td & 0x0F) {
        if t != 15 && !protocols.contains(&Protocol(t)) {
            protocols.push(Protocol(t));
        }
    }
    if groups.first().is_none_or(|g| g.td.is_none()) {
        protocols.push(Protocol(0));
    }
    let offers = |t| protocols.contains(&Protocol(t));

    let mut bytes: Vec<InterfaceByte> = Vec::new();
    let mut specific_mode = None;
    let mut t15 = None;
    let mut wi = 10;
    let mut t1 = T1Params {
        ifsc: 32,
        bwi: 4,
        cwi: 13,
        error_detection: "LRC",
    };
    // First TA/TB/TC seen for T=1 and for T=15 (i > 2).
    let mut seen_t1 = [false; 3];
    let mut seen_t15 = [false; 3];

    let mut push = |name: String, byte: u8, meaning: String| {
        bytes.push(InterfaceByte {
            name,
            value: format!("{byte:02X}"),
            meaning,
            byte,
        })
    };
    let mut prev_t: Option<u8> = None;
    for g in groups {
        let i = g.i;
        for (n, byte) in [(0usize, g.ta), (1, g.tb), (2, g.tc)]
            .into_iter()
            .filter_map(|(n, b)| Some((n, b?)))
        {
            let kind = ['A', 'B', 'C'][n];
            let name = format!("T{kind}{i}");
            let meaning = match (i, n, prev_t) {
                (1, 0, _) => ta1_meaning(byte),
                (1, 1, _) => tb_vpp(byte, "PI1"),
                (1, 2, _) => tc1_meaning(byte),
                (2, 0, _) => {
                    let m = SpecificMode {
                        protocol: Protocol(byte & 0x0F),
                        can_change: byte & 0x80 == 0,
                        implicit_parameters: byte & 0x10 != 0,
                    };
                    let s = format!(
                        "specific mode, {}; {}; {}",
                        m.protocol,
                        if m.can_change {
                            "can change to negotiable mode"
                        } else {
                            "cannot change mode"
                        },
                        if m.implicit_parameters {
                            "implicit parameters"
                        } else {
                            "parameters of TA1"
                        }
                    );
                    specific_mode = Some(m);
                    s
                }
                (2, 1, _) => tb_vpp(byte, "PI2"),
                (2, 2, _) => {
                    wi = byte;
                    if byte == 0 {
                        "WI=0 (RFU) for T=0".to_string()
                    } else {
                        format!("T=0 waiting time integer WI={byte}")
                    }
                }
                (_, _, Some(1)) if !seen_t1[n] => {
                    seen_t1[n] = true;
                    t1_byte(n, byte, &mut t1)
                }
                (_, _, Some(15)) if !seen_t15[n] => {
                    seen_t15[n] = true;
                    t15_byte(n, byte, &mut t15)
                }
                (_, _, Some(t)) => format!("specific to T={t}, not decoded"),
                (_, _, None) => "not decoded".to_string(),
            };
            push(name, byte, meaning);
        }
        if let Some(td) = g.td {
            let t = td & 0x0F;
            let next: Vec<String> = ['A', 'B', 'C', 'D']
                .iter()
                .enumerate()
                .filter(|(b, _)| (td >> 4) & (1 << b) != 0)
                .map(|(_, c)| format!("T{c}{}", i + 1))
                .collect();
            let proto = match t {
                15 if i == 1 => "T=15 (invalid in TD1)".to_string(),
                15 => "T=15: global interface bytes follow".to_string(),
                t => format!("protocol T={t}"),
            };
            let next = if next.is_empty() {
                "no more interface bytes".to_string()
            } else {
                next.join(" ")
            };
            push(format!("TD{i}"), td, format!("{proto}; next: {next}"));
            prev_t = Some(t);
        } else {
            prev_t = None;
        }
    }
    Decoded {
        fi: fi_fmax.map(|f| f.0),
        di,
        fmax_khz: fi_fmax.map(|f| f.1),
        specific_mode,
        t0: offers(0).then(|| T0Params {
            wi,
            wt_etu: di.map(|d| 960 * u32::from(d) * u32::from(wi)),
        }),
        t1: offers(1).then_some(t1),
        t15,
        bytes,
        protocols,
    }
}

fn ta1_meaning(b: u8) -> String {
    let fi = match tables::fi_fmax(b >> 4) {
        Some((fi, fmax)) => format!("Fi={fi} (f max {} MHz)", f64::from(fmax) / 1000.0),
        None => format!("Fi RFU (index {:X})", b >> 4),
    };
    let di = match tables::di(b & 0x0F) {
        Some(di) => format!("Di={di}"),
        None => format!("Di RFU (index {:X})", b & 0x0F),
    };
    match (tables::fi_fmax(b >> 4), tables::di(b & 0x0F)) {
        (Some((fi_v, _)), Some(di_v)) => {
            let etu = f64::from(fi_v) / f64::from(di_v);
            format!("{fi}, {di}: {etu:.1} clock cycles per etu")
        }
        _ => format!("{fi}, {di}"),
    }
}

/// TB1/TB2: programming voltage, deprecated since ISO/IEC 7816-3:2006.
fn tb_vpp(b: u8, pi: &str) -> String {
    if b == 0 {
        return "no programming voltage (deprecated byte)".to_string();
    }
    if pi == "PI2" {
        return format!("PI2={b} (deprecated byte, ignored)");
    }
    let current = match (b >> 5) & 0x03 {
        0 => "25 mA",
        1 => "50 mA",
        2 => "100 mA",
        _ => "RFU current",
    };
    format!("{pi}={} V, {current} (deprecated byte, ignored)", b & 0x1F)
}

fn tc1_meaning(n: u8) -> String {
    match n {
        255 => "N=255: minimum guard time (12 etu for T=0, 11 etu for T=1)".to_string(),
        n => format!("extra guard time N={n}"),
    }
}

/// First TAi (n = 0), TBi (1) or TCi (2) for T=1.
fn t1_byte(n: usize, b: u8, t1: &mut T1Params) -> String {
    match n {
        0 => {
            t1.ifsc = b;
            match b {
                0x00 | 0xFF => format!("IFSC={b} (RFU)"),
                _ => format!("T=1 IFSC={b} bytes"),
            }
        }
        1 => {
            t1.bwi = b >> 4;
            t1.cwi = b & 0x0F;
            let rfu = if t1.bwi > 9 { " (BWI RFU)" } else { "" };
            format!("T=1 BWI={} CWI={}{rfu}", t1.bwi, t1.cwi)
        }
        _ => {
            t1.error_detection = if b & 0x01 != 0 { "CRC" } else { "LRC" };
            let rfu = if b & 0xFE != 0 { " (RFU bits set)" } else { "" };
            format!("T=1 error detection {}{rfu}", t1.error_detection)
        }
    }
}

/// First TAi (n = 0) or TBi (1) for T=15; a TCi for T=15 is RFU.
fn t15_byte(n: usize, b: u8, t15: &mut Option<T15Params>) -> String {
    let p = t15.get_or_insert(T15Params {
        classes: Vec::new(),
        clock_stop: None,
        spu: None,
    });
    match n {
        0 => {
            let stop = match b >> 6 {
                0 => "not supported",
                1 => "state L",
                2 => "state H",
                _ => "no preference",
            };
            p.clock_stop = Some(stop);
            p.classes = [(0x01, "A"), (0x02, "B"), (0x04, "C")]
                .into_iter()
                .filter(|(m, _)| b & m != 0)
                .map(|(_, c)| c)
                .collect();
            let classes = if p.classes.is_empty() {
                "none".to_string()
            } else {
                p.classes.join(" ")
            };
            format!("clock stop {stop}; classes {classes}")
        }
        1 => {
            p.spu = Some(format!("{b:02X}"));
            match b {
                0 => "SPU: contact C6 not used".to_string(),
                b if b & 0x80 != 0 => format!("SPU: proprietary use of C6 ({:02X})", b & 0x7F),
                b => format!("SPU: standard use of C6 ({b:02X}, RFU)"),
            }
        }
        _ => "RFU for T=15".to_string(),
    }
}
