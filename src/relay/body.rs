//! Body wrappers on the data path. Both pass frames through as they come (never
//! collected, decoded or re-chunked) and only count bytes.
//!
//! - [`UpstreamBody`]: the client's request body on its way up. It enforces the size
//!   limit, and if it is dropped before a single frame was read (the connect failed), it
//!   hands the untouched body back so the next gateway can be tried.
//! - [`RelayBody`]: the response on its way to the client, with the idle timeout, and the
//!   access-log record that is written when the body ends or is dropped.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use tokio::sync::oneshot;
use tokio::time::{Instant, Sleep};

use super::access_log::{Exchange, Outcome, RequestMeter};
use super::cause::describe;

pub(super) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The relay's request body toward an upstream.
pub(super) struct UpstreamBody {
    inner: Option<Incoming>,
    /// Receives `inner` back if no frame was read before this body was dropped.
    give_back: Option<oneshot::Sender<Incoming>>,
    touched: bool,
    meter: Arc<RequestMeter>,
    limit: u64,
}

/// The error a body yields when it passes `relay.max_body_mb`.
#[derive(Debug)]
pub(super) struct BodyTooLarge;

impl std::fmt::Display for BodyTooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("request body larger than relay.max_body_mb")
    }
}

impl std::error::Error for BodyTooLarge {}

impl UpstreamBody {
    /// Wraps `inner`; the receiver gets it back if the attempt never read from it.
    pub(super) fn new(
        inner: Incoming,
        meter: Arc<RequestMeter>,
        limit: u64,
    ) -> (Self, oneshot::Receiver<Incoming>) {
        let (tx, rx) = oneshot::channel();
        let body = Self {
            inner: Some(inner),
            give_back: Some(tx),
            touched: false,
            meter,
            limit,
        };
        (body, rx)
    }
}

impl Body for UpstreamBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        this.touched = true;
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        match std::task::ready!(Pin::new(inner).poll_frame(cx)) {
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref() {
                    let total = this
                        .meter
                        .bytes
                        .fetch_add(data.len() as u64, Ordering::Relaxed)
                        + data.len() as u64;
                    if total > this.limit {
                        this.meter.over_limit.store(true, Ordering::Relaxed);
                        return Poll::Ready(Some(Err(Box::new(BodyTooLarge))));
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Some(Err(e)) => {
                this.meter.client_failed.store(true, Ordering::Relaxed);
                Poll::Ready(Some(Err(e.into())))
            }
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), Body::size_hint)
    }
}

impl Drop for UpstreamBody {
    fn drop(&mut self) {
        if !self.touched
            && let (Some(inner), Some(tx)) = (self.inner.take(), self.give_back.take())
        {
            let _ = tx.send(inner);
        }
    }
}

/// The relay's response body toward the client.
pub(super) struct RelayBody {
    kind: Kind,
    idle: Option<IdleTimer>,
    exchange: Option<Exchange>,
}

/// Cuts a response that moves no byte for `limit`. The timer is armed only when the
/// upstream body first has nothing ready (a small answer that arrives whole never needs
/// one), and data only stamps the time: the timer is moved when it fires, not on every
/// chunk, which keeps the timer wheel out of the per-chunk path. The fast path keeps one
/// per connection for its header and idle timeouts, armed once.
pub(super) struct IdleTimer {
    limit: Duration,
    last_moved: Instant,
    sleep: Option<Pin<Box<Sleep>>>,
}

impl IdleTimer {
    pub(super) fn new(limit: Duration) -> Self {
        Self {
            limit,
            last_moved: Instant::now(),
            sleep: None,
        }
    }

    /// Something moved: the limit counts from now.
    pub(super) fn moved(&mut self) {
        self.last_moved = Instant::now();
    }

    /// Ready when nothing moved for `limit`; otherwise registers for the next check.
    pub(super) fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let (limit, last_moved) = (self.limit, self.last_moved);
        let sleep = self
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(last_moved + limit)));
        loop {
            std::task::ready!(sleep.as_mut().poll(cx));
            let deadline = last_moved + limit;
            if deadline <= sleep.deadline() {
                return Poll::Ready(()); // nothing moved since the timer was armed
            }
            sleep.as_mut().reset(deadline);
        }
    }
}

enum Kind {
    Upstream(Incoming),
    Full(Option<Bytes>),
}

#[derive(Debug)]
struct IdleTimeout(Duration);

impl std::fmt::Display for IdleTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the gateway sent nothing for {} s (relay.idle_timeout_s)",
            self.0.as_secs()
        )
    }
}

impl std::error::Error for IdleTimeout {}

impl RelayBody {
    /// A response streamed from upstream; cut if it moves no byte for `idle`.
    pub(super) fn upstream(body: Incoming, idle: Duration, exchange: Exchange) -> Self {
        Self {
            kind: Kind::Upstream(body),
            idle: Some(IdleTimer::new(idle)),
            exchange: Some(exchange),
        }
    }

    /// A response the relay makes itself.
    pub(super) fn full(bytes: impl Into<Bytes>, exchange: Option<Exchange>) -> Self {
        Self {
            kind: Kind::Full(Some(bytes.into())),
            idle: None,
            exchange,
        }
    }

    fn note_data(&mut self, len: usize) {
        if let Some(ex) = self.exchange.as_mut() {
            ex.sent(len as u64);
        }
        if let Some(idle) = self.idle.as_mut() {
            idle.moved();
        }
    }

    fn end(&mut self, outcome: Outcome) {
        if let Some(ex) = self.exchange.as_mut() {
            ex.set_outcome(outcome);
        }
    }
}

impl Body for RelayBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        let polled = match &mut this.kind {
            Kind::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Kind::Upstream(body) => Pin::new(body)
                .poll_frame(cx)
                .map(|f| f.map(|r| r.map_err(BoxError::from))),
        };
        match polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.note_data(data.len());
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => {
                this.end(Outcome::UpstreamError(describe(&*e)));
                Poll::Ready(Some(Err(e)))
            }
            Poll::Ready(None) => {
                this.end(Outcome::Complete);
                Poll::Ready(None)
            }
            Poll::Pending => {
                if let Some(idle) = this.idle.as_mut()
                    && idle.poll_expired(cx).is_ready()
                {
                    let limit = idle.limit;
                    this.end(Outcome::IdleTimeout);
                    this.idle = None;
                    return Poll::Ready(Some(Err(Box::new(IdleTimeout(limit)))));
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Full(b) => b.is_none(),
            Kind::Upstream(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            Kind::Upstream(body) => body.size_hint(),
        }
    }
}

impl Drop for RelayBody {
    fn drop(&mut self) {
        // hyper never polls a body it knows is empty (HEAD, 204, 304, Full sent whole).
        if self.is_end_stream() {
            self.end(Outcome::Complete);
        }
        // Otherwise an unset outcome means the client went away; Exchange's drop logs it.
    }
}
