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

use std::time::{Duration, Instant};

use crate::settings::Settings;

mod cert;
mod config;
mod deep;
mod env;
mod failopen;
mod finding;
mod gateway;
mod net;
pub(crate) mod preflight;
pub(crate) mod proxy;
pub(crate) mod render;
mod runner;
mod selection;
mod tools;

pub(crate) use config::ConfigError;
pub(crate) use deep::SPEND as DEEP_SPEND;
pub(crate) use env::Env;
pub(crate) use finding::{CheckId, Finding, Level, Report};
pub(crate) use preflight::Preflight;
pub(crate) use runner::{Plan, bound, run};
pub(crate) use selection::{Select, Selection};

/// What the checks share during a run: the facts, and the time left.
struct Cx {
    settings: Settings,
    env: Env,
    deadline: Instant,
    /// `--deep`: the checks that spend a little (`gateway.deep`) run.
    deep: bool,
}

impl Cx {
    fn new(settings: Settings, env: Env, bound: Duration, deep: bool) -> Self {
        Self {
            settings,
            env,
            deadline: Instant::now() + bound,
            deep,
        }
    }

    /// Time left until the run's deadline: every network step's own timeout.
    fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }
}
