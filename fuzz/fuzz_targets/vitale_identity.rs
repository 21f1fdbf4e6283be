//! The Vitale 2 identity file decoder on raw card bytes: never panics, and a
//! decoded file respects its bounds.
#![no_main]

use lecteur::card::vitale;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = vitale::parse_identity(data) {
        assert!(
            v.beneficiaries.len() <= 16,
            "{} beneficiaries",
            v.beneficiaries.len()
        );
        for b in &v.beneficiaries {
            assert_eq!(b.nir.chars().count() + b.nir_key.chars().count(), 15);
            assert!(!b.nir_valid || lecteur::card::nir::split(&format!("{}{}", b.nir, b.nir_key)).is_some());
        }
        let _ = serde_json::to_string(&v);
    }
});
