//! `CpsCard`: one entry point for every CPS generation, built from the ATR's
//! card kind and the profiles, so the service never branches on CPS3/CPS4.

use super::super::pkcs15::{self, Pkcs15};
use super::super::{CardError, CardKind};
use super::info::{self, CpsCardInfo};
use super::layout::{self, Layout};
use super::pin::{self, PinStatus};
use super::pso::SignScheme;
use super::select::select_app;
use super::sign;
use super::situations::{self, Situation};
use super::stamp::{self, CardStamp};
use super::KeyUsage;
use crate::apdu::Exchange;
use crate::card::profile::{CpsProfile, Generation, Profiles};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// A CPS contact card and the profile its operations follow.
#[derive(Debug, Clone)]
pub struct CpsCard {
    profile: Arc<CpsProfile>,
}

impl CpsCard {
    /// The card for an identified kind: CPS3 and CPS4 contact cards.
    pub fn new(kind: CardKind, profiles: &Profiles) -> Result<CpsCard, CardError> {
        match kind {
            CardKind::Cps3 => Ok(CpsCard::with_profile(profiles.cps3.clone())),
            CardKind::Cps4 => Ok(CpsCard::with_profile(profiles.cps4.clone())),
            CardKind::Cps3Contactless => Err(CardError::Unsupported(
                "a contactless CPS3 has no PIN and no signature key; use the contact interface".into(),
            )),
            _ => Err(CardError::Unsupported(format!(
                "a {} card is not a CPS",
                kind.as_str()
            ))),
        }
    }

    /// The card driven by this profile.
    pub fn with_profile(profile: Arc<CpsProfile>) -> CpsCard {
        CpsCard { profile }
    }

    /// The card's profile.
    pub fn profile(&self) -> &CpsProfile {
        &self.profile
    }

    /// CPS3 or CPS4.
    pub fn generation(&self) -> Generation {
        self.profile.generation
    }

    /// Whether every signature needs its own VERIFY (profile fact).
    pub fn reverify_before_signature(&self) -> bool {
        self.profile.pin.reverify_before_signature
    }

    /// Selects the CPS application.
    pub fn select(&self, ex: &mut dyn Exchange) -> Result<(), CardError> {
        select_app(ex, &self.profile)
    }

    /// Checks the PIN's length and characters against the profile, before
    /// anything reaches the card.
    pub fn check_pin_format(&self, pin: &[u8]) -> Result<(), CardError> {
        pin::check_format(&self.profile, pin)
    }

    /// Tries left without using one (the application must be selected).
    pub fn pin_status(&self, ex: &mut dyn Exchange) -> Result<PinStatus, CardError> {
        pin::status(ex, &self.profile)
    }

    /// One VERIFY (the application must be selected).
    pub fn verify_pin(&self, ex: &mut dyn Exchange, pin: &[u8]) -> Result<(), CardError> {
        pin::verify(ex, &self.profile, pin)
    }

    /// Changes the PIN (the application must be selected).
    pub fn change_pin(&self, ex: &mut dyn Exchange, old: &[u8], new: &[u8]) -> Result<(), CardError> {
        pin::change(ex, &self.profile, old, new)
    }

    /// Unblocks the PIN with the PUK and sets a new one (application selected).
    pub fn unblock_pin(&self, ex: &mut dyn Exchange, puk: &[u8], new: &[u8]) -> Result<(), CardError> {
        pin::unblock(ex, &self.profile, puk, new)
    }

    /// Signs a SHA-256 digest (application selected, PIN verified).
    pub fn sign(
        &self,
        ex: &mut dyn Exchange,
        usage: KeyUsage,
        scheme: SignScheme,
        digest: &[u8],
    ) -> Result<Vec<u8>, CardError> {
        sign::sign(ex, &self.profile, usage, scheme, digest)
    }

    /// Signs a DigestInfo with the authentication key, as a TLS client does
    /// (application selected, PIN verified).
    pub fn authenticate(
        &self,
        ex: &mut dyn Exchange,
        scheme: SignScheme,
        digest_info: &[u8],
    ) -> Result<Vec<u8>, CardError> {
        super::authenticate::authenticate(ex, &self.profile, scheme, digest_info)
    }

    /// The data objects as raw bytes, the private ones only when `verified`.
    pub fn read_data_objects(
        &self,
        ex: &mut dyn Exchange,
        verified: bool,
    ) -> Result<Vec<super::RawObject>, CardError> {
        super::data_objects::read_data_objects(ex, &self.profile, verified)
    }

    /// Hashes `data` with SHA-256 on the host and signs the digest.
    pub fn sign_data(
        &self,
        ex: &mut dyn Exchange,
        usage: KeyUsage,
        scheme: SignScheme,
        data: &[u8],
    ) -> Result<Vec<u8>, CardError> {
        self.sign(ex, usage, scheme, &Sha256::digest(data))
    }

    /// Where the objects are: PKCS#15 discovery (six file reads) with the
    /// profile's ids as fallback. Worth keeping for a card insertion.
    pub fn layout(&self, ex: &mut dyn Exchange) -> Result<Layout, CardError> {
        layout::resolve(ex, &self.profile)
    }

    /// The DER certificate of a key (application selected).
    pub fn certificate(&self, ex: &mut dyn Exchange, usage: KeyUsage) -> Result<Vec<u8>, CardError> {
        let l = self.layout(ex)?;
        self.certificate_in(ex, &l, usage)
    }

    /// The DER certificate of a key at a known layout (application selected).
    pub fn certificate_in(
        &self,
        ex: &mut dyn Exchange,
        layout: &Layout,
        usage: KeyUsage,
    ) -> Result<Vec<u8>, CardError> {
        let reader = layout::reader(&self.profile);
        pkcs15::read_object(ex, &reader, layout.certificate(usage), "READ certificate")
    }

    /// The card's PKCS#15 structure, `None` when discovery is off or failed
    /// (application selected).
    pub fn pkcs15(&self, ex: &mut dyn Exchange) -> Result<Option<Pkcs15>, CardError> {
        Ok(self.layout(ex)?.pkcs15)
    }

    /// Selects the application and reads the card and holder information.
    pub fn read_info(&self, ex: &mut dyn Exchange) -> Result<CpsCardInfo, CardError> {
        info::read_info(ex, &self.profile)
    }

    /// Selects the application and reads the situations (PIN verified).
    pub fn read_situations(&self, ex: &mut dyn Exchange) -> Result<Vec<Situation>, CardError> {
        situations::read_situations(ex, &self.profile)
    }

    /// Selects the application and reads the situations and, on a CPS3, the
    /// CPS2ter volet's objects (PIN verified).
    pub fn read_private(
        &self,
        ex: &mut dyn Exchange,
    ) -> Result<(Vec<Situation>, Vec<super::RawObject>), CardError> {
        situations::read_private(ex, &self.profile)
    }

    /// Selects the application and reads the cache stamp (two file reads).
    pub fn read_stamp(&self, ex: &mut dyn Exchange) -> Result<CardStamp, CardError> {
        stamp::read_stamp(ex, &self.profile)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_from_the_card_kind() {
        let p = Profiles::builtin().unwrap();
        assert_eq!(
            CpsCard::new(CardKind::Cps3, p).unwrap().generation(),
            Generation::Cps3
        );
        assert_eq!(
            CpsCard::new(CardKind::Cps4, p).unwrap().generation(),
            Generation::Cps4
        );
        assert!(matches!(
            CpsCard::new(CardKind::Cps3Contactless, p),
            Err(CardError::Unsupported(_))
        ));
        assert!(matches!(
            CpsCard::new(CardKind::Vitale2, p),
            Err(CardError::Unsupported(_))
        ));
    }
}
