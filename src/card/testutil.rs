//! Test helpers: building BER-TLV, scripting file reads for `Replay`, and a
//! small deterministic generator for the never-panic tests.

/// One BER-TLV object (long lengths included).
pub(crate) fn tlv(tag: &[u8], value: &[u8]) -> Vec<u8> {
    let mut out = tag.to_vec();
    match value.len() {
        n @ 0..=0x7F => out.push(n as u8),
        n @ 0x80..=0xFF => out.extend([0x81, n as u8]),
        n => out.extend([0x82, (n >> 8) as u8, n as u8]),
    }
    out.extend_from_slice(value);
    out
}

/// A constructed object from its parts.
pub(crate) fn cons(tag: &[u8], parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(tag, &parts.concat())
}

pub(crate) fn h(s: &str) -> Vec<u8> {
    hex::decode(s.replace([' ', ':'], "")).unwrap()
}

pub(crate) fn hx(b: &[u8]) -> String {
    hex::encode_upper(b)
}

/// Replay steps for SELECT by path (FCI with the size) and READ BINARY in chunks.
pub(crate) fn read_steps(cla: u8, path: &[u8], content: &[u8], chunk: usize) -> Vec<(String, String)> {
    let size = content.len();
    let mut steps = vec![(
        format!("{cla:02X}A40904{:02X}{}", path.len(), hx(path)),
        format!("6204 8002{:04X} 9000", size),
    )];
    let mut off = 0;
    while off < size {
        let n = chunk.min(size - off);
        steps.push((
            format!("{cla:02X}B0{:04X}{:02X}", off, n as u8),
            format!("{}9000", hx(&content[off..off + n])),
        ));
        off += n;
    }
    steps
}

/// Replay step for a file that is not there.
pub(crate) fn absent_step(cla: u8, path: &[u8]) -> (String, String) {
    (
        format!("{cla:02X}A40904{:02X}{}", path.len(), hx(path)),
        "6A82".into(),
    )
}

/// xorshift64*: reproducible random bytes without a dependency.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub(crate) fn bytes(&mut self, max_len: usize) -> Vec<u8> {
        let n = self.below(max_len + 1);
        (0..n).map(|_| self.next() as u8).collect()
    }

    /// `seed` damaged: truncated, bytes flipped, or bytes inserted.
    pub(crate) fn mutate(&mut self, seed: &[u8]) -> Vec<u8> {
        let mut v = seed.to_vec();
        for _ in 0..=self.below(4) {
            match self.below(4) {
                0 if !v.is_empty() => v.truncate(self.below(v.len())),
                1 if !v.is_empty() => {
                    let i = self.below(v.len());
                    v[i] ^= 1 << self.below(8);
                }
                2 if !v.is_empty() => {
                    let i = self.below(v.len());
                    v[i] = self.next() as u8;
                }
                _ => {
                    let i = self.below(v.len() + 1);
                    v.insert(i, self.next() as u8);
                }
            }
        }
        v
    }

    /// 10 000 inputs: half random, half damaged copies of the seeds.
    pub(crate) fn inputs(&mut self, seeds: &[Vec<u8>]) -> Vec<Vec<u8>> {
        (0..10_000)
            .map(|i| {
                if i % 2 == 0 || seeds.is_empty() {
                    self.bytes(300)
                } else {
                    let s = &seeds[self.below(seeds.len())];
                    self.mutate(s)
                }
            })
            .collect()
    }
}
