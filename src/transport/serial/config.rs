//! Timing and retry limits of the serial transport. Production code uses
//! [`SerialConfig::default`]; tests shrink the timeouts.

use std::time::Duration;

/// Timeouts, retry budgets and ceilings of one serial link.
#[derive(Debug, Clone)]
pub struct SerialConfig {
    /// Line speed (115 200 for the whole family; POS/SIM Pro can do 500 000).
    pub baud_rate: u32,
    /// Wait for the firmware-version escape at start-up before declaring
    /// "reader not connected".
    pub startup_timeout: Duration,
    /// Per-command wait for the next byte of the answer.
    pub answer_timeout: Duration,
    /// Silence in the middle of a frame after which it is declared truncated.
    pub char_timeout: Duration,
    /// Silence that ends the draining of a garbled frame before a NAK.
    pub quiet_gap: Duration,
    /// How long to wait for the answer once a card movement was notified for
    /// the slot of the command in flight (the reader may not answer at all).
    pub movement_grace: Duration,
    /// NAKs sent for corrupted answers, and resends of our frame after the
    /// reader's NAK, per command.
    pub max_retries: u32,
    /// Time extensions (0x80..0xFF bytes or time-extension answers) accepted
    /// per command.
    pub max_extensions: u32,
    /// Hard ceiling on the total duration of one command.
    pub command_ceiling: Duration,
    /// Presence polling (GetSlotStatus per slot) when the reader notifies
    /// card movements at once: a safety net, longer on slow lines
    /// (`presence::poll_period`).
    pub poll_interval: Duration,
    /// The shortest polling period when the reader does not notify card
    /// movements between commands (then polling finds them; the period
    /// follows the line speed, `presence::poll_period`).
    pub fast_poll_interval: Duration,
    /// Longest idle sleep before the thread looks at the event sink again;
    /// bytes from the reader and requests end the sleep at once.
    pub idle_tick: Duration,
    /// Consecutive failed polls after which the reader is declared gone.
    pub max_poll_failures: u32,
    /// After a command timed out, the reader must answer a GetSlotStatus
    /// within this (a reader answers it at once, even while a card is slow),
    /// or the link is declared gone at once instead of letting every queued
    /// request wait its own timeout.
    pub probe_timeout: Duration,
    /// Delay between attempts to reopen a vanished reader.
    pub reopen_interval: Duration,
    /// Power-on attempts for a newly seen card before giving up until it moves.
    pub max_power_on_attempts: u32,
    /// PIN entry on the reader's keypad (`PC_to_RDR_Secure`) has its own
    /// budget, apart from the APDU timeouts: the answer may take
    /// `max(pinpad_min_wait, bTimeOut + pinpad_grace)` (libccid's rule: at
    /// least 90 s, and 10 s beyond the holder's time).
    pub pinpad_min_wait: Duration,
    /// Added to the holder's time (`bTimeOut`) in that budget.
    pub pinpad_grace: Duration,
}

impl SerialConfig {
    /// The whole wait for a keypad PIN entry whose holder has `timeout_secs`
    /// (0: the reader's default) to type.
    pub fn pinpad_budget(&self, timeout_secs: u8) -> Duration {
        self.pinpad_min_wait
            .max(Duration::from_secs(u64::from(timeout_secs)) + self.pinpad_grace)
    }
}

impl Default for SerialConfig {
    fn default() -> Self {
        Self {
            baud_rate: 115_200,
            startup_timeout: Duration::from_secs(2),
            answer_timeout: Duration::from_secs(3),
            char_timeout: Duration::from_millis(200),
            quiet_gap: Duration::from_millis(50),
            movement_grace: Duration::from_millis(500),
            max_retries: 3,
            max_extensions: 30,
            command_ceiling: Duration::from_secs(60),
            poll_interval: Duration::from_millis(250),
            fast_poll_interval: Duration::from_millis(10),
            idle_tick: Duration::from_millis(50),
            max_poll_failures: 3,
            probe_timeout: Duration::from_millis(500),
            reopen_interval: Duration::from_secs(1),
            max_power_on_attempts: 3,
            pinpad_min_wait: Duration::from_secs(90),
            pinpad_grace: Duration::from_secs(10),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinpad_budget_follows_libccid() {
        let c = SerialConfig::default();
        assert_eq!(c.pinpad_budget(0), Duration::from_secs(90));
        assert_eq!(c.pinpad_budget(30), Duration::from_secs(90));
        assert_eq!(c.pinpad_budget(80), Duration::from_secs(90));
        assert_eq!(c.pinpad_budget(120), Duration::from_secs(130));
        assert_eq!(c.pinpad_budget(255), Duration::from_secs(265));
    }
}
