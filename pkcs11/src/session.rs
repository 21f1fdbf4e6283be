//! A session: its slot and card, and the operation under way.

use crate::sign::SignOp;
use crate::verify::VerifyOp;
use cryptoki_sys::{CK_OBJECT_HANDLE, CK_SLOT_ID};

pub(crate) struct Session {
    pub slot: CK_SLOT_ID,
    /// The card insertion it was opened on.
    pub generation: u64,
    pub rw: bool,
    /// The handles a search has still to give, last first.
    pub find: Option<Vec<CK_OBJECT_HANDLE>>,
    pub sign: Option<SignOp>,
    pub verify: Option<VerifyOp>,
}

impl Session {
    pub(crate) fn new(slot: CK_SLOT_ID, generation: u64, rw: bool) -> Session {
        Session {
            slot,
            generation,
            rw,
            find: None,
            sign: None,
            verify: None,
        }
    }
}
