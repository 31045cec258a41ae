//! The upstream side: one pooled hyper client (keep-alive, HTTP/2 by ALPN, rustls with
//! the OS roots plus the optional CA file), a connector that honours
//! `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` explicitly and never proxies loopback (the fast
//! path's legs to plain-`http://` gateways use it too, `leg.rs`), and each gateway's
//! health (a small circuit breaker).

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use anyhow::Result;
use hyper::Uri;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use serde::Serialize;
use tokio::net::TcpStream;
use tower_service::Service;

use super::body::UpstreamBody;
use super::target::{Base, LegTarget};
use crate::error::UserError;
use crate::gateway_url::{GatewayUrl, is_loopback_host};

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type BoxFuture<T> = Pin<Box<dyn Future<Output = Result<T, BoxError>> + Send>>;

/// The client every upstream and fail-open request goes through.
pub(super) type UpstreamClient = Client<Bounded<HttpsConnector<Dialer>>, UpstreamBody>;

/// The TCP connector (straight or through a proxy), its whole connect bounded by
/// `connect_timeout` so a black-holed gateway fails over in that time.
pub(super) fn dialer(proxies: Matcher, connect_timeout: Duration) -> Bounded<Dialer> {
    let mut http = HttpConnector::new();
    http.enforce_http(false); // https URIs reach us; TLS is layered on top
    http.set_nodelay(true); // SSE events must not wait for Nagle
    Bounded {
        inner: Dialer {
            http,
            proxies: std::sync::Arc::new(proxies),
        },
        limit: connect_timeout,
    }
}

/// Builds the pooled client on `dialer`. The whole connect (TCP, proxy CONNECT, TLS) is
/// bounded by the dialer's connect timeout.
pub(super) fn client(mut tls: rustls::ClientConfig, dialer: &Bounded<Dialer>) -> UpstreamClient {
    // hyper-rustls sets ALPN itself (h2, http/1.1) and refuses a config that has it.
    tls.alpn_protocols.clear();
    let https = HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_all_versions()
        .wrap_connector(dialer.inner.clone());
    Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .timer(TokioTimer::new())
        .pool_idle_timeout(Duration::from_secs(90))
        .build(Bounded {
            inner: https,
            limit: dialer.limit,
        })
}

/// Opens the TCP connection: straight, or through an HTTP proxy with CONNECT.
#[derive(Clone)]
pub(super) struct Dialer {
    http: HttpConnector,
    proxies: std::sync::Arc<Matcher>,
}

impl Service<Uri> for Dialer {
    type Response = TokioIo<TcpStream>;
    type Error = BoxError;
    type Future = BoxFuture<Self::Response>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        // A relay on loopback talking to a loopback gateway must never leave the host.
        let proxy = (!is_loopback_host(dst.host().unwrap_or_default()))
            .then(|| self.proxies.intercept(&dst))
            .flatten();
        let mut http = self.http.clone();
        Box::pin(async move {
            let Some(proxy) = proxy else {
                return http.call(dst).await.map_err(Into::into);
            };
            let proxy_uri = proxy.uri().clone();
            let shown = redact_proxy(&proxy_uri);
            if proxy_uri.scheme_str() != Some("http") {
                return Err(format!(
                    "proxy {shown}: only http:// proxies are supported (CONNECT tunnel)"
                )
                .into());
            }
            let mut tunnel = Tunnel::new(proxy_uri, http);
            if let Some(auth) = proxy.basic_auth() {
                tunnel = tunnel.with_auth(auth.clone());
            }
            tunnel
                .call(dst)
                .await
                .map_err(|e| format!("through proxy {shown}: {e}").into())
        })
    }
}

/// A connector whose whole connect is bounded in time.
#[derive(Clone)]
pub(super) struct Bounded<C> {
    inner: C,
    limit: Duration,
}

impl<C> Service<Uri> for Bounded<C>
where
    C: Service<Uri>,
    C::Response: Send + 'static,
    C::Error: Into<BoxError>,
    C::Future: Send + 'static,
{
    type Response = C::Response;
    type Error = BoxError;
    type Future = BoxFuture<Self::Response>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let limit = self.limit;
        let connecting = self.inner.call(dst);
        Box::pin(async move {
            match tokio::time::timeout(limit, connecting).await {
                Ok(result) => result.map_err(Into::into),
                Err(_) => Err(format!("connect timed out after {} ms", limit.as_millis()).into()),
            }
        })
    }
}

/// A proxy URI for messages: scheme, host and port only (never its credentials).
fn redact_proxy(uri: &Uri) -> String {
    let host = uri.host().unwrap_or("?");
    match uri.port_u16() {
        Some(port) => format!("{}://{host}:{port}", uri.scheme_str().unwrap_or("http")),
        None => format!("{}://{host}", uri.scheme_str().unwrap_or("http")),
    }
}

/// What the relay knows about one gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum UpstreamState {
    /// Not tried yet.
    Unknown,
    Up,
    /// Its last connect failed; another gateway is preferred until `retry_at`.
    Down,
}

/// One org gateway and its circuit breaker.
pub(super) struct Upstream {
    pub url: GatewayUrl,
    /// Where its requests go (scheme, authority and base path).
    pub base: Base,
    /// For a plain-`http://` gateway: where the fast path's legs connect (`fast.rs`).
    /// TLS gateways always go through the pooled client, which speaks HTTP/2 where the
    /// gateway offers it.
    pub legs: Option<LegTarget>,
    /// `url` as the access log and metrics name it, shared by every exchange.
    pub label: std::sync::Arc<str>,
    health: Mutex<Health>,
}

struct Health {
    state: UpstreamState,
    failures: u32,
    retry_at: Option<Instant>,
    last_error: Option<String>,
}

/// `/_anyray/health`'s view of one gateway.
#[derive(Debug, Clone, Serialize)]
pub(super) struct UpstreamReport {
    pub url: String,
    pub state: UpstreamState,
    pub last_error: Option<String>,
    /// While down: when it will be tried again.
    pub retry_in_ms: Option<u64>,
}

impl Upstream {
    pub(super) fn new(url: GatewayUrl) -> Result<Self, UserError> {
        let base = Base::new(&url)?;
        let legs =
            match url.is_https() {
                true => None,
                false => Some(LegTarget::new(base.authority()).map_err(|e| {
                    UserError::usage(format!("cannot use {url} as an upstream: {e}"))
                })?),
            };
        Ok(Self {
            base,
            legs,
            label: url.to_string().into(),
            url,
            health: Mutex::new(Health {
                state: UpstreamState::Unknown,
                failures: 0,
                retry_at: None,
                last_error: None,
            }),
        })
    }

    fn health(&self) -> std::sync::MutexGuard<'_, Health> {
        self.health.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether to try it in the first round: not down, or down and its retry time has
    /// come. (When nothing else answers, a down gateway is tried anyway.)
    pub(super) fn available(&self, now: Instant) -> bool {
        let h = self.health();
        h.state != UpstreamState::Down || h.retry_at.is_none_or(|at| at <= now)
    }

    pub(super) fn succeeded(&self) {
        let mut h = self.health();
        h.state = UpstreamState::Up;
        h.failures = 0;
        h.retry_at = None;
    }

    /// A connect failure: down for `base`, doubling per further failure, at most 6×.
    pub(super) fn failed(&self, error: String, base: Duration) {
        let mut h = self.health();
        h.failures = h.failures.saturating_add(1);
        let backoff = base
            .saturating_mul(1 << (h.failures - 1).min(3))
            .min(base.saturating_mul(6));
        h.state = UpstreamState::Down;
        h.retry_at = Some(Instant::now() + backoff);
        h.last_error = Some(error);
    }

    /// A failure after connecting (e.g. the stream broke): recorded, breaker untouched.
    pub(super) fn noted(&self, error: String) {
        self.health().last_error = Some(error);
    }

    pub(super) fn report(&self) -> UpstreamReport {
        let h = self.health();
        let now = Instant::now();
        UpstreamReport {
            url: self.url.to_string(),
            state: h.state,
            last_error: h.last_error.clone(),
            retry_in_ms: match (h.state, h.retry_at) {
                (UpstreamState::Down, Some(at)) => {
                    Some(u64::try_from(at.saturating_duration_since(now).as_millis()).unwrap_or(0))
                }
                _ => None,
            },
        }
    }

    pub(super) fn is_up(&self) -> bool {
        self.health().state == UpstreamState::Up
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breaker_skips_a_failed_upstream_until_its_retry_time() {
        let up = Upstream::new(GatewayUrl::parse("https://gw.example").unwrap()).unwrap();
        let now = Instant::now();
        assert!(up.available(now));
        assert_eq!(up.report().state, UpstreamState::Unknown);
        up.failed("refused".into(), Duration::from_secs(5));
        assert!(!up.available(Instant::now()));
        assert!(up.available(Instant::now() + Duration::from_secs(6)));
        let report = up.report();
        assert_eq!(report.state, UpstreamState::Down);
        assert_eq!(report.last_error.as_deref(), Some("refused"));
        assert!(report.retry_in_ms.unwrap() <= 5000);
        // Backoff doubles, capped at 6× the base.
        for _ in 0..10 {
            up.failed("refused".into(), Duration::from_secs(5));
        }
        assert!(!up.available(Instant::now() + Duration::from_secs(29)));
        assert!(up.available(Instant::now() + Duration::from_secs(31)));
        up.succeeded();
        assert!(up.available(Instant::now()));
        assert!(up.is_up());
    }

    #[test]
    fn loopback_hosts_are_recognised() {
        for host in ["127.0.0.1", "localhost", "[::1]", "127.0.0.2"] {
            assert!(is_loopback_host(host), "{host}");
        }
        assert!(!is_loopback_host("gw.example"));
        assert!(!is_loopback_host("10.0.0.1"));
    }

    #[test]
    fn proxy_credentials_never_show() {
        let uri: Uri = "http://user:secret@proxy.corp:3128".parse().unwrap();
        assert_eq!(redact_proxy(&uri), "http://proxy.corp:3128");
    }
}
