//! The discovery client: `GET {gw}/.well-known/anyray.json`, optional by contract.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::auth::{self, FixedHeaders, Scheme};
use crate::fs_safe;
use crate::gateway_url::{GatewayUrl, Provider, Routes};

pub(crate) const PATH: &str = "/.well-known/anyray.json";
/// The identity header when the gateway wants one but does not name it.
pub(crate) const DEFAULT_IDENTITY_HEADER: &str = "x-anyray-key";

/// What a gateway says about itself. Every field is optional: an older or
/// smaller gateway may leave any of them out.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Discovery {
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub routes: BTreeMap<String, String>,
    #[serde(default)]
    pub optimizer: Option<Optimizer>,
    #[serde(default)]
    pub identity_header: Option<String>,
    /// How the gateway wants the user's key (issue 15).
    #[serde(default)]
    pub auth: Option<AuthDoc>,
    /// Fixed headers per route (`"*"`: every route), e.g. a routing header.
    #[serde(default)]
    pub headers: BTreeMap<String, BTreeMap<String, String>>,
    /// The usage endpoint, a path on the gateway (issue 20; `crate::usage`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<String>,
}

/// Discovery's `auth` block: `{"scheme": "key"|"header", "header": "x-…", "oidc": {…}}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct AuthDoc {
    #[serde(default)]
    pub scheme: Option<String>,
    #[serde(default)]
    pub header: Option<String>,
    /// Where `anyray login --sso` signs in (issue 16).
    #[serde(default)]
    pub oidc: Option<OidcDoc>,
}

/// `auth.oidc`: `{"issuer": URL, "client_id": "…", "scopes": "a b" | ["a","b"], "resource": "…"}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct OidcDoc {
    #[serde(default)]
    pub issuer: Option<String>,
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub scopes: Option<Scopes>,
    #[serde(default)]
    pub resource: Option<String>,
}

/// Scopes as OAuth writes them (one space-separated string) or as a JSON list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub(crate) enum Scopes {
    Text(String),
    List(Vec<String>),
}

impl Scopes {
    /// Space-separated.
    pub(crate) fn joined(&self) -> String {
        match self {
            Scopes::Text(s) => s.split_whitespace().collect::<Vec<_>>().join(" "),
            Scopes::List(l) => l.join(" "),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Optimizer {
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub budget_ms: Option<u64>,
    #[serde(default)]
    pub fail_open: Option<bool>,
}

impl Discovery {
    /// The scheme discovery names, when it names a known one. A document from before
    /// the `auth` block that names an identity header means the `header` scheme.
    pub(crate) fn scheme(&self) -> Option<Scheme> {
        match self.auth.as_ref().and_then(|a| a.scheme.as_deref()) {
            Some("key") => Some(Scheme::Key),
            Some("header") => Some(Scheme::Header),
            Some(_) => None,
            None => self.identity_header.as_ref().map(|_| Scheme::Header),
        }
    }

    /// The identity header discovery names (`auth.header`, else `identity_header`).
    pub(crate) fn identity_header(&self) -> Option<&str> {
        self.auth
            .as_ref()
            .and_then(|a| a.header.as_deref())
            .or(self.identity_header.as_deref())
    }

    /// Discovery's `auth.oidc` block, if it has one.
    pub(crate) fn oidc(&self) -> Option<&OidcDoc> {
        self.auth.as_ref().and_then(|a| a.oidc.as_ref())
    }

    /// The fixed headers discovery names; one anyray would refuse in the config (a
    /// credential header, a value that looks like a secret) is left out.
    pub(crate) fn fixed_headers(&self) -> FixedHeaders {
        let mut out = FixedHeaders::default();
        for (route, headers) in &self.headers {
            let valid = headers
                .iter()
                .filter(|(k, v)| auth::check_fixed_header(k, v).is_ok())
                .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()));
            match Provider::from_key(route) {
                _ if route == "*" => out.global.extend(valid),
                Some(p) => out.routes.entry(p).or_default().extend(valid),
                None => {}
            }
        }
        out.routes.retain(|_, h| !h.is_empty());
        out
    }

    /// The provider routes: discovery's when it lists any, else the defaults.
    pub(crate) fn routes(this: Option<&Self>, gw: &GatewayUrl) -> Routes {
        match this {
            Some(d) if !d.routes.is_empty() => {
                Routes::from_discovery(gw, d.routes.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            }
            _ => Routes::defaults(gw),
        }
    }
}

/// The last discovery document a gateway served, kept in anyray's state dir so that a
/// gateway that is down for a moment does not change which routes new terminals get
/// (nor make doctor and `status` call the tools drifted). One file, for one gateway.
#[derive(Serialize, Deserialize)]
struct Remembered {
    gateway: String,
    discovery: Discovery,
}

fn remembered_file() -> Option<std::path::PathBuf> {
    crate::paths::state_dir()
        .ok()
        .map(|d| d.join("discovery.json"))
}

/// Keeps `found` (`None`: the gateway has no discovery) as the last answer of `gw`.
/// Best effort: a state dir that cannot be written only loses the memory.
pub(crate) fn remember(gw: &GatewayUrl, found: Option<&Discovery>) {
    let Some(path) = remembered_file() else {
        return;
    };
    match found {
        Some(d) => {
            let doc = Remembered {
                gateway: gw.to_string(),
                discovery: d.clone(),
            };
            if let Ok(bytes) = serde_json::to_vec_pretty(&doc)
                && fs_safe::read_optional(&path).ok().flatten().as_deref() != Some(&bytes[..])
            {
                let _ = fs_safe::atomic_write(&path, &bytes, Some(0o600));
            }
        }
        None => {
            let _ = std::fs::remove_file(&path);
        }
    }
}

/// The last discovery document `gw` served, if anyray kept one.
pub(crate) fn remembered(gw: &GatewayUrl) -> Option<Discovery> {
    let bytes = fs_safe::read_optional(&remembered_file()?).ok()??;
    let doc: Remembered = serde_json::from_slice(&bytes).ok()?;
    (doc.gateway == gw.as_str()).then_some(doc.discovery)
}

/// Fetches discovery. `Ok(None)` when the gateway has none (404 or 405);
/// an error when the gateway cannot be reached or answers something else.
pub(crate) async fn fetch(client: &reqwest::Client, gw: &GatewayUrl) -> Result<Option<Discovery>> {
    let url = gw.join(PATH);
    let response = client
        .get(&url)
        .send()
        .await
        .with_context(|| format!("cannot reach {url}"))?;
    let status = response.status();
    if matches!(status.as_u16(), 404 | 405 | 410) {
        return Ok(None);
    }
    anyhow::ensure!(status.is_success(), "{url} answered {status}");
    let body = response
        .bytes()
        .await
        .with_context(|| format!("cannot read {url}"))?;
    let discovery = serde_json::from_slice(&body)
        .with_context(|| format!("{url} is not valid discovery JSON"))?;
    Ok(Some(discovery))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerates_missing_and_extra_fields() {
        let d: Discovery = serde_json::from_str(r#"{"version":"2","extra":{"x":1}}"#).unwrap();
        assert_eq!(d.version.as_deref(), Some("2"));
        assert!(d.optimizer.is_none());
        let gw = GatewayUrl::parse("https://gw.example").unwrap();
        assert_eq!(Discovery::routes(Some(&d), &gw), Routes::defaults(&gw));
    }

    #[test]
    fn discovery_routes_win() {
        let d: Discovery = serde_json::from_str(
            r#"{"routes":{"openai":"/oa/v1","anthropic":"/"},"optimizer":{"status":"down","fail_open":true},"identity_header":"x-key"}"#,
        )
        .unwrap();
        let gw = GatewayUrl::parse("https://gw.example").unwrap();
        let routes = Discovery::routes(Some(&d), &gw);
        assert_eq!(
            routes.get(Provider::Openai),
            Some("https://gw.example/oa/v1")
        );
        assert_eq!(routes.get(Provider::Bedrock), None);
        assert_eq!(d.optimizer.unwrap().fail_open, Some(true));
    }

    #[test]
    fn auth_and_route_headers() {
        let d: Discovery = serde_json::from_str(
            r#"{"auth":{"scheme":"key","header":"x-org"},"headers":{"openai":{"X-Route":"oa","authorization":"no"},"*":{"x-team":"t"},"mars":{"x":"y"}}}"#,
        )
        .unwrap();
        assert_eq!(d.scheme(), Some(Scheme::Key));
        assert_eq!(d.identity_header(), Some("x-org"));
        let old: Discovery = serde_json::from_str(r#"{"identity_header":"x-k"}"#).unwrap();
        assert_eq!(old.scheme(), Some(Scheme::Header));
        assert_eq!(Discovery::default().scheme(), None);
        let h = d.fixed_headers();
        assert_eq!(h.global["x-team"], "t");
        assert_eq!(
            h.routes[&Provider::Openai].len(),
            1,
            "a credential header is dropped"
        );
        assert_eq!(h.routes[&Provider::Openai]["x-route"], "oa");
    }

    #[test]
    fn oidc_block_with_scopes_as_text_or_list() {
        let d: Discovery = serde_json::from_str(
            r#"{"auth":{"scheme":"key","oidc":{"issuer":"https://idp.example","client_id":"anyray","scopes":["openid","gateway"]}}}"#,
        )
        .unwrap();
        let oidc = d.oidc().unwrap();
        assert_eq!(oidc.issuer.as_deref(), Some("https://idp.example"));
        assert_eq!(oidc.scopes.as_ref().unwrap().joined(), "openid gateway");
        let d: Discovery =
            serde_json::from_str(r#"{"auth":{"oidc":{"scopes":" openid  offline_access "}}}"#)
                .unwrap();
        assert_eq!(
            d.oidc().unwrap().scopes.as_ref().unwrap().joined(),
            "openid offline_access"
        );
        assert!(Discovery::default().oidc().is_none());
    }
}
