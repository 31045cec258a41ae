//! Qwen Code: `$QWEN_HOME/settings.json`, else `~/.qwen/settings.json` on every OS
//! (`Storage.getGlobalQwenDir`; QwenLM/qwen-code/docs/users/configuration/model-providers.md
//! @01fe82f7). Read as `JSON.parse(stripJsonComments(…))`: comments
//! are fine, a trailing comma stops Qwen from starting (it then copies the file to
//! `settings.json.corrupted`), so the file is [`Format::JsonComments`].
//!
//! anyray adds one `modelProviders.<protocol>[]` entry per served provider, found by
//! its `name` (`Anyray gateway (OpenAI)`: `id: gpt-4o-mini`, `baseUrl: {gw}/v1`,
//! `envKey: OPENAI_API_KEY`; `Anyray gateway (Anthropic)`: `id: claude-sonnet-4-5`,
//! `baseUrl: {gw}`, the origin, `envKey: ANTHROPIC_API_KEY`). `envKey` *names* the
//! variable Qwen reads the key from (the environment or `~/.qwen/.env`): no key is ever
//! written. Without `security.auth.selectedType` Qwen falls back to Qwen OAuth, and
//! `model.name` picks the entry by its `id`, so both are set (OpenAI when the gateway
//! serves it, else Anthropic); `disconnect` puts back the user's own.
//!
//! `"$version"`: Qwen rewrites (migrates and re-indents) a settings file whose
//! `$version` is not the number 4 on its next start. A file anyray creates gets
//! `"$version": 4`, so Qwen leaves it byte for byte. An existing file without one is
//! not stamped: its layout may be an older one that Qwen's migrations must still see
//! (a stamp would make Qwen skip them); Qwen rewrites it once, as it would have anyway,
//! and `disconnect` then restores key by key. A project `.qwen/settings.json` replaces
//! `modelProviders` wholesale.
//!
//! `anyray run -- qwen` passes `--auth-type openai --openai-base-url {gw}/v1`: CLI flags
//! rank above the environment and `selectedType` (model-providers.md, "Resolution Layers"),
//! though a model the user set up in `modelProviders` keeps its own `baseUrl`.

use std::ffi::OsString;
use std::path::PathBuf;

use anyhow::Result;

use super::declared::{Declared, File, Key, Step, env_dir};
use super::{Ctx, Detection, Effective, Target, TargetPlan};
use crate::connect::{Format, Kind, TargetName, Want};
use crate::edit::KeyPath;
use crate::gateway_url::{Provider, Routes};

fn home() -> Result<PathBuf> {
    env_dir(crate::envvars::QWEN_HOME, || {
        Ok(crate::paths::home_dir()?.join(".qwen"))
    })
}

fn settings_file() -> Result<PathBuf> {
    Ok(home()?.join("settings.json"))
}

/// The settings layout this Qwen writes and leaves alone (`SETTINGS_VERSION`).
const SETTINGS_VERSION: &str = "4";

/// What selects each protocol's entry: the route it needs, Qwen's auth type for it, and
/// its model id (the entry's `id`, which `model.name` names).
struct Entry {
    provider: Provider,
    auth_type: &'static str,
    model: &'static str,
}

const ENTRIES: [Entry; 2] = [
    Entry {
        provider: Provider::Openai,
        auth_type: "openai",
        model: "gpt-4o-mini",
    },
    Entry {
        provider: Provider::Anthropic,
        auth_type: "anthropic",
        model: "claude-sonnet-4-5",
    },
];

const PROVIDERS: Step = Step::Key("modelProviders");
const OPENAI: [Step; 3] = [
    PROVIDERS,
    Step::Key("openai"),
    Step::Named("Anyray gateway (OpenAI)"),
];
const ANTHROPIC: [Step; 3] = [
    PROVIDERS,
    Step::Key("anthropic"),
    Step::Named("Anyray gateway (Anthropic)"),
];

const KEYS: [Key; 6] = [
    Key::text(
        &[OPENAI[0], OPENAI[1], OPENAI[2], Step::Key("id")],
        ENTRIES[0].model,
        Some(Provider::Openai),
    ),
    Key::url(
        &[OPENAI[0], OPENAI[1], OPENAI[2], Step::Key("baseUrl")],
        Provider::Openai,
        "",
    ),
    Key::text(
        &[OPENAI[0], OPENAI[1], OPENAI[2], Step::Key("envKey")],
        "OPENAI_API_KEY",
        Some(Provider::Openai),
    ),
    Key::text(
        &[ANTHROPIC[0], ANTHROPIC[1], ANTHROPIC[2], Step::Key("id")],
        ENTRIES[1].model,
        Some(Provider::Anthropic),
    ),
    Key::url(
        &[
            ANTHROPIC[0],
            ANTHROPIC[1],
            ANTHROPIC[2],
            Step::Key("baseUrl"),
        ],
        Provider::Anthropic,
        "",
    ),
    Key::text(
        &[
            ANTHROPIC[0],
            ANTHROPIC[1],
            ANTHROPIC[2],
            Step::Key("envKey"),
        ],
        "ANTHROPIC_API_KEY",
        Some(Provider::Anthropic),
    ),
];

/// The entries; [`Qwen`] adds what depends on which of them is written.
static ENTRIES_DECLARED: Declared = Declared {
    name: TargetName::Qwen,
    bins: &["qwen"],
    home,
    providers: &[Provider::Openai, Provider::Anthropic],
    files: &[File {
        path: settings_file,
        format: Format::JsonComments,
        keys: &KEYS,
    }],
    default_endpoint: "Qwen OAuth or the provider Qwen Code was set up with",
    notes: &[
        "Qwen Code sends OPENAI_API_KEY / ANTHROPIC_API_KEY (named by envKey, from the \
         environment or ~/.qwen/.env) to the gateway; a project .qwen/settings.json with \
         its own modelProviders replaces anyray's entries there",
    ],
    effective: None,
};

pub(super) struct Qwen;

impl Target for Qwen {
    fn name(&self) -> TargetName {
        TargetName::Qwen
    }

    fn detect(&self) -> Detection {
        ENTRIES_DECLARED.detect()
    }

    fn plan(&self, ctx: &Ctx) -> Result<TargetPlan> {
        let mut plan = ENTRIES_DECLARED.plan(ctx)?;
        let Some(file) = plan.files.first_mut() else {
            return Ok(plan);
        };
        // The entry Qwen selects: OpenAI's when served (the declared plan skipped the
        // target when neither is).
        let Some(entry) = ENTRIES
            .iter()
            .find(|e| ctx.routes.get(e.provider).is_some())
        else {
            return Ok(plan);
        };
        file.wants.extend([
            Want::new(
                KeyPath::keys(["security", "auth", "selectedType"]),
                entry.auth_type,
            ),
            Want::new(KeyPath::keys(["model", "name"]), entry.model),
        ]);
        let existing = crate::fs_safe::read_optional(&file.path)?;
        let blank = existing.as_deref().is_none_or(|bytes| {
            String::from_utf8_lossy(bytes)
                .trim_start_matches('\u{feff}')
                .trim()
                .is_empty()
        });
        if blank {
            file.wants.insert(
                0,
                Want {
                    kind: Kind::Literal,
                    ..Want::seed(KeyPath::keys(["$version"]), SETTINGS_VERSION)
                },
            );
        } else if crate::connect::read_literal(
            &file.path,
            file.format,
            &KeyPath::keys(["$version"]),
        )
        .ok()
        .flatten()
        .as_deref()
            != Some(SETTINGS_VERSION)
        {
            plan.notes.push(format!(
                "{} has no \"$version\": {SETTINGS_VERSION}: Qwen Code migrates and re-indents it \
                 on its next start (as it would without anyray); `disconnect` then restores \
                 anyray's keys one by one",
                crate::paths::display_path(&file.path)
            ));
        }
        Ok(plan)
    }

    fn effective(&self, ctx: &Ctx) -> Result<Effective> {
        ENTRIES_DECLARED.effective(ctx)
    }
}

/// The arguments `anyray run -- qwen` adds, unless the user passes either flag.
pub(super) fn run_args(rest: &[OsString], routes: &Routes) -> Vec<OsString> {
    const FLAGS: [&str; 2] = ["--auth-type", "--openai-base-url"];
    let given = rest.iter().filter_map(|arg| arg.to_str()).any(|arg| {
        FLAGS
            .iter()
            .any(|flag| arg == *flag || arg.strip_prefix(flag).is_some_and(|v| v.starts_with('=')))
    });
    match routes.get(Provider::Openai) {
        Some(url) if !given => [FLAGS[0], "openai", FLAGS[1], url]
            .into_iter()
            .map(OsString::from)
            .collect(),
        _ => Vec::new(),
    }
}
