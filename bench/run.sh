#!/usr/bin/env bash
# Benchmark harness: client -> upstream directly, through `anyray gateway`, through nginx
# and (with --litellm) through the LiteLLM proxy, all on loopback, against the fake org
# gateway; then the same with nginx serving a fixed JSON answer as the upstream, one
# worker for the relay and for the nginx proxy (issue 18). Prints the tables with
# PASS/FAIL against the targets of issues 8 and 18.
#
#   bench/run.sh [--quick] [--litellm] [--rounds N]
#   bench/run.sh --instructions [N]
#
# --quick     a smoke run: 1 round, smaller and shorter loads (about a minute)
# --litellm   also measure the LiteLLM proxy (pip installs litellm[proxy] into a venv
#             under ${XDG_CACHE_HOME:-~/.cache}/anyray-bench on first use)
# --rounds N  rounds per scenario (default 5); each figure is the median over rounds
# --instructions [N]
#             instead: user-space instructions per request of the relay and of the
#             nginx proxy (callgrind, N closed-loop requests, default 20000), against
#             the nginx upstream. Repeatable on a busy machine, unlike wall time.
#
# Results go to $CARGO_TARGET_DIR/bench/<time>/ (results.jsonl and report.md).
# Everything is bounded in time and count, listens on 127.0.0.1 only, and is stopped on
# exit. Not part of `cargo test`; CI only checks that it builds and passes shellcheck.
set -euo pipefail

usage() { sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; }

QUICK=0
LITELLM=0
ROUNDS=""
INSTRUCTIONS=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --litellm) LITELLM=1 ;;
    --instructions)
      INSTRUCTIONS=20000
      case "${2:-}" in
        '' | -*) ;;
        *[!0-9]* | 0) printf 'bench: --instructions needs a positive number\n' >&2; exit 2 ;;
        *) INSTRUCTIONS=$2; shift ;;
      esac
      ;;
    --rounds)
      [ $# -ge 2 ] || { usage >&2; exit 2; }
      ROUNDS=$2
      shift
      ;;
    -h | --help) usage; exit 0 ;;
    *) printf 'bench: unknown argument %s\n' "$1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
case "$ROUNDS" in
  '' | *[!0-9]* | 0) [ -z "$ROUNDS" ] || { printf 'bench: --rounds needs a positive number\n' >&2; exit 2; } ;;
esac
ROUNDS_ARG=$ROUNDS

if [ "$QUICK" = 1 ]; then
  ROUNDS=${ROUNDS:-1}
  RATE=1000 WARMUP_S=0.5 FIXED_S=2 MAX_S=1 SSE_PAIRS=4 STREAMS=200 BIG_COUNT=2 HF_RUNS=5
  UP_RATE=5000 UP_MAX_S=1
else
  ROUNDS=${ROUNDS:-5}
  RATE=2000 WARMUP_S=1 FIXED_S=5 MAX_S=3 SSE_PAIRS=10 STREAMS=1000 BIG_COUNT=3 HF_RUNS=20
  UP_RATE=10000 UP_MAX_S=4
fi
CONNECTIONS=32
CHUNKS=50
CHUNK_DELAY_MS=10
BIG_BYTES=$((5 * 1024 * 1024))
NGINX_WORKERS=${NGINX_WORKERS:-auto}

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
OUT=$TARGET_DIR/bench/$(date +%Y%m%d-%H%M%S)
RESULTS=$OUT/results.jsonl
WORK=$(mktemp -d "${TMPDIR:-/tmp}/anyray-bench.XXXXXX")
mkdir -p "$OUT"
: >"$RESULTS"

# Loopback only, and nothing of the caller's environment in the way.
unset HTTP_PROXY HTTPS_PROXY ALL_PROXY http_proxy https_proxy all_proxy
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
export ANYRAY_KEYRING=off NO_COLOR=1
unset ANYRAY_GATEWAY ANYRAY_CONFIG ANYRAY_TOKEN ANYRAY_VIA ANYRAY_STATE_DIR ANYRAY_CA_FILE

# home_env DIR: sets HOME_ENV to an `env` prefix that gives a command DIR as its whole
# home (config, state), so the caller's own config never takes part. Not a function
# wrapper: `env` execs, so `"${HOME_ENV[@]}" cmd &` leaves $! as the command's own pid.
home_env() {
  local h=$1
  mkdir -p "$h/.config" "$h/.local/state" "$h/.local/share" "$h/.cache"
  HOME_ENV=(env "HOME=$h" "XDG_CONFIG_HOME=$h/.config" "XDG_STATE_HOME=$h/.local/state"
    "XDG_DATA_HOME=$h/.local/share" "XDG_CACHE_HOME=$h/.cache")
}

PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf 'bench: %s\n' "$*" >&2; }

json_str() {
  local s
  s=$(printf '%s' "$1" | tr -d '\000-\011\013-\037' | tr '\n' ' ')
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  printf '"%s"' "$s"
}

record() { printf '%s\n' "$1" >>"$RESULTS"; }

# skip target|case NAME REASON: the report prints "not run [n]" and REASON as footnote n.
skip() {
  log "not run: $2: $3"
  record "{\"scenario\":\"skip\",\"$1\":\"$2\",\"reason\":$(json_str "$3")}"
}

# Last non-empty line of a log file, for a "not run" reason.
last_line() { grep -v '^[[:space:]]*$' "$1" 2>/dev/null | tail -n 1 | cut -c1-160 || true; }

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

ensure_tools() {
  local missing=()
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
  command -v wrk >/dev/null 2>&1 || missing+=(wrk)
  command -v hyperfine >/dev/null 2>&1 || missing+=(hyperfine)
  if [ -n "$INSTRUCTIONS" ]; then
    command -v valgrind >/dev/null 2>&1 || missing+=(valgrind)
  fi
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing ${missing[*]} from Debian"
    as_root apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" >"$OUT/apt.log" 2>&1 || log "apt-get install failed (see $OUT/apt.log)"
  fi
  PATH=$PATH:/usr/sbin
}

build() {
  log "building release binaries (once)"
  (cd "$ROOT" && cargo build --release --locked --quiet --bin anyray --bin fake_gateway \
    --example loadgen --example bench_report)
  ANYRAY=$TARGET_DIR/release/anyray
  LOADGEN=$TARGET_DIR/release/examples/loadgen
  REPORT=$TARGET_DIR/release/examples/bench_report
  FAKE=$TARGET_DIR/release/fake_gateway
}

# wait_http URL PATH SECS: until the URL answers HTTP at all.
wait_http() { "$LOADGEN" wait --url "$1" --path "$2" --timeout-s "$3" 2>>"$WORK/wait.log"; }

free_port() { "$LOADGEN" free-port; }

alive() { kill -0 "$1" 2>/dev/null; }

stop() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# stop_us PID: SIGTERM, then the microseconds until the process has exited.
stop_us() {
  local t0 t1
  t0=$(date +%s%N)
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  t1=$(date +%s%N)
  echo $(((t1 - t0) / 1000))
}

kib() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }

start_upstream() {
  local out=$WORK/upstream.out text
  # 50 chunks need at least 50 characters of text.
  text="The fake org gateway streams this sentence in fifty small chunks so that every chunk carries a few characters of text."
  "$FAKE" --port 0 --chunks "$CHUNKS" --chunk-delay-ms "$CHUNK_DELAY_MS" --text "$text" \
    >"$out" 2>"$WORK/upstream.err" &
  UPSTREAM_PID=$!
  PIDS+=("$UPSTREAM_PID")
  local i
  for i in $(seq 1 200); do
    UPSTREAM=$(sed -n 's/^listening on //p' "$out")
    [ -n "$UPSTREAM" ] && return 0
    alive "$UPSTREAM_PID" || break
    sleep 0.05
  done
  log "the fake upstream did not start: $(last_line "$WORK/upstream.err") (after $i polls)"
  exit 1
}

RELAY_PID=""
RELAY=""
RELAY_REASON=""
RELAY_WRAP=()
# start_relay [UPSTREAM [NAME]]: starts a fresh relay (RELAY_PID, RELAY) forwarding to
# UPSTREAM (default: the fake gateway), its home, output and access log named NAME; on
# failure sets RELAY_REASON and returns 1. RELAY_WRAP prefixes the command (valgrind).
start_relay() {
  local upstream=${1:-$UPSTREAM} name=${2:-relay} port err
  err=$WORK/$name.err
  port=$(free_port)
  home_env "$WORK/$name-home"
  "${HOME_ENV[@]}" "${RELAY_WRAP[@]}" "$ANYRAY" gateway --listen "127.0.0.1:$port" \
    --upstream "$upstream" --log-file "$WORK/$name-access.log" >"$WORK/$name.out" 2>"$err" &
  RELAY_PID=$!
  PIDS+=("$RELAY_PID")
  RELAY=http://127.0.0.1:$port
  if wait_http "$RELAY" /_anyray/health 60 && alive "$RELAY_PID"; then
    return 0
  fi
  local code=0
  if alive "$RELAY_PID"; then stop "$RELAY_PID"; code=timeout; else wait "$RELAY_PID" || code=$?; fi
  RELAY_REASON="\`anyray gateway\` did not serve (exit $code): $(last_line "$err")"
  RELAY_PID=""
  RELAY=""
  return 1
}

# nginx_start NAME WORKERS HTTP: starts nginx in $WORK/NAME with the settings every nginx
# here shares and HTTP inside its http block (NGINX_PID). NGINX_WRAP prefixes the
# command (valgrind, which wants master_process off).
NGINX_WRAP=()
nginx_start() {
  local dir=$WORK/$1 workers=$2 http=$3 master=""
  mkdir -p "$dir/tmp"
  chmod 755 "$WORK" "$dir" "$dir/tmp"
  [ "${#NGINX_WRAP[@]}" -gt 0 ] && master="master_process off;"
  # No access log, and keep-alive connections never recycled (as in the relay).
  cat >"$dir/nginx.conf" <<NGINX
worker_processes $workers;
worker_rlimit_nofile 16384;
daemon off;
$master
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
$http
}
NGINX
  "${NGINX_WRAP[@]}" nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" \
    >"$dir/nginx.out" 2>&1 &
  NGINX_PID=$!
  PIDS+=("$NGINX_PID")
}

# start_nginx UPSTREAM WORKERS NAME [ONLY]: nginx as a reverse proxy to UPSTREAM (NGINX,
# NGINX_PID); NGINX is empty if it did not start, recorded as a skip (of scenario ONLY
# alone if given).
start_nginx() {
  local upstream=$1 workers=$2 name=$3 only=${4:-} port
  port=$(free_port)
  # Fair to nginx: upstream keep-alive, HTTP/1.1 both ways, no buffering.
  nginx_start "$name" "$workers" "  client_max_body_size 64m;
  upstream gateway { server ${upstream#http://}; keepalive 64; keepalive_requests 1000000; }
  server {
    listen 127.0.0.1:$port;
    location / {
      proxy_pass http://gateway;
      proxy_http_version 1.1;
      proxy_set_header Connection \"\";
      proxy_buffering off;
      proxy_request_buffering off;
      proxy_read_timeout 300s;
    }
  }"
  NGINX=http://127.0.0.1:$port
  if ! wait_http "$NGINX" /healthz 60; then
    local why
    why="nginx did not start: $(last_line "$WORK/$name/error.log")"
    if [ -n "$only" ]; then
      record "{\"scenario\":\"skip\",\"target\":\"nginx\",\"only\":\"$only\",\"reason\":$(json_str "$why")}"
    else
      skip target nginx "$why"
    fi
    NGINX=""
  fi
}

# The nginx upstream's answer: a chat completion, as small as a real one (256 bytes).
UP_ANSWER='{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"fake-model","choices":[{"index":0,"message":{"role":"assistant","content":"Hello."},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}'

# start_json_upstream: nginx answering every request with UP_ANSWER, one worker, never
# under valgrind (NGX_UP, empty if it did not start).
start_json_upstream() {
  local port
  local -a NGINX_WRAP=()
  port=$(free_port)
  nginx_start json-upstream 1 "  server {
    listen 127.0.0.1:$port;
    location / {
      default_type application/json;
      return 200 '$UP_ANSWER';
    }
  }"
  NGX_UP=http://127.0.0.1:$port
  if ! wait_http "$NGX_UP" /healthz 10; then
    log "the nginx upstream did not start: $(last_line "$WORK/json-upstream/error.log")"
    NGX_UP=""
  fi
}

start_litellm() {
  local cache=${XDG_CACHE_HOME:-$HOME/.cache}/anyray-bench venv port
  venv=$cache/litellm-venv
  if [ ! -x "$venv/bin/litellm" ]; then
    log "installing litellm[proxy] into $venv (large; first use only)"
    mkdir -p "$cache"
    if ! { python3 -m venv "$venv" && timeout 900 "$venv/bin/pip" install -q 'litellm[proxy]'; } \
      >"$OUT/litellm-install.log" 2>&1; then
      skip target litellm "pip install litellm[proxy] failed: $(last_line "$OUT/litellm-install.log")"
      return
    fi
  fi
  port=$(free_port)
  cat >"$WORK/litellm.yaml" <<EOF
model_list:
  - model_name: fake-model
    litellm_params:
      model: openai/fake-model
      api_base: $UPSTREAM/v1
      api_key: sk-bench-not-a-secret
litellm_settings:
  telemetry: false
general_settings:
  master_key: sk-bench-not-a-secret # loadgen sends it; LiteLLM refuses to start without one
EOF
  LITELLM_LOG=ERROR "$venv/bin/litellm" --config "$WORK/litellm.yaml" --host 127.0.0.1 \
    --port "$port" --num_workers 1 >"$WORK/litellm.out" 2>&1 &
  LITELLM_PID=$!
  PIDS+=("$LITELLM_PID")
  LITELLM_URL=http://127.0.0.1:$port
  if ! wait_http "$LITELLM_URL" /health/liveliness 180; then
    skip target litellm "the LiteLLM proxy did not start: $(last_line "$WORK/litellm.out")"
    LITELLM_URL=""
  fi
}

# url_of TARGET: its base URL, empty when it is not running.
url_of() {
  case "$1" in
    direct) printf '%s' "$UPSTREAM" ;;
    relay) printf '%s' "$RELAY" ;;
    nginx) printf '%s' "$NGINX" ;;
    litellm) printf '%s' "$LITELLM_URL" ;;
    up-direct) printf '%s' "$NGX_UP" ;;
    up-relay) printf '%s' "$RELAY_UP" ;;
    up-nginx) printf '%s' "$NGINX_UP" ;;
  esac
}

# loadgen TARGET ROUND MODE ARGS...: one measurement, appended to the results. Targets
# of the nginx-upstream set-up are named up-*; their lines say the plain target name.
loadgen() {
  local target=$1 round=$2 mode=$3 url
  shift 3
  url=$(url_of "$target")
  [ -n "$url" ] || return 0
  if ! "$LOADGEN" "$mode" --url "$url" --target "${target#up-}" --round "$round" "$@" \
    >>"$RESULTS" 2>>"$WORK/loadgen.err"; then
    log "loadgen $mode against $target failed: $(last_line "$WORK/loadgen.err")"
  fi
}

# Relay memory, each case on a fresh process so VmHWM is that case's peak.
relay_memory_round() {
  local round=$1 before after
  start_relay || return 0
  record "{\"scenario\":\"rss-idle\",\"target\":\"relay\",\"round\":$round,\"vmrss_kib\":$(kib "$RELAY_PID" VmRSS)}"
  # Warm the body path with small bodies first, so only the size itself is measured.
  "$LOADGEN" bigbody --url "$RELAY" --bytes 65536 --count 3 >/dev/null 2>>"$WORK/loadgen.err" || true
  before=$(kib "$RELAY_PID" VmHWM)
  loadgen relay "$round" bigbody --bytes "$BIG_BYTES" --count "$BIG_COUNT"
  after=$(kib "$RELAY_PID" VmHWM)
  record "{\"scenario\":\"rss-bigbody\",\"target\":\"relay\",\"round\":$round,\"before_kib\":$before,\"after_kib\":$after}"
  stop "$RELAY_PID"

  start_relay || return 0
  loadgen relay "$round" streams --streams "$STREAMS" --chunks "$CHUNKS" --chunk-delay-ms "$CHUNK_DELAY_MS"
  record "{\"scenario\":\"rss-streams\",\"target\":\"relay\",\"round\":$round,\"vmhwm_kib\":$(kib "$RELAY_PID" VmHWM)}"
  # Idle again after 1000 streams (pooled upstream connections, keep-alive clients
  # gone): SIGTERM to exit.
  sleep 0.5
  record "{\"scenario\":\"stop-idle\",\"target\":\"relay\",\"round\":$round,\"stop_us\":$(stop_us "$RELAY_PID")}"
}

run_round() {
  local round=$1 t sse_args
  log "round $round/$ROUNDS"
  for t in "${LOAD_TARGETS[@]}"; do
    loadgen "$t" "$round" fixed-rate --rate "$RATE" --warmup-s "$WARMUP_S" \
      --duration-s "$FIXED_S" --connections "$CONNECTIONS"
  done
  for t in "${LOAD_TARGETS[@]}"; do
    loadgen "$t" "$round" max --warmup-s "$WARMUP_S" --duration-s "$MAX_S" \
      --connections "$CONNECTIONS"
  done
  sse_args=(--direct-url "$UPSTREAM" --streams "$SSE_PAIRS" --chunks "$CHUNKS"
    --chunk-delay-ms "$CHUNK_DELAY_MS")
  for t in "${LOAD_TARGETS[@]}"; do
    [ "$t" = direct ] || loadgen "$t" "$round" sse "${sse_args[@]}"
  done
  for t in direct nginx; do
    loadgen "$t" "$round" streams --streams "$STREAMS" --chunks "$CHUNKS" \
      --chunk-delay-ms "$CHUNK_DELAY_MS"
  done
  if [ -n "$RELAY" ]; then
    stop "$RELAY_PID"
    relay_memory_round "$round"
    start_relay || log "the relay did not restart: $RELAY_REASON"
  fi
}

# hyperfine_case CASE HOME CMD...: wall time of an anyray command run in HOME, if it
# succeeds once first.
hyperfine_case() {
  local case=$1 home=$2 out=$WORK/hf-$1.json code=0
  shift 2
  home_env "$home"
  "${HOME_ENV[@]}" "$@" >"$WORK/cli-$case.out" 2>"$WORK/cli-$case.err" </dev/null || code=$?
  if [ "$code" -ne 0 ]; then
    skip case "$case" "\`anyray ${*:2}\` exited $code: $(last_line "$WORK/cli-$case.err")"
    return 0
  fi
  local quoted="" a
  for a in "$@"; do quoted+="'$a' "; done
  if "${HOME_ENV[@]}" hyperfine -N --style none --warmup 3 --runs "$HF_RUNS" \
    --export-json "$out" "$quoted" >"$WORK/hf-$case.log" 2>&1; then
    record "{\"scenario\":\"cli\",\"case\":\"$case\",\"hyperfine\":$(tr -d '\n' <"$out")}"
  else
    skip case "$case" "hyperfine failed: $(last_line "$WORK/hf-$case.log")"
  fi
}

cli_round() {
  if ! command -v hyperfine >/dev/null 2>&1; then
    local c
    for c in version connect doctor; do skip case "$c" "hyperfine is not installed"; done
    return 0
  fi
  hyperfine_case version "$WORK/cli-version-home" "$ANYRAY" --version
  # A home where every target exists, so connect has work for each of them.
  local h=$WORK/cli-home
  mkdir -p "$h/.claude" "$h/.codex" "$h/.gemini" "$h/.config/Cursor/User" \
    "$h/.config/Windsurf/User" "$h/.config/fish"
  printf '{}\n' >"$h/.claude/settings.json"
  printf '{}\n' >"$h/.config/Cursor/User/settings.json"
  printf '{}\n' >"$h/.config/Windsurf/User/settings.json"
  : >"$h/.codex/config.toml"
  : >"$h/.bashrc"
  : >"$h/.zshrc"
  : >"$h/.config/fish/config.fish"
  # No target named: every tool detected in that home, so new targets join by themselves.
  hyperfine_case connect "$h" "$ANYRAY" connect --dry-run --gateway "$UPSTREAM"
  hyperfine_case doctor "$WORK/cli-doctor-home" "$ANYRAY" doctor --gateway "$UPSTREAM"
}

# wrk_post URL SECONDS: wrk's report on closed-loop chat requests (one thread, the
# harness's connections).
wrk_post() {
  [ -f "$WORK/post.lua" ] || cat >"$WORK/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"model":"fake-model","messages":[{"role":"user","content":"Say hello."}]}'
wrk.headers["Content-Type"] = "application/json"
LUA
  wrk -t1 -c"$CONNECTIONS" -d"${2}s" -s "$WORK/post.lua" "$1/v1/chat/completions" 2>/dev/null
}

wrk_crosscheck() {
  command -v wrk >/dev/null 2>&1 || return 0
  local t rps
  for t in "${LOAD_TARGETS[@]}"; do
    rps=$(wrk_post "$(url_of "$t")" "$MAX_S" | awk '/^Requests\/sec:/ {print $2}')
    [ -n "$rps" ] && record "{\"scenario\":\"wrk\",\"target\":\"$t\",\"round\":1,\"rps\":$rps}"
  done
}

# The nginx-upstream set-up (issue 18): nginx answers a fixed JSON, and the relay and an
# nginx reverse proxy, one worker each, forward to it. The proxies' own cost per request
# is most of what is measured, unlike behind the slower fake gateway.
start_upstream_setup() {
  RELAY_UP="" NGINX_UP=""
  UP_TARGETS=()
  start_json_upstream
  if [ -z "$NGX_UP" ]; then
    skip target up "the nginx upstream did not start"
    return 0
  fi
  UP_TARGETS=(up-direct)
  # relay.workers = 1 is the default; set here so that the run says what it measured.
  home_env "$WORK/relay-up-home"
  "${HOME_ENV[@]}" "$ANYRAY" config set relay.workers 1 >/dev/null
  if start_relay "$NGX_UP" relay-up; then
    RELAY_UP=$RELAY
    UP_TARGETS+=(up-relay)
  else
    record "{\"scenario\":\"skip\",\"target\":\"relay\",\"only\":\"up-max\",\"reason\":$(json_str "$RELAY_REASON")}"
  fi
  start_nginx "$NGX_UP" 1 nginx-up up-max
  NGINX_UP=$NGINX
  [ -n "$NGINX_UP" ] && UP_TARGETS+=(up-nginx)
  log "nginx-upstream targets: ${UP_TARGETS[*]}"
}

# up_max ROUND TARGET...: closed-loop req/s of each target with wrk (lighter than
# loadgen, so more of the two cores is left to the proxy), after a 1 s warm-up each. The
# targets take turns in 1 s runs, UP_MAX_S each, so a drift of the machine falls on all
# alike; a target's figure is the mean of its turns. loadgen if wrk is missing.
up_max() {
  local round=$1 t i out rps errors
  shift
  if ! command -v wrk >/dev/null 2>&1; then
    for t; do
      loadgen "$t" "$round" max --scenario up-max --warmup-s "$WARMUP_S" \
        --duration-s "$UP_MAX_S" --connections "$CONNECTIONS"
    done
    return 0
  fi
  local -A sum=() errs=() turns=()
  for t; do
    wrk_post "$(url_of "$t")" 1 >/dev/null
    sum[$t]=0 errs[$t]=0 turns[$t]=0
  done
  for ((i = 0; i < UP_MAX_S; i++)); do
    for t; do
      out=$(wrk_post "$(url_of "$t")" 1)
      rps=$(printf '%s\n' "$out" | awk '/^Requests\/sec:/ {print $2}')
      errors=$(printf '%s\n' "$out" | awk '/Non-2xx or 3xx responses:/ {n += $NF}
        /Socket errors:/ {gsub(",", ""); n += $4 + $6 + $8 + $10} END {print n + 0}')
      if [ -z "$rps" ]; then
        log "wrk against $t failed"
        continue
      fi
      sum[$t]=$(awk -v a="${sum[$t]}" -v b="$rps" 'BEGIN {print a + b}')
      errs[$t]=$((errs[$t] + errors))
      turns[$t]=$((turns[$t] + 1))
    done
  done
  for t; do
    [ "${turns[$t]}" -gt 0 ] || continue
    rps=$(awk -v a="${sum[$t]}" -v n="${turns[$t]}" 'BEGIN {printf "%.2f", a / n}')
    record "{\"scenario\":\"up-max\",\"target\":\"${t#up-}\",\"round\":$round,\"rps\":$rps,\"errors\":${errs[$t]}}"
  done
}

up_round() {
  local round=$1 t order=()
  log "nginx upstream, round $round/$ROUNDS"
  # Alternate the order, so that no target always runs first or last.
  for t in "${UP_TARGETS[@]}"; do
    if [ $((round % 2)) = 1 ]; then order+=("$t"); else order=("$t" "${order[@]}"); fi
  done
  # Latency: one loadgen run in which the targets take turns in 100 ms slices, each at
  # the full rate on its own connections, so the machine's drifts fall on all alike
  # (separate runs of a few seconds each differed by more than the proxies do).
  local urls=() names=()
  for t in "${order[@]}"; do
    urls+=("$(url_of "$t")")
    names+=("${t#up-}")
  done
  if ! "$LOADGEN" fixed-rate --url "$(IFS=,; echo "${urls[*]}")" \
    --target "$(IFS=,; echo "${names[*]}")" --round "$round" --scenario up-fixed-rate \
    --rate "$UP_RATE" --warmup-s "$WARMUP_S" --duration-s "$FIXED_S" \
    --connections "$CONNECTIONS" --slice-ms 100 >>"$RESULTS" 2>>"$WORK/loadgen.err"; then
    log "loadgen fixed-rate against ${names[*]} failed: $(last_line "$WORK/loadgen.err")"
  fi
  up_max "$round" "${order[@]}"
}

# instructions_run N: user-space instructions per request of the relay and of the nginx
# proxy under callgrind (one worker each), N closed-loop requests after a warm-up,
# against the nginx upstream. Prints one line per proxy.
instructions_run() {
  local n=$1 t url pid name total
  start_json_upstream
  [ -n "$NGX_UP" ] || exit 1
  RELAY_WRAP=(valgrind --tool=callgrind --instr-atstart=no "--callgrind-out-file=$OUT/callgrind.relay")
  start_relay "$NGX_UP" relay-cg || {
    log "$RELAY_REASON"
    exit 1
  }
  RELAY_UP=$RELAY RELAY_UP_PID=$RELAY_PID
  NGINX_WRAP=(valgrind --tool=callgrind --instr-atstart=no "--callgrind-out-file=$OUT/callgrind.nginx")
  start_nginx "$NGX_UP" 1 nginx-cg
  NGINX_UP=$NGINX
  for t in up-relay up-nginx; do
    url=$(url_of "$t")
    [ -n "$url" ] || continue
    name=${t#up-}
    pid=$RELAY_UP_PID
    [ "$name" = nginx ] && pid=$NGINX_PID
    "$LOADGEN" max --url "$url" --warmup-s 0 --requests 1000 --duration-s 120 >/dev/null
    callgrind_control -i on "$pid" >/dev/null 2>&1
    "$LOADGEN" max --url "$url" --warmup-s 0 --requests "$n" --duration-s 600 >/dev/null
    callgrind_control -i off "$pid" >/dev/null 2>&1
    stop "$pid" # callgrind writes its counts at exit
    total=$(awk '/^totals:/ {s += $2} END {printf "%.0f", s}' "$OUT/callgrind.$name"*)
    printf '%s: %s instructions over %s requests: %s per request\n' "$name" "$total" "$n" \
      "$((total / n))"
  done
}

machine() {
  local cpu mem
  cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
  mem=$(awk '/^MemTotal:/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)
  printf '%s cores (%s), %s, Linux %s' "$(nproc)" "${cpu:-unknown CPU}" "$mem" "$(uname -r)"
}

main() {
  local args="bench/run.sh"
  [ "$QUICK" = 1 ] && args+=" --quick"
  [ "$LITELLM" = 1 ] && args+=" --litellm"
  [ -n "$ROUNDS_ARG" ] && args+=" --rounds $ROUNDS_ARG"
  ensure_tools
  build
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 16384 2>/dev/null || true
  if [ -n "$INSTRUCTIONS" ]; then
    # Not in a pipeline: a subshell's PIDS would escape the cleanup on exit.
    instructions_run "$INSTRUCTIONS" >"$OUT/instructions.txt"
    cat "$OUT/instructions.txt"
    return 0
  fi
  start_upstream
  log "upstream (fake org gateway) at $UPSTREAM"

  LOAD_TARGETS=(direct)
  if start_relay; then LOAD_TARGETS+=(relay); else RELAY=""; skip target relay "$RELAY_REASON"; fi
  if command -v nginx >/dev/null 2>&1; then
    start_nginx "$UPSTREAM" "$NGINX_WORKERS" nginx
  else
    skip target nginx "nginx is not installed"
    NGINX=""
  fi
  [ -n "$NGINX" ] && LOAD_TARGETS+=(nginx)
  LITELLM_URL=""
  if [ "$LITELLM" = 1 ]; then start_litellm; else skip target litellm "run with --litellm"; fi
  if [ -n "$LITELLM_URL" ]; then
    LOAD_TARGETS+=(litellm)
    record '{"scenario":"skip","target":"litellm","only":"streams","reason":"not measured: LiteLLM serves tens of requests per second here, so 1,000 streams do not fit the time budget"}'
  fi
  log "targets: ${LOAD_TARGETS[*]}"

  local r
  for r in $(seq 1 "$ROUNDS"); do run_round "$r"; done
  [ "$QUICK" = 1 ] || wrk_crosscheck
  if command -v nginx >/dev/null 2>&1; then
    start_upstream_setup
    if [ "${#UP_TARGETS[@]}" -gt 0 ]; then
      for r in $(seq 1 "$ROUNDS"); do up_round "$r"; done
    fi
  else
    skip target up "nginx is not installed"
  fi
  log "CLI wall times (hyperfine)"
  cli_round

  local notes=(
    "Upstream: the fake org gateway (crates/fake-gateway, Rust, $(nproc)-thread runtime)."
    "Client: examples/loadgen.rs, 1 thread, $CONNECTIONS keep-alive connections; fixed-rate latency is measured from each request's intended send time (no coordinated omission)."
    "anyray relay: \`anyray gateway --listen 127.0.0.1:PORT --upstream URL\` with default settings, access log to a file."
    "nginx $(nginx -v 2>&1 | sed 's|.*/||'): worker_processes $NGINX_WORKERS, upstream keepalive 64, HTTP/1.1, proxy_buffering and proxy_request_buffering off, access_log off, keepalive_requests 1000000."
    "nginx upstream set-up: nginx (1 worker) returns a fixed 256-byte JSON answer; the relay (relay.workers = 1, access log to a file) and nginx (worker_processes 1, as above) forward to it. Closed loop: wrk -t1 -c$CONNECTIONS, the targets taking turns in ${UP_MAX_S} runs of 1 s each after a 1 s warm-up; latency: loadgen at $UP_RATE req/s, the targets taking turns in 100 ms slices of one run, ${FIXED_S} s each."
    "Figures are medians over rounds with the spread (min–max) in brackets; added latency is the target minus direct in the same round. Memory limits are judged on the worst round."
  )
  [ "$LITELLM" = 1 ] && notes+=("LiteLLM: \`litellm --num_workers 1\`, one model whose api_base is the fake upstream; not measured for the concurrent-streams row.")
  local notes_json="" n
  for n in "${notes[@]}"; do notes_json+="${notes_json:+,}$(json_str "$n")"; done
  record "{\"scenario\":\"meta\",\"date\":\"$(date -u +%Y-%m-%d)\",\"machine\":$(json_str "$(machine)"),\"command\":$(json_str "$args"),\"rounds\":$ROUNDS,\"rate\":$RATE,\"up_rate\":$UP_RATE,\"notes\":[$notes_json]}"

  "$REPORT" "$RESULTS" | tee "$OUT/report.md"
  log "raw results: $RESULTS"
}

main
