//! The two plain-text "formats" of the shell target, behind the same [`Editor`]
//! interface so the engine treats them like any other file:
//!
//! - [`LinesDoc`]: a file anyray does not own (an rc file) that gets whole marked lines.
//!   The key is the line itself; `add_line`/`remove_line` (rustup style, in
//!   [`crate::shell::rc`]) keep everything else byte for byte, CRLF and BOM included.
//! - [`OwnedDoc`]: a file whose whole contents anyray writes (`env.sh`, the fish
//!   drop-in). The one key is [`OwnedDoc::key`]; its value is the text.

use super::{EditError, Editor, KeyPath, Scalar, Seg};
use crate::shell::rc::{add_line, has_line, remove_line};

pub struct LinesDoc {
    text: String,
}

pub fn parse_lines(text: &str) -> LinesDoc {
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

pub struct OwnedDoc {
    text: String,
}

impl OwnedDoc {
    /// The single key of an owned file: its whole contents.
    pub fn key() -> KeyPath {
        KeyPath::keys(["contents"])
    }
}

pub fn parse_owned(text: &str) -> OwnedDoc {
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
