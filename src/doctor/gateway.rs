//! The gateway checks that need an HTTP answer: `gateway.discovery`, `gateway.routes`,
//! `gateway.auth` and `gateway.optimizer`. None of their requests spends tokens: they
//! list models and count tokens, which providers and gateways serve for free.

use std::time::{Duration, Instant};

use reqwest::header::{CONTENT_TYPE, HeaderName, HeaderValue, LOCATION};

use super::finding::fmt_secs;
use super::net::error_chain;
use super::{CheckId, Cx, Finding, Level};
use crate::auth::{self, Credential, FixedHeaders, Scheme};
use crate::discovery::{self, Discovery, Optimizer};
use crate::gateway_url::{Provider, Routes};
use crate::provider_env::{self, AuthPlan};
use crate::secrets::{Secret, Store};
use crate::settings::Via;

/// The optimizer budget from the design; above it, every request may wait longer.
const BUDGET_MS: u64 = 800;
/// Enough of a body to tell JSON from an HTML page and read a JSON error's message.
const ERROR_BYTES: usize = 4096;

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

/// Discovery for the `tools.*` checks, within the discovery budget and the run's; when
/// the gateway does not answer, the document it served last (as `connect` and `env`
/// use); `None` when it has none.
pub(super) async fn fetch_discovery(cx: &Cx) -> Option<Discovery> {
    let ca_file = cx.settings.ca_file.as_ref().map(|c| c.value.as_path());
    let limit = cx.remaining().min(provider_env::DISCOVERY_TIMEOUT);
    let gw = &cx.settings.gateway.value;
    let fetched = match crate::http::client(ca_file, limit) {
        Ok(client) => tokio::time::timeout(limit, discovery::fetch(&client, gw))
            .await
            .ok()
            .and_then(Result::ok),
        Err(_) => None,
    };
    match fetched {
        Some(found) => found,
        None => discovery::remembered(gw),
    }
}

/// The current credential: the stored key, or the SSO session's access token (renewed
/// when due, as `anyray token` would). Within the bound (a hung keyring daemon).
pub(super) async fn load_key(
    cx: &Cx,
    client: &reqwest::Client,
) -> Result<Option<(Secret, Store)>, String> {
    let found = crate::oidc::session::credential(|| Ok(client.clone()));
    match tokio::time::timeout(cx.remaining(), found).await {
        Ok(Ok(key)) => Ok(key),
        Ok(Err(err)) => Err(format!("{err:#}")),
        Err(_) => Err("the keyring did not answer in time".to_string()),
    }
}

/// What the route, auth and optimizer checks share: the client, what discovery said,
/// the stored key, and how the tools send it.
pub(super) struct Probe {
    client: reqwest::Client,
    discovery: Option<Discovery>,
    routes: Routes,
    /// The scheme, the identity header and where each came from (`provider_env::auth_plan`,
    /// as the relay and `run` decide it, without saving a detection).
    plan: Option<AuthPlan>,
    /// The fixed headers the tools send.
    headers: FixedHeaders,
    /// Who the tools send through: the relay adds the key and the headers; connected
    /// directly, they send the headers anyray wrote and, in the `key` scheme, the key.
    sender: Sender,
    key: Result<Option<(Secret, Store)>, String>,
}

/// Who sends a probe, so it carries what that sender's requests carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sender {
    /// Nothing added: what a tool without anyray's help sends.
    Bare,
    /// The tools connected directly (fixed headers; the key only in the `key` scheme).
    Tools,
    /// The relay (fixed headers and the key, in the scheme's place).
    Relay,
}

/// A request to one provider route that spends no tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RouteKind {
    /// `GET {openai}/models`.
    Openai,
    /// `GET {anthropic}/v1/models` with `anthropic-version`: a well-formed request (a
    /// refusal is the gateway's verdict, not a malformed probe's), and the one Claude
    /// Code itself sends to a gateway to list its models.
    Anthropic,
}

/// What a route answered: the status and a line that says what it means.
struct Answer {
    status: u16,
    verdict: Result<String, String>,
    elapsed: Duration,
}

impl Probe {
    pub(super) async fn new(
        cx: &Cx,
        client: reqwest::Client,
        discovery: Option<Discovery>,
        key: Result<Option<(Secret, Store)>, String>,
    ) -> Self {
        let settings = &cx.settings;
        let routes = provider_env::gateway_routes(settings, discovery.as_ref());
        let secret = key
            .as_ref()
            .ok()
            .and_then(|k| k.as_ref().map(|(s, _)| s.clone()));
        let plan = tokio::time::timeout(
            cx.remaining(),
            provider_env::auth_plan(
                settings,
                &settings.gateway.value,
                discovery.as_ref(),
                secret,
                false,
            ),
        )
        .await
        .ok()
        .and_then(Result::ok);
        let sender = match settings.via.value {
            Via::Relay => Sender::Relay,
            Via::Direct => Sender::Tools,
        };
        Self {
            client,
            sender,
            headers: provider_env::fixed_headers(settings, discovery.as_ref()),
            discovery,
            routes,
            plan,
            key,
        }
    }

    fn scheme(&self) -> Scheme {
        self.plan.as_ref().map_or(Scheme::Header, |p| p.scheme)
    }

    fn identity_header(&self) -> (&str, &str) {
        self.plan
            .as_ref()
            .map_or((discovery::DEFAULT_IDENTITY_HEADER, "default"), |p| {
                (p.header.0.as_str(), p.header.1)
            })
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
                .map(|r| format!("{r}/v1/models")),
        }
    }

    /// Sends the no-token request for `kind` with what `sender` sends.
    async fn ask(
        &self,
        kind: RouteKind,
        sender: Sender,
        limit: Duration,
    ) -> Option<(String, Result<Answer, String>)> {
        let url = self.url(kind)?;
        let mut request = match kind {
            RouteKind::Openai => self.client.get(&url),
            RouteKind::Anthropic => self
                .client
                .get(&url)
                .header("anthropic-version", "2023-06-01"),
        };
        let provider = match kind {
            RouteKind::Openai => Provider::Openai,
            RouteKind::Anthropic => Provider::Anthropic,
        };
        for (name, value) in self.sent_headers(provider, sender) {
            request = request.header(name, value);
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
                while head.len() < ERROR_BYTES {
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

    /// The headers a request on `provider`'s route carries from `sender`.
    fn sent_headers(&self, provider: Provider, sender: Sender) -> Vec<(HeaderName, HeaderValue)> {
        let mut out: Vec<(HeaderName, HeaderValue)> = match sender {
            Sender::Bare => Vec::new(),
            Sender::Tools | Sender::Relay => self
                .headers
                .for_route(Some(provider))
                .into_iter()
                .filter_map(|(n, v)| {
                    Some((
                        HeaderName::from_bytes(n.as_bytes()).ok()?,
                        HeaderValue::from_str(&v).ok()?,
                    ))
                })
                .collect(),
        };
        let Ok(Some((key, _))) = &self.key else {
            return out;
        };
        let (header, _) = self.identity_header();
        let Ok(credential) = Credential::new(self.scheme(), header, key.clone()) else {
            return out;
        };
        // Connected directly, the tools send the key only where it is their own API key.
        let sends_key = match sender {
            Sender::Bare => false,
            Sender::Relay => true,
            Sender::Tools => self.scheme() == Scheme::Key,
        };
        if sends_key {
            out.extend(credential.headers_for(Some(provider)));
        }
        out
    }

    /// The gateway URL of `provider`'s route, when it is exported.
    pub(super) fn route(&self, provider: Provider) -> Option<String> {
        self.routes.get(provider).map(str::to_string)
    }

    /// A request on `provider`'s route carrying what the tools' requests carry.
    pub(super) fn request(
        &self,
        provider: Provider,
        method: reqwest::Method,
        url: &str,
    ) -> reqwest::RequestBuilder {
        let mut request = self.client.request(method, url);
        for (name, value) in self.sent_headers(provider, self.sender) {
            request = request.header(name, value);
        }
        request
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

/// Whether an answer comes from an LLM API (Ok: what it means) or from something else,
/// or says the request is wrong (Err: what answered, with the gateway's own message).
/// 2xx, 401 and 403 count as served (the key is gateway.auth's business); a 400 that
/// LiteLLM gives a key it cannot check (`no_db_connection`) is a 401 in disguise; any
/// other 4xx is the gateway saying the tools' request is wrong (a missing routing
/// header, a refused model); 404, redirects, HTML pages and 5xx mean no LLM API here.
fn classify(
    status: u16,
    content_type: Option<&str>,
    location: Option<&str>,
    head: &[u8],
) -> Result<String, String> {
    let html = content_type.is_some_and(|t| t.contains("html"))
        || head.trim_ascii_start().first() == Some(&b'<');
    let message = gateway_message(head);
    let said = message
        .as_deref()
        .map_or_else(String::new, |m| format!(": \"{m}\""));
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
            "{status} (reachable; the key is gateway.auth's business){said}"
        )),
        400 if is_key_refusal(head) => Ok(format!(
            "{status} (reachable; the gateway cannot check the key it was given){said}"
        )),
        404 => Err(format!("404: the gateway has no such route{said}")),
        407 => Err("407: a proxy wants credentials".into()),
        400..=499 => Err(format!("{status}: the gateway refuses the request{said}")),
        500..=599 => Err(format!("{status}: the gateway has a server error{said}")),
        _ => Err(format!("unexpected {status}")),
    }
}

/// The error text a JSON error body carries for the client (`error.message`,
/// `message`, `detail`, or a string `error`), on one line and cut short. Only an error
/// body's message field is ever shown, never the body itself.
pub(super) fn gateway_message(head: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(head).ok()?;
    let text = [
        &value["error"]["message"],
        &value["message"],
        &value["detail"],
        &value["error"],
    ]
    .into_iter()
    .find_map(|v| v.as_str())?;
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut cut: String = line.chars().take(300).collect();
    if cut.len() < line.len() {
        cut.push('…');
    }
    Some(cut)
}

/// LiteLLM without a database answers a key it cannot look up with 400 `no_db_connection`.
fn is_key_refusal(head: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(head)
        .is_ok_and(|v| v["error"]["type"] == "no_db_connection")
}

/// `gateway.routes`.
pub(super) async fn routes(cx: &Cx, probe: &Probe) -> Finding {
    let limit = cx.remaining();
    let sender = probe.sender;
    let (openai, anthropic) = tokio::join!(
        probe.ask(RouteKind::Openai, sender, limit),
        probe.ask(RouteKind::Anthropic, sender, limit)
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
    if sender == Sender::Tools && !probe.headers.routes.is_empty() {
        detail.push("sent as the tools connected directly send (fixed headers included)".into());
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
    } else if all.contains("refuses the request") {
        "the gateway wants something in every request that the tools do not send: a gateway that \
         routes by header needs it per route, e.g. `anyray config set \
         routes.openai.headers.x-portkey-provider openai` (see `anyray config get --help`), then \
         `anyray connect` again"
    } else if all.contains("404") {
        "check the gateway URL's path prefix and the routes in its discovery document"
    } else {
        "the gateway is failing: check its status page or tell its admins"
    };
    Finding::fail(CheckId::Routes, all)
        .detail(detail)
        .hint(hint)
}

/// `gateway.auth`: is a key stored, does the gateway accept it where anyray sends it
/// (the scheme, re-checked with probes that spend no tokens), and do the tools send it.
/// Never shows the key.
pub(super) async fn auth(cx: &Cx, probe: &Probe) -> Finding {
    let (header, header_from) = probe.identity_header();
    let scheme = probe.scheme();
    let scheme_from = probe.plan.as_ref().map_or("default", |p| p.scheme_from);
    let facts = format!(
        "auth.scheme: {} (from {scheme_from})\nidentity header: {header} (from {header_from})",
        scheme.as_str()
    );
    let key = match &probe.key {
        Err(why) => {
            return Finding::fail(CheckId::Auth, format!("cannot read your key: {why}"))
                .detail(facts)
                .hint("store it again with `anyray login`");
        }
        Ok(key) => key,
    };
    let Some((key, store)) = key else {
        return no_key(cx, probe, facts).await;
    };
    let url = provider_env::models_url(&cx.settings.gateway.value, probe.discovery.as_ref());
    let found = auth::probe_scheme(&probe.client, &url, header, key, cx.remaining()).await;
    let found = match found {
        Ok(found) => found,
        Err(why) => {
            return Finding::skip(CheckId::Auth, format!("cannot tell: {why}")).detail(facts);
        }
    };
    let facts = format!(
        "{facts}\nGET {url}: as a Bearer token {}, in {header} {}, without a key {}",
        yes_no(found.bearer),
        yes_no(found.identity),
        yes_no(found.none)
    );
    if found.none {
        return Finding::ok(CheckId::Auth, "the gateway accepts requests without a key")
            .detail(facts);
    }
    let Some(works) = found.verdict() else {
        return Finding::fail(
            CheckId::Auth,
            format!("the gateway rejects your key from {store}, as a Bearer token and in {header}"),
        )
        .detail(facts)
        .hint("store a current key with `anyray login` (from your gateway's admins or portal)");
    };
    if works != scheme {
        let fix = format!("`anyray config set auth.scheme {}`", works.as_str());
        let (summary, hint) = match scheme_from {
            "detected" => (
                format!(
                    "the remembered auth.scheme ({}, detected earlier) is stale: the gateway now \
                     takes your key {}",
                    scheme.as_str(),
                    where_key_goes(works, header)
                ),
                format!("{fix} (or `anyray config unset auth.detected_scheme` to detect it again)"),
            ),
            from => (
                format!(
                    "auth.scheme is {} (from {from}), but the gateway takes your key {}",
                    scheme.as_str(),
                    where_key_goes(works, header)
                ),
                fix,
            ),
        };
        return Finding::fail(CheckId::Auth, summary)
            .detail(facts)
            .hint(hint);
    }
    if scheme == Scheme::Header && cx.settings.via.value == Via::Direct {
        return Finding::warn(
            CheckId::Auth,
            format!(
                "the gateway needs your key in {header}, which tools connected directly do not send"
            ),
        )
        .detail(facts)
        .hint("send it through the relay: `anyray connect --via relay` (the relay adds it)");
    }
    Finding::ok(
        CheckId::Auth,
        format!(
            "your key from {store} is accepted {}",
            where_key_goes(scheme, header)
        ),
    )
    .detail(facts)
}

/// `gateway.auth` with no key stored: does the gateway want one.
async fn no_key(cx: &Cx, probe: &Probe, facts: String) -> Finding {
    let kind = probe.cheapest();
    let Some((url, answer)) = probe.ask(kind, Sender::Bare, cx.remaining()).await else {
        return Finding::skip(CheckId::Auth, "no route to test against").detail(facts);
    };
    match answer {
        Ok(a) if matches!(a.status, 401 | 403) => Finding::fail(
            CheckId::Auth,
            format!(
                "no key stored, and the gateway requires one ({url} answered {})",
                a.status
            ),
        )
        .detail(facts)
        .hint("store your key with `anyray login`"),
        Ok(a) if (200..300).contains(&a.status) => Finding::ok(
            CheckId::Auth,
            "no key stored; the gateway accepts requests without one",
        )
        .detail(format!(
            "{facts}\nstore one with `anyray login` if your org attributes usage per person"
        )),
        Ok(a) => Finding::skip(
            CheckId::Auth,
            format!("cannot tell: {url} answered {}", a.status),
        )
        .detail(facts),
        Err(why) => {
            Finding::skip(CheckId::Auth, format!("cannot tell: {url}: {why}")).detail(facts)
        }
    }
}

fn yes_no(accepted: bool) -> &'static str {
    if accepted { "accepted" } else { "refused" }
}

/// Where the key goes in `scheme`, for a sentence.
fn where_key_goes(scheme: Scheme, header: &str) -> String {
    match scheme {
        Scheme::Key => "as the tools' API key (auth.scheme = key)".into(),
        Scheme::Header => format!("in the {header} header (auth.scheme = header)"),
    }
}

/// `gateway.optimizer`: the fail-open behaviour from discovery, and the latency the
/// gateway adds to a no-token request (its round trip minus a TCP connect).
pub(super) async fn optimizer(cx: &Cx, probe: &Probe, connect: Duration) -> Finding {
    let mut finding = verdict(probe.discovery.as_ref());
    let latency = match probe
        .ask(probe.cheapest(), probe.sender, cx.remaining())
        .await
    {
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
        // Issue 22: a 4xx is the gateway refusing the tools' request, with its message.
        let portkey = br#"{"status":"failure","message":"Either x-portkey-config or x-portkey-provider header is required"}"#;
        let refused = classify(400, json, None, portkey).unwrap_err();
        assert!(refused.contains("refuses the request"), "{refused}");
        assert!(refused.contains("\"Either x-portkey-config"), "{refused}");
        assert!(classify(400, Some("text/plain"), None, b"bad").is_err());
        // LiteLLM without a database: a key it cannot check, not a broken route.
        let no_db = br#"{"error":{"message":"No connected db.","type":"no_db_connection","param":null,"code":"400"}}"#;
        assert!(classify(400, json, None, no_db).is_ok());
        let denied = classify(
            401,
            json,
            None,
            br#"{"error":{"message":"No api key passed in."}}"#,
        );
        assert!(denied.unwrap().contains("No api key passed in."));
        assert_eq!(
            gateway_message(br#"{"detail":"Not   Found\n here"}"#).as_deref(),
            Some("Not Found here")
        );
        assert_eq!(gateway_message(b"plain text secret"), None);
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
