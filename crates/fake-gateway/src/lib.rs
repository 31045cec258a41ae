//! Test double of the org gateway (see docs/gateway-contract.md).
//!
//! A small hyper HTTP/1.1 server on `127.0.0.1:<ephemeral>` (loopback only) that speaks
//! just enough of the OpenAI and Anthropic wire formats for real SDKs and CLIs to complete
//! a turn, serves discovery and `/healthz`, records every request, and can be told to
//! misbehave ([`Fault`]). anyray's tests, the end-to-end scripts and the benchmark (the
//! `fake_gateway` binary, src/main.rs) all use it. It is a workspace member that is never
//! published, so the shipped `anyray` library does not carry it.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use fake_gateway::{FakeConfig, FakeGateway, Fault};
//! let gw = FakeGateway::start(FakeConfig::default()).await?;
//! // point a client at gw.url() ...
//! gw.set_fault(Fault::Status(503));
//! assert!(gw.requests().iter().all(|r| r.path.starts_with('/')));
//! # Ok(()) }
//! ```
//!
//! Routes:
//! - `GET /.well-known/anyray.json` (discovery), `GET /healthz` (`ok`)
//! - `GET /v1/models`, `POST /v1/chat/completions`, `POST /v1/responses`
//!   (`GET /v1/responses`, Codex's WebSocket attempt: 426, so it falls back to HTTP)
//! - `POST /v1/messages`, `POST /v1/messages/count_tokens`
//! - the Gemini API under `/gemini` (Gemini CLI, the Google GenAI SDK):
//!   `POST /gemini/v1beta/models/{model}:generateContent`,
//!   `:streamGenerateContent` (SSE with `?alt=sse`, else a JSON array), `:countTokens`.
//!   In JSON mode (`generationConfig.responseMimeType = application/json`) the answer is
//!   a JSON value that fits the request's `responseJsonSchema` (or `responseSchema`):
//!   Gemini CLI's model router asks for one before every turn.
//! - `GET /anyray/v1/usage?since=YYYY-MM-DD` (the usage endpoint, named in discovery):
//!   the caller's own spend and tokens by day, model and client, counted from the model
//!   calls answered so far (see [`usage`]), and the budget ([`FakeConfig::budget_usd`])
//! - anything else: 404 with a JSON error.
//!
//! Streaming (`"stream": true` in the request JSON) sends the configured text split in
//! [`FakeConfig::chunks`] content events, [`FakeConfig::chunk_delay`] apart; each event is
//! its own body frame. Per request, the headers `x-fake-chunks` and
//! `x-fake-chunk-delay-ms` override both.

use std::convert::Infallible;
use std::fmt::Write as _;
use std::future::poll_fn;
use std::io::{self, Write as _};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::header::HeaderValue;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{mpsc, watch};

pub mod usage;

/// At most this many body bytes are kept per recorded request (the full length is counted).
/// 1 MiB, so real agent requests (Claude Code sends ~90 KB) stay parseable with `json()`.
pub const RECORDED_BODY_CAP: usize = 1024 * 1024;
/// Request bodies up to this size are buffered to read `stream`/`model`; larger ones are
/// only counted (and answered as non-streaming).
const PARSE_CAP: usize = 16 * 1024 * 1024;
pub mod jwt;

const DISCOVERY_PATH: &str = "/.well-known/anyray.json";

/// How the fake misbehaves. Set in [`FakeConfig::fault`] or at runtime with
/// [`FakeGateway::set_fault`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Fault {
    /// Behave.
    #[default]
    None,
    /// Nothing listens on the port: connects are refused, open connections are closed.
    /// Switching back to any other fault listens again on the same port.
    Refuse,
    /// Accept TCP connections but never send a byte (held open until shutdown).
    /// Already-open keep-alive connections go silent on their next request.
    Silent,
    /// Wait this long before sending response headers.
    SlowFirstByte(Duration),
    /// Answer every route with this status and a JSON error body. Discovery and `/healthz`
    /// too, unless [`FakeConfig::keep_discovery`] is set.
    Status(u16),
    /// On streaming responses, send the preamble events and this many content chunks,
    /// then abort the connection without the chunked terminator. Non-streaming
    /// responses are unaffected.
    CloseMidStream { after_chunks: usize },
    /// Answer every route with 200 `text/html` (a captive-portal page). Discovery and
    /// `/healthz` too, unless [`FakeConfig::keep_discovery`] is set.
    Html,
    /// Discovery reports the optimizer `"down"`; requests are still served (fail-open).
    OptimizerDown,
}

/// What `GET /.well-known/anyray.json` answers.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Discovery {
    /// Built from the `optimizer_status`, `fail_open`, `budget_ms` and `identity_header`
    /// fields of [`FakeConfig`].
    #[default]
    Default,
    /// 404, as a gateway without discovery.
    Disabled,
    /// This exact JSON.
    Custom(Value),
}

/// Configuration of a [`FakeGateway`]. Only `fault` can change after start.
#[derive(Clone, Debug)]
pub struct FakeConfig {
    /// Port on 127.0.0.1; 0 picks an ephemeral one.
    pub port: u16,
    pub fault: Fault,
    /// Number of content events a streamed answer is split into.
    pub chunks: usize,
    /// Pause between two content events.
    pub chunk_delay: Duration,
    /// The assistant's answer.
    pub text: String,
    pub discovery: Discovery,
    /// `optimizer.status` in default discovery: "up", "down" or "degraded".
    pub optimizer_status: String,
    pub fail_open: bool,
    pub budget_ms: u64,
    /// Header that carries the user's Anyray key (named in discovery).
    pub identity_header: String,
    /// When set, API routes answer 401 unless `identity_header` equals this key.
    /// Discovery and `/healthz` never require it.
    pub require_identity: Option<String>,
    /// The `key` scheme (docs/gateway-contract.md): API routes answer 401 unless this key
    /// comes as `Authorization: Bearer KEY`, else (no `Authorization`) as `x-api-key`,
    /// the order LiteLLM reads them in.
    pub require_key: Option<String>,
    /// Routing by header, as Portkey: every `/v1/*` request needs `x-portkey-provider`
    /// (the route's provider: `anthropic` on `/v1/messages*`, `openai` on the others,
    /// either on `/v1/models`) or `x-portkey-config`, else Portkey's exact 400.
    pub route_by_header: bool,
    /// `Status` and `Html` faults leave discovery and `/healthz` working.
    pub keep_discovery: bool,
    /// Keep requests for [`FakeGateway::requests`]. Benchmarks turn it off so memory
    /// stays flat.
    pub record: bool,
    /// Append one JSON line per request (method, path, query, headers, body_len,
    /// connection, sub) to this file.
    pub log_file: Option<PathBuf>,
    /// In that file, credential headers carry a fingerprint instead of the key:
    /// [`REQUIRED_KEY`] for `require_key` (or `require_identity`), else
    /// `<another key of N chars>` (so a test can grep every log for the key).
    pub redact_keys: bool,
    /// Accept the identity provider's JWT access tokens as the key (the `key` scheme:
    /// `Authorization: Bearer`, else `x-api-key`), verified against its JWKS, and name
    /// the provider in discovery's `auth.oidc`.
    pub oidc: Option<OidcConfig>,
    /// Serve the usage endpoint and name it in default discovery.
    pub usage: bool,
    /// The budget the usage endpoint reports (USD, spent over every day); `None`: none.
    pub budget_usd: Option<f64>,
    /// Answer `GET /key/info` as a LiteLLM proxy with a database does, from the same
    /// counts: `{"key", "info": {"spend", "max_budget", "budget_duration", …}}`.
    pub litellm_key_info: bool,
}

/// The identity provider whose access tokens the fake accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OidcConfig {
    pub issuer: String,
    /// Required in `aud` when set.
    pub audience: Option<String>,
    /// Named in discovery, for `anyray login --sso`.
    pub client_id: String,
    pub scopes: String,
}

/// What a logged credential header says instead of the required key (`redact_keys`).
pub const REQUIRED_KEY: &str = "<the required key>";

/// Headers that carry a key, whose values `redact_keys` replaces: anyray's
/// `auth::TOOL_KEY_HEADERS` (this crate cannot use anyray, which uses it for its tests).
const CREDENTIAL_HEADERS: [&str; 6] = [
    "authorization",
    "x-api-key",
    "api-key",
    "x-goog-api-key",
    "x-litellm-api-key",
    "ocp-apim-subscription-key",
];

impl Default for FakeConfig {
    fn default() -> Self {
        Self {
            port: 0,
            fault: Fault::None,
            chunks: 5,
            chunk_delay: Duration::ZERO,
            text: "Hello from the fake Anyray gateway.".into(),
            discovery: Discovery::Default,
            optimizer_status: "up".into(),
            fail_open: true,
            budget_ms: 800,
            identity_header: "x-anyray-key".into(),
            require_identity: None,
            require_key: None,
            route_by_header: false,
            keep_discovery: false,
            record: true,
            log_file: None,
            redact_keys: false,
            oidc: None,
            usage: true,
            budget_usd: Some(50.0),
            litellm_key_info: false,
        }
    }
}

/// One request as the fake received it.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// In arrival order; names lower-cased.
    pub headers: Vec<(String, String)>,
    /// Full body length, even when `body` was capped.
    pub body_len: usize,
    /// The first [`RECORDED_BODY_CAP`] bytes of the body.
    pub body: Vec<u8>,
    /// Id of the TCP connection (1, 2, ... in accept order).
    pub connection: u64,
    /// The `sub` of a verified JWT access token (with [`FakeConfig::oidc`]).
    pub subject: Option<String>,
}

impl RecordedRequest {
    /// First value of a header (name matched case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON, if it is complete and valid JSON.
    pub fn json(&self) -> Option<Value> {
        (self.body.len() == self.body_len)
            .then(|| serde_json::from_slice(&self.body).ok())
            .flatten()
    }
}

/// A running fake gateway. Dropping it (or [`shutdown`](Self::shutdown)) closes the
/// listener at once and the open connections soon after.
pub struct FakeGateway {
    shared: Arc<Shared>,
    /// Own runtime when started with [`spawn`](Self::spawn).
    runtime: Option<tokio::runtime::Runtime>,
}

impl FakeGateway {
    /// Starts on the current tokio runtime (either flavor).
    pub async fn start(config: FakeConfig) -> io::Result<Self> {
        let socket = port_socket(SocketAddr::from((Ipv4Addr::LOCALHOST, config.port)))?;
        let addr = socket.local_addr()?;
        let log = match &config.log_file {
            Some(path) => Some(Mutex::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)?,
            )),
            None => None,
        };
        // `Refuse` from the start: the socket holds the port without listening.
        let (listener, reserved) = if config.fault == Fault::Refuse {
            (None, Some(socket))
        } else {
            (Some(socket.listen(1024)?), None)
        };
        let verifier = config
            .oidc
            .as_ref()
            .map(|o| jwt::Verifier::new(o.issuer.clone(), o.audience.clone()));
        let shared = Arc::new(Shared {
            addr,
            runtime: tokio::runtime::Handle::current(),
            fault: Mutex::new(config.fault.clone()),
            config,
            listen: Mutex::new(ListenState {
                listener,
                reserved,
                waker: None,
                shutdown: false,
            }),
            kill: watch::Sender::new(0),
            requests: Mutex::new(Vec::new()),
            log,
            open: AtomicUsize::new(0),
            total: AtomicU64::new(0),
            cancelled: AtomicUsize::new(0),
            ids: AtomicU64::new(0),
            verifier,
            usage: usage::UsageBook::default(),
        });
        tokio::spawn(accept_loop(shared.clone()));
        Ok(Self {
            shared,
            runtime: None,
        })
    }

    /// Starts on its own two-thread runtime, for synchronous tests (e.g. ones that run
    /// the `anyray` binary as a subprocess).
    pub fn spawn(config: FakeConfig) -> io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("fake-gateway")
            .enable_all()
            .build()?;
        let mut gw = runtime.block_on(Self::start(config))?;
        gw.runtime = Some(runtime);
        Ok(gw)
    }

    pub fn addr(&self) -> SocketAddr {
        self.shared.addr
    }

    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.shared.addr)
    }

    /// Requests received so far, in completion order of their bodies.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }

    pub fn clear_requests(&self) {
        lock(&self.shared.requests).clear();
    }

    /// TCP connections open right now (including silent ones).
    pub fn open_connections(&self) -> usize {
        self.shared.open.load(Ordering::SeqCst)
    }

    /// TCP connections accepted since start.
    pub fn total_connections(&self) -> usize {
        self.shared.total.load(Ordering::SeqCst) as usize
    }

    /// Streaming responses whose body was dropped before its end, i.e. abandoned by the
    /// client (a `CloseMidStream` abort does not count).
    pub fn cancelled_streams(&self) -> usize {
        self.shared.cancelled.load(Ordering::SeqCst)
    }

    /// Changes the fault. Takes effect for the next request; switching to or from
    /// `Refuse` closes or re-opens the listener before returning. While refusing, the
    /// port stays reserved (bound, not listening), so no other socket of this machine
    /// (another test's server, an outgoing connection) can take it meanwhile.
    ///
    /// # Panics
    /// If the port cannot be bound again after `Refuse` (someone else took it).
    pub fn set_fault(&self, fault: Fault) {
        let refuse = fault == Fault::Refuse;
        *lock(&self.shared.fault) = fault;
        let mut st = lock(&self.shared.listen);
        if st.shutdown {
            return;
        }
        if refuse && st.listener.is_some() {
            // Reserve the port before the listener closes, so it is never free.
            st.reserved = port_socket(self.shared.addr).ok();
            st.listener = None;
            self.shared.kill.send_modify(|g| *g += 1);
        } else if !refuse && st.listener.is_none() {
            st.listener = Some(self.shared.rebind());
            st.reserved = None;
        } else {
            return;
        }
        if let Some(w) = st.waker.take() {
            w.wake();
        }
    }

    /// [`set_fault`](Self::set_fault)`(Refuse)`, then waits (up to 5 s) until every open
    /// connection is closed, as when a gateway process stops. A client's idle keep-alive
    /// connection has then seen its close before the next request, instead of racing it
    /// (the request would meet a reset rather than a refused connect).
    pub async fn refuse_and_close(&self) {
        self.set_fault(Fault::Refuse);
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.open_connections() > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    /// Blocks (polling) until at least `n` requests are recorded; false on timeout.
    /// Don't call it from a current-thread runtime's task: use
    /// [`wait_for_requests_async`](Self::wait_for_requests_async) there.
    pub fn wait_for_requests(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if lock(&self.shared.requests).len() >= n {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Async version of [`wait_for_requests`](Self::wait_for_requests).
    pub async fn wait_for_requests_async(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if lock(&self.shared.requests).len() >= n {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Stops listening now and closes all connections. Idempotent; also done on drop.
    pub fn shutdown(&self) {
        let mut st = lock(&self.shared.listen);
        st.shutdown = true;
        st.listener = None;
        st.reserved = None;
        self.shared.kill.send_modify(|g| *g += 1);
        if let Some(w) = st.waker.take() {
            w.wake();
        }
    }
}

impl Drop for FakeGateway {
    fn drop(&mut self) {
        self.shutdown();
        if let Some(rt) = self.runtime.take() {
            // Non-blocking, so dropping inside an async context is fine too.
            rt.shutdown_background();
        }
    }
}

struct Shared {
    config: FakeConfig,
    addr: SocketAddr,
    runtime: tokio::runtime::Handle,
    fault: Mutex<Fault>,
    /// The listener lives here (not in the accept task) so `set_fault(Refuse)` and
    /// `shutdown` can close the port synchronously.
    listen: Mutex<ListenState>,
    /// Bumped to close every open connection (Refuse, shutdown).
    kill: watch::Sender<u64>,
    requests: Mutex<Vec<RecordedRequest>>,
    log: Option<Mutex<std::fs::File>>,
    open: AtomicUsize,
    total: AtomicU64,
    cancelled: AtomicUsize,
    /// Source of response ids.
    ids: AtomicU64,
    verifier: Option<jwt::Verifier>,
    /// The model calls answered, for the usage endpoint.
    usage: usage::UsageBook,
}

type Accepted = (TcpStream, watch::Receiver<u64>);

struct ListenState {
    listener: Option<TcpListener>,
    /// While refusing: the port, held without listening (see [`port_socket`]).
    reserved: Option<TcpSocket>,
    /// The accept loop's waker, to wake it when the listener changes.
    waker: Option<Waker>,
    shutdown: bool,
}

/// A socket bound to `addr` (port 0: a free one), not yet listening. With SO_REUSEPORT
/// (Unix) a second one can be bound while the first still holds the port: that is how
/// `Refuse` reserves the port before the listener closes, and how the listener comes
/// back before the reservation goes. Bound-only sockets refuse connections.
fn port_socket(addr: SocketAddr) -> io::Result<TcpSocket> {
    let socket = TcpSocket::new_v4()?;
    #[cfg(unix)]
    socket.set_reuseport(true)?;
    socket.bind(addr)?;
    Ok(socket)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking test thread must not cascade into every other user of the fake.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    fn fault(&self) -> Fault {
        lock(&self.fault).clone()
    }

    fn rebind(&self) -> TcpListener {
        let _rt = self.runtime.enter(); // listen() registers with this runtime's reactor
        let mut last = None;
        for _ in 0..50 {
            match port_socket(self.addr).and_then(|socket| socket.listen(1024)) {
                Ok(listener) => return listener,
                Err(e) => last = Some(e),
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "fake gateway: cannot listen again on {}: {last:?}",
            self.addr
        );
    }

    /// Accepts a connection together with its kill subscription. Subscribing under the
    /// `listen` lock (where kills are sent) means no connection can miss a kill.
    fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<Option<io::Result<Accepted>>> {
        let mut st = lock(&self.listen);
        if st.shutdown {
            return Poll::Ready(None);
        }
        if st.waker.as_ref().is_none_or(|w| !w.will_wake(cx.waker())) {
            st.waker = Some(cx.waker().clone());
        }
        match &st.listener {
            Some(l) => l
                .poll_accept(cx)
                .map(|r| Some(r.map(|(s, _)| (s, self.kill.subscribe())))),
            None => Poll::Pending,
        }
    }

    /// A credential header's value as the log shows it with `redact_keys`.
    fn fingerprint(&self, value: &str) -> String {
        let (scheme, key) = match value.split_once(' ') {
            Some((scheme, key)) if scheme.eq_ignore_ascii_case("bearer") => {
                (format!("{scheme} "), key)
            }
            _ => (String::new(), value),
        };
        let cfg = &self.config;
        let known = [&cfg.require_key, &cfg.require_identity];
        let shown = if key.is_empty() {
            String::new()
        } else if known.iter().any(|k| k.as_deref() == Some(key)) {
            REQUIRED_KEY.to_string()
        } else {
            format!("<another key of {} chars>", key.chars().count())
        };
        format!("{scheme}{shown}")
    }

    fn record(&self, req: RecordedRequest) {
        if let Some(log) = &self.log {
            let mut headers = serde_json::Map::new();
            for (n, v) in &req.headers {
                let credential =
                    CREDENTIAL_HEADERS.contains(&n.as_str()) || *n == self.config.identity_header;
                let shown;
                // A JWT access token is a bearer credential: the log names its subject only.
                let v = if v.split(' ').next_back().is_some_and(jwt::Verifier::is_jwt) {
                    "<jwt>"
                } else if self.config.redact_keys && credential {
                    shown = self.fingerprint(v);
                    &shown
                } else {
                    v
                };
                match headers.get_mut(n) {
                    Some(Value::String(prev)) => *prev = format!("{prev}, {v}"),
                    _ => {
                        headers.insert(n.clone(), v.into());
                    }
                }
            }
            let line = json!({
                "method": req.method, "path": req.path, "query": req.query,
                "headers": headers, "body_len": req.body_len, "connection": req.connection,
                "sub": req.subject,
            });
            // One write per line so concurrent lines don't interleave.
            let _ = lock(log).write_all(format!("{line}\n").as_bytes());
        }
        if self.config.record {
            lock(&self.requests).push(req);
        }
    }
}

/// Decrements `open` when a connection task ends, however it ends.
struct ConnGuard(Arc<Shared>);

impl Drop for ConnGuard {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn accept_loop(shared: Arc<Shared>) {
    while let Some(accepted) = poll_fn(|cx| shared.poll_accept(cx)).await {
        let (stream, kill) = match accepted {
            Ok(a) => a,
            Err(_) => {
                // E.g. EMFILE: back off instead of spinning.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        shared.open.fetch_add(1, Ordering::SeqCst);
        let id = shared.total.fetch_add(1, Ordering::SeqCst) + 1;
        let guard = ConnGuard(shared.clone());
        tokio::spawn(serve_connection(shared.clone(), stream, kill, id, guard));
    }
}

async fn serve_connection(
    shared: Arc<Shared>,
    stream: TcpStream,
    mut kill: watch::Receiver<u64>,
    id: u64,
    guard: ConnGuard,
) {
    let _guard = guard;
    if shared.fault() == Fault::Silent {
        let _held = stream;
        let _ = kill.changed().await;
        return;
    }
    let _ = stream.set_nodelay(true);
    let svc_shared = shared.clone();
    let svc = service_fn(move |req| handle(svc_shared.clone(), id, req));
    let conn = hyper::server::conn::http1::Builder::new()
        .header_read_timeout(None) // idle keep-alive connections stay open
        .serve_connection(TokioIo::new(stream), svc);
    tokio::select! {
        _ = conn => {}
        _ = kill.changed() => {}
    }
}

/// Response body: a full buffer, or a channel fed by a producer task so each SSE event
/// goes out as its own frame.
struct FakeBody(BodyKind);

enum BodyKind {
    Full(Option<Bytes>),
    Stream {
        rx: mpsc::Receiver<io::Result<Bytes>>,
        finished: bool,
        shared: Arc<Shared>,
    },
}

impl Body for FakeBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match &mut self.get_mut().0 {
            BodyKind::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            BodyKind::Stream { rx, finished, .. } => {
                let item = std::task::ready!(rx.poll_recv(cx));
                if !matches!(item, Some(Ok(_))) {
                    *finished = true;
                }
                Poll::Ready(item.map(|r| r.map(Frame::data)))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self.0, BodyKind::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match &self.0 {
            BodyKind::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            BodyKind::Stream { .. } => SizeHint::default(),
        }
    }
}

impl Drop for FakeBody {
    fn drop(&mut self) {
        // hyper drops the body early only when the client went away.
        if let BodyKind::Stream {
            finished: false,
            shared,
            ..
        } = &self.0
        {
            shared.cancelled.fetch_add(1, Ordering::SeqCst);
        }
    }
}

type Resp = Response<FakeBody>;

fn full(status: u16, content_type: &str, body: impl Into<Bytes>) -> Resp {
    let mut r = Response::new(FakeBody(BodyKind::Full(Some(body.into()))));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut()
        .insert("content-type", HeaderValue::from_str(content_type).unwrap());
    r
}

fn json_resp(status: u16, v: &Value) -> Resp {
    full(status, "application/json", v.to_string())
}

/// Shaped so both SDK families find `error.message` (Anthropic also wants `type`).
fn error_resp(status: u16, kind: &str, message: &str) -> Resp {
    json_resp(
        status,
        &json!({"type": "error", "error": {"type": kind, "message": message, "code": status}}),
    )
}

const HTML_PAGE: &str = "<!DOCTYPE html>\n<html><head><title>Network Login</title></head>\
<body><h1>Sign in to continue</h1><p>This network requires you to log in before you can \
reach the internet.</p><form method=\"post\" action=\"/login\"><input name=\"user\">\
<button>Log in</button></form></body></html>\n";

async fn handle(
    shared: Arc<Shared>,
    conn: u64,
    req: Request<Incoming>,
) -> Result<Resp, Infallible> {
    let (parts, mut body) = req.into_parts();
    // Read the body as it comes: count everything, buffer up to PARSE_CAP.
    let mut len = 0usize;
    let mut buf = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else { break };
        if let Ok(data) = frame.into_data() {
            len += data.len();
            if len <= PARSE_CAP {
                buf.extend_from_slice(&data);
            }
        }
    }
    let path = parts.uri.path().to_owned();
    let sent_key = match parts.headers.get("authorization") {
        Some(v) => v.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")),
        None => parts.headers.get("x-api-key").and_then(|v| v.to_str().ok()),
    };
    // With an issuer configured, a JWT in the key's place is verified; None: not a JWT.
    let jwt = match (&shared.verifier, sent_key) {
        (Some(v), Some(token)) if jwt::Verifier::is_jwt(token) => Some(v.verify(token).await),
        _ => None,
    };
    if shared.config.record || shared.log.is_some() {
        shared.record(RecordedRequest {
            method: parts.method.to_string(),
            path: path.clone(),
            query: parts.uri.query().map(str::to_owned),
            headers: parts
                .headers
                .iter()
                .map(|(n, v)| (n.to_string(), String::from_utf8_lossy(v.as_bytes()).into()))
                .collect(),
            body_len: len,
            body: if shared.config.record {
                buf[..buf.len().min(RECORDED_BODY_CAP)].to_vec()
            } else {
                Vec::new()
            },
            connection: conn,
            subject: jwt
                .as_ref()
                .and_then(|j| j.as_ref().ok())
                .map(|v| v.sub.clone()),
        });
    }

    let fault = shared.fault();
    match fault {
        Fault::Silent => std::future::pending::<()>().await,
        Fault::SlowFirstByte(d) => tokio::time::sleep(d).await,
        _ => {}
    }
    let cfg = &shared.config;
    let meta = path == "/healthz" || path == DISCOVERY_PATH;
    if !(meta && cfg.keep_discovery) {
        match fault {
            Fault::Status(code) => {
                let kind = match code {
                    429 => "rate_limit_error",
                    503 | 529 => "overloaded_error",
                    _ => "api_error",
                };
                return Ok(error_resp(
                    code,
                    kind,
                    &format!("fake gateway fault: status {code}"),
                ));
            }
            Fault::Html => return Ok(full(200, "text/html; charset=utf-8", HTML_PAGE)),
            _ => {}
        }
    }
    if let (false, Some(key)) = (meta, &cfg.require_identity)
        && parts
            .headers
            .get(cfg.identity_header.as_str())
            .map(|v| v.as_bytes())
            != Some(key.as_bytes())
    {
        let msg = format!("missing or invalid {}", cfg.identity_header);
        return Ok(error_resp(401, "authentication_error", &msg));
    }

    if !meta && (cfg.require_key.is_some() || shared.verifier.is_some()) {
        let key_ok = cfg.require_key.is_some() && sent_key == cfg.require_key.as_deref();
        match &jwt {
            _ if key_ok => {}
            Some(Ok(_)) => {}
            Some(Err(why)) => {
                let msg = format!("fake gateway: invalid access token ({why})");
                return Ok(error_resp(401, "authentication_error", &msg));
            }
            None => {
                let msg =
                    "fake gateway: invalid API key (send it as Authorization: Bearer or x-api-key)";
                return Ok(error_resp(401, "authentication_error", msg));
            }
        }
    }
    if cfg.route_by_header
        && path.starts_with("/v1/")
        && let Some(refusal) = routing_refusal(&parts.headers, &path)
    {
        return Ok(json_resp(
            400,
            &json!({"status": "failure", "message": refusal}),
        ));
    }

    let request_json: Value = if len <= PARSE_CAP {
        serde_json::from_slice(&buf).unwrap_or(Value::Null)
    } else {
        Value::Null
    };
    let header_num =
        |name: &str| -> Option<u64> { parts.headers.get(name)?.to_str().ok()?.trim().parse().ok() };
    let turn = Turn {
        id: shared.ids.fetch_add(1, Ordering::Relaxed) + 1,
        model: request_json["model"]
            .as_str()
            .unwrap_or("fake-model")
            .to_owned(),
        stream: request_json["stream"].as_bool() == Some(true),
        input_tokens: (len / 4).max(1),
        chunks: header_num("x-fake-chunks").map_or(cfg.chunks, |n| n as usize),
        delay: header_num("x-fake-chunk-delay-ms").map_or(cfg.chunk_delay, Duration::from_millis),
        abort_after: match fault {
            Fault::CloseMidStream { after_chunks } => Some(after_chunks),
            _ => None,
        },
    };

    // A model call answered with a 200 is counted for the usage endpoint.
    let billable = parts.method == Method::POST
        && (matches!(
            path.as_str(),
            "/v1/chat/completions" | "/v1/responses" | "/v1/messages"
        ) || (path.starts_with(GEMINI_MODELS) && !path.ends_with(":countTokens")));
    let resp = match (&parts.method, path.as_str()) {
        (&Method::GET, "/healthz") => full(200, "text/plain", "ok"),
        (&Method::GET, "/key/info") if cfg.litellm_key_info => {
            match usage::caller_key(&parts.headers, &cfg.identity_header) {
                Some(key) => json_resp(200, &shared.usage.litellm_key_info(&key, cfg.budget_usd)),
                None => error_resp(401, "auth_error", "No api key passed in."),
            }
        }
        (&Method::GET, usage::USAGE_PATH) if cfg.usage => {
            match usage::caller_key(&parts.headers, &cfg.identity_header) {
                Some(key) => json_resp(
                    200,
                    &shared
                        .usage
                        .answer(&key, usage::since(parts.uri.query()), cfg.budget_usd),
                ),
                None => error_resp(
                    401,
                    "authentication_error",
                    "fake gateway: the usage endpoint answers for the caller's own key; send one",
                ),
            }
        }
        (&Method::GET, DISCOVERY_PATH) => match &cfg.discovery {
            Discovery::Disabled => error_resp(404, "not_found_error", "no discovery here"),
            Discovery::Custom(v) => json_resp(200, v),
            Discovery::Default => json_resp(200, &default_discovery(cfg, &fault)),
        },
        (&Method::GET, "/v1/models") => json_resp(200, &models()),
        (&Method::POST, "/v1/chat/completions") => {
            let include_usage = request_json["stream_options"]["include_usage"] == true;
            chat_completions(&shared, &turn, include_usage)
        }
        (&Method::POST, "/v1/responses") => responses(&shared, &turn),
        // Codex first tries the Responses API over a WebSocket; 426 (not 404, which it
        // retries with backoff for seconds) makes it fall back to HTTPS at once.
        (&Method::GET, "/v1/responses") => error_resp(
            426,
            "invalid_request_error",
            "fake gateway: no WebSocket transport, use POST /v1/responses",
        ),
        (&Method::POST, "/v1/messages") => messages(&shared, &turn),
        (&Method::POST, "/v1/messages/count_tokens") => {
            json_resp(200, &json!({"input_tokens": turn.input_tokens}))
        }
        (&Method::POST, p) if p.starts_with(GEMINI_MODELS) => {
            let sse = parts
                .uri
                .query()
                .is_some_and(|q| q.split('&').any(|kv| kv == "alt=sse"));
            gemini(
                &shared,
                &turn,
                &p[GEMINI_MODELS.len()..],
                &request_json,
                sse,
            )
        }
        (m, p) => error_resp(
            404,
            "not_found_error",
            &format!("fake gateway: no route for {m} {p}"),
        ),
    };
    if billable && resp.status() == StatusCode::OK {
        let key = usage::caller_key(&parts.headers, &cfg.identity_header).unwrap_or_default();
        let tokens = (
            turn.input_tokens as u64,
            Turn::output_tokens(&cfg.text) as u64,
        );
        shared.usage.record(
            &key,
            usage::utc_date(now_secs()),
            &turn.model,
            usage::client_of(&parts.headers),
            tokens,
        );
    }
    Ok(with_request_id(resp, turn.id))
}

/// What Portkey answers a `/v1/*` request without a routing header, or with one for
/// another provider than the path's (a stricter check than Portkey's, so a test sees
/// that each route got its own header).
fn routing_refusal(headers: &hyper::HeaderMap, path: &str) -> Option<&'static str> {
    if headers.contains_key("x-portkey-config") {
        return None;
    }
    let Some(provider) = headers
        .get("x-portkey-provider")
        .and_then(|v| v.to_str().ok())
    else {
        return Some("Either x-portkey-config or x-portkey-provider header is required");
    };
    let fits = if path.starts_with("/v1/messages") {
        provider == "anthropic"
    } else if path == "/v1/models" {
        matches!(provider, "openai" | "anthropic")
    } else {
        provider == "openai"
    };
    (!fits).then_some("Invalid provider passed")
}

fn with_request_id(mut r: Resp, id: u64) -> Resp {
    let v = HeaderValue::from_str(&format!("req_fake{id:08}")).unwrap();
    r.headers_mut().insert("x-request-id", v.clone());
    r.headers_mut().insert("request-id", v);
    r
}

fn default_discovery(cfg: &FakeConfig, fault: &Fault) -> Value {
    let status = if *fault == Fault::OptimizerDown {
        "down"
    } else {
        cfg.optimizer_status.as_str()
    };
    let mut doc = json!({
        "version": "fake-1",
        "routes": {"openai": "/v1", "anthropic": "/", "gemini": "/gemini",
                   "bedrock": "/bedrock", "vertex": "/vertex", "azure": "/azure"},
        "optimizer": {"status": status, "budget_ms": cfg.budget_ms, "fail_open": cfg.fail_open},
        "identity_header": cfg.identity_header,
    });
    if let Some(oidc) = &cfg.oidc {
        doc["auth"] = json!({"scheme": "key", "oidc": {"issuer": oidc.issuer,
            "client_id": oidc.client_id, "scopes": oidc.scopes, "resource": oidc.audience}});
    }
    if cfg.usage {
        doc["usage"] = usage::USAGE_PATH.into();
    }
    doc
}

/// Works as both an OpenAI and an Anthropic model list (each ignores the other's fields).
fn models() -> Value {
    let model = |id: &str, name: &str| {
        json!({"id": id, "object": "model", "type": "model", "created": 1_700_000_000,
               "created_at": "2023-11-14T22:13:20Z", "display_name": name, "owned_by": "anyray-fake"})
    };
    json!({
        "object": "list",
        "data": [model("fake-model", "Fake Model"), model("gpt-4o-mini", "GPT-4o mini"),
                 model("claude-sonnet-4-5", "Claude Sonnet 4.5")],
        "has_more": false, "first_id": "fake-model", "last_id": "claude-sonnet-4-5",
    })
}

/// What one model call needs to know.
struct Turn {
    id: u64,
    model: String,
    stream: bool,
    input_tokens: usize,
    chunks: usize,
    delay: Duration,
    abort_after: Option<usize>,
}

impl Turn {
    fn output_tokens(text: &str) -> usize {
        text.split_whitespace().count().max(1)
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Splits `text` into `n` non-empty pieces on char boundaries (fewer if it is shorter).
fn split_text(text: &str, n: usize) -> Vec<&str> {
    let mut bounds: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
    bounds.push(text.len());
    let chars = bounds.len() - 1;
    let n = n.max(1);
    (0..n)
        .map(|k| &text[bounds[k * chars / n]..bounds[(k + 1) * chars / n]])
        .filter(|s| !s.is_empty())
        .collect()
}

fn sse(event: Option<&str>, data: &Value) -> Bytes {
    let mut s = String::new();
    if let Some(e) = event {
        let _ = writeln!(s, "event: {e}");
    }
    let _ = write!(s, "data: {data}\n\n");
    s.into()
}

/// Events of one streamed answer: `head`, then one per content chunk, then `tail`.
struct Events {
    head: Vec<Bytes>,
    deltas: Vec<Bytes>,
    tail: Vec<Bytes>,
}

/// Starts a producer task feeding an SSE response.
fn stream_resp(shared: &Arc<Shared>, turn: &Turn, ev: Events) -> Resp {
    let (tx, rx) = mpsc::channel(8);
    let (delay, abort_after) = (turn.delay, turn.abort_after);
    tokio::spawn(async move {
        // A failed send means the client is gone (FakeBody::drop counted it): stop.
        for b in ev.head {
            if tx.send(Ok(b)).await.is_err() {
                return;
            }
        }
        for (i, b) in ev.deltas.into_iter().enumerate() {
            if abort_after == Some(i) {
                return abort(&tx).await;
            }
            if i > 0 && !delay.is_zero() {
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = tx.closed() => return,
                }
            }
            if tx.send(Ok(b)).await.is_err() {
                return;
            }
        }
        if abort_after.is_some() {
            return abort(&tx).await; // fewer chunks than asked for: abort before the end
        }
        for b in ev.tail {
            if tx.send(Ok(b)).await.is_err() {
                return;
            }
        }
    });
    let mut r = Response::new(FakeBody(BodyKind::Stream {
        rx,
        finished: false,
        shared: shared.clone(),
    }));
    let h = r.headers_mut();
    h.insert(
        "content-type",
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert("cache-control", HeaderValue::from_static("no-cache"));
    r
}

/// Makes hyper abort the connection (no chunked terminator). The pause first lets hyper
/// flush the chunks already sent: an error queued right behind them could discard them.
async fn abort(tx: &mpsc::Sender<io::Result<Bytes>>) {
    tokio::time::sleep(Duration::from_millis(50)).await;
    let err = io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "fake gateway: CloseMidStream",
    );
    let _ = tx.send(Err(err)).await;
}

fn chat_completions(shared: &Arc<Shared>, turn: &Turn, include_usage: bool) -> Resp {
    let text = shared.config.text.as_str();
    let id = format!("chatcmpl-fake{:08}", turn.id);
    let created = now_secs();
    let out = Turn::output_tokens(text);
    let usage = json!({"prompt_tokens": turn.input_tokens, "completion_tokens": out,
                       "total_tokens": turn.input_tokens + out});
    if !turn.stream {
        return json_resp(
            200,
            &json!({
                "id": id, "object": "chat.completion", "created": created, "model": turn.model,
                "choices": [{"index": 0, "finish_reason": "stop", "logprobs": null,
                             "message": {"role": "assistant", "content": text, "refusal": null}}],
                "usage": usage, "system_fingerprint": "fp_fake",
            }),
        );
    }
    let chunk = |choices: Value, usage: Value| {
        let mut v = json!({"id": id, "object": "chat.completion.chunk", "created": created,
                           "model": turn.model, "system_fingerprint": "fp_fake", "choices": choices});
        if include_usage {
            v["usage"] = usage;
        }
        sse(None, &v)
    };
    let choice = |delta: Value, finish: Value| json!([{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]);
    let mut tail = vec![chunk(choice(json!({}), json!("stop")), Value::Null)];
    if include_usage {
        tail.push(chunk(json!([]), usage));
    }
    tail.push(Bytes::from_static(b"data: [DONE]\n\n"));
    let events = Events {
        head: vec![chunk(
            choice(json!({"role": "assistant", "content": ""}), Value::Null),
            Value::Null,
        )],
        deltas: split_text(text, turn.chunks)
            .into_iter()
            .map(|p| chunk(choice(json!({"content": p}), Value::Null), Value::Null))
            .collect(),
        tail,
    };
    stream_resp(shared, turn, events)
}

fn responses(shared: &Arc<Shared>, turn: &Turn) -> Resp {
    let text = shared.config.text.as_str();
    let resp_id = format!("resp_fake{:08}", turn.id);
    let item_id = format!("msg_fake{:08}", turn.id);
    let out = Turn::output_tokens(text);
    let response = |status: &str, output: Value, usage: Value| {
        json!({
            "id": resp_id, "object": "response", "created_at": now_secs(), "status": status,
            "error": null, "incomplete_details": null, "instructions": null,
            "max_output_tokens": null, "model": turn.model, "output": output,
            "parallel_tool_calls": true, "previous_response_id": null,
            "reasoning": {"effort": null, "summary": null}, "store": false,
            "temperature": 1.0, "text": {"format": {"type": "text"}}, "tool_choice": "auto",
            "tools": [], "top_p": 1.0, "truncation": "disabled", "usage": usage,
            "user": null, "metadata": {},
        })
    };
    let part = json!({"type": "output_text", "text": text, "annotations": [], "logprobs": []});
    let item = |status: &str, content: Value| json!({"id": item_id, "type": "message", "status": status, "role": "assistant", "content": content});
    let usage = json!({
        "input_tokens": turn.input_tokens, "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": out, "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": turn.input_tokens + out,
    });
    let done = response(
        "completed",
        json!([item("completed", json!([part]))]),
        usage,
    );
    if !turn.stream {
        return json_resp(200, &done);
    }

    let seq = AtomicU64::new(0);
    let ev = |kind: &str, mut v: Value| {
        v["type"] = kind.into();
        v["sequence_number"] = seq.fetch_add(1, Ordering::Relaxed).into();
        sse(Some(kind), &v)
    };
    let at = json!({"item_id": item_id, "output_index": 0, "content_index": 0});
    let with = |extra: Value| {
        let mut v = at.clone();
        v.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        v
    };
    let empty_part = json!({"type": "output_text", "text": "", "annotations": [], "logprobs": []});
    let head = vec![
        ev(
            "response.created",
            json!({"response": response("in_progress", json!([]), Value::Null)}),
        ),
        ev(
            "response.in_progress",
            json!({"response": response("in_progress", json!([]), Value::Null)}),
        ),
        ev(
            "response.output_item.added",
            json!({"output_index": 0, "item": item("in_progress", json!([]))}),
        ),
        ev(
            "response.content_part.added",
            with(json!({"part": empty_part})),
        ),
    ];
    let deltas = split_text(text, turn.chunks)
        .into_iter()
        .map(|p| {
            ev(
                "response.output_text.delta",
                with(json!({"delta": p, "logprobs": []})),
            )
        })
        .collect();
    let tail = vec![
        ev(
            "response.output_text.done",
            with(json!({"text": text, "logprobs": []})),
        ),
        ev("response.content_part.done", with(json!({"part": part}))),
        ev(
            "response.output_item.done",
            json!({"output_index": 0, "item": item("completed", json!([part]))}),
        ),
        ev("response.completed", json!({"response": done})),
    ];
    stream_resp(shared, turn, Events { head, deltas, tail })
}

/// Where the Gemini API's model methods live on the gateway (its `gemini` route).
const GEMINI_MODELS: &str = "/gemini/v1beta/models/";

/// `{model}:{method}` of the Gemini API (`rest` is the path after [`GEMINI_MODELS`]).
fn gemini(
    shared: &Arc<Shared>,
    turn: &Turn,
    rest: &str,
    request: &Value,
    sse_wanted: bool,
) -> Resp {
    let Some((model, method)) = rest.split_once(':') else {
        return gemini_error(404, &format!("fake gateway: no Gemini method in {rest}"));
    };
    let config = &request["generationConfig"];
    let text = if config["responseMimeType"] == "application/json" {
        let schema = match &config["responseJsonSchema"] {
            Value::Null => &config["responseSchema"],
            schema => schema,
        };
        fitting(schema).to_string()
    } else {
        shared.config.text.clone()
    };
    let out = Turn::output_tokens(&text);
    let usage = json!({"promptTokenCount": turn.input_tokens, "candidatesTokenCount": out,
                       "totalTokenCount": turn.input_tokens + out});
    let response_id = format!("fake{:08}", turn.id);
    let chunk = |text: &str, last: bool| {
        let mut candidate =
            json!({"content": {"role": "model", "parts": [{"text": text}]}, "index": 0});
        let mut v = json!({"candidates": [], "modelVersion": model, "responseId": response_id});
        if last {
            candidate["finishReason"] = json!("STOP");
            v["usageMetadata"] = usage.clone();
        }
        v["candidates"] = json!([candidate]);
        v
    };
    match method {
        "generateContent" => json_resp(200, &chunk(&text, true)),
        "countTokens" => json_resp(200, &json!({"totalTokens": turn.input_tokens})),
        "streamGenerateContent" => {
            let pieces = split_text(&text, turn.chunks);
            let last = pieces.len().saturating_sub(1);
            let chunks: Vec<Value> = pieces
                .iter()
                .enumerate()
                .map(|(i, piece)| chunk(piece, i == last))
                .collect();
            if !sse_wanted {
                return json_resp(200, &Value::Array(chunks));
            }
            let events = Events {
                head: Vec::new(),
                deltas: chunks.iter().map(|c| sse(None, c)).collect(),
                tail: Vec::new(),
            };
            stream_resp(shared, turn, events)
        }
        other => gemini_error(404, &format!("fake gateway: no Gemini method {other}")),
    }
}

/// A Google API error body.
fn gemini_error(status: u16, message: &str) -> Resp {
    json_resp(
        status,
        &json!({"error": {"code": status, "message": message, "status": "NOT_FOUND"}}),
    )
}

/// A small value that satisfies a JSON schema (the subset Gemini JSON mode uses:
/// objects with required properties, strings, numbers with bounds, booleans, arrays,
/// enums), so a client that validates the answer accepts it.
fn fitting(schema: &Value) -> Value {
    if let Some(first) = schema["enum"].as_array().and_then(|e| e.first()) {
        return first.clone();
    }
    let kind = schema["type"]
        .as_str()
        .unwrap_or("object")
        .to_ascii_lowercase();
    match kind.as_str() {
        "object" => {
            let mut out = serde_json::Map::new();
            if let Some(props) = schema["properties"].as_object() {
                for (name, sub) in props {
                    out.insert(name.clone(), fitting(sub));
                }
            }
            Value::Object(out)
        }
        "string" => json!("fake"),
        "integer" | "number" => schema["minimum"]
            .as_f64()
            .map_or(json!(1), |min| json!(min.max(1.0).floor() as i64)),
        "boolean" => json!(true),
        "array" => json!([]),
        _ => Value::Null,
    }
}

fn messages(shared: &Arc<Shared>, turn: &Turn) -> Resp {
    let text = shared.config.text.as_str();
    let id = format!("msg_fake{:08}", turn.id);
    let out = Turn::output_tokens(text);
    let message = |content: Value, stop: Value, output_tokens: usize| {
        json!({
            "id": id, "type": "message", "role": "assistant", "model": turn.model,
            "content": content, "stop_reason": stop, "stop_sequence": null,
            "usage": {"input_tokens": turn.input_tokens, "output_tokens": output_tokens,
                      "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
        })
    };
    if !turn.stream {
        let content = json!([{"type": "text", "text": text}]);
        return json_resp(200, &message(content, json!("end_turn"), out));
    }
    let ev = |kind: &str, mut v: Value| {
        v["type"] = kind.into();
        sse(Some(kind), &v)
    };
    let head = vec![
        ev(
            "message_start",
            json!({"message": message(json!([]), Value::Null, 1)}),
        ),
        ev(
            "content_block_start",
            json!({"index": 0, "content_block": {"type": "text", "text": ""}}),
        ),
        ev("ping", json!({})),
    ];
    let deltas = split_text(text, turn.chunks)
        .into_iter()
        .map(|p| {
            ev(
                "content_block_delta",
                json!({"index": 0, "delta": {"type": "text_delta", "text": p}}),
            )
        })
        .collect();
    let tail = vec![
        ev("content_block_stop", json!({"index": 0})),
        ev(
            "message_delta",
            json!({"delta": {"stop_reason": "end_turn", "stop_sequence": null},
                   "usage": {"output_tokens": out}}),
        ),
        ev("message_stop", json!({})),
    ];
    stream_resp(shared, turn, Events { head, deltas, tail })
}

#[cfg(test)]
mod wire_tests;

#[cfg(test)]
mod tests {
    use super::split_text;

    #[test]
    fn split_keeps_text_and_char_boundaries() {
        let t = "héllo wörld, ça va?";
        for n in [0, 1, 2, 5, 7, 19, 40] {
            let parts = split_text(t, n);
            assert_eq!(parts.concat(), t);
            assert!(parts.len() <= n.max(1));
        }
        assert_eq!(split_text("abcdefghij", 5).len(), 5);
        assert!(split_text("", 5).is_empty());
    }
}
