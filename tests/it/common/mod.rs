//! Test harness: runs the real `anyray` binary in a temp HOME with a cleared
//! environment, so a developer's own settings never leak into a test, and lets
//! tests assert stdout, stderr, the exit code and the files on disk afterwards.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_anyray");

/// A hermetic home: `HOME` and the XDG dirs point into one temp dir.
pub struct TestEnv {
    dir: tempfile::TempDir,
    vars: Vec<(String, String)>,
}

impl TestEnv {
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("anyray-test-")
            .tempdir()
            .expect("temp dir");
        let home = dir.path().to_path_buf();
        let vars = vec![
            ("HOME".into(), home.display().to_string()),
            (
                "XDG_CONFIG_HOME".into(),
                home.join(".config").display().to_string(),
            ),
            (
                "XDG_STATE_HOME".into(),
                home.join(".local/state").display().to_string(),
            ),
            (
                "XDG_DATA_HOME".into(),
                home.join(".local/share").display().to_string(),
            ),
            (
                "XDG_CACHE_HOME".into(),
                home.join(".cache").display().to_string(),
            ),
            // Never touch the developer's real keyring from a test.
            ("ANYRAY_KEYRING".into(), "off".into()),
            // Made-up gateway names must not become DNS queries to the network.
            ("ANYRAY_TEST_NO_DNS".into(), "1".into()),
            ("PATH".into(), std::env::var("PATH").unwrap_or_default()),
            ("LANG".into(), "C.UTF-8".into()),
        ];
        Self { dir, vars }
    }

    /// Adds or replaces a variable for every command run in this env.
    pub fn set_var(&mut self, key: &str, value: impl AsRef<OsStr>) -> &mut Self {
        self.vars.retain(|(k, _)| k != key);
        self.vars
            .push((key.into(), value.as_ref().to_string_lossy().into_owned()));
        self
    }

    pub fn remove_var(&mut self, key: &str) -> &mut Self {
        self.vars.retain(|(k, _)| k != key);
        self
    }

    pub fn home(&self) -> &Path {
        self.dir.path()
    }

    /// A path under HOME.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// anyray's config dir (`$XDG_CONFIG_HOME/anyray`).
    pub fn config_dir(&self) -> PathBuf {
        self.path(".config/anyray")
    }

    pub fn config_file(&self) -> PathBuf {
        self.config_dir().join("config.toml")
    }

    /// Writes a file under HOME, creating its parent dirs.
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, contents).unwrap();
        path
    }

    /// Writes an executable script (mode 0755 on Unix).
    pub fn write_executable(&self, rel: &str, script: &str) -> PathBuf {
        let path = self.write(rel, script);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        path
    }

    /// PATH becomes an empty `bin` dir in this env (returned), so no real tool on the
    /// machine is detected and the test decides which ones exist.
    pub fn isolate_path(&mut self) -> PathBuf {
        let bin = self.path("bin");
        std::fs::create_dir_all(&bin).unwrap();
        self.set_var("PATH", &bin);
        bin
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    /// anyray's state dir (`$XDG_STATE_HOME/anyray`): the ledger, backups, the lock.
    pub fn state_dir(&self) -> PathBuf {
        self.path(".local/state/anyray")
    }

    /// A command for the anyray binary with `args`, in this env.
    pub fn cmd<I, S>(&self, args: I) -> Cmd
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.program(BIN, args)
    }

    /// A command for any program (a shell, node) with `args`, in this env.
    pub fn program<I, S>(&self, program: impl AsRef<OsStr>, args: I) -> Cmd
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut command = Command::new(program);
        command.args(args).env_clear().current_dir(self.home());
        for (k, v) in &self.vars {
            command.env(k, v);
        }
        Cmd {
            command,
            stdin: None,
        }
    }

    /// Runs anyray with `args` and returns its output.
    pub fn run<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.cmd(args).run()
    }
}

pub struct Cmd {
    pub command: Command,
    stdin: Option<Vec<u8>>,
}

impl Cmd {
    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Self {
        self.command.env(key, value);
        self
    }

    pub fn stdin(mut self, input: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(input.into());
        self
    }

    pub fn run(mut self) -> Output {
        use std::io::Write;
        self.command.stdin(if self.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        self.command.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = self.command.spawn().expect("spawn anyray");
        if let Some(input) = self.stdin.take() {
            child.stdin.take().unwrap().write_all(&input).unwrap();
        }
        let out = child.wait_with_output().expect("wait for anyray");
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// Asserts the exit code, showing the output when it differs.
    #[track_caller]
    pub fn code(&self, expected: i32) -> &Self {
        assert_eq!(
            self.code, expected,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn ok(&self) -> &Self {
        self.code(0)
    }

    /// stdout parsed as one JSON document.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }

    /// stdout and stderr together, for "appears nowhere" assertions.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Replaces the temp HOME in `text` with `[HOME]` so snapshots are stable.
pub fn redact_home(text: &str, env: &TestEnv) -> String {
    text.replace(&env.home().display().to_string(), "[HOME]")
}

/// Sends `signal` to the process `pid` (one this test started); whether kill(2) took it.
#[cfg(unix)]
pub fn send_signal(pid: u32, signal: i32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // A pid of 0 or below would signal a whole process group.
    if pid <= 0 {
        return false;
    }
    #[allow(unsafe_code)] // a libc call
    // SAFETY: kill(2) has no memory-safety preconditions; a stale pid only fails.
    let sent = unsafe { libc::kill(pid, signal) };
    sent == 0
}
