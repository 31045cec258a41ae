//! Claude Code: `env.ANTHROPIC_BASE_URL` in the user settings file (strict JSON),
//! `$CLAUDE_CONFIG_DIR/settings.json` or `~/.claude/settings.json`.
//!
//! In Bedrock or Vertex mode (`CLAUDE_CODE_USE_BEDROCK` / `CLAUDE_CODE_USE_VERTEX`, in
//! the settings' `env` or the environment) the matching `ANTHROPIC_*_BASE_URL` is
//! repointed instead. A managed settings file (per OS, see docs/targets.md) overrides the user
//! file; it is detected and reported, never edited. Installed: `claude` on PATH, or the
//! config dir exists.

use std::ffi::OsString;
use std::path::PathBuf;

use anyhow::Result;

use super::{
    Ctx, Detection, Effective, Target, TargetPlan, detect, helper, no_proxy_wants, truthy,
};
use crate::auth::{FixedHeaders, Scheme};
use crate::connect::TargetName;
use crate::connect::{self, FileSpec, Format, Ledger, Want};
use crate::edit::KeyPath;
use crate::envvars;
use crate::gateway_url::{Provider, Routes};
use crate::settings::Via;
use crate::shell::quote_posix;

pub(super) struct ClaudeCode;

/// Which Anthropic endpoint Claude Code uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Anthropic,
    Bedrock,
    Vertex,
}

impl Mode {
    fn var(self) -> &'static str {
        match self {
            Mode::Anthropic => "ANTHROPIC_BASE_URL",
            Mode::Bedrock => "ANTHROPIC_BEDROCK_BASE_URL",
            Mode::Vertex => "ANTHROPIC_VERTEX_BASE_URL",
        }
    }

    fn provider(self) -> Provider {
        match self {
            Mode::Anthropic => Provider::Anthropic,
            Mode::Bedrock => Provider::Bedrock,
            Mode::Vertex => Provider::Vertex,
        }
    }

    /// Where Claude Code sends requests when nothing sets the URL.
    fn default_endpoint(self) -> &'static str {
        match self {
            Mode::Anthropic => "https://api.anthropic.com",
            Mode::Bedrock => "AWS Bedrock (default endpoint)",
            Mode::Vertex => "Google Vertex AI (default endpoint)",
        }
    }
}

fn config_dir() -> Result<PathBuf> {
    match envvars::get(envvars::CLAUDE_CONFIG_DIR) {
        Some(dir) => Ok(PathBuf::from(dir)),
        None => Ok(crate::paths::home_dir()?.join(".claude")),
    }
}

fn settings_file() -> Result<PathBuf> {
    Ok(config_dir()?.join("settings.json"))
}

/// The managed settings file for this OS (`ANYRAY_CLAUDE_MANAGED_SETTINGS` overrides it).
fn managed_settings_file() -> PathBuf {
    if let Some(path) = envvars::get(envvars::ANYRAY_CLAUDE_MANAGED_SETTINGS) {
        return PathBuf::from(path);
    }
    if cfg!(target_os = "macos") {
        PathBuf::from("/Library/Application Support/ClaudeCode/managed-settings.json")
    } else if cfg!(windows) {
        PathBuf::from(r"C:\Program Files\ClaudeCode\managed-settings.json")
    } else {
        PathBuf::from("/etc/claude-code/managed-settings.json")
    }
}

fn env_key(var: &str) -> KeyPath {
    KeyPath::keys(["env", var])
}

/// `env` values from the settings file (parsed once: it can be large), else from the
/// environment, for `vars` in order.
fn settings(file: &std::path::Path, vars: &[&str]) -> Result<Vec<Option<String>>> {
    let keys: Vec<KeyPath> = vars.iter().map(|var| env_key(var)).collect();
    let in_file = connect::read_values(file, Format::Json, &keys)?;
    Ok(in_file
        .into_iter()
        .zip(vars)
        .map(|(value, var)| value.or_else(|| envvars::get(var)))
        .collect())
}

/// The variables that switch Claude Code to Bedrock or Vertex.
const MODE_VARS: [&str; 2] = ["CLAUDE_CODE_USE_BEDROCK", "CLAUDE_CODE_USE_VERTEX"];

fn mode_of(bedrock: Option<&str>, vertex: Option<&str>) -> Mode {
    if truthy(bedrock) {
        Mode::Bedrock
    } else if truthy(vertex) {
        Mode::Vertex
    } else {
        Mode::Anthropic
    }
}

fn mode(file: &std::path::Path) -> Result<Mode> {
    let values = settings(file, &MODE_VARS)?;
    Ok(mode_of(values[0].as_deref(), values[1].as_deref()))
}

/// `anyray run -- claude …`: settings.json `env` beats the process environment, so the
/// URL goes in through `--settings` as a JSON string (nothing is written to disk), which
/// Claude Code ranks above the user's own settings files.
pub(super) fn run_args(routes: &Routes, headers: &FixedHeaders) -> Vec<OsString> {
    let mode = settings_file()
        .and_then(|file| mode(&file))
        .unwrap_or(Mode::Anthropic);
    let Some(url) = routes.get(mode.provider()) else {
        return Vec::new();
    };
    let mut env = serde_json::Map::new();
    env.insert(mode.var().into(), url.into());
    let custom = FixedHeaders::lines(&headers.for_route(Some(mode.provider())));
    if !custom.is_empty() {
        env.insert(CUSTOM_HEADERS.into(), custom.into());
    }
    let settings = serde_json::json!({ "env": env });
    vec!["--settings".into(), settings.to_string().into()]
}

/// Claude Code's extra request headers: `Name: value` lines (docs/targets.md).
const CUSTOM_HEADERS: &str = "ANTHROPIC_CUSTOM_HEADERS";

/// `ANTHROPIC_CUSTOM_HEADERS` with the fixed headers for `provider`: the user's own
/// lines (from the file, else the environment) for other names first, then ours.
/// Claude Code splits on newlines and takes the name before the first `:`.
fn custom_headers(
    file: &std::path::Path,
    headers: &FixedHeaders,
    provider: Provider,
) -> Result<Option<String>> {
    let ours = headers.for_route(Some(provider));
    if ours.is_empty() {
        return Ok(None);
    }
    let current = settings(file, &[CUSTOM_HEADERS])?
        .remove(0)
        .unwrap_or_default();
    let mut lines: Vec<String> = current
        .lines()
        .filter(|line| {
            let name = line.split_once(':').map_or("", |(n, _)| n.trim());
            !name.is_empty() && !ours.contains_key(&name.to_ascii_lowercase())
        })
        .map(str::to_string)
        .collect();
    lines.push(FixedHeaders::lines(&ours));
    Ok(Some(lines.join("\n")))
}

/// Where Claude Code reads the command that prints its API key.
const API_KEY_HELPER: &str = "apiKeyHelper";

fn helper_key() -> KeyPath {
    KeyPath::keys([API_KEY_HELPER])
}

/// In the `key` scheme, straight to the gateway: `apiKeyHelper` runs `anyray token`, so
/// Claude Code sends the key (as `Authorization: Bearer` and `x-api-key`) and no file
/// holds it. A helper of the user's own stays unless `--force`; one of anyray's that
/// runs another anyray (moved, deleted) is repointed.
fn helper_want(ctx: &Ctx, file: &std::path::Path, notes: &mut Vec<String>) -> Result<Option<Want>> {
    let current = connect::read_value(file, Format::Json, &helper_key())?;
    let anyray = current.as_deref().and_then(helper::anyray_in_shell_command);
    if !ctx.wants_helpers() {
        if anyray.is_some() && ctx.scheme == Some(Scheme::Header) {
            notes.push(format!(
                "{API_KEY_HELPER} still runs `anyray token` from an earlier connect, but the \
                 gateway now takes your key in a header: run `anyray disconnect claude-code`, \
                 then connect again"
            ));
        }
        return Ok(None);
    }
    let ours = helper::shell_command(&ctx.program);
    match (&current, &anyray) {
        (Some(theirs), None) if *theirs != ours && !ctx.replace_helpers => {
            notes.push(format!(
                "your own {API_KEY_HELPER} stays and gives Claude Code its key; `anyray connect \
                 claude-code --force` replaces it with `anyray token` (disconnect puts yours back)"
            ));
            return Ok(None);
        }
        (_, Some(old)) if *old != ctx.program => {
            if let Some(why) = helper::unusable(old) {
                notes.push(format!(
                    "{API_KEY_HELPER} ran {}, which {why}: it now runs {}",
                    old.display(),
                    ctx.program.display()
                ));
            }
        }
        _ => {}
    }
    notes.push(format!(
        "Claude Code gets your key from `anyray token` ({API_KEY_HELPER}); no file holds it"
    ));
    Ok(Some(Want::new(helper_key(), ours)))
}

/// The `apiKeyHelper` in the user's settings, as Claude Code runs it.
fn current_helper() -> Result<Option<helper::Helper>> {
    let Some(command) = connect::read_value(&settings_file()?, Format::Json, &helper_key())? else {
        return Ok(None);
    };
    Ok(Some(helper::Helper {
        setting: API_KEY_HELPER,
        anyray: helper::anyray_in_shell_command(&command),
        run: helper::Run::Shell { command },
    }))
}

/// Claude Code's status line (`statusLine: {"type": "command", "command": …}`,
/// code.claude.com/docs/en/statusline); Claude Code runs the command through the shell
/// with its session JSON on stdin.
const STATUS_LINE_TYPE: [&str; 2] = ["statusLine", "type"];
const STATUS_LINE_COMMAND: [&str; 2] = ["statusLine", "command"];

/// What `connect` does with Claude Code's status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StatusLineWant {
    /// `connect --statusline`: anyray's command, `<anyray> statusline`. A status line of
    /// the user's is left alone unless `chain` (anyray's command runs it first and
    /// appends its own line) or `replace` (`--force`).
    Install {
        anyray: PathBuf,
        chain: bool,
        replace: bool,
    },
    /// The command anyray wrote before (the ledger's): kept as it is.
    Keep(String),
}

/// `'<anyray>' statusline`, with `--chain '<theirs>'` when chaining.
fn our_command(anyray: &std::path::Path, chained: Option<&str>) -> String {
    let mut command = format!("{} statusline", quote_posix(&anyray.to_string_lossy()));
    if let Some(theirs) = chained {
        command.push_str(" --chain ");
        command.push_str(&quote_posix(theirs));
    }
    command
}

/// Whether a status command is one anyray wrote: `'…/anyray' statusline …`.
fn is_ours(command: &str) -> bool {
    let Some(rest) = command.strip_prefix('\'') else {
        return false;
    };
    let Some((program, args)) = rest.split_once('\'') else {
        return false;
    };
    let stem = std::path::Path::new(program)
        .file_stem()
        .and_then(|s| s.to_str());
    stem == Some("anyray") && (args == " statusline" || args.starts_with(" statusline "))
}

/// The user's command an anyray command chains, if any.
fn chained_in(command: &str) -> Option<String> {
    let (_, quoted) = command.split_once(" statusline --chain ")?;
    let inner = quoted.strip_prefix('\'')?.strip_suffix('\'')?;
    Some(inner.replace(r"'\''", "'"))
}

/// The status command Claude Code's user settings hold now, when it is not anyray's.
pub(crate) fn user_status_line() -> Result<Option<String>> {
    let file = settings_file()?;
    let current = connect::read_value(&file, Format::Json, &KeyPath::keys(STATUS_LINE_COMMAND))?;
    Ok(current.filter(|c| !is_ours(c)))
}

/// The status command anyray wrote into Claude Code's settings, as the ledger records it.
pub(crate) fn managed_status_line(ledger: &Ledger) -> Option<StatusLineWant> {
    let file = settings_file().ok()?;
    let key = KeyPath::keys(STATUS_LINE_COMMAND);
    let record = ledger.files.get(&file)?;
    let written = record.keys.iter().find(|k| k.key == key)?;
    Some(StatusLineWant::Keep(written.written.clone()))
}

/// The wanted `statusLine` keys, or a note saying why the user's own stays.
fn status_line_wants(
    file: &std::path::Path,
    want: &StatusLineWant,
) -> Result<Result<Vec<Want>, String>> {
    let command = match want {
        StatusLineWant::Keep(command) => command.clone(),
        StatusLineWant::Install {
            anyray,
            chain,
            replace,
        } => {
            let current =
                connect::read_value(file, Format::Json, &KeyPath::keys(STATUS_LINE_COMMAND))?;
            match current {
                // Ours already: a chain it holds is kept.
                Some(c) if is_ours(&c) => our_command(anyray, chained_in(&c).as_deref()),
                Some(theirs) if *chain => our_command(anyray, Some(&theirs)),
                Some(_) if *replace => our_command(anyray, None),
                Some(theirs) => {
                    return Ok(Err(format!(
                        "Claude Code already has a status line (`{theirs}`), left as it is: \
                         `--chain-statusline` runs it and appends anyray's, `--force` replaces it"
                    )));
                }
                None => our_command(anyray, None),
            }
        }
    };
    Ok(Ok(vec![
        Want::new(KeyPath::keys(STATUS_LINE_TYPE), "command"),
        Want::new(KeyPath::keys(STATUS_LINE_COMMAND), command),
    ]))
}

impl Target for ClaudeCode {
    fn name(&self) -> TargetName {
        TargetName::ClaudeCode
    }

    fn detect(&self) -> Detection {
        detect("claude", config_dir())
    }

    fn plan(&self, ctx: &Ctx) -> Result<TargetPlan> {
        let file = settings_file()?;
        let mode = mode(&file)?;
        let mut plan = TargetPlan::default();
        let Some(url) = ctx.routes.get(mode.provider()) else {
            plan.skip = Some(format!(
                "the gateway serves no {0} route (if it does: `anyray config set routes.enabled \
                 openai,anthropic,{0}`)",
                mode.provider().key()
            ));
            return Ok(plan);
        };
        if mode != Mode::Anthropic {
            plan.notes.push(format!(
                "Claude Code is in {} mode: repointing {}",
                mode.provider().key(),
                mode.var()
            ));
        }
        if ctx.identity_header.is_some() && ctx.via != Via::Relay {
            plan.notes.push(
                "Claude Code's settings.json cannot reference an environment variable, so anyray \
                 does not write your key there; use `--via relay`, which adds the identity header"
                    .into(),
            );
        }
        let mut wants = vec![Want::new(env_key(mode.var()), url)];
        if mode == Mode::Anthropic {
            wants.extend(helper_want(ctx, &file, &mut plan.notes)?);
        }
        if let Some(value) = custom_headers(&file, &ctx.headers, mode.provider())? {
            wants.push(Want::new(env_key(CUSTOM_HEADERS), value));
        }
        // Claude Code has sent loopback through HTTPS_PROXY unless NO_PROXY says otherwise.
        wants.extend(no_proxy_wants(ctx, &file, Format::Json, env_key)?);
        if let Some(want) = &ctx.statusline {
            match status_line_wants(&file, want)? {
                Ok(status_line) => wants.extend(status_line),
                Err(note) => plan.notes.push(note),
            }
        }
        plan.files.push(FileSpec {
            path: file,
            format: Format::Json,
            wants,
        });
        Ok(plan)
    }

    fn credential_helper(&self) -> Result<Option<helper::Helper>> {
        current_helper()
    }

    fn effective(&self, _ctx: &Ctx) -> Result<Effective> {
        let file = settings_file()?;
        let modes = [Mode::Anthropic, Mode::Bedrock, Mode::Vertex];
        let mut vars = MODE_VARS.to_vec();
        vars.extend(modes.map(Mode::var));
        let values = settings(&file, &vars)?;
        let mode = mode_of(values[0].as_deref(), values[1].as_deref());
        let url = modes
            .iter()
            .position(|&m| m == mode)
            .and_then(|i| values[MODE_VARS.len() + i].clone());
        let managed = managed_settings_file();
        // A managed file Claude Code cannot parse does not override anything.
        if let Ok(Some(url)) = connect::read_value(&managed, Format::Json, &env_key(mode.var())) {
            return Ok(Effective {
                endpoint: Some(url),
                overridden_by: Some(managed),
            });
        }
        let endpoint = url.unwrap_or_else(|| mode.default_endpoint().into());
        Ok(Effective {
            endpoint: Some(endpoint),
            overridden_by: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_command_is_recognised_and_its_chain_read_back() {
        let anyray = std::path::Path::new("/opt/any ray/bin/anyray");
        let plain = our_command(anyray, None);
        assert_eq!(plain, "'/opt/any ray/bin/anyray' statusline");
        assert!(is_ours(&plain));
        assert_eq!(chained_in(&plain), None);
        let theirs = "bash ~/.claude/line.sh 'it''s' | head -1";
        let chained = our_command(anyray, Some(theirs));
        assert!(is_ours(&chained));
        assert_eq!(chained_in(&chained).as_deref(), Some(theirs));
        for other in [
            "~/bin/anyray statusline",
            "'/x/anyray' status",
            "'/x/ccline' statusline",
            "npx ccstatusline",
        ] {
            assert!(!is_ours(other), "{other}");
        }
    }
}
