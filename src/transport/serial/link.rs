//! One command/answer exchange on the serial line, strictly one at a time:
//! framing, echo check, NAK in both directions, card-movement bytes, time
//! extensions, sequence numbers, timeouts. Every loop here is bounded.

use std::io;
use std::time::{Duration, Instant};

use tracing::{debug, trace, warn};
use zeroize::{Zeroize, Zeroizing};

use super::ccid::{Answer, Command, CommandStatus};
use super::config::SerialConfig;
use super::frame::{self, Corruption, Decoder, Item, NAK_FRAME};
use super::port::{Port, Ready, WakeRx};

/// Why an exchange failed at the link level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum LinkError {
    /// The device vanished or failed (EOF, EIO, ENXIO, ...).
    Gone(String),
    /// No (complete) answer in time, or the time-extension ceiling was hit.
    Timeout,
    /// The reader keeps sending bad frames or answers that do not fit.
    Protocol(String),
    /// A card movement was notified for the slot of the command in flight;
    /// the answer (if any) was discarded.
    CardMoved,
}

/// Bound on items (frames, notifications, extension bytes) handled per command.
const MAX_ITEMS_PER_COMMAND: u32 = 512;
/// Bound on stray frames (stale answers) skipped per command.
const MAX_STRAY_FRAMES: u32 = 8;
/// Bound on bytes discarded while draining a garbled frame.
const MAX_DRAIN_BYTES: usize = 8 * 1024;
/// Bound on the time spent draining a garbled frame.
const MAX_DRAIN_TIME: Duration = Duration::from_secs(1);
/// How long a command may overrun its answer timeout while it recovers
/// from line errors (NAKs, resends, confirmations).
const RECOVERY_GRACE: Duration = Duration::from_secs(1);
/// The least wait for a retransmission after a NAK or a resend.
const RETRANSMIT_WAIT: Duration = Duration::from_millis(250);
/// After a line error, answers are confirmed for this long (see
/// [`Link::confirming`]).
const NOISY_HOLD: Duration = Duration::from_secs(10);

/// How long one command may take: the wait for each item of the answer, the
/// hard ceiling on the whole exchange, and the time extensions accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Budget {
    pub timeout: Duration,
    pub ceiling: Duration,
    pub max_extensions: u32,
}

/// The serial link: the port, the stream decoder and the sequence counter.
pub(super) struct Link<P: Port> {
    port: P,
    decoder: Decoder,
    echo: bool,
    cfg: SerialConfig,
    seq: u8,
    /// `bmSlotICCState` bytes received and not yet consumed by the caller.
    movements: Vec<u8>,
    /// False while the reader's model (so its echo) is not known yet:
    /// an echo or its absence is then taken without a warning.
    echo_known: bool,
    warned_missing_echo: bool,
    warned_stray_echo: bool,
    /// Until when the line counts as noisy (the last error seen + [`NOISY_HOLD`]).
    noisy_until: Option<Instant>,
}

impl<P: Port> Link<P> {
    /// A link to a reader that echoes (`Some(true)`) or not, or whose model
    /// is not known yet (`None`: start-up asks its firmware, then
    /// [`Link::set_echo`]).
    pub(super) fn new(port: P, echo: Option<bool>, cfg: SerialConfig) -> Self {
        Self {
            port,
            decoder: Decoder::new(),
            // Unknown: expect one (the GemPC Twin, the default profile, echoes);
            // an answer without it is taken all the same.
            echo: echo.unwrap_or(true),
            echo_known: echo.is_some(),
            cfg,
            seq: 0,
            movements: Vec::new(),
            warned_missing_echo: false,
            warned_stray_echo: false,
            noisy_until: None,
        }
    }

    /// The reader's profile is known: it echoes or not.
    pub(super) fn set_echo(&mut self, echo: bool) {
        self.echo = echo;
        self.echo_known = true;
    }

    /// A line error was seen: the line is noisy for a while.
    fn mark_noisy(&mut self) {
        if !self.confirming() {
            debug!("line errors: answers are confirmed by a retransmission for a while");
        }
        self.noisy_until = Some(Instant::now() + NOISY_HOLD);
    }

    /// True while answers must be confirmed. The 8-bit LRC misses two bit
    /// errors in the same bit column of a frame, which a noisy line makes
    /// likely on long frames (about 4 % of 260-byte frames at a bit error
    /// rate of 1e-3). So, after any line error, an answer is only accepted
    /// when the reader's retransmission of it (asked with a NAK, which
    /// does not run the command again) is identical: two copies corrupted
    /// the same way are far less likely than the miss itself.
    pub(super) fn confirming(&self) -> bool {
        self.noisy_until.is_some_and(|t| Instant::now() < t)
    }

    /// The idle wait: until the port has input, `wake` is woken, or `timeout`.
    pub(super) fn wait_idle(&self, wake: &WakeRx, timeout: Duration) -> io::Result<Ready> {
        self.port.wait_idle(wake, timeout)
    }

    /// Card-movement notifications seen since the last call, oldest first.
    pub(super) fn take_movements(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.movements)
    }

    /// Reads whatever the reader sent unsolicited (card movements, late
    /// answers to timed-out commands) without waiting.
    pub(super) fn poll_unsolicited(&mut self) -> Result<(), LinkError> {
        let mut buf = [0u8; 256];
        for _ in 0..16 {
            match self.port.read_some(&mut buf, Duration::ZERO) {
                Ok(Some(n)) => self.decoder.push(&buf[..n]),
                Ok(None) => break,
                Err(e) => return Err(gone(&e)),
            }
        }
        for _ in 0..MAX_ITEMS_PER_COMMAND {
            let item = self.decoder.next_item();
            if self.decoder.take_skipped() > 0 {
                self.mark_noisy();
                if let Some(Item::SlotChange(state)) = item {
                    debug!(
                        state = format_args!("0x{state:02X}"),
                        "ignoring a card movement byte amid garbage"
                    );
                    continue;
                }
            }
            match item {
                Some(Item::SlotChange(state)) => {
                    debug!(state = format_args!("0x{state:02X}"), "card movement notified");
                    self.movements.push(state);
                }
                Some(Item::Message(m)) => {
                    debug!(
                        len = m.len(),
                        kind = super::ccid::message_name(m[0]),
                        "discarding stray frame"
                    );
                }
                Some(other) => trace!(?other, "discarding stray item"),
                None => break,
            }
        }
        let skipped = self.decoder.take_skipped();
        if skipped > 0 {
            debug!(skipped, "discarded garbage bytes");
        }
        Ok(())
    }

    /// Sends `cmd` and returns its answer. With `watch_movement`, a card
    /// movement notified for the command's slot fails the exchange with
    /// [`LinkError::CardMoved`].
    pub(super) fn transact(
        &mut self,
        cmd: &Command,
        timeout: Duration,
        watch_movement: bool,
    ) -> Result<Answer, LinkError> {
        let budget = Budget {
            timeout,
            ceiling: self.cfg.command_ceiling,
            max_extensions: self.cfg.max_extensions,
        };
        self.transact_within(cmd, budget, watch_movement)
    }

    /// [`Self::transact`] with an explicit budget (PIN entry on the keypad
    /// has its own, far longer than an APDU's).
    pub(super) fn transact_within(
        &mut self,
        cmd: &Command,
        budget: Budget,
        watch_movement: bool,
    ) -> Result<Answer, LinkError> {
        self.poll_unsolicited()?;
        let seq = self.seq;
        self.seq = self.seq.wrapping_add(1);
        let mut message = cmd.encode(seq);
        let mut frame = frame::encode(&message);
        trace!(
            kind = cmd.name(),
            slot = cmd.slot,
            seq,
            len = cmd.data.len(),
            "-> command"
        );
        let result = self.exchange(cmd, seq, &message, &frame, budget, watch_movement);
        if cmd.carries_apdu() {
            message.zeroize();
            frame.zeroize();
        }
        match &result {
            Ok(a) => trace!(
                kind = super::ccid::message_name(a.message_type),
                slot = a.slot,
                seq,
                status = ?a.command,
                icc = ?a.icc,
                len = a.data.len(),
                "<- answer"
            ),
            Err(e) => {
                debug!(kind = cmd.name(), slot = cmd.slot, seq, error = ?e, "exchange failed")
            }
        }
        result
    }

    fn exchange(
        &mut self,
        cmd: &Command,
        seq: u8,
        message: &[u8],
        frame: &[u8],
        budget: Budget,
        watch_movement: bool,
    ) -> Result<Answer, LinkError> {
        let started = Instant::now();
        let Budget {
            timeout,
            ceiling,
            max_extensions,
        } = budget;
        // No wait reaches beyond the ceiling.
        let end = started + ceiling;
        // The answer is due `timeout` after the command or after the last
        // time extension; NAKs and resends do not move that, so recovering
        // from line errors never stretches a command by more than
        // RECOVERY_GRACE beyond it.
        let mut answer_end = started + timeout;
        let recovery_end = |answer_end: Instant| (answer_end + RECOVERY_GRACE).min(end);
        // After a NAK or a resend, the retransmission gets at least
        // RETRANSMIT_WAIT, within the recovery grace.
        let after_retry = |deadline: Instant, answer_end: Instant| {
            deadline
                .max(Instant::now() + RETRANSMIT_WAIT)
                .min(recovery_end(answer_end))
        };
        let mut resends = 0u32; // the reader NAKed our frame
        let mut naks = 0u32; // we NAKed the reader's frame
        let mut extensions = 0u32;
        let mut strays = 0u32;
        let mut moved = false;
        // Echo profile: the next frame must be our own frame.
        let mut awaiting_echo = self.echo;
        // False once an echo did not match what we sent.
        let mut echo_ok = true;
        // Echo profile after our NAK: the reader may echo it.
        let mut awaiting_nak_echo = false;
        // Non-echo profile: tolerate one unexpected echo per send.
        let mut stray_echo_allowed = !self.echo;

        // Confirmation on a noisy line: the first copy of the answer, and
        // how many copies were asked for.
        let mut first_copy: Option<Zeroizing<Vec<u8>>> = None;
        let mut copies = 0u32;
        // Our last frame was a NAK (asking for the answer again): a NAK from
        // the reader then rejects that NAK, and resending the command would
        // run it a second time (a GET RESPONSE would find nothing left).
        let mut last_sent_nak = false;

        self.write(frame)?;
        let mut deadline = answer_end.min(end);
        // Every extension is an item; the noise around them stays bounded.
        let max_items = MAX_ITEMS_PER_COMMAND.saturating_add(max_extensions);
        for _ in 0..max_items {
            if started.elapsed() > ceiling || Instant::now() > recovery_end(answer_end) {
                debug!(seq, "command ceiling reached");
                self.drain_quiet()?;
                return Err(if moved {
                    LinkError::CardMoved
                } else {
                    LinkError::Timeout
                });
            }
            let Some(item) = self.next_item(deadline)? else {
                return Err(if moved {
                    LinkError::CardMoved
                } else {
                    LinkError::Timeout
                });
            };
            let now = Instant::now();
            match item {
                Item::SlotChange(state) => {
                    debug!(
                        state = format_args!("0x{state:02X}"),
                        seq, "card movement notified"
                    );
                    self.movements.push(state);
                    if watch_movement && slot_changed(state, cmd.slot) {
                        moved = true;
                        deadline = deadline.min(now + self.cfg.movement_grace);
                    }
                }
                Item::TimeRequest(b) => {
                    extensions += 1;
                    trace!(seq, byte = format_args!("0x{b:02X}"), extensions, "time request");
                    if extensions > max_extensions {
                        debug!(seq, extensions, "time-extension ceiling reached");
                        self.drain_quiet()?;
                        return Err(LinkError::Timeout);
                    }
                    if !moved {
                        answer_end = now + timeout;
                        deadline = answer_end.min(end);
                    }
                }
                Item::Nak => {
                    if awaiting_nak_echo {
                        awaiting_nak_echo = false;
                        trace!(seq, "echo of our NAK");
                        continue;
                    }
                    if moved {
                        return Err(LinkError::CardMoved);
                    }
                    self.mark_noisy();
                    resends += 1;
                    if resends > self.cfg.max_retries {
                        return Err(LinkError::Protocol(format!(
                            "the reader rejected the {} frame {} times",
                            cmd.name(),
                            resends
                        )));
                    }
                    if last_sent_nak {
                        debug!(seq, resends, "reader NAK after our NAK: sending our NAK again");
                        self.write(&NAK_FRAME)?;
                        awaiting_nak_echo = self.echo;
                        deadline = after_retry(deadline, answer_end);
                        continue;
                    }
                    debug!(seq, resends, "reader NAK: resending our frame");
                    self.write(frame)?;
                    awaiting_echo = self.echo;
                    echo_ok = true;
                    stray_echo_allowed = !self.echo;
                    deadline = after_retry(deadline, answer_end);
                }
                Item::Corrupt(why) => {
                    self.mark_noisy();
                    if moved {
                        self.drain_quiet()?;
                        return Err(LinkError::CardMoved);
                    }
                    if awaiting_echo {
                        // A garbled echo: what the reader received is unknown.
                        warn!(seq, %why, "garbled echo of our frame");
                        awaiting_echo = false;
                        echo_ok = false;
                        continue;
                    }
                    naks += 1;
                    if naks > self.cfg.max_retries || !echo_ok {
                        self.drain_quiet()?;
                        return Err(LinkError::Protocol(format!(
                            "corrupted {} answer ({why}){}",
                            cmd.name(),
                            if echo_ok {
                                ", retries exhausted"
                            } else {
                                " after a bad echo"
                            }
                        )));
                    }
                    debug!(seq, %why, naks, "corrupted answer: NAK");
                    self.drain_quiet()?;
                    self.write(&NAK_FRAME)?;
                    last_sent_nak = true;
                    awaiting_nak_echo = self.echo;
                    deadline = after_retry(deadline, answer_end);
                }
                Item::Message(mut m) => {
                    awaiting_nak_echo = false;
                    if awaiting_echo {
                        awaiting_echo = false;
                        if m == message {
                            trace!(seq, "echo ok");
                            m.zeroize();
                            continue;
                        }
                        if m.first().is_some_and(|&t| t >= 0x80) && !is_answer_to(&m, cmd, seq) {
                            // A reader message (RDR_to_PC types are 0x80 and
                            // up) cannot be the echo of ours: a late copy of
                            // an earlier answer. Skip it, still awaiting the echo.
                            awaiting_echo = true;
                            strays += 1;
                            debug!(seq, "skipping a stale answer before the echo");
                            m.zeroize();
                            if strays > MAX_STRAY_FRAMES {
                                return Err(LinkError::Protocol(
                                    "too many frames that do not answer the command".into(),
                                ));
                            }
                            continue;
                        }
                        if !is_answer_to(&m, cmd, seq) {
                            warn!(seq, "the reader's echo differs from our frame");
                            echo_ok = false;
                            m.zeroize();
                            continue;
                        }
                        // No echo at all but our answer, intact (LRC, seq,
                        // slot, type): accept it.
                        if self.echo_known && !self.warned_missing_echo {
                            self.warned_missing_echo = true;
                            warn!(seq, "the reader does not echo our frames: is the profile right?");
                        }
                    } else if stray_echo_allowed && m == message {
                        stray_echo_allowed = false;
                        if self.echo_known && !self.warned_stray_echo {
                            self.warned_stray_echo = true;
                            warn!(seq, "the reader echoes our frames: is the profile right?");
                        }
                        m.zeroize();
                        continue;
                    }
                    let answer = match Answer::parse(&m) {
                        Ok(a)
                            if a.seq == seq && a.slot == cmd.slot && a.message_type == cmd.answer_type() =>
                        {
                            a
                        }
                        Ok(a) => {
                            strays += 1;
                            debug!(
                                seq,
                                got_seq = a.seq,
                                got_slot = a.slot,
                                got_kind = super::ccid::message_name(a.message_type),
                                "skipping a frame that is not our answer"
                            );
                            if strays > MAX_STRAY_FRAMES {
                                return Err(LinkError::Protocol(
                                    "too many frames that do not answer the command".into(),
                                ));
                            }
                            continue;
                        }
                        Err(e) => {
                            if moved {
                                return Err(LinkError::CardMoved);
                            }
                            return Err(LinkError::Protocol(format!(
                                "malformed {} answer: {e}",
                                cmd.name()
                            )));
                        }
                    };
                    if answer.command == CommandStatus::TimeExtension {
                        extensions += 1;
                        trace!(seq, extensions, "time-extension answer");
                        if extensions > max_extensions {
                            debug!(seq, extensions, "time-extension ceiling reached");
                            self.drain_quiet()?;
                            return Err(LinkError::Timeout);
                        }
                        if !moved {
                            answer_end = now + timeout;
                            deadline = answer_end.min(end);
                        }
                        continue;
                    }
                    if moved {
                        return Err(LinkError::CardMoved);
                    }
                    if !echo_ok {
                        return Err(LinkError::Protocol(format!(
                            "the reader's echo of the {} command did not match it",
                            cmd.name()
                        )));
                    }
                    if self.confirming() {
                        let same = first_copy.as_ref().is_some_and(|c| c.as_slice() == m.as_slice());
                        if !same {
                            if first_copy.is_some() {
                                // Two copies differ: one of them was corrupted
                                // in a way the LRC missed.
                                debug!(seq, "the answer's copies differ");
                            }
                            copies += 1;
                            if copies > self.cfg.max_retries + 1 {
                                self.drain_quiet()?;
                                return Err(LinkError::Protocol(format!(
                                    "the {} answer could not be confirmed on a noisy line",
                                    cmd.name()
                                )));
                            }
                            trace!(seq, "noisy line: asking for the answer again to confirm it");
                            first_copy = Some(Zeroizing::new(std::mem::take(&mut m)));
                            self.write(&NAK_FRAME)?;
                            last_sent_nak = true;
                            awaiting_nak_echo = self.echo;
                            deadline = after_retry(deadline, answer_end);
                            continue;
                        }
                        trace!(seq, "answer confirmed");
                    }
                    m.zeroize();
                    return Ok(answer);
                }
            }
        }
        Err(LinkError::Protocol(
            "the reader sends too much noise around the answer".into(),
        ))
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), LinkError> {
        self.port.write_all_bytes(bytes).map_err(|e| {
            if e.kind() == io::ErrorKind::TimedOut {
                LinkError::Timeout
            } else {
                gone(&e)
            }
        })
    }

    /// Next decoded item, or `None` when `deadline` passes with nothing.
    fn next_item(&mut self, deadline: Instant) -> Result<Option<Item>, LinkError> {
        let mut buf = [0u8; 512];
        // Each turn either returns or reads at least one byte or times out;
        // bytes are bounded by the frame size and the deadline.
        loop {
            if let Some(item) = self.decoder.next_item() {
                let skipped = self.decoder.take_skipped();
                if skipped > 0 {
                    debug!(skipped, "discarded garbage bytes");
                    self.mark_noisy();
                    // A lone byte after garbage is likely the body of a
                    // frame whose start was hit: not a real notification.
                    if matches!(item, Item::SlotChange(_) | Item::TimeRequest(_)) {
                        return Ok(Some(Item::Corrupt(Corruption::OutOfSync(skipped))));
                    }
                }
                return Ok(Some(item));
            }
            let now = Instant::now();
            let partial = self.decoder.has_partial();
            if now >= deadline && !partial {
                return Ok(None);
            }
            let wait = if partial {
                self.cfg.char_timeout
            } else {
                deadline - now
            };
            match self.port.read_some(&mut buf, wait) {
                Ok(Some(n)) => self.decoder.push(&buf[..n]),
                Ok(None) => {
                    if partial {
                        return Ok(self.decoder.truncate());
                    }
                }
                Err(e) => return Err(gone(&e)),
            }
        }
    }

    /// Discards input until the line has been quiet for `quiet_gap`
    /// (bounded in time and bytes), and resets the decoder.
    fn drain_quiet(&mut self) -> Result<(), LinkError> {
        self.decoder.clear();
        let started = Instant::now();
        let mut buf = [0u8; 512];
        let mut drained = 0usize;
        while drained < MAX_DRAIN_BYTES && started.elapsed() < MAX_DRAIN_TIME {
            match self.port.read_some(&mut buf, self.cfg.quiet_gap) {
                Ok(Some(n)) => drained += n,
                Ok(None) => break,
                Err(e) => return Err(gone(&e)),
            }
        }
        let skipped = self.decoder.take_skipped() + drained;
        if skipped > 0 {
            debug!(skipped, "drained the line");
        }
        Ok(())
    }
}

/// True when `message` is a well-formed answer to `cmd` sent with `seq`.
fn is_answer_to(message: &[u8], cmd: &Command, seq: u8) -> bool {
    matches!(Answer::parse(message), Ok(a)
        if a.seq == seq && a.slot == cmd.slot && a.message_type == cmd.answer_type())
}

/// True when `bmSlotICCState` flags a change for `slot` (bit 1 of its pair).
/// Slots beyond the byte (5-slot readers) are left to polling.
pub(super) fn slot_changed(state: u8, slot: u8) -> bool {
    slot < 4 && (state >> (2 * slot)) & 0b10 != 0
}

/// Card presence for `slot` in `bmSlotICCState` (bit 0 of its pair).
pub(super) fn slot_present(state: u8, slot: u8) -> Option<bool> {
    (slot < 4).then(|| (state >> (2 * slot)) & 0b01 != 0)
}

fn gone(e: &io::Error) -> LinkError {
    LinkError::Gone(e.to_string())
}

impl std::fmt::Display for LinkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LinkError::Gone(why) => write!(f, "device error: {why}"),
            LinkError::Timeout => write!(f, "no answer in time"),
            LinkError::Protocol(why) => write!(f, "{why}"),
            LinkError::CardMoved => write!(f, "the card moved during the command"),
        }
    }
}
