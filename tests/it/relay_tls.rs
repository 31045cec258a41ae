//! The relay toward a TLS gateway that offers HTTP/2 by ALPN (a small test server with
//! the certificates in tests/fixtures/tls): the extra CA file is trusted, HTTP/2 is
//! used, streams keep their timing, and a client that leaves resets the upstream stream.

use crate::relay_support;

use std::convert::Infallible;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use anyray::relay::{Relay, RelayConfig, RelayHandle};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Frame, Incoming};
use hyper::{Request, Response, StatusCode, Version};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use relay_support::bounded;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tls")
        .join(name)
}

/// What the TLS gateway saw.
#[derive(Default)]
struct Seen {
    versions: Mutex<Vec<Version>>,
    /// Response streams dropped before their end.
    cancelled: AtomicUsize,
}

/// A response body fed by a channel; counts itself cancelled if dropped early.
struct Events {
    rx: mpsc::Receiver<Bytes>,
    done: bool,
    seen: Arc<Seen>,
}

impl Body for Events {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match std::task::ready!(self.rx.poll_recv(cx)) {
            Some(b) => Poll::Ready(Some(Ok(Frame::data(b)))),
            None => {
                self.done = true;
                Poll::Ready(None)
            }
        }
    }
}

impl Drop for Events {
    fn drop(&mut self) {
        if !self.done {
            self.seen.cancelled.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// Starts the gateway: every request gets `events` SSE events 150 ms apart.
async fn tls_gateway(events: usize) -> (String, Arc<Seen>) {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(fixture("gateway.pem"))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(fixture("gateway.key")).unwrap();
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Seen::default());
    let state = seen.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, seen) = (acceptor.clone(), state.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let seen = seen.clone();
                    async move {
                        seen.versions.lock().unwrap().push(req.version());
                        let (tx, rx) = mpsc::channel(4);
                        tokio::spawn(async move {
                            for i in 0..events {
                                if i > 0 {
                                    tokio::time::sleep(Duration::from_millis(150)).await;
                                }
                                let event = format!("event: delta\ndata: {{\"n\":{i}}}\n\n");
                                if tx.send(Bytes::from(event)).await.is_err() {
                                    return;
                                }
                            }
                        });
                        let body = Events {
                            rx,
                            done: false,
                            seen,
                        };
                        let mut resp = Response::new(body);
                        resp.headers_mut()
                            .insert("content-type", "text/event-stream".parse().unwrap());
                        Ok::<_, Infallible>(resp)
                    }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), svc)
                    .await;
            });
        }
    });
    (url, seen)
}

fn config(upstream: &str, ca_file: Option<PathBuf>) -> RelayConfig {
    let mut cfg = relay_support::relay_config(&[upstream.to_string()]);
    cfg.ca_file = ca_file;
    cfg
}

async fn post(relay: &RelayHandle) -> Response<Incoming> {
    let client = Client::builder(TokioExecutor::new()).build_http();
    let req = Request::post(format!("{}/v1/messages", relay.url()))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(br#"{"stream":true}"#)))
        .unwrap();
    client.request(req).await.expect("request")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_over_http2_to_a_gateway_signed_by_the_extra_ca() {
    bounded(async {
        let (url, seen) = tls_gateway(4).await;
        let relay = Relay::bind(config(&url, Some(fixture("ca.pem"))))
            .await
            .unwrap();
        let resp = post(&relay).await;
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(
            resp.version(),
            Version::HTTP_11,
            "the client side stays HTTP/1.1"
        );
        let mut body = resp.into_body();
        let mut arrivals = Vec::new();
        let mut text = String::new();
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame.unwrap().into_data() {
                arrivals.push(Instant::now());
                text.push_str(&String::from_utf8_lossy(&data));
            }
        }
        assert_eq!(text.matches("event: delta\n").count(), 4, "{text}");
        assert_eq!(arrivals.len(), 4);
        for pair in arrivals.windows(2) {
            assert!(
                pair[1] - pair[0] >= Duration::from_millis(100),
                "{arrivals:?}"
            );
        }
        assert_eq!(seen.versions.lock().unwrap().as_slice(), [Version::HTTP_2]);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_is_a_connect_failure() {
    bounded(async {
        let (url, seen) = tls_gateway(1).await;
        let relay = Relay::bind(config(&url, None)).await.unwrap();
        let resp = post(&relay).await;
        assert_eq!(resp.status(), StatusCode::BAD_GATEWAY);
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let msg = v["error"]["message"].as_str().unwrap();
        assert!(msg.contains(&url) && msg.contains("certificate"), "{msg}");
        assert!(seen.versions.lock().unwrap().is_empty());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_leaves_resets_its_http2_stream() {
    bounded(async {
        let (url, seen) = tls_gateway(50).await;
        let relay = Relay::bind(config(&url, Some(fixture("ca.pem"))))
            .await
            .unwrap();
        let body = r#"{"stream":true}"#;
        let mut s = tokio::net::TcpStream::connect(relay.local_addr())
            .await
            .unwrap();
        s.write_all(
            format!(
                "POST /v1/messages HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n\r\n{body}",
                relay.local_addr(),
                body.len()
            )
            .as_bytes(),
        )
        .await
        .unwrap();
        let mut first = [0u8; 128];
        let n = s.read(&mut first).await.unwrap();
        assert!(String::from_utf8_lossy(&first[..n]).starts_with("HTTP/1.1 200"));
        drop(s);
        let deadline = Instant::now() + Duration::from_secs(1);
        while seen.cancelled.load(Ordering::SeqCst) == 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(
            seen.cancelled.load(Ordering::SeqCst),
            1,
            "not cancelled within 1 s"
        );
    })
    .await;
}
