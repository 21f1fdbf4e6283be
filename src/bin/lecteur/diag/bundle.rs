//! `--bundle FILE`: a .tar.gz for a support ticket with the report (text and
//! JSON), lecteurd's recent log and its APDU trace (masked by lecteurd
//! already), every file through the one redaction.
//! Archived by the system's `tar` (essential on Debian/Ubuntu, always
//! present): two crates for one archive of a few small files is not worth it.

use super::probe::command_output;
use super::redact::Redactor;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Why the bundle was not written.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BundleError {
    #[error("{}: {source}", path.display())]
    File { path: PathBuf, source: std::io::Error },
    #[error("cannot run tar: {0}")]
    Tar(std::io::Error),
    #[error("tar failed: {0}")]
    TarFailed(String),
}

fn file_error(path: &Path) -> impl FnOnce(std::io::Error) -> BundleError + '_ {
    move |source| BundleError::File {
        path: path.to_path_buf(),
        source,
    }
}

pub(crate) fn write(
    file: &Path,
    text: &str,
    json: &str,
    trace: &str,
    names: &[String],
) -> Result<(), BundleError> {
    let redactor = Redactor::new(names);
    let mut rnd = [0u8; 8];
    let _ = getrandom::getrandom(&mut rnd);
    let work = std::env::temp_dir().join(format!(
        "lecteur-diag-{}-{}",
        std::process::id(),
        hex::encode(rnd)
    ));
    let dir = work.join("lecteur-diag");
    super::os::create_private_dir(&dir).map_err(file_error(&dir))?;
    let result = fill(&dir, text, json, trace, &redactor).and_then(|()| archive(&work, file));
    let _ = std::fs::remove_dir_all(&work);
    result
}

fn fill(dir: &Path, text: &str, json: &str, trace: &str, r: &Redactor) -> Result<(), BundleError> {
    let put = |name: &str, content: &str| -> Result<(), BundleError> {
        let path: PathBuf = dir.join(name);
        std::fs::write(&path, r.redact(content)).map_err(file_error(&path))
    };
    put("report.txt", text)?;
    put("report.json", json)?;
    put("trace.txt", trace)?;
    let log = command_output(
        "journalctl",
        &["-u", "lecteurd", "-n", "500", "--no-pager"],
        Duration::from_secs(10),
    );
    put(
        "lecteurd.log",
        &log.unwrap_or_else(|| {
            "journalctl is not available or did not answer in 10 s: no lecteurd log\n".into()
        }),
    )?;
    put(
        "README.txt",
        "lecteur diag bundle. NIRs are masked, names replaced by salted hashes (name#...), no PIN.\n\
         trace.txt: lecteurd's recent APDU exchanges, command data shown only when known safe, \
         response data never.\n",
    )
}

fn archive(work: &Path, file: &Path) -> Result<(), BundleError> {
    let out = std::process::Command::new("tar")
        .arg("-czf")
        .arg(file)
        .arg("-C")
        .arg(work)
        .arg("lecteur-diag")
        .output()
        .map_err(BundleError::Tar)?;
    if out.status.success() {
        Ok(())
    } else {
        Err(BundleError::TarFailed(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ))
    }
}
