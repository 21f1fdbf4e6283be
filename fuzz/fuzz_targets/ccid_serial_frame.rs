//! The host side of CCID over a serial line: the frame decoder
//! (`transport/serial/frame.rs`) fed the reader's byte stream in
//! fuzzer-chosen pieces, then each complete message through the CCID answer
//! check (`ccid.rs`) and, for a data block, the ATR parser (what power-on does
//! with it).
//!
//! The serial transport keeps both modules private, so this target compiles
//! their source files as modules of its own: they depend on std, `zeroize`,
//! each other and public items of `lecteur::transport` (reached through the
//! `transport` module below, standing in for `crate::transport`). A `pub`
//! re-export in lecteur would make this unnecessary.
#![no_main]
#![allow(dead_code, unused_imports)]

#[path = "../../src/transport/serial/frame.rs"]
mod frame;

#[path = "../../src/transport/serial/ccid.rs"]
mod ccid;

/// `crate::transport` as seen from the included files.
mod transport {
    pub use lecteur::transport::*;
}

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // First byte: the size of the pieces the line delivers (1..=64 bytes).
    let Some((&piece, stream)) = data.split_first() else {
        return;
    };
    let piece = usize::from(piece % 64) + 1;
    let mut d = frame::Decoder::new();
    let mut consumed = 0usize;
    for part in stream.chunks(piece) {
        d.push(part);
        consumed += part.len();
        // Every item takes at least one byte out of the buffer.
        let mut items = 0;
        while let Some(item) = d.next_item() {
            items += 1;
            assert!(items <= consumed, "{items} items from {consumed} bytes");
            if let frame::Item::Message(m) = item {
                assert!(m.len() <= frame::MAX_MESSAGE_LEN, "{}-byte message", m.len());
                assert!(m.len() >= frame::HEADER_LEN);
                // The encoder and decoder agree.
                let mut again = frame::Decoder::new();
                again.push(&frame::encode(&m));
                assert_eq!(again.next_item(), Some(frame::Item::Message(m.clone())));
                if let Ok(answer) = ccid::Answer::parse(&m) {
                    assert_eq!(answer.data.len() + frame::HEADER_LEN, m.len());
                    if answer.message_type == ccid::RDR_TO_PC_DATA_BLOCK {
                        let _ = lecteur::card::atr::parse(&answer.data);
                    }
                    let _ = ccid::message_name(answer.message_type);
                    let _ = ccid::error_name(answer.error);
                }
            }
        }
        let _ = d.take_skipped();
    }
    let _ = d.truncate();
    assert!(!d.has_partial());
});
