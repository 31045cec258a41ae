//! The tools' credential helpers: a command a tool runs for its API key, which `connect`
//! points at `anyray token` in the `key` scheme (Claude Code's `apiKeyHelper`, Codex's
//! `[model_providers.anyray.auth]`), so that no file ever holds the key. What is anyray's
//! own helper and what the user's, and how each tool runs it (doctor does the same).

use std::path::{Path, PathBuf};
use std::time::Duration;

/// The argument that makes anyray print the key.
pub(crate) const TOKEN_ARG: &str = "token";

/// How a tool runs its credential helper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Run {
    /// A command line for `/bin/sh -c`, stdin closed, in the project dir (Claude Code:
    /// `shell: true`, 10 minutes).
    Shell { command: String },
    /// A program and its arguments, no shell, bounded (Codex: `timeout_ms`).
    Exec {
        program: PathBuf,
        args: Vec<String>,
        timeout: Duration,
    },
}

/// A credential helper a tool's settings name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Helper {
    /// Where it is set, for messages (`apiKeyHelper`, `model_providers.anyray.auth`).
    pub setting: &'static str,
    pub run: Run,
    /// The anyray program it runs when it is anyray's own (`… token`); `None`: the user's.
    pub anyray: Option<PathBuf>,
}

/// `/path/to/anyray token` as a `/bin/sh` command line (Windows: for `cmd.exe`), the
/// path quoted where the shell would split or expand it.
pub(crate) fn shell_command(program: &Path) -> String {
    let path = program.display().to_string();
    let quoted = if cfg!(windows) {
        format!("\"{path}\"")
    } else if !path.is_empty()
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+,:@%=".contains(c))
    {
        path
    } else {
        crate::shell::quote_posix(&path)
    };
    format!("{quoted} {TOKEN_ARG}")
}

/// The anyray program a command line runs as `PROGRAM token` (quoted as
/// [`shell_command`] quotes, or any POSIX way); `None` for anything else.
pub(crate) fn anyray_in_shell_command(command: &str) -> Option<PathBuf> {
    let (word, rest) = first_word(command.trim())?;
    (rest.trim() == TOKEN_ARG && is_anyray(Path::new(&word))).then(|| PathBuf::from(word))
}

/// Whether a helper's program is anyray (by its file name).
pub(crate) fn is_anyray(program: &Path) -> bool {
    program
        .file_stem()
        .is_some_and(|stem| stem.eq_ignore_ascii_case("anyray"))
}

/// Why a helper's program cannot run: it is missing, or not an executable file.
pub(crate) fn unusable(program: &Path) -> Option<&'static str> {
    if !program.is_absolute() {
        return None; // found on PATH by the tool: nothing to say here
    }
    let Ok(meta) = std::fs::metadata(program) else {
        return Some("does not exist");
    };
    if !meta.is_file() {
        return Some("is not a file");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o111 == 0 {
            return Some("is not executable");
        }
    }
    None
}

/// The first POSIX shell word of `line` (single and double quotes, backslashes; no
/// expansion: a word with `$`, a backtick or a glob is not one anyray writes) and the
/// text after it.
fn first_word(line: &str) -> Option<(String, &str)> {
    let mut word = String::new();
    let mut chars = line.char_indices().peekable();
    let mut quote: Option<char> = None;
    while let Some((i, c)) = chars.next() {
        match (quote, c) {
            (Some('\''), '\'') | (Some('"'), '"') => quote = None,
            (Some('"'), '\\') => match chars.next() {
                Some((_, n)) if matches!(n, '"' | '\\' | '$' | '`') => word.push(n),
                Some((_, n)) => {
                    word.push('\\');
                    word.push(n);
                }
                None => return None,
            },
            (Some('"'), '$' | '`') => return None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => quote = Some(c),
            (None, '\\') => word.push(chars.next()?.1),
            (None, c) if c.is_whitespace() => return Some((word, &line[i..])),
            (None, '$' | '`' | '*' | '?' | '[' | ';' | '&' | '|' | '<' | '>' | '(' | ')') => {
                return None;
            }
            (None, c) => word.push(c),
        }
    }
    (quote.is_none() && !word.is_empty()).then_some((word, ""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_commands_quote_only_where_needed_and_read_back() {
        assert_eq!(
            shell_command(Path::new("/usr/local/bin/anyray")),
            "/usr/local/bin/anyray token"
        );
        if cfg!(unix) {
            let odd = Path::new("/home/o'neil/my tools/$x/anyray");
            let command = shell_command(odd);
            assert_eq!(command, r"'/home/o'\''neil/my tools/$x/anyray' token");
            assert_eq!(anyray_in_shell_command(&command).as_deref(), Some(odd));
            // The shell reads the same word.
            let word = command.strip_suffix(" token").unwrap();
            let out = std::process::Command::new("/bin/sh")
                .arg("-c")
                .arg(format!("printf %s {word}"))
                .output()
                .unwrap();
            assert_eq!(out.stdout, odd.as_os_str().as_encoded_bytes());
        }
        for (line, found) in [
            ("/opt/anyray token", Some("/opt/anyray")),
            ("  \"/a b/anyray\"   token ", Some("/a b/anyray")),
            ("/a\\ b/anyray token", Some("/a b/anyray")),
            ("anyray token", Some("anyray")),
            ("/opt/anyray.exe token", Some("/opt/anyray.exe")),
            ("/opt/anyray token --x", None),
            ("/opt/anyray", None),
            ("/opt/other token", None),
            ("$HOME/anyray token", None),
            ("\"$HOME/anyray\" token", None),
            ("/opt/anyray token; rm -rf /", None),
            ("'/opt/anyray token", None),
            ("", None),
        ] {
            assert_eq!(
                anyray_in_shell_command(line),
                found.map(PathBuf::from),
                "{line}"
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn unusable_programs_say_why() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("anyray");
        assert_eq!(unusable(&file), Some("does not exist"));
        std::fs::write(&file, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(unusable(&file), Some("is not executable"));
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(unusable(&file), None);
        assert_eq!(unusable(dir.path()), Some("is not a file"));
    }
}
