#!/bin/sh
# install.sh: install anyray, its shell completions and man pages for the current user.
#
#   ./install.sh                  build from this source checkout (cargo --locked) and install
#   ./install.sh --archive FILE   install from a release archive (FILE.sha256 must sit beside it)
#   ./install.sh --uninstall      remove exactly what a previous run installed
#
# Everything runs inside main() so that a truncated download never runs half a script.
set -u

usage() {
    cat <<'USAGE'
Usage: install.sh [OPTIONS]

Options:
  --bin-dir DIR      install the binary here (default: $XDG_BIN_HOME or ~/.local/bin)
  --archive FILE     install from a release archive; FILE.sha256 must be beside it
  --uninstall        remove everything a previous install put in place
  --no-modify-path   never add the bin dir to PATH in shell rc files
                     (also: ANYRAY_NO_MODIFY_PATH=1)
  -y, --yes          do not prompt
  -h, --help         show this help
USAGE
}

say() { printf 'anyray-install: %s\n' "$*"; }
warn() { printf 'anyray-install: warning: %s\n' "$*" >&2; }
err() { printf 'anyray-install: error: %s\n' "$*" >&2; exit 1; }
need_cmd() { command -v "$1" >/dev/null 2>&1 || err "need '$1' (command not found)"; }
ensure() { "$@" || err "command failed: $*"; }

# Asks a yes/no question on the terminal (not stdin, which may be the script itself).
confirm() {
    [ "$YES" = 1 ] && return 0
    if ! { : </dev/tty; } 2>/dev/null; then
        err "cannot prompt without a terminal; rerun with -y to accept the defaults"
    fi
    printf '%s [Y/n] ' "$1" >/dev/tty
    read -r answer </dev/tty || answer=n
    case "$answer" in ""|y|Y|yes|YES) return 0 ;; *) return 1 ;; esac
}

PATH_MARK="# added by anyray install.sh"

main() {
    YES=0
    UNINSTALL=0
    ARCHIVE=""
    BIN_DIR="${XDG_BIN_HOME:-$HOME/.local/bin}"
    MODIFY_PATH=1
    case "${ANYRAY_NO_MODIFY_PATH:-}" in ""|0|false|no) ;; *) MODIFY_PATH=0 ;; esac

    while [ $# -gt 0 ]; do
        case "$1" in
            --bin-dir) [ $# -ge 2 ] || err "--bin-dir needs a directory"; BIN_DIR="$2"; shift ;;
            --bin-dir=*) BIN_DIR="${1#--bin-dir=}" ;;
            --archive) [ $# -ge 2 ] || err "--archive needs a file"; ARCHIVE="$2"; shift ;;
            --archive=*) ARCHIVE="${1#--archive=}" ;;
            --uninstall) UNINSTALL=1 ;;
            --no-modify-path) MODIFY_PATH=0 ;;
            -y|--yes) YES=1 ;;
            -h|--help) usage; return 0 ;;
            *) usage >&2; err "unknown option: $1" ;;
        esac
        shift
    done

    [ -n "${HOME:-}" ] || err "HOME is not set"
    DATA_HOME="${XDG_DATA_HOME:-$HOME/.local/share}"
    CONFIG_HOME="${XDG_CONFIG_HOME:-$HOME/.config}"
    STATE_DIR="${XDG_STATE_HOME:-$HOME/.local/state}/anyray"
    RECEIPT="$STATE_DIR/install-receipt"

    if [ "$UNINSTALL" = 1 ]; then
        uninstall
        return
    fi

    need_cmd mkdir
    need_cmd cp
    need_cmd mktemp
    STAGE="$(mktemp -d "${TMPDIR:-/tmp}/anyray-install.XXXXXX")" || err "cannot create a temp dir"
    trap 'rm -rf "$STAGE"' EXIT INT TERM

    if [ -n "$ARCHIVE" ]; then
        stage_archive "$ARCHIVE"
    else
        stage_source
    fi

    confirm "Install anyray to $BIN_DIR (completions and man pages under $DATA_HOME)?" || err "cancelled"
    install_files
    maybe_modify_path
    warn_if_shadowed
    say "installed anyray $("$BIN_DIR/anyray" --version 2>/dev/null | sed 's/^anyray //')"
    say "next step: anyray connect --gateway https://YOUR-GATEWAY:8787   (or: anyray connect --dry-run)"
}

# Builds a release binary from the checkout this script sits in.
stage_source() {
    src="$(cd "$(dirname "$0")" && pwd)" || err "cannot find the source dir"
    if ! grep -qs '^name = "anyray"' "$src/Cargo.toml"; then
        err "not in an anyray source checkout; use --archive FILE for a release archive"
    fi
    need_cmd cargo
    say "building anyray (cargo build --release --locked)"
    ensure cargo build --release --locked --manifest-path "$src/Cargo.toml"
    target="${CARGO_TARGET_DIR:-$src/target}"
    ensure cp "$target/release/anyray" "$STAGE/anyray"
    ensure cp -R "$src/completions" "$STAGE/completions"
    ensure cp -R "$src/man" "$STAGE/man"
}

# Verifies FILE against FILE.sha256, then unpacks it.
stage_archive() {
    archive="$1"
    [ -f "$archive" ] || err "no such archive: $archive"
    [ -f "$archive.sha256" ] || err "missing checksum file $archive.sha256"
    expected="$(awk '{print $1; exit}' "$archive.sha256")"
    if command -v sha256sum >/dev/null 2>&1; then
        actual="$(sha256sum "$archive" | awk '{print $1}')"
    elif command -v shasum >/dev/null 2>&1; then
        actual="$(shasum -a 256 "$archive" | awk '{print $1}')"
    else
        err "need sha256sum or shasum to verify the archive"
    fi
    [ "$expected" = "$actual" ] || err "checksum mismatch for $archive (expected $expected, got $actual); download it again"
    say "checksum ok"
    need_cmd tar
    ensure mkdir -p "$STAGE/unpack"
    ensure tar -xzf "$archive" -C "$STAGE/unpack"
    bin="$(find "$STAGE/unpack" -type f -name anyray | head -n 1)"
    [ -n "$bin" ] || err "the archive has no anyray binary"
    root="$(dirname "$bin")"
    ensure cp "$bin" "$STAGE/anyray"
    ensure cp -R "$root/completions" "$STAGE/completions"
    ensure cp -R "$root/man" "$STAGE/man"
}

# Copies one staged file into place (via a temp name, then rename) and records it.
put() {
    src="$1"; dest="$2"; mode="$3"
    ensure mkdir -p "$(dirname "$dest")"
    ensure cp "$src" "$dest.anyray-new"
    ensure chmod "$mode" "$dest.anyray-new"
    ensure mv -f "$dest.anyray-new" "$dest"
    printf 'file %s\n' "$dest" >>"$RECEIPT.new"
}

install_files() {
    ensure mkdir -p "$STATE_DIR"
    : >"$RECEIPT.new"
    # Keep the PATH edits a previous run made: uninstall must still undo them.
    [ -f "$RECEIPT" ] && grep '^path ' "$RECEIPT" >>"$RECEIPT.new"
    put "$STAGE/anyray" "$BIN_DIR/anyray" 755
    put "$STAGE/completions/anyray.bash" "$DATA_HOME/bash-completion/completions/anyray" 644
    put "$STAGE/completions/_anyray" "$DATA_HOME/zsh/site-functions/_anyray" 644
    put "$STAGE/completions/anyray.fish" "$CONFIG_HOME/fish/completions/anyray.fish" 644
    for page in "$STAGE"/man/*.1; do
        put "$page" "$DATA_HOME/man/man1/$(basename "$page")" 644
    done
    ensure mv -f "$RECEIPT.new" "$RECEIPT"
    if command -v zsh >/dev/null 2>&1 \
        && ! zsh -c 'print -l -- $fpath' 2>/dev/null | grep -qx "$DATA_HOME/zsh/site-functions"; then
        say "for zsh completions, add this to ~/.zshrc before compinit:"
        say "    fpath=(\"$DATA_HOME/zsh/site-functions\" \$fpath)"
    fi
}

on_path() {
    case ":${PATH:-}:" in *":$1:"*) return 0 ;; *) return 1 ;; esac
}

maybe_modify_path() {
    on_path "$BIN_DIR" && return 0
    if [ "$MODIFY_PATH" = 0 ]; then
        say "$BIN_DIR is not on PATH; add it yourself (--no-modify-path)"
        return 0
    fi
    line="export PATH=\"$BIN_DIR:\$PATH\" $PATH_MARK"
    for rc in "$HOME/.profile" "$HOME/.bashrc" "${ZDOTDIR:-$HOME}/.zshenv"; do
        case "$rc" in "$HOME/.profile") ;; *) [ -f "$rc" ] || continue ;; esac
        grep -qF "$line" "$rc" 2>/dev/null && continue
        # Start on a new line if the file does not end with one.
        if [ -s "$rc" ] && [ -n "$(tail -c 1 "$rc")" ]; then printf '\n' >>"$rc"; fi
        printf '%s\n' "$line" >>"$rc" || err "cannot write $rc"
        printf 'path %s\n' "$rc" >>"$RECEIPT"
        say "added $BIN_DIR to PATH in $rc"
    done
    say "restart your shell (or run: export PATH=\"$BIN_DIR:\$PATH\") to use anyray"
}

warn_if_shadowed() {
    found="$(command -v anyray 2>/dev/null || true)"
    if [ -n "$found" ] && [ "$found" != "$BIN_DIR/anyray" ]; then
        warn "another anyray at $found comes first on PATH and shadows $BIN_DIR/anyray"
    fi
}

uninstall() {
    [ -f "$RECEIPT" ] || { say "nothing to uninstall (no receipt at $RECEIPT)"; return 0; }
    confirm "Remove anyray and everything install.sh put in place?" || err "cancelled"
    while IFS= read -r entry; do
        case "$entry" in
            "file "*) rm -f "${entry#file }" && say "removed ${entry#file }" ;;
            "path "*)
                rc="${entry#path }"
                [ -f "$rc" ] || continue
                tmp="$rc.anyray-tmp"
                grep -vF "$PATH_MARK" "$rc" >"$tmp"
                cat "$tmp" >"$rc" && rm -f "$tmp"
                say "removed the PATH line from $rc"
                ;;
        esac
    done <"$RECEIPT"
    rm -f "$RECEIPT"
    rmdir "$STATE_DIR" 2>/dev/null || true
    say "anyray is uninstalled"
}

main "$@" || exit 1
