//! The module's one connection to lecteurd. A PIN verification belongs to
//! the connection that made it, so every session of every slot goes through
//! this one; it subscribes to card events to see cards move between calls.

use crate::error::Fail;
use lecteur_client::Client;
use lecteur_proto::event::Event;
use lecteur_proto::method::EventsSubscribe;
use lecteur_proto::system::NoParams;
use lecteur_proto::Method;
use std::path::PathBuf;
use std::time::Duration;

/// Long enough for a holder typing the PIN on a reader's keypad (lecteurd
/// gives them 30 s), short enough that a hung daemon does not hang the caller.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

pub(crate) struct Daemon {
    socket: PathBuf,
    client: Option<Client>,
    /// Bumped at every new connection: what the previous one verified is gone.
    pub connection: u64,
}

impl Daemon {
    /// The socket as the CLI finds it: `$LECTEUR_SOCKET`, then
    /// `$XDG_RUNTIME_DIR/lecteur.sock`, then `/run/lecteur/lecteur.sock`.
    pub(crate) fn new() -> Daemon {
        Daemon {
            socket: lecteur_client::socket_path(None),
            client: None,
            connection: 0,
        }
    }

    fn connected(&mut self) -> Result<&mut Client, Fail> {
        if self.client.is_none() {
            let mut c = Client::connect(&self.socket).map_err(|_| Fail::Lost)?;
            c.set_timeout(Some(ANSWER_TIMEOUT)).map_err(|_| Fail::Lost)?;
            c.call::<EventsSubscribe>(&NoParams {})?;
            self.connection += 1;
            self.client = Some(c);
        }
        self.client.as_mut().ok_or(Fail::Lost)
    }

    /// Calls `M`; a broken connection is dropped (the next call opens a new
    /// one).
    pub(crate) fn call<M: Method>(&mut self, params: &M::Params) -> Result<M::Result, Fail> {
        let answer = self.connected()?.call::<M>(params).map_err(Fail::from);
        if let Err(Fail::Lost) = answer {
            self.client = None;
        }
        answer
    }

    /// The card and reader events received so far.
    pub(crate) fn take_events(&mut self) -> Vec<Event> {
        self.client.as_mut().map(Client::take_events).unwrap_or_default()
    }
}
