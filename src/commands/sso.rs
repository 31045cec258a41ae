//! The SSO side of `anyray login` (`--sso`: a code entered on any device; `--browser`:
//! this machine's browser), `login --status` and `logout`. The protocol is in
//! `crate::oidc`; this is what the user sees.

use std::time::Duration;

use anyhow::Result;
use serde_json::{Value, json};

use super::Context;
use crate::discovery::{self, Discovery};
use crate::error::UserError;
use crate::oidc::session::{self, Revocation, Session};
use crate::oidc::{self, Provider, browser, device};
use crate::output::Printer;
use crate::runtime::{self, Threads};
use crate::secrets::{self, Account, Secret, Store};
use crate::settings::Settings;

/// How long each request to the identity provider (or the gateway's discovery) may take.
const HTTP_TIMEOUT: Duration = Duration::from_secs(15);
/// How long `login --browser` waits for the browser to come back.
const BROWSER_WAIT: Duration = Duration::from_secs(300);

/// The current gateway credential (`oidc::session::credential`) for `anyray token`, the
/// relay and `run`. The settings (for the CA file) are read only for a refresh.
pub(crate) fn credential(ctx: &Context) -> Result<Option<(Secret, Store)>> {
    let http = || {
        // Resolved only for a refresh, without printing the settings' warnings: a
        // credential helper's caller shows every stderr line.
        client(&Settings::resolve(&ctx.overrides())?)
    };
    runtime::block_on(Threads::Current, session::credential(http))?
}

/// How often a running relay asks for the current credential: well inside the margin an
/// SSO session is renewed ahead of its expiry, and cheap (one keyring read; a renewal
/// only when due).
const RELAY_RENEW_EVERY: Duration = Duration::from_secs(15);

/// Keeps a running relay's credential current, in the background: an SSO access token
/// renewed shortly before it expires, a key stored again by `anyray login`. Runs until
/// the runtime stops; a lookup that fails keeps the credential the relay has.
pub(crate) fn keep_relay_credential_fresh(
    relay: &crate::relay::RelayHandle,
    identity: &crate::relay::Identity,
    settings: Settings,
) {
    let updater = relay.identity_updater();
    let (scheme, header) = (identity.scheme, identity.header.to_string());
    let mut current = identity.secret().clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(RELAY_RENEW_EVERY);
        every.tick().await;
        loop {
            every.tick().await;
            let Ok(Some((key, _))) = session::credential(|| client(&settings)).await else {
                continue;
            };
            if key != current
                && let Ok(identity) = crate::auth::Credential::new(scheme, &header, key.clone())
            {
                updater.set(identity);
                current = key;
            }
        }
    });
}

/// A finished SSO login: the session, where it is stored, and whether it replaced a key.
pub(super) struct SignedIn {
    pub session: Session,
    store: Store,
    replaced_key: bool,
    browser: bool,
}

/// `anyray login --sso` / `--browser`: signs in and stores the session ([`report`]
/// tells the user).
pub(super) fn sign_in(browser: bool, ctx: &Context) -> Result<SignedIn> {
    let settings = ctx.settings(ctx.overrides())?;
    let p = &ctx.printer;
    let before = session::load().ok().flatten();
    let session = runtime::block_on(Threads::Current, async {
        let http = client(&settings)?;
        let discovery = gateway_discovery(&http, &settings, ctx).await;
        let config = settings.oidc_config(discovery.as_ref())?;
        let provider = Provider::discover(http.clone(), config).await?;
        let session = if browser {
            browser_login(&provider, p).await?
        } else {
            device_login(&provider, p).await?
        };
        // The session this one replaces is revoked, not left alive at the provider.
        if let Some((old, _)) = &before
            && old.refresh_token != session.refresh_token
        {
            let _ = session::revoke(&http, old).await;
        }
        anyhow::Ok(session)
    })??;
    let lock = session::lock()?;
    let store = session::store(&session)?;
    // One credential at a time: the SSO session replaces a stored key.
    let replaced_key = secrets::remove(Account::Anyray)?;
    drop(lock);
    Ok(SignedIn {
        session,
        store,
        replaced_key: !replaced_key.is_empty(),
        browser,
    })
}

/// What `login --sso` says: the session, and how the gateway takes the token
/// (`scheme`: the JSON and the human line, when it is known).
pub(super) fn report(
    ctx: &Context,
    done: &SignedIn,
    scheme: Option<(Value, String)>,
) -> Result<()> {
    let p = &ctx.printer;
    let SignedIn { session, store, .. } = done;
    if p.json {
        return p.json(&json!({
            "stored": true,
            "store": store,
            "method": if done.browser { "browser" } else { "device" },
            "sso": session_doc(session, store),
            "auth_scheme": scheme.map(|(doc, _)| doc),
        }));
    }
    let who = session
        .subject
        .as_deref()
        .map_or(String::new(), |s| format!(" as {s}"));
    p.line(format!(
        "Signed in{who} at {}. Your SSO session is in {store}; `anyray token` renews its \
         access token before it expires (now valid for {}).",
        session.issuer,
        duration(session.expires_in(oidc::now()))
    ));
    if done.replaced_key {
        p.line("The Anyray key stored before was removed: the SSO session replaces it.");
    }
    if let Some((_, line)) = scheme {
        p.line(line);
    }
    if session.refresh_token.is_none() {
        p.warn(format!(
            "{} issued no refresh token: you will have to sign in again when the access token expires (ask your admin to allow offline_access for this client)",
            session.issuer
        ));
    }
    Ok(())
}

fn client(settings: &Settings) -> Result<reqwest::Client> {
    crate::http::client(
        settings.ca_file.as_ref().map(|c| c.value.as_path()),
        HTTP_TIMEOUT,
    )
}

/// The gateway's discovery, for its `auth.oidc` block; the remembered answer when the
/// gateway cannot be asked now (the config may still name everything).
async fn gateway_discovery(
    http: &reqwest::Client,
    settings: &Settings,
    ctx: &Context<'_>,
) -> Option<Discovery> {
    let gw = &settings.gateway.value;
    match discovery::fetch(http, gw).await {
        Ok(found) => {
            discovery::remember(gw, found.as_ref());
            found
        }
        Err(e) => {
            let remembered = discovery::remembered(gw);
            if settings.oidc.issuer.is_none() || settings.oidc.client_id.is_none() {
                ctx.printer.warn(format!(
                    "cannot read the gateway's discovery ({e:#}){}",
                    if remembered.is_some() {
                        "; using its last answer"
                    } else {
                        ""
                    }
                ));
            }
            remembered
        }
    }
}

async fn device_login(provider: &Provider, p: &Printer) -> Result<Session> {
    let auth = device::start(provider).await?;
    for shown in [Some(&auth.user_code), Some(&auth.verification_uri)]
        .into_iter()
        .chain([auth.verification_uri_complete.as_ref()])
        .flatten()
    {
        // A provider's text goes to the terminal: no escape sequences.
        if shown.chars().any(char::is_control) {
            return Err(UserError::problem(
                "the identity provider's device login answer holds control characters",
            )
            .into());
        }
    }
    p.instruct(format!(
        "To sign in, open this page on any device:\n\n    {}\n\nand enter the code\n\n    {}\n",
        auth.verification_uri, auth.user_code
    ));
    if let Some(complete) = &auth.verification_uri_complete {
        p.instruct(format!(
            "(or open {complete}, which has the code filled in)\n"
        ));
    }
    p.instruct(format!(
        "Approve only if the page shows this same code. Waiting for you to approve \
         (the code expires in {}; Ctrl-C cancels)...",
        duration(auth.expires_in as i64)
    ));
    device::wait(provider, &auth, device::Pacing::default()).await
}

async fn browser_login(provider: &Provider, p: &Printer) -> Result<Session> {
    let pending = browser::start(provider).await?;
    p.instruct(format!(
        "Opening your browser to sign in. If it does not open, open this page yourself:\n\n    {}\n",
        pending.url
    ));
    if let Err(why) = open_browser(&pending.url) {
        p.instruct(format!("(could not open a browser: {why})"));
    }
    p.instruct(format!(
        "Waiting up to {} for the browser to come back (Ctrl-C cancels)...",
        duration(BROWSER_WAIT.as_secs() as i64)
    ));
    browser::finish(provider, pending, BROWSER_WAIT).await
}

/// Opens `url` in the user's browser without waiting for it.
fn open_browser(url: &str) -> std::io::Result<()> {
    #[cfg(target_os = "macos")]
    let mut cmd = std::process::Command::new("open");
    // rundll32 takes the URL as one argument; `cmd /c start` would split it at `&`.
    #[cfg(windows)]
    let mut cmd = {
        let mut cmd = std::process::Command::new("rundll32");
        cmd.arg("url.dll,FileProtocolHandler");
        cmd
    };
    #[cfg(all(unix, not(target_os = "macos")))]
    let mut cmd = std::process::Command::new("xdg-open");
    cmd.arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map(drop)
}

/// `login --status`'s view of the session: never a token.
pub(super) fn session_doc(session: &Session, store: &Store) -> Value {
    json!({
        "issuer": session.issuer,
        "client_id": session.client_id,
        "subject": session.subject,
        "expires_at": session.expires_at,
        "expires_in_s": session.expires_in(oidc::now()),
        "refreshable": session.refresh_token.is_some(),
        "store": store,
    })
}

/// The stored session for `login --status`: its document, its human line, and whether
/// it can still give the tools a token.
pub(super) fn status() -> Result<Option<(Value, String, bool)>> {
    let Some((session, store)) = session::load()? else {
        return Ok(None);
    };
    let left = session.expires_in(oidc::now());
    let who = session
        .subject
        .as_deref()
        .map_or(String::new(), |s| format!(" as {s}"));
    let token = match (left > 0, session.refresh_token.is_some()) {
        (true, true) => format!(
            "its access token expires in {} and is renewed on its own",
            duration(left)
        ),
        (true, false) => format!(
            "its access token expires in {} and cannot be renewed",
            duration(left)
        ),
        (false, true) => "its access token has expired; the next `anyray token` renews it".into(),
        (false, false) => "it has expired: run `anyray login --sso` to sign in again".into(),
    };
    let line = format!(
        "Signed in with SSO{who} at {} (session in {store}); {token}.",
        session.issuer
    );
    let usable = session.usable(oidc::now());
    Ok(Some((session_doc(&session, &store), line, usable)))
}

/// Revokes and deletes the SSO session (`logout`); `None` when there is none.
pub(super) fn logout(ctx: &Context) -> Result<Option<Value>> {
    let lock = session::lock()?;
    let Some((session, _)) = session::load()? else {
        drop(lock);
        return Ok(None);
    };
    let settings = ctx.settings(ctx.overrides())?;
    let (refresh, access) = runtime::block_on(Threads::Current, async {
        match client(&settings) {
            Ok(http) => session::revoke(&http, &session).await,
            Err(e) => {
                let failed = Revocation::Failed(format!("{e:#}"));
                (failed.clone(), failed)
            }
        }
    })?;
    let removed = session::remove()?;
    drop(lock);
    let p = &ctx.printer;
    let issuer = &session.issuer;
    let left = session.expires_in(oidc::now());
    match &refresh {
        Revocation::Revoked => p.line(format!(
            "Revoked your SSO session at {issuer}: it can no longer be renewed."
        )),
        Revocation::Unsupported => p.warn(format!(
            "{issuer} offers no revocation (RFC 7009): your refresh token stays valid there until it expires; it is deleted here"
        )),
        Revocation::Failed(why) => p.warn(format!(
            "could not revoke your SSO session at {issuer} ({why}); it is deleted here, and stays valid there until it expires"
        )),
        Revocation::NotRevocable(_) | Revocation::None => {}
    }
    match &access {
        Revocation::Revoked => p.line("Revoked its access token too."),
        _ if left > 0 => p.line(format!(
            "Its access token cannot be revoked ({}): it stays valid for {} more, then the tools get a clear error naming `anyray login`.",
            match &access {
                Revocation::NotRevocable(why) => format!("the provider says: {why}"),
                _ => "a signed token is checked offline".into(),
            },
            duration(left)
        )),
        _ => {}
    }
    for store in &removed {
        p.line(format!("Removed your SSO session from {store}."));
    }
    Ok(Some(json!({
        "issuer": issuer,
        "refresh_token": refresh,
        "access_token": access,
        "access_token_expires_in_s": left,
        "removed": removed,
    })))
}

/// Revokes and deletes the SSO session quietly when a key login replaces it.
pub(super) fn replace_with_key(ctx: &Context) -> Result<bool> {
    let Some((session, _)) = session::load()? else {
        return Ok(false);
    };
    if let Ok(settings) = ctx.settings(ctx.overrides()) {
        let _ = runtime::block_on(Threads::Current, async {
            if let Ok(http) = client(&settings) {
                session::revoke(&http, &session).await;
            }
        });
    }
    let _lock = session::lock()?;
    session::remove()?;
    Ok(true)
}

/// `90 s`, `5 min`, `2 h`: how long, for people.
fn duration(secs: i64) -> String {
    match secs.max(0) {
        s if s < 120 => format!("{s} s"),
        s if s < 2 * 3600 => format!("{} min", s / 60),
        s => format!("{} h", s / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::duration;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(-3), "0 s");
        assert_eq!(duration(30), "30 s");
        assert_eq!(duration(600), "10 min");
        assert_eq!(duration(3 * 3600 + 5), "3 h");
    }
}
