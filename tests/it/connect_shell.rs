//! The shell and gemini targets with real shells: bash, zsh and fish start in a temp
//! HOME with the rc files `connect` wrote and print the gateway's values; after
//! `disconnect` they print the user's prior values and every rc file is byte-identical.
//! A test whose shells are missing skips with one line, and fails in CI (see [`needs`]).

#![cfg(unix)]

use crate::{common, connect_support, needs};

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::TestEnv;
use connect_support::read_bytes;

/// A gateway URL with characters every shell must quote (`'` and `$`).
const GW: &str = "https://gw.example:8787/team's$dir";

/// What `shell` started in `env`'s HOME prints for the two base URLs.
fn base_urls(env: &TestEnv, shell: &str) -> String {
    let script = r#"printf '%s|%s' "$OPENAI_BASE_URL" "$ANTHROPIC_BASE_URL""#;
    let mut cmd = Command::new(shell);
    match shell {
        // An interactive bash reads ~/.bashrc (a new terminal tab on Linux).
        "bash" => cmd.args(["-i", "-c", script]),
        // Every zsh reads .zshenv; fish reads conf.d/ at startup.
        _ => cmd.args(["-c", script]),
    };
    cmd.env_clear()
        .env("HOME", env.home())
        .env("XDG_CONFIG_HOME", env.path(".config"))
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("LANG", "C.UTF-8")
        .env("TERM", "dumb")
        .current_dir(env.home())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn shell");
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{shell} did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{shell}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn real_shells_get_the_gateway_then_their_prior_values_back() {
    if needs::programs(["bash", "zsh", "fish"]).is_none() {
        return;
    }
    let env = TestEnv::new();
    let bashrc = "# my bashrc\nexport OPENAI_BASE_URL=https://prior-openai.example/v1\nexport ANTHROPIC_BASE_URL=https://prior-anthropic.example\n";
    let zshenv = "export OPENAI_BASE_URL=https://prior-openai.example/v1\nexport ANTHROPIC_BASE_URL=https://prior-anthropic.example";
    // The rc file is a symlink into a dotfiles repo, as many users keep it.
    let real_bashrc = env.write("dotfiles/bashrc", bashrc);
    std::os::unix::fs::symlink(&real_bashrc, env.path(".bashrc")).unwrap();
    env.write(".zshenv", zshenv);
    std::fs::create_dir_all(env.path(".config/fish")).unwrap();

    let out = env.run(["connect", "shell", "--force", "--gateway", GW]);
    out.ok();
    let expected = format!("{GW}/v1|{GW}");
    for shell in ["bash", "zsh", "fish"] {
        assert_eq!(base_urls(&env, shell), expected, "{shell} after connect");
    }
    assert!(
        std::fs::symlink_metadata(env.path(".bashrc"))
            .unwrap()
            .file_type()
            .is_symlink(),
        "~/.bashrc stays a symlink"
    );
    assert!(
        env.read("dotfiles/bashrc").starts_with(bashrc),
        "the user's lines stay first"
    );

    // A second connect changes nothing.
    let again = env.run(["connect", "shell", "--force"]);
    again.ok();
    assert!(
        again.stdout.contains("already connected"),
        "{}",
        again.stdout
    );

    env.run(["disconnect", "shell"]).ok();
    let prior = "https://prior-openai.example/v1|https://prior-anthropic.example";
    assert_eq!(base_urls(&env, "bash"), prior);
    assert_eq!(base_urls(&env, "zsh"), prior);
    assert_eq!(base_urls(&env, "fish"), "|", "fish had no value before");
    assert_eq!(
        read_bytes(&env, "dotfiles/bashrc").unwrap(),
        bashrc.as_bytes()
    );
    assert_eq!(read_bytes(&env, ".zshenv").unwrap(), zshenv.as_bytes());
    assert!(!env.path(".config/fish/conf.d/anyray.fish").exists());
    assert!(!env.config_dir().join("env.sh").exists());
}

#[test]
fn gemini_is_carried_by_the_shell_env_file() {
    let env = TestEnv::new();
    std::fs::create_dir_all(env.path(".gemini")).unwrap();
    env.write(".bashrc", "");
    // Without discovery only OpenAI and Anthropic are assumed; the user names Gemini.
    env.run([
        "connect",
        "gemini",
        "--offline",
        "--gateway",
        "https://gw.example",
    ])
    .ok();
    assert!(!env.path(".config/anyray/env.sh").exists());
    env.run(["config", "set", "routes.enabled", "openai,anthropic,gemini"])
        .ok();
    env.run([
        "connect",
        "gemini",
        "--offline",
        "--gateway",
        "https://gw.example",
    ])
    .ok();
    let env_sh = env.read(".config/anyray/env.sh");
    assert!(
        env_sh.contains("export GOOGLE_GEMINI_BASE_URL='https://gw.example/gemini'"),
        "{env_sh}"
    );
    let status = env.run(["status", "gemini", "shell", "--json"]).json();
    assert_eq!(status["targets"][0]["state"], "connected");
    assert_eq!(status["targets"][1]["state"], "connected");
    env.run(["disconnect", "gemini"]).ok();
    assert!(!env.path(".config/anyray/env.sh").exists());
    assert_eq!(env.read(".bashrc"), "");
}

#[test]
fn env_files_match_anyray_env() {
    // `connect` and `anyray env` go through one resolver: same variables, same quoting.
    let env = TestEnv::new();
    env.write(".bashrc", "");
    env.run(["connect", "shell", "--force", "--gateway", GW])
        .ok();
    let printed = env.run(["env", "--shell", "bash"]);
    printed.ok();
    let file = env.read(".config/anyray/env.sh");
    let lines: Vec<&str> = printed.stdout.lines().collect();
    assert!(
        lines.len() >= 2,
        "anyray env printed too little:\n{}",
        printed.stdout
    );
    for line in lines {
        assert!(file.contains(line), "{line} missing from env.sh:\n{file}");
    }
}

#[test]
fn rc_files_exact_bytes_created_and_existing() {
    use connect_support::visible;
    let Some(shells) = needs::programs(["bash", "zsh"]) else {
        return;
    };
    let mut env = TestEnv::new();
    // Only bash and zsh "installed": a bin dir with just those two.
    let bin = env.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for real in shells {
        let name = real.file_name().unwrap().to_owned();
        std::os::unix::fs::symlink(&real, bin.join(name)).unwrap();
    }
    env.set_var("PATH", &bin);
    let zshenv = "\u{feff}# zsh\r\nexport EDITOR=vim\r\n";
    env.write(".zshenv", zshenv);
    let files = [".bashrc", ".profile", ".zshenv", ".config/anyray/env.sh"];
    let before: Vec<Option<Vec<u8>>> = files.iter().map(|f| read_bytes(&env, f)).collect();

    env.run([
        "connect",
        "shell",
        "--offline",
        "--gateway",
        "https://gw.example",
    ])
    .ok();
    let mut shown = String::new();
    for f in files {
        let text = visible(&read_bytes(&env, f).unwrap_or_default());
        shown.push_str(&format!("== {f}\n{}", common::redact_home(&text, &env)));
    }
    insta::assert_snapshot!(shown, @r#"
    == .bashrc
    if [ -f '[HOME]/.config/anyray/env.sh' ]; then . '[HOME]/.config/anyray/env.sh'; fi # anyray
    == .profile
    if [ -f '[HOME]/.config/anyray/env.sh' ]; then . '[HOME]/.config/anyray/env.sh'; fi # anyray
    == .zshenv
    <BOM># zsh␍
    export EDITOR=vim␍
    if [ -f '[HOME]/.config/anyray/env.sh' ]; then . '[HOME]/.config/anyray/env.sh'; fi # anyray␍
    == .config/anyray/env.sh
    # Managed by anyray: `anyray connect` writes this file and `anyray disconnect` removes it.
    # Edits here are overwritten; change the gateway with `anyray connect --gateway URL`.
    export OPENAI_BASE_URL='https://gw.example/v1'
    export ANTHROPIC_BASE_URL='https://gw.example'
    "#);
    assert!(
        !env.config_dir().join("env.fish").exists(),
        "no fish, no env.fish"
    );

    let again = env.run(["connect", "shell", "--offline"]);
    again.ok();
    assert!(
        again.stdout.contains("already connected"),
        "{}",
        again.stdout
    );

    env.run(["disconnect"]).ok();
    let after: Vec<Option<Vec<u8>>> = files.iter().map(|f| read_bytes(&env, f)).collect();
    assert_eq!(
        after, before,
        "created files are gone, existing ones are as they were"
    );
}

#[test]
fn an_rc_file_that_is_not_utf8_exits_3_and_is_untouched() {
    let env = TestEnv::new();
    let bytes = b"export A=1\n\xff\xfe broken\n".to_vec();
    env.write(".bashrc", &bytes);
    let out = env.run([
        "connect",
        "shell",
        "--force",
        "--gateway",
        "https://gw.example",
    ]);
    out.code(3);
    assert!(
        out.stderr.contains(".bashrc:2:1: not valid UTF-8"),
        "{}",
        out.stderr
    );
    assert_eq!(read_bytes(&env, ".bashrc").unwrap(), bytes);
}

#[test]
fn disconnect_dry_run_shows_the_restore_and_writes_nothing() {
    let env = TestEnv::new();
    env.write(".bashrc", "export A=1\n");
    env.run([
        "connect",
        "shell",
        "--force",
        "--gateway",
        "https://gw.example",
    ])
    .ok();
    let connected = env.read(".bashrc");
    let out = env.run(["disconnect", "--dry-run"]);
    out.ok();
    assert!(out.stdout.contains("would restore"), "{}", out.stdout);
    assert!(out.stdout.contains("-if [ -f "), "{}", out.stdout);
    assert_eq!(env.read(".bashrc"), connected);
    env.run(["disconnect"]).ok();
    assert_eq!(env.read(".bashrc"), "export A=1\n");
}
