//! `anyray doctor` through the real binary, against the fake org gateway in each fault
//! mode. Loopback only; every server here is bounded by the test's lifetime.

use crate::common;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{Output, TestEnv};
use fake_gateway::{FakeConfig, FakeGateway, Fault};
use http_body_util::Full;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};

const TOKEN: &str = "ar-test-key-do-not-print-7f3a";

/// A hermetic env whose PATH finds no tool, so a developer's own installs cannot turn
/// a `tools.*` skip into a warning.
fn test_env() -> TestEnv {
    let mut env = TestEnv::new();
    env.isolate_path();
    env
}

fn gateway(cfg: FakeConfig) -> FakeGateway {
    FakeGateway::spawn(cfg).expect("start fake gateway")
}

/// `anyray doctor --json --timeout 5 --gateway URL ARGS…`.
fn doctor_json(env: &TestEnv, gw: &str, args: &[&str]) -> Output {
    let mut all = vec!["doctor", "--json", "--timeout", "5", "--gateway", gw];
    all.extend_from_slice(args);
    env.run(all)
}

fn check<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .expect("checks is an array")
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id} in {report:#}"))
}

fn level<'a>(report: &'a Value, id: &str) -> &'a str {
    check(report, id)["level"].as_str().unwrap()
}

fn ids(report: &Value) -> Vec<String> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

/// A port on 127.0.0.1 where nothing listens.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A tiny HTTP server on loopback that answers every request with one JSON body.
struct Stub {
    addr: SocketAddr,
    _runtime: tokio::runtime::Runtime,
}

impl Stub {
    fn json(body: Value) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        let body = Bytes::from(body.to_string());
        runtime.spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let body = body.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |_req: Request<hyper::body::Incoming>| {
                        let body = body.clone();
                        async move {
                            Ok::<_, Infallible>(
                                Response::builder()
                                    .header("content-type", "application/json")
                                    .body(Full::new(body))
                                    .unwrap(),
                            )
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tcp), service)
                        .await;
                });
            }
        });
        Self {
            addr,
            _runtime: runtime,
        }
    }
}

/// What the relay's `/_anyray/health` answers (the relay branch's `Health`).
fn relay_health(upstream: &str, fallback: &str, state: &str) -> Value {
    json!({
        "status": "ok", "version": "0.1.0", "fallback": fallback, "in_flight": 0,
        "upstreams": [{"url": upstream, "state": state,
                       "last_error": (state == "down").then_some("connection refused"),
                       "retry_in_ms": null}],
    })
}

/// A TLS front for the fake gateway: terminates TLS with `cert` on loopback and passes
/// the bytes on, so the fake becomes an https:// gateway.
struct TlsFront {
    port: u16,
    _runtime: tokio::runtime::Runtime,
}

impl TlsFront {
    fn new(upstream: SocketAddr, cert: &rcgen::CertifiedKey<rcgen::KeyPair>) -> Self {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let key =
            rustls::pki_types::PrivateKeyDer::try_from(cert.signing_key.serialize_der()).unwrap();
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert.cert.der().clone()], key)
            .unwrap();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
        let port = listener.local_addr().unwrap().port();
        runtime.spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return; // the client refused our certificate: that is the point
                    };
                    let Ok(mut up) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut up).await;
                });
            }
        });
        Self {
            port,
            _runtime: runtime,
        }
    }
}

/// A self-signed certificate for `localhost` and 127.0.0.1, written as PEM under HOME.
fn self_signed(env: &TestEnv) -> (rcgen::CertifiedKey<rcgen::KeyPair>, std::path::PathBuf) {
    let cert =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let path = env.write("certs/gateway.pem", cert.cert.pem());
    (cert, path)
}

#[test]
fn healthy_gateway_is_all_ok_or_skipped_with_a_reason() {
    let gw = gateway(FakeConfig {
        require_identity: Some(TOKEN.into()),
        ..FakeConfig::default()
    });
    let providers = gateway(FakeConfig::default());
    let relay = Stub::json(relay_health(&gw.url(), "direct", "up"));
    let mut env = test_env();
    env.set_var("ANYRAY_TOKEN", TOKEN);
    env.write(
        ".config/anyray/config.toml",
        format!(
            "via = \"relay\"\n[relay]\nlisten = \"{}\"\nfallback = \"direct\"\n\
             [relay.providers]\nopenai = \"{p}\"\nanthropic = \"{p}\"\ngemini = \"{p}\"\n",
            relay.addr,
            p = providers.url()
        ),
    );
    let out = doctor_json(&env, &gw.url(), &[]);
    out.ok();
    assert!(!out.all().contains(TOKEN), "the key leaked:\n{}", out.all());
    let report = out.json();
    for c in report["checks"].as_array().unwrap() {
        let lvl = c["level"].as_str().unwrap();
        assert!(lvl == "ok" || lvl == "skip", "{c:#}");
        assert!(!c["summary"].as_str().unwrap().is_empty(), "{c:#}");
    }
    assert_eq!(level(&report, "gateway.auth"), "ok");
    assert!(
        check(&report, "gateway.auth")["summary"]
            .as_str()
            .unwrap()
            .contains("accepted")
    );
    assert_eq!(level(&report, "relay"), "ok");
    assert_eq!(level(&report, "failopen.path"), "ok");
    assert_eq!(level(&report, "net.tls"), "skip");
    assert!(
        check(&report, "tools.cursor")["summary"]
            .as_str()
            .unwrap()
            .starts_with("not installed"),
        "{:#}",
        check(&report, "tools.cursor")
    );
    assert!(
        check(&report, "tools.claude-code")["summary"]
            .as_str()
            .unwrap()
            .starts_with("not installed")
    );
    assert_eq!(report["summary"]["fail"], 0);
    assert_eq!(report["summary"]["warn"], 0);
    // The key went to the gateway in its identity header, and no request cost tokens.
    let requests = gw.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.header("x-anyray-key") == Some(TOKEN))
    );
    assert!(
        requests
            .iter()
            .all(|r| r.path != "/v1/messages" && r.path != "/v1/chat/completions")
    );
}

#[test]
fn a_rejected_key_fails_auth() {
    let gw = gateway(FakeConfig {
        require_identity: Some("the-right-key".into()),
        ..FakeConfig::default()
    });
    let mut env = test_env();
    env.set_var("ANYRAY_TOKEN", TOKEN);
    let out = doctor_json(&env, &gw.url(), &["--only", "gateway.auth"]);
    out.code(1);
    let auth = check(&out.json(), "gateway.auth").clone();
    assert_eq!(auth["level"], "fail");
    assert!(
        auth["summary"]
            .as_str()
            .unwrap()
            .contains("rejects your key")
    );
    assert!(auth["hint"].as_str().unwrap().contains("anyray login"));
    assert!(!out.all().contains(TOKEN));

    // No key at all, and the gateway wants one.
    env.remove_var("ANYRAY_TOKEN");
    let out = doctor_json(&env, &gw.url(), &["--only", "gateway.auth"]);
    out.code(1);
    assert!(
        check(&out.json(), "gateway.auth")["summary"]
            .as_str()
            .unwrap()
            .contains("no key stored")
    );
}

#[test]
fn refused_fails_tcp_with_a_hint_and_skips_what_follows() {
    let gw = gateway(FakeConfig {
        fault: Fault::Refuse,
        ..FakeConfig::default()
    });
    let env = test_env();
    let out = doctor_json(&env, &gw.url(), &[]);
    out.code(1);
    let report = out.json();
    let tcp = check(&report, "net.tcp");
    assert_eq!(tcp["level"], "fail");
    assert!(
        tcp["summary"].as_str().unwrap().contains("refused"),
        "{tcp:#}"
    );
    assert!(tcp["hint"].as_str().unwrap().contains("port"), "{tcp:#}");
    assert_eq!(level(&report, "net.dns"), "ok");
    for later in [
        "net.tls",
        "net.http",
        "gateway.discovery",
        "gateway.routes",
        "gateway.auth",
        "gateway.optimizer",
    ] {
        let c = check(&report, later);
        assert_eq!(c["level"], "skip", "{c:#}");
        assert!(
            c["summary"].as_str().unwrap().contains("net.tcp failed"),
            "{c:#}"
        );
    }
}

#[test]
fn silent_gateway_fails_http_by_timeout_within_the_bound() {
    let gw = gateway(FakeConfig {
        fault: Fault::Silent,
        ..FakeConfig::default()
    });
    let env = test_env();
    let started = Instant::now();
    let out = env.run(["doctor", "--json", "--timeout", "2", "--gateway", &gw.url()]);
    let took = started.elapsed();
    out.code(1);
    assert!(took < Duration::from_secs(4), "doctor took {took:?}");
    let report = out.json();
    let http = check(&report, "net.http");
    assert_eq!(http["level"], "fail", "{http:#}");
    assert!(
        http["summary"]
            .as_str()
            .unwrap()
            .contains("no HTTP answer within"),
        "{http:#}"
    );
    assert_eq!(level(&report, "net.tcp"), "ok");
    assert_eq!(level(&report, "gateway.routes"), "skip");
    // Complete: every check is in the report.
    assert_eq!(ids(&report).len(), 28);
}

#[test]
fn server_errors_fail_routes() {
    let gw = gateway(FakeConfig {
        fault: Fault::Status(503),
        ..FakeConfig::default()
    });
    let env = test_env();
    let out = doctor_json(&env, &gw.url(), &["--only", "gateway"]);
    out.code(1);
    let report = out.json();
    let routes = check(&report, "gateway.routes");
    assert_eq!(routes["level"], "fail", "{routes:#}");
    assert!(
        routes["summary"].as_str().unwrap().contains("503"),
        "{routes:#}"
    );
    assert_eq!(level(&report, "gateway.discovery"), "warn");
}

#[test]
fn an_html_page_is_not_an_llm_api() {
    let gw = gateway(FakeConfig {
        fault: Fault::Html,
        keep_discovery: true,
        ..FakeConfig::default()
    });
    let env = test_env();
    let out = doctor_json(&env, &gw.url(), &["--only", "gateway.routes"]);
    out.code(1);
    let routes = check(&out.json(), "gateway.routes").clone();
    assert!(
        routes["summary"].as_str().unwrap().contains("HTML page"),
        "{routes:#}"
    );
    assert!(
        routes["hint"].as_str().unwrap().contains("net.proxy"),
        "{routes:#}"
    );
}

#[test]
fn optimizer_down_with_fail_open_is_ok() {
    let gw = gateway(FakeConfig {
        fault: Fault::OptimizerDown,
        ..FakeConfig::default()
    });
    let env = test_env();
    let out = doctor_json(&env, &gw.url(), &["--only", "gateway.optimizer"]);
    out.ok();
    let opt = check(&out.json(), "gateway.optimizer").clone();
    assert_eq!(opt["level"], "ok", "{opt:#}");
    assert!(
        opt["detail"]
            .as_str()
            .unwrap()
            .contains("requests pass unchanged"),
        "{opt:#}"
    );
    assert!(
        opt["detail"].as_str().unwrap().contains("added latency"),
        "{opt:#}"
    );
}

#[test]
fn fail_open_off_warns() {
    let gw = gateway(FakeConfig {
        fail_open: false,
        ..FakeConfig::default()
    });
    let env = test_env();
    let out = doctor_json(&env, &gw.url(), &["--only", "gateway.optimizer"]);
    out.ok();
    let opt = check(&out.json(), "gateway.optimizer").clone();
    assert_eq!(opt["level"], "warn", "{opt:#}");
    assert!(
        opt["summary"]
            .as_str()
            .unwrap()
            .contains("fail-open is off"),
        "{opt:#}"
    );
}

#[test]
fn self_signed_tls_fails_without_the_ca_and_passes_with_it() {
    let gw = gateway(FakeConfig::default());
    let mut env = test_env();
    let (cert, pem) = self_signed(&env);
    let front = TlsFront::new(gw.addr(), &cert);
    let url = format!("https://localhost:{}", front.port);

    let out = doctor_json(&env, &url, &["--only", "net,gateway.routes"]);
    out.code(1);
    let report = out.json();
    let tls = check(&report, "net.tls");
    assert_eq!(tls["level"], "fail", "{tls:#}");
    assert!(
        tls["summary"].as_str().unwrap().contains("not trusted"),
        "{tls:#}"
    );
    let hint = tls["hint"].as_str().unwrap();
    for var in ["ANYRAY_CA_FILE", "SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS"] {
        assert!(hint.contains(var), "hint lacks {var}: {hint}");
    }
    assert_eq!(level(&report, "net.http"), "skip");
    assert_eq!(level(&report, "gateway.routes"), "skip");

    env.set_var("ANYRAY_CA_FILE", &pem);
    let out = doctor_json(&env, &url, &["--only", "net,gateway.routes"]);
    out.ok();
    let report = out.json();
    let tls = check(&report, "net.tls");
    assert_eq!(tls["level"], "ok", "{tls:#}");
    assert!(
        tls["summary"].as_str().unwrap().contains("expires in"),
        "{tls:#}"
    );
    assert!(
        tls["detail"].as_str().unwrap().contains("ANYRAY_CA_FILE"),
        "{tls:#}"
    );
    assert_eq!(level(&report, "net.http"), "ok");
    assert_eq!(level(&report, "gateway.routes"), "ok");
}

/// The proxy variable must apply to the gateway's URL for the check to mean anything:
/// HTTPS_PROXY covers https:// only, so the gateway here is the TLS front. It is named
/// `localhost` rather than 127.0.0.1 to show that loopback gets no exemption of its own
/// (curl's rules, which reqwest and Node tools follow): only NO_PROXY exempts it.
#[test]
fn a_dead_https_proxy_fails_naming_the_variable() {
    let gw = gateway(FakeConfig::default());
    let mut env = test_env();
    let (cert, pem) = self_signed(&env);
    let front = TlsFront::new(gw.addr(), &cert);
    let url = format!("https://localhost:{}", front.port);
    env.set_var("ANYRAY_CA_FILE", &pem);
    env.set_var(
        "HTTPS_PROXY",
        format!("http://user:proxy-pass@127.0.0.1:{}", closed_port()),
    );

    let out = doctor_json(&env, &url, &["--only", "net.proxy,net.http"]);
    out.code(1);
    assert!(!out.all().contains("proxy-pass"), "proxy password leaked");
    let report = out.json();
    // The request goes the proxy's way, and says so.
    let http = check(&report, "net.http");
    assert_eq!(http["level"], "fail", "{http:#}");
    assert!(
        http["hint"].as_str().unwrap().contains("net.proxy"),
        "{http:#}"
    );
    let proxy = check(&report, "net.proxy").clone();
    assert_eq!(proxy["level"], "fail", "{proxy:#}");
    let summary = proxy["summary"].as_str().unwrap();
    assert!(summary.contains("HTTPS_PROXY"), "{summary}");
    assert!(summary.contains("does not answer"), "{summary}");
    assert!(
        proxy["hint"].as_str().unwrap().contains("NO_PROXY"),
        "{proxy:#}"
    );

    // NO_PROXY naming the host takes the gateway off the proxy.
    env.set_var("NO_PROXY", "localhost");
    let out = doctor_json(&env, &url, &["--only", "net.proxy,net.http"]);
    out.ok();
    let report = out.json();
    let proxy = check(&report, "net.proxy");
    assert_eq!(proxy["level"], "ok", "{proxy:#}");
    assert!(
        proxy["summary"].as_str().unwrap().contains("goes direct"),
        "{proxy:#}"
    );
    assert_eq!(level(&report, "net.http"), "ok");
}

#[test]
fn loopback_relay_through_a_proxy_warns() {
    let mut env = test_env();
    env.write(
        ".config/anyray/config.toml",
        format!(
            "via = \"relay\"\n[relay]\nlisten = \"127.0.0.1:{}\"\n",
            closed_port()
        ),
    );
    env.set_var("HTTP_PROXY", "http://proxy.corp.invalid:3128");
    env.set_var("NO_PROXY", "gw.corp.invalid");
    let out = doctor_json(&env, "https://gw.corp.invalid", &["--only", "net.proxy"]);
    let proxy = check(&out.json(), "net.proxy").clone();
    assert_eq!(proxy["level"], "warn", "{proxy:#}");
    let text = format!("{proxy}");
    assert!(text.contains("loopback"), "{proxy:#}");
    assert!(text.contains("HTTP_PROXY"), "{proxy:#}");
    assert!(
        proxy["hint"]
            .as_str()
            .unwrap()
            .contains("127.0.0.1,localhost"),
        "{proxy:#}"
    );
}

#[test]
fn direct_mode_warns_about_fail_open_and_skips_the_relay() {
    let env = test_env();
    let out = doctor_json(
        &env,
        "http://127.0.0.1:1",
        &["--only", "failopen.path,relay"],
    );
    out.ok();
    let report = out.json();
    assert_eq!(level(&report, "failopen.path"), "warn");
    assert!(
        check(&report, "failopen.path")["hint"]
            .as_str()
            .unwrap()
            .contains("fallback")
    );
    let relay = check(&report, "relay");
    assert_eq!(relay["level"], "skip");
    assert!(relay["summary"].as_str().unwrap().contains("via = direct"));
}

#[test]
fn a_relay_that_is_not_running_fails() {
    let env = test_env();
    env.write(
        ".config/anyray/config.toml",
        format!(
            "via = \"relay\"\n[relay]\nlisten = \"127.0.0.1:{}\"\n",
            closed_port()
        ),
    );
    let out = doctor_json(&env, "http://127.0.0.1:1", &["--only", "relay"]);
    out.code(1);
    let relay = check(&out.json(), "relay").clone();
    assert_eq!(relay["level"], "fail", "{relay:#}");
    assert!(
        relay["summary"].as_str().unwrap().contains("not running"),
        "{relay:#}"
    );
    assert!(
        relay["hint"].as_str().unwrap().contains("anyray gateway"),
        "{relay:#}"
    );
}

#[test]
fn stale_shell_variables_are_reported() {
    let mut env = test_env();
    env.set_var("ANTHROPIC_BASE_URL", "https://old-gateway.example");
    env.set_var("ANTHROPIC_API_KEY", "sk-ant-leftover-secret");
    env.set_var("ANTHROPIC_AUTH_TOKEN", "token-secret");
    let out = doctor_json(&env, "http://127.0.0.1:1", &["--only", "tools"]);
    out.ok();
    let report = out.json();
    let shell = check(&report, "tools.shell");
    assert_eq!(shell["level"], "warn", "{shell:#}");
    let summary = shell["summary"].as_str().unwrap();
    assert!(
        summary.contains("ANTHROPIC_BASE_URL=https://old-gateway.example"),
        "{summary}"
    );
    assert!(summary.contains("ANTHROPIC_API_KEY"), "{summary}");
    assert!(
        shell["hint"]
            .as_str()
            .unwrap()
            .contains("restart your shell")
    );
    assert!(!out.all().contains("leftover-secret") && !out.all().contains("token-secret"));
    // Not installed, or not handled by this build's connect: skipped, never ok.
    for tool in ["claude-code", "cursor", "windsurf", "codex", "gemini"] {
        assert_eq!(level(&report, &format!("tools.{tool}")), "skip");
    }
}

#[test]
fn only_runs_exactly_the_named_check() {
    let gw = gateway(FakeConfig::default());
    let env = test_env();
    let out = doctor_json(&env, &gw.url(), &["--only", "net.tcp"]);
    out.ok();
    let report = out.json();
    assert_eq!(ids(&report), ["net.tcp"]);
    assert_eq!(level(&report, "net.tcp"), "ok");

    let out = doctor_json(
        &env,
        &gw.url(),
        &["--only", "net", "--skip", "net.tls,net.proxy"],
    );
    assert_eq!(ids(&out.json()), ["net.dns", "net.tcp", "net.http"]);
}

#[test]
fn usage_errors_exit_2() {
    let env = test_env();
    for args in [
        vec!["doctor", "--timeout", "0"],
        vec!["doctor", "--timeout", "-3"],
        vec!["doctor", "--only", "tools", "--skip", "tools"],
        vec!["doctor", "--only", "no.such.check"],
        vec!["doctor", "--gateway", "ftp://gw.example"],
    ] {
        let out = env.run(&args);
        out.code(2);
    }
}

#[test]
fn a_broken_config_is_the_config_check_failing() {
    let env = test_env();
    env.write(".config/anyray/config.toml", "gateway = \"ftp://nope\"\n");
    let out = env.run(["doctor", "--json", "--timeout", "2"]);
    out.code(1);
    let report = out.json();
    assert_eq!(report["gateway"], Value::Null);
    let config = check(&report, "config");
    assert_eq!(config["level"], "fail");
    assert!(
        config["summary"].as_str().unwrap().contains("ftp://nope"),
        "{config:#}"
    );
    assert!(
        config["hint"]
            .as_str()
            .unwrap()
            .contains("anyray config set"),
        "{config:#}"
    );
    assert_eq!(level(&report, "net.tcp"), "skip");
}

/// The human report: one line per check (`  ✓ id …`), then the problems.
fn human_ids(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .take_while(|l| !l.ends_with("problem:") && !l.ends_with("problems:"))
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let mark = words.next()?;
            ["✓", "!", "✗", "-"]
                .contains(&mark)
                .then(|| words.next().map(str::to_string))
                .flatten()
        })
        .collect()
}

#[test]
fn human_and_json_list_the_same_checks() {
    let gw = gateway(FakeConfig {
        fail_open: false,
        ..FakeConfig::default()
    });
    let env = test_env();
    let json = doctor_json(&env, &gw.url(), &[]).json();
    let human = env.run(["doctor", "--timeout", "5", "--gateway", &gw.url()]);
    human.ok();
    assert_eq!(human_ids(&human.stdout), ids(&json));
    assert_eq!(ids(&json).len(), 28);
    assert!(human.stdout.contains(&format!("gateway {}", gw.url())));
    assert!(human.stdout.contains("problems:"), "{}", human.stdout);
    assert!(human.stdout.contains("hint:"), "{}", human.stdout);
    // No spinner or escape codes when stderr is not a terminal.
    assert!(!human.all().contains('\x1b'), "{:?}", human.all());
}

#[test]
fn json_schema_snapshot() {
    let gw = gateway(FakeConfig::default());
    let env = test_env();
    let out = doctor_json(&env, &gw.url(), &[]);
    out.ok();
    let text = common::redact_home(&out.stdout, &env);
    insta::with_settings!({filters => vec![
        (r#""elapsed_ms": \d+"#, r#""elapsed_ms": "[ms]""#),
        (r"\d+ ms", "[n] ms"),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[port]"),
        (r#""version": "[^"]+""#, r#""version": "[version]""#),
    ]}, {
        insta::assert_snapshot!(text);
    });
}

#[test]
fn config_says_where_settings_come_from_and_what_is_wrong() {
    let mut env = test_env();
    let run = |env: &TestEnv| {
        let out = env.run(["doctor", "--json", "--only", "config"]);
        check(&out.json(), "config").clone()
    };
    let config = run(&env);
    assert_eq!(config["level"], "warn", "{config:#}");
    assert!(
        config["summary"]
            .as_str()
            .unwrap()
            .contains("no gateway configured")
    );

    env.set_var("ANYRAY_GATEWAY", "https://gw.corp.example");
    let config = run(&env);
    assert_eq!(config["level"], "ok", "{config:#}");
    assert!(
        config["summary"]
            .as_str()
            .unwrap()
            .contains("env ANYRAY_GATEWAY")
    );

    env.set_var("ANYRAY_CA_FILE", env.path("missing.pem"));
    let config = run(&env);
    assert_eq!(config["level"], "fail", "{config:#}");
    assert!(
        config["summary"].as_str().unwrap().contains("missing.pem"),
        "{config:#}"
    );

    // The relay listening on the gateway's own address (the default gateway's port).
    env.remove_var("ANYRAY_CA_FILE")
        .remove_var("ANYRAY_GATEWAY");
    env.write(
        ".config/anyray/config.toml",
        "[relay]\nlisten = \"127.0.0.1:8787\"\n",
    );
    env.set_var("ANYRAY_VIA", "relay");
    let config = run(&env);
    assert_eq!(config["level"], "fail", "{config:#}");
    assert!(
        config["summary"]
            .as_str()
            .unwrap()
            .contains("forward to itself"),
        "{config:#}"
    );
}

#[test]
fn tool_states_come_from_connect() {
    const GW: &str = "https://gw.example:8787";
    let env = test_env();
    let claude = |env: &TestEnv| {
        let out = doctor_json(env, GW, &["--only", "tools.claude-code"]);
        (out.code, check(&out.json(), "tools.claude-code").clone())
    };
    // Its config dir exists: installed, not connected.
    env.write(".claude/settings.json", "{\n  \"model\": \"opus\"\n}\n");
    let (code, c) = claude(&env);
    assert_eq!((code, c["level"].as_str().unwrap()), (0, "warn"), "{c:#}");
    assert!(
        c["summary"].as_str().unwrap().contains("not connected"),
        "{c:#}"
    );
    assert!(
        c["hint"]
            .as_str()
            .unwrap()
            .contains("anyray connect claude-code")
    );

    env.run(["connect", "claude-code", "--force", "--gateway", GW])
        .ok();
    let (_, c) = claude(&env);
    assert_eq!(c["level"], "ok", "{c:#}");
    assert!(c["summary"].as_str().unwrap().contains(GW), "{c:#}");

    env.write(
        ".claude/settings.json",
        "{\n  \"env\": { \"ANTHROPIC_BASE_URL\": \"https://elsewhere.example\" }\n}\n",
    );
    let (_, c) = claude(&env);
    assert_eq!(c["level"], "warn", "{c:#}");
    assert!(c["summary"].as_str().unwrap().contains("drifted"), "{c:#}");

    env.write(".claude/settings.json", "{ not json");
    let (code, c) = claude(&env);
    assert_eq!((code, c["level"].as_str().unwrap()), (1, "fail"), "{c:#}");
    assert!(
        c["summary"].as_str().unwrap().contains("settings.json"),
        "{c:#}"
    );
}

#[test]
fn the_relay_must_run_with_the_current_config() {
    const GW: &str = "https://gw.corp.example";
    let relay_doctor = |relay: &Stub| {
        let env = test_env();
        env.write(
            ".config/anyray/config.toml",
            format!("via = \"relay\"\n[relay]\nlisten = \"{}\"\n", relay.addr),
        );
        let out = doctor_json(&env, GW, &["--only", "relay"]);
        check(&out.json(), "relay").clone()
    };
    let ok = relay_doctor(&Stub::json(relay_health(GW, "none", "up")));
    assert_eq!(ok["level"], "ok", "{ok:#}");

    let elsewhere = relay_doctor(&Stub::json(relay_health(
        "https://old.example",
        "none",
        "up",
    )));
    assert_eq!(elsewhere["level"], "fail", "{elsewhere:#}");
    assert!(
        elsewhere["hint"].as_str().unwrap().contains("restart"),
        "{elsewhere:#}"
    );
    assert!(
        elsewhere["detail"]
            .as_str()
            .unwrap()
            .contains("https://old.example")
    );

    let fallback = relay_doctor(&Stub::json(relay_health(GW, "direct", "up")));
    assert_eq!(fallback["level"], "fail", "{fallback:#}");

    let down = relay_doctor(&Stub::json(relay_health(GW, "none", "down")));
    assert_eq!(down["level"], "warn", "{down:#}");
    assert!(
        down["summary"]
            .as_str()
            .unwrap()
            .contains("connection refused"),
        "{down:#}"
    );

    let stranger = relay_doctor(&Stub::json(json!("not the relay")));
    assert_eq!(stranger["level"], "fail", "{stranger:#}");
    assert!(
        stranger["summary"]
            .as_str()
            .unwrap()
            .contains("other than the anyray relay")
    );
}

/// Tests use made-up gateway names; the harness turns DNS off (`ANYRAY_TEST_NO_DNS`) so
/// none of them becomes a query to the network's resolver. `localhost` still resolves.
#[test]
fn the_test_harness_never_asks_the_network_about_a_name() {
    let env = test_env();
    let out = doctor_json(&env, "https://gw.example:8787", &["--only", "net.dns"]);
    let report: Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(level(&report, "net.dns"), "fail", "{}", out.stdout);
    assert!(out.stdout.contains("ANYRAY_TEST_NO_DNS"), "{}", out.stdout);

    let out = doctor_json(&env, "http://localhost:9", &["--only", "net.dns"]);
    let report: Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(level(&report, "net.dns"), "ok", "{}", out.stdout);
}
