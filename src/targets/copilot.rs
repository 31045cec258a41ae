//! GitHub Copilot CLI in bring-your-own-key mode: no file sets its endpoint, only the
//! environment (`copilot help providers`, 1.0.102; docs.github.com "Use BYOK models"):
//!
//! - `COPILOT_PROVIDER_BASE_URL`: `{gw}/v1` for `openai`, the origin `{gw}` for
//!   `anthropic`. Setting it turns BYOK on (no GitHub login needed).
//! - `COPILOT_PROVIDER_TYPE`: `openai` (the default) or `anthropic`; the OpenAI route when
//!   the gateway serves it, else the Anthropic one.
//! - `COPILOT_MODEL`: required in BYOK mode. `gpt-4o-mini` / `claude-sonnet-4-5` unless
//!   the user's own environment sets it already (never clobbered); Copilot's own
//!   `--model` picks another per run.
//! - `COPILOT_PROVIDER_API_KEY_COMMAND`: in the `key` scheme, connected directly,
//!   `/path/to/anyray token`, as Claude Code's `apiKeyHelper` (the gateway wants the
//!   user's Anyray key as the tool's key). Otherwise `printenv OPENAI_API_KEY` (or
//!   `ANTHROPIC_API_KEY`). Copilot runs it per request and sends what it prints as the
//!   key, so the key stays in the keyring or the variable the user already has: never in
//!   a file. An
//!   empty key stops Copilot ("returned an empty API key"), so with the relay, which
//!   supplies the key, the command falls back to the relay's placeholder. Not on Windows,
//!   which has no `printenv`/`sh`: the user sets `COPILOT_PROVIDER_API_KEY` there.
//! - `COPILOT_PROVIDER_HEADERS`: the route's fixed headers, `Name: value` per line
//!   (sent only to the provider), so a route that needs headers works without the relay.
//!
//! `connect copilot` writes them into anyray's shell env files (the shell target's files,
//! as with gemini), so new terminals get them; once there, `connect shell` keeps them.
//! `disconnect copilot` restores the shell target's files. `anyray run -- copilot` sets
//! the same variables for one run. Installed: `copilot` on PATH, or `$COPILOT_HOME`
//! (`~/.copilot`) exists.

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::declared::env_dir;
use super::helper;
use super::shell::{ShellTarget, new_terminal_endpoint};
use super::{Ctx, Detection, Effective, Target, TargetPlan, detect};
use crate::auth::{FixedHeaders, Scheme};
use crate::connect::TargetName;
use crate::gateway_url::{Provider, Routes};
use crate::provider_env::EnvVar;
use crate::settings::Via;
use crate::shell::Syntax;

pub(super) struct Copilot;

const BASE_URL: &str = "COPILOT_PROVIDER_BASE_URL";
const MODEL: &str = "COPILOT_MODEL";
const KEY_COMMAND: &str = "COPILOT_PROVIDER_API_KEY_COMMAND";

/// How Copilot reaches one gateway route.
struct Route {
    provider: Provider,
    provider_type: &'static str,
    model: &'static str,
    /// The variable the key command prints.
    key_var: &'static str,
}

/// In order of preference.
const ROUTES: [Route; 2] = [
    Route {
        provider: Provider::Openai,
        provider_type: "openai",
        model: "gpt-4o-mini",
        key_var: "OPENAI_API_KEY",
    },
    Route {
        provider: Provider::Anthropic,
        provider_type: "anthropic",
        model: "claude-sonnet-4-5",
        key_var: "ANTHROPIC_API_KEY",
    },
];

fn home() -> Result<PathBuf> {
    env_dir(crate::envvars::COPILOT_HOME, || {
        Ok(crate::paths::home_dir()?.join(".copilot"))
    })
}

/// The command that prints the key from `var`: with the relay, its placeholder when
/// `var` is unset (the relay supplies the key). `None` on Windows (no `printenv`, no `sh`).
fn key_command(var: &str, via: Via) -> Option<String> {
    if cfg!(windows) {
        return None;
    }
    Some(match via {
        Via::Direct => format!("printenv {var}"),
        Via::Relay => format!(
            "sh -c 'printf %s \"${{{var}:-{}}}\"'",
            crate::auth::RELAY_PLACEHOLDER_KEY
        ),
    })
}

/// The variables that point Copilot CLI at the gateway; `model`: with `COPILOT_MODEL`;
/// `helper`: the key command when anyray supplies the key (`anyray token`). Empty when
/// the gateway serves neither route Copilot speaks.
fn vars(
    routes: &Routes,
    headers: &FixedHeaders,
    via: Via,
    model: bool,
    helper: Option<String>,
) -> Vec<EnvVar> {
    let Some((route, url)) = ROUTES
        .iter()
        .find_map(|r| routes.get(r.provider).map(|url| (r, url)))
    else {
        return Vec::new();
    };
    let mut vars = vec![
        EnvVar::new(BASE_URL, url),
        EnvVar::new("COPILOT_PROVIDER_TYPE", route.provider_type),
    ];
    if let Some(command) = helper.or_else(|| key_command(route.key_var, via)) {
        vars.push(EnvVar::new(KEY_COMMAND, command));
    }
    if model {
        vars.push(EnvVar::new(MODEL, route.model));
    }
    let fixed = headers.for_route(Some(route.provider));
    if !fixed.is_empty() {
        vars.push(EnvVar::new(
            "COPILOT_PROVIDER_HEADERS",
            FixedHeaders::lines(&fixed),
        ));
    }
    vars
}

/// Whether one of anyray's env files in `dir` sets `name`.
fn env_files_set(dir: &Path, name: &str) -> bool {
    Syntax::ALL.into_iter().any(|syntax| {
        std::fs::read_to_string(dir.join(syntax.file_name()))
            .is_ok_and(|text| syntax.sets(&text, name))
    })
}

/// The Copilot variables anyray's shell env files get: with `connect copilot`
/// (`wanted`), or when they hold them already (so that connecting the shell again keeps
/// them). `COPILOT_MODEL` is left to a user whose own environment sets it.
pub(super) fn env_file_vars(ctx: &Ctx, wanted: bool) -> Result<Vec<EnvVar>> {
    let dir = crate::paths::config_dir()?;
    if !wanted && !env_files_set(&dir, BASE_URL) {
        return Ok(Vec::new());
    }
    let model = env_files_set(&dir, MODEL) || crate::envvars::get(MODEL).is_none();
    // The gateway takes the Anyray key as the tool's own: Copilot asks `anyray token`
    // for it, as Claude Code and Codex do (not on Windows, as `key_command`).
    let token = ctx.scheme == Some(Scheme::Key) && ctx.via == Via::Direct && !cfg!(windows);
    let helper = token.then(|| helper::shell_command(&ctx.program));
    Ok(vars(&ctx.routes, &ctx.headers, ctx.via, model, helper))
}

/// The variables `anyray run -- copilot` adds (a `COPILOT_MODEL` already set stays).
/// `run --relay` sets the key variable to the relay's placeholder itself when unset.
pub(super) fn run_env(routes: &Routes, headers: &FixedHeaders) -> Vec<EnvVar> {
    let model = crate::envvars::get(MODEL).is_none();
    vars(routes, headers, Via::Direct, model, None)
}

impl Target for Copilot {
    fn name(&self) -> TargetName {
        TargetName::Copilot
    }

    /// Every file is one of the shell target's env or startup files.
    fn owner(&self, _file: &Path) -> TargetName {
        TargetName::Shell
    }

    fn owners(&self) -> Vec<TargetName> {
        vec![TargetName::Copilot, TargetName::Shell]
    }

    fn detect(&self) -> Detection {
        detect("copilot", home())
    }

    fn plan(&self, ctx: &Ctx) -> Result<TargetPlan> {
        let extra = env_file_vars(ctx, true)?;
        if extra.is_empty() {
            return Ok(TargetPlan {
                skip: Some("the gateway serves no openai or anthropic route".into()),
                ..TargetPlan::default()
            });
        }
        let mut plan = ShellTarget.plan_with(ctx, extra.clone())?;
        let key = match extra.iter().find(|v| v.name == KEY_COMMAND) {
            Some(command) => format!(
                "its key is what `{}` prints, run per request",
                command.value
            ),
            None => "set COPILOT_PROVIDER_API_KEY yourself: on Windows anyray writes no key \
                     command (no printenv)"
                .into(),
        };
        plan.notes = vec![
            format!(
                "Copilot CLI uses the gateway in new terminals (BYOK mode, no GitHub model \
                 routing); {key}"
            ),
            "`disconnect copilot` also restores the shell env files (they are the shell \
             target's)"
                .into(),
        ];
        if !extra.iter().any(|v| v.name == MODEL) {
            plan.notes.push(
                "COPILOT_MODEL is already set in your environment: anyray leaves the model \
                 to it"
                    .into(),
            );
        }
        Ok(plan)
    }

    fn effective(&self, _ctx: &Ctx) -> Result<Effective> {
        let mut effective = new_terminal_endpoint(BASE_URL)?;
        effective.endpoint.get_or_insert_with(|| {
            "GitHub Copilot's own models (no COPILOT_PROVIDER_BASE_URL)".into()
        });
        Ok(effective)
    }
}
