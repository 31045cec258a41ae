//! `anyray env` through the real binary, against the fake org gateway.

use crate::common;

use fake_gateway::{Discovery, FakeConfig, FakeGateway, Fault};
use serde_json::json;

use common::TestEnv;

fn gateway(discovery: Discovery) -> FakeGateway {
    FakeGateway::spawn(FakeConfig {
        discovery,
        ..FakeConfig::default()
    })
    .expect("start fake gateway")
}

fn routes(routes: serde_json::Value) -> Discovery {
    Discovery::Custom(json!({ "version": "test", "routes": routes }))
}

#[test]
fn only_the_routes_discovery_lists_become_variables() {
    let gw = gateway(routes(json!({"openai": "/v1", "anthropic": "/"})));
    let url = gw.url();
    let out = TestEnv::new().run(["env", "--shell", "bash", "--gateway", &url]);
    out.ok();
    assert_eq!(
        out.stdout,
        format!("export OPENAI_BASE_URL='{url}/v1'\nexport ANTHROPIC_BASE_URL='{url}'\n")
    );
    assert_eq!(out.stderr, "");
    let paths: Vec<_> = gw.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/.well-known/anyray.json"]);
}

#[test]
fn json_lists_endpoint_via_discovery_and_vars() {
    let gw = gateway(routes(json!({"anthropic": "/anthropic", "gemini": "/g"})));
    let url = gw.url();
    let out = TestEnv::new().run(["env", "--json", "--gateway", &url]);
    out.ok();
    assert_eq!(
        out.json(),
        json!({
            "endpoint": url,
            "via": "direct",
            "discovery": true,
            "vars": [
                {"name": "ANTHROPIC_BASE_URL", "value": format!("{url}/anthropic")},
                {"name": "GOOGLE_GEMINI_BASE_URL", "value": format!("{url}/g")},
            ]
        })
    );
}

#[test]
fn gateway_down_gives_the_defaults_and_one_warning() {
    let gw = FakeGateway::spawn(FakeConfig {
        fault: Fault::Refuse,
        ..FakeConfig::default()
    })
    .expect("start fake gateway");
    let url = gw.url();
    let out = TestEnv::new().run(["env", "--shell", "bash", "--gateway", &url]);
    out.ok();
    assert_eq!(
        out.stdout,
        format!(
            "export OPENAI_BASE_URL='{url}/v1'\n\
             export ANTHROPIC_BASE_URL='{url}'\n"
        )
    );
    let warnings: Vec<_> = out.stderr.lines().collect();
    assert_eq!(warnings.len(), 1, "{}", out.stderr);
    assert!(
        warnings[0].starts_with(&format!(
            "warning: cannot reach {url}/.well-known/anyray.json: "
        )),
        "{}",
        warnings[0]
    );
    assert!(warnings[0].ends_with("using the default routes"));

    // --json: the same variables, and `discovery: false`.
    let out = TestEnv::new().run(["env", "--json", "--gateway", &url]);
    out.ok();
    let doc = out.json();
    assert_eq!(doc["discovery"], false);
    assert_eq!(doc["vars"].as_array().unwrap().len(), 2);
}

#[test]
fn a_captive_portal_or_an_error_answer_is_a_warning_too() {
    for (fault, why) in [
        (Fault::Html, "is not valid discovery JSON: "),
        (Fault::Status(503), "answered 503 Service Unavailable"),
    ] {
        let gw = FakeGateway::spawn(FakeConfig {
            fault,
            ..FakeConfig::default()
        })
        .expect("start fake gateway");
        let out = TestEnv::new().run(["env", "--json", "--gateway", &gw.url()]);
        out.ok();
        assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
        assert!(out.stderr.contains(why), "{}", out.stderr);
        // Without discovery: only the routes every compatible gateway serves.
        assert_eq!(out.json()["vars"].as_array().unwrap().len(), 2);
    }
}

#[test]
fn a_gateway_without_discovery_uses_the_defaults_silently() {
    let gw = gateway(Discovery::Disabled);
    let out = TestEnv::new().run(["env", "--json", "--gateway", &gw.url()]);
    out.ok();
    assert_eq!(out.stderr, "");
    let doc = out.json();
    assert_eq!(doc["discovery"], false);
    assert_eq!(doc["vars"][0]["name"], "OPENAI_BASE_URL");
    assert_eq!(doc["vars"][1]["name"], "ANTHROPIC_BASE_URL");
    assert_eq!(doc["vars"].as_array().unwrap().len(), 2);
}

#[test]
fn relay_points_at_the_relay_and_keeps_loopback_off_the_proxy() {
    let gw = gateway(routes(json!({"openai": "/v1", "gemini": "/gemini"})));
    let mut env = TestEnv::new();
    env.set_var("NO_PROXY", ".corp.example")
        .set_var("ANYRAY_GATEWAY", gw.url());
    env.write(
        ".config/anyray/config.toml",
        "via = \"relay\"\n[relay]\nlisten = \"127.0.0.1:9787\"\n",
    );
    let out = env.run(["env", "--json"]);
    out.ok();
    let no_proxy = ".corp.example,127.0.0.1,localhost";
    assert_eq!(
        out.json(),
        json!({
            "endpoint": "http://127.0.0.1:9787",
            "via": "relay",
            "discovery": true,
            "vars": [
                {"name": "OPENAI_BASE_URL", "value": "http://127.0.0.1:9787/v1"},
                {"name": "GOOGLE_GEMINI_BASE_URL", "value": "http://127.0.0.1:9787/gemini"},
                {"name": "NO_PROXY", "value": no_proxy},
                {"name": "no_proxy", "value": no_proxy},
            ]
        })
    );
    // Discovery still comes from the org gateway, not the relay.
    assert_eq!(gw.requests().len(), 1);

    // --via direct on the command line wins over the config file.
    let out = env.run(["env", "--json", "--via", "direct"]);
    out.ok();
    assert_eq!(out.json()["endpoint"], gw.url());
}

#[test]
fn format_follows_shell_and_exports_survive_quiet() {
    let gw = gateway(routes(json!({"openai": "/v1"})));
    let url = gw.url();
    let mut env = TestEnv::new();
    env.set_var("SHELL", "/usr/bin/fish");
    let out = env.run(["--quiet", "env", "--gateway", &url]);
    out.ok();
    assert_eq!(out.stdout, format!("set -gx OPENAI_BASE_URL '{url}/v1'\n"));

    for (format, expected) in [
        ("pwsh", format!("$env:OPENAI_BASE_URL = '{url}/v1'\n")),
        ("dotenv", format!("OPENAI_BASE_URL={url}/v1\n")),
        ("github", format!("OPENAI_BASE_URL={url}/v1\n")),
        ("zsh", format!("export OPENAI_BASE_URL='{url}/v1'\n")),
    ] {
        let out = env.run(["env", "--shell", format, "--gateway", &url]);
        out.ok();
        assert_eq!(out.stdout, expected, "{format}");
    }
}

#[test]
fn a_bad_gateway_url_is_a_usage_error() {
    let out = TestEnv::new().run(["env", "--gateway", "gw.example"]);
    out.code(2);
    assert!(out.stderr.contains("https://"), "{}", out.stderr);
    assert_eq!(out.stdout, "");
    // clap parses the flag; the error keeps its hint, in JSON too.
    let out = TestEnv::new().run(["--json", "env", "--gateway", "gw.example"]);
    out.code(2);
    let error = &out.json()["error"];
    assert!(
        error["message"].as_str().unwrap().contains("gw.example"),
        "{error}"
    );
    assert!(
        error["hint"].as_str().unwrap().contains("https://"),
        "{error}"
    );
}
