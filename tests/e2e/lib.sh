# shellcheck shell=bash
# Helpers for suite.sh: results table, background processes, the clean environment every
# client runs in, and assertions over the fake gateways' request logs.
#
# Expects from the caller: E2E_DIR, W (the run's temp dir), E2E_PY (python with the
# SDKs), E2E_BIN (dir with claude and codex), E2E_ANYRAY, E2E_FAKE.

# --- results ------------------------------------------------------------------------

RESULTS=()   # "client|mode|STATUS|detail"
FAILED=0
declare -A PENDING=()   # command -> what it waits for, while anyray says "not implemented"

# record CLIENT MODE PASS|FAIL|SKIP DETAIL
record() {
  RESULTS+=("$1|$2|$3|$4")
  if [[ $3 == FAIL ]]; then FAILED=$((FAILED + 1)); fi
  printf '  %-4s %s / %s%s\n' "$3" "$1" "$2" "${4:+ — $4}"
}

skip() { record "$1" "$2" SKIP "$3"; }

# check CLIENT MODE FN ARGS...: runs FN with its output in a per-check log, records PASS
# or FAIL (FAIL prints the log's tail) and returns 0 or 1. FN's last line on fd 3 (see
# detail) becomes the detail.
check() {
  local client=$1 mode=$2 fn=$3
  shift 3
  local slug=${client//[^A-Za-z0-9]/_}.${mode//[^A-Za-z0-9]/_}
  local log="$W/checks/$slug.log" detail="$W/checks/$slug.detail"
  : >"$detail"
  if "$fn" "$@" >"$log" 2>&1 3>"$detail"; then
    record "$client" "$mode" PASS "$(tail -n 1 "$detail")"
    return 0
  fi
  record "$client" "$mode" FAIL "$(tail -n 1 "$detail")"
  sed 's/^/      | /' "$log" | tail -n 25
  return 1
}

# detail TEXT: the summary line a check function reports (see check).
detail() { printf '%s\n' "$*" >&3; }

# fail TEXT: reports TEXT as the check's detail and returns 1.
fail() {
  detail "$*"
  echo "FAIL: $*"
  return 1
}

summary() {
  local row client mode status text
  local pass=0 failed=0 skipped=0
  table_row() { printf '%-18s %-13s %-6s %s\n' "$@"; }
  echo
  table_row CLIENT MODE RESULT DETAIL
  table_row ------------------ ------------- ------ ------
  for row in "${RESULTS[@]}"; do
    IFS='|' read -r client mode status text <<<"$row"
    table_row "$client" "$mode" "$status" "$text"
    case $status in
      PASS) pass=$((pass + 1)) ;;
      FAIL) failed=$((failed + 1)) ;;
      SKIP) skipped=$((skipped + 1)) ;;
    esac
  done
  echo
  # Every command has landed: one that still says "not implemented" is a failure, not a
  # skip, so CI (which reads the failed count) cannot pass with a command missing.
  local c
  for c in "${!PENDING[@]}"; do
    echo "e2e: FAIL: pending: ${PENDING[$c]}"
    failed=$((failed + 1))
  done
  echo "e2e: took ${SECONDS}s"
  # Last, alone on its line, in the form CI reads as a test count.
  printf 'e2e: %d passed, %d failed, %d skipped\n' "$pass" "$failed" "$skipped"
}

section() { printf '\n=== e2e: %s ===\n' "$*"; }

# --- processes ----------------------------------------------------------------------

declare -A PIDS=()   # name -> pid of a background process this suite started
declare -A URLS=()   # name -> http://127.0.0.1:PORT of a fake

# stop NAME: ends one process this suite started, by its pid.
stop() {
  local pid=${PIDS[$1]:-}
  [[ -n $pid ]] || return 0
  kill "$pid" 2>/dev/null
  local i
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  unset "PIDS[$1]"
}

stop_all() {
  local name
  for name in "${!PIDS[@]}"; do stop "$name"; done
}

# start_fake NAME TEXT [ARGS...]: starts a fake gateway answering TEXT, logging requests
# to $W/NAME.log (appended, so a restart keeps the history); sets URLS[NAME].
start_fake() {
  local name=$1 text=$2
  shift 2
  local out="$W/$name.out"
  : >"$out"
  "$E2E_FAKE" --log "$W/$name.log" --text "$text" "$@" >"$out" 2>&1 &
  PIDS[$name]=$!
  local i url=""
  for ((i = 0; i < 200; i++)); do
    url=$(sed -n 's/^listening on //p' "$out")
    [[ -n $url ]] && break
    kill -0 "${PIDS[$name]}" 2>/dev/null || break
    sleep 0.05
  done
  if [[ -z $url ]]; then
    echo "e2e: the fake gateway '$name' did not start:" >&2
    cat "$out" >&2
    return 1
  fi
  URLS[$name]=$url
  touch "$W/$name.log"
}

# port_of URL
port_of() { echo "${1##*:}"; }

# --- the clean environment ----------------------------------------------------------

E2E_EXTRA=()   # extra VAR=value for the harness step only (never set after it)
CODEX_ARGS=()  # extra codex arguments, likewise
LAUNCH=()      # a launcher in front of each client (`anyray run ... --`), step 10 only

# Everything a client sees. No endpoint variable: those come only from the files
# `anyray connect` wrote. The API keys are dummy credentials the real clients insist
# on (left out with E2E_NO_KEYS=1, where a credential helper supplies the key); the
# Claude Code knobs only silence non-essential traffic and retries.
client_env() {
  local home=$1 keys=()
  if [[ -z ${E2E_NO_KEYS:-} ]]; then
    keys=("OPENAI_API_KEY=sk-e2e-dummy" "ANTHROPIC_API_KEY=sk-ant-e2e-dummy")
  fi
  E2E_ENV=(
    "HOME=$home" "USER=e2e" "LOGNAME=e2e" "SHELL=/bin/bash"
    "PATH=/usr/local/bin:/usr/bin:/bin"
    "LANG=C.UTF-8" "TERM=dumb" "TMPDIR=$W/tmp"
    "NO_PROXY=127.0.0.1,localhost" "no_proxy=127.0.0.1,localhost"
    "ANYRAY_KEYRING=off" "${keys[@]}"
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1" "DISABLE_TELEMETRY=1"
    "DISABLE_AUTOUPDATER=1" "CLAUDE_CODE_MAX_RETRIES=0"
    "${E2E_EXTRA[@]}"
  )
}

# in_home HOME SECS CMD...: runs CMD with only the clean environment (plus any
# VAR=value words before CMD), bounded in time, stdin closed.
in_home() {
  local home=$1 secs=$2
  shift 2
  client_env "$home"
  timeout --kill-after=5 "$secs" env -i "${E2E_ENV[@]}" "$@" </dev/null
}

# in_home_stdin HOME CMD...: like in_home (60 s), but CMD reads the caller's stdin.
in_home_stdin() {
  local home=$1
  shift
  client_env "$home"
  timeout --kill-after=5 60 env -i "${E2E_ENV[@]}" "$@"
}

# anyray HOME ARGS...: the anyray binary in the clean environment. Output goes to
# $W/last.out and $W/last.err (also echoed, for the check's log).
anyray() {
  local home=$1
  shift
  local rc=0
  in_home "$home" 60 "$E2E_ANYRAY" "$@" >"$W/last.out" 2>"$W/last.err" || rc=$?
  echo "\$ anyray $* -> exit $rc"
  sed 's/^/  out| /' "$W/last.out"
  sed 's/^/  err| /' "$W/last.err"
  return "$rc"
}

# pending HOME ARGS...: runs a harmless anyray command (ARGS) and is true when anyray
# says that command (or target) is not built yet.
pending() {
  anyray "$@" >/dev/null 2>&1
  grep -qE "is not (implemented|available) yet" "$W/last.err"
}

# --- the clients ----------------------------------------------------------------------

# run_claude HOME OUT: one `claude -p` turn; its JSON result goes to OUT.
run_claude() {
  local home=$1 out=$2 rc=0
  (cd "$W/project" && in_home "$home" 120 "${LAUNCH[@]}" "$E2E_BIN/claude" -p "Say hello." \
    --output-format json) >"$out" || rc=$?
  echo "claude exit $rc: $(head -c 600 "$out")"
  return 0
}

# claude_turn HOME LOG TEXT MODE-TAG: Claude Code answers TEXT, and the fake behind LOG
# saw its POST /v1/messages. Extra args are e2e_tool filters for that request.
claude_turn() {
  local home=$1 name=$2 text=$3
  shift 3
  local mark answer
  mark=$(lines "$name")
  run_claude "$home" "$W/claude.json"
  answer=$(tool claude-answer "$W/claude.json") || { fail "no answer from Claude Code"; return 1; }
  [[ $answer == "$text" ]] || { fail "answer was '$answer'"; return 1; }
  tool requests "$W/$name.log" --from "$mark" --method POST --path /v1/messages \
    --ua claude-cli/ --what "POST /v1/messages from Claude Code at $name" "$@" ||
    { fail "$name did not see POST /v1/messages"; return 1; }
  detail "answered by $name via POST /v1/messages"
}

# codex_turn HOME NAME TEXT [FILTERS...]: Codex exec answers TEXT and the fake NAME saw
# its POST /v1/responses.
codex_turn() {
  local home=$1 name=$2 text=$3
  shift 3
  local mark answer rc=0
  mark=$(lines "$name")
  answer=$(cd "$W/project" && in_home "$home" 120 "${LAUNCH[@]}" "$E2E_BIN/codex" exec \
    --skip-git-repo-check -c analytics.enabled=false -c features.plugins=false \
    -c features.apps=false "${CODEX_ARGS[@]}" "Say hello." 2>"$W/codex.err") || rc=$?
  echo "codex exit $rc, answer: $answer"
  tail -n 15 "$W/codex.err"
  [[ $rc == 0 ]] || { fail "codex exec exited $rc"; return 1; }
  [[ $answer == "$text" ]] || { fail "answer was '$answer'"; return 1; }
  tool requests "$W/$name.log" --from "$mark" --method POST --path /v1/responses \
    --ua codex_exec --what "POST /v1/responses from Codex at $name" "$@" ||
    { fail "$name did not see POST /v1/responses"; return 1; }
  detail "answered by $name via POST /v1/responses"
}

# shell_cmd SHELL CMD: starts SHELL the way a terminal does, reading the rc files.
shell_argv() {
  case $1 in
    bash) SHELL_ARGV=(bash -lic) ;;
    zsh) SHELL_ARGV=(zsh -lic) ;;
    fish) SHELL_ARGV=(fish -lc) ;;
  esac
}

# sdk_in_shell HOME SHELL CASE SDK-ARGS...: runs sdk_check.py inside SHELL.
sdk_in_shell() {
  local home=$1 sh=$2 case=$3
  shift 3
  local cmd="'$E2E_PY' '$E2E_DIR/sdk_check.py' --case '$case'" arg
  for arg in "$@"; do cmd+=" '$arg'"; done
  shell_argv "$sh"
  in_home "$home" 120 "${SHELL_ARGV[@]}" "$cmd"
}

# sdk_turns HOME SHELL CASE NAME TEXT [FILTERS...]: both SDKs answer TEXT inside SHELL,
# plain and streaming, and every request reached the fake NAME.
sdk_turns() {
  local home=$1 sh=$2 case=$3 name=$4 text=$5
  shift 5
  local mark
  mark=$(lines "$name")
  sdk_in_shell "$home" "$sh" "$case" --expect-text "$text" ||
    { fail "an SDK turn failed inside $sh"; return 1; }
  tool requests "$W/$name.log" --from "$mark" --case "$case" --min 6 --max 6 \
    --what "SDK requests tagged $case" "$@" ||
    { fail "$name did not see all 6 SDK requests"; return 1; }
  detail "openai+anthropic, plain+stream, via $name"
}

# sdk_default HOME SHELL CASE: inside SHELL the SDKs are on their public defaults, and
# no fake saw a request from them.
sdk_default() {
  local home=$1 sh=$2 case=$3 name
  sdk_in_shell "$home" "$sh" "$case" --expect-default ||
    { fail "an SDK still resolves a non-default endpoint in $sh"; return 1; }
  for name in "${!URLS[@]}"; do
    tool requests "$W/$name.log" --case "$case" --max 0 --min 0 \
      --what "requests tagged $case at $name" || { fail "$name saw the SDKs"; return 1; }
  done
  detail "SDKs on their default endpoints; nothing sent"
}

# --- assertions -------------------------------------------------------------------------

tool() { "$E2E_PY" "$E2E_DIR/e2e_tool.py" "$@"; }

# lines NAME: how many requests the fake NAME has logged so far.
lines() { wc -l <"$W/$1.log" | tr -d ' '; }
