//! `lecteur generate-assets DIR` (packaging only, unknown to clap): the man pages and shell completions
//! of lecteur and lecteurd, written from their clap definitions so that they
//! never drift from the binaries. Used by `scripts/deb`.

use clap::{Command, CommandFactory};
use clap_complete::Shell;
use std::path::{Path, PathBuf};

/// A file of the assets that could not be written.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub(crate) struct AssetsError {
    path: PathBuf,
    source: std::io::Error,
}

pub(crate) fn run(dir: &Path) -> Result<(), AssetsError> {
    // Both parsers are named after the package by default; the pages are not.
    let lecteur = super::Cli::command().name("lecteur");
    let lecteurd = lecteur::cli::LecteurdArgs::command().name("lecteurd");
    man(dir, lecteur.clone(), "1")?;
    man(dir, lecteurd.clone(), "8")?;
    for cmd in [lecteur, lecteurd] {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            completion(dir, cmd.clone(), shell)?;
        }
    }
    Ok(())
}

fn man(dir: &Path, cmd: Command, section: &str) -> Result<(), AssetsError> {
    let path = dir.join("man").join(format!("{}.{section}", cmd.get_name()));
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd)
        .section(section)
        .render(&mut page)
        .map_err(|source| AssetsError {
            path: path.clone(),
            source,
        })?;
    write(&path, &page)
}

fn completion(dir: &Path, mut cmd: Command, shell: Shell) -> Result<(), AssetsError> {
    let name = cmd.get_name().to_string();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, &name, &mut script);
    // Each shell's own file name: what its completion loader looks for.
    let file = match shell {
        Shell::Zsh => format!("_{name}"),
        Shell::Fish => format!("{name}.fish"),
        _ => name,
    };
    write(
        &dir.join("completions").join(shell.to_string()).join(file),
        &script,
    )
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), AssetsError> {
    let fail = |source| AssetsError {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(fail)?;
    }
    std::fs::write(path, bytes).map_err(fail)
}
