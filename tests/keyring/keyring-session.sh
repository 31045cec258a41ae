#!/usr/bin/env bash
# Runs COMMAND against a real Secret Service: a private D-Bus session bus and a
# gnome-keyring-daemon whose "login" collection is created and unlocked with a throwaway
# password. The keyring's files go to a throwaway HOME and XDG_DATA_HOME (never the
# developer's own keyring); XDG_CONFIG_HOME is kept, so a test can give anyray its own.
# Used by tests/it/keyring.rs and bench/token.sh.
# Needs dbus-run-session (Debian: dbus) and gnome-keyring-daemon (gnome-keyring).
#   keyring-session.sh COMMAND [ARGS...]
set -euo pipefail
if [[ -z ${DBUS_SESSION_BUS_ADDRESS:-} || -z ${ANYRAY_KEYRING_SESSION_INNER:-} ]]; then
  tmp=$(mktemp -d)
  mkdir -m 700 "$tmp/run"
  export HOME="$tmp/home" XDG_RUNTIME_DIR="$tmp/run" ANYRAY_KEYRING_SESSION_INNER=1
  export XDG_DATA_HOME="$HOME/.local/share"
  mkdir -p "$HOME"
  trap 'rm -rf "$tmp"' EXIT
  # dbus-run-session ends the bus (and the daemon it started) when COMMAND exits.
  dbus-run-session -- "$0" "$@"
  exit
fi
# Creates the login keyring (first run) and unlocks it; the daemon stays in the
# background until the bus ends. Its harmless chatter (fd limits) goes to /dev/null.
eval "$(printf 'anyray-test-keyring' | gnome-keyring-daemon --unlock --components=secrets 2>/dev/null)"
export GNOME_KEYRING_CONTROL
exec "$@"
