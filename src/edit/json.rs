//! JSON and JSONC through `jsonc-parser`'s CST, which keeps every byte it is not asked
//! to change: comments, trailing commas, key order, the file's indentation and newlines.
//!
//! Strict JSON (Claude Code) is validated with serde_json first, so a file with a
//! comment or a trailing comma is reported rather than silently accepted, and nothing
//! we insert adds either (the CST only adds trailing commas where the file uses them).
//!
//! Duplicate keys: JSON leaves their meaning to the reader (RFC 8259 §4). Claude Code
//! reads settings with Node's `JSON.parse` and VS Code with its `jsonc-parser`; both take
//! the *last* occurrence, while an editor addressing keys by name finds the first. So a
//! managed key, or an object on the way to it, that appears twice (or a named entry that
//! appears twice in its list) is refused with the second one's line and column: editing
//! either occurrence would leave the file meaning something else to some reader, and the
//! user knows which one they mean. Duplicates elsewhere in the file are not anyray's
//! business and stay as they are.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use jsonc_parser::ast;
use jsonc_parser::common::Ranged;
use jsonc_parser::cst::{CstArray, CstInputValue, CstLeafNode, CstNode, CstObject, CstRootNode};
use jsonc_parser::{CollectOptions, CommentCollectionStrategy, ParseOptions};

use super::{EditError, Editor, KeyPath, Scalar, Seg, split_bom};
use crate::error::line_col;

/// The fields a [`Seg::Entry`] step may identify a list entry by (the targets' own:
/// droid's `displayName`); the index knows where entries with them are, for errors.
const ENTRY_FIELDS: &[&str] = &["displayName"];

/// The field and value that identify the list entry a step names, if it names one.
fn entry_id(seg: &Seg) -> Option<(&str, &str)> {
    match seg {
        Seg::Named(name) => Some(("name", name)),
        Seg::Entry { field, value } => Some((field, value)),
        _ => None,
    }
}

/// Refuses a path the JSON editor has no meaning for: it starts with a key, a prefixed
/// item never appears, and an `Entry` step is never the last.
fn check_steps(path: &KeyPath) -> Result<(), EditError> {
    let segs = path.segs();
    let supported = matches!(segs.first(), Some(Seg::Key(_)))
        && segs.iter().enumerate().all(|(i, seg)| match seg {
            Seg::Key(_) | Seg::Named(_) => true,
            Seg::Entry { .. } => i + 1 < segs.len(),
            Seg::Prefixed(_) => false,
        });
    if supported {
        Ok(())
    } else {
        Err(EditError::at(
            None,
            format!("`{path}` is not a key path JSON files support"),
        )
        .with_hint("this is a bug in anyray's target definition; please report it"))
    }
}

/// Which JSON the file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// RFC 8259 JSON: no comments, no trailing commas.
    Strict,
    /// VS Code's JSONC: comments and trailing commas allowed.
    Jsonc,
    /// JSON with comments but no trailing commas: comments stripped, then Node's
    /// `JSON.parse` (Qwen Code's `strip-json-comments`), which a trailing comma breaks.
    Commented,
}

/// The JSON scalar types a managed key may hold: strings almost everywhere; a number or
/// a boolean where a tool needs one (a literal key, e.g. Qwen Code's `"$version": 4`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Type {
    String,
    Number,
    Bool,
}

impl Type {
    /// The noun with its article, for messages ("a number").
    fn noun(self) -> &'static str {
        match self {
            Type::String => "a string",
            Type::Number => "a number",
            Type::Bool => "a boolean",
        }
    }

    /// Which type a literal's source text is.
    fn of_raw(raw: &str) -> Type {
        match raw {
            raw if raw.starts_with('"') => Type::String,
            "true" | "false" => Type::Bool,
            _ => Type::Number,
        }
    }
}

pub struct JsonDoc {
    bom: bool,
    root: CstRootNode,
    dialect: Dialect,
    /// The text as parsed (without a BOM), for the positions in errors.
    source: String,
    index: Index,
}

/// Where things are in the parsed text, by key path: what errors point at.
#[derive(Debug, Default)]
struct Index {
    /// Byte offset of the first occurrence of each key (or named entry).
    first: HashMap<KeyPath, usize>,
    /// Keys (or named entries) that occur again in the same object (or list): the byte
    /// offset of the second occurrence.
    again: HashMap<KeyPath, usize>,
    root: usize,
}

impl Index {
    fn build(body: &str, options: &ParseOptions) -> Self {
        let collect = CollectOptions {
            comments: CommentCollectionStrategy::Off,
            tokens: false,
        };
        let mut index = Self::default();
        if let Ok(parsed) = jsonc_parser::parse_to_ast(body, &collect, options)
            && let Some(value) = &parsed.value
        {
            index.root = value.start();
            index.walk(value, &mut Vec::new());
        }
        index
    }

    fn walk(&mut self, value: &ast::Value, path: &mut Vec<Seg>) {
        match value {
            ast::Value::Object(obj) => {
                for prop in &obj.properties {
                    let name = match &prop.name {
                        ast::ObjectPropName::String(lit) => lit.value.to_string(),
                        ast::ObjectPropName::Word(word) => word.value.to_string(),
                    };
                    self.visit(Seg::Key(name), prop.start(), &prop.value, path);
                }
            }
            ast::Value::Array(list) => {
                for element in &list.elements {
                    let ast::Value::Object(entry) = element else {
                        continue;
                    };
                    let field = |name: &str| {
                        entry
                            .get(name)
                            .and_then(|p| p.value.as_string_lit())
                            .map(|lit| lit.value.to_string())
                    };
                    if let Some(name) = field("name") {
                        self.visit(Seg::Named(name), element.start(), element, path);
                    }
                    for &name in ENTRY_FIELDS {
                        if let Some(value) = field(name) {
                            let seg = Seg::Entry {
                                field: name.to_string(),
                                value,
                            };
                            self.visit(seg, element.start(), element, path);
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn visit(&mut self, seg: Seg, at: usize, value: &ast::Value, path: &mut Vec<Seg>) {
        path.push(seg);
        let key = KeyPath(path.clone());
        match self.first.entry(key) {
            Entry::Occupied(seen) => {
                self.again.entry(seen.key().clone()).or_insert(at);
            }
            Entry::Vacant(new) => {
                new.insert(at);
            }
        }
        self.walk(value, path);
        path.pop();
    }
}

/// Parses a document. An empty (or whitespace-only) text is an empty object.
pub fn parse(text: &str, dialect: Dialect) -> Result<JsonDoc, EditError> {
    let (bom, body) = split_bom(text);
    let blank = body.trim().is_empty();
    let strict_hint = "this file must be strict JSON (no comments, no trailing commas); fix it, then run the command again";
    if dialect == Dialect::Strict && !blank {
        serde_json::from_str::<serde::de::IgnoredAny>(body).map_err(|e| {
            EditError::at(
                Some((e.line(), e.column())),
                format!("invalid JSON: {}", strip_position(&e.to_string())),
            )
            .with_hint(strict_hint)
        })?;
    }
    let options = ParseOptions {
        allow_comments: dialect != Dialect::Strict,
        allow_trailing_commas: dialect == Dialect::Jsonc,
        allow_loose_object_property_names: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    };
    let root = CstRootNode::parse(body, &options).map_err(|e| {
        let label = match dialect {
            Dialect::Strict | Dialect::Commented => "invalid JSON",
            Dialect::Jsonc => "invalid JSONC",
        };
        let error = EditError::at(
            Some((e.line_display(), e.column_display())),
            format!("{label}: {}", e.kind()),
        );
        match dialect {
            Dialect::Strict => error.with_hint(strict_hint),
            Dialect::Commented => error.with_hint(
                "the tool reads this file as JSON with comments but no trailing commas (a \
                 trailing comma stops it from starting); fix it, then run the command again",
            ),
            Dialect::Jsonc => error,
        }
    })?;
    let index = Index::build(body, &options);
    match root.value() {
        None | Some(CstNode::Container(jsonc_parser::cst::CstContainerNode::Object(_))) => {}
        Some(other) => {
            return Err(EditError::at(
                Some(line_col(body, index.root)),
                format!("the top level is {}, not an object", describe(&other)),
            ));
        }
    }
    Ok(JsonDoc {
        bom,
        root,
        dialect,
        source: body.to_string(),
        index,
    })
}

/// serde_json appends " at line L column C"; the position is reported separately.
fn strip_position(message: &str) -> &str {
    message
        .rfind(" at line ")
        .map_or(message, |i| &message[..i])
}

fn describe(node: &CstNode) -> &'static str {
    match node {
        CstNode::Container(c) if c.is_object() => "an object",
        CstNode::Container(c) if c.is_array() => "a list",
        CstNode::Leaf(CstLeafNode::StringLit(_)) => "a string",
        CstNode::Leaf(CstLeafNode::NumberLit(_)) => "a number",
        CstNode::Leaf(CstLeafNode::BooleanLit(_)) => "a boolean",
        CstNode::Leaf(CstLeafNode::NullKeyword(_)) => "null",
        _ => "something else",
    }
}

/// A container on a key path.
enum Container {
    Object(CstObject),
    Array(CstArray),
}

/// A JSON string literal for `value`, escaped as serde_json does (no `\/`, UTF-8 kept).
fn literal(value: &str) -> String {
    serde_json::to_string(value).expect("a string always serialises")
}

impl JsonDoc {
    /// Walks to the container that holds the last segment of `path`, creating missing
    /// containers when `create` is set (an object, a list before an entry step, an entry
    /// with just its identifying field).
    fn parent(&self, path: &KeyPath, create: bool) -> Result<Option<Container>, EditError> {
        check_steps(path)?;
        self.check_unambiguous(path)?;
        let segs = path.segs();
        let mut current = match self.root.object_value() {
            Some(obj) => Container::Object(obj),
            None if create => Container::Object(self.root.object_value_or_set()),
            None => return Ok(None),
        };
        let Some((_, prefix)) = segs.split_last() else {
            return Ok(Some(current));
        };
        for (i, seg) in prefix.iter().enumerate() {
            let next_is_list = entry_id(&segs[i + 1]).is_some();
            let here = KeyPath(segs[..=i].to_vec());
            current = match (current, seg) {
                (Container::Object(obj), Seg::Key(key)) => match obj.get(key) {
                    Some(prop) => match (prop.value(), next_is_list) {
                        (Some(v), false) if v.as_object().is_some() => {
                            Container::Object(v.as_object().expect("checked"))
                        }
                        (Some(v), true) if v.as_array().is_some() => {
                            Container::Array(v.as_array().expect("checked"))
                        }
                        (Some(v), _) => {
                            let expected = if next_is_list { "a list" } else { "an object" };
                            return Err(self.unexpected(&here, describe(&v), expected));
                        }
                        (None, _) => {
                            return Err(self.unexpected(&here, "no value", "an object"));
                        }
                    },
                    None if !create => return Ok(None),
                    None if next_is_list => Container::Array(
                        obj.append(key, CstInputValue::Array(Vec::new()))
                            .array_value()
                            .expect("just created"),
                    ),
                    None => Container::Object(
                        obj.append(key, CstInputValue::Object(Vec::new()))
                            .object_value()
                            .expect("just created"),
                    ),
                },
                (Container::Array(list), seg) => {
                    let (field, id) = entry_id(seg).expect("a list is followed by an entry step");
                    match Self::entry(&list, field, id) {
                        Some(entry) => Container::Object(entry),
                        None if !create => return Ok(None),
                        None => Container::Object(
                            list.append(CstInputValue::Object(vec![(
                                field.to_string(),
                                CstInputValue::String(id.to_string()),
                            )]))
                            .as_object()
                            .expect("just created"),
                        ),
                    }
                }
                (Container::Object(_), _) => {
                    unreachable!("an entry step only follows a key that holds a list")
                }
            };
        }
        Ok(Some(current))
    }

    /// The object of a list entry whose `field` is `id` (`{"name": …, "value": …}`, or
    /// droid's `{"displayName": …, …}`), if present.
    fn entry(list: &CstArray, field: &str, id: &str) -> Option<CstObject> {
        list.elements().into_iter().find_map(|element| {
            let obj = element.as_object()?;
            let entry_id = obj.get(field)?.value()?.as_string_lit()?.decoded_value();
            (entry_id.ok()? == id).then_some(obj)
        })
    }

    /// The literal node holding the managed string at `path`, if present.
    fn value_node(&self, path: &KeyPath, create: bool) -> Result<Option<CstNode>, EditError> {
        let Some(parent) = self.parent(path, create)? else {
            return Ok(None);
        };
        let node = match (parent, path.segs().last()) {
            (Container::Object(obj), Some(Seg::Key(key))) => {
                obj.get(key).and_then(|prop| prop.value())
            }
            (Container::Array(list), Some(Seg::Named(name))) => Self::entry(&list, "name", name)
                .map(|entry| {
                    entry
                        .get("value")
                        .and_then(|prop| prop.value())
                        .ok_or_else(|| {
                            self.unexpected(path, "an entry without a value", "a `value`")
                        })
                })
                .transpose()?,
            _ => return Err(self.unexpected(path, "an unexpected shape", "a string")),
        };
        Ok(node)
    }

    fn string_lit(
        &self,
        path: &KeyPath,
        node: &CstNode,
    ) -> Result<jsonc_parser::cst::CstStringLit, EditError> {
        node.as_string_lit()
            .ok_or_else(|| self.unexpected(path, describe(node), "a string"))
    }

    /// The scalar a literal node holds, when it is a `ty`.
    fn scalar(&self, path: &KeyPath, node: &CstNode, ty: Type) -> Result<Scalar, EditError> {
        let wrong = || self.unexpected(path, describe(node), ty.noun());
        let (value, raw) = match ty {
            Type::String => {
                let lit = self.string_lit(path, node)?;
                let value = lit.decoded_value().map_err(|_| {
                    self.unexpected(path, "a string with invalid escapes", "a string")
                })?;
                (value, lit.raw_value())
            }
            Type::Number => {
                let raw = node.as_number_lit().ok_or_else(wrong)?.to_string();
                (raw.clone(), raw)
            }
            Type::Bool => {
                let raw = node.as_boolean_lit().ok_or_else(wrong)?.value().to_string();
                (raw.clone(), raw)
            }
        };
        Ok(Scalar { value, raw })
    }

    /// Gives a literal node of type `ty` the literal text `raw`.
    fn set_node_literal(
        &self,
        path: &KeyPath,
        node: &CstNode,
        ty: Type,
        raw: &str,
    ) -> Result<(), EditError> {
        let wrong = || self.unexpected(path, describe(node), ty.noun());
        match ty {
            Type::String => self.string_lit(path, node)?.set_raw_value(raw.to_string()),
            Type::Number => node
                .as_number_lit()
                .ok_or_else(wrong)?
                .set_raw_value(raw.to_string()),
            Type::Bool => node
                .as_boolean_lit()
                .ok_or_else(wrong)?
                .set_value(raw == "true"),
        }
        Ok(())
    }

    /// An unexpected value, at its line and column in the file as parsed.
    fn unexpected(&self, path: &KeyPath, found: &str, expected: &str) -> EditError {
        let position = self
            .index
            .first
            .get(path)
            .map(|&at| line_col(&self.source, at));
        EditError::unexpected(path, found, expected).or_at(position)
    }

    /// Refuses a path on which a key (or named entry) appears twice: see the module docs.
    fn check_unambiguous(&self, path: &KeyPath) -> Result<(), EditError> {
        for len in 1..=path.segs().len() {
            let prefix = KeyPath(path.segs()[..len].to_vec());
            let Some(&second) = self.index.again.get(&prefix) else {
                continue;
            };
            let first = self.index.first.get(&prefix).copied().unwrap_or_default();
            let (line, col) = line_col(&self.source, first);
            let (name, container) = match prefix.segs().last() {
                Some(Seg::Named(name)) => (format!("an entry named `{name}`"), "list"),
                Some(Seg::Entry { field, value }) => {
                    (format!("an entry with {field} `{value}`"), "list")
                }
                _ => (format!("`{prefix}`"), "object"),
            };
            let reader = match self.dialect {
                Dialect::Strict | Dialect::Commented => {
                    "the tool reads it with a JSON parser that takes the last one (Node's JSON.parse)"
                }
                Dialect::Jsonc => {
                    "the editor reads it with VS Code's jsonc-parser, which takes the last one"
                }
            };
            return Err(EditError::at(
                Some(line_col(&self.source, second)),
                format!(
                    "{name} appears twice in the same {container} (first at line {line}, column {col}); \
                     {reader}, so anyray will not guess which one to change"
                ),
            )
            .with_hint("merge the two into one (keep the one you mean), then run the command again"));
        }
        Ok(())
    }

    /// Sets the literal at `path` to `raw` (meaning `value`, a `ty`), inserting the key
    /// or entry when absent.
    fn set_raw(
        &mut self,
        path: &KeyPath,
        ty: Type,
        value: &str,
        raw: &str,
    ) -> Result<(), EditError> {
        if let Some(node) = self.value_node(path, true)? {
            return self.set_node_literal(path, &node, ty, raw);
        }
        let input = match ty {
            Type::String => CstInputValue::String(value.to_string()),
            Type::Number => CstInputValue::Number(raw.to_string()),
            Type::Bool => CstInputValue::Bool(raw == "true"),
        };
        let parent = self.parent(path, true)?.expect("created");
        let node = match (parent, path.segs().last()) {
            (Container::Object(obj), Some(Seg::Key(key))) => obj.append(key, input).value(),
            (Container::Array(list), Some(Seg::Named(name))) => list
                .append(CstInputValue::Object(vec![
                    ("name".into(), CstInputValue::String(name.clone())),
                    ("value".into(), input),
                ]))
                .as_object()
                .and_then(|entry| entry.get("value"))
                .and_then(|prop| prop.value()),
            _ => return Err(self.unexpected(path, "an unexpected shape", ty.noun())),
        };
        match node {
            Some(node) => self.set_node_literal(path, &node, ty, raw),
            None => Ok(()),
        }
    }

    /// The container at `path` itself (not its parent).
    fn container_at(&self, path: &KeyPath) -> Option<Container> {
        let mut probe = path.clone();
        probe.0.push(Seg::Key(String::new()));
        match self.parent(&probe, false) {
            Ok(Some(Container::Object(obj))) => Some(Container::Object(obj)),
            _ => {
                // A list is only reachable as the parent of a named entry.
                let mut probe = path.clone();
                probe.0.push(Seg::Named(String::new()));
                match self.parent(&probe, false) {
                    Ok(Some(Container::Array(list))) => Some(Container::Array(list)),
                    _ => None,
                }
            }
        }
    }
}

impl Editor for JsonDoc {
    fn get(&self, path: &KeyPath) -> Result<Option<Scalar>, EditError> {
        match self.value_node(path, false)? {
            Some(node) => self.scalar(path, &node, Type::String).map(Some),
            None => Ok(None),
        }
    }

    fn set(&mut self, path: &KeyPath, value: &str) -> Result<(), EditError> {
        self.set_raw(path, Type::String, value, &literal(value))
    }

    fn restore(&mut self, path: &KeyPath, prior: &Scalar) -> Result<(), EditError> {
        // The prior literal's own text says which type it was.
        self.set_raw(path, Type::of_raw(&prior.raw), &prior.value, &prior.raw)
    }

    /// A string's literal is its canonical JSON form (`"text"`); a number's or a
    /// boolean's is its text.
    fn get_literal(&self, path: &KeyPath) -> Result<Option<Scalar>, EditError> {
        let Some(node) = self.value_node(path, false)? else {
            return Ok(None);
        };
        let ty = if node.as_number_lit().is_some() {
            Type::Number
        } else if node.as_boolean_lit().is_some() {
            Type::Bool
        } else {
            Type::String
        };
        let scalar = self.scalar(path, &node, ty)?;
        Ok(Some(match ty {
            Type::String => Scalar {
                value: literal(&scalar.value),
                raw: scalar.raw,
            },
            Type::Number | Type::Bool => scalar,
        }))
    }

    fn set_literal(&mut self, path: &KeyPath, text: &str) -> Result<(), EditError> {
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::String(value)) => {
                self.set_raw(path, Type::String, &value, &literal(&value))
            }
            Ok(serde_json::Value::Number(_)) => self.set_raw(path, Type::Number, text, text),
            Ok(serde_json::Value::Bool(_)) => self.set_raw(path, Type::Bool, text, text),
            _ => Err(EditError::at(
                None,
                format!("`{text}` is not a JSON string, number or boolean"),
            )
            .with_hint("this is a bug in anyray's target definition; please report it")),
        }
    }

    fn restore_literal(&mut self, path: &KeyPath, prior: &Scalar) -> Result<(), EditError> {
        // A string's literal `value` is its quoted form; `restore` wants the meaning.
        let value = match Type::of_raw(&prior.raw) {
            Type::String => {
                serde_json::from_str::<String>(&prior.value).unwrap_or_else(|_| prior.value.clone())
            }
            Type::Number | Type::Bool => prior.value.clone(),
        };
        self.restore(
            path,
            &Scalar {
                value,
                raw: prior.raw.clone(),
            },
        )
    }

    fn remove(&mut self, path: &KeyPath) -> Result<(), EditError> {
        let Some(parent) = self.parent(path, false)? else {
            return Ok(());
        };
        match (parent, path.segs().last()) {
            (Container::Object(obj), Some(Seg::Key(key))) => {
                if let Some(prop) = obj.get(key) {
                    prop.remove();
                }
            }
            (Container::Array(list), Some(Seg::Named(name))) => {
                if let Some(entry) = Self::entry(&list, "name", name) {
                    entry.remove();
                }
            }
            _ => return Err(self.unexpected(path, "an unexpected shape", "a string")),
        }
        Ok(())
    }

    fn has_container(&self, path: &KeyPath) -> bool {
        self.container_at(path).is_some()
    }

    fn remove_if_empty(&mut self, path: &KeyPath) -> bool {
        // An entry anyray created goes once only its identifying field is left.
        if let Some((field, _)) = path.segs().last().and_then(entry_id)
            && let Some(Container::Object(entry)) = self.container_at(path)
        {
            let props = entry.properties();
            let only_id = props.len() == 1
                && props[0]
                    .name()
                    .and_then(|n| n.decoded_value().ok())
                    .is_some_and(|n| n == field);
            // No comment either: the entry is its braces, that one property and blanks.
            let compact =
                |text: String| -> String { text.chars().filter(|c| !c.is_whitespace()).collect() };
            let bare = only_id && {
                let prop = compact(props[0].to_string());
                let text = compact(entry.to_string());
                text == format!("{{{prop}}}") || text == format!("{{{prop},}}")
            };
            if bare {
                entry.remove();
                return true;
            }
            return false;
        }
        let node: CstNode = match self.container_at(path) {
            Some(Container::Object(obj)) => obj.into(),
            Some(Container::Array(list)) => list.into(),
            None => return false,
        };
        // Empty means no entries and no comments: only brackets and blank space.
        let text: String = node
            .to_string()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if text != "{}" && text != "[]" {
            return false;
        }
        match node.parent().and_then(|parent| parent.as_object_prop()) {
            Some(prop) => {
                prop.remove();
                true
            }
            None => false,
        }
    }

    fn render(&self) -> String {
        let body = self.root.to_string();
        if self.bom {
            format!("\u{feff}{body}")
        } else {
            body
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url() -> KeyPath {
        KeyPath::keys(["env", "ANTHROPIC_BASE_URL"])
    }

    #[test]
    fn sets_into_an_empty_file_and_keeps_strict_json() {
        let mut doc = parse("", Dialect::Strict).unwrap();
        doc.set(&url(), "https://gw.example").unwrap();
        assert_eq!(
            doc.render(),
            "{\n  \"env\": {\n    \"ANTHROPIC_BASE_URL\": \"https://gw.example\"\n  }\n}\n"
        );
    }

    #[test]
    fn strict_rejects_comments_and_trailing_commas_with_a_position() {
        let err = parse("{\n  \"a\": 1, // c\n}", Dialect::Strict)
            .err()
            .unwrap();
        assert_eq!(err.position.map(|p| p.0), Some(2));
        assert!(parse("{\"a\": 1,}", Dialect::Strict).is_err());
        assert!(parse("{\"a\": 1,} // ok here", Dialect::Jsonc).is_ok());
        assert!(parse("[1]", Dialect::Jsonc).is_err());
        // Comments, but no trailing comma (Qwen Code's reader).
        assert!(parse("{\"a\": 1 // c\n}", Dialect::Commented).is_ok());
        let err = parse("{\n  \"a\": 1,\n}", Dialect::Commented)
            .err()
            .unwrap();
        assert_eq!(err.position.map(|p| p.0), Some(2), "{err:?}");
        assert!(err.hint.contains("trailing comma"), "{}", err.hint);
    }

    #[test]
    fn keeps_bom_crlf_and_indentation() {
        let text = "\u{feff}{\r\n\t\"a\": 1\r\n}\r\n";
        let mut doc = parse(text, Dialect::Strict).unwrap();
        doc.set(&url(), "https://gw").unwrap();
        assert_eq!(
            doc.render(),
            "\u{feff}{\r\n\t\"a\": 1,\r\n\t\"env\": {\r\n\t\t\"ANTHROPIC_BASE_URL\": \"https://gw\"\r\n\t}\r\n}\r\n"
        );
        doc.remove(&url()).unwrap();
        assert!(doc.remove_if_empty(&KeyPath::keys(["env"])));
        assert_eq!(doc.render(), text);
    }

    #[test]
    fn replaces_a_value_in_place_and_restores_its_exact_text() {
        let text = "{\n  // keep\n  \"env\": { \"ANTHROPIC_BASE_URL\": \"https:\\/\\/old\" /* c */ },\n}\n";
        let mut doc = parse(text, Dialect::Jsonc).unwrap();
        let prior = doc.get(&url()).unwrap().unwrap();
        assert_eq!(prior.value, "https://old");
        doc.set(&url(), "https://gw").unwrap();
        assert!(doc.render().contains("\"https://gw\" /* c */ },"));
        doc.restore(&url(), &prior).unwrap();
        assert_eq!(doc.render(), text);
    }

    #[test]
    fn named_entries_merge_by_name() {
        let list = KeyPath::keys(["claudeCode.environmentVariables"]);
        let text = "{\n  \"claudeCode.environmentVariables\": [\n    { \"name\": \"KEEP\", \"value\": \"1\" }\n  ]\n}\n";
        let mut doc = parse(text, Dialect::Jsonc).unwrap();
        let path = list.clone().named("ANTHROPIC_BASE_URL");
        assert_eq!(doc.get(&path).unwrap(), None);
        doc.set(&path, "https://gw").unwrap();
        assert_eq!(doc.get(&path).unwrap().unwrap().value, "https://gw");
        assert_eq!(
            doc.get(&list.clone().named("KEEP")).unwrap().unwrap().value,
            "1"
        );
        doc.remove(&path).unwrap();
        assert!(!doc.remove_if_empty(&list));
        assert_eq!(doc.render(), text);
    }

    #[test]
    fn literals_are_written_as_json_numbers_and_booleans_and_restored_exactly() {
        let version = KeyPath::keys(["$version"]);
        let flag = KeyPath::keys(["ui", "hide"]);
        let text = "{\n  // mine\n  \"model\": {\"name\": \"x\"}\n}\n";
        let mut doc = parse(text, Dialect::Jsonc).unwrap();
        assert_eq!(doc.get_literal(&version).unwrap(), None);
        doc.set_literal(&version, "4").unwrap();
        doc.set_literal(&flag, "true").unwrap();
        let written = doc.render();
        let value: serde_json::Value =
            serde_json::from_str(&written.replace("// mine", "")).unwrap();
        assert_eq!(value["$version"], serde_json::json!(4), "{written}");
        assert_eq!(value["ui"]["hide"], serde_json::json!(true), "{written}");
        assert_eq!(doc.get_literal(&version).unwrap().unwrap().value, "4");
        // A string's literal is its quoted form, so it never equals a number's.
        let name = doc.get_literal(&KeyPath::keys(["model", "name"])).unwrap();
        assert_eq!(name.unwrap().value, "\"x\"");
        assert!(doc.get(&version).is_err(), "a number is not a string");
        doc.remove(&flag).unwrap();
        assert!(doc.remove_if_empty(&KeyPath::keys(["ui"])));
        doc.remove(&version).unwrap();
        assert_eq!(doc.render(), text);

        // A prior number or boolean comes back with its exact text.
        let text = "{\"$version\": 4.0e0, \"on\": false}";
        let mut doc = parse(text, Dialect::Strict).unwrap();
        let number = doc.get_literal(&version).unwrap().unwrap();
        let on = KeyPath::keys(["on"]);
        let boolean = doc.get_literal(&on).unwrap().unwrap();
        doc.set_literal(&version, "4").unwrap();
        doc.set_literal(&on, "true").unwrap();
        assert_eq!(doc.render(), "{\"$version\": 4, \"on\": true}");
        doc.restore_literal(&version, &number).unwrap();
        doc.restore_literal(&on, &boolean).unwrap();
        assert_eq!(doc.render(), text);
        assert!(doc.set_literal(&version, "four").is_err());
        assert!(doc.set_literal(&on, "[1]").is_err());
    }

    #[test]
    fn a_non_string_managed_value_is_an_error() {
        let doc = parse("{\"env\": {\"ANTHROPIC_BASE_URL\": 5}}", Dialect::Strict).unwrap();
        let err = doc.get(&url()).unwrap_err();
        assert!(err.message.contains("a number"), "{}", err.message);
        let doc = parse("{\"env\": []}", Dialect::Strict).unwrap();
        assert!(doc.get(&url()).is_err());
    }
}
