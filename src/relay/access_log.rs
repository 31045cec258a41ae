//! The access log: one content-free line per request (human or JSON), written when the
//! response ends or the client goes away. It never holds a body, a header or anything
//! else the client wrote: the method and target are shown as [`redact`] reduces them,
//! then status, route, upstream, byte counts and timings.

use std::borrow::Cow;
use std::cell::Cell;
use std::fs::OpenOptions;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, TrySendError, sync_channel};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use tokio::sync::oneshot;

use super::config::LogFormat;
use super::config::LogTarget;
use super::metrics::Metrics;
use super::redact;
use super::routes::Route;
use crate::calendar::civil_from_days;
use crate::error::UserError;

/// Where log lines go, in which format. Lines are written by a thread of their own, so a
/// slow terminal or disk never stalls a request on the async workers; a bounded queue
/// still pushes back (rather than losing lines) if the sink cannot keep up.
pub(super) struct LogSink {
    writer: Option<Writer>,
    format: LogFormat,
}

struct Writer {
    queue: Option<SyncSender<Message>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

enum Message {
    Line(String),
    /// A finished exchange. The writer thread formats it, so that the request's task
    /// only moves its fields: formatting was a quarter of a request's instructions
    /// (bench/RESULTS.md).
    Record(Box<Record>),
    /// Answered once every earlier line is written and flushed.
    Flush(oneshot::Sender<()>),
}

/// Lines the queue holds before `line` waits for the writer.
const QUEUE_LINES: usize = 16 * 1024;
/// The most bytes gathered into one write.
const BATCH_BYTES: usize = 64 * 1024;
/// How long lines may wait to be written while requests flow (nginx's `flush=` idea).
const WRITE_INTERVAL: Duration = Duration::from_millis(20);

impl LogSink {
    pub(super) fn open(target: &LogTarget, format: LogFormat) -> Result<Self, UserError> {
        let out: Box<dyn Write + Send> = match target {
            LogTarget::Stderr => Box::new(std::io::stderr()),
            LogTarget::Quiet => {
                return Ok(Self {
                    writer: None,
                    format,
                });
            }
            LogTarget::File(path) => {
                let mut options = OpenOptions::new();
                options.create(true).append(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let file = options.open(path).map_err(|e| {
                    UserError::usage(format!("cannot open the log file {}: {e}", path.display()))
                        .with_hint("pass a writable path with --log-file, or leave it out to log to stderr")
                })?;
                Box::new(file)
            }
        };
        let (queue, received) = sync_channel(QUEUE_LINES);
        let thread = std::thread::Builder::new()
            .name("anyray-access-log".into())
            .spawn(move || write_lines(out, &received, format))
            .map_err(|e| UserError::problem(format!("cannot start the access-log writer: {e}")))?;
        Ok(Self {
            writer: Some(Writer {
                queue: Some(queue),
                thread: Some(thread),
            }),
            format,
        })
    }

    /// Whether lines go anywhere (not `LogTarget::Quiet`, as in `anyray run --relay`).
    pub(super) fn enabled(&self) -> bool {
        self.writer.is_some()
    }

    /// Queues one line; it is written whole, so concurrent lines never interleave.
    pub(super) fn line(&self, text: String) {
        if let Some(queue) = self.writer.as_ref().and_then(|w| w.queue.as_ref()) {
            let _ = queue.send(Message::Line(text));
        }
    }

    /// Queues a finished exchange, to be formatted and written by the writer thread.
    fn record(&self, record: Record) {
        if let Some(queue) = self.writer.as_ref().and_then(|w| w.queue.as_ref()) {
            let _ = queue.send(Message::Record(Box::new(record)));
        }
    }

    /// A JSON object in JSON mode, else the human text (only built when it is used).
    pub(super) fn event<T: Serialize>(&self, human: impl FnOnce() -> String, json: &T) {
        if !self.enabled() {
            return;
        }
        match self.format {
            LogFormat::Human => self.line(human()),
            LogFormat::Json => self.line(serde_json::to_string(json).unwrap_or_default()),
        }
    }

    /// Waits until every line queued so far is written, without holding the async
    /// worker it is awaited on (the writer is a thread of its own).
    pub(super) async fn flush(&self) {
        let Some(writer) = self.writer.as_ref() else {
            return;
        };
        let Some(queue) = writer.queue.as_ref() else {
            return;
        };
        let (done, wait) = oneshot::channel();
        let mut message = Message::Flush(done);
        // A full queue is the writer's backlog: wait for room, yielding meanwhile.
        loop {
            match queue.try_send(message) {
                Ok(()) => break,
                Err(TrySendError::Full(back)) => {
                    message = back;
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                Err(TrySendError::Disconnected(_)) => return,
            }
        }
        // Cut the writer's pause short: a flush (e.g. at shutdown) waits for nobody.
        if let Some(thread) = &writer.thread {
            thread.thread().unpark();
        }
        let _ = wait.await;
    }
}

impl Drop for LogSink {
    fn drop(&mut self) {
        if let Some(writer) = self.writer.as_mut() {
            drop(writer.queue.take()); // the thread writes what is queued, then ends
            if let Some(thread) = writer.thread.take() {
                thread.thread().unpark(); // now, not at the end of its pause
                let _ = thread.join();
            }
        }
    }
}

/// The writer thread. While requests flow it drains the queue every `WRITE_INTERVAL` into
/// one write, so a busy relay pays no wake-up per line; when a whole interval brings
/// nothing it blocks until the next line, so an idle relay never wakes. It ends, having
/// written everything, when the sink is dropped.
fn write_lines(mut out: Box<dyn Write + Send>, received: &Receiver<Message>, format: LogFormat) {
    yield_to_requests();
    let mut batch = Vec::new();
    let mut next = received.recv().ok();
    while let Some(first) = next {
        let mut message = Some(first);
        let mut closed = false;
        while let Some(m) = message.take() {
            match m {
                Message::Line(text) => {
                    batch.extend_from_slice(text.as_bytes());
                    batch.push(b'\n');
                }
                Message::Record(record) => {
                    let line = record.line();
                    match format {
                        LogFormat::Human => push_human_line(&mut batch, &line),
                        LogFormat::Json => {
                            let _ = serde_json::to_writer(&mut batch, &line);
                        }
                    }
                    batch.push(b'\n');
                }
                Message::Flush(done) => {
                    write_batch(&mut out, &mut batch);
                    let _ = done.send(());
                }
            }
            if batch.len() >= BATCH_BYTES {
                write_batch(&mut out, &mut batch);
            }
            match received.try_recv() {
                Ok(m) => message = Some(m),
                Err(TryRecvError::Empty) => {}
                Err(TryRecvError::Disconnected) => closed = true,
            }
        }
        write_batch(&mut out, &mut batch);
        if closed {
            return;
        }
        std::thread::park_timeout(WRITE_INTERVAL); // `flush` may end the pause early
        next = match received.try_recv() {
            Ok(m) => Some(m),
            Err(TryRecvError::Empty) => received.recv().ok(),
            Err(TryRecvError::Disconnected) => None,
        };
    }
}

/// Makes the calling thread (the writer) a batch thread: its wake-ups then never
/// preempt a thread serving requests on the same core, which would hold the requests
/// in flight for the time it formats a batch (Linux; elsewhere it stays as it is).
fn yield_to_requests() {
    #[cfg(target_os = "linux")]
    #[allow(unsafe_code)] // a libc call
    {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: pid 0 is the calling thread; `param` lives through the call.
        let _ = unsafe { libc::sched_setscheduler(0, libc::SCHED_BATCH, &param) };
    }
}

fn write_batch(out: &mut Box<dyn Write + Send>, batch: &mut Vec<u8>) {
    if !batch.is_empty() {
        let _ = out.write_all(batch);
        let _ = out.flush();
        batch.clear();
    }
}

/// Bytes of one request body that went upstream, and whether it hit the limit or the
/// client's own stream broke (a bad chunk, the client gone): the client's fault then,
/// not the gateway's.
#[derive(Debug, Default)]
pub(super) struct RequestMeter {
    pub bytes: AtomicU64,
    pub over_limit: AtomicBool,
    pub client_failed: AtomicBool,
}

impl RequestMeter {
    pub(super) fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    pub(super) fn over_limit(&self) -> bool {
        self.over_limit.load(Ordering::Relaxed)
    }

    pub(super) fn client_failed(&self) -> bool {
        self.client_failed.load(Ordering::Relaxed)
    }

    pub(super) fn add(&self, bytes: u64) {
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }
}

/// The log sink and the metrics, which every finished exchange feeds.
pub(super) struct Recorder {
    pub log: LogSink,
    pub metrics: Metrics,
}

/// How a response ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Outcome {
    Complete,
    /// The client went away before the end (the upstream request was dropped with it).
    ClientGone,
    /// The upstream stream broke; the client saw the stream end with an error.
    UpstreamError(String),
    /// No byte for `relay.idle_timeout_s`.
    IdleTimeout,
}

impl Outcome {
    fn key(&self) -> &'static str {
        match self {
            Outcome::Complete => "complete",
            Outcome::ClientGone => "client_gone",
            Outcome::UpstreamError(_) => "upstream_error",
            Outcome::IdleTimeout => "idle_timeout",
        }
    }
}

/// Who answered a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(super) enum Via {
    /// An org gateway.
    Gateway,
    /// A provider's public API, because no gateway was reachable.
    FailOpen,
    /// The relay itself (its own endpoints, or an error it made).
    Relay,
}

/// One request from start to the end of its response. Dropping it records it.
pub(super) struct Exchange {
    recorder: Arc<Recorder>,
    time: SystemTime,
    started: Instant,
    method: &'static str,
    path: Cow<'static, str>,
    route: Route,
    status: Option<u16>,
    via: Via,
    upstream: Option<Arc<str>>,
    request: Arc<RequestMeter>,
    response_bytes: u64,
    headers_after: Option<Duration>,
    first_byte_after: Option<Duration>,
    outcome: Option<Outcome>,
    /// Handed to another path before anything happened: counted and logged there.
    discarded: bool,
}

/// What the log keeps of a finished exchange, sent to the writer thread.
struct Record {
    time: SystemTime,
    method: &'static str,
    path: Cow<'static, str>,
    status: u16,
    route: &'static str,
    via: Via,
    upstream: Option<Arc<str>>,
    request_bytes: u64,
    response_bytes: u64,
    ttfb_ms: u64,
    total_ms: u64,
    outcome: &'static str,
    error: Option<String>,
}

impl Record {
    fn line(&self) -> Line<'_> {
        Line {
            time: Rfc3339(self.time),
            method: self.method,
            path: &self.path,
            status: self.status,
            route: self.route,
            via: self.via,
            upstream: self.upstream.as_deref(),
            request_bytes: self.request_bytes,
            response_bytes: self.response_bytes,
            ttfb_ms: self.ttfb_ms,
            total_ms: self.total_ms,
            outcome: self.outcome,
            error: self.error.as_deref(),
        }
    }
}

/// The JSON access-log line.
#[derive(Serialize)]
struct Line<'a> {
    time: Rfc3339,
    method: &'a str,
    path: &'a str,
    status: u16,
    route: &'static str,
    via: Via,
    upstream: Option<&'a str>,
    request_bytes: u64,
    response_bytes: u64,
    ttfb_ms: u64,
    total_ms: u64,
    outcome: &'static str,
    error: Option<&'a str>,
}

/// Status logged when the client left before a response was sent (nginx's convention).
pub(super) const CLIENT_CLOSED: u16 = 499;

impl Exchange {
    pub(super) fn begin(
        recorder: Arc<Recorder>,
        method: &hyper::Method,
        path: &str,
        query: Option<&str>,
        route: Route,
    ) -> Self {
        recorder.metrics.started();
        // Only the log needs the wall-clock time and the path; skip them without one.
        let logged = recorder.log.enabled();
        Self {
            time: if logged {
                SystemTime::now()
            } else {
                UNIX_EPOCH
            },
            path: if logged {
                redact::target_for_log(route, path, query)
            } else {
                Cow::Borrowed("")
            },
            recorder,
            started: Instant::now(),
            method: redact::method_for_log(method),
            route,
            status: None,
            via: Via::Relay,
            upstream: None,
            request: Arc::default(),
            response_bytes: 0,
            headers_after: None,
            first_byte_after: None,
            outcome: None,
            discarded: false,
        }
    }

    /// Forgets the exchange: the request is served (and logged) by another path.
    pub(super) fn discard(mut self) {
        self.discarded = true;
    }

    /// The meter the request body counts its bytes into.
    pub(super) fn request_meter(&self) -> Arc<RequestMeter> {
        self.request.clone()
    }

    pub(super) fn route(&self) -> Route {
        self.route
    }

    /// Response headers are ready: who answered, with what status.
    pub(super) fn responded(&mut self, status: u16, via: Via, upstream: Option<Arc<str>>) {
        self.status = Some(status);
        self.via = via;
        self.upstream = upstream;
        self.headers_after = Some(self.started.elapsed());
    }

    pub(super) fn sent(&mut self, bytes: u64) {
        if self.first_byte_after.is_none() {
            self.first_byte_after = Some(self.started.elapsed());
        }
        self.response_bytes += bytes;
    }

    /// The first outcome wins (an error before the drop that follows it).
    pub(super) fn set_outcome(&mut self, outcome: Outcome) {
        self.outcome.get_or_insert(outcome);
    }
}

impl Drop for Exchange {
    fn drop(&mut self) {
        if self.discarded {
            self.recorder.metrics.abandoned();
            return;
        }
        let total = self.started.elapsed();
        let outcome = self.outcome.take().unwrap_or(Outcome::ClientGone);
        let status = self.status.unwrap_or(CLIENT_CLOSED);
        let ttfb = self.first_byte_after.or(self.headers_after);
        self.recorder.metrics.finished(
            self.route,
            status,
            self.upstream.as_deref(),
            self.via == Via::FailOpen,
            ttfb,
            total,
        );
        if !self.recorder.log.enabled() {
            return;
        }
        let key = outcome.key();
        let error = match outcome {
            Outcome::UpstreamError(e) => Some(e),
            _ => None,
        };
        self.recorder.log.record(Record {
            time: self.time,
            method: self.method,
            path: std::mem::take(&mut self.path),
            status,
            route: self.route.key(),
            via: self.via,
            upstream: self.upstream.take(),
            request_bytes: self.request.bytes(),
            response_bytes: self.response_bytes,
            ttfb_ms: ttfb.map_or(0, millis),
            total_ms: millis(total),
            outcome: key,
            error,
        });
    }
}

/// Appends the human log line, built by hand: `format!` costs more than the rest of a
/// request's bookkeeping (bench/RESULTS.md).
fn push_human_line(out: &mut Vec<u8>, l: &Line<'_>) {
    out.extend_from_slice(&rfc3339_bytes(l.time.0));
    for part in [" ", l.method, " ", l.path, " "] {
        out.extend_from_slice(part.as_bytes());
    }
    push_number(out, u64::from(l.status), 1);
    out.push(b' ');
    out.extend_from_slice(l.route.as_bytes());
    out.push(b' ');
    match l.via {
        Via::Gateway => out.extend_from_slice(l.upstream.unwrap_or("-").as_bytes()),
        Via::FailOpen => {
            out.extend_from_slice(b"fail-open ");
            out.extend_from_slice(l.upstream.unwrap_or("-").as_bytes());
        }
        Via::Relay => out.extend_from_slice(b"by-relay"),
    }
    for (label, n, unit) in [
        (" req=", l.request_bytes, "B"),
        (" resp=", l.response_bytes, "B"),
        (" ttfb=", l.ttfb_ms, "ms"),
        (" total=", l.total_ms, "ms"),
    ] {
        out.extend_from_slice(label.as_bytes());
        push_number(out, n, 1);
        out.extend_from_slice(unit.as_bytes());
    }
    if l.outcome != "complete" {
        out.push(b' ');
        out.extend_from_slice(l.outcome.as_bytes());
    }
    if let Some(e) = l.error {
        out.extend_from_slice(b": ");
        out.extend_from_slice(e.as_bytes());
    }
}

/// Appends `n` in decimal, zero-padded to at least `width` digits.
fn push_number(out: &mut Vec<u8>, mut n: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let mut start = digits.len();
    while n > 0 || start > digits.len() - width.clamp(1, 20) {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    out.extend_from_slice(&digits[start..]);
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A log line's time, serialized as [`rfc3339`] text.
struct Rfc3339(SystemTime);

impl Serialize for Rfc3339 {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&rfc3339(self.0))
    }
}

/// `2025-01-31T12:34:56.789Z` (UTC), without a date crate.
pub(super) fn rfc3339(t: SystemTime) -> String {
    String::from_utf8_lossy(&rfc3339_bytes(t)).into_owned()
}

/// [`rfc3339`] as bytes. The text up to the second is made once a second (per thread):
/// at thousands of lines a second, the calendar arithmetic was most of a line's cost.
fn rfc3339_bytes(t: SystemTime) -> [u8; 24] {
    thread_local! {
        static SECOND: Cell<(u64, [u8; 20])> = const { Cell::new((u64::MAX, [0; 20])) };
    }
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let head = SECOND.with(|cached| {
        let (at, head) = cached.get();
        if at == secs {
            return head;
        }
        let head = second_text(secs);
        cached.set((secs, head));
        head
    });
    let ms = since.subsec_millis(); // below 1000
    let mut text = [b'Z'; 24];
    text[..20].copy_from_slice(&head);
    for (i, digit) in [ms / 100, ms / 10 % 10, ms % 10].into_iter().enumerate() {
        text[20 + i] = b'0' + digit as u8;
    }
    text
}

/// `2025-01-31T12:34:56.` for `secs` after the Unix epoch (years up to 9999).
fn second_text(secs: u64) -> [u8; 20] {
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(secs / 86_400);
    let date = [(year, 4, b'-'), (month, 2, b'-'), (day, 2, b'T')];
    let time = [
        (rem / 3600, 2, b':'),
        (rem % 3600 / 60, 2, b':'),
        (rem % 60, 2, b'.'),
    ];
    let mut text = Vec::with_capacity(20);
    for (n, width, sep) in date.into_iter().chain(time) {
        push_number(&mut text, n, width);
        text.push(sep);
    }
    let mut head = [b'0'; 20];
    let n = text.len().min(20);
    head[..n].copy_from_slice(&text[..n]);
    head
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_written_whole_in_order_by_flush_and_by_drop() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("access.log");
        let sink = LogSink::open(&LogTarget::File(path.clone()), LogFormat::Human).unwrap();
        // More than the queue and several batches, from two threads at once.
        let per_thread = QUEUE_LINES + 1000;
        std::thread::scope(|s| {
            for t in 0..2 {
                let sink = &sink;
                s.spawn(move || {
                    for i in 0..per_thread {
                        sink.line(format!("t{t} line {i:06} {}", "x".repeat(40)));
                    }
                });
            }
        });
        crate::runtime::block_on(crate::runtime::Threads::Current, sink.flush()).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        for t in 0..2 {
            let ours: Vec<&str> = text
                .lines()
                .filter(|l| l.starts_with(&format!("t{t} ")))
                .collect();
            assert_eq!(ours.len(), per_thread, "thread {t}'s lines, all whole");
            assert!(
                ours.windows(2).all(|w| w[0] < w[1]),
                "thread {t}'s lines in order"
            );
        }
        sink.event(|| "last".to_string(), &());
        drop(sink);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text.lines().last(),
            Some("last"),
            "dropping the sink writes the rest"
        );
        assert_eq!(text.lines().count(), 2 * per_thread + 1);
    }

    #[test]
    fn formats_utc_timestamps() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_709_210_096_789); // leap day 2024
        assert_eq!(rfc3339(t), "2024-02-29T12:34:56.789Z");
        let t = UNIX_EPOCH + Duration::from_millis(253_402_300_799_009); // the last second of 9999
        assert_eq!(rfc3339(t), "9999-12-31T23:59:59.009Z");
    }

    #[test]
    fn numbers_are_padded_to_their_width() {
        let mut s = Vec::new();
        for (n, width) in [(0, 1), (7, 2), (42, 1), (5, 3), (1234, 2), (u64::MAX, 1)] {
            push_number(&mut s, n, width);
            s.push(b' ');
        }
        assert_eq!(s, b"0 07 42 005 1234 18446744073709551615 ");
    }
}
