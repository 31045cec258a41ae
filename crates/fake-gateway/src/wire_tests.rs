//! The fake over real loopback HTTP, as its users meet it (every test bounded in time).

use std::future::Future;
use std::time::{Duration, Instant};

use crate::{Discovery, FakeConfig, FakeGateway, Fault};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

const TEXT: &str = "Hello from the fake Anyray gateway.";

async fn bounded<F: Future>(f: F) -> F::Output {
    timeout(Duration::from_secs(20), f)
        .await
        .expect("test timed out")
}

async fn gateway(cfg: FakeConfig) -> FakeGateway {
    FakeGateway::start(cfg).await.expect("start fake gateway")
}

fn client() -> Client<HttpConnector, Full<Bytes>> {
    Client::builder(TokioExecutor::new()).build_http()
}

async fn send(
    gw: &FakeGateway,
    method: &str,
    path: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> Response<Incoming> {
    let mut req = Request::builder()
        .method(method)
        .uri(format!("{}{path}", gw.url()));
    for (n, v) in headers {
        req = req.header(*n, *v);
    }
    let body = match body {
        Some(v) => {
            req = req.header("content-type", "application/json");
            Full::new(Bytes::from(v.to_string()))
        }
        None => Full::default(),
    };
    client()
        .request(req.body(body).unwrap())
        .await
        .expect("request")
}

async fn text_of(resp: Response<Incoming>) -> String {
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

async fn json_of(resp: Response<Incoming>) -> Value {
    serde_json::from_str(&text_of(resp).await).expect("json body")
}

async fn get_json(gw: &FakeGateway, path: &str) -> (StatusCode, Value) {
    let resp = send(gw, "GET", path, None, &[]).await;
    (resp.status(), json_of(resp).await)
}

/// `(event name, data)` pairs of an SSE body.
fn parse_sse(text: &str) -> Vec<(Option<String>, String)> {
    text.split("\n\n")
        .filter(|block| !block.trim().is_empty())
        .map(|block| {
            let mut event = None;
            let mut data = String::new();
            for line in block.lines() {
                if let Some(e) = line.strip_prefix("event: ") {
                    event = Some(e.to_owned());
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data.push_str(d);
                }
            }
            (event, data)
        })
        .collect()
}

fn stream_body(model: &str) -> Value {
    json!({"model": model, "stream": true, "messages": [{"role": "user", "content": "hi"}]})
}

// ---------- discovery and health ----------

#[tokio::test]
async fn discovery_default() {
    bounded(async {
        let gw = gateway(FakeConfig::default()).await;
        let (status, v) = get_json(&gw, "/.well-known/anyray.json").await;
        assert_eq!(status, 200);
        assert_eq!(
            v,
            json!({"version": "fake-1",
                   "routes": {"openai": "/v1", "anthropic": "/", "gemini": "/gemini",
                              "bedrock": "/bedrock", "vertex": "/vertex", "azure": "/azure"},
                   "optimizer": {"status": "up", "budget_ms": 800, "fail_open": true},
                   "identity_header": "x-anyray-key", "usage": "/anyray/v1/usage"})
        );
    })
    .await
}

#[tokio::test]
async fn usage_counts_the_callers_own_answered_calls() {
    bounded(async {
        let gw = gateway(FakeConfig {
            text: "one two three".into(),
            ..FakeConfig::default()
        })
        .await;
        let body = json!({"model": "claude-sonnet-4-5", "messages": []});
        let len = body.to_string().len() as u64;
        for key in ["k-me", "k-me", "k-other"] {
            let headers = [
                ("x-anyray-key", key),
                ("user-agent", "claude-cli/2.1.197 (external, cli)"),
            ];
            let resp = send(&gw, "POST", "/v1/messages", Some(body.clone()), &headers).await;
            assert_eq!(resp.status(), 200);
            let _ = text_of(resp).await;
        }
        // A refused call (unknown route) costs nothing.
        let _ = text_of(
            send(
                &gw,
                "POST",
                "/v1/nope",
                Some(body.clone()),
                &[("x-anyray-key", "k-me")],
            )
            .await,
        )
        .await;
        let resp = send(
            &gw,
            "GET",
            "/anyray/v1/usage?since=2000-01-01",
            None,
            &[("authorization", "Bearer k-me")],
        )
        .await;
        assert_eq!(resp.status(), 200);
        let v = json_of(resp).await;
        let rows = v["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 1, "{v}");
        let row = &rows[0];
        assert_eq!(row["model"], "claude-sonnet-4-5");
        assert_eq!(row["client"], "claude-code");
        assert_eq!(row["requests"], 2);
        assert_eq!(row["input_tokens"], 2 * (len / 4));
        assert_eq!(row["output_tokens"], 6);
        let spend = (2.0 * (len / 4) as f64 * 3.0 + 6.0 * 15.0) / 1e6;
        assert!(
            (row["spend"].as_f64().unwrap() - spend).abs() < 1e-12,
            "{v}"
        );
        assert_eq!(v["budget"]["limit"], 50.0);
        assert!((v["budget"]["spent"].as_f64().unwrap() - spend).abs() < 1e-12);
        // Without a key there is no "own" usage.
        let resp = send(&gw, "GET", "/anyray/v1/usage", None, &[]).await;
        assert_eq!(resp.status(), 401);
        // Rows before `since` are left out; the budget still counts them.
        let (_, v) = get_json_with(&gw, "/anyray/v1/usage?since=2999-01-01", "k-me").await;
        assert_eq!(v["rows"], json!([]));
        assert!(v["budget"]["spent"].as_f64().unwrap() > 0.0);
    })
    .await
}

async fn get_json_with(gw: &FakeGateway, path: &str, key: &str) -> (StatusCode, Value) {
    let resp = send(gw, "GET", path, None, &[("x-anyray-key", key)]).await;
    (resp.status(), json_of(resp).await)
}

#[tokio::test]
async fn discovery_disabled_is_404() {
    bounded(async {
        let gw = gateway(FakeConfig {
            discovery: Discovery::Disabled,
            ..Default::default()
        })
        .await;
        let (status, v) = get_json(&gw, "/.well-known/anyray.json").await;
        assert_eq!(status, 404);
        assert!(v["error"]["message"].is_string());
    })
    .await
}

#[tokio::test]
async fn discovery_optimizer_down_and_requests_still_served() {
    bounded(async {
        let gw = gateway(FakeConfig::default()).await;
        gw.set_fault(Fault::OptimizerDown);
        let (_, v) = get_json(&gw, "/.well-known/anyray.json").await;
        assert_eq!(v["optimizer"]["status"], "down");
        let resp = send(
            &gw,
            "POST",
            "/v1/chat/completions",
            Some(json!({"model": "m"})),
            &[],
        )
        .await;
        assert_eq!(resp.status(), 200);
        gw.set_fault(Fault::None);
        let (_, v) = get_json(&gw, "/.well-known/anyray.json").await;
        assert_eq!(v["optimizer"]["status"], "up");
    })
    .await
}

#[tokio::test]
async fn discovery_fields_configurable() {
    bounded(async {
        let gw = gateway(FakeConfig {
            fail_open: false,
            budget_ms: 250,
            optimizer_status: "degraded".into(),
            identity_header: "x-org-key".into(),
            ..Default::default()
        })
        .await;
        let (_, v) = get_json(&gw, "/.well-known/anyray.json").await;
        assert_eq!(
            v["optimizer"],
            json!({"status": "degraded", "budget_ms": 250, "fail_open": false})
        );
        assert_eq!(v["identity_header"], "x-org-key");

        let custom = json!({"version": "custom", "routes": {}});
        let gw = gateway(FakeConfig {
            discovery: Discovery::Custom(custom.clone()),
            ..Default::default()
        })
        .await;
        assert_eq!(
            get_json(&gw, "/.well-known/anyray.json").await,
            (StatusCode::OK, custom)
        );
    })
    .await
}

#[tokio::test]
async fn healthz_ok() {
    bounded(async {
        let gw = gateway(FakeConfig::default()).await;
        let resp = send(&gw, "GET", "/healthz", None, &[]).await;
        assert_eq!(resp.status(), 200);
        assert_eq!(text_of(resp).await, "ok");
    })
    .await
}

#[tokio::test]
async fn unknown_path_is_json_404() {
    bounded(async {
        let gw = gateway(FakeConfig::default()).await;
        let (status, v) = get_json(&gw, "/nope").await;
        assert_eq!(status, 404);
        assert!(v["error"]["message"].as_str().unwrap().contains("/nope"));
    })
    .await
}

// ---------- OpenAI ----------

#[tokio::test]
async fn openai_models() {
    bounded(async {
        let gw = gateway(FakeConfig::default()).await;
        let (status, v) = get_json(&gw, "/v1/models").await;
        assert_eq!(status, 200);
        assert_eq!(v["object"], "list");
        let models = v["data"].as_array().unwrap();
        assert!(!models.is_empty(), "{v}");
        assert!(models.iter().all(|m| m["id"].is_string()), "{v}");
    })
    .await
}

#[tokio::test]
async fn chat_completions_json() {
    bounded(async {
        let gw = gateway(FakeConfig::default()).await;
        let resp = send(
            &gw,
            "POST",
            "/v1/chat/completions",
            Some(json!({"model": "gpt-x"})),
            &[],
        )
        .await;
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-type"], "application/json");
        let v = json_of(resp).await;
        assert_eq!(v["object"], "chat.completion");
        assert_eq!(v["model"], "gpt-x");
        assert_eq!(v["choices"][0]["message"]["content"], TEXT);
        assert_eq!(v["choices"][0]["finish_reason"], "stop");
    })
    .await
}

#[tokio::test]
async fn chat_completions_stream() {
    bounded(async {
        let gw = gateway(FakeConfig::default()).await;
        let mut body = stream_body("gpt-x");
        body["stream_options"] = json!({"include_usage": true});
        let resp = send(&gw, "POST", "/v1/chat/completions", Some(body), &[]).await;
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-type"], "text/event-stream");
        let events = parse_sse(&text_of(resp).await);
        assert_eq!(events.last().unwrap().1, "[DONE]");
        let chunks: Vec<Value> = events[..events.len() - 1]
            .iter()
            .map(|(e, d)| {
                assert!(e.is_none());
                serde_json::from_str(d).unwrap()
            })
            .collect();
        assert!(
            chunks
                .iter()
                .all(|c| c["object"] == "chat.completion.chunk" && c["model"] == "gpt-x")
        );
        assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
        let text: String = chunks
            .iter()
            .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
            .collect();
        assert_eq!(text, TEXT);
        let contentful = chunks
            .iter()
            .filter(|c| {
                c["choices"][0]["delta"]["content"]
                    .as_str()
                    .is_some_and(|s| !s.is_empty())
            })
            .count();
        assert_eq!(contentful, 5);
        let n = chunks.len();
        assert_eq!(chunks[n - 2]["choices"][0]["finish_reason"], "stop");
        assert_eq!(chunks[n - 1]["choices"], json!([]));
        assert!(chunks[n - 1]["usage"]["total_tokens"].as_u64().unwrap() > 0);
    })
    .await
}

#[tokio::test]
async fn responses_json() {
    bounded(async {
        let gw = gateway(FakeConfig::default()).await;
        let resp = send(
            &gw,
            "POST",
            "/v1/responses",
            Some(json!({"model": "gpt-r", "input": "hi"})),
            &[],
        )
        .await;
        let v = json_of(resp).await;
        assert_eq!(v["object"], "response");
        assert_eq!(v["status"], "completed");
        assert_eq!(v["model"], "gpt-r");
        assert_eq!(v["output"][0]["content"][0]["text"], TEXT);
    })
    .await
}

/// Codex opens the Responses API as a WebSocket first; 426 sends it straight to HTTP.
#[tokio::test]
async fn responses_websocket_attempt_is_426() {
    bounded(async {
        let gw = gateway(FakeConfig::default()).await;
        let upgrade = [("connection", "Upgrade"), ("upgrade", "websocket")];
        let resp = send(&gw, "GET", "/v1/responses", None, &upgrade).await;
        assert_eq!(resp.status(), StatusCode::UPGRADE_REQUIRED);
        let v = json_of(resp).await;
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap()
                .contains("WebSocket")
        );
    })
    .await
}

#[tokio::test]
async fn responses_stream() {
    bounded(async {
        let gw = gateway(FakeConfig {
            chunks: 3,
            ..Default::default()
        })
        .await;
        let body = json!({"model": "gpt-r", "input": "hi", "stream": true});
        let resp = send(&gw, "POST", "/v1/responses", Some(body), &[]).await;
        assert_eq!(resp.headers()["content-type"], "text/event-stream");
        let events = parse_sse(&text_of(resp).await);
        let names: Vec<&str> = events.iter().map(|(e, _)| e.as_deref().unwrap()).collect();
        let d = "response.output_text.delta";
        assert_eq!(
            names,
            [
                "response.created",
                "response.in_progress",
                "response.output_item.added",
                "response.content_part.added",
                d,
                d,
                d,
                "response.output_text.done",
                "response.content_part.done",
                "response.output_item.done",
                "response.completed"
            ]
        );
        let data: Vec<Value> = events
            .iter()
            .map(|(_, d)| serde_json::from_str(d).unwrap())
            .collect();
        for (i, (v, name)) in data.iter().zip(&names).enumerate() {
            assert_eq!(v["type"], *name);
            assert_eq!(v["sequence_number"], i);
        }
        let text: String = data
            .iter()
            .filter(|v| v["type"] == d)
            .map(|v| v["delta"].as_str().unwrap())
            .collect();
        assert_eq!(text, TEXT);
        let done = &data.last().unwrap()["response"];
        assert_eq!(done["status"], "completed");
        assert_eq!(done["output"][0]["content"][0]["text"], TEXT);
        assert!(done["usage"]["total_tokens"].as_u64().unwrap() > 0);
    })
    .await
}

// ---------- Anthropic ----------

#[tokio::test]
async fn messages_json() {
    bounded(async {
        let gw = gateway(FakeConfig::default()).await;
        let body = json!({"model": "claude-x", "max_tokens": 10, "messages": []});
        let v = json_of(send(&gw, "POST", "/v1/messages", Some(body), &[]).await).await;
        assert_eq!(v["type"], "message");
        assert_eq!(v["model"], "claude-x");
        assert_eq!(v["content"][0], json!({"type": "text", "text": TEXT}));
        assert_eq!(v["stop_reason"], "end_turn");
    })
    .await
}

#[tokio::test]
async fn messages_stream() {
    bounded(async {
        let gw = gateway(FakeConfig::default()).await;
        let resp = send(
            &gw,
            "POST",
            "/v1/messages?beta=true",
            Some(stream_body("claude-x")),
            &[],
        )
        .await;
        assert_eq!(resp.status(), 200);
        let events = parse_sse(&text_of(resp).await);
        let names: Vec<&str> = events.iter().map(|(e, _)| e.as_deref().unwrap()).collect();
        let mut expected = vec!["message_start", "content_block_start", "ping"];
        expected.extend(["content_block_delta"; 5]);
        expected.extend(["content_block_stop", "message_delta", "message_stop"]);
        assert_eq!(names, expected);
        let data: Vec<Value> = events
            .iter()
            .map(|(_, d)| serde_json::from_str(d).unwrap())
            .collect();
        for (v, name) in data.iter().zip(&names) {
            assert_eq!(v["type"], *name);
        }
        assert_eq!(data[0]["message"]["model"], "claude-x");
        let text: String = data
            .iter()
            .filter(|v| v["type"] == "content_block_delta")
            .map(|v| {
                assert_eq!(v["delta"]["type"], "text_delta");
                v["delta"]["text"].as_str().unwrap()
            })
            .collect();
        assert_eq!(text, TEXT);
        assert_eq!(data[data.len() - 2]["delta"]["stop_reason"], "end_turn");
        assert!(
            data[data.len() - 2]["usage"]["output_tokens"]
                .as_u64()
                .unwrap()
                > 0
        );
    })
    .await
}

#[tokio::test]
async fn count_tokens() {
    bounded(async {
        let gw = gateway(FakeConfig::default()).await;
        let body =
            json!({"model": "claude-x", "messages": [{"role": "user", "content": "hello there"}]});
        let resp = send(
            &gw,
            "POST",
            "/v1/messages/count_tokens?beta=true",
            Some(body),
            &[],
        )
        .await;
        assert_eq!(resp.status(), 200);
        assert!(json_of(resp).await["input_tokens"].as_u64().unwrap() > 0);
    })
    .await
}

// ---------- the Gemini API ----------

fn gemini_body() -> Value {
    json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]})
}

#[tokio::test]
async fn gemini_generate_content() {
    bounded(async {
        let gw = gateway(FakeConfig::default()).await;
        let path = "/gemini/v1beta/models/gemini-2.5-pro:generateContent";
        let resp = send(&gw, "POST", path, Some(gemini_body()), &[]).await;
        assert_eq!(resp.status(), 200);
        let v = json_of(resp).await;
        assert_eq!(v["candidates"][0]["content"]["parts"][0]["text"], TEXT);
        assert_eq!(v["candidates"][0]["finishReason"], "STOP");
        assert_eq!(v["modelVersion"], "gemini-2.5-pro");
        assert!(v["usageMetadata"]["totalTokenCount"].as_u64().unwrap() > 0);
    })
    .await
}

#[tokio::test]
async fn gemini_json_mode_fits_the_schema() {
    bounded(async {
        let gw = gateway(FakeConfig::default()).await;
        // What Gemini CLI's model router asks before a turn.
        let mut body = gemini_body();
        body["generationConfig"] = json!({
            "responseMimeType": "application/json",
            "responseJsonSchema": {"type": "object", "required": ["complexity_reasoning", "complexity_score"],
                "properties": {"complexity_reasoning": {"type": "string"},
                               "complexity_score": {"type": "integer", "minimum": 1, "maximum": 100}}},
        });
        let path = "/gemini/v1beta/models/gemini-flash-lite:generateContent";
        let v = json_of(send(&gw, "POST", path, Some(body), &[]).await).await;
        let text = v["candidates"][0]["content"]["parts"][0]["text"].as_str().unwrap();
        let answer: Value = serde_json::from_str(text).unwrap();
        assert_eq!(answer["complexity_reasoning"], "fake");
        assert_eq!(answer["complexity_score"], 1);
    })
    .await
}

#[tokio::test]
async fn gemini_stream_generate_content_sse_and_count_tokens() {
    bounded(async {
        let gw = gateway(FakeConfig {
            chunks: 3,
            ..FakeConfig::default()
        })
        .await;
        let path = "/gemini/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse";
        let resp = send(&gw, "POST", path, Some(gemini_body()), &[]).await;
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-type"], "text/event-stream");
        let events = parse_sse(&text_of(resp).await);
        assert_eq!(events.len(), 3);
        let chunks: Vec<Value> = events
            .iter()
            .map(|(_, d)| serde_json::from_str(d).unwrap())
            .collect();
        let text: String = chunks
            .iter()
            .map(|c| {
                c["candidates"][0]["content"]["parts"][0]["text"]
                    .as_str()
                    .unwrap()
            })
            .collect();
        assert_eq!(text, TEXT);
        assert_eq!(chunks[2]["candidates"][0]["finishReason"], "STOP");
        assert!(chunks[0]["candidates"][0]["finishReason"].is_null());
        // Without alt=sse the API answers one JSON array.
        let plain = "/gemini/v1beta/models/m:streamGenerateContent";
        let v = json_of(send(&gw, "POST", plain, Some(gemini_body()), &[]).await).await;
        assert_eq!(v.as_array().unwrap().len(), 3);
        let count = "/gemini/v1beta/models/m:countTokens";
        let v = json_of(send(&gw, "POST", count, Some(gemini_body()), &[]).await).await;
        assert!(v["totalTokens"].as_u64().unwrap() > 0);
        let unknown = send(
            &gw,
            "POST",
            "/gemini/v1beta/models/m:embedContent",
            None,
            &[],
        )
        .await;
        assert_eq!(unknown.status(), 404);
    })
    .await
}

// ---------- chunking and recording ----------

#[tokio::test]
async fn chunk_delay_spaces_chunks() {
    bounded(async {
        let gw = gateway(FakeConfig {
            chunks: 4,
            chunk_delay: Duration::from_millis(80),
            ..Default::default()
        })
        .await;
        let resp = send(&gw, "POST", "/v1/messages", Some(stream_body("m")), &[]).await;
        let mut body = resp.into_body();
        let mut arrivals = Vec::new(); // (time, delta events in this frame)
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame.unwrap().into_data() {
                let n = String::from_utf8_lossy(&data)
                    .matches("event: content_block_delta")
                    .count();
                arrivals.extend(std::iter::repeat_n(Instant::now(), n));
            }
        }
        assert_eq!(arrivals.len(), 4);
        for w in arrivals.windows(2) {
            assert!(
                w[1] - w[0] >= Duration::from_millis(60),
                "chunks not spaced: {:?}",
                w[1] - w[0]
            );
        }

        // Per-request override via headers.
        let start = Instant::now();
        let headers = [("x-fake-chunks", "7"), ("x-fake-chunk-delay-ms", "30")];
        let resp = send(
            &gw,
            "POST",
            "/v1/messages",
            Some(stream_body("m")),
            &headers,
        )
        .await;
        let events = parse_sse(&text_of(resp).await);
        let deltas = events
            .iter()
            .filter(|(e, _)| e.as_deref() == Some("content_block_delta"))
            .count();
        assert_eq!(deltas, 7);
        assert!(start.elapsed() >= Duration::from_millis(6 * 30));
    })
    .await
}

#[tokio::test]
async fn records_requests() {
    bounded(async {
        let gw = gateway(FakeConfig::default()).await;
        let body = json!({"model": "claude-x", "max_tokens": 5});
        let headers = [
            ("x-api-key", "sk-test"),
            ("Anthropic-Version", "2023-06-01"),
        ];
        send(
            &gw,
            "POST",
            "/v1/messages?beta=true",
            Some(body.clone()),
            &headers,
        )
        .await;
        assert!(gw.wait_for_requests_async(1, Duration::from_secs(5)).await);
        let reqs = gw.requests();
        assert_eq!(reqs.len(), 1);
        let r = &reqs[0];
        assert_eq!(
            (r.method.as_str(), r.path.as_str(), r.query.as_deref()),
            ("POST", "/v1/messages", Some("beta=true"))
        );
        assert_eq!(r.header("x-api-key"), Some("sk-test"));
        assert_eq!(r.header("ANTHROPIC-VERSION"), Some("2023-06-01"));
        assert!(
            r.headers.iter().any(|(n, _)| n == "anthropic-version"),
            "names are lower-cased"
        );
        assert_eq!(r.body_len, body.to_string().len());
        assert_eq!(r.json(), Some(body));
        assert!(r.connection >= 1);
        gw.clear_requests();
        assert!(gw.requests().is_empty());
    })
    .await
}

#[tokio::test]
async fn records_length_of_large_body() {
    bounded(async {
        let gw = gateway(FakeConfig::default()).await;
        let big = vec![b'x'; 5 * 1024 * 1024];
        let req = Request::post(format!("{}/v1/messages", gw.url()))
            .body(Full::new(Bytes::from(big)))
            .unwrap();
        let resp = client().request(req).await.unwrap();
        assert_eq!(resp.status(), 200);
        let r = &gw.requests()[0];
        assert_eq!(r.body_len, 5 * 1024 * 1024);
        assert_eq!(r.body.len(), crate::RECORDED_BODY_CAP);
        assert_eq!(r.json(), None);
    })
    .await
}

// ---------- faults ----------

#[tokio::test]
async fn refuse_then_listen_again_on_same_port() {
    bounded(async {
        let gw = gateway(FakeConfig {
            fault: Fault::Refuse,
            ..Default::default()
        })
        .await;
        let addr = gw.addr();
        assert!(
            TcpStream::connect(addr).await.is_err(),
            "Refuse must refuse connects"
        );

        gw.set_fault(Fault::None);
        assert_eq!(gw.addr(), addr);
        let resp = send(&gw, "GET", "/healthz", None, &[]).await;
        assert_eq!(resp.status(), 200);

        // Refusing again also closes open connections.
        let mut open = TcpStream::connect(addr).await.unwrap();
        gw.set_fault(Fault::Refuse);
        assert!(TcpStream::connect(addr).await.is_err());
        let mut buf = [0u8; 16];
        let n = timeout(Duration::from_secs(5), open.read(&mut buf))
            .await
            .expect("closed");
        assert!(matches!(n, Ok(0) | Err(_)));
    })
    .await
}

#[tokio::test]
async fn silent_accepts_but_never_answers() {
    bounded(async {
        let gw = gateway(FakeConfig {
            fault: Fault::Silent,
            ..Default::default()
        })
        .await;
        let mut s = TcpStream::connect(gw.addr())
            .await
            .expect("TCP connect succeeds");
        s.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 16];
        assert!(
            timeout(Duration::from_millis(300), s.read(&mut buf))
                .await
                .is_err(),
            "read should time out"
        );
        assert_eq!(gw.open_connections(), 1);
    })
    .await
}

#[tokio::test]
async fn slow_first_byte() {
    bounded(async {
        let delay = Duration::from_millis(300);
        let gw = gateway(FakeConfig {
            fault: Fault::SlowFirstByte(delay),
            ..Default::default()
        })
        .await;
        let mut s = TcpStream::connect(gw.addr()).await.unwrap();
        let start = Instant::now();
        s.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 1];
        s.read_exact(&mut buf).await.unwrap();
        assert!(start.elapsed() >= delay);
    })
    .await
}

#[tokio::test]
async fn status_fault() {
    bounded(async {
        let gw = gateway(FakeConfig {
            fault: Fault::Status(503),
            ..Default::default()
        })
        .await;
        let resp = send(&gw, "POST", "/v1/chat/completions", Some(json!({})), &[]).await;
        assert_eq!(resp.status(), 503);
        let v = json_of(resp).await;
        assert!(v["error"]["message"].as_str().unwrap().contains("503"));
        assert_eq!(get_json(&gw, "/.well-known/anyray.json").await.0, 503);
        assert_eq!(send(&gw, "GET", "/healthz", None, &[]).await.status(), 503);

        let gw = gateway(FakeConfig {
            fault: Fault::Status(502),
            keep_discovery: true,
            ..Default::default()
        })
        .await;
        assert_eq!(
            send(&gw, "POST", "/v1/messages", Some(json!({})), &[])
                .await
                .status(),
            502
        );
        assert_eq!(get_json(&gw, "/.well-known/anyray.json").await.0, 200);
        assert_eq!(send(&gw, "GET", "/healthz", None, &[]).await.status(), 200);
    })
    .await
}

#[tokio::test]
async fn close_mid_stream() {
    bounded(async {
        let gw = gateway(FakeConfig {
            fault: Fault::CloseMidStream { after_chunks: 2 },
            ..Default::default()
        })
        .await;
        let resp = send(&gw, "POST", "/v1/messages", Some(stream_body("m")), &[]).await;
        assert_eq!(resp.status(), 200);
        let mut body = resp.into_body();
        let mut seen = String::new();
        let err = loop {
            match body.frame().await {
                Some(Ok(f)) => seen.push_str(&String::from_utf8_lossy(&f.into_data().unwrap())),
                Some(Err(e)) => break e,
                None => panic!("stream ended cleanly; expected an error. Got:\n{seen}"),
            }
        };
        assert!(
            err.is_incomplete_message() || format!("{err:?}").contains("EOF"),
            "{err:?}"
        );
        assert_eq!(seen.matches("event: content_block_delta").count(), 2);
        assert!(!seen.contains("message_stop"));
        assert_eq!(gw.cancelled_streams(), 0, "an abort is not a client cancel");
    })
    .await
}

#[tokio::test]
async fn html_fault() {
    bounded(async {
        let gw = gateway(FakeConfig {
            fault: Fault::Html,
            ..Default::default()
        })
        .await;
        let resp = send(&gw, "GET", "/v1/models", None, &[]).await;
        assert_eq!(resp.status(), 200);
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        assert!(text_of(resp).await.contains("<html"));
    })
    .await
}

#[tokio::test]
async fn client_drop_cancels_stream() {
    bounded(async {
        let gw = gateway(FakeConfig {
            chunks: 50,
            chunk_delay: Duration::from_millis(100),
            ..Default::default()
        })
        .await;
        let resp = send(
            &gw,
            "POST",
            "/v1/chat/completions",
            Some(stream_body("m")),
            &[],
        )
        .await;
        let mut body = resp.into_body();
        body.frame().await.unwrap().unwrap();
        assert_eq!(gw.cancelled_streams(), 0);
        drop(body);
        let dropped = Instant::now();
        while gw.cancelled_streams() == 0 {
            assert!(
                dropped.elapsed() < Duration::from_secs(2),
                "stream not cancelled"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(gw.cancelled_streams(), 1);
    })
    .await
}

#[tokio::test]
async fn connection_counters() {
    bounded(async {
        let gw = gateway(FakeConfig::default()).await;
        {
            let c = client();
            for _ in 0..3 {
                let req = Request::get(format!("{}/healthz", gw.url()))
                    .body(Full::default())
                    .unwrap();
                c.request(req)
                    .await
                    .unwrap()
                    .into_body()
                    .collect()
                    .await
                    .unwrap();
            }
            assert_eq!(
                gw.total_connections(),
                1,
                "keep-alive reuses the connection"
            );
            assert_eq!(gw.open_connections(), 1);
            let _s = TcpStream::connect(gw.addr()).await.unwrap();
            let t = Instant::now();
            while gw.open_connections() != 2 {
                assert!(t.elapsed() < Duration::from_secs(2));
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        let t = Instant::now();
        while gw.open_connections() != 0 {
            assert!(
                t.elapsed() < Duration::from_secs(5),
                "still open: {}",
                gw.open_connections()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(gw.total_connections(), 2);
    })
    .await
}

#[tokio::test]
async fn require_identity() {
    bounded(async {
        let gw = gateway(FakeConfig {
            require_identity: Some("k-123".into()),
            ..Default::default()
        })
        .await;
        let body = Some(json!({"model": "m"}));
        let resp = send(&gw, "POST", "/v1/messages", body.clone(), &[]).await;
        assert_eq!(resp.status(), 401);
        assert!(json_of(resp).await["error"]["message"].is_string());
        let resp = send(
            &gw,
            "POST",
            "/v1/messages",
            body.clone(),
            &[("x-anyray-key", "wrong")],
        )
        .await;
        assert_eq!(resp.status(), 401);
        let resp = send(
            &gw,
            "POST",
            "/v1/messages",
            body,
            &[("x-anyray-key", "k-123")],
        )
        .await;
        assert_eq!(resp.status(), 200);
        // Discovery and health stay open: clients need discovery to learn the header.
        assert_eq!(get_json(&gw, "/.well-known/anyray.json").await.0, 200);
        assert_eq!(send(&gw, "GET", "/healthz", None, &[]).await.status(), 200);
    })
    .await
}

#[tokio::test]
async fn the_key_scheme_reads_authorization_first() {
    bounded(async {
        let gw = gateway(FakeConfig {
            require_key: Some("sk-gw".into()),
            ..Default::default()
        })
        .await;
        let status = |headers: &'static [(&'static str, &'static str)]| {
            let gw = &gw;
            async move { send(gw, "GET", "/v1/models", None, headers).await.status() }
        };
        assert_eq!(status(&[]).await, 401);
        assert_eq!(status(&[("authorization", "Bearer sk-gw")]).await, 200);
        assert_eq!(status(&[("x-api-key", "sk-gw")]).await, 200);
        assert_eq!(status(&[("authorization", "sk-gw")]).await, 401);
        // A placeholder in Authorization wins over a good x-api-key, as in LiteLLM.
        const BOTH: [(&str, &str); 2] = [
            ("authorization", "Bearer anyray-relay"),
            ("x-api-key", "sk-gw"),
        ];
        assert_eq!(status(&BOTH).await, 401);
        assert_eq!(status(&[("x-anyray-key", "sk-gw")]).await, 401);
        assert_eq!(get_json(&gw, "/.well-known/anyray.json").await.0, 200);
    })
    .await
}

#[tokio::test]
async fn redact_keys_logs_fingerprints_never_the_key() {
    bounded(async {
        let dir = std::env::temp_dir().join(format!("fake-redact-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("log.jsonl");
        let gw = gateway(FakeConfig {
            require_key: Some("sk-gw-secret".into()),
            log_file: Some(log.clone()),
            redact_keys: true,
            ..Default::default()
        })
        .await;
        send(
            &gw,
            "GET",
            "/v1/models",
            None,
            &[
                ("authorization", "Bearer sk-gw-secret"),
                ("x-api-key", "sk-gw-secret"),
            ],
        )
        .await;
        send(
            &gw,
            "GET",
            "/v1/models",
            None,
            &[
                ("authorization", "Bearer sk-other"),
                ("x-anyray-key", "sk-gw-secret"),
                ("x-team", "blue"),
            ],
        )
        .await;
        let text = std::fs::read_to_string(&log).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(
            !text.contains("sk-gw-secret") && !text.contains("sk-other"),
            "{text}"
        );
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(
            lines[0]["headers"]["authorization"],
            "Bearer <the required key>"
        );
        assert_eq!(lines[0]["headers"]["x-api-key"], "<the required key>");
        assert_eq!(
            lines[1]["headers"]["authorization"],
            "Bearer <another key of 8 chars>"
        );
        assert_eq!(lines[1]["headers"]["x-anyray-key"], "<the required key>");
        assert_eq!(lines[1]["headers"]["x-team"], "blue");
    })
    .await
}

#[tokio::test]
async fn routing_by_header_answers_portkeys_400() {
    bounded(async {
        let gw = gateway(FakeConfig {
            route_by_header: true,
            ..Default::default()
        })
        .await;
        let body = Some(json!({"model": "m"}));
        let resp = send(&gw, "POST", "/v1/chat/completions", body.clone(), &[]).await;
        assert_eq!(resp.status(), 400);
        assert_eq!(
            json_of(resp).await,
            json!({"status": "failure",
                   "message": "Either x-portkey-config or x-portkey-provider header is required"})
        );
        const OPENAI: [(&str, &str); 1] = [("x-portkey-provider", "openai")];
        const ANTHROPIC: [(&str, &str); 1] = [("x-portkey-provider", "anthropic")];
        let post = |path, h: &'static [(&'static str, &'static str)]| {
            let (gw, body) = (&gw, body.clone());
            async move { send(gw, "POST", path, body, h).await.status() }
        };
        assert_eq!(post("/v1/chat/completions", &OPENAI).await, 200);
        assert_eq!(post("/v1/messages", &ANTHROPIC).await, 200);
        assert_eq!(
            post("/v1/messages", &OPENAI).await,
            400,
            "each route its own header"
        );
        assert_eq!(send(&gw, "GET", "/healthz", None, &[]).await.status(), 200);
    })
    .await
}

#[test]
fn spawn_serves_sync_callers_and_drop_closes_port() {
    use std::io::{Read, Write};
    let gw = FakeGateway::spawn(FakeConfig::default()).unwrap();
    let addr = gw.addr();
    assert_eq!(gw.url(), format!("http://127.0.0.1:{}", addr.port()));
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    assert!(out.ends_with("ok"));
    assert!(gw.wait_for_requests(1, Duration::from_secs(5)));
    drop(gw);
    assert!(std::net::TcpStream::connect(addr).is_err());
}
