//! What happens when the gateway goes down (`failopen.path`), and whether the local
//! relay runs and forwards where the config says (`relay`).

use std::time::Duration;

use serde::Deserialize;

use super::finding::fmt_secs;
use super::net::{self, error_chain};
use super::{CheckId, Cx, Finding};
use crate::auth::{OwnKeyProvider, Scheme};
use crate::gateway_url::GatewayUrl;
use crate::relay::Fallback;
use crate::secrets;
use crate::settings::Via;

/// `failopen.path`.
pub(super) async fn path(cx: &Cx) -> Finding {
    let relay = &cx.settings.relay;
    if cx.settings.via.value == Via::Direct {
        return Finding::warn(CheckId::FailOpen, "tools fail if the gateway goes down (via = direct)")
            .hint("where your org allows it, use the relay with a direct fallback: `anyray config set relay.fallback direct` and `anyray connect --via relay`");
    }
    if relay.fallback == Fallback::None {
        return Finding::warn(
            CheckId::FailOpen,
            "tools fail if the gateway goes down: the relay answers 502 (relay.fallback = none)",
        )
        .hint("where your org allows it: `anyray config set relay.fallback direct`");
    }
    let missing_keys = if relay.scheme == Scheme::Key {
        match own_keys_missing(cx).await {
            Ok(missing) => missing,
            Err(why) => {
                return Finding::warn(
                    CheckId::FailOpen,
                    format!("cannot read your own provider keys for failing open: {why}"),
                );
            }
        }
    } else {
        Vec::new()
    };
    let providers = [
        ("openai", &relay.providers.openai),
        ("anthropic", &relay.providers.anthropic),
        ("gemini", &relay.providers.gemini),
    ];
    let limit = cx.remaining();
    let ca_file = cx.settings.ca_file.as_ref().map(|c| c.value.as_path());
    let (a, b, c) = tokio::join!(
        reach(providers[0].1, ca_file, limit),
        reach(providers[1].1, ca_file, limit),
        reach(providers[2].1, ca_file, limit),
    );
    let mut detail = Vec::new();
    let mut broken = Vec::new();
    for ((name, url), result) in providers.iter().zip([a, b, c]) {
        match result {
            Ok(how) => detail.push(format!("{name}: {url} {how}")),
            Err(why) => {
                detail.push(format!("{name}: {url}: {why}"));
                broken.push(*name);
            }
        }
    }
    if relay.scheme == Scheme::Key {
        detail.push(
            "auth.scheme = key: the tools' keys are the gateway's and are stripped; failing open \
             sends your own provider keys instead"
                .into(),
        );
    }
    let detail = detail.join("\n");
    if !missing_keys.is_empty() {
        let names = missing_keys.join(", ");
        return Finding::warn(
            CheckId::FailOpen,
            format!(
                "failing open would answer 502 for {names}: the tools' keys are the gateway's \
                 (auth.scheme = key) and you stored no own {names} key"
            ),
        )
        .detail(detail)
        .hint(format!(
            "store your own provider key, used only for failing open: `anyray login --provider {}`",
            missing_keys[0]
        ));
    }
    if broken.is_empty() {
        Finding::ok(
            CheckId::FailOpen,
            "if the gateway goes down, the relay falls back to the providers, which are reachable",
        )
        .detail(detail)
    } else {
        Finding::warn(
            CheckId::FailOpen,
            format!(
                "the direct fallback cannot reach {}: tools fail if the gateway goes down",
                broken.join(", ")
            ),
        )
        .detail(detail)
        .hint("the providers may only be reachable through a proxy or not at all from this network; check net.proxy, or ask whether the fallback is allowed here")
    }
}

/// The providers with a public API for which no own key is stored (read off the async
/// threads: the keyring blocks).
async fn own_keys_missing(cx: &Cx) -> Result<Vec<&'static str>, String> {
    let read = tokio::task::spawn_blocking(|| {
        OwnKeyProvider::ALL
            .into_iter()
            .filter_map(|own| match secrets::load_provider(own.provider()) {
                Ok(Some(_)) => None,
                Ok(None) => Some(Ok(own.provider().key())),
                Err(err) => Some(Err(format!("{err:#}"))),
            })
            .collect::<Result<Vec<_>, String>>()
    });
    match tokio::time::timeout(cx.remaining(), read).await {
        Ok(Ok(result)) => result,
        Ok(Err(err)) => Err(err.to_string()),
        Err(_) => Err("the keyring did not answer in time".into()),
    }
}

/// DNS, TCP and (for https) TLS to one provider host.
async fn reach(
    url: &GatewayUrl,
    ca_file: Option<&std::path::Path>,
    limit: Duration,
) -> Result<String, String> {
    let deadline = tokio::time::Instant::now() + limit;
    let left = || deadline.saturating_duration_since(tokio::time::Instant::now());
    let host = url.url().host().ok_or("no host")?;
    let addrs = net::resolve(&host, url.port(), left()).await?;
    let connected = net::connect(&addrs, left())
        .await
        .map_err(|f| format!("{}: {}", f[0].0, f[0].1))?;
    let tcp_ms = connected.elapsed.as_millis();
    if !url.is_https() {
        return Ok(format!("accepts connections ({tcp_ms} ms, plain http)"));
    }
    let info = net::handshake(connected.stream, &host, ca_file, left())
        .await
        .map_err(|(why, _)| why)?;
    Ok(format!(
        "accepts connections ({tcp_ms} ms), {} with a trusted certificate",
        info.protocol
    ))
}

/// What the relay's health endpoint answers (`relay::forward::Health` on the relay
/// branch): `{"status", "version", "fallback", "in_flight", "upstreams": [{"url",
/// "state": "unknown"|"up"|"down", "last_error", "retry_in_ms"}]}`. Read tolerantly: an
/// upstream may also be a plain URL, and any field may be missing.
#[derive(Debug, Deserialize)]
struct RelayHealth {
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    fallback: Option<String>,
    #[serde(default)]
    upstreams: Vec<Upstream>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Upstream {
    Url(String),
    Report {
        url: String,
        #[serde(default)]
        state: Option<String>,
        #[serde(default)]
        last_error: Option<String>,
    },
}

impl Upstream {
    fn url(&self) -> &str {
        match self {
            Upstream::Url(url) | Upstream::Report { url, .. } => url,
        }
    }

    /// The relay's last connect error, when it marks this gateway down.
    fn down(&self) -> Option<String> {
        match self {
            Upstream::Report {
                state: Some(state),
                last_error,
                ..
            } if state == "down" => Some(last_error.clone().unwrap_or_else(|| "down".into())),
            _ => None,
        }
    }
}

/// `relay`: the local relay answers on its address and forwards to the configured gateway.
pub(super) async fn relay(cx: &Cx) -> Finding {
    if cx.settings.via.value == Via::Direct {
        return Finding::skip(CheckId::Relay, "via = direct: tools do not use the relay");
    }
    let relay_url = cx.settings.relay_url();
    let url = relay_url.join(crate::relay::HEALTH_PATH);
    let limit = cx.remaining();
    let start_hint = "start it with `anyray gateway` (or check `relay.listen`)";
    // Loopback, so never through a proxy, whatever the environment says.
    let client = match crate::http::loopback_client(limit) {
        Ok(client) => client,
        Err(err) => return Finding::fail(CheckId::Relay, format!("{err:#}")),
    };
    let response = match client.get(&url).timeout(limit).send().await {
        Ok(response) => response,
        Err(err) if err.is_connect() => {
            return Finding::fail(
                CheckId::Relay,
                format!("the relay is not running on {}", relay_url),
            )
            .detail(format!("GET {url}: {}", error_chain(&err)))
            .hint(start_hint);
        }
        Err(err) if err.is_timeout() => {
            return Finding::fail(
                CheckId::Relay,
                format!("no answer from {url} within {}", fmt_secs(limit)),
            )
            .hint("something listens on the relay's address but does not answer; restart `anyray gateway`");
        }
        Err(err) => {
            return Finding::fail(CheckId::Relay, format!("GET {url}: {}", error_chain(&err)));
        }
    };
    let status = response.status();
    let health = response.json::<RelayHealth>().await;
    let health = match (status.is_success(), health) {
        (true, Ok(health)) => health,
        _ => {
            return Finding::fail(
                CheckId::Relay,
                format!("something other than the anyray relay answers on {relay_url} ({status})"),
            )
            .hint(format!("free the address, or move the relay with `anyray config set relay.listen ADDR`; then {start_hint}"));
        }
    };
    let normalise = |u: &str| GatewayUrl::parse(u).map_or(u.to_string(), |g| g.to_string());
    let running: Vec<String> = health
        .upstreams
        .iter()
        .map(|u| normalise(u.url()))
        .collect();
    let configured: Vec<String> = cx
        .settings
        .relay
        .upstreams
        .iter()
        .map(|u| u.to_string())
        .collect();
    let want_fallback = cx.settings.relay.fallback.as_str();
    let mut detail = vec![
        format!(
            "relay {} forwards to: {}",
            health.version.as_deref().unwrap_or("(version unknown)"),
            if running.is_empty() {
                "(not reported)".to_string()
            } else {
                running.join(", ")
            }
        ),
        format!("config names: {}", configured.join(", ")),
    ];
    if let Some(fallback) = &health.fallback {
        detail.push(format!("fallback: {fallback} (config: {want_fallback})"));
    }
    let down: Vec<String> = health
        .upstreams
        .iter()
        .filter_map(|u| u.down().map(|why| format!("{}: {why}", u.url())))
        .collect();
    detail.extend(down.iter().map(|d| format!("down: {d}")));
    let detail = detail.join("\n");
    let stale = running != configured
        || health
            .fallback
            .as_deref()
            .is_some_and(|f| f != want_fallback);
    if stale {
        return Finding::fail(
            CheckId::Relay,
            format!("the relay on {relay_url} does not run with the current config"),
        )
        .detail(detail)
        .hint("restart the relay (`anyray gateway`) so it picks up the current config");
    }
    if !down.is_empty() {
        return Finding::warn(
            CheckId::Relay,
            format!("the relay on {relay_url} cannot reach {}", down.join("; ")),
        )
        .detail(detail)
        .hint("see the net.* checks for where the path to the gateway breaks");
    }
    Finding::ok(
        CheckId::Relay,
        format!(
            "the relay on {relay_url} forwards to {}",
            configured.join(", ")
        ),
    )
    .detail(detail)
}
