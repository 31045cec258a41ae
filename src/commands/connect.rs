//! `anyray connect`: point the selected tools at the gateway (see `crate::connect`).
//!
//! Targets: the named ones (an uninstalled one is an error without `--force`), else every
//! detected tool — chosen in a multi-select on a terminal, all of them otherwise.
//! `--check` writes nothing and exits 1 unless every selected tool is connected.
//! `--dry-run` prints the diffs. Exit 3 when a file could not be changed safely (the
//! other targets still go on).
//!
//! Before any write, a preflight (doctor's gateway chain, [`preflight`]) checks that the
//! gateway answers and accepts the stored key: pointing every tool at a gateway that does
//! not answer would break a working setup. When it fails, nothing is written and the exit
//! status is 1, unless `--force` (or a yes on a terminal) says to go on. `--dry-run` and
//! `--check` show its result and never fail on it.

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use anyhow::Result;
use serde::Serialize;

use super::Context;
use crate::cli::ConnectArgs;
use crate::config_file::ConfigFile;
use crate::connect::{Ledger, Store, TargetName, Txn, journal};
use crate::doctor::{Level, Preflight, preflight, render::Spinner};
use crate::error::{ExitStatus, SilentExit, UserError};
use crate::paths::display_path;
use crate::runtime::{self, Threads};
use crate::session::{self, render};
use crate::settings::{Overrides, Settings};
use crate::targets::{self, Ctx, StatusLineWant, Target};
use crate::{auth::Scheme, provider_env};

pub(super) fn run(args: &ConnectArgs, ctx: &Context) -> Result<()> {
    let settings = ctx.settings(Overrides {
        gateway: args.gateway.clone(),
        via: args.via,
        ..ctx.overrides()
    })?;
    refuse_self_pointing_relay(&settings)?;
    if !args.targets.is_empty() && !args.targets.contains(&TargetName::ClaudeCode) {
        status_line_needs_claude(args)?;
    }
    let p = &ctx.printer;
    // The gateway is checked while discovery runs: together they cost one round trip.
    let check_gateway = !(args.offline || args.force);
    let finished = Arc::new(AtomicUsize::new(0));
    let spinner = (check_gateway && p.progress())
        .then(|| Spinner::start(preflight::STEPS.len(), finished.clone()));
    let (tctx, preflight) = runtime::block_on(Threads::Current, async {
        tokio::join!(
            session::context(
                &settings,
                p,
                session::CtxOptions {
                    identity: args.identity,
                    all_platforms: args.all_platforms,
                    replace_helpers: args.force,
                },
            ),
            async {
                if check_gateway {
                    Some(preflight::check(&settings, preflight::CONNECT_BOUND, finished).await)
                } else {
                    None
                }
            },
        )
    })?;
    drop(spinner);
    let mut tctx = tctx?;
    let preflight = preflight.as_ref();
    if tctx.scheme.is_none() && preflight.is_some_and(|p| p.failed().is_none()) {
        tctx.scheme = detect_scheme(&settings, ctx)?;
    }
    let store = Store::open()?;
    let interactive = p.interactive() && !args.yes && !args.check && !args.dry_run;
    let selected = select(args, interactive)?;
    tctx.statusline = status_line(args, &selected, interactive)?;
    if selected.is_empty() {
        p.warn("no supported tool found on this machine; name one to connect it anyway, e.g. `anyray connect codex --force`");
    }

    if args.check || args.dry_run || interactive {
        let ledger = journal::load_settled(&store)?;
        if args.check {
            return check(ctx, &tctx, &selected, &ledger, preflight);
        }
        let planned = session::plan_all(&selected, &tctx, &ledger, args.force);
        let preview = session::dry_run_report(&planned, &tctx, &store);
        if args.dry_run {
            return finish(ctx, &preview, preflight);
        }
        go_on_despite(ctx, preflight, &tctx, true)?;
        if session::any_change(&planned) {
            render::connect(p, &preview);
            if !super::confirm("Apply these changes?")? {
                p.line("Nothing was changed.");
                return Ok(());
            }
        }
    } else {
        go_on_despite(ctx, preflight, &tctx, false)?;
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
    finish(ctx, &report, preflight)?;
    if pointed && !report.targets.is_empty() {
        p.line("Check it with `anyray doctor`; undo it with `anyray disconnect`.");
    }
    Ok(())
}

/// Nothing says yet how the gateway wants the key (no `auth.scheme`, none in discovery,
/// no detection at `login`, say because the gateway was not set then): with a stored
/// key (or an SSO session's access token), find out now as `login` does (no tokens
/// spent) and remember it, so the tools that need a credential helper get one.
fn detect_scheme(settings: &Settings, ctx: &Context) -> Result<Option<Scheme>> {
    let p = &ctx.printer;
    let Some((key, _)) = super::sso::credential(ctx)? else {
        return Ok(None);
    };
    let gw = &settings.gateway.value;
    let plan = runtime::block_on(
        Threads::Current,
        provider_env::auth_plan(settings, gw, None, Some(key), true),
    )??;
    if let Some(note) = &plan.note {
        p.warn(note);
    }
    Ok((plan.scheme_from == "detected").then_some(plan.scheme))
}

/// `--statusline`: anyray's status command for Claude Code. A status line of the user's
/// stays unless `--chain-statusline` or `--force`; on a terminal the user is asked
/// whether to chain it.
fn status_line(
    args: &ConnectArgs,
    selected: &[&'static dyn Target],
    interactive: bool,
) -> Result<Option<StatusLineWant>> {
    if !(args.statusline || args.chain_statusline) {
        return Ok(None);
    }
    if !selected.iter().any(|t| t.name() == TargetName::ClaudeCode) {
        status_line_needs_claude(args)?;
    }
    let anyray = crate::paths::own_program();
    let mut chain = args.chain_statusline;
    if interactive
        && !chain
        && !args.force
        && let Some(theirs) = targets::user_status_line()?
    {
        chain = super::confirm(&format!(
            "Claude Code already has a status line (`{theirs}`). Keep it, and append anyray's to it?"
        ))?;
    }
    Ok(Some(StatusLineWant::Install {
        anyray,
        chain,
        replace: args.force,
    }))
}

/// `--statusline` without Claude Code among the tools: a usage error, before anything.
fn status_line_needs_claude(args: &ConnectArgs) -> Result<(), UserError> {
    if !(args.statusline || args.chain_statusline) {
        return Ok(());
    }
    Err(UserError::usage(
        "--statusline sets Claude Code's status line, and claude-code is not among the tools \
         to connect",
    )
    .with_hint("name it: `anyray connect claude-code --statusline`"))
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

/// A failed preflight stops `connect` before any write, unless the user (asked on a
/// terminal) says to go on. `--force` and `--offline` skip the preflight.
fn go_on_despite(
    ctx: &Context,
    preflight: Option<&Preflight>,
    tctx: &Ctx,
    ask: bool,
) -> Result<()> {
    let Some(preflight) = preflight else {
        return Ok(());
    };
    let Some(failed) = preflight.failed() else {
        // A warning the tools will meet (no key stored for a gateway that wants one).
        for warn in preflight.checks.iter().filter(|c| c.level == Level::Warn) {
            let hint = warn
                .hint
                .as_deref()
                .map(|h| format!("; {h}"))
                .unwrap_or_default();
            ctx.printer
                .warn(format!("{}: {}{hint}", warn.id, warn.summary));
        }
        return Ok(());
    };
    let p = &ctx.printer;
    let what = format!(
        "the gateway {} does not answer ({}: {})",
        preflight.gateway, failed.id, failed.summary
    );
    let meanwhile = preflight.meanwhile.as_deref().unwrap_or_default();
    if ask {
        p.warn(format!("{what}; if connected now, {meanwhile}"));
        if super::confirm_no("Connect anyway?")? {
            return Ok(());
        }
        p.line("Nothing was changed.");
        return Err(SilentExit(ExitStatus::Problem).into());
    }
    if p.json {
        // One JSON document on stdout, as for any connect: the preflight says why.
        p.json(&ConnectJson {
            preflight: Some(preflight),
            report: &session::ConnectReport {
                endpoint: tctx.endpoint.to_string(),
                via: tctx.via,
                dry_run: false,
                targets: Vec::new(),
            },
        })?;
        return Err(SilentExit(ExitStatus::Problem).into());
    }
    let mut hint = failed.hint.clone().unwrap_or_default();
    if !hint.is_empty() {
        hint.push_str("; ");
    }
    hint.push_str("`anyray doctor` shows every step; pass --offline to connect anyway (e.g. before you join the VPN)");
    Err(UserError::problem(format!(
        "{what}, so nothing was changed (if connected now, {meanwhile})"
    ))
    .with_hint(hint)
    .into())
}

/// `connect --json`: the report, with the preflight that came before it.
#[derive(Serialize)]
struct ConnectJson<'a, R: Serialize> {
    #[serde(flatten)]
    report: &'a R,
    /// `null` when `--offline` or `--force` skipped it.
    preflight: Option<&'a Preflight>,
}

fn finish(
    ctx: &Context,
    report: &session::ConnectReport,
    preflight: Option<&Preflight>,
) -> Result<()> {
    if ctx.printer.json {
        ctx.printer.json(&ConnectJson { report, preflight })?;
    } else {
        render::connect(&ctx.printer, report);
        if let Some(preflight) = preflight.filter(|_| report.dry_run) {
            ctx.printer.line(gateway_line(preflight));
        }
    }
    match report.status() {
        ExitStatus::Ok => Ok(()),
        status => Err(SilentExit(status).into()),
    }
}

/// The preflight in one line, for `--dry-run` and `--check`.
fn gateway_line(preflight: &Preflight) -> String {
    format!(
        "Gateway check: {} {}",
        preflight.gateway,
        preflight::summary(preflight)
    )
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

/// `--check`: the status of the selected targets; exit 1 unless all are connected. The
/// preflight is shown, never failed on: CI may check configs off the corporate network.
fn check(
    ctx: &Context,
    tctx: &Ctx,
    selected: &[&'static dyn Target],
    ledger: &Ledger,
    preflight: Option<&Preflight>,
) -> Result<()> {
    let report = session::status(tctx, selected, ledger);
    if ctx.printer.json {
        ctx.printer.json(&ConnectJson {
            report: &report,
            preflight,
        })?;
    } else {
        render::status(&ctx.printer, &report, None);
        if let Some(preflight) = preflight {
            ctx.printer.line(gateway_line(preflight));
        }
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
