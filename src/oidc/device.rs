//! The device authorization grant (RFC 8628): ask for a user code, show where to enter
//! it, poll the token endpoint at the interval the provider gives until the user
//! approves, denies, or the code expires. Polling stops at the first answer with
//! tokens: a device code polled again after that is a replay, and providers such as
//! oidc-provider revoke the whole grant for it.

use std::time::Duration;

use anyhow::{Context as _, Result};
use serde::Deserialize;

use super::{Provider, session::Session};
use crate::error::UserError;

const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// What the user is shown: where to go and the code to enter there.
#[derive(Deserialize)]
pub(crate) struct Authorization {
    device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    /// The same page with the code filled in (optional in RFC 8628).
    #[serde(default)]
    pub verification_uri_complete: Option<String>,
    /// Seconds the code stays valid.
    pub expires_in: u64,
    /// Seconds between polls; RFC 8628 §3.2: 5 when absent.
    #[serde(default)]
    interval: Option<u64>,
}

impl std::fmt::Debug for Authorization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authorization")
            .field("user_code", &self.user_code)
            .field("verification_uri", &self.verification_uri)
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// How polling is paced: RFC 8628's numbers, smaller in tests.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pacing {
    /// The interval when the provider names none (§3.2).
    pub default_interval: Duration,
    /// What each `slow_down` adds to the interval (§3.5).
    pub slow_down_step: Duration,
    /// The longest wait between polls after network errors (exponential backoff, §3.5).
    pub max_backoff: Duration,
}

impl Default for Pacing {
    fn default() -> Self {
        Self {
            default_interval: Duration::from_secs(5),
            slow_down_step: Duration::from_secs(5),
            max_backoff: Duration::from_secs(60),
        }
    }
}

/// Starts a device login: the code and the verification URL to show the user.
pub(crate) async fn start(provider: &Provider) -> Result<Authorization> {
    let url = provider.endpoint(
        &provider.metadata.device_authorization_endpoint,
        "the device login (RFC 8628)",
        "use `anyray login --browser` on a machine with a browser",
    )?;
    let mut params = provider.client_params();
    params.push(("scope", provider.config.scopes.clone()));
    let (status, body) = super::post_form(&provider.http, url, &params)
        .await
        .map_err(|e| {
            UserError::problem(format!("cannot start the device login: {e:#}"))
                .with_hint("check your network and the issuer, then try again")
        })?;
    if !status.is_success() {
        let error = super::oauth_error(url, status, &body)?;
        return Err(error
            .into_user_error("the identity provider refused the device login")
            .into());
    }
    let auth: Authorization = serde_json::from_slice(&body)
        .with_context(|| format!("{url} answered without a valid device authorization"))?;
    anyhow::ensure!(
        !auth.device_code.is_empty() && !auth.user_code.is_empty(),
        "{url} answered an empty device or user code"
    );
    Ok(auth)
}

/// Polls until the user has approved (the session), denied, or the code expired.
pub(crate) async fn wait(
    provider: &Provider,
    auth: &Authorization,
    pacing: Pacing,
) -> Result<Session> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(auth.expires_in);
    let mut interval = auth
        .interval
        .map_or(pacing.default_interval, Duration::from_secs);
    let mut backoff = interval;
    let grant = [
        ("grant_type", GRANT_TYPE.to_string()),
        ("device_code", auth.device_code.clone()),
    ];
    loop {
        tokio::time::sleep(backoff).await;
        if tokio::time::Instant::now() >= deadline {
            return Err(expired());
        }
        match provider.token(&grant).await {
            Ok(Ok(tokens)) => return Ok(super::session_from(provider, tokens)),
            Ok(Err(e)) => match e.error.as_str() {
                "authorization_pending" => {}
                "slow_down" => interval += pacing.slow_down_step,
                "expired_token" => return Err(expired()),
                "access_denied" => {
                    return Err(UserError::problem("the sign-in was denied")
                        .with_hint(
                            "run `anyray login --sso` again and approve the request, or ask your admin for access",
                        )
                        .into());
                }
                _ => return Err(e.into_user_error("the device login failed").into()),
            },
            // The network hiccuped: keep polling, each time waiting twice as long.
            Err(_) => {
                backoff = (backoff * 2).min(pacing.max_backoff);
                continue;
            }
        }
        backoff = interval;
    }
}

fn expired() -> anyhow::Error {
    UserError::problem("the sign-in code expired before it was approved")
        .with_hint("run `anyray login --sso` again and approve the new code in time")
        .into()
}

#[cfg(test)]
mod tests {
    use super::super::stub::{self, Answer};
    use super::*;

    fn fast() -> Pacing {
        Pacing {
            default_interval: Duration::from_millis(20),
            slow_down_step: Duration::from_millis(150),
            max_backoff: Duration::from_millis(200),
        }
    }

    async fn login(answers: Vec<Answer>) -> (Result<Session>, stub::Stub) {
        let stub = stub::Stub::start(answers).await;
        let provider = stub.provider().await;
        let auth = start(&provider).await.unwrap();
        assert_eq!(auth.user_code, "WDJB-MJHT");
        let result = wait(&provider, &auth, fast()).await;
        (result, stub)
    }

    #[tokio::test]
    async fn pending_then_tokens_and_no_poll_after_them() {
        let (session, stub) = login(vec![
            Answer::error(400, "authorization_pending"),
            Answer::error(400, "authorization_pending"),
            Answer::tokens("at-1", Some("rt-1"), 30),
        ])
        .await;
        let session = session.unwrap();
        assert_eq!(session.access_token.expose(), "at-1");
        assert_eq!(session.refresh_token.unwrap().expose(), "rt-1");
        assert_eq!(session.subject.as_deref(), Some("alice"));
        let polls = stub.token_requests();
        assert_eq!(polls.len(), 3, "no poll after the tokens arrived");
        for form in &polls {
            assert_eq!(form["grant_type"], GRANT_TYPE);
            assert_eq!(form["device_code"], "dc-secret");
            assert_eq!(form["client_id"], "anyray-cli");
        }
        let device = &stub.requests_to("/device/auth")[0];
        assert_eq!(device["scope"], "openid offline_access gateway");
    }

    #[tokio::test]
    async fn slow_down_adds_to_the_interval_for_good() {
        let (session, stub) = login(vec![
            Answer::error(400, "slow_down"),
            Answer::error(400, "authorization_pending"),
            Answer::tokens("at", None, 30),
        ])
        .await;
        session.unwrap();
        let gaps = stub.token_request_gaps();
        assert_eq!(gaps.len(), 2);
        // Both polls after slow_down wait the longer interval (20 ms + 150 ms), not only the next.
        for gap in gaps {
            assert!(gap >= Duration::from_millis(165), "gap {gap:?}");
        }
    }

    #[tokio::test]
    async fn denied_and_expired_say_what_to_do() {
        let (denied, _) = login(vec![Answer::error(400, "access_denied")]).await;
        let denied = denied.unwrap_err().to_string();
        assert_eq!(denied, "the sign-in was denied");
        let (expired, _) = login(vec![Answer::error(400, "expired_token")]).await;
        let expired = expired.unwrap_err();
        assert!(expired.to_string().contains("expired"), "{expired}");
        let hint = expired.downcast_ref::<UserError>().unwrap().hint.clone();
        assert!(hint.unwrap().contains("anyray login --sso"));
        let (other, _) = login(vec![Answer::error(400, "invalid_client")]).await;
        let other = other.unwrap_err().to_string();
        assert!(other.contains("invalid_client"), "{other}");
    }

    #[tokio::test]
    async fn a_server_error_is_retried_with_backoff() {
        let (session, stub) = login(vec![
            Answer::raw(502, "text/html", "<html>bad gateway</html>"),
            Answer::tokens("at-2", Some("rt-2"), 30),
        ])
        .await;
        assert_eq!(session.unwrap().access_token.expose(), "at-2");
        assert!(stub.token_request_gaps()[0] >= Duration::from_millis(40));
    }

    #[tokio::test]
    async fn the_code_expires_on_the_client_side_too() {
        let stub = stub::Stub::start_with(
            stub::Options {
                device_expires_in: 0,
                ..stub::Options::default()
            },
            vec![],
        )
        .await;
        let provider = stub.provider().await;
        let auth = start(&provider).await.unwrap();
        let err = wait(&provider, &auth, fast()).await.unwrap_err();
        assert!(err.to_string().contains("expired"), "{err}");
        assert!(stub.token_requests().is_empty());
    }
}
