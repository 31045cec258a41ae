# shellcheck shell=bash
# The gateways orgs run (issues 15 and 22), sourced by suite.sh after its own steps:
#
# 12. a REAL LiteLLM proxy (pinned, from run.sh's cache) with the loopback mock provider
#     behind it, which logs every header: `connect` + `login` and nothing else; doctor
#     green; `env` exports only LiteLLM's routes; real Claude Code, Codex and both SDKs
#     (plain and streaming) answer through `anyray run` directly and through the relay;
#     with LiteLLM stopped, the relay fails open to the mock with the user's own provider
#     keys, and the mock's log never shows the gateway key or a gateway header;
#     `disconnect` restores every file byte for byte. `anyray usage` asks LiteLLM's
#     /key/info with the key: this LiteLLM has no database (Prisma's engine cannot be
#     fetched here), so it answers 500 "Database not connected", and usage must say so
#     in one line (exit 0), never print the key; the 200 path is proven on the fake
#     gateway's LiteLLM double (tests/it/statusline.rs).
# 13. the fake gateway routing by header (Portkey's 400 without it): doctor fails before
#     the route headers are set and passes after; real Claude Code and Codex answer in
#     direct mode from their files alone; the SDKs through the relay; a key the user adds
#     to anyray's Codex table never leaves a config Codex refuses to load.
#
# Expects suite.sh's and lib.sh's state (W, URLS, E2E_*) and E2E_LITELLM (the litellm
# executable in its venv; unset: step 12 is SKIP).

LITELLM_TEXT="Answer from the provider behind LiteLLM (e2e)."
PK_TEXT="Answer from the header-routing gateway (e2e)."
LITELLM_KEY="sk-e2e-litellm-$RANDOM$RANDOM"
OWN_OPENAI="sk-e2e-own-openai-$RANDOM"
OWN_ANTHROPIC="sk-ant-e2e-own-$RANDOM"
LDIR=""   # set by step_litellm: run-litellm.sh's dir (pids, mock.log)

# seed_small HOME: a user's Claude Code and Codex files and a bash rc.
seed_small() {
  local home=$1
  mkdir -p "$home/.claude" "$home/.codex"
  printf '{\n  "theme": "dark"\n}\n' >"$home/.claude/settings.json"
  printf '# mine\nmodel_reasoning_effort = "low"\n\n[history]\npersistence = "none"\n' \
    >"$home/.codex/config.toml"
  printf '# ~/.bashrc\nalias ll="ls -l"\n' >"$home/.bashrc"
}

# mock_turns CASE TEXT [FILTERS...]: the SDKs answered TEXT under LAUNCH in $L, and the
# mock provider saw their 6 requests tagged CASE.
mock_sdk() {
  local case=$1 text=$2
  shift 2
  local mark
  mark=$(wc -l <"$LDIR/mock.log")
  in_home "$L" 120 "${LAUNCH[@]}" "$E2E_PY" "$E2E_DIR/sdk_check.py" --case "$case" \
    --expect-text "$text" || { fail "an SDK turn failed"; return 1; }
  tool requests "$LDIR/mock.log" --from "$mark" --case "$case" --min 6 --max 6 \
    --what "SDK requests tagged $case at the mock provider" "$@" ||
    { fail "the mock provider did not see the 6 SDK requests"; return 1; }
  detail "openai+anthropic, plain+stream, answered by the provider behind it"
}

# mock_claude: Claude Code under LAUNCH answers with the mock's text.
mock_claude() {
  local mark answer
  mark=$(wc -l <"$LDIR/mock.log")
  run_claude "$L" "$W/claude.json"
  answer=$(tool claude-answer "$W/claude.json") || { fail "no answer from Claude Code"; return 1; }
  [[ $answer == "$LITELLM_TEXT" ]] || { fail "answer was '$answer'"; return 1; }
  tool requests "$LDIR/mock.log" --from "$mark" --method POST --path /v1/messages \
    --what "POST /v1/messages at the mock" || { fail "the mock saw no /v1/messages"; return 1; }
  detail "answered through LiteLLM"
}

# mock_codex: Codex exec under LAUNCH answers with the mock's text.
mock_codex() {
  local answer rc=0
  answer=$(cd "$W/project" && in_home "$L" 120 "${LAUNCH[@]}" "$E2E_BIN/codex" exec \
    --skip-git-repo-check -c analytics.enabled=false -c features.plugins=false \
    -c features.apps=false "Say hello." 2>"$W/codex.err") || rc=$?
  echo "codex exit $rc, answer: $answer"
  tail -n 15 "$W/codex.err"
  [[ $rc == 0 ]] || { fail "codex exec exited $rc"; return 1; }
  [[ $answer == "$LITELLM_TEXT" ]] || { fail "answer was '$answer'"; return 1; }
  detail "answered through LiteLLM"
}

litellm_connect() {
  anyray "$L" connect --yes --gateway "$LITELLM_URL" claude-code codex shell ||
    { fail "anyray connect exited $?"; return 1; }
  printf '%s' "$LITELLM_KEY" | in_home_stdin "$L" "$E2E_ANYRAY" login --token-stdin ||
    { fail "anyray login failed"; return 1; }
  anyray "$L" --json config get auth.scheme || { fail "no auth.scheme"; return 1; }
  "$E2E_PY" -c 'import json, sys; d = json.load(sys.stdin)
sys.exit(not (d["value"] == "key" and d["source"].startswith("detected")))' <"$W/last.out" ||
    { fail "auth.scheme is not key, detected"; return 1; }
  detail "connect + login; auth.scheme = key (detected)"
}

litellm_doctor() {
  anyray "$L" doctor --json --timeout 10 --only gateway.routes,gateway.auth ||
    { fail "doctor exited $?"; return 1; }
  tool doctor "$W/last.out" --expect gateway.routes=ok gateway.auth=ok ||
    { fail "unexpected levels"; return 1; }
  if grep -q "$LITELLM_KEY" "$W/last.out" "$W/last.err"; then
    fail "doctor printed the key"
    return 1
  fi
  detail "gateway.routes=ok gateway.auth=ok, nothing else set"
}

litellm_env() {
  anyray "$L" env --json || { fail "anyray env exited $?"; return 1; }
  local names
  names=$("$E2E_PY" -c 'import json,sys; print(" ".join(v["name"] for v in json.load(sys.stdin)["vars"]))' \
    <"$W/last.out")
  [[ $names == "OPENAI_BASE_URL ANTHROPIC_BASE_URL" ]] || { fail "env exports: $names"; return 1; }
  detail "exports $names only"
}

# Stops LiteLLM only (the mock stays up for the fail-open check).
stop_litellm() {
  local pid i
  pid=$(<"$LDIR/litellm.pid")
  kill "$pid" 2>/dev/null
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null
  rm -f "$LDIR/litellm.pid"
}

litellm_failopen() {
  local mock
  mock=$(sed -n 's/^listening on //p' "$LDIR/mock.out")
  stop_litellm
  if ! { anyray "$L" config set relay.fallback direct &&
    anyray "$L" config set relay.providers.openai "$mock" &&
    anyray "$L" config set relay.providers.anthropic "$mock"; }; then
    fail "config set failed"
    return 1
  fi
  if ! { printf '%s' "$OWN_OPENAI" |
    in_home_stdin "$L" "$E2E_ANYRAY" login --provider openai --token-stdin &&
    printf '%s' "$OWN_ANTHROPIC" |
    in_home_stdin "$L" "$E2E_ANYRAY" login --provider anthropic --token-stdin; }; then
    fail "login --provider failed"
    return 1
  fi
  LAUNCH=("$E2E_ANYRAY" run --relay --)
  mock_sdk failopen "$LITELLM_TEXT" || return 1
  LAUNCH=()
  tool requests "$LDIR/mock.log" --case failopen --path /v1/chat/completions \
    --header "authorization=Bearer $OWN_OPENAI" --min 2 --what "OpenAI calls with the own key" ||
    { fail "OpenAI calls did not carry the own provider key"; return 1; }
  tool requests "$LDIR/mock.log" --case failopen --path /v1/messages \
    --header "x-api-key=$OWN_ANTHROPIC" --min 2 --what "Anthropic calls with the own key" ||
    { fail "Anthropic calls did not carry the own provider key"; return 1; }
  if grep -q "$LITELLM_KEY" "$LDIR/mock.log"; then
    fail "the gateway key reached the provider"
    return 1
  fi
  if grep -q '"x-anyray-\|"x-litellm-\|"x-portkey-' <(grep '"x-e2e-case": "failopen"' "$LDIR/mock.log"); then
    fail "a gateway-only header reached the provider"
    return 1
  fi
  detail "provider answered with the own keys; gateway key in mock.log: 0 times"
}

# anyray usage against real LiteLLM: the exact answer of a LiteLLM without a database.
litellm_usage() {
  anyray "$L" usage --json || { fail "anyray usage --json exited $?"; return 1; }
  "$E2E_PY" -c 'import json, sys; d = json.load(sys.stdin)
ok = d["status"] == "unavailable" and "database" in d["reason"]
sys.exit(not ok)' <"$W/last.out" ||
    { fail "usage did not report LiteLLM's missing database"; return 1; }
  anyray "$L" usage || { fail "anyray usage exited $?"; return 1; }
  grep -q "LiteLLM keeps per-key spend only with a database" "$W/last.out" ||
    { fail "no clear line"; return 1; }
  if grep -q "$LITELLM_KEY" "$W/last.out" "$W/last.err"; then
    fail "usage printed the key"
    return 1
  fi
  detail "/key/info: 500 without a database -> one line, exit 0"
}

litellm_disconnect() {
  anyray "$L" disconnect --yes || { fail "anyray disconnect exited $?"; return 1; }
  tool compare "$W/litellm-before.json" "$L" --allow-new "${TOOL_STATE[@]}" \
    --allow-changed "${TOOL_STATE[@]}" --deny-new "${NEVER_LEFT[@]}" ||
    { fail "disconnect left files changed (see log)"; return 1; }
  detail "every file byte-identical to before connect"
}

LITELLM_BOOT=""   # pid of the background start (litellm_boot)
LITELLM_PORT=""

# litellm_boot: starts LiteLLM in the background at the beginning of the suite, so its
# 12-40 s start overlaps the other steps; step_litellm waits for it.
litellm_boot() {
  [[ -n ${E2E_LITELLM:-} ]] || return 0
  LDIR="$W/litellm"
  LITELLM_PORT=$(tool free-port)
  LITELLM_BIN=$E2E_LITELLM PYTHON=$E2E_PY LITELLM_MASTER_KEY=$LITELLM_KEY \
    MOCK_PROVIDER_TEXT=$LITELLM_TEXT \
    bash "$E2E_DIR/litellm/run-litellm.sh" start "$LDIR" "$LITELLM_PORT" \
    >"$W/litellm.start" 2>&1 &
  LITELLM_BOOT=$!
}

step_litellm() {
  section "12. a real LiteLLM proxy: connect + login and nothing else (issue 15)"
  local rows=(litellm "anyray doctor" "anyray env" "anyray usage" claude-code codex sdk
    "anyray disconnect")
  if [[ -z ${E2E_LITELLM:-} ]]; then
    skip_rows litellm "LiteLLM is not installed (run.sh installs it)" "${rows[@]}"
    return
  fi
  [[ -n $LITELLM_BOOT ]] || litellm_boot
  local port=$LITELLM_PORT rc=0
  wait "$LITELLM_BOOT" || rc=$?
  if [[ $rc != 0 ]]; then
    record litellm start FAIL "$(tail -n 1 "$W/litellm.start")"
    sed 's/^/      | /' "$W/litellm.start" | tail -n 25
    return
  fi
  record litellm start PASS "$(tail -n 1 "$W/litellm.start")"
  LITELLM_URL="http://127.0.0.1:$port"
  L="$W/litellm-home"
  seed_small "$L"
  tool snapshot "$L" "$W/litellm-before.json"
  if check "anyray connect" litellm litellm_connect; then
    check "anyray doctor" litellm litellm_doctor
    check "anyray env" litellm litellm_env
    check "anyray usage" litellm litellm_usage
    LAUNCH=("$E2E_ANYRAY" run --)
    check claude-code "litellm run" mock_claude
    check codex "litellm run" mock_codex
    check sdk "litellm run" mock_sdk litellm-run "$LITELLM_TEXT"
    LAUNCH=("$E2E_ANYRAY" run --relay --)
    check claude-code "litellm relay" mock_claude
    check codex "litellm relay" mock_codex
    check sdk "litellm relay" mock_sdk litellm-relay "$LITELLM_TEXT"
    LAUNCH=()
    check relay "litellm down" litellm_failopen
    check "anyray disconnect" litellm litellm_disconnect
  fi
  LAUNCH=()
  bash "$E2E_DIR/litellm/run-litellm.sh" stop "$LDIR"
}

# --- 13. a gateway that routes by header ---------------------------------------------------

routing_doctor() {
  local want=$1 rc=0
  in_home "$R" 60 "$E2E_ANYRAY" doctor --json --timeout 10 --only gateway.routes \
    >"$W/doctor.json" 2>&1 || rc=$?
  cat "$W/doctor.json"
  tool doctor "$W/doctor.json" --expect "gateway.routes=$want" ||
    { fail "gateway.routes is not $want"; return 1; }
  if [[ $want == fail ]]; then
    grep -q "x-portkey-provider header is required" "$W/doctor.json" ||
      { fail "doctor did not quote the gateway's message"; return 1; }
    [[ $rc == 1 ]] || { fail "doctor exited $rc"; return 1; }
  fi
  detail "gateway.routes=$want"
}

routing_connect() {
  if ! { anyray "$R" config set routes.openai.headers.x-portkey-provider openai &&
    anyray "$R" config set routes.anthropic.headers.x-portkey-provider anthropic; }; then
    fail "config set failed"
    return 1
  fi
  anyray "$R" connect --yes --gateway "${URLS[portkey]}" claude-code codex ||
    { fail "anyray connect exited $?"; return 1; }
  cat "$R/.claude/settings.json" "$R/.codex/config.toml"
  detail "routing headers in settings.json env and the Codex provider table"
}

routing_sdk() {
  local mark
  mark=$(lines portkey)
  in_home "$R" 120 "$E2E_ANYRAY" run --relay -- "$E2E_PY" "$E2E_DIR/sdk_check.py" \
    --case routed --expect-text "$PK_TEXT" || { fail "an SDK turn failed"; return 1; }
  tool requests "$W/portkey.log" --from "$mark" --case routed --min 6 --max 6 \
    --what "SDK requests through the relay" || { fail "the gateway did not see 6 requests"; return 1; }
  tool requests "$W/portkey.log" --from "$mark" --case routed --path /v1/messages \
    --header x-portkey-provider=anthropic --min 2 --max 2 --what "Anthropic requests routed" ||
    { fail "Anthropic requests lacked their routing header"; return 1; }
  detail "6 SDK requests, each with its route's header"
}

routing_disconnect() {
  anyray "$R" disconnect --yes || { fail "anyray disconnect exited $?"; return 1; }
  tool compare "$W/routing-before.json" "$R" --allow-new "${TOOL_STATE[@]}" \
    --allow-changed "${TOOL_STATE[@]}" --deny-new "${NEVER_LEFT[@]}" ||
    { fail "disconnect left files changed (see log)"; return 1; }
  detail "every file byte-identical to before connect"
}

# A provider table left with only the user's key: real Codex refuses it (the control),
# anyray disconnect refuses to leave it, and with --force leaves a config Codex loads.
codex_leftover() {
  local broken="$W/broken-codex"
  anyray "$R" connect --yes --gateway "${URLS[portkey]}" codex || { fail "connect failed"; return 1; }
  # The last table in the file is anyray's provider: the user adds a key of their own.
  printf 'request_max_retries = 4\n' >>"$R/.codex/config.toml"
  mkdir -p "$broken/.codex"
  printf '[model_providers.anyray]\nrequest_max_retries = 4\n' >"$broken/.codex/config.toml"
  if in_home "$broken" 60 "$E2E_BIN/codex" exec --skip-git-repo-check "Say hello." \
    >"$W/codex-broken.out" 2>&1; then
    fail "the control failed: Codex loaded a provider without a name"
    return 1
  fi
  grep -q "provider name must not be empty" "$W/codex-broken.out" ||
    { cat "$W/codex-broken.out"; fail "Codex's error was not the missing name"; return 1; }
  local rc=0
  anyray "$R" disconnect codex || rc=$?
  [[ $rc == 3 ]] || { fail "disconnect exited $rc, expected 3"; return 1; }
  grep -q request_max_retries "$W/last.err" || { fail "disconnect did not name the key"; return 1; }
  anyray "$R" disconnect --force codex || { fail "disconnect --force exited $?"; return 1; }
  # shellcheck disable=SC2034 # read by codex_turn (lib.sh)
  CODEX_ARGS=(-c "openai_base_url=\"${URLS[gateway]}/v1\"")
  codex_turn "$R" gateway "$GW_TEXT" || { CODEX_ARGS=(); return 1; }
  # shellcheck disable=SC2034
  CODEX_ARGS=()
  detail "refused (exit 3), then --force: Codex loads its config and answers"
}

step_routing() {
  section "13. a gateway that routes by header (issue 22)"
  if ! start_fake portkey "$PK_TEXT" --route-by-header --no-discovery; then
    record "fake gateway" routing FAIL "the header-routing fake did not start"
    return
  fi
  R="$W/routing-home"
  seed_small "$R"
  tool snapshot "$R" "$W/routing-before.json"
  anyray "$R" config set gateway "${URLS[portkey]}" >/dev/null
  check "anyray doctor" "routing: no headers" routing_doctor fail
  check "anyray connect" routing routing_connect || return
  check "anyray doctor" "routing: headers" routing_doctor ok
  check claude-code "routing direct" claude_turn "$R" portkey "$PK_TEXT" \
    --header x-portkey-provider=anthropic
  check codex "routing direct" codex_turn "$R" portkey "$PK_TEXT" \
    --header x-portkey-provider=openai
  check sdk "routing relay" routing_sdk
  check "anyray disconnect" routing routing_disconnect
  check codex "leftover table" codex_leftover
}

step_gateways() {
  step_litellm
  step_routing
}
