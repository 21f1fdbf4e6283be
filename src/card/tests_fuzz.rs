//! Never-panic checks of whole flows: a "card" answering random bytes and
//! random status words to every command, and a card that answers the right
//! thing up to a random point and then garbles one answer.

use crate::apdu::{Exchange, LinkError};
use crate::card::cps::CpsCard;
use crate::card::profile::Profiles;
use crate::card::testutil::Rng;
use crate::card::{cert, vitale, CardKind};

/// Answers at random; goes away after `budget` exchanges (bounds every loop).
struct RandomCard {
    rng: Rng,
    budget: usize,
}

const SWS: [[u8; 2]; 10] = [
    [0x90, 0x00],
    [0x90, 0x00],
    [0x90, 0x00],
    [0x61, 0x10],
    [0x6C, 0x04],
    [0x62, 0x82],
    [0x6A, 0x82],
    [0x69, 0x82],
    [0x63, 0xC2],
    [0x6B, 0x00],
];

impl Exchange for RandomCard {
    fn exchange(&mut self, _apdu: &[u8]) -> Result<Vec<u8>, LinkError> {
        if self.budget == 0 {
            return Err(LinkError::Protocol("card gone".into()));
        }
        self.budget -= 1;
        let max = if self.rng.below(4) == 0 { 300 } else { 40 };
        let mut out = self.rng.bytes(max);
        out.extend(SWS[self.rng.below(SWS.len())]);
        Ok(out)
    }
}

#[test]
fn random_answers_never_panic_any_flow() {
    let p = Profiles::builtin().unwrap();
    let cards = [
        CpsCard::new(CardKind::Cps3, p).unwrap(),
        CpsCard::new(CardKind::Cps4, p).unwrap(),
    ];
    let mut rng = Rng::new(0xCA4D);
    for i in 0..1500 {
        let mut ex = RandomCard {
            rng: Rng::new(rng.next()),
            budget: 10 + rng.below(200),
        };
        let card = &cards[i % 2];
        let _ = card.read_info(&mut ex);
        let _ = card.read_situations(&mut ex);
        let _ = card.read_stamp(&mut ex);
        let _ = card.pin_status(&mut ex);
        let _ = card.verify_pin(&mut ex, b"1234");
        let _ = card.sign(
            &mut ex,
            crate::card::cps::KeyUsage::Signature,
            crate::card::cps::SignScheme::Pkcs1Sha256,
            &[0; 32],
        );
        let _ = vitale::read_card(&mut ex, CardKind::Vitale2, &p.vitale2);
    }
}

#[test]
fn random_certificates_never_panic() {
    let seed = include_bytes!("../../firmware-sim/fixtures/ca.cert.der").to_vec();
    let mut rng = Rng::new(509);
    for input in rng.inputs(&[seed]) {
        let _ = cert::parse(&input);
    }
}

/// The simulated card, with one answer damaged (or the card pulled) at a
/// chosen exchange: real structures, broken in one place.
struct Garbled {
    sim: Box<dyn lecteur_sim::card::SimCard>,
    rng: Rng,
    at: usize,
    n: usize,
}

impl Exchange for Garbled {
    fn exchange(&mut self, apdu: &[u8]) -> Result<Vec<u8>, LinkError> {
        self.n += 1;
        let answer = self.sim.transmit(apdu);
        if self.n != self.at {
            return Ok(answer);
        }
        let (data, sw) = answer.split_at(answer.len().saturating_sub(2));
        Ok(match self.rng.below(5) {
            0 => return Err(LinkError::Protocol("card removed".into())),
            1 => [self.rng.mutate(data), sw.to_vec()].concat(),
            2 => [&data[..self.rng.below(data.len() + 1)], sw].concat(),
            3 => self.rng.bytes(4),
            _ => [self.rng.bytes(300), sw.to_vec()].concat(),
        })
    }
}

#[test]
fn one_damaged_answer_never_panics_and_never_half_reads() {
    let p = Profiles::builtin().unwrap();
    let mut rng = Rng::new(0x5EED);
    for (name, kind) in [
        ("cps3", CardKind::Cps3),
        ("cps4", CardKind::Cps4),
        ("vitale2", CardKind::Vitale2),
    ] {
        for _ in 0..60 {
            let mut ex = Garbled {
                sim: lecteur_sim::card::load(name).unwrap(),
                rng: Rng::new(rng.next()),
                at: 1 + rng.below(60),
                n: 0,
            };
            if kind == CardKind::Vitale2 {
                if let Ok(d) = vitale::read_card(&mut ex, kind, &p.vitale2) {
                    // Whatever came back is whole: three people, or an error.
                    assert!(
                        d.beneficiaries.len() == 3 || !d.warnings.is_empty() || !d.extra.is_empty(),
                        "{d:?}"
                    );
                }
                continue;
            }
            let card = CpsCard::new(kind, p).unwrap();
            let _ = card.read_info(&mut ex);
            let _ = card
                .select(&mut ex)
                .and_then(|_| card.verify_pin(&mut ex, b"1234"));
            let _ = card.read_situations(&mut ex);
        }
    }
}
