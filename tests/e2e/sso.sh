# shellcheck shell=bash
# SSO with a real OpenID provider (issue 16), sourced by suite.sh:
#
# 15. the certified oidc-provider (run.sh's cache, tests/oidc/provider.mjs) on loopback
#     with 20-second JWT access tokens, and the fake gateway verifying them against its
#     JWKS (logging each token's subject, never the token). `anyray login --sso` is
#     approved through the provider's own pages (approve-device.mjs); after `anyray
#     connect`, real Claude Code and real Codex answer with no API key in their
#     environment or files (their helpers run `anyray token`) and the gateway sees alice's
#     valid token from each; once that token has expired they answer again (renewed);
#     after `anyray logout` they fail with a message naming `anyray login`. No token is in
#     any file, log, output or the process list.
#
# Expects suite.sh's and lib.sh's state and E2E_OIDC (the provider's dir; unset: SKIP).

SSO_TEXT="Answer from the SSO gateway (e2e)."
SSO_AUDIENCE="http://anyray-gateway.e2e"
SSO_TTL=20
S=""           # the step's HOME
SSO_ISSUER=""
SSO_TOKENS=()  # every access and refresh token seen, to look for afterwards (memory only)

# sso_session FIELD: a field of the stored session (the keyring is off in the suite).
sso_session() {
  "$E2E_PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' \
    "$S/.config/anyray/sso-session.json" "$1"
}

# remember_tokens: adds the session's current tokens to SSO_TOKENS.
remember_tokens() {
  SSO_TOKENS+=("$(sso_session access_token)" "$(sso_session refresh_token)")
}

# gateway_status TOKEN: the HTTP status of GET /v1/models at the gateway with TOKEN
# (read from stdin, never in argv).
gateway_status() {
  "$E2E_PY" -c '
import sys, urllib.request, urllib.error
token = sys.stdin.read().strip()
req = urllib.request.Request(sys.argv[1], headers={"authorization": "Bearer " + token})
try:
    print(urllib.request.urlopen(req, timeout=10).status)
except urllib.error.HTTPError as e:
    print(e.code)
' "${URLS[sso]}/v1/models" <<<"$1"
}

sso_start() {
  node "$E2E_OIDC/provider.mjs" --port 0 --audience "$SSO_AUDIENCE" --access-ttl "$SSO_TTL" \
    >"$W/oidc.out" 2>"$W/oidc.err" &
  # shellcheck disable=SC2034 # lib.sh's table: stop_all ends it
  PIDS["oidc"]=$!
  local i
  for ((i = 0; i < 200; i++)); do
    SSO_ISSUER=$(sed -n 's/^issuer //p' "$W/oidc.out")
    [[ -n $SSO_ISSUER ]] && break
    sleep 0.05
  done
  [[ -n $SSO_ISSUER ]] || { fail "the provider did not start: $(tail -n 3 "$W/oidc.err")"; return 1; }
  start_fake sso "$SSO_TEXT" --oidc-issuer "$SSO_ISSUER" --oidc-audience "$SSO_AUDIENCE" \
    --oidc-client-id anyray-cli --oidc-scopes "openid offline_access gateway" ||
    { fail "the fake gateway did not start"; return 1; }
  detail "oidc-provider at $SSO_ISSUER, gateway ${URLS[sso]} verifying its JWTs"
}

sso_login() {
  anyray "$S" config set gateway "${URLS[sso]}" || { fail "config set exited $?"; return 1; }
  client_env "$S"
  timeout --kill-after=5 90 env -i "${E2E_ENV[@]}" "$E2E_ANYRAY" login --sso \
    >"$W/sso-login.out" 2>"$W/sso-login.err" </dev/null &
  local login=$! i url=""
  for ((i = 0; i < 300; i++)); do
    url=$(sed -n 's/^(or open \([^,]*\),.*/\1/p' "$W/sso-login.err")
    [[ -n $url ]] && break
    sleep 0.1
  done
  sed 's/^/  err| /' "$W/sso-login.err"
  [[ -n $url ]] || { fail "no device screen"; return 1; }
  node "$E2E_OIDC/approve-device.mjs" "$url" --user alice || { fail "approval failed"; return 1; }
  local rc=0
  wait "$login" || rc=$?
  cat "$W/sso-login.out"
  [[ $rc == 0 ]] || { fail "anyray login --sso exited $rc: $(tail -n 2 "$W/sso-login.err")"; return 1; }
  grep -q "Signed in as alice" "$W/sso-login.out" || { fail "not signed in as alice"; return 1; }
  remember_tokens
  detail "device code approved through the provider's pages; signed in as alice"
}

sso_connect() {
  anyray "$S" connect --yes claude-code codex || { fail "anyray connect exited $?"; return 1; }
  grep -q '"apiKeyHelper"' "$S/.claude/settings.json" || { fail "no apiKeyHelper"; return 1; }
  grep -q '^auth = {.*args = \["token"\]' "$S/.codex/config.toml" ||
    { fail "no [model_providers.anyray.auth]"; return 1; }
  detail "apiKeyHelper and Codex's auth command point at anyray token"
}

# sso_turn claude|codex WHAT: the client answers (with no API key in its environment:
# E2E_NO_KEYS), and the gateway verified alice's token on its request.
sso_turn() {
  case $1 in
    claude) claude_turn "$S" sso "$SSO_TEXT" --sub alice || return 1 ;;
    codex) codex_turn "$S" sso "$SSO_TEXT" --sub alice || return 1 ;;
  esac
  remember_tokens
  detail "answered; the gateway verified alice's JWT ($2)"
}

# sso_expire: waits until the token the tools got has expired at the gateway.
sso_expire() {
  local old i status
  old=$(sso_session access_token)
  for ((i = 0; i < SSO_TTL + 10; i++)); do
    status=$(gateway_status "$old")
    [[ $status == 401 ]] && break
    sleep 1
  done
  [[ $status == 401 ]] || { fail "the access token did not expire ($status)"; return 1; }
  detail "the first access token is refused by the gateway now (401)"
}

sso_renewed() {
  local refreshes
  refreshes=$(grep -c 'grant.success: refresh_token' "$W/oidc.err")
  [[ $refreshes -ge 1 ]] || { fail "no refresh at the provider"; return 1; }
  if grep -q 'grant.revoked\|refresh token already used' "$W/oidc.err"; then
    fail "the provider revoked the grant (a refresh token was used twice)"
    return 1
  fi
  detail "$refreshes refresh(es) at the provider, the grant never revoked"
}

sso_logout() {
  anyray "$S" logout || { fail "anyray logout exited $?"; return 1; }
  grep -q "Revoked your SSO session" "$W/last.out" || { fail "not revoked"; return 1; }
  grep -q 'grant.revoked' "$W/oidc.err" || { fail "the provider did not revoke the grant"; return 1; }
  [[ ! -e $S/.config/anyray/sso-session.json ]] || { fail "the session file is still there"; return 1; }
  detail "refresh token revoked at the provider, session deleted"
}

sso_claude_after_logout() {
  (cd "$W/project" && in_home "$S" 120 "$E2E_BIN/claude" -p "Say hello." \
    --output-format json) >"$W/claude.json" 2>"$W/claude.err"
  echo "claude: $(head -c 600 "$W/claude.json")"
  cat "$W/claude.err"
  if tool claude-answer "$W/claude.json" >/dev/null 2>&1; then
    fail "Claude Code still answered"
    return 1
  fi
  grep -q 'anyray login' "$W/claude.err" "$W/claude.json" ||
    { fail "Claude Code's error does not name anyray login"; return 1; }
  detail "fails: $(grep -ho 'apiKeyHelper failed[^"]*anyray login[^`"]*' "$W/claude.err" "$W/claude.json" | head -n 1)"
}

sso_codex_after_logout() {
  local rc=0
  (cd "$W/project" && in_home "$S" 120 "$E2E_BIN/codex" exec \
    --skip-git-repo-check -c analytics.enabled=false -c features.plugins=false \
    -c features.apps=false "Say hello." >"$W/codex.out" 2>"$W/codex.err") || rc=$?
  tail -n 15 "$W/codex.err"
  [[ $rc != 0 ]] || { fail "Codex still answered"; return 1; }
  grep -q 'anyray login' "$W/codex.err" || { fail "Codex's error does not name anyray login"; return 1; }
  detail "fails (exit $rc); its log names anyray login"
}

# sso_no_token_anywhere: no token in any file under HOME or the run dir (logs, outputs,
# the clients' state), nor in the process list sampled during the turns.
sso_no_token_anywhere() {
  local token found=0
  mapfile -t SSO_TOKENS < <(printf '%s\n' "${SSO_TOKENS[@]}" | sort -u)
  local n=${#SSO_TOKENS[@]}
  [[ $n -ge 4 ]] || { fail "only $n tokens were collected"; return 1; }
  for token in "${SSO_TOKENS[@]}"; do
    [[ ${#token} -ge 20 ]] || { fail "a collected token is too short to look for"; return 1; }
    if grep -rlqF -- "$token" "$S" "$W" 2>/dev/null; then
      echo "a token was found in: $(grep -rlF -- "$token" "$S" "$W" 2>/dev/null | head -n 3)"
      found=1
    fi
  done
  [[ $found == 0 ]] || { fail "a token is in a file"; return 1; }
  detail "none of $n tokens in any file, log, output or the process list"
}

step_sso() {
  section "15. SSO with a real OpenID provider: device login, refresh, logout (issue 16)"
  if [[ -z ${E2E_OIDC:-} ]]; then
    skip_rows sso "oidc-provider is not installed (run.sh installs it)" \
      oidc-provider "anyray login" claude-code codex
    return
  fi
  S="$W/sso-home"
  seed_small "$S"
  check oidc-provider start sso_start || return
  check "anyray login" "--sso" sso_login || return
  check "anyray connect" sso sso_connect || return
  # No API key in the clients' environment (lib.sh), and the process list sampled.
  # shellcheck disable=SC2034
  E2E_NO_KEYS=1
  start_ps_sample "$W/ps-sso.txt"
  check claude-code "sso" sso_turn claude "first token"
  check codex "sso" sso_turn codex "first token"
  check "anyray token" "expiry" sso_expire
  check claude-code "sso renewed" sso_turn claude "renewed token"
  check codex "sso renewed" sso_turn codex "renewed token"
  check "anyray token" "renewal" sso_renewed
  check "anyray logout" sso sso_logout
  check claude-code "after logout" sso_claude_after_logout
  check codex "after logout" sso_codex_after_logout
  stop ps
  # shellcheck disable=SC2034
  E2E_NO_KEYS=""
  check "no token leaks" sso sso_no_token_anywhere
  stop sso
  stop oidc
}
