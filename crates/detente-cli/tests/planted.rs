#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The planted situations of `scenarios/carter-1977/README.md`, checked one by one against
//! what `detente assess` reports at the README's four instants.
//!
//! Each instant is assessed with `--set civil_defense_cap=1000 --set arms_sales_cap=2000`
//! (the README's "Summary of violations"). Every finding that is not `compliant` is listed
//! below with its status and its violations (`reason:ids`, ids sorted; `exceeds_bound`
//! without ids); every finding not listed must be `compliant`.

use serde_json::Value;
use std::collections::BTreeMap;
use std::process::Command;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

fn assess(at: &str, caps: bool) -> (i32, Value) {
    let mut args = vec![
        "assess",
        "--treaty",
        "treaties/carter-1977.treaty",
        "--facts",
        "scenarios/carter-1977/facts.jsonl",
        "--at",
        at,
        "--format",
        "json",
    ];
    if caps {
        args.extend([
            "--set",
            "civil_defense_cap=1000",
            "--set",
            "arms_sales_cap=2000",
        ]);
    }
    let output = Command::new(env!("CARGO_BIN_EXE_detente"))
        .args(&args)
        .current_dir(ROOT)
        .output()
        .expect("the detente binary runs");
    let report = serde_json::from_slice(&output.stdout).expect("a JSON report");
    (output.status.code().expect("an exit code"), report)
}

/// `PARTY PROVISION STATUS reason:ids …` for a finding, violations sorted.
fn line(f: &Value) -> String {
    let mut reasons: Vec<String> = f["violations"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|v| {
            let reason = v["reason"].as_str().unwrap_or("?");
            if reason == "exceeds_bound" {
                return reason.to_owned();
            }
            let mut ids: Vec<&str> = v["ids"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .filter_map(Value::as_str)
                .collect();
            ids.sort_unstable();
            format!("{reason}:{}", ids.join(","))
        })
        .collect();
    reasons.sort();
    let mut out = format!(
        "{} {} {}",
        f["party"].as_str().unwrap_or("?"),
        f["provision"].as_str().unwrap_or("?"),
        f["status"].as_str().unwrap_or("?")
    );
    for r in reasons {
        out.push(' ');
        out.push_str(&r);
    }
    out
}

fn check_instant(at: &str, want: &[&str], violations: u64) {
    let (code, report) = assess(at, true);
    assert_eq!(code, 1, "{at}: exit code");
    let mut got: Vec<String> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["status"] != "compliant")
        .map(line)
        .collect();
    got.sort();
    let mut want: Vec<String> = want.iter().map(|s| (*s).to_owned()).collect();
    want.sort();
    let missing: Vec<&String> = want.iter().filter(|w| !got.contains(w)).collect();
    let unexpected: Vec<&String> = got.iter().filter(|g| !want.contains(g)).collect();
    assert!(
        missing.is_empty() && unexpected.is_empty(),
        "{at}: findings differ from scenarios/carter-1977/README.md\n  expected, not reported:\n    {}\n  reported, not expected:\n    {}",
        missing
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n    "),
        unexpected
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n    ")
    );
    assert_eq!(
        report["summary"]["violation"], violations,
        "{at}: count of violation findings"
    );
    assert_eq!(
        report["findings"].as_array().map(Vec::len),
        Some(24),
        "{at}: 12 provisions × 2 parties"
    );
    let deferred: Vec<&str> = report["deferred"]
        .as_array()
        .expect("deferred")
        .iter()
        .filter_map(|d| d["id"].as_str())
        .collect();
    assert_eq!(
        deferred,
        ["cruise-missiles", "backfire"],
        "{at}: deferred issues"
    );
}

const L2: &str = "unnotified_event:l2-us-1978-06-20-launch";
const L3: &str = "outside_notified_window:l3-ussr-1979-02-06-launch,l3-ussr-1979-02-06-ntf";
const L4: &str = "late_notification:l4-us-1979-04-11-launch,l4-us-1979-04-11-ntf";
const L5: &str = "outside_launch_area:l5-ussr-1980-03-12-launch,l5-ussr-1980-03-12-ntf";
const L6: &str = "missing_required_field:l6-ussr-1980-09-10-ntf";
const L7: &str = "outside_impact_area:l7-us-1981-05-06-launch,l7-us-1981-05-06-ntf";

fn s(parts: &[&str]) -> String {
    parts.join(" ")
}

#[test]
fn planted_at_1978_09_30() {
    let want = [
        s(&["US d violation", L2]),
        s(&["US g violation in_zone:us-base-diego-garcia"]),
        s(&["US i violation exceeds_bound"]),
        s(&["US j not_yet_in_force"]),
        s(&["USSR a violation exceeds_bound"]),
        s(&["USSR f violation prohibited_event:f1-ussr-asat-1978-05-19"]),
        s(&["USSR g violation in_zone:ussr-warship-arabian-sea"]),
        s(&["USSR h violation exceeds_bound"]),
        s(&["USSR j not_yet_in_force"]),
        s(&["USSR objective-sdv violation exceeds_bound"]),
    ];
    check_instant(
        "1978-09-30",
        &want.iter().map(String::as_str).collect::<Vec<_>>(),
        8,
    );
}

#[test]
fn planted_at_1979_09_30() {
    let want = [
        s(&["US c violation late_declaration:us-1979-01-01"]),
        s(&["US d violation", L4, L2]),
        s(&["US e violation prohibited_event:e2-us-nts-1979-09-06"]),
        s(&["US g violation in_zone:us-base-diego-garcia"]),
        s(&["US j not_yet_in_force"]),
        s(&["USSR a violation exceeds_bound"]),
        s(&["USSR b violation inconsistent_declaration:ussr-1979-07-01"]),
        s(&["USSR c violation inconsistent_declaration:ussr-1979-07-01"]),
        s(&["USSR d violation", L3]),
        s(&[
            "USSR f violation prohibited_event:f1-ussr-asat-1978-05-19 prohibited_item:ussr-sat-armed-1",
        ]),
        s(&["USSR g violation in_zone:ussr-warship-arabian-sea"]),
        s(&["USSR h violation exceeds_bound"]),
        s(&["USSR j not_yet_in_force"]),
        s(&["USSR objective-mirv violation inconsistent_declaration:ussr-1979-07-01"]),
        s(&["USSR objective-sdv violation exceeds_bound"]),
    ];
    check_instant(
        "1979-09-30",
        &want.iter().map(String::as_str).collect::<Vec<_>>(),
        13,
    );
}

#[test]
fn planted_at_1980_12_31() {
    let want = [
        s(&["US c violation late_declaration:us-1979-01-01"]),
        s(&["US d violation", L4, L2]),
        s(&["US e violation prohibited_event:e2-us-nts-1979-09-06"]),
        s(&["US g violation in_zone:us-base-diego-garcia"]),
        s(&["US i violation exceeds_bound"]),
        s(&["US objective-sdv violation exceeds_bound"]),
        s(&["USSR a violation exceeds_bound"]),
        s(&["USSR c violation inconsistent_declaration:ussr-1979-07-01 missing_declaration:"]),
        s(&["USSR d violation", L6, L5, L3]),
        s(&["USSR e violation undeclared_explosion:e4-us-seismic-1980-06-29"]),
        s(&[
            "USSR f violation prohibited_event:f1-ussr-asat-1978-05-19 prohibited_item:ussr-sat-armed-1",
        ]),
        s(&["USSR g violation in_zone:ussr-warship-arabian-sea"]),
        s(&["USSR h violation exceeds_bound"]),
        s(&["USSR i violation exceeds_bound"]),
        s(&["USSR j violation prohibited_item:ussr-icbm-m02-ss16"]),
        s(&["USSR objective-sdv violation exceeds_bound"]),
    ];
    check_instant(
        "1980-12-31",
        &want.iter().map(String::as_str).collect::<Vec<_>>(),
        16,
    );
}

#[test]
fn planted_at_1982_12_31() {
    let want = [
        s(&["US c violation late_declaration:us-1979-01-01"]),
        s(&["US d violation", L4, L7, L2]),
        s(&["US e violation prohibited_event:e2-us-nts-1979-09-06"]),
        s(&["US g violation in_zone:us-base-diego-garcia"]),
        s(&["US objective-sdv violation exceeds_bound"]),
        s(&["USSR c violation inconsistent_declaration:ussr-1979-07-01 missing_declaration:"]),
        s(&["USSR d violation", L6, L5, L3]),
        s(&[
            "USSR e violation prohibited_event:e3-ussr-pne-1981-10-08 undeclared_explosion:e4-us-seismic-1980-06-29",
        ]),
        s(&["USSR f violation prohibited_event:f1-ussr-asat-1978-05-19"]),
        s(&["USSR h violation exceeds_bound"]),
        s(&["USSR i violation exceeds_bound"]),
        s(&["USSR objective-sdv violation exceeds_bound"]),
    ];
    check_instant(
        "1982-12-31",
        &want.iter().map(String::as_str).collect::<Vec<_>>(),
        12,
    );
}

/// Values, bounds and margins of the limits and objectives, from the README's tables.
#[test]
fn planted_values() {
    // (at, party, provision, value, bound)
    let cases: &[(&str, &str, &str, f64, f64)] = &[
        ("1978-09-30", "USSR", "a", 2481.0, 2400.0),
        ("1979-09-30", "USSR", "a", 2506.0, 2400.0),
        ("1980-12-31", "USSR", "a", 2470.0, 2400.0),
        ("1982-12-31", "USSR", "a", 2378.0, 2400.0),
        ("1979-09-30", "USSR", "b", 742.0, 1320.0),
        ("1982-12-31", "USSR", "b", 972.0, 1320.0),
        ("1978-09-30", "USSR", "h", 2000.0, 1000.0),
        ("1979-09-30", "USSR", "h", 2050.0, 1000.0),
        ("1980-12-31", "USSR", "h", 2100.0, 1000.0),
        ("1982-12-31", "USSR", "h", 2200.0, 1000.0),
        ("1978-09-30", "US", "i", 3700.0, 2000.0),
        ("1978-09-30", "USSR", "i", 1800.0, 2000.0),
        ("1979-09-30", "US", "i", 500.0, 2000.0),
        ("1979-09-30", "USSR", "i", 900.0, 2000.0),
        ("1980-12-31", "US", "i", 2700.0, 2000.0),
        ("1980-12-31", "USSR", "i", 2100.0, 2000.0),
        ("1982-12-31", "US", "i", 1500.0, 2000.0),
        ("1982-12-31", "USSR", "i", 2400.0, 2000.0),
        ("1978-09-30", "US", "objective-sdv", 2283.0, 2400.0),
        ("1978-09-30", "USSR", "objective-sdv", 2481.0, 2400.0),
        ("1979-09-30", "US", "objective-sdv", 2251.0, 2280.0),
        ("1979-09-30", "USSR", "objective-sdv", 2506.0, 2280.0),
        ("1980-12-31", "US", "objective-sdv", 2180.0, 2040.0),
        ("1980-12-31", "USSR", "objective-sdv", 2470.0, 2040.0),
        ("1982-12-31", "US", "objective-sdv", 2122.0, 1800.0),
        ("1982-12-31", "USSR", "objective-sdv", 2378.0, 1800.0),
        ("1978-09-30", "US", "objective-mirv", 1046.0, 1320.0),
        ("1979-09-30", "USSR", "objective-mirv", 742.0, 1276.0),
        ("1980-12-31", "US", "objective-mirv", 1046.0, 1188.0),
        ("1982-12-31", "US", "objective-mirv", 1070.0, 1100.0),
        ("1982-12-31", "USSR", "objective-mirv", 972.0, 1100.0),
    ];
    let mut reports: BTreeMap<&str, Value> = BTreeMap::new();
    for (at, party, provision, value, bound) in cases {
        let report = reports.entry(at).or_insert_with(|| assess(at, true).1);
        let f = report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .find(|f| f["party"] == *party && f["provision"] == *provision)
            .unwrap_or_else(|| panic!("{at} {party} {provision}: no finding"));
        let got = (
            f["value"].as_f64(),
            f["bound"].as_f64(),
            f["margin"].as_f64(),
        );
        assert_eq!(
            got,
            (Some(*value), Some(*bound), Some(bound - value)),
            "{at} {party} {provision}"
        );
    }
    // The undeclared explosion's yield: 10^((6.1 − 4.45)/0.75) ≈ 158.5 kt.
    let report = reports
        .entry("1980-12-31")
        .or_insert_with(|| assess("1980-12-31", true).1);
    let e = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["party"] == "USSR" && f["provision"] == "e")
        .expect("USSR e");
    let y = e["violations"][0]["evidence"]["yield_kt"]
        .as_f64()
        .expect("yield_kt");
    assert!((y - 10f64.powf(1.65 / 0.75)).abs() < 0.001, "{y}");
    // The inconsistent declaration: declared 598, computed 608.
    let c = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["party"] == "USSR" && f["provision"] == "c")
        .expect("USSR c");
    let v = c["violations"]
        .as_array()
        .expect("violations")
        .iter()
        .find(|v| v["reason"] == "inconsistent_declaration")
        .expect("inconsistent_declaration");
    assert_eq!(
        (
            v["evidence"]["declared"].as_i64(),
            v["evidence"]["computed"].as_i64()
        ),
        (Some(598), Some(608))
    );
}

/// Without values for the two params that have none, `h` and `i` are `no_data`.
#[test]
fn planted_without_caps() {
    let (code, report) = assess("1978-09-30", false);
    assert_eq!(code, 1);
    assert_eq!(report["summary"]["violation"], 6);
    assert_eq!(report["summary"]["no_data"], 4);
    for f in report["findings"].as_array().expect("findings") {
        let provision = f["provision"].as_str().unwrap_or_default();
        if provision == "h" || provision == "i" {
            assert_eq!(f["status"], "no_data", "{f}");
            let param = if provision == "h" {
                "civil_defense_cap"
            } else {
                "arms_sales_cap"
            };
            assert_eq!(f["reason"], format!("param `{param}` has no value"));
        }
    }
}
