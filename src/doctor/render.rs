//! The human view of a [`Report`] (the JSON view is its serde form), and the spinner
//! shown while checks run.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use super::{Level, Report};
use crate::output::{Printer, Style};

fn mark(level: Level) -> (&'static str, Style) {
    match level {
        Level::Ok => ("✓", Style::Ok),
        Level::Warn => ("!", Style::Warn),
        Level::Fail => ("✗", Style::Fail),
        Level::Skip => ("-", Style::Dim),
    }
}

/// The report as lines: a header, one line per check with its time, then the problems
/// numbered with their hints, and the counts.
pub(crate) fn human(report: &Report, printer: &Printer) -> Vec<String> {
    let mut lines = vec![format!(
        "{} {} · gateway {}",
        printer.paint(Style::Bold, "anyray doctor"),
        report.version,
        report
            .gateway
            .as_deref()
            .unwrap_or("(invalid configuration)")
    )];
    lines.push(String::new());
    let width = report
        .checks
        .iter()
        .map(|c| c.id.as_str().len())
        .max()
        .unwrap_or(0);
    for check in &report.checks {
        let (symbol, style) = mark(check.level);
        // Padded before painting: escape codes must not count toward the width.
        let time = if check.level == Level::Skip {
            format!("{:>7}", "")
        } else {
            format!("{:>7}", format!("{} ms", check.elapsed_ms))
        };
        lines.push(format!(
            "  {} {:<width$}  {}  {}",
            printer.paint(style, symbol),
            check.id,
            printer.paint(Style::Dim, &time),
            check.summary,
        ));
    }
    let problems: Vec<_> = report
        .checks
        .iter()
        .filter(|c| c.level.is_problem())
        .collect();
    lines.push(String::new());
    if problems.is_empty() {
        lines.push("No problems found.".into());
    } else {
        lines.push(printer.paint(
            Style::Bold,
            &format!(
                "{} problem{}:",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" }
            ),
        ));
        for (n, check) in problems.iter().enumerate() {
            let (symbol, style) = mark(check.level);
            lines.push(format!(
                "  {}. {} {}: {}",
                n + 1,
                printer.paint(style, symbol),
                check.id,
                check.summary
            ));
            let indent = " ".repeat(format!("  {}. ", n + 1).len());
            for line in check.detail.iter().flat_map(|d| d.lines()) {
                lines.push(format!("{indent}{}", printer.paint(Style::Dim, line)));
            }
            if let Some(hint) = &check.hint {
                lines.push(format!(
                    "{indent}{} {hint}",
                    printer.paint(Style::Bold, "hint:")
                ));
            }
        }
    }
    let s = &report.summary;
    lines.push(String::new());
    lines.push(format!(
        "{} ok, {} warning{}, {} failed, {} skipped",
        s.ok,
        s.warn,
        if s.warn == 1 { "" } else { "s" },
        s.fail,
        s.skip
    ));
    lines
}

/// A one-line spinner on stderr with a count of finished checks. Only for a terminal
/// (the caller asks `Printer::progress()`); the line is erased when it stops.
pub(crate) struct Spinner {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Spinner {
    pub(crate) fn start(total: usize, finished: Arc<AtomicUsize>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            const FRAMES: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
            for frame in FRAMES.iter().cycle() {
                if flag.load(Ordering::Relaxed) {
                    break;
                }
                let done = finished.load(Ordering::Relaxed).min(total);
                crate::output::draw_status_line(&format!("{frame} checking… {done}/{total}"));
                std::thread::sleep(Duration::from_millis(80));
            }
            drop(crate::output::status_line_cleared());
        });
        Self {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{CheckId, Finding, Report};
    use super::*;

    #[test]
    fn one_line_per_check_and_numbered_problems() {
        let mut tcp = Finding::fail(CheckId::Tcp, "connection refused by 127.0.0.1:1")
            .detail("127.0.0.1:1: connection refused")
            .hint("start the gateway");
        tcp.elapsed_ms = 3;
        let mut report = Report::new(
            Some("http://127.0.0.1:1".into()),
            vec![
                Finding::ok(
                    CheckId::Config,
                    "gateway http://127.0.0.1:1 (from flag --gateway)",
                ),
                tcp,
                Finding::skip(CheckId::Tls, "skipped: net.tcp failed"),
            ],
        );
        report.version = "X.Y.Z";
        let text = human(&report, &Printer::plain()).join("\n");
        insta::assert_snapshot!(text, @r"
        anyray doctor X.Y.Z · gateway http://127.0.0.1:1

          ✓ config      0 ms  gateway http://127.0.0.1:1 (from flag --gateway)
          ✗ net.tcp     3 ms  connection refused by 127.0.0.1:1
          - net.tls           skipped: net.tcp failed

        1 problem:
          1. ✗ net.tcp: connection refused by 127.0.0.1:1
             127.0.0.1:1: connection refused
             hint: start the gateway

        1 ok, 0 warnings, 1 failed, 1 skipped
        ");
    }
}
