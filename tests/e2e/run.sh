#!/usr/bin/env bash
# End-to-end suite with the real clients (issue 7): Claude Code, Codex CLI, the openai
# and anthropic Python SDKs, bash, zsh and fish, configured only by `anyray connect`,
# against the fake org gateway on loopback. Usage: bash tests/e2e/run.sh
#
#  1. installs the pinned clients into a cache unless they are there already: npm
#     packages from package.json + package-lock.json, the SDKs into a venv from
#     requirements.txt, a real LiteLLM proxy into a venv from litellm/requirements.txt
#     (bash, zsh and fish come from .ci/install-deps.sh);
#  2. builds anyray and the fake gateway (debug: `cargo test` has built them already);
#  3. runs suite.sh in a private network namespace that has only loopback, so no client
#     can reach anything but the fakes. Where namespaces are not allowed it runs on the
#     host network with every proxy variable unset, and says so.
#
# Env: ANYRAY_E2E_CACHE (default ~/.cache/anyray-e2e) holds the installs;
# ANYRAY_E2E_KEEP=1 keeps the run's temp dir (HOME, logs) for a look afterwards;
# ANYRAY_E2E_ANYRAY=PATH tests that anyray binary (say, a release build) instead;
# ANYRAY_E2E_STEPS picks the parts to run: `core` (steps 1-11: Claude Code, Codex, the
# SDKs, the shells), `tools` (step 12: the other AI tools, tools.sh), default both;
# ANYRAY_E2E_TOOLS narrows step 12 to some tools (e.g. "opencode aider").
# ANYRAY_E2E_ONLY=gateways runs only the LiteLLM and header-routing steps (gateways.sh)
# and the status-line step (statusline.sh); ANYRAY_E2E_ONLY=helpers only the
# credential-helper step (helpers.sh); ANYRAY_E2E_ONLY=sso only the SSO step (sso.sh).
set -euo pipefail

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$E2E_DIR/../.." && pwd)
CACHE=${ANYRAY_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/anyray-e2e}

say() { printf 'e2e: %s\n' "$*"; }

need() {
  command -v "$1" >/dev/null 2>&1 || {
    say "needs $1 ($2)" >&2
    exit 2
  }
}

# key FILE...: a short content hash, so a change to the pins installs afresh.
key() { cat "$@" | sha256sum | cut -c1-16; }

# npm_dir NAME SRC CMD...: installs SRC/package.json + package-lock.json with CMD (npm ci
# or install) into the cache dir "NAME-<hash of both>", unless done; sets DIR. Installs go
# to a new dir, marked complete only at the end.
npm_dir() {
  local name=$1 src=$2
  shift 2
  DIR="$CACHE/$name-$(key "$src/package.json" "$src/package-lock.json")"
  if [[ ! -f $DIR/.complete ]]; then
    say "installing $src/package.json into $DIR"
    rm -rf "$DIR"
    mkdir -p "$DIR"
    cp "$src/package.json" "$src/package-lock.json" "$DIR/"
    (cd "$DIR" && timeout 900 "$@" --no-audit --no-fund --loglevel=error)
    touch "$DIR/.complete"
  fi
}

# venv_dir NAME REQUIREMENTS: a venv with REQUIREMENTS in the cache dir "NAME-<hash of
# this python and the file>", unless done; sets DIR.
venv_dir() {
  local interp
  interp=$(python3 -c 'import sys; print(sys.executable, sys.version)')
  DIR="$CACHE/$1-$(key <(echo "$interp") "$2")"
  if [[ ! -f $DIR/.complete ]]; then
    say "installing $2 into $DIR"
    rm -rf "$DIR"
    python3 -m venv "$DIR"
    timeout 900 "$DIR/bin/python" -m pip install --quiet --no-input -r "$2"
    touch "$DIR/.complete"
  fi
}

# Claude Code and Codex ship their native binaries inside the npm packages, so `npm ci`
# downloads nothing else.
install_clients() {
  npm_dir npm "$E2E_DIR" npm ci
  E2E_BIN="$DIR/node_modules/.bin"
  say "$("$E2E_BIN/claude" --version), codex $("$E2E_BIN/codex" --version 2>/dev/null | awk '{print $2}')"
}

install_sdks() {
  venv_dir venv "$E2E_DIR/requirements.txt"
  E2E_PY="$DIR/bin/python"
  say "$("$E2E_PY" -c 'import openai, anthropic; print(f"openai {openai.__version__}, anthropic {anthropic.__version__}")')"
}

# The other AI coding tools (step 12, tools.sh): npm packages from tools/package.json
# (opencode, Continue, Gemini CLI, droid, Qwen Code, Copilot CLI), aider in a
# venv of its own (its pinned dependencies are many). `npm install` on the lock rather
# than `npm ci`: the lock cannot list the other platforms' optional binaries
# (opencode-darwin-*, …) where a registry mirror lacks them, and `npm ci` refuses a lock
# without them; the versions still come from it.
install_tools() {
  npm_dir tools-npm "$E2E_DIR/tools" npm install --no-save
  E2E_TOOLS="$DIR/node_modules"
  if [[ -n ${ANYRAY_E2E_TOOLS:-} && " ${ANYRAY_E2E_TOOLS//,/ } " != *" aider "* ]]; then
    return
  fi
  venv_dir aider "$E2E_DIR/tools/requirements.txt"
  E2E_AIDER="$DIR/bin/aider"
}

# A real LiteLLM proxy (issue 15), pinned with its whole closure, in a venv of its own.
install_litellm() {
  local interp dir
  interp=$(python3 -c 'import sys; print(sys.executable, sys.version)')
  dir="$CACHE/litellm-$(key <(echo "$interp") "$E2E_DIR/litellm/requirements.txt")"
  if [[ ! -f $dir/.complete ]]; then
    say "installing LiteLLM into $dir (about 2 minutes)"
    rm -rf "$dir"
    python3 -m venv "$dir"
    timeout 900 "$dir/bin/python" -m pip install --quiet --no-input \
      -r "$E2E_DIR/litellm/requirements.txt"
    touch "$dir/.complete"
  fi
  E2E_LITELLM="$dir/bin/litellm"
  say "LiteLLM $("$dir/bin/python" -c 'import importlib.metadata as m; print(m.version("litellm"))')"
}

# The certified OpenID provider the SSO steps sign in at (sso.sh), pinned by
# tests/oidc/package-lock.json; its scripts are copied next to its node_modules.
install_oidc() {
  npm_dir oidc "$REPO/tests/oidc" npm ci
  cp "$REPO/tests/oidc/provider.mjs" "$REPO/tests/oidc/approve-device.mjs" "$DIR/"
  E2E_OIDC=$DIR
  say "oidc-provider $(node -p "require('$DIR/node_modules/oidc-provider/package.json').version")"
}

build() {
  say "building anyray and the fake gateway"
  (cd "$REPO" && cargo build --locked --quiet --bin anyray --bin fake_gateway)
  local target
  target=$(cd "$REPO" && cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
  E2E_ANYRAY="${ANYRAY_E2E_ANYRAY:-$target/debug/anyray}"
  E2E_FAKE="$target/debug/fake_gateway"
  [[ -z ${ANYRAY_E2E_ANYRAY:-} ]] || say "testing the anyray binary $E2E_ANYRAY"
}

# Runs suite.sh with nothing but loopback to talk to.
run_suite() {
  export E2E_PY E2E_BIN E2E_ANYRAY E2E_FAKE E2E_TOOLS E2E_AIDER E2E_STEPS E2E_LITELLM E2E_OIDC
  export ANYRAY_E2E_TOOLS=${ANYRAY_E2E_TOOLS:-}
  unset HTTPS_PROXY https_proxy HTTP_PROXY http_proxy ALL_PROXY all_proxy
  export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
  local isolate
  # shellcheck disable=SC2016 # $1 is expanded by the inner bash
  local inner='ip link set lo up && exec bash "$1"'
  for isolate in "unshare --net" "unshare --net --map-root-user"; do
    if command -v ip >/dev/null && $isolate -- ip link set lo up 2>/dev/null; then
      say "running in a private network namespace ($isolate): only loopback exists"
      $isolate -- bash -c "$inner" suite "$E2E_DIR/suite.sh"
      return
    fi
  done
  say "no private network namespace here; running on the host network with proxies unset"
  bash "$E2E_DIR/suite.sh"
}

main() {
  need npm "Node.js and npm, for Claude Code and Codex CLI"
  need python3 "for the SDKs and the suite's helpers"
  need cargo "to build anyray"
  need bash "a shell under test"
  need zsh "a shell under test: bash .ci/install-deps.sh"
  need fish "a shell under test: bash .ci/install-deps.sh"
  mkdir -p "$CACHE"
  # Two runs sharing a cache (say, a developer's and CI's) must not install at once.
  exec 9>"$CACHE/.lock"
  flock -w 900 9 || {
    say "the cache $CACHE stayed locked for 15 minutes" >&2
    exit 2
  }
  E2E_STEPS=${ANYRAY_E2E_STEPS:-core tools}
  E2E_TOOLS="" E2E_AIDER=""
  install_clients
  install_sdks
  if [[ " $E2E_STEPS " == *" tools "* ]]; then install_tools; fi
  install_litellm
  install_oidc
  exec 9>&-
  build
  run_suite
}

main "$@"
