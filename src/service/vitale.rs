use super::{open, CardView, ConnId, Service, ServiceError};
use crate::apdu::Channel;
use crate::card::{vitale, CardKind};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct VitaleResult {
    pub card: CardView,
    pub beneficiaries: Vec<vitale::Beneficiary>,
}

impl Service {
    /// Reads every beneficiary of the carte Vitale.
    pub async fn vitale_read(
        &self,
        conn: ConnId,
        reader: Option<&str>,
    ) -> Result<VitaleResult, ServiceError> {
        let worker = self.pick(reader, CardKind::Vitale2, "Vitale 2")?;
        worker
            .run(move |ctx| {
                let atr = open(ctx, conn, CardKind::Vitale2)?;
                let data = vitale::read(&mut Channel(ctx.channel.as_mut()))?;
                Ok(VitaleResult {
                    card: CardView::new(&atr),
                    beneficiaries: data.beneficiaries,
                })
            })
            .await?
    }
}
