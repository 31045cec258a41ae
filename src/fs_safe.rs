//! Safe file access: resolve symlinks; read only regular files, and at most
//! [`MAX_FILE_BYTES`] of them; write atomically (temp file in the same directory, fsync,
//! rename, fsync the directory), keeping the mode (and owner on Unix); create directories
//! private (0700, whatever the umask, as the XDG spec asks); and serialise concurrent runs
//! with a lock on a separate file (the rename replaces the inode).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::error::UserError;
use crate::failpoint;

/// The most anyray reads of any file: tools' settings, its own ledger and backups are
/// far smaller; a bigger "file" is a mistake (or `/dev/zero`) and is refused.
pub(crate) const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Temp files of ordinary writes (the config file, the token file).
const TEMP_PREFIX: &str = ".anyray-";
/// Temp files of writes made while holding the connect lock. Only a lock holder makes
/// them, so one found while holding the lock was left by a run that was killed.
pub(crate) const LOCKED_TEMP_PREFIX: &str = ".anyray-txn-";
pub(crate) const TEMP_SUFFIX: &str = ".tmp";
/// The random part of a temp file name (tempfile's default length).
const TEMP_RANDOM_LEN: usize = 6;

/// The real file behind `path`, following every symlink (also dangling ones,
/// so that a symlinked dotfile whose target does not exist yet is created in place).
pub(crate) fn resolve(path: &Path) -> io::Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..40 {
        match fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = fs::read_link(&current)?;
                current = match current.parent() {
                    Some(parent) if target.is_relative() => parent.join(target),
                    _ => target,
                };
            }
            Ok(_) => return Ok(current),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(current),
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other(format!(
        "too many levels of symbolic links at {}",
        path.display()
    )))
}

/// Reads a file (through symlinks); `None` when it does not exist. A directory, a device,
/// a FIFO or a file over [`MAX_FILE_BYTES`] is refused (exit 3) without blocking on it.
pub(crate) fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    read_capped(path, false)
}

/// Reads a file that must not be a symlink (anyray's own state files).
pub(crate) fn read_no_follow(path: &Path) -> Result<Option<Vec<u8>>> {
    read_capped(path, true)
}

fn read_capped(path: &Path, no_follow: bool) -> Result<Option<Vec<u8>>> {
    let symlink_refused = || -> anyhow::Error {
        UserError::usage(format!(
            "{} is a symbolic link, where anyray keeps a file of its own",
            path.display()
        ))
        .with_hint("remove the link (anyray never follows links in its state dir)")
        .into()
    };
    if !cfg!(unix) {
        // No O_NOFOLLOW or O_NONBLOCK there: look before opening (a named pipe blocks).
        if no_follow && fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(symlink_refused());
        }
        if let Ok(meta) = fs::metadata(path) {
            check_regular(path, &meta)?;
        }
    }
    let file = match open_for_reading(path, no_follow) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) if no_follow && is_symlink_refusal(&e) => return Err(symlink_refused()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let meta = file
        .metadata()
        .with_context(|| format!("cannot read {}", path.display()))?;
    check_regular(path, &meta)?;
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(path).into());
    }
    Ok(Some(bytes))
}

/// Opens without blocking: a FIFO opened for reading would otherwise wait for a writer.
#[cfg(unix)]
fn open_for_reading(path: &Path, no_follow: bool) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut flags = libc::O_NONBLOCK;
    if no_follow {
        flags |= libc::O_NOFOLLOW;
    }
    OpenOptions::new().read(true).custom_flags(flags).open(path)
}

#[cfg(not(unix))]
fn open_for_reading(path: &Path, _no_follow: bool) -> io::Result<File> {
    File::open(path)
}

/// `O_NOFOLLOW` on a symlink fails with `ELOOP`.
#[cfg(unix)]
fn is_symlink_refusal(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::ELOOP)
}

#[cfg(not(unix))]
fn is_symlink_refusal(_e: &io::Error) -> bool {
    false
}

/// Only regular files are read or written: a directory or a device where a tool's file
/// should be is the user's to sort out (exit 3).
fn check_regular(path: &Path, meta: &fs::Metadata) -> Result<()> {
    if meta.is_dir() {
        return Err(UserError::unsafe_change(format!(
            "{} is a directory, where a file should be; nothing was changed",
            path.display()
        ))
        .with_hint("move the directory aside, then run the command again")
        .into());
    }
    if !meta.is_file() {
        return Err(UserError::unsafe_change(format!(
            "{} is not a regular file (a device, socket or FIFO); anyray reads only regular files",
            path.display()
        ))
        .with_hint("point the setting at a regular file, then run the command again")
        .into());
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_large(path).into());
    }
    Ok(())
}

fn too_large(path: &Path) -> UserError {
    UserError::unsafe_change(format!(
        "{} is larger than {} MiB; anyray does not read files that large",
        path.display(),
        MAX_FILE_BYTES / (1024 * 1024)
    ))
    .with_hint("check that this is the file you meant, then shrink or move it")
}

/// Refuses to change a file that is read-only for its owner (unless `force`) or has
/// other hard links: the atomic rename would split it from them, and writing in place
/// is not atomic (a kill could leave it half-written). Both are exit 3.
pub(crate) fn check_replaceable(path: &Path, force: bool) -> Result<()> {
    let meta = match fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    check_regular(path, &meta)?;
    if let Some(links) = hard_links(&meta).filter(|&n| n > 1) {
        return Err(UserError::unsafe_change(format!(
            "{} has {links} hard links: replacing it would split it from the others, and \
             writing in place could leave it half-written; the file was left untouched",
            path.display()
        ))
        .with_hint(
            "make it a symbolic link to the shared copy instead (anyray writes through \
             symbolic links), then run the command again",
        )
        .into());
    }
    if read_only(&meta) && !force {
        return Err(UserError::unsafe_change(format!(
            "{} is read-only; the file was left untouched",
            path.display()
        ))
        .with_hint("pass --force to change it anyway (it stays read-only)")
        .into());
    }
    Ok(())
}

/// No write bit for the file's owner (Unix); the read-only attribute elsewhere.
#[cfg(unix)]
fn read_only(meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o200 == 0
}

#[cfg(not(unix))]
fn read_only(meta: &fs::Metadata) -> bool {
    meta.permissions().readonly()
}

#[cfg(unix)]
fn hard_links(meta: &fs::Metadata) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    Some(meta.nlink())
}

#[cfg(not(unix))]
fn hard_links(_meta: &fs::Metadata) -> Option<u64> {
    None
}

/// Creates `dir` and any missing parents as 0700 (the umask cannot loosen it, and an
/// explicit chmod undoes a umask that would tighten it past use). Existing directories
/// are left as they are.
pub(crate) fn create_private_dir(dir: &Path) -> Result<()> {
    let mut missing = Vec::new();
    let mut current = dir;
    loop {
        match fs::metadata(current) {
            Ok(meta) if meta.is_dir() => break,
            Ok(_) => anyhow::bail!("cannot create {}: a file is in the way", current.display()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                missing.push(current);
                match current.parent() {
                    Some(parent) if !parent.as_os_str().is_empty() => current = parent,
                    _ => break,
                }
            }
            Err(e) => return Err(e).with_context(|| format!("cannot create {}", dir.display())),
        }
    }
    for dir in missing.into_iter().rev() {
        match make_private_dir(dir) {
            Err(e) if e.kind() != io::ErrorKind::AlreadyExists => {
                return Err(e).with_context(|| format!("cannot create {}", dir.display()));
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(unix)]
fn make_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    fs::DirBuilder::new().mode(0o700).create(dir)?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
}

#[cfg(not(unix))]
fn make_private_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir(dir)
}

/// Atomically replaces the file behind `path` (through symlinks) with `bytes`.
/// An existing file keeps its mode and owner; a new file gets `new_mode` (Unix).
pub(crate) fn atomic_write(path: &Path, bytes: &[u8], new_mode: Option<u32>) -> Result<()> {
    write_via_temp(path, bytes, new_mode, TEMP_PREFIX)
}

/// [`atomic_write`] for a caller that holds the connect lock: its temp file carries
/// [`LOCKED_TEMP_PREFIX`], and the test kill points `before-write`/`after-write` sit
/// around the rename.
pub(crate) fn atomic_write_locked(path: &Path, bytes: &[u8], new_mode: Option<u32>) -> Result<()> {
    write_via_temp(path, bytes, new_mode, LOCKED_TEMP_PREFIX)
}

fn write_via_temp(path: &Path, bytes: &[u8], new_mode: Option<u32>, prefix: &str) -> Result<()> {
    let real = resolve(path).with_context(|| format!("cannot resolve {}", path.display()))?;
    let dir = parent_dir(&real);
    create_private_dir(dir)?;
    let existing = fs::metadata(&real).ok();

    let mut temp = tempfile::Builder::new()
        .prefix(prefix)
        .suffix(TEMP_SUFFIX)
        .rand_bytes(TEMP_RANDOM_LEN)
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    temp.write_all(bytes)
        .and_then(|()| temp.as_file().sync_all())
        .with_context(|| format!("cannot write a temporary file in {}", dir.display()))?;
    copy_permissions(temp.as_file(), existing.as_ref(), new_mode)
        .with_context(|| format!("cannot set permissions for {}", real.display()))?;
    if prefix == LOCKED_TEMP_PREFIX {
        failpoint::hit("before-write");
    }
    temp.persist(&real)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot replace {}", real.display()))?;
    sync_dir(dir);
    if prefix == LOCKED_TEMP_PREFIX {
        failpoint::hit("after-write");
    }
    Ok(())
}

fn parent_dir(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Removes the file behind `path` (through symlinks) durably, under the connect lock.
/// A file that is already gone is fine.
pub(crate) fn remove_locked(path: &Path) -> Result<()> {
    let real = resolve(path).with_context(|| format!("cannot resolve {}", path.display()))?;
    failpoint::hit("before-remove");
    match fs::remove_file(&real) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => {
            return Err(e).with_context(|| format!("cannot remove {}", real.display()));
        }
        _ => {}
    }
    sync_dir(parent_dir(&real));
    failpoint::hit("after-remove");
    Ok(())
}

/// Removes the temp files that killed runs left in `dir` (the caller holds the connect
/// lock, so no run of ours is writing one now). Only regular files named exactly as
/// [`atomic_write_locked`] names them are touched; returns how many went.
pub(crate) fn remove_stale_temps(dir: &Path) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let is_ours = name
            .strip_prefix(LOCKED_TEMP_PREFIX)
            .and_then(|rest| rest.strip_suffix(TEMP_SUFFIX))
            .is_some_and(|random| {
                random.len() == TEMP_RANDOM_LEN && random.chars().all(|c| c.is_ascii_alphanumeric())
            });
        let regular = entry.file_type().is_ok_and(|t| t.is_file());
        if is_ours && regular && fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    if removed > 0 {
        sync_dir(dir);
    }
    removed
}

#[cfg(unix)]
fn copy_permissions(
    file: &File,
    existing: Option<&fs::Metadata>,
    new_mode: Option<u32>,
) -> io::Result<()> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    match existing {
        Some(meta) => {
            file.set_permissions(fs::Permissions::from_mode(meta.mode() & 0o7777))?;
            // Keep the owner when running as another user (e.g. root editing a user's file).
            // Failure is fine for an unprivileged user, who can only own the file anyway.
            let _ = std::os::unix::fs::fchown(file, Some(meta.uid()), Some(meta.gid()));
            Ok(())
        }
        None => file.set_permissions(fs::Permissions::from_mode(new_mode.unwrap_or(0o644))),
    }
}

#[cfg(not(unix))]
fn copy_permissions(
    file: &File,
    existing: Option<&fs::Metadata>,
    _new_mode: Option<u32>,
) -> io::Result<()> {
    if let Some(meta) = existing {
        file.set_permissions(meta.permissions())?;
    }
    Ok(())
}

#[cfg(unix)]
fn sync_dir(dir: &Path) {
    // Makes the rename durable; a failure here does not undo the write.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) {}

/// Whether a file or directory of anyray's own can be trusted: owned by this user (the
/// effective uid) and writable by nobody else. Anything else could have been planted by
/// another local user, so it is a refusal (exit 2) before anything is done.
#[cfg(unix)]
pub(crate) fn check_owned_private(path: &Path, meta: &fs::Metadata) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    #[allow(unsafe_code)] // a libc call
    // SAFETY: geteuid(2) cannot fail and touches no memory.
    let euid = unsafe { libc::geteuid() };
    let problem = if meta.uid() != euid {
        Some(format!(
            "is owned by uid {}, not by you (uid {euid})",
            meta.uid()
        ))
    } else if meta.mode() & 0o022 != 0 {
        Some(format!(
            "is writable by other users (mode {:o})",
            meta.mode() & 0o777
        ))
    } else {
        None
    };
    match problem {
        None => Ok(()),
        Some(problem) => Err(UserError::usage(format!(
            "{} {problem}; anyray trusts nothing there that others could have written, and did nothing",
            path.display()
        ))
        .with_hint(format!(
            "if this is your own state, make it private (`chmod go-w {}`{}); otherwise \
             point ANYRAY_STATE_DIR at a directory of your own",
            path.display(),
            if meta.uid() != euid { ", and owned by you" } else { "" }
        ))
        .into()),
    }
}

#[cfg(not(unix))]
pub fn check_owned_private(_path: &Path, _meta: &fs::Metadata) -> Result<()> {
    Ok(())
}

/// An exclusive lock held until dropped.
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

/// Takes an exclusive lock on `path` (created 0600 if needed, never through a symlink),
/// waiting up to `wait`.
pub(crate) fn lock(path: &Path, wait: Duration) -> Result<Lock> {
    if let Some(dir) = path.parent() {
        create_private_dir(dir)?;
    }
    let file = open_lock_file(path)
        .with_context(|| format!("cannot open lock file {}", path.display()))?;
    let start = Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(Lock { _file: file }),
            Err(fs::TryLockError::WouldBlock) if start.elapsed() < wait => {
                std::thread::sleep(Duration::from_millis(25));
            }
            Err(fs::TryLockError::WouldBlock) => {
                anyhow::bail!(
                    crate::error::UserError::problem(format!(
                        "another anyray is changing files (lock {} held for {}s)",
                        path.display(),
                        wait.as_secs()
                    ))
                    .with_hint("wait for it to finish, then run the command again")
                )
            }
            Err(fs::TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("cannot lock {}", path.display()));
            }
        }
    }
}

#[cfg(unix)]
fn open_lock_file(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    file.set_permissions(fs::Permissions::from_mode(0o600))?;
    Ok(file)
}

#[cfg(not(unix))]
fn open_lock_file(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_creates_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/file.txt");
        atomic_write(&path, b"one", None).unwrap();
        atomic_write(&path, b"two", None).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let leftovers: Vec<_> = fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temp files left behind");
    }

    #[cfg(unix)]
    #[test]
    fn atomic_write_keeps_mode_and_symlink() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        fs::write(&real, "a").unwrap();
        fs::set_permissions(&real, fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink("real", &link).unwrap();
        atomic_write(&link, b"b", None).unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read(&real).unwrap(), b"b");
        assert_eq!(
            fs::metadata(&real).unwrap().permissions().mode() & 0o777,
            0o640
        );
    }

    #[cfg(unix)]
    #[test]
    fn new_files_get_the_requested_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        atomic_write(&path, b"k", Some(0o600)).unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    #[test]
    fn only_temp_files_of_locked_writes_count_as_stale() {
        let dir = tempfile::tempdir().unwrap();
        let names = [
            ".anyray-txn-Ab12Cd.tmp",
            ".anyray-txn-Ab12Cd.tmp.keep",
            ".anyray-txn-toolong1.tmp",
            ".anyray-Ab12Cd.tmp",
            "anyray-txn-Ab12Cd.tmp",
            "settings.json",
        ];
        for name in names {
            fs::write(dir.path().join(name), "x").unwrap();
        }
        fs::create_dir(dir.path().join(".anyray-txn-Dir123.tmp")).unwrap();
        assert_eq!(remove_stale_temps(dir.path()), 1);
        assert!(!dir.path().join(names[0]).exists());
        for name in &names[1..] {
            assert!(dir.path().join(name).exists(), "{name}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn reads_refuse_what_is_not_a_small_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_optional(dir.path()).unwrap_err();
        assert!(format!("{err:#}").contains("is a directory"), "{err:#}");
        let err = read_optional(Path::new("/dev/zero")).unwrap_err();
        assert!(format!("{err:#}").contains("not a regular file"), "{err:#}");
        let big = dir.path().join("big");
        File::create(&big)
            .unwrap()
            .set_len(MAX_FILE_BYTES + 1)
            .unwrap();
        assert!(read_optional(&big).is_err());
        assert_eq!(read_optional(&dir.path().join("absent")).unwrap(), None);
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&big, &link).unwrap();
        let err = read_no_follow(&link).unwrap_err();
        assert!(format!("{err:#}").contains("symbolic link"), "{err:#}");
    }

    #[test]
    fn lock_is_exclusive() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        let held = lock(&path, Duration::from_millis(10)).unwrap();
        assert!(lock(&path, Duration::from_millis(50)).is_err());
        drop(held);
        assert!(lock(&path, Duration::from_millis(50)).is_ok());
    }
}
