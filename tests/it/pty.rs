//! The interactive flows through a real pseudo-terminal (expectrl): `connect`'s checklist
//! and its confirmations (the status-line chain question too), and `login`'s hidden
//! prompt. What a user sees and types, and what ends up on disk; the secret never
//! appears on the screen.
//!
//! [`Pty`] is the harness: a TestEnv command on a PTY (TERM=xterm-256color, no colour),
//! with what was shown kept for the assertions and the failure messages.

use std::process::Command;
use std::time::Duration;

use expectrl::process::unix::WaitStatus;
use expectrl::{Eof, Expect, Session};

use crate::common;
use crate::connect_support::GW;

use common::TestEnv;

/// Keys as a terminal sends them.
pub const DOWN: &str = "\x1b[B";
pub const ENTER: &str = "\r";

/// A command running on a pseudo-terminal.
pub struct Pty {
    session: expectrl::session::OsSession,
    /// Everything shown so far.
    screen: String,
}

impl Pty {
    /// Starts `cmd` (from [`TestEnv::cmd`]: a cleared environment) on a terminal.
    pub fn spawn(mut cmd: Command) -> Self {
        cmd.env("TERM", "xterm-256color").env("NO_COLOR", "1");
        let mut session = Session::spawn(cmd).expect("spawn on a pty");
        session.set_expect_timeout(Some(Duration::from_secs(30)));
        Self {
            session,
            screen: String::new(),
        }
    }

    /// Waits until `text` is shown; panics with the screen so far when it is not.
    #[track_caller]
    pub fn expect(&mut self, text: &str) {
        match self.session.expect(text) {
            Ok(found) => {
                self.screen
                    .push_str(&String::from_utf8_lossy(found.before()));
                self.screen.push_str(text);
            }
            Err(err) => panic!(
                "{text:?} was not shown ({err}); the screen:\n{}",
                self.screen
            ),
        }
    }

    /// Everything shown so far (up to the last text [`Pty::expect`] waited for).
    pub fn shown(&self) -> &str {
        &self.screen
    }

    /// Types `keys`.
    pub fn send(&mut self, keys: &str) {
        self.session.send(keys).expect("write to the pty");
    }

    /// Waits for `prompt`, then types `keys` and Enter.
    #[track_caller]
    pub fn answer(&mut self, prompt: &str, keys: &str) {
        self.expect(prompt);
        self.send(keys);
        self.send(ENTER);
    }

    /// Waits for the program to end: its exit code and the whole screen.
    #[track_caller]
    pub fn finish(mut self) -> (i32, String) {
        match self.session.expect(Eof) {
            // Everything up to the end is Eof's match.
            Ok(rest) => {
                self.screen
                    .push_str(&String::from_utf8_lossy(rest.before()));
                for part in rest.matches() {
                    self.screen.push_str(&String::from_utf8_lossy(part));
                }
            }
            Err(err) => panic!(
                "the program did not end ({err}); the screen:\n{}",
                self.screen
            ),
        }
        let code = match self.session.get_process().wait() {
            Ok(WaitStatus::Exited(_, code)) => code,
            other => panic!("unexpected end {other:?}; the screen:\n{}", self.screen),
        };
        (code, self.screen)
    }
}

const CLAUDE: &str = ".claude/settings.json";
const CODEX: &str = ".codex/config.toml";

/// An env where only Claude Code and Codex are installed.
fn two_tools() -> TestEnv {
    let mut env = TestEnv::new();
    env.isolate_path();
    env.write_executable("bin/claude", "#!/bin/sh\n");
    env.write_executable("bin/codex", "#!/bin/sh\necho codex-cli 0.169.0\n");
    env.run(["config", "set", "gateway", GW]).ok();
    env
}

#[test]
fn the_checklist_connects_only_what_stays_ticked() {
    let env = two_tools();
    let mut pty = Pty::spawn(env.cmd(["connect", "--offline"]).command);
    pty.expect("Connect which tools?");
    pty.expect("claude-code");
    pty.expect("codex");
    // Everything starts ticked: move to codex, untick it, accept.
    pty.send(DOWN);
    pty.send(" ");
    pty.send(ENTER);
    pty.answer("Apply these changes?", "y");
    let (code, screen) = pty.finish();
    assert_eq!(code, 0, "{screen}");
    assert!(env.read(CLAUDE).contains(GW), "{screen}");
    assert!(!env.path(CODEX).exists(), "codex was unticked:\n{screen}");
}

#[test]
fn no_to_apply_changes_nothing() {
    let env = two_tools();
    let original = "{\"theme\": \"dark\"}\n";
    env.write(CLAUDE, original);
    let mut pty = Pty::spawn(env.cmd(["connect", "claude-code", "--offline"]).command);
    pty.answer("Apply these changes?", "n");
    let (code, screen) = pty.finish();
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("Nothing was changed."), "{screen}");
    assert_eq!(env.read(CLAUDE), original);
}

/// `connect --statusline` with a status line of the user's: asked whether to chain it.
/// No keeps theirs as it is (the URL is still set); yes (the default) runs theirs first
/// and appends anyray's. `disconnect` restores the file byte for byte either way.
#[test]
fn a_status_line_of_the_users_is_chained_only_when_they_say_yes() {
    let env = two_tools();
    let theirs = "echo mine";
    let original =
        format!("{{\"statusLine\": {{\"type\": \"command\", \"command\": \"{theirs}\"}}}}\n");
    env.write(CLAUDE, &original);
    let connect = || {
        let args = ["connect", "claude-code", "--offline", "--statusline"];
        Pty::spawn(env.cmd(args).command)
    };
    let status_command = || {
        let settings: serde_json::Value = serde_json::from_str(&env.read(CLAUDE)).unwrap();
        settings["statusLine"]["command"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // The question's start; the terminal wraps the rest.
    let question = "already has a status line (`echo mine`)";

    let mut pty = connect();
    pty.expect(question);
    pty.answer("(Y/n)", "n");
    pty.answer("Apply these changes?", "y");
    let (code, screen) = pty.finish();
    assert_eq!(code, 0, "{screen}");
    assert_eq!(status_command(), theirs, "{screen}");
    assert!(env.read(CLAUDE).contains(GW), "{screen}");
    env.run(["disconnect", "claude-code", "--yes"]).ok();
    assert_eq!(env.read(CLAUDE), original);

    let mut pty = connect();
    pty.expect(question);
    pty.expect("(Y/n)");
    pty.send(ENTER);
    pty.answer("Apply these changes?", "y");
    let (code, screen) = pty.finish();
    assert_eq!(code, 0, "{screen}");
    let chained = status_command();
    assert!(
        chained.contains(" statusline --chain ") && chained.contains(theirs),
        "{chained}\n{screen}"
    );
    env.run(["disconnect", "claude-code", "--yes"]).ok();
    assert_eq!(env.read(CLAUDE), original);
}

/// The gateway does not answer: "Connect anyway? (y/N)". Enter takes the default, no:
/// exit 1 and the files byte for byte as they were; yes goes on to the confirmation.
#[test]
fn connect_anyway_defaults_to_no_and_yes_goes_on() {
    let env = two_tools();
    // A closed loopback port: the preflight fails at once.
    env.run(["config", "set", "gateway", "http://127.0.0.1:9"])
        .ok();
    let original = "{\n  \"theme\":   \"dark\"\n}\n";
    env.write(CLAUDE, original);

    let mut pty = Pty::spawn(env.cmd(["connect", "claude-code"]).command);
    pty.expect("does not answer");
    pty.expect("Connect anyway?");
    pty.expect("(y/N)");
    pty.send(ENTER);
    let (code, screen) = pty.finish();
    assert_eq!(code, 1, "{screen}");
    assert!(screen.contains("Nothing was changed."), "{screen}");
    assert_eq!(env.read(CLAUDE), original);
    assert!(!env.state_dir().join("ledger.json").exists());

    let mut pty = Pty::spawn(env.cmd(["connect", "claude-code"]).command);
    pty.answer("Connect anyway?", "y");
    pty.answer("Apply these changes?", "y");
    let (code, screen) = pty.finish();
    assert_eq!(code, 0, "{screen}");
    assert!(env.read(CLAUDE).contains("http://127.0.0.1:9"), "{screen}");
}

#[test]
fn login_hides_the_key_and_stores_it() {
    let env = TestEnv::new();
    let secret = "sk-typed-on-a-terminal-4c1f";
    let mut pty = Pty::spawn(env.cmd(["login"]).command);
    pty.expect("Anyray key:");
    pty.send(secret);
    pty.send(ENTER);
    let (code, screen) = pty.finish();
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("stored your Anyray key"), "{screen}");
    assert!(!screen.contains(secret), "the key was shown:\n{screen}");
    // Not even a part of it (an echo of the first keys before the prompt hid input).
    assert!(!screen.contains(&secret[..6]), "{screen}");
    let out = env.run(["token"]);
    out.ok();
    assert_eq!(out.stdout, format!("{secret}\n"));
}
