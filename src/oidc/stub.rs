//! A scripted identity provider on loopback for the unit tests: it serves the OpenID
//! configuration and a device authorization, answers each token request with the next
//! scripted answer (the real provider in the integration and e2e tests never sends
//! `slow_down`, for one), and records every form it was sent, with the time.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::json;

use super::{OidcConfig, Provider};

/// One scripted answer of the token endpoint.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    status: u16,
    content_type: &'static str,
    body: String,
}

impl Answer {
    pub(crate) fn error(status: u16, error: &str) -> Self {
        Self::raw(
            status,
            "application/json",
            &json!({"error": error, "error_description": format!("stub says {error}")}).to_string(),
        )
    }

    pub(crate) fn tokens(access: &str, refresh: Option<&str>, expires_in: u64) -> Self {
        let enc = |v: serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        let id_token = format!(
            "{}.{}.sig",
            enc(json!({"alg": "ES256"})),
            enc(json!({"sub": "alice"}))
        );
        let mut body = json!({"access_token": access, "token_type": "Bearer",
            "expires_in": expires_in, "id_token": id_token, "scope": "gateway"});
        if let Some(rt) = refresh {
            body["refresh_token"] = json!(rt);
        }
        Self::raw(200, "application/json", &body.to_string())
    }

    pub(crate) fn raw(status: u16, content_type: &'static str, body: &str) -> Self {
        Self {
            status,
            content_type,
            body: body.to_string(),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub device_expires_in: u64,
    /// The `issuer` the configuration document names (default: the stub's own URL).
    pub claimed_issuer: Option<String>,
    pub iss_parameter_supported: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            device_expires_in: 600,
            claimed_issuer: None,
            iss_parameter_supported: true,
        }
    }
}

type Form = BTreeMap<String, String>;

#[derive(Default)]
struct State {
    answers: VecDeque<Answer>,
    /// (path, form, when)
    requests: Vec<(String, Form, Instant)>,
}

pub(crate) struct Stub {
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl Stub {
    pub(crate) async fn start(answers: Vec<Answer>) -> Self {
        Self::start_with(Options::default(), answers).await
    }

    pub(crate) async fn start_with(options: Options, answers: Vec<Answer>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State {
            answers: answers.into(),
            requests: Vec::new(),
        }));
        let (shared, issuer) = (state.clone(), url.clone());
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (state, issuer, options) = (shared.clone(), issuer.clone(), options.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let (state, issuer, options) =
                            (state.clone(), issuer.clone(), options.clone());
                        async move {
                            Ok::<_, std::convert::Infallible>(
                                serve(req, &state, &issuer, &options).await,
                            )
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { url, state }
    }

    pub(crate) fn config(&self) -> OidcConfig {
        OidcConfig {
            issuer: self.url.clone(),
            client_id: "anyray-cli".into(),
            scopes: "openid offline_access gateway".into(),
            resource: None,
        }
    }

    pub(crate) async fn provider(&self) -> Provider {
        let http = crate::http::client(None, Duration::from_secs(5)).unwrap();
        Provider::discover(http, self.config()).await.unwrap()
    }

    /// The forms sent to `path`, in order.
    pub(crate) fn requests_to(&self, path: &str) -> Vec<Form> {
        let state = self.state.lock().unwrap();
        state
            .requests
            .iter()
            .filter(|(p, ..)| p == path)
            .map(|(_, f, _)| f.clone())
            .collect()
    }

    pub(crate) fn token_requests(&self) -> Vec<Form> {
        self.requests_to("/token")
    }

    /// The time between one token request and the next.
    pub(crate) fn token_request_gaps(&self) -> Vec<Duration> {
        let state = self.state.lock().unwrap();
        let times: Vec<Instant> = state
            .requests
            .iter()
            .filter(|(p, ..)| p == "/token")
            .map(|(.., t)| *t)
            .collect();
        times.windows(2).map(|w| w[1] - w[0]).collect()
    }
}

async fn serve(
    req: Request<hyper::body::Incoming>,
    state: &Mutex<State>,
    issuer: &str,
    options: &Options,
) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_string();
    let body = req.into_body().collect().await.unwrap().to_bytes();
    let form: Form = url::form_urlencoded::parse(&body).into_owned().collect();
    let reply = |status: u16, content_type: &str, body: String| {
        Response::builder()
            .status(status)
            .header("content-type", content_type)
            .body(Full::new(Bytes::from(body)))
            .unwrap()
    };
    let json = |v: serde_json::Value| reply(200, "application/json", v.to_string());
    match path.as_str() {
        "/.well-known/openid-configuration" => json(json!({
            "issuer": options.claimed_issuer.clone().unwrap_or_else(|| issuer.to_string()),
            "authorization_endpoint": format!("{issuer}/auth"),
            "token_endpoint": format!("{issuer}/token"),
            "device_authorization_endpoint": format!("{issuer}/device/auth"),
            "revocation_endpoint": format!("{issuer}/revoke"),
            "authorization_response_iss_parameter_supported": options.iss_parameter_supported,
        })),
        "/device/auth" => {
            state
                .lock()
                .unwrap()
                .requests
                .push((path, form, Instant::now()));
            json(json!({
                "device_code": "dc-secret", "user_code": "WDJB-MJHT",
                "verification_uri": format!("{issuer}/device"),
                "verification_uri_complete": format!("{issuer}/device?user_code=WDJB-MJHT"),
                "expires_in": options.device_expires_in,
            }))
        }
        "/token" | "/revoke" => {
            let mut state = state.lock().unwrap();
            state.requests.push((path.clone(), form, Instant::now()));
            if path == "/revoke" {
                return reply(200, "text/plain", String::new());
            }
            match state.answers.pop_front() {
                Some(a) => reply(a.status, a.content_type, a.body),
                None => reply(
                    400,
                    "application/json",
                    json!({"error": "invalid_grant", "error_description": "stub: no more answers"})
                        .to_string(),
                ),
            }
        }
        _ => reply(404, "text/plain", "not found".into()),
    }
}
