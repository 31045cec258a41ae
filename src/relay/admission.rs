//! What the relay accepts before anything goes upstream. The relay adds the user's
//! identity, so it answers only its own machine's tools:
//!
//! - an origin-form target (`/path?query`): `OPTIONS *` is a bad request, CONNECT,
//!   authority-form and absolute-form get the "not a proxy" answer; none reaches a gateway;
//! - a `Host` that names the relay itself: `localhost`, a loopback address or the address
//!   the connection arrived on, with the relay's port, or a name in `relay.allowed_hosts`.
//!   A web page that rebinds its own DNS name to 127.0.0.1 still sends its own name here;
//! - nothing a web page could have sent cross-origin: no `Origin` other than the relay's
//!   own, no `Sec-Fetch-Site` other than `same-origin` or `none`, no CORS preflight.
//!   (None of the tools anyray supports runs in a browser, and they send none of these.)
//!
//! Each check compares bytes of headers hyper already parsed: no allocation unless the
//! request is refused.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use hyper::header::{self, HeaderMap, HeaderName};
use hyper::{Method, StatusCode, Uri};

/// Why a request is refused: the answer's status, error type and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Refusal {
    pub status: StatusCode,
    pub kind: &'static str,
    pub message: String,
}

impl Refusal {
    fn forbidden(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            kind: "anyray_forbidden",
            message: message.into(),
        }
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            kind: "anyray_bad_request",
            message: message.into(),
        }
    }
}

/// Only origin-form targets go further. Proxy-style requests (CONNECT, absolute- and
/// authority-form) are told what is wrong; `OPTIONS *` and any other target that is not
/// a path are the client's error. None of them can reach an upstream or touch its health.
pub(super) fn check_target(method: &Method, uri: &Uri) -> Result<(), Refusal> {
    if method == Method::CONNECT || uri.authority().is_some() {
        return Err(Refusal {
            status: StatusCode::BAD_REQUEST,
            kind: "anyray_not_a_proxy",
            message: "anyray relay is not an HTTP proxy: use it as the tool's base URL \
                      (e.g. OPENAI_BASE_URL=http://127.0.0.1:8787/v1), not as HTTP_PROXY"
                .into(),
        });
    }
    if !is_origin_form(uri) {
        return Err(Refusal::bad_request(
            "anyray relay: the request target is not a path; it only forwards requests for \
             paths such as /v1/chat/completions",
        ));
    }
    Ok(())
}

/// Whether `uri` is origin-form: a path starting with `/` and nothing before it.
fn is_origin_form(uri: &Uri) -> bool {
    uri.scheme().is_none() && uri.authority().is_none() && uri.path().starts_with('/')
}

/// The names and addresses the relay answers to.
#[derive(Debug, Clone)]
pub(super) struct HostRule {
    /// The port it listens on (the real one when the config said 0).
    port: u16,
    /// The address it listens on: a request may name it (e.g. 0.0.0.0 or a LAN address).
    listen_ip: IpAddr,
    /// `relay.allowed_hosts`, lower-cased.
    allowed: Vec<AllowedHost>,
}

#[derive(Debug, Clone)]
struct AllowedHost {
    /// A lower-cased name, or an address.
    host: Result<Box<str>, IpAddr>,
    /// `None`: the relay's own port.
    port: Option<u16>,
}

const SEC_FETCH_SITE: HeaderName = HeaderName::from_static("sec-fetch-site");

impl HostRule {
    /// `listen` is the bound address; `allowed` are `relay.allowed_hosts` entries
    /// (`name` or `name:port`, already validated).
    pub(super) fn new(listen: SocketAddr, allowed: &[String]) -> Self {
        let allowed = allowed
            .iter()
            .filter_map(|entry| {
                let (host, port) = split_authority(entry.trim())?;
                let host = match host {
                    Host::Ip(ip) => Err(ip.to_canonical()),
                    Host::Name(name) => Ok(name.to_ascii_lowercase().into()),
                };
                Some(AllowedHost { host, port })
            })
            .collect();
        Self {
            port: listen.port(),
            listen_ip: listen.ip().to_canonical(),
            allowed,
        }
    }

    /// Whether `authority` (`host[:port]`, from `Host` or an `Origin`) names this relay,
    /// for a connection that arrived on `local`.
    pub(super) fn names_relay(&self, authority: &str, local: IpAddr) -> bool {
        let Some((host, port)) = split_authority(authority) else {
            return false;
        };
        let port = port.unwrap_or(80);
        let own = port == self.port
            && match host {
                Host::Ip(ip) => {
                    let ip = ip.to_canonical();
                    ip.is_loopback() || ip == local.to_canonical() || ip == self.listen_ip
                }
                Host::Name(name) => name.eq_ignore_ascii_case("localhost"),
            };
        own || self.allowed.iter().any(|a| {
            a.port.unwrap_or(self.port) == port
                && match (&a.host, host) {
                    (Ok(allowed), Host::Name(name)) => allowed.eq_ignore_ascii_case(name),
                    (Err(allowed), Host::Ip(ip)) => *allowed == ip.to_canonical(),
                    _ => false,
                }
        })
    }

    /// Checks `Host`, `Origin`, `Sec-Fetch-Site` and CORS preflights.
    pub(super) fn admit(
        &self,
        method: &Method,
        headers: &HeaderMap,
        local: IpAddr,
    ) -> Result<(), Refusal> {
        let mut hosts = headers.get_all(header::HOST).iter();
        let host = match (hosts.next(), hosts.next()) {
            (Some(host), None) => host.to_str().unwrap_or_default(),
            (None, _) => {
                return Err(Refusal::bad_request(
                    "anyray relay: the request has no Host header",
                ));
            }
            (Some(_), Some(_)) => {
                return Err(Refusal::bad_request(
                    "anyray relay: the request has more than one Host header",
                ));
            }
        };
        if !self.names_relay(host, local) {
            return Err(Refusal::forbidden(format!(
                "anyray relay: the Host header does not name this relay (localhost, 127.0.0.1 \
                 or [::1] with port {}), so the request may come from a web page that rebound \
                 its DNS name to this machine. If you reach the relay under another name, add \
                 it with `anyray config set relay.allowed_hosts NAME`",
                self.port
            )));
        }
        if method == Method::OPTIONS && headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
        {
            return Err(Refusal::forbidden(
                "anyray relay: refused a CORS preflight: web pages may not use the relay \
                 (it adds your identity); no tool anyray supports runs in a browser",
            ));
        }
        if let Some(origin) = headers.get(header::ORIGIN)
            && !self.is_own_origin(origin.as_bytes(), local)
        {
            return Err(Refusal::forbidden(
                "anyray relay: refused a cross-origin request (its Origin is not this relay): \
                 web pages may not use the relay, which adds your identity",
            ));
        }
        if let Some(site) = headers.get(SEC_FETCH_SITE)
            && !matches!(site.as_bytes(), b"same-origin" | b"none")
        {
            return Err(Refusal::forbidden(
                "anyray relay: refused a request the browser marks as coming from another site \
                 (Sec-Fetch-Site): web pages may not use the relay, which adds your identity",
            ));
        }
        Ok(())
    }

    /// `http://` plus an authority that names the relay; `null` (an opaque origin) is not.
    pub(super) fn is_own_origin(&self, origin: &[u8], local: IpAddr) -> bool {
        let Some(rest) = origin.strip_prefix(b"http://") else {
            return false;
        };
        std::str::from_utf8(rest).is_ok_and(|authority| self.names_relay(authority, local))
    }
}

/// The host part of an authority.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Host<'a> {
    /// A literal address: dotted-quad IPv4, or IPv6 in brackets.
    Ip(IpAddr),
    Name(&'a str),
}

/// `host[:port]` → host and port. `None` for anything else (a path, user info, an
/// empty host, an unbracketed or invalid IPv6 address, a bad port).
fn split_authority(authority: &str) -> Option<(Host<'_>, Option<u16>)> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        let ip: Ipv6Addr = inside.parse().ok()?;
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':')?),
        };
        (Host::Ip(IpAddr::V6(ip)), port)
    } else {
        let (host, port) = match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        };
        let name = !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
        if !name {
            return None;
        }
        let host = match host.parse::<Ipv4Addr>() {
            Ok(ip) => Host::Ip(IpAddr::V4(ip)),
            Err(_) => Host::Name(host),
        };
        (host, port)
    };
    let port = match port {
        None | Some("") => None,
        Some(p) if p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) => Some(p.parse().ok()?),
        Some(_) => return None,
    };
    Some((host, port))
}

/// Checks a `relay.allowed_hosts` entry: a host name or address, optionally with a port.
pub(crate) fn valid_allowed_host(entry: &str) -> bool {
    split_authority(entry).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    fn rule(listen: &str, allowed: &[&str]) -> HostRule {
        let allowed: Vec<String> = allowed.iter().map(ToString::to_string).collect();
        HostRule::new(listen.parse().unwrap(), &allowed)
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (n, v) in pairs {
            h.append(*n, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn only_origin_form_targets_pass() {
        for ok in ["/", "/v1/models?x=1", "//evil.example/x"] {
            assert!(
                check_target(&Method::GET, &ok.parse().unwrap()).is_ok(),
                "{ok}"
            );
        }
        for (method, target, kind) in [
            (Method::OPTIONS, "*", "anyray_bad_request"),
            (Method::GET, "example.com:443", "anyray_not_a_proxy"),
            (Method::GET, "http://example.com/x", "anyray_not_a_proxy"),
            (Method::CONNECT, "example.com:443", "anyray_not_a_proxy"),
            (Method::GET, "abc", "anyray_not_a_proxy"),
        ] {
            let refusal = check_target(&method, &target.parse().unwrap()).unwrap_err();
            assert_eq!(
                (refusal.status, refusal.kind),
                (StatusCode::BAD_REQUEST, kind)
            );
        }
    }

    #[test]
    fn host_must_name_the_relay_with_its_port() {
        let r = rule("127.0.0.1:8787", &[]);
        for ok in [
            "127.0.0.1:8787",
            "localhost:8787",
            "LocalHost:8787",
            "[::1]:8787",
            "127.0.0.2:8787",
        ] {
            assert!(r.names_relay(ok, LOOPBACK), "{ok}");
        }
        for bad in [
            "rebind.attacker.example:8787",
            "127.0.0.1:8788",
            "127.0.0.1",
            "localhost",
            "localhost.:8787",
            "foo.localhost:8787",
            "127.0.0.1.nip.io:8787",
            "0x7f.1:8787",
            "2130706433:8787",
            "user@127.0.0.1:8787",
            "127.0.0.1:8787/x",
            "[::1:8787",
            "[localhost]:8787",
            "::1:8787",
            "",
            ":8787",
            "127.0.0.1:99999",
            "127.0.0.1:+8787",
        ] {
            assert!(!r.names_relay(bad, LOOPBACK), "{bad}");
        }
        // Port 80 may be left out, as browsers and curl do.
        let r80 = rule("127.0.0.1:80", &[]);
        assert!(r80.names_relay("localhost", LOOPBACK));
        assert!(r80.names_relay("127.0.0.1:80", LOOPBACK));
    }

    #[test]
    fn a_remote_relay_answers_to_its_addresses_and_the_allow_list() {
        let r = rule("0.0.0.0:8787", &["devbox.corp.example", "gw-relay:9000"]);
        let lan: IpAddr = "192.168.1.20".parse().unwrap();
        assert!(r.names_relay("192.168.1.20:8787", lan));
        assert!(r.names_relay("0.0.0.0:8787", lan));
        assert!(!r.names_relay("192.168.1.21:8787", lan));
        assert!(r.names_relay("DevBox.corp.example:8787", lan));
        assert!(!r.names_relay("devbox.corp.example:9000", lan));
        assert!(r.names_relay("gw-relay:9000", lan));
        assert!(!r.names_relay("gw-relay:8787", lan));
        assert!(!r.names_relay("evil.example:8787", lan));
        // A v4 client of a dual-stack listener arrives on a v4-mapped address.
        let dual = rule("[::]:8787", &[]);
        let mapped: IpAddr = "::ffff:192.168.1.20".parse().unwrap();
        assert!(dual.names_relay("192.168.1.20:8787", mapped));
    }

    #[test]
    fn browsers_cross_origin_requests_are_refused() {
        let r = rule("127.0.0.1:8787", &[]);
        let admit = |method: Method, h: &[(&'static str, &'static str)]| {
            r.admit(&method, &headers(h), LOOPBACK)
        };
        assert!(admit(Method::POST, &[("host", "127.0.0.1:8787")]).is_ok());
        for same in [
            "http://127.0.0.1:8787",
            "http://localhost:8787",
            "http://[::1]:8787",
        ] {
            let h: &'static str = same;
            assert!(
                admit(Method::POST, &[("host", "127.0.0.1:8787"), ("origin", h)]).is_ok(),
                "{same}"
            );
        }
        for site in ["same-origin", "none"] {
            assert!(
                admit(
                    Method::POST,
                    &[("host", "localhost:8787"), ("sec-fetch-site", site)]
                )
                .is_ok()
            );
        }
        let refused = [
            vec![("host", "rebind.attacker.example:8787")],
            vec![
                ("host", "127.0.0.1:8787"),
                ("origin", "http://rebind.attacker.example:8787"),
            ],
            vec![("host", "127.0.0.1:8787"), ("origin", "null")],
            vec![
                ("host", "127.0.0.1:8787"),
                ("origin", "https://127.0.0.1:8787"),
            ],
            vec![
                ("host", "127.0.0.1:8787"),
                ("origin", "http://localhost:3000"),
            ],
            vec![("host", "127.0.0.1:8787"), ("sec-fetch-site", "cross-site")],
            vec![("host", "127.0.0.1:8787"), ("sec-fetch-site", "same-site")],
            vec![
                ("host", "127.0.0.1:8787"),
                ("access-control-request-method", "POST"),
            ],
        ];
        for h in refused {
            let method = if h.iter().any(|(n, _)| n.starts_with("access-control")) {
                Method::OPTIONS
            } else {
                Method::POST
            };
            let refusal = admit(method, &h).expect_err(&format!("{h:?}"));
            assert_eq!(refusal.status, StatusCode::FORBIDDEN, "{h:?}");
        }
        let missing = admit(Method::GET, &[]).unwrap_err();
        assert_eq!(missing.status, StatusCode::BAD_REQUEST);
        let twice = admit(
            Method::GET,
            &[("host", "127.0.0.1:8787"), ("host", "evil.example:8787")],
        )
        .unwrap_err();
        assert_eq!(twice.status, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn allowed_host_entries_are_validated() {
        for ok in [
            "devbox",
            "devbox.corp.example:8787",
            "10.0.0.5",
            "[fd00::1]:8787",
        ] {
            assert!(valid_allowed_host(ok), "{ok}");
        }
        for bad in [
            "",
            "http://devbox",
            "devbox/x",
            "a b",
            "devbox:port",
            "fd00::1",
        ] {
            assert!(!valid_allowed_host(bad), "{bad}");
        }
    }
}
