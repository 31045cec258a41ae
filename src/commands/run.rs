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
use crate::cli::RunArgs;
use crate::error::{ChildExit, UserError};
use crate::launch::Launch;
use crate::provider_env::{self, EnvVar, ToolEnv};
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
            identity_header(&settings)?
        } else {
            None
        };
        return print_env(ctx, &launch, &env, args.relay, identity);
    }
    if !args.relay {
        let env = runtime::block_on(
            Threads::Current,
            provider_env::resolve(&settings, &ctx.printer),
        )??;
        return exec(launch(program, rest, &env));
    }

    // The key first: the keyring blocks, so it is read before the runtime starts.
    let key = crate::secrets::load()?.map(|(key, _store)| key);
    // The relay runs on the runtime's worker threads; this thread (block_on's) resolves
    // the environment and then starts the child and waits for it (see Launch::run).
    let code = runtime::block_on(Threads::Workers(2), async {
        let relay = start_relay(&settings, key, ctx).await?;
        settings.via.value = Via::Relay;
        settings.relay.listen = relay.local_addr();
        let code = match provider_env::resolve(&settings, &ctx.printer).await {
            Ok(env) => launch(program, rest, &env).run().await,
            Err(err) => Err(err),
        };
        relay.shutdown().await;
        code
    })??;
    Err(ChildExit(code).into())
}

/// The command with the gateway variables and the tool's own per-run arguments.
fn launch(program: &OsString, rest: &[OsString], env: &ToolEnv) -> Launch {
    let mut args = targets::run_args(program, &env.routes);
    args.extend(rest.iter().cloned());
    Launch {
        program: program.clone(),
        args,
        env: env
            .vars
            .iter()
            .map(|v| (v.name.into(), v.value.clone().into()))
            .collect(),
    }
}

/// An in-process relay on a free loopback port; its access log stays quiet so it never
/// garbles the command's terminal.
async fn start_relay(
    settings: &Settings,
    key: Option<Secret>,
    ctx: &Context<'_>,
) -> Result<relay::RelayHandle> {
    let plan = super::gateway::relay_identity(settings, key).await?;
    if let Some(note) = &plan.note {
        ctx.printer.warn(note);
    }
    let config = RelayConfig {
        identity: plan.identity,
        listen: "127.0.0.1:0".parse().expect("a socket address"),
        log: LogTarget::Quiet,
        ..settings.relay.clone()
    };
    Relay::bind(config).await
}

/// The identity header the relay would add (from the config; discovery may name one too).
fn identity_header(settings: &Settings) -> Result<Option<String>> {
    Ok(crate::secrets::load()?.map(|_| {
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
    env: &ToolEnv,
    relay: bool,
    identity: Option<String>,
) -> Result<()> {
    let text = |s: &OsString| s.to_string_lossy().into_owned();
    let report = PrintEnv {
        command: std::iter::once(&launch.program)
            .chain(&launch.args)
            .map(text)
            .collect(),
        added_args: targets::run_args(&launch.program, &env.routes)
            .iter()
            .map(text)
            .collect(),
        endpoint: env.endpoint.as_str(),
        via: env.via.as_str(),
        relay,
        identity,
        vars: &env.vars,
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
