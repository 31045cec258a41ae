//! What a check reports: its stable id ([`CheckId`]), a [`Finding`], and the [`Report`]
//! that both renderers read.

use std::time::Duration;

use serde::Serialize;

/// A check's stable id: `doctor --only/--skip` select by it, `--json` shows it, and CI
/// scripts read it. Listed once, here, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum CheckId {
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
    Deep,
    FailOpen,
    Relay,
    ClaudeCode,
    Cursor,
    Windsurf,
    Codex,
    Shell,
    Gemini,
    Opencode,
    Continue,
    Aider,
    Goose,
    Zed,
    Droid,
    Crush,
    Qwen,
    Copilot,
}

impl CheckId {
    /// Every check, in report order.
    pub(crate) const ALL: [CheckId; 28] = [
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
        CheckId::Deep,
        CheckId::FailOpen,
        CheckId::Relay,
        CheckId::ClaudeCode,
        CheckId::Cursor,
        CheckId::Windsurf,
        CheckId::Codex,
        CheckId::Shell,
        CheckId::Gemini,
        CheckId::Opencode,
        CheckId::Continue,
        CheckId::Aider,
        CheckId::Goose,
        CheckId::Zed,
        CheckId::Droid,
        CheckId::Crush,
        CheckId::Qwen,
        CheckId::Copilot,
    ];

    /// The stable id, e.g. `net.tcp`.
    pub(crate) fn as_str(self) -> &'static str {
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
            CheckId::Deep => "gateway.deep",
            CheckId::FailOpen => "failopen.path",
            CheckId::Relay => "relay",
            CheckId::ClaudeCode => "tools.claude-code",
            CheckId::Cursor => "tools.cursor",
            CheckId::Windsurf => "tools.windsurf",
            CheckId::Codex => "tools.codex",
            CheckId::Shell => "tools.shell",
            CheckId::Gemini => "tools.gemini",
            CheckId::Opencode => "tools.opencode",
            CheckId::Continue => "tools.continue",
            CheckId::Aider => "tools.aider",
            CheckId::Goose => "tools.goose",
            CheckId::Zed => "tools.zed",
            CheckId::Droid => "tools.droid",
            CheckId::Crush => "tools.crush",
            CheckId::Qwen => "tools.qwen",
            CheckId::Copilot => "tools.copilot",
        }
    }

    /// The group it belongs to, if any.
    pub(crate) fn group(self) -> Option<Group> {
        match self {
            CheckId::Dns | CheckId::Tcp | CheckId::Tls | CheckId::Http | CheckId::Proxy => {
                Some(Group::Net)
            }
            CheckId::Discovery
            | CheckId::Routes
            | CheckId::Auth
            | CheckId::Optimizer
            | CheckId::Deep => Some(Group::Gateway),
            CheckId::ClaudeCode
            | CheckId::Cursor
            | CheckId::Windsurf
            | CheckId::Codex
            | CheckId::Shell
            | CheckId::Gemini
            | CheckId::Opencode
            | CheckId::Continue
            | CheckId::Aider
            | CheckId::Goose
            | CheckId::Zed
            | CheckId::Droid
            | CheckId::Crush
            | CheckId::Qwen
            | CheckId::Copilot => Some(Group::Tools),
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
pub(crate) enum Group {
    Net,
    Gateway,
    Tools,
}

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Level {
    Ok,
    Warn,
    Fail,
    /// Not run, with the reason in the summary (prerequisite failed, not applicable).
    Skip,
}

impl Level {
    pub(crate) fn is_problem(self) -> bool {
        matches!(self, Level::Warn | Level::Fail)
    }
}

/// The result of one check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Finding {
    pub id: CheckId,
    pub level: Level,
    pub summary: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
    pub elapsed_ms: u64,
}

impl Finding {
    pub(crate) fn new(id: CheckId, level: Level, summary: impl Into<String>) -> Self {
        Self {
            id,
            level,
            summary: summary.into(),
            detail: None,
            hint: None,
            elapsed_ms: 0,
        }
    }

    pub(crate) fn ok(id: CheckId, summary: impl Into<String>) -> Self {
        Self::new(id, Level::Ok, summary)
    }

    pub(crate) fn warn(id: CheckId, summary: impl Into<String>) -> Self {
        Self::new(id, Level::Warn, summary)
    }

    pub(crate) fn fail(id: CheckId, summary: impl Into<String>) -> Self {
        Self::new(id, Level::Fail, summary)
    }

    pub(crate) fn skip(id: CheckId, reason: impl Into<String>) -> Self {
        Self::new(id, Level::Skip, reason)
    }

    pub(crate) fn detail(mut self, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        self.detail = (!detail.is_empty()).then_some(detail);
        self
    }

    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// Counts per level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Summary {
    pub ok: usize,
    pub warn: usize,
    pub fail: usize,
    pub skip: usize,
}

/// What `doctor` prints: the one source for both renderers.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Report {
    pub version: &'static str,
    pub gateway: Option<String>,
    pub checks: Vec<Finding>,
    pub summary: Summary,
}

impl Report {
    pub(super) fn new(gateway: Option<String>, checks: Vec<Finding>) -> Self {
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

    pub(crate) fn has_failures(&self) -> bool {
        self.summary.fail > 0
    }
}

pub(super) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// `2s`, `1.5s`.
pub(super) fn fmt_secs(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs.fract() == 0.0 {
        format!("{secs:.0}s")
    } else {
        format!("{secs:.1}s")
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
}
