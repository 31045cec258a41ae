//! The tools `connect` points at the gateway: one module per tool, each knowing whether
//! the tool is installed, which file(s) it reads, which keys to set there and what
//! endpoint it will actually use. The engine in [`crate::connect`] does the writing;
//! [`crate::session`] runs it across targets and reads their status.

use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::Serialize;

use crate::auth::{FixedHeaders, Scheme};
use crate::connect::{self, FileSpec, TargetName};
use crate::gateway_url::{GatewayUrl, Provider, Routes};
use crate::paths::display_path;
use crate::provider_env::{self, EnvVar};
use crate::settings::Via;

pub(crate) use claude_code::{StatusLineWant, managed_status_line, user_status_line};

mod aider;
mod claude_code;
mod codex;
mod continue_cli;
mod copilot;
mod crush;
mod declared;
mod droid;
mod gemini;
mod goose;
pub(crate) mod helper;
mod opencode;
mod qwen;
mod shell;
mod vscode;
mod zed;

/// What every target needs to know to compute its wanted values.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    /// The URL tools use: the org gateway, or the local relay with `--via relay`.
    pub endpoint: GatewayUrl,
    pub via: Via,
    /// Full provider URLs on `endpoint`: only the ones the gateway serves.
    pub routes: Routes,
    /// The variables a shell gets: provider URLs, then `NO_PROXY`/`no_proxy` with the relay.
    pub vars: Vec<EnvVar>,
    /// With `--identity`: the header that carries the user's Anyray key.
    pub identity_header: Option<String>,
    /// Fixed headers (global and per route) the tools that can send headers send.
    pub headers: FixedHeaders,
    /// Routes whose variables are left out for shells: they need fixed headers that a
    /// variable cannot carry (with `via = direct`).
    pub need_relay: Vec<Provider>,
    /// Write editor terminal env for every OS, not only this one.
    pub all_platforms: bool,
    /// How the gateway wants the key (`None`: unknown). In the `key` scheme, with tools
    /// pointed straight at the gateway, the tools that run a credential helper get one.
    pub scheme: Option<Scheme>,
    /// The anyray program the tools' credential helpers run (`anyray token`).
    pub program: PathBuf,
    /// Replace a credential helper of the user's own with anyray's (`connect --force`).
    pub replace_helpers: bool,
    /// Claude Code's status line: asked for (`connect --statusline`), or the one anyray
    /// already manages (from the ledger), so that status sees drift and a later
    /// `connect` keeps it.
    pub statusline: Option<StatusLineWant>,
}

impl Ctx {
    /// Whether the tools must fetch the gateway key themselves: the `key` scheme, straight
    /// to the gateway (the relay adds the key itself).
    pub(crate) fn wants_helpers(&self) -> bool {
        self.scheme == Some(Scheme::Key) && self.via == Via::Direct
    }
}

/// The targets named on the command line, each once, in the order given.
pub(crate) fn named(names: &[TargetName]) -> Vec<&'static dyn Target> {
    let mut out: Vec<&'static dyn Target> = Vec::new();
    for &name in names {
        if !out.iter().any(|t| t.name() == name) {
            out.push(get(name));
        }
    }
    out
}

/// Extra variables a tool needs to use the gateway for one run (`anyray run`), beyond
/// the providers' standard ones, chosen by the command's file name.
pub(crate) fn run_env(
    program: &std::ffi::OsStr,
    routes: &Routes,
    headers: &FixedHeaders,
) -> Vec<EnvVar> {
    match program_name(program) {
        "copilot" => copilot::run_env(routes, headers),
        "opencode" => opencode::run_env(routes),
        _ => Vec::new(),
    }
}

/// Extra arguments a tool needs to use the gateway for one run (`anyray run`), chosen by
/// the command's file name (`rest`: the user's own arguments); none for tools that take
/// their endpoint from the environment.
pub(crate) fn run_args(
    program: &std::ffi::OsStr,
    rest: &[std::ffi::OsString],
    routes: &Routes,
    headers: &FixedHeaders,
) -> Vec<std::ffi::OsString> {
    match program_name(program) {
        "claude" => claude_code::run_args(routes, headers),
        "codex" => codex::run_args(routes, headers),
        "qwen" => qwen::run_args(rest, routes),
        _ => Vec::new(),
    }
}

/// Whether `anyray run` can give this program the fixed headers ([`run_args`]).
pub(crate) fn sends_headers(program: &std::ffi::OsStr) -> bool {
    matches!(program_name(program), "claude" | "codex" | "copilot")
}

fn program_name(program: &std::ffi::OsStr) -> &str {
    Path::new(program)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
}

/// Whether a tool looks installed, and what made anyray think so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Detection {
    pub installed: bool,
    /// e.g. "`claude` on PATH", "~/.codex exists", "not found".
    pub reason: String,
}

/// What a target wants written, or why it has nothing to write.
#[derive(Debug, Clone, Default)]
pub(crate) struct TargetPlan {
    pub files: Vec<FileSpec>,
    /// Why the target is skipped (e.g. the gateway serves no route it needs).
    pub skip: Option<String>,
    /// Things the user should know (what is not rerouted, what to export).
    pub notes: Vec<String>,
}

/// The endpoint a tool will really use, read from its files and the environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Effective {
    pub endpoint: Option<String>,
    /// A managed (enterprise) settings file that overrides the user's file.
    pub overridden_by: Option<PathBuf>,
}

pub(crate) trait Target: Sync {
    fn name(&self) -> TargetName;
    /// The target whose name the ledger records for one of this target's files: gemini's
    /// shell route lives in the shell env files, so they are the shell target's.
    fn owner(&self, _file: &Path) -> TargetName {
        self.name()
    }
    /// The targets whose recorded files `disconnect <this target>` restores.
    fn owners(&self) -> Vec<TargetName> {
        vec![self.name()]
    }
    fn detect(&self) -> Detection;
    /// The files and values that point this tool at `ctx.endpoint`. Reading a malformed
    /// file is an error (exit 3) naming `file:line:col`.
    fn plan(&self, ctx: &Ctx) -> Result<TargetPlan>;
    /// What the tool will use now.
    fn effective(&self, ctx: &Ctx) -> Result<Effective>;
    /// The credential helper the tool's settings name now (anyray's or the user's), for
    /// doctor to run as the tool would.
    fn credential_helper(&self) -> Result<Option<helper::Helper>> {
        Ok(None)
    }
    /// After `disconnect` restored `path` key by key to `bytes`: a table anyray created
    /// that is left holding only the user's keys, which the tool cannot load (Codex: a
    /// provider without `name`).
    fn leftover_table(&self, _path: &Path, _bytes: &[u8]) -> Option<LeftoverTable> {
        None
    }
}

/// A table anyray created, left by `disconnect` with only the user's keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LeftoverTable {
    /// e.g. `model_providers.anyray`.
    pub table: String,
    /// The user's keys in it.
    pub keys: Vec<String>,
    /// Why the tool cannot load it.
    pub why: &'static str,
    /// The file without the table.
    pub without: Vec<u8>,
}

/// Every target, in the order they are shown.
pub(crate) fn all() -> Vec<&'static dyn Target> {
    vec![
        &claude_code::ClaudeCode,
        &vscode::CURSOR,
        &vscode::WINDSURF,
        &codex::Codex,
        &shell::ShellTarget,
        &gemini::Gemini,
        &opencode::OPENCODE,
        &continue_cli::CONTINUE,
        &aider::AIDER,
        &goose::GOOSE,
        &zed::ZED,
        &droid::DROID,
        &crush::CRUSH,
        &qwen::Qwen,
        &copilot::Copilot,
    ]
}

/// The variables other targets keep in the shell target's env files (Copilot CLI's,
/// once `connect copilot` put them there), so that connecting the shell keeps them.
pub(crate) fn env_file_extras(ctx: &Ctx) -> Result<Vec<EnvVar>> {
    copilot::env_file_vars(ctx, false)
}

/// The target for a name (every name has one).
pub(crate) fn get(name: TargetName) -> &'static dyn Target {
    match name {
        TargetName::ClaudeCode => &claude_code::ClaudeCode,
        TargetName::Cursor => &vscode::CURSOR,
        TargetName::Windsurf => &vscode::WINDSURF,
        TargetName::Codex => &codex::Codex,
        TargetName::Shell => &shell::ShellTarget,
        TargetName::Gemini => &gemini::Gemini,
        TargetName::Opencode => &opencode::OPENCODE,
        TargetName::Continue => &continue_cli::CONTINUE,
        TargetName::Aider => &aider::AIDER,
        TargetName::Goose => &goose::GOOSE,
        TargetName::Zed => &zed::ZED,
        TargetName::Droid => &droid::DROID,
        TargetName::Crush => &crush::CRUSH,
        TargetName::Qwen => &qwen::Qwen,
        TargetName::Copilot => &copilot::Copilot,
    }
}

/// A tool whose model endpoint no file on this machine sets, so `connect` cannot point it
/// at the gateway; `status` lists it with the reason (docs/targets.md).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Unconfigurable {
    pub tool: &'static str,
    pub installed: bool,
    pub reason: &'static str,
}

/// The AI tools anyray knows it cannot connect, with what was found of each.
pub(crate) fn unconfigurable() -> Vec<Unconfigurable> {
    let home = crate::paths::home_dir();
    let known: [(&str, &str, &str, &str); 3] = [
        (
            "Amp",
            "amp",
            ".config/amp",
            "Amp sends model traffic through Amp's own servers (ampcode.com); `amp.url` moves \
             the Amp server, not a provider base URL",
        ),
        (
            "Kiro",
            "kiro",
            ".kiro",
            "Kiro offers only its built-in providers; a custom endpoint is an open request \
             (kirodotdev/Kiro#9367)",
        ),
        (
            "Cline (VS Code extension)",
            "cline",
            ".cline",
            "the extension keeps its provider and base URL in VS Code's extension state and \
             secret storage, set from its own UI",
        ),
    ];
    known
        .into_iter()
        .map(|(tool, bin, dir, reason)| Unconfigurable {
            tool,
            installed: crate::shell::rc::on_path(bin)
                || home.as_ref().is_ok_and(|h| h.join(dir).exists()),
            reason,
        })
        .collect()
}

/// Detection shared by the targets: the binary on PATH, else the config dir exists.
pub(crate) fn detect(bin: &str, dir: Result<PathBuf>) -> Detection {
    let (installed, reason) = match dir {
        _ if crate::shell::rc::on_path(bin) => (true, format!("`{bin}` on PATH")),
        Ok(dir) if dir.exists() => (true, format!("{} exists", display_path(&dir))),
        Ok(dir) => (
            false,
            format!("no `{bin}` on PATH and no {}", display_path(&dir)),
        ),
        Err(e) => (false, format!("{e:#}")),
    };
    Detection { installed, reason }
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
