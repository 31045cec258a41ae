//! Property tests of the format editors, as the engine drives them: on random valid
//! documents (comments, indentation styles, CRLF, a BOM, trailing commas, existing
//! managed values with unusual escapes), connect then a key-by-key disconnect gives back
//! the original text, and connecting twice changes nothing more than connecting once.
//!
//! Known limit, and so not generated: a non-empty object written on one line (`{"a": 1}`)
//! that receives a new key is laid out on several lines, and stays so after disconnect.
//! (The whole-file restore from the backup is byte-exact regardless.)

use anyray::connect::Format;
use anyray::edit::{Editor, KeyPath, Scalar};
use proptest::prelude::*;

/// Each managed key and what it held before connect.
type Priors = Vec<(KeyPath, Option<Scalar>)>;

/// The engine's connect, at the editor level: prior values, created containers, new text.
fn connect(
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
fn disconnect(
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

fn check(format: Format, text: &str, wants: &[(KeyPath, &str)]) -> Result<(), TestCaseError> {
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
    Ok(())
}

// ---- JSON and JSONC ----

#[derive(Debug, Clone)]
struct JsonStyle {
    indent: &'static str,
    newline: &'static str,
    bom: bool,
    comments: bool,
    trailing_commas: bool,
    final_newline: bool,
}

#[derive(Debug, Clone)]
enum Json {
    Scalar(String),
    Object(Vec<(String, Json)>),
    /// A list of `{"name", "value"}` entries, as `claudeCode.environmentVariables`.
    Entries(Vec<(String, String)>),
}

fn json_string() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 ._:/-]{0,12}".prop_map(|s| serde_json::to_string(&s).unwrap()),
        Just(r#""https:\/\/old.example""#.to_string()),
        Just(r#""\u0041\t\"q\"""#.to_string()),
        Just(r#""ünï☃""#.to_string()),
    ]
}

fn json_scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        json_string(),
        Just("1".to_string()),
        Just("-2.5e3".to_string()),
        Just("true".to_string()),
        Just("null".to_string()),
        Just("[1, \"two\"]".to_string()),
        Just("[]".to_string()),
        Just("{}".to_string()),
    ]
}

fn user_key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("model".to_string()),
        Just("editor.fontSize".to_string()),
        Just("permissions".to_string()),
        "[a-z]{1,6}",
    ]
}

/// Objects whose managed spots (`env`, the terminal env, the entries list) hold strings.
fn json_value(depth: u32) -> BoxedStrategy<Json> {
    let leaf = json_scalar().prop_map(Json::Scalar).boxed();
    if depth == 0 {
        return leaf;
    }
    prop_oneof![
        3 => leaf,
        1 => prop::collection::vec((user_key(), json_value(depth - 1)), 0..4).prop_map(Json::Object),
    ]
    .boxed()
}

fn string_map() -> impl Strategy<Value = Json> {
    prop::collection::vec(
        (
            prop_oneof![
                Just("ANTHROPIC_BASE_URL".to_string()),
                Just("OPENAI_BASE_URL".to_string()),
                "[A-Z]{2,6}",
            ],
            json_string(),
        ),
        0..3,
    )
    .prop_map(|pairs| {
        // A key twice on a managed path is refused (see the JSON editor's docs).
        let mut seen = std::collections::HashSet::new();
        Json::Object(
            pairs
                .into_iter()
                .filter(|(k, _)| seen.insert(k.clone()))
                .map(|(k, v)| (k, Json::Scalar(v)))
                .collect(),
        )
    })
}

fn entries() -> impl Strategy<Value = Json> {
    prop::collection::vec(
        (
            prop_oneof![Just("ANTHROPIC_BASE_URL".to_string()), "[A-Z]{2,6}"],
            "[a-z0-9:/.]{0,10}",
        ),
        0..3,
    )
    .prop_map(|mut list| {
        let mut seen = std::collections::HashSet::new();
        list.retain(|(name, _)| seen.insert(name.clone()));
        Json::Entries(list)
    })
}

fn json_document() -> impl Strategy<Value = Vec<(String, Json)>> {
    let managed = prop_oneof![
        string_map().prop_map(|v| ("env".to_string(), v)),
        string_map().prop_map(|v| ("terminal.integrated.env.linux".to_string(), v)),
        entries().prop_map(|v| ("claudeCode.environmentVariables".to_string(), v)),
    ];
    (
        prop::collection::vec((user_key(), json_value(2)), 0..4),
        prop::collection::vec(managed, 0..3),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(mut user, managed, at)| {
            // Duplicate keys are legal JSON but ambiguous; keep the first of each.
            for (key, value) in managed {
                let i = at.index(user.len() + 1);
                user.insert(i, (key, value));
            }
            let mut seen = std::collections::HashSet::new();
            user.retain(|(k, _)| seen.insert(k.clone()));
            user
        })
}

fn json_style(jsonc: bool) -> impl Strategy<Value = JsonStyle> {
    (
        prop_oneof![Just("  "), Just("    "), Just("\t"), Just("   ")],
        prop_oneof![Just("\n"), Just("\r\n")],
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            move |(indent, newline, bom, comments, trailing, final_newline)| JsonStyle {
                indent,
                newline,
                bom,
                comments: jsonc && comments,
                trailing_commas: jsonc && trailing,
                final_newline,
            },
        )
}

fn render_json(style: &JsonStyle, props: &[(String, Json)]) -> String {
    fn object(style: &JsonStyle, props: &[(String, Json)], depth: usize, out: &mut String) {
        if props.is_empty() {
            out.push_str("{}");
            return;
        }
        let nl = style.newline;
        out.push('{');
        out.push_str(nl);
        for (i, (key, value)) in props.iter().enumerate() {
            let pad = style.indent.repeat(depth + 1);
            if style.comments && i % 2 == 0 {
                out.push_str(&format!("{pad}// about {key}{nl}"));
            }
            out.push_str(&format!("{pad}{}: ", serde_json::to_string(key).unwrap()));
            match value {
                Json::Scalar(s) => out.push_str(s),
                Json::Object(inner) => object(style, inner, depth + 1, out),
                Json::Entries(list) => {
                    if list.is_empty() {
                        out.push_str("[]");
                    } else {
                        out.push('[');
                        out.push_str(nl);
                        let inner = style.indent.repeat(depth + 2);
                        for (j, (name, value)) in list.iter().enumerate() {
                            out.push_str(&format!(
                                "{inner}{{ \"name\": {}, \"value\": {} }}",
                                serde_json::to_string(name).unwrap(),
                                serde_json::to_string(value).unwrap()
                            ));
                            if j + 1 < list.len() || style.trailing_commas {
                                out.push(',');
                            }
                            out.push_str(nl);
                        }
                        out.push_str(&format!("{pad}]"));
                    }
                }
            }
            if i + 1 < props.len() || style.trailing_commas {
                out.push(',');
            }
            if style.comments && i % 3 == 1 {
                out.push_str(" /* note */");
            }
            out.push_str(nl);
        }
        out.push_str(&style.indent.repeat(depth));
        out.push('}');
    }
    let mut out = String::new();
    if style.bom {
        out.push('\u{feff}');
    }
    if style.comments {
        out.push_str(&format!("// settings{}", style.newline));
    }
    object(style, props, 0, &mut out);
    if style.final_newline {
        out.push_str(style.newline);
    }
    out
}

fn claude_wants() -> Vec<(KeyPath, &'static str)> {
    vec![(
        KeyPath::keys(["env", "ANTHROPIC_BASE_URL"]),
        "https://gw.example:8787",
    )]
}

fn vscode_wants() -> Vec<(KeyPath, &'static str)> {
    vec![
        (
            KeyPath::keys(["terminal.integrated.env.linux", "OPENAI_BASE_URL"]),
            "https://gw.example:8787/v1",
        ),
        (
            KeyPath::keys(["terminal.integrated.env.linux", "ANTHROPIC_BASE_URL"]),
            "https://gw.example:8787",
        ),
        (
            KeyPath::keys(["claudeCode.environmentVariables"]).named("ANTHROPIC_BASE_URL"),
            "https://gw.example:8787",
        ),
    ]
}

// ---- TOML ----

#[derive(Debug, Clone)]
struct TomlDocGen {
    bom: bool,
    newline: &'static str,
    root: Vec<(String, String)>,
    tables: Vec<(String, Vec<(String, String)>)>,
    comment: bool,
    final_newline: bool,
}

fn toml_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9 ._/-]{0,10}".prop_map(|s| format!("{s:?}")),
        Just("'literal \\ string'".to_string()),
        Just("\"https://old.example/v1\"".to_string()),
        Just("42".to_string()),
        Just("true".to_string()),
        Just("[1, 2]".to_string()),
        Just("{ a = 1 }".to_string()),
    ]
}

fn toml_document() -> impl Strategy<Value = TomlDocGen> {
    let root_key = prop_oneof![
        Just("model".to_string()),
        Just("approval_policy".to_string()),
        "[a-z]{1,6}",
    ];
    let table_name = prop_oneof![
        Just("profiles.fast".to_string()),
        Just("model_providers.azure".to_string()),
        Just("tools".to_string()),
        "[a-z]{1,5}",
    ];
    (
        any::<bool>(),
        prop_oneof![Just("\n"), Just("\r\n")],
        prop::collection::vec((root_key, toml_value()), 0..4),
        prop::option::of(prop_oneof![
            Just("'azure'".to_string()),
            Just("\"openai\"".to_string()),
        ]),
        prop::collection::vec(
            (
                table_name,
                prop::collection::vec(("[a-z]{1,6}", toml_value()), 0..3),
            ),
            0..3,
        ),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(bom, newline, mut root, provider, tables, comment, final_newline)| {
                if let Some(p) = provider {
                    root.push(("model_provider".into(), p));
                }
                let mut seen = std::collections::HashSet::new();
                root.retain(|(k, _)| seen.insert(k.clone()));
                let mut seen = std::collections::HashSet::new();
                let tables = tables
                    .into_iter()
                    .filter(|(name, _)| {
                        // No table that is a prefix of another, or a root key's name.
                        seen.insert(name.split('.').next().unwrap().to_string())
                            && !root
                                .iter()
                                .any(|(k, _)| name.split('.').next() == Some(k.as_str()))
                    })
                    .map(|(name, mut values)| {
                        let mut seen = std::collections::HashSet::new();
                        values.retain(|(k, _)| seen.insert(k.clone()));
                        (name, values)
                    })
                    .collect();
                TomlDocGen {
                    bom,
                    newline,
                    root,
                    tables,
                    comment,
                    final_newline,
                }
            },
        )
}

fn render_toml(doc: &TomlDocGen) -> String {
    let nl = doc.newline;
    let mut out = String::new();
    if doc.bom {
        out.push('\u{feff}');
    }
    if doc.comment {
        out.push_str(&format!("# Codex settings{nl}"));
    }
    for (key, value) in &doc.root {
        out.push_str(&format!("{key} = {value}"));
        if doc.comment {
            out.push_str(" # why");
        }
        out.push_str(nl);
    }
    for (name, values) in &doc.tables {
        out.push_str(&format!("{nl}[{name}]{nl}"));
        for (key, value) in values {
            out.push_str(&format!("{key} = {value}{nl}"));
        }
    }
    if !doc.final_newline
        && out.ends_with(nl)
        && !out.trim_start_matches('\u{feff}').trim().is_empty()
    {
        out.truncate(out.len() - nl.len());
    }
    out
}

fn codex_wants(identity: bool) -> Vec<(KeyPath, &'static str)> {
    let mut wants = vec![
        (KeyPath::keys(["model_provider"]), "anyray"),
        (
            KeyPath::keys(["model_providers", "anyray", "name"]),
            "Anyray gateway",
        ),
        (
            KeyPath::keys(["model_providers", "anyray", "base_url"]),
            "https://gw.example:8787/v1",
        ),
        (
            KeyPath::keys(["model_providers", "anyray", "wire_api"]),
            "responses",
        ),
        (
            KeyPath::keys(["model_providers", "anyray", "env_key"]),
            "OPENAI_API_KEY",
        ),
    ];
    if identity {
        wants.push((
            KeyPath::keys([
                "model_providers",
                "anyray",
                "env_http_headers",
                "x-anyray-key",
            ]),
            "ANYRAY_TOKEN",
        ));
    }
    wants
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn strict_json_round_trips(style in json_style(false), doc in json_document()) {
        let text = render_json(&style, &doc);
        serde_json::from_str::<serde_json::Value>(text.trim_start_matches('\u{feff}'))
            .expect("the generator writes strict JSON");
        check(Format::Json, &text, &claude_wants())?;
    }

    #[test]
    fn jsonc_round_trips(style in json_style(true), doc in json_document()) {
        let text = render_json(&style, &doc);
        check(Format::Jsonc, &text, &vscode_wants())?;
    }

    #[test]
    fn toml_round_trips(doc in toml_document(), identity in any::<bool>()) {
        let text = render_toml(&doc);
        check(Format::Toml, &text, &codex_wants(identity))?;
    }
}
