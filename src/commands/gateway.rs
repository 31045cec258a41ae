//! `anyray gateway`: run the local relay in the foreground (the engine is `crate::relay`).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context as _, Result};

use super::Context;
use crate::auth::{FixedHeaders, OwnKeyProvider, Scheme};
use crate::cli::GatewayArgs;
use crate::discovery;
use crate::error::UserError;
use crate::gateway_url::Provider;
use crate::provider_env;
use crate::relay::{self, Identity, Relay, RelayConfig, RelaySummary};
use crate::runtime::{self, Threads};
use crate::secrets::{self, Secret};
use crate::settings::{Overrides, Settings};

pub(super) fn run(args: &GatewayArgs, ctx: &Context) -> Result<()> {
    let settings = ctx.settings(Overrides {
        listen: args.listen,
        upstreams: args.upstreams.clone(),
        fallback: args.fallback,
        log_format: args.log_format,
        log_file: args.log_file.clone(),
        ..ctx.overrides()
    })?;
    check_listen(settings.relay.listen, args.allow_remote)?;
    if args.check_config {
        return check_config(&settings, ctx);
    }
    if !settings.relay.listen.ip().is_loopback() {
        ctx.printer.warn(format!(
            "listening on {}: anyone who can reach this machine can send requests through \
             the relay to your org gateway, with your Anyray key if one is stored",
            settings.relay.listen
        ));
    }
    // The keys first: the keyring blocks, so they are read before the runtime starts.
    let key = super::sso::credential(ctx)?.map(|(key, _store)| key);
    let mut settings = settings;
    settings.relay.provider_keys = provider_keys(&settings)?;
    // relay.workers is within 1..=64 (checked when the settings were read). One worker is
    // this thread alone: no hand-off between the accepting thread and a worker, no
    // work-stealing bookkeeping per wake-up (issue 18's benchmark).
    let threads = match settings.relay.workers {
        1 => Threads::Current,
        n => Threads::Workers(n),
    };
    runtime::block_on(threads, serve(&settings, key, ctx))?
}

async fn serve(settings: &Settings, key: Option<Secret>, ctx: &Context<'_>) -> Result<()> {
    let plan = relay_identity(settings, key).await?;
    if let Some(note) = &plan.note {
        ctx.printer.warn(note);
    }
    let identity = plan.identity.clone();
    let config = plan.apply(&settings.relay);
    let mut signals = StopSignals::install()?;
    let logs_to_file = matches!(config.log, relay::LogTarget::File(_));
    let relay = Relay::bind(config).await?;
    if let Some(identity) = &identity {
        super::sso::keep_relay_credential_fresh(&relay, identity, settings.clone());
    }
    if logs_to_file {
        // The startup line went to the log file; say where we are on the terminal too,
        // on stderr beside where the access log would be (and in --json and --quiet).
        #[allow(clippy::print_stderr)]
        {
            eprintln!("anyray relay listening on {}", relay.listening_on());
        }
    }
    signals.recv().await;
    tokio::select! {
        () = relay.shutdown() => Ok(()),
        () = signals.recv() => {
            ctx.printer.warn("second signal: stopping without waiting for in-flight requests");
            Ok(())
        }
    }
}

/// Who the relay says the user is, and what the user should know about it.
#[derive(Debug)]
pub(super) struct IdentityPlan {
    pub(super) identity: Option<Identity>,
    pub(super) scheme: Scheme,
    /// The fixed headers: discovery's with the config's over them.
    pub(super) headers: FixedHeaders,
    /// Why no key will be sent although one is stored, or what detection found.
    pub(super) note: Option<String>,
}

impl IdentityPlan {
    /// The relay configuration with this identity, scheme and headers.
    pub(super) fn apply(self, config: &RelayConfig) -> RelayConfig {
        RelayConfig {
            identity: self.identity,
            scheme: self.scheme,
            headers: self.headers,
            ..config.clone()
        }
    }
}

/// Decides the relay's credential (`provider_env::auth_plan`, shared with `run` and
/// doctor) with the first upstream's discovery. `key` comes from `anyray login` or
/// `ANYRAY_TOKEN`, read with [`secrets::load`] before the runtime starts, because the
/// keyring blocks.
pub(super) async fn relay_identity(
    settings: &Settings,
    key: Option<Secret>,
) -> Result<IdentityPlan> {
    let ca_file = settings.ca_file.as_ref().map(|c| c.value.as_path());
    let client = crate::http::client(
        ca_file,
        settings.relay.connect_timeout.max(Duration::from_secs(1)),
    )?;
    let mut found = None;
    let mut errors = Vec::new();
    let mut answered = &settings.relay.upstreams[0];
    for gw in &settings.relay.upstreams {
        match discovery::fetch(&client, gw).await {
            Ok(d) => {
                (found, answered) = (d, gw);
                break;
            }
            Err(e) => errors.push(format!("{e:#}")),
        }
    }
    let plan = provider_env::auth_plan(settings, answered, found.as_ref(), key, true).await?;
    let mut note = plan.note;
    if found.is_none()
        && errors.len() == settings.relay.upstreams.len()
        && plan.credential.is_some()
    {
        note.get_or_insert_with(|| {
            format!(
                "cannot read the gateway's discovery ({}); your key goes {}",
                errors.join("; "),
                describe(&plan.scheme, &plan.header.0)
            )
        });
    }
    Ok(IdentityPlan {
        identity: plan.credential,
        scheme: plan.scheme,
        headers: provider_env::fixed_headers(settings, found.as_ref()),
        note,
    })
}

/// Where the key goes, in words.
pub(super) fn describe(scheme: &Scheme, header: &str) -> String {
    match scheme {
        Scheme::Header => format!("in the {header} header (auth.scheme = header)"),
        Scheme::Key => "as the tools' API key, where each SDK sends it (auth.scheme = key)".into(),
    }
}

/// The user's own provider keys for failing open in the `key` scheme (`anyray login
/// --provider`). Read before the runtime starts (the keyring blocks); only when the
/// relay may fail open at all.
pub(super) fn provider_keys(settings: &Settings) -> Result<BTreeMap<Provider, Secret>> {
    let mut keys = BTreeMap::new();
    if settings.relay.fallback != relay::Fallback::Direct {
        return Ok(keys);
    }
    for own in OwnKeyProvider::ALL {
        if let Some((key, _)) = secrets::load_provider(own.provider())? {
            keys.insert(own.provider(), key);
        }
    }
    Ok(keys)
}

/// SIGINT (Ctrl-C) and, on Unix, SIGTERM. Installed before the relay listens: a signal
/// that arrives before its handler would kill the process instead of stopping it.
struct StopSignals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(windows)]
    ctrl_c: tokio::signal::windows::CtrlC,
}

impl StopSignals {
    fn install() -> Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                interrupt: signal(SignalKind::interrupt()).context("cannot handle SIGINT")?,
                terminate: signal(SignalKind::terminate()).context("cannot handle SIGTERM")?,
            })
        }
        #[cfg(windows)]
        {
            Ok(Self {
                ctrl_c: tokio::signal::windows::ctrl_c().context("cannot handle Ctrl-C")?,
            })
        }
    }

    async fn recv(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
        #[cfg(windows)]
        self.ctrl_c.recv().await;
    }
}

/// A relay reachable from other machines is opt-in.
fn check_listen(listen: SocketAddr, allow_remote: bool) -> Result<(), UserError> {
    if listen.ip().is_loopback() || allow_remote {
        return Ok(());
    }
    Err(UserError::usage(format!(
        "refusing to listen on {listen}: it is not a loopback address, so other machines could use the relay"
    ))
    .with_hint("listen on 127.0.0.1 (the default), or pass --allow-remote if you mean it"))
}

fn check_config(settings: &Settings, ctx: &Context) -> Result<()> {
    let stored = super::sso::credential(ctx)?;
    let identity = match (&settings.identity_header, &stored) {
        (Some(header), Some((key, _))) => {
            Some(Identity::new(settings.relay.scheme, header, key.clone())?)
        }
        _ => None,
    };
    let config = relay::RelayConfig {
        identity,
        provider_keys: provider_keys(settings)?,
        ..settings.relay.clone()
    };
    config.validate()?;
    crate::http::tls_config(config.ca_file.as_deref())?;
    let summary = config.summary(stored.as_ref().map(|(_, store)| store.to_string()));
    let p = &ctx.printer;
    if p.json {
        return p.json(&summary);
    }
    p.line("The relay configuration is valid.");
    for (label, value) in human_summary(&summary) {
        p.line(format!("  {label:<16} {value}"));
    }
    Ok(())
}

fn human_summary(s: &RelaySummary) -> Vec<(&'static str, String)> {
    let identity = match (&s.identity_header, &s.key_store) {
        (Some(header), Some(store)) => format!("{header} (key in {store})"),
        (None, Some(store)) => {
            format!("named by the gateway's discovery at startup (key in {store})")
        }
        (_, None) => "none (no key stored; `anyray login` stores one)".into(),
    };
    let t = &s.fail_open_targets;
    vec![
        ("listen", s.listen.clone()),
        (
            "allowed hosts",
            if s.allowed_hosts.is_empty() {
                "its own addresses and localhost".into()
            } else {
                format!(
                    "its own addresses, localhost and {}",
                    s.allowed_hosts.join(", ")
                )
            },
        ),
        ("upstreams", s.upstreams.join(", then ")),
        ("fallback", s.fallback.to_string()),
        (
            "fail-open to",
            format!(
                "openai {}, anthropic {}, gemini {}",
                t.openai, t.anthropic, t.gemini
            ),
        ),
        ("identity header", identity),
        ("auth scheme", s.auth_scheme.to_string()),
        (
            "fixed headers",
            if s.fixed_headers == FixedHeaders::default() {
                "none".into()
            } else {
                let mut all: Vec<String> = s
                    .fixed_headers
                    .global
                    .keys()
                    .map(|k| format!("{k} (every route)"))
                    .collect();
                for (route, headers) in &s.fixed_headers.routes {
                    all.extend(headers.keys().map(|k| format!("{k} ({})", route.key())));
                }
                all.join(", ")
            },
        ),
        (
            "fail-open strips",
            format!(
                "gateway credentials and headers, and {}*",
                s.strip_header_prefixes.join("*, ")
            ),
        ),
        (
            "own keys",
            if s.fail_open_keys.is_empty() {
                "none (`anyray login --provider NAME`)".into()
            } else {
                s.fail_open_keys.join(", ")
            },
        ),
        (
            "ca file",
            s.ca_file.as_ref().map_or_else(
                || "none (OS trust store only)".into(),
                |p| p.display().to_string(),
            ),
        ),
        (
            "timeouts",
            format!(
                "connect {} ms, headers {} ms, idle {} s",
                s.connect_timeout_ms,
                s.header_timeout_ms,
                s.idle_timeout_ms / 1000
            ),
        ),
        (
            "limits",
            format!(
                "body {} MiB, {} connections, {} worker thread(s)",
                s.max_body_bytes / (1024 * 1024),
                s.max_connections,
                s.workers
            ),
        ),
        ("grace period", format!("{} s", s.grace_period_ms / 1000)),
        ("access log", format!("{} ({})", s.log, s.log_format)),
    ]
}
