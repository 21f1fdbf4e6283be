//! Response APDUs and the card dialogues over a card that answers with fuzzer
//! bytes (`[u16 len][R-APDU]...`, see `lecteur_fuzz::FuzzCard`). The first
//! byte picks the operation (`lecteur_fuzz::OPERATIONS`): a bare
//! `Response::from_bytes`, `transmit` (T=0 rules: 61xx, 6Cxx), the Vitale
//! reads, the CPS3 serial, PIN status and certificate reads, and the CPS3/CPS4
//! flows of `CpsCard` (info, PIN and signature session, certificates by
//! PKCS#15 layout, cache stamp, PIN change and unblock). Every command
//! lecteur sends must be a well-formed short APDU, and no operation may run
//! unbounded.
#![no_main]

use lecteur::apdu::{transmit, Command, Response};
use lecteur_fuzz::{run, FuzzCard, OPERATIONS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&op, chunks)) = data.split_first() else {
        return;
    };
    let mut card = FuzzCard::new(chunks);
    match OPERATIONS[usize::from(op) % OPERATIONS.len()] {
        "response" => {
            while let Some(chunk) = card.next_chunk() {
                if let Ok(r) = Response::from_bytes(chunk.to_vec()) {
                    assert_eq!(r.data.len() + 2, chunk.len());
                    let _ = r.ok();
                }
            }
        }
        "transmit" => {
            let case4 = Command::new(0x00, 0xA4, 0x04, 0x04)
                .data([0xA0, 0x00, 0x00])
                .le(256);
            let case2 = Command::new(0x00, 0xB0, 0x00, 0x00).le(0xE7);
            for cmd in [case4, case2] {
                if let Ok(r) = transmit(&mut card, &cmd) {
                    // 32 GET RESPONSE rounds of at most 256 bytes past the 64 KiB cap.
                    assert!(r.data.len() <= 65_536 + 256 + 255, "{} bytes", r.data.len());
                }
            }
        }
        other => run(other, &mut card),
    }
    // Each answer consumes at least the 2-byte length of a chunk (the last may be cut short).
    assert!(
        card.commands <= chunks.len().div_ceil(2),
        "{} commands for {} bytes",
        card.commands,
        chunks.len()
    );
});
