//! The ledger of what `connect` changed, and the backups of the files it changed, both
//! in anyray's state dir (never beside the user's files: tools read stray files in their
//! config dirs). A lock file there serialises concurrent runs.
//!
//! `ledger.json` (mode 0600) maps each file path to a [`FileRecord`]: the prior value of
//! every key we set (or absent), the containers we created, whether we created the file,
//! and the SHA-256 of the bytes we wrote. That lets `disconnect` restore exactly and lets
//! `status` tell "connected" from "drifted".

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Format;
use crate::edit::{KeyPath, Scalar};
use crate::error::UserError;
use crate::fs_safe;

/// Bumped when the ledger's shape changes incompatibly.
const VERSION: u32 = 1;
/// How long a second anyray waits for the first to finish changing files.
const LOCK_WAIT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Ledger {
    pub version: u32,
    /// Keyed by the file path as the target names it (a symlink stays a symlink).
    pub files: BTreeMap<PathBuf, FileRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileRecord {
    /// The target that owns this file's changes (`claude-code`, `codex`, …).
    pub target: String,
    pub format: Format,
    /// The file did not exist before the first `connect`.
    pub created: bool,
    /// SHA-256 (hex) of the bytes anyray last wrote.
    pub written_sha256: String,
    /// The original bytes' backup, a file name in the backups dir (none for a new file).
    pub backup: Option<String>,
    pub keys: Vec<KeyRecord>,
    /// Containers (objects, tables, lists) that did not exist before, outermost first.
    #[serde(default)]
    pub created_containers: Vec<KeyPath>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyRecord {
    pub key: KeyPath,
    /// What the key held before the first `connect`; `None` when it was absent.
    pub prior: Option<Scalar>,
    /// What anyray wrote.
    pub written: String,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The state dir's layout: `ledger.json`, `connect.lock` and `backups/`.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    /// The store in the user's state dir.
    pub fn open() -> Result<Self> {
        Ok(Self::new(crate::paths::state_dir()?))
    }

    pub fn ledger_path(&self) -> PathBuf {
        self.dir.join("ledger.json")
    }

    fn backups(&self) -> PathBuf {
        self.dir.join("backups")
    }

    /// Serialises every run that changes files or the ledger.
    pub fn lock(&self) -> Result<fs_safe::Lock> {
        fs_safe::lock(&self.dir.join("connect.lock"), LOCK_WAIT)
    }

    /// The ledger; empty when there is none yet. A damaged ledger is an error that says
    /// where it is, because guessing would lose the user's prior values.
    pub fn load(&self) -> Result<Ledger> {
        let path = self.ledger_path();
        let Some(bytes) = fs_safe::read_optional(&path)? else {
            return Ok(Ledger {
                version: VERSION,
                files: BTreeMap::new(),
            });
        };
        let ledger: Ledger = serde_json::from_slice(&bytes).map_err(|e| {
            UserError::unsafe_change(format!(
                "{}:{}:{}: the ledger of connected files is damaged: {e}",
                path.display(),
                e.line(),
                e.column()
            ))
            .with_hint(
                "restore it from a backup or remove it (anyray then forgets what it changed)",
            )
        })?;
        if ledger.version > VERSION {
            return Err(UserError::unsafe_change(format!(
                "{} was written by a newer anyray (ledger version {})",
                path.display(),
                ledger.version
            ))
            .with_hint("upgrade anyray, then run the command again")
            .into());
        }
        Ok(ledger)
    }

    pub fn save(&self, ledger: &Ledger) -> Result<()> {
        let mut text = serde_json::to_string_pretty(ledger)?;
        text.push('\n');
        fs_safe::atomic_write(&self.ledger_path(), text.as_bytes(), Some(0o600))
    }

    /// Keeps the original bytes of `path` (0600: settings files can hold keys).
    pub fn backup(&self, path: &Path, bytes: &[u8]) -> Result<String> {
        let file_name = path
            .file_name()
            .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
        let path_hash = sha256_hex(path.as_os_str().as_encoded_bytes());
        let name = format!("{file_name}.{}.orig", &path_hash[..16]);
        let dir = self.backups();
        create_private_dir(&dir)?;
        fs_safe::atomic_write(&dir.join(&name), bytes, Some(0o600))
            .with_context(|| format!("cannot back up {}", path.display()))?;
        Ok(name)
    }

    pub fn read_backup(&self, name: &str) -> Result<Vec<u8>> {
        let path = self.backups().join(name);
        std::fs::read(&path).map_err(|e| {
            UserError::unsafe_change(format!(
                "the backup {} is missing or unreadable: {e}",
                path.display()
            ))
            .with_hint("run `anyray disconnect --force` to restore key by key instead")
            .into()
        })
    }

    pub fn remove_backup(&self, name: &str) {
        // A leftover backup is harmless; the ledger no longer points at it.
        let _ = std::fs::remove_file(self.backups().join(name));
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))
}
