//! The SSO session: the token set `anyray login --sso` ended with, kept as one secret
//! (the OS keyring, else a 0600 file: `secrets::Account::SsoSession`), refreshed before
//! its access token expires, revoked by `logout`.
//!
//! Refresh tokens of public clients rotate on every use, and a provider that sees a used
//! one again revokes the whole grant (RFC 9700 §4.14.2). Ten tools asking `anyray token`
//! at once must therefore cause one refresh: the refresh runs under an exclusive file
//! lock, re-reads the session once it holds the lock (another process may have just
//! refreshed it), and stores the new token set before letting go.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, Result};
use serde::{Deserialize, Serialize};

use super::OAuthError;
use crate::error::UserError;
use crate::secrets::{self, Account, Secret, Store};
use crate::{envvars, fs_safe, paths};

/// A signed-in SSO session. `Debug` never shows a token (`Secret`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Session {
    pub issuer: String,
    pub client_id: String,
    pub resource: Option<String>,
    /// Kept so a refresh needs no discovery round trip (`anyray token` runs often).
    pub token_endpoint: String,
    pub revocation_endpoint: Option<String>,
    /// Who signed in, for `login --status` (from the ID token).
    pub subject: Option<String>,
    pub scope: Option<String>,
    /// Unix seconds.
    pub issued_at: u64,
    pub expires_at: u64,
    pub access_token: Secret,
    pub refresh_token: Option<Secret>,
}

/// The stored form (version 1). Field names are the file format: only ever added.
#[derive(Serialize, Deserialize)]
struct Stored {
    version: u32,
    issuer: String,
    client_id: String,
    #[serde(default)]
    resource: Option<String>,
    token_endpoint: String,
    #[serde(default)]
    revocation_endpoint: Option<String>,
    #[serde(default)]
    subject: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    issued_at: u64,
    expires_at: u64,
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
}

/// How long before its expiry an access token is refreshed. A tool keeps what
/// `anyray token` printed for a while (Claude Code five minutes, then it re-runs the
/// helper in the background; both re-run it on a 401), so the earlier the better, but
/// never so early that a short-lived token is refreshed on every call: at most half
/// its lifetime.
pub(crate) const REFRESH_MARGIN: Duration = Duration::from_secs(120);

/// How long a process waits for another one's refresh.
const LOCK_WAIT: Duration = Duration::from_secs(30);

impl Session {
    /// Seconds until the access token expires (negative: expired).
    pub(crate) fn expires_in(&self, now: u64) -> i64 {
        i64::try_from(self.expires_at)
            .unwrap_or(i64::MAX)
            .saturating_sub(i64::try_from(now).unwrap_or(i64::MAX))
    }

    /// Whether it can still give the tools a token: its access token has not expired,
    /// or it can be renewed.
    pub(crate) fn usable(&self, now: u64) -> bool {
        self.refresh_token.is_some() || self.expires_in(now) > 0
    }

    /// Whether the access token is due for a refresh at `now`.
    pub(crate) fn due(&self, now: u64) -> bool {
        let lifetime = self.expires_at.saturating_sub(self.issued_at);
        let margin = REFRESH_MARGIN.as_secs().min(lifetime / 2);
        now.saturating_add(margin) >= self.expires_at
    }

    fn to_secret(&self) -> Secret {
        let stored = Stored {
            version: 1,
            issuer: self.issuer.clone(),
            client_id: self.client_id.clone(),
            resource: self.resource.clone(),
            token_endpoint: self.token_endpoint.clone(),
            revocation_endpoint: self.revocation_endpoint.clone(),
            subject: self.subject.clone(),
            scope: self.scope.clone(),
            issued_at: self.issued_at,
            expires_at: self.expires_at,
            access_token: self.access_token.expose().to_string(),
            refresh_token: self.refresh_token.as_ref().map(|t| t.expose().to_string()),
        };
        Secret::new(serde_json::to_string(&stored).expect("a session serializes"))
    }

    fn from_secret(secret: &Secret, store: &Store) -> Result<Self> {
        let stored: Stored = serde_json::from_str(secret.expose()).map_err(|_| {
            // serde's message could quote the token: say only where.
            UserError::problem(format!("the SSO session in {store} is not readable"))
                .with_hint("run `anyray login --sso` to sign in again")
        })?;
        Ok(Self {
            issuer: stored.issuer,
            client_id: stored.client_id,
            resource: stored.resource,
            token_endpoint: stored.token_endpoint,
            revocation_endpoint: stored.revocation_endpoint,
            subject: stored.subject,
            scope: stored.scope,
            issued_at: stored.issued_at,
            expires_at: stored.expires_at,
            access_token: Secret::new(stored.access_token),
            refresh_token: stored.refresh_token.map(Secret::new),
        })
    }
}

/// The stored session and where it is, if there is one.
pub(crate) fn load() -> Result<Option<(Session, Store)>> {
    let Some((secret, store)) = secrets::load_stored(Account::SsoSession)? else {
        return Ok(None);
    };
    Ok(Some((Session::from_secret(&secret, &store)?, store)))
}

/// Stores a session (replacing the one before).
pub(crate) fn store(session: &Session) -> Result<Store> {
    secrets::store(Account::SsoSession, &session.to_secret())
}

/// Deletes the stored session; where it was.
pub(crate) fn remove() -> Result<Vec<Store>> {
    secrets::remove(Account::SsoSession)
}

fn lock_file() -> Result<PathBuf> {
    Ok(paths::config_dir()?.join("sso-session.lock"))
}

/// Holds the session lock: a login, a refresh or a logout changes the session only
/// while holding it.
pub(crate) fn lock() -> Result<fs_safe::Lock> {
    let path = lock_file()?;
    fs_safe::lock(&path, LOCK_WAIT).map_err(|e| {
        if e.downcast_ref::<UserError>().is_some() {
            UserError::problem(format!(
                "another anyray has been refreshing your SSO session for {}s (lock {})",
                LOCK_WAIT.as_secs(),
                path.display()
            ))
            .with_hint("check your network to the identity provider, then try again")
            .into()
        } else {
            e
        }
    })
}

/// The current gateway credential, the one answer for `anyray token`, the relay, `run`
/// and doctor: `ANYRAY_TOKEN`, else the SSO session's access token (refreshed first when
/// it is near expiry), else the stored key. `http` is called only when a refresh is due,
/// so the common case opens no connection.
pub(crate) async fn credential(
    http: impl FnOnce() -> Result<reqwest::Client>,
) -> Result<Option<(Secret, Store)>> {
    if envvars::get(envvars::ANYRAY_TOKEN).is_some() {
        return blocking(secrets::load).await;
    }
    let Some((found, store)) = blocking(load).await? else {
        return blocking(secrets::load).await;
    };
    if !found.due(super::now()) {
        return Ok(Some((found.access_token, store)));
    }
    Ok(access_token(&http()?).await?.map(|token| (token, store)))
}

/// A current access token: the stored one, refreshed first when it is due. `Ok(None)`
/// without a session. Runs its blocking parts (keyring, lock) off the async threads.
pub(crate) async fn access_token(http: &reqwest::Client) -> Result<Option<Secret>> {
    let Some((session, _)) = blocking(load).await? else {
        return Ok(None);
    };
    if !session.due(super::now()) {
        return Ok(Some(session.access_token));
    }
    let guard = blocking(lock).await?;
    // Another process may have refreshed while this one waited for the lock.
    let Some((session, _)) = blocking(load).await? else {
        return Ok(None);
    };
    if !session.due(super::now()) {
        return Ok(Some(session.access_token));
    }
    let result = refresh(http, &session).await;
    let fresh = match result {
        Ok(fresh) => fresh,
        // Fail open: a token that still works is better than none while the provider
        // cannot be reached; the next call tries again.
        Err(e)
            if session.expires_in(super::now()) > 0 && e.downcast_ref::<UserError>().is_none() =>
        {
            drop(guard);
            return Ok(Some(session.access_token));
        }
        Err(e) => return Err(e),
    };
    let stored = fresh.clone();
    blocking(move || store(&stored)).await?;
    drop(guard);
    Ok(Some(fresh.access_token))
}

/// Trades the refresh token for a new token set. A provider that does not rotate it
/// answers without one: the old one stays.
async fn refresh(http: &reqwest::Client, session: &Session) -> Result<Session> {
    let expired = || {
        UserError::problem(format!(
            "your SSO session at {} has expired and cannot be renewed (no refresh token)",
            session.issuer
        ))
        .with_hint("sign in again with `anyray login --sso`")
    };
    let Some(refresh_token) = &session.refresh_token else {
        return Err(expired().into());
    };
    let mut params = vec![
        ("client_id", session.client_id.clone()),
        ("grant_type", "refresh_token".to_string()),
        ("refresh_token", refresh_token.expose().to_string()),
    ];
    if let Some(resource) = &session.resource {
        params.push(("resource", resource.clone()));
    }
    let tokens = super::token_request(http, &session.token_endpoint, &params)
        .await
        .with_context(|| format!("cannot refresh your SSO session at {}", session.issuer))?
        .map_err(|e: OAuthError| match e.error.as_str() {
            "invalid_grant" => UserError::problem(format!(
                "your SSO session at {} has ended: the identity provider refused to renew it ({})",
                session.issuer,
                e.describe()
            ))
            .with_hint("sign in again with `anyray login --sso`"),
            _ => e.into_user_error("cannot refresh your SSO session"),
        })?;
    let now = super::now();
    Ok(Session {
        subject: tokens.subject().or_else(|| session.subject.clone()),
        scope: tokens.scope.clone().or_else(|| session.scope.clone()),
        issued_at: now,
        expires_at: tokens.expires_at(now),
        access_token: Secret::new(tokens.access_token),
        refresh_token: tokens
            .refresh_token
            .map(Secret::new)
            .or_else(|| session.refresh_token.clone()),
        ..session.clone()
    })
}

/// What `logout` did at the provider for each token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "result", content = "detail")]
pub(crate) enum Revocation {
    Revoked,
    /// The provider has no revocation endpoint.
    Unsupported,
    /// The provider cannot revoke it (a JWT access token: valid until it expires).
    NotRevocable(String),
    Failed(String),
    /// There was no such token.
    None,
}

/// Revokes the refresh token, then the access token (RFC 7009). A JWT access token
/// cannot be revoked at most providers; it stays valid until it expires.
pub(crate) async fn revoke(http: &reqwest::Client, session: &Session) -> (Revocation, Revocation) {
    let Some(url) = &session.revocation_endpoint else {
        return (Revocation::Unsupported, Revocation::Unsupported);
    };
    let one = |token: Secret, hint: &'static str| async move {
        let params = [
            ("client_id", session.client_id.clone()),
            ("token", token.expose().to_string()),
            ("token_type_hint", hint.to_string()),
        ];
        match super::post_form(http, url, &params).await {
            Ok((status, _)) if status.is_success() => Revocation::Revoked,
            Ok((status, body)) => match super::oauth_error(url, status, &body) {
                Ok(e) if e.error == "unsupported_token_type" => {
                    Revocation::NotRevocable(e.describe())
                }
                Ok(e) => Revocation::Failed(e.describe()),
                Err(e) => Revocation::Failed(format!("{e:#}")),
            },
            Err(e) => Revocation::Failed(format!("{e:#}")),
        }
    };
    let refresh = match &session.refresh_token {
        Some(rt) => one(rt.clone(), "refresh_token").await,
        None => Revocation::None,
    };
    let access = one(session.access_token.clone(), "access_token").await;
    (refresh, access)
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .context("a keyring or lock task failed")?
}

#[cfg(test)]
mod tests {
    use super::super::stub::{Answer, Stub};
    use super::*;

    fn session(stub: &Stub, issued_at: u64, expires_at: u64) -> Session {
        Session {
            issuer: stub.url.clone(),
            client_id: "anyray-cli".into(),
            resource: Some("http://127.0.0.1:8787".into()),
            token_endpoint: format!("{}/token", stub.url),
            revocation_endpoint: Some(format!("{}/revoke", stub.url)),
            subject: Some("alice".into()),
            scope: None,
            issued_at,
            expires_at,
            access_token: Secret::new("at-old"),
            refresh_token: Some(Secret::new("rt-old")),
        }
    }

    #[test]
    fn due_within_the_margin_capped_at_half_the_lifetime() {
        let s = |issued_at, expires_at| Session {
            issued_at,
            expires_at,
            ..Session {
                issuer: String::new(),
                client_id: String::new(),
                resource: None,
                token_endpoint: String::new(),
                revocation_endpoint: None,
                subject: None,
                scope: None,
                issued_at: 0,
                expires_at: 0,
                access_token: Secret::new("a"),
                refresh_token: None,
            }
        };
        // An hour-long token: refreshed in its last two minutes.
        assert!(!s(0, 3600).due(3600 - 121));
        assert!(s(0, 3600).due(3600 - 120));
        // A 30-second token: only in its last 15 seconds.
        assert!(!s(0, 30).due(14));
        assert!(s(0, 30).due(15));
        assert!(s(0, 30).due(31));
    }

    #[test]
    fn the_stored_form_round_trips_and_never_debugs_a_token() {
        let s = Session {
            issuer: "https://idp".into(),
            client_id: "c".into(),
            resource: None,
            token_endpoint: "https://idp/token".into(),
            revocation_endpoint: None,
            subject: None,
            scope: None,
            issued_at: 1,
            expires_at: 2,
            access_token: Secret::new("at-canary"),
            refresh_token: Some(Secret::new("rt-canary")),
        };
        let secret = s.to_secret();
        assert!(secret.expose().contains("\"version\":1"));
        assert_eq!(Session::from_secret(&secret, &Store::Keyring).unwrap(), s);
        assert!(!format!("{s:?}").contains("canary"));
        let bad = Session::from_secret(&Secret::new("{\"access_token\":\"leak\""), &Store::Keyring)
            .unwrap_err();
        assert!(!format!("{bad:#}").contains("leak"));
    }

    #[tokio::test]
    async fn refresh_rotates_and_keeps_an_unrotated_refresh_token() {
        let stub = Stub::start(vec![
            Answer::tokens("at-new", Some("rt-new"), 60),
            Answer::tokens("at-3", None, 60),
        ])
        .await;
        let http = crate::http::client(None, Duration::from_secs(5)).unwrap();
        let old = session(&stub, 0, 10);
        let new = refresh(&http, &old).await.unwrap();
        assert_eq!(new.access_token.expose(), "at-new");
        assert_eq!(new.refresh_token.as_ref().unwrap().expose(), "rt-new");
        assert_eq!(new.expires_at - new.issued_at, 60);
        let form = &stub.token_requests()[0];
        assert_eq!(form["grant_type"], "refresh_token");
        assert_eq!(form["refresh_token"], "rt-old");
        assert_eq!(form["resource"], "http://127.0.0.1:8787");
        let third = refresh(&http, &new).await.unwrap();
        assert_eq!(third.refresh_token.unwrap().expose(), "rt-new");
    }

    #[tokio::test]
    async fn a_refused_refresh_says_to_sign_in_again() {
        let stub = Stub::start(vec![Answer::error(400, "invalid_grant")]).await;
        let http = crate::http::client(None, Duration::from_secs(5)).unwrap();
        let err = refresh(&http, &session(&stub, 0, 10)).await.unwrap_err();
        let user = err.downcast_ref::<UserError>().unwrap();
        assert!(user.message.contains("has ended"), "{}", user.message);
        assert!(!user.message.contains("rt-old"));
        assert!(user.hint.as_deref().unwrap().contains("anyray login --sso"));
    }

    #[tokio::test]
    async fn revoke_says_what_the_provider_did_with_each_token() {
        let stub = Stub::start(vec![]).await;
        let http = crate::http::client(None, Duration::from_secs(5)).unwrap();
        let (rt, at) = revoke(&http, &session(&stub, 0, 10)).await;
        assert_eq!((rt, at), (Revocation::Revoked, Revocation::Revoked));
        let forms = stub.requests_to("/revoke");
        assert_eq!(forms[0]["token"], "rt-old");
        assert_eq!(forms[0]["token_type_hint"], "refresh_token");
        assert_eq!(forms[1]["token_type_hint"], "access_token");
        let mut without = session(&stub, 0, 10);
        without.revocation_endpoint = None;
        assert_eq!(revoke(&http, &without).await.0, Revocation::Unsupported);
    }
}
