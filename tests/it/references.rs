//! Every file the repo names exists in the repo. A comment that sends the reader to a
//! design document, or a document that points at a test, must not point into the void
//! (the source once named DESIGN.md and TARGETS.md, which were never in the repo).
//!
//! Checked: paths under the repo's own top-level directories (`src/…`, `tests/…`,
//! `docs/…`, …) and bare document names in capitals (`README.md`, `RESULTS.md`), in
//! every tracked text file: source, scripts, manifests and documents (not the test
//! fixtures, which are other tools' files).

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The top-level directories a repo path starts with.
const ROOTS: &[&str] = &[
    "src/",
    "tests/",
    "docs/",
    "crates/",
    "bench/",
    "examples/",
    ".ci/",
    "man/",
    "completions/",
];

/// The files under version control (a fresh clone's files), or, outside a git checkout,
/// every file below the repo except build output and installed packages.
fn files() -> Vec<PathBuf> {
    let listed = Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(repo())
        .output()
        .ok()
        .filter(|o| o.status.success());
    if let Some(out) = listed {
        return out
            .stdout
            .split(|b| *b == 0)
            .filter(|p| !p.is_empty())
            .map(|p| PathBuf::from(String::from_utf8_lossy(p).into_owned()))
            .collect();
    }
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy();
            if matches!(name.as_ref(), "target" | "node_modules" | ".git") {
                continue;
            }
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.push(path.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(repo(), repo(), &mut out);
    out
}

/// The repo paths and capitalised document names `text` mentions.
fn mentioned(text: &str) -> Vec<String> {
    let is_path_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/');
    let mut found = Vec::new();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        // After `$`, `{` or `%` it is a variable's value (`$src/Cargo.toml`), not a path.
        let starts_word =
            i == 0 || !(is_path_char(chars[i - 1].1) || matches!(chars[i - 1].1, '$' | '{' | '%'));
        if !starts_word || !(is_path_char(c)) {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < chars.len() && is_path_char(chars[j].1) {
            j += 1;
        }
        let end = chars.get(j).map_or(text.len(), |(e, _)| *e);
        let word = text[at..end].trim_end_matches(['.', '/']);
        // A pattern, a template or a URL is not a path.
        let next = chars.get(j).map(|(_, c)| *c);
        let pattern = matches!(next, Some('*' | '<' | '{' | '$' | ':' | '@'))
            && !matches!(next, Some(':') if chars.get(j + 1).is_some_and(|(_, c)| c.is_whitespace()));
        let in_url = at >= 3 && text[..at].ends_with("://");
        if !pattern && !in_url {
            // What an install step puts there (tests/jsonc/node_modules) is not the repo's.
            let installed = word.contains("node_modules");
            let repo_path =
                ROOTS.iter().any(|r| word.starts_with(r)) && word.len() > 4 && !installed;
            let document = word.len() > 3
                && word.ends_with(".md")
                && !word.contains('/')
                && word[..word.len() - 3]
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c == '_');
            if repo_path || document {
                found.push(word.to_string());
            }
        }
        i = j;
    }
    found
}

#[test]
fn every_file_the_repo_names_exists() {
    let files = files();
    let exists = |name: &str| -> bool {
        if name.contains('/') {
            repo().join(name).exists()
        } else {
            files
                .iter()
                .any(|f| f.file_name().is_some_and(|n| n == name))
        }
    };
    let text_like = |p: &Path| {
        matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("rs" | "md" | "sh" | "toml" | "py" | "js" | "yml" | "yaml" | "txt") | None
        )
    };
    let mut missing = Vec::new();
    let mut checked = 0;
    // Test fixtures are other tools' files, which name their own things; this file
    // names missing ones on purpose, as examples.
    let ours = |f: &&PathBuf| {
        !f.starts_with("tests/fixtures") && *f != Path::new("tests/it/references.rs")
    };
    for file in files.iter().filter(|f| text_like(f)).filter(ours) {
        let Ok(text) = std::fs::read_to_string(repo().join(file)) else {
            continue; // binary, or gone from the work tree
        };
        for name in mentioned(&text) {
            checked += 1;
            if !exists(&name) {
                missing.push(format!("{}: {name}", file.display()));
            }
        }
    }
    assert!(checked > 50, "the check found the references ({checked})");
    assert!(
        missing.is_empty(),
        "files named but not in the repo:\n{}",
        missing.join("\n")
    );
}

#[test]
fn references_are_found_and_patterns_are_not() {
    let text = "see DESIGN.md and docs/targets.md, (src/relay/routes.rs) and tests/it/; \
                not src/**/*.rs, not https://x.example/docs/a.md, not settings.json, \
                not tests/jsonc/node_modules/yaml (installed), \
                and `README.md`'s table";
    assert_eq!(
        mentioned(text),
        [
            "DESIGN.md",
            "docs/targets.md",
            "src/relay/routes.rs",
            "tests/it",
            "README.md"
        ]
    );
}
