//! The YAML editor on real-world files (tests/fixtures/yaml: comment blocks, trailing
//! comments, every quoting style, flow collections and anchors away from the managed
//! keys, aider's everything-commented-out sample, the Continue file its proof ran with),
//! each as written and with CRLF, a BOM, no final line break: connect then a key-by-key
//! disconnect gives back the bytes, and the tools' own parsers — PyYAML (aider), npm
//! `yaml` (Continue), serde_yaml (Goose) — read the connected file with the managed
//! values in place and nothing else changed. And the engine around it: a refusal is
//! exit 3 with file:line:col, the file untouched.

use crate::editor_support;

use std::path::{Path, PathBuf};

use anyray::connect::{self, FileSpec, Format, RestoreMethod, Store, TargetName, Txn, Want};
use anyray::edit::KeyPath;
use anyray::error::{ExitStatus, UserError};
use editor_support::{ToolParser, assert_only_managed_changed, at, check, goose_reads};
use serde_json::json;

const GATEWAY: &str = "Anyray gateway (OpenAI)";

fn entry(field: &str) -> KeyPath {
    KeyPath::keys(["models"]).named(GATEWAY).key(field)
}

/// What each target wants in its file (`src/targets/aider.rs`, `continue_cli.rs`,
/// `goose.rs`), plus one Continue role, for the editor's prefixed items inside an entry.
fn wants_for(file: &str) -> Vec<(KeyPath, &'static str)> {
    if file.ends_with(".aider.conf.yml") {
        vec![
            (
                KeyPath::keys(["openai-api-base"]),
                "http://127.0.0.1:8787/v1",
            ),
            (
                KeyPath::keys(["set-env"]).prefixed("ANTHROPIC_API_BASE="),
                "ANTHROPIC_API_BASE=http://127.0.0.1:8787",
            ),
        ]
    } else if file.starts_with("continue") {
        vec![
            (entry("provider"), "openai"),
            (entry("model"), "gpt-4o-mini"),
            (entry("apiBase"), "http://127.0.0.1:8787/v1"),
            (entry("apiKey"), "${{ secrets.OPENAI_API_KEY }}"),
            (entry("roles").prefixed("chat"), "chat"),
        ]
    } else {
        vec![
            (KeyPath::keys(["GOOSE_PROVIDER"]), "anyray"),
            (KeyPath::keys(["GOOSE_MODEL"]), "gpt-4o-mini"),
        ]
    }
}

struct Case {
    name: String,
    text: String,
    wants: Vec<(KeyPath, &'static str)>,
}

/// Every fixture, as written and in the variants a real machine produces.
fn corpus() -> Vec<Case> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/yaml");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 8, "the corpus is in {}", dir.display());
    let mut cases = Vec::new();
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&file).unwrap();
        let crlf = text.replace('\n', "\r\n");
        for (variant, text) in [
            ("", text.clone()),
            (" (CRLF)", crlf.clone()),
            (" (BOM, CRLF)", format!("\u{feff}{crlf}")),
            (" (no final line break)", text.trim_end().to_string()),
        ] {
            cases.push(Case {
                name: format!("{name}{variant}"),
                text,
                wants: wants_for(&name),
            });
        }
    }
    cases
}

#[test]
fn corpus_round_trips_and_the_tools_read_what_was_written() {
    let dir = tempfile::tempdir().unwrap();
    let (mut originals, mut connected_files) = (Vec::new(), Vec::new());
    let mut cases = corpus();
    for (i, case) in cases.iter_mut().enumerate() {
        let connected = check(Format::Yaml, &case.text, &case.wants)
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        assert_only_managed_changed(
            &format!("serde_yaml (Goose) on {}", case.name),
            &goose_reads(&case.text),
            &goose_reads(&connected),
            &case.wants,
        );
        let original = dir.path().join(format!("{i}-before.yaml"));
        let written = dir.path().join(format!("{i}-after.yaml"));
        std::fs::write(&original, &case.text).unwrap();
        std::fs::write(&written, &connected).unwrap();
        originals.push(original);
        connected_files.push(written);
    }
    let parsers: Vec<ToolParser> = [editor_support::pyyaml(), editor_support::npm_yaml()]
        .into_iter()
        .flatten()
        .collect();
    for parser in parsers {
        let before = parser.read(&originals).unwrap_or_else(|e| panic!("{e}"));
        let after = parser
            .read(&connected_files)
            .unwrap_or_else(|e| panic!("{e}"));
        for (case, (before, after)) in cases.iter().zip(before.iter().zip(&after)) {
            assert_only_managed_changed(
                &format!("{} on {}", parser.name, case.name),
                before,
                after,
                &case.wants,
            );
        }
    }
}

#[test]
fn the_tool_parsers_can_fail() {
    // The checks above prove something only if these parsers reject what the tools do.
    let dir = tempfile::tempdir().unwrap();
    let duplicate = dir.path().join("duplicate.yaml");
    std::fs::write(&duplicate, "a: 1\na: 2\n").unwrap();
    let broken = dir.path().join("broken.yaml");
    std::fs::write(&broken, "a: [1\nb: 2\n").unwrap();
    if let Some(npm) = editor_support::npm_yaml() {
        let err = npm.read(std::slice::from_ref(&duplicate)).unwrap_err();
        assert!(err.contains("unique"), "{err}");
    }
    if let Some(pyyaml) = editor_support::pyyaml() {
        assert!(pyyaml.read(std::slice::from_ref(&broken)).is_err());
        // PyYAML is YAML 1.1: the last duplicate wins, `yes` is a boolean.
        std::fs::write(&duplicate, "a: 1\na: yes\n").unwrap();
        assert_eq!(pyyaml.read(&[duplicate]).unwrap(), [json!({"a": true})]);
    }
}

#[test]
fn a_new_continue_file_is_what_continue_needs() {
    let mut wants = vec![
        (KeyPath::keys(["name"]), "Local Config"),
        (KeyPath::keys(["version"]), "1.0.0"),
        (KeyPath::keys(["schema"]), "v1"),
    ];
    wants.extend(wants_for("continue"));
    let written = check(Format::Yaml, "", &wants).unwrap();
    let expected = json!({
        "name": "Local Config",
        "version": "1.0.0",
        "schema": "v1",
        "models": [{
            "name": GATEWAY,
            "provider": "openai",
            "model": "gpt-4o-mini",
            "apiBase": "http://127.0.0.1:8787/v1",
            "apiKey": "${{ secrets.OPENAI_API_KEY }}",
            "roles": ["chat"],
        }],
    });
    assert_eq!(goose_reads(&written), expected);
    if let Some(npm) = editor_support::npm_yaml() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.yaml");
        std::fs::write(&file, &written).unwrap();
        assert_eq!(npm.read(&[file]).unwrap(), [expected]);
    }
}

#[test]
fn values_every_reader_would_misread_are_quoted() {
    let wants = [
        (KeyPath::keys(["GOOSE_MODEL"]), "on"),
        (KeyPath::keys(["GOOSE_PROVIDER"]), "1.10"),
        (KeyPath::keys(["openai-api-base"]), "http://gw/#frag"),
    ];
    let written = check(Format::Yaml, "a: 1\n", &wants).unwrap();
    let doc = goose_reads(&written);
    for (path, value) in &wants {
        assert_eq!(at(&doc, path), Some(&json!(value)));
    }
    if let Some(pyyaml) = editor_support::pyyaml() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.yml");
        std::fs::write(&file, &written).unwrap();
        let doc = &pyyaml.read(&[file]).unwrap()[0];
        for (path, value) in &wants {
            assert_eq!(at(doc, path), Some(&json!(value)), "PyYAML reads {path}");
        }
    }
}

// ---- the engine with YAML files ----

fn spec(path: &Path) -> FileSpec {
    FileSpec {
        path: path.to_path_buf(),
        format: Format::Yaml,
        wants: wants_for("continue")
            .into_iter()
            .map(|(key, value)| Want::new(key, value))
            .collect(),
    }
}

#[test]
fn engine_connects_and_restores_key_by_key_after_a_user_edit() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path().join("state"));
    let path = dir.path().join("config.yaml");
    let original = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/yaml/continue-messy.config.yaml"),
    )
    .unwrap();
    std::fs::write(&path, &original).unwrap();

    let plan = connect::plan_connect(&spec(&path), None, false).unwrap();
    assert!(plan.changed());
    let mut txn = Txn::begin(&store).unwrap();
    // The engine only records which target owns the file; Continue has no target yet.
    txn.connect(&plan, TargetName::Codex).unwrap();
    drop(txn);
    // The ledger (with its new kinds of key path) survives a save and a load.
    let ledger = store.load().unwrap();
    let record = ledger.files.get(&path).unwrap().clone();
    assert_eq!(record.format, Format::Yaml);
    let again = connect::plan_connect(&spec(&path), Some(&record), false).unwrap();
    assert!(!again.changed(), "a second connect changes nothing");

    // The user edits something else: disconnect goes key by key and keeps the edit.
    let edited = std::fs::read_to_string(&path)
        .unwrap()
        .replace("Always answer briefly", "Always answer in French");
    std::fs::write(&path, &edited).unwrap();
    let plan = connect::plan_disconnect(&path, &record, &store, false).unwrap();
    assert_eq!(plan.method, RestoreMethod::KeyByKey);
    let restored = String::from_utf8(plan.after.clone().unwrap()).unwrap();
    assert_eq!(
        restored,
        original.replace("Always answer briefly", "Always answer in French")
    );
}

#[test]
fn engine_refusals_are_exit_3_with_a_position_and_leave_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.yaml");
    for (text, position, what) in [
        (
            "models:\n  - &m\n    name: Anyray gateway (OpenAI)\n",
            ":2:5:",
            "anchor",
        ),
        ("models: [{name: Other}]\n", ":1:9:", "flow style"),
        (
            "models:\n  - name: Anyray gateway (OpenAI)\n    apiBase: |\n      http://x\n",
            ":4:7:",
            "block scalar",
        ),
        ("a: 1\n---\nb: 2\n", ":2:1:", "more than one YAML document"),
        (
            "models:\n- name: Anyray gateway (OpenAI)\n  model: a\n  model: b\n",
            ":4:3:",
            "appears twice, at 3:3 and 4:3",
        ),
    ] {
        std::fs::write(&path, text).unwrap();
        let err = connect::plan_connect(&spec(&path), None, false).unwrap_err();
        let user = err.downcast_ref::<UserError>().expect("a user error");
        assert_eq!(user.status, ExitStatus::Unsafe, "{text:?}");
        let shown = format!("{}{position}", path.display());
        assert!(
            user.message.starts_with(&shown),
            "{text:?}: {}",
            user.message
        );
        assert!(user.message.contains(what), "{text:?}: {}", user.message);
        assert!(user.message.ends_with("the file was left untouched"));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    }
}
