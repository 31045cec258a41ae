//! The relay's memory does not grow with the request body: a counting allocator (for
//! this test binary only) measures the peak heap while bodies of 5 and 20 MiB stream
//! through an in-process relay to a sink that discards them.

use std::alloc::{GlobalAlloc, Layout, System};
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use anyray::cli::{Fallback, LogFormat};
use anyray::gateway_url::GatewayUrl;
use anyray::relay::{LogTarget, Relay, RelayConfig};
use anyray::settings::ProviderTargets;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::{Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator and only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// A body of `left` bytes in 64 KiB frames, of unknown length (sent chunked).
struct Chunks {
    left: usize,
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

/// An upstream that reads and drops the body, answering its length.
async fn sink() -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(|req: Request<Incoming>| async move {
                    let mut body = req.into_body();
                    let mut len = 0usize;
                    while let Some(Ok(frame)) = body.frame().await {
                        len += frame.data_ref().map_or(0, Bytes::len);
                    }
                    Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(len.to_string()))))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peak_memory_does_not_grow_with_the_request_body() {
    tokio::time::timeout(Duration::from_secs(60), async {
        let up = sink().await;
        let url = |s: &str| GatewayUrl::parse(s).unwrap();
        let relay = Relay::bind(RelayConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            upstreams: vec![url(&format!("http://{up}"))],
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
            idle_timeout: Duration::from_secs(30),
            max_body_bytes: 64 * 1024 * 1024,
            max_connections: 16,
            grace_period: Duration::from_secs(1),
            retry_interval: Duration::from_secs(5),
            log: LogTarget::Quiet,
            log_format: LogFormat::Human,
        })
        .await
        .unwrap();
        let client = Client::builder(TokioExecutor::new()).build_http();
        // The first request also sets up connections and buffers: measure after it.
        for mib in [1usize, 5, 20] {
            let size = mib * 1024 * 1024;
            let before = CURRENT.load(Ordering::Relaxed);
            PEAK.store(before, Ordering::Relaxed);
            let req = Request::post(format!("{}/v1/messages", relay.url()))
                .body(Chunks { left: size })
                .unwrap();
            let resp = client.request(req).await.expect("request");
            let body = resp.into_body().collect().await.unwrap().to_bytes();
            assert_eq!(body, size.to_string());
            let growth = PEAK.load(Ordering::Relaxed).saturating_sub(before);
            // Client, relay and sink share this heap: a few 64 KiB frames and hyper's
            // buffers in flight, never the body itself.
            assert!(
                mib == 1 || growth < 4 * 1024 * 1024,
                "{mib} MiB body: peak heap grew by {growth} bytes"
            );
        }
        relay.shutdown().await;
    })
    .await
    .expect("test timed out");
}
