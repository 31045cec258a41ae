//! `anyray status`: each tool's state and the endpoint it will actually use, and whether
//! the org gateway answers (doctor's preflight, within a short budget). Read-only; exit 0
//! whatever the states are (`connect --check` is the form that fails).

use std::sync::Arc;

use anyhow::Result;
use serde::Serialize;

use super::Context;
use crate::cli::StatusArgs;
use crate::connect::{Store, journal};
use crate::doctor::{Preflight, preflight};
use crate::runtime::{self, Threads};
use crate::session::{self, render, status::StatusReport};
use crate::settings::Via;
use crate::targets;

pub(super) fn run(args: &StatusArgs, ctx: &Context) -> Result<()> {
    let settings = ctx.settings(ctx.overrides())?;
    let (tctx, gateway) = runtime::block_on(Threads::Current, async {
        tokio::join!(
            session::context(&settings, &ctx.printer, session::CtxOptions::default()),
            preflight::check(&settings, preflight::STATUS_BOUND, Arc::default()),
        )
    })?;
    let tctx = tctx?;
    let selected = if args.targets.is_empty() {
        targets::all()
    } else {
        targets::named(&args.targets)
    };
    let ledger = journal::load_settled(&Store::open()?)?;
    let report = session::status(&tctx, &selected, &ledger);
    if ctx.printer.json {
        return ctx.printer.json(&StatusJson {
            report: &report,
            preflight: &gateway,
        });
    }
    // Through the relay, the header's URL is the relay's: name the org gateway.
    let line = match settings.via.value {
        Via::Direct => format!("gateway {}", preflight::summary(&gateway)),
        Via::Relay => format!(
            "org gateway {} {}",
            gateway.gateway,
            preflight::summary(&gateway)
        ),
    };
    render::status(&ctx.printer, &report, Some(&line));
    Ok(())
}

/// `status --json`: the report, with what the gateway check found.
#[derive(Serialize)]
struct StatusJson<'a> {
    #[serde(flatten)]
    report: &'a StatusReport,
    preflight: &'a Preflight,
}
