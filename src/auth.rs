//! What anyray adds to a request toward the org gateway, and what it must take off a
//! request that fails open to a provider (docs/gateway-contract.md, "Credentials" and
//! "Headers").
//!
//! Two credential schemes:
//! - `header`: the user's key travels in the identity header; the tools' own provider
//!   keys pass through to the gateway untouched.
//! - `key`: the gateway-issued key *is* the tools' API key (LiteLLM, Portkey with virtual
//!   keys, Claude Code's gateway protocol), sent where each SDK sends its key.
//!
//! [`Credential::headers_for`] is the one answer to "which headers carry the key on a
//! request for route X": the relay, `run` and doctor share it. (`anyray token` prints the
//! key itself, for the tools' credential helpers, which put it in their own headers.)

use std::collections::BTreeMap;
use std::time::Duration;

use hyper::header::{HeaderName, HeaderValue};
use serde::Serialize;

use crate::error::UserError;
use crate::gateway_url::Provider;
use crate::secrets::Secret;

/// How the gateway wants the user's key (`auth.scheme`, discovery's `auth.scheme`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    /// The key in the identity header; provider keys pass through
    #[default]
    Header,
    /// The key is the tools' API key (Authorization: Bearer, x-api-key, …)
    Key,
}

impl Scheme {
    /// The name in the config file, discovery and JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Header => "header",
            Scheme::Key => "key",
        }
    }
}

/// The providers with a public API the relay can fail open to, so the ones whose own
/// key `anyray login --provider` stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OwnKeyProvider {
    Openai,
    Anthropic,
    Gemini,
}

impl OwnKeyProvider {
    pub const ALL: [OwnKeyProvider; 3] = [Self::Openai, Self::Anthropic, Self::Gemini];

    pub fn provider(self) -> Provider {
        match self {
            Self::Openai => Provider::Openai,
            Self::Anthropic => Provider::Anthropic,
            Self::Gemini => Provider::Gemini,
        }
    }
}

/// Every header an SDK or a gateway reads an API key from. In the `key` scheme each of
/// them may carry the gateway's key, so none of them ever goes to a provider on fail-open.
pub const TOOL_KEY_HEADERS: [&str; 6] = [
    "authorization",
    "x-api-key",
    "api-key",
    "x-goog-api-key",
    "x-litellm-api-key",
    "ocp-apim-subscription-key",
];

/// The API key `anyray run --relay` gives a tool that refuses to start without one:
/// the relay supplies the real key (or the tool's key goes through as it is).
pub const RELAY_PLACEHOLDER_KEY: &str = "anyray-relay";

/// The default of `relay.strip_header_prefixes`: headers only gateways read.
pub const DEFAULT_STRIP_PREFIXES: &str = "x-anyray-,x-litellm-,x-portkey-";

/// The user's key, how the gateway wants it, and the header names involved. The value
/// is built once and marked sensitive (hyper never logs it; `Debug` hides it).
#[derive(Clone, Debug)]
pub struct Credential {
    pub scheme: Scheme,
    /// The identity header (the `header` scheme's; stripped on fail-open in both).
    pub header: HeaderName,
    raw: Secret,
}

impl Credential {
    /// Pairs a scheme, the identity header name and a key; both must be valid in HTTP.
    pub fn new(scheme: Scheme, header: &str, key: Secret) -> Result<Self, UserError> {
        let header = HeaderName::from_bytes(header.trim().as_bytes()).map_err(|_| {
            UserError::usage(format!("`{header}` is not a valid HTTP header name"))
                .with_hint("fix it with `anyray config set identity_header NAME`")
        })?;
        HeaderValue::from_str(&format!("Bearer {}", key.expose())).map_err(|_| {
            UserError::usage("your stored Anyray key cannot be sent in an HTTP header")
                .with_hint("store it again with `anyray login`")
        })?;
        Ok(Self {
            scheme,
            header,
            raw: key,
        })
    }

    /// The headers that carry the key toward the gateway on a request for `route`
    /// (`None`: a path of no provider), each replacing whatever the client sent there.
    pub fn headers_for(&self, route: Option<Provider>) -> Vec<(HeaderName, HeaderValue)> {
        match self.scheme {
            // `Authorization` without `Bearer ` is refused by every gateway that reads it.
            Scheme::Header if self.header == hyper::header::AUTHORIZATION => {
                vec![(self.header.clone(), bearer(&self.raw))]
            }
            Scheme::Header => vec![(self.header.clone(), sensitive(self.raw.expose()))],
            Scheme::Key => sdk_key_headers(route, &self.raw, Destination::Gateway),
        }
    }

    /// Header names the client may have put a placeholder or a stale key in, removed
    /// before [`Self::headers_for`]'s are added: in the `key` scheme every SDK key header.
    pub fn replaces(&self) -> &'static [&'static str] {
        match self.scheme {
            Scheme::Header => &[],
            Scheme::Key => &TOOL_KEY_HEADERS,
        }
    }

    /// The key itself, for the one caller that hands it to a child's environment.
    pub(crate) fn secret(&self) -> &Secret {
        &self.raw
    }
}

/// Who receives a key: the gateway accepts it where any SDK of the route sends it; a
/// provider's public API wants exactly its own header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    Gateway,
    Provider,
}

/// Where the SDKs of `route` send their API key. Claude Code sends its key as both
/// `Authorization: Bearer` and `x-api-key`, and gateways read `Authorization` first, so
/// toward a gateway both carry it; api.anthropic.com takes a Bearer as an OAuth token,
/// so toward it only `x-api-key` does.
pub fn sdk_key_headers(
    route: Option<Provider>,
    key: &Secret,
    to: Destination,
) -> Vec<(HeaderName, HeaderValue)> {
    let named = |name: &'static str| (HeaderName::from_static(name), sensitive(key.expose()));
    let authorization = || (hyper::header::AUTHORIZATION, bearer(key));
    match route {
        Some(Provider::Anthropic) if to == Destination::Provider => vec![named("x-api-key")],
        Some(Provider::Anthropic) => vec![named("x-api-key"), authorization()],
        Some(Provider::Gemini) => vec![named("x-goog-api-key")],
        Some(Provider::Azure) => vec![named("api-key")],
        _ => vec![authorization()],
    }
}

fn sensitive(value: &str) -> HeaderValue {
    let mut value = HeaderValue::from_str(value).unwrap_or_else(|_| HeaderValue::from_static(""));
    value.set_sensitive(true);
    value
}

fn bearer(key: &Secret) -> HeaderValue {
    sensitive(&format!("Bearer {}", key.expose()))
}

/// Fixed, non-secret headers: `[headers]` (every route) and `[routes.<p>.headers]` (one
/// route, e.g. a gateway's routing header), configured or named by discovery.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FixedHeaders {
    pub global: BTreeMap<String, String>,
    pub routes: BTreeMap<Provider, BTreeMap<String, String>>,
}

impl FixedHeaders {
    /// Every header for a request on `route`: the global ones, then the route's (which
    /// win on the same name), names in lower case.
    pub fn for_route(&self, route: Option<Provider>) -> BTreeMap<String, String> {
        let mut out: BTreeMap<String, String> = self
            .global
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            .collect();
        if let Some(own) = route.and_then(|p| self.routes.get(&p)) {
            out.extend(own.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.clone())));
        }
        out
    }

    /// Whether `route` has headers of its own: a gateway that routes by header answers
    /// nothing useful without them, so a tool that cannot send them must use the relay.
    pub fn route_needs_headers(&self, route: Provider) -> bool {
        self.routes.get(&route).is_some_and(|h| !h.is_empty())
    }

    /// Every configured header name (stripped on fail-open: it is meant for the gateway).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.global
            .keys()
            .chain(self.routes.values().flat_map(|h| h.keys()))
            .map(String::as_str)
    }

    /// Lays `other` (the config) over `self` (discovery): the config wins per name.
    pub fn overlay(mut self, other: &FixedHeaders) -> Self {
        self.global.extend(other.global.clone());
        for (route, headers) in &other.routes {
            self.routes
                .entry(*route)
                .or_default()
                .extend(headers.clone());
        }
        self
    }

    /// `Name: value` lines, as Claude Code's `ANTHROPIC_CUSTOM_HEADERS` wants them.
    pub fn lines(headers: &BTreeMap<String, String>) -> String {
        headers
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Checks a fixed header: a valid name that is not a credential header, and a value
/// that does not look like a secret (these headers are written into tools' files).
pub fn check_fixed_header(name: &str, value: &str) -> Result<(), String> {
    check_fixed_name(name)?;
    check_fixed_value(value)
}

/// A fixed header's name: valid, and not one that carries credentials or framing.
pub fn check_fixed_name(name: &str) -> Result<(), String> {
    let lower = name.to_ascii_lowercase();
    if HeaderName::from_bytes(lower.as_bytes()).is_err() {
        return Err(format!("`{name}` is not a valid HTTP header name"));
    }
    if TOOL_KEY_HEADERS.contains(&lower.as_str())
        || matches!(
            lower.as_str(),
            "cookie" | "proxy-authorization" | "host" | "content-length"
        )
    {
        return Err(format!(
            "`{name}` carries credentials or framing, not a fixed header; keys go in with `anyray login`"
        ));
    }
    Ok(())
}

/// A fixed header's value: sendable, and not a secret.
pub fn check_fixed_value(value: &str) -> Result<(), String> {
    if HeaderValue::from_str(value).is_err() {
        return Err("the value has characters an HTTP header cannot carry".into());
    }
    if looks_secret(value) {
        return Err(
            "the value looks like a secret (a key, a Bearer token or an api_key): fixed headers \
             are written into tools' config files in plain text; store keys with `anyray login`"
                .into(),
        );
    }
    Ok(())
}

/// A value that is, or embeds, an API key.
fn looks_secret(value: &str) -> bool {
    let v = value.trim();
    let lower = v.to_ascii_lowercase();
    lower.starts_with("bearer ")
        || lower.starts_with("basic ")
        || ["sk-", "sk_", "pk-", "rk-", "xai-", "aiza", "ghp_", "gsk_"]
            .iter()
            .any(|p| lower.starts_with(p))
        || lower.contains("api_key")
        || lower.contains("apikey")
        || lower.contains("\"sk-")
}

/// What a no-token probe found about the scheme: accepted as a Bearer, in the identity
/// header, without any key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemeProbe {
    pub bearer: bool,
    pub identity: bool,
    pub none: bool,
}

impl SchemeProbe {
    /// The scheme these answers mean, when they tell.
    pub fn verdict(self) -> Option<Scheme> {
        match (self.bearer, self.identity, self.none) {
            // No key needed at all, or the identity header works: today's contract.
            (_, true, _) | (_, _, true) => Some(Scheme::Header),
            (true, false, false) => Some(Scheme::Key),
            (false, false, false) => None,
        }
    }
}

/// Finds the scheme with `GET {models_url}` three ways (no key, the key as a Bearer,
/// the key in the identity header); none spends a token. Only a 2xx counts as
/// "accepted" (LiteLLM without a database answers a wrong key with 400).
pub async fn probe_scheme(
    client: &reqwest::Client,
    models_url: &str,
    identity_header: &str,
    key: &Secret,
    limit: Duration,
) -> Result<SchemeProbe, String> {
    let ask = |header: Option<(&str, String)>| {
        let mut request = client.get(models_url).timeout(limit);
        if let Some((name, value)) = header {
            request = request.header(name, value);
        }
        async move {
            match request.send().await {
                Ok(response) => Ok(response.status().is_success()),
                Err(err) => {
                    // The root cause says what went wrong; reqwest's own text repeats the URL.
                    let mut root: &dyn std::error::Error = &err;
                    while let Some(inner) = root.source() {
                        root = inner;
                    }
                    Err(format!("{models_url}: {root}"))
                }
            }
        }
    };
    let (none, bearer, identity) = tokio::join!(
        ask(None),
        ask(Some(("authorization", format!("Bearer {}", key.expose())))),
        ask(Some((identity_header, key.expose().to_string()))),
    );
    Ok(SchemeProbe {
        none: none?,
        bearer: bearer?,
        identity: identity?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(headers: &[(HeaderName, HeaderValue)]) -> Vec<(String, String)> {
        headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_string()))
            .collect()
    }

    #[test]
    fn the_key_goes_where_each_sdk_sends_it() {
        let c = Credential::new(Scheme::Key, "x-anyray-key", Secret::new("sk-gw")).unwrap();
        assert_eq!(
            names(&c.headers_for(Some(Provider::Openai))),
            [("authorization".into(), "Bearer sk-gw".into())]
        );
        assert_eq!(
            names(&c.headers_for(Some(Provider::Anthropic))),
            [
                ("x-api-key".into(), "sk-gw".into()),
                ("authorization".into(), "Bearer sk-gw".into())
            ]
        );
        assert_eq!(
            names(&c.headers_for(Some(Provider::Gemini))),
            [("x-goog-api-key".into(), "sk-gw".into())]
        );
        assert!(c.headers_for(None).iter().all(|(_, v)| v.is_sensitive()));
        assert!(c.replaces().contains(&"x-api-key"));
    }

    #[test]
    fn the_identity_header_scheme_and_authorization() {
        let c = Credential::new(Scheme::Header, "X-Anyray-Key", Secret::new("k")).unwrap();
        assert_eq!(
            names(&c.headers_for(Some(Provider::Openai))),
            [("x-anyray-key".into(), "k".into())]
        );
        assert!(c.replaces().is_empty());
        // Finding 4 of issue 15: `Authorization` needs the `Bearer ` prefix.
        let c = Credential::new(Scheme::Header, "authorization", Secret::new("k")).unwrap();
        assert_eq!(
            names(&c.headers_for(None)),
            [("authorization".into(), "Bearer k".into())]
        );
        assert!(!format!("{c:?}").contains("\"k\""));
        assert!(Credential::new(Scheme::Key, "bad header", Secret::new("k")).is_err());
        assert!(Credential::new(Scheme::Key, "x-k", Secret::new("a\nb")).is_err());
    }

    #[test]
    fn a_provider_gets_only_its_own_key_header() {
        let key = Secret::new("sk-ant-own");
        assert_eq!(
            names(&sdk_key_headers(
                Some(Provider::Anthropic),
                &key,
                Destination::Provider
            )),
            [("x-api-key".into(), "sk-ant-own".into())]
        );
    }

    #[test]
    fn fixed_headers_refuse_secrets_and_credential_names() {
        assert!(check_fixed_header("x-team", "blue").is_ok());
        assert!(check_fixed_header("x-portkey-provider", "openai").is_ok());
        assert!(check_fixed_header("Authorization", "x").is_err());
        assert!(check_fixed_header("x-api-key", "x").is_err());
        assert!(check_fixed_header("x-team", "Bearer abc").is_err());
        assert!(check_fixed_header("x-team", "sk-live-123").is_err());
        assert!(
            check_fixed_header("x-portkey-config", r#"{"provider":"openai","api_key":"x"}"#)
                .is_err()
        );
        assert!(check_fixed_header("bad name", "v").is_err());
        assert!(check_fixed_header("x-team", "a\nb").is_err());
    }

    #[test]
    fn route_headers_win_over_global_ones() {
        let mut h = FixedHeaders::default();
        h.global.insert("x-team".into(), "blue".into());
        h.global.insert("X-Route".into(), "any".into());
        h.routes.insert(
            Provider::Openai,
            BTreeMap::from([("x-route".into(), "openai".into())]),
        );
        let openai = h.for_route(Some(Provider::Openai));
        assert_eq!(openai["x-route"], "openai");
        assert_eq!(openai["x-team"], "blue");
        assert_eq!(h.for_route(None)["x-route"], "any");
        assert!(h.route_needs_headers(Provider::Openai));
        assert!(!h.route_needs_headers(Provider::Anthropic));
        assert_eq!(
            FixedHeaders::lines(&openai),
            "x-route: openai\nx-team: blue"
        );
    }

    #[test]
    fn scheme_verdicts() {
        let v = |bearer, identity, none| {
            SchemeProbe {
                bearer,
                identity,
                none,
            }
            .verdict()
        };
        assert_eq!(v(true, false, false), Some(Scheme::Key));
        assert_eq!(v(false, true, false), Some(Scheme::Header));
        assert_eq!(v(true, true, true), Some(Scheme::Header));
        assert_eq!(v(false, false, false), None);
    }
}
