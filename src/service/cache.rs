//! What a slot keeps of its card between operations: the CPS's data (checked
//! by its stamp when a card comes back), and the last Vitale answer with its
//! JSON, for the card insertion it was read on.

use crate::card::cps::{CpsCardInfo, RawObject, Situation};
use lecteur_proto::vitale::VitaleResult;
use std::sync::Arc;

/// What lecteurd keeps of the CPS in a slot.
pub(super) struct CpsCache {
    pub(super) epoch: u64,
    pub(super) info: CpsCardInfo,
    pub(super) situations: Option<Vec<Situation>>,
    /// The CPS2ter volet's objects (CPS3), read with the situations.
    pub(super) cps2ter: Option<Vec<RawObject>>,
}

/// A read and its JSON, serialised once: a cached read is answered with the
/// same text, no serialisation per request.
#[derive(Debug)]
pub struct VitaleRead {
    /// The read.
    pub result: VitaleResult,
    /// Its JSON.
    pub json: Arc<str>,
}

/// The last read of the Vitale in a slot, for the card insertion it was read on.
pub(super) struct VitaleCache {
    pub(super) epoch: u64,
    /// The card's ATR: a card of another kind seen before its event is not served.
    pub(super) atr: Vec<u8>,
    pub(super) read: Arc<VitaleRead>,
}
