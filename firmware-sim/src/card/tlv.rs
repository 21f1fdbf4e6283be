//! Building BER-TLV data objects (card contents are made at load time).

/// `tag || length || value`, with the definite BER length form
/// (`xx`, `81 xx`, `82 xx xx`, `83 xx xx xx`).
pub fn tlv(tag: &[u8], value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(tag.len() + 4 + value.len());
    out.extend_from_slice(tag);
    out.extend_from_slice(&ber_len(value.len()));
    out.extend_from_slice(value);
    out
}

/// A constructed object from already encoded children.
pub fn constructed(tag: &[u8], children: &[Vec<u8>]) -> Vec<u8> {
    tlv(tag, &children.concat())
}

/// The BER definite length of `n` bytes.
pub fn ber_len(n: usize) -> Vec<u8> {
    let bytes = (n as u32).to_be_bytes();
    match n {
        0..=0x7F => vec![n as u8],
        0x80..=0xFF => vec![0x81, bytes[3]],
        0x100..=0xFFFF => vec![0x82, bytes[2], bytes[3]],
        _ => vec![0x83, bytes[1], bytes[2], bytes[3]],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths() {
        assert_eq!(tlv(&[0x80], b"AB"), [0x80, 2, b'A', b'B']);
        assert_eq!(tlv(&[0x65], &[0; 200])[..3], [0x65, 0x81, 200]);
        assert_eq!(tlv(&[0x7F, 0x21], &[0; 300])[..5], [0x7F, 0x21, 0x82, 1, 0x2C]);
    }
}
