//! Shell integration, as pure functions: the env files anyray owns (`env.sh`, `env.fish`,
//! `env.ps1`), the `anyray env` output formats, and (in [`rc`]) the one marked line each
//! shell's startup file gets. Nothing here writes a file; the connect engine does that.
//!
//! Every value is quoted for its shell, so any byte sequence (spaces, quotes, `$`,
//! backticks, `\`, `;`, `#`, `!`, `%`, newlines, unicode) arrives unchanged.

pub mod rc;

use std::path::{Path, PathBuf};

use crate::provider_env::EnvVar;

/// What `anyray env` prints (`--shell`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum EnvFormat {
    Bash,
    Zsh,
    Fish,
    Pwsh,
    /// KEY=value lines for a .env file
    Dotenv,
    /// KEY=value lines for $GITHUB_ENV
    Github,
}

/// The syntaxes of the env files anyray owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Syntax {
    /// POSIX sh: sourced by bash, zsh, dash and ksh.
    Posix,
    Fish,
    PowerShell,
}

impl Syntax {
    pub const ALL: [Syntax; 3] = [Syntax::Posix, Syntax::Fish, Syntax::PowerShell];

    /// The env file's name in anyray's config dir.
    pub fn file_name(self) -> &'static str {
        match self {
            Syntax::Posix => "env.sh",
            Syntax::Fish => "env.fish",
            Syntax::PowerShell => "env.ps1",
        }
    }

    /// `value` as one literal word of this syntax.
    pub fn quote(self, value: &str) -> String {
        match self {
            Syntax::Posix => quote_posix(value),
            Syntax::Fish => quote_fish(value),
            Syntax::PowerShell => quote_powershell(value),
        }
    }

    /// Whether `contents`, an env file of this syntax that anyray wrote, sets `name`.
    pub fn sets(self, contents: &str, name: &str) -> bool {
        let prefix = match self {
            Syntax::Posix => format!("export {name}="),
            Syntax::Fish => format!("set -gx {name} "),
            Syntax::PowerShell => format!("$env:{name} = "),
        };
        contents.lines().any(|line| line.starts_with(&prefix))
    }

    /// The statement that sets `var` in the environment of this shell and its children.
    fn assignment(self, var: &EnvVar) -> String {
        let value = self.quote(&var.value);
        match self {
            Syntax::Posix => format!("export {}={value}", var.name),
            Syntax::Fish => format!("set -gx {} {value}", var.name),
            Syntax::PowerShell => format!("$env:{} = {value}", var.name),
        }
    }
}

/// The header of every file anyray owns, so a reader knows where it came from.
pub(crate) const HEADER: &str =
    "Managed by anyray: `anyray connect` writes this file and `anyray disconnect` removes it.";

/// An env file to write: its syntax, full path and contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvFile {
    pub syntax: Syntax,
    pub path: PathBuf,
    pub contents: String,
}

/// The three env files for `vars`, in `dir` (anyray's config dir).
pub fn env_files(dir: &Path, vars: &[EnvVar]) -> Vec<EnvFile> {
    Syntax::ALL
        .into_iter()
        .map(|syntax| EnvFile {
            syntax,
            path: dir.join(syntax.file_name()),
            contents: render_env_file(syntax, vars),
        })
        .collect()
}

/// An env file: the header comment, then one assignment per variable.
///
/// `env.ps1` starts with a UTF-8 byte order mark: Windows PowerShell 5.1 reads a script
/// without one in the legacy ANSI code page, which would garble non-ASCII values.
pub fn render_env_file(syntax: Syntax, vars: &[EnvVar]) -> String {
    let bom = if syntax == Syntax::PowerShell {
        "\u{feff}"
    } else {
        ""
    };
    format!(
        "{bom}# {HEADER}\n# Edits here are overwritten; change the gateway with `anyray connect --gateway URL`.\n{}",
        assignments(syntax, vars)
    )
}

fn assignments(syntax: Syntax, vars: &[EnvVar]) -> String {
    vars.iter()
        .map(|var| syntax.assignment(var) + "\n")
        .collect()
}

/// What `anyray env --shell FORMAT` prints for `vars`:
/// - `bash`/`zsh`: `export NAME='value'` lines, for `eval "$(anyray env)"`;
/// - `fish`: `set -gx NAME 'value'`, for `anyray env --shell fish | source`;
/// - `pwsh`: `$env:NAME = 'value'`, for `anyray env --shell pwsh | Out-String | Invoke-Expression`;
/// - `dotenv`: `NAME=value` as docker compose and python-dotenv read it (see [`dotenv_value`]);
/// - `github`: lines for `$GITHUB_ENV` (see [`github_env_line`]).
pub(crate) fn exports(format: EnvFormat, vars: &[EnvVar]) -> String {
    match format {
        EnvFormat::Bash | EnvFormat::Zsh => assignments(Syntax::Posix, vars),
        EnvFormat::Fish => assignments(Syntax::Fish, vars),
        EnvFormat::Pwsh => assignments(Syntax::PowerShell, vars),
        EnvFormat::Dotenv => vars
            .iter()
            .map(|v| format!("{}={}\n", v.name, dotenv_value(&v.value)))
            .collect(),
        EnvFormat::Github => vars.iter().map(github_env_line).collect(),
    }
}

/// The output format that suits the login shell `$SHELL` (e.g. `/usr/bin/fish`).
pub(crate) fn format_for_shell(shell: Option<&str>) -> EnvFormat {
    let name = shell
        .map(|s| s.rsplit(['/', '\\']).next().unwrap_or(s))
        .map(|s| s.strip_suffix(".exe").unwrap_or(s));
    match name {
        Some("zsh") => EnvFormat::Zsh,
        Some("fish") => EnvFormat::Fish,
        Some("pwsh" | "powershell") => EnvFormat::Pwsh,
        _ => EnvFormat::Bash,
    }
}

/// POSIX single quotes: nothing inside is special except `'`, written as `'\''`
/// (close the quote, an escaped quote, reopen).
pub(crate) fn quote_posix(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// The value an `env.sh` we wrote exports for `name` (the inverse of [`quote_posix`]), so
/// `status` can say what a new terminal will get.
pub(crate) fn exported_value(env_sh: &str, name: &str) -> Option<String> {
    let prefix = format!("export {name}=");
    let quoted = env_sh.lines().find_map(|line| line.strip_prefix(&prefix))?;
    let inner = quoted.strip_prefix('\'')?.strip_suffix('\'')?;
    Some(inner.replace(r"'\''", "'"))
}

/// fish single quotes: only `\` and `'` are special inside, each escaped with `\`.
pub(crate) fn quote_fish(value: &str) -> String {
    format!("'{}'", value.replace('\\', r"\\").replace('\'', r"\'"))
}

/// PowerShell single quotes (a verbatim string): a quote is written twice. PowerShell
/// also treats the typographic quotes U+2018..U+201B as single quotes, so those are
/// doubled too.
pub(crate) fn quote_powershell(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}') {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// A dotenv value: bare when it only has characters no dotenv dialect treats specially,
/// single-quoted (literal, no interpolation) otherwise, and double-quoted with `\\`,
/// `\"`, `\n` and `\r` escapes when it contains a `'` or a line break, which single
/// quotes cannot hold. (In that last case a `$` may still be expanded by dialects that
/// interpolate inside double quotes; gateway URLs never need it.)
pub(crate) fn dotenv_value(value: &str) -> String {
    let bare = |c: char| c.is_ascii_alphanumeric() || "_-.,:/@+=%~".contains(c);
    if !value.is_empty() && value.chars().all(bare) {
        value.to_string()
    } else if !value.contains(['\'', '\n', '\r']) {
        format!("'{value}'")
    } else {
        let escaped = value
            .replace('\\', r"\\")
            .replace('"', r#"\""#)
            .replace('\n', r"\n")
            .replace('\r', r"\r");
        format!("\"{escaped}\"")
    }
}

/// One `$GITHUB_ENV` entry. The runner takes `NAME=value` literally up to the line end,
/// so no quoting; a value with a line break uses the `NAME<<DELIM` heredoc form with a
/// delimiter that is not a line of the value.
pub(crate) fn github_env_line(var: &EnvVar) -> String {
    if !var.value.contains(['\n', '\r']) {
        return format!("{}={}\n", var.name, var.value);
    }
    let delimiter = (0..)
        .map(|n| format!("ANYRAY_EOF_{n}"))
        .find(|d| !var.value.lines().any(|line| line == d))
        .expect("a value has finitely many lines");
    format!("{}<<{delimiter}\n{}\n{delimiter}\n", var.name, var.value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Vec<EnvVar> {
        vec![
            EnvVar::new("OPENAI_BASE_URL", "https://gw.example/v1"),
            EnvVar::new("ANTHROPIC_BASE_URL", "https://gw.example/it's $HOME"),
        ]
    }

    #[test]
    fn exported_value_reads_back_what_env_sh_exports() {
        let text = render_env_file(Syntax::Posix, &vars());
        assert_eq!(
            exported_value(&text, "OPENAI_BASE_URL").as_deref(),
            Some("https://gw.example/v1")
        );
        assert_eq!(
            exported_value(&text, "ANTHROPIC_BASE_URL").as_deref(),
            Some("https://gw.example/it's $HOME")
        );
        assert_eq!(exported_value(&text, "GOOGLE_GEMINI_BASE_URL"), None);
    }

    #[test]
    fn sets_finds_each_syntaxs_assignment_and_nothing_else() {
        let vars = [EnvVar::new("COPILOT_MODEL", "gpt-4o-mini")];
        for syntax in Syntax::ALL {
            let file = render_env_file(syntax, &vars);
            assert!(syntax.sets(&file, "COPILOT_MODEL"), "{file}");
            assert!(
                !syntax.sets(&file, "COPILOT"),
                "a prefix of a name is not the name"
            );
            assert!(!syntax.sets(&file, "OPENAI_BASE_URL"));
        }
    }

    #[test]
    fn posix_quoting() {
        assert_eq!(quote_posix("plain"), "'plain'");
        assert_eq!(quote_posix(""), "''");
        assert_eq!(quote_posix("it's"), r"'it'\''s'");
        assert_eq!(quote_posix(r#"$x `y` "z" \n"#), r#"'$x `y` "z" \n'"#);
    }

    #[test]
    fn fish_quoting() {
        assert_eq!(quote_fish("it's"), r"'it\'s'");
        assert_eq!(quote_fish(r"a\b"), r"'a\\b'");
        assert_eq!(quote_fish(r"\'"), r"'\\\''");
        assert_eq!(quote_fish("$x (y) *"), "'$x (y) *'");
    }

    #[test]
    fn powershell_quoting_doubles_every_single_quote_kind() {
        assert_eq!(quote_powershell("it's"), "'it''s'");
        assert_eq!(quote_powershell("a\u{2019}b"), "'a\u{2019}\u{2019}b'");
        assert_eq!(quote_powershell("$env:X `n"), "'$env:X `n'");
    }

    #[test]
    fn env_files_have_a_header_and_one_assignment_per_variable() {
        let sh = render_env_file(Syntax::Posix, &vars());
        assert_eq!(
            sh,
            format!(
                "# {HEADER}\n# Edits here are overwritten; change the gateway with `anyray connect --gateway URL`.\n\
                 export OPENAI_BASE_URL='https://gw.example/v1'\n\
                 export ANTHROPIC_BASE_URL='https://gw.example/it'\\''s $HOME'\n"
            )
        );
        let fish = render_env_file(Syntax::Fish, &vars());
        assert!(fish.ends_with("set -gx ANTHROPIC_BASE_URL 'https://gw.example/it\\'s $HOME'\n"));
        let ps1 = render_env_file(Syntax::PowerShell, &vars());
        assert!(ps1.starts_with("\u{feff}# Managed by anyray"));
        assert!(ps1.ends_with("$env:ANTHROPIC_BASE_URL = 'https://gw.example/it''s $HOME'\n"));

        let files = env_files(Path::new("/cfg"), &vars());
        let names: Vec<_> = files.iter().map(|f| f.path.clone()).collect();
        assert_eq!(
            names,
            [
                Path::new("/cfg/env.sh"),
                Path::new("/cfg/env.fish"),
                Path::new("/cfg/env.ps1")
            ]
        );
    }

    #[test]
    fn export_formats() {
        let v = vars();
        assert_eq!(
            exports(EnvFormat::Bash, &v),
            exports(EnvFormat::Zsh, &v),
            "zsh reads the same syntax"
        );
        assert_eq!(
            exports(EnvFormat::Pwsh, &v[..1]),
            "$env:OPENAI_BASE_URL = 'https://gw.example/v1'\n"
        );
        assert_eq!(
            exports(EnvFormat::Dotenv, &v),
            "OPENAI_BASE_URL=https://gw.example/v1\nANTHROPIC_BASE_URL=\"https://gw.example/it's $HOME\"\n"
        );
        assert_eq!(
            exports(EnvFormat::Github, &v),
            "OPENAI_BASE_URL=https://gw.example/v1\nANTHROPIC_BASE_URL=https://gw.example/it's $HOME\n"
        );
    }

    #[test]
    fn dotenv_quotes_only_when_needed() {
        assert_eq!(dotenv_value("127.0.0.1,localhost"), "127.0.0.1,localhost");
        assert_eq!(dotenv_value(""), "''");
        assert_eq!(dotenv_value("a b#c$d"), "'a b#c$d'");
        assert_eq!(dotenv_value("it's\n\"x\"\\"), r#""it's\n\"x\"\\""#);
    }

    #[test]
    fn github_uses_a_heredoc_for_line_breaks() {
        let var = EnvVar::new("X", "a\nANYRAY_EOF_0\nb");
        assert_eq!(
            github_env_line(&var),
            "X<<ANYRAY_EOF_1\na\nANYRAY_EOF_0\nb\nANYRAY_EOF_1\n"
        );
    }

    #[test]
    fn format_follows_the_login_shell() {
        assert_eq!(format_for_shell(Some("/usr/bin/fish")), EnvFormat::Fish);
        assert_eq!(format_for_shell(Some("/bin/zsh")), EnvFormat::Zsh);
        assert_eq!(
            format_for_shell(Some(r"C:\Program Files\PowerShell\7\pwsh.exe")),
            EnvFormat::Pwsh
        );
        assert_eq!(format_for_shell(Some("/bin/bash")), EnvFormat::Bash);
        assert_eq!(format_for_shell(Some("/bin/tcsh")), EnvFormat::Bash);
        assert_eq!(format_for_shell(None), EnvFormat::Bash);
    }
}
