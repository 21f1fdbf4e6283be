//! What `cps.authenticate`'s `digest_info_b64` accepts: a DER PKCS#1
//! DigestInfo (RFC 8017 §9.2) of one of the hashes a TLS 1.2 client signs
//! with. Shared by lecteurd (which checks it) and the PKCS#11 module (which
//! recognises a SHA-256 one); lecteur's card tests compare these prefixes
//! with the `rsa` crate's tables.

/// The hashes a DigestInfo may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestAlg {
    /// SHA-1 (20-byte digest).
    Sha1,
    /// SHA-224 (28 bytes).
    Sha224,
    /// SHA-256 (32 bytes).
    Sha256,
    /// SHA-384 (48 bytes).
    Sha384,
    /// SHA-512 (64 bytes).
    Sha512,
}

impl DigestAlg {
    /// Every hash, shortest digest first.
    pub const ALL: [DigestAlg; 5] = [
        DigestAlg::Sha1,
        DigestAlg::Sha224,
        DigestAlg::Sha256,
        DigestAlg::Sha384,
        DigestAlg::Sha512,
    ];

    /// The DER prefix before the digest (RFC 8017 §9.2, note 1).
    pub fn prefix(self) -> &'static [u8] {
        match self {
            DigestAlg::Sha1 => &[
                0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14,
            ],
            DigestAlg::Sha224 => &[
                0x30, 0x2d, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x04,
                0x05, 0x00, 0x04, 0x1c,
            ],
            DigestAlg::Sha256 => &[
                0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
                0x05, 0x00, 0x04, 0x20,
            ],
            DigestAlg::Sha384 => &[
                0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02,
                0x05, 0x00, 0x04, 0x30,
            ],
            DigestAlg::Sha512 => &[
                0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03,
                0x05, 0x00, 0x04, 0x40,
            ],
        }
    }

    /// The digest's length in bytes.
    pub fn hash_len(self) -> usize {
        match self {
            DigestAlg::Sha1 => 20,
            DigestAlg::Sha224 => 28,
            DigestAlg::Sha256 => 32,
            DigestAlg::Sha384 => 48,
            DigestAlg::Sha512 => 64,
        }
    }

    /// `prefix ‖ digest`.
    pub fn digest_info(self, digest: &[u8]) -> Vec<u8> {
        [self.prefix(), digest].concat()
    }
}

/// Splits a DigestInfo into its hash and digest; `None` unless it is exactly
/// the PKCS#1 encoding of one of [`DigestAlg`] with a digest of the right size.
pub fn parse_digest_info(di: &[u8]) -> Option<(DigestAlg, &[u8])> {
    DigestAlg::ALL.into_iter().find_map(|alg| {
        let digest = di.strip_prefix(alg.prefix())?;
        (digest.len() == alg.hash_len()).then_some((alg, digest))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_digest_info_splits_into_its_hash_and_digest() {
        for alg in DigestAlg::ALL {
            let d = vec![7; alg.hash_len()];
            let di = alg.digest_info(&d);
            assert_eq!(parse_digest_info(&di), Some((alg, &d[..])));
            // The DER length byte covers the rest.
            assert_eq!(di[1] as usize, di.len() - 2);
            assert_eq!(parse_digest_info(&di[..di.len() - 1]), None);
        }
        assert_eq!(parse_digest_info(&[0; 32]), None);
        assert_eq!(parse_digest_info(&[]), None);
    }
}
