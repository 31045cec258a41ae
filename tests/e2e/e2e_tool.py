"""Small helpers for the end-to-end suite (stdlib only; run.sh calls them).

  requests LOG --from N [filters] [--min K] [--max K] [--what TEXT]
      Checks the requests a fake gateway appended to LOG (its --log JSON lines) after
      line N. Filters: --method M, --path P, --case C (x-e2e-case header), --ua PREFIX
      (user-agent), --header NAME=VALUE, --has-header NAME, --lacks-header NAME, --sub S
      (the subject of the verified JWT access token the fake logged). Exits 1
      with what was seen when the count of matches is outside [--min, --max].
  free-port                     prints a free loopback TCP port
  wait-port PORT SECS           waits until 127.0.0.1:PORT accepts a connection
  claude-answer FILE            prints .result of `claude -p --output-format json`
                                output, or exits 1 if it is an error
  snapshot DIR OUT              records every file under DIR (sha256, mode) as JSON
  compare SNAPSHOT DIR --allow-new GLOB... [--allow-changed GLOB...] [--deny-new GLOB...]
      Every file of SNAPSHOT must be byte- and mode-identical under DIR, and every new
      file must match an --allow-new glob (the tools' own state) and no --deny-new glob
      (what anyray must never leave behind); exits 1 listing the differences.
  doctor FILE [--expect ID=LEVEL...] [--pending-out FILE]
      Reads `anyray doctor --json` output and checks the level of each named finding.
      A finding whose summary says it is "not available in this build" is not checked:
      its id goes to --pending-out instead.
"""

import argparse
import fnmatch
import hashlib
import json
import os
import socket
import stat
import sys
import time


def read_requests(log, start):
    try:
        with open(log, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        lines = []
    return [json.loads(line) for line in lines[start:] if line.strip()]


def matches(req, args):
    headers = req.get("headers") or {}
    if args.method and req.get("method") != args.method:
        return False
    if args.path and req.get("path") != args.path:
        return False
    if args.case and headers.get("x-e2e-case") != args.case:
        return False
    if args.ua and not headers.get("user-agent", "").startswith(args.ua):
        return False
    for pair in args.header:
        name, _, value = pair.partition("=")
        if headers.get(name.lower()) != value:
            return False
    if any(name.lower() not in headers for name in args.has_header):
        return False
    if any(name.lower() in headers for name in args.lacks_header):
        return False
    if args.sub and req.get("sub") != args.sub:
        return False
    return True


def describe(req):
    h = req.get("headers") or {}
    query = f"?{req['query']}" if req.get("query") else ""
    tags = [f"ua={h.get('user-agent', '-')[:40]}"]
    if req.get("sub"):
        tags.append(f"sub={req['sub']}")
    for name in ("x-e2e-case", "x-anyray-key"):
        if name in h:
            tags.append(f"{name}={'<set>' if name == 'x-anyray-key' else h[name]}")
    return f"{req.get('method')} {req.get('path')}{query} ({', '.join(tags)})"


def cmd_requests(args):
    reqs = read_requests(args.log, args.start)
    hits = [r for r in reqs if matches(r, args)]
    low, high = args.min, args.max
    if low <= len(hits) and (high is None or len(hits) <= high):
        return 0
    want = f"at least {low}" if high is None else f"between {low} and {high}"
    print(f"expected {want} {args.what or 'matching requests'}, found {len(hits)}; "
          f"the log has {len(reqs)} new request(s):", file=sys.stderr)
    for r in reqs[:20]:
        print(f"  {describe(r)}", file=sys.stderr)
    return 1


def cmd_free_port(_args):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])
    return 0


def cmd_wait_port(args):
    deadline = time.monotonic() + args.secs
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", args.port), timeout=1):
                return 0
        except OSError:
            time.sleep(0.1)
    print(f"nothing listens on 127.0.0.1:{args.port} after {args.secs}s", file=sys.stderr)
    return 1


def cmd_claude_answer(args):
    try:
        with open(args.file, encoding="utf-8") as f:
            out = json.loads(f.read().strip().splitlines()[-1])
    except (OSError, ValueError, IndexError) as e:
        print(f"no JSON result from claude: {e}", file=sys.stderr)
        return 1
    if out.get("is_error"):
        print(f"claude reported an error (api status {out.get('api_error_status')}): "
              f"{out.get('result')}", file=sys.stderr)
        return 1
    print(out.get("result", ""))
    return 0


def walk(root):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                yield rel, {"link": os.readlink(path)}
            elif stat.S_ISREG(st.st_mode):
                with open(path, "rb") as f:
                    digest = hashlib.sha256(f.read()).hexdigest()
                yield rel, {"sha256": digest, "mode": oct(stat.S_IMODE(st.st_mode))}


def cmd_snapshot(args):
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(dict(walk(args.dir)), f, indent=1, sort_keys=True)
    return 0


def cmd_compare(args):
    with open(args.snapshot, encoding="utf-8") as f:
        before = json.load(f)
    after = dict(walk(args.dir))
    problems = []

    def matches_any(rel, globs):
        return any(fnmatch.fnmatchcase(rel, glob) for glob in globs)

    for rel, info in before.items():
        # --deny-new paths (the tools' config files) must never change, whatever else may.
        if matches_any(rel, args.allow_changed) and not matches_any(rel, args.deny_new):
            continue
        if rel not in after:
            problems.append(f"removed: {rel}")
        elif after[rel] != info:
            problems.append(f"changed: {rel} ({info} -> {after[rel]})")

    for rel in after.keys() - before.keys():
        if matches_any(rel, args.deny_new) or not matches_any(rel, args.allow_new):
            problems.append(f"left behind: {rel}")
    for p in sorted(problems):
        print(f"  {p}", file=sys.stderr)
    return 1 if problems else 0


def findings_of(doc):
    """Every {id, level} object in the document, wherever the schema nests them."""
    if isinstance(doc, dict):
        if isinstance(doc.get("id"), str) and isinstance(doc.get("level"), str):
            yield doc
        for value in doc.values():
            yield from findings_of(value)
    elif isinstance(doc, list):
        for value in doc:
            yield from findings_of(value)


def cmd_doctor(args):
    try:
        with open(args.file, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        print(f"doctor did not print a JSON document: {e}", file=sys.stderr)
        return 1
    findings = {f["id"]: f for f in findings_of(doc)}
    levels = {i: f["level"] for i, f in findings.items()}
    print(" ".join(f"{i}={lvl}" for i, lvl in sorted(levels.items())))
    wrong, pending = [], []
    for pair in args.expect:
        check_id, _, want = pair.partition("=")
        allowed = want.split("|")
        if "not available in this build" in str(findings.get(check_id, {}).get("summary")):
            pending.append(check_id)
        elif levels.get(check_id) not in allowed:
            wrong.append(f"{check_id} is {levels.get(check_id, 'missing')}, expected {want}")
    for w in wrong:
        print(f"  {w}", file=sys.stderr)
    checked = [p.partition("=")[0] for p in args.expect]
    print("checked: " + " ".join(f"{i}={levels.get(i)}" for i in checked if i not in pending))
    if args.pending_out:
        with open(args.pending_out, "w", encoding="utf-8") as f:
            f.write(" ".join(pending))
    return 1 if wrong else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("requests")
    p.add_argument("log")
    p.add_argument("--from", dest="start", type=int, default=0)
    p.add_argument("--method")
    p.add_argument("--path")
    p.add_argument("--case")
    p.add_argument("--ua")
    p.add_argument("--header", action="append", default=[])
    p.add_argument("--has-header", action="append", default=[])
    p.add_argument("--lacks-header", action="append", default=[])
    p.add_argument("--sub")
    p.add_argument("--min", type=int, default=1)
    p.add_argument("--max", type=int)
    p.add_argument("--what")
    p.set_defaults(fn=cmd_requests)

    sub.add_parser("free-port").set_defaults(fn=cmd_free_port)

    p = sub.add_parser("wait-port")
    p.add_argument("port", type=int)
    p.add_argument("secs", type=float)
    p.set_defaults(fn=cmd_wait_port)

    p = sub.add_parser("claude-answer")
    p.add_argument("file")
    p.set_defaults(fn=cmd_claude_answer)

    p = sub.add_parser("snapshot")
    p.add_argument("dir")
    p.add_argument("out")
    p.set_defaults(fn=cmd_snapshot)

    p = sub.add_parser("compare")
    p.add_argument("snapshot")
    p.add_argument("dir")
    p.add_argument("--allow-new", nargs="*", default=[])
    # Files the clients themselves keep (their state) may change between snapshots.
    p.add_argument("--allow-changed", nargs="*", default=[])
    p.add_argument("--deny-new", nargs="*", default=[])
    p.set_defaults(fn=cmd_compare)

    p = sub.add_parser("doctor")
    p.add_argument("file")
    p.add_argument("--expect", nargs="*", default=[], help="ID=LEVEL or ID=LEVEL|LEVEL")
    p.add_argument("--pending-out")
    p.set_defaults(fn=cmd_doctor)

    args = ap.parse_args()
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
