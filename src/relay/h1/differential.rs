//! The fast path takes a request only if hyper's server reads it the same way: same
//! method, target, header lines and body, same keep-alive. Checked against hyper itself
//! on tricky requests and on generated ones (framing, whitespace, line endings,
//! duplicates, odd bytes).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use proptest::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{MAX_HEADERS, Qualify, qualify, slots};

const MAX_HEAD: usize = 64 * 1024;

/// What a server read of one request.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    method: String,
    target: String,
    /// (lower-case name, value), sorted: hyper's map groups by name.
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
    keep_alive: bool,
}

/// What the fast path reads from `bytes`, if it takes the request, and how many bytes
/// the request is long (what follows would be a next request).
fn fast_reads(bytes: &[u8]) -> Option<(Seen, usize)> {
    let mut room = slots();
    let Qualify::Ready(head) = qualify(bytes, &mut room, MAX_HEAD) else {
        return None;
    };
    let mut headers: Vec<(String, Vec<u8>)> = head
        .headers
        .iter()
        .map(|h| (h.name.to_ascii_lowercase(), h.value.to_vec()))
        .collect();
    headers.sort();
    let body_end = head.len + usize::try_from(head.body_len).ok()?;
    let seen = Seen {
        method: head.method.to_string(),
        target: head.target.to_string(),
        headers,
        body: bytes.get(head.len..body_end)?.to_vec(),
        keep_alive: head.keep_alive,
    };
    Some((seen, body_end))
}

/// What hyper's server (configured as the relay configures it) reads from `bytes`:
/// `None` if it never calls the service.
async fn hyper_reads(bytes: &[u8]) -> Option<Seen> {
    let (mut client, server) = tokio::io::duplex(1 << 20);
    let seen: Arc<Mutex<Option<Seen>>> = Arc::default();
    let record = seen.clone();
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let record = record.clone();
        async move {
            let (parts, body) = req.into_parts();
            let body = body.collect().await.map(|b| b.to_bytes().to_vec());
            let mut headers: Vec<(String, Vec<u8>)> = parts
                .headers
                .iter()
                .map(|(n, v)| (n.as_str().to_string(), v.as_bytes().to_vec()))
                .collect();
            headers.sort();
            *record.lock().unwrap() = Some(Seen {
                method: parts.method.to_string(),
                target: parts.uri.to_string(),
                headers,
                body: body.unwrap_or_default(),
                keep_alive: true, // from the response below
            });
            Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from_static(b"ok"))))
        }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .max_header_size(MAX_HEAD)
        .max_buf_size(64 * 1024)
        .serve_connection(TokioIo::new(server), service);
    let server = tokio::spawn(connection);
    let _ = client.write_all(bytes).await;
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    // The answer's head (or the connection closing on a refusal).
    let read = tokio::time::timeout(Duration::from_millis(500), async {
        while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
            match client.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
    });
    let _ = read.await;
    server.abort();
    let mut seen = seen.lock().unwrap().take()?;
    let text = String::from_utf8_lossy(&answer).to_ascii_lowercase();
    seen.keep_alive = !text.contains("\r\nconnection: close\r\n");
    Some(seen)
}

fn check(bytes: &[u8], rt: &tokio::runtime::Runtime) -> Result<bool, TestCaseError> {
    let Some((fast, len)) = fast_reads(bytes) else {
        return Ok(false);
    };
    let hyper = rt.block_on(hyper_reads(&bytes[..len]));
    prop_assert_eq!(
        Some(&fast),
        hyper.as_ref(),
        "{:?}",
        String::from_utf8_lossy(bytes)
    );
    Ok(true)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn tricky_requests_the_fast_path_takes_read_as_hyper_reads_them() {
    let rt = runtime();
    let h = "Host: 127.0.0.1:8787\r\n";
    let cases = [
        format!("POST /v1/chat/completions HTTP/1.1\r\n{h}Content-Length: 2\r\n\r\n{{}}"),
        format!("\r\n\r\nGET /v1/models?limit=5&x=%20 HTTP/1.1\r\n{h}\r\n"),
        format!("GET / HTTP/1.1\n{h}X-A:   padded  \n\n"),
        format!("GET / HTTP/1.1\r\n{h}Connection: keep-alive\r\nConnection: close\r\n\r\n"),
        format!("GET / HTTP/1.1\r\n{h}Connection: ,close,\r\n\r\n"),
        format!("DELETE /a//b/../c HTTP/1.1\r\n{h}X-Obs: caf\u{e9}\r\nX-Tab: a\tb\r\n\r\n"),
        format!("PUT /a{{b}}|c HTTP/1.1\r\n{h}Content-Length: 0000\r\n\r\n"),
        format!(
            "PATCH /x HTTP/1.1\r\n{h}Keep-Alive: timeout=5\r\nProxy-Authorization: x\r\nContent-Length: 3\r\n\r\nabcdef"
        ),
    ];
    let mut taken = 0;
    for case in &cases {
        taken += usize::from(check(case.as_bytes(), &rt).unwrap());
    }
    assert_eq!(
        taken,
        cases.len(),
        "every case above is one the fast path takes"
    );
}

/// Request heads, mostly ones the fast path takes, with tricky pieces mixed in.
fn head_strategy() -> impl Strategy<Value = Vec<u8>> {
    let method = prop_oneof![
        8 => prop::sample::select(vec!["GET", "POST", "PUT", "PATCH", "DELETE"]),
        2 => prop::sample::select(vec!["HEAD", "OPTIONS", "CONNECT", "get", "FOO", "PO\tST"]),
    ];
    let target = prop_oneof![
        4 => prop::sample::select(vec!["/", "/v1/chat/completions", "/a?b=c&d", "//x", "/a?"])
            .prop_map(str::to_string),
        4 => "/[ -~]{0,12}",
        2 => prop::sample::select(vec![
            "*", "http://x/y", "/a#b", "/%zz", "/a b", "/\u{e4}", "/{}|^`\"<>\\", "/a?#", "x", "",
        ])
        .prop_map(str::to_string),
    ];
    let version = prop_oneof![
        8 => Just("HTTP/1.1"),
        2 => prop::sample::select(vec!["HTTP/1.0", "HTTP/2.0", "http/1.1", "HTTP/1.1 ", "HTTP/1.10"]),
    ];
    let host = prop_oneof![
        9 => Just("Host: 127.0.0.1:8787"),
        1 => prop::sample::select(vec!["", "Host:", "Host: caf\u{e9}", "host: a\r\nHost: b"]),
    ];
    let header = prop_oneof![
        7 => prop::sample::select(vec![
            "Content-Length: 0",
            "Content-Length: 3",
            "content-length: 03",
            "Connection: close",
            "Connection: keep-alive",
            "Connection: Close, Keep-Alive",
            "Connection: ,",
            "X-A: b",
            "X-A: b\tc",
            "X-A:  padded  ",
            "X-A: caf\u{e9}",
            "X-A:",
            "x-a: second",
            "Keep-Alive: timeout=5",
            "Proxy-Authorization: Basic x",
            "Origin: http://a",
            "Sec-Fetch-Site: none",
            "anthropic-version: 2023-06-01",
        ]),
        3 => prop::sample::select(vec![
            "Content-Length: +3",
            "Content-Length: 3 ,3",
            "Content-Length: 3,3",
            "Content-Length: -1",
            "Content-Length: 99999999999999999999",
            "Content-Length: 3\r\nContent-Length: 4",
            "Transfer-Encoding: chunked",
            "Transfer-Encoding: identity",
            "Connection: upgrade",
            "Connection: x-private",
            "Expect: 100-continue",
            "Upgrade: websocket",
            "TE: trailers",
            " X-A: b",
            "X-A : b",
            "X-A: a\rb",
            "X-A: a\u{0}b",
            "X-A: a\u{7f}b",
            ": b",
            "X-Fold: a\r\n b",
            "X-\u{e4}: b",
        ]),
    ];
    let eol = prop_oneof![4 => Just("\r\n"), 1 => Just("\n")];
    let body = prop::collection::vec(any::<u8>(), 0..6);
    (
        method,
        target,
        version,
        host,
        prop::collection::vec(header, 0..5),
        eol,
        body,
    )
        .prop_map(|(method, target, version, host, headers, eol, body)| {
            let mut text = format!("{method} {target} {version}{eol}");
            for h in std::iter::once(host)
                .chain(headers)
                .filter(|h| !h.is_empty())
            {
                text.push_str(h);
                text.push_str(eol);
            }
            text.push_str(eol);
            let mut bytes = text.into_bytes();
            bytes.extend(body);
            bytes
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn generated_requests_the_fast_path_takes_read_as_hyper_reads_them(bytes in head_strategy()) {
        check(&bytes, &runtime())?;
    }
}

#[test]
fn more_headers_than_hyper_allows_go_to_hyper() {
    let many: String = (0..MAX_HEADERS).map(|i| format!("X-{i}: v\r\n")).collect();
    let text = format!("GET / HTTP/1.1\r\nHost: a:1\r\n{many}\r\n");
    assert!(fast_reads(text.as_bytes()).is_none());
    assert!(runtime().block_on(hyper_reads(text.as_bytes())).is_none());
}

#[test]
fn the_generator_reaches_the_fast_path_often() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = head_strategy();
    let taken = (0..1000)
        .filter(|_| {
            let bytes = strategy.new_tree(&mut runner).unwrap().current();
            fast_reads(&bytes).is_some()
        })
        .count();
    // Most generated heads are refused or handed over; enough must be taken for the
    // property above to say something.
    assert!(
        taken >= 150,
        "only {taken} of 1000 generated requests were taken"
    );
}
