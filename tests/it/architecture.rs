//! The layering of src/ holds: no module imports from a layer above its own, and the
//! modules under any one parent (the top-level ones included) import each other without
//! a cycle. The layers are the table in docs/architecture.md, which this test reads, so
//! the document and the code cannot drift apart; every top-level module must be in it.
//!
//! How imports are found: every `crate::`, `super::` and `self::` path in a file (in
//! `use` trees and inline, tests included; comments and strings are skipped), and the
//! `use` items that name a child module. A path is resolved to the deepest module file
//! it names, then through that module's own `use` items (a re-export such as
//! `connect::Txn` counts as an import of `connect::journal`). A module may use what its
//! ancestors define (it is part of them); that is never an edge.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Module = Vec<String>;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The layer of each top-level module, from the table between the `layers` markers.
fn layers() -> BTreeMap<String, usize> {
    let doc = std::fs::read_to_string(repo().join("docs/architecture.md")).unwrap();
    let start = doc
        .find("<!-- layers:start -->")
        .expect("the layers table's start marker");
    let end = doc
        .find("<!-- layers:end -->")
        .expect("the layers table's end marker");
    let mut layers = BTreeMap::new();
    for row in doc[start..end].lines().filter(|l| l.starts_with('|')) {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let Ok(layer) = cells[1].parse::<usize>() else {
            continue; // the header and the separator
        };
        for name in cells[3].split('`').skip(1).step_by(2) {
            let old = layers.insert(name.to_string(), layer);
            assert!(old.is_none(), "`{name}` is in the layers table twice");
        }
    }
    assert!(
        layers.len() > 10,
        "the layers table lists the modules: {layers:?}"
    );
    layers
}

/// Every module file of the library: its module path and its text.
fn modules() -> BTreeMap<Module, String> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let src = repo().join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    let mut modules = BTreeMap::new();
    for file in files {
        let rel = file.strip_prefix(&src).unwrap().with_extension("");
        let mut module: Module = rel
            .iter()
            .map(|s| s.to_string_lossy().into_owned())
            .collect();
        match module.last().map(String::as_str) {
            Some("main") if module.len() == 1 => continue, // the binary's own crate
            Some("lib" | "mod") => {
                module.pop();
            }
            _ => {}
        }
        modules.insert(module, std::fs::read_to_string(&file).unwrap());
    }
    modules
}

/// The text without comments, string and character literals (line breaks kept).
fn strip(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == 'r'
            && matches!(next, Some('"' | '#'))
            && !ident_char(&chars, i.wrapping_sub(1))
        {
            // A raw string: r"…", r#"…"#.
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                if j >= chars.len() {
                    break;
                }
                if chars[j] == '"' && (0..hashes).all(|k| chars.get(j + 1 + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            out.push_str("\"\"");
            i = j;
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                if chars.get(i) == Some(&'\n') {
                    out.push('\n');
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' {
            // A character literal ('x', '\n', '"'); otherwise a lifetime or a label.
            if next == Some('\\') {
                let mut j = i + 2;
                while j < chars.len() && chars[j] != '\'' {
                    j += 1;
                }
                i = j + 1;
            } else if chars.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                out.push(c);
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn ident_char(chars: &[char], i: usize) -> bool {
    chars
        .get(i)
        .is_some_and(|c| c.is_alphanumeric() || *c == '_')
}

fn tokens(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_alphabetic() || c == '_' {
            let start = i;
            while ident_char(&chars, i) {
                i += 1;
            }
            out.push(chars[start..i].iter().collect());
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            out.push("::".into());
            i += 2;
        } else if c.is_whitespace() {
            i += 1;
        } else {
            out.push(c.to_string());
            i += 1;
        }
    }
    out
}

/// One path as written, from `base` (the module its first segment stands for).
#[derive(Debug, Clone)]
struct Written {
    base: Module,
    segments: Vec<String>,
    /// In a `use` item: the name it binds (its alias or last segment; none for a glob).
    binds: Option<String>,
}

/// The paths of one use tree or inline path starting at `tokens[at]` (just after a
/// `crate`/`super`/`self` prefix, or at a child module's name), each joined to `prefix`,
/// with the name each one binds.
fn tree(
    tokens: &[String],
    mut at: usize,
    prefix: Vec<String>,
    out: &mut Vec<(Vec<String>, Option<String>)>,
) -> usize {
    let mut path = prefix;
    loop {
        match tokens.get(at).map(String::as_str) {
            Some("{") => {
                at += 1;
                loop {
                    match tokens.get(at).map(String::as_str) {
                        Some("}") => return at + 1,
                        Some(",") => at += 1,
                        Some("self") => {
                            out.push((path.clone(), path.last().cloned()));
                            at += 1;
                        }
                        Some(_) => at = tree(tokens, at, path.clone(), out),
                        None => return at,
                    }
                }
            }
            Some("*") => {
                out.push((path, None));
                return at + 1;
            }
            Some(t) if t.starts_with(|c: char| c.is_alphabetic() || c == '_') => {
                path.push(t.to_string());
                at += 1;
                if tokens.get(at).map(String::as_str) == Some("::") {
                    at += 1;
                } else {
                    let mut name = path.last().cloned();
                    if tokens.get(at).map(String::as_str) == Some("as") {
                        name = tokens.get(at + 1).cloned();
                        at += 2;
                    }
                    out.push((path, name));
                    return at;
                }
            }
            _ => {
                out.push((path, None));
                return at;
            }
        }
    }
}

/// Every path a file writes, with the module it is relative to.
fn written(module: &Module, text: &str, modules: &BTreeMap<Module, String>) -> Vec<Written> {
    let toks = tokens(&strip(text));
    let mut out = Vec::new();
    // Inline modules (`mod tests { … }`) deepen `self` and `super`.
    let mut inline: Vec<(usize, String)> = Vec::new();
    let mut depth = 0usize;
    let mut in_use = false;
    let mut i = 0;
    while i < toks.len() {
        let t = toks[i].as_str();
        match t {
            "{" => depth += 1,
            "}" => {
                depth = depth.saturating_sub(1);
                if inline.last().is_some_and(|(d, _)| *d == depth) {
                    inline.pop();
                }
            }
            "mod" if toks.get(i + 2).map(String::as_str) == Some("{") => {
                inline.push((depth, toks[i + 1].clone()));
            }
            "use" => in_use = true,
            ";" => in_use = false,
            _ => {}
        }
        let here: Module = module
            .iter()
            .cloned()
            .chain(inline.iter().map(|(_, m)| m.clone()))
            .collect();
        let prefixed = matches!(t, "crate" | "super" | "self")
            && toks.get(i + 1).map(String::as_str) == Some("::")
            && (i == 0 || toks[i - 1] != "::");
        // `use child::…;` in a file names its own child module.
        let child = in_use
            && toks.get(i + 1).map(String::as_str) == Some("::")
            && matches!(
                toks.get(i.wrapping_sub(1)).map(String::as_str),
                Some("use" | "{" | ",")
            )
            && {
                let mut m = here.clone();
                m.push(t.to_string());
                modules.contains_key(&m)
            };
        if prefixed || child {
            let (base, mut at, first) = if child {
                (here.clone(), i, Vec::new())
            } else {
                let mut base = match t {
                    "crate" => Vec::new(),
                    _ => here.clone(),
                };
                let mut at = i;
                if t == "super" {
                    base.pop();
                }
                at += 2;
                while toks.get(at).map(String::as_str) == Some("super")
                    && toks.get(at + 1).map(String::as_str) == Some("::")
                {
                    base.pop();
                    at += 2;
                }
                (base, at, Vec::new())
            };
            let mut paths = Vec::new();
            at = tree(&toks, at, first, &mut paths);
            for (segments, name) in paths {
                out.push(Written {
                    base: base.clone(),
                    segments,
                    binds: name.filter(|_| in_use),
                });
            }
            i = at;
            continue;
        }
        i += 1;
    }
    out
}

/// Resolves paths to module files, following `use` items.
struct Resolver<'a> {
    modules: &'a BTreeMap<Module, String>,
    /// For each module, the names its `use` items bind, and the paths they stand for.
    bindings: BTreeMap<Module, BTreeMap<String, Written>>,
}

impl Resolver<'_> {
    fn resolve(&self, path: &Written, hops: usize) -> Module {
        // The deepest module file the path names (an inline module is part of its file).
        let mut module: Module = path.base.clone();
        while !self.modules.contains_key(&module) && !module.is_empty() {
            module.pop();
        }
        let mut rest = path.segments.iter();
        for segment in rest.by_ref() {
            let mut deeper = module.clone();
            deeper.push(segment.clone());
            if self.modules.contains_key(&deeper) {
                module = deeper;
                continue;
            }
            // A name this module imports: where it comes from.
            if hops < 8
                && let Some(binding) = self.bindings.get(&module).and_then(|b| b.get(segment))
            {
                return self.resolve(binding, hops + 1);
            }
            break;
        }
        module
    }
}

fn top(module: &Module) -> String {
    module.first().cloned().unwrap_or_else(|| "lib".into())
}

fn is_ancestor(ancestor: &Module, of: &Module) -> bool {
    ancestor.len() <= of.len() && of[..ancestor.len()] == ancestor[..]
}

#[test]
fn no_module_imports_upward_or_in_a_cycle() {
    let modules = modules();
    let layers = layers();

    let tops: BTreeSet<String> = modules.keys().map(top).collect();
    let listed: BTreeSet<String> = layers.keys().cloned().collect();
    assert_eq!(
        tops, listed,
        "docs/architecture.md's layers table must list exactly src/'s top-level modules"
    );

    let written: BTreeMap<Module, Vec<Written>> = modules
        .iter()
        .map(|(m, text)| (m.clone(), written(m, text, &modules)))
        .collect();
    // What each module's `use` items bind.
    let mut bindings: BTreeMap<Module, BTreeMap<String, Written>> = BTreeMap::new();
    for (module, paths) in &written {
        for path in paths {
            if let Some(name) = &path.binds {
                bindings
                    .entry(module.clone())
                    .or_default()
                    .insert(name.clone(), path.clone());
            }
        }
    }
    let resolver = Resolver {
        modules: &modules,
        bindings,
    };

    let mut upward = Vec::new();
    let mut edges: BTreeSet<(Module, Module)> = BTreeSet::new();
    for (from, paths) in &written {
        for path in paths {
            let to = resolver.resolve(path, 0);
            if is_ancestor(&to, from) {
                continue; // itself, or an ancestor's own definitions
            }
            let (a, b) = (top(from), top(&to));
            if layers[&b] < layers[&a] {
                upward.push(format!(
                    "{} (layer {}) imports {} (layer {}): {}",
                    from.join("::"),
                    layers[&a],
                    to.join("::"),
                    layers[&b],
                    path.segments.join("::")
                ));
            }
            edges.insert((from.clone(), to));
        }
    }
    assert!(upward.is_empty(), "upward imports:\n{}", upward.join("\n"));

    // Siblings: each edge between two subtrees of one parent, as an edge between the two
    // children of that parent (the top-level modules are the crate root's children).
    let mut graph: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for (from, to) in &edges {
        let common = from.iter().zip(to).take_while(|(a, b)| a == b).count();
        if common >= from.len() || common >= to.len() {
            continue; // into its own subtree
        }
        graph
            .entry(from[..=common].to_vec())
            .or_default()
            .insert(to[..=common].to_vec());
    }
    let cycle = find_cycle(&graph);
    assert!(
        cycle.is_none(),
        "modules import each other in a cycle: {}",
        cycle
            .unwrap_or_default()
            .iter()
            .map(|m| m.join("::"))
            .collect::<Vec<_>>()
            .join(" -> ")
    );
}

/// A cycle in `graph`, as the nodes along it, if there is one.
fn find_cycle(graph: &BTreeMap<Module, BTreeSet<Module>>) -> Option<Vec<Module>> {
    fn visit(
        node: &Module,
        graph: &BTreeMap<Module, BTreeSet<Module>>,
        done: &mut BTreeSet<Module>,
        stack: &mut Vec<Module>,
    ) -> Option<Vec<Module>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            let mut cycle = stack[at..].to_vec();
            cycle.push(node.clone());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.clone());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, done, stack) {
                return Some(cycle);
            }
        }
        stack.pop();
        done.insert(node.clone());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut done, &mut Vec::new()))
}

/// The checker itself must be able to fail, or the test above proves nothing.
#[test]
fn the_checker_sees_use_trees_inline_paths_and_reexports() {
    let mut modules = BTreeMap::new();
    let m = |s: &str| -> Module {
        s.split("::")
            .filter(|x| !x.is_empty())
            .map(String::from)
            .collect()
    };
    modules.insert(m(""), String::new());
    modules.insert(m("a"), "pub use inner::Thing;\nmod inner;".to_string());
    modules.insert(m("a::inner"), String::new());
    modules.insert(m("b"), String::new());
    let text = r#"
        // crate::not::this (a comment)
        use crate::a::{self, Thing};
        use super::{b::X, c as d};
        fn f() { let s = "crate::nor::this"; crate::b::g(); }
        mod tests { use super::*; use super::super::b; }
    "#;
    let found: Vec<String> = written(&m("a::inner"), text, &modules)
        .iter()
        .map(|w| {
            let binds = w.binds.as_deref().unwrap_or("-");
            format!("{}|{}|{binds}", w.base.join("::"), w.segments.join("::"))
        })
        .collect();
    assert_eq!(
        found,
        [
            "|a|a",
            "|a::Thing|Thing",
            "a|b::X|X",
            "a|c|d",
            "|b::g|-",
            "a::inner||-",
            "a|b|b",
        ]
    );
    let mut bindings: BTreeMap<Module, BTreeMap<String, Written>> = BTreeMap::new();
    bindings.entry(m("a")).or_default().insert(
        "Thing".into(),
        Written {
            base: m("a"),
            segments: vec!["inner".into(), "Thing".into()],
            binds: Some("Thing".into()),
        },
    );
    let resolver = Resolver {
        modules: &modules,
        bindings,
    };
    let thing = Written {
        base: m(""),
        segments: vec!["a".into(), "Thing".into()],
        binds: None,
    };
    assert_eq!(resolver.resolve(&thing, 0), m("a::inner"));

    let mut graph: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    graph.entry(m("a")).or_default().insert(m("b"));
    assert!(find_cycle(&graph).is_none());
    graph.entry(m("b")).or_default().insert(m("a"));
    assert!(find_cycle(&graph).is_some());
}
