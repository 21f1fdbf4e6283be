//! The keypad of a simulated PIN-pad reader. A test (through the control
//! socket) scripts what the holder does at the next PIN entry: type digits
//! and press the validation key, press cancel, or let the entry time out.
//! The firmware takes one action per entry; actions queued while no entry is
//! running wait for the next one.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use zeroize::Zeroize;

/// Longest PIN the keypad takes at once.
pub const MAX_KEYS: usize = 32;
/// Scripted actions waiting at most.
pub const MAX_QUEUED: usize = 8;

/// Digits typed on the keypad (ASCII `0`..`9`), wiped when dropped.
pub struct Digits(Vec<u8>);

impl Digits {
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Drop for Digits {
    fn drop(&mut self) {
        wipe(&mut self.0);
    }
}

impl fmt::Debug for Digits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Nothing about the digits, not even how many.
        f.write_str("Digits(..)")
    }
}

/// Overwrites `bytes` with zeros in a way the optimiser keeps.
pub fn wipe(bytes: &mut [u8]) {
    bytes.zeroize();
}

/// What the holder does at one PIN entry.
#[derive(Debug)]
pub enum Action {
    /// Types these digits, then presses the validation key.
    Keys(Digits),
    /// Presses the cancel key.
    Cancel,
    /// Walks away: the entry times out.
    Timeout,
}

/// Why a keypad command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeypadError {
    #[error("keys must be 1 to {MAX_KEYS} digits 0-9")]
    BadKeys,
    #[error("{MAX_QUEUED} actions are already waiting for PIN entries")]
    QueueFull,
}

#[derive(Debug, Default)]
struct State {
    queue: VecDeque<Action>,
    /// An entry is running (the reader waits for keys).
    entering: bool,
}

/// The keypad, shared by the firmware and the control socket.
#[derive(Clone, Default)]
pub struct Keypad {
    state: Arc<Mutex<State>>,
}

impl Keypad {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn push(&self, action: Action) -> Result<(), KeypadError> {
        let mut s = self.lock();
        if s.queue.len() >= MAX_QUEUED {
            return Err(KeypadError::QueueFull);
        }
        s.queue.push_back(action);
        Ok(())
    }

    /// Queues `digits` followed by the validation key.
    pub fn keys(&self, digits: &str) -> Result<(), KeypadError> {
        if digits.is_empty() || digits.len() > MAX_KEYS || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(KeypadError::BadKeys);
        }
        self.push(Action::Keys(Digits(digits.as_bytes().to_vec())))
    }

    /// The current entry (or the next one) is cancelled.
    pub fn cancel(&self) -> Result<(), KeypadError> {
        self.push(Action::Cancel)
    }

    /// The current entry (or the next one) times out.
    pub fn timeout(&self) -> Result<(), KeypadError> {
        self.push(Action::Timeout)
    }

    /// Whether an entry is running, and how many actions wait.
    pub fn status(&self) -> (bool, usize) {
        let s = self.lock();
        (s.entering, s.queue.len())
    }

    /// Drops every queued action (their digits are wiped).
    pub fn clear(&self) {
        self.lock().queue.clear();
    }

    /// The next action for the running entry.
    pub(crate) fn take(&self) -> Option<Action> {
        self.lock().queue.pop_front()
    }

    pub(crate) fn set_entering(&self, entering: bool) {
        self.lock().entering = entering;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script() {
        let k = Keypad::new();
        assert_eq!(k.keys(""), Err(KeypadError::BadKeys));
        assert_eq!(k.keys("12a4"), Err(KeypadError::BadKeys));
        assert_eq!(k.keys(&"1".repeat(MAX_KEYS + 1)), Err(KeypadError::BadKeys));
        k.keys("1234").unwrap();
        k.cancel().unwrap();
        k.timeout().unwrap();
        assert_eq!(k.status(), (false, 3));
        match k.take() {
            Some(Action::Keys(d)) => {
                assert_eq!(d.as_bytes(), b"1234");
                assert_eq!(format!("{d:?}"), "Digits(..)");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(k.take(), Some(Action::Cancel)));
        assert!(matches!(k.take(), Some(Action::Timeout)));
        assert!(k.take().is_none());
        for _ in 0..MAX_QUEUED {
            k.cancel().unwrap();
        }
        assert_eq!(k.keys("1"), Err(KeypadError::QueueFull));
        k.clear();
        assert_eq!(k.status(), (false, 0));
    }

    #[test]
    fn wipe_zeroes() {
        let mut v = b"1234".to_vec();
        wipe(&mut v);
        assert_eq!(v, [0, 0, 0, 0]);
    }
}
