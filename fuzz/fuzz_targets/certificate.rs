//! The X.509 certificate decoder (DER from the card): never panics.
#![no_main]

use lecteur::card::cert;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = cert::parse(data);
});
