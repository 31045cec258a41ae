//! The document as saphyr-parser reads it: every node with the byte range it occupies,
//! its anchor and tag, and whether it is written in flow style. This is what the editor
//! looks things up in, and what it compares before and after an edit.

use std::borrow::Cow;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span, StrInput, Tag};

use crate::edit::EditError;
use crate::error::line_col;

#[derive(Debug, Clone)]
pub(super) struct Node {
    pub kind: Kind,
    /// The anchor id (`&name`); 0 when there is none.
    pub anchor: usize,
    pub tag: Option<String>,
    /// Byte offset of the node's first character (its anchor or tag, if any).
    pub start: usize,
    /// Byte offset just after its last character (the closing quote, bracket, or the end
    /// of its last child); never a comment or the line break after it.
    pub end: usize,
}

#[derive(Debug, Clone)]
pub(super) enum Kind {
    Scalar {
        value: String,
        style: ScalarStyle,
    },
    Seq {
        items: Vec<Node>,
        flow: bool,
    },
    Map {
        entries: Vec<(Node, Node)>,
        flow: bool,
    },
    Alias(usize),
}

impl Node {
    /// What the node holds, for messages: "a mapping", "a list", "a string", …
    pub(super) fn describe(&self) -> &'static str {
        match &self.kind {
            Kind::Map { .. } => "a mapping",
            Kind::Seq { .. } => "a list",
            Kind::Alias(_) => "an alias",
            Kind::Scalar {
                style: ScalarStyle::Literal | ScalarStyle::Folded,
                ..
            } => "a block scalar",
            Kind::Scalar {
                value,
                style: ScalarStyle::Plain,
            } => super::scalar::non_string(value).unwrap_or("a string"),
            Kind::Scalar { .. } => "a string",
        }
    }

    /// A key with nothing after its `:` (plain, empty): the one null anyray may fill in.
    pub(super) fn is_empty_value(&self) -> bool {
        self.start == self.end
            && self.anchor == 0
            && self.tag.is_none()
            && matches!(&self.kind, Kind::Scalar { value, style: ScalarStyle::Plain } if value.is_empty())
    }

    /// The string a scalar holds, whatever its style.
    pub(super) fn text(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    pub(super) fn is_flow(&self) -> bool {
        matches!(
            self.kind,
            Kind::Seq { flow: true, .. } | Kind::Map { flow: true, .. }
        )
    }

    /// The value under `key` in a mapping, first match.
    pub(super) fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            Kind::Map { entries, .. } => entries
                .iter()
                .find(|(k, _)| k.text() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// Every node of this subtree, depth first.
    pub(super) fn walk(&self, visit: &mut dyn FnMut(&Node)) {
        visit(self);
        match &self.kind {
            Kind::Seq { items, .. } => items.iter().for_each(|n| n.walk(visit)),
            Kind::Map { entries, .. } => entries.iter().for_each(|(k, v)| {
                k.walk(visit);
                v.walk(visit);
            }),
            _ => {}
        }
    }
}

/// A parsed file: one document at most.
#[derive(Debug, Clone)]
pub(super) struct Tree {
    /// `None` for a file with no document (empty, or only comments) or an empty one (`---`).
    pub root: Option<Node>,
}

impl Tree {
    /// The node an alias refers to.
    pub(super) fn anchored(&self, id: usize) -> Option<&Node> {
        fn find(node: &Node, id: usize) -> Option<&Node> {
            if node.anchor == id {
                return Some(node);
            }
            match &node.kind {
                Kind::Seq { items, .. } => items.iter().find_map(|n| find(n, id)),
                Kind::Map { entries, .. } => entries
                    .iter()
                    .find_map(|(k, v)| find(k, id).or_else(|| find(v, id))),
                _ => None,
            }
        }
        find(self.root.as_ref()?, id)
    }
}

fn scan_error(e: &ScanError) -> EditError {
    EditError::at(
        Some((e.marker().line(), e.marker().col() + 1)),
        format!("invalid YAML: {}", e.info()),
    )
}

/// Parses `text` (without a BOM) into a tree. More than one document is refused: the
/// tools read only the first, and an edit could not say which one it meant.
pub(super) fn parse(text: &str) -> Result<Tree, EditError> {
    let mut builder = Builder {
        text,
        parser: Parser::new_from_str(text),
        offsets: text
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(text.len()))
            .collect(),
    };
    let mut root = None;
    let mut documents = 0;
    loop {
        let (event, span) = builder.next()?;
        match event {
            Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
            Event::StreamEnd => break,
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(EditError::at(
                        Some(line_col(text, builder.offset(span.start.index()))),
                        "the file holds more than one YAML document (a second `---`)",
                    )
                    .with_hint(
                        "the tools read only the first document: keep one, then run the command again",
                    ));
                }
            }
            event => {
                let node = builder.node(event, span)?;
                // An empty document (`---` alone) holds a null: nothing.
                let empty = node.anchor == 0
                    && node.tag.is_none()
                    && matches!(&node.kind, Kind::Scalar { value, style: ScalarStyle::Plain } if value.is_empty());
                root = (!empty).then_some(node);
            }
        }
    }
    Ok(Tree { root })
}

struct Builder<'a> {
    text: &'a str,
    parser: Parser<'a, StrInput<'a>>,
    /// Byte offset of each character: saphyr's markers count characters.
    offsets: Vec<usize>,
}

impl<'a> Builder<'a> {
    fn next(&mut self) -> Result<(Event<'a>, Span), EditError> {
        match self.parser.next_event() {
            Some(Ok(pair)) => Ok(pair),
            Some(Err(e)) => Err(scan_error(&e)),
            None => Ok((Event::StreamEnd, Span::default())),
        }
    }

    fn offset(&self, char_index: usize) -> usize {
        self.offsets[char_index.min(self.offsets.len() - 1)]
    }

    /// Just after the `]` or `}` a flow collection's end event starts at (its span, like a
    /// quoted scalar's, runs on over a comment after it).
    fn closing(&self, span: Span) -> usize {
        let at = self.offset(span.start.index());
        at + self.text[at..].chars().next().map_or(0, char::len_utf8)
    }

    fn node(&mut self, event: Event<'a>, span: Span) -> Result<Node, EditError> {
        let start = self.offset(span.start.index());
        let span_end = self.offset(span.end.index());
        let tag_text = |tag: Option<Cow<'_, Tag>>| tag.map(|t| t.to_string());
        Ok(match event {
            Event::Scalar(value, style, anchor, tag) => {
                let end = match style {
                    // saphyr's span of a quoted scalar runs on over the spaces and the
                    // comment after it; find the closing quote instead.
                    ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => {
                        quoted_end(self.text, start).unwrap_or(span_end)
                    }
                    // A block scalar's span runs on to the next line's indentation: end
                    // it at its last line break, so the scalar's last line is its own.
                    ScalarStyle::Literal | ScalarStyle::Folded => {
                        match self.text[start..span_end].rfind('\n') {
                            Some(i)
                                if self.text[start + i + 1..span_end]
                                    .trim_start_matches([' ', '\t'])
                                    .is_empty() =>
                            {
                                start + i
                            }
                            _ => span_end,
                        }
                    }
                    ScalarStyle::Plain => span_end,
                };
                Node {
                    kind: Kind::Scalar {
                        value: value.into_owned(),
                        style,
                    },
                    anchor,
                    tag: tag_text(tag),
                    start,
                    end,
                }
            }
            Event::Alias(id) => Node {
                kind: Kind::Alias(id),
                anchor: 0,
                tag: None,
                start,
                end: span_end,
            },
            Event::SequenceStart(anchor, tag) => {
                let flow = self.text[start..span_end].trim_end().ends_with('[');
                let mut items = Vec::new();
                let end = loop {
                    let (event, span) = self.next()?;
                    match event {
                        Event::SequenceEnd => break self.closing(span),
                        event => items.push(self.node(event, span)?),
                    }
                };
                let end = if flow {
                    end
                } else {
                    items.iter().map(|n| n.end).max().unwrap_or(start)
                };
                Node {
                    kind: Kind::Seq { items, flow },
                    anchor,
                    tag: tag_text(tag),
                    start,
                    end,
                }
            }
            Event::MappingStart(anchor, tag) => {
                let flow = self.text[start..span_end].trim_end().ends_with('{');
                let mut entries = Vec::new();
                let end = loop {
                    let (event, span) = self.next()?;
                    match event {
                        Event::MappingEnd => break self.closing(span),
                        event => {
                            let key = self.node(event, span)?;
                            let (event, span) = self.next()?;
                            let value = self.node(event, span)?;
                            entries.push((key, value));
                        }
                    }
                };
                let end = if flow {
                    end
                } else {
                    entries
                        .iter()
                        .map(|(k, v)| k.end.max(v.end))
                        .max()
                        .unwrap_or(start)
                };
                Node {
                    kind: Kind::Map { entries, flow },
                    anchor,
                    tag: tag_text(tag),
                    start,
                    end,
                }
            }
            other => {
                return Err(EditError::at(
                    Some(line_col(self.text, start)),
                    format!("unexpected YAML event {other:?}"),
                ));
            }
        })
    }
}

/// The byte offset after the closing quote of the quoted scalar whose node starts at
/// `start` (after any `&anchor` and `!tag` in front of it).
fn quoted_end(text: &str, start: usize) -> Option<usize> {
    let mut rest = &text[start..];
    // Skip node properties and the space between them and the scalar.
    loop {
        rest = rest.trim_start_matches([' ', '\t', '\r', '\n']);
        if rest.starts_with(['&', '!']) {
            let len = rest.find([' ', '\t', '\r', '\n']).unwrap_or(rest.len());
            rest = &rest[len..];
        } else {
            break;
        }
    }
    let open = text.len() - rest.len();
    let quote = rest.chars().next()?;
    let body = &text[open + 1..];
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match (quote, c) {
            ('"', '\\') => {
                chars.next();
            }
            ('"', '"') => return Some(open + 1 + i + 1),
            ('\'', '\'') => {
                if body[i + 1..].starts_with('\'') {
                    chars.next();
                } else {
                    return Some(open + 1 + i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalars(text: &str) -> Vec<(String, String)> {
        let tree = parse(text).unwrap();
        let mut out = Vec::new();
        tree.root.unwrap().walk(&mut |n| {
            if let Some(value) = n.text() {
                out.push((value.to_string(), text[n.start..n.end].to_string()));
            }
        });
        out
    }

    #[test]
    fn quoted_scalars_end_at_their_closing_quote() {
        let text =
            "a: \"x\\\"y\"   # c\nb: 'it''s'  # d\nl:\n- &q \"z\"  # e\nf: [ \"p\" , 'w' ]\n";
        assert_eq!(
            scalars(text),
            [
                ("a", "a"),
                ("x\"y", "\"x\\\"y\""),
                ("b", "b"),
                ("it's", "'it''s'"),
                ("l", "l"),
                ("z", "&q \"z\""),
                ("f", "f"),
                ("p", "\"p\""),
                ("w", "'w'"),
            ]
            .map(|(a, b)| (a.to_string(), b.to_string()))
        );
    }

    #[test]
    fn offsets_are_bytes_and_collections_end_at_their_content() {
        let text = "é: ü # c\r\nm:\r\n  - [a, b]  # c\r\n  - k: v\r\n# end\r\n";
        let root = parse(text).unwrap().root.unwrap();
        let value = root.get("é").unwrap();
        assert_eq!(&text[value.start..value.end], "ü");
        let list = root.get("m").unwrap();
        assert!(text[..list.end].ends_with("k: v"));
        let Kind::Seq { items, flow: false } = &list.kind else {
            panic!("a block list")
        };
        assert!(items[0].is_flow());
        assert_eq!(&text[items[0].start..items[0].end], "[a, b]");
    }

    #[test]
    fn empty_documents_have_no_root() {
        for text in ["", "# only a comment\n", "---\n", "--- # c\n...\n"] {
            assert!(parse(text).unwrap().root.is_none(), "{text:?}");
        }
    }

    #[test]
    fn a_second_document_is_refused_with_its_position() {
        let err = parse("a: 1\n---\nb: 2\n").unwrap_err();
        assert_eq!(err.position, Some((2, 1)));
        assert!(err.message.contains("more than one"), "{}", err.message);
    }

    #[test]
    fn syntax_errors_have_a_position() {
        let err = parse("a: 1\nb: [x\n").unwrap_err();
        assert!(err.message.starts_with("invalid YAML"), "{}", err.message);
        assert!(err.position.is_some());
    }

    #[test]
    fn aliases_find_their_anchor() {
        let tree = parse("a: &x {k: v}\nb: *x\n").unwrap();
        let Kind::Alias(id) = tree.root.as_ref().unwrap().get("b").unwrap().kind else {
            panic!("an alias")
        };
        assert!(tree.anchored(id).unwrap().get("k").is_some());
    }
}
