//! The CPS3 file system: MF with EF.DIR, EF.ATR and EF.SN.ICC, and the
//! PKCS#15 application DF 0001 holding the certificates and a minimal PKCS#15
//! structure (ODF, TokenInfo, PrKDF, CDF, AODF) that points at them.

use crate::card::fs::FileSystem;
use crate::card::tlv::{constructed, tlv};
use crate::pki::CardCertificates;

/// The PKCS#15 application (contact), label "CPX IAS".
pub const AID_PKCS15: [u8; 13] = [
    0xE8, 0x28, 0xBD, 0x08, 0x0F, 0x80, 0x25, 0x00, 0x00, 0x01, 0xFF, 0x00, 0x10,
];
/// The IAS application named in EF.ATR; modelled as the MF itself.
pub const AID_IAS: [u8; 8] = [0x80, 0x25, 0x00, 0x00, 0x01, 0xFF, 0x01, 0x00];
pub const APP_LABEL: &str = "CPX IAS";

pub const FID_EF_DIR: u16 = 0x2F00;
pub const FID_EF_ATR: u16 = 0x2F01;
pub const FID_EF_SN_ICC: u16 = 0xD003;
pub const SFI_EF_SN_ICC: u8 = 0x1C;
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

/// EF.ATR as read on a CPS3 (reference §1.3), status bytes `82 02 90 00` included.
pub const EF_ATR: [u8; 57] = [
    0x80, 0x43, 0x01, 0xB8, 0x46, 0x04, 0x04, 0xB0, 0xEC, 0xC1, 0x47, 0x03, 0x94, 0x01, 0x80, 0x4F,
    0x08, 0x80, 0x25, 0x00, 0x00, 0x01, 0xFF, 0x01, 0x00, 0xE0, 0x10, 0x02, 0x02, 0x01, 0x04, 0x02,
    0x02, 0x01, 0x04, 0x02, 0x02, 0x01, 0x00, 0x02, 0x02, 0x01, 0x00, 0x78, 0x08, 0x06, 0x06, 0x2B,
    0x81, 0x22, 0xF8, 0x78, 0x02, 0x82, 0x02, 0x90, 0x00,
];

/// The ANS issuer prefix of the card PAN.
const PAN_PREFIX: [u8; 5] = [0x80, 0x25, 0x00, 0x00, 0x01];

/// `8025000001` + the 10-digit serial, packed BCD.
pub fn pan_bcd(serial: &str) -> Vec<u8> {
    let mut out = PAN_PREFIX.to_vec();
    let digits: Vec<u8> = serial
        .bytes()
        .map(|b| b.wrapping_sub(b'0') & 0x0F)
        .collect();
    out.extend(
        digits
            .chunks(2)
            .map(|p| (p[0] << 4) | p.get(1).copied().unwrap_or(0x0F)),
    );
    out
}

/// `30 { 04 <path> }`: a PKCS#15 Path.
fn path(fids: &[u16]) -> Vec<u8> {
    let bytes: Vec<u8> = fids.iter().flat_map(|f| f.to_be_bytes()).collect();
    tlv(&[0x30], &tlv(&[0x04], &bytes))
}

fn utf8(text: &str) -> Vec<u8> {
    tlv(&[0x0C], text.as_bytes())
}

/// The PKCS#15 key / certificate iD: the application AID followed by 01 or 02.
pub fn object_id(n: u8) -> Vec<u8> {
    let mut id = AID_PKCS15.to_vec();
    id.push(n);
    id
}

fn odf() -> Vec<u8> {
    let entry = |tag: u8, fid: u16| tlv(&[tag], &path(&[0x3F00, FID_APP, fid]));
    [
        entry(0xA0, FID_PRKDF), // privateKeys
        entry(0xA4, FID_CDF),   // certificates
        entry(0xA8, FID_AODF),  // authObjects
    ]
    .concat()
}

fn token_info(serial: &str) -> Vec<u8> {
    constructed(
        &[0x30],
        &[
            tlv(&[0x02], &[0x00]),             // version
            tlv(&[0x04], &pan_bcd(serial)),    // serialNumber
            utf8("lecteur-sim"),               // manufacturerID
            tlv(&[0x80], b"CPS3 (simulated)"), // label
            tlv(&[0x03], &[0x06, 0x40]),       // tokenflags: loginRequired
        ],
    )
}

/// One private RSA key: label, private + auth id 01, iD, usage, key reference.
fn prkd(label: &str, id: u8, usage: &[u8], key_ref: u8) -> Vec<u8> {
    let common = constructed(
        &[0x30],
        &[
            utf8(label),
            tlv(&[0x03], &[0x07, 0x80]),
            tlv(&[0x04], &[0x01]),
        ],
    );
    let key = constructed(
        &[0x30],
        &[
            tlv(&[0x04], &object_id(id)),
            tlv(&[0x03], usage),
            tlv(&[0x02], &[0x00, key_ref]),
        ],
    );
    let rsa = tlv(
        &[0xA1],
        &constructed(
            &[0x30],
            &[path(&[0x3F00, FID_APP]), tlv(&[0x02], &[0x08, 0x00])],
        ),
    );
    constructed(&[0x30], &[common, key, rsa])
}

fn prkdf() -> Vec<u8> {
    [
        // KeyUsageFlags: nonRepudiation (bit 9).
        prkd("CPS_PRIV_SIG", 1, &[0x06, 0x00, 0x40], 0x81),
        // decrypt (1) + sign (2).
        prkd("CPS_PRIV_AUT", 2, &[0x05, 0x60], 0x82),
    ]
    .concat()
}

fn cd(label: &str, id: u8, fid: u16) -> Vec<u8> {
    constructed(
        &[0x30],
        &[
            constructed(&[0x30], &[utf8(label)]),
            tlv(&[0x30], &tlv(&[0x04], &object_id(id))),
            tlv(&[0xA1], &tlv(&[0x30], &path(&[0x3F00, FID_APP, fid]))),
        ],
    )
}

fn cdf() -> Vec<u8> {
    [
        cd("Certificat de Signature CPS", 1, FID_CERT_SIG),
        cd("Certificat d'Authentification CPS", 2, FID_CERT_AUTH),
    ]
    .concat()
}

/// The PIN: ASCII numeric, 4 to 8 digits, unpadded, global reference 01.
fn aodf() -> Vec<u8> {
    let attrs = constructed(
        &[0x30],
        &[
            tlv(&[0x03], &[0x03, 0x08]), // pinFlags: initialized
            tlv(&[0x0A], &[0x01]),       // pinType: ascii-numeric
            tlv(&[0x02], &[4]),          // minLength
            tlv(&[0x02], &[8]),          // storedLength
            tlv(&[0x02], &[8]),          // maxLength
            tlv(&[0x80], &[0x01]),       // pinReference
        ],
    );
    constructed(
        &[0x30],
        &[
            constructed(&[0x30], &[utf8("PIN CPS")]),
            tlv(&[0x30], &tlv(&[0x04], &[0x01])),
            tlv(&[0xA1], &attrs),
        ],
    )
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

/// Builds the whole tree for a card.
pub fn build(serial: &str, certs: &CardCertificates) -> FileSystem {
    let mut fs = FileSystem::new();
    let mf = FileSystem::MF;
    fs.set_aid(mf, &AID_IAS);
    fs.add_ef(mf, FID_EF_DIR, ef_dir());
    fs.add_ef(mf, FID_EF_ATR, EF_ATR.to_vec());
    let sn = fs.add_ef(mf, FID_EF_SN_ICC, tlv(&[0x5A], &pan_bcd(serial)));
    fs.set_sfi(sn, SFI_EF_SN_ICC);
    let app = fs.add_df(mf, Some(FID_APP), Some(&AID_PKCS15));
    fs.add_ef(app, FID_ODF, odf());
    fs.add_ef(app, FID_TOKEN_INFO, token_info(serial));
    fs.add_ef(app, FID_PRKDF, prkdf());
    fs.add_ef(app, FID_CDF, cdf());
    fs.add_ef(app, FID_AODF, aodf());
    fs.add_ef(app, FID_CERT_SIG, certs.signature.clone());
    fs.add_ef(app, FID_CERT_AUTH, certs.authentication.clone());
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

    /// The PKCS#15 files are well-formed DER (each a sequence of TLVs).
    #[test]
    fn pkcs15_files_parse_as_der() {
        use der::{Decode, Reader, SliceReader};
        for file in [
            odf(),
            token_info("2500577253"),
            prkdf(),
            cdf(),
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
