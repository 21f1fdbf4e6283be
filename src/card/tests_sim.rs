//! Cross-checks against the simulator (written apart from this code), driven
//! in-process: each test loads a simulated card and reads it through
//! `Exchange` exactly as a reader would.

use crate::apdu::{Exchange, LinkError};
use lecteur_sim::card::SimCard;

struct Sim(Box<dyn SimCard>);

impl Exchange for Sim {
    fn exchange(&mut self, apdu: &[u8]) -> Result<Vec<u8>, LinkError> {
        Ok(self.0.transmit(apdu))
    }
}

fn load(name: &str) -> Sim {
    let spec = if name.ends_with(".toml") {
        format!("{}/firmware-sim/cards/{name}", env!("CARGO_MANIFEST_DIR"))
    } else {
        name.to_string()
    };
    Sim(lecteur_sim::card::load(&spec).unwrap_or_else(|e| panic!("{name}: {e}")))
}

use crate::card::atr::{identify, CardKind};
use crate::card::cps::{CpsCard, KeyUsage, SignScheme};
use crate::card::profile::Profiles;
use crate::card::vitale;
use crate::card::{cert, CardError};
use rsa::{pss::Pss, Pkcs1v15Sign};
use sha2::{Digest, Sha256};

fn cps(sim: &Sim) -> CpsCard {
    CpsCard::new(identify(&sim.0.atr()), Profiles::builtin().unwrap()).unwrap()
}

#[test]
fn cps3_info_matches_the_card_description() {
    let mut sim = load("cps3");
    let card = cps(&sim);
    let info = card.read_info(&mut sim).unwrap();
    assert!(info.warnings.is_empty(), "{:?}", info.warnings);
    assert_eq!((info.generation, info.serial.as_str()), ("cps3", "2500577253"));
    let ct = info.card_type.as_ref().unwrap();
    assert_eq!(
        (ct.code.as_str(), ct.label.as_deref()),
        ("00", Some("CPS (Carte de Professionnel de Santé)"))
    );
    assert_eq!(info.category.as_ref().unwrap().code, "80");
    assert_eq!(info.validity_start.as_deref(), Some("20240101"));
    assert_eq!(info.validity_end.as_deref(), Some("20301231"));
    let h = &info.holder;
    assert_eq!(h.national_id.as_deref(), Some("899900038839"));
    assert_eq!(h.id_type.as_ref().unwrap().label.as_deref(), Some("N° RPPS"));
    assert_eq!(h.id_number.as_deref(), Some("99900038839"));
    assert_eq!(
        (h.surname.as_deref(), h.given_name.as_deref()),
        (Some("TRAL"), Some("ADEMIS"))
    );
    assert_eq!(h.civility.as_deref(), Some("DR"));
    assert_eq!(
        info.profession.as_ref().unwrap().label.as_deref(),
        Some("Médecin")
    );
    assert_eq!(info.professional_category.as_deref(), Some("C"));
    let sp = info.specialty.as_ref().unwrap();
    assert_eq!(
        (sp.code.as_str(), sp.label.as_deref()),
        ("SM26", Some("Qualifié en Médecine générale"))
    );
    assert_eq!(info.certificates.len(), 2);
    for (c, usage) in info.certificates.iter().zip(["signature", "authentication"]) {
        assert_eq!(c.usage.as_str(), usage);
        assert!(!c.expired && c.key_bits == 2048);
        assert!(c.subject.contains("899900038839"), "{}", c.subject);
        assert_eq!(c.not_after, "2034-01-01T00:00:00Z");
    }
    assert_eq!((info.pin.tries_left, info.pin.tries_max), (3, 3));
    let a = info.actua.as_ref().unwrap();
    assert_eq!(a.start.as_deref(), Some("2024-01-15T09:30:00"));
    assert_eq!(a.end.as_deref(), Some("2030-12-31T23:59:59"));
    assert_eq!(card.read_stamp(&mut sim).unwrap(), info.stamp);
    let json = serde_json::to_value(&info).unwrap();
    assert_eq!(json["stamp"]["actua"], "EC12810720240115093000820720301231235959");
}

fn verify_signature(der: &[u8], scheme: SignScheme, digest: &[u8], sig: &[u8]) {
    let key = cert::parse(der).unwrap().public_key;
    match scheme {
        SignScheme::Pkcs1Sha256 => key.verify(Pkcs1v15Sign::new::<Sha256>(), digest, sig).unwrap(),
        SignScheme::PssSha256 => key.verify(Pss::new::<Sha256>(), digest, sig).unwrap(),
    }
}

#[test]
fn cps3_situations_need_the_pin_then_sign() {
    let mut sim = load("cps3");
    let card = cps(&sim);
    assert_eq!(card.read_situations(&mut sim), Err(CardError::PinRequired));
    card.select(&mut sim).unwrap();
    let digest = Sha256::digest(b"ordonnance");
    let e = card.sign(&mut sim, KeyUsage::Signature, SignScheme::Pkcs1Sha256, &digest);
    assert_eq!(e, Err(CardError::PinRequired));
    assert_eq!(
        card.verify_pin(&mut sim, b"1111"),
        Err(CardError::PinIncorrect { tries_left: 2 })
    );
    assert_eq!(card.pin_status(&mut sim).unwrap().tries_left, 2);
    card.verify_pin(&mut sim, b"1234").unwrap();
    let s = card.read_situations(&mut sim).unwrap();
    assert_eq!(s.len(), 2);
    assert_eq!(s[0].index, 1);
    assert_eq!(s[0].structure_name.as_deref(), Some("CABINET DU DR TRAL"));
    assert_eq!(s[0].structure_id.as_deref(), Some("499900063480001"));
    assert_eq!(
        s[0].structure_id_type.as_ref().unwrap().label.as_deref(),
        Some("N° cabinet RPPS")
    );
    assert_eq!(
        s[1].sector.as_ref().unwrap().label.as_deref(),
        Some("Cabinet de groupe")
    );
    assert_eq!(
        (s[1].mode.as_deref(), s[1].status.as_deref()),
        (Some("0"), Some("1"))
    );
    for usage in [KeyUsage::Signature, KeyUsage::Authentication] {
        card.select(&mut sim).unwrap();
        let der = card.certificate(&mut sim, usage).unwrap();
        let sig = card
            .sign(&mut sim, usage, SignScheme::Pkcs1Sha256, &digest)
            .unwrap();
        verify_signature(&der, SignScheme::Pkcs1Sha256, &digest, &sig);
        let e = card.sign(&mut sim, usage, SignScheme::PssSha256, &digest);
        assert!(matches!(e, Err(CardError::Unsupported(_))));
    }
}

#[test]
fn cps3_cps2ter_volet_after_the_pin_spent_counter_and_bad_actua() {
    let mut sim = load("cps3");
    let card = cps(&sim);
    // Before the PIN the volet refuses (98 04); none of its objects is listed.
    let listed = |o: &[crate::card::cps::RawObject]| o.iter().map(|o| o.label.clone()).collect::<Vec<_>>();
    assert_eq!(card.read_private(&mut sim), Err(CardError::PinRequired));
    let free = card.read_data_objects(&mut sim, false).unwrap();
    assert!(!listed(&free).iter().any(|l| l == "CPS_SIT_FACT"));
    card.select(&mut sim).unwrap();
    card.verify_pin(&mut sim, b"1234").unwrap();
    let (situations, volet) = card.read_private(&mut sim).unwrap();
    assert_eq!(situations.len(), 2);
    assert_eq!(
        listed(&volet),
        ["CPS2TER_ACTIVITY_01_PS", "CPS2TER_ACTIVITY_02_PS", "CPS_SIT_FACT"]
    );
    assert_eq!(
        hex::encode_upper(&volet[2].value),
        "0109313233343536373839020453413037"
    );
    let all = card.read_data_objects(&mut sim, true).unwrap();
    assert_eq!(listed(&all).last().map(String::as_str), Some("CPS_SIT_FACT"));
    // A reset ends the verification: the volet refuses again.
    sim.0.reset();
    assert_eq!(
        card.read_data_objects(&mut sim, true),
        Err(CardError::PinRequired)
    );

    let mut sim = load("cps3-usage-spent");
    let card = cps(&sim);
    card.select(&mut sim).unwrap();
    let st = card.pin_status(&mut sim).unwrap();
    assert_eq!((st.tries_left, st.tries_max, st.usage_spent), (0, 3, true));

    for name in ["cps3-actua-empty", "cps3-actua-garbled"] {
        let mut sim = load(name);
        let card = cps(&sim);
        assert!(
            matches!(card.read_info(&mut sim), Err(CardError::BeingUpdated(_))),
            "{name}"
        );
    }
}

#[test]
fn cps3_sixteen_situations_and_latin1() {
    let mut sim = load("cps3-16-situations.toml");
    let card = cps(&sim);
    card.select(&mut sim).unwrap();
    card.verify_pin(&mut sim, b"1234").unwrap();
    let s = card.read_situations(&mut sim).unwrap();
    assert_eq!(
        s.iter().map(|s| s.index).collect::<Vec<_>>(),
        (1..=16).collect::<Vec<_>>()
    );
    assert_eq!(
        s[15].structure_name.as_deref(),
        Some("HÔPITAL D'INSTRUCTION DES ARMÉES")
    );
    assert_eq!(
        s[13].sector.as_ref().unwrap().label.as_deref(),
        Some("Pharmacie d'officine")
    );
    assert_eq!(
        s[7].sector.as_ref().unwrap().label.as_deref(),
        Some("Maison de santé ou Pôle de santé")
    );
    let types: Vec<&str> = s[..7]
        .iter()
        .map(|s| s.structure_id_type.as_ref().unwrap().code.as_str())
        .collect();
    assert_eq!(types, ["4", "3", "1", "0", "4", "1", "2"]);
}

#[test]
fn cps3_variants() {
    let mut sim = load("cps3-adeli.toml");
    let info = cps(&sim).read_info(&mut sim).unwrap();
    let h = &info.holder;
    assert_eq!(h.id_type.as_ref().unwrap().code, "0");
    assert_eq!(h.id_number.as_deref(), Some("759123456"));
    assert_eq!(h.national_id.as_deref(), Some("0759123456"));
    assert_eq!(h.given_name.as_deref(), Some("HÉLÈNE"));
    assert_eq!(
        info.profession.as_ref().unwrap().label.as_deref(),
        Some("Pharmacien")
    );
    let sp = info.specialty.as_ref().unwrap();
    assert_eq!((sp.code.as_str(), sp.label.as_deref()), ("SM00", None));

    let mut sim = load("cps3-expired.toml");
    let info = cps(&sim).read_info(&mut sim).unwrap();
    assert!(info.certificates.iter().all(|c| c.expired));

    let mut sim = load("cps3-blocked.toml");
    let card = cps(&sim);
    assert_eq!(card.read_info(&mut sim).unwrap().pin.tries_left, 0);
    card.select(&mut sim).unwrap();
    assert_eq!(card.verify_pin(&mut sim, b"1234"), Err(CardError::PinBlocked));
}

#[test]
fn cps4_on_its_own_channel() {
    let mut sim = load("cps4");
    let card = cps(&sim);
    let info = card.read_info(&mut sim).unwrap();
    assert!(info.warnings.is_empty(), "{:?}", info.warnings);
    assert_eq!((info.generation, info.serial.as_str()), ("cps4", "2600000042"));
    assert_eq!(info.holder.surname.as_deref(), Some("QUATRE"));
    assert_eq!((info.pin.tries_left, info.pin.tries_max), (3, 3));
    assert_eq!(card.read_stamp(&mut sim).unwrap(), info.stamp);
    assert_eq!(card.read_situations(&mut sim), Err(CardError::PinRequired));
    card.select(&mut sim).unwrap();
    assert_eq!(
        card.verify_pin(&mut sim, b"9999"),
        Err(CardError::PinIncorrect { tries_left: 2 })
    );
    assert_eq!(card.pin_status(&mut sim).unwrap().tries_left, 2);
    card.verify_pin(&mut sim, b"1234").unwrap();
    // Verified: VERIFY without data says 90 00, reported as tries max.
    assert_eq!(card.pin_status(&mut sim).unwrap().tries_left, 3);
    let s = card.read_situations(&mut sim).unwrap();
    assert_eq!(s[0].structure_name.as_deref(), Some("CABINET DU DR QUATRE"));
    let digest = Sha256::digest(b"ordonnance");
    for usage in [KeyUsage::Signature, KeyUsage::Authentication] {
        card.select(&mut sim).unwrap();
        let der = card.certificate(&mut sim, usage).unwrap();
        for scheme in [SignScheme::Pkcs1Sha256, SignScheme::PssSha256] {
            let sig = card.sign(&mut sim, usage, scheme, &digest).unwrap();
            verify_signature(&der, scheme, &digest, &sig);
        }
    }
}

#[test]
fn vitale2_cards() {
    let p = Profiles::builtin().unwrap();
    let mut sim = load("vitale2");
    let kind = identify(&sim.0.atr());
    assert_eq!(kind, CardKind::Vitale2);
    let d = vitale::read_card(&mut sim, kind, &p.vitale2).unwrap();
    assert!(
        d.warnings.is_empty() && d.extra.is_empty(),
        "{:?} {:?}",
        d.warnings,
        d.extra
    );
    assert_eq!(d.validity_start.as_deref(), Some("20230115"));
    assert_eq!(d.beneficiaries.len(), 3);
    assert!(d.beneficiaries.iter().all(|b| b.nir_valid));
    // What the profile does not map comes back whole: an object and a file.
    let e = &d.beneficiaries[0].extra;
    assert_eq!(e.len(), 1);
    assert_eq!(
        (e[0].path.as_str(), e[0].tag.as_str(), e[0].hex.as_str()),
        ("D001/65[1]", "A5", "80020102")
    );
    assert!(d.beneficiaries[1..].iter().all(|b| b.extra.is_empty()));
    let f = &d.extra_files;
    assert_eq!(f.len(), 2);
    assert_eq!((f[0].fid.as_str(), f[0].name.as_str()), ("D002", "EXTRA"));
    // The certificate file: kept whole, and its objects named.
    assert_eq!((f[1].fid.as_str(), d.certificates.len()), ("D003", 1));
    assert_eq!(d.certificates[0].public_key_remainder.as_deref(), Some("0A0B"));
    assert_eq!(d.pan.as_deref(), Some("5A054200000001"));
    assert_eq!(f[0].application, "D2500000024D465F564954414C45");
    assert_eq!(f[0].hex, "E10E80023031A1088102123482025678");
    let b = &d.beneficiaries[1];
    assert!(b.birth_date.lunar && b.birth_date.computation_date.as_deref() == Some("1983-01-01"));
    let parts = b.nir_parts.as_ref().unwrap();
    assert_eq!(
        serde_json::to_value(&parts.place).unwrap(),
        serde_json::json!({"country": "350"})
    );
    assert_eq!(
        d.beneficiaries[0]
            .nir_parts
            .as_ref()
            .unwrap()
            .sex_label
            .as_deref(),
        Some("féminin")
    );

    let mut sim = load("vitale2-6-beneficiaries.toml");
    let d = vitale::read_card(&mut sim, CardKind::Vitale2, &p.vitale2).unwrap();
    assert_eq!(d.beneficiaries.len(), 6);
    assert!(d.beneficiaries.iter().all(|b| b.nir_valid));
    let depts: Vec<String> = d
        .beneficiaries
        .iter()
        .map(|b| match &b.nir_parts.as_ref().unwrap().place {
            crate::card::nir::Place::France { departement, .. } => departement.clone(),
            crate::card::nir::Place::Abroad { country } => format!("99/{country}"),
        })
        .collect();
    assert_eq!(depts, ["75", "2A", "75", "2B", "75", "75"]);

    let mut sim = load("vitale2-missing-century.toml");
    let d = vitale::read_card(&mut sim, CardKind::Vitale2, &p.vitale2).unwrap();
    assert!(d
        .beneficiaries
        .iter()
        .all(|b| b.birth_date.year_only && b.birth_date.computation_date.is_none()));
    assert_eq!(d.beneficiaries[0].birth_date.raw, "800512");
    assert!(d.beneficiaries[1].birth_date.lunar && !d.beneficiaries[0].birth_date.lunar);
}

#[test]
fn vitale1_is_refused_without_a_command() {
    let p = Profiles::builtin().unwrap();
    let mut sim = load("vitale1");
    let kind = identify(&sim.0.atr());
    assert_eq!(kind, CardKind::Vitale1);
    let e = vitale::read_card(&mut sim, kind, &p.vitale2).unwrap_err();
    assert!(matches!(e, CardError::Unsupported(m) if m.contains("SESAM-Vitale API")));
}

#[test]
fn vitale2_lunar_dates_compute_from_new_year() {
    let p = Profiles::builtin().unwrap();
    let mut sim = load("vitale2-lunar.toml");
    let d = vitale::read_card(&mut sim, CardKind::Vitale2, &p.vitale2).unwrap();
    assert_eq!(d.beneficiaries.len(), 6);
    for b in &d.beneficiaries {
        assert!(b.nir_valid && b.birth_date.lunar && b.birth_date.iso.is_none());
        let year = &b.birth_date.raw[..4];
        assert_eq!(b.birth_date.computation_date, Some(format!("{year}-01-01")));
        assert!(matches!(
            b.nir_parts.as_ref().unwrap().place,
            crate::card::nir::Place::Abroad { .. }
        ));
    }
}

#[test]
fn cps3_last_try_blocks() {
    let mut sim = load("cps3-last-try.toml");
    let card = cps(&sim);
    card.select(&mut sim).unwrap();
    assert_eq!(card.pin_status(&mut sim).unwrap().tries_left, 1);
    assert_eq!(card.verify_pin(&mut sim, b"0000"), Err(CardError::PinBlocked));
    assert_eq!(card.pin_status(&mut sim).unwrap().tries_left, 0);
}

#[test]
fn pinned_file_ids_match_the_discovered_ones() {
    let p = Profiles::builtin().unwrap();
    for (name, profile) in [("cps3", &p.cps3), ("cps4", &p.cps4)] {
        let mut pinned = (**profile).clone();
        pinned.discovery.pkcs15 = false;
        let mut sim = load(name);
        let discovered = CpsCard::with_profile(profile.clone())
            .read_info(&mut sim)
            .unwrap();
        let mut sim = load(name);
        let card = CpsCard::with_profile(std::sync::Arc::new(pinned));
        let direct = card.read_info(&mut sim).unwrap();
        assert_eq!(direct, discovered, "{name}");
        card.select(&mut sim).unwrap();
        card.verify_pin(&mut sim, b"1234").unwrap();
        assert!(!card.read_situations(&mut sim).unwrap().is_empty());
    }
}

#[test]
fn a_wrong_tag_map_falls_back_to_the_certificate_and_the_last_four() {
    use crate::card::profile::Tag;
    let mut p = (*Profiles::builtin().unwrap().cps3).clone();
    let unknown = || Some(Tag(vec![0x5F, 0x01]));
    let o = &mut p.objects;
    (o.id_card.template, o.id_card.card_type) = (unknown(), unknown());
    (
        o.name.template,
        o.name.surname,
        o.name.given_name,
        o.name.national_id,
    ) = (unknown(), unknown(), unknown(), unknown());
    (o.info.template, o.info.profession, o.info.specialty) = (unknown(), unknown(), unknown());
    let mut sim = load("cps3");
    let info = CpsCard::with_profile(std::sync::Arc::new(p))
        .read_info(&mut sim)
        .unwrap();
    assert_eq!(info.card_type.as_ref().unwrap().code, "00");
    assert_eq!(info.profession.as_ref().unwrap().code, "10");
    assert_eq!(info.specialty.as_ref().unwrap().code, "SM26");
    assert_eq!(info.holder.surname.as_deref(), Some("TRAL"));
    assert_eq!(info.holder.id_number.as_deref(), Some("99900038839"));
    let w = info.warnings.join("; ");
    assert!(w.contains("card type taken from the certificate"), "{w}");
    assert!(w.contains("holder taken from the certificate"), "{w}");
    assert!(w.contains("last 4 characters"), "{w}");
}
