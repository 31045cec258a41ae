//! Codex CLI: `$CODEX_HOME/config.toml` (default `~/.codex/config.toml`).
//!
//! Newer Codex ignores `OPENAI_BASE_URL`, and the top-level `openai_base_url` makes it try
//! websockets first, so anyray adds its own provider table and selects it:
//!
//! ```toml
//! model_provider = "anyray"
//!
//! [model_providers.anyray]
//! name = "Anyray gateway"
//! base_url = "{gw}/v1"
//! wire_api = "responses"
//! env_key = "OPENAI_API_KEY"   # the credential variable the user already uses
//! ```
//!
//! The prior `model_provider` is recorded in the ledger, so `disconnect` selects it again.
//! With `--identity`, `env_http_headers` names the variable holding the key (never the
//! key itself). Installed: `codex` on PATH, or the Codex home exists.
//!
//! Profiles, as codex-rs reads them (`config/src/loader/mod.rs`, `core/src/config`):
//! - `codex --profile <name>` lays `$CODEX_HOME/<name>.config.toml` over config.toml
//!   (`<name>`: ASCII letters, digits, `_`, `-`). A profile file that sets its own
//!   `model_provider` wins over config.toml's, so `codex --profile <name>` would bypass
//!   the gateway. anyray selects its provider in each such file too (the prior value
//!   recorded, so `disconnect` puts it back), rather than only reporting that a profile
//!   wins: the user asked for Codex to use the gateway, and a profile is one way they
//!   run it. Profile files that do not set `model_provider` inherit config.toml's and are
//!   not touched. (`-c`, which `anyray run` uses, beats the profile layer anyway.)
//! - The legacy form, `profile = "x"` in config.toml selecting `[profiles.x]`, is refused
//!   at load by current Codex; older Codex took `[profiles.x].model_provider` over the
//!   top-level one (`resolve_model_provider_from_config_toml`). When the selected legacy
//!   profile sets `model_provider`, anyray sets it there too, for those older versions,
//!   and says that current Codex will not start with that config.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::Result;

use super::{Ctx, Detection, Effective, LeftoverTable, Target, TargetPlan, detect, helper};
use crate::auth::FixedHeaders;
use crate::connect::TargetName;
use crate::connect::{self, FileSpec, Format, Want};
use crate::edit::KeyPath;
use crate::envvars;
use crate::gateway_url::{Provider, Routes};

pub(super) struct Codex;

/// Our provider id (`openai`, `ollama` and `lmstudio` are reserved by Codex).
const PROVIDER_ID: &str = "anyray";
/// The provider's display name in Codex.
const PROVIDER_NAME: &str = "Anyray gateway";
/// The credential variable when the user's provider names none.
const DEFAULT_ENV_KEY: &str = "OPENAI_API_KEY";
/// Where Codex goes with its built-in provider.
const OPENAI_DEFAULT: &str = "https://api.openai.com/v1";
/// `codex --profile <name>` reads `$CODEX_HOME/<name>.config.toml`.
const PROFILE_SUFFIX: &str = ".config.toml";

fn home() -> Result<PathBuf> {
    match envvars::get(envvars::CODEX_HOME) {
        Some(dir) => Ok(PathBuf::from(dir)),
        None => Ok(crate::paths::home_dir()?.join(".codex")),
    }
}

fn config_file() -> Result<PathBuf> {
    Ok(home()?.join("config.toml"))
}

fn provider_key(id: &str, key: &str) -> KeyPath {
    KeyPath::keys(["model_providers", id, key])
}

fn selected_provider() -> KeyPath {
    KeyPath::keys(["model_provider"])
}

fn profile_provider(profile: &str) -> KeyPath {
    KeyPath::keys(["profiles", profile, "model_provider"])
}

fn read(file: &Path, key: &KeyPath) -> Result<Option<String>> {
    connect::read_value(file, Format::Toml, key)
}

/// The legacy profile config.toml selects (`profile = "x"`), when it sets
/// `model_provider`: where older Codex takes the provider from.
fn provider_profile(file: &Path) -> Result<Option<String>> {
    let Some(profile) = read(file, &KeyPath::keys(["profile"]))? else {
        return Ok(None);
    };
    Ok(read(file, &profile_provider(&profile))?.map(|_| profile))
}

/// The provider Codex uses by default: a legacy profile's, else the top level's.
fn active_provider(file: &Path) -> Result<Option<String>> {
    match provider_profile(file)? {
        Some(profile) => read(file, &profile_provider(&profile)),
        None => read(file, &selected_provider()),
    }
}

/// The credential variable the user's current provider reads; ours keeps what it had.
fn env_key(file: &Path) -> Result<String> {
    let from = match active_provider(file)?.as_deref() {
        Some(id) if id != "openai" => read(file, &provider_key(id, "env_key"))?,
        _ => None,
    };
    Ok(from.unwrap_or_else(|| DEFAULT_ENV_KEY.to_string()))
}

/// Where our provider gets the gateway key from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum KeySource {
    /// The environment variable the user's provider read (`env_key`).
    Env(String),
    /// `anyray token`, run by Codex (`[model_providers.anyray.auth]`).
    Command(PathBuf),
}

/// The keys Codex refuses beside `auth` ("provider auth cannot be combined with …",
/// model-provider-info `validate`).
const AUTH_CONFLICTS: [&str; 3] = [
    "env_key",
    "experimental_bearer_token",
    "requires_openai_auth",
];
/// How long Codex waits for `anyray token` (its default is 5 s; a keyring that must be
/// unlocked can take longer).
const AUTH_TIMEOUT_MS: u64 = 10_000;
/// How often Codex runs it again (its default; it also does after a 401).
const AUTH_REFRESH_MS: u64 = 300_000;
/// The first Codex with provider auth commands (openai/codex#16288, 0.118.0).
const AUTH_SINCE: (u64, u64, u64) = (0, 118, 0);

/// The keys of the `auth` table anyray writes.
const AUTH_KEYS: [&str; 4] = ["command", "args", "timeout_ms", "refresh_interval_ms"];

fn auth_key(key: &str) -> KeyPath {
    KeyPath::keys(["model_providers", PROVIDER_ID, "auth", key])
}

/// The keys that select our provider and describe it: what `connect` writes and what
/// `anyray run` passes as `-c` overrides. `profile` is the active profile that sets its
/// own `model_provider` (see the module docs).
fn provider_wants(url: &str, key: &KeySource, profile: Option<&str>) -> Vec<Want> {
    let mut wants = vec![Want::new(selected_provider(), PROVIDER_ID)];
    wants.extend(profile.map(|p| Want::new(profile_provider(p), PROVIDER_ID)));
    wants.extend([
        Want::new(provider_key(PROVIDER_ID, "name"), PROVIDER_NAME),
        Want::new(provider_key(PROVIDER_ID, "base_url"), url),
        Want::new(provider_key(PROVIDER_ID, "wire_api"), "responses"),
    ]);
    match key {
        KeySource::Env(var) => wants.push(Want::new(provider_key(PROVIDER_ID, "env_key"), var)),
        KeySource::Command(program) => {
            wants.extend(
                AUTH_CONFLICTS.map(|conflict| Want::absent(provider_key(PROVIDER_ID, conflict))),
            );
            let args = toml_edit::Value::from_iter([helper::TOKEN_ARG]).to_string();
            wants.extend([
                Want::new(auth_key("command"), program.display().to_string()),
                Want::literal(auth_key("args"), args),
                Want::literal(auth_key("timeout_ms"), AUTH_TIMEOUT_MS.to_string()),
                Want::literal(auth_key("refresh_interval_ms"), AUTH_REFRESH_MS.to_string()),
            ]);
        }
    }
    wants
}

/// The installed Codex's version (`codex --version`: `codex-cli 0.169.0`); `None` when
/// there is no `codex` on PATH or it does not say in 5 s.
fn installed_version() -> Option<(u64, u64, u64)> {
    let mut cmd = std::process::Command::new("codex");
    cmd.arg("--version");
    let done = crate::launch::run_bounded(cmd, std::time::Duration::from_secs(5)).ok()?;
    parse_version(&String::from_utf8_lossy(&done.stdout))
}

/// `codex-cli 0.169.0` (or `codex 0.118.0-alpha.2`) → `(0, 169, 0)`.
fn parse_version(text: &str) -> Option<(u64, u64, u64)> {
    let word = text
        .split_whitespace()
        .find(|w| w.starts_with(|c: char| c.is_ascii_digit()))?;
    let mut parts = word.split(['.', '-', '+']).map(|p| p.parse::<u64>().ok());
    Some((parts.next()??, parts.next()??, parts.next()??))
}

/// Where our provider gets the key: `anyray token` in the `key` scheme straight to the
/// gateway, unless the installed Codex is too old for `auth` (it would refuse to load
/// the config: `deny_unknown_fields`); else the variable the user's provider read.
fn key_source(ctx: &Ctx, env_key: String, notes: &mut Vec<String>) -> KeySource {
    if !ctx.wants_helpers() {
        return KeySource::Env(env_key);
    }
    if let Some(version) = installed_version().filter(|v| *v < AUTH_SINCE) {
        notes.push(format!(
            "Codex {}.{}.{} predates provider auth commands (0.118.0), so it reads the gateway \
             key from ${env_key}: upgrade Codex and connect again to have it run `anyray \
             token`, or use `anyray run -- codex`",
            version.0, version.1, version.2
        ));
        return KeySource::Env(env_key);
    }
    notes.push(
        "Codex gets your key from `anyray token` (model_providers.anyray.auth); no file holds it"
            .into(),
    );
    KeySource::Command(ctx.program.clone())
}

/// Our provider's `auth` command as Codex runs it, if the config has one.
fn current_helper() -> Result<Option<helper::Helper>> {
    let file = config_file()?;
    let Some(command) = read(&file, &auth_key("command"))? else {
        return Ok(None);
    };
    let text = crate::fs_safe::read_optional(&file)?.unwrap_or_default();
    let doc: toml_edit::DocumentMut = String::from_utf8_lossy(&text)
        .parse()
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let auth = &doc["model_providers"][PROVIDER_ID]["auth"];
    let args: Vec<String> = auth["args"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let timeout = auth["timeout_ms"]
        .as_integer()
        .and_then(|ms| u64::try_from(ms).ok())
        .unwrap_or(5_000);
    let program = PathBuf::from(&command);
    let anyray =
        (args == [helper::TOKEN_ARG] && helper::is_anyray(&program)).then(|| program.clone());
    Ok(Some(helper::Helper {
        setting: "model_providers.anyray.auth",
        anyray,
        run: helper::Run::Exec {
            program,
            args,
            timeout: std::time::Duration::from_millis(timeout),
        },
    }))
}

/// `http_headers` in our provider table: the fixed headers of the OpenAI route (Codex
/// sends them on every request to the provider).
fn header_wants(headers: &FixedHeaders) -> Vec<Want> {
    headers
        .for_route(Some(Provider::Openai))
        .into_iter()
        .map(|(name, value)| {
            Want::new(
                KeyPath::keys(["model_providers", PROVIDER_ID, "http_headers", &name]),
                value,
            )
        })
        .collect()
}

/// The profile files of `codex --profile <name>` that select their own provider, by name.
fn provider_profile_files(home: &Path) -> Result<Vec<(String, PathBuf)>> {
    let Ok(entries) = std::fs::read_dir(home) else {
        return Ok(Vec::new());
    };
    let mut profiles = Vec::new();
    for entry in entries.flatten() {
        let Ok(file_name) = entry.file_name().into_string() else {
            continue;
        };
        let Some(name) = file_name.strip_suffix(PROFILE_SUFFIX) else {
            continue;
        };
        let valid = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        let path = entry.path();
        if valid && read(&path, &selected_provider())?.is_some() {
            profiles.push((name.to_string(), path));
        }
    }
    profiles.sort();
    Ok(profiles)
}

/// `anyray run -- codex …`: Codex ignores `OPENAI_BASE_URL`, so `-c` overrides select our
/// provider for this one run; the user's config.toml is not touched. Codex splits a `-c`
/// key at every dot, so a legacy profile whose name has one cannot be overridden this way.
pub(super) fn run_args(routes: &Routes, headers: &FixedHeaders) -> Vec<OsString> {
    let Some(url) = routes.get(Provider::Openai) else {
        return Vec::new();
    };
    let file = config_file().ok();
    let env_key = file
        .as_deref()
        .and_then(|file| env_key(file).ok())
        .unwrap_or_else(|| DEFAULT_ENV_KEY.to_string());
    let profile = file
        .as_deref()
        .and_then(|file| provider_profile(file).ok().flatten())
        .filter(|p| !p.contains('.'));
    // A connected config whose provider runs `anyray token` gets the key from it; an
    // `env_key` override beside that `auth` would make Codex refuse the config.
    let has_auth = file
        .as_deref()
        .is_some_and(|file| read(file, &auth_key("command")).ok().flatten().is_some());
    provider_wants(url, &KeySource::Env(env_key), profile.as_deref())
        .into_iter()
        .filter(|want| !(has_auth && want.key == provider_key(PROVIDER_ID, "env_key")))
        .chain(header_wants(headers))
        .flat_map(|want| {
            // `-c` takes a dotted key and a TOML value: quote strings as TOML does.
            let value = toml_edit::Value::from(want.value).to_string();
            ["-c".into(), format!("{}={}", want.key, value.trim()).into()]
        })
        .collect()
}

impl Target for Codex {
    fn name(&self) -> TargetName {
        TargetName::Codex
    }

    fn detect(&self) -> Detection {
        detect("codex", home())
    }

    fn plan(&self, ctx: &Ctx) -> Result<TargetPlan> {
        let file = config_file()?;
        let mut plan = TargetPlan::default();
        let Some(url) = ctx.routes.get(Provider::Openai) else {
            plan.skip = Some("the gateway serves no openai route".into());
            return Ok(plan);
        };
        let env_key = env_key(&file)?;
        let profile = provider_profile(&file)?;
        if let Some(profile) = &profile {
            plan.notes.push(format!(
                "config.toml selects the legacy profile `{profile}`, which sets its own \
                 provider: anyray selects the gateway there too, for older Codex; current \
                 Codex refuses to start with `profile = …` (move it to {profile}.config.toml \
                 and run `codex --profile {profile}`)"
            ));
        }
        let profile_files = provider_profile_files(&home()?)?;
        if !profile_files.is_empty() {
            let names: Vec<String> = profile_files
                .iter()
                .map(|(name, _)| format!("`codex --profile {name}`"))
                .collect();
            plan.notes.push(format!(
                "Codex profiles that select their own provider ({}): anyray selects the \
                 gateway in their files too (disconnect puts yours back)",
                names.join(", ")
            ));
        }
        let key = key_source(ctx, env_key.clone(), &mut plan.notes);
        let mut wants = provider_wants(url, &key, profile.as_deref());
        if matches!(key, KeySource::Env(_)) && current_helper()?.is_some_and(|h| h.anyray.is_some())
        {
            // Connected in the `key` scheme before: Codex refuses `auth` beside `env_key`.
            wants.extend(AUTH_KEYS.map(|k| Want::absent(auth_key(k))));
        }
        wants.extend(header_wants(&ctx.headers));
        if let Some(header) = &ctx.identity_header {
            wants.push(Want::new(
                KeyPath::keys(["model_providers", PROVIDER_ID, "env_http_headers", header]),
                envvars::ANYRAY_TOKEN,
            ));
            plan.notes.push(format!(
                "Codex sends your Anyray key from ${}: export it in the shell that runs Codex",
                envvars::ANYRAY_TOKEN
            ));
        }
        if let KeySource::Env(_) = key {
            plan.notes.push(format!(
                "Codex reads your API key from ${env_key}, as before"
            ));
        }
        plan.files.push(FileSpec {
            path: file,
            format: Format::Toml,
            wants,
        });
        plan.files
            .extend(profile_files.into_iter().map(|(_, path)| FileSpec {
                path,
                format: Format::Toml,
                wants: vec![Want::new(selected_provider(), PROVIDER_ID)],
            }));
        Ok(plan)
    }

    fn leftover_table(&self, _path: &Path, bytes: &[u8]) -> Option<LeftoverTable> {
        let mut doc: toml_edit::DocumentMut = std::str::from_utf8(bytes).ok()?.parse().ok()?;
        let providers = doc.get_mut("model_providers")?.as_table_like_mut()?;
        let ours = providers.get(PROVIDER_ID)?.as_table_like()?;
        // Codex: "provider name must not be empty" (model-provider-info `validate`).
        if ours
            .get("name")
            .and_then(|n| n.as_str())
            .is_some_and(|n| !n.is_empty())
        {
            return None;
        }
        let keys = ours.iter().map(|(k, _)| k.to_string()).collect();
        providers.remove(PROVIDER_ID);
        if providers.is_empty() {
            doc.remove("model_providers");
        }
        Some(LeftoverTable {
            table: format!("model_providers.{PROVIDER_ID}"),
            keys,
            why: "Codex refuses to load a provider without a name",
            without: doc.to_string().into_bytes(),
        })
    }

    fn credential_helper(&self) -> Result<Option<helper::Helper>> {
        current_helper()
    }

    fn effective(&self, _ctx: &Ctx) -> Result<Effective> {
        let file = config_file()?;
        let endpoint = match active_provider(&file)? {
            Some(id) if id != "openai" => read(&file, &provider_key(&id, "base_url"))?,
            _ => read(&file, &KeyPath::keys(["openai_base_url"]))?
                .or_else(|| Some(OPENAI_DEFAULT.to_string())),
        };
        Ok(Effective {
            endpoint,
            overridden_by: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_read_as_codex_prints_them() {
        assert_eq!(parse_version("codex-cli 0.169.0\n"), Some((0, 169, 0)));
        assert_eq!(parse_version("codex 0.118.0-alpha.2"), Some((0, 118, 0)));
        assert_eq!(parse_version("codex-cli 1.2"), None);
        assert_eq!(parse_version("no version here"), None);
        assert!(parse_version("codex-cli 0.117.9").unwrap() < AUTH_SINCE);
    }
}
