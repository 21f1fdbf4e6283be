//! The VIHF / XML-DSig verifier (an assertion from anywhere: a file, a
//! server): never panics.
#![no_main]

use lecteur::dmp::xmldsig;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = xmldsig::verify(text);
    }
});
