//! opencode: the global config `opencode.json` (JSONC: comments and trailing commas are
//! fine) in `$OPENCODE_CONFIG_DIR`, else `$XDG_CONFIG_HOME/opencode`, else
//! `~/.config/opencode` on every OS (`xdg-basedir`). When only `opencode.jsonc` exists,
//! that one is edited. Sources: anomalyco/opencode `packages/opencode/src/config/paths.ts`,
//! `config/parse.ts` (`parseJsonc` with `allowTrailingComma`), `config/provider.ts`.
//!
//! anyray repoints opencode's built-in providers, so the user's model choice and
//! credentials stay as they are: `provider.openai.options.baseURL = {gw}/v1` (opencode
//! then calls `/v1/responses`) and `provider.anthropic.options.baseURL = {gw}/v1` (the AI
//! SDK's Anthropic base *includes* `/v1`, unlike `ANTHROPIC_BASE_URL`). opencode adds
//! `"$schema"` to a config file that lacks it on its first start (seen with 1.18.33),
//! which would break the byte-exact undo, so anyray writes it where absent.
//!
//! Project files (`opencode.json` up to the git root, `.opencode/`) and
//! `OPENCODE_CONFIG_CONTENT` override the global file; the managed dir (`/etc/opencode`)
//! overrides everything. `anyray run -- opencode` puts the same provider options in
//! `OPENCODE_CONFIG_CONTENT` (inline JSON, merged over the files per key) for one run.

use std::path::PathBuf;

use anyhow::Result;

use super::declared::{Declared, File, Key, Step, env_dir, xdg_config_home};
use crate::connect::{Format, TargetName};
use crate::gateway_url::{Provider, Routes};
use crate::provider_env::EnvVar;

fn home() -> Result<PathBuf> {
    env_dir(crate::envvars::OPENCODE_CONFIG_DIR, || {
        Ok(xdg_config_home()?.join("opencode"))
    })
}

/// `opencode.json`, unless only `opencode.jsonc` exists.
fn config_file() -> Result<PathBuf> {
    let dir = home()?;
    let (json, jsonc) = (dir.join("opencode.json"), dir.join("opencode.jsonc"));
    Ok(if !json.exists() && jsonc.exists() {
        jsonc
    } else {
        json
    })
}

const OPENAI_URL: &[Step] = &[
    Step::Key("provider"),
    Step::Key("openai"),
    Step::Key("options"),
    Step::Key("baseURL"),
];
const ANTHROPIC_URL: &[Step] = &[
    Step::Key("provider"),
    Step::Key("anthropic"),
    Step::Key("options"),
    Step::Key("baseURL"),
];

pub(super) static OPENCODE: Declared = Declared {
    name: TargetName::Opencode,
    bins: &["opencode"],
    home,
    providers: &[Provider::Openai, Provider::Anthropic],
    files: &[File {
        path: config_file,
        format: Format::Jsonc,
        keys: &[
            Key::seed(
                &[Step::Key("$schema")],
                "https://opencode.ai/config.json",
                None,
            ),
            Key::url(OPENAI_URL, Provider::Openai, ""),
            Key::url(ANTHROPIC_URL, Provider::Anthropic, "/v1"),
        ],
    }],
    default_endpoint: "the providers' own APIs",
    notes: &[
        "opencode keeps your model and credentials (OPENAI_API_KEY, ANTHROPIC_API_KEY or \
         `opencode auth`); a project opencode.json that sets a provider's baseURL wins",
    ],
    effective: None,
};

/// The variable `anyray run -- opencode` adds: opencode's inline config with the
/// providers' base URLs. None when the user sets `OPENCODE_CONFIG_CONTENT` (never
/// clobbered) or the gateway serves neither provider.
pub(super) fn run_env(routes: &Routes) -> Vec<EnvVar> {
    const VAR: &str = "OPENCODE_CONFIG_CONTENT";
    if crate::envvars::get(VAR).is_some() {
        return Vec::new();
    }
    OPENCODE
        .inline_json(routes)
        .map(|json| EnvVar::new(VAR, json))
        .into_iter()
        .collect()
}
