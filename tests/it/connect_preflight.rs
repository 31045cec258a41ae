//! `connect` checks the gateway before it writes (issue 21): a gateway that does not
//! answer (refused, black-holed, unresolvable) leaves every file untouched and exits 1
//! naming the failing step; `--offline`/`--force` write anyway; `--dry-run` and `--check`
//! show the check and never fail on it; a healthy gateway costs little. Loopback only:
//! the unresolvable name has a 64-character label, which the resolver refuses without
//! sending a query.

use crate::common;

use std::net::TcpListener;

use common::TestEnv;
use fake_gateway::{FakeConfig, FakeGateway};

const CODEX: &str = ".codex/config.toml";
const ORIGINAL: &str = "model = \"o3\" # mine\n";

/// A machine with Codex and a shell rc file: the tools `connect` would change.
fn machine() -> TestEnv {
    let mut env = TestEnv::new();
    env.isolate_path();
    env.write_executable("bin/bash", "#!/bin/sh\n");
    env.write(CODEX, ORIGINAL);
    env.write(".bashrc", "export EDITOR=vim\n");
    env
}

/// Every file under HOME with its bytes (anyray's own dirs included).
fn snapshot(env: &TestEnv) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut dirs = vec![env.home().to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push((path.clone(), std::fs::read(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

fn unresolvable() -> String {
    format!("https://{}.invalid:8787", "a".repeat(64))
}

/// Accepts TCP connections and never answers: the HTTP step must time out.
fn silent() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    (listener, url)
}

fn closed_port() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    url
}

#[test]
fn an_unreachable_gateway_changes_nothing_and_names_the_step() {
    let (_silent, silent_url) = silent();
    for (gateway, step) in [
        (closed_port(), "net.tcp"),
        (silent_url, "net.http"),
        (unresolvable(), "net.dns"),
    ] {
        let env = machine();
        let before = snapshot(&env);
        let out = env.run(["connect", "--yes", "--gateway", &gateway]);
        out.code(1);
        assert!(
            out.stderr.contains(&format!("({step}: ")),
            "{gateway}: the failing step is named:\n{}",
            out.stderr
        );
        assert!(out.stderr.contains("nothing was changed"), "{}", out.stderr);
        assert!(out.stderr.contains("--offline"), "{}", out.stderr);
        assert!(
            out.stderr
                .contains("every request from the connected tools would fail"),
            "what the tools would do:\n{}",
            out.stderr
        );
        assert_eq!(snapshot(&env), before, "{gateway}: a file changed");
    }
}

#[test]
fn json_says_why_nothing_was_written() {
    let env = machine();
    let before = snapshot(&env);
    let out = env.run(["connect", "--yes", "--json", "--gateway", &closed_port()]);
    out.code(1);
    let doc = out.json();
    assert_eq!(doc["targets"], serde_json::json!([]));
    assert_eq!(doc["preflight"]["ok"], false);
    let failed: Vec<&str> = doc["preflight"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["level"] == "fail")
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["net.tcp"]);
    assert_eq!(snapshot(&env), before);
}

#[test]
fn offline_and_force_write_without_asking_the_gateway() {
    for flag in ["--offline", "--force"] {
        let env = machine();
        let gateway = closed_port();
        let out = env.run(["connect", "--yes", flag, "--json", "--gateway", &gateway]);
        out.ok();
        assert_eq!(out.json()["preflight"], serde_json::Value::Null, "{flag}");
        assert!(env.read(CODEX).contains(&gateway), "{flag}: not connected");
        env.run(["disconnect", "--yes"]).ok();
        assert_eq!(env.read(CODEX), ORIGINAL);
    }
}

#[test]
fn dry_run_and_check_show_the_check_and_never_fail_on_it() {
    let env = machine();
    let gateway = closed_port();
    let before = snapshot(&env);
    let dry = env.run(["connect", "--dry-run", "--gateway", &gateway, "codex"]);
    dry.ok();
    assert!(
        dry.stdout.contains(&format!(
            "Gateway check: {gateway} does not answer: net.tcp"
        )),
        "{}",
        dry.stdout
    );
    let check = env.run(["connect", "--check", "--gateway", &gateway, "codex"]);
    check.code(1); // not connected: the same exit as before the preflight
    assert!(check.stdout.contains("Gateway check:"), "{}", check.stdout);
    assert_eq!(snapshot(&env), before);

    env.run([
        "connect",
        "--yes",
        "--offline",
        "--gateway",
        &gateway,
        "codex",
    ])
    .ok();
    let check = env.run([
        "connect",
        "--check",
        "--json",
        "--gateway",
        &gateway,
        "codex",
    ]);
    check.ok(); // connected: exit 0 though the gateway does not answer
    assert_eq!(check.json()["preflight"]["ok"], false);
}

#[test]
fn a_healthy_gateway_is_checked_quickly_and_connected() {
    let gw = FakeGateway::spawn(FakeConfig::default()).unwrap();
    let env = machine();
    let connect_json = || {
        let out = env.run([
            "connect",
            "--yes",
            "--json",
            "--gateway",
            &gw.url(),
            "codex",
        ]);
        out.ok();
        out.json()
    };
    let doc = connect_json();
    assert_eq!(doc["preflight"]["ok"], true, "{doc:#}");
    assert!(env.read(CODEX).contains(&gw.url()));
    let human = env.run(["connect", "--yes", "--gateway", &gw.url(), "codex"]);
    human.ok();
    assert!(
        human
            .stdout
            .contains("Check it with `anyray doctor`; undo it with `anyray disconnect`."),
        "{}",
        human.stdout
    );
    // What the check adds to `connect` on loopback: the best of three, so that one
    // scheduling hiccup on a busy CI machine does not decide it.
    let best = (0..3)
        .map(|_| connect_json()["preflight"]["elapsed_ms"].as_u64().unwrap())
        .min()
        .unwrap();
    assert!(best < 100, "the preflight took {best} ms");
}

#[test]
fn through_the_relay_it_says_whether_fail_open_carries_the_tools() {
    let providers = FakeGateway::spawn(FakeConfig::default()).unwrap();
    let env = machine();
    env.write(
        ".config/anyray/config.toml",
        format!(
            "[relay]\nfallback = \"direct\"\n\
             [relay.providers]\nopenai = \"{p}\"\nanthropic = \"{p}\"\ngemini = \"{p}\"\n",
            p = providers.url()
        ),
    );
    let gateway = closed_port();
    let out = env.run(["connect", "--yes", "--via", "relay", "--gateway", &gateway]);
    out.code(1);
    assert!(
        out.stderr.contains("the relay would fail open"),
        "{}",
        out.stderr
    );
    env.write(
        ".config/anyray/config.toml",
        "[relay]\nfallback = \"none\"\n",
    );
    let out = env.run(["connect", "--yes", "--via", "relay", "--gateway", &gateway]);
    out.code(1);
    assert!(out.stderr.contains("502"), "{}", out.stderr);
}

#[test]
fn status_says_whether_the_gateway_answers() {
    let gw = FakeGateway::spawn(FakeConfig::default()).unwrap();
    let header = |gateway: &str, json: bool| {
        let mut env = machine();
        env.set_var("ANYRAY_GATEWAY", gateway);
        let out = env.run(if json {
            vec!["status", "--json"]
        } else {
            vec!["status"]
        });
        out.ok();
        out
    };
    let out = header(&gw.url(), false);
    let first = out.stdout.lines().next().unwrap_or_default();
    assert!(first.contains("· gateway answers ("), "{first}");
    let out = header(&closed_port(), false);
    let first = out.stdout.lines().next().unwrap_or_default();
    assert!(
        first.contains("· gateway does not answer: net.tcp"),
        "{first}"
    );
    assert_eq!(header(&gw.url(), true).json()["preflight"]["ok"], true);
}
