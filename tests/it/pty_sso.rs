//! `anyray login --sso` under a real terminal (the PTY harness of pty.rs): the device
//! screen shows where to go and the code, the user approves on "another device" (the
//! provider's own pages, walked over HTTP), and the login ends signed in, with no token
//! ever on the screen.

use crate::pty::Pty;
use crate::sso::Idp;
use crate::{common, needs};

use common::TestEnv;

#[test]
fn the_device_screen_shows_the_code_and_the_login_completes() {
    let Some(dir) = needs::oidc_provider() else {
        return;
    };
    let idp = Idp::start(&dir, 30);
    let gw = idp.gateway();
    let env = TestEnv::new();
    env.run(["config", "set", "gateway", &gw.url()]).ok();

    let mut pty = Pty::spawn(env.cmd(["login", "--sso"]).command);
    pty.expect("To sign in, open this page on any device:");
    pty.expect("which has the code filled in)");
    let shown = pty.shown().to_string();
    let device_page = format!("{}/device", idp.issuer);
    assert!(shown.contains(&format!("    {device_page}\r\n")), "{shown}");
    // The code on a line of its own, as the provider issued it (XXXX-XXXX).
    let code = shown
        .lines()
        .map(str::trim)
        .find(|l| l.len() == 9 && l.as_bytes()[4] == b'-')
        .unwrap_or_else(|| panic!("no user code on the screen:\n{shown}"))
        .to_string();
    let complete = format!("{device_page}?user_code={code}");
    assert!(shown.contains(&format!("(or open {complete}, ")), "{shown}");
    pty.expect("Approve only if the page shows this same code");

    assert!(
        idp.approve(&complete, "alice")
            .starts_with("approved as alice")
    );
    pty.expect("Signed in as alice");
    let (code, screen) = pty.finish();
    assert_eq!(code, 0, "{screen}");

    let session: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(env.config_dir().join("sso-session.json")).unwrap(),
    )
    .unwrap();
    for token in ["access_token", "refresh_token"] {
        let value = session[token].as_str().unwrap();
        assert!(!screen.contains(value), "the {token} was shown");
    }
}
