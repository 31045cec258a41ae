//! The one engine behind `connect`, `disconnect` and `status`: every target only says
//! which keys it wants in which files ([`FileSpec`]); the engine does the rest, the same
//! way for every format:
//!
//! parse → plan (new bytes + prior values) → diff → lock → backup before the first change
//! → intent in the ledger → atomic write (through symlinks, keeping mode and owner) →
//! commit in the ledger. [`journal`] argues why a kill at any point loses nothing.
//!
//! `disconnect` restores the original bytes from the backup only when nothing but anyray
//! changed the file since the backup was taken; otherwise it restores key by key with the
//! format-preserving editor (prior value, or removed), keeping everything else, and
//! refuses (exit 3) where the user changed a managed value since, unless `--force`.
//! Prior values are those from before the *first* `connect`: a later `connect` never
//! records anyray's own values as the user's.

use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::edit::{self, EditError, Editor, KeyPath, Seg};
use crate::error::UserError;
use crate::fs_safe;

pub mod journal;
pub mod ledger;

pub use journal::Txn;
pub use ledger::{FileRecord, KeyRecord, Ledger, Store, sha256_hex};

/// A tool that `connect` knows how to point at the gateway: a module in `targets` each.
/// The names are stable: the command line, `--json` and the ledger use them (kebab-case,
/// e.g. `claude-code`). A new name is a ledger change an older anyray cannot read, so it
/// comes with a new ledger version (see `ledger::VERSION`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum TargetName {
    /// Claude Code: ~/.claude/settings.json
    ClaudeCode,
    /// Cursor: the editor's user settings.json
    Cursor,
    /// Windsurf: the editor's user settings.json
    Windsurf,
    /// Codex CLI: ~/.codex/config.toml
    Codex,
    /// bash, zsh, fish and PowerShell, through an env file anyray owns
    Shell,
    /// Gemini CLI and the Google GenAI SDK, through the shell env file
    Gemini,
    /// opencode: ~/.config/opencode/opencode.json
    Opencode,
    /// Continue (`cn` and the IDE extensions): ~/.continue/config.yaml
    Continue,
    /// aider: ~/.aider.conf.yml
    Aider,
    /// Goose: a custom provider in ~/.config/goose
    Goose,
    /// Zed: the editor's settings.json
    Zed,
    /// Factory's droid: ~/.factory/settings.json
    Droid,
    /// Crush: ~/.config/crush/crush.json
    Crush,
    /// Qwen Code: ~/.qwen/settings.json
    Qwen,
    /// GitHub Copilot CLI (bring your own key), through the shell env file
    Copilot,
}

impl TargetName {
    /// Every name, in the order targets are shown.
    pub const ALL: [TargetName; 15] = [
        TargetName::ClaudeCode,
        TargetName::Cursor,
        TargetName::Windsurf,
        TargetName::Codex,
        TargetName::Shell,
        TargetName::Gemini,
        TargetName::Opencode,
        TargetName::Continue,
        TargetName::Aider,
        TargetName::Goose,
        TargetName::Zed,
        TargetName::Droid,
        TargetName::Crush,
        TargetName::Qwen,
        TargetName::Copilot,
    ];

    /// The stable name, as on the command line, in JSON and in the ledger.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetName::ClaudeCode => "claude-code",
            TargetName::Cursor => "cursor",
            TargetName::Windsurf => "windsurf",
            TargetName::Codex => "codex",
            TargetName::Shell => "shell",
            TargetName::Gemini => "gemini",
            TargetName::Opencode => "opencode",
            TargetName::Continue => "continue",
            TargetName::Aider => "aider",
            TargetName::Goose => "goose",
            TargetName::Zed => "zed",
            TargetName::Droid => "droid",
            TargetName::Crush => "crush",
            TargetName::Qwen => "qwen",
            TargetName::Copilot => "copilot",
        }
    }
}

impl std::fmt::Display for TargetName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// The syntax of a file a target edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Strict JSON (Claude Code's settings.json).
    Json,
    /// JSON with comments and trailing commas (VS Code forks' settings.json).
    Jsonc,
    /// JSON with comments but no trailing commas (Qwen Code's settings.json).
    #[serde(rename = "json-comments")]
    JsonComments,
    Toml,
    /// YAML, edited in place by text splices checked by re-parsing (src/edit/yaml).
    Yaml,
    /// `KEY=value` lines as the dotenv package reads them (Gemini CLI's `.env`).
    Dotenv,
    /// A file anyray does not own that gets whole marked lines (a shell rc file).
    Lines,
    /// A file whose whole contents anyray writes (`env.sh`, the fish drop-in).
    Owned,
}

impl Format {
    pub fn parse(self, text: &str) -> Result<Box<dyn Editor>, EditError> {
        Ok(match self {
            Format::Json => Box::new(edit::json::parse(text, edit::json::Dialect::Strict)?),
            Format::Jsonc => Box::new(edit::json::parse(text, edit::json::Dialect::Jsonc)?),
            Format::JsonComments => {
                Box::new(edit::json::parse(text, edit::json::Dialect::Commented)?)
            }
            Format::Toml => Box::new(edit::toml::parse(text)?),
            Format::Yaml => Box::new(edit::yaml::parse(text)?),
            Format::Dotenv => Box::new(edit::dotenv::parse(text)?),
            Format::Lines => Box::new(edit::lines::parse_lines(text)),
            Format::Owned => Box::new(edit::lines::parse_owned(text)),
        })
    }

    /// A file anyray created, as key-by-key restore left it: blank lines a removed table
    /// left at the top of a TOML file go (nothing of the user's was ever above them).
    fn tidy_created(self, text: String) -> String {
        match self {
            Format::Toml => text.trim_start_matches(['\r', '\n']).to_string(),
            _ => text,
        }
    }

    /// Whether a rendered document holds nothing (so a file anyray created can go).
    fn is_blank(self, text: &str) -> bool {
        let text = text.trim_start_matches('\u{feff}');
        match self {
            Format::Json | Format::Jsonc | Format::JsonComments => {
                let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
                compact.is_empty() || compact == "{}"
            }
            Format::Toml | Format::Yaml | Format::Dotenv => text.trim().is_empty(),
            Format::Lines | Format::Owned => text.is_empty(),
        }
    }
}

/// What a wanted value is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A string: what almost every key anyray manages holds.
    #[default]
    String,
    /// A value in the file's own syntax, in the editor's canonical form (a TOML array
    /// `["token"]` or integer `5000`); only formats whose editor reads literals.
    Literal,
    /// The key must not be there (a tool refuses it beside a key anyray sets). Its
    /// value, if any, is recorded as the prior and put back by `disconnect`.
    Absent,
}

impl Kind {
    pub(crate) fn is_string(&self) -> bool {
        *self == Kind::String
    }

    /// The current value at `key` as this kind reads it.
    fn get(self, doc: &dyn Editor, key: &KeyPath) -> Result<Option<edit::Scalar>, EditError> {
        match self {
            Kind::String => doc.get(key),
            Kind::Literal | Kind::Absent => doc.get_literal(key),
        }
    }

    /// Whether `now` is what anyray wrote (`written`).
    fn holds(self, now: Option<&str>, written: &str) -> bool {
        match self {
            Kind::String | Kind::Literal => now == Some(written),
            Kind::Absent => now.is_none(),
        }
    }

    /// Writes `value` at `key`.
    fn set(self, doc: &mut dyn Editor, key: &KeyPath, value: &str) -> Result<(), EditError> {
        match self {
            Kind::String => doc.set(key, value),
            Kind::Literal => doc.set_literal(key, value),
            Kind::Absent => doc.remove(key),
        }
    }

    /// Puts back what `key` held before the first `connect`.
    fn restore(
        self,
        doc: &mut dyn Editor,
        key: &KeyPath,
        prior: Option<&edit::Scalar>,
    ) -> Result<(), EditError> {
        match (self, prior) {
            (_, None) => doc.remove(key),
            (Kind::String, Some(prior)) => doc.restore(key, prior),
            (Kind::Literal | Kind::Absent, Some(prior)) => doc.restore_literal(key, prior),
        }
    }
}

/// A value a target wants at a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Want {
    pub key: KeyPath,
    pub value: String,
    /// Written only because the key is absent, and the user's to change afterwards.
    pub seed: bool,
    pub kind: Kind,
}

impl Want {
    pub fn new(key: KeyPath, value: impl Into<String>) -> Self {
        Self {
            key,
            value: value.into(),
            seed: false,
            kind: Kind::String,
        }
    }

    /// A literal in the file's syntax, in its editor's canonical form: see [`Kind::Literal`].
    pub fn literal(key: KeyPath, value: impl Into<String>) -> Self {
        Self {
            kind: Kind::Literal,
            ..Self::new(key, value)
        }
    }

    /// The key must not be there: see [`Kind::Absent`].
    pub fn absent(key: KeyPath) -> Self {
        Self {
            kind: Kind::Absent,
            ..Self::new(key, "")
        }
    }

    /// A seed: see [`KeyRecord::seed`].
    pub fn seed(key: KeyPath, value: impl Into<String>) -> Self {
        Self {
            seed: true,
            ..Self::new(key, value)
        }
    }
}

/// What one target wants in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSpec {
    /// The path the tool reads (a symlink is written through, and stays a symlink).
    pub path: PathBuf,
    pub format: Format,
    pub wants: Vec<Want>,
}

/// A file's problem as the user sees it: `file:line:col: what`, exit 3, and a hint.
pub(crate) fn file_error(path: &Path, err: EditError) -> UserError {
    let location = match err.position {
        Some((line, col)) => format!("{}:{line}:{col}", path.display()),
        None => path.display().to_string(),
    };
    UserError::unsafe_change(format!(
        "{location}: {}; the file was left untouched",
        err.message
    ))
    .with_hint(err.hint)
}

fn parse_file(path: &Path, format: Format, bytes: Option<&[u8]>) -> Result<Box<dyn Editor>> {
    let text = match bytes {
        Some(bytes) => edit::decode(bytes).map_err(|e| file_error(path, e))?,
        None => "",
    };
    Ok(format.parse(text).map_err(|e| file_error(path, e))?)
}

/// The change `connect` would make to one file.
#[derive(Debug, Clone)]
pub struct ConnectPlan {
    pub spec: FileSpec,
    /// The bytes now; `None` when the file does not exist.
    pub before: Option<Vec<u8>>,
    pub after: Vec<u8>,
    /// The record this change builds on (`None` for the first change of the file).
    pub base: Option<FileRecord>,
    /// The ledger record's keys after this change.
    pub record_keys: Vec<KeyRecord>,
    pub created_containers: Vec<KeyPath>,
    /// The file was deleted since an earlier `connect`: that record is dropped, and the
    /// backup of the original it points to (if any) is kept for the user.
    pub orphaned_backup: Option<String>,
}

impl ConnectPlan {
    pub fn changed(&self) -> bool {
        self.before.as_deref() != Some(self.after.as_slice())
    }

    pub fn diff(&self) -> String {
        unified_diff(
            &self.spec.path,
            self.before.as_deref().unwrap_or_default(),
            &self.after,
        )
    }
}

/// Computes the new bytes for `spec`. Prior values already in the ledger are kept (a
/// second `connect` must not record anyray's own values as the user's). A read-only file
/// is refused unless `force`; a hard-linked one always (see [`fs_safe::check_replaceable`]).
pub fn plan_connect(
    spec: &FileSpec,
    record: Option<&FileRecord>,
    force: bool,
) -> Result<ConnectPlan> {
    let before = fs_safe::read_optional(&spec.path)?;
    let mut doc = parse_file(&spec.path, spec.format, before.as_deref())?;
    // A record of a file that is gone since describes nothing: start afresh.
    let base = record.filter(|_| before.is_some()).cloned();
    let orphaned_backup = match (record, &base) {
        (Some(old), None) => old.backup.clone(),
        _ => None,
    };
    let mut record_keys: Vec<KeyRecord> = base.as_ref().map(|r| r.keys.clone()).unwrap_or_default();
    let mut created_containers: Vec<KeyPath> = base
        .as_ref()
        .map(|r| r.created_containers.clone())
        .unwrap_or_default();
    // Every current value is read before anything changes, so that an error names the
    // file's own line and column.
    let current = spec
        .wants
        .iter()
        .map(|want| {
            want.kind
                .get(doc.as_ref(), &want.key)
                .map_err(|e| file_error(&spec.path, e))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut edited = false;
    for (want, current) in spec.wants.iter().zip(current) {
        let in_place = want
            .kind
            .holds(current.as_ref().map(|s| s.value.as_str()), &want.value);
        if want.kind != Kind::Absent {
            for container in want.key.ancestors() {
                if !doc.has_container(&container) && !created_containers.contains(&container) {
                    created_containers.push(container);
                }
            }
        }
        match record_keys.iter_mut().find(|k| k.key == want.key) {
            Some(known) => {
                known.written = want.value.clone();
                known.kind = want.kind;
            }
            None => record_keys.push(KeyRecord {
                key: want.key.clone(),
                prior: current,
                written: want.value.clone(),
                seed: want.seed,
                kind: want.kind,
            }),
        }
        if !in_place {
            want.kind
                .set(doc.as_mut(), &want.key, &want.value)
                .map_err(|e| file_error(&spec.path, e))?;
            edited = true;
        }
    }
    // A container anyray created that removing an absent key left empty goes too (an
    // empty Codex `auth` table would not load), innermost first.
    for want in spec.wants.iter().filter(|w| w.kind == Kind::Absent) {
        let mut parents: Vec<KeyPath> = want.key.ancestors().collect();
        parents.reverse();
        for parent in parents {
            if !created_containers.contains(&parent) || !doc.remove_if_empty(&parent) {
                break;
            }
            edited = true;
        }
    }
    // Nothing to change: keep the bytes exactly (no re-rendering of any kind).
    let after = match &before {
        Some(bytes) if !edited => bytes.clone(),
        _ => doc.render().into_bytes(),
    };
    let plan = ConnectPlan {
        spec: spec.clone(),
        before,
        after,
        base,
        record_keys,
        created_containers,
        orphaned_backup,
    };
    if plan.changed() {
        fs_safe::check_replaceable(&spec.path, force)?;
    }
    Ok(plan)
}

/// How `disconnect` puts a file back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RestoreMethod {
    /// Nothing but anyray changed the file: the original bytes come back from the backup.
    Backup,
    /// anyray created the file and nothing else changed it: it is deleted.
    Delete,
    /// Someone else changed the file since the backup: each managed key gets its prior
    /// value back (or goes), and everything else stays.
    KeyByKey,
    /// The file is gone; there is nothing to restore (a backup of the original is kept).
    Gone,
}

#[derive(Debug, Clone)]
pub struct DisconnectPlan {
    pub path: PathBuf,
    pub method: RestoreMethod,
    pub before: Option<Vec<u8>>,
    /// `None`: delete the file (or leave it gone).
    pub after: Option<Vec<u8>>,
    /// Managed values the user changed since `connect` (restored only with `--force`).
    pub conflicts: Vec<Conflict>,
    /// For a file that is gone: the backup of its original, which is kept.
    pub kept_backup: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conflict {
    pub key: String,
    pub written: String,
    pub now: Option<String>,
}

impl DisconnectPlan {
    pub fn diff(&self) -> String {
        unified_diff(
            &self.path,
            self.before.as_deref().unwrap_or_default(),
            self.after.as_deref().unwrap_or_default(),
        )
    }
}

/// Works out how to restore one recorded file. With conflicts and no `force`, this is an
/// error (exit 3) that names each changed value; so is a read-only file (unless `force`)
/// and a hard-linked one.
pub fn plan_disconnect(
    path: &Path,
    record: &FileRecord,
    store: &Store,
    force: bool,
) -> Result<DisconnectPlan> {
    let before = fs_safe::read_optional(path)?;
    let plan = |method, after: Option<Vec<u8>>, conflicts| -> Result<DisconnectPlan> {
        if after != before {
            fs_safe::check_replaceable(path, force)?;
        }
        Ok(DisconnectPlan {
            path: path.to_path_buf(),
            method,
            before: before.clone(),
            after,
            conflicts,
            kept_backup: None,
        })
    };
    let Some(bytes) = &before else {
        let kept_backup = match &record.backup {
            Some(name) => Some(store.backup_path(name)?).filter(|p| p.exists()),
            None => None,
        };
        return Ok(DisconnectPlan {
            kept_backup,
            ..plan(RestoreMethod::Gone, None, Vec::new())?
        });
    };
    if record.restorable && sha256_hex(bytes) == record.written_sha256 {
        match &record.backup {
            _ if record.created => return plan(RestoreMethod::Delete, None, Vec::new()),
            Some(name) => match store.read_backup(name) {
                Ok(original) => return plan(RestoreMethod::Backup, Some(original), Vec::new()),
                // With --force an unusable backup is no reason to stop: key by key.
                Err(_) if force => {}
                Err(e) => return Err(e),
            },
            None => {}
        }
    }
    let mut doc = parse_file(path, record.format, Some(bytes))?;
    let mut conflicts = Vec::new();
    for key in &record.keys {
        let now = key
            .kind
            .get(doc.as_ref(), &key.key)
            .map_err(|e| file_error(path, e))?;
        let now_value = now.as_ref().map(|s| s.value.clone());
        let prior_value = key.prior.as_ref().map(|s| s.value.clone());
        let changed = !key.kind.holds(now_value.as_deref(), &key.written);
        if changed && now_value != prior_value && !key.seed {
            conflicts.push(Conflict {
                key: key.key.to_string(),
                written: key.written.clone(),
                now: now_value,
            });
        }
    }
    if !conflicts.is_empty() && !force {
        let list: Vec<String> = conflicts
            .iter()
            .map(|c| match &c.now {
                Some(now) => format!(
                    "`{}` is now {} (anyray wrote {})",
                    c.key,
                    short(now),
                    short(&c.written)
                ),
                None => format!(
                    "`{}` was removed (anyray wrote {})",
                    c.key,
                    short(&c.written)
                ),
            })
            .collect();
        return Err(UserError::unsafe_change(format!(
            "{}: you changed what anyray manages since `connect`: {}; the file was left untouched",
            path.display(),
            list.join("; ")
        ))
        .with_hint(
            "run `anyray disconnect --force` to restore the values from before `connect` anyway",
        )
        .into());
    }
    for key in &record.keys {
        // A seed the user changed is theirs, unless it sits in a list entry anyray
        // added (a model id in anyray's model entry), which goes whole.
        let in_entry = key
            .key
            .segs()
            .iter()
            .any(|seg| matches!(seg, Seg::Named(_) | Seg::Entry { .. }));
        if key.seed && !in_entry {
            let now = key
                .kind
                .get(doc.as_ref(), &key.key)
                .map_err(|e| file_error(path, e))?;
            if now.is_some_and(|now| now.value != key.written) {
                continue;
            }
        }
        key.kind
            .restore(doc.as_mut(), &key.key, key.prior.as_ref())
            .map_err(|e| file_error(path, e))?;
    }
    for container in record.created_containers.iter().rev() {
        doc.remove_if_empty(container);
    }
    let mut text = doc.render();
    if record.created {
        if record.format.is_blank(&text) {
            return plan(RestoreMethod::Delete, None, conflicts);
        }
        text = record.format.tidy_created(text);
    }
    plan(RestoreMethod::KeyByKey, Some(text.into_bytes()), conflicts)
}

/// A value for a message: quoted, and cut short when it is a whole file.
fn short(value: &str) -> String {
    const MAX: usize = 60;
    if value.chars().count() <= MAX {
        format!("{value:?}")
    } else {
        let head: String = value.chars().take(MAX).collect();
        format!("{head:?}…")
    }
}

/// How one file compares with what a target wants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "state", content = "detail")]
pub(crate) enum FileState {
    /// Every wanted value is in place.
    Connected,
    /// No wanted value is in place and anyray never changed the file.
    NotConnected,
    /// anyray connected the file, or part of it is in place, but not every value is.
    Drifted,
    /// The file cannot be read or parsed.
    Invalid(String),
}

/// Compares one file with what a target wants; never writes.
pub(crate) fn inspect(spec: &FileSpec, record: Option<&FileRecord>) -> FileState {
    let bytes = match fs_safe::read_optional(&spec.path) {
        Ok(Some(bytes)) => bytes,
        Ok(None) if record.is_some() => return FileState::Drifted,
        Ok(None) => return FileState::NotConnected,
        Err(e) => return FileState::Invalid(format!("{e:#}")),
    };
    let doc = match parse_file(&spec.path, spec.format, Some(&bytes)) {
        Ok(doc) => doc,
        Err(e) => return FileState::Invalid(format!("{e:#}")),
    };
    let mut in_place = 0;
    for want in &spec.wants {
        match want.kind.get(doc.as_ref(), &want.key) {
            Ok(now)
                if want
                    .kind
                    .holds(now.as_ref().map(|s| s.value.as_str()), &want.value) =>
            {
                in_place += 1
            }
            Ok(_) => {}
            Err(e) => return FileState::Invalid(format!("{:#}", file_error(&spec.path, e))),
        }
    }
    if in_place == spec.wants.len() {
        FileState::Connected
    } else if in_place > 0 || record.is_some() {
        FileState::Drifted
    } else {
        FileState::NotConnected
    }
}

/// Reads one string from a file, for targets that look at what a tool will use.
pub(crate) fn read_value(path: &Path, format: Format, key: &KeyPath) -> Result<Option<String>> {
    Ok(read_values(path, format, std::slice::from_ref(key))?
        .pop()
        .flatten())
}

/// Reads one literal (see [`Kind::Literal`]) from a file.
pub(crate) fn read_literal(path: &Path, format: Format, key: &KeyPath) -> Result<Option<String>> {
    let Some(bytes) = fs_safe::read_optional(path)? else {
        return Ok(None);
    };
    let doc = parse_file(path, format, Some(&bytes))?;
    Ok(Kind::Literal
        .get(doc.as_ref(), key)
        .map_err(|e| file_error(path, e))?
        .map(|s| s.value))
}

/// Reads several strings from a file, parsing it once (settings files can be large).
pub(crate) fn read_values(
    path: &Path,
    format: Format,
    keys: &[KeyPath],
) -> Result<Vec<Option<String>>> {
    let Some(bytes) = fs_safe::read_optional(path)? else {
        return Ok(vec![None; keys.len()]);
    };
    let doc = parse_file(path, format, Some(&bytes))?;
    keys.iter()
        .map(|key| {
            Ok(doc
                .get(key)
                .map_err(|e| file_error(path, e))?
                .map(|s| s.value))
        })
        .collect()
}

/// A unified diff of two versions of a file (`--dry-run`); empty when they are equal.
pub(crate) fn unified_diff(path: &Path, before: &[u8], after: &[u8]) -> String {
    let before = String::from_utf8_lossy(before);
    let after = String::from_utf8_lossy(after);
    if before == after {
        return String::new();
    }
    let name = crate::paths::display_path(path);
    similar::TextDiff::from_lines(before.as_ref(), after.as_ref())
        .unified_diff()
        .context_radius(3)
        .header(&name, &name)
        .to_string()
}
