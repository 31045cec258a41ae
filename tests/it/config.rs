//! Settings: the config file, `anyray config`, and precedence flag > env > file > default.

use crate::common;

use common::{TestEnv, redact_home};

#[test]
fn config_path_is_in_the_xdg_config_dir() {
    let env = TestEnv::new();
    let out = env.run(["config", "path"]);
    out.ok();
    assert_eq!(out.stdout.trim(), env.config_file().display().to_string());
    let out = env
        .cmd(["config", "path"])
        .env("ANYRAY_CONFIG", env.path("other.toml"))
        .run();
    assert_eq!(
        out.stdout.trim(),
        env.path("other.toml").display().to_string()
    );
}

#[test]
fn set_keeps_comments_and_ordering() {
    let env = TestEnv::new();
    let original = "# My anyray settings\n\n# where the team's gateway lives\ngateway = \"https://old.example\"   # set by onboarding\n\n[relay]\n# keep the relay local\nlisten = \"127.0.0.1:9000\"\n";
    env.write(".config/anyray/config.toml", original);
    env.run(["config", "set", "gateway", "https://gw.example:8787"])
        .ok();
    assert_eq!(
        env.read(".config/anyray/config.toml"),
        original.replace("https://old.example", "https://gw.example:8787")
    );
    env.run(["config", "set", "relay.fallback", "direct"]).ok();
    let text = env.read(".config/anyray/config.toml");
    assert!(
        text.starts_with("# My anyray settings\n\n# where the team's gateway lives\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "# keep the relay local\nlisten = \"127.0.0.1:9000\"\nfallback = \"direct\"\n"
        ),
        "{text}"
    );
    let out = env.run(["config", "get", "relay.fallback"]);
    out.ok();
    assert_eq!(out.stdout, "direct\n");
}

#[test]
fn set_creates_the_file_and_unset_removes_the_key() {
    let env = TestEnv::new();
    env.run(["config", "set", "gateway", "https://gw.example"])
        .ok();
    assert_eq!(
        env.read(".config/anyray/config.toml"),
        "gateway = \"https://gw.example\"\n"
    );
    env.run(["config", "unset", "gateway"]).ok();
    assert_eq!(env.read(".config/anyray/config.toml"), "");
}

#[cfg(unix)]
#[test]
fn new_config_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    env.run(["config", "set", "via", "relay"]).ok();
    let mode = std::fs::metadata(env.config_file())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn set_rejects_unknown_keys_and_bad_values_without_writing() {
    let env = TestEnv::new();
    let original = "via = \"direct\"\n";
    env.write(".config/anyray/config.toml", original);
    let out = env.run(["config", "set", "gatway", "https://x.example"]);
    out.code(2);
    assert!(
        out.stderr.contains("unknown setting `gatway`"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("gateway"),
        "the hint lists known keys: {}",
        out.stderr
    );
    let out = env.run(["config", "set", "gateway", "https://u:p@x.example"]);
    out.code(2);
    let out = env.run(["config", "set", "relay.listen", "localhost"]);
    out.code(2);
    assert_eq!(env.read(".config/anyray/config.toml"), original);
}

#[test]
fn gateway_precedence_is_flag_env_file_default() {
    let mut env = TestEnv::new();
    let get = |env: &TestEnv, extra: &[&str]| {
        let mut args = vec!["--json", "config", "get", "gateway"];
        args.extend_from_slice(extra);
        let out = env.run(&args);
        out.ok();
        let doc = out.json();
        (
            doc["value"].as_str().unwrap().to_string(),
            doc["source"].as_str().unwrap().to_string(),
        )
    };
    assert_eq!(
        get(&env, &[]),
        ("http://127.0.0.1:8787".into(), "default".into())
    );

    env.write(
        ".config/anyray/config.toml",
        "gateway = \"https://file.example\"\n",
    );
    let (value, source) = get(&env, &[]);
    assert_eq!(value, "https://file.example");
    assert!(source.ends_with("config.toml"), "{source}");

    env.set_var("ANYRAY_GATEWAY", "https://env.example");
    assert_eq!(
        get(&env, &[]),
        ("https://env.example".into(), "env ANYRAY_GATEWAY".into())
    );

    // A command flag beats all: `env --gateway` resolves the same settings.
    let other = env.path("elsewhere.toml");
    std::fs::write(&other, "gateway = \"https://other-file.example\"\n").unwrap();
    env.remove_var("ANYRAY_GATEWAY");
    let (value, _) = get(&env, &["--config", other.to_str().unwrap()]);
    assert_eq!(
        value, "https://other-file.example",
        "--config selects the file"
    );
}

#[test]
fn malformed_config_names_file_line_and_column() {
    let env = TestEnv::new();
    let bad = "gateway = \"https://gw.example\"\nvia = = \"relay\"\n";
    env.write(".config/anyray/config.toml", bad);
    let out = env.run(["config", "set", "via", "relay"]);
    out.code(2);
    let stderr = redact_home(&out.stderr, &env);
    assert!(
        stderr.contains("[HOME]/.config/anyray/config.toml:2:7: invalid TOML"),
        "{stderr}"
    );
    assert_eq!(
        env.read(".config/anyray/config.toml"),
        bad,
        "file untouched"
    );
    let out = env.run(["--json", "config", "get", "gateway"]);
    out.code(2);
    assert!(
        out.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("config.toml:2:7")
    );
}

#[test]
fn unknown_keys_in_the_file_warn_but_work() {
    let env = TestEnv::new();
    env.write(
        ".config/anyray/config.toml",
        "gateway = \"https://gw.example\"\ncolour = \"blue\"\n",
    );
    let out = env.run(["config", "get", "gateway"]);
    out.ok();
    assert_eq!(out.stdout, "https://gw.example\n");
    assert!(
        out.stderr.contains("unknown setting `colour` is ignored"),
        "{}",
        out.stderr
    );
}

#[test]
fn bad_env_value_says_where_it_came_from() {
    let env = TestEnv::new();
    let out = env
        .cmd(["--json", "config", "get", "gateway"])
        .env("ANYRAY_GATEWAY", "gw.example")
        .run();
    out.code(2);
    let msg = out.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(msg.contains("env ANYRAY_GATEWAY"), "{msg}");
}

#[test]
fn a_gateway_flag_beats_env_and_file() {
    let mut env = TestEnv::new();
    env.write(
        ".config/anyray/config.toml",
        "gateway = \"https://file.example\"\n",
    );
    env.set_var("ANYRAY_GATEWAY", "https://env.example");
    // Discovery to these hosts is never attempted: `run --print-env` with a loopback
    // flag value only talks to the flag's gateway.
    let out = env.run([
        "--json",
        "run",
        "--print-env",
        "--gateway",
        "http://127.0.0.1:9",
        "--",
        "true",
    ]);
    out.ok();
    assert_eq!(out.json()["endpoint"], "http://127.0.0.1:9");
    let out = env.run(["--json", "config", "get", "gateway"]);
    assert_eq!(
        out.json()["value"],
        "https://env.example",
        "without the flag, env wins"
    );
}

#[test]
fn config_help_lists_every_key_with_its_default() {
    let env = TestEnv::new();
    for args in [
        &["config", "--help"][..],
        &["config", "get", "--help"],
        &["config", "set", "--help"],
        &["config", "unset", "--help"],
    ] {
        let out = env.run(args);
        out.ok();
        for key in anyray::config_file::KEYS {
            assert!(
                out.stdout.contains(&format!("\n  {}", key.key)),
                "`{}` lacks {}:\n{}",
                args.join(" "),
                key.key,
                out.stdout
            );
        }
        assert!(
            out.stdout.contains("relay.workers (default: 1)"),
            "{}",
            out.stdout
        );
    }
}
