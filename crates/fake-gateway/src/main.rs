//! The fake org gateway as a standalone server, for benchmarks and e2e scripts.
//!
//! cargo run --release -p fake-gateway -- [--port N] [--chunks N]
//!     [--chunk-delay-ms N] [--text S] [--fault F] [--no-discovery] [--no-fail-open]
//!     [--keep-discovery] [--identity-header H] [--require-identity KEY]
//!     [--require-key KEY | --require-key-env VAR]
//!     [--route-by-header] [--log FILE [--redact-keys]]
//!     [--oidc-issuer URL [--oidc-audience AUD] [--oidc-client-id ID] [--oidc-scopes S]]
//!     [--budget USD|none] [--no-usage] [--litellm-key-info]
//!
//! F is none|refuse|silent|slow:MS|status:CODE|midstream:N|html|optimizer-down.
//! Prints `listening on http://127.0.0.1:PORT` once ready, then serves until killed.
//! Requests are not kept in memory; `--log FILE` appends one JSON line per request;
//! `--redact-keys` logs a fingerprint of each credential header instead of the key.

use std::io::Write;
use std::time::Duration;

use fake_gateway::{Discovery, FakeConfig, FakeGateway, Fault};

const USAGE: &str = "usage: fake_gateway [--port N] [--chunks N] [--chunk-delay-ms N] [--text S]
    [--fault none|refuse|silent|slow:MS|status:CODE|midstream:N|html|optimizer-down]
    [--no-discovery] [--no-fail-open] [--keep-discovery] [--identity-header H]
    [--require-identity KEY] [--require-key KEY | --require-key-env VAR]
    [--route-by-header] [--log FILE] [--redact-keys]
    [--oidc-issuer URL [--oidc-audience AUD] [--oidc-client-id ID] [--oidc-scopes S]]
    [--budget USD|none] [--no-usage] [--litellm-key-info]";

fn parse_fault(s: &str) -> Result<Fault, String> {
    let num = |v: &str| {
        v.parse::<u64>()
            .map_err(|_| format!("bad number in --fault {s}"))
    };
    Ok(match s.split_once(':') {
        None if s == "none" => Fault::None,
        None if s == "refuse" => Fault::Refuse,
        None if s == "silent" => Fault::Silent,
        None if s == "html" => Fault::Html,
        None if s == "optimizer-down" => Fault::OptimizerDown,
        Some(("slow", ms)) => Fault::SlowFirstByte(Duration::from_millis(num(ms)?)),
        Some(("status", code)) => Fault::Status(num(code)? as u16),
        Some(("midstream", n)) => Fault::CloseMidStream {
            after_chunks: num(n)? as usize,
        },
        _ => return Err(format!("unknown --fault {s}")),
    })
}

fn parse_args() -> Result<FakeConfig, String> {
    let mut cfg = FakeConfig {
        record: false, // a long benchmark must not grow memory
        ..FakeConfig::default()
    };
    let mut oidc = fake_gateway::OidcConfig {
        issuer: String::new(),
        audience: None,
        client_id: "anyray-cli".into(),
        scopes: "openid offline_access".into(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        let number = |v: String| {
            v.parse::<u64>()
                .map_err(|_| format!("{flag}: bad number {v}"))
        };
        match flag.as_str() {
            "--port" => cfg.port = number(value()?)? as u16,
            "--chunks" => cfg.chunks = number(value()?)? as usize,
            "--chunk-delay-ms" => cfg.chunk_delay = Duration::from_millis(number(value()?)?),
            "--text" => cfg.text = value()?,
            "--fault" => cfg.fault = parse_fault(&value()?)?,
            "--no-discovery" => cfg.discovery = Discovery::Disabled,
            "--no-fail-open" => cfg.fail_open = false,
            "--keep-discovery" => cfg.keep_discovery = true,
            "--identity-header" => cfg.identity_header = value()?.to_ascii_lowercase(),
            "--require-identity" => cfg.require_identity = Some(value()?),
            "--require-key" => cfg.require_key = Some(value()?),
            // The key from an environment variable, so it is not in the process list.
            "--require-key-env" => {
                let var = value()?;
                cfg.require_key =
                    Some(std::env::var(&var).map_err(|_| format!("{var} is not set"))?);
            }
            "--route-by-header" => cfg.route_by_header = true,
            "--log" => cfg.log_file = Some(value()?.into()),
            "--redact-keys" => cfg.redact_keys = true,
            "--oidc-issuer" => oidc.issuer = value()?,
            "--oidc-audience" => oidc.audience = Some(value()?),
            "--oidc-client-id" => oidc.client_id = value()?,
            "--oidc-scopes" => oidc.scopes = value()?,
            "--no-usage" => cfg.usage = false,
            "--litellm-key-info" => cfg.litellm_key_info = true,
            "--budget" => {
                let v = value()?;
                cfg.budget_usd = match v.as_str() {
                    "none" => None,
                    _ => Some(v.parse().map_err(|_| format!("--budget: bad amount {v}"))?),
                };
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if !oidc.issuer.is_empty() {
        cfg.oidc = Some(oidc);
    }
    Ok(cfg)
}

#[tokio::main]
async fn main() {
    let cfg = parse_args().unwrap_or_else(|e| {
        eprintln!("fake_gateway: {e}");
        std::process::exit(2);
    });
    let gw = FakeGateway::start(cfg).await.unwrap_or_else(|e| {
        eprintln!("fake_gateway: cannot start: {e}");
        std::process::exit(1);
    });
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "listening on {}", gw.url());
    let _ = out.flush();
    drop(out);
    // SIGINT exits cleanly; SIGTERM's default action ends the process anyway.
    let _ = tokio::signal::ctrl_c().await;
}
