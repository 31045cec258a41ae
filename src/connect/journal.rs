//! Crash safety by construction: a write-ahead intent in the ledger.
//!
//! Every change to a user's file is one transaction under the connect lock:
//!
//! 1. **Recover.** An intent left by a killed run is finished or rolled back first, and
//!    the temp files killed writes left behind (ours only: `.anyray-txn-XXXXXX.tmp`, in
//!    the dirs anyray writes to) are removed.
//! 2. **Record the intent**: `ledger.json` gets a `pending` entry — the file, the SHA-256
//!    of its bytes before and after, its whole record as it will be, and the backup it
//!    is about to take — written atomically and synced. The records are not changed yet.
//! 3. **Back up** (the first `connect` of a file): the current bytes go to `backups/`,
//!    named after their SHA-256, written and synced (file and dir). The intent comes
//!    first so that no backup ever exists that the ledger does not account for.
//! 4. **Replace the file** atomically (temp file, fsync, rename, fsync the dir), or delete it.
//! 5. **Commit**: one more atomic ledger write puts the record in place (or drops it, for
//!    `disconnect`) and clears the intent. Only then is a backup no record needs deleted.
//!
//! Recovery compares the file's SHA-256 with the intent: equal to *after*, the change
//! landed and is committed; equal to *before*, it did not and the intent is dropped (with
//! a backup taken for it alone). Anything else means someone changed the file after the
//! kill: neither the old nor the new record can vouch for it, so everything is kept — the
//! record with the values the file really holds, marked not restorable from the backup,
//! so that `disconnect` puts anyray's keys back one by one and keeps the rest. A backup
//! is never deleted on a guess.
//!
//! Why the intent lives in `ledger.json` rather than in a separate journal: the commit
//! must change the record and clear the intent together, and one rename does both. So at
//! every instant the state on disk is one of: nothing started; an intent with the file
//! old (its backup written or not yet) or new; the record committed, its stale backup
//! still there or gone. The crash-consistency test (tests/it/connect_crash.rs) kills runs at
//! each of these steps.

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::ledger::Intent;
use super::{
    ConnectPlan, DisconnectPlan, FileRecord, Ledger, RestoreMethod, Store, TargetName, parse_file,
    sha256_hex,
};
use crate::error::UserError;
use crate::fs_safe;

/// The ledger as it will be once any interrupted change is settled, without writing
/// anything: for the read-only commands (`status`, `--check`, `--dry-run`).
pub(crate) fn load_settled(store: &Store) -> Result<Ledger> {
    let mut ledger = store.load()?;
    recover(&mut ledger);
    Ok(ledger)
}

/// Finishes or rolls back the pending intent, in memory; returns whether there was one.
fn recover(ledger: &mut Ledger) -> bool {
    let Some(intent) = ledger.pending.take() else {
        return false;
    };
    // An unreadable file counts as changed by someone else: keep everything.
    let now = fs_safe::read_optional(&intent.path).ok();
    let hash = now.as_ref().map(|bytes| bytes.as_deref().map(sha256_hex));
    match hash {
        Some(hash) if hash == intent.after => commit(ledger, intent),
        Some(hash) if hash == intent.before => roll_back(ledger, intent),
        _ => keep_uncertain(ledger, intent, now.flatten().as_deref()),
    }
    true
}

fn commit(ledger: &mut Ledger, intent: Intent) {
    match intent.record {
        Some(record) => {
            ledger.files.insert(intent.path, record);
        }
        None => {
            if let Some(backup) = ledger.files.remove(&intent.path).and_then(|r| r.backup) {
                ledger.stale_backups.push(backup);
            }
        }
    }
}

fn roll_back(ledger: &mut Ledger, intent: Intent) {
    ledger.stale_backups.extend(intent.new_backup);
}

/// The file is neither as before nor as after: someone changed it after the kill. The
/// record stays (or comes in) with each key's `written` set to whichever of anyray's
/// values the file holds, and the backup no longer stands for the file.
fn keep_uncertain(ledger: &mut Ledger, intent: Intent, now: Option<&[u8]>) {
    match intent.record {
        Some(mut record) => {
            if let (Some(old), Some(bytes)) = (ledger.files.get(&intent.path), now)
                && let Ok(doc) = parse_file(&intent.path, record.format, Some(bytes))
            {
                for key in &mut record.keys {
                    let held = key
                        .kind
                        .get(doc.as_ref(), &key.key)
                        .ok()
                        .flatten()
                        .map(|s| s.value);
                    let earlier = old.keys.iter().find(|k| k.key == key.key);
                    if let (Some(held), Some(earlier)) = (held, earlier)
                        && held == earlier.written
                    {
                        key.written = held;
                    }
                }
            }
            record.restorable = false;
            ledger.files.insert(intent.path, record);
        }
        None => {
            if let Some(record) = ledger.files.get_mut(&intent.path) {
                record.restorable = false;
            }
        }
    }
}

/// A run that changes files: the lock, and the ledger with any interrupted change settled.
pub struct Txn<'a> {
    store: &'a Store,
    lock: fs_safe::Lock,
    ledger: Ledger,
}

impl<'a> Txn<'a> {
    /// The lock this change holds: other writes under it (the saved gateway) take it
    /// as proof.
    pub fn lock(&self) -> &fs_safe::Lock {
        &self.lock
    }

    /// Takes the lock, settles what a killed run left (its intent, its temp files, the
    /// backups it no longer needed) and returns the ledger to work on.
    pub fn begin(store: &'a Store) -> Result<Self> {
        let lock = store.lock()?;
        let mut ledger = store.load()?;
        // The dirs anyray writes to under the lock: its state, the files it recorded, and
        // its config dir (the saved gateway; `ConfigFile::save_locked` cleans any other).
        let mut dirs: Vec<PathBuf> = vec![store.dir().to_path_buf(), store.backups_dir()];
        dirs.extend(crate::paths::config_dir().ok());
        dirs.extend(
            ledger
                .files
                .keys()
                .chain(ledger.pending.as_ref().map(|p| &p.path))
                .filter_map(|path| real_parent(path)),
        );
        if recover(&mut ledger) {
            store.save(&ledger)?;
        }
        dirs.sort();
        dirs.dedup();
        for dir in &dirs {
            fs_safe::remove_stale_temps(dir);
        }
        let mut txn = Self {
            store,
            lock,
            ledger,
        };
        txn.remove_stale_backups();
        Ok(txn)
    }

    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    pub fn store(&self) -> &'a Store {
        self.store
    }

    /// Writes one planned `connect` change: backup, intent, file, commit.
    pub fn connect(&mut self, plan: &ConnectPlan, target: TargetName) -> Result<()> {
        if !plan.changed() {
            return Ok(());
        }
        let path = &plan.spec.path;
        ensure_unchanged(path, plan.before.as_deref())?;
        let before = plan.before.as_deref().map(sha256_hex);
        let (created, backup, restorable, new_backup) = match (&plan.base, &plan.before) {
            // Only if nothing but anyray changed the file since does the backup still
            // stand for it; once someone else did, never again.
            (Some(old), _) => (
                old.created,
                old.backup.clone(),
                old.restorable && before.as_deref() == Some(old.written_sha256.as_str()),
                None,
            ),
            (None, Some(bytes)) => {
                // A backup of these very bytes may be there already (kept for a file that
                // was deleted): it is reused, and never counted as this change's own.
                let name = Store::backup_name(path, bytes);
                let new = (!self.store.holds_backup(&name, bytes)).then(|| name.clone());
                (false, Some(name), true, new)
            }
            (None, None) => (true, None, true, None),
        };
        let backup_to_write = new_backup.clone().zip(plan.before.as_deref());
        let record = FileRecord {
            target,
            format: plan.spec.format,
            created,
            written_sha256: sha256_hex(&plan.after),
            backup,
            restorable,
            keys: plan.record_keys.clone(),
            created_containers: plan.created_containers.clone(),
        };
        self.run(
            Intent {
                path: path.clone(),
                before,
                after: Some(record.written_sha256.clone()),
                record: Some(record),
                new_backup,
            },
            || {
                if let Some((name, bytes)) = &backup_to_write {
                    self.store.write_backup(name, bytes)?;
                }
                // A new file is as private as the user's other settings: 0600.
                fs_safe::atomic_write_locked(path, &plan.after, Some(0o600))
            },
        )
    }

    /// Carries out one planned restore: intent, file, commit, then the backup goes.
    /// A file that is gone is only forgotten; its backup is kept for the user.
    pub fn disconnect(&mut self, plan: &DisconnectPlan) -> Result<()> {
        let path = &plan.path;
        if plan.method == RestoreMethod::Gone {
            self.ledger.files.remove(path);
            return self.store.save(&self.ledger);
        }
        ensure_unchanged(path, plan.before.as_deref())?;
        let intent = Intent {
            path: path.clone(),
            before: plan.before.as_deref().map(sha256_hex),
            after: plan.after.as_deref().map(sha256_hex),
            record: None,
            new_backup: None,
        };
        if intent.before == intent.after {
            commit(&mut self.ledger, intent);
            self.store.save(&self.ledger)?;
            self.remove_stale_backups();
            return Ok(());
        }
        self.run(intent, || match &plan.after {
            Some(bytes) => fs_safe::atomic_write_locked(path, bytes, None),
            None => fs_safe::remove_locked(path),
        })
    }

    /// Steps 3 to 5: the intent on disk, the change, the commit. A change that fails
    /// leaves the file as it was (writes are atomic), so its intent is rolled back.
    fn run(&mut self, intent: Intent, change: impl FnOnce() -> Result<()>) -> Result<()> {
        self.ledger.pending = Some(intent.clone());
        if let Err(e) = self.store.save(&self.ledger) {
            self.ledger.pending = None;
            return Err(e);
        }
        if let Err(e) = change() {
            self.ledger.pending = None;
            roll_back(&mut self.ledger, intent);
            // If this save fails too, the next run rolls the intent back itself.
            if self.store.save(&self.ledger).is_ok() {
                self.remove_stale_backups();
            }
            return Err(e);
        }
        self.ledger.pending = None;
        commit(&mut self.ledger, intent);
        self.store.save(&self.ledger)?;
        self.remove_stale_backups();
        Ok(())
    }

    /// Deletes the backups the saved ledger no longer needs. A failure only leaves a
    /// harmless file behind.
    fn remove_stale_backups(&mut self) {
        for name in std::mem::take(&mut self.ledger.stale_backups) {
            if !self.ledger.needs_backup(&name) {
                let _ = self.store.remove_backup(&name);
            }
        }
    }
}

/// The dir a recorded file really lives in (where a killed write left its temp file).
fn real_parent(path: &Path) -> Option<PathBuf> {
    let real = fs_safe::resolve(path).ok()?;
    real.parent().map(Path::to_path_buf)
}

/// The plan was made under this lock, but a tool may have written the file since: its
/// change must not be overwritten with bytes computed from the older version.
fn ensure_unchanged(path: &Path, planned: Option<&[u8]>) -> Result<()> {
    if fs_safe::read_optional(path)?.as_deref() == planned {
        return Ok(());
    }
    Err(UserError::problem(format!(
        "{} changed while anyray was working on it; it was left as it is now",
        path.display()
    ))
    .with_hint("run the command again")
    .into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connect::{Format, KeyRecord, Kind};
    use crate::edit::KeyPath;

    fn settings(url: &str) -> String {
        format!("{{\"env\": {{\"U\": \"{url}\"}}, \"theme\": \"dark\"}}")
    }

    fn record(url: &str) -> FileRecord {
        FileRecord {
            target: TargetName::ClaudeCode,
            format: Format::Json,
            created: false,
            written_sha256: sha256_hex(settings(url).as_bytes()),
            backup: Some("settings.json.0123456789abcdef.orig".into()),
            restorable: true,
            keys: vec![KeyRecord {
                key: KeyPath::keys(["env", "U"]),
                prior: None,
                written: url.into(),
                seed: false,
                kind: Kind::String,
            }],
            created_containers: vec![KeyPath::keys(["env"])],
        }
    }

    /// A ledger whose re-connect from `old` to `new` was killed, and the file now `now`.
    fn killed(now: &str, new_backup: Option<&str>) -> (tempfile::TempDir, PathBuf, Ledger) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        std::fs::write(&path, now).unwrap();
        let mut ledger = Ledger::default();
        ledger.files.insert(path.clone(), record("old"));
        ledger.pending = Some(Intent {
            path: path.clone(),
            before: Some(sha256_hex(settings("old").as_bytes())),
            after: Some(sha256_hex(settings("new").as_bytes())),
            record: Some(record("new")),
            new_backup: new_backup.map(str::to_string),
        });
        (dir, path, ledger)
    }

    #[test]
    fn a_change_that_landed_is_committed() {
        let (_dir, path, mut ledger) = killed(&settings("new"), None);
        assert!(recover(&mut ledger));
        assert_eq!(ledger.pending, None);
        assert_eq!(ledger.files[&path], record("new"));
        assert!(!recover(&mut ledger), "nothing left to settle");
    }

    #[test]
    fn a_change_that_did_not_land_is_rolled_back_with_its_own_backup() {
        let (_dir, path, mut ledger) = killed(&settings("old"), Some("x.0123456789abcdef.orig"));
        recover(&mut ledger);
        assert_eq!(ledger.files[&path], record("old"));
        assert_eq!(ledger.stale_backups, ["x.0123456789abcdef.orig"]);
    }

    #[test]
    fn a_file_edited_after_the_kill_keeps_the_record_but_not_the_backup() {
        // The kill came before the rename; then the user edited another key.
        let edited = settings("old").replace("dark", "light");
        let (_dir, path, mut ledger) = killed(&edited, None);
        recover(&mut ledger);
        let kept = &ledger.files[&path];
        assert!(!kept.restorable, "disconnect must go key by key");
        assert_eq!(kept.backup, record("old").backup, "the backup is kept");
        // The file holds anyray's older value: that is what anyray wrote there.
        assert_eq!(kept.keys[0].written, "old");
        assert!(ledger.stale_backups.is_empty());
    }

    #[test]
    fn an_interrupted_disconnect_over_an_edited_file_keeps_the_record() {
        let (_dir, path, mut ledger) = killed("{\"theme\": \"light\"}", None);
        ledger.pending.as_mut().unwrap().record = None;
        ledger.pending.as_mut().unwrap().after = Some(sha256_hex(b"{}"));
        recover(&mut ledger);
        assert!(!ledger.files[&path].restorable);
        assert!(ledger.stale_backups.is_empty(), "no backup goes on a guess");
    }
}
