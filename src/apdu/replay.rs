//! A recorded exchange: replays card answers and checks that the commands are
//! the recorded ones. Card logic is tested on it without any reader.

use super::{Exchange, LinkError};
use std::collections::VecDeque;

pub(crate) struct Replay {
    steps: VecDeque<(Vec<u8>, Vec<u8>)>,
}

fn unhex(s: &str) -> Vec<u8> {
    let clean: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    hex::decode(clean).expect("replay scripts are valid hex")
}

impl Replay {
    /// Steps of (expected command, answer), both in hex (spaces allowed).
    pub(crate) fn new<S: AsRef<str>>(steps: impl IntoIterator<Item = (S, S)>) -> Self {
        Replay {
            steps: steps
                .into_iter()
                .map(|(c, r)| (unhex(c.as_ref()), unhex(r.as_ref())))
                .collect(),
        }
    }

    /// Panics when recorded steps were not played (test helper).
    pub(crate) fn finish(&self) {
        assert!(self.steps.is_empty(), "{} steps not played", self.steps.len());
    }
}

impl Exchange for Replay {
    fn exchange(&mut self, apdu: &[u8]) -> Result<Vec<u8>, LinkError> {
        let (expected, answer) = self
            .steps
            .pop_front()
            .ok_or_else(|| LinkError::Protocol("replay exhausted".into()))?;
        if expected != apdu {
            return Err(LinkError::Protocol(format!(
                "replay expected {} got {}",
                hex::encode_upper(&expected),
                hex::encode_upper(apdu)
            )));
        }
        Ok(answer)
    }
}
