//! Factory's droid: `customModels` in `~/.factory/settings.json` (docs.factory.ai,
//! "BYOK": "Add custom models to `~/.factory/settings.json` under the `customModels`
//! array"; `apiKey` may be `${VAR}`, expanded in settings.json only). The legacy
//! `~/.factory/config.json` (`custom_models`, snake_case) is still read but expands no
//! variable, so it would need a literal key: anyray never writes it.
//!
//! anyray adds one entry per served provider, found by its `displayName`:
//! `Anyray gateway (OpenAI)` (`provider: generic-chat-completion-api`, `baseUrl:
//! {gw}/v1`, `apiKey: ${OPENAI_API_KEY}`) and `Anyray gateway (Anthropic)` (`provider:
//! anthropic`, `baseUrl: {gw}`, an origin, `apiKey: ${ANTHROPIC_API_KEY}`). The `model`
//! id is written only where the entry has none; droid selects it as `custom:<model>`.
//! Enterprise "hierarchical settings" can forbid custom models or base URLs.

use std::path::PathBuf;

use anyhow::Result;

use super::declared::{Declared, File, Key, Step};
use crate::connect::{Format, TargetName};
use crate::gateway_url::Provider;

fn home() -> Result<PathBuf> {
    Ok(crate::paths::home_dir()?.join(".factory"))
}

fn settings_file() -> Result<PathBuf> {
    Ok(home()?.join("settings.json"))
}

const OPENAI: Step = Step::Entry("displayName", "Anyray gateway (OpenAI)");
const ANTHROPIC: Step = Step::Entry("displayName", "Anyray gateway (Anthropic)");
const MODELS: Step = Step::Key("customModels");

const KEYS: [Key; 8] = [
    Key::seed(
        &[MODELS, OPENAI, Step::Key("model")],
        "gpt-4o-mini",
        Some(Provider::Openai),
    ),
    Key::url(
        &[MODELS, OPENAI, Step::Key("baseUrl")],
        Provider::Openai,
        "",
    ),
    Key::text(
        &[MODELS, OPENAI, Step::Key("apiKey")],
        "${OPENAI_API_KEY}",
        Some(Provider::Openai),
    ),
    Key::text(
        &[MODELS, OPENAI, Step::Key("provider")],
        "generic-chat-completion-api",
        Some(Provider::Openai),
    ),
    Key::seed(
        &[MODELS, ANTHROPIC, Step::Key("model")],
        "claude-sonnet-4-5",
        Some(Provider::Anthropic),
    ),
    Key::url(
        &[MODELS, ANTHROPIC, Step::Key("baseUrl")],
        Provider::Anthropic,
        "",
    ),
    Key::text(
        &[MODELS, ANTHROPIC, Step::Key("apiKey")],
        "${ANTHROPIC_API_KEY}",
        Some(Provider::Anthropic),
    ),
    Key::text(
        &[MODELS, ANTHROPIC, Step::Key("provider")],
        "anthropic",
        Some(Provider::Anthropic),
    ),
];

pub(super) static DROID: Declared = Declared {
    name: TargetName::Droid,
    bins: &["droid"],
    home,
    providers: &[Provider::Openai, Provider::Anthropic],
    files: &[File {
        path: settings_file,
        format: Format::Jsonc,
        keys: &KEYS,
    }],
    default_endpoint: "the models configured in droid",
    notes: &[
        "droid sends OPENAI_API_KEY / ANTHROPIC_API_KEY (expanded from settings.json) to the \
         gateway; pick the model with `droid exec -m custom:<model>` or /model",
    ],
    effective: None,
};
