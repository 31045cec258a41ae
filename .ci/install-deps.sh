#!/usr/bin/env bash
# Installs the Debian packages the test suites use (real shells, linters), only
# when missing, so a warm machine spends no time here.
set -euo pipefail

packages=()
want() { command -v "$1" >/dev/null 2>&1 || packages+=("$2"); }
want zsh zsh
want fish fish
want shellcheck shellcheck
want mandoc mandoc
want curl curl
want man man-db
# A real Secret Service for the keyring test (tests/it/keyring.rs): a private D-Bus
# session bus, gnome-keyring in it, and secret-tool to look at what anyray stored.
want dbus-run-session dbus
want gnome-keyring-daemon gnome-keyring
want secret-tool libsecret-tools
# PyYAML, the parser aider reads .aider.conf.yml with (tests/it/connect_yaml.rs). Debian's
# package goes with /usr/bin/python3, which the test falls back to.
if ! python3 -c 'import yaml' >/dev/null 2>&1 && ! /usr/bin/python3 -c 'import yaml' >/dev/null 2>&1; then
  packages+=(python3-yaml)
fi

# jsonschema, to check a written crush.json against Crush's own schema
# (tests/schemas/crush.schema.json, tests/it/connect_tools.rs).
if ! python3 -c 'import jsonschema' >/dev/null 2>&1 && ! /usr/bin/python3 -c 'import jsonschema' >/dev/null 2>&1; then
  packages+=(python3-jsonschema)
fi

if [ "${#packages[@]}" -gt 0 ]; then
  echo "installing: ${packages[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi
echo "bash $(bash --version | head -1 | awk '{print $4}'), zsh $(zsh --version | awk '{print $2}'), fish $(fish --version | awk '{print $3}'), shellcheck $(shellcheck --version | awk '/^version/ {print $2}')"

# The tools' own parsers, pinned by the lock file: VS Code's JSONC parser, for the check
# that Cursor/Windsurf settings written by `connect` parse in the editor
# (tests/it/connect_vscode.rs), and the `yaml` package Continue reads config.yaml with
# (tests/it/connect_yaml.rs).
jsonc_dir="$(cd "$(dirname "$0")/.." && pwd)/tests/jsonc"
if [ ! -d "$jsonc_dir/node_modules/jsonc-parser" ] || [ ! -d "$jsonc_dir/node_modules/yaml" ]; then
  npm ci --prefix "$jsonc_dir" --no-audit --no-fund --loglevel=error
fi
# The certified OpenID provider the SSO tests sign in at (tests/it/sso.rs), pinned.
oidc_dir="$(cd "$(dirname "$0")/.." && pwd)/tests/oidc"
if [ ! -d "$oidc_dir/node_modules/oidc-provider" ]; then
  npm ci --prefix "$oidc_dir" --no-audit --no-fund --loglevel=error
fi
version() { node -p "require('$jsonc_dir/node_modules/$1/package.json').version"; }
echo "node $(node --version), jsonc-parser $(version jsonc-parser), yaml $(version yaml), oidc-provider $(node -p "require('$oidc_dir/node_modules/oidc-provider/package.json').version")"
pyyaml() { "$1" -c 'import yaml; print(yaml.__version__)' 2>/dev/null; }
echo "PyYAML $(pyyaml python3 || pyyaml /usr/bin/python3)"
