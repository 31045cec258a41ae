//! What the access log may say about a request: text the relay wrote, never bytes the
//! client sent. Paths, queries and even methods can carry secrets (Gemini's `?key=`, a
//! token pasted as a path segment or a bare `?sk-…`), so:
//!
//! - the path is shown as the template of a known endpoint (`/v1/chat/completions`,
//!   `/gemini/{version}/models/{model}:streamGenerateContent`), else as the route's prefix
//!   and `/…`; `;parameters` are ignored when matching;
//! - the query shows the names of the parameters the providers document (`beta`, `key`,
//!   `alt`, `api-version`, …), percent-decoded first, never a value; any other part is `…`;
//! - an extension method is shown as `OTHER`.

use std::borrow::Cow;

use hyper::Method;

use super::routes::Route;
use crate::gateway_url::Provider;

/// Endpoint templates by route. A `{name}` segment matches any non-empty segment,
/// `{name}:action` one that ends in `:action`. The first match wins.
fn templates(route: Route) -> &'static [&'static str] {
    match route {
        Route::Provider(Provider::Openai) => &[
            "/v1/chat/completions",
            "/v1/chat/completions/{id}",
            "/v1/chat/completions/{id}/messages",
            "/v1/completions",
            "/v1/responses",
            "/v1/responses/input_tokens",
            "/v1/responses/compact",
            "/v1/responses/{id}",
            "/v1/responses/{id}/cancel",
            "/v1/responses/{id}/input_items",
            "/v1/conversations",
            "/v1/conversations/{id}",
            "/v1/conversations/{id}/items",
            "/v1/models",
            "/v1/models/{model}",
            "/v1/embeddings",
            "/v1/moderations",
            "/v1/files",
            "/v1/files/{id}",
            "/v1/files/{id}/content",
            "/v1/batches",
            "/v1/batches/{id}",
            "/v1/batches/{id}/cancel",
            "/v1/audio/speech",
            "/v1/audio/transcriptions",
            "/v1/audio/translations",
            "/v1/images/generations",
            "/v1/images/edits",
            "/v1/images/variations",
            "/v1/realtime",
            "/v1/realtime/sessions",
            "/v1/realtime/client_secrets",
        ],
        Route::Provider(Provider::Anthropic) => &[
            "/v1/messages",
            "/v1/messages/count_tokens",
            "/v1/messages/batches",
            "/v1/messages/batches/{id}",
            "/v1/messages/batches/{id}/cancel",
            "/v1/messages/batches/{id}/results",
            "/v1/complete",
            "/v1/models",
            "/v1/models/{model}",
            "/v1/files",
            "/v1/files/{id}",
            "/v1/files/{id}/content",
        ],
        Route::Provider(Provider::Gemini) => &[
            "/gemini/{version}/models",
            "/gemini/{version}/models/{model}:generateContent",
            "/gemini/{version}/models/{model}:streamGenerateContent",
            "/gemini/{version}/models/{model}:countTokens",
            "/gemini/{version}/models/{model}:embedContent",
            "/gemini/{version}/models/{model}:batchEmbedContents",
            "/gemini/{version}/models/{model}",
            "/gemini/{version}/files",
            "/gemini/{version}/files/{id}",
            "/gemini/{version}/cachedContents",
            "/gemini/{version}/cachedContents/{id}",
            "/gemini/upload/{version}/files",
        ],
        Route::Provider(Provider::Bedrock) => &[
            "/bedrock/model/{model}/invoke",
            "/bedrock/model/{model}/invoke-with-response-stream",
            "/bedrock/model/{model}/converse",
            "/bedrock/model/{model}/converse-stream",
            "/bedrock/model/{model}/count-tokens",
        ],
        Route::Provider(Provider::Vertex) => &[
            "/vertex/{version}/projects/{project}/locations/{location}/publishers/{publisher}/models/{model}:rawPredict",
            "/vertex/{version}/projects/{project}/locations/{location}/publishers/{publisher}/models/{model}:streamRawPredict",
            "/vertex/{version}/projects/{project}/locations/{location}/publishers/{publisher}/models/{model}:generateContent",
            "/vertex/{version}/projects/{project}/locations/{location}/publishers/{publisher}/models/{model}:streamGenerateContent",
            "/vertex/{version}/projects/{project}/locations/{location}/publishers/{publisher}/models/{model}:countTokens",
            "/vertex/{version}/projects/{project}/locations/{location}/publishers/{publisher}/models/{model}:predict",
        ],
        Route::Provider(Provider::Azure) => &[
            "/azure/openai/deployments/{deployment}/chat/completions",
            "/azure/openai/deployments/{deployment}/completions",
            "/azure/openai/deployments/{deployment}/embeddings",
            "/azure/openai/v1/chat/completions",
            "/azure/openai/v1/responses",
            "/azure/openai/v1/responses/{id}",
            "/azure/openai/v1/models",
            "/azure/openai/responses",
        ],
        Route::Other => &["/", "/healthz", "/health", "/.well-known/anyray.json"],
        Route::Relay => &["/_anyray/health", "/_anyray/metrics"],
    }
}

/// Query parameters the providers' APIs document; only these names are shown.
const QUERY_KEYS: &[&str] = &[
    "beta",
    "key",
    "alt",
    "api-version",
    "limit",
    "after",
    "before",
    "after_id",
    "before_id",
    "order",
    "include",
    "include[]",
    "stream",
    "purpose",
    "pageSize",
    "pageToken",
];

/// The request target as the access log shows it: a known endpoint without a query is
/// its template as it is (no allocation per request).
pub(super) fn target_for_log(route: Route, path: &str, query: Option<&str>) -> Cow<'static, str> {
    let template = templates(route)
        .iter()
        .find(|t| **t == path || matches(t, path));
    let query = query.filter(|q| !q.is_empty());
    if let (Some(template), None) = (template, query) {
        return Cow::Borrowed(template);
    }
    let mut out = String::with_capacity(64);
    match template {
        Some(template) => out.push_str(template),
        None if path == "*" => out.push('*'),
        None if !path.starts_with('/') => out.push('-'),
        None => {
            out.push_str(route.prefix());
            out.push_str("/…");
        }
    }
    let Some(query) = query else {
        return Cow::Owned(out);
    };
    let mut separator = '?';
    for part in query.split('&').filter(|p| !p.is_empty()) {
        out.push(separator);
        separator = '&';
        match known_key(part) {
            Some(key) => out.push_str(key),
            None => out.push('…'),
        }
    }
    Cow::Owned(out)
}

/// The method as the log shows it: extension methods are client text, so `OTHER`.
pub(super) fn method_for_log(method: &Method) -> &'static str {
    const STANDARD: [&str; 9] = [
        "GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "CONNECT", "PATCH", "TRACE",
    ];
    STANDARD
        .iter()
        .find(|m| **m == method.as_str())
        .copied()
        .unwrap_or("OTHER")
}

fn matches(template: &str, path: &str) -> bool {
    let mut want = template.split('/');
    let mut have = path.split('/');
    loop {
        match (want.next(), have.next()) {
            (None, None) => return true,
            (Some(w), Some(h)) => {
                let h = h.split_once(';').map_or(h, |(segment, _params)| segment);
                if !segment_matches(w, h) {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

fn segment_matches(want: &str, have: &str) -> bool {
    match want.strip_prefix('{').and_then(|w| w.split_once('}')) {
        None => want == have,
        Some((_name, suffix)) => have.len() > suffix.len() && have.ends_with(suffix),
    }
}

/// The documented parameter name of one `name=value` part, percent-decoded, if it is one.
fn known_key(part: &str) -> Option<&'static str> {
    let decoded = percent_decode(part);
    let name = decoded.split(|b| *b == b'=').next().unwrap_or_default();
    QUERY_KEYS.iter().find(|k| k.as_bytes() == name).copied()
}

fn percent_decode(s: &str) -> Cow<'_, [u8]> {
    if !s.contains('%') {
        return Cow::Borrowed(s.as_bytes());
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(route: Route, target: &str) -> String {
        let (path, query) = match target.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (target, None),
        };
        target_for_log(route, path, query).into_owned()
    }

    #[test]
    fn known_endpoints_are_shown_as_their_templates() {
        for (route, target, expected) in [
            (
                Route::Provider(Provider::Openai),
                "/v1/chat/completions",
                "/v1/chat/completions",
            ),
            (
                Route::Provider(Provider::Openai),
                "/v1/responses/resp_123",
                "/v1/responses/{id}",
            ),
            (
                Route::Provider(Provider::Openai),
                "/v1/models/gpt-5",
                "/v1/models/{model}",
            ),
            (
                Route::Provider(Provider::Anthropic),
                "/v1/messages?beta=true",
                "/v1/messages?beta",
            ),
            (
                Route::Provider(Provider::Gemini),
                "/gemini/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse",
                "/gemini/{version}/models/{model}:streamGenerateContent?alt",
            ),
            (
                Route::Provider(Provider::Bedrock),
                "/bedrock/model/anthropic.claude-v2/invoke",
                "/bedrock/model/{model}/invoke",
            ),
            (
                Route::Provider(Provider::Azure),
                "/azure/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21",
                "/azure/openai/deployments/{deployment}/chat/completions?api-version",
            ),
            (Route::Relay, "/_anyray/health", "/_anyray/health"),
            (Route::Other, "/healthz", "/healthz"),
            (
                Route::Provider(Provider::Openai),
                "/v1/chat/completions;key=sk-x",
                "/v1/chat/completions",
            ),
        ] {
            assert_eq!(shown(route, target), expected, "{target}");
        }
    }

    #[test]
    fn anything_else_is_its_prefix_and_an_ellipsis() {
        assert_eq!(
            shown(Route::Provider(Provider::Openai), "/v1/sk-canary"),
            "/v1/…"
        );
        assert_eq!(
            shown(Route::Provider(Provider::Openai), "/v1/models/"),
            "/v1/…"
        );
        assert_eq!(
            shown(Route::Provider(Provider::Gemini), "/gemini/sk-canary"),
            "/gemini/…"
        );
        assert_eq!(shown(Route::Other, "/sk-canary/x"), "/…");
        assert_eq!(shown(Route::Relay, "/_anyray/sk-canary"), "/_anyray/…");
        assert_eq!(shown(Route::Other, "*"), "*");
        assert_eq!(shown(Route::Other, ""), "-");
    }

    #[test]
    fn query_values_and_unknown_names_never_show() {
        assert_eq!(
            shown(
                Route::Provider(Provider::Gemini),
                "/gemini/v1beta/models?key=AIzaSECRET&alt=sse"
            ),
            "/gemini/{version}/models?key&alt"
        );
        for (query, expected) in [
            ("sk-CANARY", "?…"),
            ("sk-CANARY=1", "?…"),
            ("key%3Dsk-CANARY", "?key"),
            ("%6Bey=sk-CANARY", "?key"),
            ("beta&sk-CANARY&&limit=5", "?beta&…&limit"),
            ("key=a=b", "?key"),
            ("%zz", "?…"),
        ] {
            let target = format!("/v1/models?{query}");
            assert_eq!(
                shown(Route::Provider(Provider::Openai), &target),
                format!("/v1/models{expected}"),
                "{query}"
            );
        }
    }

    #[test]
    fn extension_methods_are_not_shown() {
        assert_eq!(method_for_log(&Method::POST), "POST");
        assert_eq!(method_for_log(&Method::PATCH), "PATCH");
        let custom = Method::from_bytes(b"SK-CANARY").unwrap();
        assert_eq!(method_for_log(&custom), "OTHER");
    }
}
