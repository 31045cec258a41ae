//! Load and latency client for the benchmark harness (`bench/run.sh`).
//!
//! cargo run --release --example loadgen -- MODE [--option value]...
//!
//! Every mode prints one JSON line on stdout (`bench_report` turns them into the table),
//! is bounded in request count and time, and refuses any address but loopback.
//!
//! - `fixed-rate --url U [--rate 2000] [--duration-s 5] [--warmup-s 1] [--connections 32]`:
//!   open loop. A pacer thread releases request *i* at `start + i/rate` and latency is
//!   measured from that intended time, so a stall is charged for every request it held
//!   back (no coordinated omission). Several comma-separated URLs (and `--target`
//!   names) take turns in slices of `--slice-ms` (default 100), each at the full rate
//!   and on connections of its own, for `duration` each; one line per URL. Interleaved,
//!   the machine's drifts (a busy neighbour, the clock speed) fall on every target
//!   alike, which separate runs of a few seconds each do not give.
//! - `max --url U [--duration-s 3] [--warmup-s 1] [--connections 32] [--requests N]`:
//!   closed loop, each connection sends back to back; reports req/s. With `--requests`
//!   the run ends after exactly N measured requests (or the duration), for counting a
//!   server's instructions per request (`bench/run.sh --instructions`).
//! - `sse --url U --direct-url D [--streams 10] [--stagger-ms 7]`: pairs of SSE streams, one
//!   through `U` and one to the upstream `D`, started together on warm keep-alive
//!   connections. Reports the added time to first event and how late chunks arrive
//!   against their nominal spacing, through the target and direct (see [`gap_excess`]).
//! - `streams --url U [--streams 1000] [--ramp-ms 200]`: that many concurrent SSE
//!   streams, each on its own connection; reports how many completed and how many were
//!   open at once.
//! - `bigbody --url U [--bytes 5242880] [--count 5]`: POSTs of one large JSON body.
//! - `wait --url U [--path /healthz] [--timeout-s 10]`: poll until the URL answers HTTP.
//! - `free-port`: print a free loopback TCP port.
//!
//! Common options: `--target NAME`, `--round N` and `--scenario NAME` (default: the mode;
//! it tells apart runs of one mode in different set-ups) are copied into the output line,
//! `--model M` (default `fake-model`), `--path P` (default `/v1/chat/completions`),
//! `--chunks 50` / `--chunk-delay-ms 10` (sent as the fake gateway's `x-fake-*` headers),
//! `--threads 1` (client runtime threads; 1 leaves the other core to the servers).

use std::collections::HashMap;
use std::io;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::task::JoinSet;
use tokio::time::timeout;

type Sender = SendRequest<Full<Bytes>>;

/// No single request may take longer than this; it then counts as an error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

fn main() {
    let mut args = Args::parse().unwrap_or_else(|e| fail(2, &e));
    let threads: usize = args.take("threads", 1).unwrap_or_else(|e| fail(2, &e));
    let mut rt = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(threads);
        b
    };
    let rt = rt.enable_all().build().expect("tokio runtime");
    match rt.block_on(run(&mut args)) {
        // (A string holds several lines, already JSON.)
        Ok(Some(Value::String(lines))) => println!("{lines}"),
        Ok(Some(line)) => println!("{line}"),
        Ok(None) => {}
        Err(e) => fail(1, &e),
    }
}

fn fail(code: i32, msg: &str) -> ! {
    eprintln!("loadgen: {msg}");
    std::process::exit(code)
}

async fn run(args: &mut Args) -> Result<Option<Value>, String> {
    let mode = args.mode.clone();
    if mode == "free-port" {
        args.finish()?;
        let l = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        let port = l.local_addr().map_err(|e| e.to_string())?.port();
        println!("{port}");
        return Ok(None);
    }
    let urls: String = args.take_required("url")?;
    let target = Target::parse(urls.split(',').next().unwrap_or_default())?;
    let label: String = args.take("target", String::new())?;
    let scenario: String = args.take("scenario", mode.clone())?;
    let round: u32 = args.take("round", 0)?;
    let path: String = args.take("path", "/v1/chat/completions".to_owned())?;
    let model: String = args.take("model", "fake-model".to_owned())?;
    let sse = SseShape {
        chunks: args.take("chunks", 50)?,
        delay_ms: args.take("chunk-delay-ms", 10)?,
    };
    let req = RequestTemplate { path, model };
    let mut out = match mode.as_str() {
        "wait" => {
            let path: String = args.take("path", "/healthz".to_owned())?;
            let limit = secs(args.take("timeout-s", 10.0)?);
            args.finish()?;
            wait_ready(&target, &path, limit).await?;
            return Ok(None);
        }
        "fixed-rate" => {
            let rate: f64 = args.take("rate", 2000.0)?;
            let duration = secs(args.take("duration-s", 5.0)?);
            let warmup = secs(args.take("warmup-s", 1.0)?);
            let conns = args.take("connections", 32)?;
            let slice = Duration::from_millis(args.take("slice-ms", 100)?.max(1));
            args.finish()?;
            if !(1.0..=200_000.0).contains(&rate) {
                return Err("--rate must be between 1 and 200000".into());
            }
            let targets = urls
                .split(',')
                .map(Target::parse)
                .collect::<Result<Vec<_>, _>>()?;
            let labels: Vec<&str> = label.split(',').collect();
            if targets.len() > 1 && labels.len() != targets.len() {
                return Err("--target needs one name per --url".into());
            }
            let plan = Pacing {
                rate,
                warmup,
                duration,
                slice,
            };
            let lines = fixed_rate(&targets, &req, &plan, conns).await?;
            let lines = lines.into_iter().zip(labels).map(|(mut line, name)| {
                let obj = line.as_object_mut().expect("results are objects");
                obj.insert("scenario".into(), scenario.clone().into());
                obj.insert("target".into(), name.into());
                obj.insert("round".into(), round.into());
                line.to_string()
            });
            return Ok(Some(Value::String(lines.collect::<Vec<_>>().join("\n"))));
        }
        "max" => {
            let duration = secs(args.take("duration-s", 3.0)?);
            let warmup = secs(args.take("warmup-s", 1.0)?);
            let conns = args.take("connections", 32)?;
            let requests = args.take("requests", u64::MAX)?;
            args.finish()?;
            max_throughput(&target, &req, warmup, duration, conns, requests).await?
        }
        "sse" => {
            let direct = Target::parse(&args.take_required::<String>("direct-url")?)?;
            let streams = args.take("streams", 10)?;
            let stagger = Duration::from_millis(args.take("stagger-ms", 7)?);
            args.finish()?;
            sse_pairs(&target, &req, &direct, sse, streams, stagger).await?
        }
        "streams" => {
            let streams = args.take("streams", 1000)?;
            let ramp = Duration::from_millis(args.take("ramp-ms", 200)?);
            args.finish()?;
            concurrent_streams(&target, &req, sse, streams, ramp).await?
        }
        "bigbody" => {
            let bytes = args.take("bytes", 5 * 1024 * 1024)?;
            let count = args.take("count", 5)?;
            args.finish()?;
            big_body(&target, &req, bytes, count).await?
        }
        other => return Err(format!("unknown mode {other}")),
    };
    let obj = out.as_object_mut().expect("results are objects");
    obj.insert("scenario".into(), scenario.into());
    obj.insert("target".into(), label.into());
    obj.insert("round".into(), round.into());
    Ok(Some(out))
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s.clamp(0.0, 600.0))
}

/// `--key value` options, each taken once; leftovers are an error.
struct Args {
    mode: String,
    opts: HashMap<String, String>,
}

impl Args {
    fn parse() -> Result<Self, String> {
        let mut it = std::env::args().skip(1);
        let mode = it.next().ok_or("usage: loadgen MODE [--option value]...")?;
        let mut opts = HashMap::new();
        while let Some(arg) = it.next() {
            let key = arg
                .strip_prefix("--")
                .ok_or_else(|| format!("unexpected argument {arg}"))?;
            let value = it.next().ok_or_else(|| format!("{arg} needs a value"))?;
            opts.insert(key.to_owned(), value);
        }
        Ok(Self { mode, opts })
    }

    fn take<T: FromStr>(&mut self, key: &str, default: T) -> Result<T, String> {
        match self.opts.remove(key) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| format!("--{key}: bad value {v}")),
        }
    }

    fn take_required<T: FromStr>(&mut self, key: &str) -> Result<T, String> {
        let v = self
            .opts
            .remove(key)
            .ok_or_else(|| format!("{} needs --{key}", self.mode))?;
        v.parse().map_err(|_| format!("--{key}: bad value {v}"))
    }

    fn finish(&self) -> Result<(), String> {
        match self.opts.keys().next() {
            Some(k) => Err(format!("unknown option --{k} for {}", self.mode)),
            None => Ok(()),
        }
    }
}

/// A plain-HTTP loopback base URL such as `http://127.0.0.1:8080` (a path prefix is kept).
#[derive(Clone)]
struct Target {
    addr: SocketAddr,
    authority: String,
    base_path: String,
}

impl Target {
    fn parse(url: &str) -> Result<Self, String> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| format!("{url}: only http:// URLs are supported"))?;
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let addr = authority
            .to_socket_addrs()
            .map_err(|e| format!("{url}: {e}"))?
            .next()
            .ok_or_else(|| format!("{url}: no address"))?;
        if !addr.ip().is_loopback() {
            return Err(format!("{url}: loadgen only sends to loopback addresses"));
        }
        Ok(Self {
            addr,
            authority: authority.to_owned(),
            base_path: path.trim_end_matches('/').to_owned(),
        })
    }

    async fn connect(&self) -> io::Result<Sender> {
        let tcp = TcpStream::connect(self.addr).await?;
        tcp.set_nodelay(true)?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
            .await
            .map_err(io::Error::other)?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(sender)
    }

    fn request(&self, method: &str, path: &str, body: Bytes) -> Request<Full<Bytes>> {
        Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base_path))
            .header("host", &self.authority)
            .header("content-type", "application/json")
            .header("authorization", "Bearer sk-bench-not-a-secret")
            .body(Full::new(body))
            .expect("valid request")
    }
}

#[derive(Clone, Copy)]
struct SseShape {
    chunks: u32,
    delay_ms: u64,
}

/// The requests a scenario sends: chat completions, small, streamed or large.
#[derive(Clone)]
struct RequestTemplate {
    path: String,
    model: String,
}

impl RequestTemplate {
    fn small(&self, target: &Target) -> Request<Full<Bytes>> {
        let body = json!({"model": self.model,
            "messages": [{"role": "user", "content": "Say hello."}]});
        target.request("POST", &self.path, body.to_string().into())
    }

    fn streaming(&self, target: &Target, shape: SseShape) -> Request<Full<Bytes>> {
        let body = json!({"model": self.model, "stream": true,
            "messages": [{"role": "user", "content": "Say hello slowly."}]});
        let mut req = target.request("POST", &self.path, body.to_string().into());
        let h = req.headers_mut();
        h.insert("x-fake-chunks", shape.chunks.into());
        h.insert("x-fake-chunk-delay-ms", shape.delay_ms.into());
        req
    }

    /// A valid chat request of exactly `bytes` bytes (one long user message).
    fn big(&self, target: &Target, bytes: usize) -> Request<Full<Bytes>> {
        let head = format!(
            r#"{{"model":"{}","messages":[{{"role":"user","content":""#,
            self.model
        );
        let tail = r#""}]}"#;
        let fill = bytes.saturating_sub(head.len() + tail.len());
        let mut body = Vec::with_capacity(bytes);
        body.extend_from_slice(head.as_bytes());
        body.resize(head.len() + fill, b'a');
        body.extend_from_slice(tail.as_bytes());
        target.request("POST", &self.path, body.into())
    }
}

/// Sends one request and reads the whole response; non-2xx is an error.
async fn exchange(sender: &mut Sender, req: Request<Full<Bytes>>) -> Result<usize, String> {
    sender.ready().await.map_err(|e| e.to_string())?;
    let resp = sender.send_request(req).await.map_err(|e| e.to_string())?;
    let status = resp.status();
    let body = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    if !status.is_success() {
        let text = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
        return Err(format!("HTTP {status}: {text}"));
    }
    Ok(body.len())
}

/// A keep-alive connection that reconnects after an error.
struct Conn {
    target: Target,
    sender: Option<Sender>,
}

impl Conn {
    async fn open(target: &Target) -> Result<Self, String> {
        let sender = target.connect().await.map_err(|e| e.to_string())?;
        Ok(Self {
            target: target.clone(),
            sender: Some(sender),
        })
    }

    async fn call(&mut self, req: Request<Full<Bytes>>) -> Result<usize, String> {
        let sender = match &mut self.sender {
            Some(s) if !s.is_closed() => s,
            _ => self
                .sender
                .insert(self.target.connect().await.map_err(|e| e.to_string())?),
        };
        let result = match timeout(REQUEST_TIMEOUT, exchange(sender, req)).await {
            Ok(r) => r,
            Err(_) => Err("request timed out".into()),
        };
        if result.is_err() {
            self.sender = None;
        }
        result
    }
}

async fn open_all(target: &Target, n: usize) -> Result<Vec<Conn>, String> {
    let mut conns = Vec::with_capacity(n);
    for _ in 0..n.max(1) {
        conns.push(Conn::open(target).await?);
    }
    Ok(conns)
}

/// Latencies of one run, in nanoseconds.
#[derive(Default)]
struct Samples {
    nanos: Vec<u64>,
    errors: u64,
    first_error: Option<String>,
}

impl Samples {
    fn merge(&mut self, other: Samples) {
        self.nanos.extend(other.nanos);
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    fn error(&mut self, e: String) {
        self.errors += 1;
        self.first_error.get_or_insert(e);
    }

    /// `{p50_us, p90_us, p99_us, p999_us, max_us, mean_us, requests, errors, first_error}`.
    fn summary(mut self) -> Value {
        self.nanos.sort_unstable();
        let s = &self.nanos;
        let mean = if s.is_empty() {
            0.0
        } else {
            s.iter().map(|&n| n as f64).sum::<f64>() / s.len() as f64
        };
        json!({
            "requests": s.len(), "errors": self.errors, "first_error": self.first_error,
            "p50_us": us(percentile(s, 50.0)), "p90_us": us(percentile(s, 90.0)),
            "p99_us": us(percentile(s, 99.0)), "p999_us": us(percentile(s, 99.9)),
            "max_us": us(s.last().copied().unwrap_or(0)), "mean_us": us(mean as u64),
        })
    }
}

/// Nearest-rank percentile of sorted samples.
fn percentile<T: Copy + Default>(sorted: &[T], p: f64) -> T {
    if sorted.is_empty() {
        return T::default();
    }
    // The epsilon keeps 99.9 % of 1000 at rank 999 despite float rounding.
    let rank = ((p / 100.0) * sorted.len() as f64 - 1e-9).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn us(nanos: u64) -> f64 {
    (nanos as f64 / 100.0).round() / 10.0
}

fn nanos(d: Duration) -> u64 {
    d.as_nanos().min(u64::MAX as u128) as u64
}

/// When a fixed-rate run sends: `rate` requests a second, after a warm-up, targets
/// taking turns in slices.
struct Pacing {
    rate: f64,
    warmup: Duration,
    duration: Duration,
    slice: Duration,
}

async fn fixed_rate(
    targets: &[Target],
    req: &RequestTemplate,
    plan: &Pacing,
    conns: usize,
) -> Result<Vec<Value>, String> {
    let mut pools = Vec::with_capacity(targets.len());
    for target in targets {
        pools.push(open_all(target, conns).await?);
    }
    // With n targets taking turns, the run lasts n times as long, warm-up included.
    let n = targets.len().max(1);
    let (warmup, duration) = (plan.warmup * n as u32, plan.duration * n as u32);
    let total = ((warmup + duration).as_secs_f64() * plan.rate).ceil() as u64;
    let interval_ns = 1e9 / plan.rate;
    let slice_ns = plan.slice.as_nanos().max(1);
    let start = Instant::now() + Duration::from_millis(20);
    let measure_from = start + warmup;
    // Requests not yet sent by then are dropped as errors: the run stays bounded even
    // when the server stalls.
    let deadline = start + warmup + duration + Duration::from_secs(2);

    // std::thread::sleep wakes within ~60 µs; tokio's timer has 1 ms ticks, too coarse
    // for a 500 µs interval.
    let (txs, rxs): (Vec<_>, Vec<_>) = (0..n)
        .map(|_| tokio::sync::mpsc::unbounded_channel::<Instant>())
        .unzip();
    let pacer = std::thread::spawn(move || {
        for i in 0..total {
            let offset = Duration::from_nanos((i as f64 * interval_ns) as u64);
            let at = start + offset;
            let now = Instant::now();
            if at > now {
                std::thread::sleep(at - now);
            }
            let turn = (offset.as_nanos() / slice_ns) as usize % n;
            if txs[turn].send(at).is_err() {
                break;
            }
        }
    });
    let mut workers = JoinSet::new();
    for (turn, (conns, rx)) in pools.into_iter().zip(rxs).enumerate() {
        // Free workers queue on the mutex in order, so each release goes to an idle
        // connection.
        let rx = Arc::new(tokio::sync::Mutex::new(rx));
        for mut conn in conns {
            let rx = rx.clone();
            let (make, target) = (req.clone(), targets[turn].clone());
            workers.spawn(async move {
                let mut samples = Samples::default();
                let mut lag = Vec::new();
                loop {
                    let intended = rx.lock().await.recv().await;
                    let Some(intended) = intended else { break };
                    let sent = Instant::now();
                    if sent > deadline {
                        samples.error("still queued when the run ended: it serves fewer requests per second than offered".into());
                        continue;
                    }
                    let result = conn.call(make.small(&target)).await;
                    let done = Instant::now();
                    if intended < measure_from {
                        continue;
                    }
                    lag.push(nanos(sent - intended));
                    match result {
                        Ok(_) => samples.nanos.push(nanos(done - intended)),
                        Err(e) => samples.error(e),
                    }
                }
                (turn, samples, lag)
            });
        }
    }
    let mut results: Vec<(Samples, Vec<u64>)> = (0..n).map(|_| Default::default()).collect();
    while let Some(joined) = workers.join_next().await {
        let (turn, s, l) = joined.map_err(|e| e.to_string())?;
        results[turn].0.merge(s);
        results[turn].1.extend(l);
    }
    let _ = pacer.join();
    Ok(results
        .into_iter()
        .map(|(samples, mut lag)| {
            lag.sort_unstable();
            // Each target had the measured window for 1/n of its length.
            let served = samples.nanos.len() as f64 / plan.duration.as_secs_f64().max(1e-9);
            let mut out = samples.summary();
            let o = out.as_object_mut().expect("object");
            o.insert("rate".into(), plan.rate.into());
            o.insert("achieved_rps".into(), served.round().into());
            o.insert("send_lag_p99_us".into(), us(percentile(&lag, 99.0)).into());
            o.insert("duration_s".into(), plan.duration.as_secs_f64().into());
            if n > 1 {
                o.insert("slice_ms".into(), (plan.slice.as_secs_f64() * 1e3).into());
            }
            out
        })
        .collect())
}

async fn max_throughput(
    target: &Target,
    req: &RequestTemplate,
    warmup: Duration,
    duration: Duration,
    conns: usize,
    requests: u64,
) -> Result<Value, String> {
    let conns = open_all(target, conns).await?;
    let start = Instant::now();
    let measure_from = start + warmup;
    let end = measure_from + duration;
    // Measured requests left to send (counted down once the warm-up is over).
    let left = Arc::new(AtomicU64::new(requests));
    let mut workers = JoinSet::new();
    for mut conn in conns {
        let (make, target, left) = (req.clone(), target.clone(), left.clone());
        workers.spawn(async move {
            let mut samples = Samples::default();
            loop {
                let sent = Instant::now();
                if sent >= end {
                    break;
                }
                let counted = sent >= measure_from;
                if counted
                    && left
                        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                        .is_err()
                {
                    break;
                }
                let result = conn.call(make.small(&target)).await;
                let done = Instant::now();
                if sent < measure_from || done > end {
                    continue;
                }
                match result {
                    Ok(_) => samples.nanos.push(nanos(done - sent)),
                    Err(e) => samples.error(e),
                }
            }
            samples
        });
    }
    let mut samples = Samples::default();
    while let Some(joined) = workers.join_next().await {
        samples.merge(joined.map_err(|e| e.to_string())?);
    }
    let measured = Instant::now()
        .min(end)
        .saturating_duration_since(measure_from);
    let rps = samples.nanos.len() as f64 / measured.as_secs_f64().max(1e-9);
    let mut out = samples.summary();
    let o = out.as_object_mut().expect("object");
    o.insert("rps".into(), rps.round().into());
    o.insert("duration_s".into(), duration.as_secs_f64().into());
    Ok(out)
}

/// Splits an SSE byte stream into events (an event ends at a blank line) and notices
/// the `data: [DONE]` terminator of chat completions.
#[derive(Default)]
struct SseSplitter {
    line: Vec<u8>,
    event_has_lines: bool,
    done: bool,
}

impl SseSplitter {
    /// Returns how many events `bytes` completed.
    fn feed(&mut self, bytes: &[u8]) -> usize {
        let mut completed = 0;
        for &b in bytes {
            match b {
                b'\n' => {
                    if self.line.is_empty() {
                        if self.event_has_lines {
                            completed += 1;
                            self.event_has_lines = false;
                        }
                    } else {
                        self.done |= self.line == b"data: [DONE]";
                        self.event_has_lines = true;
                        self.line.clear();
                    }
                }
                b'\r' => {}
                _ => self.line.push(b),
            }
        }
        completed
    }
}

/// When each event of one stream arrived, relative to the request's send time.
struct StreamTrace {
    events: Vec<Duration>,
    done: bool,
}

impl StreamTrace {
    fn ttfb(&self) -> Option<Duration> {
        self.events.first().copied()
    }
}

async fn sse_stream(sender: &mut Sender, req: Request<Full<Bytes>>) -> Result<StreamTrace, String> {
    sender.ready().await.map_err(|e| e.to_string())?;
    let sent = Instant::now();
    let resp = sender.send_request(req).await.map_err(|e| e.to_string())?;
    let status = resp.status();
    let mut body = resp.into_body();
    if !status.is_success() {
        return Err(format!("HTTP {status}"));
    }
    let mut splitter = SseSplitter::default();
    let mut events = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| format!("stream broken: {e}"))?;
        if let Ok(data) = frame.into_data() {
            let at = sent.elapsed();
            let n = splitter.feed(&data);
            events.extend(std::iter::repeat_n(at, n));
        }
    }
    Ok(StreamTrace {
        events,
        done: splitter.done,
    })
}

/// How much later than its nominal spacing each event arrived, in signed nanoseconds:
/// `gap to the previous event - nominal gap`, where the nominal gap is the chunk delay
/// for events the upstream sent after a sleep, and 0 for those it sent back to back.
///
/// Gaps, not absolute times: the fake gateway sleeps *after* each send, on 1 ms timer
/// ticks, so a stream's schedule wanders by whole ticks and twin streams cannot be
/// compared event by event. A held or buffered chunk still shows: it arrives long after
/// its predecessor (a large positive excess), then its followers arrive together.
/// `spacing` (one stream's events) tells which gaps are nominally a delay; pass the direct
/// twin when the event counts match.
fn gap_excess(trace: &StreamTrace, spacing: &StreamTrace, delay: Duration) -> Vec<i64> {
    let nanos_of = |d: Duration| d.as_nanos() as i64;
    let delay_ns = nanos_of(delay);
    let (t, s) = (&trace.events, &spacing.events);
    (1..t.len().min(s.len()))
        .map(|k| {
            let nominal = if nanos_of(s[k] - s[k - 1]) >= delay_ns / 2 {
                delay_ns
            } else {
                0
            };
            nanos_of(t[k] - t[k - 1]) - nominal
        })
        .collect()
}

/// Chunks that arrived less than half a delay after their predecessor although the
/// upstream sent them a full delay apart: held back and released together.
fn coalesced(excess: &[i64], delay: Duration) -> usize {
    let half = delay.as_nanos() as i64 / 2;
    excess.iter().filter(|&&e| half > 0 && e <= -half).count()
}

/// A connection that has already carried one request, so the proxy's upstream pool is warm.
async fn warm_conn(target: &Target, req: &RequestTemplate) -> Result<Sender, String> {
    let mut sender = target.connect().await.map_err(|e| e.to_string())?;
    exchange(&mut sender, req.small(target)).await?;
    Ok(sender)
}

async fn sse_pairs(
    target: &Target,
    req: &RequestTemplate,
    direct: &Target,
    shape: SseShape,
    pairs: usize,
    stagger: Duration,
) -> Result<Value, String> {
    let req = Arc::new(req.clone());
    let start = tokio::time::Instant::now() + Duration::from_millis(20);
    let mut set = JoinSet::new();
    for i in 0..pairs {
        let (req, target, direct) = (req.clone(), target.clone(), direct.clone());
        let mut via = warm_conn(&target, &req).await?;
        let mut straight = warm_conn(&direct, &req).await?;
        set.spawn(async move {
            tokio::time::sleep_until(start + stagger * i as u32).await;
            let through = timeout(
                REQUEST_TIMEOUT,
                sse_stream(&mut via, req.streaming(&target, shape)),
            );
            let straight = timeout(
                REQUEST_TIMEOUT,
                sse_stream(&mut straight, req.streaming(&direct, shape)),
            );
            // join! polls in order: alternate who sends first, so neither is favoured.
            let (t, d) = if i % 2 == 0 {
                tokio::join!(through, straight)
            } else {
                let (d, t) = tokio::join!(straight, through);
                (t, d)
            };
            let flat = |r: Result<Result<StreamTrace, String>, _>| {
                r.unwrap_or_else(|_| Err("stream timed out".into()))
            };
            (flat(t), flat(d))
        });
    }
    let delay = Duration::from_millis(shape.delay_ms);
    let mut added_ttfb = Vec::new();
    let (mut excess, mut direct_excess) = (Vec::new(), Vec::new());
    let (mut completed, mut mismatched, mut errors) = (0usize, 0usize, Vec::new());
    let mut events = 0usize;
    while let Some(joined) = set.join_next().await {
        match joined.map_err(|e| e.to_string())? {
            (Ok(t), Ok(d)) => {
                if t.done && d.done {
                    completed += 1;
                }
                events = events.max(t.events.len());
                if let (Some(tt), Some(dt)) = (t.ttfb(), d.ttfb()) {
                    added_ttfb.push(tt.as_nanos() as i64 - dt.as_nanos() as i64);
                }
                // Mismatched counts (a proxy that re-chunks): its own gaps classify.
                let spacing = if t.events.len() == d.events.len() {
                    &d
                } else {
                    mismatched += 1;
                    &t
                };
                excess.extend(gap_excess(&t, spacing, delay));
                direct_excess.extend(gap_excess(&d, &d, delay));
            }
            (t, d) => errors.extend(t.err().into_iter().chain(d.err())),
        }
    }
    added_ttfb.sort_unstable();
    let held = coalesced(&excess, delay);
    excess.sort_unstable();
    direct_excess.sort_unstable();
    let signed_us = |v: &[i64], p: f64| -> Value {
        if v.is_empty() {
            return Value::Null;
        }
        ((percentile(v, p) as f64 / 100.0).round() / 10.0).into()
    };
    Ok(json!({
        "streams": pairs, "completed": completed, "errors": errors.len(),
        "first_error": errors.first(), "events_per_stream": events,
        "event_count_mismatches": mismatched,
        "added_ttfb_us_p50": signed_us(&added_ttfb, 50.0),
        "added_ttfb_us_max": signed_us(&added_ttfb, 100.0),
        // Per-chunk delay beyond the nominal spacing, through the target and direct;
        // `added_chunk_delay_us_max` is the difference of the worst chunks.
        "coalesced_chunks": held,
        "chunk_delay_us_p99": signed_us(&excess, 99.0),
        "chunk_delay_us_max": signed_us(&excess, 100.0),
        "direct_chunk_delay_us_p99": signed_us(&direct_excess, 99.0),
        "direct_chunk_delay_us_max": signed_us(&direct_excess, 100.0),
        "added_chunk_delay_us_max": match (excess.last(), direct_excess.last()) {
            (Some(t), Some(d)) => (((t - d) as f64 / 100.0).round() / 10.0).into(),
            _ => Value::Null,
        },
        "chunks": shape.chunks, "chunk_delay_ms": shape.delay_ms,
    }))
}

async fn concurrent_streams(
    target: &Target,
    req: &RequestTemplate,
    shape: SseShape,
    streams: usize,
    ramp: Duration,
) -> Result<Value, String> {
    let req = Arc::new(req.clone());
    let open = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let t0 = tokio::time::Instant::now();
    let step = ramp / streams.max(1) as u32;
    let mut set = JoinSet::new();
    for i in 0..streams {
        let (req, target) = (req.clone(), target.clone());
        let (open, peak) = (open.clone(), peak.clone());
        set.spawn(async move {
            tokio::time::sleep_until(t0 + step * i as u32).await;
            let run = async {
                let mut sender = target.connect().await.map_err(|e| e.to_string())?;
                let now_open = open.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now_open, Ordering::SeqCst);
                let trace = sse_stream(&mut sender, req.streaming(&target, shape)).await;
                open.fetch_sub(1, Ordering::SeqCst);
                trace
            };
            // Generous: 1,000 streams on 2 cores, plus the ramp.
            match timeout(REQUEST_TIMEOUT * 3, run).await {
                Ok(Ok(t)) if t.done => Ok(t.ttfb().unwrap_or_default()),
                Ok(Ok(_)) => Err("stream ended without [DONE]".to_owned()),
                Ok(Err(e)) => Err(e),
                Err(_) => Err("stream timed out".to_owned()),
            }
        });
    }
    let mut ttfb = Samples::default();
    while let Some(joined) = set.join_next().await {
        match joined.map_err(|e| e.to_string())? {
            Ok(t) => ttfb.nanos.push(nanos(t)),
            Err(e) => ttfb.error(e),
        }
    }
    let completed = ttfb.nanos.len();
    let failed = ttfb.errors;
    let first_error = ttfb.first_error.clone();
    let summary = ttfb.summary();
    Ok(json!({
        "streams": streams, "completed": completed, "failed": failed,
        "first_error": first_error,
        "peak_open": peak.load(Ordering::SeqCst),
        "elapsed_ms": started.elapsed().as_millis() as u64,
        "ttfb_p50_us": summary["p50_us"], "ttfb_max_us": summary["max_us"],
        "chunks": shape.chunks, "chunk_delay_ms": shape.delay_ms,
    }))
}

async fn big_body(
    target: &Target,
    req: &RequestTemplate,
    bytes: usize,
    count: usize,
) -> Result<Value, String> {
    let mut conn = Conn::open(target).await?;
    let mut samples = Samples::default();
    for _ in 0..count.max(1) {
        let sent = Instant::now();
        match conn.call(req.big(target, bytes)).await {
            Ok(_) => samples.nanos.push(nanos(sent.elapsed())),
            Err(e) => samples.error(e),
        }
    }
    let mut out = samples.summary();
    out["bytes"] = bytes.into();
    Ok(out)
}

async fn wait_ready(target: &Target, path: &str, limit: Duration) -> Result<(), String> {
    let deadline = Instant::now() + limit;
    let mut last = String::from("no attempt");
    while Instant::now() < deadline {
        let attempt = async {
            let mut sender = target.connect().await.map_err(|e| e.to_string())?;
            sender.ready().await.map_err(|e| e.to_string())?;
            let resp = sender
                .send_request(target.request("GET", path, Bytes::new()))
                .await
                .map_err(|e| e.to_string())?;
            Ok::<_, String>(resp.status())
        };
        match timeout(Duration::from_secs(1), attempt).await {
            Ok(Ok(_)) => return Ok(()),
            Ok(Err(e)) => last = e,
            Err(_) => last = "no answer within 1 s".into(),
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    Err(format!(
        "http://{}{path} not ready after {limit:?}: {last}",
        target.authority
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitter_counts_events_across_frames_and_sees_done() {
        let mut s = SseSplitter::default();
        assert_eq!(s.feed(b"data: {\"a\":1}\n\ndata: {\"b\""), 1);
        assert_eq!(s.feed(b":2}\r\n\r\nevent: x\ndata: y\n"), 1);
        assert!(!s.done);
        assert_eq!(s.feed(b"\ndata: [DONE]\n\n"), 2);
        assert!(s.done);
    }

    #[test]
    fn gap_excess_is_zero_on_schedule_and_large_for_a_held_chunk() {
        let ms = |v: &[u64]| StreamTrace {
            events: v.iter().map(|&m| Duration::from_millis(m)).collect(),
            done: true,
        };
        let delay = Duration::from_millis(10);
        // head, chunk 0 at once, chunks 1..3 every 10 ms, then the tail at once.
        let direct = ms(&[1, 1, 11, 21, 31, 31]);
        assert_eq!(gap_excess(&direct, &direct, delay), vec![0; 5]);
        // Shifted by a tick after the first sleep: 1 ms late once, then on time.
        let shifted = ms(&[1, 1, 12, 22, 32, 32]);
        let ex = gap_excess(&shifted, &direct, delay);
        assert_eq!(ex, vec![0, 1_000_000, 0, 0, 0]);
        // Everything held until the end: the first late chunk carries the whole wait.
        let buffered = ms(&[31, 31, 31, 31, 31, 31]);
        let ex = gap_excess(&buffered, &direct, delay);
        assert_eq!(ex.iter().max(), Some(&0));
        assert_eq!(coalesced(&ex, delay), 3);
        assert_eq!(coalesced(&gap_excess(&shifted, &direct, delay), delay), 0);
        let held_middle = ms(&[1, 1, 11, 31, 31, 31]);
        let ex = gap_excess(&held_middle, &direct, delay);
        assert_eq!(ex.iter().max(), Some(&10_000_000));
    }

    #[test]
    fn percentile_is_nearest_rank() {
        let v: Vec<u64> = (1..=1000).collect();
        assert_eq!(percentile(&v, 50.0), 500);
        assert_eq!(percentile(&v, 99.9), 999);
        assert_eq!(percentile(&v, 100.0), 1000);
        assert_eq!(percentile::<u64>(&[], 50.0), 0);
    }

    #[test]
    fn only_loopback_targets() {
        assert!(Target::parse("http://127.0.0.1:9/v1/").is_ok());
        assert!(Target::parse("http://10.0.0.1:80").is_err());
        assert!(Target::parse("https://127.0.0.1:9").is_err());
    }
}
