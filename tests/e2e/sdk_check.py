"""One turn with each official Python SDK, configured only by the environment.

run.sh starts this inside a login/interactive shell, so OPENAI_BASE_URL and
ANTHROPIC_BASE_URL come from whatever `anyray connect` wrote into the rc files; this
script never passes a base URL itself. Every request carries `x-e2e-case: CASE` so the
suite can find it in the fake gateway's log.

  sdk_check.py --case bash/direct --expect-text "answer"
      Both SDKs must resolve to a loopback endpoint and answer "answer", plain and
      streaming (openai: chat completions and responses; anthropic: messages).
  sdk_check.py --case bash/disconnected --expect-default
      Both SDKs must resolve to their public default endpoint again. Nothing is sent:
      the suite never talks to a non-loopback address.

Prints one line per check and exits 1 if any failed.
"""

import argparse
import ipaddress
import os
import sys
from urllib.parse import urlsplit

import anthropic
import openai

DEFAULT_HOSTS = {"openai": "api.openai.com", "anthropic": "api.anthropic.com"}
MODELS = {"openai": "gpt-e2e", "anthropic": "claude-e2e"}


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def openai_turns(client: openai.OpenAI):
    msgs = [{"role": "user", "content": "Say hello."}]
    model = MODELS["openai"]
    r = client.chat.completions.create(model=model, messages=msgs)
    yield "chat plain", r.choices[0].message.content
    stream = client.chat.completions.create(model=model, messages=msgs, stream=True)
    yield "chat stream", "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    r = client.responses.create(model=model, input="Say hello.")
    yield "responses plain", r.output_text
    with client.responses.stream(model=model, input="Say hello.") as stream:
        for _ in stream:
            pass
        yield "responses stream", stream.get_final_response().output_text


def anthropic_turns(client: anthropic.Anthropic):
    msgs = [{"role": "user", "content": "Say hello."}]
    model = MODELS["anthropic"]
    m = client.messages.create(model=model, max_tokens=64, messages=msgs)
    yield "messages plain", "".join(b.text for b in m.content if b.type == "text")
    with client.messages.stream(model=model, max_tokens=64, messages=msgs) as stream:
        yield "messages stream", "".join(stream.text_stream)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", required=True, help="tag sent as the x-e2e-case header")
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--expect-text", help="the answer every turn must return")
    mode.add_argument("--expect-default", action="store_true",
                      help="the SDKs must be back on their public default endpoint")
    args = ap.parse_args()

    # Only credentials come from here (dummy keys set by the suite); the endpoint is
    # whatever the SDKs resolve from the environment the shell built.
    options = dict(default_headers={"x-e2e-case": args.case}, max_retries=0, timeout=30.0)
    clients = {
        "openai": (openai.OpenAI(**options), openai_turns),
        "anthropic": (anthropic.Anthropic(**options), anthropic_turns),
    }
    failures = 0

    def report(ok: bool, what: str, detail: str) -> None:
        nonlocal failures
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {args.case} {what}: {detail}")

    for name, (client, turns) in clients.items():
        base = str(client.base_url)
        env_var = f"{name.upper()}_BASE_URL"
        print(f"     {args.case} {name}: {env_var}={os.environ.get(env_var, '(unset)')} -> {base}")
        if args.expect_default:
            host = urlsplit(base).hostname
            report(host == DEFAULT_HOSTS[name], f"{name} endpoint", f"{base} (nothing sent)")
            continue
        if not is_loopback(base):
            # Never send to a non-loopback address: this is the failure itself.
            report(False, f"{name} endpoint", f"{base} is not loopback (not connected?)")
            continue
        for what, fn_result in _run(turns, client):
            ok = fn_result == args.expect_text
            report(ok, f"{name} {what}", repr(fn_result))
    return 1 if failures else 0


def _run(turns, client):
    """Yields (what, answer), or (what, "error: ...") once a turn raises."""
    it = turns(client)
    what = "start"
    while True:
        try:
            what, answer = next(it)
        except StopIteration:
            return
        except Exception as e:  # noqa: BLE001 - any SDK error is a failed check
            yield f"turn after {what!r}", f"error: {type(e).__name__}: {e}"
            return
        yield what, answer


if __name__ == "__main__":
    sys.exit(main())
