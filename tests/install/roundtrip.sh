#!/usr/bin/env bash
# install.sh round trip in a temp HOME: install from source, check every file, run the
# installed binary, reinstall (idempotent), uninstall, and check nothing is left. Then
# the same from a release archive with a checksum, and a corrupted archive is refused.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo="$PWD"

shellcheck install.sh

# rustup and cargo find their homes through HOME, which the test is about to replace.
export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}" CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export HOME="$work/home"
mkdir -p "$HOME"
unset XDG_BIN_HOME XDG_DATA_HOME XDG_CONFIG_HOME XDG_STATE_HOME ZDOTDIR
# Keep cargo's target dir (and its cache) where the rest of CI builds.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"

fail() { echo "FAIL: $*" >&2; exit 1; }

expected_files() {
    echo "$HOME/.local/bin/anyray"
    echo "$HOME/.local/share/bash-completion/completions/anyray"
    echo "$HOME/.local/share/zsh/site-functions/_anyray"
    echo "$HOME/.config/fish/completions/anyray.fish"
    for page in man/*.1; do echo "$HOME/.local/share/man/man1/$(basename "$page")"; done
}

check_installed() {
    while read -r f; do [ -f "$f" ] || fail "missing $f"; done < <(expected_files)
    [ -x "$HOME/.local/bin/anyray" ] || fail "binary not executable"
    "$HOME/.local/bin/anyray" --version | grep -q '^anyray ' || fail "installed anyray --version"
    grep -qF 'added by anyray install.sh' "$HOME/.profile" || fail "PATH line not added to ~/.profile"
}

check_gone() {
    while read -r f; do [ ! -e "$f" ] || fail "left behind: $f"; done < <(expected_files)
    ! grep -qF 'added by anyray install.sh' "$HOME/.profile" 2>/dev/null || fail "PATH line left in ~/.profile"
    [ ! -e "$HOME/.local/state/anyray/install-receipt" ] || fail "receipt left behind"
}

echo "--- from source"
printf 'alias ll="ls -l"\n' >"$HOME/.bashrc"
cp "$HOME/.bashrc" "$work/bashrc.orig"
./install.sh -y </dev/null
check_installed
./install.sh -y </dev/null   # idempotent
check_installed
[ "$(grep -cF 'added by anyray install.sh' "$HOME/.profile")" = 1 ] || fail "PATH line added twice"
./install.sh --uninstall -y </dev/null
check_gone
cmp -s "$HOME/.bashrc" "$work/bashrc.orig" || fail ".bashrc not restored"

echo "--- from a release archive"
pkg="$work/anyray-test"
mkdir -p "$pkg"
cp "$CARGO_TARGET_DIR/release/anyray" "$pkg/"
cp -R completions man "$pkg/"
tar -czf "$work/anyray.tar.gz" -C "$work" anyray-test
(cd "$work" && sha256sum anyray.tar.gz >anyray.tar.gz.sha256)
ANYRAY_NO_MODIFY_PATH=1 ./install.sh --archive "$work/anyray.tar.gz" -y </dev/null
for f in "$HOME/.local/bin/anyray" "$HOME/.local/share/man/man1/anyray.1"; do [ -f "$f" ] || fail "missing $f"; done
[ ! -e "$HOME/.profile" ] || ! grep -qF 'added by anyray' "$HOME/.profile" || fail "modified PATH despite ANYRAY_NO_MODIFY_PATH"
./install.sh --uninstall -y </dev/null
[ ! -e "$HOME/.local/bin/anyray" ] || fail "archive install not uninstalled"

echo "--- a corrupted archive is refused"
printf 'x' >>"$work/anyray.tar.gz"
if ./install.sh --archive "$work/anyray.tar.gz" -y </dev/null 2>"$work/err"; then fail "corrupted archive accepted"; fi
grep -q 'checksum mismatch' "$work/err" || fail "no checksum message: $(cat "$work/err")"
[ ! -e "$HOME/.local/bin/anyray" ] || fail "installed from a corrupted archive"

echo "install.sh round trip: 3 passed, 0 failed"
