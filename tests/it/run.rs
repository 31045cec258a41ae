//! `anyray run -- CMD`: the command gets the gateway environment (and, for Claude Code and
//! Codex, per-run arguments), exit codes pass through, and no user file changes.

use crate::{common, needs};

use std::time::Duration;

use common::TestEnv;
use fake_gateway::{FakeConfig, FakeGateway};

fn gateway() -> FakeGateway {
    FakeGateway::spawn(FakeConfig::default()).expect("start fake gateway")
}

/// Fake `names` programs first on PATH, each printing its arguments (one per line) and
/// the gateway variables, so tests see exactly what anyray passed.
fn with_tools(env: &mut TestEnv, names: &[&str]) {
    let script = "#!/bin/sh\nfor a in \"$@\"; do printf 'arg:%s\\n' \"$a\"; done\n\
                  printf 'OPENAI_BASE_URL=%s\\nANTHROPIC_BASE_URL=%s\\n' \"$OPENAI_BASE_URL\" \"$ANTHROPIC_BASE_URL\"\n";
    for name in names {
        env.write_executable(&format!("bin/{name}"), script);
    }
    let path = format!(
        "{}:{}",
        env.path("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    env.set_var("PATH", path);
}

/// The arguments the fake tool printed.
fn tool_args(stdout: &str) -> Vec<&str> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("arg:"))
        .collect()
}

#[test]
fn the_command_sees_the_gateway_variables() {
    let gw = gateway();
    let env = TestEnv::new();
    let out = env.run([
        "run",
        "--gateway",
        &gw.url(),
        "--",
        "sh",
        "-c",
        "echo \"$OPENAI_BASE_URL|$ANTHROPIC_BASE_URL|$GOOGLE_GEMINI_BASE_URL\"",
    ]);
    out.ok();
    let url = gw.url();
    assert_eq!(out.stdout, format!("{url}/v1|{url}|{url}/gemini\n"));
}

#[test]
fn claude_gets_settings_that_beat_the_users_file() {
    let gw = gateway();
    let mut env = TestEnv::new();
    with_tools(&mut env, &["claude"]);
    let user = "{\n  \"env\": { \"ANTHROPIC_BASE_URL\": \"http://127.0.0.1:9\" }\n}\n";
    env.write(".claude/settings.json", user);
    let out = env.run(["run", "--gateway", &gw.url(), "--", "claude", "-p", "hi"]);
    out.ok();
    let args = tool_args(&out.stdout);
    assert_eq!(args[0], "--settings");
    let settings: serde_json::Value = serde_json::from_str(args[1]).unwrap();
    assert_eq!(settings["env"]["ANTHROPIC_BASE_URL"], gw.url());
    assert_eq!(&args[2..], ["-p", "hi"]);
    assert_eq!(
        env.read(".claude/settings.json"),
        user,
        "the user's settings are untouched"
    );
    assert!(
        !env.config_dir().exists() || std::fs::read_dir(env.config_dir()).unwrap().count() == 0
    );
}

#[test]
fn codex_gets_a_provider_for_this_run_only() {
    let gw = gateway();
    let mut env = TestEnv::new();
    with_tools(&mut env, &["codex"]);
    let config = "# mine\nmodel = \"gpt-5\"\n";
    env.write(".codex/config.toml", config);
    let out = env.run(["run", "--gateway", &gw.url(), "--", "codex", "exec", "hi"]);
    out.ok();
    let args = tool_args(&out.stdout);
    let base_url = format!("model_providers.anyray.base_url=\"{}/v1\"", gw.url());
    for expected in [
        "model_provider=\"anyray\"",
        base_url.as_str(),
        "model_providers.anyray.wire_api=\"responses\"",
    ] {
        let at = args
            .iter()
            .position(|a| *a == expected)
            .unwrap_or_else(|| panic!("{expected} missing: {args:?}"));
        assert_eq!(args[at - 1], "-c");
    }
    assert_eq!(&args[args.len() - 2..], ["exec", "hi"]);
    assert_eq!(env.read(".codex/config.toml"), config);
}

/// What a fake tool sees of `vars`: `NAME=value` lines from a script that prints them.
fn with_env_printer(env: &mut TestEnv, name: &str, vars: &[&str]) {
    let prints: String = vars
        .iter()
        .map(|v| format!("printf '{v}=%s\\n' \"${v}\"\n"))
        .collect();
    env.write_executable(
        &format!("bin/{name}"),
        &format!("#!/bin/sh\nfor a in \"$@\"; do printf 'arg:%s\\n' \"$a\"; done\n{prints}"),
    );
    let path = format!(
        "{}:{}",
        env.path("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    env.set_var("PATH", path);
}

// The key command is POSIX only (none is written on Windows).
#[cfg(unix)]
#[test]
fn copilot_gets_its_byok_variables_and_keeps_the_users_model() {
    let gw = gateway();
    let mut env = TestEnv::new();
    let vars = [
        "COPILOT_PROVIDER_BASE_URL",
        "COPILOT_PROVIDER_TYPE",
        "COPILOT_PROVIDER_API_KEY_COMMAND",
        "COPILOT_MODEL",
    ];
    with_env_printer(&mut env, "copilot", &vars);
    let out = env.run(["run", "--gateway", &gw.url(), "--", "copilot", "-p", "hi"]);
    out.ok();
    let url = format!("COPILOT_PROVIDER_BASE_URL={}/v1", gw.url());
    for line in [
        url.as_str(),
        "COPILOT_PROVIDER_TYPE=openai",
        "COPILOT_PROVIDER_API_KEY_COMMAND=printenv OPENAI_API_KEY",
        "COPILOT_MODEL=gpt-4o-mini",
    ] {
        assert!(
            out.stdout.lines().any(|l| l == line),
            "{line}: {}",
            out.stdout
        );
    }
    assert_eq!(tool_args(&out.stdout), ["-p", "hi"], "no arguments added");

    env.set_var("COPILOT_MODEL", "gpt-5");
    let out = env.run(["run", "--gateway", &gw.url(), "--", "copilot"]);
    out.ok();
    assert!(
        out.stdout.contains("COPILOT_MODEL=gpt-5\n"),
        "{}",
        out.stdout
    );
}

#[test]
fn qwen_gets_the_openai_auth_and_base_url_unless_it_is_given_its_own() {
    let gw = gateway();
    let mut env = TestEnv::new();
    with_tools(&mut env, &["qwen"]);
    let out = env.run(["run", "--gateway", &gw.url(), "--", "qwen", "-p", "hi"]);
    out.ok();
    let url = format!("{}/v1", gw.url());
    assert_eq!(
        tool_args(&out.stdout),
        [
            "--auth-type",
            "openai",
            "--openai-base-url",
            url.as_str(),
            "-p",
            "hi"
        ]
    );
    let out = env.run([
        "run",
        "--gateway",
        &gw.url(),
        "--",
        "qwen",
        "--auth-type=qwen-oauth",
    ]);
    out.ok();
    assert_eq!(tool_args(&out.stdout), ["--auth-type=qwen-oauth"]);
}

#[test]
fn opencode_gets_its_providers_inline_unless_the_user_has_an_inline_config() {
    let gw = gateway();
    let mut env = TestEnv::new();
    with_env_printer(&mut env, "opencode", &["OPENCODE_CONFIG_CONTENT"]);
    let out = env.run(["run", "--gateway", &gw.url(), "--", "opencode", "run", "hi"]);
    out.ok();
    let json = out
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("OPENCODE_CONFIG_CONTENT="))
        .unwrap();
    let config: serde_json::Value = serde_json::from_str(json).unwrap();
    let v1 = format!("{}/v1", gw.url());
    assert_eq!(
        config["provider"]["openai"]["options"]["baseURL"],
        v1.as_str()
    );
    assert_eq!(
        config["provider"]["anthropic"]["options"]["baseURL"],
        v1.as_str(),
        "the AI SDK's Anthropic base includes /v1"
    );
    assert!(config.get("$schema").is_none(), "no seed: {config}");

    env.set_var("OPENCODE_CONFIG_CONTENT", "{\"model\":\"mine\"}");
    let out = env.run(["run", "--gateway", &gw.url(), "--", "opencode"]);
    out.ok();
    assert!(
        out.stdout
            .contains("OPENCODE_CONFIG_CONTENT={\"model\":\"mine\"}\n"),
        "{}",
        out.stdout
    );
}

#[test]
fn exit_codes_pass_through() {
    let gw = gateway();
    let env = TestEnv::new();
    let url = gw.url();
    env.run(["run", "--gateway", &url, "--", "true"]).code(0);
    env.run(["run", "--gateway", &url, "--", "sh", "-c", "exit 3"])
        .code(3);
    env.run([
        "run",
        "--relay",
        "--gateway",
        &url,
        "--",
        "sh",
        "-c",
        "exit 3",
    ])
    .code(3);
    // With a relay anyray waits for the child and mirrors its death by signal as 128+N.
    env.run([
        "run",
        "--relay",
        "--gateway",
        &url,
        "--",
        "sh",
        "-c",
        "kill -INT $$",
    ])
    .code(130);
}

#[cfg(unix)]
#[test]
fn without_a_relay_anyray_becomes_the_command() {
    use std::os::unix::process::ExitStatusExt;
    let gw = gateway();
    let env = TestEnv::new();
    let mut cmd = env
        .cmd([
            "run",
            "--gateway",
            &gw.url(),
            "--",
            "sh",
            "-c",
            "kill -INT $$",
        ])
        .command;
    let out = cmd.output().unwrap();
    // exec: the process itself dies by SIGINT, exactly as the command would.
    assert_eq!(
        out.status.signal(),
        Some(libc::SIGINT),
        "{:?}; stderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let out = env
        .cmd([
            "run",
            "--gateway",
            &gw.url(),
            "--",
            "sh",
            "-c",
            "echo $PPID",
        ])
        .run();
    out.ok();
    // exec: the command's parent is this test, not an anyray process in between.
    assert_eq!(out.stdout.trim(), std::process::id().to_string());
}

#[test]
fn missing_commands_exit_127() {
    let env = TestEnv::new();
    let out = env.run(["run"]);
    out.code(127);
    assert!(out.stderr.contains("no command to run"), "{}", out.stderr);
    let out = env.run(["run", "--gateway", "http://127.0.0.1:9", "--", "/no/such"]);
    out.code(127);
    assert!(
        out.stderr.contains("command not found: /no/such"),
        "{}",
        out.stderr
    );
}

/// `anyray run --relay --gateway GW -- sh -c SCRIPT`.
fn run_relay_sh(env: &TestEnv, gw: &FakeGateway, script: &str) -> common::Cmd {
    env.cmd([
        "run",
        "--relay",
        "--gateway",
        &gw.url(),
        "--",
        "sh",
        "-c",
        script,
    ])
}

#[test]
fn relay_carries_the_requests_and_the_identity_and_goes_away() {
    let gw = gateway();
    let env = TestEnv::new();
    let script = "echo \"$OPENAI_BASE_URL\"; echo \"$NO_PROXY\"";
    let out = run_relay_sh(&env, &gw, script)
        .env("ANYRAY_TOKEN", "sk-canary-run")
        .run();
    out.ok();
    let mut lines = out.stdout.lines();
    let relay_url = lines.next().unwrap().trim_end_matches("/v1").to_string();
    assert!(
        relay_url.starts_with("http://127.0.0.1:") && relay_url != gw.url(),
        "{relay_url}"
    );
    assert!(
        lines.next().unwrap().contains("127.0.0.1"),
        "NO_PROXY covers loopback"
    );
    assert!(!out.all().contains("sk-canary-run"));

    // A real request through the relay: the gateway sees the identity header.
    if needs::program("curl").is_none() {
        return;
    }
    let script = "curl -sf -H 'content-type: application/json' -d '{\"model\":\"m\",\"max_tokens\":5,\"messages\":[]}' \"$ANTHROPIC_BASE_URL/v1/messages\" >/dev/null && echo \"$ANTHROPIC_BASE_URL\"";
    let out = run_relay_sh(&env, &gw, script)
        .env("ANYRAY_TOKEN", "sk-canary-run")
        .run();
    out.ok();
    let messages: Vec<_> = gw
        .requests()
        .into_iter()
        .filter(|r| r.path == "/v1/messages")
        .collect();
    assert_eq!(
        messages.len(),
        1,
        "one request reached the gateway through the relay"
    );
    assert_eq!(messages[0].header("x-anyray-key"), Some("sk-canary-run"));
    // The relay is gone with the child.
    let addr = out.stdout.trim().trim_start_matches("http://");
    assert!(
        std::net::TcpStream::connect_timeout(&addr.parse().unwrap(), Duration::from_secs(1))
            .is_err()
    );
}

#[test]
fn print_env_shows_what_would_be_passed_without_secrets() {
    let gw = gateway();
    let mut env = TestEnv::new();
    with_tools(&mut env, &["codex"]);
    let out = env
        .cmd([
            "run",
            "--print-env",
            "--json",
            "--relay",
            "--gateway",
            &gw.url(),
            "--",
            "codex",
            "exec",
            "hi",
        ])
        .env("ANYRAY_TOKEN", "sk-canary-print")
        .run();
    out.ok();
    let doc = out.json();
    assert_eq!(doc["relay"], true);
    assert_eq!(doc["identity"], "x-anyray-key");
    assert!(
        doc["added_args"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "model_provider=\"anyray\"")
    );
    assert_eq!(doc["command"].as_array().unwrap().last().unwrap(), "hi");
    assert!(!out.all().contains("sk-canary-print"));
    assert!(
        gw.requests()
            .iter()
            .all(|r| r.path == "/.well-known/anyray.json"),
        "nothing ran"
    );
}

/// Starts `anyray run --relay -- sh -c SCRIPT` and waits for the script's `ready` line.
#[cfg(unix)]
fn run_until_ready(env: &TestEnv, gw: &FakeGateway, script: &str) -> std::process::Child {
    let mut child = run_relay_sh(env, gw, script)
        .command
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line, "ready\n");
    child
}

/// Waits (up to 15 s) for a child's exit status; kills it if it does not exit.
#[cfg(unix)]
fn wait_bounded(child: &mut std::process::Child) -> Option<std::process::ExitStatus> {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while std::time::Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

#[cfg(unix)]
#[test]
fn every_signal_that_would_end_anyray_reaches_the_command() {
    let gw = gateway();
    let env = TestEnv::new();
    // Each would kill a process that does not handle it (SIGUSR1 used to end anyray with
    // 138 and leave the command running without its relay).
    let signals = [
        libc::SIGUSR1,
        libc::SIGUSR2,
        libc::SIGALRM,
        libc::SIGQUIT,
        libc::SIGVTALRM,
        libc::SIGPROF,
        libc::SIGXCPU,
        libc::SIGXFSZ,
        libc::SIGIO,
        libc::SIGWINCH,
        libc::SIGTERM,
        libc::SIGHUP,
        libc::SIGINT,
        #[cfg(target_os = "linux")]
        libc::SIGPWR,
        #[cfg(target_os = "linux")]
        libc::SIGRTMIN(),
        #[cfg(target_os = "linux")]
        (libc::SIGRTMIN() + 3),
        #[cfg(target_os = "linux")]
        libc::SIGRTMAX(),
    ];
    // The command exits with the number of the signal it got, once its traps are set.
    let traps: String = signals
        .iter()
        .map(|s| format!("trap 'exit {s}' {s}; "))
        .collect();
    let script = format!("{traps}echo ready; while :; do sleep 0.05; done");
    for signal in signals {
        let mut child = run_until_ready(&env, &gw, &script);
        common::send_signal(child.id(), signal);
        let status = wait_bounded(&mut child).expect("anyray exits with its command");
        assert_eq!(
            status.code(),
            Some(signal),
            "signal {signal}: anyray must pass it on and exit with the command's code"
        );
    }
}

#[cfg(unix)]
#[test]
fn a_command_that_handles_a_signal_keeps_its_relay() {
    if needs::program("curl").is_none() {
        return;
    }
    let gw = gateway();
    let env = TestEnv::new();
    // The command takes SIGUSR1 and goes on: its next request through the relay works.
    let script = "got=; trap 'got=1' USR1; echo ready; \
                  while [ -z \"$got\" ]; do sleep 0.05; done; \
                  curl -sf -H 'content-type: application/json' -d '{}' \"$ANTHROPIC_BASE_URL/v1/messages\" >/dev/null";
    let mut child = run_until_ready(&env, &gw, script);
    common::send_signal(child.id(), libc::SIGUSR1);
    let status = wait_bounded(&mut child).expect("exits");
    assert_eq!(
        status.code(),
        Some(0),
        "the request after the signal failed"
    );
    assert!(gw.requests().iter().any(|r| r.path == "/v1/messages"));
}

#[cfg(target_os = "linux")]
#[test]
fn the_command_is_stopped_if_anyray_is_killed() {
    let gw = gateway();
    let env = TestEnv::new();
    let mark = env.path("got-term");
    let pid_file = env.path("command-pid");
    let script = format!(
        "echo $$ > '{}'; trap 'echo term > \"{}\"; exit 0' TERM; echo ready; \
         while :; do sleep 0.05; done",
        pid_file.display(),
        mark.display()
    );
    let mut child = run_until_ready(&env, &gw, &script);
    child.kill().unwrap(); // SIGKILL: no handler runs
    let _ = child.wait();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !mark.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    if !mark.exists() {
        // Do not leave it running past the test.
        if let Ok(pid) = std::fs::read_to_string(&pid_file) {
            common::send_signal(pid.trim().parse().unwrap_or(0), libc::SIGKILL);
        }
        panic!("the command got no SIGTERM when anyray died");
    }
}
