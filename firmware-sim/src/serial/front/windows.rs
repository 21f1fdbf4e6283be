//! No pty on Windows: [`Reader::open`] fails with
//! [`SerialError::Unsupported`]. The firmware, the link and the faults are
//! shared and usable in-process; a COM-port front-end (a null-modem pair such
//! as com0com) would be the Windows counterpart and is not written.

use super::{pace, Faults, Keypad, Profile, SerialError};
use crate::reader::SimReader;
use std::convert::Infallible;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// Never built on Windows; the methods mirror the Unix reader's.
pub struct Reader {
    never: Infallible,
}

impl Reader {
    pub fn open(_link_path: &Path, _profile: Profile, _reader: SimReader) -> Result<Self, SerialError> {
        Err(SerialError::Unsupported)
    }

    pub fn faults(&self) -> Faults {
        match self.never {}
    }

    pub fn set_verbose(&mut self, _verbose: bool) {
        match self.never {}
    }

    pub fn set_baud(&mut self, _baud: Option<u32>) {
        match self.never {}
    }

    pub fn line_counts(&self) -> Arc<pace::LineCounts> {
        match self.never {}
    }

    pub fn keypad(&self) -> Option<Keypad> {
        match self.never {}
    }

    pub fn slave_path(&self) -> &Path {
        match self.never {}
    }

    pub fn link_path(&self) -> &Path {
        match self.never {}
    }

    pub fn run(&mut self, _stop: &AtomicBool) -> Result<(), SerialError> {
        match self.never {}
    }
}
