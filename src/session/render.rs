//! Human output for `connect`, `disconnect` and `status`. `--json` prints the same report
//! structs instead, so the two cannot disagree. Colour only through the [`Printer`].

use super::status::State;
use super::{ConnectReport, DisconnectReport, ErrorReport, StatusReport};
use crate::output::{Printer, Style};
use crate::paths::display_path;

/// A unified diff with `+`/`-`/`@@` lines coloured.
pub(crate) fn diff(p: &Printer, text: &str) {
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        let styled = if line.starts_with("+++") || line.starts_with("---") {
            p.paint(Style::Bold, line)
        } else if line.starts_with('+') {
            p.paint(Style::Added, line)
        } else if line.starts_with('-') {
            p.paint(Style::Removed, line)
        } else if line.starts_with("@@") {
            p.paint(Style::Header, line)
        } else {
            line.to_string()
        };
        p.line(styled);
    }
}

fn errors<'a>(p: &Printer, errors: impl Iterator<Item = &'a ErrorReport>) {
    for e in errors {
        p.error(e.code.code(), &e.message, e.hint.as_deref());
    }
}

/// Pads `cells` into aligned columns (the last one is not padded).
fn table(rows: &[Vec<String>]) -> Vec<String> {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    rows.iter()
        .map(|row| {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                if i + 1 == row.len() {
                    line.push_str(cell);
                } else {
                    line.push_str(&format!("{cell:<w$}  ", w = widths[i]));
                }
            }
            line.trim_end().to_string()
        })
        .collect()
}

pub(crate) fn connect(p: &Printer, report: &ConnectReport) {
    if report.dry_run {
        for target in &report.targets {
            for file in &target.files {
                if let Some(text) = &file.diff {
                    diff(p, text);
                }
            }
        }
    }
    p.line(format!(
        "{} {} ({}):",
        if report.dry_run {
            "Would point tools at"
        } else {
            "Pointing tools at"
        },
        p.paint(Style::Bold, &report.endpoint),
        report.via.as_str()
    ));
    let rows: Vec<Vec<String>> = report
        .targets
        .iter()
        .map(|t| {
            let detail = match (&t.reason, &t.error) {
                (Some(reason), _) => reason.clone(),
                (_, Some(_)) => "see the error below".into(),
                _ => t
                    .files
                    .iter()
                    .map(|f| display_path(&f.path))
                    .collect::<Vec<_>>()
                    .join(", "),
            };
            vec![format!("  {}", t.target), t.outcome.label().into(), detail]
        })
        .collect();
    for line in table(&rows) {
        p.line(line);
    }
    for t in &report.targets {
        for note in &t.notes {
            p.line(format!(
                "  {} {}: {note}",
                p.paint(Style::Dim, "note"),
                t.target
            ));
        }
    }
    errors(p, report.targets.iter().filter_map(|t| t.error.as_ref()));
}

pub(crate) fn disconnect(p: &Printer, report: &DisconnectReport) {
    if report.dry_run {
        for target in &report.targets {
            for file in &target.files {
                if let Some(text) = &file.diff {
                    diff(p, text);
                }
            }
        }
    }
    if report.targets.is_empty() {
        p.line("Nothing to disconnect: anyray has not changed any file.");
    }
    let rows: Vec<Vec<String>> = report
        .targets
        .iter()
        .map(|t| {
            let files = t
                .files
                .iter()
                .map(|f| display_path(&f.path))
                .collect::<Vec<_>>()
                .join(", ");
            vec![format!("  {}", t.target), t.outcome.label().into(), files]
        })
        .collect();
    for line in table(&rows) {
        p.line(line);
    }
    for file in report.targets.iter().flat_map(|t| &t.files) {
        for removed in &file.removed_tables {
            p.warn(format!(
                "{}: removed [{}] whole: it held only your keys ({}) and the tool cannot load it \
                 without anyray's{}",
                display_path(&file.path),
                removed.table,
                removed.keys.join(", "),
                removed
                    .backup
                    .as_ref()
                    .map_or_else(String::new, |b| format!(
                        "; the file before is at {}",
                        display_path(b)
                    ))
            ));
        }
        if let Some(backup) = &file.backup {
            p.line(format!(
                "  {} {} is gone (deleted since `connect`); the backup of its original is kept at {}",
                p.paint(Style::Dim, "note"),
                display_path(&file.path),
                display_path(backup)
            ));
        }
    }
    errors(p, report.targets.iter().filter_map(|t| t.error.as_ref()));
}

/// `gateway`: what `status` could tell about the org gateway within its budget.
pub(crate) fn status(p: &Printer, report: &StatusReport, gateway: Option<&str>) {
    let gateway = gateway.map(|g| format!(" · {g}")).unwrap_or_default();
    p.line(format!(
        "Gateway for tools: {} ({}){gateway}",
        p.paint(Style::Bold, &report.endpoint),
        report.via.as_str()
    ));
    let mut rows = vec![vec![
        "TARGET".to_string(),
        "INSTALLED".into(),
        "STATE".into(),
        "ENDPOINT".into(),
        "FILE".into(),
    ]];
    for t in &report.targets {
        rows.push(vec![
            t.target.to_string(),
            if t.installed { "yes" } else { "no" }.into(),
            t.state.label().into(),
            t.endpoint.clone().unwrap_or_else(|| "-".into()),
            t.files
                .iter()
                .map(|f| display_path(&f.path))
                .collect::<Vec<_>>()
                .join(", "),
        ]);
    }
    let lines = table(&rows);
    for (i, line) in lines.into_iter().enumerate() {
        let state = i.checked_sub(1).map(|t| report.targets[t].state);
        // Colour the whole row by state; the header is bold.
        let style = match state {
            None => Style::Bold,
            Some(State::Connected) => Style::Ok,
            Some(State::NotConnected) => Style::Dim,
            Some(_) => Style::Warn,
        };
        p.line(p.paint(style, &line));
    }
    for t in &report.targets {
        if let Some(path) = &t.overridden_by {
            p.line(format!(
                "  {}: {} sets the endpoint and overrides your settings; anyray never edits it",
                t.target,
                display_path(path)
            ));
        }
        if let Some(error) = &t.error {
            p.line(format!("  {}: {error}", t.target));
        }
        for note in &t.notes {
            p.line(format!(
                "  {} {}: {note}",
                p.paint(Style::Dim, "note"),
                t.target
            ));
        }
    }
    for tool in report.not_configurable.iter().filter(|t| t.installed) {
        p.line(format!(
            "  {} {}: not configurable from a file: {}",
            p.paint(Style::Dim, "note"),
            tool.tool,
            tool.reason
        ));
    }
}
