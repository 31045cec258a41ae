//! One module per command. [`dispatch`] runs the command the command line names; each
//! resolves the settings it needs once, its own flags on top ([`Context::settings`]).

use anyhow::Result;

use crate::cli::{Cli, Command, GlobalArgs};
use crate::error::UserError;
use crate::output::Printer;
use crate::settings::{Overrides, Settings};

mod completions;
mod config;
mod connect;
mod disconnect;
mod doctor;
mod env;
mod gateway;
pub mod generate;
mod login;
mod logout;
mod run;
mod sso;
mod status;
mod statusline;
mod token;
mod usage;

/// What every command receives: the global flags and the printer.
pub struct Context<'a> {
    pub global: &'a GlobalArgs,
    pub printer: Printer,
}

impl Context<'_> {
    /// Resolves settings with the command's own flags on top; prints their warnings once.
    pub fn settings(&self, mut overrides: Overrides) -> Result<Settings> {
        overrides.config = self.global.config.clone();
        let settings = Settings::resolve(&overrides)?;
        for warning in &settings.warnings {
            self.printer.warn(warning);
        }
        Ok(settings)
    }

    /// Only the config-file flag: for commands without their own setting flags.
    pub(crate) fn overrides(&self) -> Overrides {
        Overrides {
            config: self.global.config.clone(),
            ..Overrides::default()
        }
    }
}

pub(crate) fn dispatch(cli: &Cli, printer: Printer) -> Result<()> {
    let ctx = Context {
        global: &cli.global,
        printer,
    };
    match &cli.command {
        Command::Connect(args) => connect::run(args, &ctx),
        Command::Disconnect(args) => disconnect::run(args, &ctx),
        Command::Status(args) => status::run(args, &ctx),
        Command::Env(args) => env::run(args, &ctx),
        Command::Doctor(args) => doctor::run(args, &ctx),
        Command::Gateway(args) => gateway::run(args, &ctx),
        Command::Run(args) => run::run(args, &ctx),
        Command::Login(args) => login::run(args, &ctx),
        Command::Logout(args) => logout::run(args, &ctx),
        Command::Token(args) => token::run(args, &ctx),
        Command::Usage(args) => usage::run(args, &ctx),
        Command::Statusline(args) => statusline::run(args, &ctx),
        Command::Config(args) => config::run(args, &ctx),
        Command::Completions(args) => completions::run(args, &ctx),
        Command::Generate(args) => generate::run(args, &ctx),
    }
}

/// Asks a yes/no question on the terminal (default yes). Esc or Ctrl-C is a usage error,
/// so nothing is changed.
pub(crate) fn confirm(question: &str) -> Result<bool> {
    ask(question, true)
}

/// A question whose safe answer is no.
pub(crate) fn confirm_no(question: &str) -> Result<bool> {
    ask(question, false)
}

fn ask(question: &str, default: bool) -> Result<bool> {
    inquire::Confirm::new(question)
        .with_default(default)
        .prompt()
        .map_err(|e| UserError::usage(format!("no answer ({e})")).into())
}
