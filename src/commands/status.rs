//! `anyray status`: each tool's state and the endpoint it will actually use. Read-only;
//! exit 0 whatever the states are (`connect --check` is the form that fails).

use anyhow::Result;

use super::Context;
use crate::cli::StatusArgs;
use crate::connect::{Store, journal};
use crate::runtime::{self, Threads};
use crate::session::{self, render};
use crate::targets;

pub(super) fn run(args: &StatusArgs, ctx: &Context) -> Result<()> {
    let settings = ctx.settings(ctx.overrides())?;
    let tctx = runtime::block_on(
        Threads::Current,
        session::context(&settings, &ctx.printer, false, false),
    )??;
    let selected = if args.targets.is_empty() {
        targets::all()
    } else {
        targets::named(&args.targets)
    };
    let ledger = journal::load_settled(&Store::open()?)?;
    let report = session::status(&tctx, &selected, &ledger);
    if ctx.printer.json {
        ctx.printer.json(&report)
    } else {
        render::status(&ctx.printer, &report);
        Ok(())
    }
}
