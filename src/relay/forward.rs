//! One request through the relay: refuse what a relay must not do, answer its own
//! endpoints, otherwise forward to the first reachable gateway (failover only while the
//! body is untouched), then fail open or answer an error in the route's SDK shape.

use std::convert::Infallible;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::http::request::Parts;
use hyper::{Method, Request, Response, StatusCode, Uri, Version};
use serde::Serialize;

use super::State;
use super::access_log::RequestMeter;
use super::access_log::{Exchange, Via};
use super::admission;
use super::body::{RelayBody, UpstreamBody};
use super::cause::describe;
use super::config::Fallback;
use super::routes::Route;
use super::upstream::{Upstream, UpstreamReport};

/// The relay's health endpoint (doctor reads it).
pub const HEALTH_PATH: &str = "/_anyray/health";

/// Marks responses the relay changed or made: `fail-open` or `error`.
pub const RELAY_HEADER: &str = "x-anyray-relay";

/// Headers that describe one connection, not the message (RFC 9110 §7.6.1).
const HOP_BY_HOP: [HeaderName; 9] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

/// A gateway the fast path (`fast.rs`) could not connect to for this request before
/// handing it over: already counted against the gateway's health, and not tried again.
pub(super) struct FailedConnect {
    pub gateway: usize,
    /// The note for the 502's message, as [`try_gateway`] writes it.
    pub why: String,
}

pub(super) async fn handle(
    state: Arc<State>,
    local: IpAddr,
    failed: Option<FailedConnect>,
    req: Request<Incoming>,
) -> Result<Response<RelayBody>, Infallible> {
    let uri = req.uri();
    let route = Route::classify(uri.path(), req.headers());
    let ex = Exchange::begin(
        state.recorder.clone(),
        req.method(),
        uri.path(),
        uri.query(),
        route,
    );
    let admitted = admission::check_target(req.method(), uri)
        .and_then(|()| state.hosts.admit(req.method(), req.headers(), local));
    if let Err(refusal) = admitted {
        return Ok(error(ex, refusal.status, refusal.kind, &refusal.message));
    }
    if route == Route::Relay {
        return Ok(own_endpoint(&state, &req, ex));
    }
    let limit = state.config.max_body_bytes;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Ok(too_large(ex, limit));
    }
    Ok(forward(state, req, ex, failed).await)
}

/// What one attempt at one upstream gave.
enum Attempt {
    Answered(Response<Incoming>),
    /// Nothing was sent: the next upstream may be tried.
    ConnectFailed(String),
    /// The request went (at least partly) upstream, then failed.
    Failed(String),
    /// No response headers within the idle timeout.
    TimedOut,
}

async fn attempt(state: &State, request: Request<UpstreamBody>) -> Attempt {
    match tokio::time::timeout(state.config.idle_timeout, state.client.request(request)).await {
        Err(_) => Attempt::TimedOut,
        Ok(Ok(response)) => Attempt::Answered(response),
        Ok(Err(e)) if e.is_connect() => Attempt::ConnectFailed(describe(&e)),
        Ok(Err(e)) => Attempt::Failed(describe(&e)),
    }
}

/// How trying one gateway ended.
enum Tried {
    /// The response to send (the gateway's, or an error): the request is done.
    Done(Response<RelayBody>),
    /// The connect failed before anything was sent: the body comes back for the next
    /// gateway, with a note for the 502's message.
    Next(Exchange, Incoming, String),
}

async fn forward(
    state: Arc<State>,
    req: Request<Incoming>,
    mut ex: Exchange,
    failed: Option<FailedConnect>,
) -> Response<RelayBody> {
    let (parts, mut body) = req.into_parts();
    let (tried, mut unreachable) = match failed {
        Some(FailedConnect { gateway, why }) => (state.upstreams.get(gateway), vec![why]),
        None => (None, Vec::new()),
    };
    let now = Instant::now();
    // First the gateways not marked down, in order. If none of them answers, the ones
    // marked down are tried anyway, within one connect timeout in all: the only way
    // through is never refused, a gateway that is back serves at once, and failing open
    // follows only a failure seen now.
    let mut marked_down: Vec<&Upstream> = Vec::new();
    let mut retry: Option<(std::vec::IntoIter<&Upstream>, Instant)> = None;
    let mut preferred = state
        .upstreams
        .iter()
        .filter(|up| tried.is_none_or(|t| !std::ptr::eq(*up, t)));
    loop {
        let up = match preferred.next() {
            Some(up) if up.available(now) => up,
            Some(up) => {
                marked_down.push(up);
                continue;
            }
            None => {
                let (rest, deadline) = retry.get_or_insert_with(|| {
                    let deadline = Instant::now() + state.config.connect_timeout;
                    (std::mem::take(&mut marked_down).into_iter(), deadline)
                });
                match rest.next() {
                    None => break,
                    Some(up) if Instant::now() >= *deadline => {
                        unreachable.push(skipped(&up.report()));
                        continue;
                    }
                    Some(up) => up,
                }
            }
        };
        match try_gateway(&state, up, &parts, body, ex).await {
            Tried::Done(response) => return response,
            Tried::Next(returned, untouched, why) => {
                (ex, body) = (returned, untouched);
                unreachable.push(why);
            }
        }
    }

    let config = &state.config;
    let mut message = format!(
        "anyray relay: cannot reach the org gateway: {}.",
        unreachable.join("; ")
    );
    if config.fallback == Fallback::Direct {
        match fail_open(&state, &parts, body, ex).await {
            Ok(response) => return response,
            Err((returned, why)) => {
                ex = returned;
                message.push(' ');
                message.push_str(&why);
            }
        }
    }
    message.push_str(" Check the connection with `anyray doctor`.");
    error(
        ex,
        StatusCode::BAD_GATEWAY,
        "anyray_gateway_unreachable",
        &message,
    )
}

/// Sends the request to one gateway. Only a failure to connect counts against its
/// health; anything after that is reported to the client as it is.
async fn try_gateway(
    state: &State,
    up: &Upstream,
    parts: &Parts,
    body: Incoming,
    ex: Exchange,
) -> Tried {
    let config = &state.config;
    let uri = match parts.uri.path_and_query().map(|target| up.base.uri(target)) {
        Some(Ok(uri)) => uri,
        _ => return Tried::Done(unforwardable(ex)),
    };
    let meter = ex.request_meter();
    let (up_body, mut give_back) = UpstreamBody::new(body, meter.clone(), config.max_body_bytes);
    let mut request = upstream_request(parts, uri, up_body);
    state
        .outgoing()
        .to_gateway(ex.route(), request.headers_mut());
    let failure = match attempt(state, request).await {
        Attempt::Answered(response) => {
            up.succeeded();
            let label = up.label.clone();
            return Tried::Done(respond(state, response, ex, Via::Gateway, label));
        }
        Attempt::ConnectFailed(why) => {
            connect_failed(state, up, &why);
            match give_back.try_recv() {
                Ok(untouched) => return Tried::Next(ex, untouched, unreachable_note(up, &why)),
                // Never retry once the body may have gone up; say so instead.
                Err(_) => Failure::Connection(why),
            }
        }
        Attempt::Failed(why) => Failure::BeforeAnswer(why),
        Attempt::TimedOut => Failure::NoAnswer,
    };
    Tried::Done(gateway_failure(state, up, failure, ex, &meter))
}

/// A failed connect: counted against the gateway's health.
pub(super) fn connect_failed(state: &State, up: &Upstream, why: &str) {
    up.failed(why.to_owned(), state.config.retry_interval);
    state.recorder.metrics.connect_error(up.url.as_str());
}

/// A gateway that could not be reached, as the 502's message lists it.
pub(super) fn unreachable_note(up: &Upstream, why: &str) -> String {
    format!("{} ({why})", up.url)
}

/// How a request that went to a gateway failed without an answer.
pub(super) enum Failure {
    /// The connection failed once the body may have gone up.
    Connection(String),
    /// The request went (at least partly) upstream, then the gateway failed.
    BeforeAnswer(String),
    /// No response headers within the idle timeout.
    NoAnswer,
}

/// The answer to a request whose gateway failed: the client's own fault if its body
/// broke or passed the limit, else a 502 or 504 naming the gateway.
pub(super) fn gateway_failure(
    state: &State,
    up: &Upstream,
    failure: Failure,
    ex: Exchange,
    meter: &RequestMeter,
) -> Response<RelayBody> {
    let config = &state.config;
    let failed = |ex, what: String| {
        let msg = format!("anyray relay: {what}. Check it with `anyray doctor`.");
        error(ex, StatusCode::BAD_GATEWAY, "anyray_gateway_error", &msg)
    };
    match failure {
        Failure::Connection(why) => failed(
            ex,
            format!("the connection to the org gateway {} failed: {why}", up.url),
        ),
        Failure::BeforeAnswer(_) if meter.over_limit() => too_large(ex, config.max_body_bytes),
        Failure::BeforeAnswer(_) if meter.client_failed() => body_unreadable(ex),
        Failure::BeforeAnswer(why) => {
            up.noted(why.clone());
            failed(
                ex,
                format!("the org gateway {} failed before answering: {why}", up.url),
            )
        }
        Failure::NoAnswer => {
            up.noted("no response headers within the idle timeout".into());
            let msg = format!(
                "anyray relay: the org gateway {} sent no response within {} s \
                 (relay.idle_timeout_s). Check it with `anyray doctor`.",
                up.url,
                config.idle_timeout.as_secs()
            );
            error(
                ex,
                StatusCode::GATEWAY_TIMEOUT,
                "anyray_gateway_timeout",
                &msg,
            )
        }
    }
}

/// The client's request body broke on the way (malformed chunked encoding, or the
/// client went away): the client's error, never counted against the gateway.
fn body_unreadable(ex: Exchange) -> Response<RelayBody> {
    error(
        ex,
        StatusCode::BAD_REQUEST,
        "anyray_bad_request",
        "anyray relay: the request body could not be read (malformed chunked encoding, or \
         the connection broke)",
    )
}

/// A request whose target cannot be joined to an upstream's URL: the client's error.
fn unforwardable(ex: Exchange) -> Response<RelayBody> {
    error(
        ex,
        StatusCode::BAD_REQUEST,
        "anyray_bad_request",
        "anyray relay: the request's path cannot be forwarded",
    )
}

/// Sends the request unchanged to the provider's public API for its route. On failure
/// gives the exchange back with a sentence for the 502's message.
async fn fail_open(
    state: &State,
    parts: &Parts,
    body: Incoming,
    ex: Exchange,
) -> Result<Response<RelayBody>, (Exchange, String)> {
    let config = &state.config;
    let route = ex.route();
    let Some((target, path)) = route.fail_open(&state.fail_open, parts.uri.path()) else {
        let why = format!(
            "There is no public API to fail open to for {} requests.",
            route.key()
        );
        return Err((ex, why));
    };
    let Ok(uri) = target.base.uri_for(path, parts.uri.query()) else {
        return Ok(unforwardable(ex));
    };
    let meter = ex.request_meter();
    let (up_body, _) = UpstreamBody::new(body, meter.clone(), config.max_body_bytes);
    let mut request = upstream_request(parts, uri, up_body);
    if let Err(why) = state.outgoing().to_provider(route, request.headers_mut()) {
        return Err((ex, why));
    }
    let origin = &target.origin;
    match attempt(state, request).await {
        Attempt::Answered(response) => {
            Ok(respond(state, response, ex, Via::FailOpen, origin.clone()))
        }
        Attempt::ConnectFailed(_) | Attempt::Failed(_) if meter.over_limit() => {
            Ok(too_large(ex, config.max_body_bytes))
        }
        Attempt::Failed(_) if meter.client_failed() => Ok(body_unreadable(ex)),
        Attempt::ConnectFailed(why) | Attempt::Failed(why) => {
            Err((ex, format!("Failing open to {origin} failed too: {why}.")))
        }
        Attempt::TimedOut => Err((ex, format!("Failing open to {origin} timed out too."))),
    }
}

fn skipped(report: &UpstreamReport) -> String {
    format!(
        "{} (down after: {}; not tried again within relay.connect_timeout_ms)",
        report.url,
        report.last_error.as_deref().unwrap_or("a connect failure"),
    )
}

/// The client's request toward `uri`, without hop-by-hop headers; the caller adds or
/// strips what the destination must (not) see (`super::outgoing`).
fn upstream_request(parts: &Parts, uri: Uri, body: UpstreamBody) -> Request<UpstreamBody> {
    let mut request = Request::new(body);
    *request.method_mut() = parts.method.clone();
    *request.uri_mut() = uri;
    *request.version_mut() = Version::HTTP_11; // the client upgrades to h2 where ALPN says so
    let headers = request.headers_mut();
    headers.clone_from(&parts.headers);
    strip_hop_by_hop(headers);
    headers.remove(header::HOST); // set from the upstream URI
    headers.remove(header::EXPECT); // the relay answered 100-continue itself
    request
}

/// Removes hop-by-hop headers, including those the `Connection` header names. One pass
/// over the names finds them; most messages have none or only `Connection: keep-alive`.
pub(super) fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let mut present = 0u16;
    for name in headers.keys() {
        if let Some(i) = hop_by_hop_index(name.as_str()) {
            present |= 1 << i;
        }
    }
    if present == 0 {
        return;
    }
    // Other headers `Connection` names (allocates only when there is one).
    let mut named: Vec<HeaderName> = Vec::new();
    for value in headers.get_all(header::CONNECTION) {
        let tokens = value.to_str().unwrap_or_default().split(',');
        for token in tokens.map(str::trim).filter(|t| !t.is_empty()) {
            if hop_by_hop_index(token).is_none()
                && let Ok(name) = HeaderName::from_bytes(token.as_bytes())
            {
                named.push(name);
            }
        }
    }
    for (i, name) in HOP_BY_HOP.iter().enumerate() {
        if present & (1 << i) != 0 {
            headers.remove(name);
        }
    }
    for name in &named {
        headers.remove(name);
    }
}

/// The position of `name` (any case) in [`HOP_BY_HOP`].
pub(super) fn hop_by_hop_index(name: &str) -> Option<usize> {
    HOP_BY_HOP
        .iter()
        .position(|h| h.as_str().len() == name.len() && h.as_str().eq_ignore_ascii_case(name))
}

fn respond(
    state: &State,
    response: Response<Incoming>,
    mut ex: Exchange,
    via: Via,
    upstream: Arc<str>,
) -> Response<RelayBody> {
    let (mut parts, body) = response.into_parts();
    strip_hop_by_hop(&mut parts.headers);
    parts.version = Version::HTTP_11;
    if via == Via::FailOpen {
        parts
            .headers
            .insert(RELAY_HEADER, HeaderValue::from_static("fail-open"));
    }
    ex.responded(parts.status.as_u16(), via, Some(upstream));
    let body = RelayBody::upstream(body, state.config.idle_timeout, ex);
    Response::from_parts(parts, body)
}

/// An error the relay answers itself, in the route's SDK error shape.
pub(super) fn error(
    mut ex: Exchange,
    status: StatusCode,
    kind: &str,
    message: &str,
) -> Response<RelayBody> {
    let body = ex.route().error_body(status.as_u16(), kind, message);
    ex.responded(status.as_u16(), Via::Relay, None);
    let mut response = Response::new(RelayBody::full(body, Some(ex)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(RELAY_HEADER, HeaderValue::from_static("error"));
    response
}

fn too_large(ex: Exchange, limit: u64) -> Response<RelayBody> {
    let msg = format!(
        "anyray relay: the request body is larger than relay.max_body_mb ({} MiB); \
         raise it with `anyray config set relay.max_body_mb N`",
        limit / (1024 * 1024)
    );
    error(
        ex,
        StatusCode::PAYLOAD_TOO_LARGE,
        "anyray_request_too_large",
        &msg,
    )
}

/// `GET /_anyray/health`.
#[derive(Serialize)]
struct Health {
    status: &'static str,
    version: &'static str,
    fallback: &'static str,
    in_flight: i64,
    upstreams: Vec<UpstreamReport>,
    #[serde(flatten)]
    fail_open: super::metrics::FailOpenState,
}

fn own_endpoint(state: &State, req: &Request<Incoming>, mut ex: Exchange) -> Response<RelayBody> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return error(
            ex,
            StatusCode::METHOD_NOT_ALLOWED,
            "anyray_method_not_allowed",
            "the relay's own endpoints only answer GET",
        );
    }
    let (content_type, body) = match req.uri().path() {
        HEALTH_PATH => {
            let health = Health {
                status: "ok",
                version: env!("CARGO_PKG_VERSION"),
                fallback: state.config.fallback.as_str(),
                // This request is one of them.
                in_flight: state.recorder.metrics.in_flight() - 1,
                upstreams: state.upstreams.iter().map(|u| u.report()).collect(),
                fail_open: state.recorder.metrics.fail_open_state(),
            };
            (
                "application/json",
                serde_json::to_string_pretty(&health).unwrap_or_default(),
            )
        }
        "/_anyray/metrics" => (
            "text/plain; version=0.0.4",
            state.recorder.metrics.render(
                state
                    .upstreams
                    .iter()
                    .map(|up| (up.url.as_str(), up.is_up())),
            ),
        ),
        _ => {
            return error(
                ex,
                StatusCode::NOT_FOUND,
                "anyray_not_found",
                "the relay's own endpoints are /_anyray/health and /_anyray/metrics",
            );
        }
    };
    ex.responded(200, Via::Relay, None);
    let mut response = Response::new(RelayBody::full(body, Some(ex)));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_hop_by_hop_and_connection_named_headers() {
        let mut h = HeaderMap::new();
        for (n, v) in [
            ("connection", "Keep-Alive, x-private, , TE"),
            ("keep-alive", "timeout=5"),
            ("x-private", "1"),
            ("transfer-encoding", "chunked"),
            ("proxy-authorization", "Basic abc"),
            ("te", "trailers"),
            ("content-encoding", "gzip"),
            ("content-length", "10"),
            ("authorization", "Bearer k"),
        ] {
            h.insert(HeaderName::from_static(n), HeaderValue::from_static(v));
        }
        strip_hop_by_hop(&mut h);
        let mut left: Vec<&str> = h.keys().map(|k| k.as_str()).collect();
        left.sort_unstable();
        assert_eq!(
            left,
            ["authorization", "content-encoding", "content-length"]
        );
    }
}
