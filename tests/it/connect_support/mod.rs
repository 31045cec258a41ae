//! Helpers shared by the `connect_*` tests: the connect → connect → disconnect round trip
//! every target must pass, and a visible rendering of CRLF and BOM for snapshots.

use crate::common::TestEnv;

pub const GW: &str = "https://gw.example:8787";
pub const OTHER_GW: &str = "https://other-gw.example";

/// Bytes as text with the invisible parts shown: `\r` as `␍`, a BOM as `<BOM>`.
pub fn visible(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec())
        .expect("UTF-8")
        .replace('\u{feff}', "<BOM>")
        .replace('\r', "␍")
}

pub fn read_bytes(env: &TestEnv, rel: &str) -> Option<Vec<u8>> {
    std::fs::read(env.path(rel)).ok()
}

/// Connects `target` with `GW`, checks a second run is a no-op that says "already
/// connected", disconnects and checks the original bytes (or absence) came back.
/// Returns the connected bytes for a snapshot.
#[track_caller]
pub fn round_trip(env: &TestEnv, target: &str, rel: &str, original: Option<&[u8]>) -> Vec<u8> {
    if let Some(bytes) = original {
        env.write(rel, bytes);
    }
    let out = env.run(["connect", target, "--force", "--gateway", GW]);
    out.ok();
    assert!(out.stdout.contains("changed"), "{}", out.stdout);
    let connected = read_bytes(env, rel).expect("connect wrote the file");

    let again = env.run(["connect", target, "--force"]);
    again.ok();
    assert!(
        again.stdout.contains("already connected"),
        "second run:\n{}",
        again.stdout
    );
    assert_eq!(
        read_bytes(env, rel).as_deref(),
        Some(connected.as_slice()),
        "a second connect must not change the file"
    );

    env.run(["disconnect", target]).ok();
    assert_eq!(
        read_bytes(env, rel).as_deref(),
        original,
        "disconnect must give back the original bytes"
    );
    connected
}
