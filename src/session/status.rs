//! What `status`, `connect --check` and doctor's `tools.<target>` checks read: each
//! target's state, from its files, the ledger and the endpoint the tool will use. Reads
//! only; prints nothing.

use std::path::PathBuf;

use serde::Serialize;

use crate::connect::{self, FileState, Ledger, TargetName};
use crate::settings::Via;
use crate::targets::{Ctx, Target};

/// The `status --json` and `connect --check --json` document.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct StatusReport {
    /// The URL `connect` would point tools at.
    pub endpoint: String,
    pub via: Via,
    /// Every listed target is connected (what `connect --check` exits 0 on).
    pub ok: bool,
    pub targets: Vec<TargetStatus>,
    /// AI tools no file can point at a gateway (Amp, Kiro, …), with why; the ones found
    /// here are marked `installed`.
    pub not_configurable: Vec<crate::targets::Unconfigurable>,
}

/// The status of `selected`, for `status` and `connect --check`; writes nothing.
pub(crate) fn report(ctx: &Ctx, selected: &[&'static dyn Target], ledger: &Ledger) -> StatusReport {
    let ctx = &super::with_managed(ctx, ledger);
    let targets: Vec<TargetStatus> = selected.iter().map(|&t| target(t, ctx, ledger)).collect();
    StatusReport {
        endpoint: ctx.endpoint.to_string(),
        via: ctx.via,
        ok: targets.iter().all(|t| t.state.is_ok()),
        targets,
        not_configurable: crate::targets::unconfigurable(),
    }
}

/// A target's overall state (`status`, `connect --check`, doctor).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum State {
    Connected,
    NotConnected,
    Drifted,
    /// A managed settings layer sets the endpoint; the user's file does not decide.
    Overridden,
    /// A file cannot be read or parsed.
    Invalid,
    /// anyray cannot connect this tool here (`error` says why: the gateway serves no
    /// route it needs, or no shell was found).
    Unsupported,
}

impl State {
    pub(crate) fn label(self) -> &'static str {
        match self {
            State::Connected => "connected",
            State::NotConnected => "not connected",
            State::Drifted => "drifted",
            State::Overridden => "overridden by managed settings",
            State::Invalid => "invalid file",
            State::Unsupported => "cannot connect",
        }
    }

    /// Whether `connect --check` accepts this state.
    pub(crate) fn is_ok(self) -> bool {
        matches!(self, State::Connected)
    }
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct FileStatus {
    pub path: PathBuf,
    #[serde(flatten)]
    pub state: FileState,
}

/// One target's status: the `status --json` and `connect --check --json` entry.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct TargetStatus {
    pub target: TargetName,
    pub installed: bool,
    pub detected_by: String,
    pub state: State,
    pub files: Vec<FileStatus>,
    /// The endpoint the tool will actually use (`null` when unknown).
    pub endpoint: Option<String>,
    /// The managed settings file that overrides the user's file, if any.
    pub overridden_by: Option<PathBuf>,
    /// A problem reading the tool's files.
    pub error: Option<String>,
    pub notes: Vec<String>,
}

/// Reads one target's state; writes and prints nothing.
pub(crate) fn target(target: &dyn Target, ctx: &Ctx, ledger: &Ledger) -> TargetStatus {
    let detection = target.detect();
    let mut status = TargetStatus {
        target: target.name(),
        installed: detection.installed,
        detected_by: detection.reason,
        state: State::NotConnected,
        files: Vec::new(),
        endpoint: None,
        overridden_by: None,
        error: None,
        notes: Vec::new(),
    };
    let plan = match target.plan(ctx) {
        Ok(plan) => plan,
        Err(e) => {
            status.state = State::Invalid;
            status.error = Some(format!("{e:#}"));
            return status;
        }
    };
    status.notes = plan.notes;
    if let Some(reason) = plan.skip {
        status.state = State::Unsupported;
        status.error = Some(reason);
        return status;
    }
    status.files = plan
        .files
        .iter()
        .map(|spec| FileStatus {
            path: spec.path.clone(),
            state: connect::inspect(spec, ledger.files.get(&spec.path)),
        })
        .collect();
    status.state = combine(status.files.iter().map(|f| &f.state));
    // A tool that is not installed is not "connected", even when the files it would read
    // (another target's: gemini reads the shell env files) carry its setting.
    // A tool that is not installed is judged by its own files: those another target owns
    // (gemini's shell route lives in the shell target's env files) may carry its
    // setting without it being connected. A target with no file of its own (copilot,
    // whose variables only `connect copilot` puts in the shell's env files) is connected
    // when every file is.
    let (own, others): (Vec<&FileStatus>, Vec<&FileStatus>) = status
        .files
        .iter()
        .partition(|f| target.owner(&f.path) == target.name());
    let settled = matches!(status.state, State::Invalid | State::Connected);
    if !status.installed && !others.is_empty() && !settled {
        let own_state = combine(own.iter().map(|f| &f.state));
        if own.is_empty() || own_state == State::NotConnected {
            let carried = others.iter().all(|f| f.state == FileState::Connected);
            let owner = target.owner(&others[0].path);
            status.state = State::NotConnected;
            if carried {
                status.notes.push(format!(
                    "not installed; the {owner} target's files already carry its setting"
                ));
            }
        }
    }
    if let Some(FileState::Invalid(message)) = status
        .files
        .iter()
        .map(|f| &f.state)
        .find(|s| matches!(s, FileState::Invalid(_)))
    {
        status.error = Some(message.clone());
    }
    match target.effective(ctx) {
        Ok(effective) => {
            status.endpoint = effective.endpoint;
            if effective.overridden_by.is_some() && status.state != State::Invalid {
                status.state = State::Overridden;
            }
            status.overridden_by = effective.overridden_by;
        }
        Err(e) => status.error = Some(format!("{e:#}")),
    }
    status
}

/// A target is connected when every file is; not connected when no file is.
fn combine<'a>(states: impl Iterator<Item = &'a FileState>) -> State {
    let states: Vec<&FileState> = states.collect();
    if states.iter().any(|s| matches!(s, FileState::Invalid(_))) {
        State::Invalid
    } else if states.iter().all(|s| **s == FileState::Connected) {
        State::Connected
    } else if states.iter().all(|s| **s == FileState::NotConnected) {
        State::NotConnected
    } else {
        State::Drifted
    }
}
