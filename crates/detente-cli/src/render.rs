//! Rendering diagnostics for people (miette) and for programs (JSON).

use detente_lang::{Diagnostic, LineIndex, Severity};
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};
use serde_json::json;
use std::fmt;

/// Adapts a language diagnostic to miette's trait, with its source attached.
struct Report<'a> {
    diagnostic: &'a Diagnostic,
    source: NamedSource<String>,
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.diagnostic.message)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagnostic.message)
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.diagnostic.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diagnostic.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.diagnostic
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.diagnostic.labels.iter().enumerate().map(
            |(i, label)| {
                let span = SourceSpan::from((label.span.start as usize, label.span.len() as usize));
                let text = (!label.message.is_empty()).then(|| label.message.clone());
                if i == 0 {
                    LabeledSpan::new_primary_with_span(text, span)
                } else {
                    LabeledSpan::new_with_span(text, span)
                }
            },
        )))
    }
}

/// Renders diagnostics with the underlined source, in colour when `color` is set.
pub fn human(diagnostics: &[Diagnostic], file_name: &str, source: &str, color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(100);
    let mut out = String::new();
    for diagnostic in diagnostics {
        let report = Report {
            diagnostic,
            source: NamedSource::new(file_name, source.to_owned()),
        };
        if handler.render_report(&mut out, &report).is_err() {
            out.push_str(&detente_lang::diag::render_plain(
                diagnostic, file_name, source,
            ));
        }
        out.push('\n');
    }
    out
}

/// The JSON form of diagnostics: the same fields as the API returns.
pub fn json(diagnostics: &[Diagnostic], file_name: &str, source: &str) -> serde_json::Value {
    let index = LineIndex::new(source);
    let items: Vec<serde_json::Value> = diagnostics
        .iter()
        .map(|d| {
            let labels: Vec<serde_json::Value> = d
                .labels
                .iter()
                .map(|l| {
                    let (line, column) = index.line_col(l.span.start);
                    let (end_line, end_column) = index.line_col(l.span.end);
                    json!({
                        "message": l.message,
                        "start": l.span.start,
                        "end": l.span.end,
                        "line": line,
                        "column": column,
                        "end_line": end_line,
                        "end_column": end_column,
                        "text": l.span.text(source),
                    })
                })
                .collect();
            json!({
                "file": file_name,
                "code": d.code,
                "severity": d.severity.as_str(),
                "message": d.message,
                "labels": labels,
                "help": d.help,
            })
        })
        .collect();
    json!({ "diagnostics": items })
}
