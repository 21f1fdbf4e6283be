//! lecteurd's command line, in the library so that `lecteur generate-assets`
//! can write its man page and completions from the real definition.

use clap::Parser;
use std::path::PathBuf;

// No doc comment: on a clap-derived item it is --help text (see `about`).
#[allow(missing_docs)]
#[derive(Parser)]
#[command(
    name = "lecteurd",
    version,
    about = "Daemon for French health smart cards (CPS, carte Vitale)"
)]
pub struct LecteurdArgs {
    /// Socket path (default: $LECTEUR_SOCKET, $XDG_RUNTIME_DIR/lecteur.sock, /run/lecteur/lecteur.sock; Windows: the pipe \\.\pipe\lecteur).
    #[arg(long)]
    pub socket: Option<PathBuf>,
    /// Do not use PC/SC (pcscd).
    #[arg(long)]
    pub no_pcsc: bool,
    /// A CCID-over-serial reader, PATH[:PROFILE] (GemPCTwin, GemCoreSIMPro, GemCorePOSPro, GemPCPinPad;
    /// without PROFILE, the model the reader's firmware names).
    #[arg(long, value_name = "PATH[:PROFILE]")]
    pub serial: Vec<String>,
    /// Add the built-in simulated two-slot reader (CPS3 in slot 0, Vitale 2 in slot 1);
    /// development builds only (the cargo feature `sim`), not the Debian package.
    #[arg(long)]
    pub sim: bool,
    /// Cards of the simulated reader's slots, e.g. `cps4,vitale2-6-beneficiaries,empty` (implies --sim).
    #[arg(long, value_name = "CARD,CARD", value_delimiter = ',')]
    pub sim_cards: Vec<String>,
    /// Drop a PIN verification unused for this many seconds (the card is reset) [default: 900].
    #[arg(long, value_name = "SECONDS")]
    pub pin_idle_timeout: Option<u64>,
    /// Answer `reader_busy` to a request that waited this long for a card another application holds [default: 5].
    #[arg(long, value_name = "SECONDS")]
    pub card_wait: Option<u64>,
    /// Directory of card profiles (cps3.toml, cps4.toml, vitale2.toml, readers.toml, vihf.toml) replacing the built-in ones.
    #[arg(long = "profiles", value_name = "DIR")]
    pub profiles_dir: Option<PathBuf>,
    /// Group owning the socket (mode 0660), by name or number: its members may connect.
    /// Windows: a SID or SDDL alias that may open the pipe instead of interactive users.
    #[arg(long, value_name = "GROUP")]
    pub socket_group: Option<String>,
    /// Serve only these uids (repeat the option); others are refused with `not_allowed`.
    #[arg(long, value_name = "UID")]
    pub allow_uid: Vec<u32>,
    /// Windows: only these user SIDs may open the pipe and are served (repeat the option).
    #[arg(long, value_name = "SID")]
    pub allow_sid: Vec<String>,
    /// Requests per second one connection may send (0: no limit); beyond, `rate_limited` [default: 2000].
    #[arg(long, value_name = "N")]
    pub max_rate: Option<u32>,
    /// Configuration file; options given here override it [default: /etc/lecteur/lecteur.toml, on Windows %ProgramData%\lecteur\lecteur.toml, if present].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}
