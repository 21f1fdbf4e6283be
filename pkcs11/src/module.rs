//! The module's state (one per process, behind one lock) and its
//! operations, in safe Rust: `lib.rs` turns C pointers into these arguments.

use crate::client::Daemon;
use crate::error::{Fail, Result};
use crate::mechanisms;
use crate::objects::{Object, Objects};
use crate::session::Session;
use crate::sign::{self, SignOp, SignRequest};
use crate::slots::{Card, Slot, Slots};
use crate::token::{self, Counts};
use crate::verify::VerifyOp;
use cryptoki_sys::*;
use lecteur_proto::cps::{VerifyPinParams, PIN_LENGTH};
use lecteur_proto::method::{
    CpsAuthenticate, CpsCertificates, CpsDataObjects, CpsInfo, CpsLogout, CpsSign, CpsVerifyPin,
};
use lecteur_proto::system::ReaderParams;
use lecteur_proto::ErrorKind;
use std::collections::BTreeMap;
use zeroize::Zeroizing;

pub(crate) struct Module {
    daemon: Daemon,
    slots: Slots,
    sessions: BTreeMap<CK_SESSION_HANDLE, Session>,
    next_session: CK_SESSION_HANDLE,
    next_object: CK_OBJECT_HANDLE,
}

impl Module {
    pub(crate) fn new() -> Module {
        Module {
            daemon: Daemon::new(),
            slots: Slots::default(),
            sessions: BTreeMap::new(),
            next_session: 0,
            next_object: 0,
        }
    }

    /// The table as lecteurd sees it now; sessions on a card that left die.
    fn refresh(&mut self) -> Result<()> {
        let r = self.slots.refresh(&mut self.daemon);
        let slots = &self.slots;
        self.sessions
            .retain(|_, s| current(slots, s.slot) == Some(s.generation));
        r.map_err(CK_RV::from)
    }

    fn slot(&mut self, id: CK_SLOT_ID) -> Result<&mut Slot> {
        match self.slots.get_mut(id) {
            Some(s) if s.present => Ok(s),
            _ => Err(CKR_SLOT_ID_INVALID),
        }
    }

    fn card(&mut self, id: CK_SLOT_ID) -> Result<&mut Card> {
        self.slot(id)?.card.as_mut().ok_or(CKR_TOKEN_NOT_PRESENT)
    }

    /// A session whose card is still the one it was opened on; else the
    /// card left (`CKR_DEVICE_REMOVED`) and the session is gone.
    fn live(&mut self, h: CK_SESSION_HANDLE) -> Result<CK_SLOT_ID> {
        let slot = self.sessions.get(&h).ok_or(CKR_SESSION_HANDLE_INVALID)?.slot;
        self.refresh()?;
        match self.sessions.get(&h) {
            Some(_) => Ok(slot),
            None => Err(CKR_DEVICE_REMOVED),
        }
    }

    fn session(&mut self, h: CK_SESSION_HANDLE) -> Result<&mut Session> {
        self.sessions.get_mut(&h).ok_or(CKR_SESSION_HANDLE_INVALID)
    }

    /// Without lecteurd there is no slot (an application starting before the
    /// daemon sees an empty list, not an error).
    pub(crate) fn slot_list(&mut self, token_present: bool) -> Vec<CK_SLOT_ID> {
        if self.refresh().is_err() {
            return Vec::new();
        }
        self.slots.ids(token_present)
    }

    pub(crate) fn slot_info(&mut self, id: CK_SLOT_ID) -> Result<CK_SLOT_INFO> {
        self.refresh()?;
        Ok(token::slot_info(self.slot(id)?))
    }

    pub(crate) fn token_info(&mut self, id: CK_SLOT_ID) -> Result<CK_TOKEN_INFO> {
        self.refresh()?;
        let reader = self.slot(id)?.reader.clone();
        let info = match self.card(id)?.info.clone() {
            Some(info) => info,
            None => {
                let info = self
                    .daemon
                    .call::<CpsInfo>(&ReaderParams::new(Some(&reader)))
                    .map_err(CK_RV::from)?;
                self.card(id)?.info = Some(info.clone());
                info
            }
        };
        let mine = self.sessions.values().filter(|s| s.slot == id);
        let counts = Counts {
            sessions: mine.clone().count() as u64,
            rw_sessions: mine.filter(|s| s.rw).count() as u64,
        };
        Ok(token::token_info(self.slot(id)?, &info, counts))
    }

    pub(crate) fn mechanisms(&mut self, id: CK_SLOT_ID) -> Result<&'static [CK_MECHANISM_TYPE]> {
        self.refresh()?;
        Ok(mechanisms::list(self.card(id)?.is_cps4()))
    }

    pub(crate) fn mechanism_info(
        &mut self,
        id: CK_SLOT_ID,
        m: CK_MECHANISM_TYPE,
    ) -> Result<CK_MECHANISM_INFO> {
        self.refresh()?;
        mechanisms::info(self.card(id)?.is_cps4(), m).ok_or(CKR_MECHANISM_INVALID)
    }

    pub(crate) fn open_session(&mut self, id: CK_SLOT_ID, flags: CK_FLAGS) -> Result<CK_SESSION_HANDLE> {
        if flags & CKF_SERIAL_SESSION == 0 {
            return Err(CKR_SESSION_PARALLEL_NOT_SUPPORTED);
        }
        self.refresh()?;
        let generation = self.card(id)?.generation;
        self.next_session += 1;
        let h = self.next_session;
        self.sessions
            .insert(h, Session::new(id, generation, flags & CKF_RW_SESSION != 0));
        Ok(h)
    }

    pub(crate) fn close_session(&mut self, h: CK_SESSION_HANDLE) -> Result<()> {
        let s = self.sessions.remove(&h).ok_or(CKR_SESSION_HANDLE_INVALID)?;
        if !self.sessions.values().any(|o| o.slot == s.slot) {
            self.logged_out(s.slot);
        }
        Ok(())
    }

    pub(crate) fn close_all(&mut self, id: CK_SLOT_ID) -> Result<()> {
        if self.slots.get(id).is_none() {
            return Err(CKR_SLOT_ID_INVALID);
        }
        self.sessions.retain(|_, s| s.slot != id);
        self.logged_out(id);
        Ok(())
    }

    /// The last session of a slot closed: the login ends with it.
    fn logged_out(&mut self, id: CK_SLOT_ID) {
        let reader = match self.slots.get_mut(id) {
            Some(Slot {
                reader,
                card: Some(card),
                ..
            }) if card.logged_in => {
                card.logged_in = false;
                reader.clone()
            }
            _ => return,
        };
        // Best effort: lecteurd also closes it when this connection ends.
        let _ = self.daemon.call::<CpsLogout>(&ReaderParams::new(Some(&reader)));
    }

    pub(crate) fn session_info(&mut self, h: CK_SESSION_HANDLE) -> Result<CK_SESSION_INFO> {
        let id = self.live(h)?;
        let logged_in = self.card(id)?.logged_in;
        let rw = self.session(h)?.rw;
        let state = match (rw, logged_in) {
            (false, false) => CKS_RO_PUBLIC_SESSION,
            (false, true) => CKS_RO_USER_FUNCTIONS,
            (true, false) => CKS_RW_PUBLIC_SESSION,
            (true, true) => CKS_RW_USER_FUNCTIONS,
        };
        Ok(CK_SESSION_INFO {
            slotID: id,
            state,
            flags: CKF_SERIAL_SESSION | if rw { CKF_RW_SESSION } else { 0 },
            ulDeviceError: 0,
        })
    }

    /// C_Login: the PIN goes to lecteurd's policy (`cps.verify_pin`, one
    /// VERIFY, never retried). `None` = the reader's PIN pad. The last try is
    /// allowed: the application asked the holder, and CKF_USER_PIN_FINAL_TRY
    /// told it the stakes.
    pub(crate) fn login(
        &mut self,
        h: CK_SESSION_HANDLE,
        user: CK_USER_TYPE,
        pin: Option<Zeroizing<String>>,
    ) -> Result<()> {
        let id = self.live(h)?;
        match user {
            CKU_USER => {}
            CKU_SO => return Err(CKR_USER_TYPE_INVALID),
            CKU_CONTEXT_SPECIFIC => return Err(CKR_OPERATION_NOT_INITIALIZED),
            _ => return Err(CKR_USER_TYPE_INVALID),
        }
        if self.card(id)?.logged_in {
            return Err(CKR_USER_ALREADY_LOGGED_IN);
        }
        let slot = self.slot(id)?;
        let reader = slot.reader.clone();
        let pinpad = pin.is_none();
        match &pin {
            Some(pin) if !PIN_LENGTH.contains(&pin.chars().count()) => return Err(CKR_PIN_LEN_RANGE),
            None if !slot.pinpad => return Err(CKR_ARGUMENTS_BAD),
            _ => {}
        }
        let params = VerifyPinParams {
            reader: Some(reader),
            pin,
            pinpad,
            allow_last_try: true,
        };
        let answer = self.daemon.call::<CpsVerifyPin>(&params);
        self.card(id)?.info = None; // the tries left changed
        match answer {
            Ok(_) => {
                self.card(id)?.logged_in = true;
                Ok(())
            }
            Err(f) if f.kind() == Some(ErrorKind::InvalidParams) => Err(CKR_PIN_INVALID),
            Err(f) => Err(f.rv()),
        }
    }

    pub(crate) fn logout(&mut self, h: CK_SESSION_HANDLE) -> Result<()> {
        let id = self.live(h)?;
        let card = self.card(id)?;
        if !card.logged_in {
            return Err(CKR_USER_NOT_LOGGED_IN);
        }
        card.logged_in = false;
        let reader = self.slot(id)?.reader.clone();
        self.daemon
            .call::<CpsLogout>(&ReaderParams::new(Some(&reader)))
            .map(drop)
            .map_err(CK_RV::from)
    }

    /// The token's objects, read at the first need; the private data objects
    /// once logged in.
    fn objects(&mut self, id: CK_SLOT_ID) -> Result<&Objects> {
        let reader = self.slot(id)?.reader.clone();
        let card = self.card(id)?;
        let (cps4, logged_in, loaded) = (card.is_cps4(), card.logged_in, card.objects.is_some());
        if !loaded {
            let certs = self
                .daemon
                .call::<CpsCertificates>(&ReaderParams::new(Some(&reader)))
                .map_err(CK_RV::from)?;
            let mut objects =
                Objects::from_certificates(&certs, cps4, &mut self.next_object).ok_or(CKR_DEVICE_ERROR)?;
            let data = self
                .daemon
                .call::<CpsDataObjects>(&ReaderParams::new(Some(&reader)))
                .map_err(CK_RV::from)?;
            objects.add_data_objects(&data, &mut self.next_object);
            self.card(id)?.objects = Some(objects);
        }
        let private_loaded = self.card(id)?.objects.as_ref().is_some_and(|o| o.private_loaded);
        if logged_in && !private_loaded {
            let data = self
                .daemon
                .call::<CpsDataObjects>(&ReaderParams::new(Some(&reader)));
            let data = self.lost_login_on(id, data)?;
            let mut next = self.next_object;
            let objects = self.card(id)?.objects.as_mut().ok_or(CKR_GENERAL_ERROR)?;
            objects.add_data_objects(&data, &mut next);
            objects.private_loaded = true;
            self.next_object = next;
        }
        self.card(id)?.objects.as_ref().ok_or(CKR_GENERAL_ERROR)
    }

    /// `pin_required` means the verification was lost (another application
    /// used the card, or the idle timeout): no longer logged in.
    fn lost_login_on<T>(&mut self, id: CK_SLOT_ID, r: std::result::Result<T, Fail>) -> Result<T> {
        r.map_err(|f| {
            if f.kind() == Some(ErrorKind::PinRequired) {
                if let Ok(card) = self.card(id) {
                    card.logged_in = false;
                }
            }
            f.rv()
        })
    }

    pub(crate) fn find_init(
        &mut self,
        h: CK_SESSION_HANDLE,
        template: Vec<(CK_ATTRIBUTE_TYPE, Vec<u8>)>,
    ) -> Result<()> {
        let id = self.live(h)?;
        if self.session(h)?.find.is_some() {
            return Err(CKR_OPERATION_ACTIVE);
        }
        let logged_in = self.card(id)?.logged_in;
        let found: Vec<CK_OBJECT_HANDLE> = self
            .objects(id)?
            .visible(logged_in)
            .filter(|o| o.matches(&template))
            .map(|o| o.handle)
            .collect();
        self.session(h)?.find = Some(found.into_iter().rev().collect());
        Ok(())
    }

    pub(crate) fn find(&mut self, h: CK_SESSION_HANDLE, max: usize) -> Result<Vec<CK_OBJECT_HANDLE>> {
        self.live(h)?;
        let pending = self
            .session(h)?
            .find
            .as_mut()
            .ok_or(CKR_OPERATION_NOT_INITIALIZED)?;
        let n = max.min(pending.len());
        Ok((0..n).filter_map(|_| pending.pop()).collect())
    }

    pub(crate) fn find_final(&mut self, h: CK_SESSION_HANDLE) -> Result<()> {
        self.session(h)?
            .find
            .take()
            .map(drop)
            .ok_or(CKR_OPERATION_NOT_INITIALIZED)
    }

    /// Runs `f` on a visible object of the session's token.
    pub(crate) fn with_object<R>(
        &mut self,
        h: CK_SESSION_HANDLE,
        o: CK_OBJECT_HANDLE,
        f: impl FnOnce(&Object) -> R,
    ) -> Result<R> {
        let id = self.live(h)?;
        let logged_in = self.card(id)?.logged_in;
        let object = self
            .objects(id)?
            .visible(logged_in)
            .find(|x| x.handle == o)
            .ok_or(CKR_OBJECT_HANDLE_INVALID)?;
        Ok(f(object))
    }

    pub(crate) fn sign_init(
        &mut self,
        h: CK_SESSION_HANDLE,
        m: &CK_MECHANISM,
        key: CK_OBJECT_HANDLE,
    ) -> Result<()> {
        let id = self.live(h)?;
        if self.session(h)?.sign.is_some() {
            return Err(CKR_OPERATION_ACTIVE);
        }
        let card = self.card(id)?;
        if !mechanisms::list(card.is_cps4()).contains(&{ m.mechanism }) {
            return Err(CKR_MECHANISM_INVALID);
        }
        let logged_in = card.logged_in;
        let keyref = self
            .objects(id)?
            .visible(logged_in)
            .find(|x| x.handle == key)
            .ok_or(CKR_KEY_HANDLE_INVALID)?
            .key
            .ok_or(CKR_KEY_FUNCTION_NOT_PERMITTED)?;
        if !logged_in {
            return Err(CKR_USER_NOT_LOGGED_IN);
        }
        let op = SignOp::new(m, keyref)?;
        self.session(h)?.sign = Some(op);
        Ok(())
    }

    /// The signature's length, for the length query of C_Sign/C_SignFinal.
    pub(crate) fn sign_len(&mut self, h: CK_SESSION_HANDLE) -> Result<usize> {
        self.live(h)?;
        let op = self
            .session(h)?
            .sign
            .as_ref()
            .ok_or(CKR_OPERATION_NOT_INITIALIZED)?;
        Ok(op.key.modulus_len)
    }

    /// Feeds the operation; an error ends it.
    pub(crate) fn sign_update(&mut self, h: CK_SESSION_HANDLE, data: &[u8]) -> Result<()> {
        self.live(h)?;
        let s = self.session(h)?;
        let op = s.sign.as_mut().ok_or(CKR_OPERATION_NOT_INITIALIZED)?;
        let r = op.update(data);
        if r.is_err() {
            s.sign = None;
        }
        r
    }

    /// Ends the operation with the signature.
    pub(crate) fn sign_final(&mut self, h: CK_SESSION_HANDLE) -> Result<Vec<u8>> {
        let id = self.live(h)?;
        let op = self
            .session(h)?
            .sign
            .take()
            .ok_or(CKR_OPERATION_NOT_INITIALIZED)?;
        let len = op.key.modulus_len;
        let reader = self.slot(id)?.reader.clone();
        let answer = match op.request(&reader)? {
            SignRequest::Authenticate(params) => self.daemon.call::<CpsAuthenticate>(&params),
            SignRequest::Sign(params) => self.daemon.call::<CpsSign>(&params),
        };
        if let Err(f) = &answer {
            if f.kind() == Some(ErrorKind::PinRequired) {
                self.card(id)?.logged_in = false;
            }
        }
        sign::signature(answer, len)
    }

    /// C_VerifyInit: a public key object of the session's token (no login
    /// needed: they are public), a mechanism of the token.
    pub(crate) fn verify_init(
        &mut self,
        h: CK_SESSION_HANDLE,
        m: &CK_MECHANISM,
        key: CK_OBJECT_HANDLE,
    ) -> Result<()> {
        let id = self.live(h)?;
        if self.session(h)?.verify.is_some() {
            return Err(CKR_OPERATION_ACTIVE);
        }
        let card = self.card(id)?;
        if !mechanisms::list(card.is_cps4()).contains(&{ m.mechanism }) {
            return Err(CKR_MECHANISM_INVALID);
        }
        let logged_in = card.logged_in;
        let public = self
            .objects(id)?
            .visible(logged_in)
            .find(|x| x.handle == key)
            .ok_or(CKR_KEY_HANDLE_INVALID)?
            .public
            .clone()
            .ok_or(CKR_KEY_FUNCTION_NOT_PERMITTED)?;
        let op = VerifyOp::new(m, public)?;
        self.session(h)?.verify = Some(op);
        Ok(())
    }

    /// Feeds the operation; an error ends it.
    pub(crate) fn verify_update(&mut self, h: CK_SESSION_HANDLE, data: &[u8]) -> Result<()> {
        self.live(h)?;
        let s = self.session(h)?;
        let op = s.verify.as_mut().ok_or(CKR_OPERATION_NOT_INITIALIZED)?;
        let r = op.update(data);
        if r.is_err() {
            s.verify = None;
        }
        r
    }

    /// Ends the operation: `Ok` for a good signature.
    pub(crate) fn verify_final(&mut self, h: CK_SESSION_HANDLE, signature: &[u8]) -> Result<()> {
        self.live(h)?;
        let op = self
            .session(h)?
            .verify
            .take()
            .ok_or(CKR_OPERATION_NOT_INITIALIZED)?;
        op.verify(signature)
    }

    /// Ends the operation after a bad call.
    pub(crate) fn verify_abort(&mut self, h: CK_SESSION_HANDLE) -> Result<()> {
        self.session(h)?.verify = None;
        Ok(())
    }
}

/// The generation of the card in slot `id`, if any.
fn current(slots: &Slots, id: CK_SLOT_ID) -> Option<u64> {
    slots.get(id)?.card.as_ref().map(|c| c.generation)
}
