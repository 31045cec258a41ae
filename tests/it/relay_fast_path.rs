//! The relay's fast path (plain-http gateways): upstream connections parked after each
//! response and taken by the next request of any client, answers of every framing a gateway may send,
//! broken answers, pipelining, and the hand-over to the hyper path mid-connection.
//! Loopback only; every test is bounded in time.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyray::auth::Scheme;
use anyray::relay::Identity;
use anyray::secrets::Secret;
use fake_gateway::FakeConfig;
use hyper::StatusCode;
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::relay_support;

use relay_support::{
    bounded, bytes_of, dead_upstream, fake, full, json_of, metrics, raw, read_all, relay,
    relay_config as config, send,
};

/// What a scripted gateway does with one request.
struct Script {
    answer: Vec<u8>,
    /// Answer as soon as the head is in, without reading the body.
    early: bool,
    then: Then,
}

enum Then {
    KeepAlive,
    /// Close right after the answer, without saying so in it.
    Close,
    /// Keep the connection open and never answer again.
    Silent,
}

fn script(answer: &str, then: Then) -> Script {
    Script {
        answer: answer.as_bytes().to_vec(),
        early: false,
        then,
    }
}

/// A gateway that answers each request with scripted bytes: for answers a hyper-built
/// gateway never sends.
struct Scripted {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    /// Each request as received, head and body.
    requests: Arc<Mutex<Vec<String>>>,
}

impl Scripted {
    async fn start(answer: impl Fn(usize) -> Script + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let requests: Arc<Mutex<Vec<String>>> = Arc::default();
        let answer = Arc::new(answer);
        let (count, seen) = (connections.clone(), requests.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(serve_scripted(stream, answer.clone(), seen.clone()));
            }
        });
        Self {
            addr,
            connections,
            requests,
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

async fn serve_scripted(
    mut stream: TcpStream,
    answer: Arc<impl Fn(usize) -> Script>,
    seen: Arc<Mutex<Vec<String>>>,
) {
    let mut buf = Vec::new();
    loop {
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let mut chunk = [0u8; 8192];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let index = {
            let mut seen = seen.lock().unwrap();
            seen.push(head.clone());
            seen.len() - 1
        };
        let script = answer(index);
        let length: usize = head
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().ok())?
            })
            .unwrap_or(0);
        if !script.early {
            while buf.len() < head_end + length {
                let mut chunk = [0u8; 8192];
                match stream.read(&mut chunk).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            let body = String::from_utf8_lossy(&buf[head_end..head_end + length]).into_owned();
            seen.lock().unwrap()[index].push_str(&body);
            buf.drain(..head_end + length);
        }
        if stream.write_all(&script.answer).await.is_err() {
            return;
        }
        match script.then {
            Then::KeepAlive if !script.early => {}
            Then::KeepAlive | Then::Silent => {
                tokio::time::sleep(Duration::from_secs(60)).await;
                return;
            }
            Then::Close => return,
        }
    }
}

/// Writes `request` on `stream` and reads one response whose body is `Content-Length`
/// framed.
async fn exchange_on(stream: &mut TcpStream, request: &str) -> String {
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length: ")?.parse().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + length {
                return String::from_utf8_lossy(&buf).into_owned();
            }
        }
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(
            n > 0,
            "closed mid-response: {}",
            String::from_utf8_lossy(&buf)
        );
        buf.extend_from_slice(&chunk[..n]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_of_every_framing_reach_the_client_intact() {
    bounded(async {
        let gw = Scripted::start(|i| match i {
            0 => script(
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n\
                 5;x=y\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n",
                Then::KeepAlive,
            ),
            1 => script(
                "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabc",
                Then::Close,
            ),
            2 => script(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end",
                Then::Close,
            ),
            3 => script(
                "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n\
                 HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
                Then::KeepAlive,
            ),
            4 => script(
                "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
                Then::KeepAlive,
            ),
            _ => script(
                "HTTP/1.1 200 Fine Thanks\r\nConnection: X-Secret, keep-alive\r\nX-Secret: s\r\n\
                 Keep-Alive: timeout=5\r\nX-Kept: k\r\nContent-Length: 0\r\n\r\n",
                Then::KeepAlive,
            ),
        })
        .await;
        let relay = relay(config(&[gw.url()])).await;
        // One client connection throughout, so that the relay keeps one gateway
        // connection for as long as the gateway does.
        let tcp = TcpStream::connect(relay.local_addr()).await.unwrap();
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
            .await
            .unwrap();
        tokio::spawn(connection);
        let host = relay.local_addr().to_string();
        let mut call = async || {
            sender.ready().await.expect("the connection stays open");
            let request = hyper::Request::post("/v1/chat/completions")
                .header("host", &host)
                .body(full("{}"))
                .unwrap();
            sender.send_request(request).await.expect("an answer")
        };

        let chunked = call().await;
        assert_eq!(chunked.status(), StatusCode::OK);
        assert_eq!(chunked.headers()["content-type"], "text/plain");
        assert_eq!(&bytes_of(chunked).await[..], b"hello world");

        let http10 = call().await;
        assert_eq!(&bytes_of(http10).await[..], b"abc");

        let until_close = call().await;
        assert_eq!(until_close.headers()["transfer-encoding"], "chunked");
        assert_eq!(&bytes_of(until_close).await[..], b"until the end");

        let after_hints = call().await;
        assert_eq!(after_hints.status(), StatusCode::CREATED);
        assert_eq!(&bytes_of(after_hints).await[..], b"ok");

        let no_content = call().await;
        assert_eq!(no_content.status(), StatusCode::NO_CONTENT);
        assert!(no_content.headers().get("content-length").is_none());
        assert!(bytes_of(no_content).await.is_empty());

        let hop = call().await;
        let h = hop.headers();
        assert!(h.get("x-secret").is_none() && h.get("keep-alive").is_none());
        assert_eq!(h["x-kept"], "k");
        assert!(
            h.contains_key("date"),
            "a Date header is added as hyper adds it"
        );

        // The HTTP/1.0 and close-delimited answers closed their connections; the others
        // kept theirs.
        assert_eq!(gw.connections(), 3, "{:?}", gw.requests.lock().unwrap());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_answer_is_a_502_or_an_error_in_the_stream() {
    bounded(async {
        let gw = Scripted::start(|i| match i {
            0 => script("NOT HTTP AT ALL\r\n\r\n", Then::Close),
            1 => script("", Then::Close),
            2 => script(
                "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
                Then::Close,
            ),
            3 => script(
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\nZZ\r\n",
                Then::Silent,
            ),
            _ => script("", Then::Silent),
        })
        .await;
        let mut cfg = config(&[gw.url()]);
        cfg.idle_timeout = Duration::from_millis(300);
        let relay = relay(cfg).await;
        let call = || {
            send(
                relay.url(),
                "POST",
                "/v1/chat/completions",
                Some(json!({})),
                &[],
            )
        };

        for _ in 0..2 {
            let resp = call().await;
            assert_eq!(resp.status(), StatusCode::BAD_GATEWAY);
            assert_eq!(resp.headers()["x-anyray-relay"], "error");
            let body = json_of(resp).await;
            assert_eq!(body["error"]["type"], "anyray_gateway_error", "{body}");
        }
        for _ in 0..2 {
            let resp = call().await;
            assert_eq!(resp.status(), StatusCode::OK);
            let body = http_body_util::BodyExt::collect(resp.into_body()).await;
            assert!(body.is_err(), "a body cut short must not look complete");
        }
        let started = Instant::now();
        let resp = call().await;
        assert_eq!(resp.status(), StatusCode::GATEWAY_TIMEOUT);
        assert!(started.elapsed() < Duration::from_secs(5));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_before_the_upload_ends_is_relayed_and_the_connection_closed() {
    bounded(async {
        let gw = Scripted::start(|_| Script {
            answer: b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 4\r\n\r\nbig!".to_vec(),
            early: true,
            then: Then::Silent,
        })
        .await;
        let relay = relay(config(&[gw.url()])).await;
        let own = relay.local_addr();
        let mut s = raw(
            &relay,
            &format!(
                "POST /v1/files HTTP/1.1\r\nHost: {own}\r\nContent-Length: 1000000\r\n\r\npartial"
            ),
        )
        .await;
        let answer = read_all(&mut s).await;
        assert!(answer.starts_with("HTTP/1.1 413 "), "{answer}");
        assert!(answer.ends_with("big!"), "{answer}");
        assert!(answer.to_ascii_lowercase().contains("connection: close"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_gateway_connection_serves_many_requests_and_clients() {
    bounded(async {
        let gw = fake(FakeConfig::default()).await;
        let relay = relay(config(&[gw.url()])).await;
        let own = relay.local_addr();
        let mut first = TcpStream::connect(own).await.unwrap();
        for _ in 0..3 {
            let request = format!("GET /v1/models HTTP/1.1\r\nHost: {own}\r\n\r\n");
            let answer = exchange_on(&mut first, &request).await;
            assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
        }
        drop(first);
        // The relay parks the leg once it sees the client gone (at once on loopback).
        tokio::time::sleep(Duration::from_millis(500)).await;
        // A new client connection takes the leg the last one parked.
        let resp = send(relay.url(), "GET", "/v1/models", None, &[]).await;
        assert_eq!(resp.status(), StatusCode::OK);
        let _ = bytes_of(resp).await;
        assert_eq!(gw.requests().len(), 4);
        assert_eq!(gw.total_connections(), 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_clients_taking_turns_share_one_gateway_connection() {
    bounded(async {
        let gw = fake(FakeConfig::default()).await;
        let relay = relay(config(&[gw.url()])).await;
        let own = relay.local_addr();
        // Both stay open; one request at a time, alternately: the connection the last
        // answer came on is idle again, so the other client's request takes it (as in
        // nginx's keepalive cache) instead of the gateway seeing one per client.
        let mut clients = [
            TcpStream::connect(own).await.unwrap(),
            TcpStream::connect(own).await.unwrap(),
        ];
        for turn in 0..6 {
            let request = format!("GET /v1/models HTTP/1.1\r\nHost: {own}\r\n\r\n");
            let answer = exchange_on(&mut clients[turn % 2], &request).await;
            assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
        }
        assert_eq!(gw.requests().len(), 6);
        assert_eq!(gw.total_connections(), 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_connection_the_gateway_closed_meanwhile_is_not_used() {
    bounded(async {
        let gw = Scripted::start(|_| {
            script(
                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
                Then::Close,
            )
        })
        .await;
        let relay = relay(config(&[gw.url()])).await;
        let own = relay.local_addr();
        let mut s = TcpStream::connect(own).await.unwrap();
        let request = format!("GET /v1/models HTTP/1.1\r\nHost: {own}\r\n\r\n");
        for round in 1..=3 {
            let answer = exchange_on(&mut s, &request).await;
            assert!(
                answer.starts_with("HTTP/1.1 200 OK"),
                "round {round}: {answer}"
            );
            tokio::time::sleep(Duration::from_millis(300)).await; // the close arrives
        }
        assert_eq!(gw.connections(), 3);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_requests_and_a_hand_over_to_hyper_keep_their_order() {
    bounded(async {
        let gw = fake(FakeConfig::default()).await;
        let relay = relay(config(&[gw.url()])).await;
        let own = relay.local_addr();
        let host = format!("Host: {own}\r\n");
        // Plain, then chunked (hyper's), then plain again, all in one write.
        let requests = format!(
            "POST /v1/chat/completions HTTP/1.1\r\n{host}Content-Length: 13\r\n\r\n{{\"model\":\"a\"}}\
             POST /v1/responses HTTP/1.1\r\n{host}Transfer-Encoding: chunked\r\n\r\n\
             d\r\n{{\"model\":\"b\"}}\r\n0\r\n\r\n\
             GET /v1/models HTTP/1.1\r\n{host}Connection: close\r\n\r\n"
        );
        let mut s = raw(&relay, &requests).await;
        let answers = read_all(&mut s).await;
        assert_eq!(answers.matches("HTTP/1.1 200 OK").count(), 3, "{answers}");
        let seen = gw.requests();
        let paths: Vec<&str> = seen.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(
            paths,
            ["/v1/chat/completions", "/v1/responses", "/v1/models"]
        );
        assert_eq!(seen[0].json().unwrap()["model"], "a");
        assert_eq!(seen[1].json().unwrap()["model"], "b");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_closes_after_the_header_timeout() {
    bounded(async {
        let gw = fake(FakeConfig::default()).await;
        let mut cfg = config(&[gw.url()]);
        cfg.header_timeout = Duration::from_millis(300);
        let relay = relay(cfg).await;
        let own = relay.local_addr();
        let mut s = TcpStream::connect(own).await.unwrap();
        let answer = exchange_on(
            &mut s,
            &format!("GET /v1/models HTTP/1.1\r\nHost: {own}\r\n\r\n"),
        )
        .await;
        assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
        let idle = Instant::now();
        assert_eq!(read_all(&mut s).await, "", "closed without another word");
        assert!(
            idle.elapsed() < Duration::from_secs(3),
            "{:?}",
            idle.elapsed()
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_that_refuses_is_counted_once_and_named_once() {
    bounded(async {
        let (_held, dead) = dead_upstream();
        let relay = relay(config(std::slice::from_ref(&dead))).await;
        let resp = send(
            relay.url(),
            "POST",
            "/v1/chat/completions",
            Some(json!({})),
            &[],
        )
        .await;
        assert_eq!(resp.status(), StatusCode::BAD_GATEWAY);
        let body = json_of(resp).await;
        let message = body["error"]["message"].as_str().unwrap();
        assert_eq!(message.matches(dead.as_str()).count(), 1, "{message}");
        let needle = format!("anyray_relay_upstream_connect_errors_total{{upstream=\"{dead}\"}} 1");
        let m = metrics(&relay).await;
        assert!(m.contains(&needle), "{m}");
    })
    .await;
}

/// The fast path builds the upstream request itself: it must send the gateway what the
/// hyper path sends for the same request (path prefix, `Host`, no hop-by-hop headers,
/// the identity header in place of the client's). HTTP/1.0 always takes the hyper path.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fast_path_sends_the_gateway_what_the_hyper_path_sends() {
    for scheme in [Scheme::Header, Scheme::Key] {
        same_request_on_both_paths(scheme).await;
    }
}

/// One request over HTTP/1.1 (the fast path) and HTTP/1.0 (hyper's): the gateway sees
/// the same thing, with the credential where `scheme` puts it.
async fn same_request_on_both_paths(scheme: Scheme) {
    bounded(async {
        let gw = fake(FakeConfig::default()).await;
        let mut cfg = config(&[format!("{}/org/", gw.url())]);
        cfg.scheme = scheme;
        cfg.identity = Some(Identity::new(scheme, "x-anyray-key", Secret::new("sk-user")).unwrap());
        let relay = relay(cfg).await;
        let own = relay.local_addr();
        let body = r#"{"model":"m"}"#;
        for version in ["HTTP/1.1", "HTTP/1.0"] {
            let mut s = TcpStream::connect(own).await.unwrap();
            let answer = exchange_on(
                &mut s,
                &format!(
                    "POST /v1/messages?beta=true {version}\r\nHost: {own}\r\n\
                     Content-Type: application/json\r\nanthropic-version: 2023-06-01\r\n\
                     Authorization: Bearer client\r\nX-Anyray-Key: spoofed\r\n\
                     Keep-Alive: timeout=5\r\nProxy-Authorization: Basic eA==\r\n\
                     X-Twice: 1\r\nX-Twice: 2\r\nConnection: close\r\n\
                     Content-Length: {}\r\n\r\n{body}",
                    body.len()
                ),
            )
            .await;
            // The fake has no route under the prefix: its 404 says the request got there.
            assert!(answer.starts_with(&format!("{version} 404 ")), "{answer}");
        }
        let seen = gw.requests();
        assert_eq!(seen.len(), 2);
        let view = |r: &fake_gateway::RecordedRequest| {
            let mut headers = r.headers.clone();
            headers.sort();
            (
                r.method.clone(),
                r.path.clone(),
                r.query.clone(),
                headers,
                r.body.clone(),
            )
        };
        let (fast, hyper) = (view(&seen[0]), view(&seen[1]));
        assert_eq!(fast, hyper);
        assert_eq!(fast.1, "/org/v1/messages");
        assert_eq!(seen[0].header("host"), Some(gw.addr().to_string().as_str()));
        match scheme {
            Scheme::Header => {
                assert_eq!(seen[0].header("x-anyray-key"), Some("sk-user"));
                assert_eq!(seen[0].header("authorization"), Some("Bearer client"));
            }
            // The client's placeholder key is replaced by the stored one, in the place
            // the Anthropic SDK sends it; the relay adds no identity header.
            Scheme::Key => {
                assert_eq!(seen[0].header("x-anyray-key"), Some("spoofed"));
                assert_ne!(seen[0].header("authorization"), Some("Bearer client"));
                assert!(
                    seen[0].header("x-api-key") == Some("sk-user")
                        || seen[0].header("authorization") == Some("Bearer sk-user"),
                    "{:?}",
                    seen[0].headers
                );
            }
        }
        for hop in ["keep-alive", "proxy-authorization", "connection"] {
            assert_eq!(seen[0].header(hop), None, "{hop}");
        }
        assert_eq!(fast.4, body.as_bytes());
    })
    .await;
}
