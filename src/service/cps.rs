//! CPS operations and the PIN policy:
//! - the tries left are read before any VERIFY, and a blocked PIN is never sent;
//! - one request sends at most one VERIFY, never retried;
//! - a verification belongs to the connection that made it: before another
//!   connection verifies, the card is reset; signing without `pin` needs this
//!   connection's own verification.

use super::worker::{ConnId, SlotCtx};
use super::{open, CardView, Service, ServiceError};
use crate::apdu::Channel;
use crate::card::cps::{self, KeyUsage, PinStatus};
use crate::card::{cert, CardKind};
use base64::Engine;
use serde::Serialize;
use zeroize::Zeroizing;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

#[derive(Debug, Serialize)]
pub struct CpsCard {
    #[serde(flatten)]
    pub card: CardView,
    pub serial: String,
}

#[derive(Debug, Serialize)]
pub struct Holder {
    pub national_id: Option<String>,
    pub surname: Option<String>,
    pub given_name: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct CpsInfo {
    pub card: CpsCard,
    pub holder: Holder,
    pub pin: PinStatus,
}

#[derive(Debug, Serialize)]
pub struct CertificateView {
    pub usage: &'static str,
    pub der_b64: String,
    pub subject: String,
    pub not_after: String,
}

/// What to sign.
pub enum SignInput {
    Data(Vec<u8>),
    /// A SHA-256 digest.
    Digest(Vec<u8>),
}

#[derive(Debug, Serialize)]
pub struct SignResult {
    pub signature_b64: String,
    pub certificate_der_b64: String,
}

/// Whether a verification may use the last try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LastTry {
    Refuse,
    Allow,
}

/// Verifies `pin` for `conn` (the slot is already claimed by `open`): tries
/// left read first, a blocked PIN never sent, the last try only when allowed,
/// one VERIFY. Returns the tries left after it.
fn verify(ctx: &mut SlotCtx, conn: ConnId, pin: &[u8], last_try: LastTry) -> Result<u8, ServiceError> {
    cps::check_pin_format(pin)?;
    let ex = &mut Channel(ctx.channel.as_mut());
    cps::select(ex)?;
    let status = cps::pin_status(ex)?;
    match status.tries_left {
        0 => return Err(ServiceError::PinBlocked),
        1 if last_try == LastTry::Refuse => return Err(ServiceError::PinLastTry),
        _ => {}
    }
    match cps::verify_pin(ex, pin) {
        Ok(()) => {
            ctx.set_verified(conn);
            Ok(status.tries_max)
        }
        Err(e) => {
            // A failed comparison closes the card's security state by itself.
            ctx.forget_verification();
            Err(e.into())
        }
    }
}

impl Service {
    pub async fn cps_info(&self, conn: ConnId, reader: Option<&str>) -> Result<CpsInfo, ServiceError> {
        let worker = self.pick(reader, CardKind::Cps3, "CPS")?;
        worker
            .run(move |ctx| {
                let atr = open(ctx, conn, CardKind::Cps3)?;
                let ex = &mut Channel(ctx.channel.as_mut());
                cps::select(ex)?;
                let serial = cps::serial(ex)?;
                let der = cps::certificate(ex, KeyUsage::Authentication)?;
                let pin = cps::pin_status(ex)?;
                let c = cert::parse(&der)?;
                Ok(CpsInfo {
                    card: CpsCard {
                        card: CardView::new(&atr),
                        serial,
                    },
                    holder: Holder {
                        national_id: c.national_id,
                        surname: c.surname,
                        given_name: c.given_name,
                    },
                    pin,
                })
            })
            .await?
    }

    /// Verifies the PIN for this connection; returns the tries left.
    pub async fn cps_verify_pin(
        &self,
        conn: ConnId,
        reader: Option<&str>,
        pin: Zeroizing<String>,
        last_try: LastTry,
    ) -> Result<u8, ServiceError> {
        let worker = self.pick(reader, CardKind::Cps3, "CPS")?;
        worker
            .run(move |ctx| {
                open(ctx, conn, CardKind::Cps3)?;
                verify(ctx, conn, pin.as_bytes(), last_try)
            })
            .await?
    }

    /// Closes this connection's PIN verification on the card (the card is
    /// reset). Returns whether there was one.
    pub async fn cps_logout(&self, conn: ConnId, reader: Option<&str>) -> Result<bool, ServiceError> {
        let worker = self.pick(reader, CardKind::Cps3, "CPS")?;
        worker
            .run(move |ctx| {
                open(ctx, conn, CardKind::Cps3)?;
                let had = ctx.verified_by(conn);
                ctx.drop_verification()?;
                Ok(had)
            })
            .await?
    }

    pub async fn cps_certificates(
        &self,
        conn: ConnId,
        reader: Option<&str>,
    ) -> Result<Vec<CertificateView>, ServiceError> {
        let worker = self.pick(reader, CardKind::Cps3, "CPS")?;
        worker
            .run(move |ctx| {
                open(ctx, conn, CardKind::Cps3)?;
                let ex = &mut Channel(ctx.channel.as_mut());
                cps::select(ex)?;
                [KeyUsage::Signature, KeyUsage::Authentication]
                    .into_iter()
                    .map(|usage| {
                        let der = cps::certificate(ex, usage)?;
                        let c = cert::parse(&der)?;
                        Ok(CertificateView {
                            usage: usage.as_str(),
                            der_b64: B64.encode(&der),
                            subject: c.subject,
                            not_after: c.not_after,
                        })
                    })
                    .collect()
            })
            .await?
    }

    /// Signs with the CPS. With `pin`, verifies it first in the same operation;
    /// without, this connection must have verified the PIN before.
    pub async fn cps_sign(
        &self,
        conn: ConnId,
        reader: Option<&str>,
        pin: Option<Zeroizing<String>>,
        last_try: LastTry,
        usage: KeyUsage,
        input: SignInput,
    ) -> Result<SignResult, ServiceError> {
        let worker = self.pick(reader, CardKind::Cps3, "CPS")?;
        worker
            .run(move |ctx| {
                open(ctx, conn, CardKind::Cps3)?;
                match &pin {
                    Some(pin) => {
                        verify(ctx, conn, pin.as_bytes(), last_try)?;
                    }
                    None if !ctx.verified_by(conn) => return Err(ServiceError::PinRequired),
                    None => {}
                }
                drop(pin);
                let ex = &mut Channel(ctx.channel.as_mut());
                cps::select(ex)?;
                let certificate = cps::certificate(ex, usage)?;
                let signed = match &input {
                    SignInput::Data(d) => cps::sign_data(ex, usage, d),
                    SignInput::Digest(d) => cps::sign_sha256(ex, usage, d),
                };
                let signature = signed.inspect_err(|e| {
                    if *e == crate::card::CardError::PinRequired {
                        ctx.forget_verification();
                    }
                })?;
                ctx.set_verified(conn); // used now: the idle timeout starts again
                Ok(SignResult {
                    signature_b64: B64.encode(signature),
                    certificate_der_b64: B64.encode(certificate),
                })
            })
            .await?
    }
}
