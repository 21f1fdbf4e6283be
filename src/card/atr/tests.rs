use super::*;

fn h(s: &str) -> Vec<u8> {
    hex::decode(s.replace(' ', "")).unwrap()
}

fn names(a: &Atr) -> Vec<&str> {
    a.interface_bytes.iter().map(|b| b.name.as_str()).collect()
}

#[test]
fn every_reference_atr_parses_with_a_good_tck() {
    for (atr, kind) in identify::tests::REFERENCE {
        let a = parse(&h(atr)).unwrap_or_else(|e| panic!("{atr}: {e}"));
        assert_eq!(a.kind, *kind, "{atr}");
        assert!(a.generation.is_some());
        assert_ne!(a.tck_ok, Some(false), "{atr}");
    }
}

#[test]
fn cps3_contact() {
    let a = parse(&h("3B AC 00 40 2A 00 12 25 00 64 80 00 03 10 00 90 00")).unwrap();
    assert_eq!(a.convention, Convention::Direct);
    assert_eq!(names(&a), ["TB1", "TD1", "TC2"]);
    assert_eq!(a.protocols, [Protocol(0)]);
    assert_eq!((a.fi, a.di, a.fmax_mhz), (Some(372), Some(1), Some(5.0)));
    assert_eq!(a.t0.as_ref().unwrap().wi, 42);
    assert_eq!(a.t0.as_ref().unwrap().wt_etu, Some(960 * 42));
    assert_eq!(a.t1, None);
    assert_eq!(a.historical_bytes.len(), 12);
    assert_eq!(a.historical_offset(), 5);
    assert_eq!((a.tck, a.tck_ok), (None, None));
    assert_eq!(a.generation, Some("CPS3 (IAS-ECC), contact"));
}

#[test]
fn cps4_offers_t0_and_t1() {
    let a = parse(&h("3B 9B 18 80 01 00 12 25 00 64 80 04 01 00 00 90 44")).unwrap();
    assert_eq!(a.kind, CardKind::Cps4);
    assert_eq!(names(&a), ["TA1", "TD1", "TD2"]);
    assert_eq!(a.protocols, [Protocol(0), Protocol(1)]);
    assert_eq!((a.fi, a.di), (Some(372), Some(12)));
    assert_eq!(
        a.interface_bytes[0].meaning,
        "Fi=372 (f max 5 MHz), Di=12: 31.0 clock cycles per etu"
    );
    // TD2 announces T=1 but no T=1 bytes follow: defaults.
    let t1 = a.t1.unwrap();
    assert_eq!((t1.ifsc, t1.bwi, t1.cwi, t1.error_detection), (32, 4, 13, "LRC"));
    assert_eq!((a.tck, a.tck_ok), (Some(0x44), Some(true)));
    let t0only = parse(&h("3B DC 18 FF 00 00 12 25 00 64 80 00 04 01 00 90 00")).unwrap();
    assert_eq!(t0only.extra_guard_time, 255);
    assert!(t0only.interface_bytes[1].meaning.contains("minimum guard time"));
    assert_eq!(t0only.tck, None);
}

#[test]
fn cps3_contactless_and_vitale() {
    let a = parse(&h("3B 8F 80 01 00 31 B8 64 04 B0 EC C1 73 94 01 80 82 90 00 0E")).unwrap();
    assert_eq!(a.kind, CardKind::Cps3Contactless);
    assert_eq!(a.protocols, [Protocol(0), Protocol(1)]);
    assert_eq!(a.tck_ok, Some(true));
    let v2 = parse(&h("3B 75 13 00 00 44 09 EA 90 00")).unwrap();
    assert_eq!(names(&v2), ["TA1", "TB1", "TC1"]);
    assert_eq!((v2.fi, v2.di), (Some(372), Some(4)));
    assert_eq!(v2.historical.as_ref().unwrap().layout, "proprietary");
    let v1 = parse(&h("3F 65 25 00 2C 09 69 90 00")).unwrap();
    assert_eq!(v1.convention, Convention::Inverse);
    assert_eq!(v1.kind, CardKind::Vitale1);
    assert_eq!(
        v1.interface_bytes[0].meaning,
        "PI1=5 V, 50 mA (deprecated byte, ignored)"
    );
    assert_eq!(v1.historical_bytes, h("2C 09 69 90 00"));
}

#[test]
fn t1_and_t15_specific_bytes() {
    // TD1: T=1, TA2+TD2 follow; TA2 specific mode T=1; TD2: T=1 with TA3 TB3 TC3 TD3;
    // TD3: T=15 with TA4 TB4.
    let mut atr = h("3B 80 91 81 F1 FE 45 01 3F C3 00");
    let tck = atr[1..].iter().fold(0, |a, b| a ^ b);
    atr.push(tck);
    let a = parse(&atr).unwrap();
    assert_eq!(
        names(&a),
        ["TD1", "TA2", "TD2", "TA3", "TB3", "TC3", "TD3", "TA4", "TB4"]
    );
    assert_eq!(a.protocols, [Protocol(1)]);
    assert_eq!(a.t0, None);
    let m = a.specific_mode.as_ref().unwrap();
    assert_eq!(
        (m.protocol, m.can_change, m.implicit_parameters),
        (Protocol(1), false, false)
    );
    let t1 = a.t1.as_ref().unwrap();
    assert_eq!((t1.ifsc, t1.bwi, t1.cwi, t1.error_detection), (254, 4, 5, "CRC"));
    let t15 = a.t15.as_ref().unwrap();
    assert_eq!(t15.classes, ["A", "B"]);
    assert_eq!(t15.clock_stop, Some("no preference"));
    assert_eq!(t15.spu.as_deref(), Some("00"));
    assert_eq!(a.tck_ok, Some(true));
    atr.pop();
    atr.push(tck ^ 1);
    assert_eq!(parse(&atr).unwrap().tck_ok, Some(false));
}

#[test]
fn typed_errors() {
    assert_eq!(parse(&[]), Err(AtrError::Empty));
    assert_eq!(parse(&[0x3B; 34]), Err(AtrError::TooLong(34)));
    assert_eq!(parse(&[0x3C, 0x00]), Err(AtrError::BadTs(0x3C)));
    assert_eq!(
        parse(&[0x3B]),
        Err(AtrError::Truncated {
            missing: Field::T0,
            offset: 1
        })
    );
    let e = parse(&h("3B AC 00 40 2A 00 12 25 00 64 80 00 03 10 00 90")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "truncated ATR: historical byte 12 of 12 missing at byte 16"
    );
    let e = parse(&h("3B AC 00")).unwrap_err();
    assert_eq!(e.to_string(), "truncated ATR: TD1 missing at byte 3");
    let e = parse(&h("3B 9B 18 80 01 00 12 25 00 64 80 04 01 00 00 90")).unwrap_err();
    assert_eq!(
        e,
        AtrError::Truncated {
            missing: Field::Tck,
            offset: 16
        }
    );
    let e = parse(&h("3B 75 13 00 00 44 09 EA 90 00 00")).unwrap_err();
    assert_eq!(e, AtrError::Trailing { extra: 1, offset: 10 });
}

#[test]
fn rfu_ta1_and_unknown_card() {
    let a = parse(&h("3B 10 7E")).unwrap();
    assert_eq!((a.fi, a.di, a.fmax_mhz), (None, None, None));
    assert_eq!(a.interface_bytes[0].meaning, "Fi RFU (index 7), Di RFU (index E)");
    assert_eq!(a.t0.unwrap().wt_etu, None);
    assert_eq!(a.kind, CardKind::Unknown);
    assert_eq!(a.generation, None);
    assert_eq!(a.historical, None);
}

#[test]
fn json_shape() {
    let a = parse(&h("3B 9B 18 80 01 00 12 25 00 64 80 04 01 00 00 90 44")).unwrap();
    let v = serde_json::to_value(&a).unwrap();
    assert_eq!(v["kind"], "cps4");
    assert_eq!(v["convention"], "direct");
    assert_eq!(v["protocols"], serde_json::json!(["T=0", "T=1"]));
    assert_eq!(v["fi"], 372);
    assert_eq!(v["di"], 12);
    assert_eq!(v["tck"], "44");
    assert_eq!(v["tck_ok"], true);
    assert_eq!(v["historical_bytes"], "0012250064800401000090");
    assert_eq!(v["historical"]["category"], "00");
    assert_eq!(v["interface_bytes"][0]["name"], "TA1");
    assert_eq!(v["interface_bytes"][0]["value"], "18");
    assert_eq!(v["atr"], "3B9B188001001225006480040100009044");
}

/// Every 1- and 2-byte string, and 4-byte strings with TS 3B/3F: no panic
/// (arbitrary lengths are the property test's and the fuzzer's job).
#[test]
fn short_inputs_never_panic() {
    for a in 0..=255u8 {
        let _ = parse(&[a]);
        for b in 0..=255u8 {
            let _ = parse(&[a, b]);
            for c in (0..=255u8).step_by(15) {
                let _ = parse(&[0x3B, a, b, c]);
                let _ = parse(&[0x3F, a, b, c]);
            }
        }
    }
}
