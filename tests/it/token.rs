//! `anyray token`: the key and a newline on stdout for the tools' credential helpers;
//! never a prompt, never stdin, no settings, no network; one stderr line when there is
//! no key.

use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common;

use common::TestEnv;

const CANARY: &str = "sk-anyray-token-canary-77a1";

#[test]
fn prints_the_stored_key_and_a_newline() {
    let env = TestEnv::new();
    env.cmd(["login", "--token-stdin"])
        .stdin(format!("{CANARY}\n"))
        .run()
        .ok();
    let out = env.run(["token"]);
    out.ok();
    assert_eq!(out.stdout, format!("{CANARY}\n"));
    assert_eq!(out.stderr, "");

    let out = env.run(["--json", "token"]);
    out.ok();
    let doc = out.json();
    assert_eq!(doc["token"], CANARY);
    assert_eq!(doc["store"]["kind"], "file");
}

#[test]
fn the_environment_wins_over_the_stored_key() {
    let env = TestEnv::new();
    env.cmd(["login", "--token-stdin"]).stdin(CANARY).run().ok();
    let out = env.cmd(["token"]).env("ANYRAY_TOKEN", "sk-from-env").run();
    out.ok();
    assert_eq!(out.stdout, "sk-from-env\n");
}

#[test]
fn without_a_key_one_stderr_line_names_login_and_exits_1() {
    let env = TestEnv::new();
    let out = env.run(["token"]);
    out.code(1);
    assert_eq!(out.stdout, "");
    assert_eq!(out.stderr.lines().count(), 1, "{:?}", out.stderr);
    assert!(out.stderr.contains("`anyray login`"), "{}", out.stderr);

    // After logout, the same.
    env.cmd(["login", "--token-stdin"]).stdin(CANARY).run().ok();
    env.run(["logout"]).ok();
    let out = env.run(["token"]);
    out.code(1);
    assert!(out.stderr.contains("`anyray login`"), "{}", out.stderr);
    assert!(!out.all().contains(CANARY));
}

#[cfg(unix)]
#[test]
fn a_problem_with_the_store_is_one_line_too_and_hides_the_key() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    let path = env.write(".config/anyray/token", CANARY);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = env.run(["token"]);
    out.code(1);
    assert_eq!(out.stdout, "");
    assert_eq!(out.stderr.lines().count(), 1, "{:?}", out.stderr);
    assert!(out.stderr.contains("chmod 600"), "{}", out.stderr);
    assert!(!out.all().contains(CANARY));

    let out = env.cmd(["token"]).env("ANYRAY_KEYRING", "maybe").run();
    out.code(2);
    assert_eq!(out.stderr.lines().count(), 1, "{:?}", out.stderr);
}

/// The helpers run it on every refresh: no settings are resolved (a broken config file
/// does not matter) and nothing connects to the gateway.
#[test]
fn reads_no_settings_and_opens_no_connection() {
    let env = TestEnv::new();
    env.cmd(["login", "--token-stdin"]).stdin(CANARY).run().ok();
    let gateway = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", gateway.local_addr().unwrap());
    env.write(
        ".config/anyray/config.toml",
        format!("gateway = \"{url}\"\nthis is = = not toml\n"),
    );
    let out = env.cmd(["token"]).env("ANYRAY_GATEWAY", &url).run();
    out.ok();
    assert_eq!(out.stdout, format!("{CANARY}\n"));
    gateway.set_nonblocking(true).unwrap();
    assert_eq!(
        gateway.accept().map(|_| ()).unwrap_err().kind(),
        std::io::ErrorKind::WouldBlock,
        "anyray token connected to the gateway"
    );
}

/// A helper's stdin may be a pipe nobody writes to or closes: `token` must not wait on it.
#[test]
fn never_reads_stdin() {
    let env = TestEnv::new();
    for stored in [false, true] {
        if stored {
            env.cmd(["login", "--token-stdin"]).stdin(CANARY).run().ok();
        }
        let mut cmd = env.cmd(["token"]).command;
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = cmd.spawn().unwrap();
        let _open_stdin = child.stdin.take();
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("anyray token waited on an open stdin");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut stdout = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut stdout)
            .unwrap();
        assert_eq!(status.success(), stored);
        assert_eq!(
            stdout,
            if stored {
                format!("{CANARY}\n")
            } else {
                String::new()
            }
        );
    }
}
