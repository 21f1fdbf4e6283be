//! Through a real pcscd: vpcd readers, pcscd's faults and restarts, OpenSC, and `lecteur diag` on the PC/SC side.
//! One test binary (it links the crate once); the harness is tests/common.

#[path = "../common/mod.rs"]
mod common;

mod diag;
mod faults_pcsc;
mod opensc;
mod pcsc;
