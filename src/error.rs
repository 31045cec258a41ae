//! Errors that carry an exit code and a hint, so `?` can unwind through
//! destructors (locks, temp files) and `main` maps the result once.

use std::fmt;

/// The documented, stable exit codes (README "Exit codes"), ordered by severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExitStatus {
    Ok = 0,
    /// A check found a problem (drift, a failing doctor check), or an operation failed.
    Problem = 1,
    /// Usage or configuration error.
    Usage = 2,
    /// A file could not be changed safely; it was left untouched.
    Unsafe = 3,
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// As its number, the way `--json` documents it.
impl serde::Serialize for ExitStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(self.code())
    }
}

/// An error the user can act on: what happened, the exit status, and what to do next.
#[derive(Debug)]
pub struct UserError {
    pub status: ExitStatus,
    pub message: String,
    pub hint: Option<String>,
}

impl UserError {
    pub fn new(status: ExitStatus, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            hint: None,
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(ExitStatus::Usage, message)
    }

    pub fn problem(message: impl Into<String>) -> Self {
        Self::new(ExitStatus::Problem, message)
    }

    pub(crate) fn unsafe_change(message: impl Into<String>) -> Self {
        Self::new(ExitStatus::Unsafe, message)
    }

    pub(crate) fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// This error, printed as usual, but exiting with `code` (e.g. 127 for a missing command).
    pub(crate) fn into_code(self, code: u8) -> anyhow::Error {
        anyhow::Error::new(CodedError { code, error: self })
    }
}

/// A `UserError` that exits with a code outside the documented four (`anyray run`
/// mirrors the shell: 126, 127).
#[derive(Debug)]
pub(crate) struct CodedError {
    pub code: u8,
    pub error: UserError,
}

impl fmt::Display for CodedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for CodedError {}

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UserError {}

/// Ends the program with a status after the command already printed its output
/// (e.g. `doctor` found a failing check). Nothing more is printed.
#[derive(Debug)]
pub(crate) struct SilentExit(pub ExitStatus);

impl fmt::Display for SilentExit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "exit {}", self.0.code())
    }
}

impl std::error::Error for SilentExit {}

/// Ends the program with a child process's exit code (`anyray run`), printing nothing.
#[derive(Debug)]
pub(crate) struct ChildExit(pub u8);

impl fmt::Display for ChildExit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the command exited with {}", self.0)
    }
}

impl std::error::Error for ChildExit {}

pub type Result<T, E = anyhow::Error> = std::result::Result<T, E>;

/// How `main` ends for an error.
#[derive(Debug, PartialEq, Eq)]
pub struct Outcome<'a> {
    pub code: u8,
    /// Which of the documented statuses it is (`code` can be another number for
    /// `anyray run`, which passes on its command's).
    pub status: ExitStatus,
    pub hint: Option<&'a str>,
    /// The command already said everything (or there is nothing to say).
    pub silent: bool,
}

/// The exit code and hint for any error: the first `UserError`, `SilentExit` or
/// `ChildExit` in the cause chain decides; a broken pipe ends quietly with 0;
/// anything else is an unexpected failure (1).
pub fn classify(err: &anyhow::Error) -> Outcome<'_> {
    for cause in err.chain() {
        if let Some(coded) = cause.downcast_ref::<CodedError>() {
            return Outcome {
                code: coded.code,
                status: coded.error.status,
                hint: coded.error.hint.as_deref(),
                silent: false,
            };
        }
        if let Some(user) = cause.downcast_ref::<UserError>() {
            return Outcome {
                code: user.status.code(),
                status: user.status,
                hint: user.hint.as_deref(),
                silent: false,
            };
        }
        if let Some(&SilentExit(status)) = cause.downcast_ref::<SilentExit>() {
            return Outcome {
                code: status.code(),
                status,
                hint: None,
                silent: true,
            };
        }
        if let Some(ChildExit(code)) = cause.downcast_ref::<ChildExit>() {
            return Outcome {
                code: *code,
                status: ExitStatus::Problem,
                hint: None,
                silent: true,
            };
        }
        if cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
        {
            return Outcome {
                code: ExitStatus::Ok.code(),
                status: ExitStatus::Ok,
                hint: None,
                silent: true,
            };
        }
    }
    Outcome {
        code: ExitStatus::Problem.code(),
        status: ExitStatus::Problem,
        hint: None,
        silent: false,
    }
}

/// The position of a parse error as 1-based line and column, from a byte offset.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one() {
        assert_eq!(line_col("ab\ncd", 0), (1, 1));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("ab\n", 3), (2, 1));
    }

    #[test]
    fn classify_finds_user_error_in_chain() {
        let err = anyhow::Error::new(UserError::usage("bad").with_hint("fix it")).context("outer");
        assert_eq!(
            classify(&err),
            Outcome {
                code: 2,
                status: ExitStatus::Usage,
                hint: Some("fix it"),
                silent: false
            }
        );
        let plain = anyhow::anyhow!("boom");
        assert_eq!(classify(&plain).code, 1);
        assert_eq!(
            classify(&anyhow::Error::new(ChildExit(130))),
            Outcome {
                code: 130,
                status: ExitStatus::Problem,
                hint: None,
                silent: true
            }
        );
        let pipe = anyhow::Error::new(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert!(classify(&pipe).silent);
    }
}
