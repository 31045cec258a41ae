//! SSO against a real OpenID provider: the certified `oidc-provider` package on
//! loopback (tests/oidc/provider.mjs: device flow, PKCE, rotating refresh tokens,
//! revocation, ES256 JWT access tokens with a few seconds' life), approved through its
//! own pages (tests/oidc/approve-device.mjs), and the fake gateway verifying each access
//! token against the provider's JWKS. The protocol's corner cases (slow_down, a forged
//! callback) are unit tests in src/oidc against a scripted stub.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use fake_gateway::{FakeConfig, FakeGateway, OidcConfig};

use crate::common::TestEnv;
use crate::needs;

/// The audience (RFC 8707 resource) the provider issues access tokens for.
const AUDIENCE: &str = "http://anyray-gateway.test";

/// A running oidc-provider; killed when dropped. Its stderr lines are kept.
pub struct Idp {
    child: Child,
    pub issuer: String,
    pub dir: PathBuf,
    log: Arc<Mutex<Vec<String>>>,
}

impl Idp {
    /// Starts the provider. Its start-up failed once in a loaded CI run with nothing on
    /// stderr but Node's version warning (not reproduced in many runs since), so a
    /// provider that does not come up is started once more, and a second failure says
    /// how each attempt ended.
    pub fn start(dir: &Path, access_ttl: u32) -> Self {
        Self::try_start(dir, access_ttl)
            .or_else(|first| Self::try_start(dir, access_ttl).map_err(|second| (first, second)))
            .unwrap_or_else(|(first, second)| {
                panic!("the provider did not start:\n1st: {first}\n2nd: {second}")
            })
    }

    fn try_start(dir: &Path, access_ttl: u32) -> Result<Self, String> {
        let mut child = Command::new("node")
            .arg(dir.join("provider.mjs"))
            .args(["--port", "0", "--audience", AUDIENCE])
            .args(["--access-ttl", &access_ttl.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start oidc-provider");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (stderr, kept) = (child.stderr.take().unwrap(), log.clone());
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                kept.lock().unwrap().push(line);
            }
        });
        let line = read_line_within(child.stdout.take().unwrap(), Duration::from_secs(60));
        let Some(issuer) = line.strip_prefix("issuer ") else {
            let _ = child.kill();
            let status = child.wait();
            std::thread::sleep(Duration::from_millis(200));
            return Err(format!(
                "first line {line:?}, exit {status:?}, stderr {:?}",
                log.lock().unwrap()
            ));
        };
        Ok(Self {
            issuer: issuer.trim().to_string(),
            child,
            dir: dir.to_path_buf(),
            log,
        })
    }

    /// How many of the provider's stderr lines contain `needle`.
    pub fn count(&self, needle: &str) -> usize {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(needle))
            .count()
    }

    /// A fake gateway that accepts this provider's access tokens (and names it in discovery).
    pub fn gateway(&self) -> FakeGateway {
        FakeGateway::spawn(FakeConfig {
            oidc: Some(OidcConfig {
                issuer: self.issuer.clone(),
                audience: Some(AUDIENCE.into()),
                client_id: "anyray-cli".into(),
                scopes: "openid offline_access gateway".into(),
            }),
            ..FakeConfig::default()
        })
        .unwrap()
    }

    /// Walks the provider's pages for `url` as `user` would; its stdout.
    pub fn approve(&self, url: &str, user: &str) -> String {
        let out = Command::new("node")
            .arg(self.dir.join("approve-device.mjs"))
            .args([url, "--user", user])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "approve-device failed: {stdout} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }
}

impl Drop for Idp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The first line of `stream`; the rest is drained (the provider logs to stdout too, and
/// dies of EPIPE when no one reads it).
fn read_line_within(stream: impl std::io::Read + Send + 'static, wait: Duration) -> String {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        let _ = reader.read_line(&mut line);
        let _ = tx.send(line);
        let _ = std::io::copy(&mut reader, &mut std::io::sink());
    });
    rx.recv_timeout(wait).unwrap_or_default()
}

/// `anyray login --sso` in `env`: waits for the device screen, approves the code as
/// `user` through the provider's pages, and returns the login's (stdout, stderr).
pub fn device_login(env: &TestEnv, idp: &Idp, user: &str) -> (String, String) {
    let mut cmd = env.cmd(["login", "--sso"]).command;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut screen = Vec::new();
    let complete = loop {
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("no device screen: {screen:?}"));
        screen.push(line.clone());
        if let Some(rest) = line.strip_prefix("(or open ") {
            break rest.split(',').next().unwrap().to_string();
        }
    };
    assert!(idp.approve(&complete, user).starts_with("approved as"));
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            screen.extend(rx.try_iter());
            panic!(
                "login did not finish: {screen:#?}\nprovider: {:#?}",
                idp.log.lock()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = child.wait().unwrap();
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut stdout).unwrap();
    screen.extend(rx.try_iter());
    let stderr = screen.join("\n");
    assert!(status.success(), "login --sso failed: {stdout}\n{stderr}");
    (stdout, stderr)
}

/// `GET /v1/models` at the gateway with `token` as the key: the HTTP status.
fn gateway_status(curl: &Path, gw: &FakeGateway, token: &str) -> String {
    let out = Command::new(curl)
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-H"])
        .arg(format!("authorization: Bearer {token}"))
        .arg(format!("{}/v1/models", gw.url()))
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The session anyray keeps in its 0600 file (the keyring is off in tests).
fn stored_session(env: &TestEnv) -> serde_json::Value {
    serde_json::from_str(
        &std::fs::read_to_string(env.config_dir().join("sso-session.json")).unwrap(),
    )
    .unwrap()
}

#[test]
fn device_login_then_one_refresh_for_ten_callers_then_logout_revokes() {
    let Some(dir) = needs::oidc_provider() else {
        return;
    };
    let Some(curl) = needs::program("curl") else {
        return;
    };
    let idp = Idp::start(&dir, 4);
    let gw = idp.gateway();
    let env = TestEnv::new();
    env.run(["config", "set", "gateway", &gw.url()]).ok();

    // Login: the device screen, the provider's own pages, the session stored 0600.
    let (stdout, stderr) = device_login(&env, &idp, "alice");
    assert!(stdout.contains("Signed in as alice"), "{stdout}");
    assert!(stderr.contains("and enter the code"), "{stderr}");
    assert_eq!(
        idp.count("grant.success: urn:ietf:params:oauth:grant-type:device_code"),
        1
    );
    let file = env.config_dir().join("sso-session.json");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let first = stored_session(&env);
    let (at1, rt1) = (
        first["access_token"].as_str().unwrap().to_string(),
        first["refresh_token"].as_str().unwrap().to_string(),
    );
    for secret in [&at1, &rt1] {
        assert!(!stdout.contains(secret.as_str()) && !stderr.contains(secret.as_str()));
    }

    // The token is the access token, and the gateway verifies it and sees alice.
    let out = env.run(["token"]);
    out.ok();
    assert_eq!(out.stdout.trim(), at1);
    assert_eq!(gateway_status(&curl, &gw, &at1), "200");
    let subjects: Vec<_> = gw
        .requests()
        .iter()
        .filter_map(|r| r.subject.clone())
        .collect();
    assert_eq!(subjects, ["alice"]);

    let status = env.run(["--json", "login", "--status"]);
    status.ok();
    let doc = status.json();
    assert_eq!(doc["sso"]["issuer"], idp.issuer.as_str());
    assert_eq!(doc["sso"]["refreshable"], true);
    assert!(!status.all().contains(&at1) && !status.all().contains(&rt1));

    // The access token expires; ten callers at once cause exactly one refresh (a second
    // use of the rotated refresh token would make the provider revoke the whole grant).
    std::thread::sleep(Duration::from_millis(4500));
    assert_eq!(
        gateway_status(&curl, &gw, &at1),
        "401",
        "expired at the gateway"
    );
    let children: Vec<_> = (0..10)
        .map(|_| {
            let mut cmd = env.cmd(["token"]).command;
            cmd.stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    for out in &outputs {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let tokens: std::collections::BTreeSet<_> = outputs
        .iter()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .collect();
    assert_eq!(tokens.len(), 1, "all ten got the same token");
    let at2 = tokens.into_iter().next().unwrap();
    assert_ne!(at2, at1);
    assert_eq!(idp.count("grant.success: refresh_token"), 1, "one refresh");
    assert_eq!(idp.count("refresh token already used"), 0);
    assert_eq!(idp.count("grant.revoked"), 0, "the grant is alive");
    assert_eq!(gateway_status(&curl, &gw, &at2), "200");
    let rt2 = stored_session(&env)["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(
        rt2, rt1,
        "the refresh token rotated and the new one was kept"
    );

    // Logout revokes the refresh token at the provider, says the JWT cannot be, and
    // deletes the session; then `token` names `anyray login`.
    let out = env.run(["logout"]);
    out.ok();
    assert!(
        out.stdout.contains("Revoked your SSO session"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("cannot be revoked"), "{}", out.stdout);
    assert!(!file.exists());
    assert_eq!(idp.count("grant.revoked"), 1);
    let out = env.run(["token"]);
    out.code(1);
    assert!(out.stderr.contains("`anyray login"), "{}", out.stderr);
    // The revoked refresh token is refused by the provider itself.
    let refused = Command::new(&curl)
        .args([
            "-s",
            "-d",
            "client_id=anyray-cli",
            "-d",
            "grant_type=refresh_token",
        ])
        .arg("-d")
        .arg(format!("refresh_token={rt2}"))
        .arg(format!("{}/token", idp.issuer))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&refused.stdout).contains("invalid_grant"));
}

#[test]
fn browser_login_with_pkce_through_the_provider_pages() {
    let Some(dir) = needs::oidc_provider() else {
        return;
    };
    let Some([curl, node]) = needs::programs(["curl", "node"]) else {
        return;
    };
    let idp = Idp::start(&dir, 30);
    let gw = idp.gateway();
    let mut env = TestEnv::new();
    // The "browser": the provider's pages walked as carol, then back to anyray's port.
    let bin = env.isolate_path();
    let script = format!(
        "#!/bin/sh\nback=$('{}' '{}' \"$1\" --user carol) || exit 1\n'{}' -s \"${{back#redirect }}\" >/dev/null\n",
        node.display(),
        dir.join("approve-device.mjs").display(),
        curl.display()
    );
    env.write_executable("bin/xdg-open", &script);
    assert!(bin.join("xdg-open").exists());
    env.run(["config", "set", "gateway", &gw.url()]).ok();
    let out = env.run(["--json", "login", "--browser"]);
    out.ok();
    let doc = out.json();
    assert_eq!(doc["method"], "browser");
    assert_eq!(
        doc["auth_scheme"]["value"], "key",
        "the scheme from discovery"
    );
    assert_eq!(doc["sso"]["subject"], "carol");
    assert!(
        out.stderr.contains("code_challenge_method=S256"),
        "{}",
        out.stderr
    );
    assert_eq!(idp.count("grant.success: authorization_code"), 1);
    let token = env.run(["token"]);
    token.ok();
    assert_eq!(gateway_status(&curl, &gw, token.stdout.trim()), "200");
    assert_eq!(
        gw.requests().last().unwrap().subject.as_deref(),
        Some("carol")
    );
}

#[test]
fn sso_without_an_issuer_says_where_to_set_one() {
    let env = TestEnv::new();
    let gw = FakeGateway::spawn(FakeConfig::default()).unwrap();
    env.run(["config", "set", "gateway", &gw.url()]).ok();
    let out = env.run(["login", "--sso"]);
    out.code(2);
    assert!(out.stderr.contains("no OpenID issuer"), "{}", out.stderr);
    assert!(
        out.stderr.contains("anyray config set auth.oidc.issuer"),
        "{}",
        out.stderr
    );
    let out = env.run(["config", "set", "auth.oidc.issuer", "http://idp.example"]);
    out.code(2);
    assert!(out.stderr.contains("https://"), "{}", out.stderr);
}

/// The SSO session in a real Secret Service (gnome-keyring in a private D-Bus session):
/// stored there as one item and no file, refreshed in place, deleted by logout.
#[test]
fn the_session_lives_in_the_real_secret_service() {
    let Some(dir) = needs::oidc_provider() else {
        return;
    };
    let Some(_) = needs::programs(["dbus-run-session", "gnome-keyring-daemon", "secret-tool"])
    else {
        return;
    };
    let keyring = crate::keyring::Session::start();
    let idp = Idp::start(&dir, 2);
    let gw = idp.gateway();
    let mut env = TestEnv::new();
    env.set_var("ANYRAY_KEYRING", "on")
        .set_var("DBUS_SESSION_BUS_ADDRESS", &keyring.address);
    env.run(["config", "set", "gateway", &gw.url()]).ok();
    let stored = || {
        let (ok, out) =
            keyring.secret_tool(&["lookup", "service", "anyray", "username", "sso-session"]);
        ok.then(|| serde_json::from_str::<serde_json::Value>(out.trim()).unwrap())
    };

    let (stdout, _) = device_login(&env, &idp, "dave");
    assert!(stdout.contains("in the OS keyring"), "{stdout}");
    assert!(
        !env.config_dir().join("sso-session.json").exists(),
        "no fallback file"
    );
    let first = stored().expect("the session is in the keyring");
    assert_eq!(first["issuer"], idp.issuer.as_str());
    assert_eq!(keyring.items(), 1);

    std::thread::sleep(Duration::from_millis(2200));
    let out = env.run(["token"]);
    out.ok();
    let refreshed = stored().unwrap();
    assert_eq!(out.stdout.trim(), refreshed["access_token"]);
    assert_ne!(
        refreshed["refresh_token"], first["refresh_token"],
        "rotated in place"
    );
    assert_eq!(keyring.items(), 1);
    assert_eq!(idp.count("grant.success: refresh_token"), 1);

    env.run(["logout"]).ok();
    assert_eq!(stored(), None);
    assert_eq!(keyring.items(), 0);
    assert_eq!(idp.count("grant.revoked"), 1);
}

/// `login --status` with a stored session: what it says, and exit 1 only once the
/// session can give no token (expired, nothing to renew it with). Never a token.
#[test]
fn status_says_whether_the_session_still_works() {
    let env = TestEnv::new();
    let write = |expires_at: u64, refresh: Option<&str>| {
        let doc = serde_json::json!({
            "version": 1, "issuer": "https://idp.example", "client_id": "anyray-cli",
            "token_endpoint": "https://idp.example/token", "subject": "erin",
            "issued_at": 1, "expires_at": expires_at,
            "access_token": "at-status-canary", "refresh_token": refresh,
        });
        let path = env.write(".config/anyray/sso-session.json", doc.to_string());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    write(now + 3600, Some("rt-status-canary"));
    let out = env.run(["login", "--status"]);
    out.ok();
    assert!(
        out.stdout
            .contains("Signed in with SSO as erin at https://idp.example"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("renewed on its own"), "{}", out.stdout);
    write(now - 10, Some("rt-status-canary"));
    env.run(["login", "--status"]).ok();
    write(now - 10, None);
    let out = env.run(["--json", "login", "--status"]);
    out.code(1);
    assert_eq!(out.json()["sso"]["refreshable"], false);
    let out = env.run(["login", "--status"]);
    out.code(1);
    assert!(
        out.stdout.contains("run `anyray login --sso`"),
        "{}",
        out.stdout
    );
    assert!(!out.all().contains("canary"));
    // The expired session gives `token` nothing, with one line saying so.
    let out = env.run(["token"]);
    out.code(1);
    assert!(out.stderr.contains("anyray login --sso"), "{}", out.stderr);
    assert!(!out.all().contains("canary"));
}
