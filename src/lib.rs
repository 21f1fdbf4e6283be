//! lecteur: middleware for French health smart cards (CPS, carte Vitale).
//!
//! This library is lecteurd's internals, shared with its binaries (`lecteurd`,
//! `lecteur`, `lecteur-load`), its tests, benches and fuzz targets. It is not
//! an API for other programs and may change at any time: they talk to
//! lecteurd over its socket, through the `lecteur-client` crate, or use the
//! PKCS#11 module. Modules nothing outside uses are `pub(crate)`.
//!
//! Layers call downward only: [`api`] (socket or named pipe, JSON-RPC) → [`service`] (slots,
//! queues, events, PIN policy) → [`card`] (ATR, CPS, Vitale) → [`apdu`], whose
//! `Exchange` [`transport`] (PC/SC, serial, simulator) implements. [`daemon`]
//! assembles them; [`cli`] is lecteurd's command line; [`config`] the
//! administrator's file, [`systemd`] socket activation and readiness. The
//! API's contract is the `lecteur-proto` crate; its Rust client,
//! `lecteur-client`.
#![warn(missing_docs)]
pub mod apdu;
pub mod api;
pub mod card;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod dmp;
pub mod service;
// systemd on Unix; nothing to tell on Windows (the service manager is lecteurd's).
#[cfg(unix)]
pub mod systemd;
#[cfg(windows)]
#[path = "no_systemd.rs"]
pub mod systemd;
pub mod transport;
