//! Helpers shared by the relay tests (`relay`, `relay_attacks`, `relay_memory`,
//! `relay_tls`).

use std::convert::Infallible;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use anyray::gateway_url::GatewayUrl;
use anyray::relay::{Fallback, LogFormat};
use anyray::relay::{LogTarget, ProviderTargets, Relay, RelayConfig, RelayHandle};
use bytes::Bytes;
use fake_gateway::{FakeConfig, FakeGateway};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::{Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// Fails the test instead of hanging it.
pub async fn bounded<F: Future>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(30), f)
        .await
        .expect("test timed out")
}

pub fn url(s: &str) -> GatewayUrl {
    GatewayUrl::parse(s).unwrap()
}

/// A relay on a free loopback port forwarding to `upstreams`, with no access log and
/// no fail-open; tests change the fields they are about.
pub fn relay_config(upstreams: &[String]) -> RelayConfig {
    RelayConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        allowed_hosts: Vec::new(),
        upstreams: upstreams.iter().map(|u| url(u)).collect(),
        fallback: Fallback::None,
        providers: ProviderTargets {
            openai: url("https://api.openai.com"),
            anthropic: url("https://api.anthropic.com"),
            gemini: url("https://generativelanguage.googleapis.com"),
        },
        identity: None,
        scheme: Default::default(),
        headers: Default::default(),
        strip_prefixes: vec!["x-anyray-".into(), "x-litellm-".into(), "x-portkey-".into()],
        provider_keys: Default::default(),
        ca_file: None,
        connect_timeout: Duration::from_secs(2),
        header_timeout: Duration::from_secs(10),
        idle_timeout: Duration::from_secs(60),
        max_body_bytes: 64 * 1024 * 1024,
        max_connections: 64,
        workers: 2,
        grace_period: Duration::from_secs(10),
        retry_interval: Duration::from_secs(5),
        log: LogTarget::Quiet,
        log_format: LogFormat::Json,
    }
}

/// A request body of `left` bytes of `a`, sent in 64 KiB frames with no declared length
/// (chunked), as a streaming upload is.
pub struct Chunks {
    pub left: usize,
}

impl Body for Chunks {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.left == 0 {
            return Poll::Ready(None);
        }
        let n = self.left.min(64 * 1024);
        self.left -= n;
        Poll::Ready(Some(Ok(Frame::data(Bytes::from(vec![b'a'; n])))))
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

pub type TestBody = BoxBody<Bytes, Infallible>;

pub async fn fake(cfg: FakeConfig) -> FakeGateway {
    FakeGateway::start(cfg).await.expect("start fake gateway")
}

/// A port on 127.0.0.1 that refuses connections: bound but not listening, and held so
/// that no other test can listen there meanwhile.
pub fn dead_upstream() -> (tokio::net::TcpSocket, String) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let url = format!("http://{}", socket.local_addr().unwrap());
    (socket, url)
}

pub async fn relay(cfg: RelayConfig) -> RelayHandle {
    Relay::bind(cfg).await.expect("start relay")
}

pub fn client() -> Client<HttpConnector, TestBody> {
    Client::builder(TokioExecutor::new()).build_http()
}

pub fn full(body: impl Into<Bytes>) -> TestBody {
    Full::new(body.into()).boxed()
}

pub async fn send(
    base: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> Response<Incoming> {
    let mut req = Request::builder()
        .method(method)
        .uri(format!("{base}{path}"));
    for (n, v) in headers {
        req = req.header(*n, *v);
    }
    let body = match body {
        Some(v) => {
            req = req.header("content-type", "application/json");
            full(v.to_string())
        }
        None => full(Bytes::new()),
    };
    client()
        .request(req.body(body).unwrap())
        .await
        .expect("request")
}

pub async fn bytes_of(resp: Response<Incoming>) -> Bytes {
    resp.into_body().collect().await.expect("body").to_bytes()
}

pub async fn json_of(resp: Response<Incoming>) -> Value {
    serde_json::from_slice(&bytes_of(resp).await).expect("json body")
}

/// Polls `cond` every 10 ms until it holds or `limit` passes.
pub async fn eventually(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub async fn health(relay: &RelayHandle) -> Value {
    json_of(send(relay.url(), "GET", "/_anyray/health", None, &[]).await).await
}

pub async fn metrics(relay: &RelayHandle) -> String {
    let resp = send(relay.url(), "GET", "/_anyray/metrics", None, &[]).await;
    String::from_utf8(bytes_of(resp).await.to_vec()).unwrap()
}

/// Writes a raw HTTP/1.1 request and returns the socket.
pub async fn raw(relay: &RelayHandle, request: &str) -> TcpStream {
    let mut s = TcpStream::connect(relay.local_addr()).await.unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    s
}

/// Reads until the peer closes (or 10 s pass).
pub async fn read_all(s: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let _ = timeout(Duration::from_secs(10), s.read_to_end(&mut buf)).await;
    String::from_utf8_lossy(&buf).into_owned()
}

pub fn temp_log() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("access.log");
    (dir, path)
}
