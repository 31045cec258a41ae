//! TOML through `toml_edit`, which keeps comments, order and spacing. A replaced value
//! carries over the decor (the comment after it on its line) of the value it replaces.
//!
//! New containers follow Codex's documented style: the first two levels are `[a.b]`
//! tables (the outer one implicit, so no empty `[a]` header appears); deeper ones are
//! inline tables, e.g. `env_http_headers = { "x-anyray-key" = "ANYRAY_KEY" }`.

use toml_edit::{DocumentMut, InlineTable, Item, Table, TableLike, Value};

use super::{EditError, Editor, KeyPath, Scalar, Seg, split_bom, with_article};
use crate::error::line_col;

/// How many levels of new containers are written as `[table]` headers.
const TABLE_DEPTH: usize = 2;

pub struct TomlDoc {
    bom: bool,
    crlf: bool,
    /// Whether the file ends with a line break (or is empty); kept as it was.
    final_newline: bool,
    doc: DocumentMut,
    /// The text as parsed (without a BOM), for the positions in errors.
    source: String,
}

pub fn parse(text: &str) -> Result<TomlDoc, EditError> {
    let (bom, body) = split_bom(text);
    let doc = body.parse::<DocumentMut>().map_err(|e| {
        let position = line_col(body, e.span().map_or(0, |s| s.start));
        EditError::at(
            Some(position),
            format!("invalid TOML: {}", e.message().trim_end()),
        )
    })?;
    Ok(TomlDoc {
        bom,
        crlf: body.contains("\r\n"),
        final_newline: body.is_empty() || body.ends_with('\n'),
        doc,
        source: body.to_string(),
    })
}

fn key(seg: &Seg) -> &str {
    match seg {
        Seg::Key(k) => k,
        Seg::Named(_) | Seg::Prefixed(_) | Seg::Entry { .. } => {
            unreachable!("checked by KeyPath::check_steps")
        }
    }
}

/// A TOML type for messages: "an integer", "a table", "nothing".
fn describe(item: &Item) -> String {
    match item.type_name() {
        "none" => "nothing".into(),
        name => with_article(name),
    }
}

impl TomlDoc {
    /// A value on a managed path that is not what anyray expects, at its line and column
    /// in the file as parsed (the spans are read again from the original text: the
    /// editable document does not keep them).
    fn unexpected(&self, path: &[Seg], item: &Item, expected: &str) -> EditError {
        let key_path = KeyPath(path.to_vec());
        EditError::unexpected(&key_path, &describe(item), expected).or_at(self.position(path))
    }

    fn position(&self, path: &[Seg]) -> Option<(usize, usize)> {
        let parsed = toml_edit::Document::parse(self.source.as_str()).ok()?;
        let (last, parents) = path.split_last()?;
        let mut table: &dyn TableLike = parsed.as_table();
        for seg in parents {
            table = table.get(key(seg))?.as_table_like()?;
        }
        let (k, item) = table.get_key_value(key(last))?;
        let span = k.span().or_else(|| item.span())?;
        Some(line_col(&self.source, span.start))
    }

    /// The table-like container at `path`, if present (never creates).
    fn table(&self, path: &[Seg]) -> Result<Option<&dyn TableLike>, EditError> {
        let mut table: &dyn TableLike = self.doc.as_table();
        for (i, seg) in path.iter().enumerate() {
            match table.get(key(seg)) {
                None => return Ok(None),
                Some(item) => {
                    table = item
                        .as_table_like()
                        .ok_or_else(|| self.unexpected(&path[..=i], item, "a table"))?;
                }
            }
        }
        Ok(Some(table))
    }

    /// The container at `path`, created (with Codex's style) when missing.
    fn table_mut(&mut self, path: &[Seg]) -> Result<&mut dyn TableLike, EditError> {
        let mut table: &mut dyn TableLike = self.doc.as_table_mut();
        let mut standard = true;
        for (i, seg) in path.iter().enumerate() {
            let k = key(seg);
            if table.get(k).is_none() {
                let item = if standard && i < TABLE_DEPTH {
                    let mut t = Table::new();
                    t.set_implicit(i + 1 < path.len());
                    Item::Table(t)
                } else {
                    Item::Value(Value::InlineTable(InlineTable::new()))
                };
                table.insert(k, item);
            }
            let item = table.get_mut(k).expect("present or just inserted");
            standard = item.is_table();
            let found = describe(item);
            table = item.as_table_like_mut().ok_or_else(|| {
                EditError::unexpected(&KeyPath(path[..=i].to_vec()), &found, "a table")
            })?;
        }
        Ok(table)
    }

    /// Sets `path` to `value`, keeping the replaced value's decor. What it replaces must
    /// be a string, or with `any_value` any value (never a table).
    fn put(&mut self, path: &KeyPath, mut value: Value, any_value: bool) -> Result<(), EditError> {
        path.check_steps("TOML", false)?;
        let (last, parents) = path.segs().split_last().expect("a path has a key");
        let table = self.table_mut(parents)?;
        match table.get_mut(key(last)) {
            Some(item) => {
                let found = describe(item);
                let expected = if any_value { "a value" } else { "a string" };
                let old = item
                    .as_value()
                    .filter(|v| any_value || v.is_str())
                    .ok_or_else(|| EditError::unexpected(path, &found, expected))?;
                *value.decor_mut() = old.decor().clone();
                *item = Item::Value(value);
            }
            None => {
                table.insert(key(last), Item::Value(value));
            }
        }
        Ok(())
    }
}

/// A value in one canonical spelling, whatever its source formatting: strings in basic
/// quotes, arrays and inline tables with toml_edit's default spacing, no comments.
fn canonical(value: &Value) -> String {
    /// The same value built afresh, so it has toml_edit's default spelling throughout.
    fn fresh(value: &Value) -> Value {
        match value {
            Value::String(s) => Value::from(s.value().as_str()),
            Value::Integer(i) => Value::from(*i.value()),
            Value::Float(f) => Value::from(*f.value()),
            Value::Boolean(b) => Value::from(*b.value()),
            Value::Datetime(d) => Value::from(*d.value()),
            Value::Array(items) => Value::Array(items.iter().map(fresh).collect()),
            Value::InlineTable(table) => Value::InlineTable(
                table
                    .iter()
                    .map(|(k, v)| (k.to_string(), fresh(v)))
                    .collect(),
            ),
        }
    }
    let mut value = fresh(value);
    value.decor_mut().clear();
    value.to_string()
}

/// Parses a literal anyray writes or restores.
fn literal(path: &KeyPath, text: &str) -> Result<Value, EditError> {
    text.parse::<Value>().map_err(|e| {
        EditError::at(None, format!("`{path}`: {text:?} is not a TOML value: {e}"))
            .with_hint("this is a bug in anyray; please report it")
    })
}

impl Editor for TomlDoc {
    fn get(&self, path: &KeyPath) -> Result<Option<Scalar>, EditError> {
        path.check_steps("TOML", false)?;
        let (last, parents) = path.segs().split_last().expect("a path has a key");
        let Some(table) = self.table(parents)? else {
            return Ok(None);
        };
        let Some(item) = table.get(key(last)) else {
            return Ok(None);
        };
        match item.as_value() {
            Some(Value::String(s)) => Ok(Some(Scalar {
                value: s.value().clone(),
                raw: s.display_repr().into_owned(),
            })),
            _ => Err(self.unexpected(path.segs(), item, "a string")),
        }
    }

    fn set(&mut self, path: &KeyPath, value: &str) -> Result<(), EditError> {
        self.put(path, Value::from(value), false)
    }

    fn get_literal(&self, path: &KeyPath) -> Result<Option<Scalar>, EditError> {
        path.check_steps("TOML", false)?;
        let (last, parents) = path.segs().split_last().expect("a path has a key");
        let Some(item) = self.table(parents)?.and_then(|t| t.get(key(last))) else {
            return Ok(None);
        };
        let value = item
            .as_value()
            .ok_or_else(|| self.unexpected(path.segs(), item, "a value"))?;
        let mut raw = value.clone();
        raw.decor_mut().clear();
        Ok(Some(Scalar {
            value: canonical(value),
            raw: raw.to_string(),
        }))
    }

    fn set_literal(&mut self, path: &KeyPath, text: &str) -> Result<(), EditError> {
        let value = literal(path, text)?;
        self.put(path, value, true)
    }

    fn restore_literal(&mut self, path: &KeyPath, prior: &Scalar) -> Result<(), EditError> {
        let value = literal(path, &prior.raw)?;
        self.put(path, value, true)
    }

    fn restore(&mut self, path: &KeyPath, prior: &Scalar) -> Result<(), EditError> {
        let value = prior
            .raw
            .parse::<Value>()
            .ok()
            .filter(|v| v.as_str() == Some(prior.value.as_str()))
            .unwrap_or_else(|| Value::from(prior.value.as_str()));
        self.put(path, value, false)
    }

    fn remove(&mut self, path: &KeyPath) -> Result<(), EditError> {
        path.check_steps("TOML", false)?;
        let (last, parents) = path.segs().split_last().expect("a path has a key");
        if self.table(parents)?.is_some() {
            self.table_mut(parents)?.remove(key(last));
        }
        Ok(())
    }

    fn has_container(&self, path: &KeyPath) -> bool {
        path.check_steps("TOML", false).is_ok() && matches!(self.table(path.segs()), Ok(Some(_)))
    }

    fn remove_if_empty(&mut self, path: &KeyPath) -> bool {
        if path.check_steps("TOML", false).is_err() {
            return false;
        }
        let Some((last, parents)) = path.segs().split_last() else {
            return false;
        };
        let empty = matches!(self.table(path.segs()), Ok(Some(t)) if t.is_empty());
        if empty && let Ok(parent) = self.table_mut(parents) {
            parent.remove(key(last));
            return true;
        }
        false
    }

    fn render(&self) -> String {
        let mut text = self.doc.to_string();
        if self.crlf {
            // toml_edit writes `\n` for what it inserts; keep the file's CRLF throughout.
            text = text.replace("\r\n", "\n").replace('\n', "\r\n");
        }
        if !self.final_newline {
            // toml_edit ends what it appends with a line break; the file had none.
            let trimmed = text.trim_end_matches(['\r', '\n']).len();
            let ending = if self.crlf { 2 } else { 1 };
            if text.len() - trimmed == ending {
                text.truncate(trimmed);
            }
        }
        if self.bom {
            text.insert(0, '\u{feff}');
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(k: &str) -> KeyPath {
        KeyPath::keys(["model_providers", "anyray", k])
    }

    fn connect(doc: &mut TomlDoc) {
        doc.set(&KeyPath::keys(["model_provider"]), "anyray")
            .unwrap();
        doc.set(&provider("name"), "Anyray gateway").unwrap();
        doc.set(&provider("base_url"), "https://gw/v1").unwrap();
        doc.set(
            &KeyPath::keys([
                "model_providers",
                "anyray",
                "env_http_headers",
                "x-anyray-key",
            ]),
            "ANYRAY_KEY",
        )
        .unwrap();
    }

    #[test]
    fn writes_codex_style_tables() {
        let mut doc = parse("model = \"o3\"\n\n[profiles.x]\nmodel = \"y\"\n").unwrap();
        connect(&mut doc);
        assert_eq!(
            doc.render(),
            "model = \"o3\"\nmodel_provider = \"anyray\"\n\n[profiles.x]\nmodel = \"y\"\n\n[model_providers.anyray]\nname = \"Anyray gateway\"\nbase_url = \"https://gw/v1\"\nenv_http_headers = { x-anyray-key = \"ANYRAY_KEY\" }\n"
        );
    }

    #[test]
    fn replacing_keeps_the_line_comment_and_restore_is_exact() {
        let text = "\u{feff}model_provider = 'azure' # mine\r\n[x]\r\na = 1\r\n";
        let mut doc = parse(text).unwrap();
        let path = KeyPath::keys(["model_provider"]);
        let prior = doc.get(&path).unwrap().unwrap();
        assert_eq!(
            (prior.value.as_str(), prior.raw.as_str()),
            ("azure", "'azure'")
        );
        doc.set(&path, "anyray").unwrap();
        assert!(
            doc.render()
                .contains("model_provider = \"anyray\" # mine\r\n")
        );
        doc.restore(&path, &prior).unwrap();
        assert_eq!(doc.render(), text);
    }

    #[test]
    fn remove_and_prune_give_back_the_original() {
        let text = "# top\nmodel = \"o3\"\n\n[tools]\nweb = true\n";
        let mut doc = parse(text).unwrap();
        connect(&mut doc);
        for k in ["name", "base_url"] {
            doc.remove(&provider(k)).unwrap();
        }
        doc.remove(&KeyPath::keys([
            "model_providers",
            "anyray",
            "env_http_headers",
            "x-anyray-key",
        ]))
        .unwrap();
        doc.remove(&KeyPath::keys(["model_provider"])).unwrap();
        for container in [
            KeyPath::keys(["model_providers", "anyray", "env_http_headers"]),
            KeyPath::keys(["model_providers", "anyray"]),
            KeyPath::keys(["model_providers"]),
        ] {
            assert!(doc.remove_if_empty(&container), "{container}");
        }
        assert_eq!(doc.render(), text);
    }

    #[test]
    fn literals_read_canonically_and_restore_exactly() {
        let text = "[p]\nargs = [ 'a',\"b\" ] # mine\nt = 0x10\ns = 'x'\n";
        let mut doc = parse(text).unwrap();
        let args = KeyPath::keys(["p", "args"]);
        let prior = doc.get_literal(&args).unwrap().unwrap();
        assert_eq!(prior.value, r#"["a", "b"]"#);
        assert_eq!(prior.raw, r#"[ 'a',"b" ]"#);
        let t = doc
            .get_literal(&KeyPath::keys(["p", "t"]))
            .unwrap()
            .unwrap();
        assert_eq!((t.value.as_str(), t.raw.as_str()), ("16", "0x10"));
        let s = doc
            .get_literal(&KeyPath::keys(["p", "s"]))
            .unwrap()
            .unwrap();
        assert_eq!(s.value, "\"x\"");
        assert!(doc.get_literal(&KeyPath::keys(["p"])).is_err(), "a table");
        assert_eq!(
            doc.get_literal(&KeyPath::keys(["p", "none"])).unwrap(),
            None
        );

        doc.set_literal(&args, r#"["token"]"#).unwrap();
        assert_eq!(
            doc.get_literal(&args).unwrap().unwrap().value,
            r#"["token"]"#
        );
        assert!(
            doc.render().contains("args = [\"token\"] # mine\n"),
            "{}",
            doc.render()
        );
        doc.set_literal(&KeyPath::keys(["p", "n"]), "5000").unwrap();
        assert!(doc.render().contains("n = 5000\n"), "{}", doc.render());
        doc.remove(&KeyPath::keys(["p", "n"])).unwrap();
        doc.restore_literal(&args, &prior).unwrap();
        assert_eq!(doc.render(), text);
        assert!(doc.set_literal(&args, "not toml [").is_err());
    }

    #[test]
    fn malformed_toml_names_the_position() {
        let err = parse("a = 1\nb = = 2\n").err().unwrap();
        assert_eq!(err.position.map(|p| p.0), Some(2));
        let doc = parse("model_provider = 3\n").unwrap();
        assert!(doc.get(&KeyPath::keys(["model_provider"])).is_err());
    }
}
