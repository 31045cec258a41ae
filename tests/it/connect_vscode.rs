//! The cursor and windsurf targets: JSONC settings.json with comments and trailing
//! commas kept, terminal env merged per platform, the Claude Code extension's list merged
//! by name, and every file accepted by VS Code's own JSONC parser.

use crate::{common, connect_support, needs};

use std::path::PathBuf;
use std::process::Command;

use common::TestEnv;
use connect_support::{GW, round_trip, visible};

const CURSOR: &str = ".config/Cursor/User/settings.json";
const WINDSURF: &str = ".config/Windsurf/User/settings.json";

/// Parses `files` with VS Code's `jsonc-parser` npm package (tests/jsonc/check.js).
/// Where it is missing the check is skipped with one line, and fails in CI ([`needs`]).
fn assert_vscode_parses(files: &[PathBuf]) {
    let Some(dir) = needs::node_packages(&["jsonc-parser"]) else {
        return;
    };
    let out = Command::new("node")
        .arg(dir.join("check.js"))
        .args(files)
        .output()
        .expect("run node");
    assert!(
        out.status.success(),
        "VS Code's parser rejected the file:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn vscode_check_rejects_a_broken_file() {
    // The checker itself must be able to fail, or the checks below prove nothing.
    let env = TestEnv::new();
    let bad = env.write("bad.json", "{ \"a\": 1,, }");
    let Some(dir) = needs::node_packages(&["jsonc-parser"]) else {
        return;
    };
    let status = Command::new("node")
        .arg(dir.join("check.js"))
        .arg(&bad)
        .status()
        .unwrap();
    assert!(!status.success());
}

#[test]
fn cursor_into_a_missing_file() {
    let env = TestEnv::new();
    let connected = round_trip(&env, "cursor", CURSOR, None);
    insta::assert_snapshot!(visible(&connected), @r#"
    {
      "terminal.integrated.env.linux": {
        "OPENAI_BASE_URL": "https://gw.example:8787/v1",
        "ANTHROPIC_BASE_URL": "https://gw.example:8787"
      },
      "claudeCode.environmentVariables": [
        {
          "name": "ANTHROPIC_BASE_URL",
          "value": "https://gw.example:8787"
        }
      ]
    }
    "#);
    env.write("connected.json", &connected);
    assert_vscode_parses(&[env.path("connected.json")]);
}

#[test]
fn windsurf_keeps_comments_trailing_commas_crlf_bom_and_user_entries() {
    let env = TestEnv::new();
    let original = "\u{feff}// Windsurf settings\r\n{\r\n    \"editor.fontSize\": 14, // big\r\n    /* terminal */\r\n    \"terminal.integrated.env.linux\": {\r\n        \"PATH\": \"${env:PATH}:/opt/bin\",\r\n    },\r\n    \"claudeCode.environmentVariables\": [\r\n        { \"name\": \"DISABLE_TELEMETRY\", \"value\": \"1\" },\r\n    ],\r\n}\r\n";
    let connected = round_trip(&env, "windsurf", WINDSURF, Some(original.as_bytes()));
    insta::assert_snapshot!(visible(&connected), @r#"
    <BOM>// Windsurf settings␍
    {␍
        "editor.fontSize": 14, // big␍
        /* terminal */␍
        "terminal.integrated.env.linux": {␍
            "PATH": "${env:PATH}:/opt/bin",␍
            "OPENAI_BASE_URL": "https://gw.example:8787/v1",␍
            "ANTHROPIC_BASE_URL": "https://gw.example:8787",␍
        },␍
        "claudeCode.environmentVariables": [␍
            { "name": "DISABLE_TELEMETRY", "value": "1" },␍
            {␍
                "name": "ANTHROPIC_BASE_URL",␍
                "value": "https://gw.example:8787",␍
            },␍
        ],␍
    }␍
    "#);
    env.write("connected.json", &connected);
    assert_vscode_parses(&[env.path("connected.json")]);
}

#[test]
fn cursor_replaces_a_different_base_url_and_restores_it() {
    let env = TestEnv::new();
    let original = "{\n\t\"terminal.integrated.env.linux\": {\"ANTHROPIC_BASE_URL\": \"https://old.example\"},\n\t\"claudeCode.environmentVariables\": [{\"name\": \"ANTHROPIC_BASE_URL\", \"value\": \"https://old.example\"}]\n}";
    let connected = round_trip(&env, "cursor", CURSOR, Some(original.as_bytes()));
    let text = String::from_utf8(connected).unwrap();
    assert!(!text.contains("old.example"), "{text}");
    assert_eq!(text.matches("\"name\": \"ANTHROPIC_BASE_URL\"").count(), 1);
    env.write("connected.json", &text);
    assert_vscode_parses(&[env.path("connected.json")]);
}

#[test]
fn all_platforms_writes_every_os_and_the_plan_says_what_is_not_rerouted() {
    let env = TestEnv::new();
    let out = env.run([
        "connect",
        "cursor",
        "--force",
        "--all-platforms",
        "--gateway",
        GW,
    ]);
    out.ok();
    assert!(out.stdout.contains("NOT rerouted"), "{}", out.stdout);
    let text = env.read(CURSOR);
    for platform in ["osx", "linux", "windows"] {
        assert!(
            text.contains(&format!("\"terminal.integrated.env.{platform}\"")),
            "{text}"
        );
    }
    let status = env.run(["status", "cursor"]);
    assert!(status.stdout.contains("NOT rerouted"), "{}", status.stdout);
    assert!(status.stdout.contains("connected"), "{}", status.stdout);
    assert_vscode_parses(&[env.path(CURSOR)]);
}

#[test]
fn malformed_jsonc_exits_3_and_leaves_the_file() {
    let env = TestEnv::new();
    let bad = "{\n  // fine\n  \"a\": [1, 2\n}\n";
    env.write(CURSOR, bad);
    let out = env.run(["connect", "cursor", "--force", "--gateway", GW]);
    out.code(3);
    assert!(out.stderr.contains("settings.json:"), "{}", out.stderr);
    assert_eq!(env.read(CURSOR), bad);
}
