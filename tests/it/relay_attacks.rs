//! The relay under attack, in-process against the fake org gateway: what a local process
//! or a web page in the user's browser can send, and what it must never achieve (reach
//! another host with the user's key, take a healthy gateway down, push traffic to the
//! fail-open target, leave a secret in the log). The README's threat model lists these.
//! Loopback only; every test is bounded in time.

use std::time::{Duration, Instant};

use anyray::auth::Scheme;
use anyray::relay::{Fallback, LogFormat};
use anyray::relay::{Identity, LogTarget, RelayConfig, RelayHandle};
use anyray::secrets::Secret;
use fake_gateway::{FakeConfig, FakeGateway, Fault};
use hyper::StatusCode;
use serde_json::{Value, json};

use crate::relay_support;

use relay_support::{
    bounded, bytes_of, dead_upstream, fake, health, json_of, metrics, raw, read_all, relay,
    relay_config as config, send, temp_log, url,
};

const KEY: &str = "sk-anyray-user-key";

/// A relay with the user's key, failing open to `provider` (which must see nothing
/// unless a gateway really is unreachable).
fn guarded(gw: &FakeGateway, provider: &FakeGateway) -> RelayConfig {
    let mut cfg = config(&[gw.url()]);
    cfg.identity = Some(Identity::new(Scheme::Header, "x-anyray-key", Secret::new(KEY)).unwrap());
    cfg.fallback = Fallback::Direct;
    cfg.providers.openai = url(&provider.url());
    cfg.providers.anthropic = url(&provider.url());
    cfg.providers.gemini = url(&provider.url());
    cfg
}

/// Sends raw bytes on a new connection and reads the answer until the relay closes.
async fn exchange(relay: &RelayHandle, request: &str) -> String {
    let mut s = raw(relay, request).await;
    read_all(&mut s).await
}

/// Sends raw bytes on a new connection and returns the first response's status line
/// (`None` if the relay closed without one), without waiting for the connection to end.
async fn first_line(addr: std::net::SocketAddr, request: String) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let _ = s.write_all(request.as_bytes()).await;
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    let deadline = Instant::now() + Duration::from_secs(5);
    while !got.windows(2).any(|w| w == b"\r\n") {
        let left = deadline.checked_duration_since(Instant::now())?;
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => got.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    let text = String::from_utf8_lossy(&got).into_owned();
    text.split_once("\r\n").map(|(line, _)| line.to_string())
}

/// The status of the first response in a raw answer.
fn status(answer: &str) -> u16 {
    answer
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP/1.1 status line: {answer:?}"))
}

/// The JSON body of a raw answer with `Content-Length`.
fn body_json(answer: &str) -> Value {
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {answer}"))
}

/// `anyray_relay_upstream_connect_errors_total` summed over the gateways.
fn connect_errors(metrics: &str) -> u64 {
    metrics
        .lines()
        .filter(|l| l.starts_with("anyray_relay_upstream_connect_errors_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn options_star_gets_a_400_and_never_reaches_a_gateway_or_its_health() {
    bounded(async {
        let gw = fake(FakeConfig::default()).await;
        let provider = fake(FakeConfig::default()).await;
        let relay = relay(guarded(&gw, &provider)).await;
        let host = relay.local_addr();
        for host in [host.to_string(), "x".to_string()] {
            for _ in 0..10 {
                let answer = exchange(
                    &relay,
                    &format!("OPTIONS * HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
                )
                .await;
                assert_eq!(status(&answer), 400, "{answer}");
                let v = body_json(&answer);
                assert_eq!(v["error"]["type"], "anyray_bad_request", "{v}");
                assert!(
                    v["error"]["message"]
                        .as_str()
                        .unwrap()
                        .contains("not a path"),
                    "{v}"
                );
            }
        }
        // Authority-form is a proxy request, refused the same way.
        let answer = exchange(
            &relay,
            &format!("GET 127.0.0.1:80 HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
        )
        .await;
        assert_eq!(status(&answer), 400, "{answer}");
        assert!(answer.contains("not an HTTP proxy"), "{answer}");

        assert!(gw.requests().is_empty() && provider.requests().is_empty());
        let h = health(&relay).await;
        assert_eq!(h["upstreams"][0]["state"], "unknown", "{h}");
        assert!(h["upstreams"][0]["last_error"].is_null(), "{h}");
        assert_eq!(connect_errors(&metrics(&relay).await), 0);
        // The gateway serves the next real request.
        let resp = send(relay.url(), "GET", "/v1/models", None, &[]).await;
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(gw.requests()[0].header("x-anyray-key"), Some(KEY));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_rebinding_and_cross_origin_requests_are_refused_with_a_403() {
    bounded(async {
        let gw = fake(FakeConfig::default()).await;
        let provider = fake(FakeConfig::default()).await;
        let relay = relay(guarded(&gw, &provider)).await;
        let port = relay.local_addr().port();
        let own = format!("127.0.0.1:{port}");
        let rebind = format!("rebind.attacker.example:{port}");
        let post = |path: &str, headers: &[(&str, String)]| {
            let mut text = format!("POST {path} HTTP/1.1\r\n");
            for (name, value) in headers {
                text.push_str(&format!("{name}: {value}\r\n"));
            }
            text.push_str(
                "Content-Type: text/plain\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx",
            );
            text
        };
        let refused: Vec<(&str, String, &str)> = vec![
            // The finding: a page on a rebound name, its own Origin.
            (
                "/v1/chat/completions",
                post(
                    "/v1/chat/completions",
                    &[
                        ("Host", rebind.clone()),
                        ("Origin", format!("http://{rebind}")),
                    ],
                ),
                "Host header does not name this relay",
            ),
            (
                "/v1/messages",
                post("/v1/messages", &[("Host", rebind.clone())]),
                "Host header",
            ),
            (
                "/v1/chat/completions",
                post("/v1/chat/completions", &[("Host", "127.0.0.1".into())]),
                "Host header",
            ),
            (
                "/v1/chat/completions",
                post(
                    "/v1/chat/completions",
                    &[
                        ("Host", own.clone()),
                        ("Origin", "https://evil.example".into()),
                    ],
                ),
                "cross-origin",
            ),
            (
                "/v1/chat/completions",
                post(
                    "/v1/chat/completions",
                    &[("Host", own.clone()), ("Origin", "null".into())],
                ),
                "cross-origin",
            ),
            (
                "/v1/chat/completions",
                post(
                    "/v1/chat/completions",
                    // Another local dev server: same site, other origin.
                    &[
                        ("Host", own.clone()),
                        ("Origin", "http://localhost:3000".into()),
                    ],
                ),
                "cross-origin",
            ),
            (
                "/v1/chat/completions",
                post(
                    "/v1/chat/completions",
                    &[
                        ("Host", own.clone()),
                        ("Sec-Fetch-Site", "cross-site".into()),
                    ],
                ),
                "Sec-Fetch-Site",
            ),
            (
                "/v1/chat/completions",
                post(
                    "/v1/chat/completions",
                    &[
                        ("Host", own.clone()),
                        ("Sec-Fetch-Site", "same-site".into()),
                    ],
                ),
                "Sec-Fetch-Site",
            ),
            (
                "/v1/chat/completions",
                format!(
                    "OPTIONS /v1/chat/completions HTTP/1.1\r\nHost: {own}\r\n\
                     Origin: http://evil.example\r\nAccess-Control-Request-Method: POST\r\n\
                     Connection: close\r\n\r\n"
                ),
                "CORS preflight",
            ),
            (
                "/_anyray/health",
                format!(
                    "GET /_anyray/health HTTP/1.1\r\nHost: {rebind}\r\nConnection: close\r\n\r\n"
                ),
                "Host header",
            ),
        ];
        for (path, request, why) in &refused {
            let answer = exchange(&relay, request).await;
            assert_eq!(status(&answer), 403, "{request}\n{answer}");
            assert!(answer.contains("x-anyray-relay: error"), "{answer}");
            let v = body_json(&answer);
            // The route's SDK shape: Anthropic's for /v1/messages, OpenAI's otherwise.
            let message = if *path == "/v1/messages" {
                assert_eq!(v["error"]["type"], "permission_error", "{v}");
                &v["error"]["message"]
            } else {
                assert_eq!(v["error"]["code"], "anyray_forbidden", "{v}");
                &v["error"]["message"]
            };
            assert!(message.as_str().unwrap().contains(why), "{why}: {v}");
        }
        assert!(gw.requests().is_empty(), "{:?}", gw.requests());
        assert!(provider.requests().is_empty());

        // What the user's own tools send still goes through, with the key.
        let allowed = [
            vec![("Host", own.clone())],
            vec![("Host", format!("localhost:{port}"))],
            vec![("Host", format!("[::1]:{port}"))],
            vec![("Host", own.clone()), ("Origin", format!("http://{own}"))],
            vec![
                ("Host", own.clone()),
                ("Sec-Fetch-Site", "same-origin".into()),
            ],
            vec![("Host", own.clone()), ("Sec-Fetch-Site", "none".into())],
        ];
        for headers in &allowed {
            let answer = exchange(&relay, &post("/v1/chat/completions", headers)).await;
            assert_eq!(status(&answer), 200, "{headers:?}\n{answer}");
        }
        let seen = gw.requests();
        assert_eq!(seen.len(), allowed.len());
        assert!(seen.iter().all(|r| r.header("x-anyray-key") == Some(KEY)));
        assert_eq!(health(&relay).await["upstreams"][0]["state"], "up");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_reached_under_another_name_needs_it_in_allowed_hosts() {
    bounded(async {
        let gw = fake(FakeConfig::default()).await;
        let mut cfg = config(&[gw.url()]);
        cfg.allowed_hosts = vec!["devbox.corp.example".into()];
        let relay = relay(cfg).await;
        let port = relay.local_addr().port();
        for (host, expected) in [
            (format!("devbox.corp.example:{port}"), 200),
            (format!("DEVBOX.corp.example:{port}"), 200),
            (format!("devbox.corp.example:{}", port.wrapping_add(1)), 403),
            (format!("other.corp.example:{port}"), 403),
        ] {
            let answer = exchange(
                &relay,
                &format!("GET /v1/models HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
            )
            .await;
            assert_eq!(status(&answer), expected, "{host}: {answer}");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_gateway_that_comes_back_serves_the_first_request_after() {
    bounded(async {
        let gw = fake(FakeConfig::default()).await;
        let cfg = config(&[gw.url()]);
        assert!(
            cfg.retry_interval >= Duration::from_secs(5),
            "a real backoff"
        );
        let relay = relay(cfg).await;
        let ask = || {
            send(
                relay.url(),
                "POST",
                "/v1/chat/completions",
                Some(json!({})),
                &[],
            )
        };
        assert_eq!(ask().await.status(), StatusCode::OK);

        // The gateway stops (its port refuses connections, and stays its own, so no
        // other server on this machine can answer there meanwhile): requests fail, and
        // it is marked down with a backoff.
        gw.refuse_and_close().await;
        for _ in 0..3 {
            let resp = ask().await;
            assert_eq!(resp.status(), StatusCode::BAD_GATEWAY);
            let v = json_of(resp).await;
            assert_eq!(v["error"]["type"], "anyray_gateway_unreachable", "{v}");
        }
        let h = health(&relay).await;
        assert_eq!(h["upstreams"][0]["state"], "down", "{h}");
        assert!(
            h["upstreams"][0]["retry_in_ms"].as_u64().unwrap() > 1000,
            "{h}"
        );

        // It is back on the same port: the very next request is served by it.
        gw.clear_requests();
        gw.set_fault(Fault::None);
        let resp = ask().await;
        assert_eq!(resp.status(), StatusCode::OK);
        let _ = bytes_of(resp).await;
        assert_eq!(gw.requests().len(), 1);
        assert_eq!(health(&relay).await["upstreams"][0]["state"], "up");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_open_only_while_the_gateway_fails_now() {
    bounded(async {
        let gw = fake(FakeConfig::default()).await;
        let provider = fake(FakeConfig::default()).await;
        let relay = relay(guarded(&gw, &provider)).await;
        let ask = || send(relay.url(), "POST", "/v1/messages", Some(json!({})), &[]);
        gw.refuse_and_close().await;
        let resp = ask().await;
        assert_eq!(resp.headers()["x-anyray-relay"], "fail-open");
        let _ = bytes_of(resp).await;
        assert_eq!(provider.requests().len(), 1);
        // Back (same port): the gateway, not the public API, gets the next request, well
        // within the backoff.
        gw.set_fault(Fault::None);
        let resp = ask().await;
        assert_eq!(resp.status(), StatusCode::OK);
        assert!(resp.headers().get("x-anyray-relay").is_none());
        let _ = bytes_of(resp).await;
        assert_eq!(gw.requests().len(), 1);
        assert_eq!(provider.requests().len(), 1);
        assert!(
            metrics(&relay)
                .await
                .contains("anyray_relay_fail_open_total 1")
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_every_gateway_is_down_the_first_one_back_serves() {
    bounded(async {
        let (_a, a) = dead_upstream();
        let b = fake(FakeConfig::default()).await;
        let relay = relay(config(&[a.clone(), b.url()])).await;
        b.refuse_and_close().await;
        let resp = send(relay.url(), "GET", "/v1/models", None, &[]).await;
        assert_eq!(resp.status(), StatusCode::BAD_GATEWAY);
        let h = health(&relay).await;
        assert_eq!(h["upstreams"][0]["state"], "down", "{h}");
        assert_eq!(h["upstreams"][1]["state"], "down", "{h}");
        b.set_fault(Fault::None);
        let resp = send(relay.url(), "GET", "/v1/models", None, &[]).await;
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(b.requests().len(), 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_malformed_requests_leaves_a_healthy_gateway_serving_without_fail_open() {
    bounded(async {
        let gw = fake(FakeConfig::default()).await;
        let provider = fake(FakeConfig::default()).await;
        let relay = relay(guarded(&gw, &provider)).await;
        let own = relay.local_addr().to_string();
        let ok = send(relay.url(), "GET", "/v1/models", None, &[]).await;
        assert_eq!(ok.status(), StatusCode::OK);
        let _ = bytes_of(ok).await;

        let pad = "a".repeat(70 * 1024);
        let malformed = [
            "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n".to_string(),
            format!("OPTIONS * HTTP/1.1\r\nHost: {own}\r\n\r\n"),
            format!("GET 127.0.0.1:80 HTTP/1.1\r\nHost: {own}\r\n\r\n"),
            "GET http://127.0.0.1:80/v1/models HTTP/1.1\r\nHost: 127.0.0.1:80\r\n\r\n".into(),
            "CONNECT 127.0.0.1:80 HTTP/1.1\r\nHost: 127.0.0.1:80\r\n\r\n".into(),
            "GET /v1/models HTTP/1.1\r\nHost: rebind.attacker.example\r\n\r\n".into(),
            "GET /v1/models HTTP/1.1\r\n\r\n".into(),
            format!("GET /v1/models HTTP/1.1\r\nHost: {own}\r\nHost: evil.example\r\n\r\n"),
            format!("GET /v1/models HTTP/1.1\r\nHost: {own}\r\nOrigin: null\r\n\r\n"),
            format!(
                "OPTIONS /v1/models HTTP/1.1\r\nHost: {own}\r\nAccess-Control-Request-Method: GET\r\n\r\n"
            ),
            format!(
                "POST /v1/messages HTTP/1.1\r\nHost: {own}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"
            ),
            format!("GET /v1/models HTTP/1.1\r\nHost: {own}\r\nX-Pad: {pad}\r\n\r\n"),
            format!("GET /v1/models HTTP/1.1\r\nHost: {own}\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
            "GET /a b HTTP/1.1\r\n\r\n".into(),
            "\u{1}\u{2}garbage\r\n\r\n".into(),
        ];
        // Five rounds, each request on its own connection, all at once.
        let addr = relay.local_addr();
        let mut burst = tokio::task::JoinSet::new();
        for _ in 0..5 {
            for request in &malformed {
                let request = request.clone();
                burst.spawn(async move { (first_line(addr, request.clone()).await, request) });
            }
        }
        while let Some(done) = burst.join_next().await {
            let (line, request) = done.unwrap();
            // A status, or a connection closed on garbage: never a forwarded answer.
            if let Some(line) = line {
                assert!(
                    ["400", "403", "431"].iter().any(|s| line.starts_with(&format!("HTTP/1.1 {s}"))),
                    "{request:.120}\n{line}"
                );
            }
        }
        let h = health(&relay).await;
        assert_eq!(h["upstreams"][0]["state"], "up", "{h}");
        assert!(h["upstreams"][0]["last_error"].is_null(), "{h}");
        assert!(h["last_fail_open"].is_null(), "{h}");
        assert_eq!(h["fail_open_total"], 0, "{h}");
        let m = metrics(&relay).await;
        assert_eq!(connect_errors(&m), 0, "{m}");
        assert!(m.contains("anyray_relay_fail_open_total 0"), "{m}");
        assert!(m.contains("anyray_relay_last_fail_open_timestamp_seconds 0\n"), "{m}");
        assert!(provider.requests().is_empty(), "{:?}", provider.requests());
        assert_eq!(gw.requests().len(), 1, "only the good request reached the gateway");
        let resp = send(relay.url(), "POST", "/v1/messages", Some(json!({})), &[]).await;
        assert_eq!(resp.status(), StatusCode::OK);
        assert!(resp.headers().get("x-anyray-relay").is_none());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_headers_are_limited_to_64_kib() {
    bounded(async {
        let gw = fake(FakeConfig::default()).await;
        let relay = relay(config(&[gw.url()])).await;
        let own = relay.local_addr();
        let with_pad = |n: usize| {
            format!(
                "GET /v1/models HTTP/1.1\r\nHost: {own}\r\nX-Pad: {}\r\nConnection: close\r\n\r\n",
                "a".repeat(n)
            )
        };
        assert_eq!(status(&exchange(&relay, &with_pad(63 * 1024)).await), 200);
        for n in [65 * 1024, 100_000, 1024 * 1024] {
            let answer = exchange(&relay, &with_pad(n)).await;
            assert_eq!(status(&answer), 431, "{n} bytes: {answer:.200}");
        }
        // Also as many small headers (hyper's count limit is 100).
        let many: String = (0..101).map(|i| format!("X-H{i}: v\r\n")).collect();
        let answer = exchange(
            &relay,
            &format!("GET /v1/models HTTP/1.1\r\nHost: {own}\r\n{many}Connection: close\r\n\r\n"),
        )
        .await;
        assert_eq!(status(&answer), 431, "{answer}");
        assert_eq!(gw.requests().len(), 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smuggling_variants_never_desync_the_gateway() {
    bounded(async {
        let gw = fake(FakeConfig::default()).await;
        let relay = relay(config(&[gw.url()])).await;
        let own = relay.local_addr();
        let start = format!("POST /v1/chat/completions HTTP/1.1\r\nHost: {own}\r\n");
        let smuggled = format!("GET /smuggled HTTP/1.1\r\nHost: {own}\r\n\r\n");
        // Ambiguous or malformed framing: refused before anything goes upstream.
        let refused = [
            "Content-Length: 2\r\nContent-Length: 40\r\n\r\n{}",
            "Content-Length: 2, 40\r\n\r\n{}",
            "Content-Length: +2\r\n\r\n{}",
            "Content-Length: -1\r\n\r\n{}",
            "Transfer-Encoding : chunked\r\nContent-Length: 2\r\n\r\n{}",
            "Transfer-Encoding: xchunked\r\nContent-Length: 2\r\n\r\n{}",
            "Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
            "Transfer-Encoding:\r\n chunked\r\nContent-Length: 2\r\n\r\n{}",
            " Transfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n{}",
            "X-A: a\rb\r\nContent-Length: 2\r\n\r\n{}",
            "X-A: a\u{0}b\r\nContent-Length: 2\r\n\r\n{}",
            "Transfer-Encoding: chunked\r\n\r\n0x2\r\n{}\r\n0\r\n\r\n",
            "Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFF1\r\n{}\r\n0\r\n\r\n",
            "Transfer-Encoding: chunked\r\n\r\n2;x\n{}\r\n0\r\n\r\n",
        ];
        for tail in refused {
            let answer = exchange(&relay, &format!("{start}{tail}{smuggled}")).await;
            assert_eq!(status(&answer), 400, "{tail:?}: {answer}");
            assert_eq!(answer.matches("HTTP/1.1 ").count(), 1, "{tail:?}: {answer}");
        }
        let http10 = format!(
            "POST /v1/chat/completions HTTP/1.0\r\nHost: {own}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n{smuggled}"
        );
        assert_eq!(status(&exchange(&relay, &http10).await), 400);
        assert!(gw.requests().is_empty(), "{:?}", gw.requests());

        // Content-Length and Transfer-Encoding together: chunked wins (RFC 9112 §6.3), the
        // gateway gets one request re-framed by the relay, and the connection closes, so
        // what followed is never read as a request.
        for (tail, body_len) in [
            ("Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 0),
            (
                "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n",
                8,
            ),
        ] {
            gw.clear_requests();
            let answer = exchange(&relay, &format!("{start}{tail}{smuggled}")).await;
            assert_eq!(status(&answer), 200, "{tail:?}: {answer}");
            assert_eq!(answer.matches("HTTP/1.1 ").count(), 1, "{answer}");
            let seen = gw.requests();
            assert_eq!(seen.len(), 1, "{seen:?}");
            assert_eq!(seen[0].path, "/v1/chat/completions");
            assert_eq!(seen[0].body_len, body_len);
        }
        assert!(gw.requests().iter().all(|r| r.path != "/smuggled"));
        assert_eq!(health(&relay).await["upstreams"][0]["last_error"], Value::Null);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn path_tricks_stay_on_the_gateway() {
    bounded(async {
        let gw = fake(FakeConfig::default()).await;
        let provider = fake(FakeConfig::default()).await;
        let mut cfg = guarded(&gw, &provider);
        cfg.upstreams = vec![url(&format!("{}/llm", gw.url()))];
        let relay = relay(cfg).await;
        let own = relay.local_addr();
        for path in [
            "//evil.example/v1/models",
            "/@evil.example/v1/models",
            "/:80/v1/models",
            "/v1/../../../etc/passwd",
            "/v1/%2e%2e/%2e%2e/x",
            "/v1/models/..%2f..%2f_anyray%2fhealth",
            "/v1/_anyray/health",
            "/v1/models?x=http://evil.example/",
        ] {
            gw.clear_requests();
            let answer = exchange(
                &relay,
                &format!("GET {path} HTTP/1.1\r\nHost: {own}\r\nConnection: close\r\n\r\n"),
            )
            .await;
            assert!(answer.starts_with("HTTP/1.1 "), "{path}: {answer}");
            assert!(!answer.contains("x-anyray-relay"), "{path}: {answer}");
            let seen = gw.requests();
            assert_eq!(seen.len(), 1, "{path}");
            let (p, q) = path
                .split_once('?')
                .map_or((path, None), |(p, q)| (p, Some(q)));
            assert_eq!(seen[0].path, format!("/llm{p}"), "{path}");
            assert_eq!(seen[0].query.as_deref(), q, "{path}");
            assert_eq!(seen[0].header("host"), Some(&*gw.addr().to_string()));
        }
        // Paths under the relay's own prefix are the relay's, never forwarded.
        gw.clear_requests();
        let answer = exchange(
            &relay,
            &format!(
                "GET /_anyray/../v1/models HTTP/1.1\r\nHost: {own}\r\nConnection: close\r\n\r\n"
            ),
        )
        .await;
        assert_eq!(status(&answer), 404, "{answer}");
        // A target that is not a valid URI never gets that far.
        let answer = exchange(
            &relay,
            &format!("GET /v1/mo dels HTTP/1.1\r\nHost: {own}\r\nConnection: close\r\n\r\n"),
        )
        .await;
        assert_eq!(status(&answer), 400, "{answer}");
        assert!(gw.requests().is_empty() && provider.requests().is_empty());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hop_by_hop_and_proxy_headers_never_reach_the_gateway() {
    bounded(async {
        let gw = fake(FakeConfig::default()).await;
        let relay = relay(config(&[gw.url()])).await;
        let own = relay.local_addr();
        let answer = exchange(
            &relay,
            &format!(
                "GET /v1/models HTTP/1.1\r\nHost: {own}\r\n\
                 Connection: close, x-private, HTTP2-Settings, Upgrade\r\nUpgrade: h2c\r\n\
                 HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\nX-Private: 1\r\nTE: trailers\r\n\
                 Keep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\n\
                 Proxy-Authorization: Basic dXNlcjpwYXNz\r\nX-Kept: yes\r\n\r\n"
            ),
        )
        .await;
        assert_eq!(status(&answer), 200, "{answer}");
        let seen = gw.requests().pop().unwrap();
        for name in [
            "upgrade",
            "http2-settings",
            "x-private",
            "te",
            "keep-alive",
            "proxy-connection",
            "proxy-authorization",
        ] {
            assert_eq!(seen.header(name), None, "{name} reached the gateway");
        }
        assert_eq!(seen.header("x-kept"), Some("yes"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_anywhere_in_a_request_never_reaches_the_log_metrics_or_health() {
    bounded(async {
        // Spelled in lower case everywhere, percent-encoded where noted; the check looks
        // for its tail, so an encoded or decoded form would be caught too.
        const SECRET: &str = "sk-canary-7f3a9e";
        const TAIL: &str = "anary-7f3a9e";
        let gw = fake(FakeConfig {
            text: format!("answer {SECRET}"),
            ..FakeConfig::default()
        })
        .await;
        for format in [LogFormat::Human, LogFormat::Json] {
            let (_dir, log) = temp_log();
            let mut cfg = config(&[gw.url()]);
            cfg.log = LogTarget::File(log.clone());
            cfg.log_format = format;
            cfg.identity = Some(Identity::new(Scheme::Header, "x-anyray-key", Secret::new(SECRET)).unwrap());
            let relay = relay(cfg).await;
            let own = relay.local_addr();
            let targets = [
                format!("/{SECRET}"),
                format!("/{SECRET}/v1/models"),
                format!("/v1/{SECRET}"),
                format!("/v1/chat/{SECRET}"),
                format!("/v1/responses/{SECRET}"),
                format!("/v1/models/{SECRET}"),
                format!("/gemini/v1beta/models/{SECRET}:generateContent"),
                format!("/gemini/{SECRET}/models"),
                format!("/bedrock/model/{SECRET}/invoke"),
                format!("/_anyray/{SECRET}"),
                format!("/v1/chat/completions;key={SECRET}"),
                format!("/v1;{SECRET}/models"),
                format!("/v1/models?{SECRET}"),
                format!("/v1/models?key={SECRET}"),
                format!("/v1/models?{SECRET}=1"),
                format!("/v1/models?key%3D{SECRET}"),
                "/v1/models?key%3Dsk-c%61nary-7f3a9e".to_string(),
                format!("/v1/models?beta=true&{SECRET}&alt={SECRET}"),
                format!("/v1/models?%6Bey={SECRET}#{SECRET}"),
            ];
            for target in &targets {
                let target = target.split('#').next().unwrap();
                let request = format!(
                    "POST {target} HTTP/1.1\r\nHost: {own}\r\nAuthorization: Bearer {SECRET}\r\n\
                     x-api-key: {SECRET}\r\nx-goog-api-key: {SECRET}\r\nx-{SECRET}: 1\r\n\
                     Cookie: s={SECRET}\r\nContent-Type: application/json\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{{\"prompt\":\"{SECRET}\"}}",
                    SECRET.len() + 13
                );
                let answer = exchange(&relay, &request).await;
                assert!(answer.starts_with("HTTP/1.1 "), "{target}: {answer}");
            }
            // An extension method, and requests the relay refuses, are logged too.
            let method = SECRET.to_uppercase();
            let _ = exchange(
                &relay,
                &format!("{method} /v1/models HTTP/1.1\r\nHost: {own}\r\nConnection: close\r\n\r\n"),
            )
            .await;
            let _ = exchange(
                &relay,
                &format!(
                    "GET /v1/{SECRET} HTTP/1.1\r\nHost: {SECRET}.example\r\nOrigin: http://{SECRET}\r\nConnection: close\r\n\r\n"
                ),
            )
            .await;
            assert!(gw.requests().iter().any(|r| r.header("x-anyray-key") == Some(SECRET)));
            let m = metrics(&relay).await;
            let h = health(&relay).await.to_string();
            relay.shutdown().await;
            let text = std::fs::read_to_string(&log).unwrap();
            let requests = text
                .lines()
                .filter(|l| !l.contains("listening") && !l.contains("stopp"))
                .count();
            // Each target, the extension method, the refused one, metrics and health.
            assert_eq!(requests, targets.len() + 4, "every request is logged:\n{text}");
            for (what, haystack) in [("log", &text), ("metrics", &m), ("health", &h)] {
                assert!(
                    !haystack.to_lowercase().contains(TAIL),
                    "{what} ({format:?}) holds the secret:\n{haystack}"
                );
            }
            // What the log does show for them.
            for shown in [
                "/v1/…",
                "/…",
                "/v1/models/{model}",
                "/gemini/{version}/models/{model}:generateContent",
                "/bedrock/model/{model}/invoke",
                "/_anyray/…",
                "/v1/chat/completions",
                "/v1/models?…",
                "/v1/models?key",
                "/v1/models?beta&…&alt",
                "OTHER",
            ] {
                assert!(text.contains(shown), "{shown} not in ({format:?}):\n{text}");
            }
            gw.clear_requests();
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_idle_and_half_sent_connections_at_once() {
    bounded(async {
        let gw = fake(FakeConfig::default()).await;
        let relay = relay(config(&[gw.url()])).await; // header timeout 10 s, grace 10 s
        let own = relay.local_addr();
        // An idle keep-alive connection after one request, a new one with nothing sent,
        // one that sent half a request head (the case hyper alone waits 10 s for), and
        // one idle after a request that sent half of the next.
        let mut idle = raw(
            &relay,
            &format!("GET /v1/models HTTP/1.1\r\nHost: {own}\r\n\r\n"),
        )
        .await;
        let mut first = [0u8; 64];
        let _ = tokio::io::AsyncReadExt::read(&mut idle, &mut first)
            .await
            .unwrap();
        let empty = raw(&relay, "").await;
        let half = raw(
            &relay,
            &format!("POST /v1/messages HTTP/1.1\r\nHost: {own}\r\nX-"),
        )
        .await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        let started = Instant::now();
        relay.shutdown().await;
        let took = started.elapsed();
        assert!(took < Duration::from_secs(1), "shutdown took {took:?}");
        drop((idle, empty, half));
    })
    .await;
}
