//! Human output of the CLI, one function per result shape.

use lecteur_proto::cps::{Certificate, Coded, CpsInfo, Signature, TriesLeft};
use lecteur_proto::event::Event;
use lecteur_proto::system::ReaderView;
use lecteur_proto::vitale::VitaleResult;

pub(crate) fn readers(list: &[ReaderView]) -> String {
    if list.is_empty() {
        return "no reader".into();
    }
    list.iter()
        .map(|r| {
            let card = match &r.card {
                None => "empty".to_string(),
                Some(c) => format!("{} ({})", c.kind, c.atr),
            };
            format!("{:<12} {:<7} {:<40} {}", r.id, r.transport, r.name, card)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub(crate) fn event(e: &Event) -> String {
    let card = e
        .card
        .as_ref()
        .map(|c| format!(" {}", c.kind))
        .unwrap_or_default();
    format!("{} {}{}", e.kind.as_str(), e.reader, card)
}

pub(crate) fn vitale(v: &VitaleResult) -> String {
    let mut out = format!("carte {} ({})", v.card.kind, v.card.atr);
    for (i, b) in v.beneficiaries.iter().enumerate() {
        let date = &b.birth_date;
        let born = match &date.iso {
            Some(iso) => iso.clone(),
            None => format!("{} (lunar date)", date.raw),
        };
        let key = if b.nir_valid { "key ok" } else { "KEY INVALID" };
        out += &format!(
            "\n  {}. {} {}, born {born}, NIR {} {} ({key})",
            i + 1,
            b.surname,
            b.first_name,
            b.nir,
            b.nir_key,
        );
    }
    out
}

fn coded(c: &Option<Coded>) -> String {
    match c {
        Some(Coded {
            code,
            label: Some(label),
        }) => format!("{label} ({code})"),
        Some(Coded { code, label: None }) => code.clone(),
        None => "-".to_string(),
    }
}

fn or_dash(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("-")
}

pub(crate) fn cps_info(v: &CpsInfo) -> String {
    let h = &v.holder;
    let mut out = format!(
        "carte {} serial {} ({})\n  holder {} {} ({}, {})\n  profession {}, specialty {}\n  PIN: {} of {} tries left",
        v.card.kind,
        v.card.serial,
        coded(&v.card.card_type),
        or_dash(&h.given_name),
        or_dash(&h.surname),
        or_dash(&h.national_id),
        coded(&h.id_type),
        coded(&v.profession),
        coded(&v.specialty),
        v.pin.tries_left,
        v.pin.tries_max,
    );
    for c in &v.certificates {
        let expired = if c.expired { " EXPIRED" } else { "" };
        out += &format!(
            "\n  {} certificate until {}{expired}",
            c.usage.as_str(),
            c.not_after
        );
    }
    for st in v.situations.iter().flatten() {
        out += &format!(
            "\n  situation {}: {} ({}), {}",
            st.index,
            or_dash(&st.structure_name),
            or_dash(&st.structure_id),
            coded(&st.sector)
        );
    }
    out
}

pub(crate) fn verified(v: &TriesLeft) -> String {
    format!("PIN verified ({} tries left)", v.tries_left)
}

pub(crate) fn certificate(c: &Certificate) -> String {
    format!(
        "{} certificate: {} (valid until {})",
        c.usage.as_str(),
        c.subject,
        c.not_after
    )
}

pub(crate) fn signed(_: &Signature) -> String {
    "signature written".into()
}
