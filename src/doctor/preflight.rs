//! The gateway check `connect` runs before it writes anything, and `status` for its
//! header: doctor's own chain (`net.dns` → `net.tcp` → `net.tls` → `net.http` →
//! `gateway.auth`), within a short bound and spending no tokens. When the gateway does
//! not answer and the tools would go through the relay, `failopen.path` says whether the
//! relay's fallback would carry them meanwhile.

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::finding::{CheckId, Finding, Level, Report};
use super::runner::{Plan, run};
use super::selection::{Select, Selection};
use super::{Env, failopen};
use crate::relay::Fallback;
use crate::settings::{Settings, Via};

/// `connect`'s bound: enough for a TLS handshake over a slow VPN, short enough to wait.
pub(crate) const CONNECT_BOUND: Duration = Duration::from_secs(3);
/// `status`'s bound: it only colours a header line.
pub(crate) const STATUS_BOUND: Duration = Duration::from_millis(1500);

/// The steps that decide whether the tools can reach the gateway.
pub(crate) const STEPS: [CheckId; 5] = [
    CheckId::Dns,
    CheckId::Tcp,
    CheckId::Tls,
    CheckId::Http,
    CheckId::Auth,
];

/// What the preflight found (part of `connect --json` as `preflight`).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Preflight {
    /// The gateway answers and accepts the stored key (or needs none).
    pub ok: bool,
    /// The org gateway checked (the relay's upstream with `--via relay`).
    pub gateway: String,
    /// Each step, in doctor's `--json` shape (ids are doctor's check ids).
    pub checks: Vec<Finding>,
    /// With the gateway down, what the tools would meet: `failopen.path` for the relay,
    /// or why they would fail.
    pub meanwhile: Option<String>,
    pub elapsed_ms: u64,
}

impl Preflight {
    /// The first step that failed.
    pub(crate) fn failed(&self) -> Option<&Finding> {
        self.checks.iter().find(|c| c.level == Level::Fail)
    }
}

/// Runs the steps against `settings`' gateway within `bound`. `finished` counts the
/// steps done (for a spinner).
pub(crate) async fn check(
    settings: &Settings,
    bound: Duration,
    finished: Arc<AtomicUsize>,
) -> Preflight {
    let started = Instant::now();
    let only: Vec<Select> = STEPS.iter().map(|&id| Select::Check(id)).collect();
    let plan = Plan {
        settings: Ok(settings.clone()),
        env: Env::from_process(),
        selection: Selection::new(&only, &[]),
        bound,
        deep: false,
    };
    let mut report: Report = run(plan, finished).await;
    // "Where a key is stored, the gateway accepts it": with none stored yet (`login`
    // often comes after `connect`, and in the `key` scheme the tools bring their own),
    // a gateway that wants one is a warning here, not a reason to write nothing.
    if let Some(auth) = report
        .checks
        .iter_mut()
        .find(|c| c.id == CheckId::Auth && c.level == Level::Fail)
        && !key_stored().await
    {
        auth.level = Level::Warn;
    }
    let ok = !report.checks.iter().any(|c| c.level == Level::Fail);
    let meanwhile = if ok { None } else { meanwhile(settings).await };
    Preflight {
        ok,
        gateway: settings.gateway.value.to_string(),
        checks: report.checks,
        meanwhile,
        elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    }
}

/// Whether a gateway key or an SSO session is stored (the keyring may block: off the
/// async threads).
async fn key_stored() -> bool {
    let stored = || -> anyhow::Result<bool> {
        Ok(crate::secrets::load()?.is_some() || crate::oidc::session::load()?.is_some())
    };
    matches!(tokio::task::spawn_blocking(stored).await, Ok(Ok(true)))
}

/// What the tools would meet while the gateway does not answer.
async fn meanwhile(settings: &Settings) -> Option<String> {
    match (settings.via.value, settings.relay.fallback) {
        (Via::Direct, _) => Some("every request from the connected tools would fail".into()),
        (Via::Relay, Fallback::None) => {
            Some("the relay would answer every request with 502 (relay.fallback = none)".into())
        }
        (Via::Relay, Fallback::Direct) => {
            // Bounded like the rest: a second, short look at the providers.
            let cx = super::Cx::new(settings.clone(), Env::from_process(), CONNECT_BOUND, false);
            let finding = failopen::path(&cx).await;
            Some(match finding.level {
                Level::Ok => "the relay would fail open: the tools keep working, straight to the providers and unmetered".into(),
                _ => finding.summary,
            })
        }
    }
}

/// A one-line account of a preflight, for `status`'s header and connect's notes.
pub(crate) fn summary(p: &Preflight) -> String {
    match p.failed() {
        None => format!("answers ({} ms)", p.elapsed_ms),
        Some(f) => format!("does not answer: {}: {}", f.id, f.summary),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn preflight(checks: Vec<Finding>) -> Preflight {
        Preflight {
            ok: !checks.iter().any(|c| c.level == Level::Fail),
            gateway: "http://127.0.0.1:9".into(),
            checks,
            meanwhile: None,
            elapsed_ms: 7,
        }
    }

    #[test]
    fn the_summary_names_the_first_failing_step() {
        let p = preflight(vec![
            Finding::ok(CheckId::Dns, "an IP address"),
            Finding::fail(CheckId::Tcp, "connection refused by 127.0.0.1:9"),
            Finding::skip(CheckId::Tls, "skipped: net.tcp failed"),
        ]);
        assert_eq!(
            summary(&p),
            "does not answer: net.tcp: connection refused by 127.0.0.1:9"
        );
        let p = preflight(vec![Finding::ok(CheckId::Tcp, "connected")]);
        assert_eq!(summary(&p), "answers (7 ms)");
    }
}
