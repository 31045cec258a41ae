//! `anyray logout`: remove the stored Anyray key.

use anyhow::Result;
use serde_json::json;

use super::Context;
use crate::envvars;
use crate::secrets;

pub(super) fn run(ctx: &Context) -> Result<()> {
    let removed = secrets::remove()?;
    let p = &ctx.printer;
    if p.json {
        p.json(&json!({ "removed": removed }))?;
    } else if removed.is_empty() {
        p.line("No stored Anyray key to remove.");
    } else {
        for store in &removed {
            p.line(format!("Removed your Anyray key from {store}."));
        }
    }
    if envvars::get(envvars::ANYRAY_TOKEN).is_some() {
        p.warn("ANYRAY_TOKEN is still set in your environment; unset it to log out completely");
    }
    Ok(())
}
