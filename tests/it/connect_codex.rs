//! The codex target: `[model_providers.anyray]` + `model_provider = "anyray"` in
//! `$CODEX_HOME/config.toml`.

use crate::common;
use crate::connect_support;

use common::TestEnv;
use connect_support::{GW, round_trip, visible};

const FILE: &str = ".codex/config.toml";

#[test]
fn connects_a_missing_file_and_disconnect_deletes_it() {
    let env = TestEnv::new();
    let connected = round_trip(&env, "codex", FILE, None);
    insta::assert_snapshot!(visible(&connected), @r#"
    model_provider = "anyray"

    [model_providers.anyray]
    name = "Anyray gateway"
    base_url = "https://gw.example:8787/v1"
    wire_api = "responses"
    env_key = "OPENAI_API_KEY"
    "#);
}

#[test]
fn keeps_comments_crlf_and_bom() {
    let env = TestEnv::new();
    let original = "\u{feff}# Codex settings\r\nmodel = \"o3\"   # the big one\r\napproval_policy = \"on-request\"\r\n\r\n[profiles.fast]\r\nmodel = \"o4-mini\"\r\n";
    let connected = round_trip(&env, "codex", FILE, Some(original.as_bytes()));
    insta::assert_snapshot!(visible(&connected), @r#"
    <BOM># Codex settings␍
    model = "o3"   # the big one␍
    approval_policy = "on-request"␍
    model_provider = "anyray"␍
    ␍
    [profiles.fast]␍
    model = "o4-mini"␍
    ␍
    [model_providers.anyray]␍
    name = "Anyray gateway"␍
    base_url = "https://gw.example:8787/v1"␍
    wire_api = "responses"␍
    env_key = "OPENAI_API_KEY"␍
    "#);
}

#[test]
fn replaces_another_provider_keeps_its_credential_and_restores_it() {
    let env = TestEnv::new();
    let original = "model_provider = 'azure' # chosen by IT\n\n[model_providers.azure]\nname = \"Azure\"\nbase_url = \"https://corp.openai.azure.com/openai\"\nenv_key = \"AZURE_OPENAI_API_KEY\"\n";
    let connected = round_trip(&env, "codex", FILE, Some(original.as_bytes()));
    insta::assert_snapshot!(visible(&connected), @r#"
    model_provider = "anyray" # chosen by IT

    [model_providers.azure]
    name = "Azure"
    base_url = "https://corp.openai.azure.com/openai"
    env_key = "AZURE_OPENAI_API_KEY"

    [model_providers.anyray]
    name = "Anyray gateway"
    base_url = "https://gw.example:8787/v1"
    wire_api = "responses"
    env_key = "AZURE_OPENAI_API_KEY"
    "#);
}

#[test]
fn a_new_gateway_updates_in_place() {
    let env = TestEnv::new();
    env.write(FILE, "model = \"o3\"\n");
    env.run(["connect", "codex", "--force", "--gateway", GW])
        .ok();
    env.run([
        "connect",
        "codex",
        "--force",
        "--gateway",
        "https://new.example",
    ])
    .ok();
    let text = env.read(FILE);
    assert!(
        text.contains("base_url = \"https://new.example/v1\""),
        "{text}"
    );
    assert_eq!(text.matches("[model_providers.anyray]").count(), 1);
    env.run(["disconnect", "codex"]).ok();
    assert_eq!(env.read(FILE), "model = \"o3\"\n");
}

#[test]
fn identity_names_an_env_var_never_the_key() {
    let env = TestEnv::new();
    let out = env
        .cmd(["connect", "codex", "--force", "--identity", "--gateway", GW])
        .env("ANYRAY_TOKEN", "sk-anyray-secret-value")
        .run();
    out.ok();
    let text = env.read(FILE);
    assert!(
        text.contains("env_http_headers = { x-anyray-key = \"ANYRAY_TOKEN\" }"),
        "{text}"
    );
    assert!(!text.contains("sk-anyray-secret-value"));
    assert!(!out.all().contains("sk-anyray-secret-value"));
}

#[test]
fn malformed_toml_exits_3_and_leaves_the_file() {
    let env = TestEnv::new();
    let bad = "model = \"o3\"\n[profiles\nx = 1\n";
    env.write(FILE, bad);
    let out = env.run(["connect", "codex", "--force", "--gateway", GW]);
    out.code(3);
    assert!(out.stderr.contains("config.toml:2:"), "{}", out.stderr);
    assert_eq!(env.read(FILE), bad);
}
