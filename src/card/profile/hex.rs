//! Byte strings written as hex in profiles ("E8 28 BD", "3F00:D003"), checked
//! when the profile is read so the card code can trust their shape.

use serde::Deserialize;

/// A hex value of the wrong shape (the text as written).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HexError {
    /// Not hex digits (spaces, `:` and `_` aside) or an odd count.
    #[error("{0:?} is not hex bytes")]
    NotHex(String),
    /// A byte string (AID) empty or longer than 16 bytes.
    #[error("{0:?}: expected 1 to 16 bytes")]
    Length(String),
    /// Not a well-formed BER tag of one to three bytes.
    #[error("{0:?} is not a BER tag")]
    NotTag(String),
    /// A file id not exactly two bytes.
    #[error("{0:?}: a file id is two bytes")]
    NotFid(String),
    /// A path not `3F00` followed by up to seven two-byte file ids.
    #[error("{0:?}: a path is 3F00 followed by file ids")]
    NotPath(String),
}

fn unhex(s: &str) -> Result<Vec<u8>, HexError> {
    let clean: String = s.chars().filter(|c| !matches!(c, ' ' | ':' | '_')).collect();
    hex::decode(&clean).map_err(|_| HexError::NotHex(s.to_string()))
}

/// Any non-empty byte string (AIDs).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Hex(pub Vec<u8>);

impl TryFrom<String> for Hex {
    type Error = HexError;
    fn try_from(s: String) -> Result<Self, HexError> {
        let b = unhex(&s)?;
        if b.is_empty() || b.len() > 16 {
            return Err(HexError::Length(s));
        }
        Ok(Hex(b))
    }
}

/// A BER tag of one to three bytes, well formed (multi-byte only after `xF`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(try_from = "String")]
pub struct Tag(pub Vec<u8>);

impl TryFrom<String> for Tag {
    type Error = HexError;
    fn try_from(s: String) -> Result<Self, HexError> {
        let b = unhex(&s)?;
        let ok = match b.as_slice() {
            [t] => t & 0x1F != 0x1F,
            [t, rest @ ..] if rest.len() <= 2 => {
                t & 0x1F == 0x1F
                    && rest.last().is_some_and(|l| l & 0x80 == 0)
                    && rest[..rest.len() - 1].iter().all(|x| x & 0x80 != 0)
            }
            _ => false,
        };
        if ok {
            Ok(Tag(b))
        } else {
            Err(HexError::NotTag(s))
        }
    }
}

/// A file identifier: two bytes, relative to the current DF.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Fid(pub [u8; 2]);

impl TryFrom<String> for Fid {
    type Error = HexError;
    fn try_from(s: String) -> Result<Self, HexError> {
        match unhex(&s)?.as_slice() {
            [a, b] => Ok(Fid([*a, *b])),
            _ => Err(HexError::NotFid(s)),
        }
    }
}

/// A path from the MF: `3F00` then up to seven more file ids.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct FilePath(pub Vec<u8>);

impl TryFrom<String> for FilePath {
    type Error = HexError;
    fn try_from(s: String) -> Result<Self, HexError> {
        let b = unhex(&s)?;
        if b.len() < 2 || b.len() % 2 != 0 || b.len() > 16 || b[..2] != [0x3F, 0x00] {
            return Err(HexError::NotPath(s));
        }
        Ok(FilePath(b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_are_checked() {
        assert_eq!(
            Hex::try_from("E8 28:bd".to_string()).unwrap().0,
            [0xE8, 0x28, 0xBD]
        );
        assert!(Hex::try_from("E8 2".to_string()).is_err());
        assert!(Tag::try_from("5F37".to_string()).is_ok());
        assert!(Tag::try_from("9F".to_string()).is_err());
        assert!(Tag::try_from("5F81".to_string()).is_err());
        assert!(Tag::try_from("80 81".to_string()).is_err());
        assert!(FilePath::try_from("3F00 0001 E001".to_string()).is_ok());
        assert!(FilePath::try_from("0001 E001".to_string()).is_err());
        assert!(Fid::try_from("D0 01".to_string()).is_ok());
    }
}
