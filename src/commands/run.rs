//! `anyray run [--relay] -- CMD [ARGS…]`: run a command with the gateway environment
//! layered over the current one, touching no file. Tools that do not take their endpoint
//! from the environment get per-run arguments from their target module
//! ([`targets::run_args`]). With `--relay`, an ephemeral in-process relay on a free
//! loopback port serves the command for its lifetime; otherwise anyray execs the command
//! in its own place.
//!
//! `--print-env --json` prints (fields are only ever added):
//!
//! ```json
//! {
//!   "command": ["claude", "-p", "hi"],     // as it would run, with the added arguments
//!   "added_args": ["--settings", "{…}"],
//!   "endpoint": "https://gw.example",      // the URL the command uses
//!   "via": "direct",                       // "direct" | "relay"
//!   "relay": false,                        // whether --relay starts an ephemeral relay
//!   "identity": "x-anyray-key",            // header the relay adds (never the key), or null
//!   "vars": [{"name": "OPENAI_BASE_URL", "value": "https://gw.example/v1"}]
//! }
//! ```

use std::ffi::OsString;

use anyhow::Result;
use serde::Serialize;

use super::Context;
use crate::auth::{self, Scheme};
use crate::cli::RunArgs;
use crate::error::{ChildExit, UserError};
use crate::launch::Launch;
use crate::provider_env::{self, AuthPlan, EnvVar, ToolEnv};
use crate::relay::{self, LogTarget, Relay, RelayConfig};
use crate::runtime::{self, Threads};
use crate::secrets::Secret;
use crate::settings::Via;
use crate::settings::{Overrides, Settings};
use crate::targets;

pub(super) fn run(args: &RunArgs, ctx: &Context) -> Result<()> {
    let Some((program, rest)) = args.command.split_first() else {
        return Err(UserError::usage("no command to run")
            .with_hint("put it after `--`, e.g. `anyray run -- claude`")
            .into_code(127));
    };
    let mut settings = ctx.settings(Overrides {
        gateway: args.gateway.clone(),
        via: args.via,
        ..ctx.overrides()
    })?;
    if args.print_env {
        if args.relay {
            // Show the variables as they would point at an ephemeral relay.
            settings.via.value = Via::Relay;
            settings.relay.listen = "127.0.0.1:0".parse().expect("a socket address");
        }
        let env = runtime::block_on(
            Threads::Current,
            provider_env::resolve(&settings, &ctx.printer),
        )??;
        let launch = launch(program, rest, &env);
        let identity = if args.relay {
            identity_header(&settings, ctx)?
        } else {
            None
        };
        return print_env(ctx, &launch, rest, &env, args.relay, identity);
    }
    // The keys first: the keyring blocks, so they are read before the runtime starts.
    // Without the relay the key is needed only where it is the tools' API key (or to
    // find out whether it is).
    let header_scheme = settings
        .auth_scheme
        .as_ref()
        .is_some_and(|s| s.value == Scheme::Header);
    let key = if args.relay || !header_scheme {
        super::sso::credential(ctx)?.map(|(key, _store)| key)
    } else {
        None
    };
    if !args.relay {
        let launch = runtime::block_on(Threads::Current, async {
            let env = provider_env::resolve(&settings, &ctx.printer).await?;
            let plan = provider_env::auth_plan(
                &settings,
                &settings.gateway.value,
                env.discovery.as_ref(),
                key,
                true,
            )
            .await?;
            let mut launch = launch(program, rest, &env);
            launch.env.extend(key_env(&plan));
            warn_headers(&env, program, ctx);
            anyhow::Ok(launch)
        })??;
        return exec(launch);
    }
    settings.relay.provider_keys = super::gateway::provider_keys(&settings)?;
    // The relay runs on the runtime's worker threads; this thread (block_on's) resolves
    // the environment and then starts the child and waits for it (see Launch::run).
    let code = runtime::block_on(Threads::Workers(2), async {
        let (relay, supplies_key) = start_relay(&settings, key, ctx).await?;
        settings.via.value = Via::Relay;
        settings.relay.listen = relay.local_addr();
        let code = match provider_env::resolve(&settings, &ctx.printer).await {
            Ok(env) => {
                let mut launch = launch(program, rest, &env);
                launch.env.extend(placeholder_env(supplies_key, ctx));
                launch.run().await
            }
            Err(err) => Err(err),
        };
        relay.shutdown().await;
        code
    })??;
    Err(ChildExit(code).into())
}

/// The variables tools read their API key from (Codex's default `env_key`, Claude Code
/// and the SDKs).
const KEY_VARS: [&str; 2] = ["OPENAI_API_KEY", "ANTHROPIC_API_KEY"];

/// With the relay, which supplies the key (or forwards the tool's): tools that refuse to
/// start without a key get [`auth::RELAY_PLACEHOLDER_KEY`] where none is set, and the
/// user is told.
fn placeholder_env(supplies_key: bool, ctx: &Context) -> Vec<(OsString, OsString)> {
    let missing: Vec<&str> = KEY_VARS
        .into_iter()
        .filter(|var| crate::envvars::get(var).is_none())
        .collect();
    if !missing.is_empty() {
        ctx.printer.warn(format!(
            "{} set to the placeholder `{}` for this run: tools refuse to start without a \
                 key, and the relay {}",
            missing.join(" and "),
            auth::RELAY_PLACEHOLDER_KEY,
            if supplies_key {
                "supplies your key"
            } else {
                "has no stored key to supply (`anyray login`)"
            }
        ));
    }
    missing
        .into_iter()
        .map(|var| (var.into(), auth::RELAY_PLACEHOLDER_KEY.into()))
        .collect()
}

/// Without the relay, in the `key` scheme: the stored gateway key itself, in the
/// child's environment (never in argv), where the tools read their API key.
fn key_env(plan: &AuthPlan) -> Vec<(OsString, OsString)> {
    match (plan.scheme, &plan.credential) {
        (Scheme::Key, Some(credential)) => {
            let key: OsString = credential.secret().expose().into();
            KEY_VARS.map(|var| (var.into(), key.clone())).into()
        }
        _ => Vec::new(),
    }
}

/// A route that needs its fixed headers, for a program anyray cannot give them to.
fn warn_headers(env: &ToolEnv, program: &OsString, ctx: &Context) {
    if env.need_relay.is_empty() || targets::sends_headers(program) {
        return;
    }
    let routes: Vec<&str> = env.need_relay.iter().map(|p| p.key()).collect();
    ctx.printer.warn(format!(
        "the {} route(s) need fixed headers that an environment variable cannot carry, so \
         their variables are left out; run it with `anyray run --relay`, which adds them",
        routes.join(", ")
    ));
}

/// The command with the gateway variables and the tool's own per-run arguments and
/// variables.
fn launch(program: &OsString, rest: &[OsString], env: &ToolEnv) -> Launch {
    let mut args = targets::run_args(program, rest, &env.routes, &env.headers);
    args.extend(rest.iter().cloned());
    Launch {
        program: program.clone(),
        args,
        env: tool_vars(program, env)
            .iter()
            .map(|v| (v.name.into(), v.value.clone().into()))
            .collect(),
    }
}

/// The gateway variables, then the ones this tool needs of its own (Copilot CLI's).
fn tool_vars(program: &OsString, env: &ToolEnv) -> Vec<EnvVar> {
    let mut vars = env.vars.clone();
    vars.extend(targets::run_env(program, &env.routes, &env.headers));
    vars
}

/// An in-process relay on a free loopback port; its access log stays quiet so it never
/// garbles the command's terminal.
async fn start_relay(
    settings: &Settings,
    key: Option<Secret>,
    ctx: &Context<'_>,
) -> Result<(relay::RelayHandle, bool)> {
    let plan = super::gateway::relay_identity(settings, key).await?;
    if let Some(note) = &plan.note {
        ctx.printer.warn(note);
    }
    let identity = plan.identity.clone();
    let config = RelayConfig {
        listen: "127.0.0.1:0".parse().expect("a socket address"),
        log: LogTarget::Quiet,
        ..plan.apply(&settings.relay)
    };
    let relay = Relay::bind(config).await?;
    if let Some(identity) = &identity {
        super::sso::keep_relay_credential_fresh(&relay, identity, settings.clone());
    }
    Ok((relay, identity.is_some()))
}

/// The identity header the relay would add (from the config; discovery may name one too).
fn identity_header(settings: &Settings, ctx: &Context) -> Result<Option<String>> {
    Ok(super::sso::credential(ctx)?.map(|_| {
        settings
            .identity_header
            .clone()
            .unwrap_or_else(|| crate::discovery::DEFAULT_IDENTITY_HEADER.into())
    }))
}

#[cfg(unix)]
fn exec(launch: Launch) -> Result<()> {
    Err(launch.exec())
}

#[cfg(not(unix))]
fn exec(launch: Launch) -> Result<()> {
    let code = runtime::block_on(Threads::Current, launch.run())??;
    Err(ChildExit(code).into())
}

#[derive(Serialize)]
struct PrintEnv<'a> {
    command: Vec<String>,
    added_args: Vec<String>,
    endpoint: &'a str,
    via: &'static str,
    relay: bool,
    identity: Option<String>,
    vars: &'a [EnvVar],
}

fn print_env(
    ctx: &Context,
    launch: &Launch,
    rest: &[OsString],
    env: &ToolEnv,
    relay: bool,
    identity: Option<String>,
) -> Result<()> {
    let text = |s: &OsString| s.to_string_lossy().into_owned();
    let vars = tool_vars(&launch.program, env);
    let report = PrintEnv {
        command: std::iter::once(&launch.program)
            .chain(&launch.args)
            .map(text)
            .collect(),
        added_args: targets::run_args(&launch.program, rest, &env.routes, &env.headers)
            .iter()
            .map(text)
            .collect(),
        endpoint: env.endpoint.as_str(),
        via: env.via.as_str(),
        relay,
        identity,
        vars: &vars,
    };
    let p = &ctx.printer;
    if p.json {
        return p.json(&report);
    }
    let mut out = String::new();
    let target = if relay {
        "an ephemeral relay on a free loopback port".to_string()
    } else {
        report.endpoint.to_string()
    };
    out.push_str(&format!("would run with {target} ({}):\n", report.via));
    for var in report.vars {
        out.push_str(&format!("  {}={}\n", var.name, var.value));
    }
    if !report.added_args.is_empty() {
        out.push_str(&format!(
            "  added arguments: {}\n",
            report.added_args.join(" ")
        ));
    }
    if let Some(header) = &report.identity {
        out.push_str(&format!(
            "  the relay adds your Anyray key as {header} (value hidden)\n"
        ));
    }
    out.push_str(&format!("  command: {}\n", report.command.join(" ")));
    p.data(out);
    Ok(())
}
