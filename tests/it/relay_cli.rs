//! `anyray gateway` through the real binary: the startup line, config checks, identity
//! from the environment and discovery, and SIGTERM. Loopback only, bounded in time.

use crate::common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::TestEnv;
use fake_gateway::{FakeConfig, FakeGateway};
use serde_json::Value;

/// A relay child process and its stderr lines.
struct RelayProcess {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
    url: String,
}

impl RelayProcess {
    /// Starts `anyray gateway ARGS` and waits (up to 10 s) for its startup line.
    fn start(env: &TestEnv, args: &[&str], vars: &[(&str, &str)]) -> Self {
        let mut cmd = env.cmd(["gateway"].iter().chain(args)).command;
        for (k, v) in vars {
            cmd.env(k, v);
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn anyray gateway");
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut relay = Self {
            child,
            lines,
            seen: Vec::new(),
            url: String::new(),
        };
        let start = relay.wait_for_line("listening");
        relay.url = match serde_json::from_str::<Value>(&start) {
            Ok(v) => v["listen"].as_str().unwrap().to_string(),
            Err(_) => start
                .split_whitespace()
                .find(|w| w.starts_with("http://"))
                .unwrap()
                .trim_end_matches(',')
                .to_string(),
        };
        relay
    }

    fn wait_for_line(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => break,
            }
        }
        panic!(
            "no line with {needle:?}; stderr so far:\n{}",
            self.seen.join("\n")
        );
    }

    fn addr(&self) -> String {
        self.url.trim_start_matches("http://").to_string()
    }

    /// Waits (up to 15 s) for the exit code; kills the child if it does not exit.
    fn wait(&mut self) -> Option<i32> {
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        None
    }

    /// Everything it wrote to stderr, once it has exited.
    fn rest_of_stderr(&mut self) -> String {
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(2)) {
            self.seen.push(line);
        }
        self.seen.join("\n")
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A raw HTTP/1.1 POST with `Connection: close`; returns the socket to read from.
fn post(addr: &str, path: &str, body: &str, headers: &[(&str, &str)]) -> TcpStream {
    let mut s = TcpStream::connect(addr).expect("connect to relay");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    s
}

fn read_to_end(s: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

#[test]
fn check_config_prints_the_effective_settings_without_listening() {
    let env = TestEnv::new();
    let out = env.run([
        "gateway",
        "--check-config",
        "--json",
        "--listen",
        "127.0.0.1:0",
        "--upstream",
        "https://gw-a.example",
        "--upstream",
        "https://gw-b.example/prefix",
        "--fallback",
        "direct",
    ]);
    out.ok();
    let v = out.json();
    assert_eq!(v["listen"], "127.0.0.1:0");
    assert_eq!(
        v["upstreams"],
        serde_json::json!(["https://gw-a.example", "https://gw-b.example/prefix"])
    );
    assert_eq!(v["fallback"], "direct");
    assert_eq!(
        v["fail_open_targets"]["anthropic"],
        "https://api.anthropic.com"
    );
    assert_eq!(v["connect_timeout_ms"], 2000);
    assert_eq!(v["max_body_bytes"], 64 * 1024 * 1024);
    assert_eq!(v["grace_period_ms"], 10_000);
    assert_eq!(v["workers"], 1);
    assert_eq!(v["log"], "stderr");
    assert!(v["key_store"].is_null());

    let out = env.run([
        "gateway",
        "--check-config",
        "--upstream",
        "https://gw-a.example",
    ]);
    out.ok();
    assert!(
        out.stdout.contains("The relay configuration is valid."),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("https://gw-a.example"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_relay_pointed_at_itself_is_a_usage_error() {
    let env = TestEnv::new();
    // The gateway defaults to 127.0.0.1:8787; a relay told to listen there would loop.
    let out = env.run(["gateway", "--check-config", "--listen", "127.0.0.1:8787"]);
    out.code(2);
    assert!(out.stderr.contains("forward to itself"), "{}", out.stderr);
    assert!(
        out.stderr.contains("anyray config set gateway"),
        "{}",
        out.stderr
    );
}

/// `gateway --check-config` with a gateway that is not this relay.
const CHECK_CONFIG: [&str; 4] = [
    "gateway",
    "--check-config",
    "--upstream",
    "https://gw.example",
];

#[test]
fn workers_come_from_the_config_within_1_to_64() {
    let env = TestEnv::new();
    env.run(["config", "set", "relay.workers", "4"]).ok();
    assert!(env.run(CHECK_CONFIG).stdout.contains("4 worker thread(s)"));
    for bad in ["0", "65", "100000"] {
        let out = env.run(["config", "set", "relay.workers", bad]);
        out.code(2);
        assert!(out.stderr.contains("from 1 to 64"), "{}", out.stderr);
    }
    // A hand-edited file is checked when it is read.
    env.write(".config/anyray/config.toml", "[relay]\nworkers = 100000\n");
    let out = env.run(CHECK_CONFIG);
    out.code(2);
    assert!(out.stderr.contains("relay.workers"), "{}", out.stderr);
    assert!(out.stderr.contains("from 1 to 64"), "{}", out.stderr);
}

#[test]
fn anyray_keyring_accepts_only_documented_values() {
    let env = TestEnv::new();
    for value in ["maybe", "of", "disabled"] {
        let out = env.cmd(CHECK_CONFIG).env("ANYRAY_KEYRING", value).run();
        out.code(2);
        assert!(out.stderr.contains("ANYRAY_KEYRING"), "{}", out.stderr);
        assert!(out.stderr.contains("`on` or `off`"), "{}", out.stderr);
        // Even where the key comes from ANYRAY_TOKEN, and for every command.
        let out = env
            .cmd([
                "run",
                "--relay",
                "--print-env",
                "--gateway",
                "https://gw.example",
                "--",
                "true",
            ])
            .env("ANYRAY_KEYRING", value)
            .env("ANYRAY_TOKEN", "sk-x")
            .run();
        out.code(2);
        env.cmd(["config", "get", "gateway"])
            .env("ANYRAY_KEYRING", value)
            .run()
            .code(2);
    }
    // (A command that never opens the keyring: a test must not touch the real one.)
    for value in ["off", "OFF", "0", "false", "no", "on", "1", "true", "yes"] {
        env.cmd(["config", "get", "gateway"])
            .env("ANYRAY_KEYRING", value)
            .run()
            .ok();
    }
}

#[test]
fn a_bad_ca_file_is_reported_before_listening() {
    let env = TestEnv::new();
    let ca = env.write("corp-ca.pem", "not a certificate\n");
    let out = env
        .cmd([
            "gateway",
            "--check-config",
            "--upstream",
            "https://gw.example",
        ])
        .env("ANYRAY_CA_FILE", &ca)
        .run();
    out.code(2);
    assert!(out.stderr.contains("corp-ca.pem"), "{}", out.stderr);
    assert!(out.stderr.contains("PEM"), "{}", out.stderr);
}

#[test]
fn a_non_loopback_listen_address_needs_allow_remote() {
    let env = TestEnv::new();
    let args = [
        "gateway",
        "--check-config",
        "--listen",
        "0.0.0.0:0",
        "--upstream",
        "https://gw.example",
    ];
    let out = env.run(args);
    out.code(2);
    assert!(
        out.stderr.contains("not a loopback address"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--allow-remote"), "{}", out.stderr);
    let out = env.run(args.iter().chain(&["--allow-remote"]));
    out.ok();
}

#[test]
fn identity_from_the_environment_in_the_header_discovery_names() {
    const KEY: &str = "sk-canary-relay-token";
    let gw = FakeGateway::spawn(FakeConfig {
        identity_header: "x-team-key".into(),
        require_identity: Some(KEY.into()),
        ..FakeConfig::default()
    })
    .unwrap();
    let env = TestEnv::new();
    let mut relay = RelayProcess::start(
        &env,
        &[
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            &gw.url(),
            "--log-format",
            "json",
        ],
        &[("ANYRAY_TOKEN", KEY)],
    );
    let start: Value = serde_json::from_str(&relay.seen[0]).expect("JSON startup line");
    assert_eq!(start["identity_header"], "x-team-key");
    assert_eq!(start["fallback"], "none");
    let mut s = post(&relay.addr(), "/v1/chat/completions", "{}", &[]);
    let answer = read_to_end(&mut s);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let seen = gw.requests().pop().unwrap();
    assert_eq!(seen.header("x-team-key"), Some(KEY));
    let line = relay.wait_for_line("/v1/chat/completions");
    let v: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["status"], 200);
    let _ = relay.child.kill();
    assert!(!relay.rest_of_stderr().contains(KEY));
}

#[cfg(unix)]
#[test]
fn sigterm_lets_a_stream_finish_then_exits_0() {
    let gw = FakeGateway::spawn(FakeConfig {
        chunks: 10,
        chunk_delay: Duration::from_millis(100),
        ..FakeConfig::default()
    })
    .unwrap();
    let env = TestEnv::new();
    let mut relay = RelayProcess::start(
        &env,
        &["--listen", "127.0.0.1:0", "--upstream", &gw.url()],
        &[],
    );
    assert!(relay.url.starts_with("http://127.0.0.1:"), "{}", relay.url);
    assert!(
        !relay.url.ends_with(":0"),
        "the real port is printed: {}",
        relay.url
    );
    let mut s = post(&relay.addr(), "/v1/messages", r#"{"stream":true}"#, &[]);
    let mut first = [0u8; 64];
    let n = s.read(&mut first).unwrap();
    assert!(String::from_utf8_lossy(&first[..n]).starts_with("HTTP/1.1 200"));

    assert!(common::send_signal(relay.child.id(), libc::SIGTERM));
    relay.wait_for_line("stopping");
    let rest = read_to_end(&mut s);
    let stream_ended = Instant::now();
    assert!(
        rest.contains("event: message_stop"),
        "the stream was cut:\n{rest}"
    );
    assert!(rest.ends_with("0\r\n\r\n"), "no clean chunked end:\n{rest}");
    assert_eq!(relay.wait(), Some(0), "{}", relay.rest_of_stderr());
    // It exits as soon as its request is done, not at the end of the grace period.
    let after = stream_ended.elapsed();
    assert!(
        after < Duration::from_secs(1),
        "exited {after:?} after the stream ended"
    );
    let stderr = relay.rest_of_stderr();
    assert!(stderr.contains("stopped; 0 request(s) cut"), "{stderr}");
}

/// Sends SIGTERM and returns how long the relay took to exit (with code 0).
#[cfg(unix)]
fn stop_and_time(relay: &mut RelayProcess) -> Duration {
    let started = Instant::now();
    common::send_signal(relay.child.id(), libc::SIGTERM);
    assert_eq!(relay.wait(), Some(0), "{}", relay.rest_of_stderr());
    started.elapsed()
}

#[cfg(unix)]
#[test]
fn an_idle_relay_exits_at_once_on_sigterm() {
    let gw = FakeGateway::spawn(FakeConfig::default()).unwrap();
    let env = TestEnv::new();
    let args = ["--listen", "127.0.0.1:0", "--upstream", &gw.url()];
    // Idle after serving, with a pooled upstream connection and a client keep-alive one.
    let mut relay = RelayProcess::start(&env, &args, &[]);
    let mut kept = TcpStream::connect(relay.addr()).unwrap();
    kept.write_all(format!("GET /v1/models HTTP/1.1\r\nHost: {}\r\n\r\n", relay.addr()).as_bytes())
        .unwrap();
    let mut first = [0u8; 64];
    kept.read_exact(&mut first).unwrap();
    let idle = stop_and_time(&mut relay);
    // With a client that sent half a request head (hyper alone would wait for the
    // 10 s header timeout) and one that sent nothing.
    let mut relay = RelayProcess::start(&env, &args, &[]);
    let mut half = TcpStream::connect(relay.addr()).unwrap();
    half.write_all(b"POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nX-")
        .unwrap();
    let _silent = TcpStream::connect(relay.addr()).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let half_sent = stop_and_time(&mut relay);
    // Generous bounds for a loaded CI machine; bench/run.sh measures the real figure
    // (well under 100 ms).
    for (what, took) in [("idle", idle), ("half-sent request", half_sent)] {
        assert!(took < Duration::from_secs(1), "{what}: exit took {took:?}");
    }
    drop((kept, half));
}

#[cfg(unix)]
#[test]
fn the_grace_period_bounds_a_busy_relays_exit() {
    let gw = FakeGateway::spawn(FakeConfig {
        chunks: 100,
        chunk_delay: Duration::from_millis(100),
        ..FakeConfig::default()
    })
    .unwrap();
    let env = TestEnv::new();
    env.run(["config", "set", "relay.grace_period_s", "1"]).ok();
    let mut relay = RelayProcess::start(
        &env,
        &["--listen", "127.0.0.1:0", "--upstream", &gw.url()],
        &[],
    );
    let mut s = post(&relay.addr(), "/v1/messages", r#"{"stream":true}"#, &[]);
    let mut first = [0u8; 64];
    let n = s.read(&mut first).unwrap();
    assert!(String::from_utf8_lossy(&first[..n]).starts_with("HTTP/1.1 200"));
    let took = stop_and_time(&mut relay);
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(3),
        "a 10 s stream with a 1 s grace period: exit took {took:?}"
    );
    assert!(relay.rest_of_stderr().contains("1 request(s) cut"));
}

/// A minimal HTTP CONNECT proxy on loopback that tunnels every target to `to`
/// (so a made-up host name never needs DNS) and records the CONNECT lines it saw.
fn connect_proxy(
    to: std::net::SocketAddr,
) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        // Bounded: the test makes a handful of connections, then the process ends.
        for client in listener.incoming().take(16) {
            let Ok(mut client) = client else { continue };
            let log = log.clone();
            std::thread::spawn(move || {
                client
                    .set_read_timeout(Some(Duration::from_secs(10)))
                    .unwrap();
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && head.len() < 8192 {
                    if client.read(&mut byte).unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                log.lock()
                    .unwrap()
                    .push(head.lines().next().unwrap_or("").to_string());
                let Ok(upstream) = TcpStream::connect(to) else {
                    return;
                };
                client
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .unwrap();
                let (mut c2, mut u2) = (client.try_clone().unwrap(), upstream.try_clone().unwrap());
                let (mut c, mut u) = (client, upstream);
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut u2, &mut c2);
                    let _ = c2.shutdown(std::net::Shutdown::Write);
                });
                let _ = std::io::copy(&mut c, &mut u);
                let _ = u.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    (format!("http://{addr}"), seen)
}

#[test]
fn the_upstream_connection_goes_through_the_proxy_but_loopback_never_does() {
    let gw = FakeGateway::spawn(FakeConfig::default()).unwrap();
    let (proxy, seen) = connect_proxy(gw.addr());
    let env = TestEnv::new();
    // A remote-looking gateway: tunnelled through HTTP_PROXY with CONNECT.
    let remote = format!("http://gw.test:{}", gw.addr().port());
    let relay = RelayProcess::start(
        &env,
        &["--listen", "127.0.0.1:0", "--upstream", &remote],
        &[("HTTP_PROXY", &proxy)],
    );
    let answer = read_to_end(&mut post(&relay.addr(), "/v1/chat/completions", "{}", &[]));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // At startup the relay reads the gateway's discovery (through the proxy as well).
    seen.lock()
        .unwrap()
        .retain(|line| !line.contains("/.well-known/anyray.json"));
    assert_eq!(
        seen.lock().unwrap().as_slice(),
        [format!("CONNECT gw.test:{} HTTP/1.1", gw.addr().port())]
    );
    assert_eq!(
        gw.requests().pop().unwrap().header("host"),
        Some(&*format!("gw.test:{}", gw.addr().port()))
    );
    drop(relay);

    // A loopback gateway is reached directly, even with a proxy that would fail.
    let relay = RelayProcess::start(
        &env,
        &["--listen", "127.0.0.1:0", "--upstream", &gw.url()],
        &[
            ("HTTP_PROXY", "http://127.0.0.1:9"),
            ("HTTPS_PROXY", "http://127.0.0.1:9"),
        ],
    );
    let answer = read_to_end(&mut post(&relay.addr(), "/v1/chat/completions", "{}", &[]));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(seen.lock().unwrap().len(), 1);
}

/// A running relay picks up a key stored again with `anyray login` (as it does an SSO
/// access token renewed ahead of its expiry): it asks for the current credential every
/// 15 s, so no restart is needed.
#[test]
fn a_running_relay_sends_the_key_stored_after_it_started() {
    let gw = FakeGateway::spawn(FakeConfig {
        identity_header: "x-team-key".into(),
        ..FakeConfig::default()
    })
    .unwrap();
    let env = TestEnv::new();
    env.cmd(["login", "--token-stdin"])
        .stdin("sk-before-relogin")
        .run()
        .ok();
    let relay = RelayProcess::start(
        &env,
        &["--listen", "127.0.0.1:0", "--upstream", &gw.url()],
        &[],
    );
    let sent = || {
        let mut s = post(&relay.addr(), "/v1/chat/completions", "{}", &[]);
        let answer = read_to_end(&mut s);
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        gw.requests()
            .pop()
            .unwrap()
            .header("x-team-key")
            .map(str::to_string)
    };
    assert_eq!(sent().as_deref(), Some("sk-before-relogin"));
    env.cmd(["login", "--token-stdin"])
        .stdin("sk-after-relogin")
        .run()
        .ok();
    let deadline = Instant::now() + Duration::from_secs(40);
    let mut last = None;
    while Instant::now() < deadline {
        last = sent();
        if last.as_deref() == Some("sk-after-relogin") {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(last.as_deref(), Some("sk-after-relogin"));
}
