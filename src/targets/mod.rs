//! The tools `connect` points at the gateway: one module per tool, each knowing whether
//! the tool is installed, which file(s) it reads, which keys to set there and what
//! endpoint it will actually use. The engine in [`crate::connect`] does the writing.
//!
//! [`all`] and [`status`] are the read-only API that `status`, `connect --check` and
//! `doctor` (`tools.<target>` checks) share; they print nothing.

use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::Serialize;

use crate::cli::{TargetName, Via};
use crate::connect::{self, FileSpec, FileState, Ledger};
use crate::gateway_url::{GatewayUrl, Routes};
use crate::output::Printer;
use crate::provider_env::{self, EnvVar};
use crate::settings::Settings;

mod claude_code;
mod codex;
mod gemini;
mod shell;
mod vscode;

/// What every target needs to know to compute its wanted values.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The URL tools use: the org gateway, or the local relay with `--via relay`.
    pub endpoint: GatewayUrl,
    pub via: Via,
    /// Full provider URLs on `endpoint`: only the ones the gateway serves.
    pub routes: Routes,
    /// The variables a shell gets: provider URLs, then `NO_PROXY`/`no_proxy` with the relay.
    pub vars: Vec<EnvVar>,
    /// With `--identity`: the header that carries the user's Anyray key.
    pub identity_header: Option<String>,
    /// Write editor terminal env for every OS, not only this one.
    pub all_platforms: bool,
}

impl Ctx {
    /// The context for `settings`: the endpoint, routes (from discovery, else the
    /// defaults) and variables that `anyray env` would print, so they never disagree.
    pub fn resolve(
        settings: &Settings,
        printer: &Printer,
        identity: bool,
        all_platforms: bool,
    ) -> Result<Self> {
        let env = provider_env::resolve(settings, printer)?;
        let discovered = env.discovery.and_then(|d| d.identity_header);
        Ok(Self {
            endpoint: env.endpoint,
            via: env.via,
            routes: env.routes,
            vars: env.vars,
            identity_header: identity_header(settings, identity, discovered),
            all_platforms,
        })
    }

    /// The context without asking the gateway: the default routes on the tool endpoint.
    /// For callers that must not touch the network (doctor's `tools.*` checks).
    pub fn new(settings: &Settings, identity: bool, all_platforms: bool) -> Self {
        let endpoint = settings.tool_endpoint();
        let routes = Routes::defaults(&endpoint);
        let mut vars = provider_env::gateway_env(&routes);
        if settings.via.value == Via::Relay {
            vars.extend(provider_env::no_proxy_env(
                crate::envvars::get("NO_PROXY").as_deref(),
                crate::envvars::get("no_proxy").as_deref(),
            ));
        }
        Self {
            endpoint,
            via: settings.via.value,
            routes,
            vars,
            identity_header: identity_header(settings, identity, None),
            all_platforms,
        }
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
            .unwrap_or_else(|| crate::discovery::DEFAULT_IDENTITY_HEADER.to_string())
    })
}

/// The targets named on the command line, each once, in the order given.
pub fn named(names: &[TargetName]) -> Vec<&'static dyn Target> {
    let mut out: Vec<&'static dyn Target> = Vec::new();
    for &name in names {
        if !out.iter().any(|t| t.name() == name) {
            out.push(get(name));
        }
    }
    out
}

/// Extra arguments a tool needs to use the gateway for one run (`anyray run`), chosen by
/// the command's file name; none for tools that take their endpoint from the environment.
pub fn run_args(program: &std::ffi::OsStr, routes: &Routes) -> Vec<std::ffi::OsString> {
    let name = Path::new(program)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    match name {
        "claude" => claude_code::run_args(routes),
        "codex" => codex::run_args(routes),
        _ => Vec::new(),
    }
}

/// Whether a tool looks installed, and what made anyray think so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Detection {
    pub installed: bool,
    /// e.g. "`claude` on PATH", "~/.codex exists", "not found".
    pub reason: String,
}

/// What a target wants written, or why it has nothing to write.
#[derive(Debug, Clone, Default)]
pub struct TargetPlan {
    pub files: Vec<FileSpec>,
    /// Why the target is skipped (e.g. the gateway serves no route it needs).
    pub skip: Option<String>,
    /// Things the user should know (what is not rerouted, what to export).
    pub notes: Vec<String>,
}

/// The endpoint a tool will really use, read from its files and the environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Effective {
    pub endpoint: Option<String>,
    /// A managed (enterprise) settings file that overrides the user's file.
    pub overridden_by: Option<PathBuf>,
}

pub trait Target: Sync {
    fn name(&self) -> TargetName;
    /// The target whose name the ledger records for this target's files: gemini's
    /// setting lives in the shell env files, so they are the shell target's.
    fn owner(&self) -> TargetName {
        self.name()
    }
    fn detect(&self) -> Detection;
    /// The files and values that point this tool at `ctx.endpoint`. Reading a malformed
    /// file is an error (exit 3) naming `file:line:col`.
    fn plan(&self, ctx: &Ctx) -> Result<TargetPlan>;
    /// What the tool will use now.
    fn effective(&self, ctx: &Ctx) -> Result<Effective>;
}

/// Every target, in the order they are shown.
pub fn all() -> Vec<&'static dyn Target> {
    vec![
        &claude_code::ClaudeCode,
        &vscode::CURSOR,
        &vscode::WINDSURF,
        &codex::Codex,
        &shell::ShellTarget,
        &gemini::Gemini,
    ]
}

/// The target for a name (every name has one).
pub fn get(name: TargetName) -> &'static dyn Target {
    match name {
        TargetName::ClaudeCode => &claude_code::ClaudeCode,
        TargetName::Cursor => &vscode::CURSOR,
        TargetName::Windsurf => &vscode::WINDSURF,
        TargetName::Codex => &codex::Codex,
        TargetName::Shell => &shell::ShellTarget,
        TargetName::Gemini => &gemini::Gemini,
    }
}

/// The stable id of a target, as on the command line and in JSON (`claude-code`).
pub fn id(name: TargetName) -> &'static str {
    match name {
        TargetName::ClaudeCode => "claude-code",
        TargetName::Cursor => "cursor",
        TargetName::Windsurf => "windsurf",
        TargetName::Codex => "codex",
        TargetName::Shell => "shell",
        TargetName::Gemini => "gemini",
    }
}

/// Every target id, in display order.
pub fn all_ids() -> impl Iterator<Item = &'static str> {
    all().into_iter().map(|t| id(t.name()))
}

/// A target's overall state (`status`, `connect --check`, doctor).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
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
    pub fn label(self) -> &'static str {
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
    pub fn is_ok(self) -> bool {
        matches!(self, State::Connected)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct FileStatus {
    pub path: PathBuf,
    #[serde(flatten)]
    pub state: FileState,
}

/// One target's status: the `status --json` and `connect --check --json` entry.
#[derive(Debug, Clone, Serialize)]
pub struct TargetStatus {
    pub target: &'static str,
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
pub fn status(target: &dyn Target, ctx: &Ctx, ledger: &Ledger) -> TargetStatus {
    let detection = target.detect();
    let mut status = TargetStatus {
        target: id(target.name()),
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

/// Detection shared by the targets: the binary on PATH, else the config dir exists.
pub(crate) fn detect(bin: &str, dir: Result<PathBuf>) -> Detection {
    let (installed, reason) = match dir {
        _ if crate::shell::rc::on_path(bin) => (true, format!("`{bin}` on PATH")),
        Ok(dir) if dir.is_dir() => (true, format!("{} exists", display_path(&dir))),
        Ok(dir) => (
            false,
            format!("no `{bin}` on PATH and no {}", display_path(&dir)),
        ),
        Err(e) => (false, format!("{e:#}")),
    };
    Detection { installed, reason }
}

/// A path for humans: the home dir shown as `~`.
pub fn display_path(path: &Path) -> String {
    if let Ok(home) = crate::paths::home_dir()
        && let Ok(rest) = path.strip_prefix(&home)
    {
        return Path::new("~").join(rest).display().to_string();
    }
    path.display().to_string()
}

/// With the relay, `NO_PROXY` and `no_proxy` values that add loopback to what the file
/// already has at `key_of(name)` (else to the environment's), so that no proxy ever gets
/// the tools' traffic to 127.0.0.1. Idempotent: merging twice adds nothing. Without the
/// relay, nothing.
pub(crate) fn no_proxy_wants(
    ctx: &Ctx,
    file: &Path,
    format: connect::Format,
    key_of: impl Fn(&str) -> crate::edit::KeyPath,
) -> Result<Vec<connect::Want>> {
    if ctx.via != Via::Relay {
        return Ok(Vec::new());
    }
    let names = ["NO_PROXY", "no_proxy"];
    let keys = names.map(&key_of);
    let mut in_file = connect::read_values(file, format, &keys)?.into_iter();
    let mut current = |name: &str| {
        in_file
            .next()
            .flatten()
            .or_else(|| crate::envvars::get(name))
    };
    let (upper, lower) = (current(names[0]), current(names[1]));
    Ok(
        provider_env::no_proxy_env(upper.as_deref(), lower.as_deref())
            .into_iter()
            .map(|var| connect::Want::new(key_of(var.name), var.value))
            .collect(),
    )
}

/// The gateway variables without the proxy exemptions (targets merge those per file).
pub(crate) fn provider_vars(ctx: &Ctx) -> impl Iterator<Item = &EnvVar> {
    ctx.vars
        .iter()
        .filter(|var| !var.name.eq_ignore_ascii_case("NO_PROXY"))
}

/// Whether an env-style flag such as `CLAUDE_CODE_USE_BEDROCK` is on.
pub(crate) fn truthy(value: Option<&str>) -> bool {
    value.is_some_and(|v| {
        !matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "" | "0" | "false" | "no" | "off"
        )
    })
}
