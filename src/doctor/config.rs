//! The `config` check: the gateway and the other settings, and where each came from.

use super::{CheckId, Finding, Report};
use crate::settings::Via;
use crate::settings::{Settings, Source};

/// Settings that could not be resolved: the message and the hint of the error, which
/// the `config` check reports (every other check is then skipped).
#[derive(Debug, Clone)]
pub(crate) struct ConfigError {
    pub(crate) message: String,
    pub(crate) hint: Option<String>,
}

/// The `config` check: where the gateway and the other settings come from.
pub(super) fn check(s: &Settings) -> Finding {
    let gw = &s.gateway;
    let mut detail = vec![
        format!(
            "config file: {} ({}{})",
            s.config_file.value.display(),
            if s.config_exists {
                "found"
            } else {
                "not found"
            },
            match &s.config_file.source {
                Source::Default => String::new(),
                other => format!(", from {other}"),
            }
        ),
        format!("gateway: {} (from {})", gw.value, gw.source),
        format!("via: {} (from {})", s.via.value.as_str(), s.via.source),
    ];
    if let Some(ca) = &s.ca_file {
        detail.push(format!(
            "ca_file: {} (from {})",
            ca.value.display(),
            ca.source
        ));
    }
    if let Some(header) = &s.identity_header {
        detail.push(format!("identity_header: {header}"));
    }
    detail.extend(s.warnings.iter().map(|w| format!("warning: {w}")));
    let detail = detail.join("\n");

    if let Some(ca) = &s.ca_file
        && let Err(err) = crate::http::load_ca_file(&ca.value)
    {
        let hint = crate::error::classify(&err)
            .hint
            .unwrap_or_default()
            .to_string();
        return Finding::fail(CheckId::Config, format!("{err:#}"))
            .detail(detail)
            .hint(hint);
    }
    if s.via.value == Via::Relay && relays_to_itself(s) {
        return Finding::fail(
            CheckId::Config,
            format!(
                "the relay listens on {} and would forward to itself",
                s.relay.listen
            ),
        )
        .detail(detail)
        .hint("set the org gateway with `anyray config set gateway URL`, or move the relay with `anyray config set relay.listen ADDR`");
    }
    if gw.source == Source::Default {
        return Finding::warn(
            CheckId::Config,
            format!("no gateway configured: using the default {}", gw.value),
        )
        .detail(detail)
        .hint("set it with `anyray config set gateway https://…` (or ANYRAY_GATEWAY)");
    }
    let summary = format!("gateway {} (from {})", gw.value, gw.source);
    if s.warnings.is_empty() {
        Finding::ok(CheckId::Config, summary).detail(detail)
    } else {
        Finding::warn(CheckId::Config, s.warnings.join("; "))
            .detail(detail)
            .hint("fix the settings named above (`anyray config`)")
    }
}

/// Whether one of the relay's upstreams is the relay's own listen address.
fn relays_to_itself(s: &Settings) -> bool {
    let listen = s.relay.listen;
    s.relay
        .upstreams
        .iter()
        .any(|up| crate::relay::is_own_address(up, listen))
}

/// The report when the settings could not be resolved: `config` says why and every
/// other selected check skips.
pub(super) fn failed(checks: &[CheckId], err: ConfigError) -> Report {
    let findings = checks
        .iter()
        .map(|&c| {
            if c == CheckId::Config {
                let f = Finding::fail(CheckId::Config, err.message.clone());
                match &err.hint {
                    Some(h) => f.hint(h.clone()),
                    None => f,
                }
            } else {
                Finding::skip(c, "skipped: the configuration is invalid (see config)")
            }
        })
        .collect();
    Report::new(None, findings)
}
