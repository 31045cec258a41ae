//! Helpers shared by the relay tests (`relay`, `relay_memory`, `relay_tls`).
#![allow(dead_code)] // each test binary uses a different part

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use anyray::cli::{Fallback, LogFormat};
use anyray::gateway_url::GatewayUrl;
use anyray::relay::{LogTarget, RelayConfig};
use anyray::settings::ProviderTargets;
use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};

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
        upstreams: upstreams.iter().map(|u| url(u)).collect(),
        fallback: Fallback::None,
        providers: ProviderTargets {
            openai: url("https://api.openai.com"),
            anthropic: url("https://api.anthropic.com"),
            gemini: url("https://generativelanguage.googleapis.com"),
        },
        identity: None,
        ca_file: None,
        connect_timeout: Duration::from_secs(2),
        header_timeout: Duration::from_secs(10),
        idle_timeout: Duration::from_secs(60),
        max_body_bytes: 64 * 1024 * 1024,
        max_connections: 64,
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
