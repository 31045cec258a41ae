//! `anyray config path|get|set|unset`.

use std::io::IsTerminal;

use anyhow::Result;
use serde_json::json;

use super::Context;
use crate::cli::{ConfigArgs, ConfigCommand};
use crate::config_file::{self, ConfigFile};
use crate::error::UserError;
use crate::runtime::{self, Threads};
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
                let Some(v) = &value.value else {
                    return Err(UserError::problem(format!("`{key}` is not set")).into());
                };
                // Piped, the bare value (`$(anyray config get gateway)`); on a terminal,
                // where it comes from too.
                if std::io::stdout().is_terminal() {
                    p.data(format!("{v}  ({})\n", value.source));
                } else {
                    p.data(format!("{v}\n"));
                }
            }
        }
        ConfigCommand::Set { key, value } => {
            let mut file = ConfigFile::load(&path.value)?;
            let running = relay_running(ctx, key);
            file.set(key, value)?;
            if key == "auth.scheme" {
                // The user's answer replaces the detected one.
                file.unset("auth.detected_scheme")?;
                file.unset("auth.detected_gateway")?;
            }
            file.save()?;
            report(ctx, key, Some(value), &path.value)?;
            restart_note(ctx, running);
        }
        ConfigCommand::Unset { key } => {
            let mut file = ConfigFile::load(&path.value)?;
            let running = relay_running(ctx, key);
            if file.unset(key)? {
                file.save()?;
            }
            report(ctx, key, None, &path.value)?;
            restart_note(ctx, running);
        }
    }
    Ok(())
}

/// For a setting a running relay read at startup (`relay.*`, the credential, the
/// headers and routes): the relay's address when one answers there now.
fn relay_running(ctx: &Context, key: &str) -> Option<String> {
    let relay_reads = [
        "relay.",
        "auth.",
        "headers.",
        "routes.",
        "identity_header",
        "gateway",
    ];
    if !relay_reads.iter().any(|prefix| key.starts_with(prefix)) {
        return None;
    }
    let settings = ctx.settings(ctx.overrides()).ok()?;
    let url = settings.relay_url();
    let health = url.join(crate::relay::HEALTH_PATH);
    let asked = runtime::block_on(Threads::Current, async {
        let client = reqwest::Client::builder()
            .use_preconfigured_tls(crate::http::tls_config(None).ok()?)
            .no_proxy()
            .timeout(std::time::Duration::from_millis(300))
            .build()
            .ok()?;
        let response = client.get(&health).send().await.ok()?;
        response.status().is_success().then_some(())
    });
    matches!(asked, Ok(Some(()))).then(|| url.to_string())
}

fn restart_note(ctx: &Context, running: Option<String>) {
    if let Some(url) = running {
        ctx.printer.warn(format!(
            "a relay is running on {url} with the old value: restart it (`anyray gateway`) to use the new one"
        ));
    }
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
