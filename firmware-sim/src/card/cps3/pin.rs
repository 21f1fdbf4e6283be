//! The CPS3 PIN (reference 01) and PUK (reference 02): VERIFY, CHANGE
//! REFERENCE DATA, RESET RETRY COUNTER, and the counters GET DATA shows.
//! Counters live in the card (they survive a reset); the verified state does not.

use crate::card::apdu::{Apdu, Reply, Sw};

pub const PIN_REF: u8 = 0x01;
pub const PUK_REF: u8 = 0x02;

/// A secret with its try counter.
#[derive(Debug, Clone)]
pub struct Secret {
    value: Vec<u8>,
    left: u8,
    max: u8,
}

impl Secret {
    pub fn new(value: &str, left: u8, max: u8) -> Self {
        Secret {
            value: value.as_bytes().to_vec(),
            left: left.min(max),
            max,
        }
    }

    pub fn blocked(&self) -> bool {
        self.left == 0
    }

    pub fn tries_left(&self) -> u8 {
        self.left
    }

    /// One presentation: right → counter back to max; wrong → one try less
    /// and `63 Cx`; blocked → `69 83` even for the right value.
    fn present(&mut self, candidate: &[u8]) -> Result<(), Sw> {
        if self.blocked() {
            return Err(Sw::AUTH_BLOCKED);
        }
        if candidate == self.value.as_slice() {
            self.left = self.max;
            Ok(())
        } else {
            self.left -= 1;
            Err(Sw::tries_left(self.left))
        }
    }

    /// Splits `secret || rest` when `data` starts with the right secret;
    /// otherwise counts a wrong presentation.
    fn present_prefix<'a>(&mut self, data: &'a [u8]) -> Result<&'a [u8], Sw> {
        let n = self.value.len().min(data.len());
        let (head, rest) = data.split_at(n);
        self.present(head)?;
        Ok(rest)
    }
}

/// A new PIN must look like one: 4 to 8 ASCII digits.
fn valid_new_pin(pin: &[u8]) -> bool {
    (4..=8).contains(&pin.len()) && pin.iter().all(u8::is_ascii_digit)
}

#[derive(Debug, Clone)]
pub struct PinState {
    pub pin: Secret,
    pub puk: Secret,
    verified: bool,
    /// The PIN's usage counter (`9D`) when the card file sets one; 0 = spent.
    pub pin_usage: Option<u8>,
}

impl PinState {
    pub fn new(pin: Secret, puk: Secret) -> Self {
        PinState {
            pin,
            puk,
            verified: false,
            pin_usage: None,
        }
    }

    /// A spent usage counter: Cryptolib counts 0 tries left (public-sources
    /// §1.4.3). How the card answers a VERIFY then is not public; this
    /// simulator refuses it as blocked (`69 83`), using no try.
    fn usage_spent(&self) -> bool {
        self.pin_usage == Some(0)
    }

    pub fn verified(&self) -> bool {
        self.verified
    }

    /// A reset ends the verified state.
    pub fn reset(&mut self) {
        self.verified = false;
    }

    fn check_ref(apdu: &Apdu<'_>) -> Result<(), Sw> {
        if apdu.p1 != 0x00 {
            return Err(Sw::WRONG_P1P2);
        }
        if apdu.p2 != PIN_REF {
            return Err(Sw::REF_NOT_FOUND);
        }
        Ok(())
    }

    /// VERIFY `00 20 00 01 [Lc PIN]`; without data: the status, using no try.
    pub fn verify(&mut self, apdu: &Apdu<'_>) -> Result<Reply, Sw> {
        Self::check_ref(apdu)?;
        if apdu.data.is_empty() {
            return if self.pin.blocked() {
                Err(Sw::AUTH_BLOCKED)
            } else if self.verified {
                Ok(Reply::Done)
            } else {
                Err(Sw::tries_left(self.pin.tries_left()))
            };
        }
        if self.usage_spent() {
            self.verified = false;
            return Err(Sw::AUTH_BLOCKED);
        }
        let result = self.pin.present(apdu.data);
        self.verified = result.is_ok();
        result.map(|()| Reply::Done)
    }

    /// CHANGE REFERENCE DATA `00 24 00 01 Lc old||new`.
    pub fn change(&mut self, apdu: &Apdu<'_>) -> Result<Reply, Sw> {
        Self::check_ref(apdu)?;
        if apdu.data.is_empty() {
            return Err(Sw::WRONG_LENGTH);
        }
        let new = match self.pin.present_prefix(apdu.data) {
            Ok(new) => new,
            Err(sw) => {
                self.verified = false;
                return Err(sw);
            }
        };
        if !valid_new_pin(new) {
            return Err(Sw::WRONG_DATA);
        }
        self.pin.value = new.to_vec();
        self.verified = true;
        Ok(Reply::Done)
    }

    /// CHANGE REFERENCE DATA with the new PIN only, `24 01 01 Lc new` (the
    /// CPS4 "implicit test" form): the PIN must have been verified.
    pub fn change_new_only(&mut self, apdu: &Apdu<'_>) -> Result<Reply, Sw> {
        if apdu.p2 != PIN_REF {
            return Err(Sw::REF_NOT_FOUND);
        }
        if apdu.data.is_empty() {
            return Err(Sw::WRONG_LENGTH);
        }
        if self.pin.blocked() {
            return Err(Sw::AUTH_BLOCKED);
        }
        if !self.verified {
            return Err(Sw::SECURITY_NOT_SATISFIED);
        }
        if !valid_new_pin(apdu.data) {
            return Err(Sw::WRONG_DATA);
        }
        self.pin.value = apdu.data.to_vec();
        Ok(Reply::Done)
    }

    /// RESET RETRY COUNTER `00 2C 00 01 Lc PUK||new` or `00 2C 01 01 Lc PUK`.
    pub fn unblock(&mut self, apdu: &Apdu<'_>) -> Result<Reply, Sw> {
        if apdu.p2 != PIN_REF {
            return Err(Sw::REF_NOT_FOUND);
        }
        let with_new = match apdu.p1 {
            0x00 => true,
            0x01 => false,
            _ => return Err(Sw::WRONG_P1P2),
        };
        if apdu.data.is_empty() {
            return Err(Sw::WRONG_LENGTH);
        }
        let new = self.puk.present_prefix(apdu.data)?;
        if with_new == new.is_empty() || (with_new && !valid_new_pin(new)) {
            return Err(Sw::WRONG_DATA);
        }
        if with_new {
            self.pin.value = new.to_vec();
        }
        self.pin.left = self.pin.max;
        self.verified = false;
        Ok(Reply::Done)
    }

    /// The counters of CHV `reference` (PIN or PUK) as the card's GET DATA
    /// shows them: `None` for another reference.
    pub fn counters(&self, reference: u8) -> Option<Counters> {
        let (secret, usage) = match reference {
            PIN_REF => (&self.pin, vec![self.pin_usage.unwrap_or(0xFF)]),
            // The real PUK shows a two-byte usage counter (00 64).
            PUK_REF => (&self.puk, vec![0x00, 0x64]),
            _ => return None,
        };
        // A zero usage counter is how Cryptolib recognises a blocked PIN.
        let usage = if secret.blocked() {
            vec![0; usage.len()]
        } else {
            usage
        };
        Some(Counters {
            max: secret.max,
            left: secret.left,
            usage,
        })
    }
}

/// A CHV's counters: tries allowed, tries left, usage counter (`9A`, `9B`, `9D`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counters {
    pub max: u8,
    pub left: u8,
    pub usage: Vec<u8>,
}
