//! The gateway environment: which provider variables point tools at the gateway, and the
//! one resolver that decides the endpoint and routes. `anyray env`, `connect` (shell and
//! gemini targets) and `anyray run` all go through here, so they never disagree.

use std::time::Duration;

use anyhow::Result;
use serde::Serialize;

use crate::auth::{self, Credential, FixedHeaders, Scheme};
use crate::config_file::ConfigFile;
use crate::discovery::{self, Discovery};
use crate::envvars;
use crate::gateway_url::{GatewayUrl, Provider, Routes};
use crate::http;
use crate::output::Printer;
use crate::secrets::Secret;
use crate::settings::{Settings, Source, Via};

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
/// How long scheme detection waits for each probe: it runs once per gateway (at `login`,
/// or when a relay starts without an answer yet), and a Python gateway on a busy
/// machine can take seconds over its first requests.
pub(crate) const DETECT_TIMEOUT: Duration = Duration::from_secs(10);

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
    /// Fixed headers: discovery's, with the config's laid over them.
    pub headers: FixedHeaders,
    /// Routes left out of `vars` because they need headers a bare variable cannot carry
    /// (`via = direct`): the relay adds them (`--via relay`).
    pub need_relay: Vec<Provider>,
    /// Every variable to set: the provider URLs, then `NO_PROXY`/`no_proxy` with the relay.
    pub vars: Vec<EnvVar>,
    /// How the gateway wants the key, as far as it is known without asking it
    /// ([`known_scheme`]); `None`: unknown (no `login` yet).
    pub scheme: Option<Scheme>,
}

/// The routes the gateway serves, on the gateway: `routes.enabled` chooses among them
/// (at discovery's paths, else the defaults); else discovery's; else only OpenAI and
/// Anthropic, the two every compatible gateway serves. A default route a gateway does
/// not serve (LiteLLM answers `/azure` with 500) would break a user's working SDK code
/// in every new shell.
pub(crate) fn gateway_routes(settings: &Settings, discovery: Option<&Discovery>) -> Routes {
    let gw = &settings.gateway.value;
    let known = match discovery {
        Some(d) if !d.routes.is_empty() => Discovery::routes(Some(d), gw),
        _ => Routes::defaults(gw),
    };
    let chosen: Vec<Provider> = match (&settings.routes_enabled, discovery) {
        (Some(enabled), _) => enabled.clone(),
        (None, Some(d)) if !d.routes.is_empty() => known.0.iter().map(|(p, _)| *p).collect(),
        (None, _) => vec![Provider::Openai, Provider::Anthropic],
    };
    let mut routes: Vec<(Provider, String)> = chosen
        .into_iter()
        .map(|p| {
            let url = known
                .get(p)
                .map_or_else(|| gw.join(p.default_route()), str::to_string);
            (p, url)
        })
        .collect();
    routes.sort();
    routes.dedup_by_key(|(p, _)| *p);
    Routes(routes)
}

/// The fixed headers: discovery's, with the config's laid over them.
pub(crate) fn fixed_headers(settings: &Settings, discovery: Option<&Discovery>) -> FixedHeaders {
    discovery
        .map(Discovery::fixed_headers)
        .unwrap_or_default()
        .overlay(&settings.headers)
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
        Ok(found) => {
            discovery::remember(gateway, found.as_ref());
            found
        }
        Err(err) => match discovery::remembered(gateway) {
            Some(last) => {
                printer.warn(format!(
                    "{}; using the routes it named last time",
                    brief_error(&err)
                ));
                Some(last)
            }
            None => {
                printer.warn(format!("{}; using the default routes", brief_error(&err)));
                None
            }
        },
    };
    Ok(tool_env(settings, discovery))
}

/// The endpoint, routes, headers and variables for `settings` and what discovery said
/// (nothing when the gateway has none or was not asked): [`resolve`] without the network.
pub(crate) fn tool_env(settings: &Settings, discovery: Option<Discovery>) -> ToolEnv {
    let gateway = &settings.gateway.value;
    let endpoint = settings.tool_endpoint();
    let routes = rebase(
        gateway_routes(settings, discovery.as_ref()),
        gateway,
        &endpoint,
    );
    let headers = fixed_headers(settings, discovery.as_ref());
    let need_relay: Vec<Provider> = match settings.via.value {
        Via::Direct => routes
            .0
            .iter()
            .map(|(p, _)| *p)
            .filter(|p| headers.route_needs_headers(*p))
            .collect(),
        Via::Relay => Vec::new(),
    };
    let bare = Routes(
        routes
            .0
            .iter()
            .filter(|(p, _)| !need_relay.contains(p))
            .cloned()
            .collect(),
    );
    let mut vars = gateway_env(&bare);
    if settings.via.value == Via::Relay {
        vars.extend(no_proxy_env(
            envvars::get("NO_PROXY").as_deref(),
            envvars::get("no_proxy").as_deref(),
        ));
    }
    let scheme = known_scheme(settings, discovery.as_ref()).map(|(scheme, _)| scheme);
    ToolEnv {
        endpoint,
        via: settings.via.value,
        routes,
        discovery,
        headers,
        need_relay,
        vars,
        scheme,
    }
}

/// How the user's key reaches the gateway, decided once per command.
#[derive(Debug, Clone)]
pub(crate) struct AuthPlan {
    pub scheme: Scheme,
    /// `config`, `discovery`, `detected` (earlier or now) or `default`.
    pub scheme_from: &'static str,
    /// The identity header, and who named it (`config`, `discovery`, `default`).
    pub header: (String, &'static str),
    /// The key and where it goes; `None` without a stored key.
    pub credential: Option<Credential>,
    /// Something the user should know (a detection that failed, a key not sent).
    pub note: Option<String>,
}

/// Decides the scheme and the credential: `auth.scheme` set by the user, else the
/// gateway's discovery, else the scheme detected earlier for this gateway, else (with a
/// key) detected now with probes that spend no tokens and remembered in the config when
/// `remember`; else `header`. The identity header: the config's, else discovery's, else
/// `x-anyray-key`.
pub(crate) async fn auth_plan(
    settings: &Settings,
    gw: &GatewayUrl,
    discovery: Option<&Discovery>,
    key: Option<Secret>,
    remember: bool,
) -> Result<AuthPlan> {
    let header = match (
        &settings.identity_header,
        discovery.and_then(Discovery::identity_header),
    ) {
        (Some(h), _) => (h.clone(), "config"),
        (None, Some(h)) => (h.to_string(), "discovery"),
        (None, None) => (discovery::DEFAULT_IDENTITY_HEADER.to_string(), "default"),
    };
    let mut note = None;
    let (scheme, scheme_from) = match known_scheme(settings, discovery) {
        Some(known) => known,
        None => match &key {
            Some(key) => match detect(settings, gw, discovery, &header.0, key).await {
                Ok(Some(scheme)) => {
                    if remember && let Err(err) = remember_scheme(settings, gw, scheme) {
                        note = Some(format!("cannot save the detected auth.scheme: {err:#}"));
                    }
                    (scheme, "detected")
                }
                Ok(None) => {
                    note = Some(format!(
                        "the gateway accepted your key neither as a Bearer token nor in {}; \
                         sending it in {} (run `anyray doctor`)",
                        header.0, header.0
                    ));
                    (Scheme::Header, "default")
                }
                Err(why) => {
                    note = Some(format!(
                        "cannot tell how the gateway wants your key ({why}); sending it in {} \
                         for now (set `anyray config set auth.scheme key|header`)",
                        header.0
                    ));
                    (Scheme::Header, "default")
                }
            },
            None => (Scheme::Header, "default"),
        },
    };
    if scheme == Scheme::Header && header.0.eq_ignore_ascii_case("authorization") {
        note.get_or_insert_with(|| {
            "identity_header = authorization: your key goes as `Authorization: Bearer …`, \
             replacing the tools' own Authorization header; if the gateway issued your key as \
             the tools' API key, `anyray config set auth.scheme key` says so"
                .to_string()
        });
    }
    let credential = key
        .map(|key| Credential::new(scheme, &header.0, key))
        .transpose()?;
    Ok(AuthPlan {
        scheme,
        scheme_from,
        header,
        credential,
        note,
    })
}

/// The scheme as far as it is known without asking the gateway, and who said so: the
/// config's `auth.scheme`, else discovery's, else the one detected earlier for this
/// gateway (at `login`). `None`: unknown.
pub(crate) fn known_scheme(
    settings: &Settings,
    discovery: Option<&Discovery>,
) -> Option<(Scheme, &'static str)> {
    match (
        settings.auth_scheme.as_ref(),
        discovery.and_then(Discovery::scheme),
    ) {
        (Some(s), _) if !matches!(s.source, Source::Detected(_)) => Some((s.value, "config")),
        (_, Some(scheme)) => Some((scheme, "discovery")),
        (Some(s), None) => Some((s.value, "detected")),
        (None, None) => None,
    }
}

/// Probes the gateway's model list with the key as a Bearer token and in the identity
/// header (no tokens spent): `None` when neither is accepted.
pub(crate) async fn detect(
    settings: &Settings,
    gw: &GatewayUrl,
    discovery: Option<&Discovery>,
    header: &str,
    key: &Secret,
) -> Result<Option<Scheme>, String> {
    let ca_file = settings.ca_file.as_ref().map(|c| c.value.as_path());
    let client = http::client(ca_file, DETECT_TIMEOUT).map_err(|e| format!("{e:#}"))?;
    let url = models_url(gw, discovery);
    let probe = auth::probe_scheme(&client, &url, header, key, DETECT_TIMEOUT).await?;
    Ok(probe.verdict())
}

/// The OpenAI-style model list on the gateway: the probe that spends no tokens.
pub(crate) fn models_url(gw: &GatewayUrl, discovery: Option<&Discovery>) -> String {
    let routes = match discovery {
        Some(d) if !d.routes.is_empty() => Discovery::routes(Some(d), gw),
        _ => Routes::defaults(gw),
    };
    format!(
        "{}/models",
        routes
            .get(Provider::Openai)
            .map_or_else(|| gw.join("/v1"), str::to_string)
    )
}

/// Writes the detected scheme, and the gateway it is for, to the config file.
fn remember_scheme(settings: &Settings, gw: &GatewayUrl, scheme: Scheme) -> Result<()> {
    let mut file = ConfigFile::load(&settings.config_file.value)?;
    file.set("auth.detected_scheme", scheme.as_str())?;
    file.set("auth.detected_gateway", gw.as_str())?;
    file.save()
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
    fn routes_without_discovery_are_openai_and_anthropic_unless_chosen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let settings = |toml: &str| {
            std::fs::write(&path, toml).unwrap();
            Settings::resolve(&crate::settings::Overrides {
                config: Some(path.clone()),
                gateway: Some(gw("https://gw.example")),
                ..Default::default()
            })
            .unwrap()
        };
        let keys = |r: Routes| r.0.into_iter().map(|(p, _)| p.key()).collect::<Vec<_>>();
        assert_eq!(
            keys(gateway_routes(&settings(""), None)),
            ["openai", "anthropic"]
        );
        let chosen = settings("[routes]\nenabled = [\"gemini\", \"openai\"]\n");
        assert_eq!(keys(gateway_routes(&chosen, None)), ["openai", "gemini"]);
        let d: Discovery =
            serde_json::from_str(r#"{"routes":{"openai":"/oa","gemini":"/g"}}"#).unwrap();
        assert_eq!(
            keys(gateway_routes(&settings(""), Some(&d))),
            ["openai", "gemini"]
        );
        assert_eq!(
            gateway_routes(&chosen, Some(&d)).get(Provider::Gemini),
            Some("https://gw.example/g")
        );
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
