//! The DMP's VIHF assertion, as pure code (no card): the SAML builder
//! (`vihf`), the certificate subject in RFC 2253 form (`dn`), exclusive XML
//! canonicalisation (`c14n`), and the enveloped XML-DSig signature, template
//! and verifier (`xmldsig`). The service gathers the card data and has the
//! card sign the digest `xmldsig::Prepared` gives.

pub(crate) mod c14n;
pub(crate) mod dn;
pub mod vihf;
pub mod xmldsig;

/// What can go wrong building or verifying an assertion. Every input is
/// untrusted: a malformed one is one of these, never a panic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DmpError {
    /// A value of the request cannot go into the assertion.
    #[error("{0}")]
    Input(String),
    /// Not well-formed XML, or too big or too deep.
    #[error("XML: {0}")]
    Xml(String),
    /// The signature is not laid out as an enveloped XML-DSig signature should be.
    #[error("signature structure: {0}")]
    Structure(String),
    /// An algorithm or form this verifier does not handle.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// The certificate cannot be read (its subject, for the Issuer).
    #[error("certificate: {0}")]
    Certificate(String),
    /// The signed element's digest is not the one signed.
    #[error("the digest of the signed element does not match (the assertion was changed)")]
    DigestMismatch,
    /// The signature value does not verify.
    #[error("the signature value does not verify with the embedded certificate")]
    BadSignature,
}
