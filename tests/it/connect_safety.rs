//! "Nothing lost under real use" (issue 13): each way an independent test of the release
//! binary lost data or misread a file, as a test of the real binary in a temp HOME.
//! The kill-at-every-step test is tests/it/connect_crash.rs; the random sequences of
//! connects, edits and disconnects are tests/it/connect_sequences_prop.rs.

use crate::{common, connect_support, needs};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::TestEnv;
use connect_support::{GW, OTHER_GW, read_bytes};

const CLAUDE: &str = ".claude/settings.json";
const CODEX: &str = ".codex/config.toml";
const CURSOR: &str = ".config/Cursor/User/settings.json";

/// Every file under HOME with its bytes (and, on Unix, its mode), to show a refused run
/// touched nothing.
fn files(env: &TestEnv) -> BTreeMap<PathBuf, (Vec<u8>, u32)> {
    fn walk(dir: &Path, out: &mut BTreeMap<PathBuf, (Vec<u8>, u32)>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                walk(&path, out);
            } else if meta.is_file() {
                out.insert(path.clone(), (std::fs::read(&path).unwrap(), mode(&path)));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(env.home(), &mut out);
    out
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[cfg(not(unix))]
fn mode(_path: &Path) -> u32 {
    0
}

#[cfg(unix)]
fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn connect(env: &TestEnv, target: &str, gateway: &str) -> common::Output {
    env.run(["connect", "--yes", "--force", "--gateway", gateway, target])
}

/// The ledger as JSON.
fn ledger(env: &TestEnv) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(env.state_dir().join("ledger.json")).unwrap()).unwrap()
}

fn backups(env: &TestEnv) -> Vec<PathBuf> {
    match std::fs::read_dir(env.state_dir().join("backups")) {
        Ok(entries) => entries.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    }
}

// ---- 1. edits between two connects ----

/// What Claude Code does to its settings: parse, change, write the whole file back.
fn claude_code_sets(env: &TestEnv, key: &str, value: &str) {
    let mut json: serde_json::Value = serde_json::from_str(&env.read(CLAUDE)).unwrap();
    json[key] = value.into();
    env.write(CLAUDE, serde_json::to_string_pretty(&json).unwrap() + "\n");
}

#[test]
fn edits_between_two_connects_survive_disconnect() {
    for second in [
        vec!["--gateway", OTHER_GW],
        vec!["--via", "relay", "--gateway", GW],
    ] {
        let env = TestEnv::new();
        env.write(CLAUDE, "{\n  \"theme\": \"dark\"\n}\n");
        connect(&env, "claude-code", GW).ok();
        claude_code_sets(&env, "model", "opus");
        let mut args = vec!["connect", "--yes", "--force", "claude-code"];
        args.extend(&second);
        env.run(&args).ok();
        assert!(env.read(CLAUDE).contains("\"model\": \"opus\""));

        env.run(["disconnect", "--yes", "claude-code"]).ok();
        assert_eq!(
            env.read(CLAUDE),
            "{\n  \"model\": \"opus\",\n  \"theme\": \"dark\"\n}\n",
            "second connect {second:?}"
        );
    }
}

#[test]
fn codex_mcp_servers_added_between_connects_survive_disconnect() {
    let env = TestEnv::new();
    let original = "# mine\nmodel = \"o3\"\n";
    env.write(CODEX, original);
    connect(&env, "codex", GW).ok();
    // What `codex mcp add docs -- npx docs-server` appends.
    let mcp = "\n[mcp_servers.docs]\ncommand = \"npx\"\nargs = [\"docs-server\"]\n";
    env.write(CODEX, env.read(CODEX) + mcp);
    connect(&env, "codex", OTHER_GW).ok();
    assert!(env.read(CODEX).contains(&format!("{OTHER_GW}/v1")));

    env.run(["disconnect", "--yes"]).ok();
    assert_eq!(env.read(CODEX), format!("{original}{mcp}"));
}

#[test]
fn only_anyray_changing_the_file_still_restores_the_exact_bytes() {
    // Two connects with nothing else in between: the backup still stands for the file,
    // so even an odd layout comes back byte for byte.
    let env = TestEnv::new();
    let original = "{\"theme\":\"dark\",   \"n\": 1}";
    env.write(CLAUDE, original);
    connect(&env, "claude-code", GW).ok();
    connect(&env, "claude-code", OTHER_GW).ok();
    let out = env.run(["disconnect", "--yes", "--json"]);
    out.ok();
    assert_eq!(out.json()["targets"][0]["files"][0]["method"], "backup");
    assert_eq!(env.read(CLAUDE), original);
}

// ---- 2. a kill between the file's rename and the ledger's commit ----

/// Runs anyray with a kill point set; it must die there (no exit code).
fn killed_at(env: &TestEnv, point: &str, args: &[&str]) {
    let out = env.cmd(args).env("ANYRAY_TEST_KILL_AT", point).run();
    assert_eq!(
        out.code, -1,
        "{point}: the run was not killed\n{}",
        out.stderr
    );
}

#[test]
fn a_kill_after_the_rename_loses_nothing() {
    // A first connect's locked writes: the backup (1), the intent (2), the file (3), the
    // commit (4). Killed right after the file's rename, before the commit.
    let original =
        "{\n  \"env\": {\n    \"ANTHROPIC_BASE_URL\": \"https://mine.example\"\n  }\n}\n";
    for then_connect_again in [false, true] {
        let env = TestEnv::new();
        env.write(CLAUDE, original);
        let args = [
            "connect",
            "--yes",
            "--force",
            "--gateway",
            GW,
            "claude-code",
        ];
        killed_at(&env, "after-write#3", &args);
        assert!(env.read(CLAUDE).contains(GW), "the file was renamed in");
        assert!(ledger(&env)["pending"].is_object(), "the intent is on disk");

        // The killed run saved no gateway: name it.
        env.run(["connect", "--check", "--gateway", GW, "claude-code"])
            .ok();
        if then_connect_again {
            // The original must not be replaced by anyray's own value as the "prior".
            connect(&env, "claude-code", OTHER_GW).ok();
        }
        let out = env.run(["disconnect", "--yes"]);
        out.ok();
        assert!(
            !out.stdout.contains("Nothing to disconnect"),
            "{}",
            out.stdout
        );
        assert_eq!(env.read(CLAUDE), original);
        assert!(backups(&env).is_empty(), "{:?}", backups(&env));
    }
}

#[test]
fn a_kill_before_the_rename_leaves_no_temp_file() {
    let env = TestEnv::new();
    let original = "{\n  \"theme\": \"dark\"\n}\n";
    env.write(CLAUDE, original);
    let mine = env.write(".claude/.anyray-notes.tmp", "not anyray's");
    killed_at(
        &env,
        "before-write#3",
        &[
            "connect",
            "--yes",
            "--force",
            "--gateway",
            GW,
            "claude-code",
        ],
    );
    let temps = |env: &TestEnv| -> Vec<String> {
        std::fs::read_dir(env.path(".claude"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".anyray-txn-"))
            .collect()
    };
    assert_eq!(temps(&env).len(), 1, "the killed write's temp file");
    assert_eq!(env.read(CLAUDE), original);

    // The next run that takes the lock rolls the intent back and cleans up.
    env.run(["disconnect", "--yes"]).ok();
    assert!(temps(&env).is_empty());
    assert!(mine.exists(), "a file anyray did not make is left alone");
    assert_eq!(env.read(CLAUDE), original);
    assert!(backups(&env).is_empty(), "the rolled-back backup went");
    assert!(ledger(&env)["files"].as_object().unwrap().is_empty());
}

// ---- 3. the state dir is trusted only when it is the user's alone ----

#[cfg(unix)]
#[test]
fn under_umask_000_everything_anyray_creates_is_private() {
    let env = TestEnv::new();
    // An existing file gets a backup (backups/ is created); Codex's dir is created.
    env.write(CLAUDE, "{}\n");
    let cmd = env.program(
        "sh",
        [
            "-c",
            "umask 000; exec \"$0\" \"$@\"",
            common::BIN,
            "connect",
            "--yes",
            "--force",
            "--gateway",
            GW,
            "claude-code",
            "codex",
        ],
    );
    cmd.run().ok();
    let state = env.state_dir();
    for dir in [
        env.path(".local"),
        env.path(".local/state"),
        state.clone(),
        state.join("backups"),
        env.path(".config"),
        env.config_dir(),
        env.path(".codex"),
    ] {
        assert_eq!(mode(&dir), 0o700, "{}", dir.display());
    }
    for file in [
        state.join("connect.lock"),
        state.join("ledger.json"),
        backups(&env).pop().expect("a backup"),
        env.path(CODEX),
        env.config_file(),
    ] {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
}

#[cfg(unix)]
#[test]
fn a_state_dir_others_can_write_is_refused_and_nothing_is_touched() {
    let env = TestEnv::new();
    env.write(CLAUDE, "{\n  \"theme\": \"dark\"\n}\n");
    connect(&env, "claude-code", GW).ok();
    let state = env.state_dir();
    let ledger_file = state.join("ledger.json");
    let backups_dir = state.join("backups");
    let loosen: [(&Path, u32, u32, &str); 4] = [
        (&state, 0o777, 0o700, "writable by other users"),
        (&state, 0o770, 0o700, "writable by other users"),
        (&ledger_file, 0o606, 0o600, "writable by other users"),
        (&backups_dir, 0o722, 0o700, "writable by other users"),
    ];
    for (path, loose, private, why) in loosen {
        chmod(path, loose);
        let before = files(&env);
        for args in [
            vec!["disconnect", "--yes"],
            vec![
                "connect",
                "--yes",
                "--force",
                "--gateway",
                OTHER_GW,
                "claude-code",
            ],
            vec!["status"],
        ] {
            let out = env.run(&args);
            out.code(2);
            assert!(out.stderr.contains(why), "{args:?}: {}", out.stderr);
            assert!(
                out.stderr.contains(&path.display().to_string()),
                "{}",
                out.stderr
            );
            assert_eq!(files(&env), before, "{args:?} touched a file");
        }
        chmod(path, private);
    }
    env.run(["disconnect", "--yes"]).ok();
    assert_eq!(env.read(CLAUDE), "{\n  \"theme\": \"dark\"\n}\n");
}

/// Whether this test runs as root (a file we create is owned by uid 0).
#[cfg(unix)]
fn running_as_root(env: &TestEnv) -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(env.home()).unwrap().uid() == 0
}

#[cfg(unix)]
#[test]
fn a_state_dir_owned_by_another_user_is_refused() {
    let env = TestEnv::new();
    if !running_as_root(&env) {
        eprintln!("skipped: changing a file's owner needs root");
        return;
    }
    const NOBODY: u32 = 65534;
    env.write(CLAUDE, "{}\n");
    connect(&env, "claude-code", GW).ok();
    let state = env.state_dir();
    for path in [
        state.clone(),
        state.join("ledger.json"),
        state.join("backups"),
    ] {
        std::os::unix::fs::chown(&path, Some(NOBODY), None).unwrap();
        let before = files(&env);
        let out = env.run(["disconnect", "--yes"]);
        out.code(2);
        assert!(
            out.stderr
                .contains(&format!("is owned by uid {NOBODY}, not by you")),
            "{}",
            out.stderr
        );
        assert_eq!(files(&env), before);
        std::os::unix::fs::chown(&path, Some(0), None).unwrap();
    }
    // A backup another user owns is not trusted either.
    let backup = backups(&env).pop().unwrap();
    std::os::unix::fs::chown(&backup, Some(NOBODY), None).unwrap();
    let out = env.run(["disconnect", "--yes"]);
    out.code(2);
    assert!(
        out.stderr.contains(&backup.display().to_string()),
        "{}",
        out.stderr
    );
    assert!(env.read(CLAUDE).contains(GW), "still connected, untouched");
}

#[test]
fn a_backup_name_that_leaves_the_backups_dir_is_refused() {
    let env = TestEnv::new();
    env.write(CLAUDE, "{}\n");
    connect(&env, "claude-code", GW).ok();
    let connected = env.read(CLAUDE);
    // A victim where `backups/../../victim` and an absolute name would point.
    let victim = env.write(".local/victim", "precious");
    let claude = env.path(CLAUDE).display().to_string();
    for name in [
        "../../victim".to_string(),
        victim.display().to_string(),
        "settings.json.0123456789abcdef.orig/../../../victim".to_string(),
    ] {
        let mut json = ledger(&env);
        json["files"][&claude]["backup"] = name.clone().into();
        let path = env.state_dir().join("ledger.json");
        std::fs::write(&path, serde_json::to_string_pretty(&json).unwrap()).unwrap();
        let before = files(&env);
        for args in [vec!["disconnect", "--yes"], vec!["status"]] {
            let out = env.run(&args);
            out.code(2);
            assert!(
                out.stderr.contains("not a name anyray makes"),
                "{name}: {}",
                out.stderr
            );
        }
        assert_eq!(files(&env), before, "{name}");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert_eq!(env.read(CLAUDE), connected);
    }
}

#[test]
fn a_relative_state_dir_is_refused() {
    let mut env = TestEnv::new();
    env.set_var("ANYRAY_STATE_DIR", "state");
    for args in [
        vec![
            "connect",
            "--yes",
            "--force",
            "--gateway",
            GW,
            "claude-code",
        ],
        vec!["disconnect", "--yes"],
        vec!["status"],
    ] {
        let out = env.run(&args);
        out.code(2);
        assert!(
            out.stderr
                .contains("ANYRAY_STATE_DIR must be an absolute path"),
            "{}",
            out.stderr
        );
    }
    assert!(!env.path("state").exists());
    assert!(!env.path(CLAUDE).exists());
}

// ---- 4. duplicate keys, read as the tools read them ----

/// What the tool reads from `file`: Node's JSON.parse (`json`) or VS Code's jsonc-parser
/// (`jsonc`), through tests/jsonc/read.js. `None` when they are missing here (see
/// [`needs`]; never in CI).
fn tool_reads(reader: &str, file: &Path) -> Option<serde_json::Value> {
    let packages: &[&str] = if reader == "jsonc" {
        &["jsonc-parser"]
    } else {
        &[]
    };
    let dir = needs::node_packages(packages)?;
    let out = Command::new("node")
        .arg(dir.join("read.js"))
        .arg(reader)
        .arg(file)
        .output()
        .expect("run node");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

#[test]
fn duplicate_keys_on_a_managed_path_are_refused_where_the_tool_reads_otherwise() {
    // (file, its text, the reader, what the tool reads at the managed key — not the first
    // occurrence an editor addressing keys by name finds —, the second occurrence's place)
    let cases = [
        (
            CLAUDE,
            "{\"env\":{\"ANTHROPIC_BASE_URL\":\"https://mine\"},\"env\":{\"FOO\":\"1\"}}",
            "json",
            "claude-code",
            ("/env/ANTHROPIC_BASE_URL", None),
            ":1:46: `env` appears twice",
        ),
        (
            CLAUDE,
            "{\n  \"env\": {\n    \"ANTHROPIC_BASE_URL\": \"https://a\",\n    \"ANTHROPIC_BASE_URL\": \"https://b\"\n  }\n}\n",
            "json",
            "claude-code",
            ("/env/ANTHROPIC_BASE_URL", Some("https://b")),
            ":4:5: `env.ANTHROPIC_BASE_URL` appears twice",
        ),
        (
            CURSOR,
            "{\n  // mine\n  \"terminal.integrated.env.linux\": { \"OPENAI_BASE_URL\": \"https://a\" },\n  \"terminal.integrated.env.linux\": {},\n}\n",
            "jsonc",
            "cursor",
            ("/terminal.integrated.env.linux/OPENAI_BASE_URL", None),
            ":4:3: `\"terminal.integrated.env.linux\"` appears twice",
        ),
    ];
    for (rel, text, reader, target, (pointer, reads), position) in cases {
        let env = TestEnv::new();
        let file = env.write(rel, text);
        if let Some(read) = tool_reads(reader, &file) {
            assert_eq!(
                read.pointer(pointer).and_then(|v| v.as_str()),
                reads,
                "{reader}: {read}"
            );
        }
        let out = connect(&env, target, GW);
        out.code(3);
        assert!(out.stderr.contains(position), "{}", out.stderr);
        assert!(out.stderr.contains("takes the last one"), "{}", out.stderr);
        assert_eq!(env.read(rel), text, "untouched");

        let status = env.run(["status", "--json", target]);
        status.ok();
        assert_eq!(status.json()["targets"][0]["state"], "invalid");
        env.run(["connect", "--check", "--gateway", GW, target])
            .code(1);
    }
}

#[test]
fn two_entries_of_the_same_name_in_a_managed_list_are_refused() {
    // The Claude Code extension's list: which entry wins is the extension's business.
    let env = TestEnv::new();
    let text = "{\n  \"claudeCode.environmentVariables\": [\n    { \"name\": \"ANTHROPIC_BASE_URL\", \"value\": \"https://a\" },\n    { \"name\": \"ANTHROPIC_BASE_URL\", \"value\": \"https://b\" }\n  ]\n}\n";
    env.write(CURSOR, text);
    let out = connect(&env, "cursor", GW);
    out.code(3);
    assert!(
        out.stderr
            .contains(":4:5: an entry named `ANTHROPIC_BASE_URL` appears twice in the same list"),
        "{}",
        out.stderr
    );
    assert_eq!(env.read(CURSOR), text);
}

#[test]
fn duplicates_elsewhere_are_left_alone_and_the_tool_reads_the_gateway() {
    let env = TestEnv::new();
    let text = "{\n  \"theme\": \"light\",\n  \"theme\": \"dark\"\n}\n";
    let file = env.write(CLAUDE, text);
    connect(&env, "claude-code", GW).ok();
    if let Some(read) = tool_reads("json", &file) {
        assert_eq!(read["env"]["ANTHROPIC_BASE_URL"], GW);
        assert_eq!(read["theme"], "dark");
    }
    env.run(["disconnect", "--yes"]).ok();
    assert_eq!(env.read(CLAUDE), text);
}

// ---- 5. Codex profiles ----

const CODEX_WITH_PROFILE: &str = "profile = \"work\"\nmodel = \"o3\"\n\n[profiles.work]\nmodel_provider = \"azure\" # the team's\n\n[model_providers.azure]\nname = \"Azure\"\nbase_url = \"https://corp.openai.azure.com/openai\"\nenv_key = \"AZURE_OPENAI_API_KEY\"\n";

/// The legacy form (`profile = "work"` selecting `[profiles.work]`), which older Codex
/// reads and current Codex refuses to load.
#[test]
fn codex_legacy_profile_is_connected_and_restored() {
    let env = TestEnv::new();
    env.write(CODEX, CODEX_WITH_PROFILE);
    let out = connect(&env, "codex", GW);
    out.ok();
    assert!(
        out.stdout.contains("legacy profile `work`"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("current Codex refuses"),
        "{}",
        out.stdout
    );
    let connected = env.read(CODEX);
    let doc: toml_edit::DocumentMut = connected.parse().unwrap();
    // Codex takes the profile's provider first (codex-rs resolve_model_provider_from_config_toml).
    assert_eq!(
        doc["profiles"]["work"]["model_provider"].as_str(),
        Some("anyray")
    );
    assert!(
        connected.contains("model_provider = \"anyray\" # the team's"),
        "{connected}"
    );
    assert_eq!(doc["model_provider"].as_str(), Some("anyray"));
    assert_eq!(
        doc["model_providers"]["anyray"]["env_key"].as_str(),
        Some("AZURE_OPENAI_API_KEY"),
        "the key variable of the provider Codex used"
    );
    let status = env.run(["status", "--json", "codex"]);
    let json = status.json();
    assert_eq!(json["targets"][0]["state"], "connected");
    assert_eq!(json["targets"][0]["endpoint"], format!("{GW}/v1"));
    env.run(["connect", "--check", "--gateway", GW, "codex"])
        .ok();

    // The profile set back by hand: status sees what Codex will use.
    env.write(
        CODEX,
        connected.replace(
            "model_provider = \"anyray\" # the team's",
            "model_provider = \"azure\"",
        ),
    );
    let json = env.run(["status", "--json", "codex"]).json();
    assert_eq!(json["targets"][0]["state"], "drifted");
    assert_eq!(
        json["targets"][0]["endpoint"],
        "https://corp.openai.azure.com/openai"
    );
    env.write(CODEX, connected);

    env.run(["disconnect", "--yes"]).ok();
    assert_eq!(env.read(CODEX), CODEX_WITH_PROFILE);
}

#[test]
fn codex_profile_files_that_select_a_provider_are_connected_and_restored() {
    // `codex --profile work` lays ~/.codex/work.config.toml over config.toml.
    let env = TestEnv::new();
    let base = "model = \"o3\"\n\n[model_providers.azure]\nname = \"Azure\"\nbase_url = \"https://corp.openai.azure.com/openai\"\n";
    let work = "# the team's\nmodel_provider = \"azure\"\nmodel = \"gpt-5\"\n";
    let fast = "model_reasoning_effort = \"low\"\n";
    env.write(CODEX, base);
    env.write(".codex/work.config.toml", work);
    env.write(".codex/fast.config.toml", fast);
    env.write(
        ".codex/not a profile.config.toml",
        "model_provider = \"x\"\n",
    );
    let out = connect(&env, "codex", GW);
    out.ok();
    assert!(
        out.stdout.contains("`codex --profile work`"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("--profile fast"), "{}", out.stdout);
    assert_eq!(
        env.read(".codex/work.config.toml"),
        work.replace("\"azure\"", "\"anyray\"")
    );
    assert_eq!(
        env.read(".codex/fast.config.toml"),
        fast,
        "inherits config.toml's"
    );
    assert_eq!(
        env.read(".codex/not a profile.config.toml"),
        "model_provider = \"x\"\n"
    );
    let json = env.run(["status", "--json", "codex"]).json();
    assert_eq!(json["targets"][0]["state"], "connected");
    assert_eq!(json["targets"][0]["files"].as_array().unwrap().len(), 2);

    env.run(["disconnect", "--yes"]).ok();
    assert_eq!(env.read(CODEX), base);
    assert_eq!(env.read(".codex/work.config.toml"), work);
}

#[test]
fn run_selects_the_gateway_in_the_active_profile_too() {
    let mut env = TestEnv::new();
    env.isolate_path();
    env.write_executable("bin/codex", "#!/bin/sh\nprintf '%s\\n' \"$@\"\n");
    env.write(CODEX, CODEX_WITH_PROFILE);
    let out = env.run(["run", "--gateway", GW, "--", "codex"]);
    out.ok();
    assert!(
        out.stdout
            .contains("profiles.work.model_provider=\"anyray\""),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("model_provider=\"anyray\""),
        "{}",
        out.stdout
    );
    assert_eq!(env.read(CODEX), CODEX_WITH_PROFILE, "run writes nothing");
}

// ---- 6. the marked rc line always stands on its own ----

#[cfg(unix)]
#[test]
fn an_rc_file_ending_in_a_continued_line_still_starts() {
    for original in ["export MINE=1 \\", "export MINE=1 \\\n", "export MINE=1\\"] {
        let env = TestEnv::new();
        env.write(".bashrc", original);
        env.write(".zshenv", original);
        connect(&env, "shell", GW).ok();
        let mut shells = vec!["bash"];
        if which("zsh") {
            shells.push("zsh");
        }
        for shell in shells {
            let script = match shell {
                "bash" => "source ~/.bashrc && printf '%s|%s' \"$MINE\" \"$OPENAI_BASE_URL\"",
                _ => "printf '%s|%s' \"$MINE\" \"$OPENAI_BASE_URL\"",
            };
            let out = env.program(shell, ["-c", script]).run();
            assert_eq!(
                (out.code, out.stderr.as_str(), out.stdout.as_str()),
                (0, "", format!("1|{GW}/v1").as_str()),
                "{shell} with {original:?}:\n{}",
                env.read(".bashrc")
            );
        }
        env.run(["disconnect", "--yes"]).ok();
        assert_eq!(env.read(".bashrc"), original);
        assert_eq!(env.read(".zshenv"), original);
    }
}

fn which(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|d| d.join(program).is_file()))
}

// ---- 7. hard links, read-only files, a file deleted while connected, endless files ----

#[cfg(unix)]
#[test]
fn a_hard_linked_file_is_refused_and_both_links_stay() {
    use std::os::unix::fs::MetadataExt;
    let env = TestEnv::new();
    let shared = env.write("dotfiles/claude.json", "{}\n");
    std::fs::create_dir_all(env.path(".claude")).unwrap();
    std::fs::hard_link(&shared, env.path(CLAUDE)).unwrap();
    let out = connect(&env, "claude-code", GW);
    out.code(3);
    assert!(out.stderr.contains("has 2 hard links"), "{}", out.stderr);
    assert!(out.stderr.contains("symbolic link"), "{}", out.stderr);
    assert_eq!(std::fs::metadata(&shared).unwrap().nlink(), 2);
    assert_eq!(env.read(CLAUDE), "{}\n");
    assert!(backups(&env).is_empty());
}

#[cfg(unix)]
#[test]
fn a_read_only_file_needs_force_and_stays_read_only() {
    let env = TestEnv::new();
    let original = "{\n  \"theme\": \"dark\"\n}\n";
    let file = env.write(CLAUDE, original);
    chmod(&file, 0o444);
    let out = env.run(["connect", "--yes", "--gateway", GW, "claude-code"]);
    out.code(3);
    assert!(out.stderr.contains("is read-only"), "{}", out.stderr);
    assert!(out.stderr.contains("--force"), "{}", out.stderr);
    assert_eq!(env.read(CLAUDE), original);

    connect(&env, "claude-code", GW).ok();
    assert!(env.read(CLAUDE).contains(GW));
    assert_eq!(mode(&file), 0o444);

    env.run(["disconnect", "--yes"]).code(3);
    assert!(env.read(CLAUDE).contains(GW), "refused: still connected");
    env.run(["disconnect", "--yes", "--force"]).ok();
    assert_eq!(env.read(CLAUDE), original);
    assert_eq!(mode(&file), 0o444);
}

#[test]
fn a_file_deleted_while_connected_keeps_its_backup() {
    let env = TestEnv::new();
    let original = "{\n  \"theme\": \"dark\"\n}\n";
    env.write(CLAUDE, original);
    connect(&env, "claude-code", GW).ok();
    std::fs::remove_file(env.path(CLAUDE)).unwrap();

    let out = env.run(["disconnect", "--yes", "--json"]);
    out.ok();
    let file = &out.json()["targets"][0]["files"][0];
    assert_eq!(file["method"], "gone");
    let backup = PathBuf::from(file["backup"].as_str().unwrap());
    assert_eq!(std::fs::read_to_string(&backup).unwrap(), original);
    assert!(!env.path(CLAUDE).exists(), "nothing is resurrected");

    // The human output says so too; a second disconnect has nothing left to do.
    let env2 = TestEnv::new();
    env2.write(CLAUDE, original);
    connect(&env2, "claude-code", GW).ok();
    std::fs::remove_file(env2.path(CLAUDE)).unwrap();
    let out = env2.run(["disconnect", "--yes"]);
    out.ok();
    assert!(out.stdout.contains("is gone"), "{}", out.stdout);
    assert!(
        out.stdout.contains("backup of its original"),
        "{}",
        out.stdout
    );
    assert_eq!(backups(&env2).len(), 1);
    let again = env2.run(["disconnect", "--yes"]);
    assert!(
        again.stdout.contains("Nothing to disconnect"),
        "{}",
        again.stdout
    );
    assert_eq!(backups(&env2).len(), 1, "the backup stays for the user");
}

#[test]
fn connecting_a_file_deleted_since_starts_afresh_and_says_where_the_old_backup_is() {
    let env = TestEnv::new();
    let original = "{\n  \"theme\": \"dark\"\n}\n";
    env.write(CLAUDE, original);
    connect(&env, "claude-code", GW).ok();
    std::fs::remove_file(env.path(CLAUDE)).unwrap();
    let out = connect(&env, "claude-code", OTHER_GW);
    out.ok();
    assert!(
        out.stdout
            .contains("was deleted since an earlier `connect`"),
        "{}",
        out.stdout
    );
    env.run(["disconnect", "--yes"]).ok();
    assert!(!env.path(CLAUDE).exists(), "the file anyray created goes");
    let kept = backups(&env);
    assert_eq!(kept.len(), 1);
    assert_eq!(std::fs::read_to_string(&kept[0]).unwrap(), original);
}

/// Runs `args` and fails if anyray has not finished within 20 s (it would hang forever).
fn run_bounded(env: &TestEnv, args: &[&str], extra: (&str, &str)) -> std::process::Output {
    let mut cmd = env.cmd(args).env(extra.0, extra.1);
    cmd.command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.command.spawn().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("{args:?} hung");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[cfg(unix)]
#[test]
fn endless_and_special_files_are_never_read_forever() {
    let env = TestEnv::new();
    let out = run_bounded(
        &env,
        &["status", "claude-code"],
        ("ANYRAY_CLAUDE_MANAGED_SETTINGS", "/dev/zero"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A FIFO where the settings file should be: refused at once, exit 3.
    std::fs::create_dir_all(env.path(".claude")).unwrap();
    let fifo = env.path(CLAUDE);
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let out = run_bounded(
        &env,
        &[
            "connect",
            "--yes",
            "--force",
            "--gateway",
            GW,
            "claude-code",
        ],
        ("X", ""),
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a regular file"));

    // A file over the 16 MiB cap is refused, not read whole.
    std::fs::remove_file(&fifo).unwrap();
    let big = std::fs::File::create(&fifo).unwrap();
    big.set_len(17 * 1024 * 1024).unwrap();
    let out = connect(&env, "claude-code", GW);
    out.code(3);
    assert!(out.stderr.contains("larger than 16 MiB"), "{}", out.stderr);
}

// ---- 8. messages ----

#[test]
fn messages_name_the_position_and_what_was_expected() {
    let cases = [
        (
            "{\"env\": \"x\"}",
            ":1:2: `env` holds a string, where anyray expects an object",
        ),
        ("[1, 2]", ":1:1: the top level is a list, not an object"),
        (
            "{\n  \"env\": {\"ANTHROPIC_BASE_URL\": 5}\n}",
            ":2:11: `env.ANTHROPIC_BASE_URL` holds a number, where anyray expects a string",
        ),
        ("{\"a\": 1, // no\n}", ":1:10: invalid JSON"),
        ("{\"a\": 1,}", ":1:9: invalid JSON"),
    ];
    for (text, expected) in cases {
        let env = TestEnv::new();
        env.write(CLAUDE, text);
        let out = connect(&env, "claude-code", GW);
        out.code(3);
        assert!(out.stderr.contains(expected), "{text:?}: {}", out.stderr);
        assert!(!out.stderr.contains("JSONC"), "{}", out.stderr);
        assert_eq!(env.read(CLAUDE), text);
    }
    let env = TestEnv::new();
    env.write(CODEX, "model = \"o3\"\nmodel_provider = 3\n");
    let out = connect(&env, "codex", GW);
    out.code(3);
    assert!(
        out.stderr
            .contains(":2:1: `model_provider` holds an integer, where anyray expects a string"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_directory_where_the_file_should_be_is_exit_3() {
    let env = TestEnv::new();
    std::fs::create_dir_all(env.path(CLAUDE)).unwrap();
    let out = connect(&env, "claude-code", GW);
    out.code(3);
    assert!(
        out.stderr
            .contains("is a directory, where a file should be"),
        "{}",
        out.stderr
    );
}

#[test]
fn the_gateway_is_saved_only_when_a_tool_points_at_it() {
    let env = TestEnv::new();
    env.write(CLAUDE, "{ not json");
    let out = connect(&env, "claude-code", GW);
    out.code(3);
    assert!(!out.stdout.contains("Saved"), "{}", out.stdout);
    assert!(
        !env.config_file().exists(),
        "nothing saved when every target failed"
    );

    let out = env.run([
        "connect",
        "--yes",
        "--force",
        "--gateway",
        GW,
        "claude-code",
        "codex",
    ]);
    out.code(3);
    assert!(
        out.stdout.contains(&format!("Saved gateway = {GW}")),
        "{}",
        out.stdout
    );
    assert!(read_bytes(&env, CODEX).is_some());
}
