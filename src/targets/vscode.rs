//! Cursor and Windsurf (VS Code forks): the editor's user `settings.json` (JSONC) in
//! `dirs::config_dir()/{Cursor|Windsurf}/User/` (`~/.config/…` on Linux, following
//! `XDG_CONFIG_HOME`; `~/Library/Application Support/…` on macOS; `%APPDATA%\…` on Windows).
//!
//! What a laptop can change, and what this writes:
//! - `terminal.integrated.env.{osx,linux,windows}`: the gateway variables for new
//!   integrated terminals (this OS only, unless `--all-platforms`), merged with the user's
//!   entries;
//! - `claudeCode.environmentVariables`: `ANTHROPIC_BASE_URL` for the Claude Code extension,
//!   merged by name into the user's list.
//!
//! With `--via relay`, `NO_PROXY`/`no_proxy` in both places get loopback added to the
//! values already there.
//!
//! The editor's own model traffic is NOT rerouted (docs/targets.md): Cursor sends it from its
//! own servers, and Windsurf offers no setting for it. The plan and `status` say so.
//! Installed: the CLI (`cursor`/`windsurf`) on PATH, or the editor's config dir exists.

use std::path::PathBuf;

use anyhow::{Context as _, Result};

use super::{Ctx, Detection, Effective, Target, TargetPlan, detect, no_proxy_wants, provider_vars};
use crate::connect::TargetName;
use crate::connect::{self, FileSpec, Format, Want};
use crate::edit::KeyPath;
use crate::settings::Via;

pub(super) struct VsCodeFork {
    name: TargetName,
    /// The directory name under the config dir, also the product name.
    app: &'static str,
    /// The shell command the editor installs.
    bin: &'static str,
    /// Why the editor's own traffic stays as it is.
    own_traffic: &'static str,
}

pub(super) static CURSOR: VsCodeFork = VsCodeFork {
    name: TargetName::Cursor,
    app: "Cursor",
    bin: "cursor",
    own_traffic: "Cursor's own AI features (chat, tab, agent) are NOT rerouted: Cursor sends \
        those requests from its own servers, so only a publicly reachable gateway could serve \
        them (Cursor settings > Models > Override OpenAI Base URL). This changes new \
        integrated terminals and the Claude Code extension.",
};

pub(super) static WINDSURF: VsCodeFork = VsCodeFork {
    name: TargetName::Windsurf,
    app: "Windsurf",
    bin: "windsurf",
    own_traffic: "Windsurf's own AI features are NOT rerouted: Windsurf has no setting for \
        that on this machine. This changes new integrated terminals and the Claude Code \
        extension.",
};

/// VS Code's platform keys, and the one for this OS.
const PLATFORMS: [&str; 3] = ["osx", "linux", "windows"];

fn this_platform() -> &'static str {
    if cfg!(target_os = "macos") {
        "osx"
    } else if cfg!(windows) {
        "windows"
    } else {
        "linux"
    }
}

fn terminal_env(platform: &str, var: &str) -> KeyPath {
    KeyPath::keys([&format!("terminal.integrated.env.{platform}"), var])
}

fn extension_var(var: &str) -> KeyPath {
    KeyPath::keys(["claudeCode.environmentVariables"]).named(var)
}

impl VsCodeFork {
    fn app_dir(&self) -> Result<PathBuf> {
        Ok(dirs::config_dir()
            .context("cannot find the user config directory (is HOME set?)")?
            .join(self.app))
    }

    fn settings_file(&self) -> Result<PathBuf> {
        Ok(self.app_dir()?.join("User").join("settings.json"))
    }
}

impl Target for VsCodeFork {
    fn name(&self) -> TargetName {
        self.name
    }

    fn detect(&self) -> Detection {
        detect(self.bin, self.app_dir())
    }

    fn plan(&self, ctx: &Ctx) -> Result<TargetPlan> {
        let mut plan = TargetPlan {
            notes: vec![self.own_traffic.to_string()],
            ..TargetPlan::default()
        };
        if ctx.vars.is_empty() {
            plan.skip = Some("the gateway serves no provider route".into());
            return Ok(plan);
        }
        let platforms: Vec<&str> = if ctx.all_platforms {
            PLATFORMS.to_vec()
        } else {
            vec![this_platform()]
        };
        let file = self.settings_file()?;
        let mut wants = Vec::new();
        for platform in platforms {
            wants.extend(
                provider_vars(ctx)
                    .map(|var| Want::new(terminal_env(platform, var.name), var.value.clone())),
            );
            wants.extend(no_proxy_wants(ctx, &file, Format::Jsonc, |var| {
                terminal_env(platform, var)
            })?);
        }
        wants.extend(
            provider_vars(ctx)
                .filter(|var| var.name == "ANTHROPIC_BASE_URL")
                .map(|var| Want::new(extension_var(var.name), var.value.clone())),
        );
        wants.extend(no_proxy_wants(ctx, &file, Format::Jsonc, extension_var)?);
        if ctx.identity_header.is_some() && ctx.via != Via::Relay {
            plan.notes.push(
                "settings.json cannot reference an environment variable, so anyray does not \
                 write your key there; use `--via relay`, which adds the identity header"
                    .into(),
            );
        }
        plan.files.push(FileSpec {
            path: file,
            format: Format::Jsonc,
            wants,
        });
        Ok(plan)
    }

    fn effective(&self, _ctx: &Ctx) -> Result<Effective> {
        let file = self.settings_file()?;
        let endpoint = connect::read_value(
            &file,
            Format::Jsonc,
            &terminal_env(this_platform(), "ANTHROPIC_BASE_URL"),
        )?
        .map(|url| format!("{url} (integrated terminals)"));
        Ok(Effective {
            endpoint,
            overridden_by: None,
        })
    }
}
