//! `anyray connect`: point the selected tools at the gateway (see `crate::connect`).
//!
//! Targets: the named ones (an uninstalled one is an error without `--force`), else every
//! detected tool — chosen in a multi-select on a terminal, all of them otherwise.
//! `--check` writes nothing and exits 1 unless every selected tool is connected.
//! `--dry-run` prints the diffs. Exit 3 when a file could not be changed safely (the
//! other targets still go on).

use anyhow::Result;

use super::Context;
use crate::cli::ConnectArgs;
use crate::config_file::ConfigFile;
use crate::connect::{Ledger, Store, Txn, journal};
use crate::error::{ExitStatus, SilentExit, UserError};
use crate::paths::display_path;
use crate::runtime::{self, Threads};
use crate::session::{self, render};
use crate::settings::{Overrides, Settings};
use crate::targets::{self, Ctx, Target};

pub(super) fn run(args: &ConnectArgs, ctx: &Context) -> Result<()> {
    let settings = ctx.settings(Overrides {
        gateway: args.gateway.clone(),
        via: args.via,
        ..ctx.overrides()
    })?;
    refuse_self_pointing_relay(&settings)?;
    let tctx = runtime::block_on(
        Threads::Current,
        session::context(&settings, &ctx.printer, args.identity, args.all_platforms),
    )??;
    let store = Store::open()?;
    let p = &ctx.printer;
    let interactive = p.interactive() && !args.yes && !args.check && !args.dry_run;
    let selected = select(args, interactive)?;
    if selected.is_empty() {
        p.warn("no supported tool found on this machine; name one to connect it anyway, e.g. `anyray connect codex --force`");
    }

    if args.check || args.dry_run || interactive {
        let ledger = journal::load_settled(&store)?;
        if args.check {
            return check(ctx, &tctx, &selected, &ledger);
        }
        let planned = session::plan_all(&selected, &tctx, &ledger, args.force);
        let preview = session::dry_run_report(&planned, &tctx, &store);
        if args.dry_run {
            return finish(ctx, &preview);
        }
        if session::any_change(&planned) {
            render::connect(p, &preview);
            if !super::confirm("Apply these changes?")? {
                p.line("Nothing was changed.");
                return Ok(());
            }
        }
    }
    let mut txn = Txn::begin(&store)?;
    let report = session::apply(&selected, &tctx, &mut txn, args.force)?;
    // The gateway is remembered only when some tool now points at it (or there was no
    // tool to point): a run where every target failed or was skipped changes nothing.
    let pointed = report.targets.is_empty()
        || report.targets.iter().any(|t| {
            matches!(
                t.outcome,
                session::ConnectOutcome::Changed | session::ConnectOutcome::AlreadyConnected
            )
        });
    if pointed {
        save_choices(args, &settings, ctx, &txn)?;
    }
    drop(txn);
    finish(ctx, &report)
}

/// `--via relay` with the relay listening on the gateway's own address would point the
/// tools at the gateway while `status` says "relay" (and the relay would refuse to
/// start): refused before anything is written.
fn refuse_self_pointing_relay(settings: &Settings) -> Result<(), UserError> {
    let listen = settings.relay.listen;
    if settings.via.value != crate::settings::Via::Relay
        || !crate::relay::is_own_address(&settings.gateway.value, listen)
    {
        return Ok(());
    }
    Err(UserError::usage(format!(
        "the relay listens on {listen}, which is the gateway {} itself: the tools would go \
         straight to the gateway, not through the relay",
        settings.gateway.value
    ))
    .with_hint(
        "move the relay: `anyray config unset relay.listen` (default 127.0.0.1:18787) or \
         `anyray config set relay.listen 127.0.0.1:PORT`, then connect again",
    ))
}

fn finish(ctx: &Context, report: &session::ConnectReport) -> Result<()> {
    if ctx.printer.json {
        ctx.printer.json(report)?;
    } else {
        render::connect(&ctx.printer, report);
    }
    match report.status() {
        ExitStatus::Ok => Ok(()),
        status => Err(SilentExit(status).into()),
    }
}

/// The targets to act on: named ones, else the detected ones (chosen on a terminal).
fn select(args: &ConnectArgs, interactive: bool) -> Result<Vec<&'static dyn Target>> {
    if !args.targets.is_empty() {
        let named = targets::named(&args.targets);
        // --force connects what is not installed too (its config file is created).
        if !args.force {
            let missing: Vec<String> = named
                .iter()
                .filter_map(|t| {
                    let found = t.detect();
                    (!found.installed).then(|| format!("{} ({})", t.name(), found.reason))
                })
                .collect();
            if !missing.is_empty() {
                return Err(
                    UserError::usage(format!("not installed: {}", missing.join(", ")))
                        .with_hint("pass --force to connect it anyway (its config file is created)")
                        .into(),
                );
            }
        }
        return Ok(named);
    }
    // Each target is detected once (a PATH scan): the picker shows the same reason.
    let detected: Vec<(&'static dyn Target, String)> = targets::all()
        .into_iter()
        .filter_map(|t| {
            let found = t.detect();
            found.installed.then_some((t, found.reason))
        })
        .collect();
    if !interactive || detected.is_empty() {
        return Ok(detected.into_iter().map(|(t, _)| t).collect());
    }
    let options: Vec<Choice> = detected
        .into_iter()
        .map(|(t, why)| Choice(t, why))
        .collect();
    let chosen = inquire::MultiSelect::new("Connect which tools?", options)
        .with_all_selected_by_default()
        .prompt()
        .map_err(|e| UserError::usage(format!("no tools chosen ({e})")))?;
    Ok(chosen.into_iter().map(|c| c.0).collect())
}

/// A detected target in the picker, with why it counts as installed.
struct Choice(&'static dyn Target, String);

impl std::fmt::Display for Choice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.0.name(), self.1)
    }
}

/// `--check`: the status of the selected targets; exit 1 unless all are connected.
fn check(
    ctx: &Context,
    tctx: &Ctx,
    selected: &[&'static dyn Target],
    ledger: &Ledger,
) -> Result<()> {
    let report = session::status(tctx, selected, ledger);
    if ctx.printer.json {
        ctx.printer.json(&report)?;
    } else {
        render::status(&ctx.printer, &report);
    }
    if report.ok {
        Ok(())
    } else {
        Err(SilentExit(ExitStatus::Problem).into())
    }
}

/// `--gateway URL` and `--via MODE` are remembered, so later runs (`status`, `doctor`,
/// `env`) use the same gateway and know whether the tools go through the relay.
fn save_choices(args: &ConnectArgs, settings: &Settings, ctx: &Context, txn: &Txn) -> Result<()> {
    let mut wanted = Vec::new();
    if args.gateway.is_some() {
        wanted.push(("gateway", settings.gateway.value.as_str()));
    }
    if let Some(via) = args.via {
        wanted.push(("via", via.as_str()));
    }
    if wanted.is_empty() {
        return Ok(());
    }
    let mut file = ConfigFile::load(&settings.config_file.value)?;
    let mut saved = Vec::new();
    for (key, value) in wanted {
        if file.get(key)?.as_deref() != Some(value) {
            file.set(key, value)?;
            saved.push(format!("{key} = {value}"));
        }
    }
    if saved.is_empty() {
        return Ok(());
    }
    file.save_locked(txn.lock())?;
    ctx.printer.line(format!(
        "Saved {} in {}",
        saved.join(", "),
        display_path(&file.path)
    ));
    Ok(())
}
