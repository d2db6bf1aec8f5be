//! Errors in facts, pointing at a source, a line, a column and a field.

use std::fmt;

/// What sort of problem a [`FactError`] is, for renderers that group or colour them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FactErrorKind {
    /// The line is not JSON.
    Json,
    /// A field is missing, unknown, repeated or of the wrong JSON type.
    Field,
    /// A field has the right JSON type but a wrong value (a malformed date, a latitude out of
    /// range, an empty interval).
    Value,
    /// A limit was exceeded (line length, record count, error count).
    Limit,
    /// Two records contradict each other.
    Contradiction,
    /// A name the treaty does not define.
    UnknownName,
    /// An attribute value of the wrong type for the treaty.
    AttributeType,
}

/// One problem in the facts.
///
/// `line` and `column` are 1-based; the column counts characters (Unicode scalar values).
/// A `column` of 0 means the error concerns the whole record (contradictions and
/// vocabulary errors, found after the line's text is gone; [`super::locate_column`] can
/// find the field in the text if the caller still has it). `field` is the path of the
/// field at fault, keys joined with `.` and indexes in brackets (`launch_area.polygon[2].lat`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactError {
    pub kind: FactErrorKind,
    pub source: String,
    pub line: u64,
    pub column: u64,
    pub field: Option<String>,
    /// Lowercase, no final period, user input in backticks.
    pub message: String,
    pub help: Option<String>,
}

/// `source:line:column: message`, or `source:line: message` when the column is unknown.
impl fmt::Display for FactError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.column == 0 {
            write!(f, "{}:{}: {}", self.source, self.line, self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.source, self.line, self.column, self.message
            )
        }
    }
}

impl std::error::Error for FactError {}
