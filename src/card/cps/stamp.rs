//! The card serial (EF.SN.ICC) and EF_ACTUA, whose pair is the cache stamp
//! of everything read from a CPS: Cryptolib re-reads its cache when EF_ACTUA
//! changes (reference §1.3).

use super::super::{tlv, CardError};
use crate::apdu::Exchange;
use crate::card::profile::{CpsProfile, Generation};
use serde::{Serialize, Serializer};

/// The ANS issuer prefix of the card serial number (PAN) in EF.SN.ICC.
const PAN_PREFIX: &str = "8025000001";

/// What identifies the contents of a CPS: equal stamps, equal contents.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct CardStamp {
    /// The card serial number (EF.SN.ICC).
    pub serial: String,
    /// EF_ACTUA as read (hex), `null` when the card has none yet.
    #[serde(serialize_with = "hex_opt")]
    pub actua: Option<Vec<u8>>,
}

fn hex_opt<S: Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.serialize_str(&hex::encode_upper(v)),
        None => s.serialize_none(),
    }
}

/// EF_ACTUA decoded: the last update's start and end, as the API gives it.
pub use lecteur_proto::cps::Actua;

/// EF.SN.ICC → the card serial: the PAN without the ANS issuer prefix.
pub(super) fn parse_serial(raw: &[u8]) -> Result<String, CardError> {
    match raw {
        [0x5A, len, pan @ ..] if *len as usize == pan.len() && !pan.is_empty() => {
            let digits = hex::encode_upper(pan);
            let digits = digits.trim_end_matches('F');
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(CardError::Malformed("EF.SN.ICC is not BCD".into()));
            }
            Ok(digits.strip_prefix(PAN_PREFIX).unwrap_or(digits).to_string())
        }
        _ => Err(CardError::Malformed("EF.SN.ICC is not a 5A object".into())),
    }
}

/// EF_ACTUA: `EC { 81 start, 82 end }`, packed BCD `YYYYMMDDhhmmss`. Both
/// dates must be there: Cryptolib takes a file without a valid start and end
/// for an interrupted update (public-sources §1.3.2).
pub(super) fn parse_actua(raw: &[u8]) -> Result<Actua, CardError> {
    let bad = || CardError::Malformed("EF_ACTUA is not an EC template".into());
    let top = tlv::parse_all(raw).ok_or_else(bad)?;
    let ec = top.iter().find(|t| t.is(&[0xEC])).ok_or_else(bad)?;
    let fields = tlv::parse_all(ec.value).ok_or_else(bad)?;
    let date = |tag: u8| match tlv::find(&fields, &[tag]) {
        Some(v) => bcd_timestamp(v)
            .map(Some)
            .ok_or_else(|| CardError::Malformed("EF_ACTUA date is not BCD YYYYMMDDhhmmss".into())),
        None => Ok(None),
    };
    let (start, end) = (date(0x81)?, date(0x82)?);
    if start.is_none() || end.is_none() {
        return Err(CardError::Malformed(
            "EF_ACTUA lacks its start or end date".into(),
        ));
    }
    Ok(Actua { start, end })
}

/// On a CPS3, an EF_ACTUA that exists but is empty or does not parse means
/// the card is being updated (or its update was interrupted): Cryptolib
/// then refuses the card ("bad actua", public-sources §1.3.2), and so does
/// lecteur, before any signature. An absent EF_ACTUA is fine. Cryptolib
/// never reads EF_ACTUA on a CPS4, so the rule is not applied there.
fn check_actua(profile: &CpsProfile, actua: Option<&[u8]>) -> Result<(), CardError> {
    if profile.generation != Generation::Cps3 {
        return Ok(());
    }
    match actua {
        Some([]) => Err(CardError::BeingUpdated("is empty")),
        Some(raw) if parse_actua(raw).is_err() => Err(CardError::BeingUpdated("does not parse")),
        _ => Ok(()),
    }
}

fn bcd_timestamp(v: &[u8]) -> Option<String> {
    if v.len() != 7 || !v.iter().all(|b| b >> 4 <= 9 && b & 0x0F <= 9) {
        return None;
    }
    let d = hex::encode(v);
    Some(format!(
        "{}-{}-{}T{}:{}:{}",
        &d[0..4],
        &d[4..6],
        &d[6..8],
        &d[8..10],
        &d[10..12],
        &d[12..14]
    ))
}

/// Reads the stamp: EF.SN.ICC and EF_ACTUA, two file reads after selecting
/// the application (which opens the logical channel on a CPS4).
pub fn read_stamp(ex: &mut dyn Exchange, profile: &CpsProfile) -> Result<CardStamp, CardError> {
    super::select::select_app(ex, profile)?;
    read_stamp_selected(ex, profile)
}

pub(super) fn read_stamp_selected(
    ex: &mut dyn Exchange,
    profile: &CpsProfile,
) -> Result<CardStamp, CardError> {
    let reader = super::layout::reader(profile);
    let serial = parse_serial(&reader.read(ex, &profile.files.serial.0, "READ EF.SN.ICC")?)?;
    let actua = reader.read_optional(ex, &profile.files.actua.0, "READ EF_ACTUA")?;
    check_actua(profile, actua.as_deref())?;
    Ok(CardStamp { serial, actua })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apdu::replay::Replay;
    use crate::card::profile::Profiles;
    use crate::card::testutil::{absent_step, h, read_steps, Rng};

    #[test]
    fn serial_and_actua() {
        assert_eq!(
            parse_serial(&h("5A0A 8025000001 2500577253")).unwrap(),
            "2500577253"
        );
        assert_eq!(parse_serial(&h("5A05 1234567FFF")).unwrap(), "1234567");
        assert!(parse_serial(&h("5A0A 8025000001 25005772")).is_err());
        assert!(parse_serial(&h("5A02 FFFF")).is_err());
        assert!(parse_serial(&h("5A02 12AB")).is_err());
        let a = parse_actua(&h("EC12 8107 20240115093000 8207 20240115093512 0000")).unwrap();
        assert_eq!(a.start.as_deref(), Some("2024-01-15T09:30:00"));
        assert_eq!(a.end.as_deref(), Some("2024-01-15T09:35:12"));
        assert!(parse_actua(&h("EC09 8107 2024011509300A")).is_err());
        assert!(parse_actua(&h("EB00")).is_err());
        assert!(parse_actua(&h("EC09 8107 20240115093000")).is_err());
        assert!(parse_actua(&h("EC00")).is_err());
    }

    #[test]
    fn a_bad_actua_on_a_cps3_means_being_updated() {
        let p = &Profiles::builtin().unwrap().cps3;
        let sn = h("5A0A 8025000001 2500577253");
        for (content, why) in [
            ("", "is empty"),
            ("FFFFFFFF", "does not parse"),
            ("EC09 8107 20240115093000", "does not parse"),
        ] {
            let mut steps = read_steps(0, &h("3F00D003"), &sn, 0xE7);
            steps.extend(read_steps(0, &h("3F00D010"), &h(content), 0xE7));
            let mut r = Replay::new(steps);
            assert_eq!(read_stamp_selected(&mut r, p), Err(CardError::BeingUpdated(why)));
        }
        // Absent: fine.
        let mut steps = read_steps(0, &h("3F00D003"), &sn, 0xE7);
        steps.push(absent_step(0, &h("3F00D010")));
        assert!(read_stamp_selected(&mut Replay::new(steps), p).is_ok());
    }

    #[test]
    fn the_stamp_costs_two_reads_on_the_right_channel() {
        let p = &Profiles::builtin().unwrap().cps4;
        // A CPS4 selects an MF file by its file id alone (P1 00).
        let mut r = Replay::new([
            ("01A4040C08 8025000001FF0100", "9000"),
            ("01A4000402 D003", "6204 8002000C 9000"),
            ("01B000000C", "5A0A 8025000001 2500577253 9000"),
            ("01A4000402 D010", "6A82"),
        ]);
        let s = read_stamp(&mut r, p).unwrap();
        r.finish();
        assert_eq!(
            s,
            CardStamp {
                serial: "2500577253".into(),
                actua: None
            }
        );
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"{"serial":"2500577253","actua":null}"#
        );
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut rng = Rng::new(3);
        let seeds = [
            h("5A0A 8025000001 2500577253"),
            h("EC12 8107 20240115093000 8207 20240115093512"),
        ];
        for input in rng.inputs(&seeds) {
            let _ = parse_serial(&input);
            let _ = parse_actua(&input);
        }
    }
}
