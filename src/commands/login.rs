//! `anyray login`: store the user's Anyray key (keyring, else a 0600 file), or sign in
//! with SSO (`--sso`, `--browser`: `super::sso`).

use std::io::Read;

use anyhow::{Context as _, Result};
use serde_json::json;

use super::Context;
use crate::auth::{OwnKeyProvider, Scheme};
use crate::cli::LoginArgs;
use crate::envvars;
use crate::error::{ExitStatus, SilentExit, UserError};
use crate::provider_env;
use crate::runtime::{self, Threads};
use crate::secrets::{self, Account, Secret, Store};

pub(super) fn run(args: &LoginArgs, ctx: &Context) -> Result<()> {
    if args.status {
        return status(ctx);
    }
    if let Some(provider) = args.provider {
        return store_provider_key(args, provider, ctx);
    }
    if args.sso || args.browser {
        let done = super::sso::sign_in(args.browser, ctx)?;
        // How the gateway wants the token, found out as for a key (no tokens spent).
        let scheme = detect_scheme(ctx, &done.session.access_token).map(|(s, header, from)| {
            let line = format!(
                "The gateway takes your access token {}, {from}.",
                super::gateway::describe(&s, &header)
            );
            (json!({"value": s, "source": from}), line)
        });
        return super::sso::report(ctx, &done, scheme);
    }
    let token = read_token(args, ctx, "Anyray key:")?;
    let store = secrets::store(Account::Anyray, &token)?;
    // One credential at a time: a key replaces an SSO session (revoked at the provider).
    let replaced_sso = super::sso::replace_with_key(ctx)?;
    let scheme = detect_scheme(ctx, &token);
    let p = &ctx.printer;
    if p.json {
        p.json(&json!({
            "stored": true,
            "store": store,
            "auth_scheme": scheme.as_ref().map(|(s, _, from)| json!({"value": s, "source": from})),
        }))?;
    } else {
        match &store {
            Store::Keyring => p.line("Stored your Anyray key in the OS keyring."),
            Store::File { path } => p.line(format!(
                "No working OS keyring here; stored your Anyray key in {} (mode 0600).",
                path.display()
            )),
            Store::Env { .. } => unreachable!("store never writes the environment"),
        }
        if replaced_sso {
            p.line("Your SSO session was signed out: the key replaces it.");
        }
    }
    if let (false, Some((scheme, header, from))) = (p.json, &scheme) {
        p.line(format!(
            "The gateway takes your key {}, {from}.",
            super::gateway::describe(scheme, header)
        ));
        if *scheme == Scheme::Key {
            p.line(
                "Claude Code and Codex get it from `anyray token`: run `anyray connect` (again, \
                 if they are connected) to set that up.",
            );
        }
    }
    if envvars::get(envvars::ANYRAY_TOKEN).is_some() {
        p.warn("ANYRAY_TOKEN is set in your environment and takes precedence over the stored key");
    }
    Ok(())
}

/// How the configured gateway wants the key just stored: the config's or discovery's
/// answer, else detected now (no tokens spent) and remembered in the config. `None`
/// (with a warning) when the gateway cannot tell us; the key is stored either way.
fn detect_scheme(ctx: &Context, key: &Secret) -> Option<(Scheme, String, &'static str)> {
    let settings = ctx.settings(ctx.overrides()).ok()?;
    let found = runtime::block_on(Threads::Current, async {
        let client = crate::http::client(
            settings.ca_file.as_ref().map(|c| c.value.as_path()),
            provider_env::DETECT_TIMEOUT,
        )?;
        let discovery = crate::discovery::fetch(&client, &settings.gateway.value)
            .await
            .ok()
            .flatten();
        let gw = &settings.gateway.value;
        provider_env::auth_plan(&settings, gw, discovery.as_ref(), Some(key.clone()), true).await
    });
    match found {
        Ok(Ok(plan)) => {
            if let Some(note) = &plan.note {
                ctx.printer.warn(note);
            }
            (plan.scheme_from != "default").then_some((
                plan.scheme,
                plan.header.0,
                plan.scheme_from,
            ))
        }
        Ok(Err(err)) | Err(err) => {
            ctx.printer.warn(format!(
                "cannot ask the gateway how it wants the key: {err:#}"
            ));
            None
        }
    }
}

/// `anyray login --provider P`: the user's own key for P, used only to fail open.
fn store_provider_key(args: &LoginArgs, provider: OwnKeyProvider, ctx: &Context) -> Result<()> {
    let name = provider.provider().key();
    let token = read_token(args, ctx, &format!("Your own {name} API key:"))?;
    if secrets::load()?.is_some_and(|(anyray, _)| anyray == token) {
        return Err(UserError::usage(format!(
            "that is your Anyray (gateway) key, not your own {name} key"
        ))
        .with_hint("fail-open never sends the gateway's key to a provider; give a key from the provider's own console")
        .into());
    }
    let store = secrets::store(Account::Provider(provider.provider()), &token)?;
    let p = &ctx.printer;
    if p.json {
        return p.json(&json!({ "stored": true, "store": store, "provider": name }));
    }
    p.line(format!(
        "Stored your own {name} key in {store}. The relay sends it to {name} only when it fails \
         open (relay.fallback = direct) while the gateway's key is the tools' API key."
    ));
    Ok(())
}

fn read_token(args: &LoginArgs, ctx: &Context, prompt: &str) -> Result<Secret> {
    let raw = if args.token_stdin {
        let mut buf = String::new();
        std::io::stdin()
            .read_to_string(&mut buf)
            .context("cannot read the key from standard input")?;
        buf
    } else if ctx.printer.interactive() {
        inquire::Password::new(prompt)
            .without_confirmation()
            .with_display_mode(inquire::PasswordDisplayMode::Hidden)
            .with_help_message("from your org's Anyray portal; it is stored in the OS keyring")
            .prompt()
            .map_err(|e| UserError::usage(format!("no key entered ({e})")))?
    } else {
        return Err(UserError::usage("no terminal to ask for the key")
            .with_hint("pipe it in: `printf '%s' \"$KEY\" | anyray login --token-stdin`")
            .into());
    };
    let token = raw.trim();
    if token.is_empty() {
        return Err(UserError::usage("the key is empty").into());
    }
    if token.chars().any(char::is_control) {
        return Err(UserError::usage("the key contains control characters")
            .with_hint("pass only the key, on one line")
            .into());
    }
    Ok(Secret::new(token))
}

fn status(ctx: &Context) -> Result<()> {
    let found = secrets::load()?;
    let sso = super::sso::status()?;
    let p = &ctx.printer;
    if p.json {
        p.json(&json!({
            "stored": found.is_some(),
            "store": found.as_ref().map(|(_, s)| s),
            "sso": sso.as_ref().map(|(doc, ..)| doc),
        }))?;
    } else {
        if let Some((_, line, _)) = &sso {
            p.line(line);
        }
        match (&found, &sso) {
            (Some((_, store)), _) => p.line(format!("Your Anyray key is in {store}.")),
            (None, None) => p.line(
                "No Anyray key is stored and no SSO session. Run `anyray login` to store a key, \
                 or `anyray login --sso` to sign in.",
            ),
            (None, Some(_)) => {}
        }
    }
    // Exit 1 when the tools would get no credential: nothing stored, or only an SSO
    // session that has expired and cannot be renewed.
    match (found, sso) {
        (Some(_), _) | (None, Some((_, _, true))) => Ok(()),
        _ => Err(SilentExit(ExitStatus::Problem).into()),
    }
}
