//! The declared targets (issue 17): opencode, Continue, aider, Goose, Zed. Each one
//! through the real binary: a missing file is created and deleted again; a user's file
//! keeps its comments and layout and comes back byte for byte; a malformed file is
//! exit 3 with file:line:col, untouched; `status` and `connect --check` see the result.
//! The tools' own readers check what was written where this machine has them (Zed's
//! and Goose's structs are mirrored here, with their source paths).

use crate::common;
use crate::connect_support;
use crate::editor_support;
use crate::needs;

use common::TestEnv;
use connect_support::{GW, round_trip, visible};
use serde::Deserialize;

const OPENCODE: &str = ".config/opencode/opencode.json";
const CONTINUE: &str = ".continue/config.yaml";
const AIDER: &str = ".aider.conf.yml";
const GOOSE_CONFIG: &str = ".config/goose/config.yaml";
const GOOSE_PROVIDER: &str = ".config/goose/custom_providers/anyray.json";
const ZED: &str = ".config/zed/settings.json";

#[test]
fn opencode_repoints_the_built_in_providers_and_seeds_its_schema() {
    let env = TestEnv::new();
    let connected = round_trip(&env, "opencode", OPENCODE, None);
    insta::assert_snapshot!(visible(&connected), @r#"
    {
      "$schema": "https://opencode.ai/config.json",
      "provider": {
        "openai": {
          "options": {
            "baseURL": "https://gw.example:8787/v1"
          }
        },
        "anthropic": {
          "options": {
            "baseURL": "https://gw.example:8787/v1"
          }
        }
      }
    }
    "#);
}

#[test]
fn opencode_keeps_jsonc_comments_trailing_commas_and_the_users_schema() {
    let env = TestEnv::new();
    let original = "{\n  // mine\n  \"$schema\": \"https://opencode.ai/config.json\",\n  \"model\": \"anthropic/claude-sonnet-4-5\", /* chosen */\n  \"provider\": {\n    \"anthropic\": { \"options\": { \"timeout\": 600000, }, },\n  },\n}\n";
    let connected = round_trip(&env, "opencode", OPENCODE, Some(original.as_bytes()));
    insta::assert_snapshot!(visible(&connected), @r#"
    {
      // mine
      "$schema": "https://opencode.ai/config.json",
      "model": "anthropic/claude-sonnet-4-5", /* chosen */
      "provider": {
        "anthropic": { "options": {
            "timeout": 600000,
            "baseURL": "https://gw.example:8787/v1",
          }, },
        "openai": {
          "options": {
            "baseURL": "https://gw.example:8787/v1"
          }
        },
      },
    }
    "#);
}

#[test]
fn opencode_edits_opencode_jsonc_when_that_is_the_file() {
    let env = TestEnv::new();
    let rel = ".config/opencode/opencode.jsonc";
    round_trip(
        &env,
        "opencode",
        rel,
        Some(b"{\n  // only a jsonc here\n}\n"),
    );
    assert!(!env.path(OPENCODE).exists(), "no second config file");
}

#[test]
fn opencode_follows_opencode_config_dir() {
    let mut env = TestEnv::new();
    env.set_var("OPENCODE_CONFIG_DIR", env.path("oc"));
    round_trip(&env, "opencode", "oc/opencode.json", None);
}

#[test]
fn continue_adds_named_model_entries_and_seeds_only_what_is_missing() {
    let env = TestEnv::new();
    let connected = round_trip(&env, "continue", CONTINUE, None);
    insta::assert_snapshot!(visible(&connected), @r#"
    name: Local Config
    version: "1.0.0"
    schema: v1
    models:
      - name: Anyray gateway (OpenAI)
        provider: openai
        model: gpt-4o-mini
        apiBase: https://gw.example:8787/v1
        apiKey: "${{ secrets.OPENAI_API_KEY }}"
      - name: Anyray gateway (Anthropic)
        provider: anthropic
        model: claude-sonnet-4-5
        apiBase: https://gw.example:8787/v1
        apiKey: "${{ secrets.ANTHROPIC_API_KEY }}"
    "#);
}

#[test]
fn continue_keeps_the_users_name_models_and_comments() {
    let env = TestEnv::new();
    let original = "# my Continue config\nname: Work # team\nversion: 0.0.1\nmodels:\n  - name: Local Llama\n    provider: ollama\n    model: llama3\n";
    let connected = round_trip(&env, "continue", CONTINUE, Some(original.as_bytes()));
    let text = visible(&connected);
    assert!(text.starts_with(original), "{text}");
    assert!(!text.contains("Local Config"), "{text}");
    assert!(text.contains("schema: v1"), "{text}");
}

#[test]
fn continue_keeps_a_model_the_user_chose_for_the_gateway_entry() {
    let env = TestEnv::new();
    env.run(["connect", "continue", "--force", "--gateway", GW])
        .ok();
    let text = env
        .read(CONTINUE)
        .replace("model: gpt-4o-mini", "model: o3");
    env.write(CONTINUE, &text);
    env.run(["connect", "continue", "--force", "--gateway", GW])
        .ok();
    assert!(env.read(CONTINUE).contains("model: o3"));
    env.run(["connect", "--check", "continue", "--gateway", GW])
        .ok();
}

#[test]
fn aider_sets_the_openai_base_and_the_anthropic_env_and_keeps_the_sample() {
    let env = TestEnv::new();
    let original = "##########################################################\n# Sample .aider.conf.yml\n## Specify the OpenAI API base URL\n#openai-api-base: xxx\n\nmodel: sonnet # mine\ndark-mode: true\n";
    let connected = round_trip(&env, "aider", AIDER, Some(original.as_bytes()));
    insta::assert_snapshot!(visible(&connected), @r"
    ##########################################################
    # Sample .aider.conf.yml
    ## Specify the OpenAI API base URL
    #openai-api-base: xxx

    model: sonnet # mine
    dark-mode: true
    openai-api-base: https://gw.example:8787/v1
    set-env:
      - ANTHROPIC_API_BASE=https://gw.example:8787
    ");
}

#[test]
fn aider_adds_to_the_users_set_env_list() {
    let env = TestEnv::new();
    let original = "set-env:\r\n  - FOO=bar # keep\r\n";
    let connected = round_trip(&env, "aider", AIDER, Some(original.as_bytes()));
    insta::assert_snapshot!(visible(&connected), @r"
    set-env:␍
      - FOO=bar # keep␍
      - ANTHROPIC_API_BASE=https://gw.example:8787␍
    openai-api-base: https://gw.example:8787/v1␍
    ");
}

/// Goose's `DeclarativeProviderConfig` (
/// `block/goose/crates/goose/src/config/declarative_providers.rs` @00972e1b): the fields it requires,
/// with `engine` one of its lowercase engines, and `ModelInfo`'s.
#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct GooseProvider {
    name: String,
    engine: GooseEngine,
    display_name: String,
    description: Option<String>,
    api_key_env: String,
    base_url: String,
    models: Vec<GooseModel>,
    headers: Option<std::collections::HashMap<String, String>>,
    timeout_seconds: Option<u64>,
    supports_streaming: Option<bool>,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
enum GooseEngine {
    Openai,
    Ollama,
    Anthropic,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct GooseModel {
    name: String,
    context_limit: usize,
}

#[test]
fn goose_gets_a_provider_file_it_parses_and_selects_it() {
    let env = TestEnv::new();
    let original =
        "# goose\nGOOSE_PROVIDER: openai # before\nGOOSE_MODEL: gpt-4.1\nextensions: {}\n";
    env.write(GOOSE_CONFIG, original);
    env.run(["connect", "goose", "--force", "--gateway", GW])
        .ok();
    let provider: GooseProvider = serde_json::from_str(&env.read(GOOSE_PROVIDER)).unwrap();
    assert_eq!(provider.name, "anyray");
    assert_eq!(provider.engine, GooseEngine::Openai);
    assert_eq!(provider.base_url, format!("{GW}/v1"));
    assert_eq!(
        provider.api_key_env, "OPENAI_API_KEY",
        "a variable name, never a key"
    );
    let config = editor_support::goose_reads(&env.read(GOOSE_CONFIG));
    assert_eq!(config["GOOSE_PROVIDER"], "anyray");
    assert_eq!(config["GOOSE_MODEL"], "gpt-4.1", "the user's model is kept");
    let status = env.run(["status", "goose", "--json"]).json();
    assert_eq!(status["targets"][0]["state"], "connected");
    assert_eq!(status["targets"][0]["endpoint"], format!("{GW}/v1"));

    env.run(["disconnect", "goose"]).ok();
    assert_eq!(env.read(GOOSE_CONFIG), original);
    assert!(!env.path(GOOSE_PROVIDER).exists());
}

#[test]
fn zed_repoints_its_providers_in_jsonc() {
    let env = TestEnv::new();
    let original = "// Zed settings\n{\n  \"theme\": \"One Dark\",\n  \"language_models\": {\n    \"openai\": { \"available_models\": [], }, // mine\n  },\n}\n";
    let connected = round_trip(&env, "zed", ZED, Some(original.as_bytes()));
    insta::assert_snapshot!(visible(&connected), @r#"
    // Zed settings
    {
      "theme": "One Dark",
      "language_models": {
        "openai": {
          "available_models": [],
          "api_url": "https://gw.example:8787/v1",
        }, // mine
        "anthropic": {
          "api_url": "https://gw.example:8787"
        },
      },
    }
    "#);
}

/// Zed's `language_models` settings (
/// `zed-industries/zed/crates/settings_content/src/language_model.rs` @78ac19f4): the provider objects
/// with `api_url` strings; Zed publishes no schema file (it generates one at run time
/// from these structs), so the written file is read with a JSONC parser into a mirror.
#[derive(Debug, Deserialize)]
struct ZedSettings {
    language_models: ZedLanguageModels,
}

#[derive(Debug, Deserialize)]
struct ZedLanguageModels {
    anthropic: ZedProvider,
    openai: ZedProvider,
}

#[derive(Debug, Deserialize)]
struct ZedProvider {
    api_url: String,
}

#[test]
fn zed_settings_read_back_as_zeds_structs() {
    let env = TestEnv::new();
    env.write(ZED, "{\n  // comment\n  \"vim_mode\": true,\n}\n");
    env.run(["connect", "zed", "--force", "--gateway", GW]).ok();
    let text = env.read(ZED);
    let value = jsonc_value(&text);
    let zed: ZedSettings = serde_json::from_value(value).unwrap();
    assert_eq!(zed.language_models.openai.api_url, format!("{GW}/v1"));
    assert_eq!(zed.language_models.anthropic.api_url, GW);
    if let Some(dir) = needs::node_packages(&["jsonc-parser"]) {
        let path = env.path(ZED);
        let out = std::process::Command::new("node")
            .arg(dir.join("check.js"))
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// JSONC as plain JSON: comments and trailing commas dropped (tests only).
fn jsonc_value(text: &str) -> serde_json::Value {
    jsonc_parser::parse_to_serde_value::<serde_json::Value>(
        text,
        &jsonc_parser::ParseOptions::default(),
    )
    .unwrap()
}

#[test]
fn malformed_files_are_refused_with_their_position_and_left_untouched() {
    for (target, rel, text, at) in [
        (
            "opencode",
            OPENCODE,
            "{\n  \"provider\": {\n    \"openai\": [}\n}\n",
            ":3:",
        ),
        ("zed", ZED, "{\n  \"a\": 1\n  \"b\": 2\n}\n", ":2:"),
        (
            "continue",
            CONTINUE,
            "name: x\nmodels:\n  - name: a\n   bad: [\n",
            ":",
        ),
        ("aider", AIDER, "model: x\nopenai-api-base: [a\n", ":"),
        (
            "goose",
            GOOSE_CONFIG,
            "GOOSE_PROVIDER: a\n\tGOOSE_MODEL: b\n",
            ":1:",
        ),
    ] {
        let env = TestEnv::new();
        env.write(rel, text);
        let out = env.run(["connect", target, "--force", "--gateway", GW]);
        out.code(3);
        assert!(
            out.stderr.contains(&format!("{rel}{at}")),
            "{target}: {}",
            out.stderr
        );
        assert_eq!(env.read(rel), text, "{target}: the file is untouched");
    }
}

#[test]
fn status_and_check_see_each_target_connected_then_drifted() {
    let env = TestEnv::new();
    let targets = ["opencode", "continue", "aider", "goose", "zed", "qwen"];
    let mut args = vec!["connect", "--force", "--gateway", GW];
    args.extend(targets);
    env.run(&args).ok();
    let mut check = vec!["connect", "--check", "--json", "--gateway", GW];
    check.extend(targets);
    let report = env.run(&check).ok().json();
    for (i, target) in targets.iter().enumerate() {
        assert_eq!(report["targets"][i]["target"], *target);
        assert_eq!(report["targets"][i]["state"], "connected", "{target}");
    }
    // A hand edit of a managed value is drift, and --check fails on it.
    let text = env.read(AIDER).replace("8787/v1", "9999/v1");
    env.write(AIDER, text);
    let out = env.run(["connect", "--check", "--json", "aider", "--gateway", GW]);
    out.code(1);
    assert_eq!(out.json()["targets"][0]["state"], "drifted");
    // Qwen's number too: the user's selected auth type is theirs again.
    let text = env
        .read(QWEN)
        .replace("\"openai\"\n    }", "\"qwen-oauth\"\n    }");
    env.write(QWEN, text);
    let out = env.run(["connect", "--check", "--json", "qwen", "--gateway", GW]);
    out.code(1);
    assert_eq!(out.json()["targets"][0]["state"], "drifted");
    let doctor = env.run(["doctor", "--json", "--only", "tools.qwen"]).json();
    assert_eq!(doctor["checks"][0]["id"], "tools.qwen", "{doctor}");
    assert_ne!(doctor["checks"][0]["level"], "ok", "{doctor}");
    // doctor reads the same status.
    let doctor = env
        .run(["doctor", "--json", "--only", "tools.opencode"])
        .json();
    let finding = &doctor["checks"][0];
    assert_eq!(finding["id"], "tools.opencode", "{doctor}");
    assert_eq!(finding["level"], "ok", "{doctor}");
}

#[test]
fn the_yaml_targets_files_read_the_same_with_the_tools_parsers() {
    let env = TestEnv::new();
    env.write(AIDER, "# aider\nmodel: sonnet\nyes-always: yes\n");
    env.write(CONTINUE, "name: Mine\nversion: 1.0.0\nmodels:\n  - name: m\n    provider: ollama\n    model: llama3\n");
    env.run(["connect", "aider", "continue", "--force", "--gateway", GW])
        .ok();
    let parsers = [
        (editor_support::pyyaml(), AIDER),
        (editor_support::npm_yaml(), CONTINUE),
    ];
    for (parser, rel) in parsers {
        let Some(parser) = parser else { continue };
        let docs = parser.read(&[env.path(rel)]).unwrap();
        let text = docs[0].to_string();
        assert!(
            text.contains("https://gw.example:8787"),
            "{}: {text}",
            parser.name
        );
    }
}

const GEMINI_ENV: &str = ".gemini/.env";

/// Without discovery anyray assumes only the OpenAI and Anthropic routes: the user says
/// the gateway serves Gemini too.
fn gemini_route(env: &TestEnv) {
    env.run(["config", "set", "routes.enabled", "openai,anthropic,gemini"])
        .ok();
}

#[test]
fn gemini_writes_its_dotenv_and_keeps_the_shell_route() {
    let env = TestEnv::new();
    gemini_route(&env);
    env.write(".bashrc", "# mine\n");
    let original = "# my Gemini settings\nGEMINI_MODEL=gemini-2.5-pro\r\nexport DEBUG=0";
    env.write(GEMINI_ENV, original);
    env.run(["connect", "gemini", "--offline", "--gateway", GW])
        .ok();
    insta::assert_snapshot!(visible(env.read(GEMINI_ENV).as_bytes()), @r"
    # my Gemini settings
    GEMINI_MODEL=gemini-2.5-pro␍
    export DEBUG=0␍
    GOOGLE_GEMINI_BASE_URL=https://gw.example:8787/gemini
    ");
    let env_sh = env.read(".config/anyray/env.sh");
    assert!(
        env_sh.contains("export GOOGLE_GEMINI_BASE_URL='https://gw.example:8787/gemini'"),
        "the shell route works as before: {env_sh}"
    );
    let status = env.run(["status", "gemini", "--json"]).json();
    let gemini = &status["targets"][0];
    assert_eq!(gemini["state"], "connected", "{gemini}");
    assert_eq!(gemini["endpoint"], format!("{GW}/gemini"));
    let notes = gemini["notes"].to_string();
    assert!(
        notes.contains("#27550"),
        "no selectedType: status says so: {notes}"
    );

    // `disconnect gemini` restores both routes.
    env.run(["disconnect", "gemini"]).ok();
    assert_eq!(env.read(GEMINI_ENV), original);
    assert_eq!(env.read(".bashrc"), "# mine\n");
    assert!(!env.config_dir().join("env.sh").exists());
}

#[test]
fn gemini_replaces_the_users_base_url_in_place_and_puts_it_back() {
    let env = TestEnv::new();
    gemini_route(&env);
    env.write(".gemini/settings.json", "{\n  // chose the API key\n  \"security\": { \"auth\": { \"selectedType\": \"gemini-api-key\" } }\n}\n");
    let connected = round_trip(
        &env,
        "gemini",
        GEMINI_ENV,
        Some(b"GOOGLE_GEMINI_BASE_URL='https://old.example' # theirs\nGEMINI_API_KEY=k\n"),
    );
    assert_eq!(
        visible(&connected),
        "GOOGLE_GEMINI_BASE_URL=https://gw.example:8787/gemini # theirs\nGEMINI_API_KEY=k\n"
    );
    let status = env.run(["status", "gemini", "--json"]).json();
    assert!(!status["targets"][0]["notes"].to_string().contains("#27550"));
}

#[test]
fn gemini_refuses_a_dotenv_it_cannot_edit_safely() {
    let env = TestEnv::new();
    gemini_route(&env);
    let twice = "GOOGLE_GEMINI_BASE_URL=a\nGOOGLE_GEMINI_BASE_URL=b\n";
    env.write(GEMINI_ENV, twice);
    let out = env.run(["connect", "gemini", "--force", "--gateway", GW]);
    out.code(3);
    assert!(out.stderr.contains(".gemini/.env:2:1"), "{}", out.stderr);
    assert_eq!(env.read(GEMINI_ENV), twice);
}

#[test]
fn status_lists_the_tools_no_file_can_point_at_a_gateway() {
    let env = TestEnv::new();
    std::fs::create_dir_all(env.path(".config/amp")).unwrap();
    let out = env.run(["status"]);
    out.ok();
    assert!(
        out.stdout
            .contains("Amp: not configurable from a file: Amp sends model traffic"),
        "{}",
        out.stdout
    );
    assert!(
        !out.stdout.contains("Kiro:"),
        "only what is installed: {}",
        out.stdout
    );
    let json = env.run(["status", "--json"]).json();
    let tools: Vec<(String, bool)> = json["not_configurable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["tool"].as_str().unwrap().to_string(),
                t["installed"] == true,
            )
        })
        .collect();
    assert_eq!(
        tools,
        [
            ("Amp".to_string(), true),
            ("Kiro".to_string(), false),
            ("Cline (VS Code extension)".to_string(), false)
        ]
    );
}

const DROID: &str = ".factory/settings.json";

#[test]
fn droid_adds_custom_models_by_display_name_and_removes_them_whole() {
    let env = TestEnv::new();
    let original = "{\n  \"model\": \"claude-sonnet-4-5\",\n  \"customModels\": [\n    {\n      \"model\": \"llama3\",\n      \"displayName\": \"Local\",\n      \"baseUrl\": \"http://localhost:11434/v1\",\n      \"apiKey\": \"x\",\n      \"provider\": \"generic-chat-completion-api\"\n    }\n  ]\n}\n";
    let connected = round_trip(&env, "droid", DROID, Some(original.as_bytes()));
    insta::assert_snapshot!(visible(&connected), @r#"
    {
      "model": "claude-sonnet-4-5",
      "customModels": [
        {
          "model": "llama3",
          "displayName": "Local",
          "baseUrl": "http://localhost:11434/v1",
          "apiKey": "x",
          "provider": "generic-chat-completion-api"
        },
        {
          "displayName": "Anyray gateway (OpenAI)",
          "model": "gpt-4o-mini",
          "baseUrl": "https://gw.example:8787/v1",
          "apiKey": "${OPENAI_API_KEY}",
          "provider": "generic-chat-completion-api"
        },
        {
          "displayName": "Anyray gateway (Anthropic)",
          "model": "claude-sonnet-4-5",
          "baseUrl": "https://gw.example:8787",
          "apiKey": "${ANTHROPIC_API_KEY}",
          "provider": "anthropic"
        }
      ]
    }
    "#);
    let doc: serde_json::Value = serde_json::from_slice(&connected).unwrap();
    assert_eq!(
        doc["customModels"][0]["displayName"], "Local",
        "the user's entry stays first"
    );
    assert_eq!(
        doc["customModels"][1]["apiKey"], "${OPENAI_API_KEY}",
        "a reference, never a key"
    );
}

#[test]
fn droid_creates_its_settings_and_deletes_them_again() {
    let env = TestEnv::new();
    let connected = round_trip(&env, "droid", DROID, None);
    let doc: serde_json::Value = serde_json::from_slice(&connected).unwrap();
    let models = doc["customModels"].as_array().unwrap();
    assert_eq!(models.len(), 2);
    assert_eq!(models[0]["baseUrl"], format!("{GW}/v1"));
    assert_eq!(models[1]["baseUrl"], GW, "anthropic takes the origin");
    assert_eq!(models[1]["provider"], "anthropic");
}

#[test]
fn droid_keeps_a_model_the_user_chose_and_refuses_a_duplicate_entry() {
    let env = TestEnv::new();
    env.run(["connect", "droid", "--force", "--gateway", GW])
        .ok();
    let text = env.read(DROID).replace("\"gpt-4o-mini\"", "\"gpt-5\"");
    env.write(DROID, &text);
    env.run(["connect", "droid", "--force", "--gateway", GW])
        .ok();
    assert!(env.read(DROID).contains("\"gpt-5\""));
    env.run(["disconnect", "droid"]).ok();
    assert!(!env.path(DROID).exists(), "{}", env.read(DROID));

    let twice = "{\"customModels\": [\n  {\"displayName\": \"Anyray gateway (OpenAI)\"},\n  {\"displayName\": \"Anyray gateway (OpenAI)\"}\n]}\n";
    env.write(DROID, twice);
    let out = env.run(["connect", "droid", "--force", "--gateway", GW]);
    out.code(3);
    assert!(
        out.stderr.contains(".factory/settings.json:3:3"),
        "{}",
        out.stderr
    );
    assert_eq!(env.read(DROID), twice);
}

#[test]
fn a_seed_the_user_changed_outside_an_entry_stays_theirs() {
    let env = TestEnv::new();
    env.run(["connect", "continue", "--force", "--gateway", GW])
        .ok();
    let text = env
        .read(CONTINUE)
        .replace("name: Local Config", "name: Team");
    env.write(CONTINUE, &text);
    env.run(["disconnect", "continue"]).ok();
    assert_eq!(
        env.read(CONTINUE),
        "name: Team\n",
        "anyray's entries go, the name the user chose stays"
    );
}

const CRUSH: &str = ".config/crush/crush.json";

#[test]
fn crush_adds_a_provider_that_crushs_own_schema_accepts() {
    let env = TestEnv::new();
    let original = "{\n  \"options\": {\n    \"debug\": false\n  },\n  \"models\": {\n    \"large\": { \"model\": \"claude-sonnet-4-5\", \"provider\": \"anthropic\" }\n  }\n}\n";
    let connected = round_trip(&env, "crush", CRUSH, Some(original.as_bytes()));
    let doc: serde_json::Value = serde_json::from_slice(&connected).expect("strict JSON");
    assert_eq!(doc["providers"]["anyray"]["base_url"], format!("{GW}/v1"));
    assert_eq!(doc["providers"]["anyray"]["api_key"], "$OPENAI_API_KEY");
    assert_eq!(doc["models"]["large"]["provider"], "anyray");
    assert_eq!(
        doc["models"]["large"]["model"], "claude-sonnet-4-5",
        "the user's model stays"
    );
    let created = TestEnv::new();
    created
        .run(["connect", "crush", "--force", "--gateway", GW])
        .ok();
    // Crush's published schema (charmbracelet/crush schema.json @37f36e93, a copy in
    // tests/schemas): the files anyray writes validate, and a wrong `type` does not.
    let Some(python) = needs::jsonschema() else {
        return;
    };
    let schema =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemas/crush.schema.json");
    let validate = |file: &std::path::Path| {
        std::process::Command::new(&python)
            .args(["-c", "import json, sys, jsonschema; jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))"])
            .arg(&schema)
            .arg(file)
            .output()
            .unwrap()
    };
    env.write(CRUSH, &connected);
    for file in [env.path(CRUSH), created.path(CRUSH)] {
        let out = validate(&file);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let wrong = String::from_utf8(connected)
        .unwrap()
        .replace("openai-compat", "openai-compatible");
    env.write(CRUSH, wrong);
    assert!(
        !validate(&env.path(CRUSH)).status.success(),
        "the check can fail"
    );
}

const QWEN: &str = ".qwen/settings.json";

#[test]
fn qwen_creates_its_settings_at_version_4_and_deletes_them_again() {
    let env = TestEnv::new();
    let connected = round_trip(&env, "qwen", QWEN, None);
    insta::assert_snapshot!(visible(&connected), @r#"
    {
      "$version": 4,
      "modelProviders": {
        "openai": [
          {
            "name": "Anyray gateway (OpenAI)",
            "id": "gpt-4o-mini",
            "baseUrl": "https://gw.example:8787/v1",
            "envKey": "OPENAI_API_KEY"
          }
        ],
        "anthropic": [
          {
            "name": "Anyray gateway (Anthropic)",
            "id": "claude-sonnet-4-5",
            "baseUrl": "https://gw.example:8787",
            "envKey": "ANTHROPIC_API_KEY"
          }
        ]
      },
      "security": {
        "auth": {
          "selectedType": "openai"
        }
      },
      "model": {
        "name": "gpt-4o-mini"
      }
    }
    "#);
    // What Qwen's JSON.parse sees: `$version` is the number it checks for, not "4".
    let doc: serde_json::Value = serde_json::from_slice(&connected).unwrap();
    assert_eq!(doc["$version"], serde_json::json!(4));
}

#[test]
fn qwen_keeps_comments_and_the_users_providers_and_gives_back_their_auth() {
    let env = TestEnv::new();
    let original = "{\n  // mine\n  \"$version\": 4,\n  \"modelProviders\": {\n    \"openai\": [\n      { \"id\": \"qwen3-coder\", \"name\": \"Local\", \"baseUrl\": \"http://localhost:8000/v1\", \"envKey\": \"LOCAL_KEY\" }\n    ]\n  },\n  \"security\": { \"auth\": { \"selectedType\": \"qwen-oauth\" } }, /* chosen at login */\n  \"model\": { \"name\": \"coder-model\" }\n}\n";
    let connected = round_trip(&env, "qwen", QWEN, Some(original.as_bytes()));
    insta::assert_snapshot!(visible(&connected), @r#"
    {
      // mine
      "$version": 4,
      "modelProviders": {
        "openai": [
          { "id": "qwen3-coder", "name": "Local", "baseUrl": "http://localhost:8000/v1", "envKey": "LOCAL_KEY" },
          {
            "name": "Anyray gateway (OpenAI)",
            "id": "gpt-4o-mini",
            "baseUrl": "https://gw.example:8787/v1",
            "envKey": "OPENAI_API_KEY"
          }
        ],
        "anthropic": [
          {
            "name": "Anyray gateway (Anthropic)",
            "id": "claude-sonnet-4-5",
            "baseUrl": "https://gw.example:8787",
            "envKey": "ANTHROPIC_API_KEY"
          }
        ]
      },
      "security": { "auth": { "selectedType": "openai" } }, /* chosen at login */
      "model": { "name": "gpt-4o-mini" }
    }
    "#);
}

#[test]
fn qwen_does_not_stamp_a_version_on_a_file_qwen_has_not_migrated_yet() {
    let env = TestEnv::new();
    // An older, flat layout: a `$version` would make Qwen skip migrating it.
    let original = "{\n  \"theme\": \"GitHub\"\n}\n";
    env.write(QWEN, original);
    let out = env.run(["connect", "qwen", "--force", "--gateway", GW]);
    out.ok();
    assert!(
        out.stdout.contains("has no \"$version\": 4"),
        "{}",
        out.stdout
    );
    let doc: serde_json::Value = serde_json::from_str(&env.read(QWEN)).unwrap();
    assert!(doc.get("$version").is_none(), "{doc}");
    env.run(["disconnect", "qwen"]).ok();
    assert_eq!(env.read(QWEN), original);
}

#[test]
fn qwen_refuses_a_trailing_comma_that_would_stop_it_and_follows_qwen_home() {
    let env = TestEnv::new();
    let broken = "{\n  \"model\": { \"name\": \"x\" },\n}\n";
    env.write(QWEN, broken);
    let out = env.run(["connect", "qwen", "--force", "--gateway", GW]);
    out.code(3);
    assert!(
        out.stderr.contains(".qwen/settings.json:2:27"),
        "at the comma: {}",
        out.stderr
    );
    assert!(out.stderr.contains("trailing comma"), "{}", out.stderr);
    assert_eq!(env.read(QWEN), broken);

    let mut env = TestEnv::new();
    env.set_var("QWEN_HOME", env.path("qh"));
    round_trip(&env, "qwen", "qh/settings.json", None);
    assert!(!env.path(QWEN).exists());
}

const ENV_SH: &str = ".config/anyray/env.sh";

/// The lines of anyray's env.sh that set a Copilot variable.
fn copilot_lines(env: &TestEnv) -> Vec<String> {
    env.read(ENV_SH)
        .lines()
        .filter(|l| l.starts_with("export COPILOT_"))
        .map(str::to_string)
        .collect()
}

// The key command is POSIX only (none is written on Windows).
#[cfg(unix)]
#[test]
fn copilot_gets_its_byok_variables_in_the_shell_env_file_and_they_stay() {
    let env = TestEnv::new();
    env.write(".bashrc", "# mine\n");
    env.run([
        "connect",
        "copilot",
        "--force",
        "--offline",
        "--gateway",
        GW,
    ])
    .ok();
    assert_eq!(
        copilot_lines(&env),
        [
            "export COPILOT_PROVIDER_BASE_URL='https://gw.example:8787/v1'",
            "export COPILOT_PROVIDER_TYPE='openai'",
            "export COPILOT_PROVIDER_API_KEY_COMMAND='printenv OPENAI_API_KEY'",
            "export COPILOT_MODEL='gpt-4o-mini'",
        ]
    );
    assert!(env.read(ENV_SH).contains("export OPENAI_BASE_URL="));
    // Connecting the shell again keeps them; every target that shares the file agrees.
    let again = env.run(["connect", "shell", "--force", "--offline"]);
    again.ok();
    assert!(
        again.stdout.contains("already connected"),
        "{}",
        again.stdout
    );
    assert_eq!(copilot_lines(&env).len(), 4);
    let status = env.run(["status", "copilot", "shell", "--json"]).json();
    for target in status["targets"].as_array().unwrap() {
        assert_eq!(target["state"], "connected", "{target}");
    }
    assert_eq!(
        status["targets"][0]["endpoint"],
        format!("{GW}/v1 (new terminals)")
    );
    env.run(["connect", "--check", "--force", "--offline", "copilot"])
        .ok();

    env.run(["disconnect", "copilot"]).ok();
    assert_eq!(env.read(".bashrc"), "# mine\n");
    assert!(!env.path(ENV_SH).exists());
}

// The key command is POSIX only (none is written on Windows).
#[cfg(unix)]
#[test]
fn copilot_leaves_the_users_model_alone_and_sends_the_routes_headers() {
    let mut env = TestEnv::new();
    env.write(".bashrc", "# mine\n");
    env.set_var("COPILOT_MODEL", "gpt-5");
    env.run(["config", "set", "routes.enabled", "anthropic"])
        .ok();
    env.run([
        "config",
        "set",
        "routes.anthropic.headers.x-portkey-provider",
        "anthropic",
    ])
    .ok();
    env.run(["config", "set", "headers.x-team", "platform"])
        .ok();
    let out = env.run([
        "connect",
        "copilot",
        "--force",
        "--offline",
        "--gateway",
        GW,
    ]);
    out.ok();
    assert!(
        out.stdout.contains("COPILOT_MODEL is already set"),
        "{}",
        out.stdout
    );
    // The headers are one value over two lines (Copilot's `Name: value` per line).
    assert!(
        env.read(ENV_SH)
            .contains("x-portkey-provider: anthropic\nx-team: platform'\n"),
        "{}",
        env.read(ENV_SH)
    );
    assert_eq!(
        copilot_lines(&env),
        [
            "export COPILOT_PROVIDER_BASE_URL='https://gw.example:8787'",
            "export COPILOT_PROVIDER_TYPE='anthropic'",
            "export COPILOT_PROVIDER_API_KEY_COMMAND='printenv ANTHROPIC_API_KEY'",
            "export COPILOT_PROVIDER_HEADERS='x-portkey-provider: anthropic",
        ]
    );
}

// The key command is POSIX only (none is written on Windows).
#[cfg(unix)]
#[test]
fn copilot_through_the_relay_gets_the_placeholder_key_when_the_user_has_none() {
    let env = TestEnv::new();
    env.write(".bashrc", "# mine\n");
    env.run([
        "connect",
        "copilot",
        "--force",
        "--offline",
        "--via",
        "relay",
        "--gateway",
        GW,
    ])
    .ok();
    // Copilot refuses an empty key; the relay replaces this placeholder with the key.
    let command = "sh -c 'printf %s \"${OPENAI_API_KEY:-anyray-relay}\"'";
    let lines = copilot_lines(&env);
    assert!(
        lines[0].starts_with("export COPILOT_PROVIDER_BASE_URL='http://127.0.0.1:"),
        "{lines:?}"
    );
    let printed = std::process::Command::new("sh")
        .args([
            "-c",
            &format!(
                "{}; printf %s \"$COPILOT_PROVIDER_API_KEY_COMMAND\"",
                lines[2]
            ),
        ])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&printed.stdout),
        command,
        "{lines:?}"
    );
}

#[test]
fn a_shell_connect_alone_never_turns_copilot_byok_on() {
    let env = TestEnv::new();
    env.write(".bashrc", "# mine\n");
    env.run(["connect", "shell", "--force", "--offline", "--gateway", GW])
        .ok();
    assert!(copilot_lines(&env).is_empty(), "{}", env.read(ENV_SH));
    let status = env.run(["status", "copilot", "--json"]).json();
    assert_ne!(status["targets"][0]["state"], "connected");
}

/// Qwen Code's settings files (tests/fixtures/json/qwen-*): as written, with CRLF, a BOM
/// and no final line break, connect then a key-by-key disconnect gives back the bytes;
/// the connected file reads as JSON with comments and no trailing comma (Qwen's
/// `stripJsonComments` + `JSON.parse`) with the managed values in place.
#[test]
fn qwen_corpus_round_trips_and_reads_as_qwen_reads_it() {
    use anyray::connect::Format;
    use anyray::edit::KeyPath;

    let ours = |field: &str| {
        KeyPath::keys(["modelProviders", "openai"])
            .named("Anyray gateway (OpenAI)")
            .key(field)
    };
    let wants: Vec<(KeyPath, &str)> = vec![
        (ours("id"), "gpt-4o-mini"),
        (ours("baseUrl"), "https://gw.example:8787/v1"),
        (ours("envKey"), "OPENAI_API_KEY"),
        (
            KeyPath::keys(["security", "auth", "selectedType"]),
            "openai",
        ),
        (KeyPath::keys(["model", "name"]), "gpt-4o-mini"),
    ];
    let qwen_reads = |text: &str| -> serde_json::Value {
        let options = jsonc_parser::ParseOptions {
            allow_comments: true,
            allow_trailing_commas: false,
            allow_loose_object_property_names: false,
            allow_missing_commas: false,
            allow_single_quoted_strings: false,
            allow_hexadecimal_numbers: false,
            allow_unary_plus_numbers: false,
            allow_bare_decimal_point_numbers: false,
            allow_non_finite_numbers: false,
            allow_extended_string_escapes: false,
        };
        jsonc_parser::parse_to_serde_value(text.trim_start_matches('\u{feff}'), &options)
            .unwrap_or_else(|e| panic!("Qwen could not read it: {e}\n{text}"))
    };
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/json");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("qwen-")
        })
        .collect();
    files.sort();
    assert!(files.len() >= 3, "the corpus is in {}", dir.display());
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let crlf = text.replace('\n', "\r\n");
        for variant in [
            text.clone(),
            crlf.clone(),
            format!("\u{feff}{crlf}"),
            text.trim_end().to_string(),
        ] {
            let connected = editor_support::check(Format::JsonComments, &variant, &wants)
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let read = qwen_reads(&connected);
            for (key, value) in &wants {
                assert_eq!(
                    editor_support::at(&read, key).and_then(|v| v.as_str()),
                    Some(*value),
                    "{}: {key}",
                    file.display()
                );
            }
            assert_eq!(
                read["$version"],
                qwen_reads(&variant)["$version"],
                "the user's $version is theirs"
            );
        }
    }
}
