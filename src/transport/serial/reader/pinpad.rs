//! PIN entry on the reader's keypad (`PC_to_RDR_Secure`), with its own
//! budget apart from the APDU timeouts.

use std::time::Duration;

use tracing::{debug, info};

use super::{Fail, ReaderThread};
use crate::transport::serial::ccid::{self, Command, CommandStatus, IccStatus};
use crate::transport::serial::link::{Budget, Link};
use crate::transport::serial::port::Port;
use crate::transport::{PinpadVerify, TransportError};

impl ReaderThread {
    /// PIN verification on the reader's keypad: `PC_to_RDR_Secure` with the
    /// APDU template, waited for within the PIN-pad budget (not the APDU
    /// timeout). Returns the card's SW1 SW2; the reader's cancel and timeout
    /// (bError EF / F0, or SW `64 01` / `64 00`) are typed errors.
    pub(super) fn verify_pinpad<P: Port>(
        &mut self,
        link: &mut Link<P>,
        slot: usize,
        request: &PinpadVerify,
        generation: u64,
    ) -> Result<Vec<u8>, Fail> {
        if !self.model.pinpad {
            return Err(Fail::Transport(TransportError::NoPinpad));
        }
        check_pinpad_request(request).map_err(Fail::Transport)?;
        self.check_session(slot, generation)?;
        let wait = self.cfg.pinpad_budget(request.timeout_secs);
        let budget = Budget {
            timeout: wait,
            ceiling: wait,
            max_extensions: pinpad_extensions(wait),
        };
        info!(
            slot,
            timeout_secs = request.timeout_secs,
            budget_secs = wait.as_secs(),
            "PIN entry on the reader's keypad"
        );
        let answer =
            self.exchange_within(link, &Command::secure_verify(slot as u8, request), budget, true)?;
        if answer.command == CommandStatus::Failed
            && answer.error == ccid::CMD_NOT_SUPPORTED
            && answer.icc != IccStatus::Absent
        {
            return Err(Fail::Transport(TransportError::NoPinpad));
        }
        self.check_answer(slot, &answer, true)?;
        let result = crate::transport::pinpad_answer(&answer.data);
        match &result {
            Ok(sw) => debug!(slot, sw = %hex::encode_upper(sw), "PIN entry done"),
            Err(e) => debug!(slot, error = %e, "PIN entry ended"),
        }
        result.map_err(Fail::Transport)
    }
}

/// Longest PIN a keypad verification may ask for (digits, one byte each).
const MAX_PINPAD_DIGITS: u8 = 64;

/// Checks a keypad verification request before it goes on the line.
pub(super) fn check_pinpad_request(request: &PinpadVerify) -> Result<(), TransportError> {
    let PinpadVerify { min_len, max_len, .. } = *request;
    if min_len == 0 || min_len > max_len || max_len > MAX_PINPAD_DIGITS {
        return Err(TransportError::Protocol(format!(
            "invalid PIN-pad request: PIN length {min_len} to {max_len} (1 to {MAX_PINPAD_DIGITS} digits)"
        )));
    }
    Ok(())
}

/// Time extensions accepted while the holder types: up to ten a second over
/// the whole budget (a reader sends about one a second, or none at all); the
/// budget's time ceiling is what really bounds the wait.
fn pinpad_extensions(budget: Duration) -> u32 {
    u32::try_from(budget.as_millis() / 100).unwrap_or(u32::MAX).max(8)
}
