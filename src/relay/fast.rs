//! The relay's fast path: plain HTTP/1.1 requests to plain-`http://` gateways, served
//! by the task of the client connection alone. It reads the request, writes it to an
//! idle upstream connection ([`Leg`], the one parked last) and streams the answer back:
//! one parse of each head, no header map, no hand-off to another task, and the header
//! lines copied as they came (hop-by-hop ones dropped). bench/RESULTS.md has the
//! measurements that called for it: hyper's server and client alone cost more
//! instructions per request than nginx's whole proxy.
//!
//! It takes only requests that hyper would read the same way ([`h1::qualify`]), at a
//! request boundary, to a gateway that is up and plain HTTP. Anything else goes to the
//! hyper server with the bytes read so far ([`Served::Handoff`]), and that connection
//! stays there: refusals, the relay's own endpoints, TLS gateways, failover and failing
//! open all happen in one place (`forward.rs`). The same goes for a gateway the fast
//! path cannot connect to: the failure is counted once and the request fails over there.
//!
//! What it keeps of hyper's behaviour: the header read timeout (idle keep-alive
//! included) and size limit, keep-alive and `Connection: close`, a `Date` header, the
//! response framing (`Content-Length` kept, else chunked), chunk by chunk streaming,
//! the idle timeout on the answer, cancelling the upstream request when the client goes
//! away, and finishing the response in progress before a graceful stop.

use std::future::{Future, poll_fn};
use std::io::{self, IoSlice};
use std::net::IpAddr;
use std::pin::{Pin, pin};
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::{Buf, Bytes, BytesMut};
use hyper::body::Body;
use hyper::{Response, StatusCode};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::watch;

use super::access_log::RequestMeter;
use super::access_log::{Exchange, Outcome, Via};
use super::body::{IdleTimer, RelayBody};
use super::cause::describe_all;
use super::forward::{self, FailedConnect, Failure};
use super::h1::{self, Framing, Name, ParsedResponse, Qualify};
use super::leg::Leg;
use super::routes::Route;
use super::{MAX_HEADER_BYTES, State};

/// Spare room a read asks for (hyper reads into 8 KiB to begin with).
const READ_SIZE: usize = 8 * 1024;
/// Client bytes held while a response streams (pipelined requests): reading stops there.
const MAX_CLIENT_BUFFER: usize = 64 * 1024;
/// The largest gateway response head (hyper's client buffer limit).
const MAX_RESPONSE_HEAD: usize = 8192 + 4096 * 100;

/// How a client connection left the fast path.
pub(super) enum Served {
    Closed,
    /// For the hyper server: the bytes read and not served (a whole request head, or
    /// more), the connection, and a gateway already found unreachable for that request.
    Handoff {
        replay: Bytes,
        stream: TcpStream,
        failed: Option<FailedConnect>,
    },
}

/// Serves `stream` until it closes or needs the hyper server.
pub(super) async fn serve(
    stream: TcpStream,
    local: IpAddr,
    state: &State,
    stop: &watch::Receiver<bool>,
) -> Served {
    let mut conn = Conn {
        state,
        local,
        client: stream,
        inbuf: BytesMut::with_capacity(READ_SIZE),
        out: Vec::with_capacity(1024),
        admitted_host: Vec::new(),
        header_timer: IdleTimer::new(state.config.header_timeout),
        idle: IdleTimer::new(state.config.idle_timeout),
    };
    let mut watching = stop.clone();
    let stopped = pin!(async move {
        let _ = watching.wait_for(|s| *s).await;
    });
    let run = conn.run(stopped, stop).await;
    match run {
        Run::Closed => Served::Closed,
        Run::Handoff(failed) => Served::Handoff {
            replay: conn.inbuf.freeze(),
            stream: conn.client,
            failed,
        },
    }
}

enum Run {
    Closed,
    Handoff(Option<FailedConnect>),
}

/// A request the fast path serves, its upstream head already in `Conn::out`.
struct Prepared {
    head_len: usize,
    body_len: u64,
    keep_alive: bool,
    gateway: usize,
    ex: Exchange,
}

// Returned once per request and matched at once: boxing `Ready` would cost an allocation.
#[allow(clippy::large_enum_variant)]
enum Prep {
    Partial,
    Handoff,
    Ready(Prepared),
}

/// After one exchange.
enum Next {
    KeepAlive,
    Close,
    /// The response broke off: close without ceremony.
    Abort,
}

/// What waiting on a gateway's connection gave.
enum LegRead {
    Data,
    Eof,
    Failed(io::Error),
    Idle,
    ClientGone,
}

struct Conn<'s> {
    state: &'s State,
    local: IpAddr,
    client: TcpStream,
    /// Client bytes read and not yet used.
    inbuf: BytesMut,
    /// The head being written (upstream request, then client response).
    out: Vec<u8>,
    /// The last `Host` that named the relay (a client sends the same one each time).
    admitted_host: Vec<u8>,
    /// From the start of each wait for a request head (hyper's header read timeout).
    header_timer: IdleTimer,
    /// From the request's start until its answer's head, then from each byte.
    idle: IdleTimer,
}

impl Conn<'_> {
    async fn run(
        &mut self,
        mut stopped: Pin<&mut impl Future<Output = ()>>,
        stop: &watch::Receiver<bool>,
    ) -> Run {
        loop {
            self.header_timer.moved();
            let prepared = loop {
                let admitted = &mut self.admitted_host;
                match prepare(&self.inbuf, &mut self.out, self.state, self.local, admitted) {
                    Prep::Ready(p) => break p,
                    Prep::Handoff => return Run::Handoff(None),
                    Prep::Partial => {
                        if !self.read_head(stopped.as_mut()).await {
                            return Run::Closed;
                        }
                    }
                }
            };
            let leg = match self.leg_for(prepared.gateway).await {
                Ok(leg) => leg,
                Err(failed) => {
                    prepared.ex.discard();
                    return Run::Handoff(Some(failed));
                }
            };
            self.inbuf.advance(prepared.head_len);
            match self.exchange(prepared, leg, stop).await {
                // A stop that came during the response: no further request is read.
                Next::KeepAlive if !*stop.borrow() => {}
                Next::KeepAlive | Next::Close => {
                    let _ = self.client.shutdown().await;
                    return Run::Closed;
                }
                Next::Abort => return Run::Closed,
            }
        }
    }

    /// Reads more of a request head. False when the connection is done: closed,
    /// broken, silent past the header timeout, or the relay is stopping.
    async fn read_head(&mut self, mut stopped: Pin<&mut impl Future<Output = ()>>) -> bool {
        poll_fn(|cx| {
            match poll_read(&mut self.client, &mut self.inbuf, cx) {
                Poll::Ready(Ok(0) | Err(_)) => return Poll::Ready(false),
                Poll::Ready(Ok(_)) => return Poll::Ready(true),
                Poll::Pending => {}
            }
            if self.header_timer.poll_expired(cx).is_ready() || stopped.as_mut().poll(cx).is_ready()
            {
                return Poll::Ready(false);
            }
            Poll::Pending
        })
        .await
    }

    /// A leg to `gateway` that can take a request: the one parked last, or a new one.
    /// A failed connect is counted against the gateway here.
    async fn leg_for(&mut self, gateway: usize) -> Result<Leg, FailedConnect> {
        while let Some(mut leg) = self.state.idle_legs.unpark(gateway) {
            if leg.usable().await {
                return Ok(leg);
            }
        }
        let up = &self.state.upstreams[gateway];
        let Some(target) = up.legs.as_ref() else {
            unreachable!("prepare only picks plain-http gateways")
        };
        Leg::connect(&self.state.dialer, target, gateway)
            .await
            .map_err(|e| {
                let why = describe_all(&*e);
                forward::connect_failed(self.state, up, &why);
                FailedConnect {
                    gateway,
                    why: forward::unreachable_note(up, &why),
                }
            })
    }

    async fn exchange(&mut self, p: Prepared, mut leg: Leg, stop: &watch::Receiver<bool>) -> Next {
        let Prepared {
            body_len,
            keep_alive,
            gateway,
            mut ex,
            ..
        } = p;
        let up = &self.state.upstreams[gateway];
        let meter = ex.request_meter();
        self.idle.moved();
        // Whether the whole body went up: else what is left of it cannot be told from a
        // next request, and the leg is in the middle of a message.
        let sent_whole = match self.send(&mut leg, body_len, &meter).await {
            Ok(whole) => whole,
            Err(failure) => {
                let response = forward::gateway_failure(self.state, up, failure, ex, &meter);
                return self.answer(response, false, stop).await;
            }
        };
        let keep_alive = keep_alive && sent_whole;

        // The answer's head (informational ones skipped).
        let head = loop {
            let mut slots = h1::slots();
            match h1::parse_response(&leg.buf, &mut slots, MAX_RESPONSE_HEAD) {
                Ok(ParsedResponse::Ready(head)) => {
                    let closing = !keep_alive || *stop.borrow();
                    write_response_head(&mut self.out, &head, closing);
                    break (head.len, head.code, head.framing, head.keep_alive, closing);
                }
                Ok(ParsedResponse::Informational(len)) => {
                    leg.buf.advance(len);
                    continue;
                }
                Ok(ParsedResponse::Partial) => {}
                Err(why) => {
                    let failure = Failure::BeforeAnswer(why.into());
                    let response = forward::gateway_failure(self.state, up, failure, ex, &meter);
                    return self.answer(response, keep_alive, stop).await;
                }
            }
            let failure = match self.read_leg(&mut leg).await {
                LegRead::Data => continue,
                LegRead::Eof => {
                    Failure::BeforeAnswer("connection closed before message completed".into())
                }
                LegRead::Failed(e) => Failure::BeforeAnswer(e.to_string()),
                LegRead::Idle => Failure::NoAnswer,
                LegRead::ClientGone => return Next::Abort,
            };
            let response = forward::gateway_failure(self.state, up, failure, ex, &meter);
            return self.answer(response, keep_alive, stop).await;
        };
        let (head_len, code, framing, leg_keep_alive, closing) = head;
        leg.buf.advance(head_len);
        up.succeeded();
        ex.responded(code, Via::Gateway, Some(up.label.clone()));

        let ended = self.stream_body(&mut leg, framing, &mut ex).await;
        if let Err(outcome) = ended {
            if let Some(outcome) = outcome {
                ex.set_outcome(outcome);
            }
            return Next::Abort;
        }
        ex.set_outcome(Outcome::Complete);
        // Back to the gateway's idle list: the next request, of any client connection,
        // takes the leg parked last (see `leg.rs`).
        if leg_keep_alive && sent_whole && leg.buf.is_empty() {
            self.state.idle_legs.park(leg);
        }
        if closing {
            Next::Close
        } else {
            Next::KeepAlive
        }
    }

    /// Writes the request head in `out` and its body. The client's bytes already read
    /// go with the head in one write. False if the gateway answered (or closed) before
    /// the whole body was there: its answer is read then, as hyper's client reads it.
    async fn send(
        &mut self,
        leg: &mut Leg,
        body_len: u64,
        meter: &RequestMeter,
    ) -> Result<bool, Failure> {
        let upstream_failed = |e: io::Error| Failure::BeforeAnswer(e.to_string());
        let first = usize::try_from(body_len).map_or(self.inbuf.len(), |n| n.min(self.inbuf.len()));
        write_all(&mut leg.stream, &self.out, &self.inbuf[..first])
            .await
            .map_err(upstream_failed)?;
        self.inbuf.advance(first);
        meter.add(first as u64);
        let mut left = body_len - first as u64;
        while left > 0 {
            let read = poll_fn(|cx| {
                if let Poll::Ready(r) = poll_read(&mut self.client, &mut self.inbuf, cx) {
                    return Poll::Ready(Some(r));
                }
                if self.idle.poll_expired(cx).is_ready() {
                    return Poll::Ready(Some(Err(io::ErrorKind::TimedOut.into())));
                }
                // The gateway answering (or closing) before the body is all there.
                if leg.stream.poll_read_ready(cx).is_ready() {
                    return Poll::Ready(None);
                }
                Poll::Pending
            })
            .await;
            match read {
                Some(Ok(n)) if n > 0 => {}
                Some(Err(e)) if e.kind() == io::ErrorKind::TimedOut => {
                    return Err(Failure::NoAnswer);
                }
                // The client's body broke: its error, not the gateway's.
                Some(_) => {
                    meter
                        .client_failed
                        .store(true, std::sync::atomic::Ordering::Relaxed);
                    return Err(Failure::BeforeAnswer("the request body broke off".into()));
                }
                None => return Ok(false),
            }
            let n = usize::try_from(left).map_or(self.inbuf.len(), |l| l.min(self.inbuf.len()));
            write_all(&mut leg.stream, &self.inbuf[..n], &[])
                .await
                .map_err(upstream_failed)?;
            self.inbuf.advance(n);
            meter.add(n as u64);
            left -= n as u64;
        }
        Ok(true)
    }

    /// Streams the answer's body after its head (in `out`). Err with the outcome to log
    /// when the response broke off (none: the client went away).
    async fn stream_body(
        &mut self,
        leg: &mut Leg,
        framing: Framing,
        ex: &mut Exchange,
    ) -> Result<(), Option<Outcome>> {
        let client_gone = |_| None;
        match framing {
            Framing::Empty => self.write_out().await.map_err(client_gone),
            Framing::Length(len) => {
                let mut left = len;
                loop {
                    let n = usize::try_from(left).map_or(leg.buf.len(), |l| l.min(leg.buf.len()));
                    write_all(&mut self.client, &self.out, &leg.buf[..n])
                        .await
                        .map_err(client_gone)?;
                    self.out.clear();
                    leg.buf.advance(n);
                    ex.sent(n as u64);
                    left -= n as u64;
                    if left == 0 {
                        return Ok(());
                    }
                    self.wait_for_body(leg).await?;
                }
            }
            Framing::Chunked => {
                let mut chunked = h1::Chunked::default();
                loop {
                    let (used, data, decoded) = chunked.decode(&leg.buf, &mut self.out);
                    leg.buf.advance(used);
                    let done = decoded == Ok(true);
                    if done {
                        self.out.extend_from_slice(b"0\r\n\r\n");
                    }
                    // The head goes at once, then each chunk as it comes; data before a
                    // malformed chunk too.
                    if !self.out.is_empty() {
                        self.write_out().await.map_err(client_gone)?;
                    }
                    if data > 0 {
                        ex.sent(data);
                    }
                    if let Err(e) = decoded {
                        return Err(upstream_error(e.into()));
                    }
                    if done {
                        return Ok(());
                    }
                    self.wait_for_body(leg).await?;
                }
            }
            Framing::Close => loop {
                let data = leg.buf.len() as u64;
                h1::push_chunk(&mut self.out, &leg.buf);
                leg.buf.clear();
                self.write_out().await.map_err(client_gone)?;
                ex.sent(data);
                match self.read_leg(leg).await {
                    LegRead::Data => {}
                    LegRead::Eof => {
                        self.out.extend_from_slice(b"0\r\n\r\n");
                        return self.write_out().await.map_err(client_gone);
                    }
                    read => return Err(body_broke(read)),
                }
            },
        }
    }

    /// Waits for more of a body from the gateway.
    async fn wait_for_body(&mut self, leg: &mut Leg) -> Result<(), Option<Outcome>> {
        match self.read_leg(leg).await {
            LegRead::Data => Ok(()),
            read => Err(body_broke(read)),
        }
    }

    async fn write_out(&mut self) -> io::Result<()> {
        let written = write_all(&mut self.client, &self.out, &[]).await;
        self.out.clear();
        written
    }

    /// Reads from the gateway while watching the client (a close cancels the exchange)
    /// and the idle timer. Client bytes that arrive meanwhile are kept (a pipelined
    /// request), up to a bound.
    async fn read_leg(&mut self, leg: &mut Leg) -> LegRead {
        let read = poll_fn(|cx| {
            match poll_read(&mut leg.stream, &mut leg.buf, cx) {
                Poll::Ready(Ok(0)) => return Poll::Ready(LegRead::Eof),
                Poll::Ready(Ok(_)) => return Poll::Ready(LegRead::Data),
                Poll::Ready(Err(e)) => return Poll::Ready(LegRead::Failed(e)),
                Poll::Pending => {}
            }
            while self.inbuf.len() < MAX_CLIENT_BUFFER {
                match poll_read(&mut self.client, &mut self.inbuf, cx) {
                    Poll::Ready(Ok(0) | Err(_)) => return Poll::Ready(LegRead::ClientGone),
                    Poll::Ready(Ok(_)) => {}
                    Poll::Pending => break,
                }
            }
            if self.idle.poll_expired(cx).is_ready() {
                return Poll::Ready(LegRead::Idle);
            }
            Poll::Pending
        })
        .await;
        if matches!(read, LegRead::Data) {
            self.idle.moved();
        }
        read
    }

    /// Sends a response the relay made (a 502, 504, 400…), then goes on as the client
    /// asked if `keep_alive`.
    async fn answer(
        &mut self,
        response: Response<RelayBody>,
        keep_alive: bool,
        stop: &watch::Receiver<bool>,
    ) -> Next {
        let (parts, mut body) = response.into_parts();
        let mut data = Vec::new();
        while let Some(frame) = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
            if let Ok(frame) = frame
                && let Ok(bytes) = frame.into_data()
            {
                data.extend_from_slice(&bytes);
            }
        }
        let closing = !keep_alive || *stop.borrow();
        let out = &mut self.out;
        out.clear();
        push_status_line(
            out,
            parts.status,
            parts.status.canonical_reason().unwrap_or(""),
        );
        for (name, value) in &parts.headers {
            push_header(out, name.as_str().as_bytes(), value.as_bytes());
        }
        out.extend_from_slice(b"content-length: ");
        h1::push_decimal(out, data.len() as u64);
        out.extend_from_slice(b"\r\n");
        push_date(out);
        if closing {
            out.extend_from_slice(b"connection: close\r\n");
        }
        out.extend_from_slice(b"\r\n");
        let written = write_all(&mut self.client, &self.out, &data).await;
        self.out.clear();
        drop(body); // logs the exchange
        match (written, closing) {
            (Err(_), _) => Next::Abort,
            (Ok(()), true) => Next::Close,
            (Ok(()), false) => Next::KeepAlive,
        }
    }
}

/// Parses the head in `buf` and, if the fast path takes the request, writes its
/// upstream head into `out` and opens its exchange. `admitted_host`: a `Host` value
/// this connection already showed to name the relay.
fn prepare(
    buf: &[u8],
    out: &mut Vec<u8>,
    state: &State,
    local: IpAddr,
    admitted_host: &mut Vec<u8>,
) -> Prep {
    if buf.is_empty() {
        return Prep::Partial;
    }
    let mut slots = h1::slots();
    let head = match h1::qualify(buf, &mut slots, MAX_HEADER_BYTES) {
        Qualify::Ready(head) => head,
        Qualify::Partial => return Prep::Partial,
        Qualify::Handoff => return Prep::Handoff,
    };
    // Admission as `forward::handle` checks it; a refusal is the hyper path's to answer.
    let hosts = &state.hosts;
    // (An empty `Host` never names the relay, so the empty start value matches none.)
    let host_named = !head.host.is_empty() && admitted_host.as_slice() == head.host.as_bytes()
        || hosts.names_relay(head.host, local) && {
            admitted_host.clear();
            admitted_host.extend_from_slice(head.host.as_bytes());
            true
        };
    let admitted = host_named
        && head.origin.is_none_or(|o| hosts.is_own_origin(o, local))
        && head
            .sec_fetch_site
            .is_none_or(|s| matches!(s, b"same-origin" | b"none"));
    let pq = &head.path_and_query;
    let route = Route::classify_path(pq.path(), head.anthropic_version);
    if !admitted || route == Route::Relay || head.body_len > state.config.max_body_bytes {
        return Prep::Handoff;
    }
    // The gateway the hyper path would try first; only a plain-http one here.
    let now = Instant::now();
    let Some(gateway) = state.upstreams.iter().position(|up| up.available(now)) else {
        return Prep::Handoff;
    };
    let up = &state.upstreams[gateway];
    let Some(target) = up.legs.as_ref() else {
        return Prep::Handoff;
    };

    // The request as it goes upstream: the gateway's path prefix and Host, no
    // hop-by-hop headers, the credential and fixed headers.
    out.clear();
    out.extend_from_slice(head.method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(up.base.prefix().as_bytes());
    out.extend_from_slice(head.target.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    push_header(out, b"host", &target.host);
    // The credential and fixed headers exactly as the hyper path sets them
    // (`Outgoing::to_gateway`), replacing any the client sent under those names.
    let outgoing = state.outgoing();
    for (i, h) in head.headers.iter().enumerate() {
        if head.dropped & (1 << i) == 0 && !outgoing.replaces(route, h.name) {
            push_header(out, h.name.as_bytes(), h.value);
        }
    }
    for (name, value) in outgoing.gateway_headers(route) {
        push_header(out, name.as_str().as_bytes(), value.as_bytes());
    }
    out.extend_from_slice(b"\r\n");

    let ex = Exchange::begin(
        state.recorder.clone(),
        &head.method,
        pq.path(),
        pq.query(),
        route,
    );
    Prep::Ready(Prepared {
        head_len: head.len,
        body_len: head.body_len,
        keep_alive: head.keep_alive,
        gateway,
        ex,
    })
}

/// The client's response head for a gateway's answer: its status and headers, without
/// hop-by-hop ones (and those its `Connection` names), framed for the client as hyper
/// frames it: the length kept, else chunked.
fn write_response_head(out: &mut Vec<u8>, head: &h1::ResponseHead<'_>, closing: bool) {
    out.clear();
    let status = StatusCode::from_u16(head.code).unwrap_or(StatusCode::BAD_GATEWAY);
    push_status_line(out, status, head.reason);
    // Headers a `Connection` header names besides its usual tokens (rare).
    let mut named: Vec<&[u8]> = Vec::new();
    if head.connection_names {
        for h in head.headers {
            if h1::name(h.name) == Name::Connection {
                named.extend(h1::tokens(h.value));
            }
        }
    }
    for (i, h) in head.headers.iter().enumerate() {
        let dropped = head.dropped & (1 << i) != 0
            || named
                .iter()
                .any(|n| n.eq_ignore_ascii_case(h.name.as_bytes()));
        if !dropped {
            push_header(out, h.name.as_bytes(), h.value);
        }
    }
    match head.framing {
        Framing::Empty => {}
        Framing::Length(len) => {
            out.extend_from_slice(b"content-length: ");
            h1::push_decimal(out, len);
            out.extend_from_slice(b"\r\n");
        }
        Framing::Chunked | Framing::Close => {
            out.extend_from_slice(b"transfer-encoding: chunked\r\n")
        }
    }
    if !head.dated {
        push_date(out);
    }
    if closing {
        out.extend_from_slice(b"connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

fn push_status_line(out: &mut Vec<u8>, status: StatusCode, reason: &str) {
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(reason.as_bytes());
    out.extend_from_slice(b"\r\n");
}

fn push_header(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

fn push_date(out: &mut Vec<u8>) {
    out.extend_from_slice(b"date: ");
    out.extend_from_slice(&h1::http_date());
    out.extend_from_slice(b"\r\n");
}

fn upstream_error(why: String) -> Option<Outcome> {
    Some(Outcome::UpstreamError(why))
}

/// How a body that stopped early ends in the log.
fn body_broke(read: LegRead) -> Option<Outcome> {
    match read {
        LegRead::Data => None,
        LegRead::Eof => upstream_error("connection closed before message completed".into()),
        LegRead::Failed(e) => upstream_error(e.to_string()),
        LegRead::Idle => Some(Outcome::IdleTimeout),
        LegRead::ClientGone => None,
    }
}

/// Reads what is there into the spare room of `buf` (tokio's `poll_read`, which spares
/// the next `recv` when a read came back short).
fn poll_read(
    stream: &mut TcpStream,
    buf: &mut BytesMut,
    cx: &mut Context<'_>,
) -> Poll<io::Result<usize>> {
    if buf.capacity() - buf.len() < READ_SIZE / 2 {
        buf.reserve(READ_SIZE);
    }
    pin!(stream.read_buf(buf)).poll(cx)
}

/// Writes `a` then `b` in as few `writev` calls as the socket takes.
async fn write_all(stream: &mut TcpStream, mut a: &[u8], mut b: &[u8]) -> io::Result<()> {
    while !a.is_empty() || !b.is_empty() {
        let n = if b.is_empty() {
            stream.write(a).await?
        } else {
            stream
                .write_vectored(&[IoSlice::new(a), IoSlice::new(b)])
                .await?
        };
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        let from_a = n.min(a.len());
        a = &a[from_a..];
        b = &b[n - from_a..];
    }
    Ok(())
}

/// A connection handed to the hyper server: the bytes the fast path read come first.
pub(super) struct Replay {
    replay: Bytes,
    stream: TcpStream,
}

impl Replay {
    pub(super) fn new(replay: Bytes, stream: TcpStream) -> Self {
        Self { replay, stream }
    }
}

impl AsyncRead for Replay {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if !self.replay.is_empty() {
            let n = self.replay.len().min(buf.remaining());
            buf.put_slice(&self.replay[..n]);
            self.replay.advance(n);
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Replay {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
