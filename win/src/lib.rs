//! The Win32 calls lecteurd's named pipe needs that no well-kept crate wraps,
//! behind a safe API: the pipe's security descriptor from SDDL
//! ([`PipeSecurity`], [`create_pipe`]) and who is at the other end of a
//! connected instance ([`client_identity`]). The daemon crate forbids
//! `unsafe`; every `unsafe` block of the port is here, each with its SAFETY
//! argument. Empty on other systems.

#![deny(missing_docs)]

#[cfg(windows)]
mod identity;
#[cfg(windows)]
mod security;

#[cfg(windows)]
pub use identity::{client_identity, current_user_sid, ClientIdentity, IdentityError};
#[cfg(windows)]
pub use security::pipe_bytes_available;
#[cfg(windows)]
pub use security::{create_pipe, PipeSecurity};
