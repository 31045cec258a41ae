//! The OpenID Connect client for `anyray login --sso`: a public native client (no
//! secret) hand-rolled on reqwest, as the whole protocol is a discovery GET and a few
//! form POSTs (docs/sso.md). The flows live in submodules: the device authorization
//! grant (`device`, RFC 8628), the authorization code with PKCE and a loopback redirect
//! (`browser`, RFC 7636 and RFC 8252), and the stored session with its refresh under a
//! lock and its revocation (`session`, RFC 7009).
//!
//! Every error the provider answers (`{"error","error_description"}`, RFC 6749 §5.2)
//! becomes a message that says what happened and what to do; a token never appears
//! in one.

pub(crate) mod browser;
pub(crate) mod device;
pub(crate) mod session;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result};
use base64::Engine as _;
use serde::Deserialize;

use crate::error::UserError;
use crate::secrets::Secret;

/// Where a user signs in: the issuer, this client's id at it, the scopes to ask for and
/// the resource (RFC 8707) the tokens are for, when the provider needs it named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OidcConfig {
    pub issuer: String,
    pub client_id: String,
    /// Space-separated, as OAuth sends them.
    pub scopes: String,
    pub resource: Option<String>,
}

/// The scopes asked for when neither the config nor discovery names any: `openid` for
/// the ID token (who signed in), `offline_access` for a refresh token.
pub(crate) const DEFAULT_SCOPES: &str = "openid offline_access";

/// The parts of the issuer's `/.well-known/openid-configuration` anyray uses.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Metadata {
    pub issuer: String,
    pub token_endpoint: String,
    #[serde(default)]
    pub authorization_endpoint: Option<String>,
    #[serde(default)]
    pub device_authorization_endpoint: Option<String>,
    #[serde(default)]
    pub revocation_endpoint: Option<String>,
    /// RFC 9207: the provider puts `iss` in every authorization response.
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
}

/// An issuer's client: its metadata and the HTTP client that talks to it.
#[derive(Debug, Clone)]
pub(crate) struct Provider {
    pub http: reqwest::Client,
    pub config: OidcConfig,
    pub metadata: Metadata,
}

impl Provider {
    /// Reads the issuer's OpenID configuration and checks that it names the same issuer
    /// (OpenID Connect Discovery §4.3: a mismatch means another provider answers there).
    pub(crate) async fn discover(http: reqwest::Client, config: OidcConfig) -> Result<Self> {
        let url = format!(
            "{}/.well-known/openid-configuration",
            config.issuer.trim_end_matches('/')
        );
        let unreachable = |e: &dyn std::fmt::Display| {
            UserError::problem(format!(
                "cannot read the identity provider's configuration at {url}: {e}"
            ))
            .with_hint(
                "check the issuer (`anyray config get auth.oidc.issuer`) and your network, then try again",
            )
        };
        let response = http.get(&url).send().await.map_err(|e| unreachable(&e))?;
        let status = response.status();
        if !status.is_success() {
            return Err(unreachable(&format!("it answered {status}")).into());
        }
        let body = response.bytes().await.map_err(|e| unreachable(&e))?;
        let metadata: Metadata =
            serde_json::from_slice(&body).map_err(|e| unreachable(&format!("not valid: {e}")))?;
        if metadata.issuer != config.issuer {
            return Err(UserError::problem(format!(
                "the identity provider at {url} says its issuer is {:?}, not {:?}",
                metadata.issuer, config.issuer
            ))
            .with_hint(
                "set the exact issuer with `anyray config set auth.oidc.issuer URL` (a trailing slash counts)",
            )
            .into());
        }
        Ok(Self {
            http,
            config,
            metadata,
        })
    }

    /// An endpoint the flow needs, or an error naming what the provider lacks.
    fn endpoint<'a>(&self, url: &'a Option<String>, what: &str, instead: &str) -> Result<&'a str> {
        url.as_deref().ok_or_else(|| {
            UserError::problem(format!(
                "the identity provider {} does not offer {what}",
                self.config.issuer
            ))
            .with_hint(instead.to_string())
            .into()
        })
    }

    /// The parameters every request of this client carries.
    fn client_params(&self) -> Vec<(&'static str, String)> {
        let mut params = vec![("client_id", self.config.client_id.clone())];
        if let Some(resource) = &self.config.resource {
            params.push(("resource", resource.clone()));
        }
        params
    }

    /// A token request; `Ok(Err(_))` is the provider's own error answer.
    async fn token(&self, grant: &[(&'static str, String)]) -> Result<Result<Tokens, OAuthError>> {
        let mut params = self.client_params();
        params.extend_from_slice(grant);
        token_request(&self.http, &self.metadata.token_endpoint, &params).await
    }
}

/// A provider's error answer (RFC 6749 §5.2).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct OAuthError {
    pub error: String,
    #[serde(default)]
    pub error_description: Option<String>,
}

impl OAuthError {
    /// `error: description`, for messages (never carries a token: providers describe).
    pub(crate) fn describe(&self) -> String {
        match &self.error_description {
            Some(d) if !d.is_empty() => format!("{} ({d})", self.error),
            _ => self.error.clone(),
        }
    }

    /// What the user should do about it.
    pub(crate) fn into_user_error(self, doing: &str) -> UserError {
        let hint = match self.error.as_str() {
            "invalid_client" | "unauthorized_client" => {
                "the identity provider does not know this client: check `anyray config get auth.oidc.client_id` with your admin"
            }
            "invalid_scope" => {
                "the provider refused the scopes: check `anyray config get auth.oidc.scopes` with your admin"
            }
            "invalid_target" => {
                "the provider refused the resource: check `anyray config get auth.oidc.resource` with your admin"
            }
            "invalid_grant" => "sign in again with `anyray login --sso`",
            _ => "try again; if it keeps failing, show this message to your admin",
        };
        UserError::problem(format!(
            "{doing}: the identity provider answered {}",
            self.describe()
        ))
        .with_hint(hint)
    }
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Deserialize)]
pub(crate) struct Tokens {
    pub access_token: String,
    pub token_type: String,
    #[serde(default)]
    pub expires_in: Option<u64>,
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default)]
    pub id_token: Option<String>,
    #[serde(default)]
    pub scope: Option<String>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("refresh_token", &self.refresh_token.is_some())
            .finish_non_exhaustive()
    }
}

/// How long an access token is taken to live when the provider does not say: short,
/// so a refresh comes early rather than a 401 late.
const ASSUMED_LIFETIME: Duration = Duration::from_secs(300);

impl Tokens {
    /// When the access token expires, counted from `now`.
    fn expires_at(&self, now: u64) -> u64 {
        now.saturating_add(self.expires_in.unwrap_or(ASSUMED_LIFETIME.as_secs()))
    }

    /// Who signed in, from the ID token's claims (`sub`, and `email` when present).
    /// The ID token came straight from the token endpoint over the connection anyray
    /// opened, which OpenID Connect Core §3.1.3.7 accepts in place of its signature;
    /// it is only ever shown, never trusted for access.
    fn subject(&self) -> Option<String> {
        let payload = self.id_token.as_deref()?.split('.').nth(1)?;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload.trim_end_matches('='))
            .ok()?;
        let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
        let sub = claims.get("sub")?.as_str()?;
        Some(match claims.get("email").and_then(|e| e.as_str()) {
            Some(email) if email != sub => format!("{sub} <{email}>"),
            _ => sub.to_string(),
        })
    }
}

/// Seconds since the Unix epoch.
pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// POSTs a form to a token-style endpoint. `Ok(Err(_))` is the provider's
/// `{"error",…}` answer; `Err` is anything else (unreachable, not JSON, no token).
async fn token_request(
    http: &reqwest::Client,
    url: &str,
    params: &[(&'static str, String)],
) -> Result<Result<Tokens, OAuthError>> {
    let (status, body) = post_form(http, url, params).await?;
    if status.is_success() {
        let tokens: Tokens = serde_json::from_slice(&body)
            .with_context(|| format!("{url} answered {status} without a valid token response"))?;
        anyhow::ensure!(
            tokens.token_type.eq_ignore_ascii_case("bearer"),
            "{url} issued a {:?} token; anyray supports Bearer tokens only",
            tokens.token_type
        );
        anyhow::ensure!(
            !tokens.access_token.is_empty() && !tokens.access_token.chars().any(char::is_control),
            "{url} issued an empty or malformed access token"
        );
        return Ok(Ok(tokens));
    }
    Ok(Err(oauth_error(url, status, &body)?))
}

/// The provider's error answer, or an error saying the answer was not one.
fn oauth_error(url: &str, status: reqwest::StatusCode, body: &[u8]) -> Result<OAuthError> {
    serde_json::from_slice::<OAuthError>(body)
        .ok()
        .filter(|e| !e.error.is_empty())
        .ok_or_else(|| anyhow::anyhow!("{url} answered {status} without an OAuth error"))
}

/// An `application/x-www-form-urlencoded` POST; the status and the body.
async fn post_form(
    http: &reqwest::Client,
    url: &str,
    params: &[(&'static str, String)],
) -> Result<(reqwest::StatusCode, bytes::Bytes)> {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())))
        .finish();
    let response = http
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body(body)
        .send()
        .await
        .with_context(|| format!("cannot reach {url}"))?;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .with_context(|| format!("cannot read the answer of {url}"))?;
    Ok((status, body))
}

/// `len` random bytes from the OS, base64url without padding (PKCE verifier, `state`).
pub(crate) fn random_token(len: usize) -> Result<String> {
    use ring::rand::SecureRandom as _;
    let mut bytes = vec![0u8; len];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| anyhow::anyhow!("the operating system's random number generator failed"))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// The token set a flow ended with, as the session keeps it.
fn session_from(provider: &Provider, tokens: Tokens) -> session::Session {
    let now = now();
    session::Session {
        issuer: provider.config.issuer.clone(),
        client_id: provider.config.client_id.clone(),
        resource: provider.config.resource.clone(),
        token_endpoint: provider.metadata.token_endpoint.clone(),
        revocation_endpoint: provider.metadata.revocation_endpoint.clone(),
        subject: tokens.subject(),
        scope: tokens.scope.clone(),
        issued_at: now,
        expires_at: tokens.expires_at(now),
        access_token: Secret::new(tokens.access_token),
        refresh_token: tokens.refresh_token.map(Secret::new),
    }
}

#[cfg(test)]
pub(crate) mod stub;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_comes_from_the_id_token_claims() {
        let enc = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        let tokens = |claims: &str| Tokens {
            access_token: "at".into(),
            token_type: "Bearer".into(),
            expires_in: Some(30),
            refresh_token: None,
            id_token: Some(format!("{}.{}.sig", enc("{}"), enc(claims))),
            scope: None,
        };
        assert_eq!(
            tokens(r#"{"sub":"alice","email":"alice@example.test"}"#).subject(),
            Some("alice <alice@example.test>".into())
        );
        assert_eq!(tokens(r#"{"sub":"bob"}"#).subject(), Some("bob".into()));
        assert_eq!(tokens("not json").subject(), None);
        assert_eq!(tokens(r#"{"sub":"x"}"#).expires_at(100), 130);
    }

    #[test]
    fn errors_name_the_cause_and_the_next_step() {
        let e = OAuthError {
            error: "invalid_grant".into(),
            error_description: Some("grant request is invalid".into()),
        }
        .into_user_error("cannot refresh your SSO session");
        assert_eq!(
            e.message,
            "cannot refresh your SSO session: the identity provider answered invalid_grant (grant request is invalid)"
        );
        assert!(e.hint.unwrap().contains("anyray login --sso"));
    }

    #[test]
    fn random_tokens_are_base64url_and_differ() {
        let a = random_token(32).unwrap();
        assert_eq!(a.len(), 43);
        assert!(
            a.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_ne!(a, random_token(32).unwrap());
    }
}
