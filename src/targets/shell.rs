//! Shells (bash, zsh, fish, PowerShell), rustup style: anyray writes env files it owns
//! (`env.sh`, `env.fish`, `env.ps1` in its config dir) with the gateway variables, and
//! one marked sourcing line goes into each shell's startup file (a `conf.d` drop-in for
//! fish). Which files, and why, is [`crate::shell::rc`]'s knowledge; quoting is
//! [`crate::shell`]'s. Only the env files the selected shells source are written.
//!
//! Installed: a shell on PATH, or its startup file already exists.

use anyhow::Result;

use super::{Ctx, Detection, Effective, Target, TargetPlan};
use crate::connect::TargetName;
use crate::connect::{FileSpec, Format, Want};
use crate::edit::KeyPath;
use crate::edit::lines::OwnedDoc;
use crate::provider_env::EnvVar;
use crate::shell::rc::{self, RcKind, RcTarget, ShellProbe};
use crate::{envvars, paths, shell};

pub(super) struct ShellTarget;

/// Where each shell's sourcing line (or drop-in) goes, for the env files in `env_dir`.
fn rc_files() -> Result<Vec<RcTarget>> {
    Ok(rc::rc_targets(
        &ShellProbe::detect()?,
        &paths::config_dir()?,
    ))
}

impl Target for ShellTarget {
    fn name(&self) -> TargetName {
        TargetName::Shell
    }

    fn detect(&self) -> Detection {
        match rc_files() {
            Ok(files) if !files.is_empty() => {
                let mut shells: Vec<&str> = files.iter().map(|f| f.shell.name()).collect();
                shells.dedup();
                Detection {
                    installed: true,
                    reason: shells.join(", "),
                }
            }
            Ok(_) => Detection {
                installed: false,
                reason: "no bash, zsh, fish or pwsh on PATH and no startup file".into(),
            },
            Err(e) => Detection {
                installed: false,
                reason: format!("{e:#}"),
            },
        }
    }

    fn plan(&self, ctx: &Ctx) -> Result<TargetPlan> {
        self.plan_with(ctx, super::env_file_extras(ctx)?)
    }

    fn effective(&self, _ctx: &Ctx) -> Result<Effective> {
        new_terminal_endpoint("OPENAI_BASE_URL")
    }
}

impl ShellTarget {
    /// The env files with the gateway variables and `extra` ones (Copilot CLI's), and
    /// the startup-file lines that source them.
    pub(super) fn plan_with(&self, ctx: &Ctx, extra: Vec<EnvVar>) -> Result<TargetPlan> {
        let mut vars = ctx.vars.clone();
        vars.extend(extra);
        let mut plan = TargetPlan {
            notes: vec![
                "new terminals get the gateway; apps started from the Dock, Start menu or a \
                 desktop launcher do not read shell startup files"
                    .into(),
            ],
            ..TargetPlan::default()
        };
        if !ctx.need_relay.is_empty() {
            let routes: Vec<&str> = ctx.need_relay.iter().map(|p| p.key()).collect();
            plan.notes.push(format!(
                "the {} route(s) need fixed headers (routes.<provider>.headers), which shells and \
                 SDKs cannot send, so new terminals get no variable for them; \
                 `anyray connect --via relay` adds them",
                routes.join(", ")
            ));
        }
        if vars.is_empty() && !ctx.need_relay.is_empty() {
            plan.skip = Some(
                "every route needs fixed headers, which shells cannot send: use \
                 `anyray connect --via relay`"
                    .into(),
            );
            return Ok(plan);
        }
        if vars.is_empty() {
            plan.skip = Some("the gateway serves no provider route".into());
            return Ok(plan);
        }
        let rc_files = rc_files()?;
        if rc_files.is_empty() {
            plan.skip = Some("no shell found (bash, zsh, fish or pwsh)".into());
            return Ok(plan);
        }
        let owned = |path, contents: String| FileSpec {
            path,
            format: Format::Owned,
            wants: vec![Want::new(OwnedDoc::key(), contents)],
        };
        let env_dir = paths::config_dir()?;
        plan.files.extend(
            shell::env_files(&env_dir, &vars)
                .into_iter()
                .filter(|env| rc_files.iter().any(|rc| rc.shell.syntax() == env.syntax))
                .map(|env| owned(env.path, env.contents)),
        );
        plan.files
            .extend(rc_files.into_iter().map(|rc| match rc.kind {
                RcKind::Line => FileSpec {
                    path: rc.path,
                    format: Format::Lines,
                    wants: vec![Want::new(KeyPath::keys([&rc.text]), rc.text)],
                },
                RcKind::DropIn => owned(rc.path, rc.text),
            }));
        Ok(plan)
    }
}

/// What a new terminal gets for `var`: the value our `env.sh` exports, else what this
/// shell has now.
pub(super) fn new_terminal_endpoint(var: &str) -> Result<Effective> {
    let env_sh = crate::fs_safe::read_optional(&paths::config_dir()?.join("env.sh"))
        .ok()
        .flatten()
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default();
    let endpoint = match shell::exported_value(&env_sh, var) {
        Some(url) => Some(format!("{url} (new terminals)")),
        None => envvars::get(var).map(|url| format!("{url} (this shell)")),
    };
    Ok(Effective {
        endpoint,
        overridden_by: None,
    })
}
