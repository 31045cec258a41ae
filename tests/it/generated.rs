//! The committed completions and man pages match the clap definitions, and real shells
//! and mandoc accept them.

use std::path::Path;
use std::process::Command;

use anyray::commands::generate::{REGENERATE, render_all};

use crate::needs;

fn repo(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

#[test]
fn committed_completions_and_man_pages_are_fresh() {
    let mut stale = Vec::new();
    for (rel, expected) in render_all() {
        let committed = std::fs::read(repo(rel.to_str().unwrap())).unwrap_or_default();
        if committed != expected {
            stale.push(rel.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "stale generated files: {}\nregenerate them with:\n    {REGENERATE}\nand commit the result",
        stale.join(", ")
    );
}

fn run_in(shell: &Path, script: &str, home: &Path) -> String {
    let out = Command::new(shell)
        .arg("-c")
        .arg(script)
        .env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TERM", "dumb")
        .current_dir(repo(""))
        .output()
        .expect("run shell");
    assert!(
        out.status.success(),
        "{} failed:\n{}",
        shell.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn bash_loads_the_completions() {
    let Some(bash) = needs::program("bash") else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let out = run_in(
        &bash,
        "source completions/anyray.bash && complete -p anyray",
        home.path(),
    );
    assert!(
        out.contains("-F _anyray") && out.trim_end().ends_with("anyray"),
        "{out}"
    );
    // Target names and doctor check ids are offered as values.
    let script = "source completions/anyray.bash; COMP_WORDS=(anyray connect cl); COMP_CWORD=2; _anyray anyray cl connect; printf '%s\\n' \"${COMPREPLY[@]}\"";
    assert!(
        run_in(&bash, script, home.path())
            .lines()
            .any(|l| l == "claude-code")
    );
    let script = "source completions/anyray.bash; COMP_WORDS=(anyray doctor --only net.t); COMP_CWORD=3; _anyray anyray net.t --only; printf '%s\\n' \"${COMPREPLY[@]}\"";
    let ids = run_in(&bash, script, home.path());
    assert!(
        ids.lines().any(|l| l == "net.tcp") && ids.lines().any(|l| l == "net.tls"),
        "{ids}"
    );
}

#[test]
fn zsh_loads_the_completions() {
    let Some(zsh) = needs::program("zsh") else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let script = "fpath=($PWD/completions $fpath); autoload -Uz compinit; compinit -u -d \"$HOME/.zcompdump\"; \
                  print -r -- \"comp=$_comps[anyray]\"; autoload +X _anyray && print -r -- \"defined=$+functions[_anyray]\"";
    let out = run_in(&zsh, script, home.path());
    assert!(
        out.contains("comp=_anyray") && out.contains("defined=1"),
        "{out}"
    );
}

#[test]
fn fish_loads_the_completions() {
    let Some(fish) = needs::program("fish") else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let out = run_in(
        &fish,
        "source completions/anyray.fish; complete -C 'anyray con'",
        home.path(),
    );
    assert!(out.lines().any(|l| l.starts_with("connect")), "{out}");
    let out = run_in(
        &fish,
        "source completions/anyray.fish; complete -C 'anyray connect cl'",
        home.path(),
    );
    assert!(out.lines().any(|l| l.starts_with("claude-code")), "{out}");
}

#[test]
fn man_pages_pass_mandoc_lint() {
    let Some(mandoc) = needs::program("mandoc") else {
        return;
    };
    for (rel, _) in man_pages() {
        let out = Command::new(&mandoc)
            .args(["-Tlint", "-W", "warning"])
            .arg(repo(rel.to_str().unwrap()))
            .output()
            .unwrap();
        let report = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(report.trim().is_empty(), "{}: {report}", rel.display());
    }
}

#[test]
fn man_pages_have_the_required_sections() {
    for (rel, bytes) in man_pages() {
        let text = String::from_utf8(bytes).unwrap();
        for section in [
            ".SH EXAMPLES",
            ".SH FILES",
            ".SH ENVIRONMENT",
            ".SH \"EXIT STATUS\"",
        ] {
            assert!(text.contains(section), "{} lacks {section}", rel.display());
        }
    }
}

/// The generated man pages, one per command at least.
fn man_pages() -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let pages: Vec<_> = render_all()
        .into_iter()
        .filter(|(rel, _)| rel.starts_with("man"))
        .collect();
    assert!(pages.len() >= 12, "one page per command: {}", pages.len());
    pages
}
