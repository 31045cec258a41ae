//! `anyray login`: store the user's Anyray key (keyring, else a 0600 file).

use std::io::Read;

use anyhow::{Context as _, Result};
use serde_json::json;

use super::Context;
use crate::cli::LoginArgs;
use crate::envvars;
use crate::error::{ExitStatus, SilentExit, UserError};
use crate::secrets::{self, Secret, Store};

pub(super) fn run(args: &LoginArgs, ctx: &Context) -> Result<()> {
    if args.status {
        return status(ctx);
    }
    let token = read_token(args, ctx)?;
    let store = secrets::store(&token)?;
    let p = &ctx.printer;
    if p.json {
        p.json(&json!({ "stored": true, "store": store }))?;
    } else {
        match &store {
            Store::Keyring => p.line("Stored your Anyray key in the OS keyring."),
            Store::File { path } => p.line(format!(
                "No working OS keyring here; stored your Anyray key in {} (mode 0600).",
                path.display()
            )),
            Store::Env { .. } => unreachable!("store never writes the environment"),
        }
    }
    if envvars::get(envvars::ANYRAY_TOKEN).is_some() {
        p.warn("ANYRAY_TOKEN is set in your environment and takes precedence over the stored key");
    }
    Ok(())
}

fn read_token(args: &LoginArgs, ctx: &Context) -> Result<Secret> {
    let raw = if args.token_stdin {
        let mut buf = String::new();
        std::io::stdin()
            .read_to_string(&mut buf)
            .context("cannot read the key from standard input")?;
        buf
    } else if ctx.printer.interactive() {
        inquire::Password::new("Anyray key:")
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
    let p = &ctx.printer;
    if p.json {
        p.json(&json!({ "stored": found.is_some(), "store": found.as_ref().map(|(_, s)| s) }))?;
    } else {
        match &found {
            Some((_, store)) => p.line(format!("Your Anyray key is in {store}.")),
            None => p.line("No Anyray key is stored. Run `anyray login` to store one."),
        }
    }
    match found {
        Some(_) => Ok(()),
        None => Err(SilentExit(ExitStatus::Problem).into()),
    }
}
