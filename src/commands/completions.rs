//! `anyray completions <SHELL>`: print a completion script generated from the clap types.

use anyhow::Result;
use clap::CommandFactory;
use clap_complete::Shell;

use super::Context;
use crate::cli::{Cli, CompletionShell, CompletionsArgs};

pub(super) fn run(args: &CompletionsArgs, _ctx: &Context) -> Result<()> {
    let mut out = Vec::new();
    render(args.shell, &mut out);
    use std::io::Write;
    std::io::stdout().lock().write_all(&out)?;
    Ok(())
}

/// The completion script for one shell.
pub(super) fn render(shell: CompletionShell, out: &mut Vec<u8>) {
    let shell = match shell {
        CompletionShell::Bash => Shell::Bash,
        CompletionShell::Zsh => Shell::Zsh,
        CompletionShell::Fish => Shell::Fish,
        CompletionShell::Powershell => Shell::PowerShell,
        CompletionShell::Elvish => Shell::Elvish,
    };
    clap_complete::generate(shell, &mut Cli::command(), "anyray", out);
    if shell == Shell::Fish {
        fish_positional_values(out);
    }
}

/// clap_complete's fish script completes flag values but not positional ones, so add
/// the possible values of positional arguments (e.g. target names for `connect`).
fn fish_positional_values(out: &mut Vec<u8>) {
    use std::fmt::Write as _;
    let mut extra = String::from("# Positional values (added by anyray)\n");
    for sub in Cli::command().get_subcommands() {
        for arg in sub.get_positionals() {
            for value in arg
                .get_possible_values()
                .iter()
                .filter(|v| !v.is_hide_set())
            {
                let help = value
                    .get_help()
                    .map(|h| h.to_string().replace('\'', "\\'"))
                    .unwrap_or_default();
                let _ = writeln!(
                    extra,
                    "complete -c anyray -n \"__fish_anyray_using_subcommand {}\" -f -a \"{}\" -d '{help}'",
                    sub.get_name(),
                    value.get_name()
                );
            }
        }
    }
    out.extend_from_slice(extra.as_bytes());
}
