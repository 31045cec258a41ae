//! What the relay engine needs to run: [`RelayConfig`], resolved from the flags, the
//! environment and the config file with every other setting (`crate::settings`), given
//! its identity by the command that starts the relay (`anyray gateway`, `anyray run
//! --relay`), and checked before binding.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::auth::{FixedHeaders, Scheme};
use crate::error::UserError;
use crate::gateway_url::{GatewayUrl, Provider};
use crate::secrets::Secret;

/// The relay's configuration: `Settings::relay`, with `identity` set by the command that
/// starts it. Callers adjust fields (tests shorten timeouts; `run --relay` picks port 0
/// and a quiet log).
#[derive(Debug, Clone)]
pub struct RelayConfig {
    pub listen: SocketAddr,
    /// Names besides its own addresses that requests may give in `Host`
    /// (`relay.allowed_hosts`, for a relay reached under another name).
    pub allowed_hosts: Vec<String>,
    /// Org gateways in order of preference.
    pub upstreams: Vec<GatewayUrl>,
    pub fallback: Fallback,
    /// Fail-open targets: the providers' public APIs.
    pub providers: ProviderTargets,
    /// Added toward the org gateways only, never toward a fail-open target.
    pub identity: Option<Identity>,
    /// The credential scheme (`header` when unknown): in the `key` scheme the tools' own
    /// key headers carry the gateway's key, so failing open strips them too.
    pub scheme: Scheme,
    /// Fixed headers added toward the org gateways, per route; never sent to a provider.
    pub headers: FixedHeaders,
    /// `relay.strip_header_prefixes`: headers meant for gateways, never sent to a provider.
    pub strip_prefixes: Vec<String>,
    /// The user's own provider keys (`anyray login --provider`), used only to fail open
    /// in the `key` scheme.
    pub provider_keys: BTreeMap<Provider, Secret>,
    pub ca_file: Option<PathBuf>,
    /// Budget for TCP + proxy CONNECT + TLS to one upstream before trying the next.
    pub connect_timeout: Duration,
    /// Time a client has to send a request's headers (slowloris).
    pub header_timeout: Duration,
    /// A response that moves no byte for this long is cut; a moving one never is.
    pub idle_timeout: Duration,
    pub max_body_bytes: u64,
    pub max_connections: usize,
    /// Async worker threads of the runtime `anyray gateway` runs the relay on.
    pub workers: usize,
    pub grace_period: Duration,
    /// How long an upstream is skipped after its first connect failure; doubles on each
    /// further failure, up to six times this.
    pub retry_interval: Duration,
    pub log: LogTarget,
    pub log_format: LogFormat,
}

/// What the relay does when no gateway is reachable (`relay.fallback`, `--fallback`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Fallback {
    /// Answer 502 in the provider's error shape when no gateway is reachable
    None,
    /// Forward unchanged to the provider's public API when no gateway is reachable
    Direct,
}

impl Fallback {
    /// The name in the config file, the startup line and `/_anyray/health`.
    pub fn as_str(self) -> &'static str {
        match self {
            Fallback::None => "none",
            Fallback::Direct => "direct",
        }
    }
}

/// The access log's format (`relay.log_format`, `--log-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

impl LogFormat {
    /// The name in the config file and in `gateway --check-config`.
    pub fn as_str(self) -> &'static str {
        match self {
            LogFormat::Human => "human",
            LogFormat::Json => "json",
        }
    }
}

/// Fail-open targets: the providers' public APIs (`relay.providers.*`).
#[derive(Debug, Clone)]
pub struct ProviderTargets {
    pub openai: GatewayUrl,
    pub anthropic: GatewayUrl,
    pub gemini: GatewayUrl,
}

/// Where the access log goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogTarget {
    Stderr,
    /// Appended to; created 0600 if missing.
    File(PathBuf),
    /// No access log (an in-process relay whose parent owns the terminal).
    Quiet,
}

/// The user's key, its scheme and the identity header (`crate::auth::Credential`).
pub type Identity = crate::auth::Credential;

/// Default for [`RelayConfig::retry_interval`].
pub const DEFAULT_RETRY_INTERVAL: Duration = Duration::from_secs(5);

impl RelayConfig {
    /// Rejects settings the relay cannot run with, each with what to change.
    pub(crate) fn validate(&self) -> Result<(), UserError> {
        if self.upstreams.is_empty() {
            return Err(UserError::usage("the relay has no gateway to forward to")
                .with_hint("set it with `anyray config set gateway URL` or pass --upstream URL"));
        }
        for (name, value, key) in [
            (
                "connect timeout",
                self.connect_timeout,
                "relay.connect_timeout_ms",
            ),
            (
                "header timeout",
                self.header_timeout,
                "relay.header_timeout_ms",
            ),
            ("idle timeout", self.idle_timeout, "relay.idle_timeout_s"),
        ] {
            if value.is_zero() {
                return Err(UserError::usage(format!("the relay's {name} is 0"))
                    .with_hint(format!("set a positive `{key}`")));
            }
        }
        if self.max_connections == 0 || self.max_body_bytes == 0 {
            return Err(UserError::usage(
                "relay.max_connections and relay.max_body_mb must be positive",
            )
            .with_hint("unset them to use the defaults (`anyray config unset KEY`)"));
        }
        if let Some(gw) = self
            .upstreams
            .iter()
            .find(|u| is_own_address(u, self.listen))
        {
            return Err(UserError::usage(format!(
                "the gateway {gw} is this relay's own address {}: it would forward to itself",
                self.listen
            ))
            .with_hint(
                "point the relay at your org gateway: `anyray config set gateway https://…` \
                 or `--upstream URL`; or listen elsewhere with --listen",
            ));
        }
        Ok(())
    }

    /// The effective configuration as `gateway --check-config` shows it (no secret).
    pub fn summary(&self, key_store: Option<String>) -> RelaySummary {
        RelaySummary {
            listen: self.listen.to_string(),
            allowed_hosts: self.allowed_hosts.clone(),
            upstreams: self.upstreams.iter().map(ToString::to_string).collect(),
            fallback: self.fallback.as_str(),
            fail_open_targets: FailOpenTargets {
                openai: self.providers.openai.to_string(),
                anthropic: self.providers.anthropic.to_string(),
                gemini: self.providers.gemini.to_string(),
            },
            identity_header: self.identity.as_ref().map(|i| i.header.to_string()),
            auth_scheme: self.scheme.as_str(),
            fixed_headers: self.headers.clone(),
            strip_header_prefixes: self.strip_prefixes.clone(),
            fail_open_keys: self.provider_keys.keys().map(|p| p.key()).collect(),
            key_store,
            ca_file: self.ca_file.clone(),
            connect_timeout_ms: millis(self.connect_timeout),
            header_timeout_ms: millis(self.header_timeout),
            idle_timeout_ms: millis(self.idle_timeout),
            max_body_bytes: self.max_body_bytes,
            max_connections: self.max_connections,
            workers: self.workers,
            grace_period_ms: millis(self.grace_period),
            log: match &self.log {
                LogTarget::Stderr => "stderr".into(),
                LogTarget::File(path) => path.display().to_string(),
                LogTarget::Quiet => "off".into(),
            },
            log_format: self.log_format.as_str(),
        }
    }
}

/// `gateway --check-config --json`: the effective relay configuration.
#[derive(Debug, Serialize)]
pub struct RelaySummary {
    pub listen: String,
    /// `relay.allowed_hosts`: names accepted in `Host` besides the relay's own addresses.
    pub allowed_hosts: Vec<String>,
    pub upstreams: Vec<String>,
    pub fallback: &'static str,
    pub fail_open_targets: FailOpenTargets,
    /// The header that will carry the key, if known without asking the gateway.
    pub identity_header: Option<String>,
    /// `header` or `key` (docs/gateway-contract.md, "Credentials").
    pub auth_scheme: &'static str,
    pub fixed_headers: FixedHeaders,
    pub strip_header_prefixes: Vec<String>,
    /// The providers with an own key for failing open (never the keys).
    pub fail_open_keys: Vec<&'static str>,
    /// Where the key is stored (never the key).
    pub key_store: Option<String>,
    pub ca_file: Option<PathBuf>,
    pub connect_timeout_ms: u64,
    pub header_timeout_ms: u64,
    pub idle_timeout_ms: u64,
    pub max_body_bytes: u64,
    pub max_connections: usize,
    pub workers: usize,
    pub grace_period_ms: u64,
    /// `stderr`, `off`, or a file path.
    pub log: String,
    pub log_format: &'static str,
}

#[derive(Debug, Serialize)]
pub struct FailOpenTargets {
    pub openai: String,
    pub anthropic: String,
    pub gemini: String,
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Whether `gw` points back at a relay listening on `listen`. Port 0 never loops.
/// `doctor` asks the same question, so it predicts exactly what the relay refuses.
pub fn is_own_address(gw: &GatewayUrl, listen: SocketAddr) -> bool {
    if listen.port() == 0 || gw.port() != listen.port() {
        return false;
    }
    let host = gw.host().trim_start_matches('[').trim_end_matches(']');
    let ip: Option<IpAddr> = host.parse().ok();
    match ip {
        Some(ip) if ip == listen.ip() => true,
        _ if listen.ip().is_loopback() || listen.ip().is_unspecified() => gw.is_loopback(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gw(s: &str) -> GatewayUrl {
        GatewayUrl::parse(s).unwrap()
    }

    #[test]
    fn detects_forwarding_to_itself() {
        let listen: SocketAddr = "127.0.0.1:8787".parse().unwrap();
        assert!(is_own_address(&gw("http://127.0.0.1:8787"), listen));
        assert!(is_own_address(&gw("http://localhost:8787"), listen));
        assert!(!is_own_address(&gw("http://127.0.0.1:8788"), listen));
        assert!(!is_own_address(&gw("https://gw.example:8787"), listen));
        let any: SocketAddr = "0.0.0.0:8787".parse().unwrap();
        assert!(is_own_address(&gw("http://[::1]:8787"), any));
        let port0: SocketAddr = "127.0.0.1:0".parse().unwrap();
        assert!(!is_own_address(&gw("http://127.0.0.1:0"), port0));
    }
}
