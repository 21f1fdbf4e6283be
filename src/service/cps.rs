//! CPS operations and the PIN policy:
//! - the tries left are read before any PIN is presented, a blocked PIN is
//!   never sent, and the last try only when the request allows it;
//! - one request presents a PIN at most once, never retried;
//! - a verification belongs to the connection that made it (see `SlotCtx`);
//! - what the card holds is read once per card and kept (keyed by the card's
//!   serial and EF_ACTUA stamp): asking again sends no APDU.

use super::cache::CpsCache;
use super::slot::{ConnId, SlotCtx};
use super::{card_view_as, open, Service, ServiceError};
use crate::apdu::StatusWord;
use crate::card::cps::{CpsCard, CpsCardInfo, KeyUsage, PinStatus, RawObject, SignScheme, Situation};
use crate::card::{CardError, CardKind};
use crate::transport::{PinpadVerify, SlotLink};
use lecteur_proto::cps as api;
use lecteur_proto::cps::Signature;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

mod auth;
use auth::data_object;
pub use auth::AuthInput;

/// The CPS generations lecteur drives.
const CPS: &[CardKind] = &[CardKind::Cps3, CardKind::Cps4];
/// Seconds the holder has to type the PIN on a reader's keypad.
const PINPAD_TIMEOUT: u8 = 30;

/// Whether a PIN may be presented when one try is left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LastTry {
    /// Refuse with `PinLastTry`: the holder must confirm first.
    Refuse,
    /// Present it.
    Allow,
}

/// How the PIN reaches the card.
pub enum PinEntry {
    /// Typed by the client (zeroized when dropped).
    Given(Zeroizing<String>),
    /// Typed by the holder on the reader's keypad.
    Pinpad,
}

/// What to sign.
pub enum SignInput {
    /// Data, hashed here with SHA-256.
    Data(Vec<u8>),
    /// A SHA-256 digest.
    Digest(Vec<u8>),
}

/// The card's data, read once per card: served from the cache while the card
/// stays in, checked by its stamp when a card comes back.
pub(super) fn cached_info<'c>(
    ctx: &'c mut SlotCtx<'_>,
    card: &CpsCard,
) -> Result<&'c mut CpsCache, ServiceError> {
    let epoch = ctx.epoch();
    let ex = &mut *ctx.link;
    let cache = match ctx.cps_cache.take() {
        Some(c) if c.epoch == epoch => Some(c),
        Some(mut c) => {
            // The slot saw a card movement: is it the same card, unchanged?
            if card.read_stamp(ex)? == c.info.stamp {
                card.select(ex)?;
                c.info.pin = card.pin_status(ex)?;
                c.epoch = epoch;
                Some(c)
            } else {
                None
            }
        }
        None => None,
    };
    let cache = match cache {
        Some(c) => c,
        None => CpsCache {
            epoch,
            info: card.read_info(ex)?,
            situations: None,
            cps2ter: None,
        },
    };
    Ok(ctx.cps_cache.insert(cache))
}

/// Keeps the cached tries in step with what a PIN command just did.
fn note_pin(ctx: &mut SlotCtx<'_>, pin: PinStatus) {
    let epoch = ctx.epoch();
    if let Some(c) = ctx.cps_cache.as_mut().filter(|c| c.epoch == epoch) {
        c.info.pin = pin;
    }
}

/// Reads the tries left and applies the policy before a PIN is presented.
/// The card's data come first (kept once read): a card whose update was
/// interrupted (bad EF_ACTUA) gets no PIN, as Cryptolib opens no session on it.
fn gate(ctx: &mut SlotCtx<'_>, card: &CpsCard, last_try: LastTry) -> Result<PinStatus, ServiceError> {
    cached_info(ctx, card)?;
    let ex = &mut *ctx.link;
    card.select(ex)?;
    let status = card.pin_status(ex)?;
    note_pin(ctx, status);
    match status.tries_left {
        0 if status.usage_spent => Err(ServiceError::PinUsageSpent),
        0 => Err(ServiceError::PinBlocked),
        1 if last_try == LastTry::Refuse => Err(ServiceError::PinLastTry),
        _ => Ok(status),
    }
}

/// Records the outcome of one presented PIN.
fn settle(
    ctx: &mut SlotCtx<'_>,
    conn: ConnId,
    status: PinStatus,
    outcome: Result<(), ServiceError>,
) -> Result<u8, ServiceError> {
    let tries_left = match &outcome {
        Ok(()) => status.tries_max,
        Err(ServiceError::PinIncorrect { tries_left }) => *tries_left,
        Err(ServiceError::PinBlocked) => 0,
        Err(_) => status.tries_left,
    };
    note_pin(ctx, PinStatus { tries_left, ..status });
    match outcome {
        Ok(()) => {
            ctx.set_verified(conn);
            Ok(tries_left)
        }
        Err(e) => {
            // A failed comparison closes the card's security state by itself.
            ctx.forget_verification();
            Err(e)
        }
    }
}

/// Verifies the PIN for `conn` (the slot is already claimed by `open`).
fn verify(
    ctx: &mut SlotCtx<'_>,
    conn: ConnId,
    card: &CpsCard,
    entry: &PinEntry,
    last_try: LastTry,
) -> Result<u8, ServiceError> {
    let outcome = match entry {
        PinEntry::Given(pin) => {
            card.check_pin_format(pin.as_bytes())?;
            let status = gate(ctx, card, last_try)?;
            let sent = card.verify_pin(&mut *ctx.link, pin.as_bytes());
            (status, sent.map_err(ServiceError::from))
        }
        PinEntry::Pinpad => {
            if !ctx.link.has_pinpad() {
                return Err(ServiceError::InvalidParams("this reader has no PIN pad".into()));
            }
            let status = gate(ctx, card, last_try)?;
            let p = card.profile();
            let request = PinpadVerify {
                header: [p.application.cla, 0x20, 0x00, p.pin.reference],
                min_len: p.pin.min_length as u8,
                max_len: p.pin.max_length as u8,
                timeout_secs: PINPAD_TIMEOUT,
            };
            (status, pinpad_outcome(ctx.link.verify_pin_pinpad(&request)))
        }
    };
    settle(ctx, conn, outcome.0, outcome.1)
}

/// Maps the card's answer to a PIN typed on the reader.
fn pinpad_outcome(answer: Result<Vec<u8>, crate::transport::TransportError>) -> Result<(), ServiceError> {
    match answer?.as_slice() {
        [sw1, sw2] => match (StatusWord::from_bytes(*sw1, *sw2), *sw1, *sw2) {
            (StatusWord::Ok, ..) => Ok(()),
            (StatusWord::VerifyFailed(0) | StatusWord::Blocked | StatusWord::RefDataNotUsable, ..) => {
                Err(ServiceError::PinBlocked)
            }
            (StatusWord::VerifyFailed(n), ..) => Err(ServiceError::PinIncorrect { tries_left: n }),
            // Typed twice differently, or of a wrong length: no try was used.
            (_, 0x64, 0x02 | 0x03) => Err(ServiceError::InvalidParams(
                "the PIN typed on the reader has a wrong length".into(),
            )),
            (sw, ..) => Err(ServiceError::UnsupportedCard(format!(
                "the card answered {sw} to the PIN pad"
            ))),
        },
        other => Err(ServiceError::Transport(format!(
            "PIN pad answer of {} bytes",
            other.len()
        ))),
    }
}

/// The card data, with the situations read (once per card) when `conn` has
/// verified the PIN; the flag says whether it has.
pub(super) fn cache_with_situations<'c>(
    ctx: &'c mut SlotCtx<'_>,
    conn: ConnId,
    card: &CpsCard,
) -> Result<(&'c CpsCache, bool), ServiceError> {
    cached_info(ctx, card)?;
    let verified = ctx.verified_by(conn);
    let ex = &mut *ctx.link;
    let Some(cache) = ctx.cps_cache.as_mut() else {
        return Err(ServiceError::Internal("card data not kept".into()));
    };
    if verified && (cache.situations.is_none() || cache.cps2ter.is_none()) {
        let (situations, volet) = card.read_private(ex)?;
        cache.situations = Some(situations);
        cache.cps2ter = Some(volet);
    }
    Ok((cache, verified))
}

/// The DER certificate of a key, from the card data kept.
fn certificate_of(ctx: &mut SlotCtx<'_>, card: &CpsCard, usage: KeyUsage) -> Result<Vec<u8>, ServiceError> {
    cached_info(ctx, card)?
        .info
        .certificates
        .iter()
        .find(|c| c.usage == usage)
        .map(|c| c.der.clone())
        .ok_or_else(|| ServiceError::UnsupportedCard(format!("no {} certificate", usage.as_str())))
}

/// The PIN policy before a signature: with a PIN entry, verify now (once);
/// without, this connection must hold the verification.
pub(super) fn authorize(
    ctx: &mut SlotCtx<'_>,
    conn: ConnId,
    card: &CpsCard,
    entry: Option<&PinEntry>,
    last_try: LastTry,
) -> Result<(), ServiceError> {
    match entry {
        Some(entry) => {
            verify(ctx, conn, card, entry, last_try)?;
        }
        None if !ctx.verified_by(conn) || card.reverify_before_signature() => {
            return Err(ServiceError::PinRequired)
        }
        None => {}
    }
    Ok(())
}

/// After a private-key operation: a `PinRequired` from the card means the
/// verification is gone; a success restarts the idle timeout.
fn settle_signature(
    ctx: &mut SlotCtx<'_>,
    conn: ConnId,
    signed: Result<Vec<u8>, CardError>,
) -> Result<Vec<u8>, ServiceError> {
    match signed {
        Ok(signature) => {
            ctx.set_verified(conn); // used now: the idle timeout starts again
            Ok(signature)
        }
        Err(CardError::PinRequired) => {
            ctx.forget_verification();
            Err(ServiceError::PinRequired)
        }
        Err(e) => Err(e.into()),
    }
}

/// Has the card sign a SHA-256 digest (after `authorize`).
pub(super) fn sign_digest(
    ctx: &mut SlotCtx<'_>,
    conn: ConnId,
    card: &CpsCard,
    usage: KeyUsage,
    scheme: SignScheme,
    digest: &[u8],
) -> Result<Vec<u8>, ServiceError> {
    let ex = &mut *ctx.link;
    card.select(ex)?;
    let signed = card.sign(ex, usage, scheme, digest);
    settle_signature(ctx, conn, signed)
}

/// A private-key operation's answer: the signature and the key's certificate.
fn signature(
    ctx: &mut SlotCtx<'_>,
    conn: ConnId,
    signed: Result<Vec<u8>, CardError>,
    certificate: Vec<u8>,
) -> Result<Signature, ServiceError> {
    let signature = settle_signature(ctx, conn, signed)?;
    Ok(Signature {
        signature,
        certificate_der: certificate,
    })
}

/// The CPS in a slot as an operation sees it.
pub(super) struct Cps<'a, 'b> {
    pub(super) ctx: &'a mut SlotCtx<'b>,
    pub(super) card: CpsCard,
    pub(super) kind: CardKind,
    pub(super) atr: Vec<u8>,
}

/// `cps.info`'s answer: card, holder, profession, certificates, PIN, and the
/// situations and CPS2ter objects when this connection has verified the PIN.
fn info_view(
    info: &CpsCardInfo,
    kind: CardKind,
    atr: &[u8],
    private: Option<(&Vec<Situation>, &Vec<RawObject>)>,
) -> api::CpsInfo {
    let card = card_view_as(kind, atr);
    api::CpsInfo {
        card: api::CpsCard {
            kind: card.kind,
            atr: card.atr,
            serial: info.serial.clone(),
            generation: info.generation.to_string(),
            card_type: info.card_type.clone(),
            category: info.category.clone(),
            validity_start: info.validity_start.clone(),
            validity_end: info.validity_end.clone(),
            actua: info.actua.clone(),
        },
        holder: info.holder.clone(),
        profession: info.profession.clone(),
        professional_category: info.professional_category.clone(),
        specialty: info.specialty.clone(),
        certificates: info.certificates.clone(),
        pin: api::PinTries {
            tries_left: info.pin.tries_left,
            tries_max: info.pin.tries_max,
        },
        situations: private.map(|p| p.0.clone()),
        // No public source says what the CPS2ter objects hold: raw only.
        cps2ter_objects: private.map(|p| p.1.iter().map(data_object).collect()),
        warnings: info.warnings.clone(),
    }
}

impl Service {
    /// Runs `f` on the slot of the CPS `reader` names (or the only one), on
    /// behalf of `conn`, with the card driven by its generation's profile.
    pub(super) async fn with_cps<R, F>(
        &self,
        conn: ConnId,
        reader: Option<&str>,
        f: F,
    ) -> Result<R, ServiceError>
    where
        R: Send + 'static,
        F: FnOnce(Cps<'_, '_>) -> Result<R, ServiceError> + Send + 'static,
    {
        let worker = self.pick(reader, CPS, "CPS")?;
        let profiles = self.inner.profiles.clone();
        worker
            .run(move |ctx| {
                let (atr, kind) = open(ctx, conn, CPS)?;
                let card = CpsCard::new(kind, &profiles)?;
                f(Cps { ctx, card, kind, atr })
            })
            .await?
    }

    /// The card and holder, read without the PIN; with the situations when
    /// this connection verified the PIN.
    pub async fn cps_info(&self, conn: ConnId, reader: Option<&str>) -> Result<api::CpsInfo, ServiceError> {
        self.with_cps(conn, reader, move |Cps { ctx, card, kind, atr }| {
            let (cache, verified) = cache_with_situations(ctx, conn, &card)?;
            let private = match (&cache.situations, &cache.cps2ter) {
                (Some(s), Some(c)) if verified => Some((s, c)),
                _ => None,
            };
            Ok(info_view(&cache.info, kind, &atr, private))
        })
        .await
    }

    /// Verifies the PIN for this connection; returns the tries left.
    pub async fn cps_verify_pin(
        &self,
        conn: ConnId,
        reader: Option<&str>,
        entry: PinEntry,
        last_try: LastTry,
    ) -> Result<u8, ServiceError> {
        self.with_cps(conn, reader, move |Cps { ctx, card, .. }| {
            verify(ctx, conn, &card, &entry, last_try)
        })
        .await
    }

    /// Changes the PIN (`old` → `new`), with the same policy as a verification.
    /// The card is reset afterwards: the change verifies nobody.
    pub async fn cps_change_pin(
        &self,
        conn: ConnId,
        reader: Option<&str>,
        old: Zeroizing<String>,
        new: Zeroizing<String>,
        last_try: LastTry,
    ) -> Result<u8, ServiceError> {
        self.with_cps(conn, reader, move |Cps { ctx, card, .. }| {
            card.check_pin_format(old.as_bytes())?;
            card.check_pin_format(new.as_bytes())?;
            let status = gate(ctx, &card, last_try)?;
            let done = card.change_pin(&mut *ctx.link, old.as_bytes(), new.as_bytes());
            let tries = settle(ctx, conn, status, done.map_err(ServiceError::from))?;
            ctx.drop_verification()?;
            Ok(tries)
        })
        .await
    }

    /// Unblocks the PIN with the PUK and sets `new`. The card is reset after.
    pub async fn cps_unblock_pin(
        &self,
        conn: ConnId,
        reader: Option<&str>,
        puk: Zeroizing<String>,
        new: Zeroizing<String>,
    ) -> Result<u8, ServiceError> {
        self.with_cps(conn, reader, move |Cps { ctx, card, .. }| {
            let ex = &mut *ctx.link;
            card.select(ex)?;
            match card.unblock_pin(ex, puk.as_bytes(), new.as_bytes()) {
                Ok(()) => {}
                Err(CardError::PinIncorrect { tries_left }) => {
                    return Err(ServiceError::PukIncorrect { tries_left })
                }
                Err(CardError::PinBlocked) => return Err(ServiceError::PukBlocked),
                Err(e) => return Err(e.into()),
            }
            let max = card.profile().pin.tries_max;
            note_pin(
                ctx,
                PinStatus {
                    tries_left: max,
                    tries_max: max,
                    usage_spent: false,
                },
            );
            ctx.set_verified(conn);
            ctx.drop_verification()?;
            Ok(max)
        })
        .await
    }

    /// Closes this connection's PIN verification on the card (the card is
    /// reset). Returns whether there was one.
    pub async fn cps_logout(&self, conn: ConnId, reader: Option<&str>) -> Result<bool, ServiceError> {
        self.with_cps(conn, reader, move |Cps { ctx, .. }| {
            let had = ctx.verified_by(conn);
            ctx.drop_verification()?;
            Ok(had)
        })
        .await
    }

    /// The card's certificates.
    pub async fn cps_certificates(
        &self,
        conn: ConnId,
        reader: Option<&str>,
    ) -> Result<Vec<api::Certificate>, ServiceError> {
        self.with_cps(conn, reader, move |Cps { ctx, card, .. }| {
            Ok(cached_info(ctx, &card)?.info.certificates.clone())
        })
        .await
    }

    /// Signs with the CPS. With a PIN entry, verifies first in the same
    /// operation; without, this connection must have verified the PIN before.
    #[allow(clippy::too_many_arguments)]
    pub async fn cps_sign(
        &self,
        conn: ConnId,
        reader: Option<&str>,
        entry: Option<PinEntry>,
        last_try: LastTry,
        usage: KeyUsage,
        scheme: SignScheme,
        input: SignInput,
    ) -> Result<Signature, ServiceError> {
        self.with_cps(conn, reader, move |Cps { ctx, card, .. }| {
            let certificate = certificate_of(ctx, &card, usage)?;
            authorize(ctx, conn, &card, entry.as_ref(), last_try)?;
            drop(entry);
            let digest = match &input {
                SignInput::Data(d) => Sha256::digest(d).to_vec(),
                SignInput::Digest(d) => d.clone(),
            };
            let signature = sign_digest(ctx, conn, &card, usage, scheme, &digest)?;
            Ok(Signature {
                signature,
                certificate_der: certificate,
            })
        })
        .await
    }
}
