//! The request mix: which methods, in which proportions, and their params
//! (serialised once, from the contract's types).

use lecteur_proto::cps::{KeyUsage, SignAlgorithm, SignParams, VerifyPinParams};
use lecteur_proto::method::{CpsInfo, CpsSign, ReadersList, VitaleRead};
use lecteur_proto::Method as _;
use serde::Serialize;

/// A method the load tool sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Method {
    List,
    Vitale,
    Info,
    Sign,
}

impl Method {
    pub(crate) const ALL: [Method; 4] = [Method::List, Method::Vitale, Method::Info, Method::Sign];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Method::List => ReadersList::NAME,
            Method::Vitale => VitaleRead::NAME,
            Method::Info => CpsInfo::NAME,
            Method::Sign => CpsSign::NAME,
        }
    }

    fn key(self) -> &'static str {
        match self {
            Method::List => "list",
            Method::Vitale => "vitale",
            Method::Info => "info",
            Method::Sign => "sign",
        }
    }

    /// The `params` object of one request. A signature carries the PIN: any
    /// other connection's operation on the CPS closes this connection's
    /// verification (the PIN policy), so a verification made once would not last.
    pub(crate) fn params(self, pin: &str) -> String {
        match self {
            Method::List | Method::Vitale | Method::Info => "{}".into(),
            Method::Sign => json(&SignParams {
                reader: None,
                pin: Some(pin.to_string().into()),
                pinpad: false,
                allow_last_try: false,
                key: KeyUsage::Signature,
                algorithm: SignAlgorithm::RsaPkcs1Sha256,
                data: None,
                digest: Some(DIGEST.to_vec()),
            }),
        }
    }
}

/// `cps.verify_pin`'s params.
pub(crate) fn verify_params(pin: &str) -> String {
    json(&VerifyPinParams {
        pin: Some(pin.to_string().into()),
        ..Default::default()
    })
}

fn json<P: Serialize>(params: &P) -> String {
    // Strings, bytes and flags: serialising cannot fail.
    serde_json::to_string(params).unwrap_or_default()
}

/// A fixed SHA-256-sized digest to sign.
const DIGEST: &[u8; 32] = b"load test digest, 32 bytes long!";

/// A mix that is not one.
#[derive(Debug, thiserror::Error)]
pub(crate) enum MixError {
    #[error("unknown method {0:?} in the mix (list, vitale, info, sign)")]
    Method(String),
    #[error("bad weight {weight:?} for {key} (0 to 1000)")]
    Weight { weight: String, key: String },
    #[error("the mix is empty")]
    Empty,
}

/// The methods in proportion, e.g. `list=4,vitale=4,info=2,sign=1` gives a
/// cycle of 11 requests.
#[derive(Debug, Clone)]
pub(crate) struct Mix(pub Vec<Method>);

impl Mix {
    pub(crate) fn parse(s: &str) -> Result<Mix, MixError> {
        let mut cycle = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, weight) = part.split_once('=').unwrap_or((part, "1"));
            let method = Method::ALL
                .into_iter()
                .find(|m| m.key() == key)
                .ok_or_else(|| MixError::Method(key.to_string()))?;
            let weight: usize =
                weight
                    .parse()
                    .ok()
                    .filter(|w| *w <= 1000)
                    .ok_or_else(|| MixError::Weight {
                        weight: weight.to_string(),
                        key: key.to_string(),
                    })?;
            cycle.extend(std::iter::repeat_n(method, weight));
        }
        if cycle.is_empty() {
            return Err(MixError::Empty);
        }
        // Spread each method over the cycle rather than in runs.
        let n = cycle.len();
        let mut spread: Vec<(usize, Method)> = Vec::with_capacity(n);
        for m in Method::ALL {
            let count = cycle.iter().filter(|c| **c == m).count();
            spread.extend((0..count).map(|i| (i * n / count.max(1) * 1000 + m as usize, m)));
        }
        spread.sort();
        Ok(Mix(spread.into_iter().map(|(_, m)| m).collect()))
    }

    pub(crate) fn has(&self, m: Method) -> bool {
        self.0.contains(&m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_weights_and_spreads_them() {
        let mix = Mix::parse("list=2,sign=1,vitale=2").unwrap();
        assert_eq!(mix.0.len(), 5);
        assert_eq!(mix.0.iter().filter(|m| **m == Method::Sign).count(), 1);
        assert_ne!(mix.0[0], mix.0[1], "{:?}", mix.0);
        assert!(Mix::parse("list=x").is_err());
        assert!(Mix::parse("write=1").is_err());
        assert!(Mix::parse("list=0").is_err());
        assert_eq!(Mix::parse("vitale").unwrap().0, vec![Method::Vitale]);
    }
}
