//! Goose (Block): a custom provider file anyray owns,
//! `<config>/custom_providers/anyray.json`, and `GOOSE_PROVIDER: anyray` in
//! `<config>/config.yaml` (YAML, read by serde_yaml), with `GOOSE_MODEL` where absent.
//! `<config>` is `$GOOSE_PATH_ROOT/config`, else `$XDG_CONFIG_HOME/goose` (else
//! `~/.config/goose`) on Linux and macOS, `%APPDATA%\Block\goose\config` on Windows
//! (etcetera's app strategy; `block/goose/crates/goose/src/config/paths.rs`).
//!
//! The provider file follows `DeclarativeProviderConfig` in block/goose
//! `block/goose/crates/goose/src/config/declarative_providers.rs` (@00972e1b): `name`, `engine`
//! (`openai`: `base_url`'s path + `/chat/completions`), `display_name`, `api_key_env`
//! (the *name* of the variable holding the key, never a key), `base_url`, `models` with
//! `name` and `context_limit`. The disconnect restores the prior `GOOSE_PROVIDER`.

use std::path::PathBuf;

use anyhow::{Context, Result};

use super::Effective;
use super::declared::{Declared, File, Key, Step, Value, xdg_config_home};
use crate::connect::{self, Format, TargetName};
use crate::edit::KeyPath;
use crate::gateway_url::{Provider, Routes};

/// Our provider's id (its file name, and `GOOSE_PROVIDER`'s value).
const PROVIDER_ID: &str = "anyray";
const DEFAULT_MODEL: &str = "gpt-4o-mini";

fn home() -> Result<PathBuf> {
    if let Some(root) = crate::envvars::get(crate::envvars::GOOSE_PATH_ROOT) {
        return Ok(PathBuf::from(root).join("config"));
    }
    if cfg!(windows) {
        let appdata = dirs::config_dir().context("cannot find %APPDATA%")?;
        Ok(appdata.join("Block").join("goose").join("config"))
    } else {
        Ok(xdg_config_home()?.join("goose"))
    }
}

fn provider_file() -> Result<PathBuf> {
    Ok(home()?
        .join("custom_providers")
        .join(format!("{PROVIDER_ID}.json")))
}

fn config_file() -> Result<PathBuf> {
    Ok(home()?.join("config.yaml"))
}

/// The provider file for the gateway's OpenAI route.
pub(super) fn provider_json(routes: &Routes) -> Option<String> {
    let url = routes.get(Provider::Openai)?;
    let doc = serde_json::json!({
        "name": PROVIDER_ID,
        "engine": "openai",
        "display_name": "Anyray gateway",
        "description": "The org LLM gateway (managed by anyray)",
        "api_key_env": "OPENAI_API_KEY",
        "base_url": url,
        "models": [{ "name": DEFAULT_MODEL, "context_limit": 128000 }],
        "supports_streaming": true,
    });
    let text = serde_json::to_string_pretty(&doc).expect("a JSON value always serialises");
    Some(format!("{text}\n"))
}

/// Goose uses the gateway when `GOOSE_PROVIDER` names our provider.
fn effective() -> Result<Effective> {
    let selected = connect::read_value(
        &config_file()?,
        Format::Yaml,
        &KeyPath::keys(["GOOSE_PROVIDER"]),
    )?;
    let endpoint = match selected.as_deref() {
        Some(PROVIDER_ID) => {
            let file = provider_file()?;
            let text = crate::fs_safe::read_optional(&file)?.unwrap_or_default();
            serde_json::from_slice::<serde_json::Value>(&text)
                .ok()
                .and_then(|doc| doc["base_url"].as_str().map(str::to_string))
        }
        Some(other) => Some(format!("goose provider `{other}`")),
        None => Some("the provider goose was set up with".into()),
    };
    Ok(Effective {
        endpoint,
        overridden_by: None,
    })
}

pub(super) static GOOSE: Declared = Declared {
    name: TargetName::Goose,
    bins: &["goose"],
    home,
    providers: &[Provider::Openai],
    files: &[
        File {
            path: provider_file,
            format: Format::Owned,
            keys: &[Key {
                path: &[],
                value: Value::Document(provider_json),
                when: Some(Provider::Openai),
            }],
        },
        File {
            path: config_file,
            format: Format::Yaml,
            keys: &[
                Key::text(
                    &[Step::Key("GOOSE_PROVIDER")],
                    PROVIDER_ID,
                    Some(Provider::Openai),
                ),
                Key::seed(
                    &[Step::Key("GOOSE_MODEL")],
                    DEFAULT_MODEL,
                    Some(Provider::Openai),
                ),
            ],
        },
    ],
    default_endpoint: "the provider goose was set up with",
    notes: &[
        "goose sends OPENAI_API_KEY (environment or goose's keyring) to the gateway; \
         GOOSE_PROVIDER/GOOSE_MODEL set in the environment win over config.yaml",
    ],
    effective: Some(effective),
};
