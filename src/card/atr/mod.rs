//! The answer to reset: an ISO/IEC 7816-3 parser ([`parse`]) and card
//! identification ([`identify`], value/mask entries from the public lists,
//! reference cards-and-protocols §1.1, §2.1).
//!
//! ```text
//! TS T0 {TAi TBi TCi TDi}... T1..TK [TCK]       at most 33 bytes
//! ```
//! The ATR comes from the reader, so every byte is untrusted: [`parse`] never
//! panics and a truncated or overlong ATR is an [`AtrError`]. A wrong TCK is
//! not an error, it is reported in [`Atr::tck_ok`].

mod historical;
mod identify;
mod interface;
mod tables;

pub use historical::{CompactObject, Historical, PcscStorage, Status};
pub use identify::{identify, lookup, CardKind, Entry, TABLE};
pub use interface::{InterfaceByte, SpecificMode, T0Params, T15Params, T1Params};

use serde::{Serialize, Serializer};
use std::fmt;

/// Longest ATR ISO/IEC 7816-3 allows: TS, T0, up to 15 historical bytes, TCK
/// and interface bytes.
pub const MAX_LEN: usize = 33;

/// Direct (`3B`) or inverse (`3F`) convention, from TS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Convention {
    /// TS `3B`.
    Direct,
    /// TS `3F`.
    Inverse,
}

impl Convention {
    /// `direct` or `inverse`.
    pub fn as_str(self) -> &'static str {
        match self {
            Convention::Direct => "direct",
            Convention::Inverse => "inverse",
        }
    }
}

impl Serialize for Convention {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A transmission protocol `T=n` offered by the card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Protocol(pub u8);

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "T={}", self.0)
    }
}

impl Serialize for Protocol {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A parsed ATR. Serialises to the JSON of `lecteur atr --json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Atr {
    /// The whole ATR, hex.
    #[serde(serialize_with = "ser_hex")]
    pub atr: Vec<u8>,
    /// The card family the ATR identifies.
    pub kind: CardKind,
    /// Card generation and interface when identified.
    pub generation: Option<&'static str>,
    /// Which list the identification comes from.
    pub identified_by: Option<&'static str>,
    /// From TS.
    pub convention: Convention,
    /// Offered protocols, in the order of the TD bytes (T=0 alone when TD1 is absent).
    pub protocols: Vec<Protocol>,
    /// TA1 (absent: Fi/Di default to 372/1).
    #[serde(serialize_with = "ser_opt_byte")]
    pub ta1: Option<u8>,
    /// Clock rate conversion integer; `None` for an RFU index.
    pub fi: Option<u16>,
    /// Baud rate adjustment integer; `None` for an RFU index.
    pub di: Option<u8>,
    /// Maximum clock frequency for Fi, in MHz.
    pub fmax_mhz: Option<f64>,
    /// Extra guard time integer N (TC1, default 0).
    pub extra_guard_time: u8,
    /// TA2: the card runs in specific mode.
    pub specific_mode: Option<SpecificMode>,
    /// T=0 parameters when T=0 is offered.
    pub t0: Option<T0Params>,
    /// T=1 parameters (defaults if no T=1 bytes) when T=1 is offered.
    pub t1: Option<T1Params>,
    /// Global bytes for T=15, when present.
    pub t15: Option<T15Params>,
    /// Every interface byte, with its meaning.
    pub interface_bytes: Vec<InterfaceByte>,
    /// The historical bytes, hex.
    #[serde(serialize_with = "ser_hex")]
    pub historical_bytes: Vec<u8>,
    /// The historical bytes decoded, when there are any.
    pub historical: Option<Historical>,
    /// The check byte, when present.
    #[serde(serialize_with = "ser_opt_byte")]
    pub tck: Option<u8>,
    /// XOR from T0 to TCK is 0; `None` when the ATR has no TCK.
    pub tck_ok: Option<bool>,
}

fn ser_hex<S: Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode_upper(b))
}

fn ser_opt_byte<S: Serializer>(b: &Option<u8>, s: S) -> Result<S::Ok, S::Error> {
    match b {
        Some(b) => s.serialize_str(&format!("{b:02X}")),
        None => s.serialize_none(),
    }
}

/// A part of the ATR, named as ISO/IEC 7816-3 names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The initial character.
    Ts,
    /// The format byte.
    T0,
    /// `TA`, `TB`, `TC` or `TD` with its index i.
    Interface(char, u8),
    /// Historical byte n (1-based) of K.
    Historical(u8, u8),
    /// The check byte.
    Tck,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::Ts => write!(f, "TS"),
            Field::T0 => write!(f, "T0"),
            Field::Interface(c, i) => write!(f, "T{c}{i}"),
            Field::Historical(n, k) => write!(f, "historical byte {n} of {k}"),
            Field::Tck => write!(f, "TCK"),
        }
    }
}

/// Why bytes are not an ATR.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AtrError {
    /// No bytes.
    #[error("empty ATR")]
    Empty,
    /// More than [`MAX_LEN`] bytes.
    #[error("ATR of {0} bytes, longer than the {MAX_LEN} ISO/IEC 7816-3 allows")]
    TooLong(usize),
    /// TS is neither `3B` nor `3F`.
    #[error("TS {0:02X} is neither 3B (direct) nor 3F (inverse convention)")]
    BadTs(u8),
    /// The bytes end before the ATR does.
    #[error("truncated ATR: {missing} missing at byte {offset}")]
    Truncated {
        /// The first field missing.
        missing: Field,
        /// Where it should have been.
        offset: usize,
    },
    /// Bytes after the end of the ATR.
    #[error("{extra} byte(s) after the end of the ATR at byte {offset}")]
    Trailing {
        /// How many.
        extra: usize,
        /// Where the ATR ends.
        offset: usize,
    },
}

/// Parses an ATR (ISO/IEC 7816-3 §8.2) and identifies the card.
pub fn parse(atr: &[u8]) -> Result<Atr, AtrError> {
    if atr.is_empty() {
        return Err(AtrError::Empty);
    }
    if atr.len() > MAX_LEN {
        return Err(AtrError::TooLong(atr.len()));
    }
    let convention = match atr[0] {
        0x3B => Convention::Direct,
        0x3F => Convention::Inverse,
        ts => return Err(AtrError::BadTs(ts)),
    };
    let t0 = *atr.get(1).ok_or(AtrError::Truncated {
        missing: Field::T0,
        offset: 1,
    })?;
    let k = t0 & 0x0F;
    let (groups, mut pos) = interface::read_groups(atr, t0)?;
    let historical_bytes = match atr.get(pos..pos + usize::from(k)) {
        Some(h) => h.to_vec(),
        None => {
            let have = atr.len() - pos;
            return Err(AtrError::Truncated {
                missing: Field::Historical(have as u8 + 1, k),
                offset: atr.len(),
            });
        }
    };
    pos += usize::from(k);
    // TCK is present unless T=0 is the only protocol indicated (possibly by default).
    let tck_expected = groups.iter().filter_map(|g| g.td).any(|td| td & 0x0F != 0);
    let tck = if tck_expected {
        let b = *atr.get(pos).ok_or(AtrError::Truncated {
            missing: Field::Tck,
            offset: pos,
        })?;
        pos += 1;
        Some(b)
    } else {
        None
    };
    if pos < atr.len() {
        return Err(AtrError::Trailing {
            extra: atr.len() - pos,
            offset: pos,
        });
    }
    let tck_ok = tck.map(|_| atr[1..].iter().fold(0u8, |a, b| a ^ b) == 0);

    let decoded = interface::decode(&groups);
    let entry = lookup(atr);
    Ok(Atr {
        atr: atr.to_vec(),
        kind: entry.map_or(CardKind::Unknown, |e| e.kind),
        generation: entry.map(|e| e.generation),
        identified_by: entry.map(|e| e.source),
        convention,
        protocols: decoded.protocols,
        ta1: groups[0].ta,
        fi: decoded.fi,
        di: decoded.di,
        fmax_mhz: decoded.fmax_khz.map(|k| f64::from(k) / 1000.0),
        extra_guard_time: groups[0].tc.unwrap_or(0),
        specific_mode: decoded.specific_mode,
        t0: decoded.t0,
        t1: decoded.t1,
        t15: decoded.t15,
        interface_bytes: decoded.bytes,
        historical: historical::decode(&historical_bytes),
        historical_bytes,
        tck,
        tck_ok,
    })
}

impl Atr {
    /// Offset of the first historical byte in [`Atr::atr`].
    pub fn historical_offset(&self) -> usize {
        2 + self.interface_bytes.len()
    }
}

#[cfg(test)]
mod tests;
