//! Connect and disconnect across several targets: plan each (a failing target never
//! stops the others), then apply under the lock, re-planning against the ledger as it is
//! then (another anyray may have run meanwhile). The results are the report structs that
//! `--json` prints and the human renderer shows.

use std::path::PathBuf;

use anyhow::Result;
use serde::Serialize;

use super::{
    ConnectPlan, DisconnectPlan, Ledger, RestoreMethod, Store, Txn, journal, plan_connect,
    plan_disconnect,
};
use crate::error::{ExitStatus, classify};
use crate::targets::{self, Ctx, Target, TargetPlan, TargetStatus};

/// An error as `--json` shows it, and the exit status it maps to.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorReport {
    pub code: u8,
    pub message: String,
    pub hint: Option<String>,
}

impl ErrorReport {
    pub fn from_error(err: &anyhow::Error) -> Self {
        let outcome = classify(err);
        Self {
            code: outcome.code,
            message: format!("{err:#}"),
            hint: outcome.hint.map(str::to_string),
        }
    }
}

/// `connect`'s result for one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConnectOutcome {
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
    pub fn label(self) -> &'static str {
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
pub enum FileChange {
    Created,
    Changed,
    Unchanged,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConnectFile {
    pub path: PathBuf,
    pub change: FileChange,
    /// The unified diff (`--dry-run` only; otherwise `null`).
    pub diff: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConnectTarget {
    pub target: &'static str,
    pub outcome: ConnectOutcome,
    /// Why the target was skipped.
    pub reason: Option<String>,
    pub error: Option<ErrorReport>,
    pub files: Vec<ConnectFile>,
    pub notes: Vec<String>,
}

/// The `connect --json` document.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectReport {
    /// The URL the tools were pointed at.
    pub endpoint: String,
    pub via: &'static str,
    pub dry_run: bool,
    pub targets: Vec<ConnectTarget>,
}

impl ConnectReport {
    /// The exit status: the worst failure (3 for an unsafe file), else 0.
    pub fn status(&self) -> ExitStatus {
        worst(self.targets.iter().filter_map(|t| t.error.as_ref()))
    }
}

fn worst<'a>(errors: impl Iterator<Item = &'a ErrorReport>) -> ExitStatus {
    errors
        .map(|e| match e.code {
            3 => ExitStatus::Unsafe,
            2 => ExitStatus::Usage,
            _ => ExitStatus::Problem,
        })
        .max_by_key(|s| s.code())
        .unwrap_or(ExitStatus::Ok)
}

/// One target's plan: what it wants and, per file, the change.
pub struct Planned {
    pub target: &'static dyn Target,
    pub result: Result<(TargetPlan, Vec<ConnectPlan>)>,
}

/// Plans every target against `ledger`; writes nothing. `force` lets read-only files
/// be changed.
pub fn plan_all(
    targets: &[&'static dyn Target],
    ctx: &Ctx,
    ledger: &Ledger,
    force: bool,
) -> Vec<Planned> {
    targets
        .iter()
        .map(|&target| Planned {
            target,
            result: plan_target(target, ctx, ledger, force),
        })
        .collect()
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
pub fn any_change(planned: &[Planned]) -> bool {
    planned
        .iter()
        .any(|p| matches!(&p.result, Ok((_, files)) if files.iter().any(ConnectPlan::changed)))
}

/// The report of a plan without writing (`--dry-run`), with diffs.
pub fn dry_run_report(planned: &[Planned], ctx: &Ctx, store: &Store) -> ConnectReport {
    report(
        ctx,
        true,
        planned.iter().map(|p| target_report(p, true, store)),
    )
}

/// Plans and writes each target's changes under the lock `txn` holds, against the
/// ledger as it is now (a plan shown before, if any, may be stale: another anyray may
/// have run since). A target that fails never stops the others.
pub fn apply(
    selected: &[&'static dyn Target],
    ctx: &Ctx,
    txn: &mut Txn,
    force: bool,
) -> Result<ConnectReport> {
    let mut targets = Vec::new();
    for &target in selected {
        let planned = Planned {
            target,
            result: plan_target(target, ctx, txn.ledger(), force),
        };
        let id = targets::id(target.owner());
        let written = match &planned.result {
            Ok((_, files)) => files.iter().try_for_each(|file| txn.connect(file, id)),
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
        via: crate::settings::via_str(ctx.via),
        dry_run,
        targets: targets.collect(),
    }
}

fn failed(target: &dyn Target, err: &anyhow::Error) -> ConnectTarget {
    ConnectTarget {
        target: targets::id(target.name()),
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
                targets::display_path(&file.spec.path),
                targets::display_path(&backup)
            ));
        }
    }
    ConnectTarget {
        target: targets::id(planned.target.name()),
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
pub enum DisconnectOutcome {
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
    pub fn label(self) -> &'static str {
        match self {
            DisconnectOutcome::Restored => "restored",
            DisconnectOutcome::WouldRestore => "would restore",
            DisconnectOutcome::NotConnected => "not connected",
            DisconnectOutcome::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DisconnectFile {
    pub path: PathBuf,
    pub method: RestoreMethod,
    /// Managed values the user changed since `connect` (restored with `--force`).
    pub conflicts: Vec<super::Conflict>,
    pub diff: Option<String>,
    /// For a file that is gone (`method: gone`): the backup of its original, kept.
    pub backup: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DisconnectTarget {
    pub target: &'static str,
    pub outcome: DisconnectOutcome,
    pub error: Option<ErrorReport>,
    pub files: Vec<DisconnectFile>,
}

/// The `disconnect --json` document.
#[derive(Debug, Clone, Serialize)]
pub struct DisconnectReport {
    pub dry_run: bool,
    pub targets: Vec<DisconnectTarget>,
}

impl DisconnectReport {
    pub fn status(&self) -> ExitStatus {
        worst(self.targets.iter().filter_map(|t| t.error.as_ref()))
    }
}

/// Restores the files of `targets` (ids) recorded in the ledger; `None` = all recorded.
/// Plans and writes under one lock so the ledger cannot change in between.
pub fn disconnect(
    targets: Option<&[&'static str]>,
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
    let ids: Vec<&'static str> = match targets {
        Some(ids) => ids.to_vec(),
        None => targets::all_ids()
            .filter(|id| ledger.files.values().any(|r| r.target == *id))
            .collect(),
    };
    let mut reports = Vec::new();
    for id in ids {
        let records: Vec<(PathBuf, super::FileRecord)> = ledger
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
        let plans: Result<Vec<DisconnectPlan>> = records
            .iter()
            .map(|(path, record)| plan_disconnect(path, record, store, force))
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

// ---- status ----

/// The `status --json` and `connect --check --json` document.
#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    /// The URL `connect` would point tools at.
    pub endpoint: String,
    pub via: &'static str,
    /// Every listed target is connected (what `connect --check` exits 0 on).
    pub ok: bool,
    pub targets: Vec<TargetStatus>,
}

/// The status of `selected`, for `status` and `connect --check`; writes nothing.
pub fn status(ctx: &Ctx, selected: &[&'static dyn Target], ledger: &Ledger) -> StatusReport {
    let targets: Vec<TargetStatus> = selected
        .iter()
        .map(|&t| targets::status(t, ctx, ledger))
        .collect();
    StatusReport {
        endpoint: ctx.endpoint.to_string(),
        via: crate::settings::via_str(ctx.via),
        ok: targets.iter().all(|t| t.state.is_ok()),
        targets,
    }
}
