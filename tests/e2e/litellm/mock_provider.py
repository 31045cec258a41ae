#!/usr/bin/env python3
"""A loopback mock LLM provider for end-to-end tests (stdlib only).

Answers the three wire APIs a gateway forwards to, plain and streaming (SSE):
  POST /v1/chat/completions         OpenAI Chat Completions
  POST /v1/responses                OpenAI Responses
  POST /v1/messages                 Anthropic Messages (+ /v1/messages/count_tokens)
  GET  /v1/models                   a small model list
Every request is appended to --log as one JSON line, in the same shape as the fake
gateway's log (method, path, query, headers with lower-case names, body_len) plus the
body's "model" and "stream", so tests can grep exactly what reached the provider.

  mock_provider.py [--port N] [--log FILE] [--text S] [--chunks N] [--chunk-delay-ms MS]
                   [--fault SPEC]

--chunk-delay-ms pauses between streamed pieces, so a test can tell a gateway that
streams from one that buffers. --port 0 (the default) picks a free port; the first line on stdout is always
"listening on http://127.0.0.1:PORT". --fault status:CODE answers every model call
with that HTTP status and a provider-style JSON error (a provider that is down).
It binds 127.0.0.1 only and never opens an outbound connection.
"""

import argparse
import itertools
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

MODELS = ["mock-gpt", "mock-claude"]


class State:
    """Settings and the request log, shared by every handler thread."""

    def __init__(self, args):
        self.text = args.text
        self.chunks = max(1, args.chunks)
        self.chunk_delay = max(0, args.chunk_delay_ms) / 1000
        self.fault_status = None
        if args.fault.startswith("status:"):
            self.fault_status = int(args.fault.split(":", 1)[1])
        elif args.fault != "none":
            raise SystemExit(f"mock_provider: unknown --fault {args.fault!r}")
        self.log_path = args.log
        self.lock = threading.Lock()
        self.ids = itertools.count(1)

    def log(self, record):
        if not self.log_path:
            return
        line = json.dumps(record, sort_keys=True)
        with self.lock, open(self.log_path, "a", encoding="utf-8") as f:
            f.write(line + "\n")

    def pieces(self):
        """The answer text in --chunks pieces that join back to it, --chunk-delay-ms apart."""
        words = self.text.split(" ")
        n = min(self.chunks, len(words))
        size = -(-len(words) // n)
        groups = [" ".join(words[i : i + size]) for i in range(0, len(words), size)]
        for i, g in enumerate(groups):
            if i and self.chunk_delay:
                time.sleep(self.chunk_delay)
            yield g if i == 0 else " " + g


def usage_counts(body):
    approx = len(json.dumps(body.get("messages") or body.get("input") or "")) // 4
    return max(1, approx), max(1, len(STATE.text.split()))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mock-provider/1"

    def log_message(self, fmt, *args):  # quiet: the JSON log is the record
        pass

    # --- plumbing --------------------------------------------------------------------

    def read_body(self):
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {}
        return raw, body if isinstance(body, dict) else {}

    def record(self, raw, body):
        url = urlsplit(self.path)
        STATE.log(
            {
                "time": round(time.time(), 3),
                "method": self.command,
                "path": url.path,
                "query": url.query or None,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body_len": len(raw),
                "model": body.get("model"),
                "stream": bool(body.get("stream")),
            }
        )

    def send_json(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("x-request-id", f"req_mock{next(STATE.ids):08d}")
        self.end_headers()
        self.wfile.write(data)

    def start_sse(self):
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()

    def sse(self, data, event=None):
        text = (f"event: {event}\n" if event else "") + f"data: {data}\n\n"
        chunk = text.encode()
        self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        self.wfile.flush()

    def end_sse(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    # --- routes ----------------------------------------------------------------------

    def do_GET(self):
        self.record(b"", {})
        path = urlsplit(self.path).path
        if path in ("/v1/models", "/models"):
            data = [{"id": m, "object": "model", "created": 1700000000, "owned_by": "mock"} for m in MODELS]
            return self.send_json(200, {"object": "list", "data": data})
        if path in ("/health", "/healthz"):
            return self.send_json(200, {"status": "ok"})
        return self.not_found()

    def do_POST(self):
        raw, body = self.read_body()
        self.record(raw, body)
        path = urlsplit(self.path).path.removeprefix("/openai")
        routes = {
            "/v1/chat/completions": self.openai_chat,
            "/chat/completions": self.openai_chat,
            "/v1/responses": self.openai_responses,
            "/responses": self.openai_responses,
            "/v1/messages": self.anthropic_messages,
            "/v1/messages/count_tokens": self.anthropic_count_tokens,
        }
        route = routes.get(path)
        if route is None:
            return self.not_found()
        if STATE.fault_status and route != self.anthropic_count_tokens:
            return self.fault(path)
        return route(body)

    def not_found(self):
        self.send_json(404, {"error": {"message": f"mock provider: no route for {self.command} {self.path}", "type": "not_found_error"}})

    def fault(self, path):
        message = f"mock provider: fault status {STATE.fault_status}"
        if path.endswith("/messages"):
            return self.send_json(STATE.fault_status, {"type": "error", "error": {"type": "api_error", "message": message}})
        return self.send_json(STATE.fault_status, {"error": {"message": message, "type": "server_error", "code": None}})

    def openai_chat(self, body):
        n = next(STATE.ids)
        base = {"id": f"chatcmpl-mock{n}", "created": int(time.time()), "model": body.get("model", "mock"), "system_fingerprint": "fp_mock"}
        prompt, completion = usage_counts(body)
        usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
        if not body.get("stream"):
            choice = {"index": 0, "finish_reason": "stop", "logprobs": None, "message": {"role": "assistant", "content": STATE.text, "refusal": None}}
            return self.send_json(200, {**base, "object": "chat.completion", "choices": [choice], "usage": usage})
        self.start_sse()

        def chunk(delta, finish=None, **extra):
            choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
            return json.dumps({**base, "object": "chat.completion.chunk", "choices": [choice], **extra})

        self.sse(chunk({"role": "assistant", "content": ""}))
        for piece in STATE.pieces():
            self.sse(chunk({"content": piece}))
        self.sse(chunk({}, "stop"))
        if (body.get("stream_options") or {}).get("include_usage"):
            self.sse(json.dumps({**base, "object": "chat.completion.chunk", "choices": [], "usage": usage}))
        self.sse("[DONE]")
        self.end_sse()

    def openai_responses(self, body):
        n = next(STATE.ids)
        prompt, completion = usage_counts(body)
        part = {"type": "output_text", "text": STATE.text, "annotations": [], "logprobs": []}
        item = {"id": f"msg_mock{n}", "type": "message", "role": "assistant", "status": "completed", "content": [part]}
        resp = {
            "id": f"resp_mock{n}", "object": "response", "created_at": int(time.time()), "status": "completed",
            "model": body.get("model", "mock"), "output": [item], "error": None, "incomplete_details": None,
            "instructions": None, "metadata": {}, "parallel_tool_calls": True, "tool_choice": "auto", "tools": [],
            "text": {"format": {"type": "text"}}, "store": False, "previous_response_id": None,
            "usage": {"input_tokens": prompt, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": completion,
                      "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": prompt + completion},
        }
        if not body.get("stream"):
            return self.send_json(200, resp)
        self.start_sse()
        seq = itertools.count()
        started = {**resp, "status": "in_progress", "output": [], "usage": None}
        item_id = item["id"]

        def event(kind, **fields):
            self.sse(json.dumps({"type": kind, "sequence_number": next(seq), **fields}), kind)

        event("response.created", response=started)
        event("response.in_progress", response=started)
        event("response.output_item.added", output_index=0, item={**item, "status": "in_progress", "content": []})
        event("response.content_part.added", item_id=item_id, output_index=0, content_index=0, part={**part, "text": ""})
        for piece in STATE.pieces():
            event("response.output_text.delta", item_id=item_id, output_index=0, content_index=0, delta=piece, logprobs=[])
        event("response.output_text.done", item_id=item_id, output_index=0, content_index=0, text=STATE.text, logprobs=[])
        event("response.content_part.done", item_id=item_id, output_index=0, content_index=0, part=part)
        event("response.output_item.done", output_index=0, item=item)
        event("response.completed", response=resp)
        self.end_sse()

    def anthropic_messages(self, body):
        n = next(STATE.ids)
        prompt, completion = usage_counts(body)
        usage = {"input_tokens": prompt, "output_tokens": completion, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
        msg = {"id": f"msg_mock{n}", "type": "message", "role": "assistant", "model": body.get("model", "mock"),
               "content": [{"type": "text", "text": STATE.text}], "stop_reason": "end_turn", "stop_sequence": None, "usage": usage}
        if not body.get("stream"):
            return self.send_json(200, msg)
        self.start_sse()

        def event(kind, **fields):
            self.sse(json.dumps({"type": kind, **fields}), kind)

        event("message_start", message={**msg, "content": [], "stop_reason": None, "usage": {**usage, "output_tokens": 1}})
        event("content_block_start", index=0, content_block={"type": "text", "text": ""})
        event("ping")
        for piece in STATE.pieces():
            event("content_block_delta", index=0, delta={"type": "text_delta", "text": piece})
        event("content_block_stop", index=0)
        event("message_delta", delta={"stop_reason": "end_turn", "stop_sequence": None}, usage={"output_tokens": completion})
        event("message_stop")
        self.end_sse()

    def anthropic_count_tokens(self, body):
        self.send_json(200, {"input_tokens": usage_counts(body)[0]})


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--log", default="")
    p.add_argument("--text", default="Hello from the mock provider.")
    p.add_argument("--chunks", type=int, default=3)
    p.add_argument("--chunk-delay-ms", type=int, default=0)
    p.add_argument("--fault", default="none", help="none | status:CODE")
    args = p.parse_args()
    global STATE
    STATE = State(args)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


STATE = None

if __name__ == "__main__":
    sys.exit(main())
