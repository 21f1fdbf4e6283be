use super::{open, CardView, ConnId, Service, ServiceError};
use crate::apdu::Channel;
use crate::card::vitale::{self, Beneficiary, Extra, ExtraFile};
use crate::card::CardKind;
use serde::Serialize;

/// Both generations are recognised; a Vitale 1 is refused with the reason.
const VITALE: &[CardKind] = &[CardKind::Vitale2, CardKind::Vitale1];

#[derive(Debug, Serialize)]
pub struct VitaleResult {
    pub card: CardView,
    pub validity_start: Option<String>,
    pub beneficiaries: Vec<Beneficiary>,
    /// What the card holds that the profile does not map: nothing is lost.
    pub extra: Vec<Extra>,
    pub extra_files: Vec<ExtraFile>,
    pub warnings: Vec<String>,
}

impl Service {
    /// Reads every beneficiary of the carte Vitale.
    pub async fn vitale_read(
        &self,
        conn: ConnId,
        reader: Option<&str>,
    ) -> Result<VitaleResult, ServiceError> {
        let worker = self.pick(reader, VITALE, "Vitale")?;
        let profiles = self.inner.profiles.clone();
        worker
            .run(move |ctx| {
                let (atr, kind) = open(ctx, conn, VITALE)?;
                let data = vitale::read_card(&mut Channel(&mut *ctx.channel), kind, &profiles.vitale2)?;
                Ok(VitaleResult {
                    card: CardView::new(&atr),
                    validity_start: data.validity_start,
                    beneficiaries: data.beneficiaries,
                    extra: data.extra,
                    extra_files: data.extra_files,
                    warnings: data.warnings,
                })
            })
            .await?
    }
}
