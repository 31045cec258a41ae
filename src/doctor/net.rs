//! The network steps to the gateway (`net.dns`, `net.tcp`, `net.tls`, `net.http`) and
//! `net.proxy`. Each step does one thing, on its own, so the report says exactly where
//! the path breaks. The low-level parts are shared with `failopen.path`.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio::time::timeout;
use url::Url;

use super::finding::fmt_secs;
use super::proxy::{self, Route};
use super::{CheckId, Cx, Finding, Level, cert};
use crate::settings::Via;

/// Warn when the gateway's certificate expires sooner than this.
const EXPIRY_WARN_DAYS: i64 = 14;

/// The hint for any TLS trust problem: the corporate-CA setups that fix it.
pub(super) const CA_HINT: &str = "if your network inspects TLS, point anyray at the corporate root CA \
with ANYRAY_CA_FILE=/path/ca.pem (or `anyray config set ca_file PATH`); tools need it too: \
SSL_CERT_FILE for OpenSSL-based tools, NODE_EXTRA_CA_CERTS for Node-based ones (Claude Code, Codex), \
or use the relay (`anyray connect --via relay`) so they speak plain http to loopback";

/// A TCP connection the next step (TLS) continues on.
pub(super) struct Connected {
    pub stream: TcpStream,
    pub addr: SocketAddr,
    pub elapsed: Duration,
}

/// Resolves `host` (an IP literal needs no lookup).
pub(super) async fn resolve(
    host: &url::Host<&str>,
    port: u16,
    limit: Duration,
) -> Result<Vec<SocketAddr>, String> {
    let name = match host {
        url::Host::Ipv4(ip) => return Ok(vec![SocketAddr::new(IpAddr::V4(*ip), port)]),
        url::Host::Ipv6(ip) => return Ok(vec![SocketAddr::new(IpAddr::V6(*ip), port)]),
        url::Host::Domain(name) => *name,
    };
    match timeout(limit, crate::http::lookup_host(name, port)).await {
        Err(_) => Err(format!(
            "no DNS answer for {name} within {}",
            fmt_secs(limit)
        )),
        Ok(Err(err)) => Err(format!("cannot resolve {name}: {err}")),
        Ok(Ok(addrs)) => {
            let mut list: Vec<SocketAddr> = Vec::new();
            for addr in addrs {
                if !list.contains(&addr) {
                    list.push(addr);
                }
            }
            if list.is_empty() {
                Err(format!("{name} has no addresses"))
            } else {
                Ok(list)
            }
        }
    }
}

/// Connects to the first address that answers, in order. Each attempt gets a fair share
/// of `limit`, so one black-holed address cannot use up the time of the others.
/// On failure: what happened at each address.
pub(super) async fn connect(
    addrs: &[SocketAddr],
    limit: Duration,
) -> Result<Connected, Vec<(SocketAddr, String)>> {
    let deadline = Instant::now() + limit;
    let mut failures = Vec::new();
    for (i, &addr) in addrs.iter().enumerate() {
        let left = deadline.saturating_duration_since(Instant::now());
        let share = left / u32::try_from(addrs.len() - i).unwrap_or(1);
        let started = Instant::now();
        match timeout(share, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => {
                return Ok(Connected {
                    stream,
                    addr,
                    elapsed: started.elapsed(),
                });
            }
            Ok(Err(err)) if err.kind() == std::io::ErrorKind::ConnectionRefused => {
                failures.push((addr, "connection refused".to_string()));
            }
            Ok(Err(err)) => failures.push((addr, err.to_string())),
            Err(_) => failures.push((addr, format!("no answer within {}", fmt_secs(share)))),
        }
    }
    Err(failures)
}

/// What a finished handshake tells.
pub(super) struct TlsInfo {
    pub protocol: String,
    pub alpn: Option<String>,
    /// Days until the leaf certificate expires (negative: expired).
    pub days_left: Option<i64>,
}

/// A TLS handshake on `stream`, verified with the OS trust store plus `ca_file`.
/// The error is (summary, whether a CA setup is the likely fix).
pub(super) async fn handshake(
    stream: TcpStream,
    host: &url::Host<&str>,
    ca_file: Option<&Path>,
    limit: Duration,
) -> Result<TlsInfo, (String, bool)> {
    let config = crate::http::tls_config(ca_file).map_err(|e| (format!("{e:#}"), true))?;
    let name = match host {
        url::Host::Ipv4(ip) => ServerName::IpAddress(IpAddr::V4(*ip).into()),
        url::Host::Ipv6(ip) => ServerName::IpAddress(IpAddr::V6(*ip).into()),
        url::Host::Domain(d) => ServerName::try_from(d.to_string())
            .map_err(|e| (format!("{d} is not a valid TLS server name: {e}"), false))?,
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tls = match timeout(limit, connector.connect(name, stream)).await {
        Err(_) => {
            return Err((
                format!("no TLS handshake within {}", fmt_secs(limit)),
                false,
            ));
        }
        Ok(Err(err)) => return Err(describe_tls_error(&err)),
        Ok(Ok(tls)) => tls,
    };
    let conn = tls.get_ref().1;
    let days_left = conn
        .peer_certificates()
        .and_then(|certs| certs.first())
        .and_then(|leaf| cert::not_after(leaf))
        .map(|not_after| {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
            (not_after - now).div_euclid(86_400)
        });
    Ok(TlsInfo {
        protocol: conn
            .protocol_version()
            .and_then(|v| v.as_str())
            .unwrap_or("TLS")
            .replace('_', "."),
        alpn: conn
            .alpn_protocol()
            .map(|p| String::from_utf8_lossy(p).into_owned()),
        days_left,
    })
}

/// A handshake error in words, and whether a CA setup is the likely fix.
fn describe_tls_error(err: &std::io::Error) -> (String, bool) {
    use rustls::{CertificateError as C, Error as E};
    let Some(tls) = err.get_ref().and_then(|e| e.downcast_ref::<E>()) else {
        return (format!("TLS handshake failed: {err}"), false);
    };
    match tls {
        E::InvalidCertificate(cert) => match cert {
            C::UnknownIssuer => (
                "certificate not trusted: unknown issuer (a private or corporate CA?)".into(),
                true,
            ),
            C::BadSignature => ("certificate not trusted: bad signature".into(), true),
            C::NotValidForName => ("certificate is not valid for this host name".into(), false),
            C::NotValidForNameContext {
                expected,
                presented,
            } => (
                format!(
                    "certificate is not valid for {expected:?} (it names {})",
                    presented.join(", ")
                ),
                false,
            ),
            C::Expired | C::ExpiredContext { .. } => ("certificate has expired".into(), false),
            C::NotValidYet | C::NotValidYetContext { .. } => (
                "certificate is not valid yet (check the clock)".into(),
                false,
            ),
            C::Revoked => ("certificate has been revoked".into(), false),
            other => (format!("certificate rejected: {other:?}"), true),
        },
        E::InvalidMessage(_) | E::InappropriateMessage { .. } => (
            "the server does not speak TLS here (is the gateway plain http:// on this port?)"
                .into(),
            false,
        ),
        other => (format!("TLS handshake failed: {other}"), false),
    }
}

/// An error with its causes, `a: b: c`, without repeats.
pub(super) fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur = Some(err);
    while let Some(e) = cur {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = e.source();
    }
    parts.join(": ")
}

/// `net.dns`.
pub(super) async fn dns(cx: &Cx) -> Result<(Finding, Vec<SocketAddr>), Finding> {
    let gw = &cx.settings.gateway.value;
    let host = gw.url().host().expect("a gateway URL has a host");
    match resolve(&host, gw.port(), cx.remaining()).await {
        Ok(addrs) => {
            let summary = if matches!(host, url::Host::Domain(_)) {
                format!("{} resolves to {}", gw.host(), list(&addrs))
            } else {
                format!("{} is an IP address: no lookup needed", gw.host())
            };
            Ok((Finding::ok(CheckId::Dns, summary), addrs))
        }
        Err(why) => Err(Finding::fail(CheckId::Dns, why).hint(
            "check the host in the gateway URL (`anyray config get gateway`), your VPN and your DNS settings",
        )),
    }
}

fn list(addrs: &[SocketAddr]) -> String {
    addrs
        .iter()
        .map(|a| a.ip().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `net.tcp`.
pub(super) async fn tcp(cx: &Cx, addrs: &[SocketAddr]) -> Result<(Finding, Connected), Finding> {
    match connect(addrs, cx.remaining()).await {
        Ok(connected) => {
            let mut f = Finding::ok(CheckId::Tcp, format!("connected to {}", connected.addr));
            if addrs.len() > 1 {
                f = f.detail(format!("addresses tried in order: {}", list(addrs)));
            }
            Ok((f, connected))
        }
        Err(failures) => {
            let refused = failures.iter().all(|(_, why)| why == "connection refused");
            let detail = failures
                .iter()
                .map(|(addr, why)| format!("{addr}: {why}"))
                .collect::<Vec<_>>()
                .join("\n");
            let (summary, hint) = if refused {
                (
                    format!("connection refused by {}", failures[0].0),
                    "nothing listens on that port: check the port in the gateway URL \
                     (`anyray config get gateway`) and that the gateway is running",
                )
            } else {
                (
                    format!("cannot connect to {}: {}", failures[0].0, failures[0].1),
                    "check your VPN and firewall; a proxy may be required (see net.proxy)",
                )
            };
            Err(Finding::fail(CheckId::Tcp, summary)
                .detail(detail)
                .hint(hint))
        }
    }
}

/// `net.tls`: only for https:// gateways.
pub(super) async fn tls(cx: &Cx, connected: Connected) -> Result<(Finding, ()), Finding> {
    let gw = &cx.settings.gateway.value;
    if !gw.is_https() {
        return Ok((
            Finding::skip(CheckId::Tls, "plain http: no TLS to check"),
            (),
        ));
    }
    let host = gw.url().host().expect("a gateway URL has a host");
    let ca_file = cx.settings.ca_file.as_ref().map(|c| c.value.as_path());
    let mut detail = vec![match &cx.settings.ca_file {
        Some(ca) => format!(
            "trusted: the OS store and {} (from {})",
            ca.value.display(),
            ca.source
        ),
        None => "trusted: the OS store (no ca_file set)".to_string(),
    }];
    match handshake(connected.stream, &host, ca_file, cx.remaining()).await {
        Ok(info) => {
            let alpn = info.alpn.map(|a| format!(", {a}")).unwrap_or_default();
            detail.push(format!("{}{alpn}", info.protocol));
            let summary = format!("certificate valid for {}", gw.host());
            match info.days_left {
                Some(days) if days < EXPIRY_WARN_DAYS => Ok((
                    Finding::warn(
                        CheckId::Tls,
                        format!("{summary}, but it expires in {days} days"),
                    )
                    .detail(detail.join("\n"))
                    .hint("ask the gateway's admins to renew its certificate"),
                    (),
                )),
                Some(days) => Ok((
                    Finding::ok(CheckId::Tls, format!("{summary}, expires in {days} days"))
                        .detail(detail.join("\n")),
                    (),
                )),
                None => {
                    detail.push("expiry date not readable".into());
                    Ok((
                        Finding::ok(CheckId::Tls, summary).detail(detail.join("\n")),
                        (),
                    ))
                }
            }
        }
        Err((why, ca_problem)) => {
            let set: Vec<&str> = crate::envvars::CA_VARS
                .iter()
                .copied()
                .filter(|v| cx.env.get(v).is_some())
                .collect();
            if !set.is_empty() {
                detail.push(format!(
                    "CA variables set for other tools: {}",
                    set.join(", ")
                ));
            }
            let hint = if ca_problem {
                CA_HINT.to_string()
            } else {
                format!("check the gateway URL's scheme and host; {CA_HINT}")
            };
            Err(Finding::fail(CheckId::Tls, why)
                .detail(detail.join("\n"))
                .hint(hint))
        }
    }
}

/// `net.http`: any HTTP answer from `/healthz` counts; silence fails by timeout.
/// Hands the client on to the gateway checks.
pub(super) async fn http(
    cx: &Cx,
    client: anyhow::Result<reqwest::Client>,
) -> Result<(Finding, reqwest::Client), Finding> {
    let client = client.map_err(|e| Finding::fail(CheckId::Http, format!("{e:#}")))?;
    let gw = &cx.settings.gateway.value;
    let url = gw.join("/healthz");
    // net.tcp and net.tls went direct; this request goes the way tools' requests go.
    let path = match proxy::route(&cx.env, gw.url()) {
        Route::Proxy { var, proxy, .. } => {
            Some(format!("sent through the proxy {proxy} (from {var})"))
        }
        _ => None,
    };
    let limit = cx.remaining();
    let failed = |summary: String, hint: &str| {
        let hint = match &path {
            Some(_) => format!("the request went through a proxy: see net.proxy; {hint}"),
            None => hint.to_string(),
        };
        Finding::fail(CheckId::Http, summary)
            .detail(path.clone().unwrap_or_default())
            .hint(hint)
    };
    match client.get(&url).timeout(limit).send().await {
        Ok(response) => {
            let status = response.status();
            let note = if status.is_success() {
                String::new()
            } else {
                " (the gateway answers; the gateway.* checks look closer)".into()
            };
            let finding = Finding::ok(
                CheckId::Http,
                format!("GET /healthz answered {status}{note}"),
            )
            .detail(path.clone().unwrap_or_default());
            Ok((finding, client))
        }
        Err(err) if err.is_timeout() => Err(failed(
            format!("no HTTP answer within {} from {url}", fmt_secs(limit)),
            "the gateway accepts connections but does not answer: check the gateway itself, or a firewall that swallows traffic",
        )),
        Err(err) => Err(failed(
            format!("GET {url}: {}", error_chain(&err)),
            "check the gateway's logs",
        )),
    }
}

/// `net.proxy`: does gateway traffic go through a proxy, does that proxy answer, and
/// (with the relay) would tools send their loopback traffic through a proxy.
pub(super) async fn proxy(cx: &Cx) -> Finding {
    let gw = &cx.settings.gateway.value;
    let set: Vec<&str> = crate::envvars::PROXY_VARS
        .iter()
        .copied()
        .filter(|v| cx.env.get(v).is_some())
        .collect();
    let mut detail = vec![if set.is_empty() {
        "no proxy variables set".to_string()
    } else {
        format!("set: {}", set.join(", "))
    }];
    let mut finding = match proxy::route(&cx.env, gw.url()) {
        Route::Direct(why) => Finding::ok(
            CheckId::Proxy,
            format!("gateway traffic goes direct: {why}"),
        ),
        Route::Invalid { var } => {
            Finding::fail(CheckId::Proxy, format!("{var} is not a valid proxy URL")).hint(format!(
                "fix or unset {var}, e.g. {var}=http://proxy.corp.example:3128"
            ))
        }
        Route::Proxy {
            var,
            proxy,
            host,
            port,
        } => {
            let through = format!("gateway traffic goes through the proxy {proxy} (from {var})");
            let reached = match Url::parse(&format!("http://{}", bracket_host(&host))) {
                Ok(url) => match url.host() {
                    Some(h) => match resolve(&h, port, cx.remaining()).await {
                        Ok(addrs) => connect(&addrs, cx.remaining())
                            .await
                            .map(|_| ())
                            .map_err(|f| f[0].1.clone()),
                        Err(why) => Err(why),
                    },
                    None => Err("the proxy has no host".into()),
                },
                Err(e) => Err(e.to_string()),
            };
            match reached {
                Ok(()) => Finding::ok(CheckId::Proxy, format!("{through}; it accepts connections")),
                Err(why) => Finding::fail(
                    CheckId::Proxy,
                    format!("{through}, which does not answer: {why}"),
                )
                .hint(format!(
                    "fix or unset {var}, or add {} to NO_PROXY if the gateway is reachable without it",
                    gw.host()
                )),
            }
        }
    };
    // Tools speak to the relay on loopback; many send that through a proxy unless
    // NO_PROXY names it (docs/architecture.md, "Proxies and loopback").
    if cx.settings.via.value == Via::Relay {
        let relay = cx.settings.relay_url();
        if let Route::Proxy { var, proxy, .. } = proxy::route(&cx.env, relay.url()) {
            let line = format!(
                "tools would send the relay's loopback traffic ({relay}) through {proxy} (from {var})"
            );
            let hint = "add 127.0.0.1,localhost to NO_PROXY and no_proxy (`anyray connect --via relay` does this), then restart your shell";
            if finding.level == Level::Ok {
                detail.push(finding.summary.clone());
                finding = Finding::warn(CheckId::Proxy, line).hint(hint);
            } else {
                detail.push(format!("also: {line}"));
                let first = finding.hint.take().unwrap_or_default();
                finding = finding.hint(format!("{first}; {hint}"));
            }
        }
    }
    finding.detail(detail.join("\n"))
}

fn bracket_host(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}
