//! The gateway URL type and the provider routes derived from it.

use std::fmt;
use std::net::IpAddr;

use serde::Serialize;
use url::Url;

use crate::error::UserError;

/// A validated gateway base URL: `http(s)://host[:port][/prefix]`, no trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayUrl {
    url: Url,
    base: String,
}

impl GatewayUrl {
    /// Parses and normalises a gateway URL. Errors say what is wrong and how to write it.
    pub fn parse(input: &str) -> Result<Self, UserError> {
        let trimmed = input.trim();
        let example =
            "write it as https://host[:port][/prefix], e.g. https://anyray.corp.example:8787";
        let url = Url::parse(trimmed).map_err(|e| {
            UserError::usage(format!("invalid gateway URL `{trimmed}`: {e}")).with_hint(example)
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(UserError::usage(format!(
                "gateway URL `{trimmed}` must start with https:// or http://"
            ))
            .with_hint(example));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(
                UserError::usage(format!("gateway URL `{trimmed}` has no host")).with_hint(example),
            );
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(UserError::usage(
                "the gateway URL must not contain a user name or password",
            )
            .with_hint("remove `user:pass@`; store your key with `anyray login` instead"));
        }
        if url.query().is_some() {
            return Err(UserError::usage(format!(
                "gateway URL `{trimmed}` must not have a query string (`?…`)"
            ))
            .with_hint(example));
        }
        if url.fragment().is_some() {
            return Err(UserError::usage(format!(
                "gateway URL `{trimmed}` must not have a fragment (`#…`)"
            ))
            .with_hint(example));
        }
        let path = url.path().trim_end_matches('/');
        let origin = url.origin().ascii_serialization();
        let base = format!("{origin}{path}");
        Ok(Self { url, base })
    }

    /// The base URL without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.base
    }

    pub fn url(&self) -> &Url {
        &self.url
    }

    pub(crate) fn is_https(&self) -> bool {
        self.url.scheme() == "https"
    }

    pub fn host(&self) -> &str {
        self.url.host_str().unwrap_or_default()
    }

    pub fn port(&self) -> u16 {
        self.url.port_or_known_default().unwrap_or(443)
    }

    /// Whether the host is a loopback address or `localhost`.
    pub fn is_loopback(&self) -> bool {
        match self.url.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(d)) => is_loopback_host(d),
            None => false,
        }
    }

    /// A warning for plain http:// to a non-loopback host (keys and prompts in clear text).
    pub fn warning(&self) -> Option<String> {
        (!self.is_https() && !self.is_loopback()).then(|| {
            format!(
                "the gateway {} uses plain http:// to a remote host; prompts and keys travel unencrypted",
                self.base
            )
        })
    }

    /// `{gw}` joined with a route path such as `/v1` (`/` means the base itself).
    pub fn join(&self, route: &str) -> String {
        let route = route.trim_end_matches('/');
        if route.is_empty() {
            self.base.clone()
        } else if route.starts_with('/') {
            format!("{}{route}", self.base)
        } else {
            format!("{}/{route}", self.base)
        }
    }
}

/// For clap: `--gateway` and `--upstream` are parsed once, where they are given (the
/// usage error shows the hint: see `usage_error` in lib.rs).
impl std::str::FromStr for GatewayUrl {
    type Err = UserError;

    fn from_str(input: &str) -> Result<Self, UserError> {
        Self::parse(input)
    }
}

impl fmt::Display for GatewayUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.base)
    }
}

/// The providers a gateway fronts, in a stable order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Openai,
    Anthropic,
    Gemini,
    Bedrock,
    Vertex,
    Azure,
}

impl Provider {
    pub const ALL: [Provider; 6] = [
        Provider::Openai,
        Provider::Anthropic,
        Provider::Gemini,
        Provider::Bedrock,
        Provider::Vertex,
        Provider::Azure,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Provider::Openai => "openai",
            Provider::Anthropic => "anthropic",
            Provider::Gemini => "gemini",
            Provider::Bedrock => "bedrock",
            Provider::Vertex => "vertex",
            Provider::Azure => "azure",
        }
    }

    pub(crate) fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.key() == key)
    }

    /// The route under the gateway when discovery does not say otherwise (docs/gateway-contract.md).
    pub(crate) fn default_route(self) -> &'static str {
        match self {
            Provider::Openai => "/v1",
            Provider::Anthropic => "/",
            Provider::Gemini => "/gemini",
            Provider::Bedrock => "/bedrock",
            Provider::Vertex => "/vertex",
            Provider::Azure => "/azure",
        }
    }
}

/// Full provider base URLs for one gateway: only the ones the gateway serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Routes(pub Vec<(Provider, String)>);

impl Routes {
    /// The default routes of every provider (docs/gateway-contract.md).
    pub fn defaults(gw: &GatewayUrl) -> Self {
        Self(
            Provider::ALL
                .into_iter()
                .map(|p| (p, gw.join(p.default_route())))
                .collect(),
        )
    }

    /// Routes as discovery lists them: a relative path is joined to the gateway,
    /// an absolute URL is used as it is. Unknown provider keys are ignored.
    pub(crate) fn from_discovery<'a>(
        gw: &GatewayUrl,
        routes: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Self {
        let mut list: Vec<(Provider, String)> = routes
            .into_iter()
            .filter_map(|(key, route)| {
                let provider = Provider::from_key(key)?;
                let url = if route.starts_with("http://") || route.starts_with("https://") {
                    route.trim_end_matches('/').to_string()
                } else {
                    gw.join(route)
                };
                Some((provider, url))
            })
            .collect();
        list.sort();
        list.dedup_by_key(|(p, _)| *p);
        Self(list)
    }

    pub fn get(&self, provider: Provider) -> Option<&str> {
        self.0
            .iter()
            .find(|(p, _)| *p == provider)
            .map(|(_, u)| u.as_str())
    }
}

/// Whether a host name or IP literal (brackets allowed) is this machine's loopback.
pub(crate) fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_trailing_slashes() {
        for input in [
            "https://gw.example",
            "https://gw.example/",
            "https://gw.example//",
        ] {
            assert_eq!(
                GatewayUrl::parse(input).unwrap().as_str(),
                "https://gw.example"
            );
        }
        let gw = GatewayUrl::parse("https://gw.example:8787/llm/").unwrap();
        assert_eq!(gw.as_str(), "https://gw.example:8787/llm");
        assert_eq!(gw.port(), 8787);
    }

    #[test]
    fn rejects_query_fragment_userinfo_and_other_schemes() {
        for (input, needle) in [
            ("https://gw.example/?a=1", "query"),
            ("https://gw.example/#x", "fragment"),
            ("https://user:pw@gw.example", "password"),
            ("ftp://gw.example", "https://"),
            ("gw.example:8787", "https://"),
            ("not a url", "invalid"),
        ] {
            let err = GatewayUrl::parse(input).unwrap_err();
            assert!(err.message.contains(needle), "{input}: {}", err.message);
            assert!(err.hint.is_some(), "{input} has no hint");
        }
    }

    #[test]
    fn warns_only_for_remote_plain_http() {
        assert!(
            GatewayUrl::parse("http://127.0.0.1:8787")
                .unwrap()
                .warning()
                .is_none()
        );
        assert!(
            GatewayUrl::parse("http://localhost:8787")
                .unwrap()
                .warning()
                .is_none()
        );
        assert!(
            GatewayUrl::parse("http://[::1]:8787")
                .unwrap()
                .warning()
                .is_none()
        );
        assert!(
            GatewayUrl::parse("https://gw.example")
                .unwrap()
                .warning()
                .is_none()
        );
        assert!(
            GatewayUrl::parse("http://gw.example")
                .unwrap()
                .warning()
                .is_some()
        );
    }

    #[test]
    fn default_routes_follow_the_design() {
        let gw = GatewayUrl::parse("https://gw.example:8787/").unwrap();
        let routes = Routes::defaults(&gw);
        assert_eq!(
            routes.get(Provider::Openai),
            Some("https://gw.example:8787/v1")
        );
        assert_eq!(
            routes.get(Provider::Anthropic),
            Some("https://gw.example:8787")
        );
        assert_eq!(
            routes.get(Provider::Gemini),
            Some("https://gw.example:8787/gemini")
        );
        assert_eq!(
            routes.get(Provider::Bedrock),
            Some("https://gw.example:8787/bedrock")
        );
        assert_eq!(
            routes.get(Provider::Vertex),
            Some("https://gw.example:8787/vertex")
        );
        assert_eq!(
            routes.get(Provider::Azure),
            Some("https://gw.example:8787/azure")
        );
    }

    #[test]
    fn discovery_routes_override_and_limit() {
        let gw = GatewayUrl::parse("https://gw.example/p").unwrap();
        let routes = Routes::from_discovery(
            &gw,
            [
                ("anthropic", "/anthropic"),
                ("openai", "https://oa.example/v1/"),
                ("zzz", "/z"),
            ],
        );
        assert_eq!(routes.get(Provider::Openai), Some("https://oa.example/v1"));
        assert_eq!(
            routes.get(Provider::Anthropic),
            Some("https://gw.example/p/anthropic")
        );
        assert_eq!(routes.get(Provider::Gemini), None);
    }
}
