//! lecteur-sim: simulated reader firmware and cards for lecteur's tests and demo.
//! It shares no card-reading code with the daemon: it is the other side of the wire.
pub mod card;
pub mod control;
pub mod pki;
pub mod reader;
pub mod serial;
pub mod vpcd;
pub mod vpcd_faults;

pub use card::SimCard;
pub use reader::{SimReader, SlotChange, SlotError};

/// The default simulated two-slot reader: a CPS3 in slot 0, a Vitale 2 in slot 1.
pub fn default_reader() -> Result<SimReader, card::LoadError> {
    reader_with(&["cps3", "vitale2"])
}

/// A simulated reader with one slot per card spec (`empty` leaves a slot empty).
pub fn reader_with<S: AsRef<str>>(cards: &[S]) -> Result<SimReader, card::LoadError> {
    let reader = SimReader::new(cards.len());
    for (slot, spec) in cards.iter().enumerate() {
        if !control::is_empty_spec(spec.as_ref()) {
            // The slot exists: insert cannot fail.
            let _ = reader.insert(slot, card::load(spec.as_ref())?);
        }
    }
    Ok(reader)
}
