use super::cache::{VitaleCache, VitaleRead};
use super::slot::{ConnId, SlotCtx};
use super::{card_view, open, Service, ServiceError};
use crate::card::vitale::{self, VitaleData};
use crate::card::{CardKind, Profiles};
use lecteur_proto::vitale::VitaleResult;
use std::sync::Arc;

/// Both generations are recognised; a Vitale 1 is refused with the reason.
const VITALE: &[CardKind] = &[CardKind::Vitale2, CardKind::Vitale1];

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
    ctx: &mut SlotCtx<'_>,
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
    let data = vitale::read_card(&mut *ctx.link, kind, &profiles.vitale2)?;
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
                    // The card or the link failed (a reset by another
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
        beneficiaries: data.beneficiaries,
        extra: data.extra,
        extra_files: data.extra_files,
        certificates: data.certificates,
        pan: data.pan,
        warnings: data.warnings,
    }
}
