//! The check behind every edit: two documents, compared as parsed values with the
//! managed path taken out of both.

use saphyr_parser::ScalarStyle;

use super::Hop;
use super::tree::{Kind, Node, Tree};

/// A parsed node as the tools see it: its value (a plain scalar's text is kept apart
/// from a quoted one, since `yes` and `"yes"` differ), anchors and tags. Layout,
/// quoting style beyond that, and comments are not part of it.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Value {
    /// An empty container on the managed path (absent, `{}`, `[]`, nothing after `key:`,
    /// or a named entry with only its name).
    Empty,
    Scalar {
        value: String,
        plain: bool,
        anchor: usize,
        tag: Option<String>,
    },
    Alias(usize),
    Seq {
        items: Vec<Value>,
        anchor: usize,
        tag: Option<String>,
    },
    Map {
        entries: Vec<(Value, Value)>,
        anchor: usize,
        tag: Option<String>,
    },
}

impl Value {
    fn of(node: &Node) -> Self {
        let (anchor, tag) = (node.anchor, node.tag.clone());
        match &node.kind {
            Kind::Scalar { value, style } => Value::Scalar {
                value: value.clone(),
                plain: *style == ScalarStyle::Plain,
                anchor,
                tag,
            },
            Kind::Alias(id) => Value::Alias(*id),
            Kind::Seq { items, .. } => Value::Seq {
                items: items.iter().map(Value::of).collect(),
                anchor,
                tag,
            },
            Kind::Map { entries, .. } => Value::Map {
                entries: entries
                    .iter()
                    .map(|(k, v)| (Value::of(k), Value::of(v)))
                    .collect(),
                anchor,
                tag,
            },
        }
    }

    fn text(&self) -> Option<&str> {
        match self {
            Value::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Map { entries, .. } => entries
                .iter()
                .find(|(k, _)| k.text() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The index of the child `hop` leads to (first match).
    fn find(&self, hop: Hop<'_>) -> Option<usize> {
        match (self, hop) {
            (Value::Map { entries, .. }, Hop::Key(key)) => {
                entries.iter().position(|(k, _)| k.text() == Some(key))
            }
            (Value::Seq { items, .. }, Hop::Entry(name)) => items
                .iter()
                .position(|item| item.get("name").and_then(Value::text) == Some(name)),
            (Value::Seq { items, .. }, Hop::Item(prefix)) => items
                .iter()
                .position(|item| item.text().is_some_and(|t| t.starts_with(prefix))),
            _ => None,
        }
    }

    fn child(&mut self, i: usize) -> &mut Value {
        match self {
            Value::Map { entries, .. } => &mut entries[i].1,
            Value::Seq { items, .. } => &mut items[i],
            _ => unreachable!("only containers have children"),
        }
    }

    fn remove(&mut self, i: usize) {
        match self {
            Value::Map { entries, .. } => {
                entries.remove(i);
            }
            Value::Seq { items, .. } => {
                items.remove(i);
            }
            _ => unreachable!("only containers have children"),
        }
    }

    /// Whether this container, reached by `hop`, holds nothing anyray could have left.
    fn is_empty(&self, hop: Hop<'_>) -> bool {
        match self {
            Value::Empty => true,
            Value::Scalar {
                value,
                plain: true,
                anchor: 0,
                tag: None,
            } => value.is_empty(),
            Value::Map {
                entries,
                anchor: 0,
                tag: None,
            } => match hop {
                Hop::Entry(name) => entries
                    .iter()
                    .all(|(k, v)| k.text() == Some("name") && v.text() == Some(name)),
                _ => entries.is_empty(),
            },
            Value::Seq {
                items,
                anchor: 0,
                tag: None,
            } => items.is_empty(),
            _ => false,
        }
    }

    /// Takes out what `hops` lead to; containers on the way left empty become
    /// [`Value::Empty`], or disappear with `prune` (an edit that creates them).
    fn strip(&mut self, hops: &[Hop<'_>], prune: bool) {
        let Some((&hop, rest)) = hops.split_first() else {
            return;
        };
        let Some(i) = self.find(hop) else {
            return;
        };
        if rest.is_empty() {
            self.remove(i);
            return;
        }
        let child = self.child(i);
        child.strip(rest, prune);
        if child.is_empty(hop) {
            if prune {
                self.remove(i);
            } else {
                *child = Value::Empty;
            }
        }
    }
}

/// The document as compared: `hops` taken out, an empty top level as [`Value::Empty`].
pub(super) fn normalized(tree: &Tree, hops: &[Hop<'_>], prune: bool) -> Value {
    let mut root = tree.root.as_ref().map_or(Value::Empty, Value::of);
    root.strip(hops, prune);
    if root.is_empty(Hop::Key("")) {
        root = Value::Empty;
    }
    root
}

/// Whether a named entry holds only its `name` (what is left once anyray's keys are gone).
pub(super) fn only_named(node: &Node, name: &str) -> bool {
    Value::of(node).is_empty(Hop::Entry(name))
}
