//! Bytes on the wire are standard base64 strings (`*_b64` fields): proto
//! types hold the bytes, these serde adapters write and read the text.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Deserializer, Serializer};

/// `#[serde(with = "b64")]` on a `Vec<u8>`.
pub mod b64 {
    use super::*;

    /// Writes the bytes as a standard base64 string.
    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(v))
    }

    /// Reads a standard base64 string (padded).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        STANDARD
            .decode(s)
            .map_err(|e| serde::de::Error::custom(format!("not base64: {e}")))
    }
}

/// `#[serde(default, with = "b64_opt")]` on an `Option<Vec<u8>>`.
pub mod b64_opt {
    use super::*;

    /// Writes the bytes as a standard base64 string, `None` as null.
    pub fn serialize<S: Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.serialize_str(&STANDARD.encode(v)),
            None => s.serialize_none(),
        }
    }

    /// Reads a standard base64 string, or null.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(s) => STANDARD
                .decode(s)
                .map(Some)
                .map_err(|e| serde::de::Error::custom(format!("not base64: {e}"))),
        }
    }
}
