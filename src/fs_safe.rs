//! Safe file changes: resolve symlinks, write atomically (temp file in the same
//! directory, fsync, rename), keep the mode (and owner on Unix), and serialise
//! concurrent runs with a lock on a separate file (the rename replaces the inode).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// The real file behind `path`, following every symlink (also dangling ones,
/// so that a symlinked dotfile whose target does not exist yet is created in place).
pub fn resolve(path: &Path) -> io::Result<PathBuf> {
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

/// Reads a file; `None` when it does not exist.
pub fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Atomically replaces the file behind `path` (through symlinks) with `bytes`.
/// An existing file keeps its mode and owner; a new file gets `new_mode` (Unix).
pub fn atomic_write(path: &Path, bytes: &[u8], new_mode: Option<u32>) -> Result<()> {
    let real = resolve(path).with_context(|| format!("cannot resolve {}", path.display()))?;
    let dir = real
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let existing = fs::metadata(&real).ok();

    let mut temp = tempfile::Builder::new()
        .prefix(".anyray-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    temp.write_all(bytes)
        .and_then(|()| temp.as_file().sync_all())
        .with_context(|| format!("cannot write a temporary file in {}", dir.display()))?;
    copy_permissions(temp.as_file(), existing.as_ref(), new_mode)
        .with_context(|| format!("cannot set permissions for {}", real.display()))?;
    temp.persist(&real)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot replace {}", real.display()))?;
    sync_dir(dir);
    Ok(())
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

/// An exclusive lock held until dropped.
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

/// Takes an exclusive lock on `path` (created if needed), waiting up to `wait`.
pub fn lock(path: &Path, wait: Duration) -> Result<Lock> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
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
    fn lock_is_exclusive() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        let held = lock(&path, Duration::from_millis(10)).unwrap();
        assert!(lock(&path, Duration::from_millis(50)).is_err());
        drop(held);
        assert!(lock(&path, Duration::from_millis(50)).is_ok());
    }
}
