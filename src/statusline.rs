//! The status line for Claude Code's `statusLine` (README, "anyray statusline").
//!
//! Claude Code runs the command after every assistant message and waits for it (a slow
//! one is never killed), so the line comes from a small cache file and never from the
//! network: [`read_line`] reads the cache, and when it is stale a detached
//! `anyray statusline --refresh` ([`refresh`]) asks the relay and the gateway, each step
//! bounded, and writes the cache again. A mark file keeps one refresh at a time.
//!
//! The cache (`statusline.json` in anyray's state dir, 0600) holds no secret: the
//! gateway URL, the state and the money figures.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::auth::Credential;
use crate::discovery::{self, Discovery};
use crate::gateway_url::GatewayUrl;
use crate::output::{Printer, Style};
use crate::settings::{Settings, Via};
use crate::usage::{self, Days, Outcome};
use crate::{fs_safe, http, paths, provider_env, secrets};

const CACHE_FILE: &str = "statusline.json";
const REFRESH_MARK: &str = "statusline.refresh";
/// A cache older than this is refreshed in the background (the line still comes from it).
pub(crate) const FRESH_FOR: Duration = Duration::from_secs(20);
/// A line older than this says how old it is.
const STALE_AFTER: Duration = Duration::from_secs(120);
/// A refresh mark older than this was left by a refresh that died.
const MARK_EXPIRES: Duration = Duration::from_secs(30);
/// Each network step of a refresh.
const STEP_TIMEOUT: Duration = Duration::from_secs(3);
/// The relay is on loopback: it answers at once or not at all.
const RELAY_TIMEOUT: Duration = Duration::from_secs(1);

/// What the status line knows, as the cache file holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Snapshot {
    /// The gateway and the path the tools take: a cache of another setup is not shown.
    pub gateway: String,
    /// `direct` or `relay`.
    pub via: String,
    /// Unix seconds of the refresh.
    pub checked_at: u64,
    pub state: State,
    /// Why, for `--json` and bug reports (never shown in the line).
    pub detail: Option<String>,
    pub spend: Option<Spend>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum State {
    Connected,
    /// The relay failed open: the tools' traffic goes to the providers, unmetered.
    Unmetered,
    GatewayDown,
    /// `via = relay` and nothing answers on the relay's address: the tools fail.
    RelayDown,
}

/// The money part of the line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Spend {
    pub currency: String,
    pub today: Option<f64>,
    /// Spent in the budget's period, and its limit.
    pub spent: Option<f64>,
    pub limit: Option<f64>,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn cache_path() -> Result<PathBuf> {
    Ok(paths::state_dir()?.join(CACHE_FILE))
}

/// The cached snapshot for this setup, if any.
pub(crate) fn cached(settings: &Settings) -> Option<Snapshot> {
    let bytes = fs_safe::read_optional(&cache_path().ok()?).ok()??;
    let snap: Snapshot = serde_json::from_slice(&bytes).ok()?;
    (snap.gateway == settings.gateway.value.as_str() && snap.via == settings.via.value.as_str())
        .then_some(snap)
}

/// The one line, from the cache; and whether the cache wants a refresh.
pub(crate) fn read_line(settings: &Settings, printer: &Printer) -> (String, bool) {
    let now = unix_now();
    match cached(settings) {
        None => (
            format!(
                "anyray: checking {}…",
                printer.paint(Style::Dim, settings.gateway.value.host())
            ),
            true,
        ),
        Some(snap) => {
            let age = Duration::from_secs(now.saturating_sub(snap.checked_at));
            (render(&snap, age, printer), age >= FRESH_FOR)
        }
    }
}

/// `anyray: connected · $1.23 today · $37.50 of $50.00 left`.
pub(crate) fn render(snap: &Snapshot, age: Duration, printer: &Printer) -> String {
    let (style, state) = match snap.state {
        State::Connected => (Style::Ok, "connected".to_string()),
        State::Unmetered => (
            Style::Warn,
            "UNMETERED: relay failing open to the providers".to_string(),
        ),
        State::GatewayDown => (Style::Fail, "gateway down".to_string()),
        State::RelayDown => (Style::Fail, "relay not running".to_string()),
    };
    let mut parts = vec![format!("anyray: {}", printer.paint(style, &state))];
    if let Some(spend) = &snap.spend {
        let cur = spend.currency.as_str();
        if let Some(today) = spend.today {
            parts.push(format!("{} today", usage::money(today, cur)));
        }
        match (spend.spent, spend.limit) {
            (Some(spent), Some(limit)) => {
                let left = (limit - spent).max(0.0);
                let style = if left < limit * 0.1 {
                    Style::Fail
                } else {
                    Style::Dim
                };
                parts.push(printer.paint(
                    style,
                    &format!(
                        "{} of {} left",
                        usage::money(left, cur),
                        usage::money(limit, cur)
                    ),
                ));
            }
            (Some(spent), None) if spend.today.is_none() => {
                parts.push(format!("{} spent", usage::money(spent, cur)));
            }
            _ => {}
        }
    }
    if age >= STALE_AFTER {
        parts.push(printer.paint(Style::Dim, &format!("as of {} ago", minutes(age))));
    }
    parts.join(" · ")
}

fn minutes(age: Duration) -> String {
    match age.as_secs() / 60 {
        m if m < 60 => format!("{m}m"),
        m => format!("{}h", m / 60),
    }
}

/// Claims the refresh: `true` when this run should start one (no other is under way).
pub(crate) fn claim_refresh() -> bool {
    let Ok(dir) = paths::state_dir() else {
        return false;
    };
    if fs_safe::create_private_dir(&dir).is_err() {
        return false;
    }
    let mark = dir.join(REFRESH_MARK);
    let fresh_mark = std::fs::metadata(&mark)
        .and_then(|m| m.modified())
        .is_ok_and(|t| t.elapsed().unwrap_or_default() < MARK_EXPIRES);
    if fresh_mark {
        return false;
    }
    let _ = std::fs::remove_file(&mark);
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&mark)
        .is_ok()
}

/// Drops the mark [`claim_refresh`] made.
pub(crate) fn release_refresh() {
    if let Ok(dir) = paths::state_dir() {
        let _ = std::fs::remove_file(dir.join(REFRESH_MARK));
    }
}

/// Asks the relay (with `via = relay`) and the gateway, then writes the cache. Every
/// step is bounded; nothing here fails the refresh but a cache that cannot be written.
pub(crate) async fn refresh(settings: &Settings) -> Result<Snapshot> {
    let gw = &settings.gateway.value;
    let ca_file = settings.ca_file.as_ref().map(|c| c.value.as_path());
    let client = http::client(ca_file, STEP_TIMEOUT)?;
    let relay = match settings.via.value {
        Via::Relay => Some(relay_state(settings).await),
        Via::Direct => None,
    };
    let found = discovery::fetch(&client, gw).await;
    let (mut state, mut detail) = match &found {
        Ok(_) => (State::Connected, None),
        Err(err) => (State::GatewayDown, Some(format!("{err:#}"))),
    };
    // The relay knows better than one request of ours: it sees the tools' traffic.
    if let Some(Some((relay_state, why))) = relay {
        (state, detail) = (relay_state, Some(why));
    }
    let spend = match found {
        Ok(discovery) => spend(settings, &client, gw, discovery.as_ref()).await,
        Err(_) => cached(settings).and_then(|s| s.spend),
    };
    let snap = Snapshot {
        gateway: gw.to_string(),
        via: settings.via.value.as_str().into(),
        checked_at: unix_now(),
        state,
        detail,
        spend,
    };
    write_cache(&snap)?;
    Ok(snap)
}

fn write_cache(snap: &Snapshot) -> Result<()> {
    let path = cache_path()?;
    if let Some(dir) = path.parent() {
        fs_safe::create_private_dir(dir)?;
    }
    let mut bytes = serde_json::to_vec_pretty(snap)?;
    bytes.push(b'\n');
    fs_safe::atomic_write(&path, &bytes, Some(0o600))
}

/// The relay's own word (`/_anyray/health`): not running, failing open, or its gateways
/// down; `None` when it has nothing to add to what the gateway itself answers.
async fn relay_state(settings: &Settings) -> Option<(State, String)> {
    let url = settings.relay_url().join(crate::relay::HEALTH_PATH);
    let health = match relay_health(&url).await {
        Ok(health) => health,
        Err(why) => return Some((State::RelayDown, why)),
    };
    let any_up = health.upstreams.iter().any(|u| u.state == "up");
    if health.failing_open() && !any_up {
        return Some((
            State::Unmetered,
            format!(
                "{} request(s) failed open since the relay started",
                health.fail_open_total
            ),
        ));
    }
    let all_down =
        !health.upstreams.is_empty() && health.upstreams.iter().all(|u| u.state == "down");
    all_down.then(|| {
        (
            State::GatewayDown,
            "the relay reaches none of its gateways".to_string(),
        )
    })
}

/// The fields of `/_anyray/health` the status line reads.
#[derive(Deserialize)]
struct RelayHealth {
    #[serde(default)]
    upstreams: Vec<RelayUpstream>,
    #[serde(default)]
    fail_open_total: u64,
    #[serde(default)]
    last_fail_open: Option<u64>,
    #[serde(default)]
    last_gateway_answer: Option<u64>,
}

#[derive(Deserialize)]
struct RelayUpstream {
    #[serde(default)]
    state: String,
}

impl RelayHealth {
    /// The relay's latest answer came from a provider, not a gateway.
    fn failing_open(&self) -> bool {
        match (self.last_fail_open, self.last_gateway_answer) {
            (Some(failed), Some(gateway)) => failed >= gateway,
            (Some(_), None) => true,
            _ => false,
        }
    }
}

async fn relay_health(url: &str) -> Result<RelayHealth, String> {
    let client = http::loopback_client(RELAY_TIMEOUT).map_err(|e| format!("{e:#}"))?;
    let response = client
        .get(url)
        .send()
        .await
        .map_err(|e| format!("no relay answers at {url} ({e})"))?;
    if !response.status().is_success() {
        return Err(format!("{url} answered {}", response.status()));
    }
    response
        .json()
        .await
        .map_err(|e| format!("{url} is not the anyray relay ({e})"))
}

/// Today's spend and the budget, as the gateway reports them; `None` when it offers none.
async fn spend(
    settings: &Settings,
    client: &reqwest::Client,
    gw: &GatewayUrl,
    discovery: Option<&Discovery>,
) -> Option<Spend> {
    let credential = credential(settings, gw, discovery).await;
    let days = Days::at(SystemTime::now());
    match usage::fetch(client, gw, discovery, credential.as_ref(), &days).await {
        Ok(Outcome::Report(report)) => Some(Spend {
            currency: report.currency,
            today: report.today.map(|t| t.spend),
            spent: report.budget.as_ref().map(|b| b.spent),
            limit: report.budget.and_then(|b| b.limit),
        }),
        _ => None,
    }
}

/// The user's key as the gateway wants it (no detection is remembered from here).
pub(crate) async fn credential(
    settings: &Settings,
    gw: &GatewayUrl,
    discovery: Option<&Discovery>,
) -> Option<Credential> {
    let key = secrets::load().ok().flatten().map(|(key, _)| key);
    provider_env::auth_plan(settings, gw, discovery, key, false)
        .await
        .ok()
        .and_then(|plan| plan.credential)
}

/// Runs the user's own status command (`--chain`) as Claude Code would: through the
/// shell, with the same JSON on stdin; its trimmed output, or `None` when it fails.
pub(crate) fn run_chained(command: &str, stdin: &[u8], limit: Duration) -> Option<String> {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = shell_command(command)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    if let Some(mut input) = child.stdin.take() {
        let _ = input.write_all(stdin);
    }
    let deadline = std::time::Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => break,
            Ok(Some(_)) | Err(_) => return None,
            Ok(None) if std::time::Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
    let mut out = String::new();
    use std::io::Read;
    child.stdout.take()?.read_to_string(&mut out).ok()?;
    let lines: Vec<&str> = out
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty())
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// The shell Claude Code runs status commands with: `/bin/sh`, and on Windows the `sh`
/// of Git Bash, which Claude Code requires there (the command is POSIX-quoted).
fn shell_command(command: &str) -> std::process::Command {
    let shell = if cfg!(windows) { "sh" } else { "/bin/sh" };
    let mut c = std::process::Command::new(shell);
    c.args(["-c", command]);
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(state: State, spend: Option<Spend>) -> Snapshot {
        Snapshot {
            gateway: "http://gw".into(),
            via: "direct".into(),
            checked_at: 0,
            state,
            detail: None,
            spend,
        }
    }

    #[test]
    fn one_line_per_state_with_spend_and_budget() {
        let p = Printer::plain();
        let spend = Spend {
            currency: "USD".into(),
            today: Some(1.234),
            spent: Some(12.5),
            limit: Some(50.0),
        };
        let line = render(&snap(State::Connected, Some(spend)), Duration::ZERO, &p);
        assert_eq!(
            line,
            "anyray: connected · $1.23 today · $37.50 of $50.00 left"
        );
        let line = render(&snap(State::Unmetered, None), Duration::ZERO, &p);
        assert_eq!(
            line,
            "anyray: UNMETERED: relay failing open to the providers"
        );
        let line = render(
            &snap(State::GatewayDown, None),
            Duration::from_secs(600),
            &p,
        );
        assert_eq!(line, "anyray: gateway down · as of 10m ago");
        assert!(!line.contains('\n'));
    }

    #[test]
    fn a_litellm_window_shows_what_was_spent() {
        let spend = Spend {
            currency: "USD".into(),
            today: None,
            spent: Some(1.25),
            limit: None,
        };
        let line = render(
            &snap(State::Connected, Some(spend)),
            Duration::ZERO,
            &Printer::plain(),
        );
        assert_eq!(line, "anyray: connected · $1.25 spent");
    }

    #[test]
    fn failing_open_means_the_last_answer_came_from_a_provider() {
        let h = |f, g| RelayHealth {
            upstreams: Vec::new(),
            fail_open_total: 1,
            last_fail_open: f,
            last_gateway_answer: g,
        };
        assert!(h(Some(10), Some(9)).failing_open());
        assert!(h(Some(10), None).failing_open());
        assert!(!h(Some(10), Some(11)).failing_open());
        assert!(!h(None, Some(11)).failing_open());
    }
}
