//! Settings, resolved once into a plain struct: flags > env > config file > defaults.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use serde::Serialize;

use crate::config_file::{self, ConfigFile, KeySpec};
use crate::envvars;
use crate::error::UserError;
use crate::gateway_url::GatewayUrl;
use crate::paths;
use crate::relay::{
    DEFAULT_RETRY_INTERVAL, Fallback, LogFormat, LogTarget, ProviderTargets, RelayConfig,
};

/// How tools reach the org gateway (`via`, `--via`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Via {
    /// Straight to the org gateway URL
    Direct,
    /// Through the local relay (`anyray gateway`)
    Relay,
}

impl Via {
    /// The name in the config file and in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Direct => "direct",
            Via::Relay => "relay",
        }
    }
}

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Flag(&'static str),
    Env(&'static str),
    File(PathBuf),
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag(flag) => write!(f, "flag {flag}"),
            Source::Env(var) => write!(f, "env {var}"),
            Source::File(path) => write!(f, "{}", path.display()),
            Source::Default => f.write_str("default"),
        }
    }
}

impl Serialize for Source {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A value and where it came from.
#[derive(Debug, Clone, Serialize)]
pub struct Sourced<T> {
    pub value: T,
    pub source: Source,
}

/// Command-line values that take precedence over everything else.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub gateway: Option<String>,
    pub via: Option<Via>,
    pub listen: Option<SocketAddr>,
    pub upstreams: Vec<String>,
    pub fallback: Option<Fallback>,
    pub log_format: Option<LogFormat>,
    pub log_file: Option<PathBuf>,
}

/// Everything a command needs to know about anyray's configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub config_file: Sourced<PathBuf>,
    pub config_exists: bool,
    pub gateway: Sourced<GatewayUrl>,
    pub via: Sourced<Via>,
    pub ca_file: Option<Sourced<PathBuf>>,
    /// The identity header from the config; discovery may name one otherwise.
    pub identity_header: Option<String>,
    /// The local relay's configuration (its identity is decided when it starts).
    pub relay: RelayConfig,
    /// Non-fatal findings (unknown keys, plain-http gateway), shown once.
    pub warnings: Vec<String>,
}

impl Settings {
    /// Resolves every setting; a malformed config file or value is a usage error.
    pub fn resolve(overrides: &Overrides) -> Result<Self> {
        let config_file = config_path(overrides)?;
        let file = ConfigFile::load(&config_file.value)?;
        // Checked with the other settings, so a typo fails every command the same way.
        crate::secrets::keyring_enabled()?;
        let resolver = Resolver {
            file: &file,
            overrides,
        };

        let mut warnings: Vec<String> = file
            .unknown_keys()
            .into_iter()
            .map(|k| format!("{}: unknown setting `{k}` is ignored", file.path.display()))
            .collect();

        let gateway = resolver.sourced("gateway", overrides.gateway.clone(), "--gateway")?;
        let gateway = Sourced {
            value: GatewayUrl::parse(&gateway.value.unwrap_or_default())?,
            source: gateway.source,
        };
        warnings.extend(gateway.value.warning());

        let via = resolver.sourced(
            "via",
            overrides.via.map(|v| v.as_str().to_string()),
            "--via",
        )?;
        let via = Sourced {
            value: if via.value.as_deref() == Some("relay") {
                Via::Relay
            } else {
                Via::Direct
            },
            source: via.source,
        };
        let ca_file = resolver.sourced("ca_file", None, "")?;
        let ca_file = ca_file.value.map(|v| Sourced {
            value: PathBuf::from(v),
            source: ca_file.source,
        });

        let relay = resolver.relay(&gateway.value, ca_file.as_ref().map(|c| c.value.clone()))?;
        Ok(Self {
            config_exists: file.exists,
            config_file,
            identity_header: resolver.value("identity_header")?,
            gateway,
            via,
            ca_file,
            relay,
            warnings,
        })
    }

    /// The URL tools should use: the gateway, or the local relay with `via = relay`.
    pub fn tool_endpoint(&self) -> GatewayUrl {
        match self.via.value {
            Via::Direct => self.gateway.value.clone(),
            Via::Relay => self.relay_url(),
        }
    }

    /// The local relay's URL, from `relay.listen`.
    pub fn relay_url(&self) -> GatewayUrl {
        let listen = self.relay.listen;
        let host = if listen.ip().is_unspecified() {
            "127.0.0.1".to_string()
        } else if listen.is_ipv6() {
            format!("[{}]", listen.ip())
        } else {
            listen.ip().to_string()
        };
        GatewayUrl::parse(&format!("http://{host}:{}", listen.port()))
            .expect("a socket address is a valid http URL")
    }
}

/// Looks a key up through the layers: flag, env, file, default.
struct Resolver<'a> {
    file: &'a ConfigFile,
    overrides: &'a Overrides,
}

impl Resolver<'_> {
    fn sourced(
        &self,
        key: &str,
        flag: Option<String>,
        flag_name: &'static str,
    ) -> Result<Sourced<Option<String>>, UserError> {
        let spec = config_file::spec(key).expect("resolution only asks for known keys");
        let (value, source) = if let Some(v) = flag {
            (Some(v), Source::Flag(flag_name))
        } else if let Some((var, v)) = spec.env.and_then(|var| envvars::get(var).map(|v| (var, v)))
        {
            (Some(v), Source::Env(var))
        } else if let Some(v) = self.file.get(key)? {
            (Some(v), Source::File(self.file.path.clone()))
        } else {
            (spec.default.map(str::to_string), Source::Default)
        };
        if let Some(v) = &value {
            config_file::validate(spec, v).map_err(|e| in_source(e, spec, &source))?;
        }
        Ok(Sourced { value, source })
    }

    fn value(&self, key: &str) -> Result<Option<String>, UserError> {
        Ok(self.sourced(key, None, "")?.value)
    }

    fn number(&self, key: &str) -> Result<u64, UserError> {
        Ok(self.value(key)?.and_then(|v| v.parse().ok()).unwrap_or(0))
    }

    fn url(&self, key: &str) -> Result<GatewayUrl, UserError> {
        GatewayUrl::parse(&self.value(key)?.unwrap_or_default())
    }

    fn relay(
        &self,
        gateway: &GatewayUrl,
        ca_file: Option<PathBuf>,
    ) -> Result<RelayConfig, UserError> {
        let o = self.overrides;
        let listen = match o.listen {
            Some(addr) => addr,
            None => self
                .value("relay.listen")?
                .and_then(|v| v.parse().ok())
                .expect("validated with a default"),
        };
        let upstream_list = if o.upstreams.is_empty() {
            self.value("relay.upstreams")?
                .map(|v| v.split(',').map(str::to_string).collect())
                .unwrap_or_default()
        } else {
            o.upstreams.clone()
        };
        let mut upstreams = upstream_list
            .iter()
            .map(|u| u.trim())
            .filter(|u| !u.is_empty())
            .map(GatewayUrl::parse)
            .collect::<Result<Vec<_>, _>>()?;
        if upstreams.is_empty() {
            upstreams.push(gateway.clone());
        }
        let fallback = match o.fallback {
            Some(f) => f,
            None if self.value("relay.fallback")?.as_deref() == Some("direct") => Fallback::Direct,
            None => Fallback::None,
        };
        let log_format = match o.log_format {
            Some(f) => f,
            None if self.value("relay.log_format")?.as_deref() == Some("json") => LogFormat::Json,
            None => LogFormat::Human,
        };
        let allowed_hosts = self
            .value("relay.allowed_hosts")?
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|h| !h.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        Ok(RelayConfig {
            listen,
            allowed_hosts,
            upstreams,
            fallback,
            identity: None,
            ca_file,
            connect_timeout: Duration::from_millis(self.number("relay.connect_timeout_ms")?),
            header_timeout: Duration::from_millis(self.number("relay.header_timeout_ms")?),
            idle_timeout: Duration::from_secs(self.number("relay.idle_timeout_s")?),
            max_body_bytes: self
                .number("relay.max_body_mb")?
                .saturating_mul(1024 * 1024),
            max_connections: usize::try_from(self.number("relay.max_connections")?)
                .unwrap_or(usize::MAX),
            workers: usize::try_from(self.number("relay.workers")?).unwrap_or(usize::MAX),
            grace_period: Duration::from_secs(self.number("relay.grace_period_s")?),
            retry_interval: DEFAULT_RETRY_INTERVAL,
            log: o
                .log_file
                .clone()
                .or(self.value("relay.log_file")?.map(PathBuf::from))
                .map_or(LogTarget::Stderr, LogTarget::File),
            log_format,
            providers: ProviderTargets {
                openai: self.url("relay.providers.openai")?,
                anthropic: self.url("relay.providers.anthropic")?,
                gemini: self.url("relay.providers.gemini")?,
            },
        })
    }
}

/// Adds where a bad value came from to its error.
fn in_source(err: UserError, spec: &KeySpec, source: &Source) -> UserError {
    let hint = match source {
        Source::File(_) => format!("fix it with `anyray config set {} VALUE`", spec.key),
        Source::Env(var) => format!("fix or unset the environment variable {var}"),
        _ => err.hint.clone().unwrap_or_default(),
    };
    UserError::usage(format!("{} (from {source})", err.message)).with_hint(hint)
}

/// The config file path: `--config`, then `ANYRAY_CONFIG`, then the default.
pub fn config_path(overrides: &Overrides) -> Result<Sourced<PathBuf>> {
    Ok(
        match (&overrides.config, envvars::get(envvars::ANYRAY_CONFIG)) {
            (Some(path), _) => Sourced {
                value: path.clone(),
                source: Source::Flag("--config"),
            },
            (None, Some(path)) => Sourced {
                value: PathBuf::from(path),
                source: Source::Env(envvars::ANYRAY_CONFIG),
            },
            (None, None) => Sourced {
                value: paths::default_config_file()?,
                source: Source::Default,
            },
        },
    )
}

/// The effective value of one key and its source, for `config get`.
pub fn effective(overrides: &Overrides, key: &str) -> Result<Sourced<Option<String>>> {
    let file = ConfigFile::load(&config_path(overrides)?.value)?;
    config_file::spec(key).ok_or_else(|| {
        UserError::usage(format!("unknown setting `{key}`"))
            .with_hint("list the settings with `anyray config get --help`")
    })?;
    Ok(Resolver {
        file: &file,
        overrides,
    }
    .sourced(key, None, "")?)
}
