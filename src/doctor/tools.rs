//! `tools.<target>`: each tool's connection state, and the environment this shell hands
//! to every tool.
//!
//! Installed / connected / drifted / overridden comes from the read-only status API
//! (`session::status`), the same one `anyray status` shows. A tool that is not installed,
//! or that cannot be connected here (the gateway serves no route it needs), reports
//! `skip` with the reason, never a made-up `ok`.
//! What doctor sees on its own, the process environment, is reported under
//! `tools.shell`, because the shell exported it and restarting the shell is the fix: a
//! stale `ANTHROPIC_BASE_URL`/`OPENAI_BASE_URL`, and an `ANTHROPIC_API_KEY` left beside
//! `ANTHROPIC_AUTH_TOKEN`.

use std::time::Duration;

use super::{CheckId, Env, Finding, Level};
use crate::connect::TargetName;
use crate::connect::{FileState, Store};
use crate::discovery::Discovery;
use crate::gateway_url::GatewayUrl;
use crate::paths::display_path;
use crate::session;
use crate::session::status::{self, State, TargetStatus};
use crate::settings::Settings;
use crate::targets;

/// Every tool check, with the target it reads.
const TOOLS: [(CheckId, TargetName); 13] = [
    (CheckId::ClaudeCode, TargetName::ClaudeCode),
    (CheckId::Cursor, TargetName::Cursor),
    (CheckId::Windsurf, TargetName::Windsurf),
    (CheckId::Codex, TargetName::Codex),
    (CheckId::Shell, TargetName::Shell),
    (CheckId::Gemini, TargetName::Gemini),
    (CheckId::Opencode, TargetName::Opencode),
    (CheckId::Continue, TargetName::Continue),
    (CheckId::Aider, TargetName::Aider),
    (CheckId::Goose, TargetName::Goose),
    (CheckId::Zed, TargetName::Zed),
    (CheckId::Droid, TargetName::Droid),
    (CheckId::Crush, TargetName::Crush),
];

/// The checks [`check`] answers.
pub(super) const CHECKS: [CheckId; TOOLS.len()] = {
    let mut ids = [CheckId::Config; TOOLS.len()];
    let mut i = 0;
    while i < TOOLS.len() {
        ids[i] = TOOLS[i].0;
        i += 1;
    }
    ids
};

/// One finding per tool target. Reads files, writes nothing; blocks (file reads).
pub(super) fn check(settings: &Settings, env: &Env, discovery: Option<Discovery>) -> Vec<Finding> {
    let ctx = session::offline_context(settings, discovery);
    let ledger = Store::open().and_then(|store| crate::connect::journal::load_settled(&store));
    TOOLS
        .iter()
        .map(|&(check, name)| {
            let status = match &ledger {
                Ok(ledger) => Ok(status::target(targets::get(name), &ctx, ledger)),
                Err(err) => Err(format!("{err:#}")),
            };
            match (name, status) {
                (_, Err(why)) => {
                    Finding::fail(check, format!("cannot read connect's ledger: {why}"))
                        .hint("`anyray status` shows the same problem; fix or remove the ledger file it names")
                }
                // Stale variables in this shell are the more urgent news than the rc files.
                (TargetName::Shell, Ok(status)) => shell_env_warning(&ctx.endpoint, env)
                    .unwrap_or_else(|| from_status(check, &status, &ctx.endpoint)),
                (_, Ok(status)) => with_helper(
                    from_status(check, &status, &ctx.endpoint),
                    targets::get(name),
                ),
            }
        })
        .collect()
}

/// How long doctor lets a credential helper run (the tools allow longer: Claude Code 10
/// minutes, Codex its `timeout_ms`).
const HELPER_BOUND: Duration = Duration::from_secs(5);

/// The finding with the tool's credential helper run as the tool runs it, when it is
/// anyray's (`anyray token`); a helper of the user's own is named, never run. The key it
/// prints is never shown: only whether there was one.
fn with_helper(finding: Finding, target: &dyn targets::Target) -> Finding {
    let helper = match target.credential_helper() {
        Ok(Some(helper)) => helper,
        Ok(None) => return finding,
        Err(err) => return finding.hint(format!("cannot read the credential helper: {err:#}")),
    };
    let mut detail: Vec<String> = finding.detail.iter().cloned().collect();
    let setting = helper.setting;
    if helper.anyray.is_none() {
        detail.push(format!(
            "{setting}: your own command (doctor does not run it)"
        ));
        return finding.detail(detail.join("\n"));
    }
    let target = target.name();
    match run_helper(&helper.run, HELPER_BOUND) {
        Ok(took) => {
            detail.push(format!(
                "{setting}: `anyray token` printed a key in {} ms",
                took.as_millis()
            ));
            finding.detail(detail.join("\n"))
        }
        Err(why) => {
            let missing = helper.anyray.as_deref().and_then(targets::helper::unusable);
            let hint = match missing {
                Some(_) => format!("run `anyray connect {target}` to point it at this anyray"),
                None => "run `anyray token` to see the same; `anyray login` stores a key".into(),
            };
            Finding::fail(finding.id, format!("{setting} fails: {why}"))
                .detail(detail.join("\n"))
                .hint(hint)
        }
    }
}

/// Runs a credential helper the way its tool does (Claude Code: `/bin/sh -c`, stdin
/// closed; Codex: the program itself, no shell, its timeout), in the current directory,
/// bounded by `bound`. `Ok` with how long it took when it exited 0 and printed something.
fn run_helper(run: &targets::helper::Run, bound: Duration) -> Result<Duration, String> {
    use std::process::Command;
    let (cmd, limit) = match run {
        targets::helper::Run::Shell { command } => {
            let (shell, flag) = if cfg!(windows) {
                ("cmd", "/C")
            } else {
                ("/bin/sh", "-c")
            };
            let mut cmd = Command::new(shell);
            cmd.arg(flag).arg(command);
            (cmd, bound)
        }
        targets::helper::Run::Exec {
            program,
            args,
            timeout,
        } => {
            let mut cmd = Command::new(program);
            cmd.args(args);
            (cmd, bound.min(*timeout))
        }
    };
    let done = crate::launch::run_bounded(cmd, limit)?;
    if !done.status.success() {
        let said = String::from_utf8_lossy(&done.stderr).into_owned();
        let said = said.lines().map(str::trim).find(|l| !l.is_empty());
        let code = done
            .status
            .code()
            .map_or("a signal".to_string(), |c| c.to_string());
        return Err(match said {
            Some(said) => format!("exited {code}: {said}"),
            None => format!("exited {code}"),
        });
    }
    if done.stdout.iter().all(u8::is_ascii_whitespace) {
        return Err("it printed nothing".into());
    }
    Ok(done.took)
}

fn file_state(state: &FileState) -> &str {
    match state {
        FileState::Connected => "connected",
        FileState::NotConnected => "not connected",
        FileState::Drifted => "drifted",
        FileState::Invalid(why) => why,
    }
}

/// A tool's connect status as a finding.
fn from_status(check: CheckId, status: &TargetStatus, endpoint: &GatewayUrl) -> Finding {
    let target = status.target;
    let mut detail = vec![format!("detected: {}", status.detected_by)];
    detail.extend(
        status
            .files
            .iter()
            .map(|f| format!("{}: {}", display_path(&f.path), file_state(&f.state))),
    );
    if let Some(endpoint) = &status.endpoint {
        detail.push(format!("uses: {endpoint}"));
    }
    detail.extend(status.notes.iter().cloned());
    let detail = detail.join("\n");
    let uses = status.endpoint.as_deref().unwrap_or("an unknown endpoint");
    let connect = format!("run `anyray connect {target}`");
    let finding = match status.state {
        State::NotConnected if !status.installed => {
            return Finding::skip(check, format!("not installed ({})", status.detected_by));
        }
        State::Connected => Finding::ok(check, format!("connected: uses {uses}")),
        State::NotConnected => {
            Finding::warn(check, format!("installed but not connected: uses {uses}")).hint(connect)
        }
        State::Drifted => Finding::warn(
            check,
            "drifted: its settings changed since `anyray connect`",
        )
        .hint(format!(
            "{connect} to put them back; `anyray status` shows which file"
        )),
        State::Overridden => {
            let by = status
                .overridden_by
                .as_deref()
                .map_or("a managed settings file".into(), display_path);
            let summary = format!("overridden by managed settings {by}: uses {uses}");
            if status
                .endpoint
                .as_deref()
                .is_some_and(|e| points_at(e, endpoint))
            {
                Finding::ok(check, summary)
            } else {
                Finding::warn(check, summary).hint(
                    "the managed file decides for this tool; ask your admins to point it at the gateway",
                )
            }
        }
        State::Invalid => Finding::fail(
            check,
            status
                .error
                .clone()
                .unwrap_or_else(|| "a settings file cannot be read".into()),
        )
        .hint(format!("fix the file named above, then {connect}")),
        State::Unsupported => Finding::skip(
            check,
            status
                .error
                .clone()
                .unwrap_or_else(|| "the gateway serves no route this tool needs".into()),
        ),
    };
    finding.detail(detail)
}

/// `tools.shell`'s warning about this process's environment, as a fresh tool would
/// inherit it: stale gateway variables, or a Claude Code auth conflict. `None` when it
/// has nothing to say (the rc files' status is then the finding).
fn shell_env_warning(endpoint: &GatewayUrl, env: &Env) -> Option<Finding> {
    let mut problems: Vec<String> = Vec::new();
    let mut good: Vec<String> = Vec::new();
    for var in ["ANTHROPIC_BASE_URL", "OPENAI_BASE_URL"] {
        let Some(value) = env.get(var) else { continue };
        if points_at(value, endpoint) {
            good.push(format!("{var} points at {endpoint}"));
        } else {
            problems.push(format!(
                "{var}={} disagrees with the config ({endpoint})",
                without_userinfo(value)
            ));
        }
    }
    let mut hints = Vec::new();
    if !problems.is_empty() {
        hints.push(
            "restart your shell (or run `eval \"$(anyray env)\"`) so tools get the current gateway",
        );
    }
    if env.get("ANTHROPIC_API_KEY").is_some() && env.get("ANTHROPIC_AUTH_TOKEN").is_some() {
        problems.push(
            "ANTHROPIC_API_KEY is set beside ANTHROPIC_AUTH_TOKEN: Claude Code reports an auth conflict and may send the wrong one".into(),
        );
        hints.push("unset ANTHROPIC_API_KEY (and remove it from your shell's rc file) if the gateway's token is the one to use");
    }
    if problems.is_empty() {
        return None;
    }
    Some(
        Finding::new(CheckId::Shell, Level::Warn, problems.join("; "))
            .detail(good.join("\n"))
            .hint(hints.join("; ")),
    )
}

/// Whether a base URL from the environment is the endpoint or a route under it.
fn points_at(value: &str, endpoint: &GatewayUrl) -> bool {
    let Ok(url) = GatewayUrl::parse(value) else {
        return false;
    };
    let (value, base) = (url.as_str(), endpoint.as_str());
    value == base
        || value
            .strip_prefix(base)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// A URL for display: a `user:pass@` part is dropped.
fn without_userinfo(value: &str) -> String {
    match url::Url::parse(value) {
        Ok(mut url) if !url.username().is_empty() || url.password().is_some() => {
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.to_string()
        }
        _ => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gw(u: &str) -> GatewayUrl {
        GatewayUrl::parse(u).unwrap()
    }

    #[test]
    fn base_urls_under_the_endpoint_agree() {
        let endpoint = gw("https://gw.example:8787");
        assert!(points_at("https://gw.example:8787", &endpoint));
        assert!(points_at("https://gw.example:8787/v1/", &endpoint));
        assert!(!points_at("https://gw.example:87870/v1", &endpoint));
        assert!(!points_at("https://api.openai.com/v1", &endpoint));
        assert!(!points_at("not a url", &endpoint));
    }

    #[test]
    fn stale_variables_and_key_conflict() {
        let endpoint = gw("http://127.0.0.1:8787");
        let env = Env::from_pairs([
            ("ANTHROPIC_BASE_URL", "http://127.0.0.1:8787"),
            ("OPENAI_BASE_URL", "https://old:pw@old.example/v1"),
        ]);
        let f = shell_env_warning(&endpoint, &env).unwrap();
        assert_eq!(f.level, Level::Warn);
        assert!(
            f.summary.contains("OPENAI_BASE_URL=https://old.example/v1"),
            "{}",
            f.summary
        );
        assert!(!f.summary.contains("pw"));
        assert!(f.hint.unwrap().contains("restart your shell"));

        let env = Env::from_pairs([
            ("ANTHROPIC_API_KEY", "sk-1"),
            ("ANTHROPIC_AUTH_TOKEN", "t-2"),
        ]);
        let f = shell_env_warning(&endpoint, &env).unwrap();
        assert_eq!(f.level, Level::Warn);
        assert!(!format!("{f:?}").contains("sk-1"));

        // Nothing set, or only what agrees: no warning, the rc files' status speaks.
        assert!(shell_env_warning(&endpoint, &Env::default()).is_none());
        let env = Env::from_pairs([("OPENAI_BASE_URL", "http://127.0.0.1:8787/v1")]);
        assert!(shell_env_warning(&endpoint, &env).is_none());
    }
}
