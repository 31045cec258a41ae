//! `anyray login` / `logout`: the key is stored safely and never printed.

use crate::common;

use common::TestEnv;

const CANARY: &str = "sk-anyray-canary-5f2c9e";

#[test]
fn token_stdin_uses_the_private_file_without_a_keyring() {
    let env = TestEnv::new();
    let out = env
        .cmd(["login", "--token-stdin"])
        .stdin(format!("{CANARY}\n"))
        .run();
    out.ok();
    assert!(
        out.stdout.contains("stored your Anyray key in"),
        "{}",
        out.stdout
    );
    assert!(!out.all().contains(CANARY));

    let token_file = env.config_dir().join("token");
    assert_eq!(std::fs::read_to_string(&token_file).unwrap().trim(), CANARY);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&token_file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    let out = env.run(["login", "--status"]);
    out.ok();
    assert!(
        out.stdout.contains(&token_file.display().to_string()),
        "{}",
        out.stdout
    );
    assert!(!out.all().contains(CANARY));

    let out = env.run(["--json", "login", "--status"]);
    out.ok();
    let doc = out.json();
    assert_eq!(doc["stored"], true);
    assert_eq!(doc["store"]["kind"], "file");
    assert!(!out.all().contains(CANARY));
}

#[test]
fn status_without_a_key_exits_1() {
    let env = TestEnv::new();
    let out = env.run(["login", "--status"]);
    out.code(1);
    assert!(out.stdout.contains("anyray login"), "{}", out.stdout);
}

#[test]
fn env_token_wins_and_is_not_printed() {
    let env = TestEnv::new();
    let out = env
        .cmd(["--json", "login", "--status"])
        .env("ANYRAY_TOKEN", CANARY)
        .run();
    out.ok();
    assert_eq!(out.json()["store"]["kind"], "env");
    assert!(!out.all().contains(CANARY));
}

#[cfg(unix)]
#[test]
fn refuses_a_token_file_readable_by_others() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    let path = env.write(".config/anyray/token", CANARY);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = env.run(["login", "--status"]);
    out.code(1);
    assert!(out.stderr.contains("chmod 600"), "{}", out.stderr);
    assert!(!out.all().contains(CANARY));
}

#[cfg(unix)]
#[test]
fn login_replaces_a_too_open_file_with_a_private_one() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    let path = env.write(".config/anyray/token", "old");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    env.cmd(["login", "--token-stdin"]).stdin(CANARY).run().ok();
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
fn without_a_terminal_login_needs_token_stdin() {
    let env = TestEnv::new();
    let out = env.run(["login"]);
    out.code(2);
    assert!(out.stderr.contains("--token-stdin"), "{}", out.stderr);
}

#[test]
fn empty_token_is_refused() {
    let env = TestEnv::new();
    env.cmd(["login", "--token-stdin"])
        .stdin("  \n")
        .run()
        .code(2);
    assert!(!env.config_dir().join("token").exists());
}

#[test]
fn logout_removes_the_file() {
    let env = TestEnv::new();
    env.cmd(["login", "--token-stdin"]).stdin(CANARY).run().ok();
    let out = env.run(["logout"]);
    out.ok();
    assert!(out.stdout.contains("Removed"), "{}", out.stdout);
    assert!(!env.config_dir().join("token").exists());
    env.run(["login", "--status"]).code(1);
    let out = env.run(["logout"]);
    out.ok();
    assert!(
        out.stdout.contains("No stored Anyray key"),
        "{}",
        out.stdout
    );
}
