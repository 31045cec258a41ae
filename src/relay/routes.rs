//! Which provider API a request path belongs to: it decides the fail-open target and
//! the shape of the relay's own error bodies, so each SDK can print them.
//!
//! The table follows the gateway's default routes (docs/gateway-contract.md): OpenAI-style
//! under `/v1`, Anthropic's `/v1/messages*` at the root, Gemini under `/gemini` (stripped
//! when failing open: the SDK appends `/v1beta/...` to the host root), Bedrock, Vertex and
//! Azure under their own prefixes (no public fail-open target: their endpoints are per
//! tenant). The providers are the gateway's ([`Provider`]); the relay adds two routes of
//! its own.

use bytes::Bytes;
use hyper::HeaderMap;
use serde_json::json;

use super::target::{FailOpenTarget, FailOpenTargets};
use crate::gateway_url::Provider;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Route {
    /// One of the gateway's provider APIs.
    Provider(Provider),
    /// Anything else (discovery, /healthz, unknown paths): forwarded, never failed open.
    Other,
    /// The relay's own endpoints under `/_anyray/`.
    Relay,
}

/// The relay's own endpoints live under this prefix so they never shadow a provider path.
pub(super) const OWN_PREFIX: &str = "/_anyray/";

impl Route {
    /// Every route: the providers in their order, then `Other` and `Relay`.
    pub const ALL: [Route; Provider::ALL.len() + 2] = {
        let mut all = [Route::Other; Provider::ALL.len() + 2];
        let mut i = 0;
        while i < Provider::ALL.len() {
            all[i] = Route::Provider(Provider::ALL[i]);
            i += 1;
        }
        all[i + 1] = Route::Relay;
        all
    };

    /// Classifies a request by its path; Anthropic's SDKs are also recognised by their
    /// `anthropic-version` header on paths both APIs share (e.g. `/v1/models`).
    pub fn classify(path: &str, headers: &HeaderMap) -> Route {
        Self::classify_path(path, headers.contains_key("anthropic-version"))
    }

    /// [`classify`](Self::classify) for a request known to carry an `anthropic-version`
    /// header or not.
    pub fn classify_path(path: &str, anthropic_version: bool) -> Route {
        if path.starts_with(OWN_PREFIX) {
            return Route::Relay;
        }
        if under(path, "/v1/messages") {
            return Route::Provider(Provider::Anthropic);
        }
        if under(path, "/v1") {
            return if anthropic_version {
                Route::Provider(Provider::Anthropic)
            } else {
                Route::Provider(Provider::Openai)
            };
        }
        // The providers with a prefix of their own, at their default route.
        [
            Provider::Gemini,
            Provider::Bedrock,
            Provider::Vertex,
            Provider::Azure,
        ]
        .into_iter()
        .find(|p| under(path, p.default_route()))
        .map_or(Route::Other, Route::Provider)
    }

    pub fn key(self) -> &'static str {
        match self {
            Route::Provider(provider) => provider.key(),
            Route::Other => "other",
            Route::Relay => "relay",
        }
    }

    /// The route's place in [`Route::ALL`].
    pub fn index(self) -> usize {
        match self {
            Route::Provider(provider) => provider as usize,
            Route::Other => Provider::ALL.len(),
            Route::Relay => Provider::ALL.len() + 1,
        }
    }

    /// The provider's public API for this route when failing open, and the request's
    /// path there; `None` for routes that have no public target.
    pub fn fail_open<'a>(
        self,
        targets: &'a FailOpenTargets,
        path: &'a str,
    ) -> Option<(&'a FailOpenTarget, &'a str)> {
        match self {
            Route::Provider(Provider::Openai) => Some((&targets.openai, path)),
            Route::Provider(Provider::Anthropic) => Some((&targets.anthropic, path)),
            Route::Provider(Provider::Gemini) => Some((
                &targets.gemini,
                path.strip_prefix("/gemini").unwrap_or(path),
            )),
            _ => None,
        }
    }

    /// The path prefix this route is known by (`/v1`, `/gemini`, …; `` for `Other`).
    pub fn prefix(self) -> &'static str {
        match self {
            // Anthropic's default route is the root, but its API lives under `/v1`.
            Route::Provider(Provider::Openai | Provider::Anthropic) => "/v1",
            Route::Provider(provider) => provider.default_route(),
            Route::Other => "",
            Route::Relay => "/_anyray",
        }
    }

    /// A JSON error body in the shape this route's SDK parses, so it prints `message`.
    pub(crate) fn error_body(self, status: u16, kind: &str, message: &str) -> Bytes {
        let body = match self {
            Route::Provider(Provider::Anthropic) => json!({
                "type": "error",
                "error": {"type": anthropic_type(status), "message": message},
            }),
            Route::Provider(Provider::Gemini | Provider::Vertex) => json!({
                "error": {"code": status, "message": message, "status": google_status(status)},
            }),
            _ => json!({
                "error": {"message": message, "type": kind, "param": null, "code": kind},
            }),
        };
        Bytes::from(body.to_string())
    }
}

/// `path` is `prefix` or below it (segment boundary: `/v10` is not under `/v1`).
fn under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

fn anthropic_type(status: u16) -> &'static str {
    match status {
        400 => "invalid_request_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        _ => "api_error",
    }
}

fn google_status(status: u16) -> &'static str {
    match status {
        400 => "INVALID_ARGUMENT",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        413 => "INVALID_ARGUMENT",
        504 => "DEADLINE_EXCEEDED",
        _ => "UNAVAILABLE",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway_url::GatewayUrl;

    fn classify(path: &str) -> Route {
        Route::classify(path, &HeaderMap::new())
    }

    #[test]
    fn every_route_has_its_own_place_and_name() {
        for (i, route) in Route::ALL.into_iter().enumerate() {
            assert_eq!(route.index(), i, "{route:?}");
        }
        let mut keys: Vec<&str> = Route::ALL.iter().map(|r| r.key()).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), Route::ALL.len());
        assert!(
            Provider::ALL
                .iter()
                .all(|&p| Route::ALL.contains(&Route::Provider(p)))
        );
    }

    #[test]
    fn classifies_provider_paths() {
        assert_eq!(
            classify("/v1/messages"),
            Route::Provider(Provider::Anthropic)
        );
        assert_eq!(
            classify("/v1/messages/count_tokens"),
            Route::Provider(Provider::Anthropic)
        );
        assert_eq!(
            classify("/v1/chat/completions"),
            Route::Provider(Provider::Openai)
        );
        assert_eq!(classify("/v1/responses"), Route::Provider(Provider::Openai));
        assert_eq!(classify("/v1/models"), Route::Provider(Provider::Openai));
        assert_eq!(classify("/v10/x"), Route::Other);
        assert_eq!(classify("/v1/messagesx"), Route::Provider(Provider::Openai));
        assert_eq!(
            classify("/gemini/v1beta/models"),
            Route::Provider(Provider::Gemini)
        );
        assert_eq!(
            classify("/bedrock/model/x/invoke"),
            Route::Provider(Provider::Bedrock)
        );
        assert_eq!(classify("/healthz"), Route::Other);
        assert_eq!(classify("/_anyray/health"), Route::Relay);
        let mut anthropic = HeaderMap::new();
        anthropic.insert("anthropic-version", "2023-06-01".parse().unwrap());
        assert_eq!(
            Route::classify("/v1/models", &anthropic),
            Route::Provider(Provider::Anthropic)
        );
    }

    #[test]
    fn fail_open_targets_keep_path_and_query() {
        let targets = FailOpenTargets::new(&crate::relay::ProviderTargets {
            openai: GatewayUrl::parse("https://api.openai.com").unwrap(),
            anthropic: GatewayUrl::parse("https://api.anthropic.com").unwrap(),
            gemini: GatewayUrl::parse("https://generativelanguage.googleapis.com").unwrap(),
        })
        .unwrap();
        let url = |route: Route, path: &str, query: Option<&str>| {
            route
                .fail_open(&targets, path)
                .map(|(target, path)| target.base.uri_for(path, query).unwrap().to_string())
        };
        assert_eq!(
            url(
                Route::Provider(Provider::Anthropic),
                "/v1/messages",
                Some("beta=true")
            )
            .as_deref(),
            Some("https://api.anthropic.com/v1/messages?beta=true")
        );
        assert_eq!(
            url(
                Route::Provider(Provider::Gemini),
                "/gemini/v1beta/models/x:generateContent",
                None
            )
            .as_deref(),
            Some("https://generativelanguage.googleapis.com/v1beta/models/x:generateContent")
        );
        assert_eq!(
            url(Route::Provider(Provider::Gemini), "/gemini", Some("key=1")).as_deref(),
            Some("https://generativelanguage.googleapis.com/?key=1")
        );
        assert_eq!(
            url(Route::Provider(Provider::Bedrock), "/bedrock/x", None),
            None
        );
        assert_eq!(url(Route::Other, "/healthz", None), None);
    }

    #[test]
    fn error_bodies_match_each_sdk() {
        let v: serde_json::Value =
            serde_json::from_slice(&Route::Provider(Provider::Anthropic).error_body(502, "x", "m"))
                .unwrap();
        assert_eq!(v["type"], "error");
        assert_eq!(v["error"]["type"], "api_error");
        assert_eq!(v["error"]["message"], "m");
        let v: serde_json::Value =
            serde_json::from_slice(&Route::Provider(Provider::Openai).error_body(502, "kind", "m"))
                .unwrap();
        assert_eq!(v["error"]["type"], "kind");
        assert_eq!(v["error"]["message"], "m");
        let v: serde_json::Value =
            serde_json::from_slice(&Route::Provider(Provider::Gemini).error_body(502, "kind", "m"))
                .unwrap();
        assert_eq!(v["error"]["status"], "UNAVAILABLE");
    }
}
