//! `anyray doctor`: checks that tell a developer what is wrong and how to fix it.
//!
//! Every check produces one [`Finding`]. The findings go into one [`Report`], and both
//! renderers read that report (the human one in [`render`], `--json` through serde), so
//! the two outputs cannot drift apart. Check ids are stable ([`CheckId`], listed once;
//! `--only`/`--skip` take them or a group, [`Select`]): CI scripts select and read them.
//!
//! # How a run is bounded
//! The checks run concurrently on one tokio runtime. The gateway's steps form a chain
//! (`net.dns` → `net.tcp` → `net.tls` → `net.http` → `gateway.*`); a step whose
//! prerequisite failed is a `skip` that names the failed step. Every network step's own
//! timeout is the time left until the run's deadline (`--timeout`), so a black-holed
//! gateway yields `fail … timed out` for the step that hung. As a last resort, the whole
//! run is cut a moment after the deadline: a check still running becomes `fail`
//! ("timed out after Ns"), one that never started a `skip`. The report is never missing
//! a selected check.
//!
//! # JSON schema (`anyray doctor --json`)
//! ```text
//! {
//!   "version": "0.1.0",              // anyray's version
//!   "gateway": "https://gw.example", // the gateway checked; null when the config is invalid
//!   "checks": [                      // the selected checks, in the order of CheckId::ALL
//!     {
//!       "id": "net.tcp",             // stable id
//!       "level": "ok",               // "ok" | "warn" | "fail" | "skip"
//!       "summary": "connected to 127.0.0.1:8787",  // one line
//!       "detail": "…" | null,        // the facts behind the summary, may span lines
//!       "hint": "…" | null,          // what to do about it
//!       "elapsed_ms": 3              // time the check took (0 for a skip)
//!     }
//!   ],
//!   "summary": { "ok": 9, "warn": 1, "fail": 0, "skip": 3 }
//! }
//! ```
//! Exit status: 0 when no check is `fail`, 1 when one is, 2 for usage errors.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::Serialize;

use crate::settings::Settings;

mod cert;
mod config;
mod env;
mod failopen;
mod gateway;
mod net;
pub mod proxy;
pub mod render;
mod tools;

pub use env::Env;

/// A check's stable id: `doctor --only/--skip` select by it, `--json` shows it, and CI
/// scripts read it. Listed once, here, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CheckId {
    Config,
    Dns,
    Tcp,
    Tls,
    Http,
    Proxy,
    Discovery,
    Routes,
    Auth,
    Optimizer,
    FailOpen,
    Relay,
    ClaudeCode,
    Cursor,
    Windsurf,
    Codex,
    Shell,
    Gemini,
}

impl CheckId {
    /// Every check, in report order.
    pub const ALL: [CheckId; 18] = [
        CheckId::Config,
        CheckId::Dns,
        CheckId::Tcp,
        CheckId::Tls,
        CheckId::Http,
        CheckId::Proxy,
        CheckId::Discovery,
        CheckId::Routes,
        CheckId::Auth,
        CheckId::Optimizer,
        CheckId::FailOpen,
        CheckId::Relay,
        CheckId::ClaudeCode,
        CheckId::Cursor,
        CheckId::Windsurf,
        CheckId::Codex,
        CheckId::Shell,
        CheckId::Gemini,
    ];

    /// The stable id, e.g. `net.tcp`.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckId::Config => "config",
            CheckId::Dns => "net.dns",
            CheckId::Tcp => "net.tcp",
            CheckId::Tls => "net.tls",
            CheckId::Http => "net.http",
            CheckId::Proxy => "net.proxy",
            CheckId::Discovery => "gateway.discovery",
            CheckId::Routes => "gateway.routes",
            CheckId::Auth => "gateway.auth",
            CheckId::Optimizer => "gateway.optimizer",
            CheckId::FailOpen => "failopen.path",
            CheckId::Relay => "relay",
            CheckId::ClaudeCode => "tools.claude-code",
            CheckId::Cursor => "tools.cursor",
            CheckId::Windsurf => "tools.windsurf",
            CheckId::Codex => "tools.codex",
            CheckId::Shell => "tools.shell",
            CheckId::Gemini => "tools.gemini",
        }
    }

    /// The group it belongs to, if any.
    pub fn group(self) -> Option<Group> {
        match self {
            CheckId::Dns | CheckId::Tcp | CheckId::Tls | CheckId::Http | CheckId::Proxy => {
                Some(Group::Net)
            }
            CheckId::Discovery | CheckId::Routes | CheckId::Auth | CheckId::Optimizer => {
                Some(Group::Gateway)
            }
            CheckId::ClaudeCode
            | CheckId::Cursor
            | CheckId::Windsurf
            | CheckId::Codex
            | CheckId::Shell
            | CheckId::Gemini => Some(Group::Tools),
            CheckId::Config | CheckId::FailOpen | CheckId::Relay => None,
        }
    }
}

impl std::fmt::Display for CheckId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

impl Serialize for CheckId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The groups `--only`/`--skip` accept besides single ids: each is its ids' prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Group {
    Net,
    Gateway,
    Tools,
}

/// One `--only`/`--skip` entry: a check or a group of them. clap accepts exactly
/// [`CheckId::ALL`]'s ids, then the groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Select {
    Check(CheckId),
    Group(Group),
}

impl Select {
    const ALL: [Select; CheckId::ALL.len() + 3] = {
        let mut all = [Select::Group(Group::Net); CheckId::ALL.len() + 3];
        let mut i = 0;
        while i < CheckId::ALL.len() {
            all[i] = Select::Check(CheckId::ALL[i]);
            i += 1;
        }
        all[i + 1] = Select::Group(Group::Gateway);
        all[i + 2] = Select::Group(Group::Tools);
        all
    };

    fn selects(self, check: CheckId) -> bool {
        match self {
            Select::Check(id) => id == check,
            Select::Group(group) => check.group() == Some(group),
        }
    }
}

impl clap::ValueEnum for Select {
    fn value_variants<'a>() -> &'a [Self] {
        &Self::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        match self {
            Select::Check(id) => Some(clap::builder::PossibleValue::new(id.as_str())),
            Select::Group(group) => group.to_possible_value(),
        }
    }
}

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Ok,
    Warn,
    Fail,
    /// Not run, with the reason in the summary (prerequisite failed, not applicable).
    Skip,
}

impl Level {
    /// For combining sub-results: fail > warn > ok > skip.
    fn rank(self) -> u8 {
        match self {
            Level::Skip => 0,
            Level::Ok => 1,
            Level::Warn => 2,
            Level::Fail => 3,
        }
    }

    pub fn worst(self, other: Level) -> Level {
        if other.rank() > self.rank() {
            other
        } else {
            self
        }
    }

    pub fn is_problem(self) -> bool {
        matches!(self, Level::Warn | Level::Fail)
    }
}

/// The result of one check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub id: CheckId,
    pub level: Level,
    pub summary: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
    pub elapsed_ms: u64,
}

impl Finding {
    pub fn new(id: CheckId, level: Level, summary: impl Into<String>) -> Self {
        Self {
            id,
            level,
            summary: summary.into(),
            detail: None,
            hint: None,
            elapsed_ms: 0,
        }
    }

    pub fn ok(id: CheckId, summary: impl Into<String>) -> Self {
        Self::new(id, Level::Ok, summary)
    }

    pub fn warn(id: CheckId, summary: impl Into<String>) -> Self {
        Self::new(id, Level::Warn, summary)
    }

    pub fn fail(id: CheckId, summary: impl Into<String>) -> Self {
        Self::new(id, Level::Fail, summary)
    }

    pub fn skip(id: CheckId, reason: impl Into<String>) -> Self {
        Self::new(id, Level::Skip, reason)
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        self.detail = (!detail.is_empty()).then_some(detail);
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// Counts per level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub ok: usize,
    pub warn: usize,
    pub fail: usize,
    pub skip: usize,
}

/// What `doctor` prints: the one source for both renderers.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub version: &'static str,
    pub gateway: Option<String>,
    pub checks: Vec<Finding>,
    pub summary: Summary,
}

impl Report {
    fn new(gateway: Option<String>, checks: Vec<Finding>) -> Self {
        let mut summary = Summary::default();
        for check in &checks {
            match check.level {
                Level::Ok => summary.ok += 1,
                Level::Warn => summary.warn += 1,
                Level::Fail => summary.fail += 1,
                Level::Skip => summary.skip += 1,
            }
        }
        Self {
            version: env!("CARGO_PKG_VERSION"),
            gateway,
            checks,
            summary,
        }
    }

    pub fn has_failures(&self) -> bool {
        self.summary.fail > 0
    }
}

/// Which checks `--only` / `--skip` select. An entry is an id or a group: `net`
/// selects `net.dns`, `net.tcp`, ….
#[derive(Debug, Clone, Default)]
pub struct Selection {
    only: Vec<Select>,
    skip: Vec<Select>,
}

impl Selection {
    pub fn new(only: &[Select], skip: &[Select]) -> Self {
        Self {
            only: only.to_vec(),
            skip: skip.to_vec(),
        }
    }

    pub fn includes(&self, check: CheckId) -> bool {
        let selects = |sel: &Select| sel.selects(check);
        (self.only.is_empty() || self.only.iter().any(selects)) && !self.skip.iter().any(selects)
    }

    /// The selected checks, in report order.
    pub fn checks(&self) -> Vec<CheckId> {
        CheckId::ALL
            .into_iter()
            .filter(|&c| self.includes(c))
            .collect()
    }
}

/// Everything a run needs, gathered before any check starts (the atuin way: facts
/// first, then checks over them).
pub struct Plan {
    /// The resolved settings, or why they could not be resolved (reported by `config`).
    pub settings: Result<Settings, ConfigError>,
    pub env: Env,
    pub selection: Selection,
    /// Bound for the whole run.
    pub bound: Duration,
}

/// Settings that could not be resolved: the message and the hint of the error.
#[derive(Debug, Clone)]
pub struct ConfigError {
    pub message: String,
    pub hint: Option<String>,
}

/// A prerequisite failed: the reason dependents give for their skip.
#[derive(Debug, Clone)]
struct Blocked(String);

/// Where the checks write their findings; read once the run ends or is cut.
struct Board {
    slots: Mutex<Vec<Slot>>,
    finished: Arc<AtomicUsize>,
}

struct Slot {
    id: CheckId,
    started: Option<Instant>,
    finding: Option<Finding>,
}

impl Board {
    fn new(checks: &[CheckId], finished: Arc<AtomicUsize>) -> Self {
        let slots = checks
            .iter()
            .map(|&id| Slot {
                id,
                started: None,
                finding: None,
            })
            .collect();
        Self {
            slots: Mutex::new(slots),
            finished,
        }
    }

    fn with_slot(&self, id: CheckId, f: impl FnOnce(&mut Slot)) {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(slot) = slots.iter_mut().find(|s| s.id == id) {
            f(slot);
        }
    }

    fn start(&self, id: CheckId) {
        self.with_slot(id, |slot| slot.started = Some(Instant::now()));
    }

    /// Records a finding; unselected checks (run only as prerequisites) are dropped.
    fn record(&self, finding: Finding) {
        self.with_slot(finding.id, |slot| {
            if slot.finding.is_none() {
                self.finished.fetch_add(1, Ordering::Relaxed);
            }
            slot.finding = Some(finding);
        });
    }

    /// The findings in report order; a check the deadline cut off gets one too.
    fn into_findings(self, bound: Duration) -> Vec<Finding> {
        let secs = fmt_secs(bound);
        let slots = self.slots.into_inner().unwrap_or_else(|e| e.into_inner());
        slots
            .into_iter()
            .map(|slot| match (slot.finding, slot.started) {
                (Some(finding), _) => finding,
                (None, Some(started)) => {
                    let mut f = Finding::fail(slot.id, format!("timed out after {secs}")).hint(
                        "something on the way did not answer; raise --timeout to wait longer",
                    );
                    f.elapsed_ms = millis(started.elapsed());
                    f
                }
                (None, None) => Finding::skip(
                    slot.id,
                    format!("timed out after {secs} before this check could start"),
                ),
            })
            .collect()
    }
}

/// What the checks share during a run.
struct Cx {
    settings: Settings,
    env: Env,
    deadline: Instant,
    bound: Duration,
    board: Board,
}

impl Cx {
    /// Time left until the run's deadline: every network step's own timeout.
    fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// Runs one check and records its finding with its time.
    async fn check(&self, id: CheckId, check: impl Future<Output = Finding>) {
        self.board.start(id);
        let started = Instant::now();
        let mut finding = check.await;
        debug_assert_eq!(finding.id, id);
        finding.elapsed_ms = millis(started.elapsed());
        self.board.record(finding);
    }

    /// Runs one step of a chain: `Ok` carries what the next step needs (the finding
    /// may still be a warning), `Err` is the failing finding, and dependents skip.
    async fn step<T>(
        &self,
        id: CheckId,
        step: impl Future<Output = Result<(Finding, T), Finding>>,
    ) -> Result<T, Blocked> {
        self.board.start(id);
        let started = Instant::now();
        let result = step.await;
        let elapsed = millis(started.elapsed());
        match result {
            Ok((mut finding, value)) => {
                finding.elapsed_ms = elapsed;
                self.board.record(finding);
                Ok(value)
            }
            Err(mut finding) => {
                finding.elapsed_ms = elapsed;
                let why = format!("{id} failed");
                self.board.record(finding);
                Err(Blocked(why))
            }
        }
    }

    fn skip(&self, ids: &[CheckId], Blocked(why): &Blocked) {
        for &id in ids {
            self.board
                .record(Finding::skip(id, format!("skipped: {why}")));
        }
    }
}

/// Runs the plan on its own runtime and returns the report. `finished` counts the
/// checks done so far (for a progress display).
pub fn run_blocking(plan: Plan, finished: Arc<AtomicUsize>) -> Result<Report> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let report = runtime.block_on(run(plan, finished));
    // A DNS lookup or keyring call stuck in a blocking thread must not hold the exit.
    runtime.shutdown_background();
    Ok(report)
}

/// Runs the selected checks within the plan's bound.
pub async fn run(plan: Plan, finished: Arc<AtomicUsize>) -> Report {
    let checks = plan.selection.checks();
    let settings = match plan.settings {
        Ok(settings) => settings,
        Err(err) => return config::failed(&checks, err),
    };
    let gateway = settings.gateway.value.to_string();
    let cx = Cx {
        settings,
        env: plan.env,
        deadline: Instant::now() + plan.bound,
        bound: plan.bound,
        board: Board::new(&checks, finished),
    };
    let wants = |ids: &[CheckId]| ids.iter().any(|id| checks.contains(id));
    let all = async {
        tokio::join!(
            async {
                if wants(&[CheckId::Config]) {
                    cx.check(CheckId::Config, async { config::check(&cx.settings) })
                        .await;
                }
            },
            async {
                if wants(&CHAIN) {
                    gateway_chain(&cx).await;
                }
            },
            async {
                if wants(&[CheckId::Proxy]) {
                    cx.check(CheckId::Proxy, net::proxy(&cx)).await;
                }
            },
            async {
                if wants(&[CheckId::FailOpen]) {
                    cx.check(CheckId::FailOpen, failopen::path(&cx)).await;
                }
            },
            async {
                if wants(&[CheckId::Relay]) {
                    cx.check(CheckId::Relay, failopen::relay(&cx)).await;
                }
            },
            async {
                for finding in tools::check(&cx.settings, &cx.env) {
                    cx.check(finding.id, async { finding }).await;
                }
            },
        )
    };
    // The steps time out on their own at the deadline; the grace lets them say so.
    let grace = Duration::from_millis(300);
    let _ = tokio::time::timeout(plan.bound + grace, all).await;
    Report::new(Some(gateway), cx.board.into_findings(plan.bound))
}

/// The gateway's chain of steps, each one needing the one before.
const CHAIN: [CheckId; 8] = [
    CheckId::Dns,
    CheckId::Tcp,
    CheckId::Tls,
    CheckId::Http,
    CheckId::Discovery,
    CheckId::Routes,
    CheckId::Auth,
    CheckId::Optimizer,
];

async fn gateway_chain(cx: &Cx) {
    let rest = |from: CheckId| {
        let at = CHAIN.iter().position(|c| *c == from).unwrap_or(0);
        &CHAIN[at..]
    };
    // Built first, so loading the trust store does not count as the gateway's time.
    let ca_file = cx.settings.ca_file.as_ref().map(|c| c.value.as_path());
    let client = crate::http::client(ca_file, cx.bound);
    let addrs = match cx.step(CheckId::Dns, net::dns(cx)).await {
        Ok(addrs) => addrs,
        Err(why) => return cx.skip(rest(CheckId::Tcp), &why),
    };
    let connected = match cx.step(CheckId::Tcp, net::tcp(cx, &addrs)).await {
        Ok(connected) => connected,
        Err(why) => return cx.skip(rest(CheckId::Tls), &why),
    };
    let connect_time = connected.elapsed;
    if let Err(why) = cx.step(CheckId::Tls, net::tls(cx, connected)).await {
        return cx.skip(rest(CheckId::Http), &why);
    }
    let client = match cx.step(CheckId::Http, net::http(cx, client)).await {
        Ok(client) => client,
        Err(why) => return cx.skip(rest(CheckId::Discovery), &why),
    };
    let (discovery, key) = tokio::join!(
        cx.step(CheckId::Discovery, gateway::discovery(cx, &client)),
        gateway::load_key(cx),
    );
    let probe = gateway::Probe::new(cx, client, discovery.unwrap_or_default(), key);
    tokio::join!(
        cx.check(CheckId::Routes, gateway::routes(cx, &probe)),
        cx.check(CheckId::Auth, gateway::auth(cx, &probe)),
        cx.check(
            CheckId::Optimizer,
            gateway::optimizer(cx, &probe, connect_time)
        ),
    );
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// `2s`, `1.5s`.
fn fmt_secs(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs.fract() == 0.0 {
        format!("{secs:.0}s")
    } else {
        format!("{secs:.1}s")
    }
}

/// The bound from `--timeout`: positive, finite, at most 5 minutes.
pub fn bound(secs: f64) -> Result<Duration, crate::error::UserError> {
    if secs.is_finite() && secs > 0.0 && secs <= 300.0 {
        Ok(Duration::from_secs_f64(secs))
    } else {
        Err(
            crate::error::UserError::usage(format!("--timeout {secs} is out of range"))
                .with_hint("give a number of seconds above 0 and at most 300, e.g. --timeout 5"),
        )
    }
}

#[cfg(test)]
mod tests {
    use clap::ValueEnum;

    use super::*;

    #[test]
    fn ids_are_unique_and_each_group_is_its_ids_prefix() {
        let mut ids: Vec<&str> = CheckId::ALL.iter().map(|c| c.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), CheckId::ALL.len());
        let groups: Vec<String> = Group::value_variants()
            .iter()
            .map(|g| g.to_possible_value().unwrap().get_name().to_string())
            .collect();
        for id in CheckId::ALL {
            // `failopen.path` has a prefix, but `failopen` is no group.
            let prefix = id.as_str().split_once('.').map(|(group, _)| group);
            let prefix = prefix.filter(|p| groups.iter().any(|g| g == p));
            let group = id.group().map(|g| g.to_possible_value().unwrap());
            assert_eq!(prefix, group.as_ref().map(|g| g.get_name()), "{id}");
        }
    }

    #[test]
    fn clap_accepts_the_ids_in_report_order_then_the_groups() {
        let names: Vec<String> = Select::value_variants()
            .iter()
            .map(|s| s.to_possible_value().unwrap().get_name().to_string())
            .collect();
        let mut expected: Vec<String> = CheckId::ALL.iter().map(|c| c.to_string()).collect();
        expected.extend(["net", "gateway", "tools"].map(String::from));
        assert_eq!(names, expected);
    }

    #[test]
    fn selection_by_id_and_group() {
        let parse = |l: &[&str]| -> Vec<Select> {
            l.iter()
                .map(|x| Select::from_str(x, false).unwrap())
                .collect()
        };
        let s = |only: &[&str], skip: &[&str]| -> Vec<&'static str> {
            Selection::new(&parse(only), &parse(skip))
                .checks()
                .into_iter()
                .map(CheckId::as_str)
                .collect()
        };
        assert_eq!(s(&[], &[]).len(), CheckId::ALL.len());
        assert_eq!(s(&["net.tcp"], &[]), ["net.tcp"]);
        assert_eq!(
            s(&["net"], &["net.tls"]),
            ["net.dns", "net.tcp", "net.http", "net.proxy"]
        );
        assert!(
            s(&["gateway"], &[])
                .iter()
                .all(|c| c.starts_with("gateway."))
        );
        assert!(!s(&[], &["tools"]).iter().any(|c| c.starts_with("tools")));
        assert_eq!(s(&["relay", "config"], &[]), ["config", "relay"]);
    }

    #[test]
    fn worst_level_wins() {
        assert_eq!(Level::Skip.worst(Level::Ok), Level::Ok);
        assert_eq!(Level::Ok.worst(Level::Warn), Level::Warn);
        assert_eq!(Level::Fail.worst(Level::Warn), Level::Fail);
    }

    #[test]
    fn bound_rejects_nonsense() {
        assert!(bound(0.0).is_err());
        assert!(bound(-1.0).is_err());
        assert!(bound(f64::NAN).is_err());
        assert!(bound(301.0).is_err());
        assert_eq!(bound(2.0).unwrap(), Duration::from_secs(2));
    }

    #[test]
    fn a_cut_run_still_reports_every_check() {
        let board = Board::new(&[CheckId::Dns, CheckId::Tcp, CheckId::Tls], Arc::default());
        board.record(Finding::ok(CheckId::Dns, "resolved"));
        board.start(CheckId::Tcp);
        let findings = board.into_findings(Duration::from_secs(2));
        let levels: Vec<_> = findings.iter().map(|f| (f.id, f.level)).collect();
        assert_eq!(
            levels,
            [
                (CheckId::Dns, Level::Ok),
                (CheckId::Tcp, Level::Fail),
                (CheckId::Tls, Level::Skip)
            ]
        );
        assert_eq!(findings[1].summary, "timed out after 2s");
    }
}
