//! `anyray usage`: the developer's own spend as the gateway reports it (`crate::usage`):
//! today and this week, by model and by tool, and the budget left as a bar. A gateway
//! that offers no usage data gets one line saying why (exit 0); one that cannot be
//! reached is exit 1.

use std::time::SystemTime;

use anyhow::Result;
use serde::Serialize;

use super::Context;
use crate::cli::UsageArgs;
use crate::discovery;
use crate::error::UserError;
use crate::output::{Printer, Style};
use crate::runtime::{self, Threads};
use crate::settings::Overrides;
use crate::usage::{self, Days, Outcome, Report, Share, Totals};
use crate::{http, provider_env, secrets};

/// The usage request's bound: one discovery, maybe one detection, one usage answer.
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// `usage --json` (README, "anyray usage"): fields are only added.
#[derive(Serialize)]
struct UsageJson<'a> {
    gateway: String,
    /// Today's UTC date, and the Monday that starts this week.
    date: &'a str,
    week_start: &'a str,
    #[serde(flatten)]
    outcome: &'a Outcome,
}

pub(super) fn run(args: &UsageArgs, ctx: &Context) -> Result<()> {
    let settings = ctx.settings(Overrides {
        gateway: args.gateway.clone(),
        ..ctx.overrides()
    })?;
    let gw = settings.gateway.value.clone();
    let key = secrets::load()?.map(|(key, _)| key);
    let days = Days::at(SystemTime::now());
    let ca_file = settings.ca_file.as_ref().map(|c| c.value.as_path());
    let client = http::client(ca_file, TIMEOUT)?;
    let outcome = runtime::block_on(Threads::Current, async {
        let found = match discovery::fetch(&client, &gw).await {
            Ok(found) => found,
            Err(_) => discovery::remembered(&gw),
        };
        let plan = provider_env::auth_plan(&settings, &gw, found.as_ref(), key, false).await?;
        usage::fetch(
            &client,
            &gw,
            found.as_ref(),
            plan.credential.as_ref(),
            &days,
        )
        .await
    })?
    .map_err(|err| {
        UserError::problem(format!("cannot ask {gw} for usage: {err:#}"))
            .with_hint("`anyray doctor` shows where the path to the gateway breaks")
    })?;
    let p = &ctx.printer;
    if p.json {
        return p.json(&UsageJson {
            gateway: gw.to_string(),
            date: &days.today,
            week_start: &days.monday,
            outcome: &outcome,
        });
    }
    match &outcome {
        Outcome::Unavailable { reason } => p.line(format!("No usage data from {gw}: {reason}.")),
        Outcome::Report(report) => render(p, report, &days),
    }
    Ok(())
}

fn render(p: &Printer, r: &Report, days: &Days) {
    let cur = r.currency.as_str();
    let from = match r.source.as_str() {
        "litellm" => "LiteLLM key info",
        _ => "the gateway's usage endpoint",
    };
    p.line(format!("Your usage, from {from} ({}):", r.url));
    let mut table = vec![[
        String::new(),
        "spend".into(),
        "requests".into(),
        "tokens in".into(),
        "tokens out".into(),
    ]];
    let row = |label: String, t: &Totals| {
        [
            label,
            usage::money(t.spend, cur),
            t.requests.to_string(),
            t.input_tokens.to_string(),
            t.output_tokens.to_string(),
        ]
    };
    if let (Some(today), Some(week)) = (&r.today, &r.week) {
        table.push(row(format!("today ({})", days.today), today));
        table.push(row(format!("this week (from {})", days.monday), week));
        let section = |title: &str, shares: &[Share]| {
            let mut rows = Vec::new();
            if !shares.is_empty() {
                rows.push([
                    title.to_string(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                ]);
                rows.extend(
                    shares
                        .iter()
                        .map(|s| row(format!("  {}", s.name), &s.totals)),
                );
            }
            rows
        };
        table.extend(section("by model, this week", &r.by_model));
        table.extend(section("by tool, this week", &r.by_client));
        for line in columns(&table) {
            p.line(format!("  {line}"));
        }
    } else {
        p.line("  the gateway reports no per-day figures for your key");
    }
    match &r.budget {
        Some(b) => {
            let period = b
                .period
                .as_deref()
                .map(|x| format!(" ({x})"))
                .unwrap_or_default();
            let line = match (b.limit, b.left_fraction()) {
                (Some(limit), Some(left)) => {
                    let style = if left < 0.1 { Style::Fail } else { Style::Ok };
                    format!(
                        "Budget{period}: {} {} of {} left ({} spent)",
                        p.paint(style, &usage::bar(left, 20)),
                        usage::money(b.remaining.unwrap_or(limit - b.spent).max(0.0), cur),
                        usage::money(limit, cur),
                        usage::money(b.spent, cur),
                    )
                }
                _ => format!(
                    "Budget{period}: {} spent, no limit set",
                    usage::money(b.spent, cur)
                ),
            };
            p.line(line);
            if let Some(at) = &b.resets_at {
                p.line(format!("  resets at {at}"));
            }
        }
        None => p.line("Budget: the gateway reports none"),
    }
}

/// Left-aligned first column, right-aligned numbers.
fn columns(rows: &[[String; 5]]) -> Vec<String> {
    let width = |i: usize| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0);
    let widths: Vec<usize> = (0..5).map(width).collect();
    rows.iter()
        .map(|r| {
            let mut line = format!("{:<w$}", r[0], w = widths[0]);
            for i in 1..5 {
                line.push_str(&format!("  {:>w$}", r[i], w = widths[i]));
            }
            line.trim_end().to_string()
        })
        .collect()
}
