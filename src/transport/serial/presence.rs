//! How often card presence is polled (`GetSlotStatus` per slot), from the
//! line speed. A reader that notifies card movements at once needs polling
//! only as a safety net (a `50 xx` lost to line noise is ignored, not
//! guessed at); one that does not must be polled fast enough for an
//! insertion to reach clients soon, without taking the line from card
//! exchanges.

use std::time::Duration;

use super::config::SerialConfig;
use super::startup::Notification;

/// A framed GetSlotStatus, and its SlotStatus answer: SYNC, CTRL, the
/// 10-byte header, LRC.
const STATUS_FRAME_BYTES: u64 = 13;
/// Bits per byte on the line: start, 8 data, 2 stop (8N2).
const BITS_PER_BYTE: u64 = 11;
/// Polling as the only way to see a card takes at most 1/4 of the line.
const FALLBACK_SHARE: u32 = 4;
/// Polling as a safety net takes at most 1/20 of the line.
const SAFETY_NET_SHARE: u32 = 20;
/// No period beyond this, whatever the line speed.
const CEILING: Duration = Duration::from_secs(10);

/// Line time of one poll of every slot: command, answer, and the echo of
/// the command on an echoing reader.
pub(super) fn round_wire_time(slots: u8, echo: bool, baud: u32) -> Duration {
    let frames = if echo { 3 } else { 2 };
    let bits = u64::from(slots) * frames * STATUS_FRAME_BYTES * BITS_PER_BYTE;
    Duration::from_micros(bits * 1_000_000 / u64::from(baud.max(1)))
}

/// The polling period of a reader with `slots` slots.
///
/// - Asynchronous notification: `poll_interval`, or longer on a slow line
///   (at most 5 % of the line).
/// - No notification between commands: the line share allows 1/4, never
///   under `fast_poll_interval`. At 115 200 baud this is 10 ms for one slot
///   and 20 ms for two (a round costs 2.5 ms per slot); at 9 600 baud a
///   single slot's poll alone takes 30 ms of line, so a 20 ms insertion
///   latency cannot be had by polling: 119 ms for one slot, 238 for two.
pub(super) fn poll_period(cfg: &SerialConfig, slots: u8, echo: bool, notification: Notification) -> Duration {
    let round = round_wire_time(slots, echo, cfg.baud_rate);
    let period = match notification {
        Notification::Async => cfg.poll_interval.max(round * SAFETY_NET_SHARE),
        Notification::Sync => cfg.fast_poll_interval.max(round * FALLBACK_SHARE),
    };
    period.min(CEILING)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(baud: u32) -> SerialConfig {
        SerialConfig {
            baud_rate: baud,
            ..SerialConfig::default()
        }
    }

    #[test]
    fn periods_follow_the_line_speed() {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        // 26 bytes × 11 bits at 115 200 baud.
        assert!((ms(round_wire_time(1, false, 115_200)) - 2.48).abs() < 0.01);
        let fast = |baud, slots, echo| ms(poll_period(&at(baud), slots, echo, Notification::Sync));
        assert_eq!(fast(115_200, 1, false), 10.0); // the floor
        assert!((fast(115_200, 2, false) - 19.86).abs() < 0.01);
        assert!((fast(115_200, 1, true) - 14.9).abs() < 0.01);
        assert!((fast(9_600, 1, false) - 119.17).abs() < 0.01);
        assert!((fast(9_600, 2, false) - 238.33).abs() < 0.01);
        let safe = |baud, slots| ms(poll_period(&at(baud), slots, false, Notification::Async));
        assert_eq!(safe(115_200, 2), 250.0);
        assert_eq!(safe(500_000, 5), 250.0);
        assert!((safe(9_600, 2) - 1191.67).abs() < 0.05);
        assert_eq!(safe(0, 5), 10_000.0);
    }
}
