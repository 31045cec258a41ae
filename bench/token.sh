#!/usr/bin/env bash
# How long `anyray token` takes, the command Claude Code's apiKeyHelper and Codex's
# provider auth command run on every refresh (issue 16): with the key in the 0600 file,
# in ANYRAY_TOKEN, in a real Secret Service (gnome-keyring in a private D-Bus session,
# tests/keyring/keyring-session.sh), and with the keyring on but no session bus (the
# fallback a headless machine takes). Prints min / median / p95 / max in milliseconds.
#
#   bench/token.sh [--runs N] [BINARY]
#
# BINARY defaults to target/release/anyray (built if missing). N defaults to 200.
# Uses hyperfine when it is installed, else a timed loop. Not part of `cargo test`.
set -euo pipefail

RUNS=200
while [[ $# -gt 0 ]]; do
  case $1 in
    --runs) RUNS=$2; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) break ;;
  esac
done
root=$(cd "$(dirname "$0")/.." && pwd)
BIN=${1:-$root/target/release/anyray}
if [[ ! -x $BIN ]]; then
  (cd "$root" && cargo build --release --locked --bin anyray)
fi
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HOME=$work/home XDG_CONFIG_HOME=$work/home/.config
mkdir -p "$HOME"
key="sk-bench-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"

# Times RUNS runs of `$BIN token` in the current environment; one line of figures.
measure() {
  local label=$1
  if ! "$BIN" token >/dev/null; then
    echo "$label: anyray token failed" >&2
    return 1
  fi
  if command -v hyperfine >/dev/null 2>&1; then
    hyperfine -N --warmup 5 --runs "$RUNS" --export-json "$work/h.json" \
      "$BIN token" >/dev/null 2>&1
    python3 - "$label" "$work/h.json" <<'PY'
import json, sys
times = sorted(t * 1000 for t in json.load(open(sys.argv[2]))["results"][0]["times"])
p = lambda q: times[min(len(times) - 1, int(q * len(times)))]
print(f"{sys.argv[1]:<34} min {times[0]:6.2f}  median {p(0.5):6.2f}  p95 {p(0.95):6.2f}  max {times[-1]:6.2f}  ms ({len(times)} runs)")
PY
  else
    local i start end
    : >"$work/t"
    for ((i = 0; i < RUNS; i++)); do
      start=$(date +%s%N)
      "$BIN" token >/dev/null
      end=$(date +%s%N)
      echo $(((end - start) / 1000)) >>"$work/t"
    done
    sort -n "$work/t" | awk -v label="$label" '{ t[NR] = $1 / 1000 } END {
      printf "%-34s min %6.2f  median %6.2f  p95 %6.2f  max %6.2f  ms (%d runs)\n",
        label, t[1], t[int(NR / 2) + 1], t[int(NR * 0.95) + 1 > NR ? NR : int(NR * 0.95) + 1], t[NR], NR }'
  fi
}

echo "anyray token, $("$BIN" --version), $(nproc) cores"
printf '%s' "$key" | ANYRAY_KEYRING=off "$BIN" login --token-stdin >/dev/null 2>&1
ANYRAY_KEYRING=off measure "0600 file (ANYRAY_KEYRING=off)"
ANYRAY_TOKEN=$key measure "ANYRAY_TOKEN"
(unset DBUS_SESSION_BUS_ADDRESS; measure "keyring on, no session bus -> file")
"$BIN" logout >/dev/null 2>&1

if command -v dbus-run-session >/dev/null 2>&1 && command -v gnome-keyring-daemon >/dev/null 2>&1; then
  # One session: store, then measure the reads against the real Secret Service
  # (the single-quoted script is expanded by the inner bash).
  export -f measure
  export BIN RUNS work key
  # shellcheck disable=SC2016
  "$root/tests/keyring/keyring-session.sh" bash -c '
    set -euo pipefail
    printf "%s" "$key" | "$BIN" login --token-stdin 2>/dev/null | grep -q "OS keyring"
    measure "Secret Service (gnome-keyring)"
  ' 2> >(grep -vE "^dbus-daemon\[|discover_other_daemon" >&2)
else
  echo "Secret Service: skipped (needs dbus-run-session and gnome-keyring-daemon)"
fi
