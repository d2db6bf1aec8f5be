#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Every `treaty` block in docs/language.md parses and checks; a block whose first line is
//! `// error: CODE` must fail with that code.

use detente_lang::{check_source, diag::render_plain};

fn blocks(markdown: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, line) in markdown.lines().enumerate() {
        match &mut current {
            None if line.trim() == "```treaty" => current = Some((i + 2, String::new())),
            Some(_) if line.trim() == "```" => out.extend(current.take()),
            Some((_, text)) => {
                text.push_str(line);
                text.push('\n');
            }
            None => {}
        }
    }
    out
}

#[test]
fn every_language_doc_example_checks() {
    let doc = include_str!("../../../docs/language.md");
    let examples = blocks(doc);
    assert!(
        examples.len() >= 10,
        "found only {} examples",
        examples.len()
    );
    let mut failures = String::new();
    for (line, source) in &examples {
        let checked = check_source(source);
        let expected_error = source
            .lines()
            .next()
            .and_then(|l| l.trim().strip_prefix("// error: "))
            .map(str::to_owned);
        let errors: Vec<_> = checked
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .collect();
        match expected_error {
            None if !errors.is_empty() || checked.treaty.is_none() => {
                for d in &errors {
                    failures.push_str(&render_plain(
                        d,
                        &format!("docs/language.md:{line}"),
                        source,
                    ));
                }
            }
            Some(code) if !errors.iter().any(|d| d.code == code) => {
                failures.push_str(&format!("example at line {line}: expected error {code}\n"));
            }
            _ => {}
        }
    }
    assert!(failures.is_empty(), "{failures}");
}

#[test]
fn every_language_doc_example_formats_to_a_fixed_point() {
    let doc = include_str!("../../../docs/language.md");
    for (line, source) in blocks(doc) {
        let Ok(once) = detente_lang::format::format_source(&source) else {
            continue;
        };
        let twice = detente_lang::format::format_source(&once).unwrap_or_default();
        assert_eq!(
            once, twice,
            "example at docs/language.md:{line} is not a fixed point"
        );
        let before = check_source(&source).treaty;
        let after = check_source(&once).treaty;
        assert_eq!(
            before.map(|t| format!("{t:?}")).map(|s| strip_spans(&s)),
            after.map(|t| format!("{t:?}")).map(|s| strip_spans(&s)),
            "formatting changed the meaning of the example at line {line}"
        );
        let comments_before = source.matches("//").count();
        let comments_after = once.matches("//").count();
        assert_eq!(
            comments_before, comments_after,
            "comments lost at line {line}"
        );
    }
}

/// Removes `Span { … }` from a debug dump so two layouts of one treaty compare equal.
fn strip_spans(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("Span {") {
        out.push_str(&rest[..i]);
        rest = rest[i..].split_once('}').map_or("", |(_, r)| r);
    }
    out.push_str(rest);
    out
}
