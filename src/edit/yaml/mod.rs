//! YAML (Continue's config.yaml, aider's .aider.conf.yml, Goose's config.yaml) by
//! minimal text edits, each one checked by re-parsing.
//!
//! Why not a YAML library's tree: no Rust crate writes YAML back with its comments,
//! quoting and layout, and these files are hand-written and commented. So the editor
//! never re-serialises anything. It reads the file with a spec-compliant parser that
//! reports where each node is (saphyr-parser's events and spans), then splices text:
//!
//! - a managed value that exists: only its scalar's bytes are replaced (its key, its
//!   comment, the line around it stay);
//! - one that does not: new `key: value` lines (or a `- item`) go after the last line of
//!   the block mapping or list that should hold it, indented like its siblings, with the
//!   file's line breaks (a new nested container uses the file's indentation step);
//! - a removal takes out exactly the lines of that entry or item.
//!
//! Every edit is then proven: the new text is parsed again, and the two trees must be
//! equal once the managed path is taken out of both (containers on the path that are
//! left empty count as absent); a set must read back its value. Anything else that
//! differs, or a text that no longer parses, and the edit is refused and the file left
//! as it was. That check, not the splicing code, is the guarantee: a shape the splicing
//! gets wrong is refused, never written.
//!
//! Refused up front, with the line and column, because the tools would disagree or the
//! edit could not be undone exactly: more than one document; a top level that is not a
//! mapping; a tab in the indentation; on the managed path, an alias, an anchor, a tag or
//! a merge key (`<<`, which aider applies and Continue rejects); a key, named entry or
//! prefixed item that appears twice (PyYAML keeps the last, Continue fails); a block
//! scalar (`|`, `>`) or a non-string at the managed spot; adding to a flow collection
//! (`[…]`, `{…}`) — a value already inside one is replaced in place.
//!
//! A value is written plain when every YAML 1.1 and 1.2 reader takes it as that same
//! string, double-quoted otherwise ([`scalar`]); restore puts back the exact text the
//! value had (its quotes, its escapes). The BOM and CRLF line breaks are kept.

mod compare;
mod scalar;
mod tree;

use std::ops::Range;

use saphyr_parser::ScalarStyle;

use super::{EditError, Editor, KeyPath, Scalar, Seg, split_bom};
use crate::error::line_col;
use tree::{Kind, Node, Tree};

pub struct YamlDoc {
    bom: bool,
    /// The text after the BOM.
    text: String,
    tree: Tree,
}

/// Parses a document. An empty (or comment-only) text is an empty mapping.
pub fn parse(text: &str) -> Result<YamlDoc, EditError> {
    let (bom, body) = split_bom(text);
    let tree = tree::parse(body)?;
    check_root(body, &tree)?;
    check_tabs(body, &tree)?;
    Ok(YamlDoc {
        bom,
        text: body.to_string(),
        tree,
    })
}

fn check_root(text: &str, tree: &Tree) -> Result<(), EditError> {
    match &tree.root {
        Some(root) if !matches!(root.kind, Kind::Map { .. }) => Err(EditError::at(
            Some(line_col(text, root.start)),
            format!("the top level is {}, not a mapping", root.describe()),
        )),
        _ => Ok(()),
    }
}

/// Refuses a tab in the indentation of a line with content: YAML indents with spaces
/// only, and where a tab is allowed the readers disagree. Comment lines and the inside
/// of block scalars (where a tab is text) are fine.
fn check_tabs(text: &str, tree: &Tree) -> Result<(), EditError> {
    let mut block_scalars = Vec::new();
    if let Some(root) = &tree.root {
        root.walk(&mut |n| {
            if matches!(
                n.kind,
                Kind::Scalar {
                    style: ScalarStyle::Literal | ScalarStyle::Folded,
                    ..
                }
            ) {
                block_scalars.push(line_start(text, n.start)..n.end);
            }
        });
    }
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
        let rest = line[indent..].trim_end_matches(['\r', '\n']);
        let inside = block_scalars.iter().any(|r| r.contains(&offset));
        if let Some(tab) = line[..indent].find('\t')
            && !rest.is_empty()
            && !rest.starts_with('#')
            && !inside
        {
            return Err(EditError::at(
                Some(line_col(text, offset + tab)),
                "a tab in the indentation",
            )
            .with_hint(
                "YAML indents with spaces: replace the tab with spaces, then run the command again",
            ));
        }
        offset += line.len();
    }
    Ok(())
}

/// One step of a path as the editor follows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hop<'p> {
    Key(&'p str),
    /// The mapping item of a list whose `name` is this.
    Entry(&'p str),
    /// The string item of a list that starts with this.
    Item(&'p str),
}

/// The hops of `path`. For the string at a path (`to_value`), a final named entry's
/// string is its `value`, as in the JSON editor.
fn hops(path: &KeyPath, to_value: bool) -> Result<Vec<Hop<'_>>, EditError> {
    let segs = path.segs();
    let unsupported = || {
        EditError::at(
            None,
            format!("`{path}` is not a key path YAML files support"),
        )
        .with_hint("this is a bug in anyray's target definition; please report it")
    };
    if !matches!(segs.first(), Some(Seg::Key(_))) {
        return Err(unsupported());
    }
    let mut hops = Vec::with_capacity(segs.len() + 1);
    for (i, seg) in segs.iter().enumerate() {
        hops.push(match seg {
            Seg::Key(k) => Hop::Key(k),
            Seg::Named(n) => Hop::Entry(n),
            Seg::Prefixed(p) if i + 1 == segs.len() => Hop::Item(p),
            Seg::Prefixed(_) | Seg::Entry { .. } => return Err(unsupported()),
        });
    }
    if to_value && matches!(hops.last(), Some(Hop::Entry(_))) {
        hops.push(Hop::Key("value"));
    }
    Ok(hops)
}

/// One matched hop: the container it was found in, the key (for a mapping entry), and
/// the node it leads to.
struct Step<'t> {
    container: &'t Node,
    key: Option<&'t Node>,
    node: &'t Node,
}

/// How far a path exists in the document.
struct Walk<'t> {
    steps: Vec<Step<'t>>,
    /// Whether a container on the way is a flow collection.
    flow: bool,
}

/// How new lines are laid out: the file's own line break and indentation steps.
struct Layout {
    newline: &'static str,
    /// The indentation step of a mapping nested under a key.
    indent: usize,
    /// How far a list under a key is indented (0: `key:` then `- item` at the same column).
    seq_indent: usize,
}

fn line_start(text: &str, offset: usize) -> usize {
    text[..offset].rfind('\n').map_or(0, |i| i + 1)
}

/// The offset just after the line break that ends the line holding `offset`.
fn next_line(text: &str, offset: usize) -> Option<usize> {
    text[offset..].find('\n').map(|i| offset + i + 1)
}

fn splice(text: &str, range: Range<usize>, with: &str) -> String {
    let mut out = String::with_capacity(text.len() + with.len());
    out.push_str(&text[..range.start]);
    out.push_str(with);
    out.push_str(&text[range.end..]);
    out
}

/// Where a node sits, for messages: "`models[gw]`", or "the top level".
fn place(path: &KeyPath, len: usize) -> String {
    match len.min(path.segs().len()) {
        0 => "the top level".to_string(),
        n => format!("`{}`", KeyPath(path.segs()[..n].to_vec())),
    }
}

impl YamlDoc {
    fn position(&self, offset: usize) -> Option<(usize, usize)> {
        Some(line_col(&self.text, offset))
    }

    fn column(&self, offset: usize) -> usize {
        self.text[line_start(&self.text, offset)..offset]
            .chars()
            .count()
    }

    /// The offset of the `-` that starts a block list item.
    fn dash(&self, item: &Node) -> Option<usize> {
        let before = self.text[..item.start].trim_end_matches([' ', '\t', '\r', '\n']);
        before.ends_with('-').then(|| before.len() - 1)
    }

    fn layout(&self) -> Layout {
        let newline = if self.text.contains("\r\n") {
            "\r\n"
        } else {
            "\n"
        };
        let (mut indent, mut seq_indent) = (None, None);
        if let Some(root) = &self.tree.root {
            root.walk(&mut |n| {
                let Kind::Map {
                    entries,
                    flow: false,
                } = &n.kind
                else {
                    return;
                };
                for (key, value) in entries {
                    let key_col = self.column(key.start);
                    match &value.kind {
                        Kind::Map {
                            entries: inner,
                            flow: false,
                        } if indent.is_none() => {
                            let col = self.column(inner[0].0.start);
                            indent = (col > key_col).then(|| col - key_col);
                        }
                        Kind::Seq { items, flow: false } if seq_indent.is_none() => {
                            seq_indent = self
                                .dash(&items[0])
                                .map(|d| self.column(d))
                                .filter(|&col| col >= key_col)
                                .map(|col| col - key_col);
                        }
                        _ => {}
                    }
                }
            });
        }
        let indent = indent.unwrap_or(2);
        Layout {
            newline,
            indent,
            seq_indent: seq_indent.unwrap_or(indent),
        }
    }

    /// Refuses a node on the managed path that an edit cannot change safely.
    fn check_on_path(&self, node: &Node, what: &str) -> Result<(), EditError> {
        let refuse = |at: usize, message: String, hint: &str| {
            Err(EditError::at(self.position(at), message).with_hint(hint))
        };
        if let Kind::Alias(_) = node.kind {
            return refuse(
                node.start,
                format!("{what} is an alias (`*name`) of a value elsewhere in the file"),
                "anyray does not edit through aliases: write the value out in place of the alias, then run the command again",
            );
        }
        if node.anchor != 0 {
            return refuse(
                node.start,
                format!(
                    "{what} carries an anchor (`&name`), so aliases elsewhere would change with it"
                ),
                "remove the anchor (write its value out where it is used), then run the command again",
            );
        }
        if let Some(tag) = &node.tag {
            return refuse(
                node.start,
                format!("{what} has a tag (`{tag}`)"),
                "remove the tag, then run the command again",
            );
        }
        if let Kind::Map { entries, .. } = &node.kind
            && let Some((merge, _)) = entries.iter().find(|(k, _)| {
                matches!(&k.kind, Kind::Scalar { value, style: ScalarStyle::Plain } if value == "<<")
            })
        {
            return refuse(
                merge.start,
                format!("{what} uses a merge key (`<<`), which aider applies and Continue rejects"),
                "write the merged keys out in place of `<<`, then run the command again",
            );
        }
        Ok(())
    }

    /// The one node matched by `hop` among a container's children, refusing a second match.
    fn lookup<'t>(
        &'t self,
        container: &'t Node,
        hop: Hop<'_>,
        what: &str,
    ) -> Result<Option<(Option<&'t Node>, &'t Node)>, EditError> {
        let mut found: Vec<(Option<&Node>, &Node)> = Vec::new();
        match (&container.kind, hop) {
            (Kind::Map { entries, .. }, Hop::Key(key)) => {
                for (k, v) in entries {
                    if let Kind::Alias(_) = k.kind {
                        self.check_on_path(k, &format!("a key of {what}"))?;
                    }
                    if k.text() == Some(key) {
                        found.push((Some(k), v));
                    }
                }
            }
            (Kind::Seq { items, .. }, Hop::Entry(_) | Hop::Item(_)) => {
                for item in items {
                    let target = match item.kind {
                        Kind::Alias(id) => self.tree.anchored(id).unwrap_or(item),
                        _ => item,
                    };
                    if let Kind::Map { entries, .. } = &target.kind
                        && let Hop::Entry(_) = hop
                        && entries.iter().any(|(k, _)| k.text() == Some("<<"))
                    {
                        self.check_on_path(target, &format!("an entry of {what}"))?;
                    }
                    if item_matches(target, hop) {
                        found.push((None, item));
                    }
                }
            }
            (_, Hop::Key(_)) => return Err(self.unexpected(container, what, "a mapping")),
            (_, _) => return Err(self.unexpected(container, what, "a list")),
        }
        match found.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(*one)),
            [first, second, ..] => {
                let at = |(k, v): &(Option<&Node>, &Node)| {
                    let (line, col) = line_col(&self.text, k.unwrap_or(v).start);
                    format!("{line}:{col}")
                };
                let (what_twice, thing) = match hop {
                    Hop::Key(k) => (format!("`{k}` in {what}"), "key"),
                    Hop::Entry(n) => (format!("the entry named `{n}` in {what}"), "entry"),
                    Hop::Item(p) => (format!("an item starting with `{p}` in {what}"), "item"),
                };
                Err(EditError::at(
                    Some(line_col(&self.text, second.0.unwrap_or(second.1).start)),
                    format!(
                        "{what_twice} appears twice, at {} and {}; the tools disagree on which one counts",
                        at(first),
                        at(second)
                    ),
                )
                .with_hint(format!("remove one {thing}, then run the command again")))
            }
        }
    }

    fn unexpected(&self, node: &Node, what: &str, expected: &str) -> EditError {
        EditError::at(
            self.position(node.start),
            format!(
                "{what} holds {}, where anyray expects {expected}",
                node.describe()
            ),
        )
        .with_hint("change or remove that value by hand, then run the command again")
    }

    /// Follows `hops` as far as they exist, checking every node on the way.
    fn walk<'t>(&'t self, path: &KeyPath, hops: &[Hop<'_>]) -> Result<Walk<'t>, EditError> {
        let mut walk = Walk {
            steps: Vec::new(),
            flow: false,
        };
        let Some(mut current) = self.tree.root.as_ref() else {
            return Ok(walk);
        };
        for (i, &hop) in hops.iter().enumerate() {
            let what = place(path, i);
            self.check_on_path(current, &what)?;
            if current.is_empty_value() {
                break;
            }
            walk.flow |= current.is_flow();
            let Some((key, node)) = self.lookup(current, hop, &what)? else {
                break;
            };
            walk.steps.push(Step {
                container: current,
                key,
                node,
            });
            current = node;
        }
        Ok(walk)
    }

    /// The string of the scalar at the end of a path; anything else is an error.
    fn leaf_string<'t>(&self, path: &KeyPath, leaf: &'t Node) -> Result<&'t str, EditError> {
        let what = format!("`{path}`");
        self.check_on_path(leaf, &what)?;
        match &leaf.kind {
            Kind::Scalar {
                style: ScalarStyle::Literal | ScalarStyle::Folded,
                ..
            } => Err(EditError::at(
                self.position(leaf.start),
                format!("{what} is a block scalar (`|` or `>`)"),
            )
            .with_hint("write it as a one-line value, then run the command again")),
            Kind::Scalar { value, style } => match style {
                ScalarStyle::Plain if scalar::non_string(value).is_some() => {
                    Err(self.unexpected(leaf, &what, "a string"))
                }
                _ => Ok(value),
            },
            _ => Err(self.unexpected(leaf, &what, "a string")),
        }
    }

    /// The text with new lines for the part of `hops` that does not exist yet.
    fn insert(
        &self,
        path: &KeyPath,
        walk: &Walk<'_>,
        hops: &[Hop<'_>],
        written: &str,
    ) -> Result<String, EditError> {
        let rest = &hops[walk.steps.len()..];
        let layout = self.layout();
        let under_key = |key: &Node| {
            self.column(key.start)
                + match rest[0] {
                    Hop::Key(_) => layout.indent,
                    _ => layout.seq_indent,
                }
        };
        // The new lines' indentation, and the offset whose line they follow.
        let (indent, after) = match walk.steps.last().map(|s| (s.key, s.node)) {
            None if self.tree.root.is_none() => (0, None),
            Some((Some(key), node)) if node.is_empty_value() => (under_key(key), Some(node.end)),
            reached => {
                let node =
                    reached.map_or_else(|| self.tree.root.as_ref().expect("checked"), |r| r.1);
                if node.is_flow() {
                    return Err(EditError::at(
                        self.position(node.start),
                        format!(
                            "{} is written in flow style (`[…]` or `{{…}}`); anyray adds entries only to block mappings and lists",
                            place(path, walk.steps.len())
                        ),
                    )
                    .with_hint("write it in block style (one entry per line), then run the command again"));
                }
                let first = match &node.kind {
                    Kind::Map { entries, .. } => entries.first().map(|(k, _)| k.start),
                    Kind::Seq { items, .. } => items.first().and_then(|item| self.dash(item)),
                    _ => None,
                };
                let first = first.ok_or_else(|| {
                    EditError::at(
                        self.position(node.start),
                        "an unusual layout anyray cannot add to",
                    )
                })?;
                (self.column(first), Some(node.end))
            }
        };
        let mut lines = Vec::new();
        fragment(rest, written, indent, &layout, &mut lines);
        let block = lines.join(layout.newline);
        let nl = layout.newline;
        let text = &self.text;
        Ok(match after.and_then(|end| next_line(text, end)) {
            Some(at) => splice(text, at..at, &format!("{block}{nl}")),
            None if text.is_empty() || text.ends_with('\n') => format!("{text}{block}{nl}"),
            None => {
                if let Some(scalar) = self.block_scalar_ending_at(text.len()) {
                    // A line break after it would change its text for PyYAML, though not
                    // for saphyr or Continue's parser: the check cannot see this one.
                    return Err(EditError::at(
                        self.position(scalar),
                        "the file ends inside a block scalar (`|` or `>`) without a final line break",
                    )
                    .with_hint("add a line break at the end of the file, then run the command again"));
                }
                format!("{text}{nl}{block}")
            }
        })
    }

    /// The lines an entry or item occupies, with its line break; refused when something
    /// else shares them.
    fn lines_of(&self, step: &Step<'_>, what: &str) -> Result<Range<usize>, EditError> {
        let first = match step.key {
            Some(key) => Some(key.start),
            None => self.dash(step.node),
        };
        let text = &self.text;
        let shared = || {
            EditError::at(
                self.position(step.node.start),
                format!("{what} shares its line with other content"),
            )
            .with_hint("put it on a line of its own, then run the command again")
        };
        let first = first.ok_or_else(shared)?;
        if step.container.is_flow() {
            return Err(shared());
        }
        let mut start = line_start(text, first);
        if !text[start..first].chars().all(|c| c == ' ') {
            return Err(shared());
        }
        let end = next_line(text, step.node.end).unwrap_or(text.len());
        if end == text.len()
            && !text.ends_with('\n')
            && start > 0
            && self.block_scalar_ending_at(start - 1).is_none()
        {
            // The file's last line, without a line break: take the one before it (unless
            // it ends a block scalar's text, which it is part of for PyYAML).
            start -= if text[..start].ends_with("\r\n") {
                2
            } else {
                1
            };
        }
        Ok(start..end)
    }

    /// The start of a block scalar whose text (its last line break included, if any)
    /// ends at `offset`, blanks aside.
    fn block_scalar_ending_at(&self, offset: usize) -> Option<usize> {
        let mut found = None;
        if let Some(root) = &self.tree.root {
            root.walk(&mut |n| {
                let block = matches!(
                    n.kind,
                    Kind::Scalar {
                        style: ScalarStyle::Literal | ScalarStyle::Folded,
                        ..
                    }
                );
                let blank = |gap: &str| gap.chars().all(|c| c == ' ' || c == '\t');
                if block && self.text.get(n.end..offset).is_some_and(blank) {
                    found = Some(n.start);
                }
            });
        }
        found
    }

    /// Accepts `text` as the new document only if it parses, differs from this one only
    /// at `hops`, and (for a set) holds `expect` there.
    fn verified(
        &self,
        path: &KeyPath,
        hops: &[Hop<'_>],
        text: String,
        prune: bool,
        expect: Option<&str>,
    ) -> Result<YamlDoc, EditError> {
        let refuse = |why: &str| {
            EditError::at(None, format!("anyray cannot change `{path}` safely: {why}")).with_hint(
                "make this change by hand, or move the file aside; the file's shape is unusual, please report it",
            )
        };
        let tree = tree::parse(&text)
            .map_err(|e| refuse(&format!("the result would not parse ({})", e.message)))?;
        check_root(&text, &tree).map_err(|_| refuse("the top level would change"))?;
        if compare::normalized(&self.tree, hops, prune) != compare::normalized(&tree, hops, prune) {
            return Err(refuse("the edit would change other values in the file"));
        }
        let doc = YamlDoc {
            bom: self.bom,
            text,
            tree,
        };
        if let Some(value) = expect {
            let held = doc.get(path).ok().flatten().map(|s| s.value);
            if held.as_deref() != Some(value) {
                return Err(refuse("the value would not read back as written"));
            }
        }
        Ok(doc)
    }

    /// Sets the string at `path`: the prior's exact text first when restoring, else the
    /// value written plain or double-quoted.
    fn put(&mut self, path: &KeyPath, value: &str, raw: Option<&str>) -> Result<(), EditError> {
        let hops = hops(path, true)?;
        if let Some(Hop::Item(prefix)) = hops.last()
            && !value.starts_with(prefix)
        {
            return Err(EditError::at(
                None,
                format!("the value for `{path}` must start with `{prefix}`"),
            )
            .with_hint("this is a bug in anyray's target definition; please report it"));
        }
        let walk = self.walk(path, &hops)?;
        let complete = walk.steps.len() == hops.len();
        let leaf = walk.steps.last().filter(|_| complete).map(|s| s.node);
        if let Some(leaf) = leaf {
            self.leaf_string(path, leaf)?;
        }
        let mut attempts: Vec<String> = raw.map(str::to_string).into_iter().collect();
        attempts.push(scalar::render(value, walk.flow));
        let mut outcome = Err(EditError::at(None, "nothing to write"));
        for written in attempts {
            let text = match leaf {
                Some(leaf) => splice(&self.text, leaf.start..leaf.end, &written),
                None => self.insert(path, &walk, &hops, &written)?,
            };
            outcome = self.verified(path, &hops, text, true, Some(value));
            if outcome.is_ok() {
                break;
            }
        }
        *self = outcome?;
        Ok(())
    }

    /// Removes the lines of what `hops` lead to, when `removable` says so.
    fn remove_lines(
        &mut self,
        path: &KeyPath,
        hops: &[Hop<'_>],
        removable: impl Fn(&Node) -> bool,
    ) -> Result<bool, EditError> {
        let walk = self.walk(path, hops)?;
        let Some(step) = walk.steps.last().filter(|_| walk.steps.len() == hops.len()) else {
            return Ok(false);
        };
        if !removable(step.node) {
            return Ok(false);
        }
        let lines = self.lines_of(step, &format!("`{path}`"))?;
        let text = splice(&self.text, lines, "");
        *self = self.verified(path, hops, text, false, None)?;
        Ok(true)
    }
}

fn item_matches(item: &Node, hop: Hop<'_>) -> bool {
    match hop {
        Hop::Entry(name) => item.get("name").and_then(Node::text) == Some(name),
        Hop::Item(prefix) => {
            matches!(&item.kind, Kind::Scalar { value, .. } if value.starts_with(prefix))
        }
        Hop::Key(_) => false,
    }
}

/// The lines that create `hops` (what is missing of a path) at `indent`.
fn fragment(
    hops: &[Hop<'_>],
    written: &str,
    indent: usize,
    layout: &Layout,
    out: &mut Vec<String>,
) {
    let pad = " ".repeat(indent);
    match hops {
        [Hop::Key(key)] => out.push(format!("{pad}{}: {written}", scalar::render(key, false))),
        [Hop::Key(key), rest @ ..] => {
            out.push(format!("{pad}{}:", scalar::render(key, false)));
            let step = match rest[0] {
                Hop::Key(_) => layout.indent,
                _ => layout.seq_indent,
            };
            fragment(rest, written, indent + step, layout, out);
        }
        [Hop::Entry(name), rest @ ..] => {
            out.push(format!("{pad}- name: {}", scalar::render(name, false)));
            fragment(rest, written, indent + 2, layout, out);
        }
        [Hop::Item(_)] => out.push(format!("{pad}- {written}")),
        [] | [Hop::Item(_), ..] => {}
    }
}

impl Editor for YamlDoc {
    fn get(&self, path: &KeyPath) -> Result<Option<Scalar>, EditError> {
        let hops = hops(path, true)?;
        let walk = self.walk(path, &hops)?;
        if walk.steps.len() < hops.len() {
            return Ok(None);
        }
        let leaf = walk.steps.last().expect("a path has a step").node;
        let value = self.leaf_string(path, leaf)?;
        Ok(Some(Scalar {
            value: value.to_string(),
            raw: self.text[leaf.start..leaf.end].to_string(),
        }))
    }

    fn set(&mut self, path: &KeyPath, value: &str) -> Result<(), EditError> {
        self.put(path, value, None)
    }

    fn restore(&mut self, path: &KeyPath, prior: &Scalar) -> Result<(), EditError> {
        self.put(path, &prior.value, Some(&prior.raw))
    }

    fn remove(&mut self, path: &KeyPath) -> Result<(), EditError> {
        let hops = hops(path, false)?;
        self.remove_lines(path, &hops, |_| true).map(|_| ())
    }

    fn has_container(&self, path: &KeyPath) -> bool {
        let Ok(hops) = hops(path, false) else {
            return false;
        };
        match self.walk(path, &hops) {
            Ok(walk) if walk.steps.len() == hops.len() => walk.steps.last().is_some_and(|s| {
                matches!(s.node.kind, Kind::Map { .. } | Kind::Seq { .. })
                    || s.node.is_empty_value()
            }),
            _ => false,
        }
    }

    fn remove_if_empty(&mut self, path: &KeyPath) -> bool {
        let Ok(hops) = hops(path, false) else {
            return false;
        };
        let empty = |node: &Node| match hops.last() {
            Some(&Hop::Entry(name)) => compare::only_named(node, name),
            Some(Hop::Key(_)) => node.is_empty_value(),
            _ => false,
        };
        self.remove_lines(path, &hops, empty).unwrap_or(false)
    }

    fn render(&self) -> String {
        if self.bom {
            format!("\u{feff}{}", self.text)
        } else {
            self.text.clone()
        }
    }
}

#[cfg(test)]
mod tests;
