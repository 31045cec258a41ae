//! aider: `~/.aider.conf.yml` (YAML 1.1, read by ConfigArgParse with PyYAML's SafeLoader;
//! Aider-AI/aider `aider/args.py`, `aider/main.py`). `openai-api-base = {gw}/v1` covers
//! every OpenAI-compatible model (litellm's `openai/…`); for Anthropic models aider has no
//! option, so `set-env` gets `ANTHROPIC_API_BASE={gw}` (an origin: litellm adds
//! `/v1/messages`). The YAML has no way to reference an env variable, so keys stay in
//! the environment (`OPENAI_API_KEY`, `ANTHROPIC_API_KEY`) and never go in this file.
//! A `.aider.conf.yml` in the git root or the current dir, and `AIDER_*` variables, win
//! over the home file.

use std::path::PathBuf;

use anyhow::Result;

use super::declared::{Declared, File, Key, Step, Value};
use crate::connect::{Format, TargetName};
use crate::gateway_url::Provider;

fn config_file() -> Result<PathBuf> {
    Ok(crate::paths::home_dir()?.join(".aider.conf.yml"))
}

pub(super) static AIDER: Declared = Declared {
    name: TargetName::Aider,
    bins: &["aider"],
    home: config_file,
    providers: &[Provider::Openai, Provider::Anthropic],
    files: &[File {
        path: config_file,
        format: Format::Yaml,
        keys: &[
            Key::url(&[Step::Key("openai-api-base")], Provider::Openai, ""),
            Key {
                path: &[Step::Key("set-env"), Step::Prefixed("ANTHROPIC_API_BASE=")],
                value: Value::Url {
                    provider: Provider::Anthropic,
                    prefix: "ANTHROPIC_API_BASE=",
                    suffix: "",
                },
                when: None,
            },
        ],
    }],
    default_endpoint: "the providers' own APIs",
    notes: &[
        "aider reads your keys from OPENAI_API_KEY / ANTHROPIC_API_KEY as before; a \
         .aider.conf.yml in the project or AIDER_* variables win over ~/.aider.conf.yml",
    ],
    effective: None,
};
