//! Zed: `language_models` in the user settings (JSONC): `settings.json` in
//! `$XDG_CONFIG_HOME/zed` (else `~/.config/zed`) on Linux and macOS, `%APPDATA%\Zed` on
//! Windows (`zed-industries/zed/crates/paths/src/paths.rs`, `config_dir()`).
//!
//! anyray repoints the built-in providers, keeping the user's models:
//! `language_models.openai.api_url = {gw}/v1` and `language_models.anthropic.api_url =
//! {gw}` (an origin; the default is `https://api.anthropic.com`). The keys are
//! `AllLanguageModelSettingsContent`'s in
//! `zed-industries/zed/crates/settings_content/src/language_model.rs`.
//! Zed takes the API keys from its keychain or `OPENAI_API_KEY`/`ANTHROPIC_API_KEY`,
//! never from this file. A project `.zed/settings.json` can override them.

use std::path::PathBuf;

use anyhow::{Context, Result};

use super::declared::{Declared, File, Key, Step, xdg_config_home};
use crate::connect::{Format, TargetName};
use crate::gateway_url::Provider;

fn home() -> Result<PathBuf> {
    if cfg!(windows) {
        Ok(dirs::config_dir()
            .context("cannot find %APPDATA%")?
            .join("Zed"))
    } else {
        Ok(xdg_config_home()?.join("zed"))
    }
}

fn settings_file() -> Result<PathBuf> {
    Ok(home()?.join("settings.json"))
}

pub(super) static ZED: Declared = Declared {
    name: TargetName::Zed,
    bins: &["zed", "zeditor"],
    home,
    providers: &[Provider::Openai, Provider::Anthropic],
    files: &[File {
        path: settings_file,
        format: Format::Jsonc,
        keys: &[
            Key::url(
                &[
                    Step::Key("language_models"),
                    Step::Key("openai"),
                    Step::Key("api_url"),
                ],
                Provider::Openai,
                "",
            ),
            Key::url(
                &[
                    Step::Key("language_models"),
                    Step::Key("anthropic"),
                    Step::Key("api_url"),
                ],
                Provider::Anthropic,
                "",
            ),
        ],
    }],
    default_endpoint: "the providers' own APIs",
    notes: &[
        "Zed keeps its API keys (keychain, OPENAI_API_KEY, ANTHROPIC_API_KEY); a project \
         .zed/settings.json can override language_models",
    ],
    effective: None,
};
