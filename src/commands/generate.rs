//! `anyray generate --out DIR` (hidden): writes the completion scripts and man pages that
//! are committed under `completions/` and `man/`. The freshness test renders the same
//! files in memory and fails when the committed ones are stale.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use clap::CommandFactory;

use super::Context;
use crate::cli::{Cli, CompletionShell, GenerateArgs};
use crate::docs;

/// The command that regenerates the committed files.
pub const REGENERATE: &str = "cargo run -- generate --out .";

pub fn run(args: &GenerateArgs, ctx: &Context) -> Result<()> {
    for (rel, bytes) in render_all() {
        let path = args.out.join(&rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
        ctx.printer.line(format!("wrote {}", path.display()));
    }
    Ok(())
}

/// Every generated file: its path relative to the repository root and its bytes.
pub fn render_all() -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    for (shell, name) in [
        (CompletionShell::Bash, "anyray.bash"),
        (CompletionShell::Zsh, "_anyray"),
        (CompletionShell::Fish, "anyray.fish"),
        (CompletionShell::Powershell, "_anyray.ps1"),
        (CompletionShell::Elvish, "anyray.elv"),
    ] {
        let mut out = Vec::new();
        super::completions::render(shell, &mut out);
        files.push((Path::new("completions").join(name), out));
    }
    let mut root = Cli::command().disable_help_subcommand(true);
    root.build();
    files.push((PathBuf::from("man/anyray.1"), man_page(root.clone(), "")));
    for sub in root.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = sub.get_name().to_string();
        let page = sub
            .clone()
            .name(format!("anyray-{name}"))
            .bin_name(format!("anyray {name}"));
        files.push((
            PathBuf::from(format!("man/anyray-{name}.1")),
            man_page(page, &name),
        ));
    }
    files
}

/// One man page: clap_mangen's sections plus EXAMPLES, FILES, ENVIRONMENT and EXIT STATUS.
fn man_page(cmd: clap::Command, page: &str) -> Vec<u8> {
    let man = clap_mangen::Man::new(cmd.clone())
        .date(docs::MAN_DATE)
        .manual("anyray manual")
        .source(concat!("anyray ", env!("CARGO_PKG_VERSION")));
    let mut out = Vec::new();
    let write = |out: &mut Vec<u8>| -> std::io::Result<()> {
        man.render_title(out)?;
        man.render_name_section(out)?;
        man.render_synopsis_section(out)?;
        man.render_description_section(out)?;
        if cmd.get_arguments().any(|a| !a.is_hide_set()) {
            man.render_options_section(out)?;
        }
        if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
            man.render_subcommands_section(out)?;
        }
        out.extend_from_slice(extra_sections(page).as_bytes());
        man.render_version_section(out)
    };
    write(&mut out).expect("writing to a Vec cannot fail");
    // clap_mangen separates a flag's help from its value list with `.br`, a blank line
    // and `.br`; mandoc -Tlint warns about that, and `.sp` renders the same.
    String::from_utf8(out)
        .expect("roff is UTF-8")
        .replace(".br\n\n.br\n", ".sp\n")
        .into_bytes()
}

fn extra_sections(page: &str) -> String {
    let mut roff = String::new();
    let examples = docs::examples(page);
    if !examples.is_empty() {
        roff.push_str(".SH EXAMPLES\n");
        for (command, what) in examples {
            roff.push_str(&format!(".TP\n.B {}\n{}\n", escape(command), escape(what)));
        }
    }
    if page == "connect" {
        roff.push_str(".SH \"GATEWAY CHECK\"\n");
        roff.push_str(&escape(docs::CONNECT_PREFLIGHT));
        roff.push('\n');
    }
    if page == "config" {
        roff.push_str(".SH SETTINGS\n");
        for spec in crate::config_file::KEYS {
            let what = format!("{}{}", spec.help, spec.origins());
            roff.push_str(&format!(
                ".TP\n.B {}\n{}\n",
                escape(spec.key),
                escape(&what)
            ));
        }
    }
    roff.push_str(".SH FILES\n");
    for (path, what) in docs::FILES {
        roff.push_str(&format!(".TP\n.I {}\n{}\n", escape(path), escape(what)));
    }
    roff.push_str(".SH ENVIRONMENT\n");
    for (var, what) in docs::ENVIRONMENT {
        roff.push_str(&format!(".TP\n.B {}\n{}\n", escape(var), escape(what)));
    }
    roff.push_str(".SH \"EXIT STATUS\"\n");
    for (code, what) in docs::EXIT_STATUS {
        roff.push_str(&format!(".TP\n.B {code}\n{}\n", escape(what)));
    }
    roff
}

/// Escapes text for roff: backslashes, leading dots/quotes and hyphens (so they render as
/// ASCII minus signs that copy-paste correctly).
fn escape(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with('.') || escaped.starts_with('\'') {
        format!("\\&{escaped}")
    } else if escaped.contains(' ') && !escaped.starts_with('"') {
        escaped.replace('"', "\\(dq")
    } else {
        escaped
    }
}
