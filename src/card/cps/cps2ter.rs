//! The CPS2ter volet of a CPS3: the billing situation `CPS_SIT_FACT` and the
//! `CPS2TER_ACTIVITY_nn_PS` objects Cryptolib adds after the DODF's (private,
//! read after the PIN). Facts from public-sources §1.2.6 and §1.6.4:
//! - class `A0`; each file id of the path selected in turn with P1 00 P2 00,
//!   `3F00` itself never sent; the last one as case 4, whose answer is
//!   `85 L <size(2) fid(2) type(1) …>` (type 4 = EF) after `9F xx` and GET
//!   RESPONSE `A0 C0` (the rule lives in `apdu::transmit`);
//! - READ BINARY with class `A0`, at most the card's READ size at a time;
//! - its own status words: `94 04` file not found, `98 xx` access or PIN
//!   conditions, `92 40`/`98 10` file invalid, `94 02`/`94 08` bad use.
//!
//! What the files hold is not described by any public source: they are
//! given raw (docs/cps-data-objects.md).

use super::super::files::MAX_FILE;
use super::super::CardError;
use super::objects::RawObject;
use crate::apdu::{transmit, Command, Exchange, StatusWord, CLA_CPS2TER};
use crate::card::profile::{Cps2ter, CpsProfile};

/// The MF's file id: Cryptolib never selects it on this volet.
const MF: [u8; 2] = [0x3F, 0x00];

/// How the volet's status words read for the caller.
fn status_error(sw: StatusWord, what: &'static str) -> CardError {
    match sw {
        // 98 02/04/08/40: PIN not activated, access condition not met,
        // PIN invalidated or locked; 69 82 kept for an ISO-speaking volet.
        StatusWord::Other(0x98, 0x02 | 0x04 | 0x08 | 0x40) | StatusWord::SecurityNotSatisfied => {
            CardError::PinRequired
        }
        // 92 40 header corrupt, 98 10 file invalidated.
        StatusWord::Other(0x92, 0x40) | StatusWord::Other(0x98, 0x10) => {
            CardError::Malformed(format!("{what}: the card says the file is not valid ({sw})"))
        }
        sw => CardError::Status { what, sw },
    }
}

/// Whether the volet said "no such file" (`94 04`, or ISO `6A 82`), or that
/// it is not there at all (class `A0` or its instruction refused: `6E 00`,
/// `6D 00`): the object is then left out rather than failing the read of
/// the situations beside it.
fn is_absent(e: &CardError) -> bool {
    matches!(
        e,
        CardError::Status {
            sw: StatusWord::Other(0x94, 0x04)
                | StatusWord::FileNotFound
                | StatusWord::ClaNotSupported
                | StatusWord::InsNotSupported,
            ..
        }
    )
}

fn select_command(fid: &[u8]) -> Command {
    Command::new(CLA_CPS2TER, 0xA4, 0x00, 0x00).data(fid)
}

/// Selects `path` file id by file id and returns the EF's size.
fn select(ex: &mut dyn Exchange, path: &[u8], what: &'static str) -> Result<usize, CardError> {
    let fids: Vec<&[u8]> = path.chunks(2).skip_while(|f| *f == MF).collect();
    let Some((last, parents)) = fids.split_last() else {
        return Err(CardError::Unsupported(format!("{what}: no file id after 3F00")));
    };
    for fid in parents {
        let resp = transmit(ex, &select_command(fid))?;
        match resp.sw {
            StatusWord::Ok | StatusWord::Other(0x9F, _) => {}
            sw => return Err(status_error(sw, what)),
        }
    }
    let resp = transmit(ex, &select_command(last).le(256))?;
    if resp.sw != StatusWord::Ok {
        return Err(status_error(resp.sw, what));
    }
    match resp.data.as_slice() {
        [0x85, len, body @ ..] if *len as usize <= body.len() && *len >= 5 => {
            let (size, fid, kind) = (&body[0..2], &body[2..4], body[4]);
            if fid != *last || kind != 4 {
                return Err(CardError::Malformed(format!(
                    "{what}: the card selected {} (type {kind}), not the EF asked for",
                    hex::encode_upper(fid)
                )));
            }
            Ok(usize::from(u16::from_be_bytes([size[0], size[1]])))
        }
        _ => Err(CardError::Malformed(format!(
            "{what}: the SELECT answer is not an 85 header"
        ))),
    }
}

/// Reads `size` bytes of the selected EF, `chunk` at a time.
fn read(ex: &mut dyn Exchange, size: usize, chunk: usize, what: &'static str) -> Result<Vec<u8>, CardError> {
    if size > MAX_FILE {
        return Err(CardError::Malformed(format!(
            "{what}: file size {size} too large"
        )));
    }
    let chunk = chunk.clamp(1, 256);
    let mut out = Vec::with_capacity(size);
    while out.len() < size {
        let offset = out.len();
        let want = chunk.min(size - offset);
        let cmd = Command::new(CLA_CPS2TER, 0xB0, (offset >> 8) as u8, offset as u8).le(want);
        let resp = transmit(ex, &cmd)?;
        if resp.sw != StatusWord::Ok {
            return Err(status_error(resp.sw, what));
        }
        if resp.data.len() != want {
            return Err(CardError::Malformed(format!(
                "{what}: card sent {} bytes for Le {want}",
                resp.data.len()
            )));
        }
        out.extend_from_slice(&resp.data);
    }
    Ok(out)
}

/// One object, `None` when the volet has no such file.
fn object(
    ex: &mut dyn Exchange,
    chunk: usize,
    path: &[u8],
    label: String,
) -> Result<Option<RawObject>, CardError> {
    const WHAT: &str = "READ CPS2ter object";
    let value = match select(ex, path, WHAT).and_then(|size| read(ex, size, chunk, WHAT)) {
        Ok(v) => v,
        Err(e) if is_absent(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(Some(RawObject {
        label,
        private: true,
        value,
    }))
}

/// The volet's objects (the PIN verified): one activity per situation index
/// the DODF lists, then `CPS_SIT_FACT`. A file the card does not have is
/// left out; a refusal means `PinRequired`.
pub(super) fn read_objects(
    ex: &mut dyn Exchange,
    profile: &CpsProfile,
    situations: &[u8],
) -> Result<Vec<RawObject>, CardError> {
    let Some(c) = &profile.cps2ter else {
        return Ok(Vec::new());
    };
    let chunk = profile.read.chunk;
    let mut out = Vec::new();
    for &i in situations {
        if let Some(path) = c.activities.path(i) {
            out.extend(object(ex, chunk, &path, activity_label(c, i))?);
        }
    }
    out.extend(object(ex, chunk, &c.billing.0, c.billing_label.clone())?);
    Ok(out)
}

fn activity_label(c: &Cps2ter, index: u8) -> String {
    c.activity_label.replace("{nn}", &format!("{index:02}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apdu::replay::Replay;
    use crate::card::profile::Profiles;

    fn steps(s: &[(&str, &str)]) -> Replay {
        Replay::new(s.iter().map(|(a, b)| (a.to_string(), b.to_string())))
    }

    #[test]
    fn reads_the_billing_situation_as_cryptolib_does() {
        let p = &Profiles::builtin().unwrap().cps3;
        let mut r = steps(&[
            // CPS2TER_ACTIVITY_01_PS: 3F00 not sent, 4010 as case 4.
            ("A0A4000002 4010", "9F07"),
            ("A0C0000007", "8505 0003 4010 04 9000"),
            ("A0B0000003", "010203 9000"),
            // CPS2TER_ACTIVITY_02_PS is not on this card.
            ("A0A4000002 4011", "9404"),
            // CPS_SIT_FACT: 7F01 as case 3 (9F xx is its success), then 4000.
            ("A0A4000002 7F01", "9F16"),
            ("A0A4000002 4000", "9F0F"),
            ("A0C000000F", "850D 0002 4000 04 0000000000000000 9000"),
            ("A0B0000002", "AABB 9000"),
        ]);
        let o = read_objects(&mut r, p, &[1, 2]).unwrap();
        r.finish();
        let got: Vec<(&str, &[u8])> = o.iter().map(|o| (o.label.as_str(), o.value.as_slice())).collect();
        assert_eq!(
            got,
            [
                ("CPS2TER_ACTIVITY_01_PS", &[1u8, 2, 3][..]),
                ("CPS_SIT_FACT", &[0xAA, 0xBB][..])
            ]
        );
        assert!(o.iter().all(|o| o.private));
        // The CPS4 profile has no CPS2ter volet: nothing is sent.
        let mut r = steps(&[]);
        assert!(read_objects(&mut r, &Profiles::builtin().unwrap().cps4, &[1])
            .unwrap()
            .is_empty());
    }

    #[test]
    fn reads_in_chunks_and_refuses_short_or_hostile_answers() {
        let p = &Profiles::builtin().unwrap().cps3;
        // 300 bytes: E7 then 45.
        let big = format!("{}9000", "11".repeat(0xE7));
        let rest = format!("{}9000", "22".repeat(300 - 0xE7));
        let mut r = steps(&[
            ("A0A4000002 7F01", "9000"),
            ("A0A4000002 4000", "9F07"),
            ("A0C0000007", "8505 012C 4000 04 9000"),
            ("A0B00000E7", &big),
            ("A0B000E745", &rest),
        ]);
        let o = read_objects(&mut r, p, &[]).unwrap();
        r.finish();
        assert_eq!(o[0].value.len(), 300);
        // Truncated READ BINARY: an error, never a partial object.
        let mut r = steps(&[
            ("A0A4000002 7F01", "9000"),
            ("A0A4000002 4000", "9F07"),
            ("A0C0000007", "8505 0004 4000 04 9000"),
            ("A0B0000004", "AABB 9000"),
        ]);
        assert!(matches!(
            read_objects(&mut r, p, &[]),
            Err(CardError::Malformed(_))
        ));
        // Header too short, wrong file, a DF, an oversized file.
        for header in [
            "8503 0004 40",
            "8505 0004 4001 04",
            "8505 0004 4000 02",
            "8505 FFFF 4000 04",
            "6F05 0004 4000 04",
        ] {
            let mut r = steps(&[
                ("A0A4000002 7F01", "9000"),
                ("A0A4000002 4000", "9F07"),
                ("A0C0000007", &format!("{header}9000")),
            ]);
            assert!(
                matches!(read_objects(&mut r, p, &[]), Err(CardError::Malformed(_))),
                "{header}"
            );
        }
        // Before the PIN: 98 04 means PinRequired.
        let mut r = steps(&[("A0A4000002 7F01", "9000"), ("A0A4000002 4000", "9804")]);
        assert_eq!(read_objects(&mut r, p, &[]), Err(CardError::PinRequired));
        let mut r = steps(&[("A0A4000002 7F01", "9240")]);
        assert!(matches!(
            read_objects(&mut r, p, &[]),
            Err(CardError::Malformed(_))
        ));
        let mut r = steps(&[("A0A4000002 7F01", "9408")]);
        assert!(matches!(
            read_objects(&mut r, p, &[]),
            Err(CardError::Status { .. })
        ));
        // A card without the volet (class A0 refused): no objects, no error.
        let mut r = steps(&[("A0A4000002 4010", "6E00"), ("A0A4000002 7F01", "6E00")]);
        assert_eq!(read_objects(&mut r, p, &[1]), Ok(Vec::new()));
    }

    #[test]
    fn a_9f_storm_is_bounded() {
        let p = &Profiles::builtin().unwrap().cps3;
        let mut s = vec![
            ("A0A4000002 7F01".to_string(), "9000".to_string()),
            ("A0A4000002 4000".to_string(), "9F01".to_string()),
        ];
        for _ in 0..40 {
            s.push(("A0C0000001".into(), "009F01".into()));
        }
        let mut r = Replay::new(s);
        assert!(matches!(
            read_objects(&mut r, p, &[]),
            Err(CardError::Malformed(_))
        ));
    }
}
