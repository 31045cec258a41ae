//! `gateway.deep` (`anyray doctor --deep`, opt-in): the checks that need the provider
//! behind the gateway to answer, so they spend a little. Per route at most one minimal
//! request that produces output (OpenAI: a streamed chat completion with `max_tokens: 1`),
//! plus token counts that are free (Anthropic `count_tokens`): the provider answers at
//! all; the gateway answers at the exact URL without a redirect; a stream arrives in
//! pieces, not buffered whole; a body full of XML-like tags (as real agent sessions send)
//! is not blocked by a WAF in front of the gateway.

use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, LOCATION};
use serde_json::{Value, json};

use super::gateway::{Probe, gateway_message};
use super::{CheckId, Cx, Finding};
use crate::gateway_url::Provider;

/// What `--deep` spends, said before it runs and in the finding.
pub(crate) const SPEND: &str = "one streamed OpenAI chat completion with max_tokens 1 (about one \
     output token) and two free Anthropic token counts";

/// A body shaped like a real agent turn: system reminders, tool calls, file contents.
const TAGGED: &str = "<system-reminder>Files in the project: <file path=\"src/main.rs\">\
fn main() {}</file></system-reminder><tool_use id=\"t1\"><name>Bash</name><input>ls -la \
</input></tool_use><tool_result>total 8</tool_result><example><script>not code</script>\
</example>";

pub(super) async fn check(cx: &Cx, probe: &Probe) -> Finding {
    if !cx.deep {
        return Finding::skip(
            CheckId::Deep,
            format!("opt-in: `anyray doctor --deep` sends {SPEND}"),
        );
    }
    let mut problems: Vec<(String, &'static str)> = Vec::new();
    let mut doubts: Vec<(String, &'static str)> = Vec::new();
    let mut detail = vec![format!("spends: {SPEND}")];
    if let Some(url) = probe.route(Provider::Openai) {
        openai(cx, probe, &url, &mut detail, &mut problems, &mut doubts).await;
    }
    if let Some(url) = probe.route(Provider::Anthropic) {
        anthropic(cx, probe, &url, &mut detail, &mut problems).await;
    }
    let detail = detail.join("\n");
    if problems.is_empty() && doubts.is_empty() {
        return Finding::ok(
            CheckId::Deep,
            "the providers behind the gateway answer; streams arrive in pieces; tagged bodies pass",
        )
        .detail(detail);
    }
    let fail = !problems.is_empty();
    problems.extend(doubts);
    let summary = problems
        .iter()
        .map(|(s, _)| s.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    let hint = problems
        .iter()
        .map(|(_, h)| *h)
        .collect::<Vec<_>>()
        .join("; ");
    let finding = if fail {
        Finding::fail(CheckId::Deep, summary)
    } else {
        Finding::warn(CheckId::Deep, summary)
    };
    finding.detail(detail).hint(hint)
}

/// One streamed chat completion with `max_tokens: 1`, on a model the gateway lists.
async fn openai(
    cx: &Cx,
    probe: &Probe,
    base: &str,
    detail: &mut Vec<String>,
    problems: &mut Vec<(String, &'static str)>,
    doubts: &mut Vec<(String, &'static str)>,
) {
    let model = first_model(cx, probe, base).await;
    let url = format!("{base}/chat/completions");
    let body = json!({
        "model": model, "max_tokens": 1, "stream": true,
        "messages": [{"role": "user", "content": "Say OK."}],
    });
    let request = probe
        .request(Provider::Openai, reqwest::Method::POST, &url)
        .header(CONTENT_TYPE, "application/json")
        .body(body.to_string());
    let mut response = match request.timeout(cx.remaining()).send().await {
        Ok(r) => r,
        Err(err) => {
            problems.push((format!("{url}: {err}"), "check net.* and the gateway"));
            return;
        }
    };
    let status = response.status().as_u16();
    if let Some(problem) = redirect_or_error(&mut response, status, &url).await {
        problems.push(problem);
        return;
    }
    let sse = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/event-stream"));
    let (frames, events) = count_frames(&mut response, cx.remaining()).await;
    detail.push(format!(
        "OpenAI: POST {url} (model {model}, max_tokens 1, stream) answered {status}: {events} \
         events in {frames} reads"
    ));
    if !sse || events == 0 {
        problems.push((
            format!("{url} answered a stream request without server-sent events"),
            "the gateway must stream (Content-Type: text/event-stream)",
        ));
    } else if frames < 2 && events > 2 {
        // With one token a live stream may also come in one read: a warning, not a failure.
        doubts.push((
            format!(
                "{url}: the stream arrived in one piece ({events} events at once), as from a \
                 gateway that buffers"
            ),
            "a buffering proxy or gateway holds streams back; LiteLLM fakes streaming for a \
             model it has no info on: give it `model_info: {supports_native_streaming: true}`",
        ));
    }
}

/// Two free token counts: a plain one (the provider answers) and one full of XML-like
/// tags (no WAF in the way).
async fn anthropic(
    cx: &Cx,
    probe: &Probe,
    base: &str,
    detail: &mut Vec<String>,
    problems: &mut Vec<(String, &'static str)>,
) {
    let url = format!("{base}/v1/messages/count_tokens");
    for (what, text) in [("plain", "Say OK."), ("tagged", TAGGED)] {
        let body = json!({
            "model": "claude-sonnet-4-5",
            "messages": [{"role": "user", "content": text}],
        });
        let request = probe
            .request(Provider::Anthropic, reqwest::Method::POST, &url)
            .header(CONTENT_TYPE, "application/json")
            .header("anthropic-version", "2023-06-01")
            .body(body.to_string());
        let mut response = match request.timeout(cx.remaining()).send().await {
            Ok(r) => r,
            Err(err) => {
                problems.push((format!("{url}: {err}"), "check net.* and the gateway"));
                return;
            }
        };
        let status = response.status().as_u16();
        let html = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.contains("html"));
        if what == "tagged" && status == 403 {
            problems.push((
                format!(
                    "{url}: a body with XML-like tags was refused with 403{}",
                    if html { " (an HTML block page)" } else { "" }
                ),
                "a WAF in front of the gateway blocks real agent sessions (their prompts are \
                 full of tags): ask its admins to exempt the gateway's API paths",
            ));
            return;
        }
        if let Some(problem) = redirect_or_error(&mut response, status, &url).await {
            problems.push(problem);
            return;
        }
        detail.push(format!(
            "Anthropic: POST {url} ({what} body) answered {status}"
        ));
    }
}

/// A model the gateway lists (not a wildcard), else a common one.
async fn first_model(cx: &Cx, probe: &Probe, base: &str) -> String {
    let url = format!("{base}/models");
    let listed = async {
        let r = probe
            .request(Provider::Openai, reqwest::Method::GET, &url)
            .timeout(cx.remaining())
            .send()
            .await
            .ok()?;
        let v: Value = r.json().await.ok()?;
        v["data"]
            .as_array()?
            .iter()
            .filter_map(|m| m["id"].as_str())
            .find(|id| !id.contains('*'))
            .map(str::to_string)
    };
    listed.await.unwrap_or_else(|| "gpt-4o-mini".to_string())
}

/// A redirect (the exact URL must answer) or an error status, with the gateway's message.
async fn redirect_or_error(
    response: &mut reqwest::Response,
    status: u16,
    url: &str,
) -> Option<(String, &'static str)> {
    if (300..400).contains(&status) {
        let to = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("elsewhere")
            .to_string();
        return Some((
            format!("{url} redirects ({status}) to {to}"),
            "the tools do not follow redirects on API calls: use the URL that answers as the \
             gateway (`anyray config set gateway URL`)",
        ));
    }
    if (200..300).contains(&status) {
        return None;
    }
    let mut head = Vec::new();
    while head.len() < 4096 {
        match response.chunk().await {
            Ok(Some(chunk)) => head.extend_from_slice(&chunk),
            _ => break,
        }
    }
    let said = gateway_message(&head).map_or_else(String::new, |m| format!(": \"{m}\""));
    let hint = if status >= 500 {
        "the provider behind the gateway (or the gateway) fails real requests: tell the \
         gateway's admins"
    } else {
        "the gateway refuses a minimal real request: check the model names it serves and the \
         route headers"
    };
    Some((format!("{url} answered {status}{said}"), hint))
}

/// Reads a body to its end (bounded by `limit`): how many reads it took and how many
/// SSE events it held.
async fn count_frames(response: &mut reqwest::Response, limit: Duration) -> (usize, usize) {
    let mut frames = 0;
    let mut events = 0;
    let _ = tokio::time::timeout(limit, async {
        while let Ok(Some(chunk)) = response.chunk().await {
            frames += 1;
            events += chunk
                .split(|b| *b == b'\n')
                .filter(|line| line.starts_with(b"data:"))
                .count();
        }
    })
    .await;
    (frames, events)
}
