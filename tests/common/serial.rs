//! `lecteur-sim serial` on a pseudo-terminal, and `lecteurd --serial` on it:
//! the set-up of every serial end-to-end test.

use super::{start_sim, wait_for_path, Daemon, Proc};
use std::path::{Path, PathBuf};

/// A simulated serial reader, ready to be opened.
pub(crate) struct SerialSim {
    pub proc: Proc,
    /// The pty's link (`dir/ttySIM`).
    pub link: PathBuf,
    /// Its control socket (`dir/serial.ctl`).
    pub control: PathBuf,
    /// `PATH:PROFILE` for `lecteurd --serial`.
    pub spec: String,
}

/// lecteurd's profile name for a `lecteur-sim serial --reader` name.
fn profile(reader: &str) -> &'static str {
    match reader {
        "gemcore-sim-pro" => "GemCoreSIMPro",
        "gempc-twin" => "GemPCTwin",
        "gempc-pinpad" => "GemPCPinPad",
        other => panic!("no lecteurd profile for the simulated reader {other}"),
    }
}

impl SerialSim {
    /// Starts a `reader` (`gemcore-sim-pro`, `gempc-twin`, `gempc-pinpad`)
    /// with the cards `slots` (`cps3,vitale2`) in `dir` (log
    /// `sim-serial.log`), and waits for its link and control socket.
    pub(crate) fn start(dir: &Path, reader: &str, slots: &str) -> SerialSim {
        let link = dir.join("ttySIM");
        let control = dir.join("serial.ctl");
        let proc = start_sim(
            dir,
            "sim-serial.log",
            &[
                "serial",
                "--link",
                link.to_str().unwrap(),
                "--reader",
                reader,
                "--slots",
                slots,
                "--control",
                control.to_str().unwrap(),
            ],
        );
        wait_for_path(&link);
        wait_for_path(&control);
        let spec = format!("{}:{}", link.display(), profile(reader));
        SerialSim {
            proc,
            link,
            control,
            spec,
        }
    }

    /// A GemCore SIM Pro with a CPS3 and a Vitale 2, as most tests use.
    pub(crate) fn two_cards(dir: &Path) -> SerialSim {
        Self::start(dir, "gemcore-sim-pro", "cps3,vitale2")
    }

    /// `lecteurd --no-pcsc --serial` on this reader.
    pub(crate) fn daemon(&self) -> Daemon {
        Daemon::start(&["--no-pcsc", "--serial", &self.spec])
    }
}
