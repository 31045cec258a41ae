# shellcheck shell=bash
# 14. Credential helpers (issue 16), sourced by suite.sh after its own steps: a gateway
#     that takes a plain long-lived key as the tools' API key (the `key` scheme, LiteLLM's
#     way: `fake_gateway --require-key`, no discovery). `anyray login --token-stdin`, then
#     `anyray connect --gateway URL claude-code codex` and nothing else: real Claude Code
#     and real Codex answer with NO API key in their environment or files (the suite's
#     dummy ANTHROPIC_API_KEY/OPENAI_API_KEY are left out here: in `claude -p` an
#     ANTHROPIC_API_KEY would win for x-api-key), each request carrying the key from
#     `anyray token`, run by Claude Code's apiKeyHelper and Codex's provider auth command.
#     After `anyray logout` each fails with an error that names `anyray login`;
#     `disconnect` gives back every file byte for byte. Last, the key is searched for in
#     every file of the run (the HOME, the temp dirs, every log, the process list sampled
#     while the tools ran): it is nowhere. The fake logs a fingerprint of each credential
#     header (`--redact-keys`), never the key.
#
# Expects suite.sh's and lib.sh's state (W, URLS, E2E_*, TOOL_STATE, NEVER_LEFT).

HELPER_TEXT="Answer for the key anyray token printed (e2e)."
HELPER_KEY="sk-e2e-helper-$RANDOM$RANDOM$RANDOM"
# How the fake logs the key it requires (fake_gateway::REQUIRED_KEY).
SEEN_KEY="<the required key>"
HH=""   # the step's HOME

# ps_sample FILE: appends `ps -eo args` to FILE every 0.1 s until stopped (PIDS[ps]).
start_ps_sample() {
  local out=$1
  (
    for ((i = 0; i < 3000; i++)); do
      ps -eo args >>"$out" 2>/dev/null
      sleep 0.1
    done
  ) &
  # shellcheck disable=SC2034 # lib.sh's table of the processes `stop` ends
  PIDS["ps"]=$!
}

helpers_connect() {
  printf '%s' "$HELPER_KEY" | in_home_stdin "$HH" "$E2E_ANYRAY" login --token-stdin \
    >"$W/last.out" 2>"$W/last.err" || { cat "$W/last.err"; fail "anyray login exited $?"; return 1; }
  cat "$W/last.out" "$W/last.err"
  anyray "$HH" connect --yes --gateway "${URLS[helpgw]}" claude-code codex ||
    { fail "anyray connect exited $?"; return 1; }
  grep -q '"apiKeyHelper"' "$HH/.claude/settings.json" ||
    { fail "settings.json has no apiKeyHelper"; return 1; }
  grep -q '^auth = {' "$HH/.codex/config.toml" ||
    { fail "config.toml has no auth table for the anyray provider"; return 1; }
  cat "$HH/.claude/settings.json" "$HH/.codex/config.toml"
  detail "login, then connect: apiKeyHelper and [model_providers.anyray.auth] run anyray token"
}

helpers_claude() {
  claude_turn "$HH" helpgw "$HELPER_TEXT" --header "authorization=Bearer $SEEN_KEY" \
    --header "x-api-key=$SEEN_KEY" || return 1
  detail "answered; the gateway saw the key (Bearer and x-api-key) from apiKeyHelper"
}

helpers_codex() {
  codex_turn "$HH" helpgw "$HELPER_TEXT" --header "authorization=Bearer $SEEN_KEY" || return 1
  detail "answered; the gateway saw the key (Bearer) from the provider auth command"
}

helpers_logout() {
  anyray "$HH" logout || { fail "anyray logout exited $?"; return 1; }
  detail "the stored key is gone"
}

# After logout: Claude Code shows the helper's line, which names `anyray login`.
helpers_claude_fails() {
  local rc=0
  (cd "$W/project" && in_home "$HH" 120 "$E2E_BIN/claude" -p "Say hello." \
    --output-format json) >"$W/helpers-claude.json" 2>"$W/helpers-claude.err" || rc=$?
  echo "claude exit $rc"
  cat "$W/helpers-claude.json" "$W/helpers-claude.err" | head -c 2000
  if tool claude-answer "$W/helpers-claude.json" >/dev/null 2>&1; then
    fail "Claude Code still answered"
    return 1
  fi
  grep -q 'anyray login' "$W/helpers-claude.json" "$W/helpers-claude.err" ||
    { fail "no error naming \`anyray login\`"; return 1; }
  detail "fails (exit $rc): $(grep -ho 'apiKeyHelper failed[^"]*' "$W/helpers-claude.err" "$W/helpers-claude.json" | head -n 1)"
}

# After logout: Codex fails, and its error names `anyray login`.
helpers_codex_fails() {
  local rc=0
  (cd "$W/project" && in_home "$HH" 120 "$E2E_BIN/codex" exec --skip-git-repo-check \
    -c analytics.enabled=false -c features.plugins=false -c features.apps=false \
    "Say hello.") >"$W/helpers-codex.out" 2>"$W/helpers-codex.err" || rc=$?
  echo "codex exit $rc"
  tail -n 20 "$W/helpers-codex.err"
  [[ $rc != 0 ]] || { fail "Codex still answered"; return 1; }
  grep -q 'anyray login' "$W/helpers-codex.err" "$W/helpers-codex.out" ||
    { fail "no error naming \`anyray login\`"; return 1; }
  detail "fails (exit $rc) naming \`anyray login\`"
}

helpers_disconnect() {
  anyray "$HH" disconnect --yes || { fail "anyray disconnect exited $?"; return 1; }
  tool compare "$W/before-helpers.json" "$HH" --allow-new "${TOOL_STATE[@]}" \
    --deny-new "${NEVER_LEFT[@]}" || { fail "files differ from before connect (see log)"; return 1; }
  detail "every file byte-identical to before connect"
}

# The key is nowhere: not in any file of the run (every HOME, temp dir and log, the fake's
# log included), not in the process list sampled while the tools ran.
helpers_no_key_anywhere() {
  local found
  found=$(grep -rlF -- "$HELPER_KEY" "$W" 2>/dev/null || true)
  if [[ -n $found ]]; then
    echo "the key is in: $found"
    fail "the key was found in $(echo "$found" | wc -l) file(s)"
    return 1
  fi
  [[ -s $W/ps-helpers.txt ]] || { fail "the process list was not sampled"; return 1; }
  detail "not in any of $(find "$W" -type f | wc -l) files nor $(grep -c . "$W/ps-helpers.txt") process-list lines"
}

step_helpers() {
  section "14. credential helpers: login, connect, and the tools run anyray token"
  HH=$W/helpers-home
  mkdir -p "$HH"
  seed_small "$HH"
  # The key reaches the fake through its environment: argv would put it in the process list.
  E2E_HELPER_KEY=$HELPER_KEY start_fake helpgw "$HELPER_TEXT" --no-discovery \
    --require-key-env E2E_HELPER_KEY --redact-keys ||
    { record "fake gateway" helpers FAIL "did not start"; return; }
  tool snapshot "$HH" "$W/before-helpers.json"
  # No provider key anywhere in the tools' environment for this step (lib.sh client_env).
  # shellcheck disable=SC2034
  E2E_NO_KEYS=1
  start_ps_sample "$W/ps-helpers.txt"
  if check anyray "helpers connect" helpers_connect; then
    check claude-code "key via helper" helpers_claude
    check codex "key via helper" helpers_codex
    if check anyray "helpers logout" helpers_logout; then
      check claude-code "after logout" helpers_claude_fails
      check codex "after logout" helpers_codex_fails
    fi
    check anyray "helpers disconnect" helpers_disconnect
  else
    skip_rows "key via helper" "anyray connect failed" claude-code codex
  fi
  stop ps
  # shellcheck disable=SC2034
  E2E_NO_KEYS=""
  stop helpgw
  check anyray "key nowhere" helpers_no_key_anywhere
}
