//! The firmware string a probed serial reader answers. lecteur's serial
//! transport only logs it (`firmware` field of "serial reader answered", on
//! the thread `serial-<index>`), so diag listens for that one field; nothing
//! else of any log event is kept or printed.

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex, OnceLock};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

type Seen = Arc<Mutex<HashMap<String, String>>>;

static SEEN: OnceLock<Seen> = OnceLock::new();

struct Listener(Seen);

struct FirmwareField(Option<String>);

impl Visit for FirmwareField {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        if field.name() == "firmware" {
            // `%version` is a Display wrapper: Debug shows it as displayed.
            let text: String = format!("{value:?}")
                .chars()
                .filter(|c| !c.is_control())
                .take(64)
                .collect();
            self.0 = Some(text);
        }
    }
}

impl<S: tracing::Subscriber> Layer<S> for Listener {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let mut v = FirmwareField(None);
        event.record(&mut v);
        if let (Some(fw), Some(thread)) = (v.0, std::thread::current().name()) {
            if let Ok(mut seen) = self.0.lock() {
                seen.insert(thread.to_string(), fw);
            }
        }
    }
}

/// Installs the listener once for the process (the CLI logs nothing else).
pub fn listen() {
    SEEN.get_or_init(|| {
        let seen = Seen::default();
        let subscriber = tracing_subscriber::registry().with(Listener(seen.clone()));
        let _ = tracing::subscriber::set_global_default(subscriber);
        seen
    });
}

/// The firmware string the reader started as number `index` answered.
pub fn of(index: usize) -> Option<String> {
    let seen = SEEN.get()?.lock().ok()?;
    seen.get(&format!("serial-{index}")).cloned()
}
