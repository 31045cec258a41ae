//! Real shells: the env files, the `anyray env` output and the rc-file lines are run
//! through bash, zsh, dash and fish (and pwsh when installed), and the values they end
//! up with are compared byte for byte; the POSIX output also goes through shellcheck.
//! A test whose shells are missing skips with one line, and fails in CI (see
//! [`needs`]); pwsh stays optional there.

#![cfg(unix)]

use crate::{common, needs};

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyray::edit::lines;
use anyray::provider_env::EnvVar;
use anyray::shell::rc::{self, RcKind, Shell, ShellProbe};
use anyray::shell::{self, Syntax};

use common::TestEnv;

/// Every character class that breaks naive quoting, plus unicode (including the
/// typographic quote PowerShell treats as `'`) and line breaks.
const NASTY: &str = "sp ace 'sq' \"dq\" $HOME ${X} `echo pwned` $(echo pwned) \\back\\slash\\ ; # ! !! % %PATH% ünï ’ ‘ 日本\nsecond line\ttab\\'";

/// Runs `cmd` with a clean environment plus `vars`, feeding `stdin`, with a deadline.
/// Returns stdout; panics with stderr when the shell fails.
fn run(mut cmd: Command, vars: &[(&str, &Path)], stdin: &str) -> String {
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("LANG", "C.UTF-8")
        .env("TERM", "dumb");
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn shell");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{cmd:?} did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8(out.stdout).expect("utf-8 stdout");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n--- stdout\n{stdout}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// A command that sources `file` and prints `$X` exactly.
fn source_and_print(shell: &str, file: &Path) -> Command {
    let mut cmd = Command::new(shell);
    match shell {
        "bash" => cmd.args(["--noprofile", "--norc", "-c"]),
        "zsh" => cmd.args(["-f", "-c"]),
        "dash" => cmd.arg("-c"),
        "fish" => cmd.args(["--no-config", "-c", "source $argv[1]; printf %s $X"]),
        _ => unreachable!(),
    };
    if shell != "fish" {
        cmd.args([r#". "$1"; printf %s "$X""#, "sh"]);
    }
    cmd.arg(file);
    cmd
}

#[test]
fn env_files_keep_every_byte_in_real_shells() {
    if needs::programs(["bash", "zsh", "dash", "fish"]).is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let vars = [EnvVar::new("X", NASTY)];
    for file in shell::env_files(dir.path(), &vars) {
        std::fs::write(&file.path, &file.contents).unwrap();
    }
    for sh in ["bash", "zsh", "dash"] {
        let got = run(source_and_print(sh, &dir.path().join("env.sh")), &[], "");
        assert_eq!(got, NASTY, "{sh} sourcing env.sh");
    }
    let got = run(
        source_and_print("fish", &dir.path().join("env.fish")),
        &[],
        "",
    );
    assert_eq!(got, NASTY, "fish sourcing env.fish");

    let Some(pwsh) = needs::pwsh() else { return };
    let script = dir.path().join("print.ps1");
    let env_ps1 = Syntax::PowerShell.quote(&dir.path().join("env.ps1").to_string_lossy());
    std::fs::write(
        &script,
        format!(". {env_ps1}\n[Console]::Out.Write($env:X)\n"),
    )
    .unwrap();
    let mut cmd = Command::new(pwsh);
    cmd.args(["-NoLogo", "-NoProfile", "-NonInteractive", "-File"])
        .arg(&script);
    assert_eq!(run(cmd, &[], ""), NASTY, "pwsh sourcing env.ps1");
}

#[test]
fn posix_output_passes_shellcheck() {
    let Some(shellcheck) = needs::program("shellcheck") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let vars = [
        EnvVar::new("X", NASTY),
        EnvVar::new("OPENAI_BASE_URL", "https://gw.example/v1"),
    ];
    let env_sh = dir.path().join("env.sh");
    std::fs::write(&env_sh, shell::render_env_file(Syntax::Posix, &vars)).unwrap();
    let rc_file = dir.path().join("rc.sh");
    let line = rc::source_line(Syntax::Posix, Path::new("/home/o'neil/my dir/env.sh"));
    std::fs::write(
        &rc_file,
        lines::add_line("# user's rc\nalias ll='ls -l'", &line),
    )
    .unwrap();
    // Info-level notes are expected (`$` stays literal in single quotes; the sourced
    // file is not given to shellcheck), and so is SC1112 (a typographic quote inside
    // single quotes: NASTY has one on purpose, and the shells keep it, as tested above).
    // Any other warning or error is a bug.
    for dialect in ["sh", "bash"] {
        let mut cmd = Command::new(&shellcheck);
        cmd.args([
            "--shell",
            dialect,
            "--severity",
            "warning",
            "--exclude",
            "SC1112",
        ])
        .arg(&env_sh)
        .arg(&rc_file);
        run(cmd, &[], "");
    }
}

#[test]
fn anyray_env_output_evaluates_to_the_gateway_urls() {
    if needs::programs(["bash", "zsh", "dash", "fish"]).is_none() {
        return;
    }
    // A gateway URL with characters that need quoting; nothing listens there, so
    // the default routes apply (and one warning goes to stderr).
    let gateway = "http://127.0.0.1:9/it's;$HOME`x`!%25&a";
    let env = TestEnv::new();
    let output = |format: &str| {
        let out = env.run(["env", "--shell", format, "--gateway", gateway]);
        out.ok();
        out.stdout.clone()
    };
    // (The URL parser percent-encodes the backticks.)
    let expected = "http://127.0.0.1:9/it's;$HOME%60x%60!%25&a/v1\nhttp://127.0.0.1:9/it's;$HOME%60x%60!%25&a\n";
    let print = r#"printf '%s\n' "$OPENAI_BASE_URL" "$ANTHROPIC_BASE_URL""#;
    for sh in ["bash", "zsh", "dash"] {
        let mut cmd = Command::new(sh);
        cmd.arg("-c").arg(format!(r#"eval "$(cat)"; {print}"#));
        let format = if sh == "zsh" { "zsh" } else { "bash" };
        assert_eq!(run(cmd, &[], &output(format)), expected, "{sh}");
    }
    let mut fish = Command::new("fish");
    fish.args([
        "--no-config",
        "-c",
        "source; printf '%s\\n' $OPENAI_BASE_URL $ANTHROPIC_BASE_URL",
    ]);
    assert_eq!(run(fish, &[], &output("fish")), expected, "fish");
}

/// A home whose path needs quoting, with user rc files that already set a prior value.
struct Home {
    _dir: tempfile::TempDir,
    home: PathBuf,
    originals: Vec<(PathBuf, Option<Vec<u8>>)>,
}

const PRIOR: &str = "https://prior.example/v1";
const GATEWAY: &str = "https://gw.example/it's $x";

impl Home {
    fn new(zdotdir: Option<&str>) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("anyray home 'q' ")
            .tempdir()
            .unwrap();
        let home = dir.path().to_path_buf();
        let prior = format!("export OPENAI_BASE_URL={PRIOR}\n");
        std::fs::write(home.join(".bashrc"), &prior).unwrap();
        // No final line break: the line must still go on a line of its own.
        std::fs::write(home.join(".profile"), prior.trim_end()).unwrap();
        let zdot = zdotdir.map_or(home.clone(), |d| home.join(d));
        std::fs::create_dir_all(&zdot).unwrap();
        std::fs::write(zdot.join(".zshenv"), &prior).unwrap();
        std::fs::create_dir_all(home.join(".config/fish/conf.d")).unwrap();
        // fish reads conf.d/ in name order and config.fish after it, so a prior value
        // set in config.fish would win over the drop-in; one in an earlier drop-in loses.
        std::fs::write(
            home.join(".config/fish/conf.d/00-prior.fish"),
            format!("set -gx OPENAI_BASE_URL {PRIOR}\n"),
        )
        .unwrap();
        Self {
            _dir: dir,
            home,
            originals: Vec::new(),
        }
    }

    fn probe(&self, zdotdir: Option<&str>) -> ShellProbe {
        ShellProbe {
            home: self.home.clone(),
            zdotdir: zdotdir.map(|d| self.home.join(d)),
            xdg_config_home: None,
            documents: None,
            windows: false,
            installed: vec![Shell::Bash, Shell::Zsh, Shell::Fish],
        }
    }

    /// What `connect` does for the shell target: env files, then one line per rc file.
    fn connect(&mut self, probe: &ShellProbe) {
        let env_dir = self.home.join(".config/anyray");
        std::fs::create_dir_all(&env_dir).unwrap();
        let vars = [
            EnvVar::new("OPENAI_BASE_URL", format!("{GATEWAY}/v1")),
            EnvVar::new("ANTHROPIC_BASE_URL", GATEWAY),
        ];
        for file in shell::env_files(&env_dir, &vars) {
            std::fs::write(&file.path, &file.contents).unwrap();
        }
        for target in rc::rc_targets(probe, &env_dir) {
            let before = std::fs::read(&target.path).ok();
            let text = match target.kind {
                RcKind::Line => {
                    let existing = String::from_utf8(before.clone().unwrap_or_default()).unwrap();
                    lines::add_line(&existing, &target.text)
                }
                RcKind::DropIn => target.text.clone(),
            };
            std::fs::write(&target.path, text).unwrap();
            self.originals.push((target.path, before));
        }
    }

    /// What `disconnect` does: remove the lines and the files anyray created.
    fn disconnect(&self, probe: &ShellProbe) {
        let env_dir = self.home.join(".config/anyray");
        for target in rc::rc_targets(probe, &env_dir) {
            match target.kind {
                RcKind::Line => {
                    let existing = std::fs::read_to_string(&target.path).unwrap();
                    let restored = lines::remove_line(&existing, &target.text);
                    if restored.is_empty() && !self.existed(&target.path) {
                        std::fs::remove_file(&target.path).unwrap();
                    } else {
                        std::fs::write(&target.path, restored).unwrap();
                    }
                }
                RcKind::DropIn => std::fs::remove_file(&target.path).unwrap(),
            }
        }
        std::fs::remove_dir_all(env_dir).unwrap();
        for (path, before) in &self.originals {
            assert_eq!(
                std::fs::read(path).ok(),
                *before,
                "{} is restored byte for byte",
                path.display()
            );
        }
    }

    fn existed(&self, path: &Path) -> bool {
        self.originals
            .iter()
            .any(|(p, before)| p == path && before.is_some())
    }

    /// OPENAI_BASE_URL and ANTHROPIC_BASE_URL as `shell args` sees them.
    fn urls(&self, shell: &str, args: &[&str], extra: &[(&str, &Path)]) -> String {
        let mut cmd = Command::new(shell);
        cmd.args(args);
        // The same words in fish and POSIX sh: `$VAR` expands inside double quotes in both.
        cmd.arg(r#"printf '%s|%s\n' "$OPENAI_BASE_URL" "$ANTHROPIC_BASE_URL""#);
        let mut vars = vec![("HOME", self.home.as_path())];
        vars.extend_from_slice(extra);
        let out = run(cmd, &vars, "");
        // Interactive shells may print terminal noise first; the answer is the last line.
        out.lines().last().unwrap_or_default().to_string()
    }
}

const STARTS: [(&str, &[&str]); 5] = [
    ("bash", &["-lic"]),
    ("bash", &["-ic"]),
    ("bash", &["-lc"]),
    ("zsh", &["-ic"]),
    ("zsh", &["-c"]),
];

#[test]
fn rc_lines_reach_login_interactive_and_fish_shells_and_come_out_cleanly() {
    if needs::programs(["bash", "zsh", "fish"]).is_none() {
        return;
    }
    let mut home = Home::new(None);
    let probe = home.probe(None);
    let connected = format!("{GATEWAY}/v1|{GATEWAY}");
    let prior = format!("{PRIOR}|");

    home.connect(&probe);
    for (shell, args) in STARTS {
        assert_eq!(home.urls(shell, args, &[]), connected, "{shell} {args:?}");
    }
    assert_eq!(home.urls("fish", &["-c"], &[]), connected, "fish");

    home.disconnect(&probe);
    for (shell, args) in STARTS {
        assert_eq!(home.urls(shell, args, &[]), prior, "{shell} {args:?} after");
    }
    assert_eq!(home.urls("fish", &["-c"], &[]), prior, "fish after");
}

#[test]
fn zsh_with_zdotdir_and_fish_with_xdg_config_home() {
    if needs::programs(["zsh", "fish"]).is_none() {
        return;
    }
    let mut home = Home::new(Some("zdot"));
    let mut probe = home.probe(Some("zdot"));
    // fish follows XDG_CONFIG_HOME: move its config there.
    let xdg = home.home.join("xdg config");
    std::fs::create_dir_all(&xdg).unwrap();
    std::fs::rename(home.home.join(".config/fish"), xdg.join("fish")).unwrap();
    probe.xdg_config_home = Some(xdg.clone());
    let zdotdir = home.home.join("zdot");
    let connected = format!("{GATEWAY}/v1|{GATEWAY}");

    home.connect(&probe);
    assert!(
        !home.home.join(".zshenv").exists(),
        "only $ZDOTDIR/.zshenv exists, so it alone gets the line"
    );
    for args in [&["-ic"][..], &["-c"]] {
        let got = home.urls("zsh", args, &[("ZDOTDIR", zdotdir.as_path())]);
        assert_eq!(got, connected, "zsh {args:?}");
    }
    let got = home.urls("fish", &["-c"], &[("XDG_CONFIG_HOME", xdg.as_path())]);
    assert_eq!(got, connected, "fish");

    home.disconnect(&probe);
    let got = home.urls("zsh", &["-ic"], &[("ZDOTDIR", zdotdir.as_path())]);
    assert_eq!(got, format!("{PRIOR}|"));
}
