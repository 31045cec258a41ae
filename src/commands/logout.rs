//! `anyray logout`: remove the stored Anyray key and revoke and delete the SSO session
//! (or, with `--provider`, remove your own key for that provider).

use anyhow::Result;
use serde_json::json;

use super::Context;
use crate::cli::LogoutArgs;
use crate::envvars;
use crate::secrets::{self, Account};

pub(super) fn run(args: &LogoutArgs, ctx: &Context) -> Result<()> {
    let (account, what) = match args.provider {
        Some(p) => (
            Account::Provider(p.provider()),
            format!("your own {} key", p.provider().key()),
        ),
        None => (Account::Anyray, "your Anyray key".to_string()),
    };
    let removed = secrets::remove(account)?;
    let sso = match args.provider {
        None => super::sso::logout(ctx)?,
        Some(_) => None,
    };
    let p = &ctx.printer;
    if p.json {
        p.json(&json!({ "removed": removed, "sso": sso }))?;
    } else if removed.is_empty() {
        // The SSO session's lines are already out (`sso::logout`).
        if sso.is_none() {
            p.line(format!(
                "No stored {} to remove.",
                what.trim_start_matches("your ")
            ));
        }
    } else {
        for store in &removed {
            p.line(format!("Removed {what} from {store}."));
        }
    }
    if args.provider.is_none() && envvars::get(envvars::ANYRAY_TOKEN).is_some() {
        p.warn("ANYRAY_TOKEN is still set in your environment; unset it to log out completely");
    }
    Ok(())
}
