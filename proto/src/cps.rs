//! The CPS methods' params and results.

use crate::bytes::{b64, b64_opt};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::ops::RangeInclusive;
use zeroize::Zeroizing;

/// The PIN lengths of lecteur's built-in CPS profiles (CPS3 and CPS4):
/// what a PKCS#11 token announces (lecteur's tests check the profiles agree).
pub const PIN_LENGTH: RangeInclusive<usize> = 4..=8;

fn is_false(b: &bool) -> bool {
    !*b
}

/// A PIN in a request: 4 to 8 digits.
pub(crate) const PIN: &str = "^[0-9]{4,8}$";

/// A struct of the params of a method that signs (`cps.sign`,
/// `cps.authenticate`, `dmp.vihf`): the reader and the PIN policy's fields
/// (the same for all three), then the method's own.
macro_rules! signing_params {
    ($(#[$meta:meta])* pub struct $name:ident { $($fields:tt)* }) => {
        $(#[$meta])*
        pub struct $name {
            /// Reader id (e.g. `pcsc:0`, `serial:0.1`, `sim:1`) or name. May be left out when exactly one slot holds a card of the kind needed.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub reader: Option<String>,
            /// With it, verify and sign in one call; without, this connection must have verified the PIN.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(with = "String", regex(pattern = $crate::cps::PIN))]
            pub pin: Option<Zeroizing<String>>,
            /// Verify with the reader's keypad first.
            #[serde(default, skip_serializing_if = "std::ops::Not::not")]
            pub pinpad: bool,
            /// Needed to present a PIN when one try is left (else pin_last_try, and nothing is sent).
            #[serde(default, skip_serializing_if = "std::ops::Not::not")]
            pub allow_last_try: bool,
            $($fields)*
        }
    };
}
pub(crate) use signing_params;

/// `cps.verify_pin`: `pin` or `pinpad: true`, never both.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyPinParams {
    /// Reader id (e.g. `pcsc:0`, `serial:0.1`, `sim:1`) or name. May be left out when exactly one slot holds a card of the kind needed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reader: Option<String>,
    /// The holder's PIN (or give pinpad: true). Tries left are read first; never retried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String", regex(pattern = PIN))]
    pub pin: Option<Zeroizing<String>>,
    /// The holder types the PIN on the reader's keypad; it never crosses the host.
    #[serde(default, skip_serializing_if = "is_false")]
    pub pinpad: bool,
    /// Needed to present a PIN when one try is left (else pin_last_try, and nothing is sent).
    #[serde(default, skip_serializing_if = "is_false")]
    pub allow_last_try: bool,
}

/// `cps.change_pin`: the current PIN and the new one.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePinParams {
    /// Reader id (e.g. `pcsc:0`, `serial:0.1`, `sim:1`) or name. May be left out when exactly one slot holds a card of the kind needed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reader: Option<String>,
    /// The current PIN.
    #[schemars(with = "String", regex(pattern = PIN))]
    pub old: Zeroizing<String>,
    /// The new PIN (4 to 8 digits).
    #[schemars(with = "String", regex(pattern = PIN))]
    pub new: Zeroizing<String>,
    /// Needed to present a PIN when one try is left (else pin_last_try, and nothing is sent).
    #[serde(default, skip_serializing_if = "is_false")]
    pub allow_last_try: bool,
}

/// `cps.unblock_pin`: the PUK and the new PIN.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UnblockPinParams {
    /// Reader id (e.g. `pcsc:0`, `serial:0.1`, `sim:1`) or name. May be left out when exactly one slot holds a card of the kind needed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reader: Option<String>,
    /// The 8-digit PUK.
    #[schemars(with = "String", regex(pattern = "^[0-9]{8}$"))]
    pub puk: Zeroizing<String>,
    /// The new PIN (4 to 8 digits).
    #[schemars(with = "String", regex(pattern = PIN))]
    pub new: Zeroizing<String>,
}

/// Which CPS key: `signature` is the non-repudiation key (`CPS_PRIV_SIG`),
/// `authentication` the TLS client key (`CPS_PRIV_AUT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum KeyUsage {
    /// The non-repudiation key, `CPS_PRIV_SIG`.
    Signature,
    /// The TLS client authentication key, `CPS_PRIV_AUT`.
    Authentication,
}

impl KeyUsage {
    /// As on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyUsage::Signature => "signature",
            KeyUsage::Authentication => "authentication",
        }
    }
}

/// `cps.sign`'s algorithm: rsa-pss-sha256 (salt 32, MGF1-SHA-256) on a CPS4 only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum SignAlgorithm {
    /// RSA PKCS#1 v1.5 over SHA-256 (the default).
    #[default]
    #[serde(rename = "rsa-pkcs1-sha256")]
    RsaPkcs1Sha256,
    /// RSA-PSS over SHA-256, salt 32, MGF1-SHA-256: a CPS4 only.
    #[serde(rename = "rsa-pss-sha256")]
    RsaPssSha256,
}

/// rsa-pkcs1 (the DigestInfo names the hash; rsa-pkcs1-sha256 is taken as the same) or rsa-pss-sha256 (salt 32, MGF1-SHA-256, CPS4 only, over a SHA-256 DigestInfo or data).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum AuthAlgorithm {
    /// RSA PKCS#1 v1.5 over the DigestInfo, whatever hash it names (the default).
    #[default]
    #[serde(rename = "rsa-pkcs1")]
    RsaPkcs1,
    /// Taken as `rsa-pkcs1`.
    #[serde(rename = "rsa-pkcs1-sha256")]
    RsaPkcs1Sha256,
    /// RSA-PSS over SHA-256, salt 32, MGF1-SHA-256: a CPS4 only.
    #[serde(rename = "rsa-pss-sha256")]
    RsaPssSha256,
}

signing_params! {
/// `cps.sign`: `data` (hashed with SHA-256 by lecteurd) or a SHA-256 `digest`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SignParams {
    /// The key that signs: `signature` (non-repudiation) or `authentication` (TLS client).
    pub key: KeyUsage,
    /// Default `rsa-pkcs1-sha256`; `rsa-pss-sha256` (salt 32, MGF1-SHA-256) on a CPS4 only.
    #[serde(default)]
    pub algorithm: SignAlgorithm,
    /// Data to hash (SHA-256) and sign. Exactly one of data_b64 and digest_b64.
    #[serde(
        rename = "data_b64",
        default,
        with = "b64_opt",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "String", extend("contentEncoding" = "base64"))]
    pub data: Option<Vec<u8>>,
    /// A 32-byte SHA-256 digest.
    #[serde(
        rename = "digest_b64",
        default,
        with = "b64_opt",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "String", extend("contentEncoding" = "base64"))]
    pub digest: Option<Vec<u8>>,
}
}

signing_params! {
/// `cps.authenticate`: `data` (hashed with SHA-256, wrapped in its
/// DigestInfo) or a DigestInfo ([`crate::parse_digest_info`] says which).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthenticateParams {
    /// Default `rsa-pkcs1` (the DigestInfo names the hash); `rsa-pss-sha256` (salt 32, MGF1-SHA-256) on a CPS4 only, over a SHA-256 DigestInfo or data.
    #[serde(default)]
    pub algorithm: AuthAlgorithm,
    /// Data to hash with SHA-256 and wrap in the SHA-256 DigestInfo. Exactly one of data_b64 and digest_info_b64.
    #[serde(
        rename = "data_b64",
        default,
        with = "b64_opt",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "String", extend("contentEncoding" = "base64"))]
    pub data: Option<Vec<u8>>,
    /// A DER DigestInfo (PKCS#1: AlgorithmIdentifier with NULL parameters, then the digest), as a TLS 1.2 client signs: SHA-1, SHA-224, SHA-256, SHA-384 or SHA-512.
    #[serde(
        rename = "digest_info_b64",
        default,
        with = "b64_opt",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "String", extend("contentEncoding" = "base64"))]
    pub digest_info: Option<Vec<u8>>,
}
}

/// The answer of a PIN method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TriesLeft {
    /// The PIN's tries left after the call: the maximum (the counter is reset) after a success.
    pub tries_left: u8,
}

/// `cps.logout`'s answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LoggedOut {
    /// True when this connection had verified the PIN: that verification is
    /// closed (card reset). False when it had none.
    pub logged_out: bool,
}

/// A signature and the certificate of the key that made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Signature {
    /// The raw RSA signature, as long as the modulus (256 bytes for 2048 bits).
    #[serde(rename = "signature_b64", with = "b64")]
    #[schemars(with = "String", extend("contentEncoding" = "base64"))]
    pub signature: Vec<u8>,
    /// The certificate of the key that signed, DER.
    #[serde(rename = "certificate_der_b64", with = "b64")]
    #[schemars(with = "String", extend("contentEncoding" = "base64"))]
    pub certificate_der: Vec<u8>,
}

/// One certificate of `cps.certificates`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Certificate {
    /// The key it certifies: `signature` or `authentication`.
    pub usage: KeyUsage,
    /// The subject, RFC 4514.
    pub subject: String,
    /// The issuer, RFC 4514.
    pub issuer: String,
    /// Start of validity, UTC: `YYYY-MM-DDTHH:MM:SSZ`.
    pub not_before: String,
    /// End of validity, UTC: `YYYY-MM-DDTHH:MM:SSZ`.
    pub not_after: String,
    /// `not_after` had passed when lecteurd read the card (a read is kept while the card stays in its slot).
    pub expired: bool,
    /// The RSA modulus size in bits.
    pub key_bits: usize,
    /// The certificate, DER.
    #[serde(rename = "der_b64", with = "b64")]
    #[schemars(with = "String", extend("contentEncoding" = "base64"))]
    pub der: Vec<u8>,
}

impl std::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Certificate")
            .field("usage", &self.usage)
            .field("not_after", &self.not_after)
            .field("expired", &self.expired)
            .finish_non_exhaustive()
    }
}

/// A CPS data object as the card holds it (BER-TLV), with its PKCS#15 label.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DataObject {
    /// Its PKCS#15 label (`CPS_ID_CARD`, `CPS_ACTIVITY_01_PS`, …).
    pub label: String,
    /// Shown only once this connection has verified the PIN.
    pub private: bool,
    /// The object as the card holds it (BER-TLV).
    #[serde(rename = "value_b64", with = "b64")]
    #[schemars(with = "String", extend("contentEncoding" = "base64"))]
    pub value: Vec<u8>,
}

impl std::fmt::Debug for DataObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The value may hold the holder's name: never in logs.
        f.debug_struct("DataObject")
            .field("label", &self.label)
            .field("private", &self.private)
            .finish_non_exhaustive()
    }
}

/// `cps.data_objects`'s answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DataObjects {
    /// The objects the card holds (an absent one is left out).
    pub objects: Vec<DataObject>,
}

/// A code with its label from the nomenclatures (`label` null for a code
/// the table does not know).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Coded {
    /// The code as the card holds it.
    pub code: String,
    /// Its label in the nomenclature; `null` for a code the table does not know.
    pub label: Option<String>,
}

/// EF_ACTUA decoded: the last update's start and end (card local time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Actua {
    /// `YYYY-MM-DDThh:mm:ss`; lecteurd always gives it with `actua`.
    pub start: Option<String>,
    /// `YYYY-MM-DDThh:mm:ss`; lecteurd always gives it with `actua`.
    pub end: Option<String>,
}

/// `cps.info`'s card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CpsCard {
    /// `cps3`, `cps3_contactless`, `cps4`.
    pub kind: String,
    /// The ATR in upper-case hex.
    pub atr: String,
    /// The card serial number (EF.SN.ICC's PAN, without the ANS issuer prefix `8025000001`): digits.
    pub serial: String,
    /// `cps3` or `cps4`.
    pub generation: String,
    /// G02: CPS, CPF, CPE, CPA.
    pub card_type: Option<Coded>,
    /// G01: real or test card.
    pub category: Option<Coded>,
    /// Raw `AAAAMMJJ` from CPS_ID_CARD; `null` when absent.
    pub validity_start: Option<String>,
    /// Raw `AAAAMMJJ` from CPS_ID_CARD; `null` when absent.
    pub validity_end: Option<String>,
    /// EF_ACTUA, the last update of the card; `null` when absent or not decodable.
    pub actua: Option<Actua>,
}

/// The card holder, from CPS_NAME_PS or else the certificate (then a
/// warning says so). Each field is `null` when neither gives it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Holder {
    /// Identifiant national PS: type code + number (`8` + RPPS).
    pub national_id: Option<String>,
    /// G08: `8` RPPS, `0` ADELI, …
    pub id_type: Option<Coded>,
    /// The RPPS or ADELI number, without the type prefix.
    pub id_number: Option<String>,
    /// Nom d'exercice.
    pub surname: Option<String>,
    /// Prénom d'exercice.
    pub given_name: Option<String>,
    /// Civility code, raw (its table is not public).
    pub civility: Option<String>,
}

impl std::fmt::Debug for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Holder { .. }")
    }
}

/// The PIN's tries, as lecteurd last knew them (read with the card, updated by every PIN operation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PinTries {
    /// 0 when blocked (or, on a CPS3, when the PIN usage counter is spent).
    pub tries_left: u8,
    /// Tries after a correct PIN.
    pub tries_max: u8,
}

/// A situation d'exercice (`CPS_ACTIVITY_xx_PS`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Situation {
    /// 1 … 16.
    pub index: u8,
    /// Raison sociale.
    pub structure_name: Option<String>,
    /// Identifiant de la structure, of the type `structure_id_type` says.
    pub structure_id: Option<String>,
    /// G07: FINESS, SIREN, SIRET, cabinet ADELI/RPPS.
    pub structure_id_type: Option<Coded>,
    /// R02 `SAxx`.
    pub sector: Option<Coded>,
    /// Mode d'exercice, raw.
    pub mode: Option<String>,
    /// Statut d'exercice, raw.
    pub status: Option<String>,
}

impl std::fmt::Debug for Situation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Situation {{ index: {}, .. }}", self.index)
    }
}

/// `cps.info`'s answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CpsInfo {
    /// The card.
    pub card: CpsCard,
    /// Who holds it: from CPS_NAME_PS, else the certificate (a warning says so).
    pub holder: Holder,
    /// G15.
    pub profession: Option<Coded>,
    /// Raw, from CPS_INFO_PS.
    pub professional_category: Option<String>,
    /// R01.
    pub specialty: Option<Coded>,
    /// The signature certificate, then the authentication one.
    pub certificates: Vec<Certificate>,
    /// The PIN's tries.
    pub pin: PinTries,
    /// `null` until this connection has verified the PIN.
    pub situations: Option<Vec<Situation>>,
    /// A CPS3's CPS2ter volet, raw; `[]` on a CPS4; `null` until this
    /// connection has verified the PIN.
    pub cps2ter_objects: Option<Vec<DataObject>>,
    /// What could not be read, or came from a fallback (e.g. `holder taken from the certificate`): for people, not to be parsed.
    pub warnings: Vec<String>,
}
