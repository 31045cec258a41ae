//! Which proxy, if any, the environment sends a URL through, and which variable says so.
//!
//! The rules are curl's, as reqwest applies them (the decision itself is made by
//! hyper-util's matcher, the one reqwest uses, so doctor's verdict is what anyray's own
//! traffic does): `HTTPS_PROXY`/`https_proxy` for https:// URLs, `HTTP_PROXY`/`http_proxy`
//! for http:// URLs, `ALL_PROXY`/`all_proxy` for both when the specific one is unset; the
//! upper-case name wins. `NO_PROXY`/`no_proxy` lists hosts that go direct: `*`, IP
//! addresses and CIDR ranges, and domains (which also match their subdomains). Loopback
//! gets no special treatment: `localhost` goes through the proxy unless `NO_PROXY`
//! names it, which is also what Node-based tools do.

use hyper_util::client::proxy::matcher::Matcher;
use url::Url;

use super::Env;

const HTTPS_VARS: &[&str] = &["HTTPS_PROXY", "https_proxy"];
const HTTP_VARS: &[&str] = &["HTTP_PROXY", "http_proxy"];
const ALL_VARS: &[&str] = &["ALL_PROXY", "all_proxy"];
const NO_VARS: &[&str] = &["NO_PROXY", "no_proxy"];

/// How traffic to one URL leaves the machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    /// No proxy: the reason says which rule decided.
    Direct(String),
    /// Through this proxy (credentials never included), set by `var`.
    Proxy {
        var: &'static str,
        /// `scheme://host:port`.
        proxy: String,
        host: String,
        port: u16,
    },
    /// The variable that applies is not a proxy URL.
    Invalid { var: &'static str },
}

/// The route for `target` under the proxy variables in `env`.
pub(crate) fn route(env: &Env, target: &Url) -> Route {
    let https = target.scheme() == "https";
    let specific = env.first(if https { HTTPS_VARS } else { HTTP_VARS });
    let all = env.first(ALL_VARS);
    let Some((var, value)) = [specific, all]
        .into_iter()
        .flatten()
        .find(|(_, value)| parse_proxy(value).is_some())
    else {
        return match specific.or(all) {
            Some((var, _)) => Route::Invalid { var },
            None => Route::Direct(format!(
                "no proxy variable applies to {}:// ({} and {} are unset)",
                target.scheme(),
                if https { "HTTPS_PROXY" } else { "HTTP_PROXY" },
                "ALL_PROXY",
            )),
        };
    };
    let no_proxy = env.first(NO_VARS);
    let matcher = Matcher::builder()
        .all(value.to_string())
        .no(no_proxy.map_or("", |(_, v)| v).to_string())
        .build();
    let Ok(uri) = target.as_str().parse::<hyper::Uri>() else {
        return Route::Direct("not a URL a proxy can serve".into());
    };
    match matcher.intercept(&uri) {
        None => {
            let (no_var, no_value) = no_proxy.unwrap_or(("NO_PROXY", ""));
            Route::Direct(format!(
                "{no_var}={no_value} matches {}",
                target.host_str().unwrap_or_default()
            ))
        }
        Some(intercept) => {
            let (scheme, host, port) = endpoint(intercept.uri());
            Route::Proxy {
                var,
                proxy: format!("{scheme}://{}:{port}", bracket(&host)),
                host,
                port,
            }
        }
    }
}

/// The proxy's scheme, host and port (default port by scheme), as the matcher parsed it.
fn endpoint(uri: &hyper::Uri) -> (String, String, u16) {
    let scheme = uri.scheme_str().unwrap_or("http").to_string();
    let host = uri
        .host()
        .unwrap_or_default()
        .trim_matches(['[', ']'])
        .to_string();
    let port = uri.port_u16().unwrap_or(match scheme.as_str() {
        "https" => 443,
        s if s.starts_with("socks") => 1080,
        _ => 80,
    });
    (scheme, host, port)
}

fn bracket(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

/// The proxy URI a value stands for, as reqwest would read it (`host:port` means http).
fn parse_proxy(value: &str) -> Option<hyper::Uri> {
    let probe: hyper::Uri = "http://probe.invalid/".parse().ok()?;
    Matcher::builder()
        .all(value.to_string())
        .build()
        .intercept(&probe)
        .map(|i| i.uri().clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route_of(vars: &[(&str, &str)], target: &str) -> Route {
        route(
            &Env::from_pairs(vars.iter().copied()),
            &Url::parse(target).unwrap(),
        )
    }

    fn via(route: &Route) -> Option<(&'static str, &str)> {
        match route {
            Route::Proxy { var, proxy, .. } => Some((var, proxy.as_str())),
            _ => None,
        }
    }

    #[test]
    fn scheme_picks_the_variable() {
        let vars = [
            ("HTTPS_PROXY", "http://secure.proxy:3128"),
            ("HTTP_PROXY", "http://plain.proxy:8080"),
        ];
        assert_eq!(
            via(&route_of(&vars, "https://gw.example")),
            Some(("HTTPS_PROXY", "http://secure.proxy:3128"))
        );
        assert_eq!(
            via(&route_of(&vars, "http://gw.example")),
            Some(("HTTP_PROXY", "http://plain.proxy:8080"))
        );
        // HTTPS_PROXY does not apply to http:// URLs.
        let only_https = [("HTTPS_PROXY", "http://secure.proxy:3128")];
        assert!(matches!(
            route_of(&only_https, "http://gw.example"),
            Route::Direct(_)
        ));
    }

    #[test]
    fn upper_case_wins_and_all_proxy_is_the_fallback() {
        let vars = [
            ("https_proxy", "http://lower:1"),
            ("HTTPS_PROXY", "http://upper:2"),
        ];
        assert_eq!(
            via(&route_of(&vars, "https://gw.example")).unwrap().0,
            "HTTPS_PROXY"
        );
        let lower = [("https_proxy", "http://lower:1")];
        assert_eq!(
            via(&route_of(&lower, "https://gw.example")).unwrap().0,
            "https_proxy"
        );
        let all = [("all_proxy", "socks5://socks.proxy")];
        assert_eq!(
            via(&route_of(&all, "http://gw.example")),
            Some(("all_proxy", "socks5://socks.proxy:1080"))
        );
    }

    #[test]
    fn no_proxy_rules() {
        let with = |no: &str, target: &str| {
            route_of(
                &[("HTTPS_PROXY", "http://p:3128"), ("NO_PROXY", no)],
                target,
            )
        };
        assert!(matches!(
            with("corp.example", "https://gw.corp.example"),
            Route::Direct(_)
        ));
        assert!(matches!(
            with(".corp.example", "https://gw.corp.example"),
            Route::Direct(_)
        ));
        assert!(matches!(
            with("10.0.0.0/8", "https://10.1.2.3"),
            Route::Direct(_)
        ));
        assert!(matches!(with("*", "https://anything"), Route::Direct(_)));
        assert!(via(&with("corp.example", "https://notcorp.example")).is_some());
        // Loopback is not exempt unless listed, by name or by address.
        assert!(via(&with("", "https://localhost:8787")).is_some());
        assert!(via(&with("127.0.0.1", "https://localhost:8787")).is_some());
        assert!(matches!(
            with("localhost", "https://localhost:8787"),
            Route::Direct(_)
        ));
        assert!(matches!(
            with("127.0.0.1,localhost", "https://127.0.0.1:8787"),
            Route::Direct(_)
        ));
        let Route::Direct(why) = with("localhost", "https://localhost") else {
            unreachable!()
        };
        assert_eq!(why, "NO_PROXY=localhost matches localhost");
    }

    #[test]
    fn credentials_never_shown_and_bad_values_named() {
        let r = route_of(
            &[("HTTPS_PROXY", "http://user:s3cret@proxy.example:3128")],
            "https://gw.example",
        );
        assert_eq!(via(&r), Some(("HTTPS_PROXY", "http://proxy.example:3128")));
        assert!(!format!("{r:?}").contains("s3cret"));
        let bare = route_of(&[("HTTPS_PROXY", "proxy.example:3128")], "https://gw");
        assert_eq!(
            via(&bare),
            Some(("HTTPS_PROXY", "http://proxy.example:3128"))
        );
        let bad = route_of(&[("HTTPS_PROXY", "::not a url::")], "https://gw");
        assert_eq!(bad, Route::Invalid { var: "HTTPS_PROXY" });
    }
}
