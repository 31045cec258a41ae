//! Format-preserving editors behind one small interface: read, set, restore or remove
//! the string at a key path, then render the document. Everything else in the file
//! (comments, key order, indentation, CRLF, a BOM, trailing commas) is kept as it was.
//!
//! `connect` manages string values almost everywhere, so the interface is about strings;
//! a managed key that holds something else (a number, an object) is reported as an
//! error instead of being overwritten. A key that needs another value (Codex's `args`
//! array, Qwen Code's `"$version": 4`) is a literal in the file's own syntax, through
//! [`Editor::get_literal`]/[`Editor::set_literal`], which the JSON and TOML editors support.

use std::fmt;

use serde::{Deserialize, Serialize};

pub mod dotenv;
pub mod json;
pub mod lines;
pub mod toml;
pub mod yaml;

/// One step of a key path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Seg {
    /// An object key / table key. It may contain dots (`terminal.integrated.env.linux`
    /// is one key in VS Code's settings.json).
    Key(String),
    /// The entry of a list of objects whose `name` is this. As the last step, the managed
    /// string is the entry's `value` (VS Code's `claudeCode.environmentVariables`); with
    /// more steps after it, the path goes on inside the entry (Continue's
    /// `models[Anyray gateway].apiBase`). Created with just its `name` when absent.
    Named(String),
    /// The string item of a list that starts with this prefix; the managed string is the
    /// whole item (aider's `set-env: [ANTHROPIC_API_BASE=…]`). Only ever the last step.
    Prefixed(String),
    /// The object of a list whose `field` holds `value`, with the path going on inside
    /// it (droid's `customModels[displayName=Anyray gateway].baseUrl`); created with just
    /// that field when absent, and removed on disconnect once only that field is left.
    /// JSON only, never the last step.
    Entry { field: String, value: String },
}

/// Where a managed value lives in a document.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct KeyPath(pub Vec<Seg>);

impl KeyPath {
    /// A path of plain keys.
    pub fn keys<const N: usize>(keys: [&str; N]) -> Self {
        Self(keys.iter().map(|k| Seg::Key((*k).to_string())).collect())
    }

    /// This path with a named list entry appended.
    pub fn named(mut self, name: &str) -> Self {
        self.0.push(Seg::Named(name.to_string()));
        self
    }

    /// This path with a key appended.
    pub fn key(mut self, key: &str) -> Self {
        self.0.push(Seg::Key(key.to_string()));
        self
    }

    /// This path with a list entry identified by one of its fields appended.
    pub fn entry(mut self, field: &str, value: &str) -> Self {
        self.0.push(Seg::Entry {
            field: field.to_string(),
            value: value.to_string(),
        });
        self
    }

    /// This path with a list item identified by its prefix appended.
    pub fn prefixed(mut self, prefix: &str) -> Self {
        self.0.push(Seg::Prefixed(prefix.to_string()));
        self
    }

    /// Refuses a path with a step the `format` editor has no meaning for: plain keys only,
    /// plus a final named entry where `named_last`.
    pub(crate) fn check_steps(&self, format: &str, named_last: bool) -> Result<(), EditError> {
        let last = self.0.len().saturating_sub(1);
        let supported = self.0.iter().enumerate().all(|(i, seg)| match seg {
            Seg::Key(_) => true,
            Seg::Named(_) => named_last && i == last,
            Seg::Prefixed(_) | Seg::Entry { .. } => false,
        });
        if supported {
            Ok(())
        } else {
            Err(EditError::at(
                None,
                format!("`{self}` is not a key path {format} files support"),
            )
            .with_hint("this is a bug in anyray's target definition; please report it"))
        }
    }

    /// Every proper prefix, shortest first: the containers this path lives in.
    pub fn ancestors(&self) -> impl Iterator<Item = KeyPath> + '_ {
        (1..self.0.len()).map(|n| KeyPath(self.0[..n].to_vec()))
    }

    pub fn segs(&self) -> &[Seg] {
        &self.0
    }
}

impl fmt::Display for KeyPath {
    /// `env.ANTHROPIC_BASE_URL`, `"terminal.integrated.env.linux".OPENAI_BASE_URL`,
    /// `claudeCode.environmentVariables[ANTHROPIC_BASE_URL]`, `models[Anyray gateway].apiBase`,
    /// `set-env[ANTHROPIC_API_BASE=…]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    let plain = !k.is_empty()
                        && k.chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                    if plain {
                        f.write_str(k)?;
                    } else {
                        write!(f, "{k:?}")?;
                    }
                }
                Seg::Named(n) => write!(f, "[{n}]")?,
                Seg::Prefixed(p) => write!(f, "[{p}…]")?,
                Seg::Entry { field, value } => write!(f, "[{field}={value}]")?,
            }
        }
        Ok(())
    }
}

/// A string value as found in a file: its meaning and its exact source text, so that
/// restoring it puts back the same bytes (`"\u0041"` stays `"\u0041"`, `'x'` stays `'x'`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scalar {
    pub value: String,
    pub raw: String,
}

/// Why a document cannot be read or changed. The engine adds the file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditError {
    /// 1-based line and column, when the problem has a position.
    pub position: Option<(usize, usize)>,
    pub message: String,
    pub hint: String,
}

impl EditError {
    pub fn at(position: Option<(usize, usize)>, message: impl Into<String>) -> Self {
        Self {
            position,
            message: message.into(),
            hint: "fix the file (or move it aside), then run the command again".into(),
        }
    }

    pub(crate) fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = hint.into();
        self
    }

    /// A value on a managed key path that is not what anyray expects there: `found` and
    /// `expected` are phrases such as "a string" or "an object".
    pub fn unexpected(path: &KeyPath, found: &str, expected: &str) -> Self {
        Self::at(
            None,
            format!("`{path}` holds {found}, where anyray expects {expected}"),
        )
        .with_hint("change or remove that value by hand, then run the command again")
    }

    /// Sets the position when the error has none yet.
    pub(crate) fn or_at(mut self, position: Option<(usize, usize)>) -> Self {
        self.position = self.position.or(position);
        self
    }
}

/// A noun with its indefinite article ("an integer", "a table"), for messages.
pub(crate) fn with_article(noun: &str) -> String {
    match noun.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => format!("an {noun}"),
        _ => format!("a {noun}"),
    }
}

/// The one interface every format editor implements.
pub trait Editor {
    /// The string at `path`; `None` when it (or a container on the way) is absent.
    fn get(&self, path: &KeyPath) -> Result<Option<Scalar>, EditError>;
    /// Sets `path` to `value`, creating containers on the way. A replaced value keeps
    /// its surrounding comments.
    fn set(&mut self, path: &KeyPath, value: &str) -> Result<(), EditError>;
    /// Puts back a value exactly as it was written before (of whatever type it was).
    fn restore(&mut self, path: &KeyPath, prior: &Scalar) -> Result<(), EditError>;
    /// The value at `path` whatever its type, its `value` in the editor's canonical
    /// literal form (`["token"]`, `5000`, `"text"`), for [`crate::connect::Kind::Literal`]
    /// and [`crate::connect::Kind::Absent`] keys. Formats without literals refuse.
    fn get_literal(&self, path: &KeyPath) -> Result<Option<Scalar>, EditError> {
        Err(no_literals(path))
    }
    /// Sets `path` to the literal `text` (canonical form), replacing any value there.
    fn set_literal(&mut self, path: &KeyPath, _text: &str) -> Result<(), EditError> {
        Err(no_literals(path))
    }
    /// Puts back a value [`Self::get_literal`] read, exactly as it was written.
    fn restore_literal(&mut self, path: &KeyPath, _prior: &Scalar) -> Result<(), EditError> {
        Err(no_literals(path))
    }
    /// Removes the value at `path` (a named list entry is removed whole). Absent is fine.
    fn remove(&mut self, path: &KeyPath) -> Result<(), EditError>;
    /// Whether a container (object, table, list) exists at `path`.
    fn has_container(&self, path: &KeyPath) -> bool;
    /// Removes the container at `path` if it is empty; returns whether it did.
    fn remove_if_empty(&mut self, path: &KeyPath) -> bool;
    /// The whole document as text, including a BOM it had.
    fn render(&self) -> String;
}

fn no_literals(path: &KeyPath) -> EditError {
    EditError::at(
        None,
        format!("`{path}`: this file format takes only string values"),
    )
    .with_hint("this is a bug in anyray's target definition; please report it")
}

/// Splits a UTF-8 byte order mark off the text; editors put it back on render.
pub(crate) fn split_bom(text: &str) -> (bool, &str) {
    match text.strip_prefix('\u{feff}') {
        Some(rest) => (true, rest),
        None => (false, text),
    }
}

/// Decodes file bytes as UTF-8 (with or without a BOM).
pub(crate) fn decode(bytes: &[u8]) -> Result<&str, EditError> {
    std::str::from_utf8(bytes).map_err(|e| {
        let valid = &bytes[..e.valid_up_to()];
        let text = std::str::from_utf8(valid).unwrap_or_default();
        EditError::at(
            Some(crate::error::line_col(text, text.len())),
            "not valid UTF-8",
        )
        .with_hint("save the file as UTF-8, then run the command again")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_paths_display_readably() {
        assert_eq!(
            KeyPath::keys(["env", "ANTHROPIC_BASE_URL"]).to_string(),
            "env.ANTHROPIC_BASE_URL"
        );
        assert_eq!(
            KeyPath::keys(["terminal.integrated.env.linux", "OPENAI_BASE_URL"]).to_string(),
            "\"terminal.integrated.env.linux\".OPENAI_BASE_URL"
        );
        assert_eq!(
            KeyPath::keys(["claudeCode.environmentVariables"])
                .named("ANTHROPIC_BASE_URL")
                .to_string(),
            "\"claudeCode.environmentVariables\"[ANTHROPIC_BASE_URL]"
        );
        assert_eq!(
            KeyPath::keys(["models"])
                .named("Anyray gateway")
                .key("apiBase")
                .to_string(),
            "models[Anyray gateway].apiBase"
        );
        assert_eq!(
            KeyPath::keys(["set-env"])
                .prefixed("ANTHROPIC_API_BASE=")
                .to_string(),
            "set-env[ANTHROPIC_API_BASE=…]"
        );
    }

    #[test]
    fn formats_refuse_steps_they_do_not_support() {
        let entry_field = KeyPath::keys(["models"]).named("gw").key("apiBase");
        assert!(entry_field.check_steps("JSON", true).is_err());
        assert!(
            KeyPath::keys(["a"])
                .named("gw")
                .check_steps("JSON", true)
                .is_ok()
        );
        assert!(
            KeyPath::keys(["a"])
                .named("gw")
                .check_steps("TOML", false)
                .is_err()
        );
        let err = KeyPath::keys(["set-env"])
            .prefixed("A=")
            .check_steps("TOML", false)
            .unwrap_err();
        assert!(err.message.contains("TOML"), "{}", err.message);
    }

    #[test]
    fn each_editor_refuses_the_steps_it_has_no_meaning_for() {
        let entry = KeyPath::keys(["models"]).named("gw");
        let by_field = KeyPath::keys(["models"]).entry("displayName", "gw");
        let prefixed = KeyPath::keys(["set-env"]).prefixed("A=");
        let cases: Vec<(Box<dyn Editor>, Vec<KeyPath>)> = vec![
            // JSON walks into entries (by `name` or another field), never prefixed items.
            (
                Box::new(json::parse("{\"models\": []}", json::Dialect::Jsonc).unwrap()),
                vec![prefixed.clone(), by_field.clone()],
            ),
            (
                Box::new(toml::parse("[models]\n").unwrap()),
                vec![
                    entry.clone().key("apiBase"),
                    prefixed,
                    by_field.clone().key("x"),
                ],
            ),
            (
                Box::new(yaml::parse("models: []\n").unwrap()),
                vec![by_field.clone().key("x")],
            ),
        ];
        for (mut doc, paths) in cases {
            for path in &paths {
                assert!(doc.get(path).is_err(), "{path}");
                assert!(doc.set(path, "A=x").is_err(), "{path}");
                assert!(doc.remove(path).is_err(), "{path}");
            }
        }
        let mut json = json::parse("{\"models\": []}", json::Dialect::Jsonc).unwrap();
        assert!(!json.has_container(&by_field));
        json.set(&by_field.clone().key("baseUrl"), "http://gw")
            .unwrap();
        assert!(json.has_container(&by_field));
        json.remove(&by_field.clone().key("baseUrl")).unwrap();
        assert!(json.remove_if_empty(&by_field), "only its identity is left");
        assert_eq!(json.render(), "{\"models\": []}");
    }

    #[test]
    fn only_json_and_toml_hold_literals() {
        let path = KeyPath::keys(["version"]);
        let others: Vec<Box<dyn Editor>> = vec![
            Box::new(yaml::parse("version: 4\n").unwrap()),
            Box::new(dotenv::parse("version=4\n").unwrap()),
        ];
        for mut doc in others {
            let err = doc.set_literal(&path, "4").unwrap_err();
            assert!(err.message.contains("only string"), "{}", err.message);
            assert!(doc.get_literal(&path).is_err());
        }
        let mut json = json::parse("{}", json::Dialect::Strict).unwrap();
        json.set_literal(&path, "4").unwrap();
        assert_eq!(json.render(), "{\n  \"version\": 4\n}");
        let mut toml = toml::parse("").unwrap();
        toml.set_literal(&path, "4").unwrap();
        assert_eq!(toml.render(), "version = 4\n");
    }

    #[test]
    fn ancestors_are_the_containers() {
        let path = KeyPath::keys(["a", "b", "c"]);
        let got: Vec<String> = path.ancestors().map(|p| p.to_string()).collect();
        assert_eq!(got, ["a", "a.b"]);
    }
}
