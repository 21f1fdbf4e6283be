//! No control server on Windows: the socket is a Unix one, and the
//! front-ends that need scripting from outside (the pty serial reader,
//! pcscd's vpcd) are Unix things too. The card bay and its commands work
//! in-process on every system.

use super::{CardBay, ControlError};
use std::convert::Infallible;
use std::path::Path;

/// Never built on Windows: [`ControlServer::start`] says why.
pub struct ControlServer {
    never: Infallible,
}

impl ControlServer {
    pub fn start(_path: &Path, _bay: CardBay) -> Result<Self, ControlError> {
        Err(ControlError::Unsupported)
    }

    pub fn path(&self) -> &Path {
        match self.never {}
    }
}

/// The client side: nothing to connect to on Windows.
pub fn request(_socket: &Path, _line: &str) -> Result<Vec<String>, ControlError> {
    Err(ControlError::Unsupported)
}
