//! The gateway environment: which provider variables point tools at the gateway, and the
//! one resolver that decides the endpoint and routes. `anyray env`, `connect` (shell and
//! gemini targets) and `anyray run` all go through here, so they never disagree.

use std::time::Duration;

use anyhow::Result;
use serde::Serialize;

use crate::discovery::{self, Discovery};
use crate::envvars;
use crate::gateway_url::{GatewayUrl, Provider, Routes};
use crate::http;
use crate::output::Printer;
use crate::settings::Settings;
use crate::settings::Via;

/// One environment variable that anyray sets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvVar {
    pub name: &'static str,
    pub value: String,
}

impl EnvVar {
    pub fn new(name: &'static str, value: impl Into<String>) -> Self {
        Self {
            name,
            value: value.into(),
        }
    }
}

/// Each provider's standard base-URL variable (docs/targets.md, "Shells and SDKs"), in the
/// order they are emitted. Vertex is absent on purpose: the Vertex SDKs have no standard
/// base-URL variable (they build regional `*-aiplatform.googleapis.com` hosts themselves),
/// and Claude Code's `ANTHROPIC_VERTEX_BASE_URL` only applies in its Vertex mode, which
/// the claude-code target handles.
const PROVIDER_VARS: [(Provider, &str); 5] = [
    (Provider::Openai, "OPENAI_BASE_URL"),
    (Provider::Anthropic, "ANTHROPIC_BASE_URL"),
    (Provider::Gemini, "GOOGLE_GEMINI_BASE_URL"),
    (Provider::Azure, "AZURE_OPENAI_ENDPOINT"),
    (Provider::Bedrock, "AWS_ENDPOINT_URL_BEDROCK_RUNTIME"),
];

/// Hosts a loopback relay URL must never be proxied for (docs/architecture.md, "Proxies and loopback").
const LOOPBACK_HOSTS: [&str; 2] = ["127.0.0.1", "localhost"];

/// The provider variables for the routes the gateway serves, in a stable order.
/// `routes` already holds full URLs (see [`Routes`]).
pub(crate) fn gateway_env(routes: &Routes) -> Vec<EnvVar> {
    PROVIDER_VARS
        .iter()
        .filter_map(|&(provider, name)| routes.get(provider).map(|url| EnvVar::new(name, url)))
        .collect()
}

/// `NO_PROXY` and `no_proxy`, both set to the user's current entries (from either
/// spelling, in order, without duplicates) plus `127.0.0.1,localhost`.
pub(crate) fn no_proxy_env(upper: Option<&str>, lower: Option<&str>) -> Vec<EnvVar> {
    let mut entries: Vec<&str> = Vec::new();
    let current = [upper, lower]
        .into_iter()
        .flatten()
        .flat_map(|v| v.split(','));
    for entry in current.chain(LOOPBACK_HOSTS).map(str::trim) {
        if !entry.is_empty() && !entries.iter().any(|e| e.eq_ignore_ascii_case(entry)) {
            entries.push(entry);
        }
    }
    let merged = entries.join(",");
    vec![
        EnvVar::new("NO_PROXY", merged.clone()),
        EnvVar::new("no_proxy", merged),
    ]
}

/// How long `env`, `connect` and `run` wait for discovery before using the defaults.
pub(crate) const DISCOVERY_TIMEOUT: Duration = Duration::from_millis(1500);

/// Where tools are pointed and with which variables, as [`resolve`] decided it.
#[derive(Debug, Clone)]
pub(crate) struct ToolEnv {
    /// The URL tools use: the org gateway, or the local relay with `via = relay`.
    pub endpoint: GatewayUrl,
    pub via: Via,
    /// Full provider URLs on `endpoint`.
    pub routes: Routes,
    /// What the org gateway said about itself, when it has discovery.
    pub discovery: Option<Discovery>,
    /// Every variable to set: the provider URLs, then `NO_PROXY`/`no_proxy` with the relay.
    pub vars: Vec<EnvVar>,
}

/// Decides the endpoint and routes for `settings`. Discovery comes from the org gateway
/// with a short timeout; when it cannot be reached (or answers nonsense) the default
/// routes are used and one warning is printed. The network never makes this fail, so
/// `eval "$(anyray env)"` in CI works with the gateway down; a broken `ca_file` does,
/// as it does for every command that talks to the gateway.
pub(crate) async fn resolve(settings: &Settings, printer: &Printer) -> Result<ToolEnv> {
    let gateway = &settings.gateway.value;
    let ca_file = settings.ca_file.as_ref().map(|c| c.value.as_path());
    let client = http::client(ca_file, DISCOVERY_TIMEOUT)?;
    let discovery = match discovery::fetch(&client, gateway).await {
        Ok(found) => found,
        Err(err) => {
            printer.warn(format!("{}; using the default routes", brief_error(&err)));
            None
        }
    };
    let endpoint = settings.tool_endpoint();
    let routes = rebase(
        Discovery::routes(discovery.as_ref(), gateway),
        gateway,
        &endpoint,
    );
    let mut vars = gateway_env(&routes);
    if settings.via.value == Via::Relay {
        vars.extend(no_proxy_env(
            envvars::get("NO_PROXY").as_deref(),
            envvars::get("no_proxy").as_deref(),
        ));
    }
    Ok(ToolEnv {
        endpoint,
        via: settings.via.value,
        routes,
        discovery,
        vars,
    })
}

/// `what failed: why`, without the middle of the chain (reqwest's is long and repeats
/// the URL).
fn brief_error(err: &anyhow::Error) -> String {
    let root = err.root_cause().to_string();
    if err.chain().count() > 1 {
        format!("{err}: {root}")
    } else {
        root
    }
}

/// Moves routes under `from` onto `to`: the relay forwards paths as they are, so
/// `{gateway}/gemini` becomes `{relay}/gemini`. A route on another host stays as it is.
pub(crate) fn rebase(routes: Routes, from: &GatewayUrl, to: &GatewayUrl) -> Routes {
    if from == to {
        return routes;
    }
    let base = from.as_str();
    Routes(
        routes
            .0
            .into_iter()
            .map(|(provider, url)| match url.strip_prefix(base) {
                Some(rest) if rest.is_empty() || rest.starts_with('/') => (provider, to.join(rest)),
                _ => (provider, url),
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gw(url: &str) -> GatewayUrl {
        GatewayUrl::parse(url).unwrap()
    }

    fn pairs(vars: &[EnvVar]) -> Vec<(&str, &str)> {
        vars.iter().map(|v| (v.name, v.value.as_str())).collect()
    }

    #[test]
    fn default_routes_give_every_standard_variable_in_order() {
        let endpoint = gw("https://gw.example:8787/llm");
        let vars = gateway_env(&Routes::defaults(&endpoint));
        assert_eq!(
            pairs(&vars),
            [
                ("OPENAI_BASE_URL", "https://gw.example:8787/llm/v1"),
                ("ANTHROPIC_BASE_URL", "https://gw.example:8787/llm"),
                (
                    "GOOGLE_GEMINI_BASE_URL",
                    "https://gw.example:8787/llm/gemini"
                ),
                ("AZURE_OPENAI_ENDPOINT", "https://gw.example:8787/llm/azure"),
                (
                    "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
                    "https://gw.example:8787/llm/bedrock"
                ),
            ]
        );
    }

    #[test]
    fn only_served_routes_become_variables() {
        let endpoint = gw("https://gw.example");
        let routes = Routes::from_discovery(&endpoint, [("anthropic", "/"), ("vertex", "/v")]);
        assert_eq!(
            pairs(&gateway_env(&routes)),
            [("ANTHROPIC_BASE_URL", "https://gw.example")]
        );
    }

    #[test]
    fn no_proxy_merges_without_duplicates() {
        assert_eq!(
            pairs(&no_proxy_env(None, None)),
            [
                ("NO_PROXY", "127.0.0.1,localhost"),
                ("no_proxy", "127.0.0.1,localhost")
            ]
        );
        let merged = no_proxy_env(
            Some(".corp.example, LOCALHOST"),
            Some("10.0.0.0/8,.corp.example"),
        );
        assert_eq!(
            merged[0].value,
            ".corp.example,LOCALHOST,10.0.0.0/8,127.0.0.1"
        );
        assert_eq!(merged[0].value, merged[1].value);
    }

    #[test]
    fn rebase_moves_gateway_routes_onto_the_relay_only() {
        let gateway = gw("https://gw.example/p");
        let relay = gw("http://127.0.0.1:8787");
        let routes = Routes::from_discovery(
            &gateway,
            [
                ("openai", "/v1"),
                ("anthropic", "/"),
                ("gemini", "https://gw.example/pp/gemini"),
                ("azure", "https://other.example/azure"),
            ],
        );
        let moved = rebase(routes, &gateway, &relay);
        assert_eq!(
            moved.get(Provider::Openai),
            Some("http://127.0.0.1:8787/v1")
        );
        assert_eq!(
            moved.get(Provider::Anthropic),
            Some("http://127.0.0.1:8787")
        );
        // `/pp` is not under `/p`: a prefix match must end at a path boundary.
        assert_eq!(
            moved.get(Provider::Gemini),
            Some("https://gw.example/pp/gemini")
        );
        assert_eq!(
            moved.get(Provider::Azure),
            Some("https://other.example/azure")
        );
    }
}
