//! The building blocks of every record's canonical bytes, and the one error type that
//! says what is wrong with a record and where.
//!
//! ```text
//! tag      the record's ASCII domain tag, e.g. "detente-escrow/commitment/v1" (no length:
//!          the decoder knows which record it expects; every tag ends in "/v1" and no
//!          record name contains "/", so no tag is a prefix of another)
//! name     u16 BE length (1..=128) + UTF-8 bytes, no control characters
//! text     u16 BE length (0..=1024) + UTF-8 bytes
//! date     10 ASCII bytes "YYYY-MM-DD", a real calendar date
//! u8/u16/u32/u64/i32/i64   fixed width, big-endian
//! hash     32 raw bytes
//! ```
//!
//! Every field has exactly one encoding, so equal records always have equal bytes.

use std::fmt;

/// The longest name (party, region, id, category, attribute name, site, quantity,
/// round), in UTF-8 bytes.
pub const MAX_NAME_BYTES: usize = 128;

/// The longest text attribute value, in UTF-8 bytes.
pub const MAX_TEXT_BYTES: usize = 1024;

/// Why a record is not valid, or why bytes are not a valid record.
///
/// `offset` is the byte offset of the field in the encoded record when the error comes
/// from a decoder, and `None` when it comes from checking a value built in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatError {
    /// The record: `"commitment"`, `"reveal"`, `"item"`, ...
    pub record: &'static str,
    /// The field, e.g. `"party"`, `"items[3].salt"` is given as `"salt"` with the
    /// offset pointing at it.
    pub field: &'static str,
    /// Byte offset of the field, for decoding errors.
    pub offset: Option<usize>,
    /// What is wrong.
    pub problem: Problem,
}

/// What is wrong with a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The whole record is larger than its format allows.
    TooLarge {
        /// Its length in bytes.
        len: usize,
        /// The largest length accepted.
        max: usize,
    },
    /// The bytes end inside the field.
    Truncated {
        /// Bytes the field needs.
        needed: usize,
        /// Bytes left.
        available: usize,
    },
    /// The record does not start with its domain tag.
    BadTag {
        /// The tag expected.
        expected: &'static str,
    },
    /// A length or count is outside the range the format allows.
    Length {
        /// The length or count found.
        len: usize,
        /// The smallest accepted.
        min: usize,
        /// The largest accepted.
        max: usize,
    },
    /// Text is not valid UTF-8.
    NotUtf8,
    /// The value breaks a rule of the format; the text says which.
    Invalid(String),
    /// Bytes follow the last field.
    TrailingBytes {
        /// How many.
        count: usize,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::TooLarge { len, max } => {
                write!(f, "{len} bytes is more than the {max}-byte limit")
            }
            Problem::Truncated { needed, available } => {
                write!(f, "needs {needed} bytes but only {available} remain")
            }
            Problem::BadTag { expected } => write!(f, "does not start with {expected:?}"),
            Problem::Length { len, min, max } => {
                write!(f, "length {len} is not between {min} and {max}")
            }
            Problem::NotUtf8 => write!(f, "is not valid UTF-8"),
            Problem::Invalid(why) => write!(f, "{why}"),
            Problem::TrailingBytes { count } => {
                write!(f, "{count} unexpected bytes after the last field")
            }
        }
    }
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.offset {
            Some(offset) => write!(
                f,
                "{} byte {offset}: {}: {}",
                self.record, self.field, self.problem
            ),
            None => write!(f, "{}: {}: {}", self.record, self.field, self.problem),
        }
    }
}

impl std::error::Error for FormatError {}

/// A validation error for a value built in memory (no byte offset).
pub(crate) fn invalid(record: &'static str, field: &'static str, problem: Problem) -> FormatError {
    FormatError {
        record,
        field,
        offset: None,
        problem,
    }
}

/// What is wrong with a name, if anything.
pub(crate) fn name_problem(s: &str) -> Option<Problem> {
    if s.is_empty() || s.len() > MAX_NAME_BYTES {
        return Some(Problem::Length {
            len: s.len(),
            min: 1,
            max: MAX_NAME_BYTES,
        });
    }
    if s.chars().any(char::is_control) {
        return Some(Problem::Invalid(format!(
            "{s:?} contains a control character"
        )));
    }
    None
}

/// What is wrong with a text value, if anything.
pub(crate) fn text_problem(s: &str) -> Option<Problem> {
    (s.len() > MAX_TEXT_BYTES).then_some(Problem::Length {
        len: s.len(),
        min: 0,
        max: MAX_TEXT_BYTES,
    })
}

/// What is wrong with a `YYYY-MM-DD` date, if anything.
pub(crate) fn date_problem(s: &str) -> Option<Problem> {
    let bad = || {
        Some(Problem::Invalid(format!(
            "{s:?} is not a calendar date YYYY-MM-DD"
        )))
    };
    let b = s.as_bytes();
    let Some(&[y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1]) = b.first_chunk::<10>() else {
        return bad();
    };
    if b.len() != 10 {
        return bad();
    }
    let digits = [y0, y1, y2, y3, m0, m1, d0, d1];
    if !digits.iter().all(u8::is_ascii_digit) {
        return bad();
    }
    let num = |bytes: &[u8]| {
        bytes
            .iter()
            .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'))
    };
    let year = num(&[y0, y1, y2, y3]);
    let month = num(&[m0, m1]);
    let day = num(&[d0, d1]);
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return bad(),
    };
    if day == 0 || day > days {
        return bad();
    }
    None
}

/// Appends canonical fields to a buffer. Values must have been validated: a name or
/// text longer than `u16::MAX` bytes would be written with a wrong length.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    pub(crate) buf: Vec<u8>,
}

impl Writer {
    pub(crate) fn with_tag(tag: &str) -> Writer {
        let mut buf = Vec::with_capacity(256);
        buf.extend_from_slice(tag.as_bytes());
        Writer { buf }
    }

    pub(crate) fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    pub(crate) fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub(crate) fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub(crate) fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub(crate) fn bytes(&mut self, v: &[u8]) {
        self.buf.extend_from_slice(v);
    }

    /// A name or text: u16 BE length + bytes.
    pub(crate) fn str(&mut self, s: &str) {
        put_str(&mut self.buf, s);
    }

    /// A count: u32 BE.
    pub(crate) fn count(&mut self, n: usize) {
        self.u32(u32::try_from(n).unwrap_or(u32::MAX));
    }

    pub(crate) fn finish(self) -> Vec<u8> {
        self.buf
    }
}

/// Appends a u16 BE length and the bytes of `s`.
pub(crate) fn put_str(buf: &mut Vec<u8>, s: &str) {
    buf.extend_from_slice(&u16::try_from(s.len()).unwrap_or(u16::MAX).to_be_bytes());
    buf.extend_from_slice(s.as_bytes());
}

/// Reads canonical fields, checking every length against the bytes left before
/// reading or allocating anything.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    record: &'static str,
}

impl<'a> Reader<'a> {
    /// A reader over a whole record, which must be at most `max_len` bytes and start
    /// with `tag`.
    pub(crate) fn new(
        record: &'static str,
        tag: &'static str,
        bytes: &'a [u8],
        max_len: usize,
    ) -> Result<Reader<'a>, FormatError> {
        let mut r = Reader {
            bytes,
            pos: 0,
            record,
        };
        if bytes.len() > max_len {
            return Err(r.err(
                "record",
                0,
                Problem::TooLarge {
                    len: bytes.len(),
                    max: max_len,
                },
            ));
        }
        let found = r.take("tag", tag.len())?;
        if found != tag.as_bytes() {
            return Err(r.err("tag", 0, Problem::BadTag { expected: tag }));
        }
        Ok(r)
    }

    /// A reader over bytes that carry no tag of their own (an embedded item).
    pub(crate) fn untagged(
        record: &'static str,
        bytes: &'a [u8],
        max_len: usize,
    ) -> Result<Reader<'a>, FormatError> {
        let r = Reader {
            bytes,
            pos: 0,
            record,
        };
        if bytes.len() > max_len {
            return Err(r.err(
                "record",
                0,
                Problem::TooLarge {
                    len: bytes.len(),
                    max: max_len,
                },
            ));
        }
        Ok(r)
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.pos)
    }

    pub(crate) fn err(&self, field: &'static str, offset: usize, problem: Problem) -> FormatError {
        FormatError {
            record: self.record,
            field,
            offset: Some(offset),
            problem,
        }
    }

    pub(crate) fn take(&mut self, field: &'static str, n: usize) -> Result<&'a [u8], FormatError> {
        let start = self.pos;
        let end = start.checked_add(n);
        match end.and_then(|end| self.bytes.get(start..end)) {
            Some(slice) => {
                self.pos = start + n;
                Ok(slice)
            }
            None => Err(self.err(
                field,
                start,
                Problem::Truncated {
                    needed: n,
                    available: self.remaining(),
                },
            )),
        }
    }

    pub(crate) fn array<const N: usize>(
        &mut self,
        field: &'static str,
    ) -> Result<[u8; N], FormatError> {
        let start = self.pos;
        let slice = self.take(field, N)?;
        slice.try_into().map_err(|_| {
            self.err(
                field,
                start,
                Problem::Truncated {
                    needed: N,
                    available: slice.len(),
                },
            )
        })
    }

    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, FormatError> {
        Ok(u8::from_be_bytes(self.array(field)?))
    }

    pub(crate) fn u16(&mut self, field: &'static str) -> Result<u16, FormatError> {
        Ok(u16::from_be_bytes(self.array(field)?))
    }

    pub(crate) fn u32(&mut self, field: &'static str) -> Result<u32, FormatError> {
        Ok(u32::from_be_bytes(self.array(field)?))
    }

    pub(crate) fn u64(&mut self, field: &'static str) -> Result<u64, FormatError> {
        Ok(u64::from_be_bytes(self.array(field)?))
    }

    pub(crate) fn i32(&mut self, field: &'static str) -> Result<i32, FormatError> {
        Ok(i32::from_be_bytes(self.array(field)?))
    }

    pub(crate) fn i64(&mut self, field: &'static str) -> Result<i64, FormatError> {
        Ok(i64::from_be_bytes(self.array(field)?))
    }

    /// A flag byte: 0 or 1.
    pub(crate) fn flag(&mut self, field: &'static str) -> Result<bool, FormatError> {
        let at = self.pos;
        match self.u8(field)? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(self.err(
                field,
                at,
                Problem::Invalid(format!("flag byte {other} is not 0 or 1")),
            )),
        }
    }

    fn utf8(
        &mut self,
        field: &'static str,
        min: usize,
        max: usize,
    ) -> Result<(String, usize), FormatError> {
        let at = self.pos;
        let len = usize::from(self.u16(field)?);
        if len < min || len > max {
            return Err(self.err(field, at, Problem::Length { len, min, max }));
        }
        let text_at = self.pos;
        let raw = self.take(field, len)?;
        let s = std::str::from_utf8(raw).map_err(|_| self.err(field, text_at, Problem::NotUtf8))?;
        Ok((s.to_owned(), at))
    }

    /// A name: 1..=128 bytes, no control characters.
    pub(crate) fn name(&mut self, field: &'static str) -> Result<String, FormatError> {
        let (s, at) = self.utf8(field, 1, MAX_NAME_BYTES)?;
        match name_problem(&s) {
            Some(problem) => Err(self.err(field, at, problem)),
            None => Ok(s),
        }
    }

    /// A text value: 0..=1024 bytes.
    pub(crate) fn text(&mut self, field: &'static str) -> Result<String, FormatError> {
        Ok(self.utf8(field, 0, MAX_TEXT_BYTES)?.0)
    }

    /// A `YYYY-MM-DD` date.
    pub(crate) fn date(&mut self, field: &'static str) -> Result<String, FormatError> {
        let at = self.pos;
        let raw = self.take(field, 10)?;
        let s = std::str::from_utf8(raw).map_err(|_| self.err(field, at, Problem::NotUtf8))?;
        match date_problem(s) {
            Some(problem) => Err(self.err(field, at, problem)),
            None => Ok(s.to_owned()),
        }
    }

    /// A u32 BE count of at most `max` elements, each at least `min_element_bytes` long,
    /// so that the count can never promise more than the bytes left hold.
    pub(crate) fn count(
        &mut self,
        field: &'static str,
        max: usize,
        min_element_bytes: usize,
    ) -> Result<usize, FormatError> {
        let at = self.pos;
        let n = usize::try_from(self.u32(field)?).unwrap_or(usize::MAX);
        let fits = n.saturating_mul(min_element_bytes.max(1)) <= self.remaining();
        if n > max || !fits {
            let max = max.min(self.remaining() / min_element_bytes.max(1));
            return Err(self.err(
                field,
                at,
                Problem::Length {
                    len: n,
                    min: 0,
                    max,
                },
            ));
        }
        Ok(n)
    }

    /// Checks that nothing follows the last field.
    pub(crate) fn finish(self) -> Result<(), FormatError> {
        let count = self.remaining();
        if count != 0 {
            return Err(self.err("end", self.pos, Problem::TrailingBytes { count }));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        for ok in [
            "1979-06-18",
            "2000-02-29",
            "2024-02-29",
            "0001-01-01",
            "9999-12-31",
        ] {
            assert_eq!(date_problem(ok), None, "{ok}");
        }
        for bad in [
            "1900-02-29",
            "1979-13-01",
            "1979-00-10",
            "1979-04-31",
            "1979-6-18",
            "1979-06-18T",
            "19790618xx",
            "",
            "1979/06/18",
        ] {
            assert!(date_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn names() {
        assert!(name_problem("").is_some());
        assert!(name_problem("a\nb").is_some());
        assert!(name_problem(&"x".repeat(129)).is_some());
        assert!(name_problem(&"x".repeat(128)).is_none());
        assert!(name_problem("Плесецк").is_none());
    }

    #[test]
    fn count_cannot_promise_more_than_the_bytes_hold() {
        let bytes = [0u8, 0, 0, 9, 1, 2, 3];
        let mut r = Reader::untagged("t", &bytes, 100).unwrap();
        let e = r.count("n", 100, 1).unwrap_err();
        assert_eq!(e.offset, Some(0));
        assert!(e.to_string().contains("t byte 0: n:"), "{e}");
    }
}
