//! The prose that man pages add to the clap definitions: examples per command, the files
//! anyray reads or writes per OS, the environment and the exit status. Kept beside the code
//! so `anyray generate` and the freshness test render the same text.

use crate::envvars as ev;

/// The date on the man pages' title line (bumped with each release).
pub(crate) const MAN_DATE: &str = "2026-11-24";

/// What `connect` checks before it writes (its `--help` and man page).
pub(crate) const CONNECT_PREFLIGHT: &str = "Before writing, connect checks that the gateway \
    answers (DNS, TCP, TLS, HTTP) and accepts your stored key, within 3 s and spending no \
    tokens. When it does not, nothing is written and the exit status is 1; on a terminal you \
    are asked whether to go on. --offline (or --force) writes without the check; --dry-run \
    and --check show its result and never fail on it.";

/// `anyray usage`: where the numbers come from, and its exit status.
pub(crate) const USAGE_EXIT: &str = "The numbers are the gateway's own: the usage endpoint its \
    discovery names (today and this week in UTC days, by model and by tool, the budget), else \
    LiteLLM's /key/info (the spend and budget of your key in its budget window; LiteLLM keeps \
    them only with a database). Exit status: 0 with the numbers, or with one line saying why \
    the gateway offers none; 1 when the gateway cannot be reached; 2 for a usage error.";

/// `anyray statusline`: how Claude Code runs it.
pub(crate) const STATUSLINE: &str = "For Claude Code's statusLine setting (`anyray connect \
    --statusline` writes it). Prints one line: the gateway state (connected, UNMETERED while \
    the local relay fails open to the providers, gateway down, relay not running), the spend \
    today and the budget left. It answers from a cache file (statusline.json in anyray's state \
    dir, 0600, no secret) within milliseconds and, when the cache is older than 20 s, starts one \
    detached refresh that asks the relay and the gateway, each step bounded. Colour unless \
    NO_COLOR is set or --color never (Claude Code renders ANSI colours).";

/// Examples for each page: `(command line, what it does)`. The key is the subcommand
/// name, or `""` for `anyray.1`.
pub(crate) fn examples(page: &str) -> &'static [(&'static str, &'static str)] {
    match page {
        "" => &[
            (
                "anyray connect --gateway https://anyray.corp.example:8787",
                "Point every detected tool at the org gateway.",
            ),
            (
                "anyray connect --dry-run",
                "Show the diff of every change and write nothing.",
            ),
            (
                "anyray doctor",
                "Check the connection and say how to fix what is wrong.",
            ),
            ("anyray disconnect", "Undo everything connect changed."),
        ],
        "connect" => &[
            (
                "anyray connect --gateway https://anyray.corp.example:8787",
                "Connect every detected tool and save the gateway to the config.",
            ),
            (
                "anyray connect claude-code codex --yes",
                "Connect two tools without asking.",
            ),
            (
                "anyray connect --dry-run",
                "Print a unified diff per file; write nothing.",
            ),
            (
                "anyray connect --via relay",
                "Point tools at the local relay (anyray gateway) instead.",
            ),
            (
                "anyray connect --check --json",
                "In CI: exit 1 if anything is not connected or has drifted.",
            ),
        ],
        "disconnect" => &[
            ("anyray disconnect", "Restore every file connect changed."),
            (
                "anyray disconnect cursor --dry-run",
                "Show what would be restored for Cursor.",
            ),
        ],
        "status" => &[
            ("anyray status", "A table of tools, their files and state."),
            (
                "anyray status --json",
                "The same as a stable JSON document.",
            ),
        ],
        "env" => &[
            (
                "eval \"$(anyray env)\"",
                "Export the gateway variables into the current shell.",
            ),
            ("anyray env --shell fish | source", "The same in fish."),
            (
                "anyray env --shell github >> \"$GITHUB_ENV\"",
                "In GitHub Actions: set them for later steps.",
            ),
            ("anyray env --shell dotenv > .env", "Write a dotenv file."),
        ],
        "doctor" => &[
            (
                "anyray doctor",
                "Run every check and list the problems with their fixes.",
            ),
            (
                "anyray doctor --json --only net,gateway",
                "Only the network and gateway checks, as JSON.",
            ),
            (
                "anyray doctor --timeout 10",
                "Allow 10 seconds for the whole run.",
            ),
        ],
        "gateway" => &[
            (
                "anyray gateway",
                "Relay 127.0.0.1:18787 to the configured gateway.",
            ),
            (
                "anyray gateway --upstream https://gw-a.corp.example --upstream https://gw-b.corp.example",
                "Fail over between two gateways.",
            ),
            (
                "anyray gateway --fallback direct",
                "Fail open: forward to the provider's public API when no gateway answers.",
            ),
            (
                "anyray gateway --check-config",
                "Validate the relay settings and exit.",
            ),
        ],
        "run" => &[
            (
                "anyray run -- claude",
                "Run Claude Code through the gateway, touching no file.",
            ),
            (
                "anyray run --relay -- python3 app.py",
                "Run a script through an ephemeral local relay.",
            ),
            (
                "anyray run --print-env -- codex",
                "Show what would be set or passed, without secrets.",
            ),
        ],
        "login" => &[
            (
                "anyray login",
                "Prompt for your Anyray key and store it in the OS keyring.",
            ),
            (
                "printf '%s' \"$KEY\" | anyray login --token-stdin",
                "Store a key without a terminal (CI).",
            ),
            (
                "anyray login --status",
                "Say where the key is stored; never prints it.",
            ),
        ],
        "logout" => &[(
            "anyray logout",
            "Remove the stored key from the keyring and the token file.",
        )],
        "token" => &[
            (
                "anyray token",
                "Print the current gateway key and a newline (what the tools' credential helpers run).",
            ),
            (
                "anyray token >/dev/null && echo logged in",
                "Check that a key is there; without one, one line on stderr and exit 1.",
            ),
        ],
        "usage" => &[
            (
                "anyray usage",
                "Your spend today and this week, by model and by tool, and the budget left.",
            ),
            ("anyray usage --json", "The same as one JSON document."),
        ],
        "statusline" => &[
            (
                "anyray connect claude-code --statusline",
                "Set Claude Code's status line to anyray's (undone by disconnect).",
            ),
            (
                "echo '{}' | anyray statusline",
                "Print the line as Claude Code would show it.",
            ),
            (
                "anyray statusline --refresh",
                "Ask the relay and the gateway now, then print the fresh line.",
            ),
        ],
        "config" => &[
            (
                "anyray config set gateway https://anyray.corp.example:8787",
                "Set the gateway; comments in the file are kept.",
            ),
            (
                "anyray config get relay.listen",
                "Print the effective value.",
            ),
            ("anyray config unset via", "Go back to the default."),
            ("anyray config path", "Print the config file's path."),
        ],
        "completions" => &[
            (
                "anyray completions bash > ~/.local/share/bash-completion/completions/anyray",
                "Install bash completions.",
            ),
            (
                "anyray completions zsh > \"${fpath[1]}/_anyray\"",
                "Install zsh completions.",
            ),
            (
                "anyray completions fish > ~/.config/fish/completions/anyray.fish",
                "Install fish completions.",
            ),
        ],
        _ => &[],
    }
}

/// Every file anyray reads or writes: `(path, what it is)`, per OS where it differs.
pub(crate) const FILES: &[(&str, &str)] = &[
    (
        "~/.config/anyray/config.toml",
        "Settings (Linux; macOS: ~/Library/Application Support/anyray/config.toml; Windows: %APPDATA%\\anyray\\config.toml). Edited in place by anyray config and connect --gateway.",
    ),
    (
        "~/.config/anyray/token",
        "Your Anyray key, mode 0600, only where no OS keyring works.",
    ),
    (
        "~/.config/anyray/env.sh, env.fish, env.ps1",
        "Environment files anyray owns; the shell target sources them from your rc files.",
    ),
    (
        "~/.local/state/anyray/",
        "The ledger of what connect changed, backups of the original files and the lock file (macOS: ~/Library/Application Support/anyray; Windows: %LOCALAPPDATA%\\anyray).",
    ),
    (
        "~/.claude/settings.json",
        "Claude Code user settings ($CLAUDE_CONFIG_DIR/settings.json; Windows: %USERPROFILE%\\.claude\\settings.json).",
    ),
    (
        "/etc/claude-code/managed-settings.json",
        "Claude Code managed settings, read only (macOS: /Library/Application Support/ClaudeCode/managed-settings.json; Windows: C:\\Program Files\\ClaudeCode\\managed-settings.json).",
    ),
    (
        "~/.config/Cursor/User/settings.json",
        "Cursor user settings (macOS: ~/Library/Application Support/Cursor/User/settings.json; Windows: %APPDATA%\\Cursor\\User\\settings.json).",
    ),
    (
        "~/.config/Windsurf/User/settings.json",
        "Windsurf user settings (same layout as Cursor).",
    ),
    (
        "~/.codex/config.toml",
        "Codex CLI config ($CODEX_HOME/config.toml).",
    ),
    (
        "~/.bashrc, ~/.bash_profile, ~/.profile",
        "bash rc files that get one marked sourcing line.",
    ),
    (
        "$ZDOTDIR/.zshenv",
        "zsh rc file that gets one marked sourcing line (ZDOTDIR defaults to HOME).",
    ),
    (
        "~/.config/fish/conf.d/anyray.fish",
        "fish drop-in that sources env.fish.",
    ),
    (
        "~/.config/powershell/Microsoft.PowerShell_profile.ps1",
        "PowerShell profile (Windows: Documents\\PowerShell\\Microsoft.PowerShell_profile.ps1).",
    ),
];

/// The environment variables anyray reads, with what they do.
pub(crate) const ENVIRONMENT: &[(&str, &str)] = &[
    (
        ev::ANYRAY_GATEWAY,
        "The org gateway URL; overrides the config file.",
    ),
    (ev::ANYRAY_CONFIG, "Path of the config file."),
    (
        ev::ANYRAY_TOKEN,
        "Your Anyray key; overrides the keyring and the token file.",
    ),
    (
        ev::ANYRAY_CA_FILE,
        "An extra PEM CA bundle to trust (TLS-inspecting corporate proxies).",
    ),
    (
        ev::ANYRAY_VIA,
        "direct or relay: how tools reach the gateway.",
    ),
    (
        ev::ANYRAY_KEYRING,
        "on (default) or off: off never uses the OS keyring (the 0600 token file is used); any other value is an error.",
    ),
    (
        ev::ANYRAY_STATE_DIR,
        "Where the ledger and backups of connect live.",
    ),
    (ev::NO_COLOR, "Disable colour."),
    (
        "HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY",
        "Proxies for gateway traffic (either case).",
    ),
    (
        "SSL_CERT_FILE, SSL_CERT_DIR",
        "Extra trust for TLS, as OpenSSL reads them.",
    ),
    (ev::CLAUDE_CONFIG_DIR, "Claude Code's config directory."),
    (ev::CODEX_HOME, "Codex CLI's home directory."),
    (ev::ZDOTDIR, "zsh's dotfile directory."),
    (
        "XDG_CONFIG_HOME, XDG_STATE_HOME",
        "Base directories on Linux.",
    ),
];

/// The documented exit codes.
pub(crate) const EXIT_STATUS: &[(&str, &str)] = &[
    ("0", "Success."),
    (
        "1",
        "A check found a problem (drift, a failing doctor check, no stored key), or an operation failed.",
    ),
    (
        "2",
        "Usage or configuration error: a bad flag, a malformed config file, an invalid URL.",
    ),
    (
        "3",
        "A file could not be changed safely; it was left untouched.",
    ),
];
