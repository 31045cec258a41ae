//! The caller's own spend, as the gateway reports it (docs/gateway-contract.md, "Usage"):
//! the usage endpoint discovery names, else LiteLLM's `/key/info`. Content-free: money,
//! tokens and request counts by UTC day, model and client, and the budget. What a gateway
//! does not offer is an [`Outcome::Unavailable`] with the reason, never an error.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::auth::Credential;
use crate::discovery::Discovery;
use crate::gateway_url::GatewayUrl;

/// LiteLLM's key info: the caller's own key with no `?key=` (docs/gateway-contract.md).
pub(crate) const LITELLM_KEY_INFO: &str = "/key/info";

/// What the gateway said about the caller's usage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub(crate) enum Outcome {
    Report(Box<Report>),
    /// The gateway answers, but offers no usage data for this key; `reason` says why.
    Unavailable {
        reason: String,
    },
}

/// The `--json` schema of `anyray usage` (README, "anyray usage"); fields are only added.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Report {
    /// `anyray` (the contract's usage endpoint) or `litellm` (`/key/info`).
    pub source: String,
    /// The URL asked.
    pub url: String,
    pub currency: String,
    /// Today and this week (Monday to today), UTC days; `null` when the gateway reports
    /// no days (LiteLLM).
    pub today: Option<Totals>,
    pub week: Option<Totals>,
    /// This week by model and by client, the most expensive first.
    pub by_model: Vec<Share>,
    pub by_client: Vec<Share>,
    pub budget: Option<Budget>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Totals {
    pub spend: f64,
    pub requests: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
}

impl Totals {
    fn add(&mut self, row: &Row) {
        self.spend += row.spend;
        self.requests += row.requests;
        self.input_tokens += row.input_tokens;
        self.output_tokens += row.output_tokens;
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Share {
    pub name: String,
    #[serde(flatten)]
    pub totals: Totals,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Budget {
    /// `null`: no limit set.
    pub limit: Option<f64>,
    pub spent: f64,
    pub remaining: Option<f64>,
    /// e.g. `month`, `30d`.
    pub period: Option<String>,
    pub resets_at: Option<String>,
}

impl Budget {
    /// The share of the budget left, 0 to 1, when there is a limit.
    pub(crate) fn left_fraction(&self) -> Option<f64> {
        let limit = self.limit.filter(|l| *l > 0.0)?;
        let left = self.remaining.unwrap_or(limit - self.spent);
        Some((left / limit).clamp(0.0, 1.0))
    }
}

/// The contract's answer: `GET {usage}?since=YYYY-MM-DD`.
#[derive(Deserialize)]
struct UsageDoc {
    #[serde(default)]
    currency: Option<String>,
    #[serde(default)]
    rows: Vec<Row>,
    #[serde(default)]
    budget: Option<BudgetDoc>,
}

#[derive(Deserialize)]
struct Row {
    date: String,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    client: Option<String>,
    #[serde(default)]
    requests: u64,
    #[serde(default)]
    input_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
    #[serde(default)]
    spend: f64,
}

#[derive(Deserialize)]
struct BudgetDoc {
    #[serde(default)]
    limit: Option<f64>,
    #[serde(default)]
    spent: Option<f64>,
    #[serde(default)]
    remaining: Option<f64>,
    #[serde(default)]
    period: Option<String>,
    #[serde(default)]
    resets_at: Option<String>,
}

/// LiteLLM's `/key/info` answer: `{"key": …, "info": {"spend": …, "max_budget": …}}`.
#[derive(Deserialize)]
struct KeyInfo {
    info: KeyInfoBody,
}

#[derive(Deserialize)]
struct KeyInfoBody {
    #[serde(default)]
    spend: Option<f64>,
    #[serde(default)]
    max_budget: Option<f64>,
    #[serde(default)]
    budget_duration: Option<String>,
    #[serde(default)]
    budget_reset_at: Option<String>,
}

/// The UTC days `anyray usage` reports on: today and the Monday that starts this week.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Days {
    pub today: String,
    pub monday: String,
}

impl Days {
    pub(crate) fn at(now: SystemTime) -> Self {
        let days = now
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() / 86_400) as i64;
        // 1970-01-01 was a Thursday: Monday is 0.
        let weekday = (days + 3).rem_euclid(7);
        Self {
            today: civil_date(days),
            monday: civil_date(days - weekday),
        }
    }
}

/// `YYYY-MM-DD` of a day count since 1970-01-01 (the clock is never before it).
fn civil_date(days: i64) -> String {
    let (year, month, day) = crate::calendar::civil_from_days(u64::try_from(days).unwrap_or(0));
    format!("{year:04}-{month:02}-{day:02}")
}

/// The usage endpoint discovery names: a path on the gateway. An absolute URL is not
/// followed: the key goes to the gateway only.
pub(crate) fn endpoint(gw: &GatewayUrl, discovery: Option<&Discovery>) -> Option<String> {
    let path = discovery?.usage.as_deref()?;
    path.starts_with('/').then(|| gw.join(path))
}

/// Asks the gateway for the caller's usage. `Err`: the gateway could not be asked (down,
/// not HTTP); every answer it gives is an [`Outcome`].
pub(crate) async fn fetch(
    client: &reqwest::Client,
    gw: &GatewayUrl,
    discovery: Option<&Discovery>,
    credential: Option<&Credential>,
    days: &Days,
) -> Result<Outcome> {
    let (source, url) = match endpoint(gw, discovery) {
        Some(url) => ("anyray", format!("{url}?since={}", days.monday)),
        None => ("litellm", gw.join(LITELLM_KEY_INFO)),
    };
    let mut request = client.get(&url);
    if let Some(credential) = credential {
        for (name, value) in credential.headers_for(None) {
            request = request.header(name, value);
        }
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("cannot reach {url}"))?;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .with_context(|| format!("cannot read {url}"))?;
    if !status.is_success() {
        return Ok(Outcome::Unavailable {
            reason: refusal(source, status.as_u16(), &body, credential.is_some()),
        });
    }
    let report = match source {
        "anyray" => serde_json::from_slice::<UsageDoc>(&body)
            .map(|doc| from_usage_doc(doc, url.clone(), days)),
        _ => serde_json::from_slice::<KeyInfo>(&body).map(|info| from_key_info(info, url.clone())),
    };
    Ok(match report {
        Ok(report) => Outcome::Report(Box::new(report)),
        Err(err) => Outcome::Unavailable {
            reason: format!("{url} answered JSON anyray cannot read as usage ({err})"),
        },
    })
}

/// Why a non-2xx answer means no usage data, in one line.
fn refusal(source: &str, status: u16, body: &[u8], sent_key: bool) -> String {
    let said = gateway_message(body);
    let quoted = said
        .as_deref()
        .map(|m| format!(": \"{m}\""))
        .unwrap_or_default();
    match (source, status) {
        ("litellm", 404 | 405) => {
            "the gateway offers no usage data (its discovery names no usage endpoint, and it \
             is not LiteLLM)"
                .into()
        }
        ("litellm", 500)
            if said.as_deref().is_some_and(|m| {
                m.to_ascii_lowercase().contains("db") || m.contains("atabase")
            }) =>
        {
            "LiteLLM keeps per-key spend only with a database (its /key/info answered 500, \
             database not connected)"
                .into()
        }
        (_, 401 | 403) if !sent_key => format!(
            "the gateway wants your key to show usage ({status}); store it with `anyray login`"
        ),
        (_, 401 | 403) => format!("the gateway refused your key for usage data ({status}{quoted})"),
        _ => format!("the gateway's usage endpoint answered {status}{quoted}"),
    }
}

/// The gateway's own message in a JSON error body, one line, cut at 200 characters.
fn gateway_message(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let text = [
        &v["error"]["message"],
        &v["message"],
        &v["detail"],
        &v["error"],
    ]
    .into_iter()
    .find_map(|f| f.as_str())?;
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    Some(line.chars().take(200).collect())
}

fn from_usage_doc(doc: UsageDoc, url: String, days: &Days) -> Report {
    let mut today = Totals::default();
    let mut week = Totals::default();
    let mut models: BTreeMap<String, Totals> = BTreeMap::new();
    let mut clients: BTreeMap<String, Totals> = BTreeMap::new();
    for row in doc
        .rows
        .iter()
        .filter(|r| r.date >= days.monday && r.date <= days.today)
    {
        week.add(row);
        if row.date == days.today {
            today.add(row);
        }
        let name = |n: &Option<String>| n.clone().unwrap_or_else(|| "(unknown)".into());
        models.entry(name(&row.model)).or_default().add(row);
        clients.entry(name(&row.client)).or_default().add(row);
    }
    let budget = doc.budget.map(|b| Budget {
        limit: b.limit,
        spent: b.spent.unwrap_or(week.spend),
        remaining: b.remaining,
        period: b.period,
        resets_at: b.resets_at,
    });
    Report {
        source: "anyray".into(),
        url,
        currency: doc.currency.unwrap_or_else(|| "USD".into()),
        today: Some(today),
        week: Some(week),
        by_model: ranked(models),
        by_client: ranked(clients),
        budget,
    }
}

fn ranked(by: BTreeMap<String, Totals>) -> Vec<Share> {
    let mut shares: Vec<Share> = by
        .into_iter()
        .map(|(name, totals)| Share { name, totals })
        .collect();
    shares.sort_by(|a, b| b.totals.spend.total_cmp(&a.totals.spend));
    shares
}

fn from_key_info(info: KeyInfo, url: String) -> Report {
    let info = info.info;
    let spent = info.spend.unwrap_or(0.0);
    Report {
        source: "litellm".into(),
        url,
        // LiteLLM's spend is in USD.
        currency: "USD".into(),
        today: None,
        week: None,
        by_model: Vec::new(),
        by_client: Vec::new(),
        budget: Some(Budget {
            limit: info.max_budget,
            spent,
            remaining: info.max_budget.map(|l| (l - spent).max(0.0)),
            period: info.budget_duration,
            resets_at: info.budget_reset_at,
        }),
    }
}

/// `$1.23`, or `0.0042 EUR`: cents for amounts a person reads, more for small ones.
pub(crate) fn money(amount: f64, currency: &str) -> String {
    let digits = if amount != 0.0 && amount.abs() < 0.1 {
        4
    } else {
        2
    };
    match currency {
        "USD" => format!("${amount:.digits$}"),
        other => format!("{amount:.digits$} {other}"),
    }
}

/// A bar of `width` cells, the left share filled: `[#######-------]`.
pub(crate) fn bar(left: f64, width: usize) -> String {
    let filled = ((left * width as f64).round() as usize).min(width);
    format!("[{}{}]", "#".repeat(filled), "-".repeat(width - filled))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64) -> Days {
        Days::at(UNIX_EPOCH + Duration::from_secs(secs))
    }

    #[test]
    fn today_and_this_weeks_monday_in_utc() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(11_016), "2000-02-29");
        // Friday 2026-11-27 12:00 UTC → Monday 2026-11-23.
        let d = at(1_795_780_800);
        assert_eq!(
            (d.today.as_str(), d.monday.as_str()),
            ("2026-11-27", "2026-11-23")
        );
        // A Monday is its own week's first day; a Sunday belongs to the week before.
        assert_eq!(at(1_795_435_200).monday, "2026-11-23");
        assert_eq!(at(1_795_348_800).monday, "2026-11-16");
    }

    #[test]
    fn sums_today_week_and_ranks_models_and_clients() {
        let doc: UsageDoc = serde_json::from_str(
            r#"{"currency":"USD","rows":[
              {"date":"2026-11-27","model":"a","client":"codex","requests":1,"input_tokens":10,"output_tokens":1,"spend":0.5},
              {"date":"2026-11-24","model":"b","client":"codex","requests":2,"input_tokens":20,"output_tokens":2,"spend":2.0},
              {"date":"2026-11-20","model":"c","requests":9,"spend":100.0}],
              "budget":{"limit":10.0,"spent":7.5}}"#,
        )
        .unwrap();
        let r = from_usage_doc(doc, "u".into(), &at(1_795_780_800));
        assert_eq!(r.today.unwrap().spend, 0.5);
        let week = r.week.unwrap();
        assert_eq!((week.spend, week.requests, week.input_tokens), (2.5, 3, 30));
        assert_eq!(r.by_model[0].name, "b", "most expensive first");
        assert_eq!(r.by_model.len(), 2, "last week's model is not this week's");
        assert_eq!(r.by_client[0].name, "codex");
        let budget = r.budget.unwrap();
        assert_eq!(budget.left_fraction(), Some(0.25));
    }

    #[test]
    fn litellm_key_info_is_the_budget_window() {
        let info: KeyInfo = serde_json::from_str(
            r#"{"key":"sk-…","info":{"status":"active","spend":1.25,"max_budget":10.0,"budget_duration":"30d"}}"#,
        )
        .unwrap();
        let r = from_key_info(info, "u".into());
        assert_eq!(r.today, None);
        let b = r.budget.unwrap();
        assert_eq!((b.spent, b.remaining), (1.25, Some(8.75)));
        assert_eq!(b.period.as_deref(), Some("30d"));
    }

    #[test]
    fn refusals_say_why_in_one_line() {
        let db = br#"{"error":{"message":"Database not connected. Connect a database to your proxy","type":"internal_server_error"}}"#;
        assert!(refusal("litellm", 500, db, true).contains("only with a database"));
        assert!(refusal("litellm", 404, b"{}", true).contains("offers no usage data"));
        assert!(refusal("anyray", 401, b"", false).contains("anyray login"));
        let said = refusal("anyray", 403, br#"{"message":"no\nway"}"#, true);
        assert!(said.ends_with("(403: \"no way\")"), "{said}");
    }

    #[test]
    fn money_and_bar() {
        assert_eq!(money(1.234, "USD"), "$1.23");
        assert_eq!(money(0.00421, "USD"), "$0.0042");
        assert_eq!(money(0.0, "EUR"), "0.00 EUR");
        assert_eq!(bar(0.25, 8), "[##------]");
        assert_eq!(bar(2.0, 4), "[####]");
    }

    #[test]
    fn a_usage_endpoint_elsewhere_is_not_followed() {
        let gw = GatewayUrl::parse("https://gw.example/base").unwrap();
        let named = |usage: &str| Discovery {
            usage: Some(usage.into()),
            ..Discovery::default()
        };
        assert_eq!(
            endpoint(&gw, Some(&named("/anyray/v1/usage"))).as_deref(),
            Some("https://gw.example/base/anyray/v1/usage")
        );
        assert_eq!(endpoint(&gw, Some(&named("https://evil.example/u"))), None);
        assert_eq!(endpoint(&gw, None), None);
    }
}
