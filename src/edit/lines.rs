//! The two plain-text "formats" of the shell target, behind the same [`Editor`]
//! interface so the engine treats them like any other file:
//!
//! - [`LinesDoc`]: a file anyray does not own (an rc file) that gets whole marked lines.
//!   The key is the line itself; [`add_line`]/[`remove_line`] (rustup style) keep
//!   everything else byte for byte, CRLF and BOM included. Which line goes into which
//!   file is the shell's knowledge ([`crate::shell::rc`]).
//! - [`OwnedDoc`]: a file whose whole contents anyray writes (`env.sh`, the fish
//!   drop-in). The one key is [`OwnedDoc::key`]; its value is the text.

use super::{EditError, Editor, KeyPath, Scalar, Seg};

pub(crate) struct LinesDoc {
    text: String,
}

pub(crate) fn parse_lines(text: &str) -> LinesDoc {
    LinesDoc {
        text: text.to_string(),
    }
}

fn line(path: &KeyPath) -> Result<&str, EditError> {
    match path.segs() {
        [Seg::Key(line)] => Ok(line),
        _ => Err(EditError::unexpected(path, "a nested key", "a whole line")),
    }
}

impl Editor for LinesDoc {
    fn get(&self, path: &KeyPath) -> Result<Option<Scalar>, EditError> {
        let line = line(path)?;
        Ok(has_line(&self.text, line).then(|| Scalar {
            value: line.to_string(),
            raw: line.to_string(),
        }))
    }

    fn set(&mut self, path: &KeyPath, value: &str) -> Result<(), EditError> {
        debug_assert_eq!(line(path)?, value, "a line's key is the line");
        self.text = add_line(&self.text, value);
        Ok(())
    }

    fn restore(&mut self, path: &KeyPath, prior: &Scalar) -> Result<(), EditError> {
        self.set(path, &prior.value)
    }

    fn remove(&mut self, path: &KeyPath) -> Result<(), EditError> {
        self.text = remove_line(&self.text, line(path)?);
        Ok(())
    }

    fn has_container(&self, _path: &KeyPath) -> bool {
        false
    }

    fn remove_if_empty(&mut self, _path: &KeyPath) -> bool {
        false
    }

    fn render(&self) -> String {
        self.text.clone()
    }
}

pub(crate) struct OwnedDoc {
    text: String,
}

impl OwnedDoc {
    /// The single key of an owned file: its whole contents.
    pub(crate) fn key() -> KeyPath {
        KeyPath::keys(["contents"])
    }
}

pub(crate) fn parse_owned(text: &str) -> OwnedDoc {
    OwnedDoc {
        text: text.to_string(),
    }
}

impl Editor for OwnedDoc {
    fn get(&self, _path: &KeyPath) -> Result<Option<Scalar>, EditError> {
        Ok((!self.text.is_empty()).then(|| Scalar {
            value: self.text.clone(),
            raw: self.text.clone(),
        }))
    }

    fn set(&mut self, _path: &KeyPath, value: &str) -> Result<(), EditError> {
        self.text = value.to_string();
        Ok(())
    }

    fn restore(&mut self, _path: &KeyPath, prior: &Scalar) -> Result<(), EditError> {
        self.text = prior.raw.clone();
        Ok(())
    }

    fn remove(&mut self, _path: &KeyPath) -> Result<(), EditError> {
        self.text.clear();
        Ok(())
    }

    fn has_container(&self, _path: &KeyPath) -> bool {
        false
    }

    fn remove_if_empty(&mut self, _path: &KeyPath) -> bool {
        false
    }

    fn render(&self) -> String {
        self.text.clone()
    }
}

const BOM: char = '\u{feff}';

/// Whether `line` is a line of `text`.
pub(crate) fn has_line(text: &str, line: &str) -> bool {
    let body = text.strip_prefix(BOM).unwrap_or(text);
    body.split('\n')
        .any(|l| l.strip_suffix('\r').unwrap_or(l) == line)
}

/// The comment anyray puts between a user's last line that continues onto the next (a
/// trailing `\\` in POSIX shells and fish, a backtick in PowerShell) and its own line, so
/// that the shell never joins the two: joined onto the continued line it is only a
/// comment (its leading space makes it one even after `foo\\`). It goes with the line.
pub(crate) const SEPARATOR: &str = " # anyray: keeps the next line apart from the line above";

/// Whether a line continues onto the next one.
fn continues(line: &str) -> bool {
    let line = line.strip_suffix('\r').unwrap_or(line);
    line.ends_with('\\') || line.ends_with('`')
}

/// `existing` with `line` appended, unless it is already a line of it. A file in CRLF
/// gets a CRLF line; a leading byte order mark stays. A file without a final line break
/// gets one before the line, and the line is then left without one (as the file was),
/// which is what lets [`remove_line`] restore the exact original bytes. After a last line
/// that continues onto the next, [`SEPARATOR`] comes first, so that our line always
/// stands on its own (and after a last line that is the separator itself, so that
/// removing ours can never take the user's).
pub fn add_line(existing: &str, line: &str) -> String {
    if has_line(existing, line) {
        return existing.to_string();
    }
    let body = existing.strip_prefix(BOM).unwrap_or(existing);
    let eol = line_ending(body);
    let last = (!body.is_empty()).then(|| {
        let text = body.strip_suffix('\n').unwrap_or(body);
        text.rsplit('\n').next().unwrap_or(text)
    });
    let separator = match last {
        Some(last) if continues(last) || last.strip_suffix('\r').unwrap_or(last) == SEPARATOR => {
            format!("{SEPARATOR}{eol}")
        }
        _ => String::new(),
    };
    if body.is_empty() || body.ends_with('\n') {
        format!("{existing}{separator}{line}{eol}")
    } else {
        format!("{existing}{eol}{separator}{line}")
    }
}

/// `existing` without `line`: the exact inverse of [`add_line`]. Every occurrence goes,
/// with its line break and a [`SEPARATOR`] line right before it; a last line without a
/// break also takes the break before it.
pub fn remove_line(existing: &str, line: &str) -> String {
    let (bom, body) = match existing.strip_prefix(BOM) {
        Some(body) => (existing.len() - body.len(), body),
        None => (0, existing),
    };
    let content = |piece: &str| -> String {
        let l = piece.strip_suffix('\n').unwrap_or(piece);
        match piece.ends_with('\n') {
            true => l.strip_suffix('\r').unwrap_or(l).to_string(),
            false => l.to_string(),
        }
    };
    let mut out = String::with_capacity(existing.len());
    out.push_str(&existing[..bom]);
    let start = out.len();
    // Where each kept line starts in `out`, to take back a separator.
    let mut kept: Vec<usize> = Vec::new();
    for piece in body.split_inclusive('\n') {
        if content(piece) != line {
            kept.push(out.len());
            out.push_str(piece);
            continue;
        }
        if let Some(&at) = kept.last()
            && out[at..].ends_with('\n')
            && content(&out[at..]) == SEPARATOR
        {
            out.truncate(at);
            kept.pop();
        }
        if !piece.ends_with('\n') && out.len() > start && out.ends_with('\n') {
            // The unterminated last line: drop the break add_line put before it.
            out.pop();
            if out.ends_with('\r') && line_ending(&out[start..]) == "\r\n" {
                out.pop();
            }
        }
    }
    out
}

/// The file's line ending: CRLF when its first line ends in one, else LF.
fn line_ending(text: &str) -> &'static str {
    match text.find('\n') {
        Some(i) if text[..i].ends_with('\r') => "\r\n",
        _ => "\n",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = "if [ -f '/h/env.sh' ]; then . '/h/env.sh'; fi # anyray";

    #[test]
    fn add_line_cases() {
        assert_eq!(add_line("", LINE), format!("{LINE}\n"));
        assert_eq!(add_line("a\n", LINE), format!("a\n{LINE}\n"));
        assert_eq!(add_line("a", LINE), format!("a\n{LINE}"));
        assert_eq!(
            add_line("a\r\nb\r\n", LINE),
            format!("a\r\nb\r\n{LINE}\r\n")
        );
        assert_eq!(add_line("a\r\nb", LINE), format!("a\r\nb\r\n{LINE}"));
        assert_eq!(add_line("\u{feff}", LINE), format!("\u{feff}{LINE}\n"));
        assert_eq!(
            add_line("\u{feff}x\r\n", LINE),
            format!("\u{feff}x\r\n{LINE}\r\n")
        );
        let present = format!("a\n{LINE}\r\nb");
        assert_eq!(add_line(&present, LINE), present);
    }

    #[test]
    fn remove_line_cases() {
        for original in [
            "",
            "a\n",
            "a",
            "a\r\nb\r\n",
            "a\r\nb",
            "\u{feff}",
            "a\r",
            "\n\n",
        ] {
            let added = add_line(original, LINE);
            assert_ne!(added, original);
            assert_eq!(remove_line(&added, LINE), original, "{original:?}");
        }
        // After a continued line, the separator keeps ours apart, and goes with it.
        for continued in ["a \\", "a \\\n", "a`\r\n", "x\n \\"] {
            let added = add_line(continued, LINE);
            assert!(added.contains(SEPARATOR), "{added:?}");
            assert_eq!(remove_line(&added, LINE), continued, "{continued:?}");
        }
        assert_eq!(add_line("a \\", LINE), format!("a \\\n{SEPARATOR}\n{LINE}"));
        // A line in the middle (the user appended after it) goes with its break only.
        assert_eq!(remove_line(&format!("a\n{LINE}\nb\n"), LINE), "a\nb\n");
        // Only an exact line matches, not a line that merely contains it.
        let commented = format!("# {LINE}\n");
        assert_eq!(remove_line(&commented, LINE), commented);
    }

    /// Documents built from pieces that stress line handling: CR, LF, CRLF, a BOM,
    /// fragments of the line itself, and arbitrary characters.
    fn document() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let piece = prop_oneof![
            Just("\n".to_string()),
            Just("\r\n".to_string()),
            Just("\r".to_string()),
            Just("\u{feff}".to_string()),
            Just(LINE.to_string()),
            Just("# anyray".to_string()), // the shell lines' marker
            Just(SEPARATOR.to_string()),
            Just("\\".to_string()),
            Just("`".to_string()),
            Just(" ".to_string()),
            "[a-z#'\"$]{1,4}",
            any::<char>().prop_map(String::from),
        ];
        proptest::collection::vec(piece, 0..12).prop_map(|pieces| pieces.concat())
    }

    proptest::proptest! {
        #[test]
        fn add_then_remove_restores_the_original(original in document()) {
            proptest::prop_assume!(!has_line(&original, LINE));
            let added = add_line(&original, LINE);
            proptest::prop_assert!(has_line(&added, LINE));
            proptest::prop_assert_eq!(remove_line(&added, LINE), original.clone());
            proptest::prop_assert_eq!(add_line(&added, LINE), added.clone());
            proptest::prop_assert_eq!(remove_line(&original, LINE), original);
        }
    }
}
