//! What a test needs that a fresh machine may lack: real shells, linters, Node.js with
//! the tools' own parsers, PyYAML. `cargo test` must pass on a machine with only the Rust
//! toolchain, and CI must never pass by skipping, so a test asks here first:
//!
//! - everything is there: it gets the paths and runs;
//! - something is missing: one line on the terminal says which test skipped, what it
//!   needs and how to install it, and the test returns;
//! - the same under `CI` (set to anything but `0` or `false`): the test fails, because
//!   `.ci/install-deps.sh` installs all of it there.
//!
//! The line goes straight to the stderr handle: libtest captures `eprintln!` (and shows
//! it only for failing tests), not writes to the handle itself.
//!
//! ```ignore
//! let Some([zsh, fish]) = needs::programs(["zsh", "fish"]) else { return };
//! ```

use std::cell::Cell;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// How to get every missing piece: the CI script installs them all.
const INSTALL: &str = "install them with `bash .ci/install-deps.sh`";

/// The paths of `names` on `PATH`, in order; `None` once the test should return.
pub fn programs<const N: usize>(names: [&str; N]) -> Option<[PathBuf; N]> {
    let found = names.map(on_path);
    let missing: Vec<String> = names
        .iter()
        .zip(&found)
        .filter(|(_, path)| path.is_none())
        .map(|(name, _)| format!("`{name}`"))
        .collect();
    if !missing.is_empty() {
        skip(&missing, INSTALL, true);
        return None;
    }
    Some(found.map(|path| path.expect("checked above")))
}

/// The path of `name` on `PATH`; `None` once the test should return.
pub fn program(name: &str) -> Option<PathBuf> {
    programs([name]).map(|[path]| path)
}

/// PowerShell (`pwsh`). No package registry CI reaches ships it, so it is the one thing
/// that stays optional under `CI` too: the line is printed, the test does not fail.
pub fn pwsh() -> Option<PathBuf> {
    let found = on_path("pwsh");
    if found.is_none() {
        skip(
            &["`pwsh`".into()],
            "install PowerShell from Microsoft to run this part (optional in CI too)",
            false,
        );
    }
    found
}

/// The tools' own parsers from npm, pinned by tests/jsonc/package-lock.json: `node` and
/// each package installed in tests/jsonc/node_modules. Returns the scripts' directory.
pub fn node_packages(packages: &[&str]) -> Option<PathBuf> {
    let dir = jsonc_dir();
    let mut missing = Vec::new();
    if on_path("node").is_none() {
        missing.push("`node` (Node.js)".to_string());
    }
    missing.extend(
        packages
            .iter()
            .filter(|p| !dir.join("node_modules").join(p).is_dir())
            .map(|p| format!("the npm package `{p}` in tests/jsonc/node_modules")),
    );
    if !missing.is_empty() {
        skip(&missing, INSTALL, true);
        return None;
    }
    Some(dir)
}

/// The OpenID provider of the SSO tests: `node` and tests/oidc/node_modules/oidc-provider
/// (pinned by tests/oidc/package-lock.json). Returns tests/oidc.
pub fn oidc_provider() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc");
    let mut missing = Vec::new();
    if on_path("node").is_none() {
        missing.push("`node` (Node.js)".to_string());
    }
    if !dir.join("node_modules/oidc-provider").is_dir() {
        missing.push("the npm package `oidc-provider` in tests/oidc/node_modules".to_string());
    }
    if !missing.is_empty() {
        skip(&missing, INSTALL, true);
        return None;
    }
    Some(dir)
}

/// A Python that can `import yaml` (PyYAML, the parser aider reads its config with):
/// `python3` on `PATH`, else Debian's, which `apt-get install python3-yaml` serves.
pub fn pyyaml() -> Option<PathBuf> {
    python_with("yaml", "PyYAML")
}

/// A Python that can `import jsonschema` (to check a file against a tool's schema).
pub fn jsonschema() -> Option<PathBuf> {
    python_with("jsonschema", "jsonschema")
}

fn python_with(module: &str, what: &str) -> Option<PathBuf> {
    let candidates = [on_path("python3"), Some(PathBuf::from("/usr/bin/python3"))];
    let found = candidates.into_iter().flatten().find(|python| {
        Command::new(python)
            .args(["-c", &format!("import {module}")])
            .output()
            .is_ok_and(|out| out.status.success())
    });
    if found.is_none() {
        skip(
            &[format!("{what} (a `python3` that can `import {module}`)")],
            INSTALL,
            true,
        );
    }
    found
}

/// Where the Node.js and Python checks live (tests/jsonc).
pub fn jsonc_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/jsonc")
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// Whether this run is CI's, where nothing may be skipped.
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false"))
}

thread_local! {
    /// Whether this test said it skips: one line per test, however many checks it asks
    /// for (in a loop, or more than one). libtest runs every test on a thread of its
    /// own, named after it.
    static SAID: Cell<bool> = const { Cell::new(false) };
}

/// The one line for a skipped test, or its failure in CI (`mandatory_in_ci`).
fn skip(missing: &[String], how: &str, mandatory_in_ci: bool) {
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    let needs = format!("{test} needs {}; {how}", missing.join(", "));
    if mandatory_in_ci && in_ci() {
        panic!("{needs} (under CI every test must run: .ci/run installs them first)");
    }
    if !SAID.replace(true) {
        let _ = writeln!(std::io::stderr().lock(), "SKIPPED {needs}");
    }
}
