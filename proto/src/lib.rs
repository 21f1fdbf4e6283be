//! The typed contract of lecteurd's socket API (JSON-RPC 2.0, one object a
//! line, docs/api.md): every method with its params and result
//! ([`method`]), the notifications ([`event`]), the one error table
//! ([`ErrorKind`]) and the frames. lecteurd parses requests into
//! [`Request`]; `lecteur-client` sends them. Bytes are held as bytes and
//! written as base64 (`*_b64` fields) by serde adapters ([`bytes`]).
//!
//! Adding a method: one line in the `methods!` list of [`method`] (with its
//! params and result types here), then its arm in lecteurd's
//! `api::methods::call` (the match on [`Request`] is exhaustive).

#![deny(missing_docs)]

pub mod bytes;
pub mod cps;
mod digest_info;
pub mod dmp;
pub mod error;
pub mod event;
pub mod frame;
pub mod method;
pub mod openrpc;
pub mod socket;
pub mod system;
pub mod trace;
pub mod vitale;

pub use digest_info::{parse_digest_info, DigestAlg};
pub use error::{ErrorKind, RpcError};
pub use method::{Method, Request, METHODS};
