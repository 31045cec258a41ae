//! The relay engine in-process (`Relay::bind` on 127.0.0.1:0) against the fake org
//! gateway. Loopback only; every test is bounded in time.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyray::auth::Scheme;
use anyray::relay::{Fallback, LogFormat};
use anyray::relay::{Identity, LogTarget, Relay};
use anyray::secrets::Secret;
use bytes::Bytes;
use fake_gateway::{FakeConfig, Fault};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde_json::{Value, json};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::time::timeout;

use crate::relay_support;

use relay_support::{
    Chunks, bounded, bytes_of, client, dead_upstream, eventually, fake, health, json_of, metrics,
    raw, read_all, relay, relay_config as config, send, temp_log, url,
};

/// Ids and timestamps differ between two calls; every other byte must not.
fn without_digits(b: &[u8]) -> String {
    let text = String::from_utf8_lossy(b);
    let mut out = String::with_capacity(text.len());
    let mut in_digits = false;
    for c in text.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                out.push('#');
            }
            in_digits = true;
        } else {
            out.push(c);
            in_digits = false;
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_and_sse_bytes_match_going_direct_for_openai_and_anthropic() {
    bounded(async {
        let gw = fake(FakeConfig::default()).await;
        let relay = relay(config(&[gw.url()])).await;
        for path in ["/v1/chat/completions", "/v1/responses", "/v1/messages"] {
            for stream in [false, true] {
                let body = json!({"model": "fake-model", "stream": stream,
                                  "messages": [{"role": "user", "content": "hi"}]});
                let direct = send(&gw.url(), "POST", path, Some(body.clone()), &[]).await;
                let via = send(relay.url(), "POST", path, Some(body), &[]).await;
                assert_eq!(via.status(), direct.status(), "{path} stream={stream}");
                assert_eq!(
                    via.headers().get("content-type"),
                    direct.headers().get("content-type"),
                    "{path} stream={stream}"
                );
                assert!(via.headers().get("x-anyray-relay").is_none());
                let (direct, via) = (bytes_of(direct).await, bytes_of(via).await);
                assert_eq!(via.len(), direct.len(), "{path} stream={stream}");
                assert_eq!(
                    without_digits(&via),
                    without_digits(&direct),
                    "{path} stream={stream}"
                );
                if stream && path == "/v1/messages" {
                    let text = String::from_utf8_lossy(&via);
                    assert!(text.starts_with("event: message_start\ndata: "), "{text}");
                    assert!(text.contains("event: content_block_delta\n"));
                }
            }
        }
        // Host is rewritten for the upstream.
        let last = gw.requests().pop().unwrap();
        assert_eq!(last.header("host"), Some(gw.addr().to_string().as_str()));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_urls_path_prefix_is_kept() {
    bounded(async {
        let gw = fake(FakeConfig::default()).await;
        let relay = relay(config(&[format!("{}/llm/", gw.url())])).await;
        let resp = send(relay.url(), "GET", "/v1/models?limit=5", None, &[]).await;
        let _ = bytes_of(resp).await;
        let seen = gw.requests().pop().unwrap();
        assert_eq!(seen.path, "/llm/v1/models");
        assert_eq!(seen.query.as_deref(), Some("limit=5"));
    })
    .await;
}

/// An upstream that answers fixed gzip bytes: the relay must pass them on as they are.
async fn gzip_upstream() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(|req: Request<Incoming>| async move {
                    let hop = req.headers().get("x-hop").is_some();
                    let mut resp = Response::new(Full::new(Bytes::from_static(GZIP)));
                    let h = resp.headers_mut();
                    h.insert("content-encoding", "gzip".parse().unwrap());
                    h.insert("content-type", "application/json".parse().unwrap());
                    h.insert("x-saw-hop-header", hop.to_string().parse().unwrap());
                    Ok::<_, Infallible>(resp)
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    addr
}

/// `{"error":"boom"}` gzipped: not valid UTF-8, and wrong if anyone decodes it.
const GZIP: &[u8] = &[
    0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xab, 0x56, 0x4a, 0x2d, 0x2a, 0xca,
    0x2f, 0x52, 0xb2, 0x52, 0x4a, 0xca, 0xcf, 0xcf, 0x55, 0xaa, 0x05, 0x00, 0x9c, 0x5b, 0x3c, 0x6f,
    0x10, 0x00, 0x00, 0x00,
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compressed_bodies_and_encodings_pass_untouched() {
    bounded(async {
        let up = gzip_upstream().await;
        let relay = relay(config(&[format!("http://{up}")])).await;
        let resp = send(
            relay.url(),
            "POST",
            "/v1/messages",
            Some(json!({})),
            &[
                ("accept-encoding", "gzip"),
                ("connection", "x-hop"),
                ("x-hop", "1"),
            ],
        )
        .await;
        assert_eq!(resp.headers()["content-encoding"], "gzip");
        assert_eq!(resp.headers()["x-saw-hop-header"], "false");
        assert_eq!(&bytes_of(resp).await[..], GZIP);
    })
    .await;
}

/// Data frames of a response with their arrival times.
async fn timed_frames(resp: Response<Incoming>) -> Vec<(Instant, Bytes)> {
    let mut body = resp.into_body();
    let mut frames = Vec::new();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.expect("frame").into_data() {
            frames.push((Instant::now(), data));
        }
    }
    frames
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_chunk_arrives_when_the_gateway_sends_it() {
    bounded(async {
        let gw = fake(FakeConfig {
            chunks: 4,
            chunk_delay: Duration::from_millis(150),
            ..FakeConfig::default()
        })
        .await;
        let relay = relay(config(&[gw.url()])).await;
        for path in ["/v1/chat/completions", "/v1/messages"] {
            let body = json!({"stream": true, "messages": []});
            let frames = timed_frames(send(relay.url(), "POST", path, Some(body), &[]).await).await;
            let deltas: Vec<Instant> = frames
                .iter()
                .filter(|(_, b)| {
                    let t = String::from_utf8_lossy(b);
                    t.contains("\"content\":\"") && !t.contains("\"content\":\"\"")
                        || t.contains("text_delta")
                })
                .map(|(at, _)| *at)
                .collect();
            assert_eq!(deltas.len(), 4, "{path}: {frames:?}");
            for pair in deltas.windows(2) {
                let gap = pair[1] - pair[0];
                // The gateway waits 150 ms between chunks; a buffering relay would
                // deliver them together at the end.
                assert!(gap >= Duration::from_millis(100), "{path}: gap {gap:?}");
            }
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_5_mb_request_body_streams_through() {
    bounded(async {
        let gw = fake(FakeConfig::default()).await;
        let relay = relay(config(&[gw.url()])).await;
        let size = 5 * 1024 * 1024;
        let req = Request::post(format!("{}/v1/messages", relay.url()))
            .body(Chunks { left: size }.boxed())
            .unwrap();
        let resp = client().request(req).await.expect("request");
        assert_eq!(resp.status(), StatusCode::OK);
        let _ = bytes_of(resp).await;
        assert_eq!(gw.requests().last().unwrap().body_len, size);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_gateway_fails_over_to_the_next_and_is_then_skipped() {
    bounded(async {
        let first = fake(FakeConfig {
            fault: Fault::Refuse,
            ..FakeConfig::default()
        })
        .await;
        let second = fake(FakeConfig::default()).await;
        let relay = relay(config(&[first.url(), second.url()])).await;
        let resp = send(
            relay.url(),
            "POST",
            "/v1/chat/completions",
            Some(json!({})),
            &[],
        )
        .await;
        assert_eq!(resp.status(), StatusCode::OK);
        let _ = bytes_of(resp).await;
        assert_eq!(second.requests().len(), 1);

        let h = health(&relay).await;
        assert_eq!(h["upstreams"][0]["state"], "down", "{h}");
        assert!(
            h["upstreams"][0]["last_error"]
                .as_str()
                .unwrap()
                .contains("refused"),
            "{h}"
        );
        assert_eq!(h["upstreams"][1]["state"], "up", "{h}");

        // Within the retry interval the dead gateway is not tried first, even once it
        // listens again.
        first.set_fault(Fault::None);
        let resp = send(
            relay.url(),
            "POST",
            "/v1/chat/completions",
            Some(json!({})),
            &[],
        )
        .await;
        assert_eq!(resp.status(), StatusCode::OK);
        let _ = bytes_of(resp).await;
        assert!(first.requests().is_empty());
        assert_eq!(second.requests().len(), 2);
        let m = metrics(&relay).await;
        let needle = format!(
            "anyray_relay_upstream_connect_errors_total{{upstream=\"{}\"}} 1",
            first.url()
        );
        assert!(m.contains(&needle), "{m}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recovered_gateway_is_tried_again_after_the_retry_interval() {
    bounded(async {
        let first = fake(FakeConfig {
            fault: Fault::Refuse,
            ..FakeConfig::default()
        })
        .await;
        let second = fake(FakeConfig::default()).await;
        let mut cfg = config(&[first.url(), second.url()]);
        cfg.retry_interval = Duration::from_millis(200);
        let relay = relay(cfg).await;
        let _ = bytes_of(send(relay.url(), "GET", "/v1/models", None, &[]).await).await;
        first.set_fault(Fault::None);
        tokio::time::sleep(Duration::from_millis(300)).await;
        let _ = bytes_of(send(relay.url(), "GET", "/v1/models", None, &[]).await).await;
        assert_eq!(first.requests().len(), 1);
        assert_eq!(health(&relay).await["upstreams"][0]["state"], "up");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_gateways_down_without_fallback_is_a_502_in_each_sdks_shape() {
    bounded(async {
        let ((_a, a), (_b, b)) = (dead_upstream(), dead_upstream());
        let relay = relay(config(&[a.clone(), b.clone()])).await;

        let resp = send(
            relay.url(),
            "POST",
            "/v1/chat/completions",
            Some(json!({})),
            &[],
        )
        .await;
        assert_eq!(resp.status(), StatusCode::BAD_GATEWAY);
        assert_eq!(resp.headers()["x-anyray-relay"], "error");
        assert_eq!(resp.headers()["content-type"], "application/json");
        let v = json_of(resp).await;
        assert_eq!(v["error"]["type"], "anyray_gateway_unreachable", "{v}");
        let msg = v["error"]["message"].as_str().unwrap();
        assert!(msg.contains(&a) && msg.contains(&b), "{msg}");
        assert!(msg.contains("anyray doctor"), "{msg}");

        // Both are marked down now, and tried again anyway: still a prompt, well-formed answer.
        let resp = send(relay.url(), "POST", "/v1/messages", Some(json!({})), &[]).await;
        assert_eq!(resp.status(), StatusCode::BAD_GATEWAY);
        let v = json_of(resp).await;
        assert_eq!(v["type"], "error", "{v}");
        assert_eq!(v["error"]["type"], "api_error", "{v}");
        let msg = v["error"]["message"].as_str().unwrap();
        assert!(msg.contains(&a) && msg.contains("anyray doctor"), "{msg}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_goes_to_the_gateway_only_and_fail_open_is_marked() {
    bounded(async {
        let gw = fake(FakeConfig {
            require_identity: Some("sk-anyray-user".into()),
            ..FakeConfig::default()
        })
        .await;
        let provider = fake(FakeConfig::default()).await;
        let mut cfg = config(&[gw.url()]);
        cfg.fallback = Fallback::Direct;
        cfg.providers.openai = url(&provider.url());
        cfg.providers.anthropic = url(&provider.url());
        cfg.identity = Some(
            Identity::new(
                Scheme::Header,
                "x-anyray-key",
                Secret::new("sk-anyray-user"),
            )
            .unwrap(),
        );
        let relay = relay(cfg).await;

        // Toward the gateway the key is added, replacing whatever the client sent.
        let resp = send(
            relay.url(),
            "POST",
            "/v1/messages",
            Some(json!({})),
            &[
                ("x-anyray-key", "client-value"),
                ("x-api-key", "sk-ant-user"),
            ],
        )
        .await;
        assert_eq!(resp.status(), StatusCode::OK);
        let _ = bytes_of(resp).await;
        let seen = gw.requests().pop().unwrap();
        assert_eq!(seen.header("x-anyray-key"), Some("sk-anyray-user"));
        assert_eq!(seen.header("x-api-key"), Some("sk-ant-user"));

        // Gateway down: the provider's public API answers, without any identity header.
        // (The gateway is plain http://, so the fast path takes these requests, cannot
        // connect and hands them to the hyper path, which fails open and counts them.)
        gw.refuse_and_close().await;
        for path in ["/v1/messages", "/v1/chat/completions"] {
            let resp = send(
                relay.url(),
                "POST",
                path,
                Some(json!({"stream": true})),
                &[
                    ("x-anyray-key", "client-value"),
                    ("authorization", "Bearer sk-user"),
                ],
            )
            .await;
            assert_eq!(resp.status(), StatusCode::OK, "{path}");
            assert_eq!(resp.headers()["x-anyray-relay"], "fail-open");
            assert!(String::from_utf8_lossy(&bytes_of(resp).await).contains("data: "));
            let seen = provider.requests().pop().unwrap();
            assert_eq!(seen.path, path);
            assert_eq!(seen.header("x-anyray-key"), None, "{path}");
            assert_eq!(seen.header("authorization"), Some("Bearer sk-user"));
        }
        let m = metrics(&relay).await;
        assert!(m.contains("anyray_relay_fail_open_total 2"), "{m}");
        assert!(
            !m.contains("anyray_relay_last_fail_open_timestamp_seconds 0\n"),
            "{m}"
        );
        // The status line reads this: the last answer came from a provider, unmetered.
        let h = health(&relay).await;
        assert_eq!(h["fail_open_total"], 2, "{h}");
        let (failed_open, gateway) = (&h["last_fail_open"], &h["last_gateway_answer"]);
        assert!(
            failed_open.as_u64().unwrap() >= gateway.as_u64().unwrap(),
            "{h}"
        );
        // A route without a public API still gets a clear 502.
        let resp = send(
            relay.url(),
            "POST",
            "/bedrock/model/x/invoke",
            Some(json!({})),
            &[],
        )
        .await;
        assert_eq!(resp.status(), StatusCode::BAD_GATEWAY);
        let msg = json_of(resp).await["error"]["message"].to_string();
        assert!(msg.contains("no public API to fail open to"), "{msg}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_that_dies_midway_ends_in_an_error_and_the_relay_keeps_serving() {
    bounded(async {
        let gw = fake(FakeConfig {
            fault: Fault::CloseMidStream { after_chunks: 2 },
            ..FakeConfig::default()
        })
        .await;
        let relay = relay(config(&[gw.url()])).await;
        let resp = send(
            relay.url(),
            "POST",
            "/v1/messages",
            Some(json!({"stream": true})),
            &[],
        )
        .await;
        assert_eq!(resp.status(), StatusCode::OK);
        let mut body = resp.into_body();
        let mut saw_error = false;
        while let Some(frame) = body.frame().await {
            if frame.is_err() {
                saw_error = true;
                break;
            }
        }
        assert!(
            saw_error,
            "the client must see the stream break, not a clean end"
        );

        gw.set_fault(Fault::None);
        let resp = send(
            relay.url(),
            "POST",
            "/v1/messages",
            Some(json!({"stream": true})),
            &[],
        )
        .await;
        assert_eq!(resp.status(), StatusCode::OK);
        assert!(String::from_utf8_lossy(&bytes_of(resp).await).contains("message_stop"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_client_goes_away_the_upstream_request_is_dropped() {
    bounded(async {
        let gw = fake(FakeConfig {
            chunks: 50,
            chunk_delay: Duration::from_millis(100),
            ..FakeConfig::default()
        })
        .await;
        let relay = relay(config(&[gw.url()])).await;
        let body = r#"{"stream":true}"#;
        let mut s = raw(
            &relay,
            &format!(
                "POST /v1/messages HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\n\r\n{body}",
                relay.local_addr(),
                body.len()
            ),
        )
        .await;
        let mut first = [0u8; 256];
        let n = s.read(&mut first).await.unwrap();
        assert!(String::from_utf8_lossy(&first[..n]).starts_with("HTTP/1.1 200"));
        assert_eq!(gw.cancelled_streams(), 0);
        drop(s);
        let gone = Instant::now();
        assert!(
            eventually(Duration::from_secs(1), || gw.cancelled_streams() == 1).await,
            "the gateway's stream was not cancelled within 1 s"
        );
        assert!(gone.elapsed() <= Duration::from_secs(1));
        assert!(eventually(Duration::from_secs(1), || relay.in_flight() == 0).await);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_style_requests_are_refused() {
    bounded(async {
        let gw = fake(FakeConfig::default()).await;
        let relay = relay(config(&[gw.url()])).await;
        for request in [
            "GET http://example.com/v1/models HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n",
            "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nConnection: close\r\n\r\n",
        ] {
            let mut s = raw(&relay, request).await;
            let answer = read_all(&mut s).await;
            assert!(answer.starts_with("HTTP/1.1 400"), "{request}: {answer}");
            assert!(answer.contains("not an HTTP proxy"), "{answer}");
        }
        assert!(gw.requests().is_empty());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_get_a_413_in_the_routes_shape() {
    bounded(async {
        let gw = fake(FakeConfig::default()).await;
        let mut cfg = config(&[gw.url()]);
        cfg.max_body_bytes = 100_000;
        let relay = relay(cfg).await;
        // Declared too large: refused before anything goes upstream.
        let resp = send(
            relay.url(),
            "POST",
            "/v1/messages",
            Some(json!({"pad": "x".repeat(200_000)})),
            &[],
        )
        .await;
        assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let v = json_of(resp).await;
        assert_eq!(v["type"], "error");
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap()
                .contains("relay.max_body_mb")
        );
        assert!(gw.requests().is_empty());
        // Chunked, so only counted on the way: cut at the limit.
        let req = Request::post(format!("{}/v1/chat/completions", relay.url()))
            .body(Chunks { left: 400_000 }.boxed())
            .unwrap();
        let resp = client().request(req).await.expect("request");
        assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert!(json_of(resp).await["error"]["message"].is_string());
        assert!(gw.requests().iter().all(|r| r.body_len < 400_000));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slowloris_connection_is_closed_after_the_header_timeout() {
    bounded(async {
        let gw = fake(FakeConfig::default()).await;
        let mut cfg = config(&[gw.url()]);
        cfg.header_timeout = Duration::from_millis(300);
        let relay = relay(cfg).await;
        let slow = format!(
            "POST /v1/messages HTTP/1.1\r\nHost: {}\r\nX-Slow: ",
            relay.local_addr()
        );
        for partial in ["", "P", &slow] {
            let started = Instant::now();
            let mut s = raw(&relay, partial).await;
            let answer = read_all(&mut s).await;
            let took = started.elapsed();
            assert!(
                took >= Duration::from_millis(250),
                "{partial:?} closed after {took:?}"
            );
            assert!(
                took < Duration::from_secs(5),
                "{partial:?} still open after {took:?}"
            );
            assert!(!answer.contains("200 OK"), "{answer}");
        }
        assert!(gw.requests().is_empty());
        // An idle keep-alive connection is closed the same way after its last response.
        let started = Instant::now();
        let request = format!(
            "GET /_anyray/health HTTP/1.1\r\nHost: {}\r\n\r\n",
            relay.local_addr()
        );
        let mut s = raw(&relay, &request).await;
        let answer = read_all(&mut s).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(250) && took < Duration::from_secs(5),
            "{took:?}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_streams_are_cut_but_moving_ones_never_are() {
    bounded(async {
        let gw = fake(FakeConfig {
            chunks: 8,
            chunk_delay: Duration::from_millis(100),
            ..FakeConfig::default()
        })
        .await;
        let mut cfg = config(&[gw.url()]);
        cfg.idle_timeout = Duration::from_millis(400);
        let relay = relay(cfg).await;
        // 8 chunks 100 ms apart take longer than the idle timeout, but keep moving.
        let started = Instant::now();
        let resp = send(
            relay.url(),
            "POST",
            "/v1/messages",
            Some(json!({"stream": true})),
            &[],
        )
        .await;
        let text = String::from_utf8_lossy(&bytes_of(resp).await).into_owned();
        assert!(text.contains("message_stop"));
        assert!(started.elapsed() > Duration::from_millis(400));

        // A chunk gap longer than the idle timeout cuts the stream with an error.
        let resp = send(
            relay.url(),
            "POST",
            "/v1/messages",
            Some(json!({"stream": true})),
            &[("x-fake-chunk-delay-ms", "2000")],
        )
        .await;
        assert!(resp.into_body().collect().await.is_err());

        // No response headers within the idle timeout: 504 in the route's shape.
        gw.set_fault(Fault::SlowFirstByte(Duration::from_secs(3)));
        let resp = send(
            relay.url(),
            "POST",
            "/v1/chat/completions",
            Some(json!({})),
            &[],
        )
        .await;
        assert_eq!(resp.status(), StatusCode::GATEWAY_TIMEOUT);
        assert_eq!(
            json_of(resp).await["error"]["type"],
            "anyray_gateway_timeout"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_endpoints_live_under_the_reserved_prefix() {
    bounded(async {
        let gw = fake(FakeConfig::default()).await;
        let relay = relay(config(&[gw.url()])).await;
        let h = health(&relay).await;
        assert_eq!(h["status"], "ok");
        assert_eq!(h["fallback"], "none");
        assert_eq!(h["upstreams"][0]["url"], gw.url());
        assert_eq!(h["upstreams"][0]["state"], "unknown");
        let resp = send(relay.url(), "GET", "/_anyray/metrics", None, &[]).await;
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/plain")
        );
        let m = String::from_utf8(bytes_of(resp).await.to_vec()).unwrap();
        assert!(
            m.contains("# TYPE anyray_relay_requests_total counter"),
            "{m}"
        );
        assert!(m.contains("anyray_relay_in_flight 1"), "{m}");
        let resp = send(relay.url(), "GET", "/_anyray/nope", None, &[]).await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
        // Provider paths, even odd ones, still go upstream.
        let resp = send(relay.url(), "GET", "/v1/_anyray/health", None, &[]).await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
        let _ = bytes_of(resp).await;
        assert_eq!(gw.requests().len(), 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_access_log_and_metrics_hold_no_content_and_no_secret() {
    bounded(async {
        const PROMPT: &str = "canary-prompt-7f3a";
        const AUTH: &str = "canary-auth-91c2";
        const KEY: &str = "canary-key-55d0";
        const QUERY: &str = "canary-query-0b1e";
        let gw = fake(FakeConfig {
            text: "canary-answer-e4d8 says hello".into(),
            chunks: 1, // the answer stays in one piece, so the stream shows it whole
            ..FakeConfig::default()
        })
        .await;
        for format in [LogFormat::Json, LogFormat::Human] {
            let (_dir, log) = temp_log();
            let mut cfg = config(&[gw.url()]);
            cfg.log = LogTarget::File(log.clone());
            cfg.log_format = format;
            cfg.identity = Some(Identity::new(Scheme::Header, "x-anyray-key", Secret::new(KEY)).unwrap());
            let relay = relay(cfg).await;
            for stream in [false, true] {
                let resp = send(
                    relay.url(),
                    "POST",
                    &format!("/v1/messages?beta=true&key={QUERY}"),
                    Some(json!({"stream": stream, "messages": [{"role": "user", "content": PROMPT}]})),
                    &[("authorization", &format!("Bearer {AUTH}")), ("x-api-key", AUTH)],
                )
                .await;
                assert!(String::from_utf8_lossy(&bytes_of(resp).await).contains("canary-answer"));
            }
            assert_eq!(gw.requests().pop().unwrap().header("x-anyray-key"), Some(KEY));
            let m = metrics(&relay).await;
            relay.shutdown().await;
            let text = std::fs::read_to_string(&log).unwrap();
            for (what, haystack) in [("log", &text), ("metrics", &m)] {
                for canary in [PROMPT, AUTH, KEY, QUERY, "canary-answer"] {
                    assert!(!haystack.contains(canary), "{what} ({format:?}) holds {canary}:\n{haystack}");
                }
            }
            let lines: Vec<&str> = text
                .lines()
                .filter(|l| l.contains("/v1/messages"))
                .collect();
            assert_eq!(lines.len(), 2, "{text}");
            assert!(lines[0].contains("/v1/messages?beta&key"), "{text}");
            if format == LogFormat::Json {
                let v: Value = serde_json::from_str(lines[1]).unwrap();
                assert_eq!(v["status"], 200);
                assert_eq!(v["route"], "anthropic");
                assert_eq!(v["via"], "gateway");
                assert_eq!(v["upstream"], gw.url());
                assert_eq!(v["outcome"], "complete");
                assert!(v["request_bytes"].as_u64().unwrap() > 0);
                assert!(v["response_bytes"].as_u64().unwrap() > 0);
                for key in ["time", "method", "ttfb_ms", "total_ms"] {
                    assert!(!v[key].is_null(), "{key} missing: {v}");
                }
                let start: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
                assert_eq!(start["event"], "listening");
                assert_eq!(start["identity_header"], "x-anyray-key");
            }
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_an_in_flight_stream_finish() {
    bounded(async {
        let gw = fake(FakeConfig {
            chunks: 6,
            chunk_delay: Duration::from_millis(100),
            ..FakeConfig::default()
        })
        .await;
        let relay = relay(config(&[gw.url()])).await;
        let base = relay.url().to_string();
        let resp = send(
            &base,
            "POST",
            "/v1/messages",
            Some(json!({"stream": true})),
            &[],
        )
        .await;
        let shutdown = tokio::spawn(relay.shutdown());
        let text = String::from_utf8_lossy(&bytes_of(resp).await).into_owned();
        assert!(text.contains("message_stop"), "{text}");
        timeout(Duration::from_secs(5), shutdown)
            .await
            .expect("shutdown finishes once the stream is done")
            .unwrap();
        // No longer listening.
        assert!(
            TcpStream::connect(base.trim_start_matches("http://"))
                .await
                .is_err()
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_grace_period_bounds_shutdown() {
    bounded(async {
        let gw = fake(FakeConfig {
            chunks: 100,
            chunk_delay: Duration::from_millis(100),
            ..FakeConfig::default()
        })
        .await;
        let mut cfg = config(&[gw.url()]);
        cfg.grace_period = Duration::from_millis(300);
        let relay = relay(cfg).await;
        let resp = send(
            relay.url(),
            "POST",
            "/v1/messages",
            Some(json!({"stream": true})),
            &[],
        )
        .await;
        let started = Instant::now();
        relay.shutdown().await;
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(
            resp.into_body().collect().await.is_err(),
            "the cut stream ends in an error"
        );
        assert!(eventually(Duration::from_secs(1), || gw.cancelled_streams() == 1).await);
    })
    .await;
}

#[tokio::test]
async fn a_relay_that_would_forward_to_itself_is_refused() {
    let mut cfg = config(&["http://127.0.0.1:8787".to_string()]);
    cfg.listen = "127.0.0.1:8787".parse().unwrap();
    let err = Relay::bind(cfg).await.err().expect("refused").to_string();
    assert!(err.contains("forward to itself"), "{err}");
}

/// A renewed credential (an SSO access token refreshed, a key stored again) reaches the
/// gateway from the next request on, on the fast path (plain http gateway) and when the
/// fast path hands a request to the hyper path; the provider never sees either key.
#[tokio::test]
async fn a_renewed_credential_is_sent_from_the_next_request_on() {
    bounded(async {
        let gw = fake(FakeConfig::default()).await;
        let mut cfg = config(&[gw.url()]);
        let identity =
            |key: &str| Identity::new(Scheme::Key, "x-anyray-key", Secret::new(key)).unwrap();
        cfg.scheme = Scheme::Key;
        cfg.identity = Some(identity("sk-first-token"));
        let relay = relay(cfg).await;
        let ask = || async {
            let resp = send(
                relay.url(),
                "POST",
                "/v1/chat/completions",
                Some(json!({"model": "gpt-e2e", "messages": []})),
                &[("authorization", "Bearer placeholder")],
            )
            .await;
            assert_eq!(resp.status(), StatusCode::OK);
            let _ = bytes_of(resp).await;
            gw.requests().pop().unwrap()
        };
        assert_eq!(
            ask().await.header("authorization"),
            Some("Bearer sk-first-token")
        );

        relay.identity_updater().set(identity("sk-renewed-token"));
        for _ in 0..3 {
            assert_eq!(
                ask().await.header("authorization"),
                Some("Bearer sk-renewed-token")
            );
        }
    })
    .await;
}
