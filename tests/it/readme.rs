//! Every command in README.md runs. Commands sit in ```console blocks after `$ `; this
//! test runs them in order, as a reader would, in one temp HOME with a Claude Code and a
//! Codex config, against the fake gateway standing in for the README's example gateway.
//! The quick-start and install commands (cargo, ./install.sh) must appear in the CI
//! scripts, which run them.

use crate::{common, needs};

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fake_gateway::{FakeConfig, FakeGateway};

const EXAMPLE_GATEWAY: &str = "https://anyray.corp.example:8787";
const EXAMPLE_RELAY: &str = "127.0.0.1:18787";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `(info string, body)` of every fenced block.
fn blocks(markdown: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    let mut current: Option<(String, Vec<String>)> = None;
    for line in markdown.lines() {
        match (&mut current, line.strip_prefix("```")) {
            (None, Some(info)) => current = Some((info.trim().to_string(), Vec::new())),
            (Some(_), Some(_)) => out.push(current.take().unwrap()),
            (Some((_, body)), None) => body.push(line.to_string()),
            (None, None) => {}
        }
    }
    out
}

fn readme_commands() -> Vec<String> {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let blocks = blocks(&readme);
    for (info, _) in &blocks {
        assert!(
            !matches!(info.as_str(), "sh" | "bash" | "shell" | "zsh" | "fish"),
            "README has a ```{info} block: put commands in ```console blocks after `$ ` so this test runs them"
        );
    }
    blocks
        .into_iter()
        .filter(|(info, _)| info == "console")
        .flat_map(|(_, body)| body)
        .filter_map(|l| l.strip_prefix("$ ").map(str::to_string))
        .collect()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Reader {
    home: tempfile::TempDir,
    work: tempfile::TempDir,
    bin: PathBuf,
    gateway: String,
    relay: String,
}

impl Reader {
    fn new(gateway: &FakeGateway) -> Self {
        let home = tempfile::tempdir().unwrap();
        let work = tempfile::tempdir().unwrap();
        let write = |rel: &str, text: &str| {
            let path = home.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write(".claude/settings.json", "{\n  \"theme\": \"dark\"\n}\n");
        write(".codex/config.toml", "model = \"gpt-5\"\n");
        let bin = home.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(common::BIN, bin.join("anyray")).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(repo().join("man"), work.path().join("man")).unwrap();
        Self {
            home,
            work,
            bin,
            gateway: gateway.url(),
            relay: format!("127.0.0.1:{}", free_port()),
        }
    }

    fn command(&self, line: &str) -> Command {
        let line = line
            .replace(EXAMPLE_GATEWAY, &self.gateway)
            .replace(EXAMPLE_RELAY, &self.relay);
        let home = self.home.path();
        let mut cmd = Command::new("bash");
        cmd.arg("-c")
            .arg(line)
            .env_clear()
            .current_dir(self.work.path())
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    self.bin.display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            .env("HOME", home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_STATE_HOME", home.join(".local/state"))
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env("ANYRAY_KEYRING", "off")
            .env("ANYRAY_EXAMPLE_KEY", "sk-readme-example")
            .env("SHELL", "/bin/bash")
            .env("MANPAGER", "cat")
            .env("PAGER", "cat")
            .env("TERM", "dumb")
            .stdin(Stdio::null());
        cmd
    }

    fn run(&self, line: &str) {
        let out = self.command(line).output().unwrap();
        assert!(
            out.status.success(),
            "README command failed: {line}\n--- stdout\n{}\n--- stderr\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A long-running command (the relay): it must come up, then stop cleanly on SIGTERM.
    #[cfg(unix)]
    fn run_server(&self, line: &str) {
        let mut child = self
            .command(&format!("exec {line}"))
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for l in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(l);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        let started = loop {
            match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(l) if l.contains("listening on") => break true,
                Ok(_) => {}
                Err(_) => break false,
            }
        };
        common::send_signal(child.id(), libc::SIGTERM);
        let status = child.wait().unwrap();
        assert!(started, "README command did not start: {line}");
        assert!(
            status.success(),
            "README command did not stop cleanly: {line} ({status})"
        );
    }
}

#[cfg(unix)]
#[test]
fn every_readme_command_runs() {
    let commands = readme_commands();
    assert!(
        commands.len() >= 20,
        "the README shows its commands: {commands:?}"
    );
    let gateway = FakeGateway::spawn(FakeConfig::default()).unwrap();
    let reader = Reader::new(&gateway);
    let ci = std::fs::read_to_string(repo().join(".ci/run")).unwrap()
        + &std::fs::read_to_string(repo().join("tests/install/roundtrip.sh")).unwrap();
    for line in &commands {
        if line.starts_with("cargo ") || line.starts_with("./install.sh") {
            assert!(
                ci.contains(line.as_str()),
                "CI does not run the README's `{line}`"
            );
        } else if line.starts_with("anyray gateway") && !line.contains("--check-config") {
            reader.run_server(line);
        } else if line.starts_with("man ") && needs::program("man").is_none() {
            continue;
        } else {
            reader.run(line);
        }
    }
    // The example gateway was the fake one: the README's commands really talked to it.
    assert!(
        gateway
            .requests()
            .iter()
            .any(|r| r.path == "/.well-known/anyray.json")
    );
    assert!(Path::new(&reader.work.path().join("anyray.bash")).exists());
}
