//! Upstream URIs, built from parts: the scheme and authority always come from the
//! configured gateway (or fail-open target), only the path and query from the request.
//! Nothing a client sends can change where a request goes (no string concatenation that
//! a target like `*` or `@host` could bend).

use std::sync::Arc;

use bytes::Bytes;
use hyper::Uri;
use hyper::http::uri::{Authority, PathAndQuery, Scheme};

use super::config::ProviderTargets;
use crate::error::UserError;
use crate::gateway_url::GatewayUrl;

/// Where requests for one upstream go.
#[derive(Debug, Clone)]
pub struct Base {
    scheme: Scheme,
    authority: Authority,
    /// The URL's path without its trailing slash: empty or `/prefix`.
    prefix: Box<str>,
}

impl Base {
    pub fn new(url: &GatewayUrl) -> Result<Self, UserError> {
        let parsed = url.url();
        let scheme = if url.is_https() {
            Scheme::HTTPS
        } else {
            Scheme::HTTP
        };
        let host = parsed.host_str().unwrap_or_default();
        let authority = match parsed.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        };
        let authority = Authority::from_maybe_shared(Bytes::from(authority)).map_err(|e| {
            UserError::usage(format!("cannot use {url} as an upstream: {e}"))
                .with_hint("write it as https://host[:port][/prefix]")
        })?;
        Ok(Self {
            scheme,
            authority,
            prefix: parsed.path().trim_end_matches('/').into(),
        })
    }

    /// The URI for an origin-form request target: its path appended to the base's path,
    /// its query kept. Without a base path the request's own path-and-query is reused
    /// as it is (a reference count, no copy).
    pub fn uri(&self, target: &PathAndQuery) -> Result<Uri, hyper::http::Error> {
        if self.prefix.is_empty() {
            return self.with(target.clone());
        }
        self.uri_for(target.path(), target.query())
    }

    /// The URI for `path` (origin-form, or empty for the base itself) and `query`.
    pub(crate) fn uri_for(
        &self,
        path: &str,
        query: Option<&str>,
    ) -> Result<Uri, hyper::http::Error> {
        let path = if path.is_empty() { "/" } else { path };
        let mut joined = String::with_capacity(
            self.prefix.len() + path.len() + query.map_or(0, |q| q.len() + 1),
        );
        joined.push_str(&self.prefix);
        joined.push_str(path);
        if let Some(q) = query {
            joined.push('?');
            joined.push_str(q);
        }
        self.with(PathAndQuery::from_maybe_shared(Bytes::from(joined))?)
    }

    pub fn authority(&self) -> &Authority {
        &self.authority
    }

    /// The URL's path without its trailing slash: empty or `/prefix`.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    fn with(&self, path_and_query: PathAndQuery) -> Result<Uri, hyper::http::Error> {
        Uri::builder()
            .scheme(self.scheme.clone())
            .authority(self.authority.clone())
            .path_and_query(path_and_query)
            .build()
    }
}

/// A provider's public API as a fail-open target.
#[derive(Debug, Clone)]
pub struct FailOpenTarget {
    pub base: Base,
    /// `scheme://host[:port]`, as the log names it (never a path or query).
    pub origin: Arc<str>,
}

impl FailOpenTarget {
    fn new(url: &GatewayUrl) -> Result<Self, UserError> {
        Ok(Self {
            base: Base::new(url)?,
            origin: url.url().origin().ascii_serialization().into(),
        })
    }
}

/// The fail-open targets, one per provider that has a public API.
#[derive(Debug, Clone)]
pub struct FailOpenTargets {
    pub openai: FailOpenTarget,
    pub anthropic: FailOpenTarget,
    pub gemini: FailOpenTarget,
}

impl FailOpenTargets {
    pub fn new(providers: &ProviderTargets) -> Result<Self, UserError> {
        Ok(Self {
            openai: FailOpenTarget::new(&providers.openai)?,
            anthropic: FailOpenTarget::new(&providers.anthropic)?,
            gemini: FailOpenTarget::new(&providers.gemini)?,
        })
    }
}

/// Where a plain-`http://` gateway's legs connect, and what its requests carry in `Host`.
#[derive(Debug, Clone)]
pub(super) struct LegTarget {
    /// `http://authority/`, what the dialer connects to.
    pub origin: Uri,
    /// The authority of the gateway's URL, as the pooled client sends it (no default port).
    pub host: Box<[u8]>,
}

impl LegTarget {
    pub(super) fn new(authority: &Authority) -> Result<Self, hyper::http::Error> {
        let origin = Uri::builder()
            .scheme(Scheme::HTTP)
            .authority(authority.clone())
            .path_and_query("/")
            .build()?;
        Ok(Self {
            origin,
            host: authority.as_str().as_bytes().into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(url: &str) -> Base {
        Base::new(&GatewayUrl::parse(url).unwrap()).unwrap()
    }

    fn target(s: &str) -> PathAndQuery {
        s.parse().unwrap()
    }

    #[test]
    fn the_gateway_decides_scheme_and_authority_whatever_the_path() {
        let gw = base("http://127.0.0.1:18080");
        for (request, expected) in [
            (
                "/v1/models?limit=5",
                "http://127.0.0.1:18080/v1/models?limit=5",
            ),
            ("//evil.example/x", "http://127.0.0.1:18080//evil.example/x"),
            ("/@evil.example/x", "http://127.0.0.1:18080/@evil.example/x"),
            ("/:80/x", "http://127.0.0.1:18080/:80/x"),
            ("/", "http://127.0.0.1:18080/"),
        ] {
            let uri = gw.uri(&target(request)).unwrap();
            assert_eq!(uri.to_string(), expected, "{request}");
            assert_eq!(uri.authority().unwrap().as_str(), "127.0.0.1:18080");
        }
        let tls = base("https://gw.example:8787");
        let uri = tls.uri(&target("/v1/x")).unwrap();
        assert_eq!(uri.to_string(), "https://gw.example:8787/v1/x");
        assert_eq!(uri.port_u16(), Some(8787));
        // The default port stays implicit, as the Host header the gateway sees.
        let uri = base("https://gw.example").uri(&target("/v1/x")).unwrap();
        assert_eq!(uri.authority().unwrap().as_str(), "gw.example");
        let uri = base("http://[::1]:9000").uri(&target("/x")).unwrap();
        assert_eq!(uri.authority().unwrap().as_str(), "[::1]:9000");
    }

    #[test]
    fn a_base_path_is_joined_at_a_segment_boundary() {
        for url in ["https://gw.example/llm", "https://gw.example/llm/"] {
            let gw = base(url);
            assert_eq!(
                gw.uri(&target("/v1/models?limit=5")).unwrap().to_string(),
                "https://gw.example/llm/v1/models?limit=5"
            );
            assert_eq!(
                gw.uri(&target("//x")).unwrap().to_string(),
                "https://gw.example/llm//x"
            );
        }
        assert_eq!(
            base("https://g.example")
                .uri_for("", Some("key=1"))
                .unwrap()
                .to_string(),
            "https://g.example/?key=1"
        );
    }

    #[test]
    fn fail_open_origins_hide_path_and_query() {
        let t =
            FailOpenTarget::new(&GatewayUrl::parse("https://api.example/base").unwrap()).unwrap();
        assert_eq!(&*t.origin, "https://api.example");
    }
}
