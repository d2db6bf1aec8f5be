#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The `detente` binary, run for real: every exit code of docs/cli.md, the diagnostics a
//! user sees, `fmt`, `demo`, and the acceptance checks of the New START data.
//!
//! Shipped treaties and scenarios are read with the repository root as the working folder;
//! files a test writes go to a fresh temporary folder, which is then the working folder.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

mod support;

use support::{BIN, ROOT, Run, expect_code, json};

fn run_in(dir: &Path, args: &[&str]) -> Run {
    run_env(dir, args, &[])
}

fn run_env(dir: &Path, args: &[&str], env: &[(&str, &Path)]) -> Run {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE");
    for (key, value) in env {
        command.env(key, value);
    }
    Run::of(command.output().expect("the detente binary runs"))
}

/// Runs with the repository root as the working folder.
fn run(args: &[&str]) -> Run {
    run_in(Path::new(ROOT), args)
}

fn temp() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary folder")
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("the file is written");
    path
}

/// The finding for a party and provision in a JSON report.
fn finding<'r>(report: &'r Value, party: &str, provision: &str) -> &'r Value {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["party"] == party && f["provision"] == provision)
        .unwrap_or_else(|| panic!("no finding for {party} {provision}"))
}

const TINY_TREATY: &str = r#"treaty tiny "A tiny treaty" {
  parties US, USSR
  in_force 2000-01-01
  param cap = 10
  quantity x: int declared
  limit l "Ceiling" {
    x <= cap
  }
  objective o "Lower" {
    x <= 4
  }
}
"#;

const TINY_FACTS: &str = r#"{"kind": "declaration", "party": "US", "id": "us-1", "as_of": "2000-06-01", "quantities": {"x": 5}}
{"kind": "declaration", "party": "USSR", "id": "ussr-1", "as_of": "2000-06-01", "quantities": {"x": 7}}
"#;

/// A treaty whose line 6, column 10 names an undefined param.
const BAD_TREATY: &str = r#"treaty t "T" {
  parties US, USSR
  in_force 2000-01-01
  quantity x: int declared
  limit l "L" {
    x <= ceilng
  }
}
"#;

// ----- exit code 0 -------------------------------------------------------------------------

#[test]
fn check_of_each_shipped_treaty_exits_0() {
    let mut names: Vec<String> = std::fs::read_dir(Path::new(ROOT).join("treaties"))
        .expect("treaties/")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".treaty"))
        .collect();
    names.sort();
    assert!(names.len() >= 3, "{names:?}");
    for name in names {
        let path = format!("treaties/{name}");
        let r = run(&["check", &path]);
        expect_code(&r, 0, &path);
        assert!(
            r.stdout.contains(&format!("{path}: treaty")) && r.stdout.contains("is valid"),
            "{}",
            r.stdout
        );
        assert_eq!(r.stderr, "", "{path}: no diagnostics");
        let r = run(&["check", "--error-format", "json", &path]);
        expect_code(&r, 0, &path);
        assert_eq!(
            json(&r.stdout)["diagnostics"],
            serde_json::json!([]),
            "{path}"
        );
    }
}

#[test]
fn salt_ii_is_never_in_force_so_nothing_is_violated() {
    let r = run(&[
        "assess",
        "--treaty",
        "treaties/salt-ii-1979.treaty",
        "--facts",
        "test_data/reports/salt-ii-facts.jsonl",
        "--at",
        "1980-01-01",
        "--format",
        "json",
    ]);
    expect_code(&r, 0, "SALT II at 1980-01-01");
    let report = json(&r.stdout);
    let findings = report["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 10);
    assert!(
        findings.iter().all(|f| f["status"] == "not_yet_in_force"),
        "{report:#}"
    );
    assert_eq!(report["summary"]["not_yet_in_force"], 10);
    assert_eq!(report["assumptions"]["in_force"], Value::Null);
    // The USSR is over 2400, but the treaty is not in force: the value is still shown.
    assert_eq!(finding(&report, "USSR", "aggregate")["margin"], -104);
}

#[test]
fn tiny_treaty_with_no_violation_exits_0() {
    let dir = temp();
    write(dir.path(), "tiny.treaty", TINY_TREATY);
    write(dir.path(), "facts.jsonl", TINY_FACTS);
    // The objective `o` is violated by both parties; objectives never change the exit code.
    let r = run_in(
        dir.path(),
        &[
            "assess",
            "--treaty",
            "tiny.treaty",
            "--facts",
            "facts.jsonl",
            "--at",
            "2001-01-01",
        ],
    );
    expect_code(&r, 0, "tiny treaty");
    assert!(r.stdout.contains("compliant"), "{}", r.stdout);
    let r = run_in(
        dir.path(),
        &[
            "assess",
            "--treaty",
            "tiny.treaty",
            "--facts",
            "facts.jsonl",
            "--at",
            "2001-01-01",
            "--format",
            "json",
        ],
    );
    expect_code(&r, 0, "tiny treaty, JSON");
    let report = json(&r.stdout);
    assert_eq!(finding(&report, "US", "l")["status"], "compliant");
    assert_eq!(finding(&report, "USSR", "l")["margin"], 3);
    assert_eq!(finding(&report, "USSR", "o")["status"], "violation");
    assert_eq!(finding(&report, "USSR", "o")["kind"], "objective");
    assert_eq!(report["inputs"][0]["name"], "facts.jsonl");
    assert_eq!(report["inputs"][0]["records"], 2);
    // CSV too.
    let r = run_in(
        dir.path(),
        &[
            "assess",
            "--treaty",
            "tiny.treaty",
            "--facts",
            "facts.jsonl",
            "--at",
            "2001-01-01",
            "--format",
            "csv",
        ],
    );
    expect_code(&r, 0, "tiny treaty, CSV");
    assert!(r.stdout.lines().count() >= 5, "{}", r.stdout);
}

#[test]
fn a_set_param_can_turn_compliance_into_a_violation() {
    let dir = temp();
    write(dir.path(), "tiny.treaty", TINY_TREATY);
    write(dir.path(), "facts.jsonl", TINY_FACTS);
    let args = [
        "assess",
        "--treaty",
        "tiny.treaty",
        "--facts",
        "facts.jsonl",
        "--at",
        "2001-01-01",
        "--format",
        "json",
    ];
    let mut with_set = args.to_vec();
    with_set.extend(["--set", "cap=6"]);
    let r = run_in(dir.path(), &with_set);
    expect_code(&r, 1, "--set cap=6");
    let report = json(&r.stdout);
    assert_eq!(finding(&report, "USSR", "l")["status"], "violation");
    assert_eq!(finding(&report, "USSR", "l")["bound"], 6);
    assert_eq!(
        report["assumptions"]["overridden"],
        serde_json::json!(["cap"])
    );
    // `--party` keeps only that party's findings, and the exit code follows them.
    with_set.extend(["--party", "US"]);
    let r = run_in(dir.path(), &with_set);
    expect_code(&r, 0, "--party US");
    let report = json(&r.stdout);
    assert!(
        report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .all(|f| f["party"] == "US")
    );
}

// ----- exit code 1 -------------------------------------------------------------------------

#[test]
fn carter_at_1980_12_31_has_violations() {
    let r = run(&[
        "assess",
        "--treaty",
        "treaties/carter-1977.treaty",
        "--facts",
        "scenarios/carter-1977/facts.jsonl",
        "--at",
        "1980-12-31",
    ]);
    expect_code(&r, 1, "carter-1977 at 1980-12-31");
    assert!(r.stdout.contains("violation"), "{}", r.stdout);
    let r = run(&[
        "assess",
        "--treaty",
        "treaties/carter-1977.treaty",
        "--facts",
        "scenarios/carter-1977/facts.jsonl",
        "--at",
        "1980-12-31",
        "--format",
        "json",
    ]);
    expect_code(&r, 1, "carter-1977 at 1980-12-31, JSON");
    let report = json(&r.stdout);
    let a = finding(&report, "USSR", "a");
    assert_eq!(
        (
            a["status"].as_str(),
            a["value"].as_i64(),
            a["margin"].as_i64()
        ),
        (Some("violation"), Some(2470), Some(-70))
    );
    assert!(
        report["summary"]["violation"]
            .as_u64()
            .is_some_and(|n| n > 0)
    );
}

#[test]
fn timeline_and_plan_run() {
    let dir = temp();
    let chart = dir.path().join("timeline.svg");
    let chart = chart.to_str().expect("a UTF-8 path");
    let r = run(&[
        "timeline",
        "--treaty",
        "treaties/carter-1977.treaty",
        "--facts",
        "scenarios/carter-1977/facts.jsonl",
        "--from",
        "1977-10-03",
        "--to",
        "1983-12-31",
        "--every",
        "6 months",
        "--format",
        "json",
        "--chart",
        chart,
    ]);
    expect_code(&r, 1, "timeline (the USSR is over the ceiling of `a`)");
    let timeline = json(&r.stdout);
    assert!(timeline["points"].as_array().is_some_and(|p| !p.is_empty()));
    let svg = std::fs::read_to_string(chart).expect("the chart is written");
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));

    let r = run(&[
        "plan",
        "--treaty",
        "treaties/carter-1977.treaty",
        "--facts",
        "scenarios/carter-1977/facts.jsonl",
        "--at",
        "1980-12-31",
        "--party",
        "USSR",
        "--format",
        "json",
    ]);
    expect_code(&r, 0, "plan");
    let plans = json(&r.stdout);
    let milestones = plans[0]["milestones"].as_array().expect("milestones");
    // objective-sdv steps to 1920 on 1981-10-03 and 1800 on 1982-10-03; USSR declared 2470.
    let owed = |date: &str| {
        milestones
            .iter()
            .find(|m| m["provision"] == "objective-sdv" && m["date"] == date)
            .map(|m| m["reduction_owed"].clone())
    };
    assert_eq!(owed("1981-10-03"), Some(serde_json::json!(550)));
    assert_eq!(owed("1982-10-03"), Some(serde_json::json!(670)));
}

// ----- exit code 2 -------------------------------------------------------------------------

#[test]
fn check_of_a_treaty_with_an_error_shows_the_code_and_the_underlined_span() {
    let dir = temp();
    write(dir.path(), "bad.treaty", BAD_TREATY);
    let r = run_in(dir.path(), &["check", "bad.treaty"]);
    expect_code(&r, 2, "check bad.treaty");
    assert_eq!(r.stdout, "", "nothing on stdout");
    assert!(r.stderr.contains("E0302"), "{}", r.stderr);
    assert!(r.stderr.contains("ceilng"), "{}", r.stderr);
    assert!(r.stderr.contains("bad.treaty:6:10"), "{}", r.stderr);
    // The source line is quoted and the name is underlined beneath it, column for column.
    let lines: Vec<&str> = r.stderr.lines().collect();
    let quoted = lines
        .iter()
        .position(|l| l.contains("x <= ceilng"))
        .expect("the source line is shown");
    let under = lines.get(quoted + 1).expect("a line under the source");
    let name_at = lines[quoted].find("ceilng").expect("the name");
    let name_col = lines[quoted][..name_at].chars().count();
    let marks: String = under.chars().skip(name_col).take(6).collect();
    assert!(
        marks.chars().all(|c| "─^~┬".contains(c)) && marks.chars().count() == 6,
        "underline {marks:?} in\n{}",
        r.stderr
    );
    assert!(r.stderr.contains("help:"), "{}", r.stderr);
}

#[test]
fn check_with_json_errors_gives_code_line_and_column() {
    let dir = temp();
    write(dir.path(), "bad.treaty", BAD_TREATY);
    let r = run_in(
        dir.path(),
        &["check", "--error-format", "json", "bad.treaty"],
    );
    expect_code(&r, 2, "check --error-format json");
    let out = json(&r.stdout);
    let d = &out["diagnostics"][0];
    assert_eq!(d["code"], "E0302");
    assert_eq!(d["severity"], "error");
    assert_eq!(d["file"], "bad.treaty");
    let label = &d["labels"][0];
    assert_eq!(
        (label["line"].as_u64(), label["column"].as_u64()),
        (Some(6), Some(10))
    );
    assert_eq!(label["text"], "ceilng");
    assert_eq!(label["end_column"], 16);
    let start = label["start"].as_u64().expect("start") as usize;
    assert_eq!(BAD_TREATY.get(start..start + 6), Some("ceilng"));
}

#[test]
fn check_reports_every_error_at_once() {
    let r = run(&[
        "check",
        "--error-format",
        "json",
        "test_data/invalid/four-errors.treaty",
    ]);
    expect_code(&r, 2, "four-errors.treaty");
    let out = json(&r.stdout);
    let codes: Vec<&str> = out["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter_map(|d| d["code"].as_str())
        .collect();
    assert!(codes.len() >= 4, "{codes:?}");
    assert!(
        codes.contains(&"E0302") && codes.contains(&"E0301"),
        "{codes:?}"
    );
}

#[test]
fn assess_of_a_treaty_with_an_error_exits_2() {
    let dir = temp();
    write(dir.path(), "bad.treaty", BAD_TREATY);
    write(dir.path(), "facts.jsonl", TINY_FACTS);
    let r = run_in(
        dir.path(),
        &[
            "assess",
            "--treaty",
            "bad.treaty",
            "--facts",
            "facts.jsonl",
            "--at",
            "2001-01-01",
        ],
    );
    expect_code(&r, 2, "assess bad.treaty");
    assert!(
        r.stderr.contains("E0302") && r.stderr.contains("bad.treaty:6:10"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stdout, "");
    let r = run_in(
        dir.path(),
        &[
            "assess",
            "--treaty",
            "bad.treaty",
            "--facts",
            "facts.jsonl",
            "--at",
            "2001-01-01",
            "--error-format",
            "json",
        ],
    );
    expect_code(&r, 2, "assess bad.treaty, JSON errors");
    let out = json(&r.stderr);
    assert_eq!(out["diagnostics"][0]["code"], "E0302");
    assert_eq!(out["diagnostics"][0]["labels"][0]["line"], 6);
    assert_eq!(out["diagnostics"][0]["labels"][0]["column"], 10);
}

#[test]
fn a_facts_file_with_a_bad_line_names_file_line_and_column() {
    let dir = temp();
    write(dir.path(), "tiny.treaty", TINY_TREATY);
    let bad_line =
        r#"{"kind": "declaration", "party": "US", "as_of": "2000-13-01", "quantities": {"x": 5}}"#;
    let text = format!(
        "{}\n{bad_line}\n",
        TINY_FACTS.lines().next().expect("a line")
    );
    write(dir.path(), "bad.jsonl", &text);
    let r = run_in(
        dir.path(),
        &[
            "assess",
            "--treaty",
            "tiny.treaty",
            "--facts",
            "bad.jsonl",
            "--at",
            "2001-01-01",
        ],
    );
    expect_code(&r, 2, "bad facts");
    let column = bad_line.find("\"2000-13-01\"").expect("the value") + 1;
    let location = format!("bad.jsonl:2:{column}:");
    assert!(
        r.stderr.contains(&location),
        "want {location} in\n{}",
        r.stderr
    );
    assert!(r.stderr.contains("2000-13-01"), "{}", r.stderr);
    assert_eq!(r.stdout, "");

    // Not JSON at all.
    write(dir.path(), "broken.jsonl", "{\"kind\": \"declaration\",\n");
    let r = run_in(
        dir.path(),
        &[
            "assess",
            "--treaty",
            "tiny.treaty",
            "--facts",
            "broken.jsonl",
            "--at",
            "2001-01-01",
        ],
    );
    expect_code(&r, 2, "broken JSON");
    assert!(r.stderr.contains("broken.jsonl:1:"), "{}", r.stderr);
}

#[test]
fn an_unknown_party_in_the_facts_gets_a_did_you_mean() {
    let dir = temp();
    write(dir.path(), "tiny.treaty", TINY_TREATY);
    let text = format!(
        "{}{}\n",
        TINY_FACTS,
        r#"{"kind": "declaration", "party": "UZ", "as_of": "2000-06-01", "quantities": {"x": 5}}"#
    );
    write(dir.path(), "party.jsonl", &text);
    let r = run_in(
        dir.path(),
        &[
            "assess",
            "--treaty",
            "tiny.treaty",
            "--facts",
            "party.jsonl",
            "--at",
            "2001-01-01",
        ],
    );
    expect_code(&r, 2, "unknown party");
    assert!(r.stderr.contains("party.jsonl:3"), "{}", r.stderr);
    assert!(r.stderr.contains("unknown party `UZ`"), "{}", r.stderr);
    assert!(r.stderr.contains("did you mean `US`?"), "{}", r.stderr);
}

#[test]
fn bad_arguments_exit_2() {
    let dir = temp();
    write(dir.path(), "tiny.treaty", TINY_TREATY);
    write(dir.path(), "facts.jsonl", TINY_FACTS);
    let base = [
        "assess",
        "--treaty",
        "tiny.treaty",
        "--facts",
        "facts.jsonl",
    ];
    let cases: &[(&str, &[&str], &[&str])] = &[
        (
            "unknown --set param",
            &["--at", "2001-01-01", "--set", "cpa=3"],
            &["no param `cpa`", "did you mean `cap`?"],
        ),
        (
            "--set without a value",
            &["--at", "2001-01-01", "--set", "cap"],
            &["--set cap", "not an assignment"],
        ),
        (
            "--set of the wrong type",
            &["--at", "2001-01-01", "--set", "cap=lots"],
            &["cap", "lots"],
        ),
        (
            "--at is not a date",
            &["--at", "1980-13-45"],
            &["--at 1980-13-45", "not a date"],
        ),
        (
            "--at is a word",
            &["--at", "yesterday"],
            &["--at yesterday"],
        ),
        (
            "unknown interpretation",
            &["--at", "2001-01-01", "--interpretation", "ru-2021"],
            &["no interpretation `ru-2021`"],
        ),
        (
            "bad --assume-in-force",
            &["--at", "2001-01-01", "--assume-in-force", "soon"],
            &["--assume-in-force soon"],
        ),
        (
            "unknown --format",
            &["--at", "2001-01-01", "--format", "xml"],
            &["xml"],
        ),
        ("no --at", &[], &["--at"]),
    ];
    for (name, extra, needles) in cases {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        let r = run_in(dir.path(), &args);
        expect_code(&r, 2, name);
        for needle in *needles {
            assert!(
                r.stderr.contains(needle),
                "{name}: want {needle:?} in\n{}",
                r.stderr
            );
        }
        assert_eq!(r.stdout, "", "{name}: nothing on stdout");
    }
    // Missing files.
    let r = run_in(
        dir.path(),
        &[
            "assess",
            "--treaty",
            "tiny.treaty",
            "--facts",
            "nowhere.jsonl",
            "--at",
            "2001-01-01",
        ],
    );
    expect_code(&r, 2, "missing facts file");
    assert!(r.stderr.contains("nowhere.jsonl"), "{}", r.stderr);
    let r = run_in(dir.path(), &["check", "nowhere.treaty"]);
    expect_code(&r, 2, "missing treaty");
    assert!(r.stderr.contains("nowhere.treaty"), "{}", r.stderr);
    let r = run_in(
        dir.path(),
        &[
            "plan",
            "--treaty",
            "tiny.treaty",
            "--at",
            "2001-01-01",
            "--party",
            "UK",
        ],
    );
    expect_code(&r, 2, "plan for an unknown party");
    assert!(r.stderr.contains("UK"), "{}", r.stderr);
}

// ----- fmt -----------------------------------------------------------------------------------

#[test]
fn fmt_check_flags_an_unformatted_file_and_fmt_rewrites_it() {
    let dir = temp();
    let messy =
        "// kept\ntreaty  t \"T\"{\nparties A,B\n      in_force 2000-01-01\n  param cap=10\n}\n";
    let path = write(dir.path(), "messy.treaty", messy);
    let r = run_in(dir.path(), &["fmt", "--check", "messy.treaty"]);
    expect_code(&r, 1, "fmt --check of an unformatted file");
    assert!(
        r.stderr.contains("messy.treaty") && r.stderr.contains("not formatted"),
        "{}",
        r.stderr
    );
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        messy,
        "--check writes nothing"
    );

    let r = run_in(dir.path(), &["fmt", "messy.treaty"]);
    expect_code(&r, 0, "fmt");
    let formatted = std::fs::read_to_string(&path).expect("read");
    assert_ne!(formatted, messy);
    assert!(
        formatted.contains("// kept"),
        "comments are kept:\n{formatted}"
    );
    assert!(formatted.contains("treaty t \"T\" {\n"), "{formatted}");
    assert!(formatted.contains("\n  parties A, B\n"), "{formatted}");
    assert!(
        formatted.contains("\n  in_force 2000-01-01\n"),
        "{formatted}"
    );

    let r = run_in(dir.path(), &["fmt", "--check", "messy.treaty"]);
    expect_code(&r, 0, "fmt --check after fmt");
    let r = run_in(dir.path(), &["fmt", "messy.treaty"]);
    expect_code(&r, 0, "fmt is idempotent");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), formatted);
    let r = run_in(dir.path(), &["check", "messy.treaty"]);
    expect_code(&r, 0, "the formatted treaty is still valid");
}

#[test]
fn fmt_never_rewrites_a_file_with_syntax_errors() {
    let dir = temp();
    let broken = "treaty t \"T\" {\n  parties A, B\n  limit l \"L\" {\n";
    let path = write(dir.path(), "broken.treaty", broken);
    let r = run_in(dir.path(), &["fmt", "broken.treaty"]);
    expect_code(&r, 2, "fmt of a file with syntax errors");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), broken);
}

#[test]
fn shipped_treaties_are_formatted() {
    let r = run(&[
        "fmt",
        "--check",
        "treaties/carter-1977.treaty",
        "treaties/new-start-2010.treaty",
        "treaties/salt-ii-1979.treaty",
    ]);
    expect_code(&r, 0, "fmt --check of the shipped treaties");
}

// ----- demo ----------------------------------------------------------------------------------

#[test]
fn demo_prints_findings_the_plan_and_a_chart() {
    let dir = temp();
    // Without --chart the chart goes to the temporary folder: point it at ours.
    let r = run_env(
        dir.path(),
        &["demo", "--no-serve"],
        &[("TMPDIR", dir.path())],
    );
    expect_code(&r, 0, "demo --no-serve");
    for date in ["1978-07-01", "1980-12-31", "1982-12-31"] {
        assert!(
            r.stdout.contains(&format!("== Findings at {date} ==")),
            "{date} in\n{}",
            r.stdout
        );
    }
    assert!(r.stdout.contains("Reductions still owed"), "{}", r.stdout);
    assert!(
        r.stdout.contains("violation"),
        "the scenario plants violations"
    );
    let chart = r
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("chart: "))
        .expect("the chart's path is printed");
    let svg = std::fs::read_to_string(chart.trim()).expect("the chart file exists");
    assert!(
        svg.starts_with("<svg") && svg.contains("xmlns=\"http://www.w3.org/2000/svg\""),
        "{}",
        &svg[..200.min(svg.len())]
    );
    assert!(svg.trim_end().ends_with("</svg>"));

    let path = dir.path().join("demo.svg");
    let r = run_in(
        dir.path(),
        &[
            "demo",
            "--no-serve",
            "--chart",
            path.to_str().expect("a UTF-8 path"),
        ],
    );
    expect_code(&r, 0, "demo --chart");
    assert!(
        r.stdout.contains(&format!("chart: {}", path.display())),
        "{}",
        r.stdout
    );
    assert!(
        std::fs::read_to_string(&path)
            .expect("the chart")
            .starts_with("<svg")
    );
}

// ----- New START acceptance checks ----------------------------------------------------------

fn new_start(at: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "assess",
        "--treaty",
        "treaties/new-start-2010.treaty",
        "--facts",
        "scenarios/new-start/aggregates.jsonl",
        "--facts",
        "scenarios/new-start/us-2020-09-01.jsonl",
        "--at",
        at,
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn new_start_2017_russian_warheads_not_yet_bound() {
    let r = new_start("2017-09-01", &[]);
    assert!(r.code == 0 || r.code == 1, "{r:?}");
    let report = json(&r.stdout);
    let w = finding(&report, "RU", "deployed-warheads");
    assert_eq!(w["status"], "not_yet_in_force");
    assert_eq!(w["value"], 1561);
    assert_eq!(w["bound"], 1550);
    assert_eq!(w["margin"], -11);
    assert_eq!(w["effective_from"], "2018-02-05");
    for party in ["US", "RU"] {
        for limit in [
            "deployed-delivery-vehicles",
            "deployed-warheads",
            "launchers",
        ] {
            assert_eq!(
                finding(&report, party, limit)["status"],
                "not_yet_in_force",
                "{party} {limit}"
            );
        }
    }
}

#[test]
fn new_start_2018_central_limits_met() {
    let r = new_start("2018-09-01", &[]);
    let report = json(&r.stdout);
    for party in ["US", "RU"] {
        for limit in [
            "deployed-delivery-vehicles",
            "deployed-warheads",
            "launchers",
        ] {
            let f = finding(&report, party, limit);
            assert_eq!(f["status"], "compliant", "{party} {limit}: {f:#}");
            assert!(
                f["margin"].as_i64().is_some_and(|m| m >= 0),
                "{party} {limit}"
            );
        }
    }
}

#[test]
fn new_start_2020_us_launchers_under_both_readings() {
    let r = new_start("2020-09-01", &[]);
    let report = json(&r.stdout);
    let l = finding(&report, "US", "launchers");
    assert_eq!(
        (
            l["value"].as_i64(),
            l["status"].as_str(),
            l["margin"].as_i64()
        ),
        (Some(800), Some("compliant"), Some(0))
    );
    assert_eq!(report["assumptions"]["interpretation"], Value::Null);

    let r = new_start("2020-09-01", &["--interpretation", "ru-2021"]);
    expect_code(&r, 1, "ru-2021: 901 launchers is over 800");
    let report = json(&r.stdout);
    let l = finding(&report, "US", "launchers");
    assert_eq!(
        (
            l["value"].as_i64(),
            l["status"].as_str(),
            l["margin"].as_i64()
        ),
        (Some(901), Some("violation"), Some(-101))
    );
    assert_eq!(report["assumptions"]["interpretation"], "ru-2021");
    assert_eq!(l["evidence"]["interpretation"], "ru-2021");
    // The other US limits do not depend on the reading.
    assert_eq!(finding(&report, "US", "deployed-warheads")["value"], 1457);
    assert_eq!(
        finding(&report, "US", "deployed-delivery-vehicles")["value"],
        675
    );

    // The by-type file alone (scenarios/new-start/README.md): 800, and 901 under ru-2021.
    let alone = |extra: &[&str]| {
        let mut args = vec![
            "assess",
            "--treaty",
            "treaties/new-start-2010.treaty",
            "--facts",
            "scenarios/new-start/us-2020-09-01.jsonl",
            "--at",
            "2020-09-01",
            "--format",
            "json",
            "--party",
            "US",
        ];
        args.extend_from_slice(extra);
        json(&run(&args).stdout)
    };
    assert_eq!(finding(&alone(&[]), "US", "launchers")["value"], 800);
    assert_eq!(
        finding(&alone(&["--interpretation", "ru-2021"]), "US", "launchers")["value"],
        901
    );
}

#[test]
fn new_start_expires() {
    let report = json(&new_start("2026-02-05", &[]).stdout);
    assert!(
        report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .all(|f| f["status"] == "expired"),
        "{report:#}"
    );
    let report = json(&new_start("2026-02-04T23:59:59Z", &[]).stdout);
    assert_eq!(finding(&report, "US", "launchers")["status"], "compliant");
}

/// `--party` naming a party the treaty does not have is invalid input (exit 2), as `plan`
/// already treats it. `assess` and `timeline` instead drop every finding and exit 0, so a
/// typo (`SU` for `USSR`) hides the USSR's violations.
#[test]
fn an_unknown_party_filter_is_refused() {
    for command in [
        &[
            "assess",
            "--treaty",
            "treaties/carter-1977.treaty",
            "--facts",
            "scenarios/carter-1977/facts.jsonl",
            "--at",
            "1980-12-31",
            "--party",
            "SU",
        ][..],
        &[
            "timeline",
            "--treaty",
            "treaties/carter-1977.treaty",
            "--facts",
            "scenarios/carter-1977/facts.jsonl",
            "--from",
            "1980-01-01",
            "--to",
            "1980-12-31",
            "--party",
            "SU",
        ][..],
    ] {
        let r = run(command);
        expect_code(&r, 2, &command.join(" "));
        assert!(r.stderr.contains("SU"), "{}", r.stderr);
    }
}
