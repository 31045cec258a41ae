//! The headers the relay adds toward the org gateway and takes off toward a provider,
//! computed once per route when the relay starts (docs/gateway-contract.md,
//! "Credentials", "Headers" and "Fail-open").

use hyper::HeaderMap;
use hyper::header::{HeaderName, HeaderValue};

use std::collections::BTreeMap;

use super::config::RelayConfig;
use super::routes::Route;
use crate::auth::{self, Credential, Destination, FixedHeaders, Scheme};
use crate::discovery::DEFAULT_IDENTITY_HEADER;
use crate::gateway_url::Provider;
use crate::secrets::Secret;

type Headers = Vec<(HeaderName, HeaderValue)>;

pub(super) struct Outgoing {
    /// Per route ([`Route::index`]): the fixed headers, then the credential.
    to_gateway: Vec<Headers>,
    /// Removed before `to_gateway`'s are added: where the client may have put a
    /// placeholder for the key the relay supplies.
    replaced: Vec<HeaderName>,
    /// Never sent to a provider: the identity header, the fixed headers, and in the
    /// `key` scheme every header an SDK sends its (gateway) key in.
    stripped: Vec<HeaderName>,
    /// `relay.strip_header_prefixes`, lower case.
    stripped_prefixes: Vec<String>,
    /// Per route: the user's own provider key for failing open (`key` scheme only).
    provider_key: Vec<Option<Headers>>,
    scheme: Scheme,
}

fn route_provider(route: Route) -> Option<Provider> {
    match route {
        Route::Provider(provider) => Some(provider),
        _ => None,
    }
}

/// What [`Outgoing`] is computed from: the relay configuration's credential part.
pub(super) struct Parts<'a> {
    pub identity: Option<&'a Credential>,
    pub scheme: Scheme,
    pub headers: &'a FixedHeaders,
    pub strip_prefixes: &'a [String],
    pub provider_keys: &'a BTreeMap<Provider, Secret>,
}

impl<'a> From<&'a RelayConfig> for Parts<'a> {
    fn from(config: &'a RelayConfig) -> Self {
        Parts {
            identity: config.identity.as_ref(),
            scheme: config.scheme,
            headers: &config.headers,
            strip_prefixes: &config.strip_prefixes,
            provider_keys: &config.provider_keys,
        }
    }
}

impl Outgoing {
    pub(super) fn new(config: Parts<'_>) -> Self {
        let header = |(name, value): (String, String)| {
            Some((
                HeaderName::from_bytes(name.as_bytes()).ok()?,
                HeaderValue::from_str(&value).ok()?,
            ))
        };
        let to_gateway = Route::ALL
            .iter()
            .map(|&route| {
                let provider = route_provider(route);
                let mut headers: Headers = config
                    .headers
                    .for_route(provider)
                    .into_iter()
                    .filter_map(header)
                    .collect();
                if let Some(credential) = config.identity {
                    headers.extend(credential.headers_for(provider));
                }
                headers
            })
            .collect();
        let replaced = config
            .identity
            .iter()
            .flat_map(|c| c.replaces())
            .map(|name| HeaderName::from_static(name))
            .collect();
        let mut stripped: Vec<HeaderName> = vec![HeaderName::from_static(DEFAULT_IDENTITY_HEADER)];
        stripped.extend(config.identity.map(|c| c.header.clone()));
        stripped.extend(
            config
                .headers
                .names()
                .filter_map(|n| HeaderName::from_bytes(n.to_ascii_lowercase().as_bytes()).ok()),
        );
        if config.scheme == Scheme::Key {
            stripped.extend(auth::TOOL_KEY_HEADERS.map(HeaderName::from_static));
        }
        let provider_key = Route::ALL
            .iter()
            .map(|&route| {
                let provider = route_provider(route)?;
                let key = config.provider_keys.get(&provider)?;
                Some(auth::sdk_key_headers(
                    Some(provider),
                    key,
                    Destination::Provider,
                ))
            })
            .collect();
        Self {
            to_gateway,
            replaced,
            stripped,
            stripped_prefixes: config.strip_prefixes.to_vec(),
            provider_key,
            scheme: config.scheme,
        }
    }

    /// Toward an org gateway: the route's fixed headers and the credential, each
    /// replacing what the client sent under that name.
    pub(super) fn to_gateway(&self, route: Route, headers: &mut HeaderMap) {
        for name in &self.replaced {
            headers.remove(name);
        }
        for (name, value) in &self.to_gateway[route.index()] {
            headers.insert(name.clone(), value.clone());
        }
    }

    /// The fast path's form of [`Self::to_gateway`]: whether a header the client sent
    /// under `name` is dropped (a placeholder for the key, or a name the relay sets) ...
    pub(super) fn replaces(&self, route: Route, name: &str) -> bool {
        self.replaced
            .iter()
            .chain(self.to_gateway[route.index()].iter().map(|(n, _)| n))
            .any(|n| n.as_str().eq_ignore_ascii_case(name))
    }

    /// ... and the headers it adds in their place.
    pub(super) fn gateway_headers(&self, route: Route) -> &[(HeaderName, HeaderValue)] {
        &self.to_gateway[route.index()]
    }

    /// Toward a provider's public API: nothing meant for a gateway, and in the `key`
    /// scheme the user's own provider key. `Err` says why the request cannot fail open.
    pub(super) fn to_provider(&self, route: Route, headers: &mut HeaderMap) -> Result<(), String> {
        for name in &self.stripped {
            headers.remove(name);
        }
        if !self.stripped_prefixes.is_empty() {
            let prefixed: Vec<HeaderName> = headers
                .keys()
                .filter(|name| {
                    self.stripped_prefixes
                        .iter()
                        .any(|p| name.as_str().starts_with(p.as_str()))
                })
                .cloned()
                .collect();
            for name in prefixed {
                headers.remove(name);
            }
        }
        if self.scheme == Scheme::Header {
            return Ok(()); // the tools' provider keys are the user's own
        }
        match &self.provider_key[route.index()] {
            Some(key) => {
                for (name, value) in key {
                    headers.insert(name.clone(), value.clone());
                }
                Ok(())
            }
            None => {
                let provider = route.key();
                Err(format!(
                    "Failing open needs your own {provider} key: the key your tools send is the \
                     gateway's, and it never goes to a provider. Store one, used only for \
                     failing open, with `anyray login --provider {provider}`, then restart the relay."
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Setup {
        identity: Credential,
        scheme: Scheme,
        headers: FixedHeaders,
        prefixes: Vec<String>,
        keys: BTreeMap<Provider, Secret>,
    }

    impl Setup {
        fn new(scheme: Scheme) -> Self {
            let mut headers = FixedHeaders::default();
            headers.global.insert("x-team".into(), "blue".into());
            headers.routes.insert(
                Provider::Openai,
                BTreeMap::from([("x-portkey-provider".into(), "openai".into())]),
            );
            Self {
                identity: Credential::new(scheme, "x-org-key", Secret::new("sk-gw")).unwrap(),
                scheme,
                headers,
                prefixes: auth::DEFAULT_STRIP_PREFIXES
                    .split(',')
                    .map(String::from)
                    .collect(),
                keys: BTreeMap::new(),
            }
        }

        fn outgoing(&self) -> Outgoing {
            Outgoing::new(Parts {
                identity: Some(&self.identity),
                scheme: self.scheme,
                headers: &self.headers,
                strip_prefixes: &self.prefixes,
                provider_keys: &self.keys,
            })
        }
    }

    fn map(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(n, v)| (HeaderName::from_static(n), HeaderValue::from_static(v)))
            .collect()
    }

    #[test]
    fn the_key_scheme_replaces_the_placeholder_and_adds_route_headers() {
        let out = Setup::new(Scheme::Key).outgoing();
        let mut h = map(&[("authorization", "Bearer anyray-relay"), ("x-team", "red")]);
        out.to_gateway(Route::Provider(Provider::Openai), &mut h);
        assert_eq!(h["authorization"], "Bearer sk-gw");
        assert_eq!(h["x-team"], "blue");
        assert_eq!(h["x-portkey-provider"], "openai");
        let mut h = map(&[("x-api-key", "anyray-relay")]);
        out.to_gateway(Route::Provider(Provider::Anthropic), &mut h);
        assert_eq!(h["x-api-key"], "sk-gw");
        assert!(!h.contains_key("x-portkey-provider"));
    }

    #[test]
    fn fail_open_strips_every_gateway_credential_and_header() {
        let mut setup = Setup::new(Scheme::Key);
        setup
            .keys
            .insert(Provider::Openai, Secret::new("sk-own-openai"));
        let out = setup.outgoing();
        let mut h = map(&[
            ("authorization", "Bearer sk-gw"),
            ("x-api-key", "sk-gw"),
            ("x-org-key", "sk-gw"),
            ("x-anyray-key", "sk-gw"),
            ("x-team", "blue"),
            ("x-portkey-provider", "openai"),
            ("x-litellm-tags", "internal.corp"),
            ("content-type", "application/json"),
        ]);
        out.to_provider(Route::Provider(Provider::Openai), &mut h)
            .unwrap();
        let mut left: Vec<(&str, &str)> = h
            .iter()
            .map(|(n, v)| (n.as_str(), v.to_str().unwrap()))
            .collect();
        left.sort_unstable();
        assert_eq!(
            left,
            [
                ("authorization", "Bearer sk-own-openai"),
                ("content-type", "application/json")
            ]
        );
        // No own Anthropic key: fail-open is refused, saying how to fix it.
        let mut h = map(&[("x-api-key", "sk-gw")]);
        let why = out
            .to_provider(Route::Provider(Provider::Anthropic), &mut h)
            .unwrap_err();
        assert!(why.contains("anyray login --provider anthropic"), "{why}");
        assert!(h.is_empty());
    }

    #[test]
    fn the_header_scheme_passes_provider_keys_through() {
        let out = Setup::new(Scheme::Header).outgoing();
        let mut h = map(&[("authorization", "Bearer sk-own"), ("x-org-key", "sk-gw")]);
        out.to_provider(Route::Provider(Provider::Openai), &mut h)
            .unwrap();
        assert_eq!(h["authorization"], "Bearer sk-own");
        assert!(!h.contains_key("x-org-key"));
        let mut h = map(&[("authorization", "Bearer sk-own")]);
        out.to_gateway(Route::Provider(Provider::Openai), &mut h);
        assert_eq!(h["authorization"], "Bearer sk-own");
        assert_eq!(h["x-org-key"], "sk-gw");
    }
}
