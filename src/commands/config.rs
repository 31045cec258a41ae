//! `anyray config path|get|set|unset`.

use anyhow::Result;
use serde_json::json;

use super::Context;
use crate::cli::{ConfigArgs, ConfigCommand};
use crate::config_file::{self, ConfigFile};
use crate::error::UserError;
use crate::settings;

pub(super) fn run(args: &ConfigArgs, ctx: &Context) -> Result<()> {
    let overrides = ctx.overrides();
    let path = settings::config_path(&overrides)?;
    let p = &ctx.printer;
    match &args.command {
        ConfigCommand::Path => {
            let exists = path.value.exists();
            if p.json {
                p.json(&json!({ "path": path.value, "exists": exists, "source": path.source }))?;
            } else {
                p.data(format!("{}\n", path.value.display()));
            }
        }
        ConfigCommand::Get { key } => {
            // Resolving everything first reports unknown keys and invalid values once.
            ctx.settings(overrides.clone())?;
            let value = settings::effective(&overrides, key)?;
            if p.json {
                p.json(&json!({ "key": key, "value": value.value, "source": value.source }))?;
            } else {
                match &value.value {
                    Some(v) => p.data(format!("{v}\n")),
                    None => return Err(UserError::problem(format!("`{key}` is not set")).into()),
                }
            }
        }
        ConfigCommand::Set { key, value } => {
            let mut file = ConfigFile::load(&path.value)?;
            file.set(key, value)?;
            file.save()?;
            report(ctx, key, Some(value), &path.value)?;
        }
        ConfigCommand::Unset { key } => {
            let mut file = ConfigFile::load(&path.value)?;
            if file.unset(key)? {
                file.save()?;
            }
            report(ctx, key, None, &path.value)?;
        }
    }
    Ok(())
}

fn report(ctx: &Context, key: &str, value: Option<&str>, path: &std::path::Path) -> Result<()> {
    let p = &ctx.printer;
    if p.json {
        return p.json(&json!({ "key": key, "value": value, "path": path }));
    }
    match value {
        Some(v) => p.line(format!("Set {key} = {v} in {}", path.display())),
        None => p.line(format!("Unset {key} in {}", path.display())),
    }
    if let Some(var) = config_file::spec(key).and_then(|s| s.env)
        && crate::envvars::get(var).is_some()
    {
        p.warn(format!(
            "{var} is set in your environment and overrides `{key}` from the file"
        ));
    }
    Ok(())
}
