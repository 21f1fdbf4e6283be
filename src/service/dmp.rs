//! `dmp.vihf`: the holder's VIHF assertion for the DMP, signed by the CPS in
//! one slot job. The PIN policy is `cps.sign`'s (`cps::authorize`); the
//! situations are read once the PIN is verified; the card signs the SHA-256
//! of the canonical SignedInfo with its signature key (PKCS#1 v1.5).

use super::cps::{authorize, cache_with_situations, sign_digest, Cps, LastTry, PinEntry};
use super::slot::ConnId;
use super::{Service, ServiceError};
use crate::card::cps::{KeyUsage, SignScheme, Situation};
use crate::dmp::vihf::{self, Code, Request, VihfInput};
use crate::dmp::{dn, xmldsig, DmpError};
use lecteur_proto::dmp::Vihf;
use std::time::SystemTime;

/// Which situation d'exercice the assertion speaks for.
#[derive(Debug, Clone)]
pub enum SituationPick {
    /// The `index` of `cps.info`'s situations (1 … 16).
    Index(u8),
    /// The structure id of the situation.
    StructureId(String),
}

impl From<DmpError> for ServiceError {
    fn from(e: DmpError) -> Self {
        match e {
            DmpError::Input(m) => ServiceError::InvalidParams(m),
            DmpError::Certificate(m) => ServiceError::UnsupportedCard(format!("certificate: {m}")),
            e => ServiceError::Internal(e.to_string()),
        }
    }
}

fn pick<'s>(situations: &'s [Situation], want: &SituationPick) -> Result<&'s Situation, ServiceError> {
    let found = situations.iter().find(|s| match want {
        SituationPick::Index(i) => s.index == *i,
        SituationPick::StructureId(id) => s.structure_id.as_deref() == Some(id.as_str()),
    });
    found.ok_or_else(|| {
        let have: Vec<u8> = situations.iter().map(|s| s.index).collect();
        let what = match want {
            SituationPick::Index(i) => format!("situation {i}"),
            SituationPick::StructureId(_) => "situation with that structure id".into(),
        };
        ServiceError::InvalidParams(format!("the card has no {what} (its situations: {have:?})"))
    })
}

fn unsupported(what: &str) -> ServiceError {
    ServiceError::UnsupportedCard(format!("the card gives no {what}"))
}

impl Service {
    /// Builds and signs the VIHF assertion with the CPS signature key.
    pub async fn dmp_vihf(
        &self,
        conn: ConnId,
        reader: Option<&str>,
        entry: Option<PinEntry>,
        last_try: LastTry,
        situation: SituationPick,
        request: Request,
    ) -> Result<Vihf, ServiceError> {
        let profile = self.inner.profiles.vihf.clone();
        // A bad request never reaches the card.
        vihf::check_request(&request, &profile)?;
        self.with_cps(conn, reader, move |Cps { ctx, card, .. }| {
            authorize(ctx, conn, &card, entry.as_ref(), last_try)?;
            drop(entry);
            let (cache, _) = cache_with_situations(ctx, conn, &card)?;
            let info = &cache.info;
            let situations = cache.situations.as_deref().unwrap_or_default();
            let s = pick(situations, &situation)?;
            let certificate = info
                .certificates
                .iter()
                .find(|c| c.usage == KeyUsage::Signature)
                .ok_or_else(|| unsupported("signature certificate"))?
                .der
                .clone();
            let issuer = dn::subject_rfc2253(&certificate, &profile.issuer_keywords)?;
            let holder = &info.holder;
            let national_id = holder
                .national_id
                .as_deref()
                .ok_or_else(|| unsupported("national id"))?;
            let code = |c: &crate::card::codes::Coded| Code {
                code: c.code.clone(),
                display: c.label.clone(),
            };
            let profession = code(
                info.profession
                    .as_ref()
                    .ok_or_else(|| unsupported("profession"))?,
            );
            let specialty = info.specialty.as_ref().map(code);
            let display_name = match (&holder.given_name, &holder.surname) {
                (Some(g), Some(s)) => Some(format!("{g} {s}")),
                (None, Some(s)) => Some(s.clone()),
                _ => None,
            };
            let id = vihf::new_id()?;
            let input = VihfInput {
                id: &id,
                now: SystemTime::now(),
                issuer: &issuer,
                national_id,
                display_name,
                structure_id: s
                    .structure_id
                    .as_deref()
                    .ok_or_else(|| unsupported("structure id"))?,
                sector: s
                    .sector
                    .as_ref()
                    .map(|c| c.code.as_str())
                    .ok_or_else(|| unsupported("sector"))?,
                profession: &profession,
                specialty: specialty.as_ref(),
                request: &request,
            };
            let index = s.index;
            let unsigned = vihf::build(&input, &profile)?;
            let prepared = xmldsig::prepare(&unsigned, &certificate, &profile.signature)?;
            let signature = sign_digest(
                ctx,
                conn,
                &card,
                KeyUsage::Signature,
                SignScheme::Pkcs1Sha256,
                prepared.digest(),
            )?;
            let assertion = prepared.finish(&signature);
            Ok(Vihf {
                assertion_bytes: assertion.clone().into_bytes(),
                assertion,
                id: unsigned.id,
                issue_instant: unsigned.issue_instant,
                not_before: unsigned.not_before,
                not_on_or_after: unsigned.not_on_or_after,
                situation: index,
            })
        })
        .await
    }
}
