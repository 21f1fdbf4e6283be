//! lecteur-sim: simulated reader firmware and cards for lecteur's tests and demo.
//! It shares no card-reading code with the daemon: it is the other side of the wire.
pub mod card;
pub mod control;
pub mod pki;
pub mod reader;
pub mod serial;
pub mod vpcd;

pub use card::SimCard;
pub use reader::{SimReader, SlotChange, SlotError};

/// The default simulated two-slot reader: a CPS3 in slot 0, a Vitale 2 in slot 1.
pub fn default_reader() -> Result<SimReader, card::LoadError> {
    let reader = SimReader::new(2);
    for (slot, card) in [(0, "cps3"), (1, "vitale2")] {
        // Slots 0 and 1 exist: insert cannot fail.
        let _ = reader.insert(slot, card::load(card)?);
    }
    Ok(reader)
}
