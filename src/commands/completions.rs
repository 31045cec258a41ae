//! `anyray completions <SHELL>`: print a completion script generated from the clap types.

use anyhow::Result;
use clap::CommandFactory;
use clap_complete::Shell;

use super::Context;
use crate::cli::{Cli, CompletionShell, CompletionsArgs};

pub fn run(args: &CompletionsArgs, _ctx: &Context) -> Result<()> {
    let mut out = Vec::new();
    render(args.shell, &mut out);
    use std::io::Write;
    std::io::stdout().lock().write_all(&out)?;
    Ok(())
}

/// The completion script for one shell.
pub fn render(shell: CompletionShell, out: &mut Vec<u8>) {
    let shell = match shell {
        CompletionShell::Bash => Shell::Bash,
        CompletionShell::Zsh => Shell::Zsh,
        CompletionShell::Fish => Shell::Fish,
        CompletionShell::Powershell => Shell::PowerShell,
        CompletionShell::Elvish => Shell::Elvish,
    };
    clap_complete::generate(shell, &mut Cli::command(), "anyray", out);
}
