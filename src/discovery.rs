//! The discovery client: `GET {gw}/.well-known/anyray.json`, optional by contract.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::gateway_url::{GatewayUrl, Routes};

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
    use crate::gateway_url::Provider;

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
}
