//! Finishing SHA-1 / SHA-256 from a host-supplied intermediate state, as the
//! card does for PSO HASH (the host hashes all full blocks but the last).

use sha2::digest::generic_array::GenericArray;

/// The hash algorithms the CPS3 knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAlg {
    Sha1,
    Sha256,
}

impl HashAlg {
    pub fn digest_len(self) -> usize {
        match self {
            HashAlg::Sha1 => 20,
            HashAlg::Sha256 => 32,
        }
    }

    /// The DER prefix of the PKCS#1 DigestInfo for this hash.
    pub fn digest_info_prefix(self) -> &'static [u8] {
        match self {
            HashAlg::Sha1 => &[
                0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2B, 0x0E, 0x03, 0x02, 0x1A, 0x05, 0x00, 0x04, 0x14,
            ],
            HashAlg::Sha256 => &[
                0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
                0x05, 0x00, 0x04, 0x20,
            ],
        }
    }

    /// The initial chaining value (FIPS 180-4), big-endian bytes.
    pub fn initial_state(self) -> Vec<u8> {
        let words: &[u32] = match self {
            HashAlg::Sha1 => &[0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0],
            HashAlg::Sha256 => &[
                0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
                0x5be0cd19,
            ],
        };
        words.iter().flat_map(|w| w.to_be_bytes()).collect()
    }

    /// Runs the compression function over whole 64-byte blocks.
    pub fn compress(self, state: &mut [u8], blocks: &[u8]) {
        let mut words: Vec<u32> = state
            .chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let blocks: Vec<_> = blocks
            .chunks_exact(64)
            .map(|b| *GenericArray::from_slice(b))
            .collect();
        match self {
            HashAlg::Sha1 => {
                if let Ok(w) = <&mut [u32; 5]>::try_from(words.as_mut_slice()) {
                    sha1::compress(w, &blocks);
                }
            }
            HashAlg::Sha256 => {
                if let Ok(w) = <&mut [u32; 8]>::try_from(words.as_mut_slice()) {
                    sha2::compress256(w, &blocks);
                }
            }
        }
        for (out, w) in state.chunks_exact_mut(4).zip(words) {
            out.copy_from_slice(&w.to_be_bytes());
        }
    }

    /// The digest of a message whose first `bytes_done` bytes (a multiple of
    /// 64) left the chaining value `state`, and whose remaining bytes are
    /// `last`. `None` when the inputs cannot come from a real hash.
    pub fn finish(self, state: &[u8], bytes_done: u64, last: &[u8]) -> Option<Vec<u8>> {
        if state.len() != self.digest_len() || bytes_done % 64 != 0 || last.len() > 64 {
            return None;
        }
        let total_bits = bytes_done.checked_add(last.len() as u64)?.checked_mul(8)?;
        let mut tail = last.to_vec();
        tail.push(0x80);
        while tail.len() % 64 != 56 {
            tail.push(0);
        }
        tail.extend_from_slice(&total_bits.to_be_bytes());
        let mut state = state.to_vec();
        self.compress(&mut state, &tail);
        Some(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::Digest;

    fn reference(alg: HashAlg, msg: &[u8]) -> Vec<u8> {
        match alg {
            HashAlg::Sha1 => sha1::Sha1::digest(msg).to_vec(),
            HashAlg::Sha256 => sha2::Sha256::digest(msg).to_vec(),
        }
    }

    #[test]
    fn matches_the_library_for_every_split() {
        let msg: Vec<u8> = (0..300u32).map(|i| (i * 7) as u8).collect();
        for alg in [HashAlg::Sha1, HashAlg::Sha256] {
            for len in [0usize, 1, 55, 56, 63, 64, 65, 128, 200, 300] {
                let msg = &msg[..len];
                // The host keeps the last (possibly full) block for the card.
                let full = if len == 0 { 0 } else { (len - 1) / 64 * 64 };
                let mut state = alg.initial_state();
                alg.compress(&mut state, &msg[..full]);
                let got = alg.finish(&state, full as u64, &msg[full..]).unwrap();
                assert_eq!(got, reference(alg, msg), "{alg:?} {len}");
            }
        }
    }

    #[test]
    fn rejects_impossible_inputs() {
        let s = HashAlg::Sha256.initial_state();
        assert!(HashAlg::Sha256.finish(&s, 3, b"x").is_none());
        assert!(HashAlg::Sha256.finish(&s[..20], 0, b"x").is_none());
        assert!(HashAlg::Sha256.finish(&s, 0, &[0; 65]).is_none());
        assert!(HashAlg::Sha256.finish(&s, u64::MAX - 63, b"x").is_none());
    }
}
