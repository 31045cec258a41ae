//! Test-only kill points. In a debug build (what `cargo test` runs), setting
//! `ANYRAY_TEST_KILL_AT=<point>#<n>` makes the process SIGKILL itself the `n`-th time it
//! reaches `<point>` (`#<n>` defaults to 1). The crash-consistency test uses it to stop
//! `connect` and `disconnect` at every durable step of their writes (tests/it/connect_crash.rs).
//! Release builds compile [`hit`] to nothing and never read the variable.
//!
//! The points, each on both sides of a durable step:
//! - `before-write` / `after-write`: around the rename of every write made under the
//!   connect lock (a backup, the ledger, the user's file); "before" is after the temp file
//!   was written and synced, "after" is after the rename and the directory sync.
//! - `before-remove` / `after-remove`: around every removal under the lock (a file
//!   anyray created, a backup no record needs any more).

#[cfg(debug_assertions)]
pub(crate) fn hit(point: &str) {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, Ordering};
    static SEEN: Mutex<Vec<(String, u32)>> = Mutex::new(Vec::new());
    static UNSET: AtomicBool = AtomicBool::new(false);
    if UNSET.load(Ordering::Relaxed) {
        return;
    }
    let Some(spec) = crate::envvars::get(crate::envvars::ANYRAY_TEST_KILL_AT) else {
        UNSET.store(true, Ordering::Relaxed);
        return;
    };
    let (name, nth) = match spec.split_once('#') {
        Some((name, n)) => (name, n.parse::<u32>().unwrap_or(1)),
        None => (spec.as_str(), 1),
    };
    if name != point {
        return;
    }
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    let count = match seen.iter_mut().find(|(p, _)| p == point) {
        Some((_, count)) => {
            *count += 1;
            *count
        }
        None => {
            seen.push((point.to_string(), 1));
            1
        }
    };
    if count == nth {
        kill_self();
    }
}

#[cfg(all(debug_assertions, unix))]
#[allow(unsafe_code)] // a libc call
fn kill_self() {
    // SAFETY: kill(2) on our own pid has no memory-safety preconditions.
    unsafe {
        libc::kill(libc::getpid(), libc::SIGKILL);
    }
}

#[cfg(all(debug_assertions, not(unix)))]
fn kill_self() {
    std::process::abort();
}

#[cfg(not(debug_assertions))]
#[inline(always)]
pub fn hit(_point: &str) {}
