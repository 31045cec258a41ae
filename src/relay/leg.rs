//! Upstream HTTP/1 connections of the fast path (`fast.rs`) to plain-`http://` gateways.
//! The task of a client connection drives the leg itself for the whole exchange, so a
//! request costs no hand-off to another task. After each response the leg goes back to
//! its gateway's idle list ([`IdleLegs`]), and the next request, from any client
//! connection, takes the leg parked last (nginx's upstream `keepalive` cache works the
//! same way). So the gateway sees about as many connections as requests in flight,
//! not one per client connection, and the few that carry the traffic stay warm in the
//! caches: with 32 client connections at 10,000 req/s this cut the median added
//! latency by ~5 µs against a leg pinned to each client connection (bench/RESULTS.md).
//! A tool that opens a connection per request does not cost a TCP connect upstream
//! each time either. Parked legs expire like the pooled client's idle connections.

use std::future::poll_fn;
use std::io;
use std::sync::{Mutex, MutexGuard};
use std::task::Poll;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use tokio::net::TcpStream;
use tower_service::Service;

use super::body::BoxError;
use super::target::LegTarget;
use super::upstream::{Bounded, Dialer};

/// Parked legs per gateway at most: above nginx's usual `keepalive` of 32–64, as a
/// relay may serve a whole team's tools; the oldest go first.
const MAX_PARKED: usize = 256;
/// A parked leg unused for this long is closed (the pooled client's idle timeout).
const PARKED_FOR: Duration = Duration::from_secs(90);
/// A leg's read buffer to begin with (hyper's initial buffer size).
const INITIAL_BUFFER: usize = 8 * 1024;

/// One HTTP/1 connection to one gateway, with its read buffer.
pub(super) struct Leg {
    /// The gateway's position in the relay's list.
    pub gateway: usize,
    pub stream: TcpStream,
    pub buf: BytesMut,
    parked_at: Instant,
}

impl Leg {
    /// Connects to `target` (through the proxy the environment names, if any), within
    /// the dialer's connect timeout.
    pub(super) async fn connect(
        dialer: &Bounded<Dialer>,
        target: &LegTarget,
        gateway: usize,
    ) -> Result<Self, BoxError> {
        let io = dialer.clone().call(target.origin.clone()).await?;
        Ok(Self {
            gateway,
            stream: io.into_inner(),
            buf: BytesMut::with_capacity(INITIAL_BUFFER),
            parked_at: Instant::now(),
        })
    }

    /// Whether an idle leg can take a request: nothing arrived on it since its last
    /// response (a close, or bytes no request asked for). Costs no system call unless
    /// the socket has become readable.
    pub(super) async fn usable(&mut self) -> bool {
        if !self.buf.is_empty() {
            return false;
        }
        poll_fn(|cx| {
            Poll::Ready(match self.stream.poll_read_ready(cx) {
                Poll::Pending => true,
                Poll::Ready(Err(_)) => false,
                Poll::Ready(Ok(())) => {
                    let mut probe = [0u8; 1];
                    matches!(self.stream.try_read(&mut probe), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
                }
            })
        })
        .await
    }
}

/// Parked legs, one list per gateway.
pub(super) struct IdleLegs {
    lists: Box<[Mutex<Vec<Leg>>]>,
}

impl IdleLegs {
    pub(super) fn new(gateways: usize) -> Self {
        Self {
            lists: (0..gateways).map(|_| Mutex::default()).collect(),
        }
    }

    fn list(&self, gateway: usize) -> Option<MutexGuard<'_, Vec<Leg>>> {
        let list = self.lists.get(gateway)?;
        Some(list.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Keeps `leg` for another client connection; the oldest go when the list is full.
    pub(super) fn park(&self, mut leg: Leg) {
        let Some(mut list) = self.list(leg.gateway) else {
            return;
        };
        let now = Instant::now();
        let expired = list
            .iter()
            .take_while(|l| now.duration_since(l.parked_at) >= PARKED_FOR)
            .count();
        let over = (list.len() - expired + 1).saturating_sub(MAX_PARKED);
        let cut: Vec<Leg> = list.drain(..expired + over).collect();
        leg.parked_at = now;
        list.push(leg);
        drop(list);
        drop(cut); // closes their connections outside the lock
    }

    /// The most recently parked leg to `gateway` that has not expired.
    pub(super) fn unpark(&self, gateway: usize) -> Option<Leg> {
        let mut list = self.list(gateway)?;
        let leg = list.pop()?;
        if leg.parked_at.elapsed() < PARKED_FOR {
            return Some(leg);
        }
        // It was the newest, so all have expired.
        let cut = std::mem::take(&mut *list);
        drop(list);
        drop((leg, cut));
        None
    }
}
