#!/usr/bin/env bash
# The end-to-end steps (issue 7), run by run.sh once the clients are installed and anyray
# is built, inside a network namespace that has only loopback when the machine allows it.
#
# Every step uses one fresh temp HOME holding a user's typical files; nothing here sets
# an endpoint variable: the clients find the gateway only through what `anyray connect`
# wrote. A step whose anyray command is not built yet is reported SKIP, never PASS.
set -uo pipefail

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/e2e/lib.sh
source "$E2E_DIR/lib.sh"
# shellcheck source=tests/e2e/tools.sh
source "$E2E_DIR/tools.sh"
# shellcheck source=tests/e2e/gateways.sh
source "$E2E_DIR/gateways.sh"
# shellcheck source=tests/e2e/helpers.sh
source "$E2E_DIR/helpers.sh"
# shellcheck source=tests/e2e/sso.sh
source "$E2E_DIR/sso.sh"
# shellcheck source=tests/e2e/statusline.sh
source "$E2E_DIR/statusline.sh"

: "${E2E_PY:?}" "${E2E_BIN:?}" "${E2E_ANYRAY:?}" "${E2E_FAKE:?}"

W=$(mktemp -d "${TMPDIR:-/tmp}/anyray-e2e.XXXXXX")
if [[ ! $W =~ ^[A-Za-z0-9_./-]+$ || ! $E2E_DIR$E2E_PY =~ ^[A-Za-z0-9_./-]+$ ]]; then
  # Commands for the three shells are built with plain single quotes.
  echo "e2e: paths must be plain ($W, $E2E_DIR, $E2E_PY)" >&2
  exit 2
fi
cleanup() {
  stop_all
  [[ -z ${LDIR:-} ]] || bash "$E2E_DIR/litellm/run-litellm.sh" stop "$LDIR" 2>/dev/null
  if [[ ${ANYRAY_E2E_KEEP:-} == 1 ]]; then echo "e2e: kept $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
mkdir -p "$W/checks" "$W/tmp" "$W/project"

GW_TEXT="Answer from the org gateway (e2e)."
PROVIDER_TEXT="Answer from the provider, failing open (e2e)."
PRIOR_TEXT="Answer from the user's own endpoint (e2e)."
KEY="ak-e2e-$RANDOM$RANDOM$RANDOM"
SHELLS=(bash zsh fish)
SDK_ROWS=(sdk@bash sdk@zsh sdk@fish)
CONNECT_TARGETS=(claude-code codex shell)   # less any target anyray does not have yet
SHELL_OK=()          # tools.shell=ok among doctor's expectations, once the target exists
H="$W/home"
CONNECTED=0          # set once step 2 connected
RELAY_UP=0           # set once step 6 started the relay

# What connect and disconnect may change is checked file by file; what the clients
# themselves create while running is their own state, not anyray's.
TOOL_STATE=(
  '.claude.json' '.claude.json.*' '.claude/backups/*' '.claude/projects/*'
  '.claude/sessions/*' '.claude/shell-snapshots/*' '.claude/statsig/*' '.claude/todos/*'
  '.claude/plans/*' '.claude/session-env/*' '.claude/debug/*' '.claude/file-history/*'
  '.codex/*' '.config/anyray/*' '.local/state/anyray/*' '.local/share/anyray/*'
  '.local/share/fish/*' '.config/fish/fish_variables' '.cache/*'
  '.bash_history' '.zsh_history' '.zcompdump*'
)
NEVER_LEFT=('.codex/config.toml*' '.claude/settings*' '*.bak' '*.orig' '*~')

# A user's files before anyray: their own Claude Code endpoint (a loopback fake, so
# "back on their prior config" is observable), a Codex config with comments and a
# table, rc files for the three shells, one of them a symlink into a dotfiles repo.
seed_home() {
  mkdir -p "$H/.claude" "$H/.codex" "$H/.config/fish" "$H/dotfiles"
  cat >"$H/.claude/settings.json" <<EOF
{
  "env": {
    "ANTHROPIC_BASE_URL": "${URLS[prior]}",
    "E2E_USER_SETTING": "kept"
  },
  "permissions": {
    "allow": [
      "Bash(ls:*)"
    ]
  }
}
EOF
  cat >"$H/.codex/config.toml" <<'EOF'
# My Codex settings (the e2e seed: must survive connect/disconnect byte for byte)
model_reasoning_effort = "low"

[history]
persistence = "none"
EOF
  cat >"$H/.profile" <<'EOF'
# ~/.profile: executed by login shells.
if [ -n "$BASH_VERSION" ] && [ -f "$HOME/.bashrc" ]; then
    . "$HOME/.bashrc"
fi
EOF
  cat >"$H/.bashrc" <<'EOF'
# ~/.bashrc
case $- in *i*) ;; *) return ;; esac
HISTCONTROL=ignoreboth
alias ll='ls -l'
EOF
  cat >"$H/dotfiles/zshrc" <<'EOF'
# ~/.zshrc, kept in ~/dotfiles
setopt no_beep
alias ll='ls -l'
EOF
  ln -s dotfiles/zshrc "$H/.zshrc"
  cat >"$H/.config/fish/config.fish" <<'EOF'
# ~/.config/fish/config.fish
set -g fish_greeting ''
EOF
}

# --- which anyray commands exist yet -----------------------------------------------------

probe_commands() {
  local home="$W/probe-home"
  mkdir -p "$home"
  if pending "$home" connect --dry-run --gateway "${URLS[gateway]}" claude-code; then
    PENDING[connect]="anyray connect (branch connect-engine)"
  fi
  if pending "$home" disconnect --dry-run; then
    PENDING[disconnect]="anyray disconnect (branch connect-engine)"
  fi
  if pending "$home" doctor --only config; then
    PENDING[doctor]="anyray doctor (branch doctor)"
  fi
  if pending "$home" gateway --check-config; then
    PENDING[gateway]="anyray gateway (branch relay)"
  fi
  if [[ -z ${PENDING[connect]:-} ]] && pending "$home" connect --dry-run --gateway "${URLS[gateway]}" shell; then
    PENDING[shell]="the shell target of anyray connect"
    CONNECT_TARGETS=(claude-code codex)
  fi
}

# blocked COMMAND...: prints why a step cannot run yet, nothing when it can.
blocked() {
  local c out=""
  for c in "$@"; do
    [[ -z ${PENDING[$c]:-} ]] || out+="${out:+, }${PENDING[$c]}"
  done
  [[ -z $out ]] || printf 'pending: needs %s' "$out"
}

# each_shell MODE FN ARGS...: the check FN SHELL MODE ARGS... once per shell (sdk@SHELL),
# or SKIP rows while the shell target is pending.
each_shell() {
  local mode=$1 fn=$2 sh why
  shift 2
  why=$(blocked shell)
  for sh in "${SHELLS[@]}"; do
    if [[ -n $why ]]; then
      skip "sdk@$sh" "$mode" "$why"
    else
      check "sdk@$sh" "$mode" "$fn" "$sh" "$mode" "$@"
    fi
  done
}

# shell_turns SHELL MODE NAME TEXT [FILTERS...] / shell_default SHELL MODE: the SDK checks
# in the seeded HOME, tagged SHELL/MODE.
shell_turns() {
  local sh=$1 mode=$2
  shift 2
  sdk_turns "$H" "$sh" "$sh/$mode" "$@"
}
shell_default() { sdk_default "$H" "$1" "$1/$2"; }

# skip_rows MODE REASON CLIENT...
skip_rows() {
  local mode=$1 why=$2 c
  shift 2
  for c in "$@"; do skip "$c" "$mode" "$why"; done
}

# --- 1. the harness: clients pointed at the fake by hand (no anyray) -----------------

harness_claude() {
  E2E_EXTRA=("ANTHROPIC_BASE_URL=${URLS[gateway]}")
  claude_turn "$W/harness" gateway "$GW_TEXT"
}

# The /v1 mistake (ANTHROPIC_BASE_URL must be an origin): the checks must catch it.
harness_claude_v1() {
  local mark answer
  mark=$(lines gateway)
  E2E_EXTRA=("ANTHROPIC_BASE_URL=${URLS[gateway]}/v1")
  run_claude "$W/harness" "$W/claude.json"
  if answer=$(tool claude-answer "$W/claude.json"); then
    fail "Claude Code answered '$answer' through a /v1 base URL"
    return 1
  fi
  tool requests "$W/gateway.log" --from "$mark" --method POST --path /v1/v1/messages \
    --what "POST /v1/v1/messages" || { fail "the gateway did not see /v1/v1/messages"; return 1; }
  detail "a /v1 base URL fails, as it must"
}

harness_codex() {
  E2E_EXTRA=()
  CODEX_ARGS=(-c "openai_base_url=\"${URLS[gateway]}/v1\"")
  codex_turn "$W/harness" gateway "$GW_TEXT"
}

harness_sdk() {
  local mark
  mark=$(lines gateway)
  E2E_EXTRA=("OPENAI_BASE_URL=${URLS[gateway]}/v1" "ANTHROPIC_BASE_URL=${URLS[gateway]}")
  in_home "$W/harness" 120 "$E2E_PY" "$E2E_DIR/sdk_check.py" --case harness \
    --expect-text "$GW_TEXT" || { fail "an SDK turn failed"; return 1; }
  tool requests "$W/gateway.log" --from "$mark" --case harness --min 6 --max 6 ||
    { fail "the gateway did not see the 6 SDK requests"; return 1; }
  detail "openai+anthropic, plain+stream"
}

step_harness() {
  section "1. harness: the real clients against the fake gateway, configured by hand"
  mkdir -p "$W/harness"
  check claude-code harness harness_claude
  check claude-code "harness /v1" harness_claude_v1
  check codex harness harness_codex
  check sdk harness harness_sdk
  E2E_EXTRA=()
  CODEX_ARGS=()
}

# --- 2. connect ------------------------------------------------------------------------

before_claude() { claude_turn "$H" prior "$PRIOR_TEXT"; }

connect_direct() {
  anyray "$H" connect --yes --gateway "${URLS[gateway]}" "${CONNECT_TARGETS[@]}" ||
    { fail "anyray connect exited $?"; return 1; }
  show_config
  detail "${CONNECT_TARGETS[*]} -> ${URLS[gateway]}"
}

step_connect() {
  section "2. anyray connect --gateway (direct)"
  seed_home
  tool snapshot "$H" "$W/before-connect.json"
  check claude-code "before" before_claude
  local sh
  for sh in "${SHELLS[@]}"; do check "sdk@$sh" before shell_default "$sh" before; done

  local why
  why=$(blocked connect)
  if [[ -n $why ]]; then
    skip_rows direct "$why" "anyray connect"
    return
  fi
  check "anyray connect" direct connect_direct || return
  CONNECTED=1
  check "anyray connect" again connect_again
}

# show_config: what the tools' files say now (for the check's log).
show_config() {
  local f
  # Not the whole anyray config dir: it may hold the key (token file).
  for f in "$H"/.claude/settings.json "$H"/.codex/config.toml "$H"/.bashrc "$H"/.profile \
    "$H"/.zshrc "$H"/.config/fish/config.fish "$H"/.config/fish/conf.d/* \
    "$H"/.config/anyray/config.toml "$H"/.config/anyray/env*; do
    if [[ -f $f ]]; then
      echo "--- ${f#"$H"/}"
      cat "$f"
    fi
  done
}

# A second connect changes nothing.
connect_again() {
  tool snapshot "$H" "$W/after-connect.json"
  anyray "$H" connect --yes --gateway "${URLS[gateway]}" "${CONNECT_TARGETS[@]}" ||
    { fail "the second anyray connect exited $?"; return 1; }
  tool compare "$W/after-connect.json" "$H" --allow-new "${TOOL_STATE[@]}" ||
    { fail "the second connect changed files (see log)"; return 1; }
  detail "a second connect changed no file"
}

# --- 3-5. the clients through the connected config --------------------------------------

step_direct() {
  section "3-5. Claude Code, Codex and the SDKs in bash/zsh/fish, connected directly"
  local why
  why=$(blocked connect)
  [[ -n $why || $CONNECTED == 1 ]] || why="anyray connect failed"
  if [[ -n $why ]]; then
    skip_rows direct "$why" claude-code codex "${SDK_ROWS[@]}"
    return
  fi
  check claude-code direct claude_turn "$H" gateway "$GW_TEXT" --lacks-header x-anyray-key
  check codex direct codex_turn "$H" gateway "$GW_TEXT" --lacks-header x-anyray-key
  each_shell direct shell_turns gateway "$GW_TEXT"
}

# --- 9. doctor --------------------------------------------------------------------------

# doctor_levels EXIT ID=LEVEL...: `anyray doctor --json`, run from a login shell as a
# user would (so it sees what the rc files export), exits EXIT and reports those levels.
doctor_levels() {
  local want_exit=$1 rc=0
  shift
  in_home "$H" 60 bash -lic "'$E2E_ANYRAY' doctor --json --timeout 10" >"$W/doctor.json" \
    2>"$W/doctor.err" || rc=$?
  echo "\$ anyray doctor --json (in bash -lic) -> exit $rc"
  cat "$W/doctor.json" "$W/doctor.err"
  [[ $rc == "$want_exit" ]] || { fail "doctor exited $rc, expected $want_exit"; return 1; }
  local levels
  levels=$(tool doctor "$W/doctor.json" --pending-out "$W/doctor.pending" --expect "$@") ||
    { fail "unexpected check levels (see log)"; return 1; }
  echo "$levels"
  detail "exit $rc; $(tail -n 1 <<<"$levels")"
}

step_doctor() {
  local mode=$1 want_exit=$2
  shift 2
  local why
  why=$(blocked connect doctor)
  [[ -n $why || $CONNECTED == 1 ]] || why="anyray connect failed"
  if [[ -n $why ]]; then
    skip_rows "$mode" "$why" "anyray doctor"
    return
  fi
  : >"$W/doctor.pending"
  check "anyray doctor" "$mode" doctor_levels "$want_exit" "$@"
  # Checks doctor says this build cannot do are left out above; every check has landed,
  # so one is a failure.
  if [[ -s $W/doctor.pending ]]; then
    record "doctor tools.*" "$mode" FAIL "doctor says 'not available in this build' for $(cat "$W/doctor.pending")"
  fi
}

# --- 6. through the relay ------------------------------------------------------------------

start_relay() {
  : >"$W/relay.err"
  client_env "$H"
  env -i "${E2E_ENV[@]}" "$E2E_ANYRAY" gateway --log-file "$W/relay.log" \
    --log-format json </dev/null >"$W/relay.out" 2>"$W/relay.err" &
  PIDS[relay]=$!
  tool wait-port "$RELAY_PORT" 20 || {
    cat "$W/relay.out" "$W/relay.err"
    return 1
  }
}

relay_setup() {
  anyray "$H" config set relay.listen "127.0.0.1:$RELAY_PORT" || { fail "config set exited $?"; return 1; }
  printf '%s' "$KEY" | in_home_stdin "$H" "$E2E_ANYRAY" login --token-stdin ||
    { fail "anyray login failed"; return 1; }
  anyray "$H" connect --yes --via relay "${CONNECT_TARGETS[@]}" ||
    { fail "anyray connect --via relay exited $?"; return 1; }
  show_config
  start_relay || { fail "the relay did not listen on 127.0.0.1:$RELAY_PORT"; return 1; }
  detail "tools -> relay 127.0.0.1:$RELAY_PORT -> ${URLS[gateway]}, key stored"
}

# The relay's access log names the requests it forwarded (the identity header at the
# gateway, checked above, already shows they went through it: no client knows the key).
relay_seen() {
  local path paths=(/v1/messages /v1/responses)
  # Only the SDKs send chat completions.
  [[ -n ${PENDING[shell]:-} ]] || paths+=(/v1/chat/completions)
  for path in "${paths[@]}"; do
    grep -q "$path" "$W/relay.log" || { fail "the relay's access log has no $path"; return 1; }
  done
  if grep -q -- "$KEY" "$W/relay.log" "$W/relay.err"; then
    fail "the relay logged the identity key"
    return 1
  fi
  detail "relay log: $(wc -l <"$W/relay.log") lines, no key in it"
}

# Nothing the provider received, ever, carried the identity header.
provider_no_key() {
  tool requests "$W/provider.log" --min 1 --what "requests at the provider" ||
    { fail "the provider saw nothing"; return 1; }
  tool requests "$W/provider.log" --has-header x-anyray-key --min 0 --max 0 \
    --what "requests with x-anyray-key at the provider" ||
    { fail "the provider saw the identity header"; return 1; }
  detail "$(lines provider) requests, none with x-anyray-key"
}

step_relay() {
  section "6. the same through the local relay (anyray gateway), identity key stored"
  local why
  why=$(blocked connect gateway)
  [[ -n $why || $CONNECTED == 1 ]] || why="anyray connect failed"
  if [[ -n $why ]]; then
    skip_rows relay "$why" "anyray gateway" claude-code codex "${SDK_ROWS[@]}"
    return
  fi
  RELAY_PORT=$(tool free-port)
  check "anyray gateway" relay relay_setup || return
  RELAY_UP=1
  local id=(--header "x-anyray-key=$KEY")
  check claude-code relay claude_turn "$H" gateway "$GW_TEXT" "${id[@]}"
  check codex relay codex_turn "$H" gateway "$GW_TEXT" "${id[@]}"
  each_shell relay shell_turns gateway "$GW_TEXT" "${id[@]}"
  check "relay log" relay relay_seen
}

# --- 7. fail-open ---------------------------------------------------------------------------

failopen_setup() {
  stop gateway
  local kv
  for kv in relay.fallback=direct "relay.providers.anthropic=${URLS[provider]}" \
    "relay.providers.openai=${URLS[provider]}" "relay.providers.gemini=${URLS[provider]}"; do
    anyray "$H" config set "${kv%%=*}" "${kv#*=}" || { fail "config set ${kv%%=*} failed"; return 1; }
  done
  stop relay
  start_relay || { fail "the relay did not restart"; return 1; }
  detail "org gateway stopped; relay.fallback = direct -> ${URLS[provider]}"
}

step_failopen() {
  section "7. org gateway down: the relay fails open to a loopback provider"
  local why
  why=$(blocked connect gateway)
  [[ -n $why || $RELAY_UP == 1 ]] || why="the relay step failed"
  if [[ -n $why ]]; then
    skip_rows fail-open "$why" "anyray gateway" claude-code codex provider
    why=$(blocked connect gateway doctor)
    skip_rows gateway-down "${why:-the relay step failed}" "anyray doctor"
    return
  fi
  check "anyray gateway" fail-open failopen_setup || return
  check claude-code fail-open claude_turn "$H" provider "$PROVIDER_TEXT" --lacks-header x-anyray-key
  check codex fail-open codex_turn "$H" provider "$PROVIDER_TEXT" --lacks-header x-anyray-key
  check provider fail-open provider_no_key
  # The relay runs but cannot reach its upstream (warn); the fallback path is fine.
  step_doctor gateway-down 1 net.tcp=fail relay=warn failopen.path=ok \
    tools.claude-code=ok tools.codex=ok "${SHELL_OK[@]}"
}

# --- 8. disconnect ----------------------------------------------------------------------------

disconnect_all() {
  anyray "$H" disconnect --yes || { fail "anyray disconnect exited $?"; return 1; }
  tool compare "$W/before-connect.json" "$H" --allow-new "${TOOL_STATE[@]}" \
    --deny-new "${NEVER_LEFT[@]}" || { fail "files differ from before connect (see log)"; return 1; }
  detail "every file byte-identical to before connect"
}

# Back on the user's own endpoint, and the gateway (up again) hears nothing.
after_claude() {
  local mark
  mark=$(lines gateway)
  claude_turn "$H" prior "$PRIOR_TEXT" || return 1
  tool requests "$W/gateway.log" --from "$mark" --ua claude-cli/ --min 0 --max 0 \
    --what "requests from Claude Code at the gateway" || { fail "the gateway still saw Claude Code"; return 1; }
  detail "back on the user's own endpoint; the gateway saw nothing"
}

step_disconnect() {
  section "8. anyray disconnect: back to the user's own config, byte for byte"
  local why
  why=$(blocked connect disconnect)
  [[ -n $why || $CONNECTED == 1 ]] || why="anyray connect failed"
  if [[ -n $why ]]; then
    skip_rows disconnected "$why" "anyray disconnect" claude-code "${SDK_ROWS[@]}"
    return
  fi
  if [[ -z ${PIDS[gateway]:-} ]] &&
    ! start_fake gateway "$GW_TEXT" --port "$(port_of "${URLS[gateway]}")"; then
    record "fake gateway" disconnected FAIL "could not start again on its port"
    return
  fi
  check "anyray disconnect" disconnected disconnect_all
  check claude-code disconnected after_claude
  each_shell disconnected shell_default
}

# --- 11. a Codex profile that selects its own provider (issue 13) ----------------------------

# A second HOME where `codex --profile work` lays work.config.toml over config.toml, and
# the profile selects a provider on the "prior" fake: real Codex takes the profile's
# provider over config.toml's, so connect must select the gateway there too, and
# disconnect must put it back. (The legacy `profile = "work"` in config.toml is refused
# at load by this Codex, so only the tests without the real Codex cover it.)
seed_profile_home() {
  P="$W/profile-home"
  mkdir -p "$P/.codex"
  cat >"$P/.codex/config.toml" <<EOF
# Codex with a team provider (the e2e seed for issue 13)
[model_providers.team]
name = "Team endpoint"
base_url = "${URLS[prior]}/v1"
wire_api = "responses"
env_key = "OPENAI_API_KEY"
EOF
  cat >"$P/.codex/work.config.toml" <<'EOF'
# codex --profile work
model_provider = "team" # the team's endpoint
EOF
  cp "$P/.codex/config.toml" "$W/profile-config.toml"
  cp "$P/.codex/work.config.toml" "$W/profile-work.toml"
}

profile_connect() {
  anyray "$P" connect --yes --gateway "${URLS[gateway]}" codex ||
    { fail "anyray connect exited $?"; return 1; }
  cat "$P/.codex/config.toml" "$P/.codex/work.config.toml"
  detail "codex -> ${URLS[gateway]}, also in work.config.toml"
}

profile_disconnect() {
  anyray "$P" disconnect --yes || { fail "anyray disconnect exited $?"; return 1; }
  if ! cmp "$W/profile-config.toml" "$P/.codex/config.toml" ||
    ! cmp "$W/profile-work.toml" "$P/.codex/work.config.toml"; then
    fail "a profile file differs from before connect"
    return 1
  fi
  detail "config.toml and work.config.toml byte-identical to before connect"
}

step_profile() {
  section "11. codex --profile work, a profile that selects its own provider"
  local why
  why=$(blocked connect disconnect)
  if [[ -n $why ]]; then
    skip_rows profile "$why" codex "anyray connect" "anyray disconnect"
    return
  fi
  seed_profile_home
  CODEX_ARGS=(--profile work)
  check codex "profile: before" codex_turn "$P" prior "$PRIOR_TEXT"
  check "anyray connect" profile profile_connect || { CODEX_ARGS=(); return; }
  check codex profile codex_turn "$P" gateway "$GW_TEXT"
  CODEX_ARGS=()
  check codex "profile: none" codex_turn "$P" gateway "$GW_TEXT"
  check "anyray disconnect" profile profile_disconnect
  CODEX_ARGS=(--profile work)
  check codex "profile: after" codex_turn "$P" prior "$PRIOR_TEXT"
  CODEX_ARGS=()
}

# --- 10. anyray run: one command through the gateway, no file touched (issue 9) -------------

# The SDKs run directly under `anyray run` (no shell rc involved), plain and streaming.
run_sdk() {
  local case=$1 mark
  shift
  mark=$(lines gateway)
  in_home "$H" 120 "${LAUNCH[@]}" "$E2E_PY" "$E2E_DIR/sdk_check.py" --case "$case" \
    --expect-text "$GW_TEXT" || { fail "an SDK turn failed under anyray run"; return 1; }
  tool requests "$W/gateway.log" --from "$mark" --case "$case" --min 6 --max 6 \
    --what "SDK requests tagged $case" "$@" || { fail "the gateway did not see the 6 SDK requests"; return 1; }
  detail "openai+anthropic, plain+stream, via anyray run"
}

# Nothing `anyray run` did changed a file of the user's.
run_left_no_trace() {
  tool compare "$W/before-run.json" "$H" --allow-new "${TOOL_STATE[@]}" \
    --allow-changed "${TOOL_STATE[@]}" --deny-new "${NEVER_LEFT[@]}" ||
    { fail "anyray run changed files (see log)"; return 1; }
  detail "every file byte-identical to before the runs"
}

step_run() {
  section "10. anyray run -- CMD: the gateway for one command, no file touched"
  local why
  why=$(blocked connect)
  if [[ -n $why ]]; then
    skip_rows run "$why" claude-code codex sdk
    return
  fi
  # The user's settings.json points Claude Code at the "prior" endpoint: make it dead, so
  # only anyray run's --settings can get an answer.
  stop prior
  tool snapshot "$H" "$W/before-run.json"
  LAUNCH=("$E2E_ANYRAY" run --via direct --gateway "${URLS[gateway]}" --)
  check claude-code run claude_turn "$H" gateway "$GW_TEXT" --lacks-header x-anyray-key
  check codex run codex_turn "$H" gateway "$GW_TEXT" --lacks-header x-anyray-key
  check sdk run run_sdk run --lacks-header x-anyray-key
  # An ephemeral relay adds the stored key (from step 6's login).
  LAUNCH=("$E2E_ANYRAY" run --relay --gateway "${URLS[gateway]}" --)
  check claude-code "run --relay" claude_turn "$H" gateway "$GW_TEXT" --header "x-anyray-key=$KEY"
  check sdk "run --relay" run_sdk run-relay --header "x-anyray-key=$KEY"
  LAUNCH=()
  check "anyray run" "no trace" run_left_no_trace
}

main() {
  echo "e2e: work dir $W"
  start_fake gateway "$GW_TEXT" || exit 1
  start_fake provider "$PROVIDER_TEXT" --no-discovery || exit 1
  start_fake prior "$PRIOR_TEXT" --no-discovery || exit 1
  echo "e2e: org gateway ${URLS[gateway]}, provider ${URLS[provider]}, prior ${URLS[prior]}"
  probe_commands
  [[ ${ANYRAY_E2E_ONLY:-} == helpers || ${ANYRAY_E2E_ONLY:-} == sso ]] || litellm_boot

  if [[ ${ANYRAY_E2E_ONLY:-} == helpers ]]; then
    step_helpers
    summary
    [[ $FAILED == 0 ]]
    return
  fi
  if [[ ${ANYRAY_E2E_ONLY:-} == sso ]]; then
    step_sso
    summary
    [[ $FAILED == 0 ]]
    return
  fi
  if [[ ${ANYRAY_E2E_ONLY:-} == gateways ]]; then
    step_gateways
    step_statusline
    summary
    [[ $FAILED == 0 ]]
    return
  fi
  if [[ " ${E2E_STEPS:-core tools} " == *" core "* ]]; then
    step_harness
    step_connect
    step_direct
    [[ -n ${PENDING[shell]:-} ]] || SHELL_OK=(tools.shell=ok)
    step_doctor healthy 0 config=ok net.tcp=ok net.http=ok gateway.discovery=ok \
      gateway.routes=ok tools.claude-code=ok tools.codex=ok "${SHELL_OK[@]}"
    step_relay
    step_failopen
    step_disconnect
    step_profile
    step_run
    step_gateways
    step_helpers
    step_sso
    step_statusline
  fi
  if [[ " ${E2E_STEPS:-core tools} " == *" tools "* ]]; then
    step_tools
  fi

  summary
  [[ $FAILED == 0 ]]
}

main "$@"
