//! The installed system: the command line, the Debian package, udev rules and systemd units.
//! One test binary (it links the crate once); the harness is tests/common.

#[path = "../common/mod.rs"]
mod common;

mod cli;
mod layers;
mod system;
