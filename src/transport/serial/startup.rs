//! The start-up sequence: the firmware-version escape (proves a reader is
//! there and names its model, hence the profile), then card-movement
//! notification, asynchronous if the reader takes it.

use tracing::info;

use super::ccid::{
    self, Command, CommandStatus, ESCAPE_CARD_MOVEMENT_ASYNC, ESCAPE_CARD_MOVEMENT_SYNC, ESCAPE_FIRMWARE,
};
use super::config::SerialConfig;
use super::link::{Link, LinkError};
use super::model::{self, ModelChoice, SerialModel};
use super::port::Port;

/// How the reader reports card movements, as agreed at start-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Notification {
    /// `50 <bmSlotICCState>` as soon as a card moves, also between commands:
    /// the idle link reads it at once, polling is only a safety net.
    Async,
    /// Only after the host's next command (what pcscd's driver asks for):
    /// presence polling is what finds card movements.
    Sync,
}

/// What start-up learnt of the reader.
#[derive(Debug, Clone)]
pub(super) struct Started {
    pub notification: Notification,
    pub firmware: String,
    pub model: SerialModel,
    pub chosen_by: ModelChoice,
}

/// Why a reader did not start: the reason shown while it is unavailable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum StartupError {
    #[error("reader not connected ({0})")]
    NotConnected(LinkError),
    #[error("reader not connected (firmware escape failed: {0})")]
    FirmwareEscape(String),
    #[error("card-movement notification set-up failed ({0})")]
    NotificationLink(LinkError),
    #[error("card-movement notification set-up failed: {0}")]
    Notification(String),
}

/// Runs the start-up escapes with the `configured` model, or the one the
/// firmware names (the link's echo is taken either way until then); says
/// what was learnt.
pub(super) fn startup<P: Port>(
    link: &mut Link<P>,
    cfg: &SerialConfig,
    configured: Option<SerialModel>,
) -> Result<Started, StartupError> {
    let firmware = link
        .transact(&Command::escape(ESCAPE_FIRMWARE), cfg.startup_timeout, false)
        .map_err(StartupError::NotConnected)?;
    if firmware.command != CommandStatus::Processed {
        return Err(StartupError::FirmwareEscape(ccid::error_name(firmware.error)));
    }
    let version: String = firmware
        .data
        .iter()
        .take(64)
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                b as char
            } else {
                '.'
            }
        })
        .collect();
    let version = version.trim_end_matches('.').to_string();
    info!(firmware = %version, "serial reader answered");
    let (model, chosen_by) = model::choose(configured, &version);
    info!(
        profile = model.key,
        chosen_by = chosen_by.as_str(),
        "serial reader profile"
    );
    link.set_echo(model.echo);
    let started = |notification| Started {
        notification,
        firmware: version.clone(),
        model,
        chosen_by,
    };
    let asked = |link: &mut Link<P>, data: &[u8]| {
        link.transact(&Command::escape(data), cfg.answer_timeout, false)
            .map_err(StartupError::NotificationLink)
    };
    let notify = asked(link, ESCAPE_CARD_MOVEMENT_ASYNC)?;
    if notify.command == CommandStatus::Processed {
        return Ok(started(Notification::Async));
    }
    info!(
        error = %ccid::error_name(notify.error),
        "no asynchronous card-movement notification: presence is polled fast"
    );
    let notify = asked(link, ESCAPE_CARD_MOVEMENT_SYNC)?;
    if notify.command != CommandStatus::Processed {
        return Err(StartupError::Notification(ccid::error_name(notify.error)));
    }
    Ok(started(Notification::Sync))
}
