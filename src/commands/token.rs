//! `anyray token`: the current gateway key on stdout, for the tools' credential helpers
//! (Claude Code's `apiKeyHelper`, Codex's `[model_providers.anyray.auth]` command).
//!
//! The tools run it without a terminal, on every refresh, so it never prompts and never
//! reads stdin, resolves no settings and opens no connection: it asks
//! [`secrets::load`], the one answer to "what is the current gateway credential",
//! and prints it. Every failure is exactly one line on stderr (Claude Code shows it
//! verbatim: `apiKeyHelper failed: exited 1: <line>`) and a non-zero exit.

use anyhow::Result;
use serde_json::json;

use super::Context;
use crate::cli::TokenArgs;
use crate::error::{UserError, classify};
use crate::secrets;

pub(super) fn run(_args: &TokenArgs, ctx: &Context) -> Result<()> {
    let found = secrets::load().map_err(one_line)?;
    let Some((key, store)) = found else {
        return Err(
            UserError::problem("no Anyray key is stored: run `anyray login` to store one").into(),
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
