//! Finding a field in a line of JSON, to point an error at the value it concerns.
//!
//! serde_json reports where it *stopped*, which for a value that parsed but made no sense (a
//! malformed date, an unknown field) is after it. This scanner walks the line again along
//! the field's path and returns where the key or the value starts. It only runs when there
//! is an error, it never allocates unless a key holds escapes, and it gives up (returning
//! `None`) on anything it does not understand, so the caller falls back to serde's position.

use std::fmt;

/// One step of a field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    Key(String),
    Index(u64),
}

/// Writes a path as `a.b[2].c`.
pub(crate) struct PathDisplay<'a>(pub(crate) &'a [Seg]);

impl fmt::Display for PathDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(key) if index == 0 => f.write_str(key)?,
                Seg::Key(key) => write!(f, ".{key}")?,
                Seg::Index(i) => write!(f, "[{i}]")?,
            }
        }
        Ok(())
    }
}

/// Which end of a member to point at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// The key of the last path step (or the value, for an index step or an empty path).
    Key,
    /// The value.
    Value,
}

/// The 1-based column (in characters) where the value of `field` starts in `line`, for a
/// field path as in [`super::FactError::field`] (`attributes.mirv`, `launch_area.polygon[2]`).
/// Renderers can use it to point vocabulary errors, which carry no column, at their field.
pub fn locate_column(line: &str, field: &str) -> Option<u64> {
    let path = parse_path(field)?;
    let offset = locate(line, &path, Target::Value, line.len())?;
    Some(char_column(line, offset))
}

fn parse_path(field: &str) -> Option<Vec<Seg>> {
    let mut path = Vec::new();
    for part in field.split('.') {
        let (key, mut rest) = match part.find('[') {
            Some(at) => (part.get(..at)?, part.get(at..)?),
            None => (part, ""),
        };
        if !key.is_empty() {
            path.push(Seg::Key(key.to_owned()));
        }
        while let Some(inner) = rest.strip_prefix('[') {
            let close = inner.find(']')?;
            path.push(Seg::Index(inner.get(..close)?.parse().ok()?));
            rest = inner.get(close + 1..)?;
        }
        if !rest.is_empty() {
            return None;
        }
    }
    Some(path)
}

/// The 1-based character column of a byte offset.
pub(crate) fn char_column(text: &str, offset: usize) -> u64 {
    let chars = text
        .char_indices()
        .take_while(|(index, _)| *index < offset)
        .count();
    u64::try_from(chars).unwrap_or(u64::MAX).saturating_add(1)
}

/// The byte offset of the key or value at `path` in `text`. Where an object holds a key
/// more than once, the last occurrence starting before `limit` (the byte offset where the
/// parser stopped) is the one meant.
pub(crate) fn locate(text: &str, path: &[Seg], target: Target, limit: usize) -> Option<usize> {
    let mut s = Scanner {
        text,
        bytes: text.as_bytes(),
        pos: 0,
    };
    s.skip_ws();
    let mut last_key = None;
    for seg in path {
        s.skip_ws();
        match seg {
            Seg::Key(key) => {
                let (key_start, value_start) = s.member(key, limit)?;
                last_key = Some(key_start);
                s.pos = value_start;
            }
            Seg::Index(wanted) => {
                s.element(*wanted)?;
                last_key = None;
            }
        }
    }
    match target {
        Target::Key => Some(last_key.unwrap_or(s.pos)),
        Target::Value => Some(s.pos),
    }
}

struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek() == Some(byte)).then(|| self.pos += 1)
    }

    /// Skips a string literal; returns its start and end (quotes included).
    fn string(&mut self) -> Option<(usize, usize)> {
        let start = self.pos;
        self.eat(b'"')?;
        loop {
            match self.peek()? {
                b'"' => {
                    self.pos += 1;
                    return Some((start, self.pos));
                }
                b'\\' => self.pos += 2,
                _ => self.pos += 1,
            }
        }
    }

    /// Skips one value of any kind, iteratively (no recursion, whatever the nesting).
    fn value(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'{' | b'[' => {
                let mut depth: u64 = 0;
                loop {
                    match self.peek()? {
                        b'"' => {
                            self.string()?;
                        }
                        b'{' | b'[' => {
                            depth += 1;
                            self.pos += 1;
                        }
                        b'}' | b']' => {
                            depth = depth.checked_sub(1)?;
                            self.pos += 1;
                            if depth == 0 {
                                return Some(());
                            }
                        }
                        _ => self.pos += 1,
                    }
                }
            }
            _ => {
                while let Some(b) = self.peek() {
                    if matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                        break;
                    }
                    self.pos += 1;
                }
                Some(())
            }
        }
    }

    /// In an object, the last member named `key` whose key starts before `limit`: the
    /// offsets of its key and of its value.
    fn member(&mut self, key: &str, limit: usize) -> Option<(usize, usize)> {
        self.eat(b'{')?;
        let mut found = None;
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                break;
            }
            let Some((key_start, key_end)) = self.string() else {
                break;
            };
            if key_start >= limit {
                break;
            }
            self.skip_ws();
            if self.eat(b':').is_none() {
                break;
            }
            self.skip_ws();
            if self.key_is(key_start, key_end, key) {
                found = Some((key_start, self.pos));
            }
            if self.value().is_none() {
                break;
            }
            self.skip_ws();
            if self.eat(b',').is_none() {
                break;
            }
        }
        found
    }

    /// Moves to the start of element `wanted` of an array.
    fn element(&mut self, wanted: u64) -> Option<()> {
        self.eat(b'[')?;
        let mut index = 0;
        loop {
            self.skip_ws();
            if index == wanted {
                return (!matches!(self.peek()?, b']')).then_some(());
            }
            self.value()?;
            self.skip_ws();
            self.eat(b',')?;
            index += 1;
        }
    }

    fn key_is(&self, start: usize, end: usize, key: &str) -> bool {
        let Some(literal) = self.text.get(start..end) else {
            return false;
        };
        let inner = literal
            .get(1..literal.len().saturating_sub(1))
            .unwrap_or("");
        if inner.contains('\\') {
            serde_json::from_str::<String>(literal).is_ok_and(|decoded| decoded == key)
        } else {
            inner == key
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> Seg {
        Seg::Key(k.to_owned())
    }

    #[test]
    fn finds_keys_and_values() {
        let line = r#" {"a": 1, "b": {"c": [10, {"d": "x"}]}, "é": true, "a": 2}"#;
        let cases = [
            (vec![], Target::Value, Some(1)),
            (vec![key("a")], Target::Key, Some(52)),
            (vec![key("a")], Target::Value, Some(57)),
            (vec![key("b"), key("c")], Target::Value, Some(21)),
            (
                vec![key("b"), key("c"), Seg::Index(1)],
                Target::Value,
                Some(26),
            ),
            (
                vec![key("b"), key("c"), Seg::Index(1), key("d")],
                Target::Value,
                Some(32),
            ),
            (vec![key("b"), key("c"), Seg::Index(2)], Target::Value, None),
            (vec![key("é")], Target::Value, Some(46)),
            (vec![key("z")], Target::Value, None),
        ];
        for (path, target, expected) in cases {
            assert_eq!(
                locate(line, &path, target, line.len()),
                expected,
                "{path:?}"
            );
        }
        // Before the second `a`, the first one is meant.
        assert_eq!(locate(line, &[key("a")], Target::Value, 50), Some(7));
    }

    #[test]
    fn escaped_keys_and_columns() {
        let line = r#"{"\u0061": 1, "ü": "x"}"#;
        assert_eq!(
            locate(line, &[key("a")], Target::Value, line.len()),
            Some(11)
        );
        assert_eq!(locate_column(line, "ü"), Some(20));
        assert_eq!(char_column("üü", 2), 2);
        assert_eq!(
            locate_column(r#"{"p": [{"q": 1}, {"q": 2}]}"#, "p[1].q"),
            Some(24)
        );
        assert_eq!(locate_column("{}", "p[x]"), None);
        assert_eq!(locate_column("[[[[", "a"), None);
    }
}
