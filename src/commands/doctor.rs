//! `anyray doctor`: gathers the facts (settings, environment, selection), runs the
//! checks in `crate::doctor`, and renders the one report as text or JSON.

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use anyhow::Result;

use super::Context;
use crate::cli::DoctorArgs;
use crate::doctor::{self, ConfigError, Env, Plan, Selection, render};
use crate::error::{ExitStatus, SilentExit, UserError, classify};
use crate::runtime::{self, Threads};
use crate::settings::{Overrides, Settings};

pub(super) fn run(args: &DoctorArgs, ctx: &Context) -> Result<()> {
    let bound = doctor::bound(args.timeout)?;
    // A bad `--gateway` is a usage error (clap's); a bad config file is what `config`
    // reports.
    let selection = Selection::new(&args.only, &args.skip);
    let checks = selection.checks();
    if checks.is_empty() {
        return Err(UserError::usage("--only and --skip leave no check to run")
            .with_hint("see the check ids in `anyray doctor --help`")
            .into());
    }
    let overrides = Overrides {
        gateway: args.gateway.clone(),
        ..ctx.overrides()
    };
    let settings = Settings::resolve(&overrides).map_err(|err| {
        let hint = classify(&err).hint.map(str::to_string);
        ConfigError {
            message: format!("{err:#}"),
            hint,
        }
    });
    let plan = Plan {
        settings,
        env: Env::from_process(),
        selection,
        bound,
        deep: args.deep,
    };
    if args.deep && !ctx.printer.json {
        ctx.printer.warn(format!(
            "--deep spends a little: {}",
            crate::doctor::DEEP_SPEND
        ));
    }

    let finished = Arc::new(AtomicUsize::new(0));
    let spinner = ctx
        .printer
        .progress()
        .then(|| render::Spinner::start(checks.len(), finished.clone()));
    let report = runtime::block_on(Threads::Workers(2), doctor::run(plan, finished))?;
    drop(spinner);

    if ctx.printer.json {
        ctx.printer.json(&report)?;
    } else {
        for line in render::human(&report, &ctx.printer) {
            ctx.printer.line(line);
        }
    }
    if report.has_failures() {
        return Err(SilentExit(ExitStatus::Problem).into());
    }
    Ok(())
}
