//! Property tests of the parsers that take outside bytes: the ATR parser
//! (never panics, round-trips well-formed ATRs) and the NIR key; and the
//! trace's masking of commands (never panics, never shows PIN data).

use lecteur::apdu::{safe_command, Body, SHOWN_MAX};
use lecteur::card::atr::{self, AtrError, CardKind, Convention, Protocol};
use lecteur::card::nir;
use proptest::prelude::*;

/// A well-formed ATR described field by field.
#[derive(Debug, Clone)]
struct Spec {
    inverse: bool,
    /// TAi, TBi, TCi of each group; TDi is present for every group but the last.
    groups: Vec<[Option<u8>; 3]>,
    /// T announced by TD1, TD2... (one per group but the last).
    tds: Vec<u8>,
    historical: Vec<u8>,
}

impl Spec {
    fn tck_expected(&self) -> bool {
        self.tds.iter().any(|&t| t != 0)
    }

    fn bytes(&self) -> Vec<u8> {
        let y = |i: usize| -> u8 {
            let g = &self.groups[i];
            let mut y = 0;
            for (bit, b) in g.iter().enumerate() {
                if b.is_some() {
                    y |= 1 << bit;
                }
            }
            if i < self.tds.len() {
                y |= 8;
            }
            y
        };
        let mut out = vec![if self.inverse { 0x3F } else { 0x3B }];
        out.push(y(0) << 4 | self.historical.len() as u8);
        for (i, g) in self.groups.iter().enumerate() {
            out.extend(g.iter().flatten());
            if let Some(&t) = self.tds.get(i) {
                out.push(y(i + 1) << 4 | t);
            }
        }
        out.extend(&self.historical);
        if self.tck_expected() {
            let tck = out[1..].iter().fold(0, |a, b| a ^ b);
            out.push(tck);
        }
        out
    }

    /// (name, byte) of every interface byte, in ATR order.
    fn interface(&self) -> Vec<(String, u8)> {
        let mut v = Vec::new();
        for (i, g) in self.groups.iter().enumerate() {
            for (c, b) in ['A', 'B', 'C'].iter().zip(g) {
                if let Some(b) = b {
                    v.push((format!("T{c}{}", i + 1), *b));
                }
            }
            if let Some(&t) = self.tds.get(i) {
                let td = self.bytes_td(i, t);
                v.push((format!("TD{}", i + 1), td));
            }
        }
        v
    }

    fn bytes_td(&self, i: usize, t: u8) -> u8 {
        let g = &self.groups[i + 1];
        let mut y = 0;
        for (bit, b) in g.iter().enumerate() {
            if b.is_some() {
                y |= 1 << bit;
            }
        }
        if i + 1 < self.tds.len() {
            y |= 8;
        }
        y << 4 | t
    }

    fn protocols(&self) -> Vec<Protocol> {
        let mut p: Vec<Protocol> = Vec::new();
        for &t in &self.tds {
            if t != 15 && !p.contains(&Protocol(t)) {
                p.push(Protocol(t));
            }
        }
        if self.tds.is_empty() {
            p.push(Protocol(0));
        }
        p
    }
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        any::<bool>(),
        prop::collection::vec(prop::array::uniform3(prop::option::of(any::<u8>())), 1..6),
        prop::collection::vec(0u8..16, 5),
        prop::collection::vec(any::<u8>(), 0..16),
    )
        .prop_map(|(inverse, groups, tds, historical)| {
            let n = groups.len() - 1;
            Spec {
                inverse,
                groups,
                tds: tds[..n].to_vec(),
                historical,
            }
        })
        .prop_filter("at most 33 bytes", |s| s.bytes().len() <= atr::MAX_LEN)
}

/// Mostly ATR-looking bytes (TS 3B/3F), some anything.
fn raw_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..40),
        (prop::bool::ANY, prop::collection::vec(any::<u8>(), 0..36)).prop_map(|(inv, rest)| {
            let mut v = vec![if inv { 0x3F } else { 0x3B }];
            v.extend(rest);
            v
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn parse_never_panics(bytes in raw_bytes()) {
        match atr::parse(&bytes) {
            Ok(a) => {
                prop_assert!(bytes.len() <= atr::MAX_LEN);
                prop_assert_eq!(&a.atr, &bytes);
                prop_assert_eq!(a.kind, atr::identify(&bytes));
                serde_json::to_string(&a).unwrap();
            }
            Err(AtrError::TooLong(n)) => prop_assert!(n > atr::MAX_LEN),
            Err(_) => {}
        }
    }

    #[test]
    fn well_formed_atrs_parse_back(s in spec()) {
        let bytes = s.bytes();
        let a = atr::parse(&bytes).map_err(|e| TestCaseError::fail(format!("{e}: {}", hex::encode_upper(&bytes))))?;
        prop_assert_eq!(a.convention, if s.inverse { Convention::Inverse } else { Convention::Direct });
        let got: Vec<(String, u8)> = a.interface_bytes.iter().map(|b| (b.name.clone(), b.byte)).collect();
        prop_assert_eq!(got, s.interface());
        prop_assert_eq!(&a.historical_bytes, &s.historical);
        prop_assert_eq!(a.historical.is_some(), !s.historical.is_empty());
        prop_assert_eq!(&a.protocols, &s.protocols());
        prop_assert_eq!(a.ta1, s.groups[0][0]);
        prop_assert_eq!(a.extra_guard_time, s.groups[0][2].unwrap_or(0));
        if let Some(Some(ta2)) = s.groups.get(1).map(|g| g[0]) {
            prop_assert_eq!(a.specific_mode.as_ref().map(|m| m.protocol), Some(Protocol(ta2 & 0x0F)));
        }
        if let (Some(t0), Some(Some(tc2))) = (&a.t0, s.groups.get(1).map(|g| g[2])) {
            prop_assert_eq!(t0.wi, tc2);
        }
        // The first TA after a TD announcing T=1 (i > 2) is the IFSC.
        if let Some(t1) = &a.t1 {
            let ifsc = (2..s.groups.len())
                .filter(|&i| s.tds[i - 1] == 1)
                .find_map(|i| s.groups[i][0])
                .unwrap_or(32);
            prop_assert_eq!(t1.ifsc, ifsc);
        }
        if s.tck_expected() {
            prop_assert_eq!(a.tck, bytes.last().copied());
            prop_assert_eq!(a.tck_ok, Some(true));
            let mut bad = bytes.clone();
            *bad.last_mut().unwrap() ^= 0x5A;
            prop_assert_eq!(atr::parse(&bad).unwrap().tck_ok, Some(false));
        } else {
            prop_assert_eq!((a.tck, a.tck_ok), (None, None));
        }
        // One byte less is truncated; one byte more is trailing (or too long).
        let short = atr::parse(&bytes[..bytes.len() - 1]);
        prop_assert!(matches!(short, Err(AtrError::Truncated { .. })), "{:?}", short);
        let mut long = bytes.clone();
        long.push(0);
        let long = atr::parse(&long);
        prop_assert!(matches!(long, Err(AtrError::Trailing { .. } | AtrError::TooLong(_))), "{:?}", long);
    }
}

/// Digits of the given length.
fn digits(n: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(0u8..10, n).prop_map(|d| d.iter().map(|x| char::from(b'0' + x)).collect())
}

/// A 13-character NIR number: all digits, or a Corsican department 2A/2B.
fn nir_number() -> impl Strategy<Value = String> {
    prop_oneof![
        digits(13),
        (
            digits(5),
            prop::sample::select(vec!["2A", "2B", "2a", "2b"]),
            digits(6)
        )
            .prop_map(|(a, d, b)| format!("{a}{d}{b}")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn computed_key_validates_and_no_other_does(number in nir_number(), other in 0u8..100) {
        let k = nir::key(&number).expect("13 characters, digits or 2A/2B");
        prop_assert!((1..=97).contains(&k));
        let nir_str = format!("{number}{k:02}");
        let key_str = format!("{k:02}");
        prop_assert_eq!(nir::split(&nir_str), Some((number.as_str(), key_str.as_str(), true)));
        if other != k {
            let wrong = format!("{number}{other:02}");
            prop_assert_eq!(nir::split(&wrong).map(|s| s.2), Some(false));
        }
    }

    #[test]
    fn non_digit_keys_never_validate(number in digits(13), key in "[^0-9]{2}|[0-9][^0-9]|[^0-9][0-9]") {
        let s = format!("{number}{key}");
        prop_assert!(nir::split(&s).is_none_or(|(_, _, ok)| !ok));
    }

    #[test]
    fn corsica_2a_is_19_and_2b_is_18(head in digits(5), tail in digits(6)) {
        let key = |d: &str| nir::key(&format!("{head}{d}{tail}"));
        prop_assert_eq!(key("2A"), key("19"));
        prop_assert_eq!(key("2a"), key("19"));
        prop_assert_eq!(key("2B"), key("18"));
        prop_assert_eq!(key("2b"), key("18"));
        prop_assert_eq!(key("2C"), None);
    }
}

#[test]
fn kinds_cover_every_family() {
    let kinds: Vec<CardKind> = atr::TABLE.iter().map(|e| e.kind).collect();
    for k in [
        CardKind::Cps3,
        CardKind::Cps3Contactless,
        CardKind::Cps4,
        CardKind::Vitale1,
        CardKind::Vitale2,
    ] {
        assert!(kinds.contains(&k), "{k:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    /// Any command, well-formed or not: no panic; PIN commands never show
    /// data nor its length; shown data is the command's own, cut at SHOWN_MAX.
    #[test]
    fn the_trace_masks_any_command(
        cla: u8,
        ins in prop::sample::select(vec![0x20u8, 0x21, 0x24, 0x25, 0x2C, 0x2D, 0xA4, 0x22, 0xCA, 0xCB, 0x2A, 0x88, 0xB0]),
        p1: u8,
        p2: u8,
        tail in prop::collection::vec(any::<u8>(), 0..300),
        well_formed: bool,
        le: Option<u8>,
    ) {
        let mut apdu = vec![cla, ins, p1, p2];
        if well_formed {
            let data = &tail[..tail.len().min(255)];
            if !data.is_empty() {
                apdu.push(data.len() as u8);
                apdu.extend_from_slice(data);
            }
            apdu.extend(le);
        } else {
            apdu.extend_from_slice(&tail);
        }
        let c = safe_command(&apdu);
        prop_assert_eq!(c.header, [cla, ins, p1, p2]);
        let secret = [0x20, 0x21, 0x24, 0x25, 0x2C, 0x2D].contains(&ins);
        if secret {
            prop_assert!(matches!(c.body, Body::Secret | Body::Empty));
        }
        if let Some(shown) = c.body.shown() {
            prop_assert!(!secret && cla < 0x80);
            let lc = usize::from(apdu[4]);
            prop_assert_eq!(shown, &apdu[5..5 + lc.min(SHOWN_MAX)]);
        } else if well_formed && cla < 0x80 && [0xA4, 0x22, 0xCA, 0xCB].contains(&ins) && !tail.is_empty() {
            prop_assert!(false, "safe data hidden: {:02X?}", apdu);
        }
    }
}
