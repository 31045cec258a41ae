//! The gateway checks that need an HTTP answer: `gateway.discovery`, `gateway.routes`,
//! `gateway.auth` and `gateway.optimizer`. None of their requests spends tokens: they
//! list models and count tokens, which providers and gateways serve for free.

use std::time::{Duration, Instant};

use reqwest::header::{CONTENT_TYPE, LOCATION};

use super::finding::fmt_secs;
use super::net::error_chain;
use super::{CheckId, Cx, Finding, Level};
use crate::discovery::{self, Discovery, Optimizer};
use crate::gateway_url::{Provider, Routes};
use crate::secrets::{self, Secret, Store};

/// The optimizer budget from the design; above it, every request may wait longer.
const BUDGET_MS: u64 = 800;
/// Enough of a body to tell JSON from an HTML page.
const SNIFF_BYTES: usize = 512;

/// `gateway.discovery`. Never blocks the checks after it: without discovery, the
/// defaults from the design apply.
pub(super) async fn discovery(
    cx: &Cx,
    client: &reqwest::Client,
) -> Result<(Finding, Option<Discovery>), Finding> {
    let gw = &cx.settings.gateway.value;
    let url = gw.join(discovery::PATH);
    let limit = cx.remaining();
    let result = match tokio::time::timeout(limit, discovery::fetch(client, gw)).await {
        Ok(result) => result,
        Err(_) => Err(anyhow::anyhow!("no answer within {}", fmt_secs(limit))),
    };
    let hint = "ask the gateway's admins to publish /.well-known/anyray.json (routes, optimizer, identity header)";
    Ok(match result {
        Ok(Some(d)) => {
            let routes = d
                .routes
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>();
            let version = d.version.as_deref().unwrap_or("unknown");
            let mut detail = vec![format!("routes: {}", routes.join(", "))];
            if let Some(h) = &d.identity_header {
                detail.push(format!("identity header: {h}"));
            }
            let summary = format!("version {version}, {} routes", routes.len());
            (
                Finding::ok(CheckId::Discovery, summary).detail(detail.join("\n")),
                Some(d),
            )
        }
        Ok(None) => (
            Finding::warn(
                CheckId::Discovery,
                format!("no {}: defaults in use", discovery::PATH),
            )
            .detail(format!(
                "default routes: openai {}, anthropic {}",
                gw.join(Provider::Openai.default_route()),
                gw.join(Provider::Anthropic.default_route())
            ))
            .hint(hint),
            None,
        ),
        Err(err) => (
            Finding::warn(
                CheckId::Discovery,
                format!("cannot read {url}: defaults in use"),
            )
            .detail(format!("{err:#}"))
            .hint(hint),
            None,
        ),
    })
}

/// The stored key. The keyring may block (a hung daemon), so off the async threads
/// and within the bound.
pub(super) async fn load_key(cx: &Cx) -> Result<Option<(Secret, Store)>, String> {
    match tokio::time::timeout(cx.remaining(), tokio::task::spawn_blocking(secrets::load)).await {
        Ok(Ok(Ok(key))) => Ok(key),
        Ok(Ok(Err(err))) => Err(format!("{err:#}")),
        Ok(Err(err)) => Err(err.to_string()),
        Err(_) => Err("the keyring did not answer in time".to_string()),
    }
}

/// What the route, auth and optimizer checks share: the client, what discovery said,
/// and the stored key.
pub(super) struct Probe {
    client: reqwest::Client,
    discovery: Option<Discovery>,
    routes: Routes,
    /// The header the key travels in, and who named it.
    identity_header: (String, &'static str),
    key: Result<Option<(Secret, Store)>, String>,
}

/// A request to one provider route that spends no tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RouteKind {
    /// `GET {openai}/models`.
    Openai,
    /// `POST {anthropic}/v1/messages/count_tokens` with an empty JSON body.
    Anthropic,
}

/// What a route answered: the status and a line that says what it means.
struct Answer {
    status: u16,
    verdict: Result<String, String>,
    elapsed: Duration,
}

impl Probe {
    pub(super) fn new(
        cx: &Cx,
        client: reqwest::Client,
        discovery: Option<Discovery>,
        key: Result<Option<(Secret, Store)>, String>,
    ) -> Self {
        let gw = &cx.settings.gateway.value;
        let routes = Discovery::routes(discovery.as_ref(), gw);
        let named = discovery.as_ref().and_then(|d| d.identity_header.clone());
        let identity_header = match (&cx.settings.identity_header, named) {
            (Some(h), _) => (h.clone(), "config"),
            (None, Some(h)) => (h, "discovery"),
            (None, None) => (discovery::DEFAULT_IDENTITY_HEADER.to_string(), "default"),
        };
        Self {
            client,
            discovery,
            routes,
            identity_header,
            key,
        }
    }

    fn url(&self, kind: RouteKind) -> Option<String> {
        match kind {
            RouteKind::Openai => self
                .routes
                .get(Provider::Openai)
                .map(|r| format!("{r}/models")),
            RouteKind::Anthropic => self
                .routes
                .get(Provider::Anthropic)
                .map(|r| format!("{r}/v1/messages/count_tokens")),
        }
    }

    /// Sends the no-token request for `kind`, with the key when `with_key`.
    async fn ask(
        &self,
        kind: RouteKind,
        with_key: bool,
        limit: Duration,
    ) -> Option<(String, Result<Answer, String>)> {
        let url = self.url(kind)?;
        let mut request = match kind {
            RouteKind::Openai => self.client.get(&url),
            RouteKind::Anthropic => self
                .client
                .post(&url)
                .header(CONTENT_TYPE, "application/json")
                .header("anthropic-version", "2023-06-01")
                .body("{}"),
        };
        if with_key && let Ok(Some((key, _))) = &self.key {
            request = request.header(self.identity_header.0.as_str(), key.expose());
        }
        let started = Instant::now();
        let result = match request.timeout(limit).send().await {
            Ok(mut response) => {
                let status = response.status().as_u16();
                let content_type = response
                    .headers()
                    .get(CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                let location = response
                    .headers()
                    .get(LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                let mut head = Vec::new();
                while head.len() < SNIFF_BYTES {
                    match response.chunk().await {
                        Ok(Some(chunk)) => head.extend_from_slice(&chunk),
                        _ => break,
                    }
                }
                Ok(Answer {
                    status,
                    verdict: classify(status, content_type.as_deref(), location.as_deref(), &head),
                    elapsed: started.elapsed(),
                })
            }
            Err(err) if err.is_timeout() => Err(format!("no answer within {}", fmt_secs(limit))),
            Err(err) => Err(error_chain(&err)),
        };
        Some((url, result))
    }

    /// The route auth and latency probes use: OpenAI's model list, else Anthropic's.
    fn cheapest(&self) -> RouteKind {
        if self.url(RouteKind::Openai).is_some() {
            RouteKind::Openai
        } else {
            RouteKind::Anthropic
        }
    }
}

/// Whether an answer comes from an LLM API (Ok: what it means) or from something else
/// (Err: what answered instead). 2xx, 401, 403 and a 4xx with a JSON body count as
/// reachable; 404, redirects, HTML pages and 5xx do not.
fn classify(
    status: u16,
    content_type: Option<&str>,
    location: Option<&str>,
    head: &[u8],
) -> Result<String, String> {
    let html = content_type.is_some_and(|t| t.contains("html"))
        || head.trim_ascii_start().first() == Some(&b'<');
    let json = content_type.is_some_and(|t| t.contains("json"))
        || matches!(head.trim_ascii_start().first(), Some(b'{' | b'['));
    match status {
        300..=399 => Err(format!(
            "{status} redirect to {} (a captive portal or a login page?)",
            location.unwrap_or("somewhere else")
        )),
        _ if html => Err(format!(
            "{status} with an HTML page, not an API answer (a proxy's block or login page, or a captive portal?)"
        )),
        200..=299 => Ok(format!("{status}")),
        401 | 403 => Ok(format!(
            "{status} (reachable; the key is gateway.auth's business)"
        )),
        404 => Err("404: the gateway has no such route".into()),
        407 => Err("407: a proxy wants credentials".into()),
        400..=499 if json => Ok(format!("{status} with a JSON error (reachable)")),
        500..=599 => Err(format!("{status}: the gateway has a server error")),
        _ => Err(format!("unexpected {status}")),
    }
}

/// `gateway.routes`.
pub(super) async fn routes(cx: &Cx, probe: &Probe) -> Finding {
    let limit = cx.remaining();
    let (openai, anthropic) = tokio::join!(
        probe.ask(RouteKind::Openai, true, limit),
        probe.ask(RouteKind::Anthropic, true, limit)
    );
    let mut detail = Vec::new();
    let mut failures = Vec::new();
    let mut offered = 0;
    for (name, answer) in [("OpenAI", openai), ("Anthropic", anthropic)] {
        let Some((url, answer)) = answer else {
            detail.push(format!("{name}: not offered by this gateway"));
            continue;
        };
        offered += 1;
        match answer.and_then(|a| a.verdict.map(|v| (v, a.elapsed))) {
            Ok((verdict, elapsed)) => detail.push(format!(
                "{name}: {url} answered {verdict} in {} ms",
                elapsed.as_millis()
            )),
            Err(why) => {
                detail.push(format!("{name}: {url}: {why}"));
                failures.push(format!("{name} route: {why}"));
            }
        }
    }
    let detail = detail.join("\n");
    if offered == 0 {
        return Finding::warn(
            CheckId::Routes,
            "the gateway offers neither an OpenAI nor an Anthropic route",
        )
        .detail(detail)
        .hint("check the routes in the gateway's discovery document");
    }
    if failures.is_empty() {
        return Finding::ok(CheckId::Routes, "the provider routes answer as LLM APIs")
            .detail(detail);
    }
    let all = failures.join("; ");
    let hint = if all.contains("HTML") || all.contains("redirect") || all.contains("407") {
        "something other than the gateway answered: check net.proxy, log in to the network's portal, or add the gateway to NO_PROXY"
    } else if all.contains("404") {
        "check the gateway URL's path prefix and the routes in its discovery document"
    } else {
        "the gateway is failing: check its status page or tell its admins"
    };
    Finding::fail(CheckId::Routes, all)
        .detail(detail)
        .hint(hint)
}

/// `gateway.auth`: is a key stored, and does the gateway accept it. Never shows the key.
pub(super) async fn auth(cx: &Cx, probe: &Probe) -> Finding {
    let (header, named_by) = (&probe.identity_header.0, probe.identity_header.1);
    let header_line = format!("identity header: {header} (from {named_by})");
    let key = match &probe.key {
        Err(why) => {
            return Finding::fail(CheckId::Auth, format!("cannot read your key: {why}"))
                .detail(header_line)
                .hint("store it again with `anyray login`");
        }
        Ok(key) => key,
    };
    let kind = probe.cheapest();
    let asked = probe.ask(kind, true, cx.remaining()).await;
    let Some((url, answer)) = asked else {
        return Finding::skip(CheckId::Auth, "no route to test the key against")
            .detail(header_line);
    };
    let status = match answer {
        Ok(answer) => answer.status,
        Err(why) => {
            return Finding::skip(CheckId::Auth, format!("cannot tell: {url}: {why}"))
                .detail(header_line);
        }
    };
    let rejected = matches!(status, 401 | 403);
    let judged = (200..300).contains(&status) || rejected;
    match key {
        None if rejected => Finding::fail(
            CheckId::Auth,
            format!("no key stored, and the gateway requires one ({url} answered {status})"),
        )
        .detail(header_line)
        .hint("store your Anyray key with `anyray login`"),
        None if judged => Finding::ok(
            CheckId::Auth,
            "no key stored; the gateway accepts requests without one",
        )
        .detail(format!(
            "{header_line}\nstore one with `anyray login` if your org attributes usage per person"
        )),
        Some((_, store)) if rejected => Finding::fail(
            CheckId::Auth,
            format!("the gateway rejects your key from {store} ({status} with {header})"),
        )
        .detail(header_line)
        .hint("store a current key with `anyray login`"),
        Some((_, store)) if judged => {
            Finding::ok(CheckId::Auth, format!("your key from {store} is accepted"))
                .detail(header_line)
        }
        _ => Finding::skip(
            CheckId::Auth,
            format!("cannot tell: {url} answered {status}"),
        )
        .detail(header_line),
    }
}

/// `gateway.optimizer`: the fail-open behaviour from discovery, and the latency the
/// gateway adds to a no-token request (its round trip minus a TCP connect).
pub(super) async fn optimizer(cx: &Cx, probe: &Probe, connect: Duration) -> Finding {
    let mut finding = verdict(probe.discovery.as_ref());
    let latency = match probe.ask(probe.cheapest(), true, cx.remaining()).await {
        Some((url, Ok(answer))) => {
            let added = answer.elapsed.saturating_sub(connect).as_millis();
            finding.summary.push_str(&format!("; adds ~{added} ms"));
            format!(
                "added latency: ~{added} ms ({url} took {} ms, a TCP connect {} ms)",
                answer.elapsed.as_millis(),
                connect.as_millis()
            )
        }
        Some((url, Err(why))) => format!("added latency not measured: {url}: {why}"),
        None => "added latency not measured: no route to ask".into(),
    };
    let detail = [finding.detail.take(), Some(latency)]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("\n");
    finding.detail(detail)
}

/// The optimizer's fail-open verdict from discovery alone.
fn verdict(discovery: Option<&Discovery>) -> Finding {
    let Some(d) = discovery else {
        return Finding::skip(
            CheckId::Optimizer,
            "no discovery: the optimizer's state is unknown",
        );
    };
    let Some(Optimizer {
        status,
        budget_ms,
        fail_open,
    }) = &d.optimizer
    else {
        return Finding::skip(
            CheckId::Optimizer,
            "discovery does not describe an optimizer",
        );
    };
    let status = status.as_deref().unwrap_or("unknown");
    let mut detail = vec![
        format!("status: {status}"),
        format!(
            "budget: {}",
            budget_ms.map_or("unknown".into(), |b| format!("{b} ms"))
        ),
        format!(
            "fail_open: {}",
            fail_open.map_or("unknown".into(), |f| f.to_string())
        ),
    ];
    let mut warnings = Vec::new();
    let mut hints = Vec::new();
    if *fail_open == Some(false) {
        warnings.push(
            "fail-open is off: requests fail while the optimizer is down or slow".to_string(),
        );
        hints.push("ask the gateway's admins to turn fail-open on");
    }
    if let Some(budget) = budget_ms.filter(|b| *b > BUDGET_MS) {
        warnings.push(format!(
            "the optimizer's budget is {budget} ms (over {BUDGET_MS} ms): each request may wait that long"
        ));
        hints.push("ask the gateway's admins to keep the budget at 800 ms or less");
    }
    let down = status != "up";
    if down && *fail_open == Some(true) {
        detail.push("requests pass unchanged".into());
    } else if down && fail_open.is_none() {
        warnings.push(format!(
            "the optimizer is {status} and fail-open is unknown"
        ));
        hints.push("ask the gateway's admins whether requests fail open");
    }
    let detail = detail.join("\n");
    if !warnings.is_empty() {
        return Finding::warn(CheckId::Optimizer, warnings.join("; "))
            .detail(detail)
            .hint(hints.join("; "));
    }
    let summary = if down {
        format!("optimizer {status}, fail-open on: requests pass unchanged")
    } else {
        format!(
            "optimizer {status}, budget {}, fail-open on",
            budget_ms.map_or("unknown".into(), |b| format!("{b} ms"))
        )
    };
    Finding::new(CheckId::Optimizer, Level::Ok, summary).detail(detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_counts_as_an_llm_api() {
        let json = Some("application/json");
        assert!(classify(200, json, None, b"{}").is_ok());
        assert!(classify(401, json, None, b"{}").is_ok());
        assert!(classify(403, None, None, b"").is_ok());
        assert!(classify(400, json, None, br#"{"error":{}}"#).is_ok());
        assert!(classify(400, Some("text/plain"), None, b"bad").is_err());
        assert!(
            classify(404, json, None, b"{}")
                .unwrap_err()
                .contains("404")
        );
        assert!(
            classify(503, json, None, b"{}")
                .unwrap_err()
                .contains("server error")
        );
        let html = classify(403, Some("text/html"), None, b"<html>blocked</html>").unwrap_err();
        assert!(html.contains("HTML"), "{html}");
        // An HTML page with a 200 status (captive portal) is not an API either.
        assert!(classify(200, None, None, b"  <!doctype html>").is_err());
        let redirect = classify(302, None, Some("https://portal.example/login"), b"").unwrap_err();
        assert!(redirect.contains("portal.example"), "{redirect}");
    }

    fn discovery(optimizer: serde_json::Value) -> Discovery {
        serde_json::from_value(serde_json::json!({ "optimizer": optimizer })).unwrap()
    }

    #[test]
    fn optimizer_verdicts() {
        let v = |o| verdict(Some(&discovery(o)));
        let up = v(serde_json::json!({"status": "up", "budget_ms": 800, "fail_open": true}));
        assert_eq!(up.level, Level::Ok);
        let down = v(serde_json::json!({"status": "down", "budget_ms": 800, "fail_open": true}));
        assert_eq!(down.level, Level::Ok);
        assert!(down.detail.unwrap().contains("requests pass unchanged"));
        let closed = v(serde_json::json!({"status": "up", "budget_ms": 800, "fail_open": false}));
        assert_eq!(closed.level, Level::Warn);
        assert!(closed.summary.contains("fail-open is off"));
        let slow = v(serde_json::json!({"status": "up", "budget_ms": 1500, "fail_open": true}));
        assert_eq!(slow.level, Level::Warn);
        assert!(slow.summary.contains("1500 ms"));
        let unknown = v(serde_json::json!({"status": "down"}));
        assert_eq!(unknown.level, Level::Warn);
        assert_eq!(verdict(None).level, Level::Skip);
        assert_eq!(verdict(Some(&Discovery::default())).level, Level::Skip);
    }
}
