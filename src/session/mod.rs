//! `connect`, `disconnect` and `status` across several targets, above the targets and
//! the engine: plan each target (a failing one never stops the others), then apply under
//! the lock, re-planning against the ledger as it is then (another anyray may have run
//! meanwhile). The results are the report structs that `--json` prints and [`render`]
//! shows, so the two cannot disagree; [`status`](mod@status) reads each target's state.

use std::path::PathBuf;

use anyhow::Result;
use serde::Serialize;

use crate::connect::{
    Conflict, ConnectPlan, DisconnectPlan, FileRecord, Ledger, RestoreMethod, Store, TargetName,
    Txn, journal, plan_connect, plan_disconnect,
};
use crate::discovery::{DEFAULT_IDENTITY_HEADER, Discovery};
use crate::error::{ExitStatus, classify};
use crate::output::Printer;
use crate::paths::display_path;
use crate::provider_env;
use crate::settings::{Settings, Via};
use crate::targets::{self, Ctx, Target, TargetPlan};

pub(crate) mod render;
pub(crate) mod status;

pub(crate) use status::{StatusReport, report as status};

/// The targets' context for `settings`: the endpoint, routes (from discovery, else the
/// defaults) and variables that `anyray env` would print, so they never disagree.
pub(crate) async fn context(
    settings: &Settings,
    printer: &Printer,
    options: CtxOptions,
) -> Result<Ctx> {
    let env = provider_env::resolve(settings, printer).await?;
    Ok(ctx_of(settings, env, options))
}

/// `connect`'s flags that shape the targets' context (all off for `status` and doctor).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CtxOptions {
    /// `--identity`: send the identity header where a tool can.
    pub identity: bool,
    /// `--all-platforms`: editor terminal env for every OS.
    pub all_platforms: bool,
    /// `--force`: replace a credential helper of the user's own.
    pub replace_helpers: bool,
}

/// The targets' context with what discovery said, without asking the gateway (doctor's
/// `tools.*` checks, which have it already).
pub(crate) fn offline_context(settings: &Settings, discovery: Option<Discovery>) -> Ctx {
    ctx_of(
        settings,
        provider_env::tool_env(settings, discovery),
        CtxOptions::default(),
    )
}

fn ctx_of(settings: &Settings, env: provider_env::ToolEnv, options: CtxOptions) -> Ctx {
    let discovered = env
        .discovery
        .as_ref()
        .and_then(|d| d.identity_header().map(str::to_string));
    Ctx {
        endpoint: env.endpoint,
        via: env.via,
        routes: env.routes,
        vars: env.vars,
        identity_header: identity_header(settings, options.identity, discovered),
        headers: env.headers,
        need_relay: env.need_relay,
        all_platforms: options.all_platforms,
        scheme: env.scheme,
        program: crate::paths::own_program(),
        replace_helpers: options.replace_helpers,
        statusline: None,
    }
}

/// With `--identity`: the configured header, else discovery's, else the default.
fn identity_header(
    settings: &Settings,
    identity: bool,
    discovered: Option<String>,
) -> Option<String> {
    identity.then(|| {
        settings
            .identity_header
            .clone()
            .or(discovered)
            .unwrap_or_else(|| DEFAULT_IDENTITY_HEADER.to_string())
    })
}

/// An error as `--json` shows it, and the exit status it maps to.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ErrorReport {
    /// The exit status (its number in JSON: 1, 2 or 3).
    pub code: ExitStatus,
    pub message: String,
    pub hint: Option<String>,
}

impl ErrorReport {
    pub(crate) fn from_error(err: &anyhow::Error) -> Self {
        let outcome = classify(err);
        Self {
            // A target that failed never counts as ok, whatever the cause.
            code: outcome.status.max(ExitStatus::Problem),
            message: format!("{err:#}"),
            hint: outcome.hint.map(str::to_string),
        }
    }
}

/// `connect`'s result for one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum ConnectOutcome {
    /// Files were written.
    Changed,
    /// Every value was already in place; nothing was written.
    AlreadyConnected,
    /// `--dry-run`: files would be written.
    WouldChange,
    /// Nothing to do for this target (`reason` says why).
    Skipped,
    /// A file could not be read or changed safely (`error` says which and why).
    Failed,
}

impl ConnectOutcome {
    pub(crate) fn label(self) -> &'static str {
        match self {
            ConnectOutcome::Changed => "changed",
            ConnectOutcome::AlreadyConnected => "already connected",
            ConnectOutcome::WouldChange => "would change",
            ConnectOutcome::Skipped => "skipped",
            ConnectOutcome::Failed => "failed",
        }
    }
}

/// What happens (or would happen) to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum FileChange {
    Created,
    Changed,
    Unchanged,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct ConnectFile {
    pub path: PathBuf,
    pub change: FileChange,
    /// The unified diff (`--dry-run` only; otherwise `null`).
    pub diff: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct ConnectTarget {
    pub target: TargetName,
    pub outcome: ConnectOutcome,
    /// Why the target was skipped.
    pub reason: Option<String>,
    pub error: Option<ErrorReport>,
    pub files: Vec<ConnectFile>,
    pub notes: Vec<String>,
}

/// The `connect --json` document.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ConnectReport {
    /// The URL the tools were pointed at.
    pub endpoint: String,
    pub via: Via,
    pub dry_run: bool,
    pub targets: Vec<ConnectTarget>,
}

impl ConnectReport {
    /// The exit status: the worst failure (3 for an unsafe file), else 0.
    pub(crate) fn status(&self) -> ExitStatus {
        worst(self.targets.iter().filter_map(|t| t.error.as_ref()))
    }
}

fn worst<'a>(errors: impl Iterator<Item = &'a ErrorReport>) -> ExitStatus {
    errors.map(|e| e.code).max().unwrap_or(ExitStatus::Ok)
}

/// One target's plan: what it wants and, per file, the change.
pub(crate) struct Planned {
    pub target: &'static dyn Target,
    pub result: Result<(TargetPlan, Vec<ConnectPlan>)>,
}

/// Plans every target against `ledger`; writes nothing. `force` lets read-only files
/// be changed.
pub(crate) fn plan_all(
    targets: &[&'static dyn Target],
    ctx: &Ctx,
    ledger: &Ledger,
    force: bool,
) -> Vec<Planned> {
    let ctx = &with_managed(ctx, ledger);
    targets
        .iter()
        .map(|&target| Planned {
            target,
            result: plan_target(target, ctx, ledger, force),
        })
        .collect()
}

/// `ctx` with the status line anyray manages in Claude Code's settings (the ledger's),
/// when the command line asked for none: a later `connect` keeps it, and `status` and
/// `connect --check` see it drift.
pub(crate) fn with_managed(ctx: &Ctx, ledger: &Ledger) -> Ctx {
    let mut ctx = ctx.clone();
    if ctx.statusline.is_none() {
        ctx.statusline = targets::managed_status_line(ledger);
    }
    ctx
}

fn plan_target(
    target: &dyn Target,
    ctx: &Ctx,
    ledger: &Ledger,
    force: bool,
) -> Result<(TargetPlan, Vec<ConnectPlan>)> {
    let plan = target.plan(ctx)?;
    let files = plan
        .files
        .iter()
        .map(|spec| plan_connect(spec, ledger.files.get(&spec.path), force))
        .collect::<Result<Vec<_>>>()?;
    Ok((plan, files))
}

/// Whether applying `planned` would write anything.
pub(crate) fn any_change(planned: &[Planned]) -> bool {
    planned
        .iter()
        .any(|p| matches!(&p.result, Ok((_, files)) if files.iter().any(ConnectPlan::changed)))
}

/// The report of a plan without writing (`--dry-run`), with diffs.
pub(crate) fn dry_run_report(planned: &[Planned], ctx: &Ctx, store: &Store) -> ConnectReport {
    report(
        ctx,
        true,
        planned.iter().map(|p| target_report(p, true, store)),
    )
}

/// Plans and writes each target's changes under the lock `txn` holds, against the
/// ledger as it is now (a plan shown before, if any, may be stale: another anyray may
/// have run since). A target that fails never stops the others.
pub(crate) fn apply(
    selected: &[&'static dyn Target],
    ctx: &Ctx,
    txn: &mut Txn,
    force: bool,
) -> Result<ConnectReport> {
    let mut targets = Vec::new();
    let ctx = &with_managed(ctx, txn.ledger());
    for &target in selected {
        let planned = Planned {
            target,
            result: plan_target(target, ctx, txn.ledger(), force),
        };
        let written = match &planned.result {
            Ok((_, files)) => files
                .iter()
                .try_for_each(|file| txn.connect(file, target.owner(&file.spec.path))),
            Err(_) => Ok(()),
        };
        targets.push(match written {
            Err(e) => failed(target, &e),
            Ok(()) => {
                let mut report = target_report(&planned, false, txn.store());
                if report.outcome == ConnectOutcome::WouldChange {
                    report.outcome = ConnectOutcome::Changed;
                }
                report
            }
        });
    }
    Ok(report(ctx, false, targets.into_iter()))
}

fn report(ctx: &Ctx, dry_run: bool, targets: impl Iterator<Item = ConnectTarget>) -> ConnectReport {
    ConnectReport {
        endpoint: ctx.endpoint.to_string(),
        via: ctx.via,
        dry_run,
        targets: targets.collect(),
    }
}

fn failed(target: &dyn Target, err: &anyhow::Error) -> ConnectTarget {
    ConnectTarget {
        target: target.name(),
        outcome: ConnectOutcome::Failed,
        reason: None,
        error: Some(ErrorReport::from_error(err)),
        files: Vec::new(),
        notes: Vec::new(),
    }
}

fn target_report(planned: &Planned, with_diff: bool, store: &Store) -> ConnectTarget {
    let (plan, file_plans) = match &planned.result {
        Ok(ok) => ok,
        Err(e) => return failed(planned.target, e),
    };
    let files: Vec<ConnectFile> = file_plans
        .iter()
        .map(|f| ConnectFile {
            path: f.spec.path.clone(),
            change: match (&f.before, f.changed()) {
                (_, false) => FileChange::Unchanged,
                (None, true) => FileChange::Created,
                (Some(_), true) => FileChange::Changed,
            },
            diff: (with_diff && f.changed()).then(|| f.diff()),
        })
        .collect();
    let outcome = if plan.skip.is_some() {
        ConnectOutcome::Skipped
    } else if files.iter().any(|f| f.change != FileChange::Unchanged) {
        ConnectOutcome::WouldChange
    } else {
        ConnectOutcome::AlreadyConnected
    };
    let mut notes = plan.notes.clone();
    for file in file_plans {
        if let Some(name) = &file.orphaned_backup
            && let Ok(backup) = store.backup_path(name)
        {
            notes.push(format!(
                "{} was deleted since an earlier `connect`; the backup of its original stays at {}",
                display_path(&file.spec.path),
                display_path(&backup)
            ));
        }
    }
    ConnectTarget {
        target: planned.target.name(),
        outcome,
        reason: plan.skip.clone(),
        error: None,
        files,
        notes,
    }
}

// ---- disconnect ----

/// `disconnect`'s result for one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum DisconnectOutcome {
    /// Every file anyray changed was restored.
    Restored,
    /// `--dry-run`: files would be restored.
    WouldRestore,
    /// anyray has no record of changing this target.
    NotConnected,
    /// A file could not be restored safely (`error` says why); it was left untouched.
    Failed,
}

impl DisconnectOutcome {
    pub(crate) fn label(self) -> &'static str {
        match self {
            DisconnectOutcome::Restored => "restored",
            DisconnectOutcome::WouldRestore => "would restore",
            DisconnectOutcome::NotConnected => "not connected",
            DisconnectOutcome::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct DisconnectFile {
    pub path: PathBuf,
    pub method: RestoreMethod,
    /// Managed values the user changed since `connect` (restored with `--force`).
    pub conflicts: Vec<Conflict>,
    pub diff: Option<String>,
    /// For a file that is gone (`method: gone`): the backup of its original, kept.
    pub backup: Option<PathBuf>,
    /// Tables anyray created that held only the user's keys afterwards, removed whole
    /// with `--force` (a file the tool cannot load is never left behind).
    pub removed_tables: Vec<RemovedTable>,
}

/// A table `disconnect --force` removed whole, and where the file's bytes before it are.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RemovedTable {
    #[serde(skip)]
    pub path: PathBuf,
    pub table: String,
    /// The user's keys that were in it.
    pub keys: Vec<String>,
    /// A copy of the file as it was before `disconnect` (0600, beside it).
    pub backup: Option<PathBuf>,
}

/// A restored file must load in its tool: a table anyray created that is left with
/// only the user's keys is refused (exit 3, naming the keys), or with `force` removed
/// whole after the file is copied aside.
fn loadable(
    target: &dyn Target,
    mut plan: DisconnectPlan,
    force: bool,
    dry_run: bool,
    notes: &mut Vec<RemovedTable>,
) -> Result<DisconnectPlan> {
    // Only a key-by-key restore can leave a table half-emptied; a backup is the
    // user's own original bytes.
    let (RestoreMethod::KeyByKey, Some(after)) = (plan.method, &plan.after) else {
        return Ok(plan);
    };
    let Some(left) = target.leftover_table(&plan.path, after) else {
        return Ok(plan);
    };
    let keys = left.keys.join(", ");
    if !force {
        return Err(crate::error::UserError::unsafe_change(format!(
            "{}: disconnecting would leave [{}] with only your keys ({keys}): {}; the file was \
             left untouched",
            plan.path.display(),
            left.table,
            left.why
        ))
        .with_hint(format!(
            "move your keys out of [{}], or run `anyray disconnect --force` to remove the whole \
             table (the file is copied aside first)",
            left.table
        ))
        .into());
    }
    let backup = match (&plan.before, dry_run) {
        (Some(before), false) => Some(copy_aside(&plan.path, before)?),
        _ => None,
    };
    notes.push(RemovedTable {
        path: plan.path.clone(),
        table: left.table,
        keys: left.keys,
        backup,
    });
    plan.after = Some(left.without);
    Ok(plan)
}

/// `FILE.anyray-<unix time>.bak`, 0600, beside `path`.
fn copy_aside(path: &std::path::Path, bytes: &[u8]) -> Result<PathBuf> {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".anyray-{secs}.bak"));
    let copy = path.with_file_name(name);
    crate::fs_safe::atomic_write(&copy, bytes, Some(0o600))?;
    Ok(copy)
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct DisconnectTarget {
    pub target: TargetName,
    pub outcome: DisconnectOutcome,
    pub error: Option<ErrorReport>,
    pub files: Vec<DisconnectFile>,
}

/// The `disconnect --json` document.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct DisconnectReport {
    pub dry_run: bool,
    pub targets: Vec<DisconnectTarget>,
}

impl DisconnectReport {
    pub(crate) fn status(&self) -> ExitStatus {
        worst(self.targets.iter().filter_map(|t| t.error.as_ref()))
    }
}

/// Restores the files of `targets` recorded in the ledger; `None` = all recorded.
/// Plans and writes under one lock so the ledger cannot change in between.
pub(crate) fn disconnect(
    targets: Option<&[TargetName]>,
    store: &Store,
    force: bool,
    dry_run: bool,
) -> Result<DisconnectReport> {
    let mut txn = if dry_run {
        None
    } else {
        Some(Txn::begin(store)?)
    };
    let ledger = match &txn {
        Some(txn) => txn.ledger().clone(),
        None => journal::load_settled(store)?,
    };
    let names: Vec<TargetName> = match targets {
        Some(names) => names.to_vec(),
        None => TargetName::ALL
            .into_iter()
            .filter(|name| ledger.files.values().any(|r| r.target == *name))
            .collect(),
    };
    let mut reports = Vec::new();
    for id in names {
        let records: Vec<(PathBuf, FileRecord)> = ledger
            .files
            .iter()
            .filter(|(_, r)| r.target == id)
            .map(|(p, r)| (p.clone(), r.clone()))
            .collect();
        if records.is_empty() {
            reports.push(DisconnectTarget {
                target: id,
                outcome: DisconnectOutcome::NotConnected,
                error: None,
                files: Vec::new(),
            });
            continue;
        }
        let mut notes = Vec::new();
        let plans: Result<Vec<DisconnectPlan>> = records
            .iter()
            .map(|(path, record)| {
                let plan = plan_disconnect(path, record, store, force)?;
                loadable(crate::targets::get(id), plan, force, dry_run, &mut notes)
            })
            .collect();
        let result = plans.and_then(|plans| {
            if let Some(txn) = &mut txn {
                for plan in &plans {
                    txn.disconnect(plan)?;
                }
            }
            Ok(plans)
        });
        reports.push(match result {
            Ok(plans) => DisconnectTarget {
                target: id,
                outcome: if dry_run {
                    DisconnectOutcome::WouldRestore
                } else {
                    DisconnectOutcome::Restored
                },
                error: None,
                files: plans
                    .iter()
                    .map(|plan| DisconnectFile {
                        path: plan.path.clone(),
                        method: plan.method,
                        conflicts: plan.conflicts.clone(),
                        diff: dry_run.then(|| plan.diff()),
                        backup: plan.kept_backup.clone(),
                        removed_tables: notes
                            .iter()
                            .filter(|n| n.path == plan.path)
                            .cloned()
                            .collect(),
                    })
                    .collect(),
            },
            Err(e) => DisconnectTarget {
                target: id,
                outcome: DisconnectOutcome::Failed,
                error: Some(ErrorReport::from_error(&e)),
                files: Vec::new(),
            },
        });
    }
    Ok(DisconnectReport {
        dry_run,
        targets: reports,
    })
}
