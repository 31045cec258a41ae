//! The shared engine as a user meets it: selection, dry runs, `--check`, symlinks, file
//! modes, where backups go, concurrent runs, discovery routes, and the `--json` schemas.

use crate::common;
use crate::connect_support;

use std::process::Stdio;

use common::{TestEnv, redact_home};
use connect_support::{GW, read_bytes};
use fake_gateway::{Discovery, FakeConfig, FakeGateway};

const CLAUDE: &str = ".claude/settings.json";
const CODEX: &str = ".codex/config.toml";
const CURSOR: &str = ".config/Cursor/User/settings.json";

/// JSON output with the temp HOME replaced, for snapshots (it must parse first).
fn json_snapshot(env: &TestEnv, out: &common::Output) -> String {
    serde_json::from_str::<serde_json::Value>(&out.stdout).expect("JSON");
    // The gateway check's timings and resolver messages vary by machine: its shape is
    // asserted in connect_preflight.rs. It is the last field.
    let marker = ",\n  \"preflight\": {";
    let text = match out.stdout.find(marker) {
        Some(at) => format!(
            "{},\n  \"preflight\": \"[the gateway check]\"\n}}\n",
            &out.stdout[..at]
        ),
        None => out.stdout.clone(),
    };
    redact_home(&text, env)
}

#[cfg(unix)]
#[test]
fn without_a_terminal_every_detected_tool_is_connected() {
    let mut env = TestEnv::new();
    env.isolate_path();
    env.write_executable("bin/claude", "#!/bin/sh\nexit 0\n");
    std::fs::create_dir_all(env.path(".codex")).unwrap();
    let out = env.run(["connect", "--offline", "--gateway", GW]);
    out.ok();
    assert!(env.path(CLAUDE).exists(), "claude on PATH is detected");
    assert!(env.path(CODEX).exists(), "~/.codex is detected");
    assert!(!env.path(CURSOR).exists(), "cursor is not installed");
    let status = env.run(["status", "--json"]).json();
    let installed: Vec<bool> = status["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["installed"].as_bool().unwrap())
        .collect();
    assert_eq!(
        installed,
        [
            true, false, false, true, false, false, false, false, false, false, false, false,
            false, false, false,
        ]
    );
}

#[test]
fn a_named_tool_that_is_not_installed_needs_force() {
    let mut env = TestEnv::new();
    env.isolate_path();
    let out = env.run(["connect", "codex", "--gateway", GW]);
    out.code(2);
    assert!(
        out.stderr.contains("not installed: codex"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--force"), "{}", out.stderr);
    assert!(!env.path(CODEX).exists());
    assert!(
        !env.config_file().exists(),
        "nothing is saved when nothing is connected"
    );
}

#[test]
fn dry_run_prints_a_diff_and_writes_nothing() {
    let env = TestEnv::new();
    env.write(CLAUDE, "{\n  \"model\": \"opus\"\n}\n");
    let out = env.run([
        "connect",
        "claude-code",
        "--force",
        "--dry-run",
        "--gateway",
        GW,
    ]);
    out.ok();
    let stdout = redact_home(&out.stdout, &env);
    assert!(stdout.contains("+  \"env\": {"), "{stdout}");
    assert!(
        stdout.contains("-  \"model\": \"opus\"\n+  \"model\": \"opus\","),
        "{stdout}"
    );
    assert!(stdout.contains("would change"), "{stdout}");
    assert_eq!(env.read(CLAUDE), "{\n  \"model\": \"opus\"\n}\n");
    assert!(!env.config_file().exists(), "--dry-run saves no gateway");
    assert!(!env.path(".local/state/anyray/ledger.json").exists());
}

#[test]
fn check_fails_until_connected_then_on_drift() {
    let env = TestEnv::new();
    let check = |env: &TestEnv| {
        env.run([
            "connect",
            "claude-code",
            "codex",
            "--force",
            "--check",
            "--json",
            "--gateway",
            GW,
        ])
    };
    let before = check(&env);
    before.code(1);
    assert_eq!(before.json()["ok"], false);
    assert!(!env.path(CLAUDE).exists(), "--check writes nothing");
    assert!(!env.config_file().exists(), "--check saves no gateway");

    env.run([
        "connect",
        "claude-code",
        "codex",
        "--force",
        "--gateway",
        GW,
    ])
    .ok();
    let after = check(&env);
    after.ok();
    assert_eq!(after.json()["ok"], true);

    let drifted = env.read(CODEX).replace("/v1", "/v2");
    env.write(CODEX, drifted);
    let out = check(&env);
    out.code(1);
    assert_eq!(out.json()["targets"][1]["state"], "drifted");
}

#[cfg(unix)]
#[test]
fn a_symlinked_file_stays_a_symlink_and_keeps_its_mode() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    let original = "{\n  \"model\": \"opus\"\n}\n";
    let real = env.write("dotfiles/claude.json", original);
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
    std::fs::create_dir_all(env.path(".claude")).unwrap();
    std::os::unix::fs::symlink("../dotfiles/claude.json", env.path(CLAUDE)).unwrap();

    env.run(["connect", "claude-code", "--offline", "--gateway", GW])
        .ok();
    let link = std::fs::symlink_metadata(env.path(CLAUDE)).unwrap();
    assert!(link.file_type().is_symlink(), "the link was replaced");
    assert!(env.read("dotfiles/claude.json").contains(GW));
    let mode = std::fs::metadata(&real).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);

    env.run(["disconnect", "claude-code"]).ok();
    assert!(
        std::fs::symlink_metadata(env.path(CLAUDE))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(env.read("dotfiles/claude.json"), original);
    let mode = std::fs::metadata(&real).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
}

#[cfg(unix)]
#[test]
fn backups_and_ledger_live_in_the_state_dir_privately() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    env.write(CLAUDE, "{}\n");
    env.run(["connect", "claude-code", "--force", "--gateway", GW])
        .ok();
    let beside: Vec<String> = std::fs::read_dir(env.path(".claude"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(beside, ["settings.json"], "nothing beside the user's file");
    let state = env.path(".local/state/anyray");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&state.join("ledger.json")), 0o600);
    assert_eq!(mode(&state.join("backups")), 0o700);
    let backups: Vec<_> = std::fs::read_dir(state.join("backups")).unwrap().collect();
    assert_eq!(backups.len(), 1);
    let backup = backups[0].as_ref().unwrap().path();
    assert_eq!(mode(&backup), 0o600);
    assert_eq!(std::fs::read(&backup).unwrap(), b"{}\n");

    env.run(["disconnect"]).ok();
    assert_eq!(env.read(CLAUDE), "{}\n");
    assert_eq!(
        std::fs::read_dir(state.join("backups")).unwrap().count(),
        0,
        "the backup goes once restored"
    );
}

#[test]
fn concurrent_connects_never_corrupt_a_file() {
    let env = TestEnv::new();
    let claude = "{\n  \"model\": \"opus\",\n  \"env\": {\"ANTHROPIC_BASE_URL\": \"https://before.example\"}\n}\n";
    let codex = "# mine\nmodel = \"o3\"\n";
    let cursor = "{\n  // keep me\n  \"editor.fontSize\": 13,\n}\n";
    env.write(CLAUDE, claude);
    env.write(CODEX, codex);
    env.write(CURSOR, cursor);

    let children: Vec<_> = (0..6)
        .map(|i| {
            let gateway = if i % 2 == 0 {
                GW
            } else {
                "https://gw-two.example"
            };
            let mut cmd = env.cmd([
                "connect",
                "claude-code",
                "codex",
                "cursor",
                "--force",
                "--gateway",
                gateway,
            ]);
            cmd.command
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            cmd.command.spawn().expect("spawn anyray")
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // Every file is whole and connected to one of the two gateways.
    for rel in [CLAUDE, CODEX, CURSOR] {
        let text = env.read(rel);
        assert!(
            text.contains(GW) || text.contains("https://gw-two.example"),
            "{rel}: {text}"
        );
    }
    serde_json::from_str::<serde_json::Value>(&env.read(CLAUDE)).expect("strict JSON");
    env.read(CODEX)
        .parse::<toml_edit::DocumentMut>()
        .expect("TOML");
    serde_json::from_str::<serde_json::Value>(&env.read(".local/state/anyray/ledger.json"))
        .expect("the ledger is whole");

    // The ledger recorded the user's values, never another run's.
    env.run(["disconnect"]).ok();
    assert_eq!(read_bytes(&env, CLAUDE).unwrap(), claude.as_bytes());
    assert_eq!(read_bytes(&env, CODEX).unwrap(), codex.as_bytes());
    assert_eq!(read_bytes(&env, CURSOR).unwrap(), cursor.as_bytes());
}

#[test]
fn routes_come_from_discovery() {
    let gateway = FakeGateway::spawn(FakeConfig {
        discovery: Discovery::Custom(serde_json::json!({
            "version": "test",
            "routes": {"anthropic": "/claude"}
        })),
        ..FakeConfig::default()
    })
    .unwrap();
    let env = TestEnv::new();
    let out = env.run([
        "connect",
        "claude-code",
        "codex",
        "--force",
        "--json",
        "--gateway",
        &gateway.url(),
    ]);
    out.ok();
    let json = out.json();
    assert_eq!(json["targets"][0]["outcome"], "changed");
    assert_eq!(json["targets"][1]["outcome"], "skipped");
    assert_eq!(
        json["targets"][1]["reason"],
        "the gateway serves no openai route"
    );
    assert!(env.read(CLAUDE).contains(&format!(
        "\"ANTHROPIC_BASE_URL\": \"{}/claude\"",
        gateway.url()
    )));
    assert!(!env.path(CODEX).exists());
}

#[test]
fn via_relay_points_tools_at_the_local_relay() {
    let env = TestEnv::new();
    env.run(["config", "set", "relay.listen", "127.0.0.1:18787"])
        .ok();
    let claude = "{\n  \"env\": {\n    \"NO_PROXY\": \".corp.example\"\n  }\n}\n";
    env.write(CLAUDE, claude);
    env.run([
        "connect",
        "claude-code",
        "codex",
        "cursor",
        "--force",
        "--via",
        "relay",
        "--gateway",
        GW,
    ])
    .ok();
    assert!(
        env.read(CODEX)
            .contains("base_url = \"http://127.0.0.1:18787/v1\"")
    );
    let cursor = env.read(CURSOR);
    assert!(
        cursor.contains("\"NO_PROXY\": \"127.0.0.1,localhost\""),
        "{cursor}"
    );
    // Remembered, so doctor and status know the tools go through the relay.
    let via = env.run(["config", "get", "via"]);
    via.ok();
    assert_eq!(via.stdout, "relay\n");
}

#[test]
fn json_schemas() {
    let env = TestEnv::new();
    env.write(CLAUDE, "{\n  \"model\": \"opus\"\n}\n");

    let dry = env.run([
        "connect",
        "claude-code",
        "codex",
        "--force",
        "--dry-run",
        "--json",
        "--gateway",
        GW,
    ]);
    dry.ok();
    insta::assert_snapshot!("connect_dry_run", json_snapshot(&env, &dry));

    let applied = env.run([
        "connect",
        "claude-code",
        "codex",
        "--force",
        "--json",
        "--gateway",
        GW,
    ]);
    applied.ok();
    insta::assert_snapshot!("connect_applied", json_snapshot(&env, &applied));

    let status = env.run(["status", "claude-code", "codex", "--json"]);
    status.ok();
    insta::assert_snapshot!("status", json_snapshot(&env, &status));

    let disconnect = env.run(["disconnect", "--json"]);
    disconnect.ok();
    insta::assert_snapshot!("disconnect", json_snapshot(&env, &disconnect));

    env.write(CODEX, "model = = 1\n");
    let failed = env.run(["connect", "codex", "--force", "--json"]);
    failed.code(3);
    insta::assert_snapshot!("connect_failed", json_snapshot(&env, &failed));
}
