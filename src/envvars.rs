//! Every environment variable anyray reads, declared in one place. (The test harness
//! runs anyray with a cleared environment, tests/it/common, so a developer's own
//! variables never leak into a test.)

/// The org gateway URL; overrides the config file.
pub(crate) const ANYRAY_GATEWAY: &str = "ANYRAY_GATEWAY";
/// Path of the config file; overrides the default location.
pub(crate) const ANYRAY_CONFIG: &str = "ANYRAY_CONFIG";
/// The user's Anyray key; overrides the keyring and the token file.
pub(crate) const ANYRAY_TOKEN: &str = "ANYRAY_TOKEN";
/// An extra PEM CA bundle trusted for the gateway (corporate TLS inspection).
pub(crate) const ANYRAY_CA_FILE: &str = "ANYRAY_CA_FILE";
/// `direct` or `relay`: how tools reach the gateway.
pub(crate) const ANYRAY_VIA: &str = "ANYRAY_VIA";
/// `on` (default) or `off`: `off` disables the OS keyring (the env var, then the 0600
/// token file are used). Other values are a usage error.
pub(crate) const ANYRAY_KEYRING: &str = "ANYRAY_KEYRING";
/// Overrides the state dir (ledger and backups of `connect`).
pub(crate) const ANYRAY_STATE_DIR: &str = "ANYRAY_STATE_DIR";

/// Overrides where Claude Code's managed settings file is looked for (unusual installs, tests).
pub(crate) const ANYRAY_CLAUDE_MANAGED_SETTINGS: &str = "ANYRAY_CLAUDE_MANAGED_SETTINGS";

/// Test only, debug builds only: `<point>#<n>` kills the process at a named step of a
/// write (see `failpoint`). Release builds never read it.
#[cfg(debug_assertions)]
pub(crate) const ANYRAY_TEST_KILL_AT: &str = "ANYRAY_TEST_KILL_AT";

/// Test only, debug builds only: when set, host names other than `localhost` do not
/// resolve (see `http::lookup_host`), so the test suite never sends a DNS query off the
/// machine. Release builds never read it.
#[cfg(debug_assertions)]
pub(crate) const ANYRAY_TEST_NO_DNS: &str = "ANYRAY_TEST_NO_DNS";

/// Disables colour (<https://no-color.org>).
pub(crate) const NO_COLOR: &str = "NO_COLOR";
/// Claude Code's config dir (default `~/.claude`).
pub(crate) const CLAUDE_CONFIG_DIR: &str = "CLAUDE_CONFIG_DIR";
/// Codex CLI's home (default `~/.codex`).
pub(crate) const CODEX_HOME: &str = "CODEX_HOME";
/// The XDG config dir (default `~/.config`), which opencode, Zed and Goose follow.
pub(crate) const XDG_CONFIG_HOME: &str = "XDG_CONFIG_HOME";
/// opencode's global config dir (default `$XDG_CONFIG_HOME/opencode`).
pub(crate) const OPENCODE_CONFIG_DIR: &str = "OPENCODE_CONFIG_DIR";
/// Continue's global dir (default `~/.continue`).
pub(crate) const CONTINUE_GLOBAL_DIR: &str = "CONTINUE_GLOBAL_DIR";
/// Crush's global config dir (default `$XDG_CONFIG_HOME/crush`).
pub(crate) const CRUSH_GLOBAL_CONFIG: &str = "CRUSH_GLOBAL_CONFIG";
/// Qwen Code's global dir (default `~/.qwen`).
pub(crate) const QWEN_HOME: &str = "QWEN_HOME";
/// GitHub Copilot CLI's state dir (default `~/.copilot`).
pub(crate) const COPILOT_HOME: &str = "COPILOT_HOME";
/// Goose's root dir (its config is `<root>/config`).
pub(crate) const GOOSE_PATH_ROOT: &str = "GOOSE_PATH_ROOT";
/// zsh's dotfile dir.
pub(crate) const ZDOTDIR: &str = "ZDOTDIR";
/// The login shell.
pub(crate) const SHELL: &str = "SHELL";

/// Proxy variables, in both cases, as curl and most SDKs read them.
pub(crate) const PROXY_VARS: &[&str] = &[
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
pub(crate) const CA_VARS: &[&str] = &[
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "NODE_EXTRA_CA_CERTS",
    "REQUESTS_CA_BUNDLE",
];

/// Provider variables that `connect`, `env` and `run` set and `doctor` inspects.
pub(crate) const PROVIDER_VARS: &[&str] = &[
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

/// A variable's value, treating empty as unset (as NO_COLOR and most tools do).
pub(crate) fn get(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}
