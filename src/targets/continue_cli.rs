//! Continue (the `cn` CLI and the IDE extensions' YAML config): `config.yaml` in
//! `$CONTINUE_GLOBAL_DIR`, else `~/.continue` (continuedev/continue
//! `extensions/cli/src/env.ts`). YAML 1.2, read with npm `yaml` v2
//! (`packages/config-yaml/src/load/unroll.ts`); top-level `name` and `version` are
//! required, so they are written where absent (with `schema: v1`).
//!
//! anyray adds one model entry per provider the gateway serves, found by its `name`
//! (`models[Anyray gateway (OpenAI)]`), with `provider`, `apiBase` and `apiKey` (a
//! `${{ secrets.VAR }}` reference, which `cn` resolves from the environment and
//! `~/.continue/.env`: never a key). For Anthropic `apiBase` *includes* `/v1` (with the
//! origin alone Continue calls `/messages`). The model id is written only when the entry
//! has none: the user picks the model (`packages/config-yaml/src/schemas/models.ts`).
//! A hub config (after `cn login`) or `--config` replaces this file entirely.

use std::path::PathBuf;

use anyhow::Result;

use super::declared::{Declared, File, Key, Step, env_dir};
use crate::connect::{Format, TargetName};
use crate::gateway_url::Provider;

fn home() -> Result<PathBuf> {
    env_dir(crate::envvars::CONTINUE_GLOBAL_DIR, || {
        Ok(crate::paths::home_dir()?.join(".continue"))
    })
}

fn config_file() -> Result<PathBuf> {
    Ok(home()?.join("config.yaml"))
}

const OPENAI: &str = "Anyray gateway (OpenAI)";
const ANTHROPIC: &str = "Anyray gateway (Anthropic)";

/// The keys of one managed model entry.
macro_rules! model_entry {
    ($name:expr, $provider:expr, $kind:literal, $model:literal, $suffix:literal, $secret:literal) => {
        [
            Key::text(
                &[
                    Step::Key("models"),
                    Step::Named($name),
                    Step::Key("provider"),
                ],
                $kind,
                Some($provider),
            ),
            Key::seed(
                &[Step::Key("models"), Step::Named($name), Step::Key("model")],
                $model,
                Some($provider),
            ),
            Key::url(
                &[
                    Step::Key("models"),
                    Step::Named($name),
                    Step::Key("apiBase"),
                ],
                $provider,
                $suffix,
            ),
            Key::text(
                &[Step::Key("models"), Step::Named($name), Step::Key("apiKey")],
                $secret,
                Some($provider),
            ),
        ]
    };
}

const OPENAI_ENTRY: [Key; 4] = model_entry!(
    OPENAI,
    Provider::Openai,
    "openai",
    "gpt-4o-mini",
    "",
    "${{ secrets.OPENAI_API_KEY }}"
);
const ANTHROPIC_ENTRY: [Key; 4] = model_entry!(
    ANTHROPIC,
    Provider::Anthropic,
    "anthropic",
    "claude-sonnet-4-5",
    "/v1",
    "${{ secrets.ANTHROPIC_API_KEY }}"
);

const KEYS: [Key; 11] = [
    Key::seed(&[Step::Key("name")], "Local Config", None),
    Key::seed(&[Step::Key("version")], "1.0.0", None),
    Key::seed(&[Step::Key("schema")], "v1", None),
    OPENAI_ENTRY[0],
    OPENAI_ENTRY[1],
    OPENAI_ENTRY[2],
    OPENAI_ENTRY[3],
    ANTHROPIC_ENTRY[0],
    ANTHROPIC_ENTRY[1],
    ANTHROPIC_ENTRY[2],
    ANTHROPIC_ENTRY[3],
];

pub(super) static CONTINUE: Declared = Declared {
    name: TargetName::Continue,
    bins: &["cn"],
    home,
    providers: &[Provider::Openai, Provider::Anthropic],
    files: &[File {
        path: config_file,
        format: Format::Yaml,
        keys: &KEYS,
    }],
    default_endpoint: "the models configured in config.yaml",
    notes: &[
        "Continue sends OPENAI_API_KEY / ANTHROPIC_API_KEY (from the environment or \
         ~/.continue/.env) to the gateway; pick the anyray model entries in Continue, and \
         change their `model` as you like",
    ],
    effective: None,
};
