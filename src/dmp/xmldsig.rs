//! The enveloped XML-DSig signature of an assertion: the template and the
//! digest the card signs (`prepare`, `Prepared::finish`), and a verifier for
//! any signed assertion (`verify`): one Signature, one Reference to its parent
//! element by ID, transforms enveloped-signature + exc-c14n, RSA with SHA-256
//! (or the SHA-1 of older samples), key from the embedded certificate.

use super::c14n::{canonicalize, escape_attr, escape_text, EXC_C14N};
use super::vihf::Unsigned;
use super::DmpError;
use crate::card::profile::{VihfDigest, VihfSignature};
use base64::Engine;
use roxmltree::{Document, Node, ParsingOptions};
use sha2::Digest;

/// The XML-DSig namespace.
pub const DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";
const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
const RSA_SHA1: &str = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
const SHA1: &str = "http://www.w3.org/2000/09/xmldsig#sha1";
/// Far above any assertion; bounds the work on hostile input.
pub const MAX_XML: usize = 1 << 20;
const MAX_NODES: u32 = 50_000;
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn parse(xml: &str) -> Result<Document<'_>, DmpError> {
    if xml.len() > MAX_XML {
        return Err(DmpError::Xml(format!("larger than {MAX_XML} bytes")));
    }
    let options = ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_NODES,
        ..ParsingOptions::default()
    };
    Document::parse_with_options(xml, options).map_err(|e| DmpError::Xml(e.to_string()))
}

fn digest(alg: VihfDigest, data: &[u8]) -> Vec<u8> {
    match alg {
        VihfDigest::Sha256 => sha2::Sha256::digest(data).to_vec(),
        VihfDigest::Sha1 => sha1::Sha1::digest(data).to_vec(),
    }
}

/// A signed assertion but for the signature value.
pub struct Prepared {
    head: String,
    tail: String,
    signed_info_digest: [u8; 32],
}

impl Prepared {
    /// SHA-256 of the canonical SignedInfo: what the card signs (RSA-SHA256).
    pub fn digest(&self) -> &[u8; 32] {
        &self.signed_info_digest
    }

    /// The signed assertion, with the card's PKCS#1 v1.5 signature.
    pub fn finish(self, signature: &[u8]) -> String {
        let mut xml = self.head;
        xml.push_str(&B64.encode(signature));
        xml.push_str(&self.tail);
        xml
    }
}

/// Digests the assertion and lays out its Signature, right after Issuer.
pub fn prepare(u: &Unsigned, cert_der: &[u8], suite: &VihfSignature) -> Result<Prepared, DmpError> {
    let (Some(before), Some(after)) = (u.xml.get(..u.signature_at), u.xml.get(u.signature_at..)) else {
        return Err(DmpError::Structure("signature position".into()));
    };
    let doc = parse(&u.xml)?;
    let canonical = canonicalize(doc.root_element(), None, &suite.inclusive_prefixes)?;
    let digest_uri = match suite.digest {
        VihfDigest::Sha256 => SHA256,
        VihfDigest::Sha1 => SHA1,
    };
    let mut head = String::with_capacity(u.xml.len() + 4096);
    head.push_str(before);
    head.push_str("<Signature xmlns=\"");
    head.push_str(DSIG);
    head.push_str("\"><SignedInfo><CanonicalizationMethod Algorithm=\"");
    head.push_str(EXC_C14N);
    head.push_str("\"/><SignatureMethod Algorithm=\"");
    head.push_str(RSA_SHA256);
    head.push_str("\"/><Reference URI=\"#");
    escape_attr(&u.id, &mut head);
    head.push_str("\"><Transforms><Transform Algorithm=\"");
    head.push_str(ENVELOPED);
    head.push_str("\"/><Transform Algorithm=\"");
    head.push_str(EXC_C14N);
    head.push('"');
    if suite.inclusive_prefixes.is_empty() {
        head.push_str("/>");
    } else {
        head.push_str("><ec:InclusiveNamespaces xmlns:ec=\"");
        head.push_str(EXC_C14N);
        head.push_str("\" PrefixList=\"");
        escape_attr(&suite.inclusive_prefixes.join(" "), &mut head);
        head.push_str("\"/></Transform>");
    }
    head.push_str("</Transforms><DigestMethod Algorithm=\"");
    head.push_str(digest_uri);
    head.push_str("\"/><DigestValue>");
    head.push_str(&B64.encode(digest(suite.digest, canonical.as_bytes())));
    head.push_str("</DigestValue></Reference></SignedInfo><SignatureValue>");
    let mut tail = String::from("</SignatureValue><KeyInfo><X509Data><X509Certificate>");
    escape_text(&B64.encode(cert_der), &mut tail);
    tail.push_str("</X509Certificate></X509Data></KeyInfo></Signature>");
    tail.push_str(after);

    // SignedInfo as the verifier will canonicalise it, in its final place.
    let whole = format!("{head}{tail}");
    let doc = parse(&whole)?;
    let signed_info = doc
        .descendants()
        .find(|n| n.has_tag_name((DSIG, "SignedInfo")))
        .ok_or_else(|| DmpError::Structure("SignedInfo".into()))?;
    let canonical = canonicalize(signed_info, None, &[])?;
    Ok(Prepared {
        head,
        tail,
        signed_info_digest: sha2::Sha256::digest(canonical.as_bytes()).into(),
    })
}

/// What a good signature covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The ID of the signed element (the Signature's parent).
    pub id: String,
    /// The certificate whose key made the signature (not checked for trust here).
    pub certificate_der: Vec<u8>,
    /// The SignatureMethod's algorithm URI.
    pub signature_method: &'static str,
    /// The Reference's DigestMethod algorithm URI.
    pub digest_method: &'static str,
}

/// The only dsig child `name` of `n`.
fn child<'a, 'i>(n: Node<'a, 'i>, name: &str) -> Result<Node<'a, 'i>, DmpError> {
    let mut it = n.children().filter(|c| c.has_tag_name((DSIG, name)));
    match (it.next(), it.next()) {
        (Some(c), None) => Ok(c),
        (None, _) => Err(DmpError::Structure(format!("no {name}"))),
        _ => Err(DmpError::Structure(format!("several {name}"))),
    }
}

fn algorithm<'a>(n: Node<'a, '_>) -> Result<&'a str, DmpError> {
    n.attribute("Algorithm")
        .ok_or_else(|| DmpError::Structure(format!("{} without Algorithm", n.tag_name().name())))
}

/// The base64 content of an element (line breaks and comments allowed).
fn base64_of(n: Node<'_, '_>) -> Result<Vec<u8>, DmpError> {
    let text: String = n
        .children()
        .filter(Node::is_text)
        .filter_map(|t| t.text())
        .flat_map(str::chars)
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    B64.decode(text)
        .map_err(|e| DmpError::Structure(format!("{} is not base64: {e}", n.tag_name().name())))
}

/// The PrefixList of an exc-c14n method or transform, if it has one.
fn inclusive_prefixes(method: Node<'_, '_>) -> Vec<String> {
    method
        .children()
        .find(|c| c.has_tag_name((EXC_C14N, "InclusiveNamespaces")))
        .and_then(|c| c.attribute("PrefixList"))
        .map(|l| l.split_ascii_whitespace().map(String::from).collect())
        .unwrap_or_default()
}

fn id_of<'a>(n: Node<'a, '_>) -> Option<&'a str> {
    ["ID", "Id", "id"].into_iter().find_map(|a| n.attribute(a))
}

/// Verifies an enveloped signature: the digest of the signed element, then
/// the RSA signature of SignedInfo with the embedded certificate's key.
pub fn verify(xml: &str) -> Result<Verified, DmpError> {
    let doc = parse(xml)?;
    let signatures: Vec<Node<'_, '_>> = doc
        .descendants()
        .filter(|n| n.has_tag_name((DSIG, "Signature")))
        .collect();
    let [signature] = signatures[..] else {
        return Err(DmpError::Structure(format!(
            "{} Signature elements, expected one",
            signatures.len()
        )));
    };
    let signed_info = child(signature, "SignedInfo")?;
    let c14n = child(signed_info, "CanonicalizationMethod")?;
    if algorithm(c14n)? != EXC_C14N {
        return Err(DmpError::Unsupported(format!(
            "canonicalisation {}",
            algorithm(c14n)?
        )));
    }
    let (signature_method, scheme_sha256) = match algorithm(child(signed_info, "SignatureMethod")?)? {
        RSA_SHA256 => (RSA_SHA256, true),
        RSA_SHA1 => (RSA_SHA1, false),
        other => return Err(DmpError::Unsupported(format!("signature method {other}"))),
    };
    let reference = child(signed_info, "Reference")?;
    let id = reference
        .attribute("URI")
        .and_then(|u| u.strip_prefix('#'))
        .filter(|id| !id.is_empty())
        .ok_or_else(|| DmpError::Unsupported("a Reference URI other than #id".into()))?;
    let transforms: Vec<Node<'_, '_>> = child(reference, "Transforms")?
        .children()
        .filter(Node::is_element)
        .collect();
    let prefixes = match transforms[..] {
        [t1, t2]
            if t1.has_tag_name((DSIG, "Transform"))
                && t2.has_tag_name((DSIG, "Transform"))
                && algorithm(t1)? == ENVELOPED
                && algorithm(t2)? == EXC_C14N =>
        {
            inclusive_prefixes(t2)
        }
        _ => {
            return Err(DmpError::Unsupported(
                "transforms other than enveloped-signature then exc-c14n".into(),
            ))
        }
    };
    let (digest_method, digest_alg) = match algorithm(child(reference, "DigestMethod")?)? {
        SHA256 => (SHA256, VihfDigest::Sha256),
        SHA1 => (SHA1, VihfDigest::Sha1),
        other => return Err(DmpError::Unsupported(format!("digest method {other}"))),
    };
    let expected = base64_of(child(reference, "DigestValue")?)?;

    // The one element with that ID, and it must hold the signature.
    let targets: Vec<Node<'_, '_>> = doc.descendants().filter(|n| id_of(*n) == Some(id)).collect();
    let [target] = targets[..] else {
        return Err(DmpError::Structure(format!(
            "{} elements with the referenced ID",
            targets.len()
        )));
    };
    if signature.parent_element() != Some(target) {
        return Err(DmpError::Structure(
            "the Signature is not a child of the element it signs".into(),
        ));
    }
    let canonical = canonicalize(target, Some(signature.id()), &prefixes)?;
    if digest(digest_alg, canonical.as_bytes()) != expected {
        return Err(DmpError::DigestMismatch);
    }

    // With several certificates, the first is the signer's.
    let certificate = child(child(signature, "KeyInfo")?, "X509Data")?
        .children()
        .find(|c| c.has_tag_name((DSIG, "X509Certificate")))
        .ok_or_else(|| DmpError::Structure("no X509Certificate".into()))?;
    let certificate_der = base64_of(certificate)?;
    let key = public_key(&certificate_der)?;
    let value = base64_of(child(signature, "SignatureValue")?)?;
    let signed = canonicalize(signed_info, None, &inclusive_prefixes(c14n))?;
    let ok = if scheme_sha256 {
        let h = sha2::Sha256::digest(signed.as_bytes());
        key.verify(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), &h, &value)
    } else {
        let h = sha1::Sha1::digest(signed.as_bytes());
        key.verify(rsa::Pkcs1v15Sign::new::<sha1::Sha1>(), &h, &value)
    };
    ok.map_err(|_| DmpError::BadSignature)?;
    Ok(Verified {
        id: id.to_string(),
        certificate_der,
        signature_method,
        digest_method,
    })
}

fn public_key(cert_der: &[u8]) -> Result<rsa::RsaPublicKey, DmpError> {
    use der::{Decode, Encode};
    use rsa::pkcs8::DecodePublicKey;
    let bad = |e: &dyn std::fmt::Display| DmpError::Certificate(e.to_string());
    let cert = x509_cert::Certificate::from_der(cert_der).map_err(|e| bad(&e))?;
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| bad(&e))?;
    rsa::RsaPublicKey::from_public_key_der(&spki).map_err(|e| bad(&e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::profile::{Profiles, VihfProfile};
    use crate::dmp::vihf::{build, tests as v, Code};
    use rsa::pkcs8::DecodePrivateKey;

    const CA_KEY: &str = include_str!("../../firmware-sim/fixtures/ca.key.pem");
    const CA: &[u8] = include_bytes!("../../firmware-sim/fixtures/ca.cert.der");

    /// Signs with a software key standing in for the card (the CA's: its
    /// certificate is at hand).
    fn signed(profile: &VihfProfile) -> String {
        let key = rsa::RsaPrivateKey::from_pkcs8_pem(CA_KEY).unwrap();
        let c = Code {
            code: "10".into(),
            display: Some("Médecin".into()),
        };
        let r = v::request();
        let u = build(&v::input(&c, &r), profile).unwrap();
        let p = prepare(&u, CA, &profile.signature).unwrap();
        let sig = key
            .sign(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), p.digest())
            .unwrap();
        p.finish(&sig)
    }

    #[test]
    fn a_signed_assertion_verifies_and_a_changed_one_does_not() {
        let profile = &Profiles::builtin().unwrap().vihf;
        let xml = signed(profile);
        let at = xml.find("<Signature").unwrap();
        assert!(xml[..at].ends_with("</saml2:Issuer>"));
        let ok = verify(&xml).unwrap();
        assert_eq!(ok.id, "_ce088e5a-e31d-42d0-ba37-fda5fcbc889d");
        assert_eq!(ok.certificate_der, CA);
        assert_eq!((ok.signature_method, ok.digest_method), (RSA_SHA256, SHA256));

        let changed = xml.replace(">499900063480001<", ">499900063480002<");
        assert_eq!(verify(&changed), Err(DmpError::DigestMismatch));
        // Whitespace between elements is content too.
        let changed = xml.replace("</saml2:Subject>", "</saml2:Subject> ");
        assert_eq!(verify(&changed), Err(DmpError::DigestMismatch));
        let truncated = xml.replace(&B64.encode(CA), &B64.encode(&CA[..CA.len() - 1]));
        assert!(matches!(verify(&truncated), Err(DmpError::Certificate(_))));
        let sv = xml.find("<SignatureValue>").unwrap() + 16;
        let mut flipped = xml.clone();
        flipped.replace_range(sv..sv + 4, "AAAA");
        assert_eq!(verify(&flipped), Err(DmpError::BadSignature));
    }

    #[test]
    fn the_suite_variants_verify() {
        let mut profile = (*Profiles::builtin().unwrap().vihf).clone();
        profile.signature.digest = VihfDigest::Sha1;
        profile.signature.inclusive_prefixes = ["ds", "saml", "#default", "xsi"].map(String::from).to_vec();
        profile.validity_seconds = 300;
        let xml = signed(&profile);
        assert!(xml.contains("PrefixList=\"ds saml #default xsi\""));
        assert!(xml.contains("NotOnOrAfter=\"2019-06-26T08:13:55.469Z\""));
        assert_eq!(verify(&xml).unwrap().digest_method, SHA1);
    }

    #[test]
    fn wrapped_or_odd_documents_are_refused() {
        let profile = &Profiles::builtin().unwrap().vihf;
        let xml = signed(profile);
        // A second element with the same ID.
        let twice = xml.replace(
            "</saml2:Assertion>",
            "<x ID=\"_ce088e5a-e31d-42d0-ba37-fda5fcbc889d\"/></saml2:Assertion>",
        );
        assert!(matches!(verify(&twice), Err(DmpError::Structure(_))));
        let dtd = format!("<!DOCTYPE a [<!ENTITY e \"x\">]>{xml}");
        assert!(matches!(verify(&dtd), Err(DmpError::Xml(_))));
        assert!(matches!(verify("<a/>"), Err(DmpError::Structure(_))));
        assert!(matches!(verify(&xml[..xml.len() - 3]), Err(DmpError::Xml(_))));
        let sha512 = xml.replace(SHA256, "http://www.w3.org/2001/04/xmlenc#sha512");
        assert!(matches!(verify(&sha512), Err(DmpError::Unsupported(_))));
        let whole = xml.replace("URI=\"#_ce088e5a-e31d-42d0-ba37-fda5fcbc889d\"", "URI=\"\"");
        assert!(matches!(verify(&whole), Err(DmpError::Unsupported(_))));
        for cut in (0..xml.len()).step_by(97) {
            if xml.is_char_boundary(cut) {
                assert!(verify(&xml[..cut]).is_err());
            }
        }
    }

    /// Damaged assertions (bytes and XML fragments at random places) give
    /// errors, never a panic; only the intact one verifies.
    #[test]
    fn damaged_assertions_never_panic() {
        let profile = &Profiles::builtin().unwrap().vihf;
        let xml = signed(profile);
        let fragments = [
            "<x/>",
            "</saml2:Subject>",
            " xmlns:a=\"urn:a\"",
            " xmlns=\"\"",
            "&amp;",
            "&#xD;",
            "<!-- c -->",
            "<![CDATA[<&>]]>",
            "<?pi x?>",
            "\r\n",
            "<Signature xmlns=\"http://www.w3.org/2000/09/xmldsig#\"/>",
        ];
        let mut rng = crate::card::testutil::Rng::new(0x5EED);
        let mut verified = 0;
        for i in 0..3000 {
            let damaged = if i % 2 == 0 {
                rng.mutate(xml.as_bytes())
            } else {
                let mut s = xml.clone();
                let mut at = rng.below(s.len());
                while !s.is_char_boundary(at) {
                    at -= 1;
                }
                s.insert_str(at, fragments[rng.below(fragments.len())]);
                s.into_bytes()
            };
            if let Ok(text) = std::str::from_utf8(&damaged) {
                verified += usize::from(verify(text).is_ok());
            }
        }
        // A few damages are invisible to c14n (a comment, an inserted PI
        // outside the root...); most are caught.
        assert!(verified < 300, "{verified}");
    }
}
