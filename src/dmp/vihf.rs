//! The unsigned VIHF 3.0 assertion, laid out as the official DIRECTE sample
//! (reference §5.1), with the variants of the VIHF profile. The signature goes
//! at `Unsigned::signature_at`, right after `Issuer`.

use super::c14n::{escape_attr, escape_text};
use super::DmpError;
use crate::card::profile::VihfProfile;
use std::time::{Duration, SystemTime};

const SAML: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";
const XS: &str = "http://www.w3.org/2001/XMLSchema";
const HL7: &str = "urn:hl7-org:v3";
const X509_SUBJECT: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName";
const SMARTCARD_PKI: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI";
/// Longest text a request may put in the assertion.
const MAX_TEXT: usize = 256;

/// A coded value (HL7 CE): code and optional label.
#[derive(Debug, Clone)]
pub struct Code {
    /// The code (`code`).
    pub code: String,
    /// Its label (`displayName`).
    pub display: Option<String>,
}

/// The software that asks (LPS: logiciel de professionnel de santé).
#[derive(Debug, Clone)]
pub struct Lps {
    /// The LPS id attribute.
    pub id: String,
    /// The LPS name attribute.
    pub name: String,
    /// The LPS version attribute.
    pub version: String,
    /// The LPS homologation number attribute.
    pub homologation: String,
}

/// What the request decides. Holds the patient's INS: never logged.
#[derive(Clone)]
pub struct Request {
    /// `Authentification_mode`.
    pub mode: String,
    /// The patient's INS.
    pub ins: String,
    /// The OID of the INS's authority (`ins^^^&oid&ISO^NH`).
    pub ins_oid: String,
    /// PurposeOfUse code.
    pub purpose: String,
    /// The software that asks.
    pub lps: Lps,
}

/// Everything the assertion says. Holds names and the patient's INS: never logged.
pub struct VihfInput<'a> {
    /// `_` + a UUID.
    pub id: &'a str,
    /// The IssueInstant (the validity starts there).
    pub now: SystemTime,
    /// Subject of the signature certificate, RFC 2253.
    pub issuer: &'a str,
    /// Identifiant national of the holder.
    pub national_id: &'a str,
    /// "Given-name Surname", written when the profile asks for subject-id.
    pub display_name: Option<String>,
    /// The holder's structure (from the chosen situation).
    pub structure_id: &'a str,
    /// R02 code (`SA07`).
    pub sector: &'a str,
    /// The holder's profession (a Role).
    pub profession: &'a Code,
    /// The holder's specialty, when there is one (a second Role).
    pub specialty: Option<&'a Code>,
    /// What the request decides.
    pub request: &'a Request,
}

/// The assertion before its signature.
#[derive(Debug, Clone)]
pub struct Unsigned {
    /// The assertion's XML.
    pub xml: String,
    /// Byte offset where the Signature element goes.
    pub signature_at: usize,
    /// The assertion's ID.
    pub id: String,
    /// Its IssueInstant.
    pub issue_instant: String,
    /// The Conditions' NotBefore, when the profile sets a validity.
    pub not_before: Option<String>,
    /// The Conditions' NotOnOrAfter, when the profile sets a validity.
    pub not_on_or_after: Option<String>,
}

/// `_` + a random (version 4) UUID.
pub fn new_id() -> Result<String, DmpError> {
    let mut b = [0u8; 16];
    getrandom::getrandom(&mut b).map_err(|e| DmpError::Input(format!("no randomness: {e}")))?;
    b[6] = (b[6] & 0x0F) | 0x40;
    b[8] = (b[8] & 0x3F) | 0x80;
    let h = hex::encode(b);
    Ok(format!(
        "_{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    ))
}

/// `yyyy-MM-ddTHH:mm:ss.fffZ`, UTC.
pub fn instant(t: SystemTime) -> Result<String, DmpError> {
    let since = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_err(|_| DmpError::Input("clock before 1970".into()))?;
    let d = der::DateTime::from_unix_duration(Duration::from_secs(since.as_secs()))
        .map_err(|e| DmpError::Input(format!("clock: {e}")))?;
    Ok(format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        d.year(),
        d.month(),
        d.day(),
        d.hour(),
        d.minutes(),
        d.seconds(),
        since.subsec_millis()
    ))
}

/// A request's text: bounded, and only characters XML 1.0 can carry.
pub fn check_text(what: &str, s: &str) -> Result<(), DmpError> {
    if s.is_empty() || s.chars().count() > MAX_TEXT {
        return Err(DmpError::Input(format!("{what}: 1 to {MAX_TEXT} characters")));
    }
    if s.chars()
        .any(|c| c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}')
    {
        return Err(DmpError::Input(format!(
            "{what}: control characters are not allowed"
        )));
    }
    Ok(())
}

/// The patient's INS (letters and digits) and its OID (dotted numbers).
fn check_patient(ins: &str, oid: &str) -> Result<(), DmpError> {
    if ins.is_empty() || ins.len() > 32 || !ins.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(DmpError::Input("patient.ins: 1 to 32 letters and digits".into()));
    }
    let arcs_ok = oid.split('.').all(|a| {
        !a.is_empty()
            && a.len() <= 20
            && a.bytes().all(|b| b.is_ascii_digit())
            && (a == "0" || !a.starts_with('0'))
    });
    if !arcs_ok || oid.len() > 64 || oid.split('.').count() < 2 {
        return Err(DmpError::Input("patient.oid is not an OID".into()));
    }
    Ok(())
}

struct Writer<'p> {
    xml: String,
    profile: &'p VihfProfile,
}

impl Writer<'_> {
    fn text(&mut self, s: &str) {
        escape_text(s, &mut self.xml);
    }

    fn attr(&mut self, name: &str, value: &str) {
        self.xml.push(' ');
        self.xml.push_str(name);
        self.xml.push_str("=\"");
        escape_attr(value, &mut self.xml);
        self.xml.push('"');
    }

    /// `<saml2:Attribute Name=…>` with one `xs:string` value.
    fn string_attribute(&mut self, name: &str, value: &str) {
        self.xml.push_str("<saml2:Attribute");
        self.attr("Name", name);
        self.xml.push_str("><saml2:AttributeValue");
        self.attr("xmlns:xs", XS);
        self.attr("xsi:type", "xs:string");
        self.xml.push('>');
        self.text(value);
        self.xml.push_str("</saml2:AttributeValue></saml2:Attribute>");
    }

    /// One HL7 CE value (`Role`, `PurposeOfUse`).
    fn ce(&mut self, element: &str, code: &Code, system: &str, system_name: Option<&str>) {
        self.xml.push_str("<saml2:AttributeValue><");
        self.xml.push_str(element);
        self.attr("xmlns", HL7);
        self.attr("code", &code.code);
        self.attr("codeSystem", system);
        if let Some(n) = system_name {
            self.attr("codeSystemName", n);
        }
        if let Some(d) = &code.display {
            self.attr("displayName", d);
        }
        self.attr("xsi:type", "CE");
        self.xml.push_str("/></saml2:AttributeValue>");
    }

    fn attributes(&mut self, v: &VihfInput<'_>) {
        let p = self.profile;
        let n = &p.names;
        self.xml.push_str("<saml2:AttributeStatement>");
        if let Some(name) = v.display_name.as_ref().filter(|_| p.subject_id) {
            self.string_attribute(&n.subject_id, name);
        }
        self.string_attribute(&n.structure, v.structure_id);
        self.string_attribute(&n.sector, &format!("{}^{}", v.sector, p.code_systems.sector));
        self.xml.push_str("<saml2:Attribute");
        self.attr("Name", &n.role);
        self.xml.push('>');
        self.ce("Role", v.profession, &p.code_systems.profession, None);
        if let Some(s) = v.specialty {
            self.ce("Role", s, &p.code_systems.specialty, None);
        }
        self.xml.push_str("</saml2:Attribute>");
        self.string_attribute(&n.version, &p.version);
        let r = v.request;
        self.string_attribute(&n.mode, &r.mode);
        self.string_attribute(&n.patient, &format!("{}^^^&{}&ISO^NH", r.ins, r.ins_oid));
        self.string_attribute(&n.resource_urn, &p.resource_urn);
        self.xml.push_str("<saml2:Attribute");
        self.attr("Name", &n.purpose_of_use);
        self.xml.push('>');
        let purpose = Code {
            code: r.purpose.clone(),
            display: p.purposes.get(&r.purpose).cloned(),
        };
        let cs = &p.code_systems;
        self.ce(
            "PurposeOfUse",
            &purpose,
            &cs.purpose_of_use,
            Some(&cs.purpose_of_use_name),
        );
        self.xml.push_str("</saml2:Attribute>");
        self.string_attribute(&n.lps_id, &r.lps.id);
        self.string_attribute(&n.lps_name, &r.lps.name);
        self.string_attribute(&n.lps_version, &r.lps.version);
        self.string_attribute(&n.lps_homologation, &r.lps.homologation);
        self.xml.push_str("</saml2:AttributeStatement>");
    }
}

/// Refuses a request value the profile does not allow or XML cannot carry
/// (checked before the card is asked anything).
pub fn check_request(r: &Request, profile: &VihfProfile) -> Result<(), DmpError> {
    if !profile.modes.contains(&r.mode) {
        return Err(DmpError::Input(format!("mode: one of {:?}", profile.modes)));
    }
    if !profile.purposes.contains_key(&r.purpose) {
        let codes: Vec<&String> = profile.purposes.keys().collect();
        return Err(DmpError::Input(format!("purpose_of_use: one of {codes:?}")));
    }
    check_patient(&r.ins, &r.ins_oid)?;
    for (what, s) in [
        ("lps.id", &r.lps.id),
        ("lps.name", &r.lps.name),
        ("lps.version", &r.lps.version),
        ("lps.homologation", &r.lps.homologation),
    ] {
        check_text(what, s)?;
    }
    Ok(())
}

/// Builds the assertion.
pub fn build(v: &VihfInput<'_>, profile: &VihfProfile) -> Result<Unsigned, DmpError> {
    check_request(v.request, profile)?;
    // What the card gave: checked too, it is untrusted.
    check_text("the holder's national id", v.national_id)?;
    check_text("the situation's structure id", v.structure_id)?;
    check_text("the situation's sector", v.sector)?;
    check_text("the profession code", &v.profession.code)?;
    if let Some(name) = &v.display_name {
        check_text("the holder's name", name)?;
    }
    let issuer_ok = !v.issuer.is_empty() && !v.issuer.chars().any(char::is_control);
    if !issuer_ok {
        return Err(DmpError::Certificate("subject unusable as Issuer".into()));
    }

    let issue_instant = instant(v.now)?;
    let not_on_or_after = match profile.validity_seconds {
        0 => None,
        s => Some(instant(v.now + Duration::from_secs(s.into()))?),
    };
    let mut w = Writer {
        xml: String::with_capacity(4096),
        profile,
    };
    w.xml.push_str("<saml2:Assertion");
    w.attr("xmlns:saml2", SAML);
    w.attr("xmlns:xsi", XSI);
    w.attr("ID", v.id);
    w.attr("IssueInstant", &issue_instant);
    w.attr("Version", "2.0");
    w.xml.push_str("><saml2:Issuer");
    w.attr("Format", X509_SUBJECT);
    w.xml.push('>');
    w.text(v.issuer);
    w.xml.push_str("</saml2:Issuer>");
    let signature_at = w.xml.len();
    w.xml.push_str("<saml2:Subject><saml2:NameID>");
    w.text(v.national_id);
    w.xml.push_str("</saml2:NameID></saml2:Subject>");
    if let Some(end) = &not_on_or_after {
        w.xml.push_str("<saml2:Conditions");
        w.attr("NotBefore", &issue_instant);
        w.attr("NotOnOrAfter", end);
        w.xml.push_str("/>");
    }
    w.xml.push_str("<saml2:AuthnStatement");
    w.attr("AuthnInstant", &issue_instant);
    w.xml
        .push_str("><saml2:AuthnContext><saml2:AuthnContextClassRef>");
    w.text(SMARTCARD_PKI);
    w.xml
        .push_str("</saml2:AuthnContextClassRef></saml2:AuthnContext></saml2:AuthnStatement>");
    w.attributes(v);
    w.xml.push_str("</saml2:Assertion>");
    Ok(Unsigned {
        xml: w.xml,
        signature_at,
        id: v.id.to_string(),
        not_before: not_on_or_after.as_ref().map(|_| issue_instant.clone()),
        issue_instant,
        not_on_or_after,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::card::profile::Profiles;

    pub(crate) fn input<'a>(profession: &'a Code, request: &'a Request) -> VihfInput<'a> {
        VihfInput {
            id: "_ce088e5a-e31d-42d0-ba37-fda5fcbc889d",
            now: SystemTime::UNIX_EPOCH + Duration::from_millis(1_561_536_535_469),
            issuer: "CN=899900038839+2.5.4.4=#14045452414c,OU=Médecin,O=TEST,C=FR",
            national_id: "899900038839",
            display_name: Some("Zoé D'ARTAGNAN & <FILS>".into()),
            structure_id: "499900063480001",
            sector: "SA07",
            profession,
            specialty: None,
            request,
        }
    }

    pub(crate) fn request() -> Request {
        Request {
            mode: "DIRECTE".into(),
            ins: "207058575627097".into(),
            ins_oid: "1.2.250.1.213.1.4.10".into(),
            purpose: "normal".into(),
            lps: Lps {
                id: "01.01.01.01".into(),
                name: "LPS \"A&B\" <test>".into(),
                version: "1".into(),
                homologation: "NumAutorisation".into(),
            },
        }
    }

    #[test]
    fn laid_out_as_the_sample() {
        let p = &Profiles::builtin().unwrap().vihf;
        let médecin = Code {
            code: "10".into(),
            display: Some("Médecin".into()),
        };
        let r = request();
        let u = build(&input(&médecin, &r), p).unwrap();
        assert_eq!(u.issue_instant, "2019-06-26T08:08:55.469Z");
        assert_eq!(
            (u.not_before.as_deref(), u.not_on_or_after.as_deref()),
            (None, None)
        );
        assert!(u.xml[..u.signature_at].ends_with("</saml2:Issuer>"));
        for part in [
            r#"<saml2:Assertion xmlns:saml2="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID="_ce088e5a-e31d-42d0-ba37-fda5fcbc889d" IssueInstant="2019-06-26T08:08:55.469Z" Version="2.0">"#,
            r#"<saml2:Subject><saml2:NameID>899900038839</saml2:NameID></saml2:Subject><saml2:AuthnStatement AuthnInstant="2019-06-26T08:08:55.469Z"><saml2:AuthnContext><saml2:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI</saml2:AuthnContextClassRef>"#,
            r#"<saml2:Attribute Name="Secteur_Activite"><saml2:AttributeValue xmlns:xs="http://www.w3.org/2001/XMLSchema" xsi:type="xs:string">SA07^1.2.250.1.71.4.2.4</saml2:AttributeValue></saml2:Attribute>"#,
            r#"<Role xmlns="urn:hl7-org:v3" code="10" codeSystem="1.2.250.1.71.1.2.7" displayName="Médecin" xsi:type="CE"/>"#,
            r#"xsi:type="xs:string">207058575627097^^^&amp;1.2.250.1.213.1.4.10&amp;ISO^NH<"#,
            r#"<PurposeOfUse xmlns="urn:hl7-org:v3" code="normal" codeSystem="1.2.250.1.213.1.1.4.248" codeSystemName="mode acces VIHF 2.0" displayName="Accès normal" xsi:type="CE"/>"#,
            r#"xsi:type="xs:string">LPS "A&amp;B" &lt;test&gt;<"#,
        ] {
            assert!(u.xml.contains(part), "{part}\nnot in\n{}", u.xml);
        }
        // subject-id is off in the built-in profile.
        assert!(!u.xml.contains("ARTAGNAN"));
        assert!(roxmltree::Document::parse(&u.xml).is_ok());
    }

    #[test]
    fn bad_requests_are_refused() {
        let p = &Profiles::builtin().unwrap().vihf;
        let c = Code {
            code: "10".into(),
            display: None,
        };
        let r = request();
        let cases: [fn(&mut Request); 6] = [
            |r| r.ins = "2070^58".into(),
            |r| r.ins_oid = "1.2.x".into(),
            |r| r.ins_oid = "1".into(),
            |r| r.purpose = "nope".into(),
            |r| r.mode = "AUTRE".into(),
            |r| r.lps.name = "a\u{1}b".into(),
        ];
        for change in cases {
            let mut bad = r.clone();
            change(&mut bad);
            assert!(matches!(build(&input(&c, &bad), p), Err(DmpError::Input(_))));
        }
        let v = VihfInput {
            structure_id: "",
            ..input(&c, &r)
        };
        assert!(matches!(build(&v, p), Err(DmpError::Input(_))));
    }

    #[test]
    fn ids_are_uuids() {
        let (a, b) = (new_id().unwrap(), new_id().unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), 37);
        assert_eq!(&a[15..16], "4");
    }
}
