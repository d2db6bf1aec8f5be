#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::needless_range_loop
)]
//! The data-driven suite: every file under `test_data/` is a test case.
//!
//! - `test_data/valid/NAME.treaty` must check without any diagnostic, format to
//!   `NAME.formatted`, and formatting that output again must change nothing.
//! - `test_data/invalid/NAME.treaty` must produce exactly the diagnostics rendered in
//!   `NAME.expected`; its first line lists the codes it is about (`// expect: E0302, E0304`).
//!
//! With `UPDATE_EXPECT=1` the expected files are written instead of compared (see
//! `test_data/README.md`). Every mismatch is collected and reported at once.

use detente_lang::diag::render_plain;
use detente_lang::format::format_source;
use detente_lang::{Diagnostic, check_source};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../test_data");

/// The codes of the diagnostics table in docs/language.md.
const DOCUMENTED_CODES: &[&str] = &[
    "E0001", "E0002", "E0003", "E0101", "E0102", "E0103", "E0201", "E0202", "E0301", "E0302",
    "E0303", "E0304", "E0305", "E0306", "E0307", "E0308", "W0001",
];

fn updating() -> bool {
    std::env::var("UPDATE_EXPECT").is_ok_and(|v| v == "1")
}

/// The `.treaty` files of one folder, sorted by name.
fn treaty_files(folder: &str) -> Vec<PathBuf> {
    let dir = Path::new(DATA).join(folder);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "treaty"))
        .collect();
    files.sort();
    files
}

fn name_of(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Collected mismatches of one test, reported together at the end.
#[derive(Default)]
struct Failures(Vec<String>);

impl Failures {
    fn push(&mut self, path: &Path, message: impl AsRef<str>) {
        let shown = path
            .strip_prefix(Path::new(DATA))
            .map_or_else(|_| path.display().to_string(), |p| p.display().to_string());
        self.0.push(format!(
            "test_data/{shown}:\n{}",
            message.as_ref().trim_end()
        ));
    }

    fn finish(self, what: &str) {
        if self.0.is_empty() {
            return;
        }
        let mut report = format!("{} {what} failed:\n\n", self.0.len());
        for failure in &self.0 {
            report.push_str(failure);
            report.push_str("\n\n");
        }
        if !updating() {
            report.push_str(
                "if the new output is right, regenerate the expected files with\n  \
                 UPDATE_EXPECT=1 cargo test -p detente-lang --test data_driven\n",
            );
        }
        panic!("{report}");
    }
}

/// Compares `actual` with the expected file, or writes it when updating.
fn expect_file(expected_path: &Path, actual: &str, failures: &mut Failures) {
    if updating() {
        let current = std::fs::read_to_string(expected_path).ok();
        if current.as_deref() != Some(actual)
            && let Err(e) = std::fs::write(expected_path, actual)
        {
            failures.push(expected_path, format!("cannot write: {e}"));
        }
        return;
    }
    match std::fs::read_to_string(expected_path) {
        Err(_) => failures.push(
            expected_path,
            format!("the expected file is missing; the actual output is:\n{actual}"),
        ),
        Ok(expected) if expected != actual => {
            failures.push(expected_path, diff(&expected, actual));
        }
        Ok(_) => {}
    }
}

/// A line diff of expected and actual text: `-` lines are expected, `+` lines are actual,
/// with two lines of context around each change.
fn diff(expected: &str, actual: &str) -> String {
    let old: Vec<&str> = expected.lines().collect();
    let new: Vec<&str> = actual.lines().collect();
    // Longest common subsequence table, from the end.
    let width = new.len() + 1;
    let mut lcs = vec![0u32; (old.len() + 1) * width];
    for i in (0..old.len()).rev() {
        for j in (0..new.len()).rev() {
            lcs[i * width + j] = if old[i] == new[j] {
                lcs[(i + 1) * width + j + 1] + 1
            } else {
                lcs[(i + 1) * width + j].max(lcs[i * width + j + 1])
            };
        }
    }
    let mut ops: Vec<(char, usize, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < old.len() || j < new.len() {
        if i < old.len() && j < new.len() && old[i] == new[j] {
            ops.push((' ', i + 1, old[i]));
            i += 1;
            j += 1;
        } else if j < new.len()
            && (i == old.len() || lcs[i * width + j + 1] > lcs[(i + 1) * width + j])
        {
            ops.push(('+', j + 1, new[j]));
            j += 1;
        } else {
            ops.push(('-', i + 1, old[i]));
            i += 1;
        }
    }
    let changed: Vec<usize> = (0..ops.len()).filter(|&k| ops[k].0 != ' ').collect();
    let mut out = String::from("--- expected\n+++ actual\n");
    let mut last_shown: Option<usize> = None;
    for k in 0..ops.len() {
        let near = changed.iter().any(|&c| c.abs_diff(k) <= 2);
        if !near {
            continue;
        }
        if last_shown.is_some_and(|l| l + 1 < k) || (last_shown.is_none() && k > 0) {
            out.push_str("  …\n");
        }
        let (op, line, text) = ops[k];
        let _ = writeln!(out, "{op}{line:>4} | {text}");
        last_shown = Some(k);
    }
    if expected.ends_with('\n') != actual.ends_with('\n') {
        out.push_str("(the files differ in their final line break)\n");
    }
    out
}

fn render_all(diagnostics: &[Diagnostic], file_name: &str, source: &str) -> String {
    diagnostics
        .iter()
        .map(|d| render_plain(d, file_name, source))
        .collect::<Vec<_>>()
        .join("\n")
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

/// The codes an invalid file declares on its first line: `// expect: E0302, E0304`.
fn declared_codes(source: &str) -> Option<BTreeSet<String>> {
    let rest = source.lines().next()?.trim().strip_prefix("// expect:")?;
    Some(
        rest.split(',')
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty())
            .collect(),
    )
}

/// The checks of one valid file.
fn check_valid(path: &Path, failures: &mut Failures) {
    let source = read(path);
    let name = name_of(path);
    let checked = check_source(&source);
    if !checked.diagnostics.is_empty() {
        failures.push(
            path,
            format!(
                "a valid file must check without diagnostics, but got:\n{}",
                render_all(&checked.diagnostics, &name, &source)
            ),
        );
        return;
    }
    let Some(treaty) = checked.treaty else {
        failures.push(path, "no diagnostics, yet no checked treaty");
        return;
    };
    let formatted = match format_source(&source) {
        Ok(text) => text,
        Err(diagnostics) => {
            failures.push(
                path,
                format!(
                    "the formatter refused the file:\n{}",
                    render_all(&diagnostics, &name, &source)
                ),
            );
            return;
        }
    };
    expect_file(&path.with_extension("formatted"), &formatted, failures);

    match format_source(&formatted) {
        Ok(twice) if twice == formatted => {}
        Ok(twice) => failures.push(
            path,
            format!(
                "formatting is not a fixed point: formatting the output again changes it\n{}",
                diff(&formatted, &twice)
            ),
        ),
        Err(diagnostics) => failures.push(
            path,
            format!(
                "the formatted output does not parse:\n{}",
                render_all(&diagnostics, &name, &formatted)
            ),
        ),
    }
    let reformatted = check_source(&formatted);
    let before = strip_spans(&format!("{treaty:?}"));
    let after = reformatted
        .treaty
        .map(|t| strip_spans(&format!("{t:?}")))
        .unwrap_or_default();
    if before != after {
        failures.push(path, "formatting changed the checked treaty");
    }
    let comments = |text: &str| text.matches("//").count();
    if comments(&source) != comments(&formatted) {
        failures.push(
            path,
            format!(
                "formatting lost comments: {} before, {} after",
                comments(&source),
                comments(&formatted)
            ),
        );
    }
}

/// The checks of one invalid file.
fn check_invalid(path: &Path, failures: &mut Failures) {
    let source = read(path);
    let name = name_of(path);
    let checked = check_source(&source);
    let rendered = render_all(&checked.diagnostics, &name, &source);
    expect_file(&path.with_extension("expected"), &rendered, failures);

    if checked.diagnostics.is_empty() {
        failures.push(path, "an invalid file must produce at least one diagnostic");
    }
    let has_error = checked.diagnostics.iter().any(Diagnostic::is_error);
    if has_error == checked.treaty.is_some() {
        failures.push(
            path,
            "a checked treaty must be returned exactly when there is no error",
        );
    }
    let found: BTreeSet<String> = checked
        .diagnostics
        .iter()
        .map(|d| d.code.to_owned())
        .collect();
    match declared_codes(&source) {
        None => failures.push(
            path,
            "the first line must declare the expected codes: `// expect: E0302, …`",
        ),
        Some(declared) if declared != found => failures.push(
            path,
            format!("the file declares the codes {declared:?} but produced {found:?}\n{rendered}"),
        ),
        Some(_) => {}
    }
    // The formatter refuses syntax errors; anything it accepts must be a fixed point.
    if let Ok(once) = format_source(&source) {
        let twice = format_source(&once);
        if twice.as_ref() != Ok(&once) {
            failures.push(path, "formatting is not a fixed point");
        }
    }
}

/// Expected files whose `.treaty` file is gone.
fn orphans(folder: &str, extension: &str, failures: &mut Failures) {
    let dir = Path::new(DATA).join(folder);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == extension)
            && !path.with_extension("treaty").exists()
        {
            failures.push(
                &path,
                "an expected file without its `.treaty` file; delete it",
            );
        }
    }
}

#[test]
fn valid_files_check_and_format_to_their_expected_output() {
    let files = treaty_files("valid");
    assert!(files.len() >= 15, "only {} valid files", files.len());
    let mut failures = Failures::default();
    for path in &files {
        check_valid(path, &mut failures);
    }
    orphans("valid", "formatted", &mut failures);
    failures.finish("valid test files");
}

#[test]
fn invalid_files_report_their_expected_diagnostics() {
    let files = treaty_files("invalid");
    assert!(files.len() >= 30, "only {} invalid files", files.len());
    let mut failures = Failures::default();
    for path in &files {
        check_invalid(path, &mut failures);
    }
    orphans("invalid", "expected", &mut failures);
    failures.finish("invalid test files");
}

/// Every documented code (but `E0001`, tested below with generated input) has a file.
#[test]
fn every_documented_code_has_an_invalid_file() {
    let mut covered = BTreeSet::new();
    for path in treaty_files("invalid") {
        if let Some(codes) = declared_codes(&read(&path)) {
            covered.extend(codes);
        }
    }
    let missing: Vec<&str> = DOCUMENTED_CODES
        .iter()
        .copied()
        .filter(|c| *c != "E0001" && !covered.contains(*c))
        .collect();
    assert!(missing.is_empty(), "no invalid file for {missing:?}");
}

#[test]
fn four_errors_are_all_reported_at_once() {
    let source = read(&Path::new(DATA).join("invalid/four-errors.treaty"));
    let checked = check_source(&source);
    let codes: Vec<&str> = checked.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["E0302", "E0304", "E0301", "E0302"], "{codes:?}");
    let messages: Vec<&str> = checked
        .diagnostics
        .iter()
        .map(|d| d.message.as_str())
        .collect();
    for expected in ["icbm_lanucher", "`+`", "`a` → `b` → `a`", "sdv_ceilng"] {
        assert!(
            messages.iter().any(|m| m.contains(expected)),
            "no diagnostic mentions {expected}: {messages:#?}"
        );
    }
}

/// E0001 needs more than a mebibyte of input, so it is generated rather than stored.
#[test]
fn oversized_source_is_refused_with_e0001() {
    let mut source = String::from("treaty big \"Big\" {\n  parties A, B\n");
    while source.len() <= detente_lang::parser::MAX_SOURCE_BYTES {
        source.push_str("  // padding padding padding padding padding padding padding padding\n");
    }
    source.push_str("}\n");
    let checked = check_source(&source);
    let codes: Vec<&str> = checked.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["E0001"]);
    assert!(checked.treaty.is_none());
    let rendered = render_plain(&checked.diagnostics[0], "big.treaty", &source);
    assert!(
        rendered.contains("the limit is 1048576"),
        "unexpected rendering:\n{rendered}"
    );
    assert!(format_source(&source).is_err());

    // Exactly at the limit is accepted.
    let mut at_limit = String::from("treaty big \"Big\" {\n  parties A, B\n}\n");
    let padding = detente_lang::parser::MAX_SOURCE_BYTES - at_limit.len();
    at_limit.push_str(&" ".repeat(padding));
    assert_eq!(at_limit.len(), detente_lang::parser::MAX_SOURCE_BYTES);
    assert!(check_source(&at_limit).diagnostics.is_empty());
}

#[test]
fn oversized_string_literal_is_refused_with_e0001() {
    let long = "x".repeat(detente_lang::lexer::MAX_STRING_BYTES + 1);
    let source = format!("treaty t \"T\" {{\n  parties A, B\n  deferred d \"{long}\"\n}}\n");
    let checked = check_source(&source);
    let codes: Vec<&str> = checked.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["E0001"]);
    assert!(checked.diagnostics[0].message.contains("65536 bytes"));

    let fits = "x".repeat(detente_lang::lexer::MAX_STRING_BYTES);
    let source = format!("treaty t \"T\" {{\n  parties A, B\n  deferred d \"{fits}\"\n}}\n");
    assert!(check_source(&source).diagnostics.is_empty());
}

/// An expression of more than 4096 nodes that is not deep: E0003 for its size.
#[test]
fn wide_expression_is_refused_with_e0003() {
    let args = vec!["1"; 5000].join(", ");
    let source = format!("treaty t \"T\" {{\n  parties A, B\n  quantity q = max({args})\n}}\n");
    let checked = check_source(&source);
    let codes: Vec<&str> = checked.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["E0003"]);
    assert!(checked.diagnostics[0].message.contains("4096"));
}

/// Node budgets belong to one expression: a polygon of many points, or many statements,
/// never add up to E0003.
#[test]
fn node_budget_is_per_expression() {
    let points: Vec<String> = (0..3000)
        .map(|i| format!("({}.0, {}.5)", i % 80, i % 170))
        .collect();
    let source = format!(
        "treaty t \"T\" {{\n  parties A, B\n  zone z = polygon [{}]\n}}\n",
        points.join(", ")
    );
    let checked = check_source(&source);
    assert!(checked.diagnostics.is_empty(), "{:?}", checked.diagnostics);

    let mut source = String::from("treaty t \"T\" {\n  parties A, B\n  category c { a: int }\n");
    source.push_str("  ban b \"B\" {\n");
    for i in 0..1500 {
        source.push_str(&format!("    item c where a > {i} and a < {}\n", i + 2));
    }
    source.push_str("  }\n}\n");
    let checked = check_source(&source);
    assert!(checked.diagnostics.is_empty(), "{:?}", checked.diagnostics);
}

/// A syntax error inside an expression must not leave the parser thinking it is still
/// nested: later, shallow expressions stay valid.
#[test]
fn errors_do_not_leak_nesting_depth() {
    let mut source = String::from("treaty t \"T\" {\n  parties A, B\n");
    for i in 0..40 {
        source.push_str(&format!("  param p{i} = ((1 + )\n"));
    }
    source.push_str("  param ok = ((((((1))))))\n}\n");
    let checked = check_source(&source);
    let codes: BTreeSet<&str> = checked.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(
        codes,
        BTreeSet::from(["E0201"]),
        "{:?}",
        checked.diagnostics
    );
    assert_eq!(checked.diagnostics.len(), 40);
}
