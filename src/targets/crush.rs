//! Crush (Charm): the global `crush.json` in `$CRUSH_GLOBAL_CONFIG`, else
//! `$XDG_CONFIG_HOME/crush` (`~/.config/crush` on every OS: `home.Config()`). Strict JSON
//! (`json.Valid` before the merge). Sources: charmbracelet/crush @37f36e93
//! `internal/config/load.go`, `internal/home/home.go`, `internal/config/config.go`
//! (`ProviderConfig`), `schema.json` (published as <https://charm.land/crush.json>,
//! tests/schemas/crush.schema.json).
//!
//! anyray adds a provider `anyray` (`type: openai-compat`, `base_url: {gw}/v1`,
//! `api_key: $OPENAI_API_KEY`, which Crush expands like a shell) with no model list
//! (Crush then asks `GET /v1/models`), and selects it for the large and small models,
//! with a model id where none is set. The machine-state file
//! (`~/.local/share/crush/crush.json`) and a project `crush.json` win over this file.
//! The npm package downloads its binary from GitHub when installed, so the e2e suite
//! cannot run it offline: the written file is checked against Crush's schema instead.

use std::path::PathBuf;

use anyhow::Result;

use super::declared::{Declared, File, Key, Step, env_dir, xdg_config_home};
use crate::connect::{Format, TargetName};
use crate::gateway_url::Provider;

fn home() -> Result<PathBuf> {
    env_dir(crate::envvars::CRUSH_GLOBAL_CONFIG, || {
        Ok(xdg_config_home()?.join("crush"))
    })
}

fn config_file() -> Result<PathBuf> {
    Ok(home()?.join("crush.json"))
}

const PROVIDER: [Step; 2] = [Step::Key("providers"), Step::Key("anyray")];
const OPENAI: Option<Provider> = Some(Provider::Openai);

const KEYS: [Key; 9] = [
    Key::seed(
        &[Step::Key("$schema")],
        "https://charm.land/crush.json",
        None,
    ),
    Key::text(
        &[PROVIDER[0], PROVIDER[1], Step::Key("name")],
        "Anyray gateway",
        OPENAI,
    ),
    Key::text(
        &[PROVIDER[0], PROVIDER[1], Step::Key("type")],
        "openai-compat",
        OPENAI,
    ),
    Key::url(
        &[PROVIDER[0], PROVIDER[1], Step::Key("base_url")],
        Provider::Openai,
        "",
    ),
    Key::text(
        &[PROVIDER[0], PROVIDER[1], Step::Key("api_key")],
        "$OPENAI_API_KEY",
        OPENAI,
    ),
    Key::text(
        &[
            Step::Key("models"),
            Step::Key("large"),
            Step::Key("provider"),
        ],
        "anyray",
        OPENAI,
    ),
    Key::seed(
        &[Step::Key("models"), Step::Key("large"), Step::Key("model")],
        "gpt-4o-mini",
        OPENAI,
    ),
    Key::text(
        &[
            Step::Key("models"),
            Step::Key("small"),
            Step::Key("provider"),
        ],
        "anyray",
        OPENAI,
    ),
    Key::seed(
        &[Step::Key("models"), Step::Key("small"), Step::Key("model")],
        "gpt-4o-mini",
        OPENAI,
    ),
];

pub(super) static CRUSH: Declared = Declared {
    name: TargetName::Crush,
    bins: &["crush"],
    home,
    providers: &[Provider::Openai],
    files: &[File {
        path: config_file,
        format: Format::Json,
        keys: &KEYS,
    }],
    default_endpoint: "the providers Crush was set up with",
    notes: &[
        "Crush sends OPENAI_API_KEY (expanded from crush.json) to the gateway; \
         ~/.local/share/crush/crush.json or a project crush.json can select another model",
    ],
    effective: None,
};
