use super::worker::SlotCtx;
use super::{card_view, open, ConnId, Service, ServiceError};
use crate::apdu::Channel;
use crate::card::nir::Place;
use crate::card::vitale::{self, VitaleData};
use crate::card::{CardKind, Profiles};
use lecteur_proto::vitale as api;
use lecteur_proto::vitale::VitaleResult;
use std::sync::Arc;

/// Both generations are recognised; a Vitale 1 is refused with the reason.
const VITALE: &[CardKind] = &[CardKind::Vitale2, CardKind::Vitale1];

/// A read and its JSON, serialised once: a cached read is answered with the
/// same text, no serialisation per request.
#[derive(Debug)]
pub struct VitaleRead {
    pub result: VitaleResult,
    pub json: Arc<str>,
}

/// The last read of the Vitale in a slot, for the card insertion it was read on.
pub struct VitaleCache {
    epoch: u64,
    /// The card's ATR: a card of another kind seen before its event is not served.
    atr: Vec<u8>,
    read: Arc<VitaleRead>,
}

/// Whether `vitale.read` may answer from what was read before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// From the cache while the card has not moved since it was read.
    Cached,
    /// From the card, always (the cache is refreshed).
    Fresh,
}

/// A Vitale read served from the slot's cache when the card has not left the
/// slot (same epoch) since it was read: 0 APDUs. A card movement bumps the
/// epoch; a reset or any failure drops the cache, so the next read goes to the card.
fn cached_read(
    ctx: &mut SlotCtx,
    conn: ConnId,
    profiles: &Profiles,
    freshness: Freshness,
) -> Result<Arc<VitaleRead>, ServiceError> {
    // The epoch before connecting: a movement meanwhile only makes the entry stale.
    let epoch = ctx.epoch();
    let (atr, kind) = open(ctx, conn, VITALE)?;
    if freshness == Freshness::Cached {
        if let Some(c) = ctx
            .vitale_cache
            .as_ref()
            .filter(|c| c.epoch == epoch && c.atr == atr)
        {
            return Ok(c.read.clone());
        }
    }
    let data = vitale::read_card(&mut Channel(&mut *ctx.channel), kind, &profiles.vitale2)?;
    let result = view(card_view(&atr), data);
    let json = serde_json::to_string(&result).map_err(|e| ServiceError::Internal(e.to_string()))?;
    let read = Arc::new(VitaleRead {
        result,
        json: json.into(),
    });
    *ctx.vitale_cache = Some(VitaleCache {
        epoch,
        atr,
        read: read.clone(),
    });
    Ok(read)
}

impl Service {
    /// Reads every beneficiary of the carte Vitale, from the card or, when it
    /// has not moved since the last read and `freshness` allows, from the cache.
    pub async fn vitale_read(
        &self,
        conn: ConnId,
        reader: Option<&str>,
        freshness: Freshness,
    ) -> Result<Arc<VitaleRead>, ServiceError> {
        let worker = self.pick(reader, VITALE, "Vitale")?;
        let profiles = self.inner.profiles.clone();
        worker
            .run(move |ctx| {
                let read = cached_read(ctx, conn, &profiles, freshness);
                if read.is_err() {
                    // The card or the channel failed (a reset by another
                    // application, a card pulled): read it anew next time.
                    *ctx.vitale_cache = None;
                }
                read
            })
            .await?
    }
}

/// `vitale.read`'s answer from what the card gave.
fn view(card: lecteur_proto::system::CardView, data: VitaleData) -> VitaleResult {
    VitaleResult {
        card,
        validity_start: data.validity_start,
        beneficiaries: data.beneficiaries.into_iter().map(beneficiary).collect(),
        extra: data.extra.into_iter().map(extra).collect(),
        extra_files: data
            .extra_files
            .into_iter()
            .map(|f| api::ExtraFile {
                application: f.application,
                fid: f.fid,
                name: f.name,
                hex: f.hex,
            })
            .collect(),
        certificates: data
            .certificates
            .into_iter()
            .map(|c| api::CardCertificate {
                file: c.file,
                certificate: c.certificate,
                ca_signature: c.ca_signature,
                public_key_remainder: c.public_key_remainder,
            })
            .collect(),
        pan: data.pan,
        warnings: data.warnings,
    }
}

fn extra(e: vitale::Extra) -> api::Extra {
    api::Extra {
        path: e.path,
        tag: e.tag,
        hex: e.hex,
    }
}

fn beneficiary(b: vitale::Beneficiary) -> api::Beneficiary {
    let r = b.rights;
    api::Beneficiary {
        nir: b.nir,
        nir_key: b.nir_key,
        nir_valid: b.nir_valid,
        nir_parts: b.nir_parts.map(|p| api::NirParts {
            sex: p.sex,
            sex_label: p.sex_label.map(str::to_string),
            birth_year: p.birth_year,
            birth_month: p.birth_month,
            place: match p.place {
                Place::France { departement, commune } => api::Place::France { departement, commune },
                Place::Abroad { country } => api::Place::Abroad { country },
            },
        }),
        surname: b.surname,
        first_name: b.first_name,
        birth_date: api::BirthDate {
            raw: b.birth_date.raw,
            iso: b.birth_date.iso,
            lunar: b.birth_date.lunar,
            year_only: b.birth_date.year_only,
            computation_date: b.birth_date.computation_date,
        },
        nationality: b.nationality,
        rights: api::Rights {
            regime: r.regime,
            caisse: r.caisse,
            centre: r.centre,
            code_gestion: r.code_gestion,
            quality: r.quality,
            birth_rank: r.birth_rank,
            amc: r.amc,
            amo_periods: r
                .amo_periods
                .into_iter()
                .map(|p| api::Period {
                    start: p.start,
                    end: p.end,
                })
                .collect(),
        },
        extra: b.extra.into_iter().map(extra).collect(),
    }
}
