//! Random sequences of what happens to a connected file, run with the real binary:
//! `connect` to one of three gateways, directly or through the relay, with the gateway
//! taking the key in a header or as the tools' key (credential helpers); the user (or the
//! tool itself) editing keys anyray does not manage; `disconnect`. After the last
//! `disconnect` the file is the original with the user's edits applied, byte for byte,
//! for Claude Code's settings.json, Codex's config.toml and `~/.bashrc` (issue 13).
//!
//! The expected file is the original with the same edits made by the same
//! format-preserving editor, so any difference is anyray's. Where the format does not
//! allow byte equality, the test says so and compares less:
//! - a key the user adds *inside* a container anyray created (`env.FOO` while `env`
//!   holds only anyray's URL) stays where anyray put that container rather than where a
//!   fresh one would go: the JSON values are compared;
//! - in a Codex config anyray created (or connected while it was empty), a table the
//!   user adds keeps the blank line that set it apart from anyray's table (TOML editors
//!   give a new table a blank line only when something is above it): the lines are
//!   compared without blank ones;
//! - an rc file that did not end in a newline when anyray connected gets a separating
//!   newline before anyray's line, taken away again on disconnect; if the user deleted
//!   the lines around it meanwhile, whose newline ends the file is not knowable, so the
//!   file is compared without its final newlines;
//! - an rc file anyray created that the user's edits leave exactly as anyray wrote it
//!   (a line added, then removed) is anyray's to delete on disconnect: for rc files an
//!   empty file and no file are the same.
//!
//! Case counts are CI-sized (each case runs the binary a handful of times).

use crate::common;

use anyray::connect::Format;
use anyray::edit::{Editor, KeyPath};
use common::TestEnv;
use proptest::prelude::*;

/// Closed loopback ports: discovery fails at once (and never leaves the machine).
const GATEWAYS: [&str; 3] = [
    "http://127.0.0.1:9",
    "http://127.0.0.1:10",
    "http://127.0.0.1:11",
];

#[derive(Debug, Clone)]
enum Step {
    Connect {
        gateway: usize,
        relay: bool,
    },
    /// Sets (`Some`) or removes (`None`) the user key `key` (an index into the case's keys).
    Edit {
        key: usize,
        value: Option<String>,
    },
    Disconnect,
    /// The gateway's `auth.scheme` becomes `key` (the tools run `anyray token` through a
    /// credential helper when connected directly) or `header`.
    Scheme {
        key: bool,
    },
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    let step = prop_oneof![
        3 => (0..GATEWAYS.len(), any::<bool>())
            .prop_map(|(gateway, relay)| Step::Connect { gateway, relay }),
        3 => (0..4usize, prop::option::weighted(0.8, "[a-z0-9 ._/-]{0,10}"))
            .prop_map(|(key, value)| Step::Edit { key, value }),
        1 => Just(Step::Disconnect),
        1 => any::<bool>().prop_map(|key| Step::Scheme { key }),
    ];
    prop::collection::vec(step, 1..7)
}

/// A file under test: the target, where it lives, how it is edited.
struct Case {
    target: &'static str,
    rel: &'static str,
    /// The user's keys (for rc files: the lines the user appends).
    keys: [&'static str; 4],
    /// Keys inside a container anyray may create (see the module docs).
    inside_managed: &'static [usize],
    format: Format,
}

const CLAUDE: Case = Case {
    target: "claude-code",
    rel: ".claude/settings.json",
    keys: ["model", "theme", "permissions.defaultMode", "env.FOO"],
    inside_managed: &[3],
    format: Format::Json,
};

const CODEX: Case = Case {
    target: "codex",
    rel: ".codex/config.toml",
    keys: [
        "model",
        "approval_policy",
        "mcp_servers.docs.command",
        "tools.note",
    ],
    inside_managed: &[],
    format: Format::Toml,
};

const BASHRC: Case = Case {
    target: "shell",
    rel: ".bashrc",
    keys: [
        "export EDITOR=vim",
        "alias ll='ls -l'",
        "PATH=\"$HOME/bin:$PATH\"",
        "set -o vi",
    ],
    inside_managed: &[],
    format: Format::Lines,
};

fn key_path(key: &str) -> KeyPath {
    KeyPath(
        key.split('.')
            .map(|k| anyray::edit::Seg::Key(k.to_string()))
            .collect(),
    )
}

/// The user's edit, on any version of the file (`None`: absent).
fn apply(case: &Case, bytes: Option<&[u8]>, key: usize, value: Option<&str>) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(bytes.unwrap_or_default()).unwrap();
    let key = case.keys[key];
    if case.format == Format::Lines {
        if bytes.is_none() && value.is_none() {
            return None;
        }
        // A user appends a line at the end, or deletes the line.
        let text = match value {
            Some(_) if text.lines().any(|l| l == key) => text.to_string(),
            Some(_) if text.is_empty() || text.ends_with('\n') => format!("{text}{key}\n"),
            Some(_) => format!("{text}\n{key}"),
            None => text
                .split_inclusive('\n')
                .filter(|l| l.trim_end_matches(['\r', '\n']) != key)
                .collect(),
        };
        return Some(text.into_bytes());
    }
    let mut doc: Box<dyn Editor> = case.format.parse(text).unwrap();
    match value {
        Some(value) => doc.set(&key_path(key), value).unwrap(),
        None => doc.remove(&key_path(key)).unwrap(),
    }
    if bytes.is_none() && value.is_none() {
        return None;
    }
    Some(doc.render().into_bytes())
}

fn run_sequence(case: &Case, original: Option<&str>, steps: &[Step]) -> Result<(), TestCaseError> {
    let mut env = TestEnv::new();
    if case.format == Format::Lines {
        // Only bash is installed: its two startup files are the whole shell target.
        env.isolate_path();
        env.write_executable("bin/bash", "#!/bin/sh\n");
    }
    if let Some(original) = original {
        env.write(case.rel, original);
    }
    let others: Vec<(&str, Option<Vec<u8>>)> = [".profile", ".config/anyray/env.sh"]
        .into_iter()
        .map(|rel| (rel, std::fs::read(env.path(rel)).ok()))
        .collect();
    let mut expected = original.map(|s| s.as_bytes().to_vec());
    let mut values_only = false;
    // Connected while the file was absent or empty: anyray's table was the first thing in it.
    let mut connected_empty = false;
    // Connected while the (rc) file did not end in a newline.
    let mut unterminated = false;
    let mut steps = steps.to_vec();
    steps.push(Step::Disconnect);
    for step in &steps {
        match step {
            Step::Connect { gateway, relay } => {
                let now = std::fs::read(env.path(case.rel)).ok();
                connected_empty |= now
                    .as_deref()
                    .is_none_or(|b| b.iter().all(u8::is_ascii_whitespace));
                unterminated |= now
                    .as_deref()
                    .is_some_and(|b| !b.is_empty() && !b.ends_with(b"\n"));
                let via = if *relay { "relay" } else { "direct" };
                let out = env.run([
                    "connect",
                    "--yes",
                    "--force",
                    "--gateway",
                    GATEWAYS[*gateway],
                    "--via",
                    via,
                    case.target,
                ]);
                prop_assert_eq!(out.code, 0, "{:?}: {}", step, out.stderr);
            }
            Step::Edit { key, value } => {
                let now = std::fs::read(env.path(case.rel)).ok();
                if let Some(edited) = apply(case, now.as_deref(), *key, value.as_deref()) {
                    env.write(case.rel, edited);
                }
                expected = apply(case, expected.as_deref(), *key, value.as_deref());
                values_only |= case.inside_managed.contains(key) && value.is_some();
            }
            Step::Disconnect => {
                let out = env.run(["disconnect", "--yes"]);
                prop_assert_eq!(out.code, 0, "{}", out.stderr);
            }
            Step::Scheme { key } => {
                let scheme = if *key { "key" } else { "header" };
                let out = env.run(["config", "set", "auth.scheme", scheme]);
                prop_assert_eq!(out.code, 0, "{}", out.stderr);
            }
        }
    }
    let mut now = std::fs::read(env.path(case.rel)).ok();
    if case.format == Format::Lines {
        for file in [&mut now, &mut expected] {
            if file.as_ref().is_some_and(Vec::is_empty) {
                *file = None;
            }
        }
    }
    if connected_empty && case.format == Format::Toml {
        let lines = |b: &Option<Vec<u8>>| -> Option<Vec<String>> {
            let text = String::from_utf8(b.clone()?).unwrap();
            Some(
                text.lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(str::to_string)
                    .collect(),
            )
        };
        prop_assert_eq!(lines(&now), lines(&expected));
    } else if values_only && case.format == Format::Json {
        let value = |b: &Option<Vec<u8>>| -> Option<serde_json::Value> {
            let text = String::from_utf8(b.clone()?).unwrap();
            Some(serde_json::from_str(text.trim_start_matches('\u{feff}')).unwrap())
        };
        // A file anyray created, in which the user added a key and took it out again,
        // holds nothing of the user's: removing it is the exact undo.
        let expected = value(&expected).filter(|v| original.is_some() || !hollow(v));
        prop_assert_eq!(value(&now), expected);
    } else if unterminated && case.format == Format::Lines {
        let text = |b: &Option<Vec<u8>>| -> Option<String> {
            let text = String::from_utf8(b.clone()?).unwrap();
            Some(text.trim_end_matches(['\r', '\n']).to_string())
        };
        prop_assert_eq!(text(&now), text(&expected));
    } else {
        prop_assert_eq!(
            now.as_deref().map(String::from_utf8_lossy),
            expected.as_deref().map(String::from_utf8_lossy)
        );
    }
    for (rel, before) in others {
        prop_assert_eq!(std::fs::read(env.path(rel)).ok(), before, "{} changed", rel);
    }
    Ok(())
}

/// Objects that hold only (objects that hold only …) nothing.
fn hollow(value: &serde_json::Value) -> bool {
    value
        .as_object()
        .is_some_and(|map| map.values().all(hollow))
}

fn claude_original() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        Just(Some("{}".to_string())),
        Just(Some("{\n  \"theme\": \"dark\"\n}\n".to_string())),
        Just(Some(
            "{\r\n\t\"model\": \"opus\",\r\n\t\"env\": {\r\n\t\t\"ANTHROPIC_BASE_URL\": \"https:\\/\\/mine.example\",\r\n\t\t\"NO_PROXY\": \".corp\"\r\n\t}\r\n}"
                .to_string()
        )),
        Just(Some(
            "\u{feff}{\n    \"permissions\": {\n        \"allow\": [\"Bash(ls)\"]\n    },\n    \"theme\": \"light\"\n}\n"
                .to_string()
        )),
    ]
}

fn codex_original() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        Just(Some("model = \"o3\"\n".to_string())),
        Just(Some(
            "# mine\r\nmodel_provider = 'azure' # team\r\n\r\n[model_providers.azure]\r\nname = \"Azure\"\r\nbase_url = \"https://corp.openai.azure.com/openai\"\r\nenv_key = \"AZURE_KEY\"\r\n"
                .to_string()
        )),
        Just(Some(
            "profile = \"work\"\n\n[profiles.work]\nmodel_provider = \"openai\"\n\n[tools]\nweb_search = true"
                .to_string()
        )),
    ]
}

fn bashrc_original() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        Just(Some("# ~/.bashrc\nexport EDITOR=nano\n".to_string())),
        Just(Some("alias g=git".to_string())),
        Just(Some("export A=1 \\".to_string())),
        Just(Some("PS1='$ '\r\nexport B=2 \\\r\n".to_string())),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, max_shrink_iters: 64, ..ProptestConfig::default() })]

    #[test]
    fn claude_settings_end_as_the_original_plus_edits(original in claude_original(), steps in steps()) {
        run_sequence(&CLAUDE, original.as_deref(), &steps)?;
    }

    #[test]
    fn codex_config_ends_as_the_original_plus_edits(original in codex_original(), steps in steps()) {
        run_sequence(&CODEX, original.as_deref(), &steps)?;
    }

    #[test]
    fn bashrc_ends_as_the_original_plus_edits(original in bashrc_original(), steps in steps()) {
        run_sequence(&BASHRC, original.as_deref(), &steps)?;
    }
}
