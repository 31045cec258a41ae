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

use super::{Ctx, Detection, Effective, LeftoverTable, Target, TargetPlan, detect};
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

/// The keys that select our provider and describe it: what `connect` writes and what
/// `anyray run` passes as `-c` overrides. `profile` is the active profile that sets its
/// own `model_provider` (see the module docs).
fn provider_wants(url: &str, env_key: &str, profile: Option<&str>) -> Vec<Want> {
    let mut wants = vec![Want::new(selected_provider(), PROVIDER_ID)];
    wants.extend(profile.map(|p| Want::new(profile_provider(p), PROVIDER_ID)));
    wants.extend([
        Want::new(provider_key(PROVIDER_ID, "name"), PROVIDER_NAME),
        Want::new(provider_key(PROVIDER_ID, "base_url"), url),
        Want::new(provider_key(PROVIDER_ID, "wire_api"), "responses"),
        Want::new(provider_key(PROVIDER_ID, "env_key"), env_key),
    ]);
    wants
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
    provider_wants(url, &env_key, profile.as_deref())
        .into_iter()
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
        let mut wants = provider_wants(url, &env_key, profile.as_deref());
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
        plan.notes.push(format!(
            "Codex reads your API key from ${env_key}, as before"
        ));
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
