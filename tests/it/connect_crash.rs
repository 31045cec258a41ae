//! Crash consistency (issue 13): `connect` and `disconnect` are SIGKILLed a few hundred
//! times, at every durable step of their writes and at random moments, on Claude Code
//! settings of about 100 bytes, 100 KB and 2 MB, on one anyray creates, and on a Codex
//! config. After every kill:
//!
//! - the file is whole: byte for byte either the version before the run or the one an
//!   uninterrupted run writes, and it parses;
//! - the next `disconnect` (every other time after a user edit of another key, made
//!   right after the kill) leaves exactly the original plus the user's edits, and no
//!   record, intent, backup or temp file behind.
//!
//! How the kills cover the write/ledger window: a run that changes files makes every
//! durable change through two primitives, a locked atomic write (the ledger's intent, a
//! backup, the user's file, the ledger's commit, the saved gateway) and a locked removal
//! (a file anyray created, a backup no record needs). Debug builds kill themselves with
//! SIGKILL at `ANYRAY_TEST_KILL_AT=<point>#<n>`, and the points sit on both sides of each
//! primitive's moment of truth: `before-write` once the temp file is written and synced,
//! `after-write` once it is renamed and the dir synced; `before-remove`/`after-remove`.
//! For each phase the test kills at #1, #2, … of each point until a run finishes without
//! reaching it, so every gap between two consecutive durable steps — in particular the
//! one between the file's rename and the ledger's commit — is hit at least once, in every
//! phase. Kills after a uniformly random delay (up to the phase's measured run time) add
//! the moments in between: mid-parse, mid-temp-write, before or while taking the lock.
//!
//! Bounded: a few hundred runs of the debug binary, each case its own test (they run in
//! parallel); well under 60 s on two cores.

use crate::common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyray::connect::Format;
use anyray::edit::KeyPath;
use common::TestEnv;

// Closed loopback ports: discovery fails at once (and never leaves the machine).
const GW: &str = "http://127.0.0.1:9";
const OTHER_GW: &str = "http://127.0.0.1:10";
const POINTS: [&str; 4] = [
    "before-write",
    "after-write",
    "before-remove",
    "after-remove",
];

/// One file and the target that owns it.
struct Case {
    target: &'static str,
    rel: &'static str,
    format: Format,
    /// `None`: the file does not exist before the first connect.
    original: Option<String>,
    /// Random-time kills per phase.
    random_kills: usize,
}

/// The files a run can change, as they were at one moment.
#[derive(Clone)]
struct Snapshot {
    file: Option<Vec<u8>>,
    config: Option<Vec<u8>>,
    /// The state dir's files, relative to it (`None` for a dir).
    state: Vec<(PathBuf, Option<Vec<u8>>)>,
}

struct World<'a> {
    env: TestEnv,
    case: &'a Case,
    rng: u64,
    kills: usize,
}

impl World<'_> {
    fn file(&self) -> PathBuf {
        self.env.path(self.case.rel)
    }

    fn snapshot(&self) -> Snapshot {
        fn walk(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, Option<Vec<u8>>)>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                let rel = path.strip_prefix(root).unwrap().to_path_buf();
                if path.is_dir() {
                    out.push((rel, None));
                    walk(root, &path, out);
                } else {
                    out.push((rel, Some(std::fs::read(&path).unwrap())));
                }
            }
        }
        let mut state = Vec::new();
        walk(&self.env.state_dir(), &self.env.state_dir(), &mut state);
        state.sort();
        Snapshot {
            file: std::fs::read(self.file()).ok(),
            config: std::fs::read(self.env.config_file()).ok(),
            state,
        }
    }

    fn restore(&self, snapshot: &Snapshot) {
        let put = |path: &Path, bytes: &Option<Vec<u8>>| match bytes {
            Some(bytes) => {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, bytes).unwrap();
            }
            None => {
                let _ = std::fs::remove_file(path);
            }
        };
        put(&self.file(), &snapshot.file);
        put(&self.env.config_file(), &snapshot.config);
        let state = self.env.state_dir();
        let _ = std::fs::remove_dir_all(&state);
        if !snapshot.state.is_empty() {
            private(&state, None);
        }
        for (rel, bytes) in &snapshot.state {
            private(&state.join(rel), bytes.as_deref());
        }
    }

    /// A random number in `0..bound`, from a seeded generator (splitmix64).
    fn random(&mut self, bound: u64) -> u64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % bound.max(1)
    }
}

/// A dir (0700) or file (0600) of anyray's state, as anyray makes them.
fn private(path: &Path, bytes: Option<&[u8]>) {
    match bytes {
        None => std::fs::create_dir_all(path).unwrap(),
        Some(bytes) => std::fs::write(path, bytes).unwrap(),
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = if bytes.is_none() { 0o700 } else { 0o600 };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
}

/// A user's edit of a key anyray does not manage, made with anyray's own
/// format-preserving editor (as a tool rewriting one key would).
fn edit(format: Format, bytes: Option<&[u8]>, tag: &str) -> Vec<u8> {
    let text = std::str::from_utf8(bytes.unwrap_or_default()).unwrap();
    let mut doc = format.parse(text).unwrap();
    let key = match format {
        Format::Toml => format!("user_edit_{tag}"),
        _ => format!("userEdit_{tag}"),
    };
    doc.set(&KeyPath(vec![anyray::edit::Seg::Key(key)]), "by the user")
        .unwrap();
    doc.render().into_bytes()
}

/// One phase: from `start`, run `args`; kill it everywhere; check each outcome.
struct Phase<'a> {
    name: &'static str,
    start: &'a Snapshot,
    args: Vec<&'static str>,
    /// The original with the user's edits made before this phase (`None`: no file).
    expected: Option<Vec<u8>>,
}

impl World<'_> {
    fn run_phase(&mut self, phase: &Phase) {
        // An uninterrupted run: the "new" version, and how long a run takes.
        self.restore(phase.start);
        let started = Instant::now();
        self.env.run(&phase.args).ok();
        let duration = started.elapsed();
        let new = std::fs::read(self.file()).ok();
        self.check_done(phase, "uninterrupted", &new, phase.expected.clone());

        for point in POINTS {
            for n in 1.. {
                self.restore(phase.start);
                let spec = format!("{point}#{n}");
                let out = self
                    .env
                    .cmd(&phase.args)
                    .env("ANYRAY_TEST_KILL_AT", &spec)
                    .run();
                if out.code != -1 {
                    // The run never reached the point's n-th time: all of them were hit.
                    out.ok();
                    break;
                }
                self.kills += 1;
                self.after_kill(phase, &spec, &new);
            }
        }
        for i in 0..self.case.random_kills {
            self.restore(phase.start);
            let delay = Duration::from_micros(self.random(duration.as_micros() as u64 + 1));
            let mut cmd = self.env.cmd(&phase.args);
            cmd.command
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null());
            let mut child = cmd.command.spawn().unwrap();
            std::thread::sleep(delay);
            let _ = child.kill();
            child.wait().unwrap();
            self.kills += 1;
            self.after_kill(phase, &format!("random kill {i} after {delay:?}"), &new);
        }
    }

    fn after_kill(&mut self, phase: &Phase, how: &str, new: &Option<Vec<u8>>) {
        let label = format!("{} {} ({how})", self.case.rel, phase.name);
        let now = std::fs::read(self.file()).ok();
        assert!(
            now == phase.start.file || now == *new,
            "{label}: the file is neither the version before nor the one after"
        );
        if let Some(bytes) = &now {
            let text = std::str::from_utf8(bytes).unwrap();
            self.case
                .format
                .parse(text)
                .unwrap_or_else(|e| panic!("{label}: does not parse: {}", e.message));
        }
        let mut expected = phase.expected.clone();
        if self.kills.is_multiple_of(2) {
            std::fs::create_dir_all(self.file().parent().unwrap()).unwrap();
            std::fs::write(self.file(), edit(self.case.format, now.as_deref(), "b")).unwrap();
            expected = Some(edit(self.case.format, expected.as_deref(), "b"));
        }
        let out = self.env.run(["disconnect", "--yes"]);
        assert_eq!(
            out.code, 0,
            "{label}: disconnect after the kill\n{}",
            out.stderr
        );
        let after = std::fs::read(self.file()).ok();
        self.check_done(phase, &label, &after, expected);
    }

    /// After the final `disconnect`: the original plus the user's edits, nothing left.
    fn check_done(
        &self,
        phase: &Phase,
        label: &str,
        after: &Option<Vec<u8>>,
        expected: Option<Vec<u8>>,
    ) {
        if phase.args[0] == "disconnect" || label != "uninterrupted" {
            assert_eq!(
                after.as_deref().map(String::from_utf8_lossy),
                expected.as_deref().map(String::from_utf8_lossy),
                "{label}: not the original plus the user's edits"
            );
            let ledger: serde_json::Value =
                match std::fs::read(self.env.state_dir().join("ledger.json")) {
                    Ok(bytes) => serde_json::from_slice(&bytes).unwrap(),
                    Err(_) => serde_json::json!({"files": {}}),
                };
            assert_eq!(ledger["files"], serde_json::json!({}), "{label}: {ledger}");
            assert!(ledger.get("pending").is_none(), "{label}: {ledger}");
            let backups = self.env.state_dir().join("backups");
            let left: Vec<_> = std::fs::read_dir(&backups)
                .map(|d| d.flatten().map(|e| e.file_name()).collect())
                .unwrap_or_default();
            assert!(left.is_empty(), "{label}: backups left: {left:?}");
        }
        for dir in [
            self.file().parent().unwrap().to_path_buf(),
            self.env.state_dir(),
            self.env.state_dir().join("backups"),
            self.env.config_dir(),
        ] {
            let temps: Vec<_> = std::fs::read_dir(&dir)
                .map(|d| {
                    d.flatten()
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .filter(|n| n.starts_with(".anyray-"))
                        .collect()
                })
                .unwrap_or_default();
            assert!(
                temps.is_empty(),
                "{label}: temp files left in {}: {temps:?}",
                dir.display()
            );
        }
    }
}

/// Runs every phase of `case`: connect, re-connect, re-connect after an edit, and the
/// two kinds of disconnect, each killed everywhere.
fn crash_test(case: Case) {
    let seed = std::env::var("ANYRAY_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    eprintln!("{}: ANYRAY_CRASH_SEED={seed}", case.rel);
    let mut world = World {
        env: TestEnv::new(),
        case: &case,
        rng: seed,
        kills: 0,
    };
    let started = Instant::now();
    let format = case.format;
    if let Some(original) = &case.original {
        world.env.write(case.rel, original);
    }
    let original = case.original.clone().map(String::into_bytes);
    let fresh = world.snapshot();
    let connect = |gateway: &'static str| {
        vec![
            "connect",
            "--yes",
            "--force",
            "--gateway",
            gateway,
            case.target,
        ]
    };

    world.restore(&fresh);
    world.env.run(connect(GW)).ok();
    let connected = world.snapshot();
    let mut edited = connected.clone();
    edited.file = Some(edit(format, connected.file.as_deref(), "a"));
    let original_edited = Some(edit(format, original.as_deref(), "a"));

    let phases = [
        Phase {
            name: "connect",
            start: &fresh,
            args: connect(GW),
            expected: original.clone(),
        },
        Phase {
            name: "re-connect",
            start: &connected,
            args: connect(OTHER_GW),
            expected: original.clone(),
        },
        Phase {
            name: "re-connect after an edit",
            start: &edited,
            args: connect(OTHER_GW),
            expected: original_edited.clone(),
        },
        Phase {
            name: "disconnect",
            start: &connected,
            args: vec!["disconnect", "--yes"],
            expected: original.clone(),
        },
        Phase {
            name: "disconnect after an edit",
            start: &edited,
            args: vec!["disconnect", "--yes"],
            expected: original_edited,
        },
    ];
    for phase in &phases {
        world.run_phase(phase);
    }
    eprintln!(
        "{}: {} kills in {:?}",
        case.rel,
        world.kills,
        started.elapsed()
    );
    assert!(world.kills >= 50, "{} kills only", world.kills);
}

/// Pretty-printed settings of about `size` bytes: up to 32 KB of permissions (a long list
/// is slow to parse in a debug build, and the size is what widens the write window), and
/// notes to fill.
fn claude_settings(size: usize) -> String {
    let mut text = String::from(
        "{\n  \"theme\": \"dark\",\n  \"env\": {\n    \"ANTHROPIC_BASE_URL\": \"https://mine.example\"\n  },\n  \"permissions\": {\n    \"allow\": [\n",
    );
    let mut i = 0;
    while text.len() < (size / 2).min(32 * 1024) {
        text.push_str(&format!("      \"Bash(npm run task-{i:05})\",\n"));
        i += 1;
    }
    text.push_str("      \"Read(*)\"\n    ]\n  },\n  \"notes\": \"");
    while text.len() < size {
        text.push_str("remember the milk. ");
    }
    text.push_str("\"\n}\n");
    text
}

fn claude(original: Option<String>, random_kills: usize) -> Case {
    Case {
        target: "claude-code",
        rel: ".claude/settings.json",
        format: Format::Json,
        original,
        random_kills,
    }
}

#[test]
fn small_settings_survive_every_kill() {
    crash_test(claude(
        Some("{\n  \"theme\": \"dark\",\n  \"env\": {\n    \"ANTHROPIC_BASE_URL\": \"https://mine.example\"\n  }\n}\n".into()),
        6,
    ));
}

#[test]
fn settings_of_100_kb_survive_every_kill() {
    crash_test(claude(Some(claude_settings(100 * 1024)), 4));
}

#[test]
fn settings_of_2_mb_survive_every_kill() {
    crash_test(claude(Some(claude_settings(2 * 1024 * 1024)), 2));
}

#[test]
fn settings_anyray_creates_survive_every_kill() {
    crash_test(claude(None, 4));
}

#[test]
fn a_codex_config_survives_every_kill() {
    crash_test(Case {
        target: "codex",
        rel: ".codex/config.toml",
        format: Format::Toml,
        original: Some("# mine\nmodel = \"o3\"\nmodel_provider = \"azure\"\n\n[model_providers.azure]\nname = \"Azure\"\nbase_url = \"https://corp.openai.azure.com/openai\"\nenv_key = \"AZURE_OPENAI_API_KEY\"\n".into()),
        random_kills: 4,
    });
}
