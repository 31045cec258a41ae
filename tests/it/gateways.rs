//! The gateways orgs run (issues 15 and 22), against the fake gateway's `key` scheme
//! (LiteLLM's: the gateway key is the tools' API key) and header-routing mode
//! (Portkey's: a routing header per route): detection, doctor, the relay placing the
//! key, fail-open that never shows a gateway credential to a provider, routes, fixed
//! headers, a Codex table disconnect must not half-empty, and the relay's port.

use crate::common;
use crate::relay_support;

use std::collections::BTreeMap;

use anyray::auth::{Credential, FixedHeaders, Scheme};
use anyray::gateway_url::Provider;
use anyray::relay::Fallback;
use anyray::secrets::Secret;
use common::TestEnv;
use fake_gateway::{Discovery, FakeConfig, FakeGateway, Fault};
use hyper::StatusCode;
use relay_support::{
    bounded, bytes_of, dead_upstream, fake, json_of, relay, relay_config, send, url,
};
use serde_json::{Value, json};

const KEY: &str = "sk-litellm-gateway-key";

/// A LiteLLM-like gateway: no discovery, the key as Bearer or x-api-key.
fn litellm() -> FakeGateway {
    FakeGateway::spawn(FakeConfig {
        discovery: Discovery::Disabled,
        require_key: Some(KEY.into()),
        ..FakeConfig::default()
    })
    .unwrap()
}

/// A Portkey-like gateway: no discovery, no auth, a routing header per route.
fn portkey() -> FakeGateway {
    FakeGateway::spawn(FakeConfig {
        discovery: Discovery::Disabled,
        route_by_header: true,
        ..FakeConfig::default()
    })
    .unwrap()
}

fn check<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {report:#}"))
}

fn doctor(env: &TestEnv) -> Value {
    env.run(["doctor", "--json", "--only", "gateway.routes,gateway.auth"])
        .json()
}

/// Issue 15, finding 1: `connect` + `login` is all a LiteLLM user does; the scheme is
/// detected once, remembered with its source, and doctor is green.
#[test]
fn a_key_scheme_gateway_needs_no_other_setting() {
    let gw = litellm();
    let env = TestEnv::new();
    env.write(".bashrc", "");
    env.run(["connect", "shell", "--gateway", &gw.url()]).ok();
    let login = env.cmd(["login", "--token-stdin"]).stdin(KEY).run();
    login.ok();
    assert!(
        login.stdout.contains("as the tools' API key"),
        "{}",
        login.stdout
    );
    let got = env.run(["--json", "config", "get", "auth.scheme"]).json();
    assert_eq!(got["value"], "key");
    assert!(
        got["source"].as_str().unwrap().starts_with("detected"),
        "{got}"
    );
    let report = doctor(&env);
    let auth = check(&report, "gateway.auth");
    assert_eq!(auth["level"], "ok", "{auth:#}");
    assert!(
        auth["summary"].as_str().unwrap().contains("API key"),
        "{auth:#}"
    );
    assert_eq!(
        check(&report, "gateway.routes")["level"],
        "ok",
        "{report:#}"
    );
    // The key never appears in what anyray prints or writes.
    assert!(!format!("{report}").contains(KEY));
    assert!(!env.read(".config/anyray/config.toml").contains(KEY));
}

/// The identity-header answer for a key-scheme gateway is named, with the setting that
/// fixes it, and a wrong key is called wrong (never "store a current key" for a header
/// problem).
#[test]
fn doctor_names_the_setting_that_fixes_the_scheme() {
    let gw = litellm();
    let mut env = TestEnv::new();
    env.run(["config", "set", "gateway", &gw.url()]).ok();
    env.run(["config", "set", "auth.scheme", "header"]).ok();
    env.set_var("ANYRAY_TOKEN", KEY);
    let auth = check(&doctor(&env), "gateway.auth").clone();
    assert_eq!(auth["level"], "fail", "{auth:#}");
    assert!(
        auth["hint"]
            .as_str()
            .unwrap()
            .contains("anyray config set auth.scheme key"),
        "{auth:#}"
    );
    env.set_var("ANYRAY_TOKEN", "sk-wrong");
    let auth = check(&doctor(&env), "gateway.auth").clone();
    assert_eq!(auth["level"], "fail", "{auth:#}");
    assert!(
        auth["hint"].as_str().unwrap().contains("anyray login"),
        "{auth:#}"
    );
}

/// Issue 22, finding 2: doctor sends what the tools send, reads the 4xx, and passes
/// once the route headers are configured.
#[test]
fn doctor_fails_a_header_routing_gateway_until_the_headers_are_set() {
    let gw = portkey();
    let env = TestEnv::new();
    env.run(["config", "set", "gateway", &gw.url()]).ok();
    let out = env.run(["doctor", "--json", "--only", "gateway.routes"]);
    out.code(1);
    let routes = check(&out.json(), "gateway.routes").clone();
    assert_eq!(routes["level"], "fail", "{routes:#}");
    let summary = routes["summary"].as_str().unwrap();
    assert!(
        summary.contains("Either x-portkey-config or x-portkey-provider header is required"),
        "the gateway's own message: {routes:#}"
    );
    assert!(
        routes["hint"]
            .as_str()
            .unwrap()
            .contains("routes.openai.headers"),
        "{routes:#}"
    );
    for (route, provider) in [("openai", "openai"), ("anthropic", "anthropic")] {
        env.run([
            "config",
            "set",
            &format!("routes.{route}.headers.x-portkey-provider"),
            provider,
        ])
        .ok();
    }
    let out = env.run(["doctor", "--json", "--only", "gateway.routes"]);
    out.ok();
    assert_eq!(check(&out.json(), "gateway.routes")["level"], "ok");
}

/// Issue 22: after `connect`, Codex and Claude Code carry the route headers in their
/// own files; shells get no variable for a route that needs headers, and are told to
/// use the relay; `disconnect` restores every byte.
#[test]
fn connect_writes_route_headers_where_tools_send_them() {
    let gw = portkey();
    let env = TestEnv::new();
    std::fs::create_dir_all(env.path(".codex")).unwrap();
    std::fs::create_dir_all(env.path(".claude")).unwrap();
    env.write(".bashrc", "# mine\n");
    env.write(".codex/config.toml", "model = \"gpt-5\"\n");
    env.run(["config", "set", "headers.x-team", "platform"])
        .ok();
    env.run([
        "config",
        "set",
        "routes.openai.headers.x-portkey-provider",
        "openai",
    ])
    .ok();
    env.run([
        "config",
        "set",
        "routes.anthropic.headers.x-portkey-provider",
        "anthropic",
    ])
    .ok();
    let out = env.run([
        "connect",
        "codex",
        "claude-code",
        "shell",
        "--gateway",
        &gw.url(),
    ]);
    out.ok();
    assert!(out.stdout.contains("--via relay"), "{}", out.stdout);
    let codex = env.read(".codex/config.toml");
    let doc: toml_edit::DocumentMut = codex.parse().unwrap();
    let headers = &doc["model_providers"]["anyray"]["http_headers"];
    assert_eq!(headers["x-portkey-provider"].as_str(), Some("openai"));
    assert_eq!(headers["x-team"].as_str(), Some("platform"));
    let claude: Value = serde_json::from_str(&env.read(".claude/settings.json")).unwrap();
    assert_eq!(
        claude["env"]["ANTHROPIC_CUSTOM_HEADERS"],
        "x-portkey-provider: anthropic\nx-team: platform"
    );
    // Both routes need headers: shells are skipped rather than given a broken variable.
    assert!(!env.path(".config/anyray/env.sh").exists());
    env.run(["disconnect"]).ok();
    assert_eq!(env.read(".codex/config.toml"), "model = \"gpt-5\"\n");
    assert_eq!(env.read(".bashrc"), "# mine\n");
    assert!(!env.path(".claude/settings.json").exists());
}

/// A secret never goes into the fixed headers, which are written into tools' files.
#[test]
fn fixed_headers_refuse_secrets() {
    let env = TestEnv::new();
    for (key, value) in [
        ("headers.x-team", "sk-live-abc123"),
        ("headers.x-team", "xai-abc123"),
        ("headers.x-team", "Bearer abc"),
        ("headers.authorization", "x"),
        (
            "routes.openai.headers.x-portkey-config",
            r#"{"provider":"openai","api_key":"sk-1"}"#,
        ),
        ("routes.mars.headers.x-a", "b"),
    ] {
        let out = env.run(["config", "set", key, value]);
        out.code(2);
        assert!(!out.stderr.contains("sk-live-abc123"), "{}", out.stderr);
    }
    assert!(!env.config_file().exists());
}

/// Issue 15, finding 3: without discovery a new terminal gets only the routes every
/// compatible gateway serves, unless the user names more.
#[test]
fn env_exports_only_routes_the_gateway_serves() {
    let gw = litellm();
    let env = TestEnv::new();
    let names = |env: &TestEnv| -> Vec<String> {
        env.run(["env", "--json", "--gateway", &gw.url()]).json()["vars"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(&env), ["OPENAI_BASE_URL", "ANTHROPIC_BASE_URL"]);
    env.run(["config", "set", "routes.enabled", "openai,gemini"])
        .ok();
    assert_eq!(names(&env), ["OPENAI_BASE_URL", "GOOGLE_GEMINI_BASE_URL"]);
}

/// Issue 15, finding 5: with the relay supplying the key, tools that insist on one get
/// a documented placeholder, and the user is told; without the relay, in the `key`
/// scheme, `run` gives the child the key in its environment (never argv).
#[test]
fn run_supplies_the_key_or_a_placeholder() {
    let gw = litellm();
    let mut env = TestEnv::new();
    env.run(["config", "set", "gateway", &gw.url()]).ok();
    env.run(["config", "set", "auth.scheme", "key"]).ok();
    env.set_var("ANYRAY_TOKEN", KEY);
    let print = "printf '%s|%s' \"$OPENAI_API_KEY\" \"$ANTHROPIC_API_KEY\"";
    let out = env.run(["run", "--relay", "--", "sh", "-c", print]);
    out.ok();
    assert_eq!(out.stdout, "anyray-relay|anyray-relay");
    assert!(out.stderr.contains("placeholder"), "{}", out.stderr);
    let out = env.run(["run", "--", "sh", "-c", print]);
    out.ok();
    assert_eq!(out.stdout, format!("{KEY}|{KEY}"));
}

/// Issue 22, finding 5: `connect --via relay` refuses a relay on the gateway's own
/// address; the default relay port is not the gateway's.
#[test]
fn a_relay_on_the_gateways_address_is_refused() {
    let env = TestEnv::new();
    env.write(".bashrc", "");
    let gw = "http://127.0.0.1:8787";
    env.run(["config", "set", "relay.listen", "127.0.0.1:8787"])
        .ok();
    let out = env.run(["connect", "shell", "--via", "relay", "--gateway", gw]);
    out.code(2);
    assert!(out.stderr.contains("gateway"), "{}", out.stderr);
    assert!(!env.path(".config/anyray/env.sh").exists());
    env.run(["config", "unset", "relay.listen"]).ok();
    env.run([
        "connect",
        "shell",
        "--via",
        "relay",
        "--offline",
        "--gateway",
        gw,
    ])
    .ok();
    assert!(
        env.read(".config/anyray/env.sh")
            .contains("OPENAI_BASE_URL='http://127.0.0.1:18787/v1'")
    );
}

/// Issue 22, finding 3: a key the user added to anyray's Codex table never leaves a
/// table Codex cannot load: disconnect refuses (exit 3, naming it), or with --force
/// removes the whole table after copying the file aside.
#[test]
fn disconnect_never_leaves_a_codex_provider_without_a_name() {
    let gw = litellm();
    let env = TestEnv::new();
    std::fs::create_dir_all(env.path(".codex")).unwrap();
    env.run(["connect", "codex", "--gateway", &gw.url()]).ok();
    let connected = env.read(".codex/config.toml");
    let edited = format!("{connected}http_headers = {{ \"x-mine\" = \"1\" }}\n");
    assert!(
        connected
            .trim_end()
            .ends_with("env_key = \"OPENAI_API_KEY\"")
    );
    env.write(".codex/config.toml", &edited);
    let out = env.run(["disconnect", "codex"]);
    out.code(3);
    assert!(out.stderr.contains("http_headers"), "{}", out.stderr);
    assert_eq!(env.read(".codex/config.toml"), edited, "untouched");
    let out = env.run(["disconnect", "codex", "--force"]);
    out.ok();
    assert!(out.stderr.contains("http_headers"), "{}", out.stderr);
    let after = env.read(".codex/config.toml");
    let doc: toml_edit::DocumentMut = after.parse().unwrap();
    assert!(doc.get("model_providers").is_none(), "{after}");
    assert!(doc.get("model_provider").is_none(), "{after}");
    let copies: Vec<_> = std::fs::read_dir(env.path(".codex"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".bak"))
        .collect();
    assert_eq!(copies.len(), 1);
    assert_eq!(std::fs::read_to_string(copies[0].path()).unwrap(), edited);
}

fn key_relay_parts(
    gateway: &str,
    provider: &str,
) -> (anyray::relay::RelayConfig, BTreeMap<String, String>) {
    let mut cfg = relay_config(&[gateway.to_string()]);
    cfg.fallback = Fallback::Direct;
    cfg.providers.openai = url(provider);
    cfg.providers.anthropic = url(provider);
    cfg.scheme = Scheme::Key;
    cfg.identity = Some(Credential::new(Scheme::Key, "x-anyray-key", Secret::new(KEY)).unwrap());
    let mut headers = FixedHeaders::default();
    headers.global.insert("x-team".into(), "platform".into());
    let route = BTreeMap::from([("x-portkey-provider".into(), "openai".into())]);
    headers.routes.insert(Provider::Openai, route.clone());
    cfg.headers = headers;
    (cfg, route)
}

/// Issue 15, finding 2 and issue 22, finding 4: toward the gateway the relay puts the
/// key where the SDK sends it (replacing the placeholder) with the route's headers;
/// failing open, the provider sees none of the gateway's credentials or headers, and
/// without an own provider key the answer is a 502 that says how to fix it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_open_never_shows_a_gateway_credential_to_a_provider() {
    bounded(async {
        let gw = fake(FakeConfig {
            require_key: Some(KEY.into()),
            route_by_header: true,
            ..FakeConfig::default()
        })
        .await;
        let provider = fake(FakeConfig::default()).await;
        let (mut cfg, _) = key_relay_parts(&gw.url(), &provider.url());
        cfg.provider_keys
            .insert(Provider::Openai, Secret::new("sk-own-openai"));
        let relay = relay(cfg).await;
        let body = Some(json!({"model": "m"}));
        let client_headers = [
            ("authorization", "Bearer anyray-relay"),
            ("x-litellm-tags", "internal.corp.example"),
            ("x-anyray-session", "s1"),
        ];

        let resp = send(
            relay.url(),
            "POST",
            "/v1/chat/completions",
            body.clone(),
            &client_headers,
        )
        .await;
        assert_eq!(resp.status(), StatusCode::OK);
        let _ = bytes_of(resp).await;
        let seen = gw.requests().pop().unwrap();
        assert_eq!(
            seen.header("authorization"),
            Some(format!("Bearer {KEY}").as_str())
        );
        assert_eq!(seen.header("x-portkey-provider"), Some("openai"));
        assert_eq!(seen.header("x-team"), Some("platform"));

        // The gateway down (nothing listens): fail open to the provider.
        let (_dead, down) = dead_upstream();
        let (mut cfg, _) = key_relay_parts(&down, &provider.url());
        cfg.provider_keys
            .insert(Provider::Openai, Secret::new("sk-own-openai"));
        let relay = relay_support::relay(cfg).await;
        let resp = send(
            relay.url(),
            "POST",
            "/v1/chat/completions",
            body.clone(),
            &client_headers,
        )
        .await;
        let status = resp.status();
        let text = bytes_of(resp).await;
        assert_eq!(status, StatusCode::OK, "{text:?}");
        let seen = provider.requests().pop().unwrap();
        assert_eq!(seen.header("authorization"), Some("Bearer sk-own-openai"));
        for (name, value) in &seen.headers {
            assert!(
                !value.contains(KEY),
                "{name}: the gateway key reached the provider"
            );
            assert!(
                !name.starts_with("x-portkey-")
                    && !name.starts_with("x-litellm-")
                    && !name.starts_with("x-anyray-")
                    && name != "x-team",
                "{name} reached the provider"
            );
        }

        // No own Anthropic key: nothing goes to the provider, and the 502 says why.
        let before = provider.requests().len();
        let resp = send(
            relay.url(),
            "POST",
            "/v1/messages",
            body,
            &[("x-api-key", KEY)],
        )
        .await;
        assert_eq!(resp.status(), StatusCode::BAD_GATEWAY);
        let v = json_of(resp).await;
        let msg = v["error"]["message"].as_str().unwrap();
        assert!(msg.contains("anyray login --provider anthropic"), "{msg}");
        assert!(!msg.contains(KEY));
        assert_eq!(provider.requests().len(), before);
    })
    .await;
}

fn deep(env: &TestEnv, extra: &[&str]) -> (Value, i32) {
    let mut args = vec!["doctor", "--json", "--only", "gateway.deep"];
    args.extend(extra);
    let out = env.run(args);
    (check(&out.json(), "gateway.deep").clone(), out.code)
}

/// Issue 15, finding 6: doctor is opt-in about spending, and `--deep` sees a provider
/// that is down behind a gateway whose free checks are all green.
#[test]
fn doctor_deep_proves_the_provider_answers() {
    let gw = FakeGateway::spawn(FakeConfig {
        chunk_delay: std::time::Duration::from_millis(20),
        ..FakeConfig::default()
    })
    .unwrap();
    let env = TestEnv::new();
    env.run(["config", "set", "gateway", &gw.url()]).ok();
    let (finding, code) = deep(&env, &[]);
    assert_eq!((finding["level"].as_str(), code), (Some("skip"), 0));
    assert!(
        finding["summary"]
            .as_str()
            .unwrap()
            .contains("max_tokens 1"),
        "it says what it would spend: {finding:#}"
    );
    assert!(
        !gw.requests()
            .iter()
            .any(|r| r.path == "/v1/chat/completions"),
        "nothing spent without --deep"
    );

    let (finding, code) = deep(&env, &["--deep"]);
    assert_eq!(
        (finding["level"].as_str(), code),
        (Some("ok"), 0),
        "{finding:#}"
    );
    let posts: Vec<_> = gw
        .requests()
        .into_iter()
        .filter(|r| r.path == "/v1/chat/completions")
        .collect();
    assert_eq!(posts.len(), 1, "one minimal completion");
    assert_eq!(posts[0].json().unwrap()["max_tokens"], 1);

    // The provider behind the gateway is down: only --deep can tell.
    gw.set_fault(Fault::Status(500));
    let (finding, code) = deep(&env, &["--deep"]);
    assert_eq!(
        (finding["level"].as_str(), code),
        (Some("fail"), 1),
        "{finding:#}"
    );
    assert!(
        finding["summary"]
            .as_str()
            .unwrap()
            .contains("fake gateway fault: status 500"),
        "the gateway's own message: {finding:#}"
    );
}

/// A WAF that blocks bodies full of tags (real agent sessions) is named as such.
#[test]
fn doctor_deep_names_a_waf_that_blocks_tagged_bodies() {
    use std::io::{Read, Write};
    // A loopback "WAF": 403 HTML for any body with a tag, else like a gateway.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(20) {
            let Ok(mut s) = stream else { continue };
            s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
                .ok();
            let mut buf = vec![0u8; 65536];
            let mut got = Vec::new();
            while let Ok(n) = s.read(&mut buf) {
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&got);
                if let Some(end) = text.find("\r\n\r\n") {
                    let len = text[..end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if got.len() >= end + 4 + len {
                        break;
                    }
                }
            }
            let text = String::from_utf8_lossy(&got);
            let answer = if text.contains("<system-reminder>") {
                "HTTP/1.1 403 Forbidden\r\ncontent-type: text/html\r\ncontent-length: 20\r\nconnection: close\r\n\r\n<html>blocked</html>".to_string()
            } else {
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 18\r\nconnection: close\r\n\r\n{\"input_tokens\":3}".to_string()
            };
            let _ = s.write_all(answer.as_bytes());
        }
    });
    let env = TestEnv::new();
    env.run(["config", "set", "gateway", &format!("http://{addr}")])
        .ok();
    env.run(["config", "set", "routes.enabled", "anthropic"])
        .ok();
    let (finding, code) = deep(&env, &["--deep"]);
    assert_eq!(
        (finding["level"].as_str(), code),
        (Some("fail"), 1),
        "{finding:#}"
    );
    assert!(
        finding["summary"]
            .as_str()
            .unwrap()
            .contains("XML-like tags"),
        "{finding:#}"
    );
    assert!(
        finding["hint"].as_str().unwrap().contains("WAF"),
        "{finding:#}"
    );
}

/// Issue 15, finding 7: changing a setting a running relay read says to restart it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_set_says_a_running_relay_must_restart() {
    bounded(async {
        let gw = fake(FakeConfig::default()).await;
        let relay = relay(relay_config(&[gw.url()])).await;
        let env = TestEnv::new();
        let listen = relay.local_addr().to_string();
        let set = |key: &'static str, value: String| {
            let out = env.run(["config", "set", key, &value]);
            out.ok();
            out.stderr.clone()
        };
        // The relay runs where the config says it listens.
        tokio::task::block_in_place(|| set("relay.listen", listen.clone()));
        let first = tokio::task::block_in_place(|| set("relay.fallback", "none".into()));
        assert!(first.contains("restart"), "{first}");
        let other = tokio::task::block_in_place(|| set("via", "direct".into()));
        assert!(!other.contains("restart"), "{other}");
        relay.shutdown().await;
        let after = tokio::task::block_in_place(|| set("relay.fallback", "direct".into()));
        assert!(!after.contains("restart"), "no relay runs now: {after}");
    })
    .await;
}

/// Issue 15, finding 7: a tool that is not installed is never shown as connected.
#[test]
fn gemini_not_installed_is_not_connected() {
    let env = TestEnv::new();
    env.write(".bashrc", "");
    env.run(["config", "set", "routes.enabled", "openai,anthropic,gemini"])
        .ok();
    env.run([
        "connect",
        "shell",
        "--offline",
        "--gateway",
        "https://gw.example",
    ])
    .ok();
    assert!(
        env.read(".config/anyray/env.sh")
            .contains("GOOGLE_GEMINI_BASE_URL")
    );
    let status = env.run(["status", "gemini", "--json"]);
    let gemini = &status.json()["targets"][0];
    assert_eq!(gemini["installed"], false, "{gemini:#}");
    assert_eq!(gemini["state"], "not-connected", "{gemini:#}");
}
