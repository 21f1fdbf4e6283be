//! The in-process simulated reader of `lecteur-sim` as a transport
//! (`lecteurd --sim`, the demo and unit tests).

use super::{EventSink, ReaderEvent, SlotInfo, SlotLink, TransportError, TransportKind};
use lecteur_sim::{SimReader, SlotError};

struct SimSlot {
    reader: SimReader,
    slot: usize,
    /// The insertion this link is connected to.
    generation: Option<u64>,
}

fn map(e: SlotError) -> TransportError {
    match e {
        SlotError::NoSlot => TransportError::ReaderGone("no such simulated slot".into()),
        SlotError::NoCard => TransportError::NoCard,
        SlotError::CardChanged => TransportError::CardRemoved,
    }
}

impl SlotLink for SimSlot {
    fn session(&mut self) -> Box<dyn SlotLink + '_> {
        Box::new(crate::transport::Direct(self))
    }

    fn connect(&mut self) -> Result<Vec<u8>, TransportError> {
        // Still connected to the card in the slot: keep its state, as PC/SC does.
        if self.generation.is_some() && self.generation == self.reader.generation(self.slot) {
            return self.reader.atr(self.slot).ok_or(TransportError::NoCard);
        }
        let (g, atr) = self.reader.connect(self.slot).map_err(map)?;
        self.generation = Some(g);
        Ok(atr)
    }

    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        let g = self.generation.ok_or(TransportError::NoCard)?;
        self.reader.transmit(self.slot, g, apdu).map_err(|e| {
            self.generation = None;
            map(e)
        })
    }

    fn reset(&mut self) -> Result<Vec<u8>, TransportError> {
        let g = self.generation.ok_or(TransportError::NoCard)?;
        self.reader.reset(self.slot, g).map_err(map)
    }

    fn disconnect(&mut self) {
        self.generation = None;
    }
}

/// Announces the simulated slots and forwards card movements until the
/// daemon's event receiver goes away.
pub fn start(reader: SimReader, sink: EventSink) {
    let changes = reader.subscribe();
    for slot in 0..reader.slot_count() {
        let info = SlotInfo {
            id: format!("sim:{slot}"),
            name: format!("lecteur simulated reader, slot {slot}"),
            kind: TransportKind::Sim,
            model: None,
            pinpad: false,
        };
        let link = Box::new(SimSlot {
            reader: reader.clone(),
            slot,
            generation: None,
        });
        let _ = sink.send(ReaderEvent::Added { slot: info, link });
        if let Some(atr) = reader.atr(slot) {
            let _ = sink.send(ReaderEvent::CardInserted {
                id: format!("sim:{slot}"),
                atr,
            });
        }
    }
    std::thread::Builder::new()
        .name("sim-events".into())
        .spawn(move || {
            for change in changes {
                let id = format!("sim:{}", change.slot);
                let ev = match reader.atr(change.slot) {
                    Some(atr) if change.present => ReaderEvent::CardInserted { id, atr },
                    _ => ReaderEvent::CardRemoved { id },
                };
                if sink.send(ev).is_err() {
                    break;
                }
            }
        })
        .expect("spawning a thread at start-up");
}
