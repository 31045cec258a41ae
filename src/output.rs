//! The one printer: it knows about `--json`, `--quiet` and colour, so commands never
//! decide those on their own. The only module that writes to stdout and stderr itself
//! (the workspace lints deny `print!` and `eprint!` elsewhere).
#![allow(clippy::print_stderr)]

use std::io::{IsTerminal, Write};

use serde::Serialize;

use crate::envvars;

/// When to colour output (`--color`): `auto` honours `NO_COLOR` and colours a terminal only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Ok,
    Warn,
    Fail,
    Dim,
    Bold,
    Added,
    Removed,
    Header,
}

impl Style {
    fn code(self) -> &'static str {
        match self {
            Style::Ok | Style::Added => "32",
            Style::Warn => "33",
            Style::Fail | Style::Removed => "31",
            Style::Dim => "2",
            Style::Bold => "1",
            Style::Header => "36",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Printer {
    pub json: bool,
    pub quiet: bool,
    color: bool,
    stderr_color: bool,
}

impl Printer {
    pub fn new(json: bool, quiet: bool, choice: ColorChoice) -> Self {
        let allowed = |is_tty: bool| match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                is_tty
                    && envvars::get(envvars::NO_COLOR).is_none()
                    && std::env::var("TERM").map_or(true, |t| t != "dumb")
            }
        };
        Self {
            json,
            quiet,
            color: allowed(std::io::stdout().is_terminal()),
            stderr_color: allowed(std::io::stderr().is_terminal()),
        }
    }

    /// A printer for tests: plain text, no colour.
    #[cfg(test)]
    pub(crate) fn plain() -> Self {
        Self {
            json: false,
            quiet: false,
            color: false,
            stderr_color: false,
        }
    }

    /// Whether stdout and stdin are an interactive terminal (prompts, spinners).
    pub fn interactive(&self) -> bool {
        !self.json && std::io::stdout().is_terminal() && std::io::stdin().is_terminal()
    }

    /// Whether human progress (spinners) may go to stderr.
    pub fn progress(&self) -> bool {
        !self.json && !self.quiet && std::io::stderr().is_terminal()
    }

    /// This printer with colour on stdout decided by the caller: a status line goes to
    /// a pipe that Claude Code renders with ANSI colours.
    pub fn with_color(self, color: bool) -> Self {
        Self { color, ..self }
    }

    /// `text` in `style` when colour is on for stdout.
    pub fn paint(&self, style: Style, text: &str) -> String {
        paint(self.color, style, text)
    }

    /// A line of human output on stdout; nothing in JSON or quiet mode.
    pub fn line(&self, text: impl AsRef<str>) {
        if !self.json && !self.quiet {
            let _ = writeln!(std::io::stdout().lock(), "{}", text.as_ref());
        }
    }

    /// Human output that must appear even with `--quiet` (e.g. `env` exports, `config get`).
    pub fn data(&self, text: impl AsRef<str>) {
        if !self.json {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(text.as_ref().as_bytes());
            let _ = out.flush();
        }
    }

    /// A warning on stderr (also in JSON mode: stdout stays a single JSON document).
    pub fn warn(&self, text: impl AsRef<str>) {
        if !self.quiet {
            let label = paint(self.stderr_color, Style::Warn, "warning:");
            let _line = status_line_cleared();
            eprintln!("{label} {}", text.as_ref());
        }
    }

    /// What the user must read to go on (a code to enter, a page to open) while the
    /// command waits: on stderr, so stdout stays the result; also with `--quiet` and
    /// `--json`.
    pub fn instruct(&self, text: impl AsRef<str>) {
        eprintln!("{}", text.as_ref());
    }

    /// The command's JSON document on stdout.
    pub fn json<T: Serialize + ?Sized>(&self, value: &T) -> anyhow::Result<()> {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut out, value)?;
        writeln!(out)?;
        Ok(())
    }

    /// An error, in the mode's format: JSON on stdout, or `error: …` and `hint: …` on stderr.
    pub fn error(&self, code: u8, message: &str, hint: Option<&str>) {
        if self.json {
            let doc = serde_json::json!({
                "error": { "code": code, "message": message, "hint": hint }
            });
            let _ = self.json(&doc);
            return;
        }
        let label = paint(self.stderr_color, Style::Fail, "error:");
        eprintln!("{label} {message}");
        if let Some(hint) = hint {
            let label = paint(self.stderr_color, Style::Bold, "hint:");
            eprintln!("  {label} {hint}");
        }
    }
}

fn paint(on: bool, style: Style, text: &str) -> String {
    if on {
        format!("\x1b[{}m{text}\x1b[0m", style.code())
    } else {
        text.to_string()
    }
}

/// Whether a one-line status (a spinner) is drawn on stderr now. The lock also orders
/// the spinner's frames and the warnings: a warning erases the line first (the spinner
/// redraws it on its next frame), so the two never share a line.
static STATUS_LINE: std::sync::Mutex<bool> = std::sync::Mutex::new(false);

/// Draws (or redraws) the status line on stderr.
pub(crate) fn draw_status_line(text: &str) {
    let mut drawn = STATUS_LINE.lock().unwrap_or_else(|e| e.into_inner());
    let mut stderr = std::io::stderr().lock();
    let _ = write!(stderr, "\r\x1b[2K{text}");
    let _ = stderr.flush();
    *drawn = true;
}

/// Erases the status line, if one is drawn, and holds stderr until the guard drops.
pub(crate) fn status_line_cleared() -> std::sync::MutexGuard<'static, bool> {
    let mut drawn = STATUS_LINE.lock().unwrap_or_else(|e| e.into_inner());
    if *drawn {
        let mut stderr = std::io::stderr().lock();
        let _ = write!(stderr, "\r\x1b[2K");
        let _ = stderr.flush();
        *drawn = false;
    }
    drawn
}
