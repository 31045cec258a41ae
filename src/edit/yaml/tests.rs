use super::*;

fn aider_base() -> KeyPath {
    KeyPath::keys(["openai-api-base"])
}

fn set_env() -> KeyPath {
    KeyPath::keys(["set-env"]).prefixed("ANTHROPIC_API_BASE=")
}

fn model(field: &str) -> KeyPath {
    KeyPath::keys(["models"]).named("Anyray gateway").key(field)
}

/// What the engine does: connect (recording priors and created containers), check the
/// values read back, then restore key by key; returns the connected text.
#[track_caller]
fn round_trip(text: &str, wants: &[(KeyPath, &str)]) -> String {
    let mut doc = parse(text).unwrap();
    let mut priors = Vec::new();
    let mut created: Vec<KeyPath> = Vec::new();
    for (key, value) in wants {
        let prior = doc.get(key).unwrap();
        for container in key.ancestors() {
            if !doc.has_container(&container) && !created.contains(&container) {
                created.push(container);
            }
        }
        doc.set(key, value).unwrap();
        priors.push((key.clone(), prior));
    }
    let connected = doc.render();
    let mut doc = parse(&connected).unwrap();
    for (key, value) in wants {
        assert_eq!(
            doc.get(key).unwrap().map(|s| s.value).as_deref(),
            Some(*value)
        );
    }
    for (key, prior) in &priors {
        match prior {
            Some(prior) => doc.restore(key, prior).unwrap(),
            None => doc.remove(key).unwrap(),
        }
    }
    for container in created.iter().rev() {
        doc.remove_if_empty(container);
    }
    assert_eq!(doc.render(), text, "disconnect gives back the original");
    connected
}

#[track_caller]
fn get_error(text: &str, path: &KeyPath) -> EditError {
    match parse(text) {
        Ok(doc) => doc.get(path).expect_err("refused"),
        Err(e) => e,
    }
}

#[track_caller]
fn set_error(text: &str, path: &KeyPath) -> EditError {
    let mut doc = parse(text).unwrap();
    let value = match path.segs().last() {
        Some(Seg::Prefixed(prefix)) => format!("{prefix}http://gw"),
        _ => "http://gw".to_string(),
    };
    let err = doc.set(path, &value).expect_err("refused");
    assert_eq!(doc.render(), text, "a refused edit leaves the text alone");
    err
}

#[test]
fn aider_sample_with_the_key_commented_out() {
    let text = "##########\n# Sample .aider.conf.yml\n\n#openai-api-base: xxx\n\n## Specify the model\n#model: xxx\n";
    let connected = round_trip(text, &[(aider_base(), "http://127.0.0.1:8787/v1")]);
    assert_eq!(
        connected,
        format!("{text}openai-api-base: http://127.0.0.1:8787/v1\n")
    );
}

#[test]
fn replaces_only_the_value_and_restores_its_exact_text() {
    for (old, raw) in [
        ("plain", "http://old/v1"),
        ("single", "'http://old/v1'"),
        ("double", "\"http://old\\x2fv1\""),
    ] {
        let text = format!(
            "# mine\nmodel: gpt-4o   # why\nopenai-api-base: {raw}   # {old}\nsome: thing\n"
        );
        let doc = parse(&text).unwrap();
        let prior = doc.get(&aider_base()).unwrap().unwrap();
        assert_eq!(
            (prior.value.as_str(), prior.raw.as_str()),
            ("http://old/v1", raw)
        );
        let connected = round_trip(&text, &[(aider_base(), "http://gw:8787/v1")]);
        assert_eq!(
            connected,
            format!(
                "# mine\nmodel: gpt-4o   # why\nopenai-api-base: http://gw:8787/v1   # {old}\nsome: thing\n"
            )
        );
    }
}

#[test]
fn keeps_crlf_a_bom_and_a_missing_final_newline() {
    let text = "\u{feff}--- # aider\r\nmodel: x\r\n#openai-api-base: y";
    let connected = round_trip(
        text,
        &[
            (aider_base(), "http://gw/v1"),
            (set_env(), "ANTHROPIC_API_BASE=http://gw"),
        ],
    );
    assert_eq!(
        connected,
        "\u{feff}--- # aider\r\nmodel: x\r\nopenai-api-base: http://gw/v1\r\nset-env:\r\n  - ANTHROPIC_API_BASE=http://gw\r\n#openai-api-base: y"
    );
    let text = "model: x";
    assert_eq!(
        round_trip(text, &[(aider_base(), "http://gw/v1")]),
        "model: x\nopenai-api-base: http://gw/v1"
    );
}

#[test]
fn empty_and_comment_only_files() {
    for text in ["", "# nothing yet\n", "---\n", "# no newline"] {
        let connected = round_trip(text, &[(KeyPath::keys(["GOOSE_PROVIDER"]), "anyray")]);
        assert!(
            connected.contains("GOOSE_PROVIDER: anyray"),
            "{connected:?}"
        );
    }
    assert_eq!(
        round_trip("", &[(KeyPath::keys(["GOOSE_PROVIDER"]), "anyray")]),
        "GOOSE_PROVIDER: anyray\n"
    );
}

#[test]
fn set_env_items_are_found_by_prefix() {
    // Added after the user's items, in their indentation (here: none).
    let text = "set-env:\n- FOO=1  # keep\n- ANTHROPIC_API_BASEX=no\nmodel: x\n";
    let connected = round_trip(text, &[(set_env(), "ANTHROPIC_API_BASE=http://gw")]);
    assert_eq!(
        connected,
        "set-env:\n- FOO=1  # keep\n- ANTHROPIC_API_BASEX=no\n- ANTHROPIC_API_BASE=http://gw\nmodel: x\n"
    );
    // An existing item is replaced in place, quotes kept on restore.
    let text = "set-env:\n  - 'ANTHROPIC_API_BASE=http://old'  # mine\n";
    let connected = round_trip(text, &[(set_env(), "ANTHROPIC_API_BASE=http://gw")]);
    assert_eq!(
        connected,
        "set-env:\n  - ANTHROPIC_API_BASE=http://gw  # mine\n"
    );
    // Inside a flow list, the value is replaced in place and quoted for flow context.
    let text = "set-env: [FOO=1, ANTHROPIC_API_BASE=http://old]\n";
    let connected = round_trip(text, &[(set_env(), "ANTHROPIC_API_BASE=http://gw")]);
    assert_eq!(
        connected,
        "set-env: [FOO=1, \"ANTHROPIC_API_BASE=http://gw\"]\n"
    );
    // `set-env:` with nothing after it is filled, and left empty again.
    let text = "set-env:   # later\nmodel: x\n";
    let connected = round_trip(text, &[(set_env(), "ANTHROPIC_API_BASE=http://gw")]);
    assert_eq!(
        connected,
        "set-env:   # later\n  - ANTHROPIC_API_BASE=http://gw\nmodel: x\n"
    );
}

fn continue_wants() -> Vec<(KeyPath, &'static str)> {
    vec![
        (model("provider"), "openai"),
        (model("model"), "gpt-4o-mini"),
        (model("apiBase"), "http://127.0.0.1:8787/v1"),
        (model("apiKey"), "${{ secrets.ANYRAY_TOKEN }}"),
        (model("roles").prefixed("chat"), "chat"),
    ]
}

#[test]
fn continue_entry_created_with_its_fields_and_removed_whole() {
    let text = "name: Local\nversion: 1.0.0\nschema: v1\nmodels:\n  - name: other\n    provider: ollama\n    model: llama3\n    roles: [chat]\n# rules below\nrules:\n  - Be brief\n";
    let connected = round_trip(text, &continue_wants());
    assert_eq!(
        connected,
        "name: Local\nversion: 1.0.0\nschema: v1\nmodels:\n  - name: other\n    provider: ollama\n    model: llama3\n    roles: [chat]\n  - name: Anyray gateway\n    provider: openai\n    model: gpt-4o-mini\n    apiBase: http://127.0.0.1:8787/v1\n    apiKey: \"${{ secrets.ANYRAY_TOKEN }}\"\n    roles:\n      - chat\n# rules below\nrules:\n  - Be brief\n"
    );
}

#[test]
fn continue_new_file_and_models_key() {
    let mut wants = vec![
        (KeyPath::keys(["name"]), "Local Config"),
        (KeyPath::keys(["version"]), "1.0.0"),
        (KeyPath::keys(["schema"]), "v1"),
    ];
    wants.extend(continue_wants());
    let connected = round_trip("", &wants);
    assert_eq!(
        connected,
        "name: Local Config\nversion: \"1.0.0\"\nschema: v1\nmodels:\n  - name: Anyray gateway\n    provider: openai\n    model: gpt-4o-mini\n    apiBase: http://127.0.0.1:8787/v1\n    apiKey: \"${{ secrets.ANYRAY_TOKEN }}\"\n    roles:\n      - chat\n"
    );
}

#[test]
fn continue_existing_entry_gets_the_missing_fields() {
    // An indentless list, 4-space mappings, quoted name: all followed.
    let text = "models:\n-   name: \"Anyray gateway\"\n    apiBase: 'http://old/v1'\n    requestOptions:\n        headers: {x: y}\n";
    let connected = round_trip(text, &continue_wants());
    assert_eq!(
        connected,
        "models:\n-   name: \"Anyray gateway\"\n    apiBase: http://127.0.0.1:8787/v1\n    requestOptions:\n        headers: {x: y}\n    provider: openai\n    model: gpt-4o-mini\n    apiKey: \"${{ secrets.ANYRAY_TOKEN }}\"\n    roles:\n    - chat\n"
    );
}

#[test]
fn nested_keys_follow_the_files_indentation() {
    let text = "a:\n    b: 1\n";
    let path = KeyPath::keys(["x", "inner", "z"]);
    let connected = round_trip(text, &[(path, "v")]);
    assert_eq!(connected, "a:\n    b: 1\nx:\n    inner:\n        z: v\n");
    // A key a YAML 1.1 reader takes as a boolean is quoted too.
    let connected = round_trip(text, &[(KeyPath::keys(["y"]), "v")]);
    assert_eq!(connected, "a:\n    b: 1\n\"y\": v\n");
}

#[test]
fn named_entries_hold_a_value_as_in_json() {
    let list = KeyPath::keys(["env"]);
    let text = "env:\n  - name: KEEP\n    value: '1'\n";
    let connected = round_trip(text, &[(list.named("URL"), "http://gw")]);
    assert_eq!(
        connected,
        "env:\n  - name: KEEP\n    value: '1'\n  - name: URL\n    value: http://gw\n"
    );
}

#[test]
fn values_are_quoted_when_a_reader_could_misread_them() {
    let mut doc = parse("a: b\n").unwrap();
    for (value, written) in [
        ("yes", "\"yes\""),
        ("on", "\"on\""),
        ("http://x/#frag", "\"http://x/#frag\""),
        ("a: b", "\"a: b\""),
        ("123", "\"123\""),
    ] {
        doc.set(&aider_base(), value).unwrap();
        assert!(
            doc.render()
                .ends_with(&format!("openai-api-base: {written}\n")),
            "{}",
            doc.render()
        );
        assert_eq!(doc.get(&aider_base()).unwrap().unwrap().value, value);
    }
}

// ---- refusals, each with its position ----

#[test]
fn refuses_an_anchor_or_alias_on_the_path() {
    let err = get_error("base: &b http://x\nopenai-api-base: *b\n", &aider_base());
    assert_eq!(err.position, Some((2, 18)));
    assert!(err.message.contains("alias"), "{}", err.message);
    let err = get_error("x: 1\nopenai-api-base: &b http://x\ny: *b\n", &aider_base());
    assert_eq!(err.position, Some((2, 18)));
    assert!(err.message.contains("anchor"), "{}", err.message);
    let err = set_error("x: 1\nset-env: &e\n  - A=1\nother: *e\n", &set_env());
    assert_eq!(err.position, Some((2, 10)));
    // A named entry reached through an alias.
    let text = "defs:\n  - &gw {name: Anyray gateway, apiBase: x}\nmodels:\n  - *gw\n";
    let err = get_error(text, &model("apiBase"));
    assert_eq!(err.position, Some((4, 5)));
    // Anchors and aliases elsewhere are fine.
    round_trip(
        "defaults: &d {provider: openai}\nuse: *d\nmodel: x\n",
        &[(aider_base(), "http://gw")],
    );
}

#[test]
fn refuses_a_merge_key_on_the_path() {
    let text = "base: &b\n  provider: openai\nmodels:\n  - <<: *b\n    name: Anyray gateway\n";
    let err = get_error(text, &model("provider"));
    assert_eq!(err.position, Some((4, 5)));
    assert!(err.message.contains("merge key"), "{}", err.message);
    let err = get_error("<<: {a: 1}\nb: 2\n", &aider_base());
    assert_eq!(err.position, Some((1, 1)));
}

#[test]
fn refuses_more_than_one_document() {
    let err = parse("a: 1\n---\nopenai-api-base: x\n").err().unwrap();
    assert_eq!(err.position, Some((2, 1)));
    assert!(
        err.message.contains("more than one YAML document"),
        "{}",
        err.message
    );
}

#[test]
fn refuses_a_tag_on_the_path() {
    let err = get_error("a: 1\nopenai-api-base: !!str http://x\n", &aider_base());
    assert_eq!(err.position, Some((2, 18)));
    assert!(err.message.contains("tag"), "{}", err.message);
    let err = get_error("set-env: !!seq\n  - A=1\n", &set_env());
    assert_eq!(err.position, Some((1, 10)));
}

#[test]
fn refuses_a_block_scalar_or_a_non_string() {
    let err = get_error("a: 1\nopenai-api-base: |\n  http://x\n", &aider_base());
    assert_eq!(err.position, Some((3, 3)));
    assert!(err.message.contains("block scalar"), "{}", err.message);
    for (text, found) in [
        ("openai-api-base: 8080\n", "a number"),
        ("openai-api-base: yes\n", "a boolean"),
        ("openai-api-base: ~\n", "null"),
        ("openai-api-base:\n", "null"),
        ("openai-api-base: [a]\n", "a list"),
        ("openai-api-base:\n  x: 1\n", "a mapping"),
    ] {
        let err = get_error(text, &aider_base());
        assert!(err.message.contains(found), "{text:?}: {}", err.message);
        assert_eq!(
            err.position.map(|p| p.0),
            Some(1 + usize::from(text.contains("x: 1")))
        );
    }
    // A container that holds a scalar.
    let err = get_error("models: none\n", &model("apiBase"));
    assert_eq!(err.position, Some((1, 9)));
    assert!(err.message.contains("expects a list"), "{}", err.message);
}

#[test]
fn refuses_to_add_to_a_flow_collection() {
    let err = set_error("a: 1\nset-env: [FOO=1]\n", &set_env());
    assert_eq!(err.position, Some((2, 10)));
    assert!(err.message.contains("flow style"), "{}", err.message);
    let err = set_error("{a: 1}\n", &aider_base());
    assert_eq!(err.position, Some((1, 1)));
    let err = set_error("models:\n  - {name: Anyray gateway}\n", &model("apiBase"));
    assert_eq!(err.position, Some((2, 5)));
}

#[test]
fn refuses_duplicates_on_the_path_naming_both() {
    let err = get_error(
        "openai-api-base: a\nmodel: x\nopenai-api-base: b\n",
        &aider_base(),
    );
    assert_eq!(err.position, Some((3, 1)));
    assert!(err.message.contains("at 1:1 and 3:1"), "{}", err.message);
    let text = "models:\n  - name: Anyray gateway\n  - name: x\n  - name: 'Anyray gateway'\n";
    let err = get_error(text, &model("apiBase"));
    assert!(err.message.contains("at 2:5 and 4:5"), "{}", err.message);
    let err = get_error(
        "set-env:\n- ANTHROPIC_API_BASE=a\n- ANTHROPIC_API_BASE=b\n",
        &set_env(),
    );
    assert!(err.message.contains("at 2:3 and 3:3"), "{}", err.message);
    // Duplicates away from the path are the user's business.
    round_trip("x: 1\nx: 2\n", &[(aider_base(), "http://gw")]);
}

#[test]
fn refuses_tabs_in_indentation() {
    let err = parse("a:\n  b: 1\nc:\n\t- x\n").err().unwrap();
    assert_eq!(err.position.map(|p| p.0), Some(4));
    let err = parse("a: [x,\n\ty]\n").err().unwrap();
    assert_eq!(err.position, Some((2, 1)));
    assert!(err.message.contains("tab"), "{}", err.message);
    // A tab inside a block scalar is text, and one before a comment is harmless.
    round_trip(
        "a: |\n  \tcode\n\t# note\nb: 1\n",
        &[(aider_base(), "http://gw")],
    );
}

#[test]
fn refuses_a_top_level_that_is_not_a_mapping() {
    let err = parse("# list\n- a\n- b\n").err().unwrap();
    assert_eq!(err.position, Some((2, 1)));
    assert!(
        err.message.contains("a list, not a mapping"),
        "{}",
        err.message
    );
}

#[test]
fn invalid_yaml_has_a_position() {
    let err = parse("a: 1\nb: 'open\n").err().unwrap();
    assert!(err.message.starts_with("invalid YAML"), "{}", err.message);
    assert!(err.position.is_some());
}

#[test]
fn every_edit_is_checked_against_the_parsed_documents() {
    let doc = parse("a: 1\nb: 2\n").unwrap();
    let path = aider_base();
    let hops = hops(&path, true).unwrap();
    let check = |text: &str| doc.verified(&path, &hops, text.to_string(), true, Some("http://gw"));
    assert!(check("a: 1\nb: 2\nopenai-api-base: http://gw\n").is_ok());
    assert!(
        check("a: 1 # comments and layout are free\nb:   2\nopenai-api-base: 'http://gw'\n")
            .is_ok()
    );
    for (broken, why) in [
        (
            "a: 1\nb: 3\nopenai-api-base: http://gw\n",
            "change other values",
        ),
        (
            "a: 1\nb: '2'\nopenai-api-base: http://gw\n",
            "change other values",
        ),
        ("a: 1\nopenai-api-base: http://gw\n", "change other values"),
        (
            "a: 1\nb: 2\nc: 3\nopenai-api-base: http://gw\n",
            "change other values",
        ),
        (
            "a: 1\nb: &x 2\nopenai-api-base: http://gw\n",
            "change other values",
        ),
        ("a: 1\nb: 2\nopenai-api-base: http://other\n", "read back"),
        ("a: 1\nb: 2\n", "read back"),
        (
            "a: 1\nb: [2\nopenai-api-base: http://gw\n",
            "would not parse",
        ),
        ("- a\n", "top level"),
    ] {
        let err = check(broken)
            .err()
            .unwrap_or_else(|| panic!("accepted {broken:?}"));
        assert!(err.message.contains(why), "{broken:?}: {}", err.message);
    }
}

#[test]
fn block_scalars_keep_their_trailing_lines() {
    // Keep-chomping (`|+`) keeps the blank lines after the text: new lines go after them.
    let text = "models:\n  - name: Anyray gateway\n    notes: |+\n      hi\n\n  - name: other\nlast: |+\n  x\n\n";
    let connected = round_trip(
        text,
        &[(model("apiBase"), "http://gw"), (aider_base(), "http://gw")],
    );
    assert_eq!(
        connected,
        "models:\n  - name: Anyray gateway\n    notes: |+\n      hi\n\n    apiBase: http://gw\n  - name: other\nlast: |+\n  x\n\nopenai-api-base: http://gw\n"
    );
}

#[test]
fn refuses_to_remove_an_entry_that_shares_its_line() {
    let text = "models:\n  - apiBase: x\n    name: Anyray gateway\n";
    let mut doc = parse(text).unwrap();
    let err = doc.remove(&model("apiBase")).unwrap_err();
    assert_eq!(err.position, Some((2, 14)));
    assert_eq!(doc.render(), text);
}

#[test]
fn containers_and_emptiness() {
    let doc = parse("models:\n  - name: Anyray gateway\nset-env:\nx: ~\n").unwrap();
    assert!(doc.has_container(&KeyPath::keys(["models"])));
    assert!(doc.has_container(&KeyPath::keys(["models"]).named("Anyray gateway")));
    assert!(doc.has_container(&KeyPath::keys(["set-env"])));
    assert!(!doc.has_container(&KeyPath::keys(["x"])));
    assert!(!doc.has_container(&KeyPath::keys(["models"]).named("other")));
    // A user's entry with more than its name stays.
    let text = "models:\n  - name: Anyray gateway\n    provider: x\n";
    let mut doc = parse(text).unwrap();
    assert!(!doc.remove_if_empty(&KeyPath::keys(["models"]).named("Anyray gateway")));
    assert!(!doc.remove_if_empty(&KeyPath::keys(["models"])));
    assert_eq!(doc.render(), text);
}

#[test]
fn prefixed_values_must_carry_their_prefix() {
    let mut doc = parse("").unwrap();
    assert!(doc.set(&set_env(), "OTHER=1").is_err());
    assert!(KeyPath::keys(["a"]).prefixed("x").key("b").segs().len() == 3);
    assert!(
        doc.get(&KeyPath::keys(["a"]).prefixed("x").key("b"))
            .is_err()
    );
}

#[test]
fn a_block_scalar_at_the_end_of_the_file_keeps_its_text() {
    // Without a final line break PyYAML reads "last", saphyr and npm yaml "last\n": a
    // line added after it would change it for aider.
    let text = "a: 1\nnotes: |\n  last";
    let err = set_error(text, &aider_base());
    assert_eq!(err.position, Some((3, 3)));
    assert!(err.message.contains("block scalar"), "{}", err.message);
    // The line break before a removed last line stays when it ends a block scalar.
    let connected = "notes: |\n  last\nopenai-api-base: http://gw";
    let mut doc = parse(connected).unwrap();
    doc.remove(&aider_base()).unwrap();
    assert_eq!(doc.render(), "notes: |\n  last\n");
    let mut doc = parse("notes: |+\n  kept\n\nopenai-api-base: http://gw").unwrap();
    doc.remove(&aider_base()).unwrap();
    assert_eq!(doc.render(), "notes: |+\n  kept\n\n");
    round_trip("notes: 'plain'\nx: y", &[(aider_base(), "http://gw")]);
}
