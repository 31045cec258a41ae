//! Gemini CLI: `GOOGLE_GEMINI_BASE_URL = {gw}/gemini` (the host root; the GenAI SDK adds
//! `/v1beta/models/…`), in two places:
//!
//! - `~/.gemini/.env` (dotenv), so Gemini CLI started outside a shell (an IDE, a
//!   launcher) is covered too. Recorded as the gemini target's.
//! - the shell env files, as before (they are the shell target's, and the Google GenAI
//!   SDK reads the variable from there).
//!
//! How Gemini CLI reads `.env` (google-gemini/gemini-cli `packages/cli/src/config/
//! settings.ts`, `findEnvFile`/`loadEnvironment`): exactly one file, the first of
//! `.gemini/.env` then `.env` walking up from the current dir, then `~/.gemini/.env`,
//! then `~/.env`; so a project `.env` shadows ours. A variable already in the
//! environment wins over the file. `~/.gemini/.env` is read only in a trusted folder
//! (folder trust is on by default). dotenv expands no `${VAR}`, so no key goes in it.
//! 0.61.0 headless also needs `security.auth.selectedType` in `~/.gemini/settings.json`
//! (with `GOOGLE_GEMINI_BASE_URL` set it otherwise picks the `gateway` auth type and
//! exits 41: gemini-cli issue #27550); status says so.
//!
//! Skipped when the gateway serves no gemini route. Installed: `gemini` on PATH, or
//! `~/.gemini` exists.

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::shell::ShellTarget;
use super::{Ctx, Detection, Effective, Target, TargetPlan, detect};
use crate::connect::{self, FileSpec, Format, TargetName, Want};
use crate::edit::KeyPath;
use crate::gateway_url::Provider;

pub(super) struct Gemini;

const VAR: &str = "GOOGLE_GEMINI_BASE_URL";

fn home() -> Result<PathBuf> {
    Ok(crate::paths::home_dir()?.join(".gemini"))
}

fn env_file() -> Result<PathBuf> {
    Ok(home()?.join(".env"))
}

/// Whether `~/.gemini/settings.json` pins an auth type (JSON with comments).
fn auth_selected() -> bool {
    let Ok(file) = home().map(|h| h.join("settings.json")) else {
        return false;
    };
    let key = KeyPath::keys(["security", "auth", "selectedType"]);
    matches!(connect::read_value(&file, Format::Jsonc, &key), Ok(Some(_)))
}

impl Target for Gemini {
    fn name(&self) -> TargetName {
        TargetName::Gemini
    }

    fn owner(&self, file: &Path) -> TargetName {
        match env_file() {
            Ok(env) if env == file => TargetName::Gemini,
            _ => TargetName::Shell,
        }
    }

    fn owners(&self) -> Vec<TargetName> {
        vec![TargetName::Gemini, TargetName::Shell]
    }

    fn detect(&self) -> Detection {
        detect("gemini", home())
    }

    fn plan(&self, ctx: &Ctx) -> Result<TargetPlan> {
        let Some(url) = ctx.routes.get(Provider::Gemini) else {
            return Ok(TargetPlan {
                skip: Some("the gateway serves no gemini route".into()),
                ..TargetPlan::default()
            });
        };
        let mut plan = ShellTarget.plan(ctx)?;
        plan.skip = None;
        plan.notes = vec![
            "Gemini CLI reads ~/.gemini/.env only in a trusted folder, and a project .env \
             (or .gemini/.env) shadows it; new terminals get GOOGLE_GEMINI_BASE_URL from the \
             shell env file too"
                .into(),
            "the key stays in GEMINI_API_KEY (dotenv expands no ${VAR}, so none goes in .env)"
                .into(),
        ];
        if !auth_selected() {
            plan.notes.push(
                "~/.gemini/settings.json pins no auth type: Gemini CLI 0.61 run headless (-p) \
                 then exits with \"Invalid auth method selected\" (gemini-cli#27550); choose \
                 \"Use Gemini API key\" once in interactive gemini, or set \
                 security.auth.selectedType to \"gemini-api-key\""
                    .into(),
            );
        }
        plan.files.insert(
            0,
            FileSpec {
                path: env_file()?,
                format: Format::Dotenv,
                wants: vec![Want::new(KeyPath::keys([VAR]), url)],
            },
        );
        Ok(plan)
    }

    fn effective(&self, _ctx: &Ctx) -> Result<Effective> {
        // The environment wins over the file (dotenv never overrides a set variable).
        if let Some(url) = crate::envvars::get(VAR) {
            return Ok(Effective {
                endpoint: Some(format!("{url} (this shell)")),
                overridden_by: None,
            });
        }
        let in_file = connect::read_value(&env_file()?, Format::Dotenv, &KeyPath::keys([VAR]))?;
        Ok(Effective {
            endpoint: Some(in_file.unwrap_or_else(|| {
                "https://generativelanguage.googleapis.com (Gemini's own API)".into()
            })),
            overridden_by: None,
        })
    }
}
