//! `anyray env`: print the gateway environment for `eval`, a `.env` file or `$GITHUB_ENV`.
//!
//! `--json` prints one document (schema version-stable; fields are only ever added):
//!
//! ```json
//! {
//!   "endpoint": "https://gw.example",      // the URL tools use (the relay's with --via relay)
//!   "via": "direct",                       // "direct" | "relay"
//!   "discovery": true,                     // whether the gateway served discovery (else default routes)
//!   "vars": [{"name": "OPENAI_BASE_URL", "value": "https://gw.example/v1"}]
//! }
//! ```
//!
//! `vars` is ordered as the text output; with the relay it ends with `NO_PROXY`/`no_proxy`.

use anyhow::Result;
use serde::Serialize;

use super::Context;
use crate::cli::EnvArgs;
use crate::envvars;
use crate::provider_env::{self, EnvVar};
use crate::runtime::{self, Threads};
use crate::settings::Overrides;
use crate::shell;

/// The `--json` document (see the module docs).
#[derive(Debug, Serialize)]
struct EnvReport<'a> {
    endpoint: &'a str,
    via: &'static str,
    discovery: bool,
    vars: &'a [EnvVar],
}

pub(super) fn run(args: &EnvArgs, ctx: &Context) -> Result<()> {
    let settings = ctx.settings(Overrides {
        gateway: args.gateway.clone(),
        via: args.via,
        ..Overrides::default()
    })?;
    let env = runtime::block_on(
        Threads::Current,
        provider_env::resolve(&settings, &ctx.printer),
    )??;
    let p = &ctx.printer;
    if p.json {
        return p.json(&EnvReport {
            endpoint: env.endpoint.as_str(),
            via: env.via.as_str(),
            discovery: env.discovery.is_some(),
            vars: &env.vars,
        });
    }
    let format = args
        .shell
        .unwrap_or_else(|| shell::format_for_shell(envvars::get(envvars::SHELL).as_deref()));
    p.data(shell::exports(format, &env.vars));
    Ok(())
}
