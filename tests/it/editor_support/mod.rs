//! The engine's connect and key-by-key disconnect, at the level of the format editors,
//! and the checks every format must pass (tests/it/connect_editors_prop.rs for random
//! documents, tests/it/connect_yaml.rs for a corpus of real-world files). For YAML, also
//! the tools' own parsers: documents read with them, navigated by key path, and
//! compared with the managed paths taken out.

use std::path::PathBuf;
use std::process::Command;

use anyray::connect::Format;
use anyray::edit::{Editor, KeyPath, Scalar, Seg};
use proptest::prelude::*;
use serde_json::Value as Json;

use crate::needs;

/// Each managed key and what it held before connect.
pub type Priors = Vec<(KeyPath, Option<Scalar>)>;

/// The engine's connect, at the editor level: prior values, created containers, new text.
pub fn connect(
    format: Format,
    text: &str,
    wants: &[(KeyPath, &str)],
) -> (String, Priors, Vec<KeyPath>) {
    let mut doc = format.parse(text).expect("generated documents are valid");
    let mut priors = Vec::new();
    let mut created = Vec::new();
    for (key, value) in wants {
        let prior = doc.get(key).expect("managed values are strings");
        for container in key.ancestors() {
            if !doc.has_container(&container) && !created.contains(&container) {
                created.push(container);
            }
        }
        if prior.as_ref().map(|s| s.value.as_str()) != Some(value) {
            doc.set(key, value).unwrap();
        }
        priors.push((key.clone(), prior));
    }
    (doc.render(), priors, created)
}

/// The engine's key-by-key disconnect.
pub fn disconnect(
    format: Format,
    text: &str,
    priors: &[(KeyPath, Option<Scalar>)],
    created: &[KeyPath],
) -> String {
    let mut doc: Box<dyn Editor> = format.parse(text).expect("connect wrote a valid document");
    for (key, prior) in priors {
        match prior {
            Some(prior) => doc.restore(key, prior).unwrap(),
            None => doc.remove(key).unwrap(),
        }
    }
    for container in created.iter().rev() {
        doc.remove_if_empty(container);
    }
    doc.render()
}

/// Connect writes each value where it reads back, connecting twice changes nothing more,
/// and connect then disconnect gives back the original text. Returns the connected text.
pub fn check(
    format: Format,
    text: &str,
    wants: &[(KeyPath, &str)],
) -> Result<String, TestCaseError> {
    let (once, priors, created) = connect(format, text, wants);
    // Connect really wrote each value: the file, parsed again, holds it.
    let reparsed = format.parse(&once).expect("connect wrote a valid document");
    for (key, value) in wants {
        let held = reparsed.get(key).expect("managed values are strings");
        prop_assert_eq!(
            held.map(|s| s.value),
            Some(value.to_string()),
            "{} after connect",
            key
        );
    }
    let (twice, _, _) = connect(format, &once, wants);
    prop_assert_eq!(&twice, &once, "connect twice == connect once");
    let back = disconnect(format, &once, &priors, &created);
    prop_assert_eq!(&back, text, "connect then disconnect == original");
    Ok(once)
}

// ---- YAML as the tools read it ----

/// The value at `path` in a parsed document: keys, named entries (a final one's
/// `value`), items by prefix.
pub fn at<'a>(doc: &'a Json, path: &KeyPath) -> Option<&'a Json> {
    let segs = path.segs();
    let mut node = doc;
    for (i, seg) in segs.iter().enumerate() {
        node = match seg {
            Seg::Key(key) => node.get(key)?,
            Seg::Named(name) => {
                let entry = node
                    .as_array()?
                    .iter()
                    .find(|e| e.get("name").and_then(Json::as_str) == Some(name))?;
                if i + 1 == segs.len() {
                    entry.get("value")?
                } else {
                    entry
                }
            }
            Seg::Prefixed(prefix) => node
                .as_array()?
                .iter()
                .find(|e| e.as_str().is_some_and(|s| s.starts_with(prefix.as_str())))?,
            Seg::Entry { field, value } => node
                .as_array()?
                .iter()
                .find(|e| e.get(field).and_then(Json::as_str) == Some(value))?,
        };
    }
    Some(node)
}

/// The document with each managed path taken out. A container on a path that is left
/// empty (or is null, or is a named entry holding only its name) goes too, in both
/// documents alike, since connect may create it.
pub fn without(doc: &Json, paths: &[(KeyPath, &str)]) -> Json {
    fn strip(node: &mut Json, segs: &[Seg]) {
        let Some((seg, rest)) = segs.split_first() else {
            return;
        };
        let empty = |v: &Json| match (v, seg) {
            (Json::Null, _) => true,
            (Json::Array(items), _) => items.is_empty(),
            (Json::Object(map), Seg::Named(name)) => map
                .iter()
                .all(|(k, v)| k == "name" && v.as_str() == Some(name.as_str())),
            (Json::Object(map), Seg::Entry { field, value }) => map
                .iter()
                .all(|(k, v)| k == field && v.as_str() == Some(value.as_str())),
            (Json::Object(map), _) => map.is_empty(),
            _ => false,
        };
        match (node, seg) {
            (Json::Object(map), Seg::Key(key)) => {
                let Some(child) = map.get_mut(key) else {
                    return;
                };
                strip(child, rest);
                if rest.is_empty() || empty(child) {
                    map.remove(key);
                }
            }
            (Json::Array(items), Seg::Named(_) | Seg::Prefixed(_) | Seg::Entry { .. }) => {
                let found = items.iter().position(|item| match seg {
                    Seg::Named(name) => {
                        item.get("name").and_then(Json::as_str) == Some(name.as_str())
                    }
                    Seg::Prefixed(p) => item.as_str().is_some_and(|s| s.starts_with(p.as_str())),
                    Seg::Entry { field, value } => {
                        item.get(field).and_then(Json::as_str) == Some(value.as_str())
                    }
                    Seg::Key(_) => false,
                });
                let Some(i) = found else { return };
                strip(&mut items[i], rest);
                if rest.is_empty() || empty(&items[i]) {
                    items.remove(i);
                }
            }
            _ => {}
        }
    }
    let mut doc = doc.clone();
    for (path, _) in paths {
        // A final named entry is managed whole (its `value` is the string).
        strip(&mut doc, path.segs());
    }
    if doc.as_object().is_some_and(|m| m.is_empty()) {
        doc = Json::Null;
    }
    doc
}

/// The document as Goose reads config.yaml: serde_yaml on the file's text. (Goose
/// itself cannot read a file with a BOM: serde_yaml takes it for a second document. The
/// BOM is dropped here so such files are still compared by content.)
pub fn goose_reads(text: &str) -> Json {
    let text = text.trim_start_matches('\u{feff}');
    let value: serde_yaml::Value = serde_yaml::from_str(text)
        .unwrap_or_else(|e| panic!("serde_yaml rejects the file: {e}\n{text}"));
    serde_json::to_value(value).expect("string keys")
}

/// Asserts that `after` holds every wanted value and equals `before` once the managed
/// paths are taken out of both, as one reader (`who`) parsed them.
#[track_caller]
pub fn assert_only_managed_changed(
    who: &str,
    before: &Json,
    after: &Json,
    wants: &[(KeyPath, &str)],
) {
    for (key, value) in wants {
        assert_eq!(
            at(after, key).and_then(Json::as_str),
            Some(*value),
            "{who} reads `{key}` from the connected file"
        );
    }
    assert_eq!(
        without(before, wants),
        without(after, wants),
        "{who}: connect changed something besides the managed values"
    );
}

/// A parser a tool uses, run as a program over files.
pub struct ToolParser {
    pub name: &'static str,
    program: PathBuf,
    script: PathBuf,
}

/// PyYAML, as aider reads .aider.conf.yml; `None` when it is missing here ([`needs`]).
pub fn pyyaml() -> Option<ToolParser> {
    Some(ToolParser {
        name: "PyYAML (aider)",
        program: needs::pyyaml()?,
        script: needs::jsonc_dir().join("pyyaml.py"),
    })
}

/// The npm `yaml` package, as Continue reads config.yaml; `None` when it is missing here
/// ([`needs`]).
pub fn npm_yaml() -> Option<ToolParser> {
    Some(ToolParser {
        name: "npm yaml (Continue)",
        program: "node".into(),
        script: needs::node_packages(&["yaml"])?.join("yaml.js"),
    })
}

impl ToolParser {
    /// Each file parsed, as JSON; the parser's message when it rejects one.
    pub fn read(&self, files: &[PathBuf]) -> Result<Vec<Json>, String> {
        let out = Command::new(&self.program)
            .arg(&self.script)
            .args(files)
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.program.display()))?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        serde_json::from_slice(&out.stdout).map_err(|e| format!("{}: {e}", self.name))
    }
}
