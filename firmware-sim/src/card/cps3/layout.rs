//! The CPS file system (CPS3, and the CPS4 under its application): MF with
//! EF.DIR, EF.ATR (CPS3 only), EF.SN.ICC and EF_ACTUA, and the PKCS#15
//! application DF 0001 holding the certificates, the data objects
//! (`docs/cps-data-objects.md`), the 16 situations, and the PKCS#15 structure
//! (ODF, TokenInfo, PrKDF, CDF, DODF, AODF) that points at all of them.
//!
//! PKCS#15 objects are DER as in PKCS#15 v1.1 / ISO/IEC 7816-15 (module with
//! IMPLICIT TAGS; `[1]` around the type attributes and the ODF choices are
//! explicit because they wrap CHOICE types, as OpenSC encodes them).

use crate::card::fs::FileSystem;
use crate::card::tlv::{constructed, tlv};
use crate::pki::{CardCertificates, CpsHolder};

/// The PKCS#15 application (contact), label "CPX IAS" (the same AID on the CPS4).
pub const AID_PKCS15: [u8; 13] = [
    0xE8, 0x28, 0xBD, 0x08, 0x0F, 0x80, 0x25, 0x00, 0x00, 0x01, 0xFF, 0x00, 0x10,
];
/// The IAS application named in EF.ATR (the CPS4 ChipDoc application has the
/// same AID); modelled as the MF itself.
pub const AID_IAS: [u8; 8] = [0x80, 0x25, 0x00, 0x00, 0x01, 0xFF, 0x01, 0x00];
pub const APP_LABEL: &str = "CPX IAS";

pub const FID_EF_DIR: u16 = 0x2F00;
pub const FID_EF_ATR: u16 = 0x2F01;
/// The SFIs of EF.DIR and EF.ATR (`88 01 F0`, `88 01 E8` in a real CPS3's FCPs,
/// OpenSC issue #2223).
pub const SFI_EF_DIR: u8 = 0x1E;
pub const SFI_EF_ATR: u8 = 0x1D;
pub const FID_EF_SN_ICC: u16 = 0xD003;
pub const SFI_EF_SN_ICC: u8 = 0x1C;
/// EF_ACTUA, in the MF: `EC { 81 start, 82 end }`, packed BCD `YYYYMMDDhhmmss`.
pub const FID_EF_ACTUA: u16 = 0xD010;
pub const FID_APP: u16 = 0x0001;
/// The certificate EFs: the contract with the daemon until PKCS#15 discovery.
pub const FID_CERT_SIG: u16 = 0xE001;
pub const FID_CERT_AUTH: u16 = 0xE002;
/// PKCS#15 structure (ODF and TokenInfo at their customary FIDs; the
/// directory files' FIDs are this simulator's choice).
pub const FID_ODF: u16 = 0x5031;
pub const FID_TOKEN_INFO: u16 = 0x5032;
pub const FID_PRKDF: u16 = 0x5001;
pub const FID_CDF: u16 = 0x5002;
pub const FID_AODF: u16 = 0x5003;
pub const FID_DODF: u16 = 0x5004;
/// The data objects under `3F00/0001` (docs/cps-data-objects.md).
pub const FID_ID_CARD: u16 = 0xD101;
pub const FID_NAME_PS: u16 = 0xD102;
pub const FID_LANG_PS: u16 = 0xD103;
pub const FID_INFO_PS: u16 = 0xD104;
pub const FID_CPS_DATA: u16 = 0xD107;
/// `CPS_ACTIVITY_01_PS` … `_16_PS` are `D120` … `D12F`.
pub const FID_SITUATION_FIRST: u16 = 0xD120;
pub const SITUATION_COUNT: usize = 16;
/// An unused situation is a file of this many `00` bytes.
pub const UNUSED_SITUATION_LEN: usize = 64;
/// The DODF `applicationName` of every data object (simulator's choice).
pub const DATA_APP_NAME: &str = "CPS";
/// PIN object label in the AODF (simulator's choice).
pub const PIN_LABEL: &str = "PIN CPS";
/// The PKCS#15 authId of the PIN (private objects point at it).
pub const PIN_AUTH_ID: u8 = 0x01;

/// EF.ATR as read on a CPS3 (reference §1.3), status bytes `82 02 90 00` included.
pub const EF_ATR: [u8; 57] = [
    0x80, 0x43, 0x01, 0xB8, 0x46, 0x04, 0x04, 0xB0, 0xEC, 0xC1, 0x47, 0x03, 0x94, 0x01, 0x80, 0x4F, 0x08,
    0x80, 0x25, 0x00, 0x00, 0x01, 0xFF, 0x01, 0x00, 0xE0, 0x10, 0x02, 0x02, 0x01, 0x04, 0x02, 0x02, 0x01,
    0x04, 0x02, 0x02, 0x01, 0x00, 0x02, 0x02, 0x01, 0x00, 0x78, 0x08, 0x06, 0x06, 0x2B, 0x81, 0x22, 0xF8,
    0x78, 0x02, 0x82, 0x02, 0x90, 0x00,
];

/// The ANS issuer prefix of the card PAN.
const PAN_PREFIX: [u8; 5] = [0x80, 0x25, 0x00, 0x00, 0x01];

/// Which card the tree is for: they differ in key ids and a few files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generation {
    Cps3,
    Cps4,
}

impl Generation {
    /// The key ids (last byte of the PKCS#15 iD and, on the CPS3, the key
    /// reference) of the signature and authentication keys.
    pub fn key_ids(self) -> (u8, u8) {
        match self {
            Generation::Cps3 => (0x01, 0x02),
            Generation::Cps4 => (0x10, 0x20),
        }
    }

    /// The PrKDF keyReference of the signature and authentication keys.
    pub fn key_refs(self) -> (u8, u8) {
        match self {
            Generation::Cps3 => (0x81, 0x82),
            Generation::Cps4 => (0x10, 0x20),
        }
    }

    fn token_label(self) -> &'static str {
        match self {
            Generation::Cps3 => "CPS3 (simulated)",
            Generation::Cps4 => "CPS4 (simulated)",
        }
    }
}

/// One situation d'exercice (`CPS_ACTIVITY_xx_PS`): raw texts, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Situation {
    /// `80` mode d'exercice.
    pub mode: String,
    /// `81` statut.
    pub statut: String,
    /// `82` structure id type (G07).
    pub structure_id_type: String,
    /// `84` raison sociale.
    pub raison_sociale: String,
    /// `85` structure id.
    pub structure_id: String,
    /// `86` secteur d'activité (R02), last in the object.
    pub sector: String,
}

/// What the data objects hold beyond the certificate holder ([`CpsHolder`]).
/// Texts are stored as Latin-1 (characters above U+00FF become `?`; the TOML
/// loader refuses them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpsData {
    /// G02, `E1/80` (2 digits).
    pub card_type: String,
    /// G01, `E1/81` (2 digits).
    pub card_category: String,
    /// `E1/83`, `AAAAMMJJ`.
    pub validity_start: String,
    /// `E1/84`, `AAAAMMJJ`.
    pub validity_end: String,
    /// G08, `E2/80`.
    pub national_id_type: String,
    /// `E2/82`.
    pub civility: String,
    /// `E3/80`.
    pub languages: String,
    /// G15, `E4/80`.
    pub profession_code: String,
    /// `E4/81`.
    pub professional_category: String,
    /// The content of `CPS_DATA` (D107).
    pub cps_data: Vec<u8>,
    /// Up to 16, in D120, D121, …
    pub situations: Vec<Situation>,
    /// EF_ACTUA's content (see [`actua`]); `None`: no EF_ACTUA.
    pub actua: Option<Vec<u8>>,
}

/// `8025000001` + the 10-digit serial, packed BCD.
pub fn pan_bcd(serial: &str) -> Vec<u8> {
    let mut out = PAN_PREFIX.to_vec();
    out.extend(bcd(serial));
    out
}

/// Digits packed two per byte, `F`-padded.
pub fn bcd(digits: &str) -> Vec<u8> {
    let digits: Vec<u8> = digits.bytes().map(|b| b.wrapping_sub(b'0') & 0x0F).collect();
    digits
        .chunks(2)
        .map(|p| (p[0] << 4) | p.get(1).copied().unwrap_or(0x0F))
        .collect()
}

/// Text as Latin-1 bytes.
pub fn latin1(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .collect()
}

// ---- DER building blocks -------------------------------------------------

fn seq(children: &[Vec<u8>]) -> Vec<u8> {
    constructed(&[0x30], children)
}

fn utf8(text: &str) -> Vec<u8> {
    tlv(&[0x0C], text.as_bytes())
}

fn octets(bytes: &[u8]) -> Vec<u8> {
    tlv(&[0x04], bytes)
}

/// A non-negative INTEGER, minimal two's complement.
fn integer(n: u32) -> Vec<u8> {
    let bytes = n.to_be_bytes();
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(3);
    let mut value = bytes[first..].to_vec();
    if value[0] & 0x80 != 0 {
        value.insert(0, 0);
    }
    tlv(&[0x02], &value)
}

/// A BIT STRING of named bits (DER: trailing zero bits removed).
fn named_bits(bits: &[usize]) -> Vec<u8> {
    let Some(&top) = bits.iter().max() else {
        return tlv(&[0x03], &[0x00]);
    };
    let mut bytes = vec![0u8; top / 8 + 1];
    for &bit in bits {
        bytes[bit / 8] |= 0x80 >> (bit % 8);
    }
    let unused = 7 - (top % 8) as u8;
    tlv(&[0x03], &[&[unused][..], &bytes].concat())
}

/// `30 { 04 <path> }`: a PKCS#15 Path.
fn path(fids: &[u16]) -> Vec<u8> {
    let bytes: Vec<u8> = fids.iter().flat_map(|f| f.to_be_bytes()).collect();
    seq(&[octets(&bytes)])
}

fn app_path(fid: u16) -> Vec<u8> {
    path(&[0x3F00, FID_APP, fid])
}

/// CommonObjectFlags bits.
const FLAG_PRIVATE: usize = 0;
const FLAG_MODIFIABLE: usize = 1;

/// CommonObjectAttributes `{ label, flags?, authId? }`.
fn common_object(label: &str, flags: &[usize], auth_id: Option<u8>) -> Vec<u8> {
    let mut parts = vec![utf8(label)];
    if !flags.is_empty() {
        parts.push(named_bits(flags));
    }
    if let Some(id) = auth_id {
        parts.push(octets(&[id]));
    }
    seq(&parts)
}

/// The PKCS#15 key / certificate iD: the application AID followed by the key id.
pub fn object_id(n: u8) -> Vec<u8> {
    let mut id = AID_PKCS15.to_vec();
    id.push(n);
    id
}

// ---- PKCS#15 files -------------------------------------------------------

/// ODF: `A0` privateKeys, `A4` certificates, `A7` dataObjects, `A8` authObjects,
/// each holding a Path.
fn odf() -> Vec<u8> {
    let entry = |tag: u8, fid: u16| tlv(&[tag], &app_path(fid));
    [
        entry(0xA0, FID_PRKDF),
        entry(0xA4, FID_CDF),
        entry(0xA7, FID_DODF),
        entry(0xA8, FID_AODF),
    ]
    .concat()
}

/// TokenFlags bits.
const TOKEN_READ_ONLY: usize = 0;
const TOKEN_LOGIN_REQUIRED: usize = 1;

fn token_info(generation: Generation, serial: &str) -> Vec<u8> {
    let mut fields = vec![
        integer(0),                                        // version
        octets(&pan_bcd(serial)),                          // serialNumber
        utf8("lecteur-sim"),                               // manufacturerID
        tlv(&[0x80], generation.token_label().as_bytes()), // label [0]
    ];
    match generation {
        // A real CPS3's TokenInfo (OpenSC issue #2267): read-only, login
        // required, and the card's algorithms.
        Generation::Cps3 => {
            fields.push(named_bits(&[TOKEN_READ_ONLY, TOKEN_LOGIN_REQUIRED]));
            fields.push(constructed(&[0xA2], &cps3_algorithms()));
        }
        Generation::Cps4 => fields.push(named_bits(&[TOKEN_LOGIN_REQUIRED])),
    }
    seq(&fields)
}

/// PKCS#11 mechanism numbers.
const CKM_RSA_PKCS: u32 = 0x01;
const CKM_SHA1_RSA_PKCS: u32 = 0x06;
const CKM_SHA256_RSA_PKCS: u32 = 0x40;
const CKM_SHA_1: u32 = 0x220;
const CKM_SHA256: u32 = 0x250;
/// PKCS#15 supportedOperations bits.
const OP_COMPUTE_SIGNATURE: usize = 1;
const OP_HASH: usize = 6;

/// `supportedAlgorithms` of a real CPS3's TokenInfo (OpenSC issue #2267, as
/// pkcs15-tool lists it): references 1 to 5, each with its PKCS#11 mechanism,
/// operation, OID and the card's algorithm reference — those of Cryptolib's
/// MSE SET (public-sources.md 1.5.2). The listing is cut off inside entry 5
/// after its mechanism (CKM_RSA_PKCS): its operation and algRef are the
/// authentication key's (INTERNAL AUTHENTICATE, `02`), its OID is left out.
fn cps3_algorithms() -> Vec<Vec<u8>> {
    const SHA1: &[u8] = &[0x2B, 0x0E, 0x03, 0x02, 0x1A];
    const SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
    const SHA1_RSA: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x05];
    const SHA256_RSA: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0B];
    let entries: [(u32, usize, Option<&[u8]>, u32); 5] = [
        (CKM_SHA_1, OP_HASH, Some(SHA1), 0x10),
        (CKM_SHA256, OP_HASH, Some(SHA256), 0x40),
        (CKM_SHA1_RSA_PKCS, OP_COMPUTE_SIGNATURE, Some(SHA1_RSA), 0x12),
        (CKM_SHA256_RSA_PKCS, OP_COMPUTE_SIGNATURE, Some(SHA256_RSA), 0x42),
        (CKM_RSA_PKCS, OP_COMPUTE_SIGNATURE, None, 0x02),
    ];
    entries
        .iter()
        .zip(1..)
        .map(|(&(mechanism, operation, oid, alg_ref), reference)| {
            // AlgorithmInfo { reference, algorithm, parameters NULL,
            //                 supportedOperations, objId?, algRef }
            let mut info = vec![
                integer(reference),
                integer(mechanism),
                vec![0x05, 0x00],
                named_bits(&[operation]),
            ];
            info.extend(oid.map(|o| tlv(&[0x06], o)));
            info.push(integer(alg_ref));
            seq(&info)
        })
        .collect()
}

/// KeyUsageFlags bits.
const USAGE_DECRYPT: usize = 1;
const USAGE_SIGN: usize = 2;
const USAGE_NON_REPUDIATION: usize = 9;
/// KeyAccessFlags: sensitive, alwaysSensitive, neverExtractable, local.
const ACCESS_FLAGS: [usize; 4] = [0, 2, 3, 4];

/// One private RSA key:
/// `30 { CommonObjectAttributes{label, private, authId 01},
///       CommonKeyAttributes{iD, usage, accessFlags, keyReference},
///       [1] { PrivateRSAKeyAttributes{ Path 3F00/0001, modulusLength 2048 } } }`.
fn prkd(label: &str, id: u8, usage: &[usize], key_ref: u8) -> Vec<u8> {
    let key = seq(&[
        octets(&object_id(id)),
        named_bits(usage),
        named_bits(&ACCESS_FLAGS),
        integer(u32::from(key_ref)),
    ]);
    let rsa = tlv(&[0xA1], &seq(&[path(&[0x3F00, FID_APP]), integer(2048)]));
    seq(&[common_object(label, &[FLAG_PRIVATE], Some(PIN_AUTH_ID)), key, rsa])
}

fn prkdf(generation: Generation) -> Vec<u8> {
    let (sig_id, auth_id) = generation.key_ids();
    let (sig_ref, auth_ref) = generation.key_refs();
    [
        prkd("CPS_PRIV_SIG", sig_id, &[USAGE_NON_REPUDIATION], sig_ref),
        prkd("CPS_PRIV_AUT", auth_id, &[USAGE_DECRYPT, USAGE_SIGN], auth_ref),
    ]
    .concat()
}

/// `30 { CommonObjectAttributes{label}, CommonCertificateAttributes{iD},
///       [1] { X509CertificateAttributes{ Path } } }`.
fn cd(label: &str, id: u8, fid: u16) -> Vec<u8> {
    seq(&[
        common_object(label, &[], None),
        seq(&[octets(&object_id(id))]),
        tlv(&[0xA1], &seq(&[app_path(fid)])),
    ])
}

fn cdf(generation: Generation) -> Vec<u8> {
    let (sig_id, auth_id) = generation.key_ids();
    [
        cd("Certificat de Signature CPS", sig_id, FID_CERT_SIG),
        cd("Certificat d'Authentification CPS", auth_id, FID_CERT_AUTH),
    ]
    .concat()
}

/// PinFlags bits.
const PIN_INITIALIZED: usize = 4;
/// PinType ENUMERATED ascii-numeric.
const PIN_TYPE_ASCII_NUMERIC: u8 = 1;

/// The PIN: ASCII numeric, 4 to 8 digits, unpadded, global reference 01, in the MF.
/// `30 { CommonObjectAttributes{label, modifiable}, CommonAuthenticationObjectAttributes{authId 01},
///       [1] { PinAttributes{ pinFlags, pinType, minLength, storedLength, maxLength, [0] 01, path 3F00 } } }`.
fn aodf() -> Vec<u8> {
    let attrs = seq(&[
        named_bits(&[PIN_INITIALIZED]),
        tlv(&[0x0A], &[PIN_TYPE_ASCII_NUMERIC]),
        integer(4),
        integer(8),
        integer(8),
        tlv(&[0x80], &[0x01]),
        path(&[0x3F00]),
    ]);
    seq(&[
        common_object(PIN_LABEL, &[FLAG_MODIFIABLE], None),
        seq(&[octets(&[PIN_AUTH_ID])]),
        tlv(&[0xA1], &attrs),
    ])
}

/// One data object (opaqueDO):
/// `30 { CommonObjectAttributes{label, flags?, authId?},
///       CommonDataObjectAttributes{applicationName}, [1] { Path } }`.
fn dod(label: &str, fid: u16, flags: &[usize], auth_id: Option<u8>) -> Vec<u8> {
    seq(&[
        common_object(label, flags, auth_id),
        seq(&[utf8(DATA_APP_NAME)]),
        tlv(&[0xA1], &app_path(fid)),
    ])
}

/// The label of situation `n` (1 to 16).
pub fn situation_label(n: usize) -> String {
    format!("CPS_ACTIVITY_{n:02}_PS")
}

/// The FID of situation `n` (1 to 16).
pub fn situation_fid(n: usize) -> u16 {
    FID_SITUATION_FIRST + (n as u16).saturating_sub(1)
}

/// The free data objects: (label, FID).
pub const FREE_DATA_OBJECTS: [(&str, u16); 5] = [
    ("CPS_ID_CARD", FID_ID_CARD),
    ("CPS_NAME_PS", FID_NAME_PS),
    ("CPS_LANG_PS", FID_LANG_PS),
    ("CPS_INFO_PS", FID_INFO_PS),
    ("CPS_DATA", FID_CPS_DATA),
];

fn dodf() -> Vec<u8> {
    let mut out = Vec::new();
    for (label, fid) in FREE_DATA_OBJECTS {
        let flags: &[usize] = if fid == FID_CPS_DATA {
            &[FLAG_MODIFIABLE]
        } else {
            &[]
        };
        out.extend(dod(label, fid, flags, None));
    }
    for n in 1..=SITUATION_COUNT {
        out.extend(dod(
            &situation_label(n),
            situation_fid(n),
            &[FLAG_PRIVATE],
            Some(PIN_AUTH_ID),
        ));
    }
    out
}

/// EF.DIR: one application template (AID, label, path).
fn ef_dir() -> Vec<u8> {
    constructed(
        &[0x61],
        &[
            tlv(&[0x4F], &AID_PKCS15),
            tlv(&[0x50], APP_LABEL.as_bytes()),
            tlv(&[0x51], &[0x3F, 0x00, 0x00, 0x01]),
        ],
    )
}

// ---- Data objects ----------------------------------------------------------

fn text(tag: u8, value: &str) -> Vec<u8> {
    tlv(&[tag], &latin1(value))
}

/// CPS_ID_CARD: `E1 { 80 type, 81 category, 82 serial, 83 start, 84 end }`.
pub fn id_card(holder: &CpsHolder, data: &CpsData) -> Vec<u8> {
    constructed(
        &[0xE1],
        &[
            text(0x80, &data.card_type),
            text(0x81, &data.card_category),
            text(0x82, &holder.card_serial),
            text(0x83, &data.validity_start),
            text(0x84, &data.validity_end),
        ],
    )
}

/// CPS_NAME_PS: `E2 { 80 id type, 81 national id, 82 civility, 83 surname, 84 given name }`.
pub fn name_ps(holder: &CpsHolder, data: &CpsData) -> Vec<u8> {
    constructed(
        &[0xE2],
        &[
            text(0x80, &data.national_id_type),
            text(0x81, &holder.national_id),
            text(0x82, &data.civility),
            text(0x83, &holder.surname),
            text(0x84, &holder.given_name),
        ],
    )
}

/// CPS_LANG_PS: `E3 { 80 languages }`.
pub fn lang_ps(data: &CpsData) -> Vec<u8> {
    constructed(&[0xE3], &[text(0x80, &data.languages)])
}

/// CPS_INFO_PS: `E4 { 80 profession, 81 category, 82 specialty }` (specialty last).
pub fn info_ps(holder: &CpsHolder, data: &CpsData) -> Vec<u8> {
    constructed(
        &[0xE4],
        &[
            text(0x80, &data.profession_code),
            text(0x81, &data.professional_category),
            text(0x82, &holder.specialty),
        ],
    )
}

/// CPS_ACTIVITY_xx_PS: `EE { 80 mode, 81 statut, 82 structure id type,
/// 84 raison sociale, 85 structure id, 86 sector }` (sector last).
pub fn situation(s: &Situation) -> Vec<u8> {
    constructed(
        &[0xEE],
        &[
            text(0x80, &s.mode),
            text(0x81, &s.statut),
            text(0x82, &s.structure_id_type),
            text(0x84, &s.raison_sociale),
            text(0x85, &s.structure_id),
            text(0x86, &s.sector),
        ],
    )
}

/// EF_ACTUA: `EC { 81 start, 82 end }`, 7 packed BCD bytes each.
pub fn actua(start: &str, end: &str) -> Vec<u8> {
    constructed(&[0xEC], &[tlv(&[0x81], &bcd(start)), tlv(&[0x82], &bcd(end))])
}

/// Builds the whole tree for a card.
pub fn build(
    generation: Generation,
    holder: &CpsHolder,
    data: &CpsData,
    certs: &CardCertificates,
) -> FileSystem {
    let serial = &holder.card_serial;
    let mut fs = FileSystem::new();
    let mf = FileSystem::MF;
    fs.set_aid(mf, &AID_IAS);
    let dir = fs.add_ef(mf, FID_EF_DIR, ef_dir());
    if generation == Generation::Cps3 {
        fs.set_sfi(dir, SFI_EF_DIR);
        let atr = fs.add_ef(mf, FID_EF_ATR, EF_ATR.to_vec());
        fs.set_sfi(atr, SFI_EF_ATR);
    }
    let sn = fs.add_ef(mf, FID_EF_SN_ICC, tlv(&[0x5A], &pan_bcd(serial)));
    fs.set_sfi(sn, SFI_EF_SN_ICC);
    if let Some(content) = &data.actua {
        fs.add_ef(mf, FID_EF_ACTUA, content.clone());
    }
    let app = fs.add_df(mf, Some(FID_APP), Some(&AID_PKCS15));
    fs.add_ef(app, FID_ODF, odf());
    fs.add_ef(app, FID_TOKEN_INFO, token_info(generation, serial));
    fs.add_ef(app, FID_PRKDF, prkdf(generation));
    fs.add_ef(app, FID_CDF, cdf(generation));
    fs.add_ef(app, FID_DODF, dodf());
    fs.add_ef(app, FID_AODF, aodf());
    fs.add_ef(app, FID_CERT_SIG, certs.signature.clone());
    fs.add_ef(app, FID_CERT_AUTH, certs.authentication.clone());
    fs.add_ef(app, FID_ID_CARD, id_card(holder, data));
    fs.add_ef(app, FID_NAME_PS, name_ps(holder, data));
    fs.add_ef(app, FID_LANG_PS, lang_ps(data));
    fs.add_ef(app, FID_INFO_PS, info_ps(holder, data));
    fs.add_ef(app, FID_CPS_DATA, data.cps_data.clone());
    for n in 1..=SITUATION_COUNT {
        let content = match data.situations.get(n - 1) {
            Some(s) => situation(s),
            None => vec![0; UNUSED_SITUATION_LEN],
        };
        let ef = fs.add_ef(app, situation_fid(n), content);
        fs.set_read_needs_pin(ef);
    }
    if generation == Generation::Cps3 {
        super::acl::apply(&mut fs);
    }
    fs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pan_of_the_sample_serial() {
        assert_eq!(
            tlv(&[0x5A], &pan_bcd("2500577253")),
            [0x5A, 0x0A, 0x80, 0x25, 0, 0, 0x01, 0x25, 0x00, 0x57, 0x72, 0x53]
        );
    }

    #[test]
    fn der_primitives() {
        assert_eq!(integer(0), [0x02, 0x01, 0x00]);
        assert_eq!(integer(0x81), [0x02, 0x02, 0x00, 0x81]);
        assert_eq!(integer(2048), [0x02, 0x02, 0x08, 0x00]);
        assert_eq!(named_bits(&[]), [0x03, 0x01, 0x00]);
        assert_eq!(named_bits(&[FLAG_PRIVATE]), [0x03, 0x02, 0x07, 0x80]);
        assert_eq!(named_bits(&[FLAG_MODIFIABLE]), [0x03, 0x02, 0x06, 0x40]);
        assert_eq!(
            named_bits(&[USAGE_NON_REPUDIATION]),
            [0x03, 0x03, 0x06, 0x00, 0x40]
        );
        assert_eq!(named_bits(&[USAGE_DECRYPT, USAGE_SIGN]), [0x03, 0x02, 0x05, 0x60]);
        assert_eq!(named_bits(&[PIN_INITIALIZED]), [0x03, 0x02, 0x03, 0x08]);
        assert_eq!(named_bits(&ACCESS_FLAGS), [0x03, 0x02, 0x03, 0xB8]);
        assert_eq!(
            actua("20240115093000", "20301231235959"),
            [
                0xEC, 0x12, 0x81, 0x07, 0x20, 0x24, 0x01, 0x15, 0x09, 0x30, 0x00, 0x82, 0x07, 0x20, 0x30,
                0x12, 0x31, 0x23, 0x59, 0x59
            ]
        );
        assert_eq!(latin1("HÉLÈNE€"), b"H\xC9L\xC8NE?");
    }

    /// The PKCS#15 files are well-formed DER (each a sequence of TLVs).
    #[test]
    fn pkcs15_files_parse_as_der() {
        use der::{Decode, Reader, SliceReader};
        for generation in [Generation::Cps3, Generation::Cps4] {
            for file in [
                odf(),
                token_info(generation, "2500577253"),
                prkdf(generation),
                cdf(generation),
                dodf(),
                aodf(),
                ef_dir(),
            ] {
                let mut reader = SliceReader::new(&file).unwrap();
                while !reader.is_finished() {
                    der::Any::decode(&mut reader).unwrap();
                }
            }
        }
    }
}
