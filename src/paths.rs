//! Where anyray keeps its own things, per OS, through `dirs`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::envvars;
use crate::error::UserError;

const APP: &str = "anyray";

/// `dirs::config_dir()/anyray`: the config file, token file and shell env files.
pub(crate) fn config_dir() -> Result<PathBuf> {
    dirs::config_dir()
        .map(|d| d.join(APP))
        .context("cannot find the user config directory (is HOME set?)")
}

/// The default config file path.
pub(crate) fn default_config_file() -> Result<PathBuf> {
    Ok(config_dir()?.join("config.toml"))
}

/// The state dir: the ledger of what `connect` changed, and backups.
/// `dirs::state_dir()` exists on Linux only; elsewhere the local data dir is used.
/// A relative `ANYRAY_STATE_DIR` is refused: it would mean another ledger (and other
/// backups) in every directory anyray is run from.
pub(crate) fn state_dir() -> Result<PathBuf> {
    if let Some(dir) = envvars::get(envvars::ANYRAY_STATE_DIR) {
        let dir = PathBuf::from(dir);
        if !dir.is_absolute() {
            return Err(UserError::usage(format!(
                "{} must be an absolute path, not {}",
                envvars::ANYRAY_STATE_DIR,
                dir.display()
            ))
            .with_hint("set it to an absolute path, or unset it for the default")
            .into());
        }
        return Ok(dir);
    }
    dirs::state_dir()
        .or_else(dirs::data_local_dir)
        .map(|d| d.join(APP))
        .context("cannot find the user state directory (is HOME set?)")
}

/// The user's home directory.
pub(crate) fn home_dir() -> Result<PathBuf> {
    dirs::home_dir().context("cannot find the home directory (is HOME set?)")
}

/// A path for humans: the home dir shown as `~`.
pub(crate) fn display_path(path: &Path) -> String {
    if let Ok(home) = home_dir()
        && let Ok(rest) = path.strip_prefix(&home)
    {
        return Path::new("~").join(rest).display().to_string();
    }
    path.display().to_string()
}

/// The absolute path the tools' credential helpers run anyray by: an `anyray` on `PATH`
/// that is this very program (a package manager's link, such as
/// `/opt/homebrew/bin/anyray`, survives an upgrade where the versioned file it points
/// to does not), else this program's own path.
pub(crate) fn own_program() -> PathBuf {
    let name = if cfg!(windows) {
        "anyray.exe"
    } else {
        "anyray"
    };
    let Ok(exe) = std::env::current_exe() else {
        return PathBuf::from(name);
    };
    let real = std::fs::canonicalize(&exe).ok();
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .filter(|dir| dir.is_absolute())
            .map(|dir| dir.join(name))
            .find(|candidate| real.is_some() && std::fs::canonicalize(candidate).ok() == real)
    });
    on_path.unwrap_or(exe)
}
