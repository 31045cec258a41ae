//! The relay's memory does not grow with the request body: a counting allocator (for
//! this test binary only) measures the peak heap while bodies of 5 and 20 MiB stream
//! through an in-process relay to a sink that discards them. It is a test binary of its
//! own (not a module of tests/it) because the allocator counts every thread of the
//! process: the other tests running beside it would move the peak.

// A test binary has no outside: its helpers are `pub` for the other modules.
#![allow(unreachable_pub)]

// The shared relay helpers of tests/it; this binary uses two of them.
#[allow(dead_code)]
#[path = "it/relay_support/mod.rs"]
mod relay_support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyray::relay::Relay;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use relay_support::Chunks;

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

#[allow(unsafe_code)] // a global allocator is unsafe to implement
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
        let relay = Relay::bind(relay_support::relay_config(&[format!("http://{up}")]))
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
