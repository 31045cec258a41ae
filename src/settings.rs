//! Settings, resolved once into a plain struct: flags > env > config file > defaults.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use clap::ValueEnum;
use serde::Serialize;

use crate::auth::{self, FixedHeaders, Scheme};
use crate::config_file::{self, ConfigFile, FromSetting, KeySpec, Setting};
use crate::discovery::{Discovery, OidcDoc, Scopes};
use crate::envvars;
use crate::error::UserError;
use crate::gateway_url::{GatewayUrl, Provider};
use crate::oidc::OidcConfig;
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
    /// anyray found it with probes and wrote it to this config file.
    Detected(PathBuf),
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag(flag) => write!(f, "flag {flag}"),
            Source::Env(var) => write!(f, "env {var}"),
            Source::File(path) => write!(f, "{}", path.display()),
            Source::Detected(path) => write!(f, "detected, saved in {}", path.display()),
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

/// Command-line values that take precedence over everything else (parsed by clap).
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub gateway: Option<GatewayUrl>,
    pub via: Option<Via>,
    pub listen: Option<SocketAddr>,
    pub upstreams: Vec<GatewayUrl>,
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
    /// The credential scheme: `auth.scheme`, else the one detected for this gateway
    /// (discovery's, when it names one, is taken where the gateway is asked).
    pub auth_scheme: Option<Sourced<Scheme>>,
    /// `routes.enabled`: the provider routes the user says the gateway serves.
    pub routes_enabled: Option<Vec<Provider>>,
    /// `[headers]` and `[routes.<p>.headers]`: fixed, non-secret headers.
    pub headers: FixedHeaders,
    /// `auth.oidc.*`: where `login --sso` signs in; discovery's `auth.oidc` fills the
    /// keys left unset ([`Settings::oidc_config`]).
    pub oidc: OidcSettings,
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
        let resolver = Resolver { file: &file };

        let mut warnings: Vec<String> = file
            .unknown_keys()
            .into_iter()
            .map(|k| format!("{}: unknown setting `{k}` is ignored", file.path.display()))
            .collect();

        let gateway = resolver.flag_or("gateway", overrides.gateway.clone(), "--gateway")?;
        let gateway = Sourced {
            value: gateway.value.expect("`gateway` has a default"),
            source: gateway.source,
        };
        warnings.extend(gateway.value.warning());
        let via = resolver.flag_or("via", overrides.via, "--via")?;
        let via = Sourced {
            value: via.value.expect("`via` has a default"),
            source: via.source,
        };
        let ca_file = resolver.layered("ca_file")?;
        let ca_file = ca_file.value.map(|value| Sourced {
            value: PathBuf::from_setting(value),
            source: ca_file.source,
        });
        let relay = resolver.relay(
            overrides,
            &gateway.value,
            ca_file.as_ref().map(|c| c.value.clone()),
        )?;
        let auth_scheme = resolver.auth_scheme(&gateway.value)?;
        let headers = resolver.headers()?;
        let mut relay = relay;
        if let Some(scheme) = &auth_scheme {
            relay.scheme = scheme.value;
        }
        Ok(Self {
            config_exists: file.exists,
            config_file,
            identity_header: resolver.get("identity_header")?.map(String::from_setting),
            auth_scheme,
            routes_enabled: resolver.get("routes.enabled")?.map(Vec::from_setting),
            headers,
            oidc: OidcSettings {
                issuer: resolver.text("auth.oidc.issuer")?,
                client_id: resolver.text("auth.oidc.client_id")?,
                scopes: resolver.text("auth.oidc.scopes")?,
                resource: resolver.text("auth.oidc.resource")?,
            },
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

/// The `auth.oidc.*` keys as set (each may be unset).
#[derive(Debug, Clone, Default)]
pub struct OidcSettings {
    pub issuer: Option<Sourced<String>>,
    pub client_id: Option<Sourced<String>>,
    pub scopes: Option<Sourced<String>>,
    pub resource: Option<Sourced<String>>,
}

impl Settings {
    /// Where `login --sso` signs in: each `auth.oidc.*` key from the config, else from
    /// discovery's `auth.oidc` block (the config wins per key, as every setting does).
    /// An issuer or client id that neither names is a usage error saying where to set it.
    pub(crate) fn oidc_config(
        &self,
        discovery: Option<&Discovery>,
    ) -> Result<OidcConfig, UserError> {
        let doc = discovery.and_then(Discovery::oidc);
        let from_doc = |f: fn(&OidcDoc) -> Option<String>| doc.and_then(f);
        let pick = |set: &Option<Sourced<String>>, f: fn(&OidcDoc) -> Option<String>| {
            set.as_ref()
                .map(|s| s.value.clone())
                .or_else(|| from_doc(f))
        };
        let missing = |key: &str, what: &str| {
            UserError::usage(format!(
                "no {what} for `anyray login --sso`: the gateway's discovery names none and `{key}` is not set"
            ))
            .with_hint(format!(
                "ask your admin for it and run `anyray config set {key} VALUE`, or log in with a key: `anyray login`"
            ))
        };
        let issuer = pick(&self.oidc.issuer, |d| d.issuer.clone())
            .ok_or_else(|| missing("auth.oidc.issuer", "OpenID issuer"))?;
        if self.oidc.issuer.is_none() && !config_file::valid_issuer(&issuer) {
            return Err(UserError::problem(format!(
                "the gateway's discovery names the issuer {issuer:?}, which is not https"
            ))
            .with_hint("ask your admin to fix the gateway's auth.oidc.issuer, or set your own with `anyray config set auth.oidc.issuer URL`"));
        }
        let client_id = pick(&self.oidc.client_id, |d| d.client_id.clone())
            .filter(|c| !c.trim().is_empty())
            .ok_or_else(|| missing("auth.oidc.client_id", "OAuth client id"))?;
        let scopes = pick(&self.oidc.scopes, |d| d.scopes.as_ref().map(Scopes::joined))
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| crate::oidc::DEFAULT_SCOPES.to_string());
        Ok(OidcConfig {
            issuer,
            client_id,
            scopes,
            resource: pick(&self.oidc.resource, |d| d.resource.clone()),
        })
    }
}

/// Looks a key up through the layers (flag, env, file, default) and parses its value
/// once, by the kind the settings table gives it.
struct Resolver<'a> {
    file: &'a ConfigFile,
}

impl Resolver<'_> {
    /// `key`'s raw value from the environment, the file or its default.
    fn raw(&self, spec: &KeySpec) -> Result<Sourced<Option<String>>, UserError> {
        let env = spec
            .env
            .and_then(|var| envvars::get(var).map(|value| (var, value)));
        Ok(if let Some((var, value)) = env {
            Sourced {
                value: Some(value),
                source: Source::Env(var),
            }
        } else if let Some(value) = self.file.get(spec.key)? {
            Sourced {
                value: Some(value),
                source: Source::File(self.file.path.clone()),
            }
        } else {
            Sourced {
                value: spec.default.map(str::to_string),
                source: Source::Default,
            }
        })
    }

    /// `key` from the environment, the file or its default, parsed; an invalid value
    /// says where it came from.
    fn layered(&self, key: &str) -> Result<Sourced<Option<Setting>>, UserError> {
        let spec = config_file::spec(key).expect("resolution only asks for known keys");
        let raw = self.raw(spec)?;
        let value = raw
            .value
            .map(|raw_value| {
                config_file::parse(spec, &raw_value).map_err(|e| in_source(e, spec, &raw.source))
            })
            .transpose()?;
        Ok(Sourced {
            value,
            source: raw.source,
        })
    }

    fn get(&self, key: &str) -> Result<Option<Setting>, UserError> {
        Ok(self.layered(key)?.value)
    }

    /// A text setting and where it came from.
    fn text(&self, key: &str) -> Result<Option<Sourced<String>>, UserError> {
        let layered = self.layered(key)?;
        Ok(layered.value.map(|setting| match setting {
            Setting::Text(value) => Sourced {
                value,
                source: layered.source,
            },
            other => panic!("`{key}` is not a text setting: {other:?}"),
        }))
    }

    /// The flag's value when given (clap parsed it), else the layers'.
    fn flag_or<T: FromSetting>(
        &self,
        key: &str,
        flag: Option<T>,
        flag_name: &'static str,
    ) -> Result<Sourced<Option<T>>, UserError> {
        if let Some(value) = flag {
            return Ok(Sourced {
                value: Some(value),
                source: Source::Flag(flag_name),
            });
        }
        let layered = self.layered(key)?;
        Ok(Sourced {
            value: layered.value.map(T::from_setting),
            source: layered.source,
        })
    }

    /// A key that has a default, so always a value.
    fn value<T: FromSetting>(&self, key: &str) -> Result<T, UserError> {
        Ok(T::from_setting(
            self.get(key)?
                .unwrap_or_else(|| panic!("`{key}` has a default")),
        ))
    }

    /// `auth.scheme`, else `auth.detected_scheme` when it was detected for `gateway`.
    fn auth_scheme(&self, gateway: &GatewayUrl) -> Result<Option<Sourced<Scheme>>, UserError> {
        let set = self.layered("auth.scheme")?;
        if let Some(value) = set.value {
            return Ok(Some(Sourced {
                value: Scheme::from_setting(value),
                source: set.source,
            }));
        }
        let detected_for = self
            .get("auth.detected_gateway")?
            .map(GatewayUrl::from_setting);
        let detected = self.get("auth.detected_scheme")?.map(Scheme::from_setting);
        Ok(match (detected, detected_for) {
            (Some(value), Some(gw)) if gw == *gateway => Some(Sourced {
                value,
                source: Source::Detected(self.file.path.clone()),
            }),
            _ => None,
        })
    }

    /// The fixed headers, each checked (a secret never goes into them).
    fn headers(&self) -> Result<FixedHeaders, UserError> {
        let checked =
            |table: &str| -> Result<std::collections::BTreeMap<String, String>, UserError> {
                self.file
                    .string_table(table)?
                    .into_iter()
                    .map(|(name, value)| {
                        auth::check_fixed_header(&name, &value)
                            .map(|()| (name.to_ascii_lowercase(), value))
                            .map_err(|why| {
                                UserError::usage(format!(
                                    "{}: `{table}.{name}`: {why}",
                                    self.file.path.display()
                                ))
                                .with_hint(format!(
                                    "remove it with `anyray config unset {table}.{name}`"
                                ))
                            })
                    })
                    .collect()
            };
        let mut headers = FixedHeaders {
            global: checked("headers")?,
            ..FixedHeaders::default()
        };
        for provider in Provider::ALL {
            let own = checked(&format!("routes.{}.headers", provider.key()))?;
            if !own.is_empty() {
                headers.routes.insert(provider, own);
            }
        }
        Ok(headers)
    }

    fn relay(
        &self,
        o: &Overrides,
        gateway: &GatewayUrl,
        ca_file: Option<PathBuf>,
    ) -> Result<RelayConfig, UserError> {
        let mut upstreams = if o.upstreams.is_empty() {
            self.get("relay.upstreams")?
                .map(Vec::from_setting)
                .unwrap_or_default()
        } else {
            o.upstreams.clone()
        };
        if upstreams.is_empty() {
            upstreams.push(gateway.clone());
        }
        let millis = |key| self.value(key).map(Duration::from_millis);
        let secs = |key| self.value(key).map(Duration::from_secs);
        let count = |key| {
            self.value::<u64>(key)
                .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
        };
        let log_file = match &o.log_file {
            Some(path) => Some(path.clone()),
            None => self.get("relay.log_file")?.map(PathBuf::from_setting),
        };
        Ok(RelayConfig {
            listen: match o.listen {
                Some(addr) => addr,
                None => self.value("relay.listen")?,
            },
            allowed_hosts: self
                .get("relay.allowed_hosts")?
                .map(Vec::from_setting)
                .unwrap_or_default(),
            upstreams,
            fallback: match o.fallback {
                Some(fallback) => fallback,
                None => self.value("relay.fallback")?,
            },
            identity: None,
            scheme: Scheme::Header,
            ca_file,
            connect_timeout: millis("relay.connect_timeout_ms")?,
            header_timeout: millis("relay.header_timeout_ms")?,
            idle_timeout: secs("relay.idle_timeout_s")?,
            max_body_bytes: self
                .value::<u64>("relay.max_body_mb")?
                .saturating_mul(1024 * 1024),
            max_connections: count("relay.max_connections")?,
            workers: count("relay.workers")?,
            grace_period: secs("relay.grace_period_s")?,
            retry_interval: DEFAULT_RETRY_INTERVAL,
            log: log_file.map_or(LogTarget::Stderr, LogTarget::File),
            log_format: match o.log_format {
                Some(format) => format,
                None => self.value("relay.log_format")?,
            },
            strip_prefixes: match self.get("relay.strip_header_prefixes")? {
                Some(Setting::Prefixes(prefixes)) => prefixes,
                _ => Vec::new(),
            },
            headers: self.headers()?,
            provider_keys: Default::default(),
            providers: ProviderTargets {
                openai: self.value("relay.providers.openai")?,
                anthropic: self.value("relay.providers.anthropic")?,
                gemini: self.value("relay.providers.gemini")?,
            },
        })
    }
}

/// A choice converts to the enum that names the same choices (tested below).
macro_rules! choice {
    ($($t:ty),*) => {$(
        impl FromSetting for $t {
            fn from_setting(setting: Setting) -> Self {
                match setting {
                    Setting::Choice(name) => <$t as ValueEnum>::from_str(name, false)
                        .unwrap_or_else(|e| panic!("{e}")),
                    other => panic!("not a choice: {other:?}"),
                }
            }
        }
    )*};
}

choice!(Via, Fallback, LogFormat, Scheme);

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
pub(crate) fn config_path(overrides: &Overrides) -> Result<Sourced<PathBuf>> {
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
pub(crate) fn effective(overrides: &Overrides, key: &str) -> Result<Sourced<Option<String>>> {
    let file = ConfigFile::load(&config_path(overrides)?.value)?;
    let spec = config_file::spec(key).ok_or_else(|| {
        UserError::usage(format!("unknown setting `{key}`"))
            .with_hint("list the settings with `anyray config get --help`")
    })?;
    let resolver = Resolver { file: &file };
    resolver.layered(key)?; // an invalid value is an error here too
    let raw = resolver.raw(spec)?;
    if key == "auth.scheme" && raw.value.is_none() {
        // Not set by the user: the scheme anyray detected for this gateway, if any.
        let gateway = resolver.value::<GatewayUrl>("gateway")?;
        if let Some(found) = resolver.auth_scheme(&gateway)? {
            return Ok(Sourced {
                value: Some(found.value.as_str().to_string()),
                source: found.source,
            });
        }
    }
    Ok(raw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config_file::Kind;

    fn relay_from(toml: &str) -> Result<RelayConfig, UserError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, toml).unwrap();
        let file = ConfigFile::load(&path).unwrap();
        let gateway = GatewayUrl::parse("https://gw.example").unwrap();
        Resolver { file: &file }.relay(&Overrides::default(), &gateway, None)
    }

    #[test]
    fn every_relay_key_resolves_from_its_default() {
        let relay = relay_from("").unwrap();
        assert_eq!(relay.listen, "127.0.0.1:18787".parse().unwrap());
        assert_eq!(
            relay.upstreams,
            [GatewayUrl::parse("https://gw.example").unwrap()]
        );
        assert_eq!(relay.fallback, Fallback::None);
        assert_eq!(relay.log_format, LogFormat::Human);
        assert_eq!(relay.log, LogTarget::Stderr);
        assert_eq!(relay.workers, 1);
        assert_eq!(relay.connect_timeout, Duration::from_secs(2));
        assert_eq!(relay.max_body_bytes, 64 * 1024 * 1024);
        assert!(relay.allowed_hosts.is_empty());
    }

    #[test]
    fn every_relay_key_resolves_from_the_file_into_its_type() {
        let relay = relay_from(
            r#"[relay]
listen = "127.0.0.1:9999"
allowed_hosts = ["devbox", "devbox.corp:9999"]
upstreams = ["https://a.example", "https://b.example/llm"]
fallback = "direct"
connect_timeout_ms = 250
header_timeout_ms = 500
idle_timeout_s = 7
max_body_mb = 2
max_connections = 3
workers = 4
grace_period_s = 5
log_format = "json"
log_file = "/tmp/relay.log"
[relay.providers]
openai = "https://o.example"
anthropic = "https://a.example"
gemini = "https://g.example"
"#,
        )
        .unwrap();
        assert_eq!(relay.listen.port(), 9999);
        assert_eq!(relay.allowed_hosts, ["devbox", "devbox.corp:9999"]);
        assert_eq!(relay.upstreams[1].as_str(), "https://b.example/llm");
        assert_eq!(relay.fallback, Fallback::Direct);
        assert_eq!(relay.connect_timeout, Duration::from_millis(250));
        assert_eq!(relay.idle_timeout, Duration::from_secs(7));
        assert_eq!(relay.max_body_bytes, 2 * 1024 * 1024);
        assert_eq!((relay.max_connections, relay.workers), (3, 4));
        assert_eq!(relay.log_format, LogFormat::Json);
        assert_eq!(relay.log, LogTarget::File("/tmp/relay.log".into()));
        assert_eq!(relay.providers.gemini.as_str(), "https://g.example");
    }

    #[test]
    fn a_bad_value_says_where_it_came_from() {
        let err = relay_from("[relay]\nworkers = 0\n").unwrap_err();
        assert!(err.message.contains("relay.workers"), "{}", err.message);
        assert!(err.message.contains("config.toml"), "{}", err.message);
    }

    #[test]
    fn oidc_keys_win_over_discovery_key_by_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "[auth.oidc]\nclient_id = \"mine\"\n").unwrap();
        let overrides = Overrides {
            config: Some(path.clone()),
            ..Overrides::default()
        };
        let settings = Settings::resolve(&overrides).unwrap();
        let doc = |json: &str| serde_json::from_str::<Discovery>(json).unwrap();
        let d = doc(
            r#"{"auth":{"oidc":{"issuer":"https://idp.example","client_id":"theirs","scopes":["openid","gateway"]}}}"#,
        );
        let c = settings.oidc_config(Some(&d)).unwrap();
        assert_eq!(c.issuer, "https://idp.example");
        assert_eq!(c.client_id, "mine");
        assert_eq!(c.scopes, "openid gateway");
        assert_eq!(c.resource, None);

        let err = settings.oidc_config(None).unwrap_err();
        assert!(err.message.contains("no OpenID issuer"), "{}", err.message);
        assert!(err.hint.unwrap().contains("auth.oidc.issuer"));
        // A gateway cannot send the login to a plain-http issuer on the network.
        let err = settings
            .oidc_config(Some(&doc(
                r#"{"auth":{"oidc":{"issuer":"http://idp.example","client_id":"x"}}}"#,
            )))
            .unwrap_err();
        assert!(err.message.contains("not https"), "{}", err.message);

        std::fs::write(
            &path,
            "[auth.oidc]\nissuer = \"http://127.0.0.1:9\"\nclient_id = \"c\"\n",
        )
        .unwrap();
        let c = Settings::resolve(&overrides)
            .unwrap()
            .oidc_config(None)
            .unwrap();
        assert_eq!(c.issuer, "http://127.0.0.1:9");
        assert_eq!(c.scopes, crate::oidc::DEFAULT_SCOPES);
        std::fs::write(&path, "[auth.oidc]\nissuer = \"http://idp.example\"\n").unwrap();
        let err = Settings::resolve(&overrides).unwrap_err().to_string();
        assert!(err.contains("auth.oidc.issuer"), "{err}");
    }

    /// A choice setting converts to its enum by name: the table and the enum must list
    /// the same names.
    #[test]
    fn choices_are_the_enums_names() {
        fn names<T: ValueEnum>() -> Vec<String> {
            T::value_variants()
                .iter()
                .map(|v| v.to_possible_value().unwrap().get_name().to_string())
                .collect()
        }
        for (key, expected) in [
            ("via", names::<Via>()),
            ("relay.fallback", names::<Fallback>()),
            ("relay.log_format", names::<LogFormat>()),
            ("auth.scheme", names::<Scheme>()),
            ("auth.detected_scheme", names::<Scheme>()),
        ] {
            let Kind::Choice(choices) = config_file::spec(key).unwrap().kind else {
                panic!("{key} is a choice");
            };
            assert_eq!(choices, expected, "{key}");
        }
        // as_str() (the JSON and config-file name) is the same name too.
        let name = |v: clap::builder::PossibleValue| v.get_name().to_string();
        for v in Via::value_variants() {
            assert_eq!(v.as_str(), name(v.to_possible_value().unwrap()));
        }
        for v in Fallback::value_variants() {
            assert_eq!(v.as_str(), name(v.to_possible_value().unwrap()));
        }
        for v in LogFormat::value_variants() {
            assert_eq!(v.as_str(), name(v.to_possible_value().unwrap()));
        }
    }
}
