//! Property test of JSON list entries found by a field (droid's
//! `customModels[displayName=…]`, Qwen Code's `modelProviders.openai[name=…]`) and of
//! typed values (Qwen's `"$version": 4`), as the engine drives the JSON editor: random
//! sequences of `connect`, the user editing their own entries and keys, and `disconnect`.
//! After each `disconnect` the file is the original with the user's edits made by the
//! same editor, byte for byte; a second `connect` in a row changes nothing; anyray's
//! entry is found again however far the user's entries moved it.
//!
//! Generated: user entries before and after anyray's (each with its own identity and a
//! `note` the user edits), an anyray entry already present with a value of the user's
//! (a model id they chose), comments, CRLF, a BOM, trailing commas only for JSONC, and a
//! `$version` that is absent, the number 4, or another number. Not generated, as in
//! connect_editors_prop.rs: an object written on one line that receives a new key (it is
//! laid out on several lines and stays so; the backup restores those bytes exactly).

use anyray::connect::Format;
use anyray::edit::{EditError, Editor, KeyPath, Scalar};
use proptest::prelude::*;

/// A list and how its entries are identified.
#[derive(Debug, Clone, Copy)]
enum Shape {
    /// droid: `customModels`, entries found by `displayName`.
    Droid,
    /// Qwen Code: `modelProviders.openai`, entries found by `name`.
    Qwen,
}

impl Shape {
    fn list(self) -> &'static [&'static str] {
        match self {
            Shape::Droid => &["customModels"],
            Shape::Qwen => &["modelProviders", "openai"],
        }
    }

    fn field(self) -> &'static str {
        match self {
            Shape::Droid => "displayName",
            Shape::Qwen => "name",
        }
    }

    fn format(self) -> Format {
        match self {
            Shape::Droid => Format::Jsonc,
            Shape::Qwen => Format::JsonComments,
        }
    }

    fn list_path(self) -> KeyPath {
        KeyPath(
            self.list()
                .iter()
                .map(|k| anyray::edit::Seg::Key((*k).to_string()))
                .collect(),
        )
    }

    /// The entry whose identifying field is `id`.
    fn entry(self, id: &str) -> KeyPath {
        match self {
            Shape::Droid => self.list_path().entry("displayName", id),
            Shape::Qwen => self.list_path().named(id),
        }
    }

    /// What the target wants, with each value's type.
    fn wants(self) -> Vec<(KeyPath, &'static str, Type)> {
        let ours = self.entry("Anyray gateway (OpenAI)");
        let mut wants = vec![
            (
                ours.clone().key("baseUrl"),
                "https://gw.example:8787/v1",
                Type::Str,
            ),
            (ours.clone().key("id"), "gpt-4o-mini", Type::Str),
            (ours.key("envKey"), "OPENAI_API_KEY", Type::Str),
        ];
        if let Shape::Qwen = self {
            wants.push((KeyPath::keys(["$version"]), "4", Type::Literal));
        }
        wants
    }
}

#[derive(Debug, Clone)]
struct Doc {
    shape: Shape,
    /// User entries: identity and note.
    before: Vec<(String, String)>,
    /// anyray's entry already there, with a model id the user chose.
    ours: Option<String>,
    after: Vec<(String, String)>,
    /// `$version`'s literal, if present.
    version: Option<&'static str>,
    theme: String,
    crlf: bool,
    bom: bool,
    comments: bool,
    trailing_commas: bool,
}

fn note() -> impl Strategy<Value = String> {
    "[a-z0-9 ._/-]{0,10}"
}

fn entries(prefix: &'static str) -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(note(), 0..3).prop_map(move |notes| {
        notes
            .into_iter()
            .enumerate()
            .map(|(i, note)| (format!("{prefix}-{i}"), note))
            .collect()
    })
}

fn doc() -> impl Strategy<Value = Doc> {
    (
        prop_oneof![Just(Shape::Droid), Just(Shape::Qwen)],
        entries("mine"),
        prop::option::of("[a-z0-9.-]{1,8}"),
        entries("later"),
        prop::option::of(prop_oneof![Just("4"), Just("3"), Just("4.0")]),
        note(),
        (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()),
    )
        .prop_map(
            |(shape, before, ours, after, version, theme, (crlf, bom, comments, trailing))| Doc {
                shape,
                before,
                ours,
                after,
                version,
                theme,
                crlf,
                bom,
                comments,
                trailing_commas: trailing && matches!(shape, Shape::Droid),
            },
        )
}

fn render(doc: &Doc) -> String {
    let comma = |last: bool| {
        if !last || doc.trailing_commas {
            ","
        } else {
            ""
        }
    };
    let field = doc.shape.field();
    let mut items: Vec<String> = Vec::new();
    let user = |(id, note): &(String, String)| {
        format!(
            "{{ {}: {}, \"note\": {} }}",
            serde_json::to_string(field).unwrap(),
            serde_json::to_string(id).unwrap(),
            serde_json::to_string(note).unwrap()
        )
    };
    items.extend(doc.before.iter().map(user));
    if let Some(model) = &doc.ours {
        items.push(format!(
            "{{\n      \"{field}\": \"Anyray gateway (OpenAI)\",\n      \"id\": {}\n    }}",
            serde_json::to_string(model).unwrap()
        ));
    }
    items.extend(doc.after.iter().map(user));
    let list = if items.is_empty() {
        "[]".to_string()
    } else {
        let n = items.len();
        let body: Vec<String> = items
            .into_iter()
            .enumerate()
            .map(|(i, item)| format!("    {item}{}", comma(i + 1 == n)))
            .collect();
        format!("[\n{}\n  ]", body.join("\n"))
    };
    let mut props: Vec<String> = Vec::new();
    if let Some(version) = doc.version {
        props.push(format!("\"$version\": {version}"));
    }
    props.push(format!(
        "\"theme\": {}",
        serde_json::to_string(&doc.theme).unwrap()
    ));
    props.push(match doc.shape {
        Shape::Droid => format!("\"customModels\": {list}"),
        Shape::Qwen => format!("\"modelProviders\": {{\n  \"openai\": {list}\n  }}"),
    });
    let n = props.len();
    let mut text = String::new();
    if doc.bom {
        text.push('\u{feff}');
    }
    text.push_str("{\n");
    for (i, prop) in props.into_iter().enumerate() {
        if doc.comments {
            text.push_str("  // the user's\n");
        }
        text.push_str(&format!("  {prop}{}\n", comma(i + 1 == n)));
    }
    text.push_str("}\n");
    if doc.crlf {
        text = text.replace('\n', "\r\n");
    }
    text
}

#[derive(Debug, Clone)]
enum Step {
    Connect,
    /// The user changes the note of one of their entries (an index among all of them).
    EditNote(usize, String),
    /// The user changes their own top-level key.
    EditTheme(String),
    Disconnect,
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    let step = prop_oneof![
        3 => Just(Step::Connect),
        2 => (0..6usize, note()).prop_map(|(i, n)| Step::EditNote(i, n)),
        1 => note().prop_map(Step::EditTheme),
        2 => Just(Step::Disconnect),
    ];
    prop::collection::vec(step, 1..8)
}

/// What the engine records on the first `connect`: priors and created containers.
struct Record {
    priors: Vec<(KeyPath, Type, Option<Scalar>)>,
    created: Vec<KeyPath>,
}

fn parse(format: Format, text: &str) -> Box<dyn Editor> {
    format.parse(text).expect("a valid document")
}

/// The engine's connect; priors kept from the first. (`$version` is overwritten here, not
/// seeded as the qwen target does, so that a prior number's exact text must come back.)
/// How the engine reads and writes a managed key: a string, or a literal (`connect::Kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Type {
    Str,
    Literal,
}

trait ByType {
    fn get_as(&self, key: &KeyPath, ty: Type) -> Result<Option<Scalar>, EditError>;
    fn set_as(&mut self, key: &KeyPath, value: &str, ty: Type) -> Result<(), EditError>;
}

impl ByType for Box<dyn Editor> {
    fn get_as(&self, key: &KeyPath, ty: Type) -> Result<Option<Scalar>, EditError> {
        match ty {
            Type::Str => self.get(key),
            Type::Literal => self.get_literal(key),
        }
    }

    fn set_as(&mut self, key: &KeyPath, value: &str, ty: Type) -> Result<(), EditError> {
        match ty {
            Type::Str => self.set(key, value),
            Type::Literal => self.set_literal(key, value),
        }
    }
}

fn connect(shape: Shape, text: &str, record: &mut Option<Record>) -> String {
    let mut doc = parse(shape.format(), text);
    let first = record.is_none();
    let rec = record.get_or_insert_with(|| Record {
        priors: Vec::new(),
        created: Vec::new(),
    });
    for (key, value, ty) in shape.wants() {
        let now = doc
            .get_as(&key, ty)
            .expect("managed values have their type");
        for container in key.ancestors() {
            if !doc.has_container(&container) && !rec.created.contains(&container) {
                rec.created.push(container);
            }
        }
        if first || !rec.priors.iter().any(|(k, _, _)| *k == key) {
            rec.priors.push((key.clone(), ty, now.clone()));
        }
        if now.map(|s| s.value).as_deref() != Some(value) {
            doc.set_as(&key, value, ty).unwrap();
        }
    }
    doc.render()
}

fn disconnect(shape: Shape, text: &str, record: Record) -> String {
    let mut doc = parse(shape.format(), text);
    for (key, ty, prior) in &record.priors {
        match prior {
            Some(prior) if *ty == Type::Literal => doc.restore_literal(key, prior).unwrap(),
            Some(prior) => doc.restore(key, prior).unwrap(),
            None => doc.remove(key).unwrap(),
        }
    }
    for container in record.created.iter().rev() {
        doc.remove_if_empty(container);
    }
    doc.render()
}

/// The user's edit, made by the same editor; `None` when the entry does not exist.
fn edit(shape: Shape, doc: &Doc, text: &str, step: &Step) -> Option<String> {
    let mut editor = parse(shape.format(), text);
    let (path, value) = match step {
        Step::EditNote(i, note) => {
            let ids: Vec<&String> = doc
                .before
                .iter()
                .chain(&doc.after)
                .map(|(id, _)| id)
                .collect();
            let id = ids.get(*i)?;
            (shape.entry(id).key("note"), note)
        }
        Step::EditTheme(theme) => (KeyPath::keys(["theme"]), theme),
        _ => unreachable!(),
    };
    editor.set(&path, value).unwrap();
    Some(editor.render())
}

fn run(doc: &Doc, steps: &[Step]) -> Result<(), TestCaseError> {
    let shape = doc.shape;
    let original = render(doc);
    let mut file = original.clone();
    let mut expected = original.clone();
    let mut record: Option<Record> = None;
    for step in steps {
        match step {
            Step::Connect => {
                let once = connect(shape, &file, &mut record);
                let twice = connect(shape, &once, &mut record);
                prop_assert_eq!(&twice, &once, "a second connect changes nothing");
                let read = parse(shape.format(), &once);
                for (key, value, ty) in shape.wants() {
                    let held = read.get_as(&key, ty).unwrap().map(|s| s.value);
                    prop_assert_eq!(held.as_deref(), Some(value), "{}", key);
                }
                file = once;
            }
            Step::EditNote(..) | Step::EditTheme(_) => {
                if let Some(edited) = edit(shape, doc, &file, step) {
                    file = edited;
                    expected = edit(shape, doc, &expected, step).expect("the same entries");
                }
            }
            Step::Disconnect => {
                if let Some(rec) = record.take() {
                    file = disconnect(shape, &file, rec);
                }
                prop_assert_eq!(&file, &expected, "disconnect gives back the user's file");
            }
        }
    }
    if let Some(rec) = record.take() {
        file = disconnect(shape, &file, rec);
    }
    prop_assert_eq!(
        &file,
        &expected,
        "the last disconnect gives back the user's file"
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn entries_found_by_a_field_round_trip(doc in doc(), steps in steps()) {
        run(&doc, &steps)?;
    }
}
