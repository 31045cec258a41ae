//! The user's Anyray key (and the SSO token set, `Account::SsoSession`). The key is read from `ANYRAY_TOKEN` when that is set, else from the
//! OS keyring, else from a 0600 file in anyray's config dir; it is stored in the keyring
//! when the keyring keeps what it is given (read back to be sure), else in that file.
//! A key never goes into argv, a log line, an error message or a world-readable file.

use std::fmt;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::error::UserError;
use crate::gateway_url::Provider;
use crate::{envvars, fs_safe, paths};

const SERVICE: &str = "anyray";

/// Which secret: the user's Anyray key, or one of the user's own provider keys
/// (`anyray login --provider`, used only to fail open in the `key` scheme).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Account {
    Anyray,
    Provider(Provider),
    /// The SSO token set from `anyray login --sso` (access and refresh tokens, their
    /// expiry, the issuer): one JSON secret, so a refresh replaces it in one write.
    SsoSession,
}

impl Account {
    /// The keyring account name.
    fn name(self) -> String {
        match self {
            Account::Anyray => "anyray-key".into(),
            Account::Provider(p) => format!("provider-{}", p.key()),
            Account::SsoSession => "sso-session".into(),
        }
    }

    /// The 0600 fallback file's name in anyray's config dir.
    fn file_name(self) -> String {
        match self {
            Account::Anyray => "token".into(),
            Account::Provider(p) => format!("provider-{}.key", p.key()),
            Account::SsoSession => "sso-session.json".into(),
        }
    }
}
/// A hung keyring daemon must not hang the CLI.
const KEYRING_WAIT: Duration = Duration::from_secs(3);

/// A secret value. `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself, for the one place that must send it.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Where a key lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Store {
    Keyring,
    Env { var: &'static str },
    File { path: PathBuf },
}

impl fmt::Display for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Store::Keyring => f.write_str("the OS keyring"),
            Store::Env { var } => write!(f, "the environment variable {var}"),
            Store::File { path } => write!(f, "the file {}", path.display()),
        }
    }
}

/// The token file: 0600, in anyray's config dir.
pub fn token_file() -> Result<PathBuf> {
    secret_file(Account::Anyray)
}

fn secret_file(account: Account) -> Result<PathBuf> {
    Ok(paths::config_dir()?.join(account.file_name()))
}

/// `ANYRAY_KEYRING`: `on` (the default when unset) or `off`; also `1`/`0`, `true`/`false`
/// and `yes`/`no`, in any case. Anything else is a usage error rather than a guess: a
/// typo must not silently send the key to a keyring the user meant to avoid.
pub(crate) fn keyring_enabled() -> Result<bool, UserError> {
    let Some(value) = envvars::get(envvars::ANYRAY_KEYRING) else {
        return Ok(true);
    };
    match value.trim().to_ascii_lowercase().as_str() {
        "on" | "1" | "true" | "yes" => Ok(true),
        "off" | "0" | "false" | "no" => Ok(false),
        _ => Err(UserError::usage(format!(
            "{}={value:?} is not valid: use `on` or `off`",
            envvars::ANYRAY_KEYRING
        ))
        .with_hint(format!(
            "set {}=off to keep the key in a 0600 file instead of the OS keyring, or unset it",
            envvars::ANYRAY_KEYRING
        ))),
    }
}

/// Runs a keyring operation on its own thread with a bounded wait.
/// `None` when the keyring is disabled or did not answer in time.
fn keyring<T: Send + 'static>(
    account: Account,
    op: impl FnOnce(&keyring::Entry) -> keyring::Result<T> + Send + 'static,
) -> Result<Option<keyring::Result<T>>, UserError> {
    if !keyring_enabled()? {
        return Ok(None);
    }
    let (tx, rx) = mpsc::channel();
    let name = account.name();
    std::thread::spawn(move || {
        let result = keyring::Entry::new(SERVICE, &name).and_then(|entry| op(&entry));
        let _ = tx.send(result);
    });
    Ok(rx.recv_timeout(KEYRING_WAIT).ok())
}

/// The stored key: `ANYRAY_TOKEN`, then the keyring, then the token file. Never prompts
/// and never touches the network. The current gateway credential, which an SSO session
/// takes the place of, is `commands::sso::credential` (`anyray token`, the relay, `run`):
/// the one place an SSO access token is refreshed.
pub fn load() -> Result<Option<(Secret, Store)>> {
    keyring_enabled()?; // a bad value is an error even when ANYRAY_TOKEN decides
    if let Some(token) = envvars::get(envvars::ANYRAY_TOKEN) {
        return Ok(Some((
            Secret(token),
            Store::Env {
                var: envvars::ANYRAY_TOKEN,
            },
        )));
    }
    load_stored(Account::Anyray)
}

/// The user's own key for `provider`, for failing open (never from the environment:
/// a provider variable there is a tool's, and in the `key` scheme the gateway's).
pub fn load_provider(provider: Provider) -> Result<Option<(Secret, Store)>> {
    keyring_enabled()?;
    load_stored(Account::Provider(provider))
}

/// A secret from the keyring, else its 0600 file.
pub(crate) fn load_stored(account: Account) -> Result<Option<(Secret, Store)>> {
    let from_keyring = keyring(account, |e| e.get_password())?;
    if let Some(Ok(token)) = from_keyring {
        return Ok(Some((Secret(token), Store::Keyring)));
    }
    let path = secret_file(account)?;
    let Some(bytes) = fs_safe::read_optional(&path)? else {
        // A keyring that never answered may hold the key: "no key" would be a guess.
        if from_keyring.is_none() && keyring_enabled()? {
            return Err(UserError::problem(format!(
                "the OS keyring did not answer within {} s",
                KEYRING_WAIT.as_secs()
            ))
            .with_hint(format!(
                "unlock it and try again, or set {}=off to use the 0600 file",
                envvars::ANYRAY_KEYRING
            ))
            .into());
        }
        return Ok(None);
    };
    check_private(&path)?;
    let token = String::from_utf8(bytes)
        .map_err(|_| UserError::problem(format!("{} is not UTF-8 text", path.display())))?;
    let token = token.trim();
    Ok((!token.is_empty()).then(|| (Secret(token.to_string()), Store::File { path })))
}

/// Stores the key: the keyring when it keeps what it is given (read back to be sure:
/// some backends accept a write and keep nothing), else the 0600 token file.
pub fn store(account: Account, token: &Secret) -> Result<Store> {
    let value = token.0.clone();
    let kept = keyring(account, move |entry| {
        entry.set_password(&value)?;
        entry.get_password().map(|back| back == value)
    })?;
    if let Some(Ok(true)) = kept {
        // A stale file would be found if the keyring later goes away; remove it.
        let _ = std::fs::remove_file(secret_file(account)?);
        return Ok(Store::Keyring);
    }
    let path = secret_file(account)?;
    // A private regular file is replaced by one rename, so a process reading it at that
    // moment (ten `anyray token` while one renews the SSO session) never finds it
    // missing. Anything else (a wider mode, a symlink) is removed first, so the new file
    // is 0600 from its first byte whatever the old one was.
    let in_place = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file() && is_private(&m));
    if !in_place {
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(e).with_context(|| format!("cannot replace {}", path.display()));
            }
            _ => {}
        }
    }
    fs_safe::atomic_write(&path, format!("{}\n", token.0).as_bytes(), Some(0o600))?;
    Ok(Store::File { path })
}

/// Removes the key from the keyring and the token file; returns where it was.
pub fn remove(account: Account) -> Result<Vec<Store>> {
    let mut removed = Vec::new();
    if let Some(Ok(())) = keyring(account, |e| e.delete_credential())? {
        removed.push(Store::Keyring);
    }
    let path = secret_file(account)?;
    match std::fs::remove_file(&path) {
        Ok(()) => removed.push(Store::File { path }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot remove {}", path.display())),
    }
    Ok(removed)
}

#[cfg(unix)]
fn check_private(path: &std::path::Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)?.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(UserError::problem(format!(
            "refusing to read {}: its mode {mode:o} lets other users read your key",
            path.display()
        ))
        .with_hint(format!(
            "run `chmod 600 {}`, then try again",
            path.display()
        ))
        .into());
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &std::path::Path) -> Result<()> {
    Ok(())
}

/// Whether only the owner may read or write the file.
#[cfg(unix)]
fn is_private(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o077 == 0
}

#[cfg(not(unix))]
fn is_private(_meta: &std::fs::Metadata) -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_is_redacted_in_debug() {
        let s = Secret::new("sk-canary");
        assert!(!format!("{s:?}").contains("canary"));
        assert_eq!(s.expose(), "sk-canary");
    }
}
