//! `anyray gateway`: run the local relay in the foreground (the engine is `crate::relay`).

use std::net::SocketAddr;

use anyhow::{Context as _, Result};

use super::Context;
use crate::cli::GatewayArgs;
use crate::error::UserError;
use crate::relay::{self, Identity, Relay, RelayConfig, RelaySummary};
use crate::secrets;
use crate::settings::{Overrides, Settings};

pub fn run(args: &GatewayArgs, ctx: &Context) -> Result<()> {
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
    // relay.workers is within 1..=64 (checked when the settings were read).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(settings.relay.workers)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let result = runtime.block_on(serve(&settings, ctx));
    // Once the relay has stopped, nothing is left to wait for: a DNS lookup still
    // running on a blocking thread must not hold up the exit.
    runtime.shutdown_background();
    result
}

async fn serve(settings: &Settings, ctx: &Context<'_>) -> Result<()> {
    let plan = relay::resolve_identity(settings).await?;
    if let Some(note) = &plan.note {
        ctx.printer.warn(note);
    }
    let config = RelayConfig::from_settings(settings, plan.identity);
    let mut signals = StopSignals::install()?;
    let logs_to_file = matches!(config.log, relay::LogTarget::File(_));
    let relay = Relay::bind(config).await?;
    if logs_to_file {
        // The startup line went to the log file; say where we are on the terminal too.
        eprintln!("anyray relay listening on {}", relay.listening_on());
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
    let stored = secrets::load()?;
    let identity = match (&settings.identity_header, &stored) {
        (Some(header), Some((key, _))) => Some(Identity::new(header, key.clone())?),
        _ => None,
    };
    let config = RelayConfig::from_settings(settings, identity);
    config.validate()?;
    crate::http::tls_config(config.ca_file.as_deref())?;
    let summary = config.summary(
        stored.as_ref().map(|(_, store)| store.to_string()),
        settings.relay.workers,
    );
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
