//! The real OS keyring on Linux: anyray against a Secret Service (gnome-keyring in a
//! private D-Bus session, tests/keyring/keyring-session.sh) with the keyring on. Stores,
//! reads back, replaces and removes the key there, and never writes the fallback file.
//! Skips with one line where gnome-keyring is missing; mandatory under CI.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::common;
use crate::needs;

use common::TestEnv;

/// A D-Bus session with an unlocked gnome-keyring, alive until dropped (the SSO test,
/// sso.rs, uses it too).
pub struct Session {
    child: Child,
    pub address: String,
}

impl Session {
    pub fn start() -> Self {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/keyring/keyring-session.sh");
        // The inner command prints the bus address and waits for its stdin to close.
        let mut child = Command::new(script)
            .args([
                "sh",
                "-c",
                "printf '%s\\n' \"$DBUS_SESSION_BUS_ADDRESS\"; read _",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the keyring session");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let address = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_default()
            .trim()
            .to_string();
        let session = Self { child, address };
        assert!(
            !session.address.is_empty(),
            "the keyring session did not start"
        );
        session
    }

    /// `secret-tool ARGS` on this session's bus: (exit success, stdout).
    pub fn secret_tool(&self, args: &[&str]) -> (bool, String) {
        let out = Command::new("secret-tool")
            .args(args)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .stdin(Stdio::null())
            .output()
            .expect("run secret-tool");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    }

    /// The Anyray key as the Secret Service holds it (the keyring crate's attributes).
    fn stored_key(&self) -> Option<String> {
        let (ok, out) =
            self.secret_tool(&["lookup", "service", "anyray", "username", "anyray-key"]);
        ok.then(|| out.trim().to_string())
    }

    /// How many items anyray has in the keyring.
    pub fn items(&self) -> usize {
        let (_, out) = self.secret_tool(&["search", "--all", "service", "anyray"]);
        out.lines().filter(|l| l.starts_with('[')).count()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // Closing stdin ends the inner command; dbus-run-session then ends the bus and
        // the daemon, and the script removes its temp dir.
        drop(self.child.stdin.take());
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn login_token_and_logout_use_the_real_secret_service() {
    let Some(_) = needs::programs(["dbus-run-session", "gnome-keyring-daemon", "secret-tool"])
    else {
        return;
    };
    let session = Session::start();
    let mut env = TestEnv::new();
    env.set_var("ANYRAY_KEYRING", "on")
        .set_var("DBUS_SESSION_BUS_ADDRESS", &session.address);
    let token_file = env.config_dir().join("token");
    let first = "sk-keyring-first-3b7d";
    let second = "sk-keyring-second-9e21";

    let out = env.cmd(["login", "--token-stdin"]).stdin(first).run();
    out.ok();
    assert!(out.stdout.contains("in the OS keyring"), "{}", out.all());
    assert!(!out.all().contains(first));
    assert!(!token_file.exists(), "the fallback file was written");
    assert_eq!(session.stored_key().as_deref(), Some(first));
    assert_eq!(session.items(), 1);

    let out = env.run(["token"]);
    out.ok();
    assert_eq!(out.stdout, format!("{first}\n"));
    // Claude Code's helper, run as Claude Code runs it, reads the keyring too.
    env.run(["config", "set", "auth.scheme", "key"]).ok();
    env.run(["connect", "claude-code", "--offline", "--force"])
        .ok();
    let settings: serde_json::Value =
        serde_json::from_str(&env.read(".claude/settings.json")).unwrap();
    let helper = settings["apiKeyHelper"].as_str().unwrap().to_string();
    let out = env.program("/bin/sh", ["-c", helper.as_str()]).run();
    out.ok();
    assert_eq!(out.stdout, format!("{first}\n"));
    let out = env.run(["--json", "login", "--status"]);
    out.ok();
    assert_eq!(out.json()["store"]["kind"], "keyring");

    // A second login replaces the key: one item, the new value, read back by `token`.
    env.cmd(["login", "--token-stdin"]).stdin(second).run().ok();
    assert_eq!(session.stored_key().as_deref(), Some(second));
    assert_eq!(session.items(), 1);
    assert!(!token_file.exists());
    let out = env.run(["token"]);
    out.ok();
    assert_eq!(out.stdout, format!("{second}\n"));

    let out = env.run(["logout"]);
    out.ok();
    assert!(out.stdout.contains("from the OS keyring"), "{}", out.stdout);
    assert_eq!(session.stored_key(), None);
    assert_eq!(session.items(), 0);
    let out = env.run(["token"]);
    out.code(1);
    assert!(out.stderr.contains("`anyray login`"), "{}", out.stderr);
}
