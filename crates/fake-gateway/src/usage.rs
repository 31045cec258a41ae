//! The usage endpoint of the contract (docs/gateway-contract.md, "Usage"): spend and
//! tokens for the caller's own key, by UTC day, model and client, counted from the model
//! calls this fake actually answered, so tests assert real numbers.

use std::collections::BTreeMap;
use std::sync::Mutex;

use hyper::HeaderMap;
use serde_json::{Value, json};

/// Where the fake serves it; default discovery names it as `usage`.
pub const USAGE_PATH: &str = "/anyray/v1/usage";

/// What the fake charges, in USD per million tokens (a mid-range model's list price).
pub const INPUT_USD_PER_MTOK: f64 = 3.0;
pub const OUTPUT_USD_PER_MTOK: f64 = 15.0;

/// (key, date, model, client) → counts. The key is only ever compared, never answered.
type Rows = BTreeMap<(String, String, String, String), Counts>;

#[derive(Default, Clone, Copy)]
struct Counts {
    requests: u64,
    input_tokens: u64,
    output_tokens: u64,
}

impl Counts {
    fn spend(self) -> f64 {
        (self.input_tokens as f64 * INPUT_USD_PER_MTOK
            + self.output_tokens as f64 * OUTPUT_USD_PER_MTOK)
            / 1e6
    }
}

#[derive(Default)]
pub(crate) struct UsageBook {
    rows: Mutex<Rows>,
}

impl UsageBook {
    /// One answered model call.
    pub(crate) fn record(
        &self,
        key: &str,
        date: String,
        model: &str,
        client: &str,
        tokens: (u64, u64),
    ) {
        let mut rows = self.rows.lock().unwrap_or_else(|e| e.into_inner());
        let c = rows
            .entry((key.into(), date, model.into(), client.into()))
            .or_default();
        c.requests += 1;
        c.input_tokens += tokens.0;
        c.output_tokens += tokens.1;
    }

    /// The answer for `key`: rows on or after `since` (a `YYYY-MM-DD`, compared as text),
    /// and the budget, spent over every day.
    pub(crate) fn answer(&self, key: &str, since: Option<&str>, budget: Option<f64>) -> Value {
        let rows = self.rows.lock().unwrap_or_else(|e| e.into_inner());
        let mine = rows.iter().filter(|((k, ..), _)| k == key);
        let spent: f64 = mine.clone().map(|(_, c)| c.spend()).sum();
        let listed: Vec<Value> = mine
            .filter(|((_, date, ..), _)| since.is_none_or(|s| date.as_str() >= s))
            .map(|((_, date, model, client), c)| {
                json!({"date": date, "model": model, "client": client, "requests": c.requests,
                       "input_tokens": c.input_tokens, "output_tokens": c.output_tokens,
                       "spend": c.spend()})
            })
            .collect();
        let mut doc = json!({"currency": "USD", "rows": listed});
        if let Some(limit) = budget {
            doc["budget"] = json!({"limit": limit, "spent": spent, "remaining": (limit - spent).max(0.0),
                                   "period": "month"});
        }
        doc
    }
}

impl UsageBook {
    /// LiteLLM's `/key/info` for `key` (its shape: litellm/proxy/management_endpoints/
    /// key_management_endpoints.py `info_key_fn`): the spend of every day.
    pub(crate) fn litellm_key_info(&self, key: &str, budget: Option<f64>) -> Value {
        let rows = self.rows.lock().unwrap_or_else(|e| e.into_inner());
        let spend: f64 = rows
            .iter()
            .filter(|((k, ..), _)| k == key)
            .map(|(_, c)| c.spend())
            .sum();
        json!({"key": key, "info": {"status": "active", "key_alias": null, "spend": spend,
               "max_budget": budget, "budget_duration": "30d", "budget_reset_at": null,
               "models": [], "tpm_limit": null, "rpm_limit": null, "metadata": {}}})
    }
}

/// The caller's key as the fake's auth reads it: the identity header, else a Bearer
/// token, else `x-api-key`.
pub(crate) fn caller_key(headers: &HeaderMap, identity_header: &str) -> Option<String> {
    let text = |name: &str| headers.get(name)?.to_str().ok().map(str::to_owned);
    text(identity_header)
        .or_else(|| {
            text("authorization")?
                .strip_prefix("Bearer ")
                .map(str::to_owned)
        })
        .or_else(|| text("x-api-key"))
}

/// The tool a request came from, by its User-Agent, as a gateway would attribute it.
pub(crate) fn client_of(headers: &HeaderMap) -> &'static str {
    let ua = headers
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    [
        ("claude-cli", "claude-code"),
        ("codex", "codex"),
        ("gemini", "gemini-cli"),
        ("anthropic/", "anthropic-sdk"),
        ("openai/", "openai-sdk"),
        ("curl", "curl"),
    ]
    .into_iter()
    .find(|(needle, _)| ua.contains(needle))
    .map_or("other", |(_, name)| name)
}

/// `YYYY-MM-DD` (UTC) of a Unix time (Howard Hinnant's civil-from-days).
pub(crate) fn utc_date(secs: u64) -> String {
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// The `since` query parameter, when it is a date.
pub(crate) fn since(query: Option<&str>) -> Option<&str> {
    query?
        .split('&')
        .find_map(|kv| kv.strip_prefix("since="))
        .filter(|d| d.len() == 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_civil_days() {
        assert_eq!(utc_date(0), "1970-01-01");
        assert_eq!(utc_date(951_782_400), "2000-02-29");
        assert_eq!(utc_date(1_795_910_399), "2026-11-28");
    }

    #[test]
    fn answers_only_the_callers_rows_and_spends_the_budget() {
        let book = UsageBook::default();
        book.record("k1", "2026-11-20".into(), "m", "codex", (1_000_000, 0));
        book.record("k1", "2026-11-27".into(), "m", "codex", (0, 1_000_000));
        book.record("k2", "2026-11-27".into(), "m", "codex", (5, 5));
        let doc = book.answer("k1", Some("2026-11-23"), Some(50.0));
        assert_eq!(doc["rows"].as_array().unwrap().len(), 1, "{doc}");
        assert_eq!(doc["rows"][0]["spend"], 15.0);
        assert_eq!(doc["budget"]["spent"], 18.0);
        assert_eq!(doc["budget"]["remaining"], 32.0);
    }
}
