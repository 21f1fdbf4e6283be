//! The PKCS#15 directory parsers (EF.DIR, ODF, PrKDF, CDF, AODF, DODF: DER
//! from the card). The first byte picks the parser.
#![no_main]

use lecteur::card::cps::AID_CPS3;
use lecteur::card::pkcs15::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, file)) = data.split_first() else {
        return;
    };
    match which % 6 {
        0 => drop(parse::dir(file)),
        1 => drop(parse::odf(file, &AID_CPS3)),
        2 => drop(parse::prkdf(file)),
        3 => drop(parse::cdf(file, &AID_CPS3)),
        4 => drop(parse::aodf(file)),
        _ => drop(parse::dodf(file, &AID_CPS3)),
    }
});
