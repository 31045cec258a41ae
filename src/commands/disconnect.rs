//! `anyray disconnect`: restore what `connect` changed, from the ledger. A file exactly as
//! anyray left it gets its original bytes back; a file the user edited since is restored
//! key by key; a managed value the user changed is a refusal (exit 3) unless `--force`.

use anyhow::Result;

use super::Context;
use crate::cli::DisconnectArgs;
use crate::connect::{Store, TargetName};
use crate::error::{ExitStatus, SilentExit};
use crate::session::{self, render};
use crate::targets;

pub(super) fn run(args: &DisconnectArgs, ctx: &Context) -> Result<()> {
    let p = &ctx.printer;
    let store = Store::open()?;
    // gemini's shell route lives in the shell env files: disconnecting it restores those.
    let mut owners: Vec<TargetName> = Vec::new();
    for owner in targets::named(&args.targets)
        .iter()
        .flat_map(|t| t.owners())
    {
        if !owners.contains(&owner) {
            owners.push(owner);
        }
    }
    let only = (!owners.is_empty()).then_some(owners.as_slice());
    if p.interactive() && !args.yes && !args.dry_run {
        let preview = session::disconnect(only, &store, args.force, true)?;
        if preview.targets.iter().all(|t| t.files.is_empty()) {
            render::disconnect(p, &preview);
            return Ok(());
        }
        render::disconnect(p, &preview);
        if !super::confirm("Restore these files?")? {
            p.line("Nothing was changed.");
            return Ok(());
        }
    }
    let report = session::disconnect(only, &store, args.force, args.dry_run)?;
    if p.json {
        p.json(&report)?;
    } else {
        render::disconnect(p, &report);
    }
    match report.status() {
        ExitStatus::Ok => Ok(()),
        status => Err(SilentExit(status).into()),
    }
}
