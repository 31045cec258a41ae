//! `.env` files as the `dotenv` npm package reads them (Gemini CLI's `~/.gemini/.env`):
//! one `KEY=value` per line, an optional `export ` before the key, `#` comments, values
//! bare (up to a ` #` comment), or in single, double or back quotes. The key path is one
//! variable name; everything but that variable's value is kept byte for byte.
//!
//! Refused, with the line and column: a managed variable set twice (dotenv takes the
//! last, an editor the first: there is no right one to change), and a quoted value that
//! goes on over several lines (dotenv reads it whole; a line editor cannot).
//! dotenv expands no `${VAR}`, so a value is written as it is meant, never a reference.

use super::{EditError, Editor, KeyPath, Scalar, Seg, split_bom};

pub(crate) struct DotenvDoc {
    bom: bool,
    lines: Vec<String>,
    /// The file's line break, for lines anyray adds.
    newline: &'static str,
    /// Whether the last line ended with a line break.
    final_newline: bool,
}

/// One `KEY=value` line, split where the value's source text starts and ends.
struct Assignment<'a> {
    key: &'a str,
    /// Byte range of the value's source text in the line (quotes included).
    value: std::ops::Range<usize>,
}

/// Reads `line` as an assignment; `None` for blank lines, comments and lines dotenv
/// ignores. `Err` with the column of a quote that is not closed on its line.
fn assignment(line: &str) -> Result<Option<Assignment<'_>>, usize> {
    let line = line.strip_suffix('\r').unwrap_or(line);
    let start = line.len() - line.trim_start().len();
    let mut rest = &line[start..];
    if let Some(after) = rest.strip_prefix("export ") {
        rest = after.trim_start();
    }
    let key_start = line.len() - rest.len();
    let key_len = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
        .unwrap_or(rest.len());
    if key_len == 0 {
        return Ok(None);
    }
    let after_key = rest[key_len..].trim_start();
    let Some(after_eq) = after_key.strip_prefix('=') else {
        return Ok(None);
    };
    let value_start = line.len() - after_eq.trim_start().len();
    let value_text = &line[value_start..];
    let value_end = match value_text.chars().next() {
        Some(q @ ('\'' | '"' | '`')) => match value_text[1..].find(q) {
            Some(close) => value_start + close + 2,
            None => return Err(value_start + 1),
        },
        _ => {
            let end = value_text.find(" #").unwrap_or(value_text.len());
            value_start + value_text[..end].trim_end().len()
        }
    };
    debug_assert!(key_start + key_len <= value_start);
    Ok(Some(Assignment {
        key: &line[key_start..key_start + key_len],
        value: value_start..value_end,
    }))
}

/// The value dotenv reads from a value's source text.
fn unquote(raw: &str) -> String {
    match raw.chars().next() {
        Some('"') => raw[1..raw.len() - 1]
            .replace("\\n", "\n")
            .replace("\\r", "\r"),
        Some('\'' | '`') => raw[1..raw.len() - 1].to_string(),
        _ => raw.to_string(),
    }
}

/// How a value is written so that dotenv reads it back unchanged: bare when it can be,
/// else in single quotes (taken literally), else in double quotes (where dotenv turns
/// `\n` into a line break, and nothing else).
fn literal(path: &KeyPath, value: &str) -> Result<String, EditError> {
    let bare = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._/:@%+=~?&,;!*()[]{}$^|".contains(c));
    if bare {
        Ok(value.to_string())
    } else if !value.contains(['\'', '\n', '\r']) {
        Ok(format!("'{value}'"))
    } else if !value.contains(['"', '\\']) {
        Ok(format!(
            "\"{}\"",
            value.replace('\n', "\\n").replace('\r', "\\r")
        ))
    } else {
        Err(EditError::unexpected(
            path,
            "a value dotenv cannot read back",
            "a value without both quotes and line breaks",
        ))
    }
}

fn name(path: &KeyPath) -> Result<&str, EditError> {
    match path.segs() {
        [Seg::Key(name)] => Ok(name),
        _ => Err(EditError::unexpected(
            path,
            "a nested key",
            "a variable name",
        )),
    }
}

pub(crate) fn parse(text: &str) -> Result<DotenvDoc, EditError> {
    let (bom, body) = split_bom(text);
    let newline = if body.contains("\r\n") { "\r\n" } else { "\n" };
    let final_newline = body.is_empty() || body.ends_with('\n');
    let mut lines: Vec<String> = body.split('\n').map(str::to_string).collect();
    if final_newline {
        lines.pop();
    }
    for (i, line) in lines.iter().enumerate() {
        if let Err(col) = assignment(line) {
            return Err(EditError::at(
                Some((i + 1, col)),
                "a quoted value goes on over several lines; anyray edits one-line values only",
            )
            .with_hint(
                "put the value on one line (or move the file aside), then run the command again",
            ));
        }
    }
    Ok(DotenvDoc {
        bom,
        lines,
        newline,
        final_newline,
    })
}

impl DotenvDoc {
    /// The line that sets `var` (refusing a variable set twice).
    fn find(&self, var: &str) -> Result<Option<usize>, EditError> {
        let mut found = None;
        for (i, line) in self.lines.iter().enumerate() {
            if let Ok(Some(a)) = assignment(line)
                && a.key == var
            {
                if let Some(first) = found {
                    return Err(EditError::at(
                        Some((i + 1, 1)),
                        format!(
                            "`{var}` is set twice (first on line {}); dotenv takes the last one, \
                             so anyray will not guess which one to change",
                            first + 1
                        ),
                    )
                    .with_hint("keep one of them, then run the command again"));
                }
                found = Some(i);
            }
        }
        Ok(found)
    }

    fn set_raw(&mut self, var: &str, raw: &str) -> Result<(), EditError> {
        match self.find(var)? {
            Some(i) => {
                let range = assignment(&self.lines[i])
                    .ok()
                    .flatten()
                    .expect("found above")
                    .value;
                self.lines[i].replace_range(range, raw);
            }
            // Appended in the file's style: with its line break, and without a final one
            // where it had none (so that removing the line gives back the same bytes).
            None => {
                let cr = if self.newline == "\r\n" { "\r" } else { "" };
                if let Some(last) = self.lines.last_mut()
                    && !self.final_newline
                {
                    last.push_str(cr);
                    self.lines.push(format!("{var}={raw}"));
                } else {
                    self.lines.push(format!("{var}={raw}{cr}"));
                }
            }
        }
        Ok(())
    }
}

impl Editor for DotenvDoc {
    fn get(&self, path: &KeyPath) -> Result<Option<Scalar>, EditError> {
        let var = name(path)?;
        Ok(self.find(var)?.map(|i| {
            let line = &self.lines[i];
            let range = assignment(line).ok().flatten().expect("found").value;
            let raw = line[range].to_string();
            Scalar {
                value: unquote(&raw),
                raw,
            }
        }))
    }

    fn set(&mut self, path: &KeyPath, value: &str) -> Result<(), EditError> {
        self.set_raw(name(path)?, &literal(path, value)?)
    }

    fn restore(&mut self, path: &KeyPath, prior: &Scalar) -> Result<(), EditError> {
        self.set_raw(name(path)?, &prior.raw)
    }

    fn remove(&mut self, path: &KeyPath) -> Result<(), EditError> {
        if let Some(i) = self.find(name(path)?)? {
            self.lines.remove(i);
            // The new last line had no line break of its own in a file without a final one.
            if i == self.lines.len()
                && !self.final_newline
                && let Some(last) = self.lines.last_mut()
                && last.ends_with('\r')
            {
                last.pop();
            }
        }
        Ok(())
    }

    fn has_container(&self, _path: &KeyPath) -> bool {
        false
    }

    fn remove_if_empty(&mut self, _path: &KeyPath) -> bool {
        false
    }

    fn render(&self) -> String {
        let mut out = String::from(if self.bom { "\u{feff}" } else { "" });
        for (i, line) in self.lines.iter().enumerate() {
            out.push_str(line);
            if i + 1 < self.lines.len() || self.final_newline {
                out.push('\n');
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url() -> KeyPath {
        KeyPath::keys(["GOOGLE_GEMINI_BASE_URL"])
    }

    fn round_trip(text: &str, expected: &str) {
        let mut doc = parse(text).unwrap();
        let prior = doc.get(&url()).unwrap();
        doc.set(&url(), "https://gw/gemini").unwrap();
        assert_eq!(doc.render(), expected);
        let mut again = parse(&doc.render()).unwrap();
        assert_eq!(
            again.get(&url()).unwrap().unwrap().value,
            "https://gw/gemini"
        );
        match prior {
            Some(prior) => again.restore(&url(), &prior).unwrap(),
            None => again.remove(&url()).unwrap(),
        }
        assert_eq!(again.render(), text);
    }

    #[test]
    fn adds_replaces_and_restores_exactly() {
        round_trip("", "GOOGLE_GEMINI_BASE_URL=https://gw/gemini\n");
        round_trip(
            "# mine\nGEMINI_API_KEY=abc\n",
            "# mine\nGEMINI_API_KEY=abc\nGOOGLE_GEMINI_BASE_URL=https://gw/gemini\n",
        );
        round_trip("A=1", "A=1\nGOOGLE_GEMINI_BASE_URL=https://gw/gemini");
        round_trip(
            "A=1\r\nB=2",
            "A=1\r\nB=2\r\nGOOGLE_GEMINI_BASE_URL=https://gw/gemini",
        );
        round_trip(
            "\u{feff}A=1\r\n",
            "\u{feff}A=1\r\nGOOGLE_GEMINI_BASE_URL=https://gw/gemini\r\n",
        );
        round_trip(
            "export GOOGLE_GEMINI_BASE_URL = 'http://old' # theirs\nB=2\n",
            "export GOOGLE_GEMINI_BASE_URL = https://gw/gemini # theirs\nB=2\n",
        );
        round_trip(
            "GOOGLE_GEMINI_BASE_URL=\"http://old\"\n",
            "GOOGLE_GEMINI_BASE_URL=https://gw/gemini\n",
        );
    }

    #[test]
    fn reads_values_as_dotenv_does() {
        let doc = parse("A=x # c\nB='y # z'\nC=\"l1\\nl2\"\n#D=no\nE=\n").unwrap();
        let get = |k: &str| doc.get(&KeyPath::keys([k])).unwrap().map(|s| s.value);
        assert_eq!(get("A").as_deref(), Some("x"));
        assert_eq!(get("B").as_deref(), Some("y # z"));
        assert_eq!(get("C").as_deref(), Some("l1\nl2"));
        assert_eq!(get("D"), None, "a commented line is not a setting");
        assert_eq!(get("E").as_deref(), Some(""));
    }

    #[test]
    fn quotes_what_would_not_read_back() {
        let mut doc = parse("").unwrap();
        doc.set(&url(), "a b # c").unwrap();
        assert_eq!(doc.render(), "GOOGLE_GEMINI_BASE_URL='a b # c'\n");
        let back = parse(&doc.render()).unwrap();
        assert_eq!(back.get(&url()).unwrap().unwrap().value, "a b # c");
    }

    #[test]
    fn refuses_a_variable_set_twice_and_multi_line_values() {
        let doc = parse("GOOGLE_GEMINI_BASE_URL=a\nX=1\nGOOGLE_GEMINI_BASE_URL=b\n").unwrap();
        let err = doc.get(&url()).unwrap_err();
        assert_eq!(err.position, Some((3, 1)));
        assert!(err.message.contains("twice"), "{}", err.message);
        let err = parse("A=1\nKEY=\"first\nsecond\"\n").err().unwrap();
        assert_eq!(err.position, Some((2, 5)));
    }
}
