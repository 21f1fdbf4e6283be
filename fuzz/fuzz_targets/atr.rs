//! The ATR parser: never panics; an accepted ATR is at most 33 bytes, keeps its
//! bytes, agrees with the identification table, and serialises to JSON.
#![no_main]

use lecteur::card::atr;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let kind = atr::identify(data);
    match atr::parse(data) {
        Ok(a) => {
            assert!(data.len() <= atr::MAX_LEN);
            assert_eq!(a.atr, data);
            assert_eq!(a.kind, kind);
            assert_eq!(a.historical_bytes.len(), usize::from(data[1] & 0x0F));
            assert_eq!(
                a.historical_offset() + a.historical_bytes.len() + usize::from(a.tck.is_some()),
                data.len()
            );
            serde_json::to_string(&a).expect("an Atr always serialises");
        }
        Err(atr::AtrError::TooLong(n)) => assert!(n > atr::MAX_LEN),
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
