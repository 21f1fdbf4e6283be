//! The log of lecteurd as a Windows service: each event a record of the
//! Windows event log (Application log, source `lecteurd`), formatted as on
//! stderr (without the time: the event log has its own). The `eventlog`
//! crate does the Win32 calls (RegisterEventSourceW, ReportEventW) and
//! embeds the message resource the Event Viewer needs in lecteurd.exe.

use std::io::Write;
use std::sync::Arc;
use tracing_subscriber::fmt::MakeWriter;

/// The event source: registered by `lecteurd service install`, removed by
/// `uninstall` (it is a registry key under HKLM: administrators only).
pub(crate) const SOURCE: &str = "lecteurd";

/// Registers [`SOURCE`] with lecteurd.exe as its message file.
pub(crate) fn register() -> Result<(), eventlog::Error> {
    eventlog::register(SOURCE)
}

/// Removes [`SOURCE`]'s registry key; done if it is not there.
pub(crate) fn deregister() -> Result<(), std::io::Error> {
    let Err(e) = eventlog::deregister(SOURCE) else {
        return Ok(());
    };
    let below = std::error::Error::source(&e).and_then(|s| s.downcast_ref::<std::io::Error>());
    match below {
        Some(io) if io.kind() == std::io::ErrorKind::NotFound => Ok(()),
        _ => Err(std::io::Error::other(e)),
    }
}

/// Opens the event source; `None` when Windows refuses it (the caller then
/// keeps stderr, which a service has nowhere).
pub(crate) fn open() -> Option<EventLog> {
    eventlog::EventLog::new(SOURCE, log::Level::Trace)
        .ok()
        .map(|log| EventLog(Arc::new(log)))
}

/// A `tracing_subscriber` writer: one event, one record.
#[derive(Clone)]
pub(crate) struct EventLog(Arc<eventlog::EventLog>);

impl EventLog {
    /// One record outside the tracing log (before it exists).
    pub(crate) fn error(&self, message: &str) {
        send(&self.0, log::Level::Error, message.as_bytes());
    }
}

impl<'a> MakeWriter<'a> for EventLog {
    type Writer = Record<'a>;

    fn make_writer(&'a self) -> Record<'a> {
        self.record(log::Level::Info)
    }

    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> Record<'a> {
        self.record(match *meta.level() {
            tracing::Level::ERROR => log::Level::Error,
            tracing::Level::WARN => log::Level::Warn,
            tracing::Level::INFO => log::Level::Info,
            tracing::Level::DEBUG => log::Level::Debug,
            tracing::Level::TRACE => log::Level::Trace,
        })
    }
}

impl EventLog {
    fn record(&self, level: log::Level) -> Record<'_> {
        Record {
            log: &self.0,
            level,
            text: Vec::new(),
        }
    }
}

/// One event's text, sent when the formatter drops it.
pub(crate) struct Record<'a> {
    log: &'a eventlog::EventLog,
    level: log::Level,
    text: Vec<u8>,
}

impl Write for Record<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.text.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Record<'_> {
    fn drop(&mut self) {
        if !self.text.is_empty() {
            send(self.log, self.level, &self.text);
        }
    }
}

fn send(log: &eventlog::EventLog, level: log::Level, text: &[u8]) {
    let text = String::from_utf8_lossy(text);
    log::Log::log(
        log,
        &log::Record::builder()
            .level(level)
            .target(SOURCE)
            .args(format_args!("{}", text.trim()))
            .build(),
    );
}
