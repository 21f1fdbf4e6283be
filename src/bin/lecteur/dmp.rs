//! `lecteur dmp vihf` (a signed VIHF assertion from the CPS) and `lecteur dmp
//! verify` (lecteur's own XML-DSig verifier, no daemon needed).

use crate::error::CliError;
use clap::Subcommand;
use lecteur::dmp::xmldsig;
use lecteur_client::Client;
use lecteur_proto::dmp::{Lps, Patient, SituationRef, Vihf, VihfParams};
use lecteur_proto::method::DmpVihf;
use serde_json::json;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

// Parsed once per run: the size of a variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
pub(crate) enum DmpCommand {
    /// Have the CPS sign a VIHF 3.0 assertion for a patient; writes the XML.
    Vihf {
        #[arg(long)]
        pin: Option<String>,
        /// The patient's INS (NIR or NIA).
        #[arg(long)]
        ins: String,
        /// OID of the INS kind (1.2.250.1.213.1.4.8 NIR, .10 test NIR, …).
        #[arg(long)]
        ins_oid: String,
        /// Situation d'exercice: its index (cps info) or its structure id.
        #[arg(long, default_value = "1")]
        situation: String,
        #[arg(long, default_value = "normal")]
        purpose: String,
        #[arg(long, default_value = "DIRECTE")]
        mode: String,
        #[arg(long, default_value = "lecteur")]
        lps_id: String,
        #[arg(long, default_value = "lecteur")]
        lps_name: String,
        #[arg(long, default_value = env!("CARGO_PKG_VERSION"))]
        lps_version: String,
        /// The software's DMP homologation number.
        #[arg(long, default_value = "none")]
        lps_homologation: String,
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        reader: Option<String>,
    },
    /// Verify a signed assertion: digest and RSA signature with its embedded certificate.
    Verify { file: PathBuf },
}

/// Asks lecteurd for the assertion and writes it to `--out`.
pub(crate) fn vihf(
    client: &mut Client,
    command: DmpCommand,
    pin: impl FnOnce(Option<String>) -> Result<Zeroizing<String>, CliError>,
) -> Result<Vihf, CliError> {
    let DmpCommand::Vihf {
        pin: given,
        ins,
        ins_oid,
        situation,
        purpose,
        mode,
        lps_id,
        lps_name,
        lps_version,
        lps_homologation,
        out,
        reader,
    } = command
    else {
        return Err(CliError::Usage("not a vihf command".into()));
    };
    let situation = match situation.parse::<u8>() {
        Ok(i) => SituationRef::Index(i),
        Err(_) => SituationRef::StructureId(situation),
    };
    let params = VihfParams {
        reader,
        pin: Some(pin(given)?),
        pinpad: false,
        allow_last_try: false,
        situation,
        patient: Patient { ins, oid: ins_oid },
        purpose_of_use: purpose,
        lps: Lps {
            id: lps_id,
            name: lps_name,
            version: lps_version,
            homologation: lps_homologation,
        },
        mode,
    };
    let result = client.call::<DmpVihf>(&params)?;
    std::fs::write(&out, &result.assertion).map_err(CliError::file(&out))?;
    Ok(result)
}

pub(crate) fn written(v: &Vihf) -> String {
    format!(
        "VIHF assertion {} (situation {}), issued {}",
        v.id, v.situation, v.issue_instant
    )
}

/// Verifies a file; an invalid signature is an error (exit status 1).
pub(crate) fn verify(file: &Path, as_json: bool) -> Result<(), CliError> {
    let bytes = std::fs::read(file).map_err(CliError::file(file))?;
    if bytes.len() > xmldsig::MAX_XML {
        return Err(CliError::TooLarge {
            path: file.to_path_buf(),
            max: xmldsig::MAX_XML,
        });
    }
    let text = String::from_utf8(bytes).map_err(|_| CliError::NotUtf8(file.to_path_buf()))?;
    let ok = xmldsig::verify(&text).map_err(|source| CliError::Assertion {
        path: file.to_path_buf(),
        source,
    })?;
    let subject = lecteur::card::cert::parse(&ok.certificate_der)
        .map(|c| c.subject)
        .unwrap_or_default();
    if as_json {
        let v = json!({
            "valid": true,
            "id": ok.id,
            "signer": subject,
            "signature_method": ok.signature_method,
            "digest_method": ok.digest_method,
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        println!(
            "signature OK: {} signed by {subject} ({})",
            ok.id, ok.signature_method
        );
    }
    Ok(())
}
