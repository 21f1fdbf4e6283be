//! Helpers shared by the fuzz targets and the seed-corpus generator.
//!
//! [`FuzzCard`] is a card whose answers come from the fuzzer, like OpenSC's
//! fuzzing reader: the input is a sequence of chunks `[u16 len, little
//! endian][len bytes]`, and each exchange answers with the next chunk as the
//! raw R-APDU (data + SW1 SW2; a chunk of fewer than 2 bytes is handed over as
//! is, to exercise the "no status word" path). A chunk cut short by the end of
//! the input is answered with what is left; after the last chunk the card is
//! gone (`CardRemoved`).

use lecteur::apdu::{Exchange, LinkError};

/// Largest command APDU lecteur may send on a short-APDU link: 5 + 255 + 1.
pub const MAX_COMMAND: usize = 261;

pub struct FuzzCard<'a> {
    data: &'a [u8],
    /// Commands answered so far.
    pub commands: usize,
}

impl<'a> FuzzCard<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        FuzzCard { data, commands: 0 }
    }

    /// The next chunk, if any input is left.
    pub fn next_chunk(&mut self) -> Option<&'a [u8]> {
        if self.data.is_empty() {
            return None;
        }
        let len = match self.data {
            [a, b, ..] => usize::from(u16::from_le_bytes([*a, *b])),
            _ => 0,
        };
        let rest = self.data.get(2..).unwrap_or(&[]);
        let (chunk, rest) = rest.split_at(len.min(rest.len()));
        self.data = rest;
        Some(chunk)
    }
}

impl Exchange for FuzzCard<'_> {
    fn exchange(&mut self, apdu: &[u8]) -> Result<Vec<u8>, LinkError> {
        // What lecteur sends must be a well-formed short command APDU.
        assert!(
            (4..=MAX_COMMAND).contains(&apdu.len()),
            "lecteur sent a {}-byte command APDU",
            apdu.len()
        );
        let chunk = self.next_chunk().ok_or(LinkError::CardRemoved)?;
        self.commands += 1;
        Ok(chunk.to_vec())
    }
}

/// Encodes R-APDUs as a [`FuzzCard`] input.
pub fn encode_chunks<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for c in chunks {
        let len = u16::try_from(c.len()).expect("an R-APDU fits in 64 KiB");
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(c);
    }
    out
}

/// The card operations the `apdu_response` target drives, chosen by the first
/// input byte (modulo the count). `response` and `transmit` are run by the
/// target itself; the others by [`run`].
pub const OPERATIONS: &[&str] = &[
    "response",
    "transmit",
    "vitale_read",
    "vitale2_read_card",
    "cps_serial",
    "cps_pin_status",
    "cps_certificate_signature",
    "cps_certificate_authentication",
    "cps3_info",
    "cps3_session",
    "cps3_certificates",
    "cps3_stamp",
    "cps3_pin_admin",
    "cps4_info",
    "cps4_session",
    "cps4_certificates",
    "cps4_stamp",
    "cps4_pin_admin",
];

/// The simulated card (`lecteur_sim::card::load`) whose answers seed an operation.
pub fn sim_card_for(op: &str) -> Option<&'static str> {
    match op {
        "response" | "transmit" => None,
        o if o.starts_with("vitale") => Some("vitale2"),
        o if o.starts_with("cps4") => Some("cps4"),
        _ => Some("cps3"),
    }
}

/// Runs one card operation of lecteur over `ex`. Every step runs whatever
/// the previous one gave: errors are expected, panics are the findings.
pub fn run(op: &str, ex: &mut dyn Exchange) {
    use lecteur::card::cps::{self, CpsCard, KeyUsage, SignScheme};
    use lecteur::card::{profile::Profiles, vitale, CardKind};

    let Ok(profiles) = Profiles::builtin() else {
        panic!("the built-in profiles load");
    };
    match op {
        "vitale_read" => drop(vitale::read(ex)),
        "vitale2_read_card" => drop(vitale::read_card(ex, CardKind::Vitale2, &profiles.vitale2)),
        "cps_serial" => drop(cps::serial(ex)),
        "cps_pin_status" => drop(cps::pin_status(ex)),
        "cps_certificate_signature" => drop(cps::certificate(ex, KeyUsage::Signature)),
        "cps_certificate_authentication" => drop(cps::certificate(ex, KeyUsage::Authentication)),
        _ => {
            let (kind, what) = match op.split_once('_') {
                Some(("cps3", what)) => (CardKind::Cps3, what),
                Some(("cps4", what)) => (CardKind::Cps4, what),
                _ => return,
            };
            let card = CpsCard::new(kind, profiles).expect("a CPS kind");
            match what {
                "info" => drop(card.read_info(ex)),
                "stamp" => drop(card.read_stamp(ex)),
                "session" => {
                    let _ = card.select(ex);
                    let _ = card.pin_status(ex);
                    let _ = card.verify_pin(ex, b"1234");
                    let _ = card.read_situations(ex);
                    let _ = card.sign(ex, KeyUsage::Signature, SignScheme::Pkcs1Sha256, &[0x5A; 32]);
                    let scheme = if kind == CardKind::Cps4 {
                        SignScheme::PssSha256
                    } else {
                        SignScheme::Pkcs1Sha256
                    };
                    let _ = card.sign_data(ex, KeyUsage::Authentication, scheme, b"lecteur");
                }
                "certificates" => {
                    let _ = card.select(ex);
                    if let Ok(layout) = card.layout(ex) {
                        let _ = card.certificate_in(ex, &layout, KeyUsage::Signature);
                        let _ = card.certificate_in(ex, &layout, KeyUsage::Authentication);
                    }
                }
                "pin_admin" => {
                    let _ = card.select(ex);
                    let _ = card.change_pin(ex, b"1234", b"4321");
                    let _ = card.unblock_pin(ex, b"12345678", b"1234");
                    let _ = card.pin_status(ex);
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_round_trip() {
        let input = encode_chunks([&[0x90u8, 0x00][..], &[1, 2, 3, 0x61, 0x10], &[]]);
        let mut card = FuzzCard::new(&input);
        assert_eq!(card.exchange(&[0, 0xA4, 0, 0]).unwrap(), [0x90, 0x00]);
        assert_eq!(card.exchange(&[0, 0xA4, 0, 0]).unwrap(), [1, 2, 3, 0x61, 0x10]);
        assert_eq!(card.exchange(&[0, 0xA4, 0, 0]).unwrap(), Vec::<u8>::new());
        assert_eq!(card.exchange(&[0, 0xA4, 0, 0]), Err(LinkError::CardRemoved));
        // A length running past the end gives what is left.
        let mut card = FuzzCard::new(&[0xFF, 0x00, 0x90]);
        assert_eq!(card.exchange(&[0, 0xB0, 0, 0, 0]).unwrap(), [0x90]);
    }
}
