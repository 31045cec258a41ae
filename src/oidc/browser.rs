//! The authorization code grant with PKCE (RFC 7636, S256) and a loopback redirect
//! (RFC 8252 §7.3): anyray listens on 127.0.0.1 on a port the OS picks, sends the
//! browser to the provider's authorization endpoint with `redirect_uri` pointing back
//! at that port, and takes the code from the one request that comes back with the
//! `state` it sent (and the provider's `iss`, RFC 9207). Anything else that reaches the
//! port is refused and does not end the wait: another local process cannot cut a login
//! short, nor slip its own code in.

use std::time::Duration;

use anyhow::{Context as _, Result};
use base64::Engine as _;
use sha2::Digest as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

use super::{Provider, session::Session};
use crate::error::UserError;

/// A browser login waiting for the user: the URL to open, and the listener the
/// browser comes back to.
pub(crate) struct Pending {
    pub url: String,
    redirect_uri: String,
    state: String,
    verifier: String,
    listener: TcpListener,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending")
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

/// The most a callback request may take to arrive in full, and its largest size.
const REQUEST_WAIT: Duration = Duration::from_secs(10);
const MAX_REQUEST: usize = 16 * 1024;

/// Binds the loopback listener and builds the authorization URL.
pub(crate) async fn start(provider: &Provider) -> Result<Pending> {
    let endpoint = provider.endpoint(
        &provider.metadata.authorization_endpoint,
        "a browser login (no authorization endpoint)",
        "use `anyray login --sso` (a code you enter on any device)",
    )?;
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .await
        .context("cannot listen on 127.0.0.1 for the browser to come back")?;
    let redirect_uri = format!(
        "http://127.0.0.1:{}/callback",
        listener.local_addr()?.port()
    );
    let verifier = super::random_token(32)?;
    let challenge =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(&verifier));
    let state = super::random_token(16)?;
    let mut url = url::Url::parse(endpoint)
        .with_context(|| format!("the authorization endpoint {endpoint:?} is not a URL"))?;
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in provider.client_params() {
            q.append_pair(k, &v);
        }
        q.append_pair("response_type", "code")
            .append_pair("redirect_uri", &redirect_uri)
            .append_pair("scope", &provider.config.scopes)
            .append_pair("state", &state)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
    }
    Ok(Pending {
        url: url.into(),
        redirect_uri,
        state,
        verifier,
        listener,
    })
}

/// What came back on the redirect.
enum Callback {
    Code(String),
    /// The provider's `error` (e.g. `access_denied`), with its description.
    Error(super::OAuthError),
}

/// Waits up to `wait` for the browser to come back, then trades the code for tokens.
pub(crate) async fn finish(
    provider: &Provider,
    pending: Pending,
    wait: Duration,
) -> Result<Session> {
    let callback = tokio::time::timeout(wait, accept(provider, &pending))
        .await
        .map_err(|_| {
            UserError::problem(format!(
                "the browser did not come back within {} s",
                wait.as_secs()
            ))
            .with_hint("run `anyray login --browser` again, or `anyray login --sso` to enter a code instead")
        })??;
    let code = match callback {
        Callback::Code(code) => code,
        Callback::Error(e) if e.error == "access_denied" => {
            return Err(UserError::problem(format!("the sign-in was denied ({})", e.describe()))
                .with_hint("run `anyray login --browser` again and approve, or ask your admin for access")
                .into());
        }
        Callback::Error(e) => return Err(e.into_user_error("the browser login failed").into()),
    };
    let tokens = provider
        .token(&[
            ("grant_type", "authorization_code".into()),
            ("code", code),
            ("redirect_uri", pending.redirect_uri.clone()),
            ("code_verifier", pending.verifier.clone()),
        ])
        .await
        .context("cannot finish the browser login")?
        .map_err(|e| e.into_user_error("the identity provider refused the sign-in code"))?;
    Ok(super::session_from(provider, tokens))
}

/// Serves the loopback port until one request carries this login's answer.
async fn accept(provider: &Provider, pending: &Pending) -> Result<Callback> {
    loop {
        let (stream, _) = pending
            .listener
            .accept()
            .await
            .context("the loopback listener failed")?;
        if let Some(callback) = handle(provider, pending, stream).await {
            return Ok(callback);
        }
    }
}

/// Reads one request; answers it; the callback when it is this login's.
async fn handle(provider: &Provider, pending: &Pending, mut stream: TcpStream) -> Option<Callback> {
    let target = tokio::time::timeout(REQUEST_WAIT, read_target(&mut stream))
        .await
        .ok()??;
    let (verdict, page) = judge(provider, pending, &target);
    let (status, title) = match &verdict {
        Some(Callback::Code(_)) => ("200 OK", "Signed in"),
        Some(Callback::Error(_)) => ("200 OK", "Sign-in not completed"),
        None => ("400 Bad Request", "Not this sign-in"),
    };
    let body = format!(
        "<!doctype html><meta charset=utf-8><title>anyray: {title}</title>\
         <h1>{title}</h1><p>{page}</p>"
    );
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\n\
         cache-control: no-store\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
    verdict
}

/// The request target of a `GET`, once the head has arrived.
async fn read_target(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut buf = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 || head.len() + n > MAX_REQUEST {
            return None;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let line = head.split(|b| *b == b'\r').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.split(' ');
    (parts.next()? == "GET").then_some(())?;
    Some(parts.next()?.to_string())
}

/// Whether a request target is this login's answer, and what the page says.
fn judge(provider: &Provider, pending: &Pending, target: &str) -> (Option<Callback>, &'static str) {
    let Ok(url) = url::Url::parse(&format!("http://127.0.0.1{target}")) else {
        return (None, "This is not a sign-in answer.");
    };
    if url.path() != "/callback" {
        return (None, "This is not a sign-in answer.");
    }
    let get = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    // RFC 6749 §10.12: an answer without this login's state is someone else's.
    if get("state").as_deref() != Some(pending.state.as_str()) {
        return (
            None,
            "This answer does not belong to the sign-in anyray is waiting for.",
        );
    }
    // RFC 9207: the issuer that answers must be the one asked (mix-up attacks).
    let iss = get("iss");
    let iss_ok = match &iss {
        Some(iss) => *iss == provider.config.issuer,
        None => {
            !provider
                .metadata
                .authorization_response_iss_parameter_supported
        }
    };
    if !iss_ok {
        return (None, "This answer comes from another identity provider.");
    }
    if let Some(error) = get("error") {
        let error = super::OAuthError {
            error,
            error_description: get("error_description"),
        };
        return (
            Some(Callback::Error(error)),
            "The sign-in did not complete. You can close this tab; anyray says why.",
        );
    }
    match get("code") {
        Some(code) if !code.is_empty() => (
            Some(Callback::Code(code)),
            "You are signed in to anyray. You can close this tab.",
        ),
        _ => (None, "This answer carries no code."),
    }
}

#[cfg(test)]
mod tests {
    use super::super::stub::{self, Answer, Stub};
    use super::*;

    async fn get(url: &str) -> u16 {
        let http = crate::http::client(None, Duration::from_secs(5)).unwrap();
        http.get(url).send().await.unwrap().status().as_u16()
    }

    fn param(url: &str, name: &str) -> String {
        url::Url::parse(url)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == name)
            .unwrap()
            .1
            .into_owned()
    }

    #[tokio::test]
    async fn pkce_state_and_iss_are_checked_before_the_code_is_used() {
        let stub = Stub::start(vec![Answer::tokens("at-b", Some("rt-b"), 60)]).await;
        let provider = stub.provider().await;
        let pending = start(&provider).await.unwrap();
        let url = pending.url.clone();
        assert!(url.starts_with(&format!("{}/auth?", stub.url)));
        assert_eq!(param(&url, "code_challenge_method"), "S256");
        assert_eq!(param(&url, "response_type"), "code");
        let redirect = param(&url, "redirect_uri");
        assert!(redirect.starts_with("http://127.0.0.1:") && redirect.ends_with("/callback"));
        let (state, challenge) = (param(&url, "state"), param(&url, "code_challenge"));
        let iss = url::form_urlencoded::byte_serialize(stub.url.as_bytes()).collect::<String>();

        let waiting = tokio::spawn({
            let provider = provider.clone();
            async move { finish(&provider, pending, Duration::from_secs(20)).await }
        });
        // Wrong state, wrong issuer, no issuer, another path: refused, the wait goes on.
        assert_eq!(
            get(&format!("{redirect}?code=evil&state=forged&iss={iss}")).await,
            400
        );
        assert_eq!(
            get(&format!(
                "{redirect}?code=evil&state={state}&iss=http%3A%2F%2Fevil"
            ))
            .await,
            400
        );
        assert_eq!(
            get(&format!("{redirect}?code=evil&state={state}")).await,
            400
        );
        assert_eq!(get(&redirect.replace("/callback", "/other")).await, 400);
        assert!(
            stub.token_requests().is_empty(),
            "no forged code was exchanged"
        );
        assert_eq!(
            get(&format!("{redirect}?code=good&state={state}&iss={iss}")).await,
            200
        );
        let session = waiting.await.unwrap().unwrap();
        assert_eq!(session.access_token.expose(), "at-b");

        let form = &stub.token_requests()[0];
        assert_eq!(form["grant_type"], "authorization_code");
        assert_eq!(form["code"], "good");
        assert_eq!(form["redirect_uri"], redirect);
        let verifier = &form["code_verifier"];
        let expected =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier));
        assert_eq!(
            challenge, expected,
            "S256(code_verifier) is the challenge sent"
        );
    }

    #[tokio::test]
    async fn denied_in_the_browser_and_no_answer_in_time() {
        let stub = Stub::start(vec![]).await;
        let provider = stub.provider().await;
        let pending = start(&provider).await.unwrap();
        let (redirect, state) = (
            param(&pending.url, "redirect_uri"),
            param(&pending.url, "state"),
        );
        let iss = url::form_urlencoded::byte_serialize(stub.url.as_bytes()).collect::<String>();
        let waiting = tokio::spawn({
            let provider = provider.clone();
            async move { finish(&provider, pending, Duration::from_secs(20)).await }
        });
        assert_eq!(
            get(&format!(
                "{redirect}?error=access_denied&state={state}&iss={iss}"
            ))
            .await,
            200
        );
        let err = waiting.await.unwrap().unwrap_err().to_string();
        assert!(err.starts_with("the sign-in was denied"), "{err}");

        let pending = start(&provider).await.unwrap();
        let err = finish(&provider, pending, Duration::from_millis(200))
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("did not come back"), "{err}");
    }

    #[tokio::test]
    async fn an_issuer_that_names_another_is_refused() {
        let stub = Stub::start_with(
            stub::Options {
                claimed_issuer: Some("https://other.example".into()),
                ..stub::Options::default()
            },
            vec![],
        )
        .await;
        let http = crate::http::client(None, Duration::from_secs(5)).unwrap();
        let err = Provider::discover(http, stub.config()).await.unwrap_err();
        assert!(err.to_string().contains("says its issuer is"), "{err}");
    }
}
