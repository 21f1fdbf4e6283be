//! Selecting the CPS application, which every reading and every command of
//! the card starts with.

use super::super::{expect_ok, CardError};
use crate::apdu::{transmit, Command, Exchange};
use crate::card::profile::CpsProfile;

/// Selects the CPS application (on a CPS4 this opens logical channel 1).
/// When it answers the profile's reselect status, selects the profile's
/// steps and the application again, once (a CPS4 whose ChipDoc answers
/// `69 85`: through the GP ISD and the CPS2ter applet, as Cryptolib does).
pub fn select_app(ex: &mut dyn Exchange, profile: &CpsProfile) -> Result<(), CardError> {
    let a = &profile.application;
    let select = |ex: &mut dyn Exchange| {
        transmit(
            ex,
            &Command::new(a.cla, 0xA4, 0x04, 0x0C).data(a.aid.0.as_slice()),
        )
    };
    let mut resp = select(ex)?;
    if let Some(r) = &a.reselect {
        if resp.sw.to_u16().to_be_bytes()[..] == r.status.0[..] {
            for step in &r.steps {
                // Only a way back to the application: its own SELECT says
                // whether it worked (Cryptolib does not check these either).
                transmit(
                    ex,
                    &Command::new(step.cla, 0xA4, 0x04, 0x0C).data(step.aid.0.as_slice()),
                )?;
            }
            resp = select(ex)?;
        }
    }
    expect_ok(resp, "SELECT CPS application").map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apdu::replay::Replay;
    use crate::card::profile::Profiles;

    #[test]
    fn a_cps4_application_refused_with_6985_is_selected_again_once() {
        let p = &Profiles::builtin().unwrap().cps4;
        let app = "01A4040C08 8025000001FF0100";
        let isd = "01A4040C07 A0000001510000";
        let cps2ter = "00A4040C08 8025000001FF0002";
        let mut r = Replay::new([(app, "6985"), (isd, "9000"), (cps2ter, "9000"), (app, "9000")]);
        select_app(&mut r, p).unwrap();
        r.finish();
        // Still refused: the error, and no third try.
        let mut r = Replay::new([(app, "6985"), (isd, "6A82"), (cps2ter, "9000"), (app, "6985")]);
        assert!(matches!(select_app(&mut r, p), Err(CardError::Status { .. })));
        r.finish();
        // Another status: no recovery.
        let mut r = Replay::new([(app, "6A82")]);
        assert!(select_app(&mut r, p).is_err());
        r.finish();
        // The CPS3 has none.
        let p = &Profiles::builtin().unwrap().cps3;
        let mut r = Replay::new([("00A4040C0D E828BD080F8025000001FF0010", "6985")]);
        assert!(select_app(&mut r, p).is_err());
        r.finish();
    }
}
