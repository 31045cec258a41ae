//! Runs the selected checks concurrently within the run's bound and collects one
//! finding per check, whatever happens (see "How a run is bounded" in the module docs).

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::config::{self, ConfigError};
use super::finding::{CheckId, Finding, Report, fmt_secs, millis};
use super::selection::Selection;
use super::{Cx, Env, deep, failopen, gateway, net, tools};
use crate::error::UserError;
use crate::settings::Settings;

/// Everything a run needs, gathered before any check starts (the atuin way: facts
/// first, then checks over them).
pub(crate) struct Plan {
    /// The resolved settings, or why they could not be resolved (reported by `config`).
    pub settings: Result<Settings, ConfigError>,
    pub env: Env,
    pub selection: Selection,
    /// Bound for the whole run.
    pub bound: Duration,
    /// `--deep`: run `gateway.deep`, which spends a little.
    pub deep: bool,
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

/// A run in progress: the checks' shared facts and the board they write to.
struct Run {
    cx: Cx,
    board: Board,
    bound: Duration,
}

impl Run {
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

/// Runs the selected checks within the plan's bound. `finished` counts the checks done
/// so far (for a progress display).
pub(crate) async fn run(plan: Plan, finished: Arc<AtomicUsize>) -> Report {
    let checks = plan.selection.checks();
    let settings = match plan.settings {
        Ok(settings) => settings,
        Err(err) => return config::failed(&checks, err),
    };
    let gateway = settings.gateway.value.to_string();
    let run = Run {
        cx: Cx::new(settings, plan.env, plan.bound, plan.deep),
        board: Board::new(&checks, finished),
        bound: plan.bound,
    };
    let cx = &run.cx;
    let wants = |ids: &[CheckId]| ids.iter().any(|id| checks.contains(id));
    let all = async {
        tokio::join!(
            async {
                if wants(&[CheckId::Config]) {
                    run.check(CheckId::Config, async { config::check(&cx.settings) })
                        .await;
                }
            },
            async {
                if wants(&CHAIN) {
                    gateway_chain(&run).await;
                }
            },
            async {
                if wants(&[CheckId::Proxy]) {
                    run.check(CheckId::Proxy, net::proxy(cx)).await;
                }
            },
            async {
                if wants(&[CheckId::FailOpen]) {
                    run.check(CheckId::FailOpen, failopen::path(cx)).await;
                }
            },
            async {
                if wants(&[CheckId::Relay]) {
                    run.check(CheckId::Relay, failopen::relay(cx)).await;
                }
            },
            async {
                if wants(&tools::CHECKS) {
                    tool_checks(&run).await;
                }
            },
        )
    };
    // The steps time out on their own at the deadline; the grace lets them say so.
    let grace = Duration::from_millis(300);
    let _ = tokio::time::timeout(plan.bound + grace, all).await;
    Report::new(Some(gateway), run.board.into_findings(plan.bound))
}

/// The `tools.*` checks read files and look for programs on `PATH`: blocking work, so
/// on a blocking thread, where the run's deadline can still cut it.
async fn tool_checks(run: &Run) {
    for id in tools::CHECKS {
        run.board.start(id);
    }
    let started = Instant::now();
    // The routes the tools should have come from discovery, as for `connect`.
    let discovery = gateway::fetch_discovery(&run.cx).await;
    let (settings, env) = (run.cx.settings.clone(), run.cx.env.clone());
    let findings =
        tokio::task::spawn_blocking(move || tools::check(&settings, &env, discovery)).await;
    let elapsed = millis(started.elapsed());
    match findings {
        Ok(findings) => {
            for mut finding in findings {
                finding.elapsed_ms = elapsed;
                run.board.record(finding);
            }
        }
        Err(err) => {
            for id in tools::CHECKS {
                run.board
                    .record(Finding::fail(id, format!("the check failed: {err}")));
            }
        }
    }
}

/// The gateway's chain of steps, each one needing the one before.
const CHAIN: [CheckId; 9] = [
    CheckId::Dns,
    CheckId::Tcp,
    CheckId::Tls,
    CheckId::Http,
    CheckId::Discovery,
    CheckId::Routes,
    CheckId::Auth,
    CheckId::Optimizer,
    CheckId::Deep,
];

async fn gateway_chain(run: &Run) {
    let cx = &run.cx;
    let rest = |from: CheckId| {
        let at = CHAIN.iter().position(|c| *c == from).unwrap_or(0);
        &CHAIN[at..]
    };
    // Built first, so loading the trust store does not count as the gateway's time.
    let ca_file = cx.settings.ca_file.as_ref().map(|c| c.value.as_path());
    let client = crate::http::client(ca_file, run.bound);
    let addrs = match run.step(CheckId::Dns, net::dns(cx)).await {
        Ok(addrs) => addrs,
        Err(why) => return run.skip(rest(CheckId::Tcp), &why),
    };
    let connected = match run.step(CheckId::Tcp, net::tcp(cx, &addrs)).await {
        Ok(connected) => connected,
        Err(why) => return run.skip(rest(CheckId::Tls), &why),
    };
    let connect_time = connected.elapsed;
    if let Err(why) = run.step(CheckId::Tls, net::tls(cx, connected)).await {
        return run.skip(rest(CheckId::Http), &why);
    }
    let client = match run.step(CheckId::Http, net::http(cx, client)).await {
        Ok(client) => client,
        Err(why) => return run.skip(rest(CheckId::Discovery), &why),
    };
    let (discovery, key) = tokio::join!(
        run.step(CheckId::Discovery, gateway::discovery(cx, &client)),
        gateway::load_key(cx, &client),
    );
    let probe = gateway::Probe::new(cx, client, discovery.unwrap_or_default(), key).await;
    tokio::join!(
        run.check(CheckId::Routes, gateway::routes(cx, &probe)),
        run.check(CheckId::Auth, gateway::auth(cx, &probe)),
        run.check(
            CheckId::Optimizer,
            gateway::optimizer(cx, &probe, connect_time)
        ),
        run.check(CheckId::Deep, deep::check(cx, &probe)),
    );
}

/// The bound from `--timeout`: positive, finite, at most 5 minutes.
pub(crate) fn bound(secs: f64) -> Result<Duration, UserError> {
    if secs.is_finite() && secs > 0.0 && secs <= 300.0 {
        Ok(Duration::from_secs_f64(secs))
    } else {
        Err(
            UserError::usage(format!("--timeout {secs} is out of range"))
                .with_hint("give a number of seconds above 0 and at most 300, e.g. --timeout 5"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Level;

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
