//! lecteurd against simulated readers: the socket API, the CLI's calls, serial links, the simulated PIN pad, privacy, traces, load.
//! One test binary (it links the crate once); the harness is tests/common.

#[path = "../common/mod.rs"]
mod common;

mod access;
mod api;
mod authenticate;
mod cards;
mod eprescription;
mod examples;
mod faults_serial;
mod load;
mod openrpc;
mod pinpad;
mod privacy;
mod props;
mod public_facts;
mod serial;
mod trace;
mod vihf;
mod vitale_cache;
