//! The request mix: which methods, in which proportions, and their request lines.

/// A method the load tool sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Method {
    List,
    Vitale,
    Info,
    Sign,
}

impl Method {
    pub const ALL: [Method; 4] = [Method::List, Method::Vitale, Method::Info, Method::Sign];

    pub fn name(self) -> &'static str {
        match self {
            Method::List => "readers.list",
            Method::Vitale => "vitale.read",
            Method::Info => "cps.info",
            Method::Sign => "cps.sign",
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
    pub fn params(self, pin: &str) -> String {
        match self {
            Method::List | Method::Vitale | Method::Info => "{}".into(),
            Method::Sign => format!(
                r#"{{"pin":{},"key":"signature","algorithm":"rsa-pkcs1-sha256","digest_b64":"{DIGEST_B64}"}}"#,
                serde_json::Value::from(pin)
            ),
        }
    }
}

/// A fixed SHA-256-sized digest to sign.
const DIGEST_B64: &str = "bG9hZCB0ZXN0IGRpZ2VzdCwgMzIgYnl0ZXMgbG9uZyE=";

/// The methods in proportion, e.g. `list=4,vitale=4,info=2,sign=1` gives a
/// cycle of 11 requests.
#[derive(Debug, Clone)]
pub struct Mix(pub Vec<Method>);

impl Mix {
    pub fn parse(s: &str) -> Result<Mix, String> {
        let mut cycle = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, weight) = part.split_once('=').unwrap_or((part, "1"));
            let method = Method::ALL
                .into_iter()
                .find(|m| m.key() == key)
                .ok_or_else(|| format!("unknown method {key:?} in the mix (list, vitale, info, sign)"))?;
            let weight: usize = weight
                .parse()
                .ok()
                .filter(|w| *w <= 1000)
                .ok_or_else(|| format!("bad weight {weight:?} for {key} (0 to 1000)"))?;
            cycle.extend(std::iter::repeat_n(method, weight));
        }
        if cycle.is_empty() {
            return Err("the mix is empty".into());
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

    pub fn has(&self, m: Method) -> bool {
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
