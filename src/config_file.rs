//! anyray's config file, read and written with `toml_edit` so that the user's
//! comments, ordering and formatting survive `anyray config set`.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Result;
use toml_edit::{DocumentMut, Item, Table, Value};

use crate::error::{UserError, line_col};
use crate::fs_safe;
use crate::gateway_url::GatewayUrl;

/// The type of a setting's value, used to validate `config set` and resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Url,
    UrlList,
    Path,
    HeaderName,
    SocketAddr,
    /// Comma-separated `host` or `host:port` names (`[v6]` for IPv6 addresses).
    HostList,
    Integer,
    /// A whole number within these bounds (inclusive).
    IntegerIn(u64, u64),
    Choice(&'static [&'static str]),
    /// Comma-separated provider names (`openai`, `anthropic`, …).
    ProviderList,
    /// Comma-separated header-name prefixes, such as `x-litellm-`.
    PrefixList,
    /// A fixed, non-secret header's value; the key's last part is the header name
    /// (`headers.NAME`, `routes.PROVIDER.headers.NAME`).
    HeaderValue,
    /// An OpenID issuer: an `https://` URL, or `http://` on a loopback address (tests, a
    /// provider on this machine). Kept exactly as written: issuers compare as strings.
    Issuer,
    /// Printable text without spaces at its ends (an OAuth client id, scopes).
    Text,
}

/// One known setting.
#[derive(Debug)]
pub struct KeySpec {
    /// Dotted key, e.g. `relay.listen`.
    pub key: &'static str,
    /// The environment variable that overrides the file, if any.
    pub env: Option<&'static str>,
    pub kind: Kind,
    /// The default when nothing sets it.
    pub default: Option<&'static str>,
    pub help: &'static str,
}

use crate::envvars as ev;

/// Every key with its default, environment variable and meaning: the long help of
/// `config get/set/unset`, and so of their man pages.
pub(crate) fn keys_help() -> String {
    let mut out = String::from("Keys:\n");
    for spec in KEYS {
        let _ = writeln!(out, "  {}{}\n      {}", spec.key, spec.origins(), spec.help);
    }
    out
}

impl KeySpec {
    /// ` (default: D) [env: VAR]`, each part only when there is one.
    pub(crate) fn origins(&self) -> String {
        let mut out = String::new();
        if let Some(default) = self.default {
            let _ = write!(out, " (default: {default})");
        }
        if let Some(env) = self.env {
            let _ = write!(out, " [env: {env}]");
        }
        out
    }
}

/// Every setting anyray knows. `config get/set/unset` and resolution use this table.
pub const KEYS: &[KeySpec] = &[
    KeySpec {
        key: "gateway",
        env: Some(ev::ANYRAY_GATEWAY),
        kind: Kind::Url,
        default: Some("http://127.0.0.1:8787"),
        help: "the org gateway URL",
    },
    KeySpec {
        key: "via",
        env: Some(ev::ANYRAY_VIA),
        kind: Kind::Choice(&["direct", "relay"]),
        default: Some("direct"),
        help: "how tools reach the gateway: direct, or through the local relay",
    },
    KeySpec {
        key: "ca_file",
        env: Some(ev::ANYRAY_CA_FILE),
        kind: Kind::Path,
        default: None,
        help: "an extra PEM CA bundle to trust for the gateway",
    },
    KeySpec {
        key: "identity_header",
        env: None,
        kind: Kind::HeaderName,
        default: None,
        help: "the header that carries your Anyray key (default: from discovery)",
    },
    KeySpec {
        key: "auth.scheme",
        env: None,
        kind: Kind::Choice(&["header", "key"]),
        default: None,
        help: "how the gateway wants your key: header (in identity_header; provider keys pass \
               through) or key (it is the tools' API key); default: discovery's, else detected",
    },
    KeySpec {
        key: "auth.detected_scheme",
        env: None,
        kind: Kind::Choice(&["header", "key"]),
        default: None,
        help: "written by anyray when it detects the scheme of auth.detected_gateway; \
               auth.scheme overrides it",
    },
    KeySpec {
        key: "auth.detected_gateway",
        env: None,
        kind: Kind::Url,
        default: None,
        help: "the gateway auth.detected_scheme was detected for",
    },
    KeySpec {
        key: "auth.oidc.issuer",
        env: None,
        kind: Kind::Issuer,
        default: None,
        help: "the OpenID issuer for `anyray login --sso` (default: discovery's auth.oidc)",
    },
    KeySpec {
        key: "auth.oidc.client_id",
        env: None,
        kind: Kind::Text,
        default: None,
        help: "anyray's client id at the issuer, a public client (default: discovery's)",
    },
    KeySpec {
        key: "auth.oidc.scopes",
        env: None,
        kind: Kind::Text,
        default: None,
        help: "the scopes `login --sso` asks for, space-separated (default: discovery's, \
               else \"openid offline_access\")",
    },
    KeySpec {
        key: "auth.oidc.resource",
        env: None,
        kind: Kind::Text,
        default: None,
        help: "the resource (RFC 8707) the tokens are for, when the issuer needs it named, \
               e.g. the gateway URL (default: discovery's, else none)",
    },
    KeySpec {
        key: "routes.enabled",
        env: None,
        kind: Kind::ProviderList,
        default: None,
        help: "the provider routes the gateway serves, e.g. openai,anthropic,gemini \
               (default: discovery's, else openai and anthropic)",
    },
    KeySpec {
        key: "routes.*.headers.*",
        env: None,
        kind: Kind::HeaderValue,
        default: None,
        help: "a fixed, non-secret header for one provider route, e.g. \
               routes.openai.headers.x-portkey-provider = openai (a gateway that routes by header)",
    },
    KeySpec {
        key: "headers.*",
        env: None,
        kind: Kind::HeaderValue,
        default: None,
        help: "a fixed, non-secret header on every request, e.g. headers.x-team = platform \
               (attribution); never a key",
    },
    KeySpec {
        key: "relay.listen",
        env: None,
        kind: Kind::SocketAddr,
        default: Some(DEFAULT_RELAY_LISTEN),
        help: "where `anyray gateway` listens",
    },
    KeySpec {
        key: "relay.allowed_hosts",
        env: None,
        kind: Kind::HostList,
        default: None,
        help: "other names the relay answers to in Host, e.g. when reached with --allow-remote \
               (its own addresses and localhost always work)",
    },
    KeySpec {
        key: "relay.upstreams",
        env: None,
        kind: Kind::UrlList,
        default: None,
        help: "gateway URLs the relay forwards to, in order (default: gateway)",
    },
    KeySpec {
        key: "relay.fallback",
        env: None,
        kind: Kind::Choice(&["none", "direct"]),
        default: Some("none"),
        help: "when no gateway is reachable: none (502) or direct (provider's public API)",
    },
    KeySpec {
        key: "relay.connect_timeout_ms",
        env: None,
        kind: Kind::Integer,
        default: Some("2000"),
        help: "connect timeout per upstream before failover",
    },
    KeySpec {
        key: "relay.header_timeout_ms",
        env: None,
        kind: Kind::Integer,
        default: Some("10000"),
        help: "time a client has to send its request headers",
    },
    KeySpec {
        key: "relay.idle_timeout_s",
        env: None,
        kind: Kind::Integer,
        default: Some("600"),
        help: "a stream with no bytes for this long is closed (never a total timeout)",
    },
    KeySpec {
        key: "relay.max_body_mb",
        env: None,
        kind: Kind::Integer,
        default: Some("64"),
        help: "largest request body accepted, in MiB",
    },
    KeySpec {
        key: "relay.max_connections",
        env: None,
        kind: Kind::Integer,
        default: Some("1024"),
        help: "most client connections served at once",
    },
    // One by default: a developer's relay carries little load, and one thread keeps every
    // hop of a request on one core (no cross-thread wake-up). bench/run.sh on 2 cores: one
    // worker served more requests per second than two, at a lower p50. At most 64: every
    // worker is an OS thread started up front, more than the cores only adds contention,
    // and 64 covers any workstation or shared box. A fixed bound (not "4× the cores")
    // keeps one config file valid on every machine it is copied to.
    KeySpec {
        key: "relay.workers",
        env: None,
        kind: Kind::IntegerIn(1, 64),
        default: Some("1"),
        help: "threads serving requests: 1 has the lowest latency; raise it for a shared relay",
    },
    KeySpec {
        key: "relay.grace_period_s",
        env: None,
        kind: Kind::Integer,
        default: Some("10"),
        help: "time in-flight requests get to finish on shutdown",
    },
    KeySpec {
        key: "relay.log_format",
        env: None,
        kind: Kind::Choice(&["human", "json"]),
        default: Some("human"),
        help: "access log format",
    },
    KeySpec {
        key: "relay.log_file",
        env: None,
        kind: Kind::Path,
        default: None,
        help: "access log file (default: stderr)",
    },
    KeySpec {
        key: "relay.strip_header_prefixes",
        env: None,
        kind: Kind::PrefixList,
        default: Some(crate::auth::DEFAULT_STRIP_PREFIXES),
        help: "headers with these prefixes are meant for gateways: failing open never sends them \
               to a provider",
    },
    KeySpec {
        key: "relay.providers.openai",
        env: None,
        kind: Kind::Url,
        default: Some("https://api.openai.com"),
        help: "fail-open target for OpenAI-style paths",
    },
    KeySpec {
        key: "relay.providers.anthropic",
        env: None,
        kind: Kind::Url,
        default: Some("https://api.anthropic.com"),
        help: "fail-open target for Anthropic paths",
    },
    KeySpec {
        key: "relay.providers.gemini",
        env: None,
        kind: Kind::Url,
        default: Some("https://generativelanguage.googleapis.com"),
        help: "fail-open target for Gemini paths",
    },
];

/// The relay's default address. Not the gateway's 8787: Portkey and anyray's own
/// gateway default to it, and a relay on the gateway's port points tools at the gateway
/// itself (docs/gateway-contract.md, "The local relay's port").
pub const DEFAULT_RELAY_LISTEN: &str = "127.0.0.1:18787";

/// The spec of a key: an exact entry, else a pattern whose `*` parts are valid here
/// (a provider name in `routes.*`, a header name in `headers.*`).
pub fn spec(key: &str) -> Option<&'static KeySpec> {
    KEYS.iter()
        .find(|k| k.key == key)
        .or_else(|| KEYS.iter().find(|k| matches_pattern(k.key, key)))
}

fn matches_pattern(pattern: &str, key: &str) -> bool {
    if !pattern.contains('*') {
        return false;
    }
    let (pattern, key): (Vec<&str>, Vec<&str>) =
        (pattern.split('.').collect(), key.split('.').collect());
    pattern.len() == key.len()
        && pattern
            .iter()
            .zip(&key)
            .enumerate()
            .all(|(i, (p, k))| match *p {
                "*" if i == pattern.len() - 1 => crate::auth::check_fixed_name(k).is_ok(),
                "*" => crate::gateway_url::Provider::from_key(k).is_some(),
                p => p == *k,
            })
}

fn unknown_key(key: &str) -> UserError {
    let known: Vec<&str> = KEYS.iter().map(|k| k.key).collect();
    UserError::usage(format!("unknown setting `{key}`"))
        .with_hint(format!("known settings: {}", known.join(", ")))
}

/// The config file as parsed: its path, whether it exists, and the document.
#[derive(Debug)]
pub(crate) struct ConfigFile {
    pub path: PathBuf,
    pub exists: bool,
    doc: DocumentMut,
}

impl ConfigFile {
    /// Reads and parses the file; a missing file is an empty config.
    /// A malformed file is a usage error that names `file:line:col`.
    pub(crate) fn load(path: &Path) -> Result<Self> {
        let Some(bytes) = fs_safe::read_optional(path)? else {
            return Ok(Self {
                path: path.to_path_buf(),
                exists: false,
                doc: DocumentMut::new(),
            });
        };
        let text = String::from_utf8(bytes).map_err(|e| {
            UserError::usage(format!(
                "{}: not valid UTF-8 (byte {})",
                path.display(),
                e.utf8_error().valid_up_to()
            ))
            .with_hint("save the config file as UTF-8")
        })?;
        let doc = text.parse::<DocumentMut>().map_err(|e| {
            let (line, col) = line_col(&text, e.span().map_or(0, |s| s.start));
            UserError::usage(format!(
                "{}:{line}:{col}: invalid TOML: {}",
                path.display(),
                e.message().trim_end()
            ))
            .with_hint("fix the file, or move it aside to start from defaults")
        })?;
        Ok(Self {
            path: path.to_path_buf(),
            exists: true,
            doc,
        })
    }

    /// The raw item at a dotted key.
    fn item(&self, key: &str) -> Option<&Item> {
        let mut item = self.doc.as_item();
        for part in key.split('.') {
            item = item.get(part)?;
        }
        (!item.is_none()).then_some(item)
    }

    /// The value at a known key, as the string form resolution and `config get` use.
    /// A value of the wrong type is reported as an error naming the key.
    pub(crate) fn get(&self, key: &str) -> Result<Option<String>, UserError> {
        let Some(item) = self.item(key) else {
            return Ok(None);
        };
        let wrong = |expected: &str| {
            UserError::usage(format!(
                "{}: `{key}` must be {expected}",
                self.path.display()
            ))
            .with_hint(format!("fix it with `anyray config set {key} VALUE`"))
        };
        match item.as_value() {
            Some(Value::String(s)) => Ok(Some(s.value().clone())),
            Some(Value::Integer(i)) => Ok(Some(i.value().to_string())),
            Some(Value::Array(a)) => {
                let items: Option<Vec<&str>> = a.iter().map(Value::as_str).collect();
                items
                    .map(|v| Some(v.join(",")))
                    .ok_or_else(|| wrong("a list of strings"))
            }
            _ => Err(wrong("a string or number")),
        }
    }

    /// The entries of the table at a dotted key, each value a string (the fixed-header
    /// tables); an entry of another type is an error naming it.
    pub(crate) fn string_table(&self, key: &str) -> Result<Vec<(String, String)>, UserError> {
        let Some(table) = self.item(key).and_then(Item::as_table_like) else {
            return Ok(Vec::new());
        };
        table
            .iter()
            .filter(|(_, item)| !item.is_none())
            .map(|(name, item)| match item.as_str() {
                Some(value) => Ok((name.to_string(), value.to_string())),
                None => Err(UserError::usage(format!(
                    "{}: `{key}.{name}` must be a string",
                    self.path.display()
                ))
                .with_hint(format!(
                    "fix it with `anyray config set {key}.{name} VALUE`"
                ))),
            })
            .collect()
    }

    /// Dotted keys present in the file that anyray does not know (they are ignored).
    pub(crate) fn unknown_keys(&self) -> Vec<String> {
        fn walk(prefix: &str, table: &dyn toml_edit::TableLike, out: &mut Vec<String>) {
            for (key, item) in table.iter() {
                let full = if prefix.is_empty() {
                    key.to_string()
                } else {
                    format!("{prefix}.{key}")
                };
                match item.as_table_like() {
                    Some(sub) if !KEYS.iter().any(|k| k.key == full) => walk(&full, sub, out),
                    _ if spec(&full).is_none() => out.push(full),
                    _ => {}
                }
            }
        }
        let mut out = Vec::new();
        walk("", self.doc.as_table(), &mut out);
        out
    }

    /// Sets a known key after validating the value; keeps comments around it.
    pub(crate) fn set(&mut self, key: &str, raw: &str) -> Result<(), UserError> {
        let spec = spec(key).ok_or_else(|| unknown_key(key))?;
        let mut value = typed_value(spec, raw)?;
        let (parents, leaf) = split_key(key);
        let mut table = self.doc.as_table_mut();
        for part in parents {
            let entry = table.entry(part).or_insert_with(|| {
                let mut t = Table::new();
                t.set_implicit(true);
                Item::Table(t)
            });
            table = entry.as_table_mut().ok_or_else(|| {
                UserError::usage(format!("{}: `{part}` is not a table", self.path.display()))
            })?;
        }
        match table.get_mut(leaf) {
            // Replace in place: the key keeps the comments above it, and the value
            // keeps the comment that followed it on its line.
            Some(item) => {
                if let Some(old) = item.as_value() {
                    *value.decor_mut() = old.decor().clone();
                }
                *item = Item::Value(value);
            }
            None => {
                table.insert(leaf, Item::Value(value));
            }
        }
        Ok(())
    }

    /// Removes a key; `false` when it was not set.
    pub(crate) fn unset(&mut self, key: &str) -> Result<bool, UserError> {
        spec(key).ok_or_else(|| unknown_key(key))?;
        let (parents, leaf) = split_key(key);
        let mut table = self.doc.as_table_mut();
        for part in parents {
            match table.get_mut(part).and_then(Item::as_table_mut) {
                Some(t) => table = t,
                None => return Ok(false),
            }
        }
        Ok(table.remove(leaf).is_some())
    }

    /// Writes the file atomically (0600 if new: it is the user's own settings).
    pub(crate) fn save(&self) -> Result<()> {
        fs_safe::atomic_write(&self.path, self.doc.to_string().as_bytes(), Some(0o600))
    }

    /// [`Self::save`] while holding the connect lock (`connect` remembering the gateway):
    /// a temp file a killed save left in the file's dir is removed first.
    pub(crate) fn save_locked(&self, _lock: &fs_safe::Lock) -> Result<()> {
        if let Some(dir) = self.path.parent() {
            fs_safe::remove_stale_temps(dir);
        }
        fs_safe::atomic_write_locked(&self.path, self.doc.to_string().as_bytes(), Some(0o600))
    }
}

fn split_key(key: &str) -> (Vec<&str>, &str) {
    let mut parts: Vec<&str> = key.split('.').collect();
    let leaf = parts.pop().unwrap_or(key);
    (parts, leaf)
}

/// A setting's value, parsed once by its kind (see [`parse`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Setting {
    Url(GatewayUrl),
    /// The URLs in order (none for an empty list).
    UrlList(Vec<GatewayUrl>),
    Path(PathBuf),
    HeaderName(String),
    SocketAddr(SocketAddr),
    /// Host names, each one the relay can match in `Host`.
    HostList(Vec<String>),
    Integer(u64),
    /// One of the kind's choices (the table's own name for it).
    Choice(&'static str),
    Providers(Vec<crate::gateway_url::Provider>),
    Prefixes(Vec<String>),
    HeaderValue(String),
    /// `Kind::Issuer` and `Kind::Text`.
    Text(String),
}

/// A type a setting's parsed value converts to. The settings table fixes each key's
/// kind, so asking a key for another type is a bug in the caller (the settings' unit
/// tests resolve every key).
pub(crate) trait FromSetting {
    fn from_setting(setting: Setting) -> Self;
}

/// `FromSetting` for a type one kind of setting holds.
macro_rules! from_setting {
    ($($t:ty => $kind:ident),* $(,)?) => {$(
        impl FromSetting for $t {
            fn from_setting(setting: Setting) -> Self {
                match setting {
                    Setting::$kind(value) => value,
                    other => panic!("not a {} setting: {other:?}", stringify!($kind)),
                }
            }
        }
    )*};
}

from_setting!(
    GatewayUrl => Url,
    Vec<GatewayUrl> => UrlList,
    PathBuf => Path,
    String => HeaderName,
    SocketAddr => SocketAddr,
    Vec<String> => HostList,
    u64 => Integer,
    Vec<crate::gateway_url::Provider> => Providers,
);

/// Parses a raw string by its setting's kind; the error says what is expected.
pub fn parse(spec: &KeySpec, raw: &str) -> Result<Setting, UserError> {
    let invalid = |expected: &str| {
        UserError::usage(format!(
            "invalid value `{raw}` for `{}`: expected {expected}",
            spec.key
        ))
    };
    let list = || raw.split(',').map(str::trim).filter(|s| !s.is_empty());
    match spec.kind {
        Kind::Url => GatewayUrl::parse(raw).map(Setting::Url),
        Kind::UrlList => list()
            .map(GatewayUrl::parse)
            .collect::<Result<_, _>>()
            .map(Setting::UrlList),
        Kind::Path if !raw.is_empty() => Ok(Setting::Path(PathBuf::from(raw))),
        Kind::Path => Err(invalid("a file path")),
        Kind::HeaderName
            if !raw.is_empty()
                && raw
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            Ok(Setting::HeaderName(raw.to_string()))
        }
        Kind::HeaderName => Err(invalid("a header name such as x-anyray-key")),
        Kind::SocketAddr => raw
            .parse::<SocketAddr>()
            .map(Setting::SocketAddr)
            .map_err(|_| invalid("an address such as 127.0.0.1:8787")),
        Kind::HostList if list().all(crate::relay::valid_allowed_host) => {
            Ok(Setting::HostList(list().map(str::to_string).collect()))
        }
        Kind::HostList => Err(invalid(
            "host names such as devbox.corp.example or devbox:8787",
        )),
        Kind::Integer => raw
            .parse::<u64>()
            .map(Setting::Integer)
            .map_err(|_| invalid("a whole number")),
        Kind::IntegerIn(min, max) => raw
            .parse::<u64>()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .map(Setting::Integer)
            .ok_or_else(|| invalid(&format!("a whole number from {min} to {max}"))),
        Kind::Choice(choices) => choices
            .iter()
            .find(|c| **c == raw)
            .map(|c| Setting::Choice(c))
            .ok_or_else(|| invalid(&format!("one of {}", choices.join(", ")))),
        Kind::ProviderList => list()
            .map(|name| crate::gateway_url::Provider::from_key(&name.to_ascii_lowercase()))
            .collect::<Option<Vec<_>>>()
            .map(Setting::Providers)
            .ok_or_else(|| {
                invalid("provider names: openai, anthropic, gemini, bedrock, vertex, azure")
            }),
        Kind::PrefixList
            if list().all(|p| {
                p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            }) =>
        {
            Ok(Setting::Prefixes(
                list().map(str::to_ascii_lowercase).collect(),
            ))
        }
        Kind::PrefixList => Err(invalid("header-name prefixes such as x-litellm-")),
        Kind::Issuer if valid_issuer(raw) => Ok(Setting::Text(raw.to_string())),
        Kind::Issuer => Err(invalid(
            "an https:// URL such as https://login.example.com/realms/acme (http:// only on 127.0.0.1 or localhost)",
        )),
        Kind::Text
            if !raw.is_empty() && raw.trim() == raw && !raw.chars().any(char::is_control) =>
        {
            Ok(Setting::Text(raw.to_string()))
        }
        Kind::Text => Err(invalid("non-empty text")),
        // The value is not repeated: it may be the very secret being refused.
        Kind::HeaderValue => crate::auth::check_fixed_value(raw)
            .map(|()| Setting::HeaderValue(raw.to_string()))
            .map_err(|why| UserError::usage(format!("invalid value for `{}`: {why}", spec.key))),
    }
}

/// An issuer URL anyray will talk to: https, or plain http only on loopback; no query
/// or fragment (OpenID Connect Discovery §3).
pub(crate) fn valid_issuer(raw: &str) -> bool {
    let Ok(url) = url::Url::parse(raw) else {
        return false;
    };
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    (url.scheme() == "https" || (url.scheme() == "http" && loopback))
        && url.query().is_none()
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none()
}

fn typed_value(spec: &KeySpec, raw: &str) -> Result<Value, UserError> {
    parse(spec, raw)?;
    Ok(match spec.kind {
        Kind::Integer | Kind::IntegerIn(..) => {
            Value::from(raw.parse::<i64>().map_err(|_| {
                UserError::usage(format!("`{}` is too large for `{}`", raw, spec.key))
            })?)
        }
        Kind::UrlList | Kind::HostList | Kind::ProviderList | Kind::PrefixList => Value::Array(
            raw.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect(),
        ),
        _ => Value::from(raw),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> ConfigFile {
        ConfigFile {
            path: "config.toml".into(),
            exists: true,
            doc: text.parse().unwrap(),
        }
    }

    #[test]
    fn set_keeps_comments_and_order() {
        let mut cfg = parse(
            "# top\nvia = \"direct\" # how\n\n[relay]\n# listen here\nlisten = \"127.0.0.1:1\"\n",
        );
        cfg.set("via", "relay").unwrap();
        cfg.set("gateway", "https://gw.example").unwrap();
        cfg.set("relay.listen", "127.0.0.1:2").unwrap();
        assert_eq!(
            cfg.doc.to_string(),
            "# top\nvia = \"relay\" # how\ngateway = \"https://gw.example\"\n\n[relay]\n# listen here\nlisten = \"127.0.0.1:2\"\n"
        );
    }

    #[test]
    fn set_creates_nested_tables() {
        let mut cfg = parse("");
        cfg.set("relay.providers.openai", "http://127.0.0.1:9")
            .unwrap();
        cfg.set("relay.upstreams", "https://a.example, https://b.example")
            .unwrap();
        let text = cfg.doc.to_string();
        assert!(
            text.contains("[relay.providers]\nopenai = \"http://127.0.0.1:9\""),
            "{text}"
        );
        assert_eq!(
            cfg.get("relay.upstreams").unwrap().as_deref(),
            Some("https://a.example,https://b.example")
        );
    }

    #[test]
    fn rejects_unknown_keys_and_bad_values() {
        let mut cfg = parse("");
        assert!(
            cfg.set("gatewya", "x")
                .unwrap_err()
                .hint
                .unwrap()
                .contains("gateway")
        );
        assert!(cfg.set("relay.listen", "nope").is_err());
        assert!(cfg.set("via", "sideways").is_err());
        assert!(cfg.set("relay.max_body_mb", "-1").is_err());
        for workers in ["0", "65", "100000"] {
            let err = cfg.set("relay.workers", workers).unwrap_err();
            assert!(err.message.contains("from 1 to 64"), "{}", err.message);
        }
        cfg.set("relay.workers", "64").unwrap();
        assert!(cfg.set("relay.allowed_hosts", "devbox, http://x").is_err());
        cfg.set("relay.allowed_hosts", "devbox.corp.example, [fd00::1]:8787")
            .unwrap();
    }

    #[test]
    fn finds_unknown_keys() {
        let cfg = parse(
            "gateway = \"https://g.example\"\ncolour = 1\n[relay]\nlisten = \"127.0.0.1:1\"\nspeed = 2\n[relay.providers]\nopenai = \"https://x.example\"\nmistral = \"https://m.example\"\n",
        );
        assert_eq!(
            cfg.unknown_keys(),
            ["colour", "relay.speed", "relay.providers.mistral"]
        );
    }

    #[test]
    fn unset_removes_only_that_key() {
        let mut cfg = parse("gateway = \"https://g.example\" # gw\nvia = \"relay\"\n");
        assert!(cfg.unset("gateway").unwrap());
        assert!(!cfg.unset("gateway").unwrap());
        assert_eq!(cfg.doc.to_string(), "via = \"relay\"\n");
    }
}
