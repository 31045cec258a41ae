//! `anyray token`: the current gateway key on stdout, for the tools' credential helpers
//! (Claude Code's `apiKeyHelper`, Codex's `[model_providers.anyray.auth]` command).
//!
//! The tools run it without a terminal, on every refresh, so it never prompts and never
//! reads stdin, and resolves no settings and opens no connection unless an SSO access
//! token is due for a refresh: it asks `sso::credential`, the one answer to "what is
//! the current gateway credential", and prints it. Every failure is exactly one line on stderr (Claude Code shows it
//! verbatim: `apiKeyHelper failed: exited 1: <line>`) and a non-zero exit.

use anyhow::Result;
use serde_json::json;

use super::Context;
use crate::cli::TokenArgs;
use crate::error::{UserError, classify};

pub(super) fn run(_args: &TokenArgs, ctx: &Context) -> Result<()> {
    let found = super::sso::credential(ctx).map_err(one_line)?;
    let Some((key, store)) = found else {
        return Err(
            UserError::problem(
                "no Anyray key is stored and no SSO session: run `anyray login` (or `anyray login --sso`)",
            )
            .into(),
        );
    };
    if ctx.printer.json {
        return ctx
            .printer
            .json(&json!({ "token": key.expose(), "store": store }));
    }
    ctx.printer.data(format!("{}\n", key.expose()));
    Ok(())
}

/// The error with its hint folded into the message: a helper's caller shows one line.
fn one_line(err: anyhow::Error) -> anyhow::Error {
    let outcome = classify(&err);
    let message = match outcome.hint {
        Some(hint) => format!("{err:#}: {hint}"),
        None => format!("{err:#}"),
    };
    UserError::new(outcome.status, message).into()
}
