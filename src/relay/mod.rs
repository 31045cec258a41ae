//! The local relay (`anyray gateway`, and `anyray run --relay` in-process): a hyper
//! HTTP/1.1 server on loopback that streams every request to the first reachable org
//! gateway and streams the answer back, frame by frame.
//!
//! ```no_run
//! # async fn demo(mut config: anyray::relay::RelayConfig) -> anyhow::Result<()> {
//! use anyray::relay::{Relay, LogTarget};
//! // `config` is the resolved settings' `relay`, given its identity by the command.
//! config.listen = "127.0.0.1:0".parse()?; // a free port
//! config.log = LogTarget::Quiet;
//! let relay = Relay::bind(config).await?;
//! println!("relay at {}", relay.url());
//! relay.shutdown().await; // graceful, bounded by relay.grace_period_s
//! # Ok(()) }
//! ```
//!
//! The server speaks HTTP/1.1 only: local tools talk plain `http://` to it, and
//! hyper's HTTP/1 server enforces the header-read timeout from the first byte, where
//! auto-detecting HTTP/2 would first wait for a 24-byte preface with no timeout at all.
//! HTTP/2 is used upstream, where a gateway offers it by ALPN.

mod access_log;
mod admission;
mod body;
mod cause;
mod config;
mod fast;
mod forward;
mod h1;
mod leg;
mod metrics;
mod outgoing;
mod redact;
mod routes;
mod target;
mod upstream;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Result;
use hyper::service::service_fn;
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::{TokioIo, TokioTimer};
use serde::Serialize;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::{JoinHandle, JoinSet};

pub(crate) use admission::valid_allowed_host;
pub use config::{
    DEFAULT_RETRY_INTERVAL, Fallback, Identity, LogFormat, LogTarget, ProviderTargets, RelayConfig,
    RelaySummary, is_own_address,
};
pub use forward::{HEALTH_PATH, RELAY_HEADER};
pub use routes::Route;

use access_log::{LogSink, Recorder};
use admission::HostRule;
use fast::{Replay, Served};
use forward::FailedConnect;
use leg::IdleLegs;
use metrics::Metrics;
use target::FailOpenTargets;
use upstream::{Bounded, Dialer, Upstream, UpstreamClient};

use crate::error::UserError;

/// What every request handler shares.
struct State {
    config: RelayConfig,
    upstreams: Vec<Upstream>,
    fail_open: FailOpenTargets,
    /// The names and addresses requests may give in `Host`.
    hosts: HostRule,
    /// TLS gateways, fail-open targets, and the requests the fast path hands over.
    client: UpstreamClient,
    /// Whether some gateway is plain `http://`: client connections start on the fast
    /// path (`fast.rs`), which connects its legs with `dialer` and parks them idle here.
    fast_path: bool,
    dialer: Bounded<Dialer>,
    idle_legs: IdleLegs,
    recorder: Arc<Recorder>,
    /// The headers added toward the gateways and stripped toward the providers; replaced
    /// whole when the credential is renewed ([`IdentityUpdater`]).
    outgoing: std::sync::RwLock<Arc<outgoing::Outgoing>>,
}

impl State {
    /// The outgoing headers as they are now (a renewal swaps them between requests).
    fn outgoing(&self) -> Arc<outgoing::Outgoing> {
        self.outgoing
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// The most bytes of request line and headers a request may have (nginx: 32 KiB).
/// hyper answers 431 beyond it. Its read buffer (`max_buf_size`) is not this limit: a
/// read may overshoot it, which let ~100 KB of headers through before.
const MAX_HEADER_BYTES: usize = 64 * 1024;

/// The relay engine. [`Relay::bind`] starts it on the current tokio runtime.
pub struct Relay;

impl Relay {
    /// Validates `config`, listens, writes the startup line to the access log and
    /// serves in the background until [`RelayHandle::shutdown`].
    pub async fn bind(config: RelayConfig) -> Result<RelayHandle> {
        config.validate()?;
        let tls = crate::http::tls_config(config.ca_file.as_deref())?;
        let log = LogSink::open(&config.log, config.log_format)?;
        let listener = TcpListener::bind(config.listen).await.map_err(|e| {
            let hint = if e.kind() == std::io::ErrorKind::AddrInUse {
                "another program (maybe another relay) listens there; \
                 pick another address with --listen or `anyray config set relay.listen ADDR`"
            } else {
                "pick another address with --listen or `anyray config set relay.listen ADDR`"
            };
            UserError::problem(format!("cannot listen on {}: {e}", config.listen)).with_hint(hint)
        })?;
        let local_addr = listener.local_addr()?;
        let dialer = upstream::dialer(Matcher::from_env(), config.connect_timeout);
        let upstreams: Vec<Upstream> = config
            .upstreams
            .iter()
            .cloned()
            .map(Upstream::new)
            .collect::<Result<_, _>>()?;
        let state = Arc::new(State {
            fast_path: upstreams.iter().any(|up| up.legs.is_some()),
            idle_legs: IdleLegs::new(upstreams.len()),
            upstreams,
            fail_open: FailOpenTargets::new(&config.providers)?,
            hosts: HostRule::new(local_addr, &config.allowed_hosts),
            client: upstream::client(tls, &dialer),
            dialer,
            recorder: Arc::new(Recorder {
                log,
                metrics: Metrics::default(),
            }),
            outgoing: std::sync::RwLock::new(Arc::new(outgoing::Outgoing::new((&config).into()))),
            config,
        });
        let url = loopback_url(local_addr);
        startup_line(&state, local_addr, &url);
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(serve(listener, state.clone(), stopped));
        Ok(RelayHandle {
            local_addr,
            url,
            stop,
            task: Some(task),
            state,
        })
    }
}

/// A running relay. Dropping it stops accepting and lets in-flight requests finish in
/// the background (within the grace period); [`shutdown`](Self::shutdown) waits for it.
pub struct RelayHandle {
    local_addr: SocketAddr,
    url: String,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
    state: Arc<State>,
}

impl RelayHandle {
    /// The address it listens on (the real port when the config said port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `http://127.0.0.1:PORT` (loopback even when listening on every interface): where
    /// this machine's tools reach it.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// What the startup line says about where it listens, e.g.
    /// `http://0.0.0.0:8787 (every interface; this machine: http://127.0.0.1:8787)`.
    pub(crate) fn listening_on(&self) -> String {
        listening_on(self.local_addr, &self.url)
    }

    /// Requests in progress right now.
    pub fn in_flight(&self) -> i64 {
        self.state.recorder.metrics.in_flight()
    }

    /// What renews the credential of this running relay.
    pub fn identity_updater(&self) -> IdentityUpdater {
        IdentityUpdater(self.state.clone())
    }

    /// Stops accepting, lets in-flight requests finish up to the grace period, then
    /// cuts the rest.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

/// Puts a renewed credential (an SSO access token refreshed, a new key stored by
/// `anyray login`) in a running relay: requests that start afterwards carry it.
#[derive(Clone)]
pub struct IdentityUpdater(Arc<State>);

impl IdentityUpdater {
    pub fn set(&self, identity: Identity) {
        let parts = outgoing::Parts {
            identity: Some(&identity),
            ..(&self.0.config).into()
        };
        let fresh = Arc::new(outgoing::Outgoing::new(parts));
        *self.0.outgoing.write().unwrap_or_else(|e| e.into_inner()) = fresh;
    }
}

impl Drop for RelayHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// The bound address as the startup line gives it: the real one, and where this
/// machine reaches it when that differs (`0.0.0.0` is not an address to connect to).
fn listening_on(addr: SocketAddr, url: &str) -> String {
    if addr.ip().is_unspecified() {
        format!("http://{addr} (every interface; this machine: {url})")
    } else {
        url.to_string()
    }
}

fn loopback_url(addr: SocketAddr) -> String {
    match addr {
        SocketAddr::V4(a) if a.ip().is_unspecified() => format!("http://127.0.0.1:{}", a.port()),
        SocketAddr::V6(a) if a.ip().is_unspecified() => format!("http://[::1]:{}", a.port()),
        a => format!("http://{a}"),
    }
}

/// The startup event of the access log.
#[derive(Serialize)]
struct Startup<'a> {
    event: &'static str,
    version: &'static str,
    /// The bound address as a URL (`http://0.0.0.0:8787` when on every interface).
    listen: String,
    /// Where this machine's tools reach it (loopback when on every interface).
    local_url: &'a str,
    upstreams: Vec<String>,
    fallback: &'static str,
    identity_header: Option<String>,
}

fn startup_line(state: &State, addr: SocketAddr, url: &str) {
    let config = &state.config;
    let upstreams: Vec<String> = config.upstreams.iter().map(ToString::to_string).collect();
    let fallback = config.fallback.as_str();
    let identity = config.identity.as_ref().map(|i| i.header.to_string());
    let mut human = format!(
        "anyray relay listening on {}, forwarding to {}; fallback: {fallback}",
        listening_on(addr, url),
        upstreams.join(" then ")
    );
    if let Some(header) = &identity {
        human.push_str(&format!("; adding your key as {header}"));
    }
    state.recorder.log.event(
        || human,
        &Startup {
            event: "listening",
            version: env!("CARGO_PKG_VERSION"),
            listen: format!("http://{addr}"),
            local_url: url,
            upstreams,
            fallback,
            identity_header: identity,
        },
    );
}

#[derive(Serialize)]
struct Lifecycle {
    event: &'static str,
    in_flight: i64,
    grace_period_ms: u64,
}

async fn serve(listener: TcpListener, state: Arc<State>, mut stop: watch::Receiver<bool>) {
    let permits = Arc::new(Semaphore::new(state.config.max_connections));
    let listen_ip = listener
        .local_addr()
        .map_or(state.config.listen.ip(), |a| a.ip());
    let mut connections = JoinSet::new();
    loop {
        // Waiting for a permit before accepting leaves extra clients in the kernel's
        // backlog instead of holding them open unserved.
        let permit = tokio::select! {
            biased;
            _ = stop.wait_for(|s| *s) => break,
            permit = permits.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
        };
        let accepted = tokio::select! {
            biased;
            _ = stop.wait_for(|s| *s) => break,
            accepted = listener.accept() => accepted,
        };
        while connections.try_join_next().is_some() {}
        match accepted {
            Ok((stream, _peer)) => {
                // The address the client connected to, which its Host may name.
                let local = match listen_ip {
                    ip if ip.is_unspecified() => stream.local_addr().map_or(ip, |a| a.ip()),
                    ip => ip,
                };
                connections.spawn(serve_connection(
                    stream,
                    local,
                    state.clone(),
                    stop.clone(),
                    permit,
                ));
            }
            // E.g. out of file descriptors: back off instead of spinning.
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    drop(listener);
    let grace = state.config.grace_period;
    let in_flight = state.recorder.metrics.in_flight();
    state.recorder.log.event(
        || {
            format!(
                "anyray relay stopping: no new connections; {in_flight} request(s) in flight get up to {} s",
                grace.as_secs()
            )
        },
        &Lifecycle {
            event: "stopping",
            in_flight,
            grace_period_ms: u64::try_from(grace.as_millis()).unwrap_or(u64::MAX),
        },
    );
    let drained = tokio::time::timeout(grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await
    .is_ok();
    let cut = if drained {
        0
    } else {
        let cut = state.recorder.metrics.in_flight();
        connections.abort_all();
        while connections.join_next().await.is_some() {}
        cut
    };
    state.recorder.log.event(
        || format!("anyray relay stopped; {cut} request(s) cut at the end of the grace period"),
        &Lifecycle {
            event: "stopped",
            in_flight: cut,
            grace_period_ms: u64::try_from(grace.as_millis()).unwrap_or(u64::MAX),
        },
    );
    // `shutdown` returns once the log holds every line.
    state.recorder.log.flush().await;
}

async fn serve_connection(
    stream: TcpStream,
    local: IpAddr,
    state: Arc<State>,
    stop: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
) {
    let _ = stream.set_nodelay(true); // SSE events go out as they come
    if !state.fast_path {
        return serve_hyper(TokioIo::new(stream), local, state, stop, None).await;
    }
    match fast::serve(stream, local, &state, &stop).await {
        Served::Closed => {}
        Served::Handoff {
            replay,
            stream,
            failed,
        } => {
            let io = TokioIo::new(Replay::new(replay, stream));
            serve_hyper(io, local, state, stop, failed).await;
        }
    }
}

/// Serves a connection with hyper's HTTP/1 server and the forwarding of `forward.rs`.
/// `failed`: a gateway the fast path could not reach for the connection's first request.
async fn serve_hyper<I>(
    io: I,
    local: IpAddr,
    state: Arc<State>,
    mut stop: watch::Receiver<bool>,
    failed: Option<FailedConnect>,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let handler_state = state.clone();
    // Whether a request ever reached the handler on this connection (see below).
    let served = Arc::new(AtomicBool::new(false));
    let service_served = served.clone();
    let failed = std::sync::Mutex::new(failed);
    let service = service_fn(move |req| {
        service_served.store(true, Ordering::Relaxed);
        let failed = failed.lock().map_or(None, |mut f| f.take());
        forward::handle(handler_state.clone(), local, failed, req)
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(state.config.header_timeout)
        .max_header_size(MAX_HEADER_BYTES)
        // hyper grows a connection's read buffer to ~400 KiB while a large body streams
        // in: 64 KiB keeps a 5 MB upload under 0.5 MiB of peak RSS instead of ~1.7 MiB
        // (bench/run.sh).
        .max_buf_size(64 * 1024)
        .serve_connection(io, service);
    let mut connection = std::pin::pin!(connection);
    tokio::select! {
        // The connection first: a request that has arrived is read before stopping.
        biased;
        _ = connection.as_mut() => return,
        _ = stop.wait_for(|s| *s) => {}
    }
    // hyper closes an idle keep-alive connection at once, but waits for the first
    // request of a new connection to finish arriving (up to the header timeout): no
    // request is in service there, so close it now.
    if !served.load(Ordering::Relaxed) {
        return;
    }
    // Finish the response in progress (if any), then close.
    connection.as_mut().graceful_shutdown();
    let _ = connection.await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_startup_line_names_the_real_address() {
        let any: SocketAddr = "0.0.0.0:8787".parse().unwrap();
        assert_eq!(
            listening_on(any, &loopback_url(any)),
            "http://0.0.0.0:8787 (every interface; this machine: http://127.0.0.1:8787)"
        );
        let any6: SocketAddr = "[::]:8787".parse().unwrap();
        assert_eq!(
            listening_on(any6, &loopback_url(any6)),
            "http://[::]:8787 (every interface; this machine: http://[::1]:8787)"
        );
        let lan: SocketAddr = "192.168.1.20:8787".parse().unwrap();
        assert_eq!(
            listening_on(lan, &loopback_url(lan)),
            "http://192.168.1.20:8787"
        );
        let local: SocketAddr = "127.0.0.1:8787".parse().unwrap();
        assert_eq!(
            listening_on(local, &loopback_url(local)),
            "http://127.0.0.1:8787"
        );
    }
}
