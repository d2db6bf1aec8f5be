//! Source spans and diagnostics.
//!
//! A [`Diagnostic`] is plain data: a code, a severity, a message in the language's own
//! words, labelled spans and help. Rendering (underlined source, JSON) happens at the edge,
//! in the CLI and the server, from these fields and a [`LineIndex`].

use std::fmt;

/// A half-open byte range `[start, end)` into one source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub const fn new(start: u32, end: u32) -> Span {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    pub fn len(self) -> u32 {
        self.end.saturating_sub(self.start)
    }

    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// The text this span covers, if it lies within `source` on character boundaries.
    pub fn text(self, source: &str) -> &str {
        source
            .get(self.start as usize..self.end as usize)
            .unwrap_or("")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One labelled span of a diagnostic. The first label is the primary one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// A problem found in a treaty, with where it is and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub labels: Vec<Label>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>, span: Span) -> Diagnostic {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            labels: vec![Label {
                span,
                message: String::new(),
            }],
            help: None,
        }
    }

    pub fn warning(code: &'static str, message: impl Into<String>, span: Span) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message, span)
        }
    }

    /// Sets the primary label's text.
    pub fn label(mut self, message: impl Into<String>) -> Diagnostic {
        if let Some(first) = self.labels.first_mut() {
            first.message = message.into();
        }
        self
    }

    /// Adds a secondary labelled span.
    pub fn with_label(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.labels.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn maybe_help(mut self, help: Option<String>) -> Diagnostic {
        if help.is_some() {
            self.help = help;
        }
        self
    }

    /// The primary span.
    pub fn span(&self) -> Span {
        self.labels.first().map(|l| l.span).unwrap_or_default()
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}[{}]: {}",
            self.severity.as_str(),
            self.code,
            self.message
        )
    }
}

/// Maps byte offsets to 1-based line and column numbers (columns count characters).
#[derive(Debug, Clone)]
pub struct LineIndex<'a> {
    source: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub fn new(source: &'a str) -> LineIndex<'a> {
        let mut line_starts = vec![0];
        line_starts.extend(
            source
                .bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex {
            source,
            line_starts,
        }
    }

    /// The 1-based line of a byte offset (cheaper than [`LineIndex::line_col`] on long lines).
    pub fn line(&self, offset: u32) -> u32 {
        let offset = (offset as usize).min(self.source.len());
        let line = self.line_starts.partition_point(|&s| s <= offset).max(1);
        u32::try_from(line).unwrap_or(u32::MAX)
    }

    /// The 1-based (line, column) of a byte offset.
    pub fn line_col(&self, offset: u32) -> (u32, u32) {
        let offset = (offset as usize).min(self.source.len());
        let line = self.line_starts.partition_point(|&s| s <= offset).max(1) - 1;
        let start = self.line_starts.get(line).copied().unwrap_or(0);
        let column = self
            .source
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (
            u32::try_from(line + 1).unwrap_or(u32::MAX),
            u32::try_from(column + 1).unwrap_or(u32::MAX),
        )
    }

    /// The text of a 1-based line, without its line break.
    pub fn line_text(&self, line: u32) -> &'a str {
        let index = (line as usize).saturating_sub(1);
        let start = self.line_starts.get(index).copied().unwrap_or(0);
        let end = self
            .line_starts
            .get(index + 1)
            .map_or(self.source.len(), |e| e.saturating_sub(1));
        self.source
            .get(start..end.max(start))
            .unwrap_or("")
            .trim_end_matches('\r')
    }
}

/// Renders a diagnostic as plain text with the underlined source line, like a compiler.
/// Used by tests and by callers without a terminal renderer.
pub fn render_plain(diagnostic: &Diagnostic, file_name: &str, source: &str) -> String {
    use std::fmt::Write as _;
    let index = LineIndex::new(source);
    let mut out = String::new();
    let _ = writeln!(out, "{diagnostic}");
    for (i, label) in diagnostic.labels.iter().enumerate() {
        let (line, column) = index.line_col(label.span.start);
        let arrow = if i == 0 { "-->" } else { ":::" };
        let _ = writeln!(out, "  {arrow} {file_name}:{line}:{column}");
        let text = index.line_text(line);
        let _ = writeln!(out, "{line:>4} | {text}");
        let (end_line, end_column) = index.line_col(label.span.end);
        let width = if end_line == line {
            end_column.saturating_sub(column).max(1)
        } else {
            u32::try_from(text.chars().count())
                .unwrap_or(1)
                .saturating_sub(column - 1)
                .max(1)
        };
        let underline = format!(
            "     | {}{} {}",
            " ".repeat(column as usize - 1),
            "^".repeat(width as usize),
            label.message
        );
        let _ = writeln!(out, "{}", underline.trim_end());
    }
    if let Some(help) = &diagnostic.help {
        let _ = writeln!(out, "  = help: {help}");
    }
    out
}
