//! The claude-code target: `env.ANTHROPIC_BASE_URL` in strict-JSON settings.json.

use crate::common;
use crate::connect_support;

use common::{TestEnv, redact_home};
use connect_support::{GW, read_bytes, round_trip, visible};

const FILE: &str = ".claude/settings.json";

#[test]
fn connects_a_missing_file_and_disconnect_deletes_it() {
    let env = TestEnv::new();
    let connected = round_trip(&env, "claude-code", FILE, None);
    insta::assert_snapshot!(visible(&connected), @r#"
    {
      "env": {
        "ANTHROPIC_BASE_URL": "https://gw.example:8787"
      }
    }
    "#);
}

#[test]
fn keeps_user_content_indentation_crlf_and_bom() {
    let env = TestEnv::new();
    let original = "\u{feff}{\r\n   \"model\": \"opus\",\r\n   \"permissions\": { \"allow\": [\"Bash(ls)\"] },\r\n   \"env\": {\r\n      \"DISABLE_TELEMETRY\": \"1\"\r\n   }\r\n}\r\n";
    let connected = round_trip(&env, "claude-code", FILE, Some(original.as_bytes()));
    insta::assert_snapshot!(visible(&connected), @r#"
    <BOM>{␍
       "model": "opus",␍
       "permissions": { "allow": ["Bash(ls)"] },␍
       "env": {␍
          "DISABLE_TELEMETRY": "1",␍
          "ANTHROPIC_BASE_URL": "https://gw.example:8787"␍
       }␍
    }␍
    "#);
    serde_json::from_str::<serde_json::Value>(
        std::str::from_utf8(&connected)
            .unwrap()
            .trim_start_matches('\u{feff}'),
    )
    .expect("still strict JSON");
}

#[test]
fn replaces_a_different_base_url_and_restores_it() {
    let env = TestEnv::new();
    let original = "{\n  \"env\": {\n    \"ANTHROPIC_BASE_URL\": \"https:\\/\\/llm-proxy.other.example\"\n  },\n  \"model\": \"sonnet\"\n}\n";
    let connected = round_trip(&env, "claude-code", FILE, Some(original.as_bytes()));
    insta::assert_snapshot!(visible(&connected), @r#"
    {
      "env": {
        "ANTHROPIC_BASE_URL": "https://gw.example:8787"
      },
      "model": "sonnet"
    }
    "#);
}

#[test]
fn bedrock_mode_repoints_the_bedrock_url() {
    let env = TestEnv::new();
    let original = "{\n  \"env\": {\n    \"CLAUDE_CODE_USE_BEDROCK\": \"1\"\n  }\n}\n";
    // Without discovery anyray assumes no Bedrock route: the user says the gateway has one.
    env.write(FILE, original);
    let out = env.run(["connect", "claude-code", "--force", "--gateway", GW]);
    assert!(
        out.stdout.contains("routes.enabled"),
        "the skip says how to fix it: {}",
        out.stdout
    );
    env.run([
        "config",
        "set",
        "routes.enabled",
        "openai,anthropic,bedrock",
    ])
    .ok();
    let connected = round_trip(&env, "claude-code", FILE, Some(original.as_bytes()));
    insta::assert_snapshot!(visible(&connected), @r#"
    {
      "env": {
        "CLAUDE_CODE_USE_BEDROCK": "1",
        "ANTHROPIC_BEDROCK_BASE_URL": "https://gw.example:8787/bedrock"
      }
    }
    "#);
}

#[test]
fn honours_claude_config_dir() {
    let mut env = TestEnv::new();
    env.set_var("CLAUDE_CONFIG_DIR", env.path("elsewhere/claude"));
    round_trip(&env, "claude-code", "elsewhere/claude/settings.json", None);
    assert!(!env.path(FILE).exists());
}

#[test]
fn managed_settings_are_reported_and_never_edited() {
    let mut env = TestEnv::new();
    let managed = env.write(
        "etc/managed-settings.json",
        "{\"env\": {\"ANTHROPIC_BASE_URL\": \"https://corp-proxy.example\"}}",
    );
    env.set_var("ANYRAY_CLAUDE_MANAGED_SETTINGS", &managed);
    env.run(["connect", "claude-code", "--force", "--gateway", GW])
        .ok();
    let out = env.run(["status", "claude-code"]);
    out.ok();
    assert!(
        out.stdout.contains("overridden by managed settings"),
        "{}",
        out.stdout
    );
    let json = env.run(["status", "claude-code", "--json"]).json();
    assert_eq!(json["targets"][0]["state"], "overridden");
    assert_eq!(json["targets"][0]["endpoint"], "https://corp-proxy.example");
    assert_eq!(
        std::fs::read_to_string(&managed).unwrap(),
        "{\"env\": {\"ANTHROPIC_BASE_URL\": \"https://corp-proxy.example\"}}"
    );
    env.run(["connect", "claude-code", "--check"]).code(1);
}

#[test]
fn malformed_json_exits_3_leaves_the_file_and_other_targets_go_on() {
    let env = TestEnv::new();
    let bad = "{\n  \"model\": \"opus\", // a comment is not JSON\n}\n";
    env.write(FILE, bad);
    let out = env.run([
        "connect",
        "claude-code",
        "codex",
        "--force",
        "--gateway",
        GW,
    ]);
    out.code(3);
    assert_eq!(env.read(FILE), bad);
    let stderr = redact_home(&out.stderr, &env);
    assert!(
        stderr.contains("[HOME]/.claude/settings.json:2:"),
        "names file:line:col: {stderr}"
    );
    assert!(stderr.contains("hint:"), "{stderr}");
    assert!(
        env.read(".codex/config.toml")
            .contains("model_provider = \"anyray\""),
        "codex was still connected"
    );
}

#[test]
fn disconnect_restores_key_by_key_after_user_edits_elsewhere() {
    let env = TestEnv::new();
    env.write(FILE, "{\n  \"model\": \"opus\"\n}\n");
    env.run(["connect", "claude-code", "--force", "--gateway", GW])
        .ok();
    let edited = env.read(FILE).replace("\"opus\"", "\"sonnet\"");
    env.write(FILE, &edited);
    env.run(["disconnect", "claude-code"]).ok();
    assert_eq!(env.read(FILE), "{\n  \"model\": \"sonnet\"\n}\n");
}

#[test]
fn disconnect_refuses_when_a_managed_value_was_changed_unless_forced() {
    let env = TestEnv::new();
    let original =
        "{\n  \"env\": {\n    \"ANTHROPIC_BASE_URL\": \"https://before.example\"\n  }\n}\n";
    env.write(FILE, original);
    env.run(["connect", "claude-code", "--force", "--gateway", GW])
        .ok();
    let mine = env.read(FILE).replace(GW, "https://mine.example");
    env.write(FILE, &mine);

    let out = env.run(["disconnect", "claude-code"]);
    out.code(3);
    assert!(
        out.stderr.contains("env.ANTHROPIC_BASE_URL"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--force"), "{}", out.stderr);
    assert_eq!(env.read(FILE), mine, "refusal leaves the file untouched");

    env.run(["disconnect", "claude-code", "--force"]).ok();
    assert_eq!(env.read(FILE), original);
    assert_eq!(read_bytes(&env, FILE).unwrap(), original.as_bytes());
}
