//! The link thread: owns the tty, runs the start-up sequence, serves the
//! slots' requests one at a time, polls card presence when idle, turns card
//! movements into events, and reopens the device when it vanishes.

use std::sync::mpsc::{self, RecvTimeoutError, TryRecvError};
use std::time::{Duration, Instant};

use tracing::{debug, info, warn};

use crate::transport::serial::ccid::{
    self, Answer, Command, CommandStatus, IccStatus, MAX_APDU_LEN, MAX_ATR_LEN,
};
use crate::transport::serial::config::SerialConfig;
use crate::transport::serial::link::{Budget, Link, LinkError};
use crate::transport::serial::model::{self, SerialModel};
use crate::transport::serial::port::{open_device, wake_pair, Device, Port, WakeRx};
use crate::transport::serial::presence::poll_period;
use crate::transport::serial::slot::{Connected, Op, Reply, Request, RequestTx, SerialSlot};
use crate::transport::serial::startup::{startup, Notification, StartupError};

mod movements;
mod pinpad;
use crate::transport::{EventSink, ReaderEvent, ReaderModel, SlotInfo, TransportError, TransportKind};

/// Why a link session could not begin (the device, or the reader on it).
#[derive(Debug, thiserror::Error)]
enum OpenError {
    #[error("cannot open the device: {0}")]
    Device(#[source] serialport::Error),
    #[error(transparent)]
    Startup(#[from] StartupError),
}

/// Hang-ups reported by the idle wait in a row, with nothing read, before the
/// device counts as gone.
const MAX_HANGUPS: u32 = 3;

/// What the link thread knows about one slot.
#[derive(Debug, Default)]
struct SlotState {
    present: bool,
    powered: bool,
    atr: Option<Vec<u8>>,
    /// Bumped whenever the card is removed, swapped or reset behind the
    /// slot's back; a slot connected at an older generation gets
    /// `CardRemoved`.
    generation: u64,
    /// `CardInserted` was sent and not yet followed by `CardRemoved`.
    announced: bool,
    power_attempts: u32,
}

/// Why serving a link stopped.
enum Stop {
    /// The event sink is closed: the service is gone, so is this thread.
    SinkClosed,
    /// The device vanished or stopped answering.
    Gone(String),
}

/// Why a slot operation failed.
enum Fail {
    Link(LinkError),
    Transport(TransportError),
}

impl From<LinkError> for Fail {
    fn from(e: LinkError) -> Self {
        Fail::Link(e)
    }
}

impl Fail {
    fn into_transport(self) -> TransportError {
        match self {
            Fail::Link(LinkError::Gone(why)) => TransportError::ReaderGone(why),
            Fail::Link(LinkError::Timeout) => TransportError::Timeout,
            Fail::Link(LinkError::Protocol(why)) => TransportError::Protocol(why),
            Fail::Link(LinkError::CardMoved) => TransportError::CardRemoved,
            Fail::Transport(e) => e,
        }
    }

    fn gone(&self) -> Option<String> {
        match self {
            Fail::Link(LinkError::Gone(why)) => Some(why.clone()),
            _ => None,
        }
    }

    fn timed_out(&self) -> bool {
        matches!(self, Fail::Link(LinkError::Timeout))
    }
}

pub(super) struct ReaderThread {
    index: usize,
    path: String,
    /// The model given as `PATH:PROFILE`, if any.
    configured: Option<SerialModel>,
    /// The model of the current (or last) link session: the configured
    /// one, or the one the reader's firmware named at start-up.
    model: SerialModel,
    /// The firmware string and how the model was chosen, for `readers.list`.
    identified: Option<ReaderModel>,
    cfg: SerialConfig,
    sink: EventSink,
    requests: mpsc::Receiver<Request>,
    request_tx: RequestTx,
    /// Woken by every request (see [`Port::wait_idle`]).
    wake: WakeRx,
    /// Counts successful start-ups; slots carry the session they were made in.
    session: u64,
    slots: Vec<SlotState>,
    gone_reason: String,
}

impl ReaderThread {
    pub(super) fn new(
        index: usize,
        path: String,
        configured: Option<SerialModel>,
        cfg: SerialConfig,
        sink: EventSink,
    ) -> std::io::Result<Self> {
        let model = configured.unwrap_or(model::DEFAULT);
        let (queue, requests) = mpsc::channel();
        let (waker, wake) = wake_pair()?;
        Ok(Self {
            index,
            path,
            configured,
            model,
            identified: None,
            cfg,
            sink,
            requests,
            request_tx: RequestTx::new(queue, waker),
            wake,
            session: 0,
            slots: (0..model.slots).map(|_| SlotState::default()).collect(),
            gone_reason: "not connected yet".into(),
        })
    }

    /// The thread body: connect, serve, and reconnect until the sink closes.
    pub(super) fn run(mut self) {
        let mut quiet_failures = false;
        loop {
            if self.sink.is_closed() {
                break;
            }
            match self.open_and_start() {
                Ok((link, notification)) => {
                    quiet_failures = false;
                    self.session += 1;
                    match self.serve(link, notification) {
                        Stop::SinkClosed => break,
                        Stop::Gone(why) => {
                            warn!(path = %self.path, %why, "serial reader gone");
                            self.retire(why);
                        }
                    }
                }
                Err(why) => {
                    if quiet_failures {
                        debug!(path = %self.path, %why, "serial reader still unavailable");
                    } else {
                        warn!(path = %self.path, %why, "serial reader unavailable; will retry");
                        quiet_failures = true;
                    }
                    self.gone_reason = why.to_string();
                }
            }
            if !self.wait_while_gone(self.cfg.reopen_interval) {
                break;
            }
        }
        debug!(path = %self.path, "serial link thread stops");
    }

    fn slot_id(&self, slot: usize) -> String {
        format!("serial:{}.{}", self.index, slot)
    }

    fn emit(&self, event: ReaderEvent) {
        debug!(?event, "serial event");
        let _ = self.sink.send(event);
    }

    fn open_and_start(&mut self) -> Result<(Link<Device>, Notification), OpenError> {
        let port = open_device(&self.path, self.cfg.baud_rate).map_err(OpenError::Device)?;
        let mut link = Link::new(port, self.configured.map(|p| p.echo), self.cfg.clone());
        let started = startup(&mut link, &self.cfg, self.configured)?;
        if started.model.slots != self.model.slots {
            // Another model than last time (or than assumed): the last
            // session's slots were retired with it.
            self.slots = (0..started.model.slots).map(|_| SlotState::default()).collect();
        }
        self.model = started.model;
        self.identified = Some(ReaderModel {
            firmware: started.firmware,
            profile: started.model.key,
            chosen_by: started.chosen_by.as_str(),
        });
        Ok((link, started.notification))
    }

    /// Serves one link session until the device goes or the sink closes.
    ///
    /// Idle, the thread sleeps on the tty and on its wake socket at once:
    /// a card-movement byte from the reader is acted on as soon as it
    /// arrives (the card powered and announced), and a request is served
    /// as soon as it is queued. Everything on the line still happens on
    /// this thread, one exchange at a time, so neither polling nor
    /// notifications can come between a command and its answer.
    fn serve<P: Port>(&mut self, mut link: Link<P>, notification: Notification) -> Stop {
        for slot in 0..self.slots.len() {
            let info = SlotInfo {
                id: self.slot_id(slot),
                name: format!("{} ({}) slot {slot}", self.model.display, self.path),
                kind: TransportKind::Serial,
                model: self.identified.clone(),
                pinpad: self.model.pinpad,
            };
            let slot_link = SerialSlot::new(
                slot as u8,
                self.session,
                self.request_tx.clone(),
                self.model.pinpad,
            );
            self.emit(ReaderEvent::Added {
                slot: info,
                link: Box::new(slot_link),
            });
        }
        let period = poll_period(&self.cfg, self.model.slots, self.model.echo, notification);
        info!(
            ?notification,
            period_ms = period.as_millis(),
            "card movements: presence polled"
        );
        let mut poll_failures = 0u32;
        let mut hangups = 0u32;
        let mut next_poll = Instant::now();
        loop {
            if self.sink.is_closed() {
                return Stop::SinkClosed;
            }
            if Instant::now() >= next_poll {
                match self.poll_all(&mut link) {
                    Ok(()) => poll_failures = 0,
                    Err(fail) => {
                        if let Some(why) = fail.gone() {
                            return Stop::Gone(why);
                        }
                        if fail.timed_out() {
                            if let Err(stop) = self.probe(&mut link) {
                                return stop;
                            }
                        }
                        poll_failures += 1;
                        let why = fail.into_transport();
                        debug!(%why, poll_failures, "presence poll failed");
                        if poll_failures >= self.cfg.max_poll_failures {
                            return Stop::Gone(format!("the reader stopped answering ({why})"));
                        }
                    }
                }
                if let Err(stop) = self.after_activity(&mut link) {
                    return stop;
                }
                next_poll = Instant::now() + period;
                continue;
            }
            match self.requests.try_recv() {
                Ok(request) => {
                    if let Err(stop) = self.handle(&mut link, request) {
                        return stop;
                    }
                    if let Err(stop) = self.after_activity(&mut link) {
                        return stop;
                    }
                    continue;
                }
                Err(TryRecvError::Empty) => {}
                // We hold a sender ourselves; this cannot happen.
                Err(TryRecvError::Disconnected) => return Stop::SinkClosed,
            }
            // What the reader sent on its own: card movements act at once.
            match link.poll_unsolicited() {
                Ok(()) => {}
                Err(LinkError::Gone(why)) => return Stop::Gone(why),
                Err(other) => return Stop::Gone(other.to_string()),
            }
            if let Err(stop) = self.after_activity(&mut link) {
                return stop;
            }
            let wait = next_poll
                .saturating_duration_since(Instant::now())
                .min(self.cfg.idle_tick);
            match link.wait_idle(&self.wake, wait) {
                Ok(ready) => {
                    if ready.woken {
                        self.wake.drain();
                    }
                    // A hang-up with nothing to read: the next read fails
                    // if the device is gone; if it keeps not failing, the
                    // wait must not turn into a spin.
                    hangups = if ready.hangup && !ready.input {
                        hangups + 1
                    } else {
                        0
                    };
                    if hangups > MAX_HANGUPS {
                        return Stop::Gone("the device keeps hanging up".into());
                    }
                }
                Err(e) => return Stop::Gone(format!("cannot wait on the device: {e}")),
            }
        }
    }

    /// After a command timed out: is the reader itself still there? It
    /// answers GetSlotStatus at once even while a card is slow, so silence
    /// means a dead, mute or unplugged reader. Then the link is given up at
    /// once (queued requests get `ReaderGone` and the device is reopened)
    /// rather than every queued request waiting its own full timeout.
    fn probe<P: Port>(&mut self, link: &mut Link<P>) -> Result<(), Stop> {
        let result = link.transact(&Command::get_slot_status(0), self.cfg.probe_timeout, false);
        self.apply_movements(link);
        match result {
            Err(LinkError::Gone(why)) => Err(Stop::Gone(why)),
            Err(LinkError::Timeout) => Err(Stop::Gone("the reader stopped answering".into())),
            // It answered (maybe badly): it is there.
            _ => Ok(()),
        }
    }

    /// After the device vanished: `Removed` for every slot, state reset.
    fn retire(&mut self, why: String) {
        for slot in 0..self.slots.len() {
            let s = &mut self.slots[slot];
            s.generation += 1;
            s.present = false;
            s.powered = false;
            s.atr = None;
            s.announced = false;
            s.power_attempts = 0;
            self.emit(ReaderEvent::Removed {
                id: self.slot_id(slot),
            });
        }
        self.gone_reason = why;
    }

    /// Waits before the next reopen attempt, failing requests meanwhile.
    /// Returns false when the sink closed.
    fn wait_while_gone(&mut self, delay: Duration) -> bool {
        let until = Instant::now() + delay;
        loop {
            if self.sink.is_closed() {
                return false;
            }
            let now = Instant::now();
            if now >= until {
                return true;
            }
            match self.requests.recv_timeout(until - now) {
                Ok(request) => {
                    let _ = request.reply.send(Err(self.reader_gone()));
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return false,
            }
        }
    }

    fn reader_gone(&self) -> TransportError {
        TransportError::ReaderGone(format!("{}: {}", self.path, self.gone_reason))
    }

    /// Serves one slot's request.
    fn handle<P: Port>(&mut self, link: &mut Link<P>, request: Request) -> Result<(), Stop> {
        let slot = request.slot as usize;
        let result = if request.session != self.session {
            Err(Fail::Transport(TransportError::ReaderGone(format!(
                "{}: the reader was disconnected since this slot was announced",
                self.path
            ))))
        } else if slot >= self.slots.len() {
            Err(Fail::Transport(TransportError::Protocol(format!(
                "no slot {slot} on this reader"
            ))))
        } else {
            match &request.op {
                Op::Connect => self.connect(link, slot).map(Reply::Connected),
                Op::Transmit { apdu, generation } => {
                    self.transmit(link, slot, apdu, *generation).map(Reply::Response)
                }
                Op::Reset => self.reset(link, slot).map(Reply::Connected),
                Op::VerifyPinpad { request, generation } => self
                    .verify_pinpad(link, slot, request, *generation)
                    .map(Reply::Response),
            }
        };
        match result {
            Ok(reply) => {
                let _ = request.reply.send(Ok(reply));
                Ok(())
            }
            Err(fail) => {
                let mut gone = fail.gone();
                // Probed before answering, so that the request learns the
                // reader is gone rather than merely slow.
                if gone.is_none() && fail.timed_out() {
                    if let Err(Stop::Gone(why)) = self.probe(link) {
                        gone = Some(why);
                    }
                }
                let error = match &gone {
                    Some(why) => TransportError::ReaderGone(format!("{}: {why}", self.path)),
                    None => fail.into_transport(),
                };
                let _ = request.reply.send(Err(error));
                match gone {
                    Some(why) => Err(Stop::Gone(why)),
                    None => Ok(()),
                }
            }
        }
    }

    fn connect<P: Port>(&mut self, link: &mut Link<P>, slot: usize) -> Result<Connected, Fail> {
        let s = &self.slots[slot];
        if !s.present {
            return Err(Fail::Transport(TransportError::NoCard));
        }
        if let (true, Some(atr)) = (s.powered, &s.atr) {
            return Ok(Connected {
                atr: atr.clone(),
                generation: s.generation,
            });
        }
        let atr = self.power_on(link, slot)?;
        Ok(Connected {
            atr,
            generation: self.slots[slot].generation,
        })
    }

    fn transmit<P: Port>(
        &mut self,
        link: &mut Link<P>,
        slot: usize,
        apdu: &[u8],
        generation: u64,
    ) -> Result<Vec<u8>, Fail> {
        if apdu.is_empty() || apdu.len() > MAX_APDU_LEN {
            return Err(Fail::Transport(TransportError::Protocol(format!(
                "a command APDU of {} bytes is outside 1..={MAX_APDU_LEN} (short APDUs only)",
                apdu.len()
            ))));
        }
        self.check_session(slot, generation)?;
        let answer = self.exchange(link, &Command::xfr_block(slot as u8, apdu), true)?;
        self.check_answer(slot, &answer, true)?;
        if answer.data.len() < 2 {
            return Err(Fail::Transport(TransportError::Protocol(format!(
                "the card's answer of {} bytes is shorter than a status word",
                answer.data.len()
            ))));
        }
        Ok(answer.data)
    }

    /// The slot's card (connected at `generation`) is still there and powered.
    fn check_session(&self, slot: usize, generation: u64) -> Result<(), Fail> {
        let s = &self.slots[slot];
        if s.generation != generation {
            return Err(Fail::Transport(TransportError::CardRemoved));
        }
        if !s.present {
            return Err(Fail::Transport(TransportError::NoCard));
        }
        if !s.powered {
            // Deactivated since connect (mute card, failed reset).
            return Err(Fail::Transport(TransportError::CardRemoved));
        }
        Ok(())
    }

    fn reset<P: Port>(&mut self, link: &mut Link<P>, slot: usize) -> Result<Connected, Fail> {
        if !self.slots[slot].present {
            return Err(Fail::Transport(TransportError::NoCard));
        }
        let answer = self.exchange(link, &Command::power_off(slot as u8), true)?;
        self.check_answer(slot, &answer, false)?;
        let s = &mut self.slots[slot];
        s.powered = false;
        s.atr = None;
        let atr = self.power_on(link, slot)?;
        Ok(Connected {
            atr,
            generation: self.slots[slot].generation,
        })
    }

    /// IccPowerOn; records the ATR and announces the card if not yet done.
    fn power_on<P: Port>(&mut self, link: &mut Link<P>, slot: usize) -> Result<Vec<u8>, Fail> {
        let answer = self.exchange(link, &Command::power_on(slot as u8), true)?;
        self.check_answer(slot, &answer, false)?;
        let atr = answer.data;
        if atr.len() < 2 || atr.len() > MAX_ATR_LEN {
            return Err(Fail::Transport(TransportError::Protocol(format!(
                "ATR of {} bytes is outside 2..={MAX_ATR_LEN}",
                atr.len()
            ))));
        }
        debug!(slot, atr = %hex::encode_upper(&atr), "card powered");
        let s = &mut self.slots[slot];
        s.present = true;
        s.powered = true;
        s.atr = Some(atr.clone());
        if !s.announced {
            s.announced = true;
            self.emit(ReaderEvent::CardInserted {
                id: self.slot_id(slot),
                atr: atr.clone(),
            });
        }
        Ok(atr)
    }

    /// Maps a failed or card-less answer to a typed error, updating presence.
    /// `in_session`: the caller was talking to a card (transmit), so losing
    /// it is `CardRemoved` rather than `NoCard`.
    fn check_answer(&mut self, slot: usize, answer: &Answer, in_session: bool) -> Result<(), Fail> {
        let lost = if in_session {
            TransportError::CardRemoved
        } else {
            TransportError::NoCard
        };
        if answer.icc == IccStatus::Absent {
            self.card_gone(slot);
            return Err(Fail::Transport(lost));
        }
        match answer.command {
            CommandStatus::Processed => Ok(()),
            // Consumed by the link; seeing one here is a reader bug.
            CommandStatus::TimeExtension => Err(Fail::Transport(TransportError::Protocol(
                "unexpected time-extension answer".into(),
            ))),
            CommandStatus::Failed => Err(Fail::Transport(match answer.error {
                ccid::ICC_MUTE => {
                    // The card is there but did not answer: whatever session
                    // it had is lost, it needs a new power-on.
                    let s = &mut self.slots[slot];
                    if s.powered {
                        s.powered = false;
                        s.atr = None;
                        s.generation += 1;
                    }
                    if in_session {
                        TransportError::CardRemoved
                    } else {
                        TransportError::Protocol(format!(
                            "the card does not answer: {}",
                            ccid::error_name(answer.error)
                        ))
                    }
                }
                ccid::PIN_TIMEOUT => TransportError::PinTimeout,
                ccid::PIN_CANCELLED => TransportError::PinCancelled,
                ccid::CMD_SLOT_BUSY => TransportError::Busy,
                code => TransportError::Protocol(format!(
                    "{} failed: {}",
                    ccid::message_name(answer.message_type),
                    ccid::error_name(code)
                )),
            })),
        }
    }

    /// One exchange on the line, then the card movements notified during it
    /// are applied: they are older than the answer (the reader sends them
    /// after our command and before its answer), so they must be taken into
    /// account before the answer is interpreted.
    fn exchange<P: Port>(
        &mut self,
        link: &mut Link<P>,
        cmd: &Command,
        watch_movement: bool,
    ) -> Result<Answer, Fail> {
        let result = link.transact(cmd, self.cfg.answer_timeout, watch_movement);
        self.apply_movements(link);
        Ok(result?)
    }

    /// [`Self::exchange`] with an explicit budget.
    fn exchange_within<P: Port>(
        &mut self,
        link: &mut Link<P>,
        cmd: &Command,
        budget: Budget,
        watch_movement: bool,
    ) -> Result<Answer, Fail> {
        let result = link.transact_within(cmd, budget, watch_movement);
        self.apply_movements(link);
        Ok(result?)
    }
}
