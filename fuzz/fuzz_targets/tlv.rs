//! The BER-TLV walker (`card::tlv` is private) through its public user, the
//! Vitale identity decoder, with the input wrapped the way a card file holds
//! it: a constructed object per beneficiary among `00`/`FF` filler. The first
//! byte picks the wrapping so the fuzzer reaches nested objects quickly.
#![no_main]

use lecteur::card::vitale;
use libfuzzer_sys::fuzz_target;

fn ber_len(n: usize, out: &mut Vec<u8>) {
    match n {
        0..=0x7F => out.push(n as u8),
        0x80..=0xFF => out.extend([0x81, n as u8]),
        _ => out.extend([0x82, (n >> 8) as u8, n as u8]),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    let mut file = Vec::new();
    match mode % 4 {
        // Raw: the walker sees the bytes as they come.
        0 => file.extend_from_slice(body),
        // One beneficiary object (65) around the body.
        1 => {
            file.push(0x65);
            ber_len(body.len(), &mut file);
            file.extend_from_slice(body);
        }
        // Filler before and after, card object (66) around the body.
        2 => {
            file.extend([0x00, 0xFF]);
            file.push(0x66);
            ber_len(body.len(), &mut file);
            file.extend_from_slice(body);
            file.extend([0xFF, 0xFF, 0x00]);
        }
        // The body split in two beneficiaries at a fuzzer-chosen point.
        _ => {
            let cut = usize::from(body.first().copied().unwrap_or(0)).min(body.len());
            for part in [&body[..cut], &body[cut..]] {
                file.push(0x65);
                ber_len(part.len(), &mut file);
                file.extend_from_slice(part);
            }
        }
    }
    let _ = vitale::parse_identity(&file);
});
