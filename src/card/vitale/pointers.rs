//! EF `2001` POINTERS of the VITALE application (layout from cardpeek's
//! vitale_2.lua): `E0 { A0 { 82 <entry(2) ?(2) AID> … }, 80 <name(8 ASCII)
//! entry(2) FID(2)> … }`. It ties every application entry to its AID and
//! names the EFs of each.

use super::super::{tlv, CardError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct NamedFile {
    pub name: String,
    pub aid: Vec<u8>,
    pub fid: [u8; 2],
}

fn bad(what: &str) -> CardError {
    CardError::Malformed(format!("POINTERS: {what}"))
}

/// The named EFs with their application's AID, in file order. A file whose
/// entry has no application is an error: the file is inconsistent.
pub(super) fn parse(raw: &[u8]) -> Result<Vec<NamedFile>, CardError> {
    let top = tlv::parse_all(raw).ok_or_else(|| bad("not BER-TLV"))?;
    let e0 = top
        .iter()
        .find(|t| t.is(&[0xE0]))
        .ok_or_else(|| bad("no E0 template"))?;
    let items = tlv::parse_all(e0.value).ok_or_else(|| bad("E0 is not BER-TLV"))?;
    let mut apps: Vec<([u8; 2], Vec<u8>)> = Vec::new();
    let mut names: Vec<(String, [u8; 2], [u8; 2])> = Vec::new();
    for item in &items {
        match item.tag {
            [0xA0] => {
                for app in tlv::parse_all(item.value).ok_or_else(|| bad("A0 is not BER-TLV"))? {
                    match (app.tag, app.value) {
                        ([0x82], [e1, e2, _, _, aid @ ..]) if (1..=16).contains(&aid.len()) => {
                            apps.push(([*e1, *e2], aid.to_vec()))
                        }
                        ([0x82], _) => return Err(bad("application entry")),
                        _ => {}
                    }
                }
            }
            [0x80] => match item.value {
                [name @ .., e1, e2, f1, f2] if name.len() == 8 => {
                    names.push((tlv::text(name).trim().to_string(), [*e1, *e2], [*f1, *f2]))
                }
                _ => return Err(bad("file entry")),
            },
            _ => {}
        }
    }
    names
        .into_iter()
        .map(|(name, entry, fid)| {
            let aid = apps
                .iter()
                .find(|(e, _)| *e == entry)
                .map(|(_, a)| a.clone())
                .ok_or_else(|| bad(&format!("file {name:?} under an unknown entry")))?;
            Ok(NamedFile { name, aid, fid })
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::card::testutil::{cons, h, tlv, Rng};

    pub(crate) fn pointers(files: &[(&[u8; 8], [u8; 2], [u8; 2])]) -> Vec<u8> {
        let mut parts = vec![cons(
            &[0xA0],
            &[
                tlv(
                    &[0x82],
                    &[&[0, 1, 0, 0][..], &h("D2500000024D465F564954414C45")].concat(),
                ),
                tlv(
                    &[0x82],
                    &[&[0, 2, 0, 0][..], &h("D250000002564954414C45")].concat(),
                ),
            ],
        )];
        for (name, entry, fid) in files {
            parts.push(tlv(&[0x80], &[&name[..], entry, fid].concat()));
        }
        cons(&[0xE0], &parts)
    }

    #[test]
    fn maps_files_to_applications() {
        let raw = pointers(&[
            (b"IDENTITE", [0, 1], [0xD0, 0x01]),
            (b"DROITS  ", [0, 1], [0xD0, 0x02]),
        ]);
        let f = parse(&raw).unwrap();
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].name, "IDENTITE");
        assert_eq!(f[0].aid, h("D2500000024D465F564954414C45"));
        assert_eq!((f[1].name.as_str(), f[1].fid), ("DROITS", [0xD0, 0x02]));
    }

    #[test]
    fn inconsistent_files_are_errors() {
        assert!(parse(&pointers(&[(b"IDENTITE", [0, 9], [0xD0, 0x01])])).is_err());
        assert!(parse(&cons(&[0xE0], &[tlv(&[0x80], b"SHORT")])).is_err());
        assert!(parse(&cons(&[0xE0], &[cons(&[0xA0], &[tlv(&[0x82], &[0, 1, 0])])])).is_err());
        assert!(parse(&[0xE1, 0x00]).is_err());
        assert_eq!(parse(&[0xE0, 0x00]).unwrap(), []);
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut rng = Rng::new(2001);
        let seeds = [pointers(&[(b"IDENTITE", [0, 1], [0xD0, 0x01])])];
        for input in rng.inputs(&seeds) {
            let _ = parse(&input);
        }
    }
}
