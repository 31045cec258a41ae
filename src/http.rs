//! The HTTP client side shared by discovery, doctor and login: rustls with the OS
//! trust store plus an optional extra CA file, and the environment's proxies.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::error::UserError;

/// Reads every certificate in a PEM bundle. The error names the file and what to do.
pub(crate) fn load_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let bad = |why: String| {
        UserError::usage(format!("CA file {}: {why}", path.display()))
            .with_hint("point ANYRAY_CA_FILE (or `anyray config set ca_file PATH`) at a PEM bundle of your corporate root CA")
    };
    let certs: Vec<_> = CertificateDer::pem_file_iter(path)
        .map_err(|e| bad(e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| bad(e.to_string()))?;
    if certs.is_empty() {
        return Err(bad("no PEM certificate found".into()).into());
    }
    Ok(certs)
}

/// A rustls client config that trusts the OS store plus `ca_file`, with ring. Loading
/// the OS store parses every root certificate, so the config is built once per process
/// and `ca_file` (discovery and the preflight each need one, at the same moment).
pub(crate) fn tls_config(ca_file: Option<&Path>) -> Result<rustls::ClientConfig> {
    static BUILT: std::sync::Mutex<Option<(Option<std::path::PathBuf>, rustls::ClientConfig)>> =
        std::sync::Mutex::new(None);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((path, config)) = built.as_ref()
        && path.as_deref() == ca_file
    {
        return Ok(config.clone());
    }
    let config = build_tls_config(ca_file)?;
    *built = Some((ca_file.map(Path::to_path_buf), config.clone()));
    Ok(config)
}

fn build_tls_config(ca_file: Option<&Path>) -> Result<rustls::ClientConfig> {
    let extra = match ca_file {
        Some(path) => load_ca_file(path)?,
        None => Vec::new(),
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier =
        rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider.clone())
            .context("cannot load the system's trusted certificates")?;
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("cannot set up TLS")?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// A reqwest client for short control-plane requests (discovery, doctor, login).
/// Proxies come from HTTPS_PROXY/HTTP_PROXY/ALL_PROXY/NO_PROXY; redirects are not followed
/// so a captive portal's redirect is reported rather than silently fetched.
pub(crate) fn client(ca_file: Option<&Path>, timeout: Duration) -> Result<reqwest::Client> {
    let builder = reqwest::Client::builder();
    #[cfg(debug_assertions)]
    let builder = if dns_disabled() {
        builder.dns_resolver(Arc::new(LocalhostOnly))
    } else {
        builder
    };
    builder
        .use_preconfigured_tls(tls_config(ca_file)?)
        .user_agent(concat!("anyray/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(timeout)
        .timeout(timeout)
        .build()
        .context("cannot build the HTTP client")
}

/// Resolves a host name (doctor's own DNS step; reqwest clients resolve on their own,
/// through the same rule in tests).
pub(crate) async fn lookup_host(name: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
    #[cfg(debug_assertions)]
    if dns_disabled() {
        return localhost_only(name, port);
    }
    Ok(tokio::net::lookup_host((name, port)).await?.collect())
}

/// Whether the test suite turned DNS off (`ANYRAY_TEST_NO_DNS`, debug builds only).
#[cfg(debug_assertions)]
fn dns_disabled() -> bool {
    crate::envvars::get(crate::envvars::ANYRAY_TEST_NO_DNS).is_some()
}

/// `localhost` is loopback; any other name fails the way an unknown name does, without a
/// query: tests use made-up gateway names and must not ask the network about them.
#[cfg(debug_assertions)]
fn localhost_only(name: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    if name.eq_ignore_ascii_case("localhost") {
        return Ok(vec![
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port),
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), port),
        ]);
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::NotFound,
        format!("failed to lookup address information: {name} not resolved (ANYRAY_TEST_NO_DNS)"),
    ))
}

#[cfg(debug_assertions)]
struct LocalhostOnly;

#[cfg(debug_assertions)]
impl reqwest::dns::Resolve for LocalhostOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let found = localhost_only(name.as_str(), 0);
        Box::pin(async move {
            let addrs: reqwest::dns::Addrs = Box::new(found?.into_iter());
            Ok(addrs)
        })
    }
}

/// A client for anyray's own relay on loopback: never through a proxy, whatever the
/// environment says, and no redirects.
pub(crate) fn loopback_client(timeout: Duration) -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .use_preconfigured_tls(tls_config(None)?)
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .build()
        .context("cannot build the HTTP client")
}
