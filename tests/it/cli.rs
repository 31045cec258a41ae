//! The command surface: help, version, usage errors and exit codes.

use crate::common;

use common::TestEnv;

#[test]
fn top_level_help() {
    let env = TestEnv::new();
    let out = env.run(["--help"]);
    out.ok();
    insta::assert_snapshot!(out.stdout);
}

#[test]
fn every_command_has_help() {
    let env = TestEnv::new();
    for cmd in [
        "connect",
        "disconnect",
        "status",
        "env",
        "doctor",
        "gateway",
        "run",
        "login",
        "logout",
        "token",
        "usage",
        "statusline",
        "config",
        "completions",
    ] {
        let out = env.run([cmd, "--help"]);
        out.ok();
        insta::assert_snapshot!(format!("help_{cmd}"), out.stdout);
    }
    for sub in ["path", "get", "set", "unset"] {
        let out = env.run(["config", sub, "--help"]);
        out.ok();
        insta::assert_snapshot!(format!("help_config_{sub}"), out.stdout);
    }
}

#[test]
fn version() {
    let env = TestEnv::new();
    let out = env.run(["--version"]);
    out.ok();
    assert_eq!(
        out.stdout,
        format!("anyray {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn usage_errors_exit_2() {
    let env = TestEnv::new();
    let out = env.run(["connect", "--no-such-flag"]);
    out.code(2);
    assert!(out.stderr.contains("--no-such-flag"), "{}", out.stderr);
    let out = env.run(["frobnicate"]);
    out.code(2);
}

#[test]
fn usage_errors_are_json_in_json_mode() {
    let env = TestEnv::new();
    let out = env.run(["--json", "connect", "--no-such-flag"]);
    out.code(2);
    let doc = out.json();
    assert_eq!(doc["error"]["code"], 2);
    assert!(
        doc["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--no-such-flag")
    );
}

#[test]
fn completions_print_a_script_for_each_shell() {
    let env = TestEnv::new();
    for (shell, needle) in [
        ("bash", "complete -F _anyray"),
        ("zsh", "#compdef anyray"),
        ("fish", "complete -c anyray"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer[anyray]"),
    ] {
        let out = env.run(["completions", shell]);
        out.ok();
        assert!(
            out.stdout.contains(needle),
            "{shell}: {}",
            &out.stdout[..200.min(out.stdout.len())]
        );
        if matches!(shell, "bash" | "zsh" | "fish") {
            // PowerShell and elvish scripts complete flags and subcommands only.
            assert!(
                out.stdout.contains("claude-code"),
                "{shell} completes target names"
            );
        }
    }
}
