//! The simulator's own PKI: a test CA and the CPS3 and CPS4 card keys, generated once
//! from fixed seeds (so `generate_fixtures` always writes the same bytes) and
//! embedded from `fixtures/`, plus the issuing of card certificates laid out
//! like the real CPS ones (multi-valued last RDN, ANS extensions).
//!
//! Runtime never generates keys (too slow): it parses the embedded PEMs once.

use der::asn1::{
    Any, BitString, GeneralizedTime, ObjectIdentifier, OctetString, PrintableStringRef, SetOfVec,
    TeletexStringRef, UtcTime, Utf8StringRef,
};
use der::oid::AssociatedOid;
use der::{DateTime, Decode, Encode, EncodePem};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::{Pkcs1v15Sign, RsaPrivateKey};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use std::path::Path;
use std::sync::OnceLock;
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::certificate::{Certificate, TbsCertificate, Version};
use x509_cert::ext::pkix::certpolicy::PolicyInformation;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, CertificatePolicies, ExtendedKeyUsage, KeyUsage, KeyUsages,
    SubjectKeyIdentifier,
};
use x509_cert::ext::Extension;
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

const CA_KEY_PEM: &str = include_str!("../fixtures/ca.key.pem");
const CPS3_SIG_KEY_PEM: &str = include_str!("../fixtures/cps3-sig.key.pem");
const CPS3_AUTH_KEY_PEM: &str = include_str!("../fixtures/cps3-auth.key.pem");
const CPS4_SIG_KEY_PEM: &str = include_str!("../fixtures/cps4-sig.key.pem");
const CPS4_AUTH_KEY_PEM: &str = include_str!("../fixtures/cps4-auth.key.pem");
/// The simulator CA certificate (PEM), for tests that need a trust anchor.
pub const CA_CERT_PEM: &str = include_str!("../fixtures/ca.cert.pem");
/// The same certificate, DER.
pub const CA_CERT_DER: &[u8] = include_bytes!("../fixtures/ca.cert.der");

const RSA_BITS: usize = 2048;

/// Seeds are the SHA-256 of these labels; change a label and the fixtures change.
const CA_SEED: &str = "lecteur-sim fixture v1: test CA key";
const SIG_SEED: &str = "lecteur-sim fixture v1: CPS3 signature key";
const AUTH_SEED: &str = "lecteur-sim fixture v1: CPS3 authentication key";
const CPS4_SIG_SEED: &str = "lecteur-sim fixture v1: CPS4 signature key";
const CPS4_AUTH_SEED: &str = "lecteur-sim fixture v1: CPS4 authentication key";

const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const AT_COUNTRY: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.6");
const AT_ORG: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.10");
const AT_OU: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.11");
const AT_CN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
const AT_SURNAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.4");
const AT_GIVEN_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.42");
const EKU_CLIENT_AUTH: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.2");
const EKU_EMAIL: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.4");
const EKU_SMARTCARD_LOGON: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.20.2.2");
/// Signature-certificate policy of the ANS test chain (reference §1.5).
const POLICY_TEST_SIGNATURE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.250.1.71.3.7.9.1.1.2.1");
/// ANS private extensions.
pub const OID_ANS_CARD_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.250.1.71.1.2.2");
pub const OID_ANS_CARD_SERIAL: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.250.1.71.1.2.3");
pub const OID_ANS_PROFESSION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.250.1.71.1.2.7");
pub const OID_ANS_SPECIALTY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.250.1.71.4.2.5");

/// Why a certificate could not be made.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PkiError(String);

impl From<der::Error> for PkiError {
    fn from(e: der::Error) -> Self {
        PkiError(format!("DER: {e}"))
    }
}

impl From<rsa::Error> for PkiError {
    fn from(e: rsa::Error) -> Self {
        PkiError(format!("RSA: {e}"))
    }
}

/// A calendar date (certificates start and end at 00:00:00 UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl Date {
    /// Parses `YYYY-MM-DD` (a real calendar date, year 1970–9999).
    pub fn parse(text: &str) -> Result<Date, String> {
        let bad = || format!("{text:?} is not a date YYYY-MM-DD");
        let b = text.as_bytes();
        let digits_at =
            |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
        if b.len() != 10
            || b[4] != b'-'
            || b[7] != b'-'
            || !(digits_at(0..4) && digits_at(5..7) && digits_at(8..10))
        {
            return Err(bad());
        }
        let num = |s: &str| s.parse::<u16>().map_err(|_| bad());
        let date = Date {
            year: num(&text[0..4])?,
            month: num(&text[5..7])? as u8,
            day: num(&text[8..10])? as u8,
        };
        date.to_der_time().map_err(|_| bad())?;
        Ok(date)
    }

    /// `AAAAMMJJ`, as the CPS data objects write dates.
    pub fn compact(self) -> String {
        format!("{:04}{:02}{:02}", self.year, self.month, self.day)
    }

    fn to_der_time(self) -> Result<Time, der::Error> {
        let dt = DateTime::new(self.year, self.month, self.day, 0, 0, 0)?;
        // RFC 5280: UTCTime through 2049, GeneralizedTime after.
        Ok(if self.year < 2050 {
            Time::UtcTime(UtcTime::from_date_time(dt)?)
        } else {
            Time::GeneralTime(GeneralizedTime::from_date_time(dt))
        })
    }
}

/// What goes into a CPS card's two certificates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpsHolder {
    /// The 10-digit card serial (after the `8025000001` issuer prefix).
    pub card_serial: String,
    /// Identifiant national PS: `8` + 11-digit RPPS (or `0` + ADELI).
    pub national_id: String,
    pub surname: String,
    pub given_name: String,
    pub organisation: String,
    pub profession_label: String,
    /// G15 profession code (10 = Médecin).
    pub profession_code: u32,
    /// R01 specialty code (e.g. SM26).
    pub specialty: String,
    /// G02 card type (0 = CPS).
    pub card_type: u8,
    pub not_before: Date,
    pub not_after: Date,
}

/// The DER certificates of a CPS card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardCertificates {
    pub signature: Vec<u8>,
    pub authentication: Vec<u8>,
}

fn parse_key(pem: &str, what: &str) -> RsaPrivateKey {
    RsaPrivateKey::from_pkcs8_pem(pem)
        .unwrap_or_else(|e| panic!("embedded {what} key fixture is broken ({e}): regenerate it"))
}

/// The simulator CA private key.
pub fn ca_key() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| parse_key(CA_KEY_PEM, "CA"))
}

/// The CPS3 signature key (key reference 81), shared by every simulated CPS3.
pub fn cps3_signature_key() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| parse_key(CPS3_SIG_KEY_PEM, "CPS3 signature"))
}

/// The CPS3 authentication key (key reference 82), shared by every simulated CPS3.
pub fn cps3_authentication_key() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| parse_key(CPS3_AUTH_KEY_PEM, "CPS3 authentication"))
}

/// The CPS4 signature key (key id 10, MSE key byte 90), shared by every simulated CPS4.
pub fn cps4_signature_key() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| parse_key(CPS4_SIG_KEY_PEM, "CPS4 signature"))
}

/// The CPS4 authentication key (key id 20, MSE key byte A0), shared by every simulated CPS4.
pub fn cps4_authentication_key() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| parse_key(CPS4_AUTH_KEY_PEM, "CPS4 authentication"))
}

fn ca_certificate() -> &'static Certificate {
    static CERT: OnceLock<Certificate> = OnceLock::new();
    CERT.get_or_init(|| Certificate::from_der(CA_CERT_DER).expect("embedded CA certificate"))
}

fn seeded_key(label: &str) -> Result<RsaPrivateKey, PkiError> {
    let seed: [u8; 32] = Sha256::digest(label.as_bytes()).into();
    Ok(RsaPrivateKey::new(&mut ChaCha20Rng::from_seed(seed), RSA_BITS)?)
}

/// The fixture files [`generate_fixtures`] writes.
pub const FIXTURE_FILES: [&str; 7] = [
    "ca.key.pem",
    "ca.cert.pem",
    "ca.cert.der",
    "cps3-sig.key.pem",
    "cps3-auth.key.pem",
    "cps4-sig.key.pem",
    "cps4-auth.key.pem",
];

/// Writes the fixtures into `dir`: `ca.key.pem`, `ca.cert.pem`, `ca.cert.der`,
/// `cps3-sig.key.pem`, `cps3-auth.key.pem`, `cps4-sig.key.pem`,
/// `cps4-auth.key.pem` (keys as PKCS#8 PEM). Deterministic: the same bytes
/// every time (takes a few seconds: five RSA key generations).
pub fn generate_fixtures(dir: &Path) -> std::io::Result<()> {
    let io = |e: PkiError| std::io::Error::other(e.0);
    let ca = seeded_key(CA_SEED).map_err(io)?;
    let sig = seeded_key(SIG_SEED).map_err(io)?;
    let auth = seeded_key(AUTH_SEED).map_err(io)?;
    let sig4 = seeded_key(CPS4_SIG_SEED).map_err(io)?;
    let auth4 = seeded_key(CPS4_AUTH_SEED).map_err(io)?;
    let ca_cert = make_ca_certificate(&ca).map_err(io)?;
    let pem_key = |k: &RsaPrivateKey| {
        k.to_pkcs8_pem(LineEnding::LF)
            .map(|p| p.to_string())
            .map_err(|e| std::io::Error::other(e.to_string()))
    };
    let ca_cert_pem = ca_cert
        .to_pem(LineEnding::LF)
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let ca_cert_der = ca_cert
        .to_der()
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("ca.key.pem"), pem_key(&ca)?)?;
    std::fs::write(dir.join("ca.cert.pem"), ca_cert_pem)?;
    std::fs::write(dir.join("ca.cert.der"), ca_cert_der)?;
    std::fs::write(dir.join("cps3-sig.key.pem"), pem_key(&sig)?)?;
    std::fs::write(dir.join("cps3-auth.key.pem"), pem_key(&auth)?)?;
    std::fs::write(dir.join("cps4-sig.key.pem"), pem_key(&sig4)?)?;
    std::fs::write(dir.join("cps4-auth.key.pem"), pem_key(&auth4)?)?;
    Ok(())
}

/// PrintableString when the text allows it, else UTF8String.
fn directory_string(text: &str) -> Result<Any, der::Error> {
    match PrintableStringRef::new(text) {
        Ok(s) => Any::encode_from(&s),
        Err(_) => Any::encode_from(&Utf8StringRef::new(text)?),
    }
}

/// TeletexString for plain ASCII (as the real cards encode SN and GN:
/// `2.5.4.4=#1404…` in the reference), else UTF8String.
fn teletex_or_utf8(text: &str) -> Result<Any, der::Error> {
    if text.bytes().all(|b| (0x20..0x7F).contains(&b)) {
        Any::encode_from(&TeletexStringRef::new(text)?)
    } else {
        Any::encode_from(&Utf8StringRef::new(text)?)
    }
}

fn rdn(values: Vec<(ObjectIdentifier, Any)>) -> Result<RelativeDistinguishedName, der::Error> {
    let atvs = values
        .into_iter()
        .map(|(oid, value)| AttributeTypeAndValue { oid, value })
        .collect::<Vec<_>>();
    Ok(RelativeDistinguishedName(SetOfVec::try_from(atvs)?))
}

fn ca_name() -> Result<Name, der::Error> {
    Ok(RdnSequence(vec![
        rdn(vec![(AT_COUNTRY, directory_string("FR")?)])?,
        rdn(vec![(AT_ORG, directory_string("lecteur-sim")?)])?,
        rdn(vec![(AT_CN, directory_string("lecteur-sim test CA")?)])?,
    ]))
}

/// `C=FR, O=<org>, OU=<profession>, CN=<national id> + SN=<surname> + GN=<given name>`,
/// the last RDN multi-valued like on the real cards.
fn holder_name(h: &CpsHolder) -> Result<Name, der::Error> {
    Ok(RdnSequence(vec![
        rdn(vec![(AT_COUNTRY, directory_string("FR")?)])?,
        rdn(vec![(AT_ORG, directory_string(&h.organisation)?)])?,
        rdn(vec![(AT_OU, directory_string(&h.profession_label)?)])?,
        rdn(vec![
            (AT_CN, directory_string(&h.national_id)?),
            (AT_SURNAME, teletex_or_utf8(&h.surname)?),
            (AT_GIVEN_NAME, teletex_or_utf8(&h.given_name)?),
        ])?,
    ]))
}

fn spki_of(key: &RsaPrivateKey) -> Result<SubjectPublicKeyInfoOwned, PkiError> {
    let der = key
        .to_public_key()
        .to_public_key_der()
        .map_err(|e| PkiError(e.to_string()))?;
    Ok(SubjectPublicKeyInfoOwned::from_der(der.as_bytes())?)
}

/// RFC 5280 method 1: SHA-1 of the subjectPublicKey bits.
fn key_id(spki: &SubjectPublicKeyInfoOwned) -> Vec<u8> {
    Sha1::digest(spki.subject_public_key.raw_bytes()).to_vec()
}

fn ext(oid: ObjectIdentifier, critical: bool, value: &impl Encode) -> Result<Extension, PkiError> {
    Ok(Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(value.to_der()?)?,
    })
}

fn ext_of<T: Encode + AssociatedOid>(critical: bool, value: &T) -> Result<Extension, PkiError> {
    ext(T::OID, critical, value)
}

fn serial_number(value: u128) -> Result<SerialNumber, der::Error> {
    let bytes = value.to_be_bytes();
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len() - 1);
    SerialNumber::new(&bytes[first..])
}

fn sha256_rsa() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: SHA256_WITH_RSA,
        parameters: Some(Any::null()),
    }
}

/// Signs a TBS with `issuer_key` (sha256WithRSAEncryption, PKCS#1 v1.5: deterministic).
fn sign(tbs: TbsCertificate, issuer_key: &RsaPrivateKey) -> Result<Certificate, PkiError> {
    let digest = Sha256::digest(tbs.to_der()?);
    let signature = issuer_key.sign(Pkcs1v15Sign::new::<Sha256>(), &digest)?;
    Ok(Certificate {
        tbs_certificate: tbs,
        signature_algorithm: sha256_rsa(),
        signature: BitString::from_bytes(&signature)?,
    })
}

fn make_ca_certificate(ca: &RsaPrivateKey) -> Result<Certificate, PkiError> {
    let spki = spki_of(ca)?;
    let id = OctetString::new(key_id(&spki))?;
    let validity = Validity {
        not_before: Date::parse("2020-01-01").map_err(PkiError)?.to_der_time()?,
        not_after: Time::UtcTime(UtcTime::from_date_time(DateTime::new(2049, 12, 31, 23, 59, 59)?)?),
    };
    let extensions = vec![
        ext_of(
            true,
            &BasicConstraints {
                ca: true,
                path_len_constraint: Some(0),
            },
        )?,
        ext_of(true, &KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign))?,
        ext_of(false, &SubjectKeyIdentifier(id.clone()))?,
        ext_of(
            false,
            &AuthorityKeyIdentifier {
                key_identifier: Some(id),
                authority_cert_issuer: None,
                authority_cert_serial_number: None,
            },
        )?,
    ];
    let tbs = TbsCertificate {
        version: Version::V3,
        serial_number: serial_number(1)?,
        signature: sha256_rsa(),
        issuer: ca_name()?,
        validity,
        subject: ca_name()?,
        subject_public_key_info: spki,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(extensions),
    };
    sign(tbs, ca)
}

/// Which of the two card certificates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Usage {
    Signature,
    Authentication,
}

fn issue(h: &CpsHolder, usage: Usage, key: &RsaPrivateKey) -> Result<Vec<u8>, PkiError> {
    let ca = ca_certificate();
    let ca_spki = &ca.tbs_certificate.subject_public_key_info;
    let spki = spki_of(key)?;
    let (suffix, key_usage, ekus) = match usage {
        Usage::Signature => (
            1,
            KeyUsage(KeyUsages::DigitalSignature | KeyUsages::NonRepudiation),
            vec![EKU_EMAIL],
        ),
        Usage::Authentication => (
            2,
            KeyUsage(KeyUsages::DigitalSignature | KeyUsages::KeyEncipherment),
            vec![EKU_CLIENT_AUTH, EKU_SMARTCARD_LOGON],
        ),
    };
    // Serial = the card serial digits followed by 01 (signature) / 02 (auth).
    let serial: u128 = format!("{}{suffix:02}", h.card_serial)
        .parse()
        .map_err(|_| PkiError(format!("card serial {:?} is not numeric", h.card_serial)))?;
    if h.not_before >= h.not_after {
        return Err(PkiError("certificate not_before must precede not_after".into()));
    }
    let mut extensions = vec![
        ext_of(
            false,
            &BasicConstraints {
                ca: false,
                path_len_constraint: None,
            },
        )?,
        ext_of(true, &key_usage)?,
        ext_of(false, &ExtendedKeyUsage(ekus))?,
        ext_of(false, &SubjectKeyIdentifier(OctetString::new(key_id(&spki))?))?,
        ext_of(
            false,
            &AuthorityKeyIdentifier {
                key_identifier: Some(OctetString::new(key_id(ca_spki))?),
                authority_cert_issuer: None,
                authority_cert_serial_number: None,
            },
        )?,
    ];
    if usage == Usage::Signature {
        extensions.push(ext_of(
            false,
            &CertificatePolicies(vec![PolicyInformation {
                policy_identifier: POLICY_TEST_SIGNATURE,
                policy_qualifiers: None,
            }]),
        )?);
    }
    let card_serial = format!("8025000001/{}", h.card_serial);
    extensions.extend([
        ext(OID_ANS_CARD_TYPE, false, &h.card_type)?,
        ext(
            OID_ANS_CARD_SERIAL,
            false,
            &PrintableStringRef::new(&card_serial)?,
        )?,
        ext(OID_ANS_PROFESSION, false, &h.profession_code)?,
        ext(OID_ANS_SPECIALTY, false, &vec![Utf8StringRef::new(&h.specialty)?])?,
    ]);
    let tbs = TbsCertificate {
        version: Version::V3,
        serial_number: serial_number(serial)?,
        signature: sha256_rsa(),
        issuer: ca.tbs_certificate.subject.clone(),
        validity: Validity {
            not_before: h.not_before.to_der_time()?,
            not_after: h.not_after.to_der_time()?,
        },
        subject: holder_name(h)?,
        subject_public_key_info: spki,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(extensions),
    };
    Ok(sign(tbs, ca_key())?.to_der()?)
}

/// Issues a CPS3 card's signature and authentication certificates (for the
/// embedded keys 81 and 82) with the simulator CA. Deterministic, two RSA
/// signatures: cheap enough for card-load time.
pub fn issue_cps_certificates(holder: &CpsHolder) -> Result<CardCertificates, PkiError> {
    issue_pair(holder, cps3_signature_key(), cps3_authentication_key())
}

/// The same for a CPS4, whose keys (ids 10 and 20) are another fixture pair.
pub fn issue_cps4_certificates(holder: &CpsHolder) -> Result<CardCertificates, PkiError> {
    issue_pair(holder, cps4_signature_key(), cps4_authentication_key())
}

fn issue_pair(
    holder: &CpsHolder,
    signature: &RsaPrivateKey,
    authentication: &RsaPrivateKey,
) -> Result<CardCertificates, PkiError> {
    Ok(CardCertificates {
        signature: issue(holder, Usage::Signature, signature)?,
        authentication: issue(holder, Usage::Authentication, authentication)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::traits::PublicKeyParts;
    use rsa::RsaPublicKey;
    use spki::DecodePublicKey;

    fn holder() -> CpsHolder {
        CpsHolder {
            card_serial: "2500577253".into(),
            national_id: "899900038839".into(),
            surname: "TRAL".into(),
            given_name: "ADEMIS".into(),
            organisation: "TEST".into(),
            profession_label: "Médecin".into(),
            profession_code: 10,
            specialty: "SM26".into(),
            card_type: 0,
            not_before: Date::parse("2024-01-01").unwrap(),
            not_after: Date::parse("2034-01-01").unwrap(),
        }
    }

    /// Regenerating the fixtures gives the committed bytes (slow-ish: keygen).
    #[test]
    fn fixtures_are_reproducible() {
        let dir = std::env::temp_dir().join(format!("lecteur-sim-fixtures-{}", std::process::id()));
        generate_fixtures(&dir).unwrap();
        let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        for name in FIXTURE_FILES {
            let fresh = std::fs::read(dir.join(name)).unwrap();
            let kept = std::fs::read(committed.join(name)).unwrap();
            assert!(fresh == kept, "{name} differs from the regenerated one");
        }
        std::fs::remove_dir_all(&dir).ok();
    }

    /// `cargo test -p lecteur-sim write_fixtures -- --ignored` rewrites them.
    #[test]
    #[ignore]
    fn write_fixtures() {
        generate_fixtures(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")).unwrap();
    }

    fn public_key(cert: &Certificate) -> RsaPublicKey {
        let der = cert.tbs_certificate.subject_public_key_info.to_der().unwrap();
        RsaPublicKey::from_public_key_der(&der).unwrap()
    }

    #[test]
    fn issued_certificates_chain_to_the_ca_and_match_the_keys() {
        let certs = issue_cps_certificates(&holder()).unwrap();
        let ca = Certificate::from_der(CA_CERT_DER).unwrap();
        for (der, key) in [
            (&certs.signature, cps3_signature_key()),
            (&certs.authentication, cps3_authentication_key()),
        ] {
            let cert = Certificate::from_der(der).unwrap();
            assert_eq!(public_key(&cert).n(), key.n());
            let tbs = cert.tbs_certificate.to_der().unwrap();
            public_key(&ca)
                .verify(
                    Pkcs1v15Sign::new::<Sha256>(),
                    &Sha256::digest(&tbs),
                    cert.signature.raw_bytes(),
                )
                .unwrap();
            let subject = cert.tbs_certificate.subject.to_string();
            assert!(subject.contains("899900038839"), "{subject}");
            assert_eq!(cert.tbs_certificate.subject.0.len(), 4);
            assert_eq!(cert.tbs_certificate.subject.0[3].0.len(), 3);
        }
        // Deterministic.
        assert_eq!(issue_cps_certificates(&holder()).unwrap(), certs);
    }

    #[test]
    fn dates() {
        assert!(Date::parse("2024-02-30").is_err());
        assert!(Date::parse("2024-1-01").is_err());
        assert!(Date::parse("2060-01-01").unwrap().to_der_time().is_ok());
    }
}
