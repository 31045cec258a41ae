//! Credential helpers (issue 16): in the `key` scheme, straight to the gateway, `connect`
//! makes Claude Code (`apiKeyHelper`) and Codex (`[model_providers.anyray.auth]`) run
//! `anyray token`, so no file holds the key; `disconnect` restores byte for byte; a helper
//! of the user's own is not replaced without `--force`; a helper whose program is gone is
//! drift; doctor runs the helper as the tool would, never showing the key.

use crate::common;
use crate::connect_support;

use common::{BIN, TestEnv};
use connect_support::{GW, read_bytes, round_trip};

const CLAUDE: &str = ".claude/settings.json";
const CODEX: &str = ".codex/config.toml";
const CANARY: &str = "sk-helper-canary-51d0";

/// An env logged in with [`CANARY`] whose gateway takes it as the tools' key.
fn key_scheme() -> TestEnv {
    let env = TestEnv::new();
    env.cmd(["login", "--token-stdin"]).stdin(CANARY).run().ok();
    env.run(["config", "set", "gateway", GW]).ok();
    env.run(["config", "set", "auth.scheme", "key"]).ok();
    env
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// What `/bin/sh -c COMMAND` prints, as Claude Code runs its helper.
fn sh(env: &TestEnv, command: &str) -> (bool, String) {
    let out = env.program("/bin/sh", ["-c", command]).run();
    (out.code == 0, out.stdout)
}

#[cfg(unix)]
#[test]
fn claude_code_runs_anyray_token_and_no_file_holds_the_key() {
    let env = key_scheme();
    let original = b"{\n  \"theme\": \"dark\"\n}\n";
    let connected = text(&round_trip(&env, "claude-code", CLAUDE, Some(original)));
    let settings: serde_json::Value = serde_json::from_str(&connected).unwrap();
    let command = settings["apiKeyHelper"].as_str().unwrap();
    assert_eq!(command, format!("{BIN} token"));
    assert!(!connected.contains(CANARY));
    // Claude Code runs it with /bin/sh and reads the key from stdout.
    assert_eq!(sh(&env, command), (true, format!("{CANARY}\n")));

    // Through the relay, the relay adds the key: no helper.
    let out = env.run(["connect", "claude-code", "--via", "relay", "--offline"]);
    out.ok();
    assert!(
        !env.read(CLAUDE).contains("apiKeyHelper"),
        "{}",
        env.read(CLAUDE)
    );
}

#[cfg(unix)]
#[test]
fn codex_runs_anyray_token_without_a_shell_and_no_file_holds_the_key() {
    let env = key_scheme();
    let original = b"model = \"o3\"\n";
    let connected = text(&round_trip(&env, "codex", CODEX, Some(original)));
    insta::assert_snapshot!(connected.replace(BIN, "<BIN>"), @r#"
    model = "o3"
    model_provider = "anyray"

    [model_providers.anyray]
    name = "Anyray gateway"
    base_url = "https://gw.example:8787/v1"
    wire_api = "responses"
    auth = { command = "<BIN>", args = ["token"], timeout_ms = 10000, refresh_interval_ms = 300000 }
    "#);
    let doc: toml_edit::DocumentMut = connected.parse().unwrap();
    let auth = &doc["model_providers"]["anyray"]["auth"];
    let program = auth["command"].as_str().unwrap();
    let args: Vec<&str> = auth["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let out = env.program(program, args).run();
    out.ok();
    assert_eq!(out.stdout, format!("{CANARY}\n"));
}

/// Codex refuses `auth` beside `env_key`, `experimental_bearer_token` or
/// `requires_openai_auth`: they go while connected and come back exactly.
#[test]
fn codex_keys_that_conflict_with_auth_go_and_come_back() {
    let env = key_scheme();
    let original = "model_provider = \"anyray\"\n\n[model_providers.anyray]\nname = \"Mine\" # named by me\nbase_url = \"http://old/v1\"\nenv_key = 'MY_KEY' # mine\nrequires_openai_auth = true\nexperimental_bearer_token = \"tok-in-file\"\n";
    let connected = text(&round_trip(&env, "codex", CODEX, Some(original.as_bytes())));
    for gone in [
        "env_key",
        "requires_openai_auth",
        "experimental_bearer_token",
    ] {
        assert!(!connected.contains(gone), "{gone} left:\n{connected}");
    }
    assert!(connected.contains("auth = {"), "{connected}");

    // Key by key (the user changed something else meanwhile): each prior value comes back
    // as it was spelled (at the end of its table: its place and line comment are not kept).
    env.write(CODEX, original);
    env.run(["connect", "codex", "--offline"]).ok();
    let edited = format!("# my note\n{}", env.read(CODEX));
    env.write(CODEX, &edited);
    env.run(["disconnect", "codex"]).ok();
    let restored = env.read(CODEX);
    assert!(restored.starts_with("# my note\n"), "{restored}");
    for line in [
        "env_key = 'MY_KEY'",
        "requires_openai_auth = true",
        "experimental_bearer_token = \"tok-in-file\"",
        "name = \"Mine\" # named by me",
        "base_url = \"http://old/v1\"",
    ] {
        assert!(restored.contains(line), "{line} is not back:\n{restored}");
    }
    assert!(!restored.contains("\nauth"), "{restored}");
}

/// The gateway stops taking the key as the tools' key: the `auth` table goes (Codex
/// would refuse it beside `env_key`), and disconnect still gives the original back.
#[test]
fn a_scheme_change_takes_the_codex_helper_out_again() {
    let env = key_scheme();
    let original = "model = \"o3\"\n";
    env.write(CODEX, original);
    env.run(["connect", "codex", "--offline"]).ok();
    assert!(env.read(CODEX).contains("auth = {"));
    env.run(["config", "set", "auth.scheme", "header"]).ok();
    let out = env.run(["connect", "codex", "--offline"]);
    out.ok();
    let now = env.read(CODEX);
    assert!(!now.contains("auth"), "{now}");
    assert!(now.contains("env_key = \"OPENAI_API_KEY\""), "{now}");
    let status = env.run(["connect", "--check", "codex", "--offline"]);
    status.ok();
    env.run(["disconnect", "codex"]).ok();
    assert_eq!(env.read(CODEX), original);
}

#[test]
fn a_helper_of_the_users_own_stays_unless_force() {
    let env = key_scheme();
    let original = "{\"apiKeyHelper\": \"~/bin/get-key.sh\"}\n";
    env.write(CLAUDE, original);
    let out = env.run(["connect", "claude-code", "--offline"]);
    out.ok();
    assert!(
        out.stdout.contains("your own apiKeyHelper stays"),
        "{}",
        out.stdout
    );
    assert!(
        !out.all().contains("get-key"),
        "the user's command is not echoed"
    );
    let settings: serde_json::Value = serde_json::from_str(&env.read(CLAUDE)).unwrap();
    assert_eq!(settings["apiKeyHelper"], "~/bin/get-key.sh");
    env.run(["connect", "--check", "claude-code", "--offline"])
        .ok();

    env.run(["connect", "claude-code", "--force"]).ok();
    let settings: serde_json::Value = serde_json::from_str(&env.read(CLAUDE)).unwrap();
    assert_eq!(settings["apiKeyHelper"], format!("{BIN} token"));
    env.run(["disconnect", "claude-code"]).ok();
    assert_eq!(env.read(CLAUDE), original);
}

/// The helper names the `anyray` on PATH when that is this program (a package manager's
/// link survives upgrades). When that program goes away the helper is drift, doctor says
/// it fails, and connect points it at the anyray that runs.
#[cfg(unix)]
#[test]
fn a_helper_whose_program_is_gone_is_drift_and_connect_repoints_it() {
    let mut env = key_scheme();
    let bin = env.isolate_path();
    let link = bin.join("anyray");
    std::os::unix::fs::symlink(BIN, &link).unwrap();
    env.write_executable("bin/claude", "#!/bin/sh\n");
    env.write_executable("bin/codex", "#!/bin/sh\necho codex-cli 0.169.0\n");
    env.run(["connect", "claude-code", "codex", "--offline"])
        .ok();
    let claude = env.read(CLAUDE);
    assert!(
        claude.contains(&format!("\"{} token\"", link.display())),
        "{claude}"
    );
    assert!(
        env.read(CODEX)
            .contains(&format!("command = \"{}\"", link.display()))
    );

    let doctor = env.run([
        "--json",
        "doctor",
        "--only",
        "tools.claude-code,tools.codex",
    ]);
    doctor.ok();
    for check in doctor.json()["checks"].as_array().unwrap() {
        assert_eq!(check["level"], "ok", "{check}");
        assert!(
            check["detail"].as_str().unwrap().contains("printed a key"),
            "{check}"
        );
    }
    assert!(!doctor.all().contains(CANARY));

    std::fs::remove_file(&link).unwrap();
    let check = env.run([
        "--json",
        "connect",
        "--check",
        "claude-code",
        "codex",
        "--offline",
    ]);
    check.code(1);
    for target in check.json()["targets"].as_array().unwrap() {
        assert_eq!(target["state"], "drifted", "{target}");
    }
    let doctor = env.run([
        "--json",
        "doctor",
        "--only",
        "tools.claude-code,tools.codex",
    ]);
    doctor.code(1);
    for check in doctor.json()["checks"].as_array().unwrap() {
        assert_eq!(check["level"], "fail", "{check}");
        assert!(
            check["hint"].as_str().unwrap().contains("anyray connect"),
            "{check}"
        );
    }

    let out = env.run(["connect", "claude-code", "codex", "--offline"]);
    out.ok();
    assert!(
        out.stdout.contains("which does not exist"),
        "{}",
        out.stdout
    );
    assert!(env.read(CLAUDE).contains(&format!("\"{BIN} token\"")));
    env.run(["connect", "--check", "claude-code", "codex", "--offline"])
        .ok();
}

#[test]
fn doctor_says_when_the_helper_has_no_key_and_never_shows_one() {
    let env = key_scheme();
    env.run(["connect", "claude-code", "codex", "--offline", "--force"])
        .ok();
    let out = env.run([
        "--json",
        "doctor",
        "--only",
        "tools.claude-code,tools.codex",
    ]);
    out.ok();
    assert!(!out.all().contains(CANARY));
    env.run(["logout"]).ok();
    let out = env.run([
        "--json",
        "doctor",
        "--only",
        "tools.claude-code,tools.codex",
    ]);
    out.code(1);
    for check in out.json()["checks"].as_array().unwrap() {
        assert_eq!(check["level"], "fail", "{check}");
        let summary = check["summary"].as_str().unwrap();
        assert!(
            summary.contains("exited 1") && summary.contains("`anyray login`"),
            "{summary}"
        );
    }
}

/// Codex before 0.118 has no `auth` (and refuses unknown keys): the key stays in its
/// variable, and connect says why.
#[cfg(unix)]
#[test]
fn an_old_codex_keeps_its_variable() {
    let mut env = key_scheme();
    env.isolate_path();
    for (version, auth) in [("0.117.0", false), ("0.118.0", true), ("0.169.0", true)] {
        env.write_executable(
            "bin/codex",
            &format!("#!/bin/sh\necho codex-cli {version}\n"),
        );
        let out = env.run(["connect", "codex", "--offline"]);
        out.ok();
        let connected = env.read(CODEX);
        assert_eq!(
            connected.contains("auth = {"),
            auth,
            "{version}:\n{connected}"
        );
        assert_eq!(
            connected.contains("env_key"),
            !auth,
            "{version}:\n{connected}"
        );
        assert_eq!(
            out.stdout.contains("predates provider auth"),
            !auth,
            "{}",
            out.stdout
        );
    }
    env.run(["disconnect", "codex"]).ok();
    assert_eq!(read_bytes(&env, CODEX), None);
}

/// The tools never see the key in their files; only the helper's stdout has it.
#[test]
fn no_tool_file_holds_the_key() {
    let env = key_scheme();
    env.run(["connect", "claude-code", "codex", "--offline", "--force"])
        .ok();
    for rel in [CLAUDE, CODEX] {
        assert!(!env.read(rel).contains(CANARY), "{rel}");
    }
    let ledger = std::fs::read_to_string(env.state_dir().join("ledger.json")).unwrap();
    assert!(!ledger.contains(CANARY));
}

/// `login` before the gateway is set cannot ask it how it wants the key: `connect
/// --gateway` finds out (no tokens spent), remembers it and writes the helpers.
#[test]
fn connect_finds_out_the_scheme_when_login_could_not() {
    // LiteLLM-like: no discovery, the key as the tools' key.
    let gw = fake_gateway::FakeGateway::spawn(fake_gateway::FakeConfig {
        discovery: fake_gateway::Discovery::Disabled,
        require_key: Some(CANARY.into()),
        ..Default::default()
    })
    .unwrap();
    let env = TestEnv::new();
    env.cmd(["login", "--token-stdin"]).stdin(CANARY).run().ok();
    let url = gw.url();
    let out = env.run([
        "connect",
        "--yes",
        "--gateway",
        &url,
        "claude-code",
        "codex",
        "--force",
    ]);
    out.ok();
    // --force skips the gateway check, and so the detection: nothing known, no helper.
    assert!(!env.read(CLAUDE).contains("apiKeyHelper"), "{}", out.all());
    env.write_executable("bin/claude", "#!/bin/sh\n");
    env.write_executable("bin/codex", "#!/bin/sh\necho codex-cli 0.169.0\n");
    let mut env = env;
    env.set_var("PATH", env.path("bin"));
    let out = env.run(["connect", "--yes", "claude-code", "codex"]);
    out.ok();
    assert!(env.read(CLAUDE).contains("apiKeyHelper"), "{}", out.all());
    assert!(env.read(CODEX).contains("auth = {"), "{}", out.all());
    let out = env.run(["config", "get", "auth.scheme"]);
    out.ok();
    assert!(out.stdout.contains("key"), "{}", out.stdout);
    assert!(!out.all().contains(CANARY));
}

/// `anyray run -- codex` over a config whose provider runs `anyray token`: an `env_key`
/// override beside that `auth` table would make Codex refuse the config.
#[test]
fn run_passes_codex_no_env_key_beside_the_auth_table() {
    let env = key_scheme();
    let out = env.run(["--json", "run", "--print-env", "--", "codex"]);
    out.ok();
    let args = out.json()["added_args"].to_string();
    assert!(args.contains("env_key"), "before connect: {args}");
    env.run(["connect", "codex", "--offline", "--force"]).ok();
    let out = env.run(["--json", "run", "--print-env", "--", "codex"]);
    out.ok();
    let args = out.json()["added_args"].to_string();
    assert!(!args.contains("env_key"), "{args}");
    assert!(args.contains("model_providers.anyray.base_url"), "{args}");
}
