//! Carte Vitale 2, read without any PIN: POINTERS (EF `2001` of VITALE) names
//! the EFs of each application; the identity EF(s) hold one `65` template per
//! beneficiary and a `66` card template; everything else is handed back raw.
//! Vitale 1's file layout is not public: it is refused, not guessed.

mod cvc;
mod date;
mod identity;
mod pointers;

pub use cvc::CardCertificate;
pub use date::BirthDate;

use super::{files, tlv, CardError, CardKind};
use crate::apdu::{Exchange, StatusWord};
use crate::card::profile::{Profiles, VitaleProfile};
use serde::Serialize;

/// "MF_VITALE" application.
pub const AID_MF_VITALE: &[u8] = b"\xD2\x50\x00\x00\x02MF_VITALE";

// What the card holds, as the API gives it (one definition: the contract's).
pub use lecteur_proto::vitale::{Beneficiary, Extra, ExtraFile, Period, Rights};

/// What a Vitale card holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VitaleData {
    /// One per beneficiary template (the insured person or a dependant).
    pub beneficiaries: Vec<Beneficiary>,
    /// Card validity start, raw `AAAAMMJJ`.
    pub validity_start: Option<String>,
    /// Objects of the identity file(s) the profile does not map.
    pub extra: Vec<Extra>,
    /// Other files named in POINTERS.
    pub extra_files: Vec<ExtraFile>,
    /// The card-verifiable certificate objects (`7F21`, `5F37`, `5F38`),
    /// one per file that holds them.
    pub certificates: Vec<CardCertificate>,
    /// EF `2F02` (PAN) of MF_VITALE, raw hex, when the card has it (cardpeek
    /// reads it; its layout is not public).
    pub pan: Option<String>,
    /// What could not be read and what was used instead.
    pub warnings: Vec<String>,
}

/// Reads a Vitale 2 with the built-in profile.
pub fn read(ex: &mut dyn Exchange) -> Result<VitaleData, CardError> {
    let p =
        Profiles::builtin().map_err(|e| CardError::Unsupported(format!("built-in Vitale profile: {e}")))?;
    read_card(ex, CardKind::Vitale2, &p.vitale2)
}

/// Reads a carte Vitale of the given kind.
pub fn read_card(
    ex: &mut dyn Exchange,
    kind: CardKind,
    profile: &VitaleProfile,
) -> Result<VitaleData, CardError> {
    match kind {
        CardKind::Vitale2 => read_v2(ex, profile),
        CardKind::Vitale1 => Err(CardError::Unsupported(
            "the Vitale 1 file layout is not public; read it through the SESAM-Vitale API".into(),
        )),
        _ => Err(CardError::Unsupported(format!(
            "a {} card is not a carte Vitale",
            kind.as_str()
        ))),
    }
}

/// Decodes an identity file with the built-in profile (`D001` in paths).
pub fn parse_identity(raw: &[u8]) -> Result<VitaleData, CardError> {
    let p = Profiles::builtin().map_err(|e| CardError::Unsupported(e.to_string()))?;
    let mut out = VitaleData::default();
    identity::decode(raw, "D001", &p.vitale2, &mut out)?;
    Ok(out)
}

fn read_v2(ex: &mut dyn Exchange, profile: &VitaleProfile) -> Result<VitaleData, CardError> {
    let mut out = VitaleData::default();
    let identity_file = pointers::NamedFile {
        name: "IDENTITE".into(),
        aid: profile.applications.mf_vitale.0.clone(),
        fid: profile.identity.fid.0,
    };
    let (mut named, pointers_ok) = match read_pointers(ex, profile) {
        Ok(files) => (files, true),
        // A card without POINTERS (or with one lecteur cannot parse): the
        // identity EF alone. Any other failure (a link error, a status
        // such as 69 85 mid-read) fails the read: the identity EF alone
        // could miss beneficiaries that POINTERS would have named.
        Err(e) if !pointers_absent(&e) => return Err(e),
        Err(e) => {
            out.warnings.push(format!(
                "POINTERS unusable ({e}); reading the profile's identity EF"
            ));
            (Vec::new(), false)
        }
    };
    let max = profile.pointers.max_files;
    if named.len() > max {
        out.warnings.push(format!(
            "POINTERS names {} files; reading the first {max}",
            named.len()
        ));
        named.truncate(max);
    }
    let mut found_identity = false;
    let mut current_aid: Option<Vec<u8>> = None;
    for f in &named {
        let Some(raw) = read_named(ex, profile, f, &mut current_aid, &mut out.warnings)? else {
            continue;
        };
        take_file(raw, f, profile, &mut out, &mut found_identity)?;
    }
    if !found_identity {
        if pointers_ok {
            out.warnings
                .push("no identity file among POINTERS; reading the profile's identity EF".into());
        }
        // Here a card that does not answer is an error: there is nothing to return.
        files::select_aid(ex, &identity_file.aid, "SELECT MF_VITALE")?;
        let size = files::select_ef(ex, 0x02, &identity_file.fid, "SELECT identity EF")?;
        let raw = files::read_binary(ex, size, profile.read.chunk, "READ identity EF")?;
        identity::decode(&raw, &hex::encode_upper(identity_file.fid), profile, &mut out)?;
        current_aid = Some(identity_file.aid.clone());
    }
    if let Some(pan) = &profile.pan {
        out.pan = read_pan(ex, profile, pan.fid.0, &mut current_aid, &mut out.warnings)?;
    }
    Ok(out)
}

/// EF 2F02 (PAN) in MF_VITALE: absent is fine (`None`), any other refusal a
/// warning; a link error fails the read.
fn read_pan(
    ex: &mut dyn Exchange,
    profile: &VitaleProfile,
    fid: [u8; 2],
    current_aid: &mut Option<Vec<u8>>,
    warnings: &mut Vec<String>,
) -> Result<Option<String>, CardError> {
    let pan = pointers::NamedFile {
        name: "PAN".into(),
        aid: profile.applications.mf_vitale.0.clone(),
        fid,
    };
    match read_file(ex, profile, &pan, current_aid) {
        Ok(raw) => Ok(Some(hex::encode_upper(raw))),
        Err(e @ CardError::Link(_)) => Err(e),
        Err(e) if files::is_absent(&e) => Ok(None),
        Err(e) => {
            warnings.push(format!("PAN ({}): {e}", hex::encode_upper(fid)));
            Ok(None)
        }
    }
}

/// Whether `e`, met reading POINTERS, says the card has none to read: the
/// application or the file is not there (`6A 82`, `6A 86`, `6A 81`), or its
/// content is not a POINTERS lecteur can parse.
fn pointers_absent(e: &CardError) -> bool {
    match e {
        CardError::Status { sw, .. } => matches!(
            sw,
            StatusWord::FileNotFound | StatusWord::WrongP1P2 | StatusWord::Other(0x6A, 0x81)
        ),
        CardError::Malformed(_) => true,
        _ => false,
    }
}

fn read_pointers(
    ex: &mut dyn Exchange,
    profile: &VitaleProfile,
) -> Result<Vec<pointers::NamedFile>, CardError> {
    files::select_aid(ex, &profile.applications.vitale.0, "SELECT VITALE")?;
    let size = files::select_ef(ex, 0x02, &profile.pointers.fid.0, "SELECT POINTERS")?;
    pointers::parse(&files::read_binary(
        ex,
        size,
        profile.read.chunk,
        "READ POINTERS",
    )?)
}

/// Reads one named EF; a status error is a warning and `None` (the card
/// listed a file it will not give), a link error fails the read.
fn read_named(
    ex: &mut dyn Exchange,
    profile: &VitaleProfile,
    f: &pointers::NamedFile,
    current_aid: &mut Option<Vec<u8>>,
    warnings: &mut Vec<String>,
) -> Result<Option<Vec<u8>>, CardError> {
    match read_file(ex, profile, f, current_aid) {
        Ok(raw) => Ok(Some(raw)),
        Err(e @ CardError::Link(_)) => Err(e),
        Err(e) => {
            warnings.push(format!("{} ({}): {e}", f.name, hex::encode_upper(f.fid)));
            Ok(None)
        }
    }
}

/// Selects `f`'s application (unless it is the current one) and reads `f`.
fn read_file(
    ex: &mut dyn Exchange,
    profile: &VitaleProfile,
    f: &pointers::NamedFile,
    current_aid: &mut Option<Vec<u8>>,
) -> Result<Vec<u8>, CardError> {
    if current_aid.as_deref() != Some(&f.aid) {
        *current_aid = None;
        files::select_aid(ex, &f.aid, "SELECT Vitale application")?;
        *current_aid = Some(f.aid.clone());
    }
    let size = files::select_ef(ex, 0x02, &f.fid, "SELECT Vitale EF")?;
    files::read_binary(ex, size, profile.read.chunk, "READ Vitale EF")
}

/// Decodes an identity file, or keeps any other file whole.
fn take_file(
    raw: Vec<u8>,
    f: &pointers::NamedFile,
    profile: &VitaleProfile,
    out: &mut VitaleData,
    found_identity: &mut bool,
) -> Result<(), CardError> {
    if identity::is_identity(&raw, profile) {
        identity::decode(&raw, &hex::encode_upper(f.fid), profile, out)?;
        *found_identity = true;
    } else {
        // A file holding the certificate objects gets them named; the file
        // stays in `extra_files`, whole.
        if !cvc::is_raw(&raw) {
            if let Some(c) =
                tlv::parse_all(&raw).and_then(|top| cvc::collect(&hex::encode_upper(f.fid), &top))
            {
                out.certificates.push(c);
            }
        }
        out.extra_files.push(ExtraFile {
            application: hex::encode_upper(&f.aid),
            fid: hex::encode_upper(f.fid),
            name: f.name.clone(),
            hex: hex::encode_upper(&raw),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
