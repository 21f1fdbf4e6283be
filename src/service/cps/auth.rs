//! TLS client authentication with the authentication key, and the data
//! objects as raw bytes: what a PKCS#11 module over lecteurd needs.

use super::{authorize, certificate_of, signature, Cps, LastTry, PinEntry};
use crate::card::cps::{DigestAlg, KeyUsage, RawObject, SignScheme};
use crate::service::{ConnId, Service, ServiceError};
use lecteur_proto::cps::{DataObject, Signature};
use sha2::{Digest, Sha256};

/// What the authentication key signs.
pub enum AuthInput {
    /// Hashed with SHA-256 and wrapped in its DigestInfo.
    Data(Vec<u8>),
    /// A DigestInfo as a TLS client hands it over.
    DigestInfo(Vec<u8>),
}

/// A data object as `cps.data_objects` gives it.
pub(super) fn data_object(o: &RawObject) -> DataObject {
    DataObject {
        label: o.label.clone(),
        private: o.private,
        value: o.value.clone(),
    }
}

impl Service {
    /// Signs with the authentication key as a TLS client does, with the PIN
    /// policy of `cps_sign`.
    pub async fn cps_authenticate(
        &self,
        conn: ConnId,
        reader: Option<&str>,
        entry: Option<PinEntry>,
        last_try: LastTry,
        scheme: SignScheme,
        input: AuthInput,
    ) -> Result<Signature, ServiceError> {
        let digest_info = match input {
            AuthInput::Data(d) => DigestAlg::Sha256.digest_info(&Sha256::digest(d)),
            AuthInput::DigestInfo(di) => di,
        };
        self.with_cps(conn, reader, move |Cps { ctx, card, .. }| {
            let certificate = certificate_of(ctx, &card, KeyUsage::Authentication)?;
            authorize(ctx, conn, &card, entry.as_ref(), last_try)?;
            drop(entry);
            let ex = &mut *ctx.link;
            card.select(ex)?;
            let signed = card.authenticate(ex, scheme, &digest_info);
            signature(ctx, conn, signed, certificate)
        })
        .await
    }

    /// The data objects, raw; the private ones only when this connection
    /// has verified the PIN.
    pub async fn cps_data_objects(
        &self,
        conn: ConnId,
        reader: Option<&str>,
    ) -> Result<Vec<DataObject>, ServiceError> {
        self.with_cps(conn, reader, move |Cps { ctx, card, .. }| {
            let verified = ctx.verified_by(conn);
            let read = card.read_data_objects(&mut *ctx.link, verified);
            let objects = match read {
                Ok(o) => o,
                Err(crate::card::CardError::PinRequired) => {
                    ctx.forget_verification();
                    return Err(ServiceError::PinRequired);
                }
                Err(e) => return Err(e.into()),
            };
            Ok(objects.iter().map(data_object).collect())
        })
        .await
    }
}
