//! The lecteurd under load: one this tool starts (`lecteurd --no-pcsc --sim`,
//! found beside this program), or one already running, given by pid and socket.

use crate::error::LoadError;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) struct Target {
    pub socket: PathBuf,
    pub pid: Option<u32>,
    /// The lecteurd this tool started, killed on drop.
    child: Option<Child>,
    /// Its log, where it traces each APDU's header.
    log: Option<PathBuf>,
    /// Its directory, removed on drop.
    dir: Option<PathBuf>,
    /// From spawning to the socket accepting a connection.
    pub started_in: Option<Duration>,
}

impl Drop for Target {
    fn drop(&mut self) {
        if let Some(c) = &mut self.child {
            let _ = c.kill();
            let _ = c.wait();
        }
        if let Some(d) = &self.dir {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

impl Target {
    /// Starts `lecteurd --no-pcsc --sim` on a socket of its own, logging only
    /// warnings and APDU headers (to count the APDUs sent).
    pub(crate) fn start(extra: &[String]) -> Result<Target, LoadError> {
        let exe = std::env::current_exe().map_err(LoadError::Exe)?;
        let lecteurd = exe.with_file_name(format!("lecteurd{}", std::env::consts::EXE_SUFFIX));
        let dir = std::env::temp_dir().join(format!("lecteur-load-{}", std::process::id()));
        let file = |path: &Path| {
            let path = path.to_path_buf();
            move |source| LoadError::File { path, source }
        };
        std::fs::create_dir_all(&dir).map_err(file(&dir))?;
        let socket = lecteur_proto::socket::private(&dir, &format!("load-{}", std::process::id()));
        let log = dir.join("lecteurd.log");
        let log_file = std::fs::File::create(&log).map_err(file(&log))?;
        let begin = Instant::now();
        let child = Command::new(&lecteurd)
            .args(["--no-pcsc", "--sim", "--socket"])
            .arg(&socket)
            .args(extra)
            .env("LECTEUR_LOG", "warn,lecteur::apdu=trace")
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .map_err(|source| LoadError::Spawn {
                path: lecteurd.clone(),
                source,
            })?;
        let mut target = Target {
            socket,
            pid: Some(child.id()),
            child: Some(child),
            log: Some(log),
            dir: Some(dir),
            started_in: None,
        };
        while begin.elapsed() < Duration::from_secs(10) {
            if lecteur_client::Stream::connect(&target.socket).is_ok() {
                target.started_in = Some(begin.elapsed());
                return Ok(target);
            }
            if let Some(Ok(Some(status))) = target.child.as_mut().map(Child::try_wait) {
                return Err(LoadError::Exited(status));
            }
            std::thread::sleep(Duration::from_micros(500));
        }
        Err(LoadError::NoSocket)
    }

    pub(crate) fn given(socket: &Path, pid: Option<u32>) -> Target {
        Target {
            socket: socket.to_path_buf(),
            pid,
            child: None,
            log: None,
            dir: None,
            started_in: None,
        }
    }

    /// lecteurd's resident set (VmRSS), in KiB.
    pub(crate) fn rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid?)).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }

    /// APDUs sent so far (only for a lecteurd this tool started).
    pub(crate) fn apdus(&self) -> Option<usize> {
        let log = std::fs::read_to_string(self.log.as_ref()?).ok()?;
        Some(log.lines().filter(|l| l.contains(" apdu")).count())
    }
}
