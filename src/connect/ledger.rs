//! The ledger of what `connect` changed, and the backups of the files it changed, both
//! in anyray's state dir (never beside the user's files: tools read stray files in their
//! config dirs). A lock file there serialises the runs that change anything.
//!
//! `ledger.json` (0600) maps each file path to a [`FileRecord`]: the prior value of every
//! key we set (or absent), the containers we created, whether we created the file, the
//! SHA-256 of the bytes we wrote, and the backup of the original. It also holds the one
//! change under way ([`Intent`], see [`super::journal`]), written before the user's file is
//! touched, so that a run killed at any point is finished or rolled back by the next.
//!
//! Nothing in the state dir is trusted blindly. The dir, the ledger, `backups/` and each
//! backup must belong to the user running anyray and be writable by nobody else, or
//! anyray refuses (exit 2) before doing anything: otherwise another local user could make
//! `disconnect` write their text into `~/.bashrc`. Backup names are checked against the
//! one scheme anyray uses (no separators, no `..`), so a ledger can never make anyray
//! read or delete anything outside `backups/`. Backups are named after the SHA-256 of the
//! bytes they hold, which is checked on every read: a backup only ever stands for the
//! exact bytes it was taken from.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Format, TargetName};
use crate::edit::{KeyPath, Scalar, Type};
use crate::error::UserError;
use crate::fs_safe;

/// Bumped when the ledger's shape changes so that an older anyray must not use it:
/// version 2 added the pending intent, which an older anyray would silently ignore;
/// version 3 added targets (opencode, continue, aider, goose, zed, droid, crush) and a file format
/// (dotenv) an older one cannot name; version 4 added the qwen and copilot targets and
/// typed (number, boolean) keys, which an older one would read as strings.
const VERSION: u32 = 4;
/// How long a second anyray waits for the first to finish changing files.
const LOCK_WAIT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ledger {
    pub version: u32,
    /// Keyed by the file path as the target names it (a symlink stays a symlink).
    pub files: BTreeMap<PathBuf, FileRecord>,
    /// The change under way when anyray last stopped, if it was killed mid-change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<Intent>,
    /// Backups no record needs any more: removed after the ledger that dropped them is
    /// on disk (a kill in between leaves only a name here, never a needed backup gone).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stale_backups: Vec<String>,
}

impl Default for Ledger {
    fn default() -> Self {
        Self {
            version: VERSION,
            files: BTreeMap::new(),
            pending: None,
            stale_backups: Vec::new(),
        }
    }
}

impl Ledger {
    /// Whether a record, or the change under way, still needs this backup.
    pub(crate) fn needs_backup(&self, name: &str) -> bool {
        let pending = self.pending.as_ref();
        self.files
            .values()
            .chain(pending.and_then(|p| p.record.as_ref()))
            .any(|r| r.backup.as_deref() == Some(name))
            || pending.is_some_and(|p| p.new_backup.as_deref() == Some(name))
    }

    /// Every backup name the ledger mentions.
    fn backup_names(&self) -> impl Iterator<Item = &str> {
        let pending = self.pending.as_ref();
        self.files
            .values()
            .chain(pending.and_then(|p| p.record.as_ref()))
            .filter_map(|r| r.backup.as_deref())
            .chain(pending.and_then(|p| p.new_backup.as_deref()))
            .chain(self.stale_backups.iter().map(String::as_str))
    }
}

/// A change to one user file, recorded durably before the file is touched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Intent {
    pub path: PathBuf,
    /// SHA-256 of the file before the change; `None`: it did not exist.
    pub before: Option<String>,
    /// SHA-256 of the file after the change; `None`: it is deleted.
    pub after: Option<String>,
    /// The file's record once the change is done; `None`: anyray forgets the file.
    pub record: Option<FileRecord>,
    /// A backup taken for this change alone (dropped again if the change is rolled
    /// back); it may not be written yet.
    pub new_backup: Option<String>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileRecord {
    /// The target that owns this file's changes (`claude-code`, `codex`, …).
    pub target: TargetName,
    pub format: Format,
    /// The file did not exist before the first `connect`.
    pub created: bool,
    /// SHA-256 (hex) of the bytes anyray last wrote.
    pub written_sha256: String,
    /// The original bytes' backup, a file name in the backups dir (none for a new file).
    pub backup: Option<String>,
    /// Whether nothing but anyray changed the file since the backup was taken (or since
    /// anyray created it). A `connect` over a file someone else edited clears it for good:
    /// the backup no longer stands for the file, and `disconnect` restores key by key.
    #[serde(default = "yes")]
    pub restorable: bool,
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
    /// A seed (a value written only where there was none, that the user may change,
    /// such as a model id): a changed seed is no conflict on disconnect (see
    /// [`super::plan_disconnect`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub seed: bool,
    /// A JSON number or boolean, where a tool needs one; a string when absent.
    #[serde(default, skip_serializing_if = "Type::is_string")]
    pub ty: Type,
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

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub(crate) fn ledger_path(&self) -> PathBuf {
        self.dir.join("ledger.json")
    }

    pub fn backups_dir(&self) -> PathBuf {
        self.dir.join("backups")
    }

    /// Where a backup lives; the name must be one anyray makes.
    pub(crate) fn backup_path(&self, name: &str) -> Result<PathBuf> {
        BackupName::parse(name).ok_or_else(|| bad_backup_name(&self.ledger_path(), name))?;
        Ok(self.backups_dir().join(name))
    }

    /// Refuses a state dir (or `backups/`) another user owns or can write.
    fn check_dirs(&self) -> Result<()> {
        for (dir, follow) in [(self.dir.clone(), true), (self.backups_dir(), false)] {
            let meta = if follow {
                std::fs::metadata(&dir)
            } else {
                std::fs::symlink_metadata(&dir)
            };
            match meta {
                Ok(meta) if meta.is_dir() => fs_safe::check_owned_private(&dir, &meta)?,
                Ok(_) => {
                    return Err(UserError::usage(format!(
                        "{} is not a directory; anyray keeps its state there",
                        dir.display()
                    ))
                    .with_hint("move it aside, or point ANYRAY_STATE_DIR elsewhere")
                    .into());
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e).with_context(|| format!("cannot read {}", dir.display())),
            }
        }
        Ok(())
    }

    /// Serialises every run that changes files or the ledger (after checking that the
    /// state dir is the user's alone: the lock file is created in it).
    pub fn lock(&self) -> Result<fs_safe::Lock> {
        self.check_dirs()?;
        fs_safe::lock(&self.dir.join("connect.lock"), LOCK_WAIT)
    }

    /// The ledger; empty when there is none yet. A damaged ledger is an error that says
    /// where it is, because guessing would lose the user's prior values; one that others
    /// could have written, or that names a backup anyray would never make, is refused.
    pub fn load(&self) -> Result<Ledger> {
        self.check_dirs()?;
        let path = self.ledger_path();
        if let Ok(meta) = std::fs::symlink_metadata(&path)
            && meta.is_file()
        {
            fs_safe::check_owned_private(&path, &meta)?;
        }
        let Some(bytes) = fs_safe::read_no_follow(&path)? else {
            return Ok(Ledger::default());
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
        if let Some(name) = ledger
            .backup_names()
            .find(|name| BackupName::parse(name).is_none())
        {
            return Err(bad_backup_name(&path, name).into());
        }
        let paths = ledger
            .files
            .keys()
            .chain(ledger.pending.as_ref().map(|p| &p.path));
        if let Some(relative) = paths.into_iter().find(|p| !p.is_absolute()) {
            return Err(UserError::usage(format!(
                "{} names the relative path {}; anyray only ever records absolute paths",
                path.display(),
                relative.display()
            ))
            .with_hint("remove the ledger if you did not edit it on purpose (anyray then forgets what it changed)")
            .into());
        }
        Ok(ledger)
    }

    /// Writes the ledger durably (temp file, fsync, rename, fsync of the dir).
    pub fn save(&self, ledger: &Ledger) -> Result<()> {
        let mut text = serde_json::to_string_pretty(&Ledger {
            version: VERSION,
            ..ledger.clone()
        })?;
        text.push('\n');
        fs_safe::create_private_dir(&self.dir)?;
        fs_safe::atomic_write_locked(&self.ledger_path(), text.as_bytes(), Some(0o600))
    }

    /// The name the backup of `bytes`, the original of `path`, gets: it carries the
    /// bytes' hash, so a backup of that name holds exactly these bytes.
    pub(crate) fn backup_name(path: &Path, bytes: &[u8]) -> String {
        BackupName::for_file(path, bytes)
    }

    /// Whether the backup `name` is there and holds `bytes`.
    pub(crate) fn holds_backup(&self, name: &str, bytes: &[u8]) -> bool {
        self.read_backup(name).is_ok_and(|held| held == bytes)
    }

    /// Writes a backup durably (0600: settings files can hold keys).
    pub(crate) fn write_backup(&self, name: &str, bytes: &[u8]) -> Result<()> {
        let path = self.backup_path(name)?;
        fs_safe::create_private_dir(&self.backups_dir())?;
        self.check_dirs()?;
        fs_safe::atomic_write_locked(&path, bytes, Some(0o600))
            .with_context(|| format!("cannot write the backup {}", path.display()))
    }

    /// A backup's bytes, checked against the hash its name carries.
    pub(crate) fn read_backup(&self, name: &str) -> Result<Vec<u8>> {
        let path = self.backup_path(name)?;
        let unusable = |why: String| -> anyhow::Error {
            UserError::unsafe_change(format!("the backup {} {why}", path.display()))
                .with_hint("run `anyray disconnect --force` to restore key by key instead")
                .into()
        };
        let meta = std::fs::symlink_metadata(&path)
            .map_err(|e| unusable(format!("is missing or unreadable: {e}")))?;
        if !meta.is_file() {
            return Err(unusable("is not a regular file".into()));
        }
        fs_safe::check_owned_private(&path, &meta)?;
        let bytes = fs_safe::read_no_follow(&path)?.ok_or_else(|| unusable("is missing".into()))?;
        if let Some(BackupName {
            content: Some(hash),
        }) = BackupName::parse(name)
            && sha256_hex(&bytes) != hash
        {
            return Err(unusable(
                "does not hold the bytes it was taken from (it was changed since)".into(),
            ));
        }
        Ok(bytes)
    }

    /// Deletes a backup no record needs (the caller holds the lock and has saved the
    /// ledger that no longer points at it).
    pub(crate) fn remove_backup(&self, name: &str) -> Result<()> {
        fs_safe::remove_locked(&self.backup_path(name)?)
    }
}

fn bad_backup_name(ledger: &Path, name: &str) -> UserError {
    UserError::usage(format!(
        "{} names the backup {name:?}, which is not a name anyray makes; refusing to read \
         or delete anything through it",
        ledger.display()
    ))
    .with_hint(
        "someone edited the ledger: check it, then remove it (anyray then forgets what it changed)",
    )
}

/// A backup's name: `<file name>.<16 hex of the path's SHA-256>.<SHA-256 of the bytes>.orig`.
/// Names of anyray 0.1's first ledgers (without the bytes' hash) are still accepted.
#[derive(Debug, PartialEq, Eq)]
struct BackupName {
    /// The SHA-256 of the bytes, when the name carries it.
    content: Option<String>,
}

impl BackupName {
    const SUFFIX: &str = ".orig";

    fn for_file(path: &Path, bytes: &[u8]) -> String {
        let mut stem: String = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                    c
                } else {
                    '_'
                }
            })
            .take(64)
            .collect();
        while stem.contains("..") {
            stem = stem.replace("..", "._");
        }
        let stem = match stem.trim_start_matches('.') {
            "" => "file",
            rest => rest,
        };
        let path_hash = sha256_hex(path.as_os_str().as_encoded_bytes());
        format!(
            "{stem}.{}.{}{}",
            &path_hash[..16],
            sha256_hex(bytes),
            Self::SUFFIX
        )
    }

    /// `None` for anything that is not exactly a name [`Self::for_file`] (or anyray 0.1)
    /// makes: no separators, no `..`, the hashes in place.
    fn parse(name: &str) -> Option<Self> {
        let hex = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit());
        if name.len() > 255 || name.contains(['/', '\\', '\0']) || name.contains("..") {
            return None;
        }
        let rest = name.strip_suffix(Self::SUFFIX)?;
        let (head, last) = rest.rsplit_once('.')?;
        let (stem, content) = if hex(last, 64) {
            let (stem, path_hash) = head.rsplit_once('.')?;
            hex(path_hash, 16).then_some((stem, Some(last.to_string())))?
        } else {
            hex(last, 16).then_some((head, None))?
        };
        (!stem.is_empty() && stem != ".").then_some(Self { content })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backup_names_are_checked() {
        let name = BackupName::for_file(Path::new("/h/.claude/settings.json"), b"{}\n");
        assert!(name.starts_with("settings.json."), "{name}");
        assert_eq!(
            BackupName::parse(&name),
            Some(BackupName {
                content: Some(sha256_hex(b"{}\n"))
            })
        );
        assert!(BackupName::parse("settings.json.0123456789abcdef.orig").is_some());
        for bad in [
            "",
            "../settings.json.0123456789abcdef.orig",
            "a/b.0123456789abcdef.orig",
            "..0123456789abcdef.orig",
            "x.0123456789abcdeg.orig",
            "x.0123456789abcdef.bak",
            ".0123456789abcdef.orig",
            "/etc/passwd",
        ] {
            assert_eq!(BackupName::parse(bad), None, "{bad:?}");
        }
        // Odd file names never make a name the check refuses.
        for odd in ["/h/..", "/h/...x", "/h/a b/é", "/"] {
            let name = BackupName::for_file(Path::new(odd), b"");
            assert!(BackupName::parse(&name).is_some(), "{odd} -> {name}");
        }
    }
}
