//! `anyray statusline`: the one line Claude Code shows under its prompt
//! (`crate::statusline`). It never waits on the network: the line comes from the cache,
//! and a stale cache starts one detached `anyray statusline --refresh --background`.
//! Always exit 0 with a line: a status line that fails shows nothing at all.

use std::io::Read;
use std::sync::mpsc;
use std::time::Duration;

use anyhow::Result;
use serde::Serialize;

use super::Context;
use crate::cli::StatuslineArgs;
use crate::envvars;
use crate::output::ColorChoice;
use crate::runtime::{self, Threads};
use crate::statusline::{self, Snapshot};

/// How long the line waits for Claude Code's JSON on stdin when a chained command needs
/// it (Claude Code writes it at once and closes the pipe).
const STDIN_WAIT: Duration = Duration::from_millis(20);
/// The most of stdin kept for a chained command.
const STDIN_CAP: u64 = 1024 * 1024;
/// A chained command that takes longer is stopped, and only anyray's line is shown.
const CHAIN_LIMIT: Duration = Duration::from_secs(10);

#[derive(Serialize)]
struct StatuslineJson<'a> {
    line: &'a str,
    /// The cache as it was read (`null`: none yet for this gateway).
    cache: Option<&'a Snapshot>,
}

pub(super) fn run(args: &StatuslineArgs, ctx: &Context) -> Result<()> {
    // Read stdin on the side: the line never waits for it unless a chained command needs it.
    let stdin = read_stdin();
    let settings = ctx.settings(ctx.overrides())?;
    let printer = ctx.printer.with_color(color(ctx.global.color));
    if args.refresh {
        let refreshed = runtime::block_on(Threads::Current, statusline::refresh(&settings));
        if args.background {
            statusline::release_refresh();
        }
        refreshed??;
    }
    let (line, stale) = statusline::read_line(&settings, &printer);
    if stale && !args.refresh && statusline::claim_refresh() {
        spawn_refresh(ctx);
    }
    let line = match &args.chain {
        Some(command) => {
            let input = stdin.recv_timeout(STDIN_WAIT).unwrap_or_default();
            match statusline::run_chained(command, &input, CHAIN_LIMIT) {
                Some(theirs) => format!("{theirs}  {line}"),
                None => line,
            }
        }
        None => line,
    };
    if printer.json {
        return printer.json(&StatuslineJson {
            line: &line,
            cache: statusline::cached(&settings).as_ref(),
        });
    }
    printer.data(format!("{line}\n"));
    Ok(())
}

/// Colour for Claude Code, which renders ANSI from a pipe: on unless `NO_COLOR`, a dumb
/// terminal or `--color never`.
fn color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            envvars::get(envvars::NO_COLOR).is_none()
                && std::env::var("TERM").map_or(true, |t| t != "dumb")
        }
    }
}

fn read_stdin() -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    if !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = std::io::stdin().take(STDIN_CAP).read_to_end(&mut buf);
            let _ = tx.send(buf);
        });
    }
    rx
}

/// Starts `anyray statusline --refresh --background`, detached (its own process group,
/// no stdio), and does not wait for it. A failure only leaves the cache stale.
fn spawn_refresh(ctx: &Context) {
    let started = std::env::current_exe().and_then(|exe| {
        let mut command = std::process::Command::new(exe);
        if let Some(config) = &ctx.global.config {
            command.arg("--config").arg(config);
        }
        command
            .args(["statusline", "--refresh", "--background", "--quiet"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        command.spawn()
    });
    if started.is_err() {
        statusline::release_refresh();
    }
}
