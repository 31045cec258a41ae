#!/usr/bin/env python3
"""How long `anyray statusline` takes as Claude Code runs it, with the gateway black-holed.

    python3 bench/statusline.py [--anyray PATH] [--runs N]

Claude Code waits for its status command after every assistant message (and never kills a
slow one), so the line must come back at once whatever the network does. This starts a
loopback listener that accepts connections and never answers (a black-holed gateway),
points anyray at it in a temp HOME, and times N runs of `anyray statusline` fed Claude
Code 2.1.197's recorded session JSON on stdin: cold (no cache; the first run also starts
the detached refresh) and warm (the cache the refresh wrote). It prints min, median, p95
and max in milliseconds; the target is under 50 ms. The default binary is
target/release/anyray (build it with `cargo build --release`), else target/debug/anyray.
Loopback only; bounded: N runs each, and the refresh gives up on the silent gateway in 3 s.
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
STDIN = (REPO / "tests/fixtures/claude-statusline-stdin.json").read_bytes()


def default_binary() -> Path:
    for profile in ("release", "debug"):
        path = REPO / "target" / profile / "anyray"
        if path.exists():
            return path
    sys.exit("no anyray binary: run `cargo build --release` first")


def once(binary: Path, env: dict) -> float:
    start = time.perf_counter()
    out = subprocess.run([str(binary), "statusline"], input=STDIN, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True)
    took = (time.perf_counter() - start) * 1000
    assert out.stdout.count(b"\n") == 1, out.stdout
    return took


def report(name: str, samples: list) -> None:
    s = sorted(samples)
    p95 = s[min(len(s) - 1, int(len(s) * 0.95))]
    print(f"{name:5} n={len(s):3}  min {s[0]:6.1f} ms  median {statistics.median(s):6.1f} ms"
          f"  p95 {p95:6.1f} ms  max {s[-1]:6.1f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--anyray", type=Path, default=None)
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args()
    binary = args.anyray or default_binary()
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(1024)  # never accept(): the kernel completes handshakes, nothing answers
    gateway = "http://127.0.0.1:%d" % hole.getsockname()[1]
    with tempfile.TemporaryDirectory(prefix="anyray-bench-") as home:
        env = {"HOME": home, "XDG_CONFIG_HOME": f"{home}/.config",
               "XDG_STATE_HOME": f"{home}/.local/state", "ANYRAY_KEYRING": "off",
               "ANYRAY_GATEWAY": gateway, "ANYRAY_TOKEN": "sk-bench",
               "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        state = Path(home) / ".local/state/anyray"
        cache, mark = state / "statusline.json", state / "statusline.refresh"
        print(f"anyray {binary}; gateway {gateway} (black-holed)")
        cold = []
        for _ in range(args.runs):
            cache.unlink(missing_ok=True)
            cold.append(once(binary, env))
        deadline = time.time() + 20
        while mark.exists() and time.time() < deadline:
            time.sleep(0.05)
        assert cache.exists(), "the refresh wrote no cache"
        warm = [once(binary, env) for _ in range(args.runs)]
        report("cold", cold)
        report("warm", warm)
    hole.close()


if __name__ == "__main__":
    main()
