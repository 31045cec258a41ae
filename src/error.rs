//! Errors that carry an exit code and a hint, so `?` can unwind through
//! destructors (locks, temp files) and `main` maps the result once.

use std::fmt;

/// The documented, stable exit codes (README "Exit codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

    pub fn unsafe_change(message: impl Into<String>) -> Self {
        Self::new(ExitStatus::Unsafe, message)
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UserError {}

/// Ends the program with a status after the command already printed its output
/// (e.g. `doctor` found a failing check). Nothing more is printed.
#[derive(Debug)]
pub struct SilentExit(pub ExitStatus);

impl fmt::Display for SilentExit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "exit {}", self.0.code())
    }
}

impl std::error::Error for SilentExit {}

pub type Result<T, E = anyhow::Error> = std::result::Result<T, E>;

/// The status and hint for any error: the first `UserError` in the cause chain decides;
/// anything else is an unexpected failure (1).
pub fn classify(err: &anyhow::Error) -> (ExitStatus, Option<&str>) {
    for cause in err.chain() {
        if let Some(user) = cause.downcast_ref::<UserError>() {
            return (user.status, user.hint.as_deref());
        }
        if let Some(SilentExit(status)) = cause.downcast_ref::<SilentExit>() {
            return (*status, None);
        }
    }
    if err
        .chain()
        .filter_map(|c| c.downcast_ref::<std::io::Error>())
        .any(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    {
        return (ExitStatus::Ok, None);
    }
    (ExitStatus::Problem, None)
}

/// The position of a parse error as 1-based line and column, from a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
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
        assert_eq!(classify(&err), (ExitStatus::Usage, Some("fix it")));
        let plain = anyhow::anyhow!("boom");
        assert_eq!(classify(&plain).0, ExitStatus::Problem);
    }
}
