//! Every environment variable anyray reads, declared in one place. The test harness
//! clears all of [`ALL`] so a developer's own environment never leaks into a test.

/// The org gateway URL; overrides the config file.
pub const ANYRAY_GATEWAY: &str = "ANYRAY_GATEWAY";
/// Path of the config file; overrides the default location.
pub const ANYRAY_CONFIG: &str = "ANYRAY_CONFIG";
/// The user's Anyray key; overrides the keyring and the token file.
pub const ANYRAY_TOKEN: &str = "ANYRAY_TOKEN";
/// An extra PEM CA bundle trusted for the gateway (corporate TLS inspection).
pub const ANYRAY_CA_FILE: &str = "ANYRAY_CA_FILE";
/// `direct` or `relay`: how tools reach the gateway.
pub const ANYRAY_VIA: &str = "ANYRAY_VIA";
/// `on` (default) or `off`: `off` disables the OS keyring (the env var, then the 0600
/// token file are used). Other values are a usage error.
pub const ANYRAY_KEYRING: &str = "ANYRAY_KEYRING";
/// Overrides the state dir (ledger and backups of `connect`).
pub const ANYRAY_STATE_DIR: &str = "ANYRAY_STATE_DIR";

/// Overrides where Claude Code's managed settings file is looked for (unusual installs, tests).
pub const ANYRAY_CLAUDE_MANAGED_SETTINGS: &str = "ANYRAY_CLAUDE_MANAGED_SETTINGS";

/// Test only, debug builds only: `<point>#<n>` kills the process at a named step of a
/// write (see `failpoint`). Release builds never read it.
pub const ANYRAY_TEST_KILL_AT: &str = "ANYRAY_TEST_KILL_AT";

/// Disables colour (https://no-color.org).
pub const NO_COLOR: &str = "NO_COLOR";
/// Claude Code's config dir (default `~/.claude`).
pub const CLAUDE_CONFIG_DIR: &str = "CLAUDE_CONFIG_DIR";
/// Codex CLI's home (default `~/.codex`).
pub const CODEX_HOME: &str = "CODEX_HOME";
/// zsh's dotfile dir.
pub const ZDOTDIR: &str = "ZDOTDIR";
/// The login shell.
pub const SHELL: &str = "SHELL";

/// Proxy variables, in both cases, as curl and most SDKs read them.
pub const PROXY_VARS: &[&str] = &[
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
];

/// CA bundle variables read by OpenSSL-, rustls- and Node-based tools.
pub const CA_VARS: &[&str] = &[
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "NODE_EXTRA_CA_CERTS",
    "REQUESTS_CA_BUNDLE",
];

/// Provider variables that `connect`, `env` and `run` set and `doctor` inspects.
pub const PROVIDER_VARS: &[&str] = &[
    "OPENAI_BASE_URL",
    "ANTHROPIC_BASE_URL",
    "GOOGLE_GEMINI_BASE_URL",
    "AZURE_OPENAI_ENDPOINT",
    "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_CUSTOM_HEADERS",
    "CLAUDE_CODE_USE_BEDROCK",
    "CLAUDE_CODE_USE_VERTEX",
    "ANTHROPIC_BEDROCK_BASE_URL",
    "ANTHROPIC_VERTEX_BASE_URL",
];

/// Directory variables that decide where files live (`dirs` reads the XDG ones).
pub const DIR_VARS: &[&str] = &[
    "XDG_CONFIG_HOME",
    "XDG_STATE_HOME",
    "XDG_DATA_HOME",
    "XDG_CACHE_HOME",
    "XDG_BIN_HOME",
    "APPDATA",
    "LOCALAPPDATA",
    "USERPROFILE",
];

/// Every variable above: what a hermetic test must clear.
pub fn all() -> impl Iterator<Item = &'static str> {
    [
        ANYRAY_GATEWAY,
        ANYRAY_CONFIG,
        ANYRAY_TOKEN,
        ANYRAY_CA_FILE,
        ANYRAY_VIA,
        ANYRAY_KEYRING,
        ANYRAY_STATE_DIR,
        ANYRAY_CLAUDE_MANAGED_SETTINGS,
        ANYRAY_TEST_KILL_AT,
        NO_COLOR,
        CLAUDE_CONFIG_DIR,
        CODEX_HOME,
        ZDOTDIR,
        SHELL,
        "CLICOLOR_FORCE",
        "TERM",
    ]
    .into_iter()
    .chain(PROXY_VARS.iter().copied())
    .chain(CA_VARS.iter().copied())
    .chain(PROVIDER_VARS.iter().copied())
    .chain(DIR_VARS.iter().copied())
}

/// A variable's value, treating empty as unset (as NO_COLOR and most tools do).
pub fn get(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}
