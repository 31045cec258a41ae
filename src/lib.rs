//! anyray: the developer's side of the Anyray gateway.
//!
//! `main.rs` only calls [`run`]. The modules form layers, each importing only from the
//! ones below it (docs/architecture.md has the table, and a test checks it): the
//! commands and their clap types; doctor and the sessions across targets; the targets
//! and the shell integration; settings; the engines (the connect engine, the format
//! editors, the relay, the HTTP clients); and the foundations.
//!
//! The library is not a published API: modules are `pub` only where the integration
//! tests (tests/it) drive them directly, everything else is `pub(crate)`.

// Output goes through the one Printer (src/output.rs), which knows --json, --quiet and
// colour; a stray print would bypass all three. (Tests, examples and the fake gateway
// print as they like.)
#![warn(clippy::print_stdout, clippy::print_stderr)]
// The docs are for contributors and built with private items (CI: `cargo doc --no-deps
// --document-private-items`, warnings denied), where links to private items resolve.
#![allow(rustdoc::private_intra_doc_links)]

pub mod auth;
mod calendar;
mod cli;
pub mod commands;
pub mod config_file;
pub mod connect;
mod discovery;
mod docs;
mod doctor;
pub mod edit;
mod envvars;
pub mod error;
mod failpoint;
mod fs_safe;
pub mod gateway_url;
mod http;
mod launch;
mod oidc;
mod output;
mod paths;
pub mod provider_env;
pub mod relay;
mod runtime;
pub mod secrets;
mod session;
mod settings;
pub mod shell;
mod statusline;
mod targets;
mod usage;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::Cli;
use crate::error::{ExitStatus, UserError, classify};
use crate::output::ColorChoice;
use crate::output::Printer;

/// Parses the command line, runs the command and maps the result to an exit code.
pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return usage_error(err),
    };
    let printer = Printer::new(cli.global.json, cli.global.quiet, cli.global.color);
    match commands::dispatch(&cli, printer) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let outcome = classify(&err);
            if !outcome.silent {
                printer.error(outcome.code, &format!("{err:#}"), outcome.hint);
            }
            ExitCode::from(outcome.code)
        }
    }
}

/// Help and version go to stdout with 0; other parse errors exit 2, as JSON under `--json`.
fn usage_error(err: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        err.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = err.print();
        let code = if err.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
            2
        } else {
            0
        };
        return ExitCode::from(code);
    }
    // A value our own parser refused (e.g. `--gateway`) carries a hint of its own.
    let hint = std::error::Error::source(&err)
        .and_then(|e| e.downcast_ref::<UserError>())
        .and_then(|e| e.hint.as_deref());
    let rendered = err.render().to_string();
    let first = rendered.lines().next().unwrap_or_default();
    if std::env::args().any(|a| a == "--json") {
        Printer::new(true, false, ColorChoice::Never).error(
            ExitStatus::Usage.code(),
            first.trim_start_matches("error: "),
            Some(hint.unwrap_or("see `anyray --help`")),
        );
    } else if let Some(hint) = hint {
        Printer::new(false, false, ColorChoice::Auto).error(
            ExitStatus::Usage.code(),
            first.trim_start_matches("error: "),
            Some(hint),
        );
    } else {
        let _ = err.print();
    }
    ExitCode::from(ExitStatus::Usage.code())
}
