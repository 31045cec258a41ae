//! The command-line surface: clap types only, no logic.

// The doc comments here are clap's help text, printed as they are: a URL stays bare.
#![allow(rustdoc::bare_urls)]

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::connect::TargetName;
use crate::doctor::Select;
use crate::gateway_url::GatewayUrl;
use crate::output::ColorChoice;
use crate::relay::{Fallback, LogFormat};
use crate::settings::Via;
use crate::shell::EnvFormat;

#[derive(Debug, Parser)]
#[command(
    name = "anyray",
    version,
    about = "Point your AI tools at your org's Anyray gateway, safely and reversibly",
    long_about = "anyray points Claude Code, Cursor, Windsurf, Codex CLI, Gemini and your shells at \
your organisation's Anyray gateway. Only the base URL changes; every edit keeps your formatting \
and is undone exactly by `anyray disconnect`.",
    after_help = "Exit codes: 0 ok, 1 a problem was found, 2 usage or config error, 3 a file could not be changed safely.",
    propagate_version = true
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Print one JSON document on stdout (a stable schema; errors are JSON too)
    #[arg(long, global = true)]
    pub json: bool,

    /// Print only errors and warnings
    #[arg(long, short, global = true)]
    pub quiet: bool,

    /// When to use colour (auto honours NO_COLOR and only colours a terminal)
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,

    /// Read and write this config file instead of the default [env: ANYRAY_CONFIG]
    #[arg(long, value_name = "PATH", global = true)]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Point tools at the gateway by editing their config files (reversible)
    #[command(after_long_help = crate::docs::CONNECT_PREFLIGHT)]
    Connect(ConnectArgs),
    /// Undo `connect`: restore every value it changed
    Disconnect(DisconnectArgs),
    /// Show which tools are connected, not connected or drifted
    Status(StatusArgs),
    /// Print the gateway environment for eval, a dotenv file or $GITHUB_ENV
    Env(EnvArgs),
    /// Check reachability, TLS, proxies, auth, fail-open and each tool's config
    Doctor(DoctorArgs),
    /// Run a local relay that streams to the org gateway and can fail open
    Gateway(GatewayArgs),
    /// Run a command with the gateway environment, touching no file
    Run(RunArgs),
    /// Sign in: store your Anyray key, or sign in with SSO (--sso, --browser)
    Login(LoginArgs),
    /// Sign out: remove your stored key, revoke and delete your SSO session
    Logout(LogoutArgs),
    /// Print your current gateway key on stdout, for the tools' credential helpers
    #[command(
        long_about = "Print your current gateway key and a newline on stdout, for \
the tools' credential helpers (Claude Code's apiKeyHelper, Codex's provider auth command), which \
`anyray connect` sets up. It never prompts and never reads stdin. With no key stored it prints \
one line on stderr naming `anyray login` and exits 1."
    )]
    Token(TokenArgs),
    /// Show your own spend as the gateway reports it: today, this week, by model and tool,
    /// and the budget left
    #[command(after_long_help = crate::docs::USAGE_EXIT)]
    Usage(UsageArgs),
    /// Print one status line for Claude Code's statusLine setting (never waits on the
    /// network: answers from a cache refreshed in the background)
    #[command(after_long_help = crate::docs::STATUSLINE)]
    Statusline(StatuslineArgs),
    /// Read or change anyray's own settings
    #[command(after_long_help = crate::config_file::keys_help())]
    Config(ConfigArgs),
    /// Print a shell completion script
    Completions(CompletionsArgs),
    /// Write completion scripts and man pages into a directory (for packagers)
    #[command(hide = true)]
    Generate(GenerateArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ConnectArgs {
    /// Tools to connect (default: every detected tool)
    #[arg(value_enum)]
    pub targets: Vec<TargetName>,

    /// The org gateway URL, e.g. https://anyray.corp.example:8787 (saved to the config)
    #[arg(long, value_name = "URL")]
    pub gateway: Option<GatewayUrl>,

    /// Point tools straight at the gateway, or at the local relay (saved to the config)
    #[arg(long, value_enum, value_name = "MODE")]
    pub via: Option<Via>,

    /// Show the unified diff of every change and write nothing
    #[arg(long, conflicts_with = "check")]
    pub dry_run: bool,

    /// Write nothing; exit 1 if any tool is not connected or has drifted (for CI)
    #[arg(long)]
    pub check: bool,

    /// Do not ask for confirmation
    #[arg(long, short)]
    pub yes: bool,

    /// Write without checking the gateway first (before joining the VPN, or in CI that
    /// only writes configs)
    #[arg(long)]
    pub offline: bool,

    /// Connect named tools even if they look uninstalled, change read-only files, and
    /// skip the gateway check (as --offline)
    #[arg(long)]
    pub force: bool,

    /// Write editor terminal env for macOS, Linux and Windows, not only this OS
    #[arg(long)]
    pub all_platforms: bool,

    /// Also send your Anyray identity header (by env var reference; never the key itself)
    #[arg(long)]
    pub identity: bool,

    /// Also set Claude Code's status line to `anyray statusline` (gateway state, spend
    /// today, budget left); a status line of yours is kept unless --chain-statusline or
    /// --force
    #[arg(long)]
    pub statusline: bool,

    /// With --statusline: keep your own status line, run it first and append anyray's
    #[arg(long)]
    pub chain_statusline: bool,
}

#[derive(Debug, Args)]
pub(crate) struct UsageArgs {
    /// The org gateway URL to ask (not saved)
    #[arg(long, value_name = "URL")]
    pub gateway: Option<GatewayUrl>,
}

#[derive(Debug, Args)]
pub(crate) struct StatuslineArgs {
    /// Run this status command first (through the shell, with the same JSON on stdin,
    /// as Claude Code runs it) and append anyray's line to its output
    #[arg(long, value_name = "COMMAND")]
    pub chain: Option<String>,

    /// Refresh the cache now (this waits on the relay and the gateway, each step
    /// bounded) and print the fresh line
    #[arg(long)]
    pub refresh: bool,

    /// The detached refresh a status line starts: releases its mark when done
    #[arg(long, hide = true, requires = "refresh")]
    pub background: bool,
}

#[derive(Debug, Args)]
pub(crate) struct DisconnectArgs {
    /// Tools to disconnect (default: every connected tool)
    #[arg(value_enum)]
    pub targets: Vec<TargetName>,

    /// Show what would be restored and write nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Do not ask for confirmation
    #[arg(long, short)]
    pub yes: bool,

    /// Restore even where you changed a managed value since `connect`, or the file is read-only
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    /// Tools to show (default: all)
    #[arg(value_enum)]
    pub targets: Vec<TargetName>,
}

#[derive(Debug, Args)]
pub(crate) struct EnvArgs {
    /// Output syntax (default: from $SHELL, else bash)
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub shell: Option<EnvFormat>,

    /// The org gateway URL (not saved)
    #[arg(long, value_name = "URL")]
    pub gateway: Option<GatewayUrl>,

    /// Point at the gateway directly, or at the local relay
    #[arg(long, value_enum, value_name = "MODE")]
    pub via: Option<Via>,
}

#[derive(Debug, Args)]
pub(crate) struct DoctorArgs {
    /// Run only these checks (ids or groups, comma-separated or repeated)
    #[arg(long, value_enum, value_name = "ID", value_delimiter = ',')]
    pub only: Vec<Select>,

    /// Skip these checks (ids or groups)
    #[arg(long, value_enum, value_name = "ID", value_delimiter = ',')]
    pub skip: Vec<Select>,

    /// Bound for the whole run, in seconds
    #[arg(long, value_name = "SECS", default_value_t = 5.0)]
    pub timeout: f64,

    /// The org gateway URL to check (not saved)
    #[arg(long, value_name = "URL")]
    pub gateway: Option<GatewayUrl>,

    /// Also run gateway.deep: one streamed OpenAI completion with max_tokens 1 and two
    /// free Anthropic token counts, to prove the providers behind the gateway answer
    #[arg(long)]
    pub deep: bool,
}

#[derive(Debug, Args)]
pub(crate) struct GatewayArgs {
    /// Address to listen on (default from config relay.listen, else 127.0.0.1:18787)
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,

    /// Org gateway URL to forward to; repeat in order of preference
    #[arg(long = "upstream", value_name = "URL")]
    pub upstreams: Vec<GatewayUrl>,

    /// What to do when no gateway is reachable
    #[arg(long, value_enum, value_name = "MODE")]
    pub fallback: Option<Fallback>,

    /// Allow listening on a non-loopback address
    #[arg(long)]
    pub allow_remote: bool,

    /// Write the access log to this file instead of stderr
    #[arg(long, value_name = "PATH")]
    pub log_file: Option<PathBuf>,

    /// Access log format
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,

    /// Validate the settings and exit without listening
    #[arg(long)]
    pub check_config: bool,
}

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// The org gateway URL (not saved)
    #[arg(long, value_name = "URL")]
    pub gateway: Option<GatewayUrl>,

    /// Point the command at the gateway directly, or at the configured relay
    #[arg(long, value_enum, value_name = "MODE")]
    pub via: Option<Via>,

    /// Start an ephemeral relay on a free loopback port for the command's lifetime
    #[arg(long)]
    pub relay: bool,

    /// Show what would be set or passed (no secret values) and run nothing
    #[arg(long)]
    pub print_env: bool,

    /// The command and its arguments
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<OsString>,
}

#[derive(Debug, Args)]
pub(crate) struct LoginArgs {
    /// Read the key from standard input instead of prompting
    #[arg(long)]
    pub token_stdin: bool,

    /// Say where the key is stored and how long an SSO session lasts (never prints a token)
    #[arg(long, conflicts_with = "token_stdin")]
    pub status: bool,

    /// Sign in with your organisation's SSO instead of a key: anyray shows a code to enter
    /// on any device (the OAuth device login, for SSH and headless machines too)
    #[arg(long, conflicts_with_all = ["token_stdin", "status", "provider"])]
    pub sso: bool,

    /// Sign in with your organisation's SSO in this machine's browser (implies --sso)
    #[arg(long, conflicts_with_all = ["token_stdin", "status", "provider"])]
    pub browser: bool,

    /// Store your own key for this provider instead, used only when the relay fails open
    /// while the gateway's key is the tools' API key (auth.scheme = key)
    #[arg(long, value_name = "PROVIDER")]
    pub provider: Option<crate::auth::OwnKeyProvider>,
}

#[derive(Debug, Args)]
pub(crate) struct LogoutArgs {
    /// Remove your own key for this provider (from `anyray login --provider`) instead
    #[arg(long, value_name = "PROVIDER")]
    pub provider: Option<crate::auth::OwnKeyProvider>,
}

#[derive(Debug, Args)]
pub(crate) struct TokenArgs {}

#[derive(Debug, Args)]
pub(crate) struct ConfigArgs {
    #[command(subcommand)]
    pub command: ConfigCommand,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ConfigCommand {
    /// Print the config file's path
    Path,
    /// Print a setting's effective value and where it comes from
    #[command(after_long_help = crate::config_file::keys_help())]
    Get {
        /// A key such as `gateway` or `relay.listen`
        key: String,
    },
    /// Set a setting in the config file (comments and order are kept)
    #[command(after_long_help = crate::config_file::keys_help())]
    Set {
        /// A key such as `gateway` or `relay.listen`
        key: String,
        /// The new value
        value: String,
    },
    /// Remove a setting from the config file
    #[command(after_long_help = crate::config_file::keys_help())]
    Unset {
        /// A key such as `gateway` or `relay.listen`
        key: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum CompletionShell {
    Bash,
    Zsh,
    Fish,
    Powershell,
    Elvish,
}

#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell to generate for
    #[arg(value_enum)]
    pub shell: CompletionShell,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Directory that receives completions/ and man/
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub out: PathBuf,
}
