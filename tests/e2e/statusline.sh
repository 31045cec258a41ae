# shellcheck shell=bash
# 16. Claude Code's status line and `anyray usage` (issue 20), sourced by suite.sh:
#     a HOME whose Claude Code already has a status line of the user's own; a fake
#     gateway that wants the key in the identity header and counts what it answers;
#     `connect claude-code --chain-statusline` keeps the user's command and chains it;
#     real Claude Code answers a turn through `anyray run --relay` (which adds the key);
#     `anyray usage` shows that turn (by tool: claude-code); the configured status
#     command, run exactly as Claude Code runs it (`/bin/sh -c COMMAND`, Claude Code
#     2.1.197's recorded session JSON on stdin), prints the user's line, then anyray's
#     with today's spend as usage counted it; with the gateway stopped, "gateway down";
#     `disconnect` restores every file byte for byte.
#
# Expects suite.sh's and lib.sh's state (W, URLS, E2E_*).

SL_TEXT="Answer from the metered gateway (e2e)."
SL_KEY="ak-e2e-statusline-$RANDOM$RANDOM"
SL_STDIN="$E2E_DIR/../fixtures/claude-statusline-stdin.json"
S=""   # the step's HOME

# seed_statusline_home: a user's Claude Code settings with their own status line.
seed_statusline_home() {
  mkdir -p "$S/.claude" "$S/bin"
  cat >"$S/bin/mystatus.sh" <<'EOF'
#!/bin/sh
# The user's own status line: the model's name from Claude Code's JSON on stdin.
printf 'mine: %s\n' "$(sed -n 's/.*"display_name": *"\([^"]*\)".*/\1/p' | head -n 1)"
EOF
  chmod +x "$S/bin/mystatus.sh"
  cat >"$S/.claude/settings.json" <<EOF
{
  "theme": "dark",
  "statusLine": {
    "type": "command",
    "command": "$S/bin/mystatus.sh",
    "padding": 0
  }
}
EOF
}

# status_command: the statusLine command in the step's settings.json.
status_command() {
  "$E2E_PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["statusLine"]["command"])' \
    "$S/.claude/settings.json"
}

# run_status_line: the configured command as Claude Code runs it; output in $W/status.out.
run_status_line() {
  local command
  command=$(status_command)
  in_home_stdin "$S" /bin/sh -c "$command" <"$SL_STDIN" >"$W/status.out" 2>"$W/status.err"
}

sl_connect() {
  anyray "$S" connect --yes --gateway "${URLS[metered]}" claude-code --chain-statusline ||
    { fail "anyray connect exited $?"; return 1; }
  printf '%s' "$SL_KEY" | in_home_stdin "$S" "$E2E_ANYRAY" login --token-stdin ||
    { fail "anyray login failed"; return 1; }
  local want got
  want="'$(readlink -f "$E2E_ANYRAY")' statusline --chain '$S/bin/mystatus.sh'"
  got=$(status_command)
  echo "statusLine.command: $got"
  [[ $got == "$want" ]] || { fail "statusLine.command is $got"; return 1; }
  detail "statusLine.command chains the user's own"
}

sl_claude() {
  LAUNCH=("$E2E_ANYRAY" run --relay --)
  claude_turn "$S" metered "$SL_TEXT" --header "x-anyray-key=$SL_KEY"
  local rc=$?
  LAUNCH=()
  return "$rc"
}

sl_usage() {
  anyray "$S" usage --json || { fail "anyray usage --json exited $?"; return 1; }
  "$E2E_PY" -c 'import json, sys; d = json.load(sys.stdin)
ok = (d["status"] == "report" and d["today"]["requests"] >= 1 and d["today"]["spend"] > 0
      and d["by_client"][0]["name"] == "claude-code" and d["budget"]["limit"] == 50.0)
sys.exit(not ok)' <"$W/last.out" || { fail "usage does not show the turn (see log)"; return 1; }
  cp "$W/last.out" "$W/usage.json"
  anyray "$S" usage || { fail "anyray usage exited $?"; return 1; }
  grep -q "claude-code" "$W/last.out" || { fail "no claude-code row"; return 1; }
  if grep -q "$SL_KEY" "$W/last.out" "$W/last.err"; then
    fail "usage printed the key"
    return 1
  fi
  detail "today: $("$E2E_PY" -c 'import json,sys; t=json.load(sys.stdin)["today"]; print(t["requests"], "request(s),", t["spend"], "USD")' <"$W/usage.json"), by tool claude-code"
}

sl_line() {
  anyray "$S" statusline --refresh || { fail "statusline --refresh exited $?"; return 1; }
  run_status_line || { fail "the status command exited $?"; return 1; }
  cat "$W/status.out"
  local want
  # shellcheck disable=SC2016 # Python, not shell
  want=$("$E2E_PY" -c 'import json, sys
d = json.load(open(sys.argv[1]))
def money(x):
    return "${:.4f}".format(x) if 0 < abs(x) < 0.1 else "${:.2f}".format(x)
b = d["budget"]
print("mine: Opus 4.8 (1M context)  anyray: connected · " + money(d["today"]["spend"])
      + " today · " + money(b["limit"] - b["spent"]) + " of " + money(b["limit"]) + " left")' \
    "$W/usage.json")
  [[ $(<"$W/status.out") == "$want" ]] || { fail "the line differs from: $want"; return 1; }
  detail "$(sed 's/\x1b\[[0-9;]*m//g' "$W/status.out")"
}

sl_down() {
  stop metered
  anyray "$S" statusline --refresh || { fail "statusline --refresh exited $?"; return 1; }
  run_status_line || { fail "the status command exited $?"; return 1; }
  cat "$W/status.out"
  grep -q "gateway down" "$W/status.out" || { fail "no 'gateway down'"; return 1; }
  detail "$(sed 's/\x1b\[[0-9;]*m//g' "$W/status.out")"
}

sl_disconnect() {
  anyray "$S" disconnect --yes || { fail "anyray disconnect exited $?"; return 1; }
  tool compare "$W/statusline-before.json" "$S" --allow-new "${TOOL_STATE[@]}" \
    --allow-changed "${TOOL_STATE[@]}" --deny-new "${NEVER_LEFT[@]}" ||
    { fail "disconnect left files changed (see log)"; return 1; }
  detail "settings.json byte-identical to before connect"
}

step_statusline() {
  section "16. Claude Code's status line and anyray usage (issue 20)"
  local rows=("anyray connect" claude-code "anyray usage" "anyray statusline"
    "anyray disconnect")
  if ! start_fake metered "$SL_TEXT" --require-identity "$SL_KEY"; then
    skip_rows statusline "the fake gateway did not start" "${rows[@]}"
    return
  fi
  S="$W/statusline-home"
  seed_statusline_home
  tool snapshot "$S" "$W/statusline-before.json"
  if check "anyray connect" statusline sl_connect; then
    check claude-code statusline sl_claude
    check "anyray usage" statusline sl_usage
    check "anyray statusline" "gateway up" sl_line
    check "anyray statusline" "gateway down" sl_down
    check "anyray disconnect" statusline sl_disconnect
  fi
  stop metered
}
