#!/usr/bin/env bash
# Starts a real LiteLLM proxy on loopback with the mock provider behind it, or stops them.
#
#   run-litellm.sh start DIR [LITELLM_PORT [MOCK_PORT]]
#   run-litellm.sh stop DIR
#
# start: runs mock_provider.py on MOCK_PORT (default 0 = any free port) and LiteLLM
#   (config.yaml beside this script) on LITELLM_PORT (default 4000), both on 127.0.0.1;
#   waits until LiteLLM answers GET /health/readiness (at most LITELLM_START_SECS, default
#   180); prints "litellm ready: http://127.0.0.1:PORT (mock http://127.0.0.1:PORT) in Ns".
#   DIR receives the pids, mock.log (one JSON line per request that reached the provider,
#   every header included), mock.out and litellm.out. Exits non-zero, with the tail of the
#   logs, when either does not come up; nothing is left running then.
# stop: ends both (TERM, then KILL after 10 s), by the pids recorded in DIR.
#
# Env: LITELLM_BIN (default: litellm on PATH), PYTHON (default python3),
#   LITELLM_MASTER_KEY (default sk-e2e-master), MOCK_PROVIDER_TEXT (the mock's answer),
#   MOCK_PROVIDER_CHUNK_DELAY_MS (pause between streamed pieces, default 0).
# LiteLLM runs without a database: the master key is the only key it accepts.
# Run it inside a network namespace with only loopback (unshare --net); it sets
# LITELLM_LOCAL_MODEL_COST_MAP so LiteLLM does not try to fetch its price list.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

die() {
  printf 'run-litellm: %s\n' "$*" >&2
  exit 1
}

# stop_pid FILE: ends the process whose pid FILE holds (TERM, up to 10 s, then KILL).
stop_pid() {
  local file=$1 pid i
  [[ -f $file ]] || return 0
  pid=$(<"$file")
  rm -f "$file"
  [[ $pid =~ ^[0-9]+$ ]] || return 0
  kill "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
}

stop_all() {
  stop_pid "$1/litellm.pid"
  stop_pid "$1/mock.pid"
}

# http_ok URL: true when URL answers 200 within 2 s.
http_ok() {
  [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1") == 200 ]]
}

start() {
  local dir=$1 port=${2:-4000} mock_port=${3:-0}
  local litellm=${LITELLM_BIN:-litellm} python=${PYTHON:-python3}
  local limit=${LITELLM_START_SECS:-180}
  command -v "$litellm" >/dev/null || die "no LiteLLM at '$litellm' (set LITELLM_BIN)"
  command -v curl >/dev/null || die "needs curl"
  mkdir -p "$dir"
  stop_all "$dir"
  : >"$dir/mock.log"

  "$python" "$HERE/mock_provider.py" --port "$mock_port" --log "$dir/mock.log" \
    ${MOCK_PROVIDER_TEXT:+--text "$MOCK_PROVIDER_TEXT"} \
    --chunk-delay-ms "${MOCK_PROVIDER_CHUNK_DELAY_MS:-0}" >"$dir/mock.out" 2>&1 &
  echo $! >"$dir/mock.pid"
  local mock_url="" i
  for ((i = 0; i < 100; i++)); do
    mock_url=$(sed -n 's/^listening on //p' "$dir/mock.out")
    [[ -n $mock_url ]] && break
    sleep 0.1
  done
  if [[ -z $mock_url ]]; then
    cat "$dir/mock.out" >&2
    stop_all "$dir"
    die "the mock provider did not start"
  fi

  local started=$SECONDS
  env MOCK_PROVIDER_URL="$mock_url" \
    MOCK_PROVIDER_OPENAI_URL="$mock_url/v1" \
    MOCK_PROVIDER_OPENAI_KEY="sk-mock-provider-openai" \
    MOCK_PROVIDER_ANTHROPIC_KEY="sk-ant-mock-provider" \
    LITELLM_MASTER_KEY="${LITELLM_MASTER_KEY:-sk-e2e-master}" \
    LITELLM_LOCAL_MODEL_COST_MAP=True \
    NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost \
    "$litellm" --config "$HERE/config.yaml" --host 127.0.0.1 --port "$port" \
    --num_workers 1 >"$dir/litellm.out" 2>&1 &
  echo $! >"$dir/litellm.pid"

  local url="http://127.0.0.1:$port"
  until http_ok "$url/health/readiness"; do
    if ! kill -0 "$(<"$dir/litellm.pid")" 2>/dev/null || ((SECONDS - started > limit)); then
      tail -n 30 "$dir/litellm.out" >&2
      stop_all "$dir"
      die "LiteLLM did not become ready at $url within ${limit}s"
    fi
    sleep 0.25
  done
  echo "litellm ready: $url (mock $mock_url) in $((SECONDS - started))s"
}

case ${1:-} in
  start)
    [[ $# -ge 2 ]] || die "usage: run-litellm.sh start DIR [LITELLM_PORT [MOCK_PORT]]"
    shift
    start "$@"
    ;;
  stop)
    [[ $# -eq 2 ]] || die "usage: run-litellm.sh stop DIR"
    stop_all "$2"
    ;;
  *)
    die "usage: run-litellm.sh start DIR [LITELLM_PORT [MOCK_PORT]] | stop DIR"
    ;;
esac
