#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The engine's rules at their boundaries, table-driven, on small inline treaties and facts.
//!
//! Each table row is one situation: the facts, the instant, and the status and violation
//! reasons expected for one party and provision. The rules tested are those of
//! `docs/language.md` and `docs/facts.md` ("How facts become findings").

use detente_assess::engine::{Engine, Options, Provenance};
use detente_assess::facts::{Facts, load_str};
use detente_assess::report::{Finding, Num, Plan, Report, Status};
use detente_lang::model::Treaty;
use detente_lang::time::Instant;
use std::collections::BTreeMap;

// ----- helpers ---------------------------------------------------------------------------

fn treaty(source: &str) -> Treaty {
    let checked = detente_lang::check_source(source);
    let errors: Vec<_> = checked
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .collect();
    assert!(errors.is_empty(), "the test treaty has errors: {errors:#?}");
    checked.treaty.expect("a checked treaty")
}

fn facts(text: &str) -> Facts {
    let (facts, errors) = load_str("facts.jsonl", text);
    assert!(errors.is_empty(), "the test facts have errors: {errors:#?}");
    facts
}

fn instant(text: &str) -> Instant {
    Instant::parse(text).unwrap_or_else(|| panic!("not an instant: {text}"))
}

fn options(params: &[(&str, &str)]) -> Options {
    Options {
        params: params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        ..Options::default()
    }
}

/// Assesses `facts` under `source` at `at`, with param overrides.
fn assess_with(source: &str, facts_text: &str, params: &[(&str, &str)], at: &str) -> Report {
    let treaty = treaty(source);
    let facts = facts(facts_text);
    let engine = Engine::new(
        &treaty,
        &facts,
        BTreeMap::new(),
        &options(params),
        Provenance::default(),
    )
    .expect("the engine accepts the treaty and options");
    engine.assess(instant(at))
}

fn assess(source: &str, facts_text: &str, at: &str) -> Report {
    assess_with(source, facts_text, &[], at)
}

fn plan(source: &str, facts_text: &str, party: &str, at: &str) -> Plan {
    let treaty = treaty(source);
    let facts = facts(facts_text);
    let engine = Engine::new(
        &treaty,
        &facts,
        BTreeMap::new(),
        &Options::default(),
        Provenance::default(),
    )
    .expect("the engine accepts the treaty");
    engine.plan(party, instant(at))
}

fn finding<'r>(report: &'r Report, party: &str, provision: &str) -> &'r Finding {
    report
        .findings
        .iter()
        .find(|f| f.party == party && f.provision == provision)
        .unwrap_or_else(|| panic!("no finding for {party} {provision} in {report:#?}"))
}

fn reasons(f: &Finding) -> Vec<&'static str> {
    f.violations.iter().map(|v| v.reason).collect()
}

/// A table row's expectation, checked with the row's name in every message.
fn expect(name: &str, f: &Finding, status: Status, want: &[&str]) {
    assert_eq!(f.status, status, "{name}: status; finding: {f:#?}");
    assert_eq!(
        reasons(f),
        want,
        "{name}: violation reasons; finding: {f:#?}"
    );
}

fn num(n: Option<Num>) -> Option<f64> {
    n.map(Num::as_f64)
}

// ----- notifications ---------------------------------------------------------------------

const NOTIFY: &str = r#"
treaty n "Notifications" {
  parties A, B
  in_force 2000-01-01
  event launch
  notify d "Prior notification of launches" {
    event launch
    lead 24h
    stating window
  }
}
"#;

/// A notification of party A for the window 2000-06-10T00:00Z – 2000-06-11T00:00Z.
fn notice(sent: &str, received: Option<&str>) -> String {
    let received = received.map_or(String::new(), |r| format!(r#", "received_at": "{r}""#));
    format!(
        r#"{{"kind": "notification", "party": "A", "id": "n1", "provision": "d", "event_type": "launch", "sent_at": "{sent}"{received}, "window": {{"from": "2000-06-10T00:00:00Z", "to": "2000-06-11T00:00:00Z"}}}}"#
    )
}

fn launch(at: &str) -> String {
    format!(
        r#"{{"kind": "event", "party": "A", "id": "l1", "type": "launch", "at": "{at}", "attributes": {{}}}}"#
    )
}

#[test]
fn notification_lead_is_measured_from_receipt_to_the_window() {
    let event = launch("2000-06-10T06:00:00Z");
    let cases: &[(&str, &str, Option<&str>, &[&str])] = &[
        (
            "received exactly 24 h ahead",
            "2000-06-09T00:00:00Z",
            None,
            &[],
        ),
        (
            "received 23h59m59s ahead",
            "2000-06-09T00:00:01Z",
            None,
            &["late_notification"],
        ),
        (
            "sent 48 h ahead but received 23h59m59s ahead",
            "2000-06-08T00:00:00Z",
            Some("2000-06-09T00:00:01Z"),
            &["late_notification"],
        ),
        (
            "sent 48 h ahead, received exactly 24 h ahead",
            "2000-06-08T00:00:00Z",
            Some("2000-06-09T00:00:00Z"),
            &[],
        ),
        (
            "received five days ahead",
            "2000-06-05T00:00:00Z",
            None,
            &[],
        ),
    ];
    for (name, sent, received, want) in cases {
        let text = format!("{}\n{event}\n", notice(sent, *received));
        let report = assess(NOTIFY, &text, "2000-07-01");
        let f = finding(&report, "A", "d");
        let status = if want.is_empty() {
            Status::Compliant
        } else {
            Status::Violation
        };
        expect(name, f, status, want);
        if let Some(v) = f.violations.first() {
            assert_eq!(v.ids, ["l1", "n1"], "{name}: ids");
            // The lead is exact, in seconds: one second short is not rounded up to 24 h.
            assert_eq!(
                v.evidence.get("lead_seconds"),
                Some(&serde_json::json!(86_399)),
                "{name}"
            );
            assert!(
                v.detail.contains("23 h 59 min 59 s"),
                "{name}: {}",
                v.detail
            );
            assert_eq!(
                v.evidence.get("received_at"),
                Some(&serde_json::json!(received.unwrap_or(sent))),
                "{name}"
            );
            assert_eq!(
                v.evidence.get("required_seconds"),
                Some(&serde_json::json!(86_400)),
                "{name}"
            );
        }
        // Party B has no events: always compliant.
        expect(name, finding(&report, "B", "d"), Status::Compliant, &[]);
    }
}

#[test]
fn notification_window_bounds_and_near_misses() {
    let sent = notice("2000-06-01T00:00:00Z", None);
    let cases: &[(&str, &str, &[&str])] = &[
        ("exactly at the window's start", "2000-06-10T00:00:00Z", &[]),
        ("exactly at the window's end", "2000-06-11T00:00:00Z", &[]),
        ("inside the window", "2000-06-10T12:00:00Z", &[]),
        (
            "one second before the window",
            "2000-06-09T23:59:59Z",
            &["outside_notified_window"],
        ),
        (
            "one second after the window",
            "2000-06-11T00:00:01Z",
            &["outside_notified_window"],
        ),
        (
            "23h59m59s after the window",
            "2000-06-11T23:59:59Z",
            &["outside_notified_window"],
        ),
        (
            "exactly 24 h after the window",
            "2000-06-12T00:00:00Z",
            &["outside_notified_window"],
        ),
        (
            "exactly 24 h before the window",
            "2000-06-09T00:00:00Z",
            &["outside_notified_window"],
        ),
        (
            "24 h and 1 s after the window",
            "2000-06-12T00:00:01Z",
            &["unnotified_event"],
        ),
        (
            "24 h and 1 s before the window",
            "2000-06-08T23:59:59Z",
            &["unnotified_event"],
        ),
        (
            "a month after the window",
            "2000-07-11T00:00:00Z",
            &["unnotified_event"],
        ),
    ];
    for (name, at, want) in cases {
        let text = format!("{sent}\n{}\n", launch(at));
        let report = assess(NOTIFY, &text, "2000-08-01");
        let f = finding(&report, "A", "d");
        let status = if want.is_empty() {
            Status::Compliant
        } else {
            Status::Violation
        };
        expect(name, f, status, want);
        match want.first() {
            Some(&"outside_notified_window") => {
                assert_eq!(
                    f.violations.first().map(|v| v.ids.clone()),
                    Some(vec!["l1".into(), "n1".into()]),
                    "{name}"
                );
            }
            Some(&"unnotified_event") => {
                assert_eq!(
                    f.violations.first().map(|v| v.ids.clone()),
                    Some(vec!["l1".into()]),
                    "{name}"
                );
            }
            _ => {}
        }
    }
}

#[test]
fn an_event_after_the_instant_is_not_assessed_yet() {
    let text = launch("2000-06-10T06:00:00Z");
    let before = assess(NOTIFY, &text, "2000-06-10T05:59:59Z");
    expect(
        "before the launch",
        finding(&before, "A", "d"),
        Status::Compliant,
        &[],
    );
    let at = assess(NOTIFY, &text, "2000-06-10T06:00:00Z");
    expect(
        "at the launch",
        finding(&at, "A", "d"),
        Status::Violation,
        &["unnotified_event"],
    );
}

const NOTIFY_AREAS: &str = r#"
treaty n "Notifications" {
  parties A, B
  in_force 2000-01-01
  event launch
  notify d "Prior notification of launches" {
    event launch
    lead 24h
    stating window, launch_area, impact_area
  }
}
"#;

fn area_notice(impact_area: bool) -> String {
    let impact = if impact_area {
        r#", "impact_area": {"circle": {"center": {"lat": 10.0, "lon": 170.0}, "radius_km": 100}}"#
    } else {
        ""
    };
    format!(
        r#"{{"kind": "notification", "party": "A", "id": "n1", "provision": "d", "event_type": "launch", "sent_at": "2000-06-01T00:00:00Z", "window": {{"from": "2000-06-10T00:00:00Z", "to": "2000-06-11T00:00:00Z"}}, "launch_area": {{"circle": {{"center": {{"lat": 35.0, "lon": -120.0}}, "radius_km": 50}}}}{impact}}}"#
    )
}

fn located_launch(lat: f64, lon: f64) -> String {
    format!(
        r#"{{"kind": "event", "party": "A", "id": "l1", "type": "launch", "at": "2000-06-10T06:00:00Z", "location": {{"lat": {lat}, "lon": {lon}}}, "attributes": {{}}}}"#
    )
}

fn impact_observation(lat: f64, lon: f64) -> String {
    format!(
        r#"{{"kind": "observation", "observer": "B", "party": "A", "id": "l1-obs", "type": "launch", "at": "2000-06-10T06:00:00Z", "launch_point": {{"lat": 35.0, "lon": -120.0}}, "impact_point": {{"lat": {lat}, "lon": {lon}}}}}"#
    )
}

#[test]
fn notification_fields_and_launch_area() {
    let cases: &[(&str, String, &[&str])] = &[
        (
            "complete and respected",
            format!("{}\n{}\n", area_notice(true), located_launch(35.0, -120.0)),
            &[],
        ),
        (
            "impact area not stated",
            format!("{}\n{}\n", area_notice(false), located_launch(35.0, -120.0)),
            &["missing_required_field"],
        ),
        (
            "launched about 1100 km from the notified launch area",
            format!("{}\n{}\n", area_notice(true), located_launch(45.0, -120.0)),
            &["outside_launch_area"],
        ),
    ];
    for (name, text, want) in cases {
        let report = assess(NOTIFY_AREAS, text, "2000-07-01");
        let status = if want.is_empty() {
            Status::Compliant
        } else {
            Status::Violation
        };
        expect(name, finding(&report, "A", "d"), status, want);
    }
}

/// The other party observes the impact point; the launching party declared the launch.
/// docs/facts.md lists `outside_impact_area`, and the carter-1977 scenario plants it (L7);
/// the impact point is only ever known from an observation.
#[test]
fn observed_impact_outside_the_notified_impact_area() {
    let inside = format!(
        "{}\n{}\n{}\n",
        area_notice(true),
        located_launch(35.0, -120.0),
        impact_observation(10.3, 170.2)
    );
    let report = assess(NOTIFY_AREAS, &inside, "2000-07-01");
    expect(
        "impact inside the area",
        finding(&report, "A", "d"),
        Status::Compliant,
        &[],
    );

    // About 550 km from the centre of a 100 km area.
    let outside = format!(
        "{}\n{}\n{}\n",
        area_notice(true),
        located_launch(35.0, -120.0),
        impact_observation(12.5, 174.2)
    );
    let report = assess(NOTIFY_AREAS, &outside, "2000-07-01");
    expect(
        "declared launch, observed impact outside the area",
        finding(&report, "A", "d"),
        Status::Violation,
        &["outside_impact_area"],
    );
}

#[test]
fn observed_launch_nobody_declared_is_checked_too() {
    // Only the observation: the engine must still see a launch, and its impact point.
    let text = format!(
        "{}\n{}\n",
        area_notice(true),
        impact_observation(12.5, 174.2)
    );
    let report = assess(NOTIFY_AREAS, &text, "2000-07-01");
    expect(
        "observed only",
        finding(&report, "A", "d"),
        Status::Violation,
        &["outside_impact_area"],
    );
    let text = impact_observation(10.0, 170.0);
    let report = assess(NOTIFY_AREAS, &text, "2000-07-01");
    expect(
        "observed, never notified",
        finding(&report, "A", "d"),
        Status::Violation,
        &["unnotified_event"],
    );
}

// ----- bans, zones and explosions -------------------------------------------------------

/// Distance from (0, 0) to (1, 0) on the engine's sphere, in km.
fn one_degree_km() -> f64 {
    detente_assess::geo::great_circle_km(
        detente_assess::geo::Point { lat: 0.0, lon: 0.0 },
        detente_assess::geo::Point { lat: 1.0, lon: 0.0 },
    )
}

fn ban_treaty(radius_km: f64) -> String {
    format!(
        r#"
treaty b "Bans" {{
  parties A, B
  in_force 2000-01-01
  param sunset: date = 2003-01-01
  param mb_a = 4.45
  param mb_b = 0.75
  category base
  event explosion {{ purpose: string }}
  zone z = circle (0.0, 0.0) radius {radius_km} km
  ban e "Test ban" {{
    event explosion
    except where purpose == "peaceful" until sunset "peaceful programs"
  }}
  ban g "No bases in the zone" {{
    item base within z
  }}
}}
"#
    )
}

fn explosion(id: &str, at: &str, purpose: &str, lat: f64, lon: f64) -> String {
    format!(
        r#"{{"kind": "event", "party": "A", "id": "{id}", "type": "explosion", "at": "{at}", "location": {{"lat": {lat}, "lon": {lon}}}, "attributes": {{"purpose": "{purpose}"}}}}"#
    )
}

fn seismic(id: &str, at: &str, mb: f64, lat: f64, lon: f64) -> String {
    format!(
        r#"{{"kind": "observation", "observer": "B", "party": "A", "id": "{id}", "type": "explosion", "at": "{at}", "location": {{"lat": {lat}, "lon": {lon}}}, "mb": {mb}}}"#
    )
}

#[test]
fn ban_exception_ends_at_its_sunset() {
    let source = ban_treaty(100.0);
    let cases: &[(&str, &str, &str, &[&str])] = &[
        (
            "peaceful, the day before the sunset",
            "2002-12-31T12:00:00Z",
            "peaceful",
            &[],
        ),
        (
            "peaceful, the last second before the sunset",
            "2002-12-31T23:59:59Z",
            "peaceful",
            &[],
        ),
        (
            "peaceful, at the sunset",
            "2003-01-01T00:00:00Z",
            "peaceful",
            &["prohibited_event"],
        ),
        (
            "peaceful, the sunset day",
            "2003-01-01T12:00:00Z",
            "peaceful",
            &["prohibited_event"],
        ),
        (
            "weapons, before the sunset",
            "2002-06-01T00:00:00Z",
            "weapons",
            &["prohibited_event"],
        ),
    ];
    for (name, at, purpose, want) in cases {
        let text = explosion("x1", at, purpose, 10.0, 10.0);
        let report = assess(&source, &text, "2003-06-01");
        let status = if want.is_empty() {
            Status::Compliant
        } else {
            Status::Violation
        };
        let f = finding(&report, "A", "e");
        expect(name, f, status, want);
        if let Some(v) = f.violations.first() {
            assert_eq!(v.ids, ["x1"], "{name}");
            assert_eq!(v.at.as_deref(), Some(*at), "{name}");
        }
    }
    // Moving the sunset with an override moves the exception.
    let text = explosion("x1", "2003-01-01T12:00:00Z", "peaceful", 10.0, 10.0);
    let report = assess_with(&source, &text, &[("sunset", "2003-01-02")], "2003-06-01");
    expect(
        "sunset moved a day later",
        finding(&report, "A", "e"),
        Status::Compliant,
        &[],
    );
}

#[test]
fn item_on_a_circle_zone_edge_is_in_the_zone() {
    let radius = one_degree_km();
    let source = ban_treaty(radius);
    let base = |lat: f64| {
        format!(
            r#"{{"kind": "item", "party": "A", "id": "base-1", "category": "base", "attributes": {{}}, "location": {{"lat": {lat}, "lon": 0.0}}, "from": "2000-01-01"}}"#
        )
    };
    let just_outside = ((radius + 0.001) / detente_assess::geo::EARTH_RADIUS_KM).to_degrees();
    let cases: &[(&str, f64, Status, &[&str])] = &[
        ("at the centre", 0.0, Status::Violation, &["in_zone"]),
        ("exactly on the edge", 1.0, Status::Violation, &["in_zone"]),
        ("one metre outside", just_outside, Status::Compliant, &[]),
    ];
    for (name, lat, status, want) in cases {
        let report = assess(&source, &base(*lat), "2001-01-01");
        expect(name, finding(&report, "A", "g"), *status, want);
    }
}

#[test]
fn item_exists_from_its_start_until_before_its_end() {
    let source = ban_treaty(100.0);
    let text = r#"{"kind": "item", "party": "A", "id": "base-1", "category": "base", "attributes": {}, "location": {"lat": 0.0, "lon": 0.0}, "from": "2001-01-01", "until": "2002-01-01"}"#;
    let cases: &[(&str, &str, Status)] = &[
        (
            "a second before it exists",
            "2000-12-31T23:59:59Z",
            Status::Compliant,
        ),
        (
            "the instant it starts",
            "2001-01-01T00:00:00Z",
            Status::Violation,
        ),
        ("its last second", "2001-12-31T23:59:59Z", Status::Violation),
        (
            "its `until` (exclusive)",
            "2002-01-01T00:00:00Z",
            Status::Compliant,
        ),
    ];
    for (name, at, status) in cases {
        let report = assess(&source, text, at);
        assert_eq!(finding(&report, "A", "g").status, *status, "{name}");
    }
}

#[test]
fn seismic_yield_estimate_in_the_evidence() {
    let source = ban_treaty(100.0);
    let text = seismic("s1", "2001-05-01T02:00:00Z", 5.95, 50.0, 78.0);
    // mb 5.95 with a = 4.45, b = 0.75: Y = 10^((5.95 - 4.45) / 0.75) = 10^2 = 100 kt.
    let report = assess(&source, &text, "2001-06-01");
    let f = finding(&report, "A", "e");
    expect(
        "undeclared",
        f,
        Status::Violation,
        &["undeclared_explosion"],
    );
    let v = f.violations.first().expect("a violation");
    assert_eq!(v.ids, ["s1"]);
    let y = v
        .evidence
        .get("yield_kt")
        .and_then(serde_json::Value::as_f64)
        .expect("yield_kt in the evidence");
    assert!((y - 100.0).abs() < 1e-9, "yield {y}");
    assert_eq!(
        v.evidence.get("mb").and_then(serde_json::Value::as_f64),
        Some(5.95)
    );
    assert_eq!(v.evidence.get("observer"), Some(&serde_json::json!("B")));

    // The coefficients are params: the Nevada relation mb = 3.92 + 0.81 log10(Y).
    let report = assess_with(
        &source,
        &text,
        &[("mb_a", "3.92"), ("mb_b", "0.81")],
        "2001-06-01",
    );
    let f = finding(&report, "A", "e");
    let y = f
        .violations
        .first()
        .and_then(|v| v.evidence.get("yield_kt"))
        .and_then(serde_json::Value::as_f64)
        .expect("yield_kt in the evidence");
    let want = 10f64.powf((5.95 - 3.92) / 0.81);
    assert!((y - want).abs() < 1e-3, "yield {y}, want {want}");
}

#[test]
fn declared_explosion_explains_an_observation_on_the_same_day_within_50_km() {
    let source = ban_treaty(100.0);
    // A peaceful explosion before the sunset is allowed; only an unexplained observation
    // can make `e` a violation.
    let declared = explosion("x1", "2001-05-01T02:00:00Z", "peaceful", 10.0, 10.0);
    // 0.3° of latitude ≈ 33 km; 0.5° ≈ 56 km.
    let cases: &[(&str, String, Status, &[&str])] = &[
        (
            "same instant, 33 km away",
            seismic("s1", "2001-05-01T02:00:00Z", 5.0, 10.3, 10.0),
            Status::Compliant,
            &[],
        ),
        (
            "later the same day, 33 km away",
            seismic("s1", "2001-05-01T23:00:00Z", 5.0, 10.3, 10.0),
            Status::Compliant,
            &[],
        ),
        (
            "same instant, 56 km away",
            seismic("s1", "2001-05-01T02:00:00Z", 5.0, 10.5, 10.0),
            Status::Violation,
            &["undeclared_explosion"],
        ),
        (
            "next UTC day, same place",
            seismic("s1", "2001-05-02T01:00:00Z", 5.0, 10.0, 10.0),
            Status::Violation,
            &["undeclared_explosion"],
        ),
    ];
    for (name, observation, status, want) in cases {
        let text = format!("{declared}\n{observation}\n");
        let report = assess(&source, &text, "2001-06-01");
        expect(name, finding(&report, "A", "e"), *status, want);
    }
    // A declared weapons test explained by the observation is one violation, not two.
    let text = format!(
        "{}\n{}\n",
        explosion("x2", "2001-05-01T02:00:00Z", "weapons", 10.0, 10.0),
        seismic("s2", "2001-05-01T02:00:00Z", 5.0, 10.1, 10.0)
    );
    let report = assess(&source, &text, "2001-06-01");
    let f = finding(&report, "A", "e");
    expect(
        "declared weapons test",
        f,
        Status::Violation,
        &["prohibited_event"],
    );
    assert_eq!(
        f.violations.first().map(|v| v.ids.clone()),
        Some(vec!["x2".to_owned()])
    );
}

// ----- declarations ----------------------------------------------------------------------

const DECLARE: &str = r#"
treaty c "Data exchange" {
  parties A, B
  in_force 2000-01-01
  quantity x: int declared
  declare c "Exchange" {
    quantities all
    as_of 1 January, 1 July
    due 30 days
  }
}
"#;

fn declaration(party: &str, as_of: &str, delivered: &str) -> String {
    format!(
        r#"{{"kind": "declaration", "party": "{party}", "id": "{party}-{as_of}", "as_of": "{as_of}", "delivered_at": "{delivered}", "quantities": {{"x": 5}}}}"#
    )
}

#[test]
fn declaration_deadline_is_inclusive() {
    // As of 2000-01-01, due 30 days later: 2000-01-31T00:00:00Z.
    // (name, delivered_at, assessed at, status, reasons)
    type Case<'a> = (&'a str, Option<&'a str>, &'a str, Status, &'a [&'a str]);
    let cases: &[Case] = &[
        (
            "delivered exactly at the deadline",
            Some("2000-01-31T00:00:00Z"),
            "2000-03-01",
            Status::Compliant,
            &[],
        ),
        (
            "delivered one second late",
            Some("2000-01-31T00:00:01Z"),
            "2000-03-01",
            Status::Violation,
            &["late_declaration"],
        ),
        (
            "delivered early",
            Some("2000-01-10T09:00:00Z"),
            "2000-03-01",
            Status::Compliant,
            &[],
        ),
        (
            "missing",
            None,
            "2000-03-01",
            Status::Violation,
            &["missing_declaration"],
        ),
        (
            "missing, a second before it is due",
            None,
            "2000-01-30T23:59:59Z",
            Status::Compliant,
            &[],
        ),
        (
            "missing, at the deadline",
            None,
            "2000-01-31T00:00:00Z",
            Status::Violation,
            &["missing_declaration"],
        ),
    ];
    for (name, delivered, at, status, want) in cases {
        let text = delivered.map_or(String::new(), |d| declaration("A", "2000-01-01", d));
        let report = assess(DECLARE, &text, at);
        let f = finding(&report, "A", "c");
        expect(name, f, *status, want);
        if want == &["late_declaration"] {
            let v = f.violations.first().expect("a violation");
            assert_eq!(v.ids, ["A-2000-01-01"], "{name}");
            assert_eq!(
                v.evidence.get("due"),
                Some(&serde_json::json!("2000-01-31T00:00:00Z")),
                "{name}"
            );
        }
        if want == &["missing_declaration"] {
            let v = f.violations.first().expect("a violation");
            assert_eq!(v.at.as_deref(), Some("2000-01-31T00:00:00Z"), "{name}");
        }
    }
}

#[test]
fn every_cycle_is_checked() {
    // Both cycles of 2000 delivered on time by A; B misses the second.
    let text = [
        declaration("A", "2000-01-01", "2000-01-20T00:00:00Z"),
        declaration("A", "2000-07-01", "2000-07-20T00:00:00Z"),
        declaration("B", "2000-01-01", "2000-01-20T00:00:00Z"),
    ]
    .join("\n");
    let report = assess(DECLARE, &text, "2000-12-31");
    expect("A", finding(&report, "A", "c"), Status::Compliant, &[]);
    expect(
        "B",
        finding(&report, "B", "c"),
        Status::Violation,
        &["missing_declaration"],
    );
}

// ----- limits, schedules, periods and params ---------------------------------------------

const STEPS: &str = r#"
treaty s "Steps" {
  parties A, B
  in_force 2000-01-01
  quantity x: int declared
  objective o "Reduced levels" {
    x <= steps 2400 to 1800 every 1 year until in_force + 5 years
  }
}
"#;

const X_2300: &str = r#"{"kind": "declaration", "party": "A", "id": "a-2000", "as_of": "2000-01-01", "quantities": {"x": 2300}}"#;

#[test]
fn steps_schedule_bound_at_each_yearly_step() {
    let cases: &[(&str, f64)] = &[
        ("2000-01-01T00:00:00Z", 2400.0),
        ("2000-12-31T23:59:59Z", 2400.0),
        ("2001-01-01T00:00:00Z", 2280.0),
        ("2001-12-31T23:59:59Z", 2280.0),
        ("2002-01-01T00:00:00Z", 2160.0),
        ("2003-01-01T00:00:00Z", 2040.0),
        ("2004-01-01T00:00:00Z", 1920.0),
        ("2004-12-31T23:59:59Z", 1920.0),
        ("2005-01-01T00:00:00Z", 1800.0),
        ("2020-01-01T00:00:00Z", 1800.0),
    ];
    for (at, bound) in cases {
        let report = assess(STEPS, X_2300, at);
        let f = finding(&report, "A", "o");
        assert_eq!(f.kind, "objective", "{at}");
        assert_eq!(num(f.bound), Some(*bound), "{at}: bound; {f:#?}");
        assert_eq!(num(f.value), Some(2300.0), "{at}: value");
        assert_eq!(num(f.margin), Some(bound - 2300.0), "{at}: margin");
        let status = if 2300.0 <= *bound {
            Status::Compliant
        } else {
            Status::Violation
        };
        assert_eq!(f.status, status, "{at}");
        assert!(
            !f.is_binding_violation(),
            "{at}: objectives are never binding"
        );
    }
    // Integer bounds are whole numbers.
    let report = assess(STEPS, X_2300, "2001-06-01");
    assert!(finding(&report, "A", "o").bound.is_some_and(Num::is_int));
}

#[test]
fn steps_round_towards_the_stricter_side() {
    let source = r#"
treaty s "Steps" {
  parties A, B
  in_force 2000-01-01
  quantity x: int declared
  limit ceiling "Ceiling" {
    x <= steps 100 to 0 every 1 year until in_force + 3 years
  }
  limit floor "Floor" {
    x >= steps 0 to 100 every 1 year until in_force + 3 years
  }
}
"#;
    let text =
        r#"{"kind": "declaration", "party": "A", "as_of": "2000-01-01", "quantities": {"x": 50}}"#;
    let cases: &[(&str, f64, f64)] = &[
        ("2000-06-01", 100.0, 0.0),
        ("2001-06-01", 66.0, 34.0),
        ("2002-06-01", 33.0, 67.0),
        ("2003-06-01", 0.0, 100.0),
    ];
    for (at, ceiling, floor) in cases {
        let report = assess(source, text, at);
        assert_eq!(
            num(finding(&report, "A", "ceiling").bound),
            Some(*ceiling),
            "{at}: ceiling"
        );
        assert_eq!(
            num(finding(&report, "A", "floor").bound),
            Some(*floor),
            "{at}: floor"
        );
        // A floor's margin is value − bound.
        assert_eq!(
            num(finding(&report, "A", "floor").margin),
            Some(50.0 - floor),
            "{at}: floor margin"
        );
    }
}

#[test]
fn plan_lists_the_reduction_owed_at_each_step() {
    let p = plan(STEPS, X_2300, "A", "2000-06-01");
    let got: Vec<(String, f64, f64, f64)> = p
        .milestones
        .iter()
        .filter(|m| m.provision == "o")
        .map(|m| {
            (
                m.date.clone(),
                m.bound.as_f64(),
                m.current_value.as_f64(),
                m.reduction_owed.as_f64(),
            )
        })
        .collect();
    let want: Vec<(String, f64, f64, f64)> = [
        ("2001-01-01", 2280.0, 20.0),
        ("2002-01-01", 2160.0, 140.0),
        ("2003-01-01", 2040.0, 260.0),
        ("2004-01-01", 1920.0, 380.0),
        ("2005-01-01", 1800.0, 500.0),
    ]
    .iter()
    .map(|(d, b, owed)| ((*d).to_owned(), *b, 2300.0, *owed))
    .collect();
    assert_eq!(got, want, "{p:#?}");
    let first = p.milestones.first().expect("a milestone");
    assert_eq!(first.kind, "objective");
    assert_eq!(first.days_left, 214, "2000-06-01 to 2001-01-01");
    // 20 owed in 214 days: about 34.1 a year.
    assert!(
        (first.per_year.as_f64() - 20.0 / (214.0 / 365.25)).abs() < 0.01,
        "{first:#?}"
    );
    // Nothing owed once the level is met; nothing listed for a party without data.
    let p = plan(STEPS, X_2300, "A", "2004-06-01");
    let last = p
        .milestones
        .iter()
        .find(|m| m.date == "2005-01-01")
        .expect("the last step");
    assert_eq!(last.reduction_owed.as_f64(), 500.0);
    let b = plan(STEPS, X_2300, "B", "2000-06-01");
    assert!(b.milestones.is_empty(), "{b:#?}");
    assert_eq!(b.unknown.len(), 1, "{b:#?}");
}

#[test]
fn plan_owes_nothing_when_the_level_is_met() {
    let text = r#"{"kind": "declaration", "party": "A", "as_of": "2000-01-01", "quantities": {"x": 2000}}"#;
    let p = plan(STEPS, text, "A", "2000-06-01");
    let owed: Vec<f64> = p
        .milestones
        .iter()
        .map(|m| m.reduction_owed.as_f64())
        .collect();
    assert_eq!(owed, [0.0, 0.0, 0.0, 80.0, 200.0], "{p:#?}");
}

#[test]
fn provision_period_from_and_until() {
    let source = r#"
treaty p "Periods" {
  parties A, B
  in_force 2000-01-01
  quantity x: int declared
  limit p "Period" from 2005-01-01 until 2010-01-01 {
    x <= 10
  }
}
"#;
    let text =
        r#"{"kind": "declaration", "party": "A", "as_of": "2000-01-01", "quantities": {"x": 20}}"#;
    let cases: &[(&str, Status)] = &[
        ("2004-12-31T23:59:59Z", Status::NotYetInForce),
        ("2005-01-01T00:00:00Z", Status::Violation),
        ("2009-12-31T23:59:59Z", Status::Violation),
        ("2010-01-01T00:00:00Z", Status::Expired),
        ("2030-01-01T00:00:00Z", Status::Expired),
    ];
    for (at, status) in cases {
        let report = assess(source, text, at);
        let f = finding(&report, "A", "p");
        assert_eq!(f.status, *status, "{at}: {f:#?}");
        assert_eq!(f.effective_from.as_deref(), Some("2005-01-01"), "{at}");
        assert_eq!(f.until.as_deref(), Some("2010-01-01"), "{at}");
        if *status != Status::Violation {
            assert!(
                f.violations.is_empty(),
                "{at}: only an active provision has violations"
            );
            assert!(!f.is_binding_violation(), "{at}");
        }
    }
    // Before it takes effect the value and margin are still shown (docs/facts.md).
    let report = assess(source, text, "2004-06-01");
    let f = finding(&report, "A", "p");
    assert_eq!(
        (num(f.value), num(f.bound), num(f.margin)),
        (Some(20.0), Some(10.0), Some(-10.0))
    );
}

#[test]
fn a_treaty_without_in_force_is_never_in_force_unless_assumed() {
    let source = r#"
treaty q "Never ratified" {
  parties A, B
  expires 2010-01-01
  quantity x: int declared
  limit l "Ceiling" {
    x <= 10
  }
}
"#;
    let text =
        r#"{"kind": "declaration", "party": "A", "as_of": "2000-01-01", "quantities": {"x": 20}}"#;
    let report = assess(source, text, "2005-01-01");
    assert_eq!(finding(&report, "A", "l").status, Status::NotYetInForce);
    assert!(!report.has_binding_violation());

    let treaty = treaty(source);
    let facts = facts(text);
    let options = Options {
        assume_in_force: detente_lang::time::Date::parse("2003-01-01"),
        ..Options::default()
    };
    let engine = Engine::new(
        &treaty,
        &facts,
        BTreeMap::new(),
        &options,
        Provenance::default(),
    )
    .expect("engine");
    let report = engine.assess(instant("2005-01-01"));
    assert_eq!(finding(&report, "A", "l").status, Status::Violation);
    assert_eq!(report.assumptions.in_force.as_deref(), Some("2003-01-01"));
    assert!(report.assumptions.in_force_assumed);
    let report = engine.assess(instant("2002-12-31T23:59:59Z"));
    assert_eq!(finding(&report, "A", "l").status, Status::NotYetInForce);
}

const PARAMS: &str = r#"
treaty h "Params" {
  parties A, B
  in_force 2000-01-01
  param cap: int "no agreed value"
  param ceiling = 100
  quantity x: int declared
  limit h "Capped" {
    x <= cap
  }
  limit k "Ceiling" {
    x <= ceiling
  }
}
"#;

#[test]
fn param_without_value_gives_no_data_until_set() {
    let text =
        r#"{"kind": "declaration", "party": "A", "as_of": "2000-01-01", "quantities": {"x": 50}}"#;
    let report = assess(PARAMS, text, "2001-01-01");
    let f = finding(&report, "A", "h");
    assert_eq!(f.status, Status::NoData, "{f:#?}");
    assert_eq!(f.reason.as_deref(), Some("param `cap` has no value"));
    assert_eq!(num(f.value), Some(50.0), "the value is still shown");
    assert_eq!(
        report.assumptions.params.get("cap"),
        Some(&serde_json::Value::Null)
    );
    // B has declared nothing: no data for a different reason.
    let b = finding(&report, "B", "k");
    assert_eq!(b.status, Status::NoData);
    assert!(
        b.reason.as_deref().is_some_and(|r| r.contains('x')),
        "{b:#?}"
    );

    let cases: &[(&str, &str, Status, f64)] = &[
        ("cap", "49", Status::Violation, -1.0),
        ("cap", "50", Status::Compliant, 0.0),
        ("cap", "1000", Status::Compliant, 950.0),
    ];
    for (name, value, status, margin) in cases {
        let report = assess_with(PARAMS, text, &[(name, value)], "2001-01-01");
        let f = finding(&report, "A", "h");
        assert_eq!(f.status, *status, "{name}={value}");
        assert_eq!(num(f.margin), Some(*margin), "{name}={value}");
        assert_eq!(report.assumptions.overridden, [*name]);
    }
}

#[test]
fn param_override_changes_a_default_bound() {
    let text =
        r#"{"kind": "declaration", "party": "A", "as_of": "2000-01-01", "quantities": {"x": 50}}"#;
    let report = assess(PARAMS, text, "2001-01-01");
    assert_eq!(num(finding(&report, "A", "k").bound), Some(100.0));
    let report = assess_with(PARAMS, text, &[("ceiling", "40")], "2001-01-01");
    let f = finding(&report, "A", "k");
    assert_eq!((num(f.bound), f.status), (Some(40.0), Status::Violation));
    assert_eq!(reasons(f), ["exceeds_bound"]);
    assert_eq!(
        report.assumptions.params.get("ceiling"),
        Some(&serde_json::json!(40))
    );
}

#[test]
fn bad_overrides_are_refused() {
    let treaty = treaty(PARAMS);
    let facts = facts("");
    let unknown = Engine::new(
        &treaty,
        &facts,
        BTreeMap::new(),
        &options(&[("ceilng", "5")]),
        Provenance::default(),
    );
    let message = unknown
        .map(|_| ())
        .expect_err("an unknown param")
        .to_string();
    assert!(
        message.contains("ceilng") && message.contains("did you mean `ceiling`"),
        "{message}"
    );
    let bad = Engine::new(
        &treaty,
        &facts,
        BTreeMap::new(),
        &options(&[("cap", "many")]),
        Provenance::default(),
    );
    let message = bad.map(|_| ()).expect_err("a bad value").to_string();
    assert!(
        message.contains("cap") && message.contains("many"),
        "{message}"
    );
    let interpretation = Options {
        interpretation: Some("nope".to_owned()),
        ..Options::default()
    };
    assert!(
        Engine::new(
            &treaty,
            &facts,
            BTreeMap::new(),
            &interpretation,
            Provenance::default()
        )
        .is_err()
    );
}

#[test]
fn declaration_takes_effect_on_its_as_of_date() {
    let source = r#"
treaty l "Latest declaration" {
  parties A, B
  in_force 2000-01-01
  quantity x: int declared
  limit l "Ceiling" {
    x <= 10
  }
}
"#;
    let text = [
        r#"{"kind": "declaration", "party": "A", "id": "a1", "as_of": "2000-01-01", "quantities": {"x": 5}}"#,
        r#"{"kind": "declaration", "party": "A", "id": "a2", "as_of": "2000-07-01", "quantities": {"x": 15}}"#,
    ]
    .join("\n");
    let before = assess(source, &text, "2000-06-30T23:59:59Z");
    expect(
        "before the second",
        finding(&before, "A", "l"),
        Status::Compliant,
        &[],
    );
    let at = assess(source, &text, "2000-07-01");
    let f = finding(&at, "A", "l");
    expect("as of the second", f, Status::Violation, &["exceeds_bound"]);
    assert_eq!(
        f.violations.first().map(|v| v.ids.clone()),
        Some(vec!["a2".to_owned()])
    );
}

#[test]
fn reports_are_sorted_and_summarised() {
    let report = assess(PARAMS, X_2300.replace("2300", "50").as_str(), "2001-01-01");
    let keys: Vec<(String, String)> = report
        .findings
        .iter()
        .map(|f| (f.party.clone(), f.provision.clone()))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    let total: u64 = report.summary.values().sum();
    assert_eq!(total, report.findings.len() as u64);
}

// ----- known engine bugs: these tests assert the documented behaviour ----------------------

/// docs/facts.md: "A finding whose declared data are older than the last declaration that
/// was due says so (`stale`)". Here the assessed value is the aggregate declared as of the
/// last due date, so the finding is not stale, even though the components it could also be
/// computed from were last declared earlier. (The engine takes the oldest as-of date over
/// every quantity the comparison refers to, transitively, rather than over the declarations
/// the value came from; New START's US limits are marked stale "as of 2020-09-01" from 2021
/// on for this reason.)
#[test]
fn stale_refers_to_the_data_the_value_came_from() {
    let source = r#"
treaty s "Staleness" {
  parties A, B
  in_force 2000-01-01
  quantity a: int declared
  quantity b: int declared
  quantity total = a + b declared
  declare c "Exchange" {
    quantities all
    as_of 1 January, 1 July
    due 30 days
  }
  limit l "Ceiling" {
    total <= 100
  }
}
"#;
    let text = [
        r#"{"kind": "declaration", "party": "A", "id": "a-jan", "as_of": "2000-01-01", "quantities": {"a": 10, "b": 20, "total": 30}}"#,
        r#"{"kind": "declaration", "party": "A", "id": "a-jul", "as_of": "2000-07-01", "quantities": {"total": 40}}"#,
    ]
    .join("\n");
    let report = assess(source, &text, "2000-09-01");
    let f = finding(&report, "A", "l");
    assert_eq!(num(f.value), Some(40.0), "the latest declared total");
    assert!(
        f.stale.is_none(),
        "the value comes from the declaration as of 2000-07-01, the last one due: {:?}",
        f.stale
    );
}

/// A declaration delivered after the instant assessed is not known at that instant: at
/// 2000-02-15 the declaration as of 2000-01-01 (due 2000-01-31, delivered 2000-03-01) is
/// missing. The engine reports `late_declaration` dated 2000-03-01, after the instant
/// itself (notifications, by contrast, count only when `sent_at <= at`).
#[test]
fn a_declaration_delivered_after_the_instant_is_not_known_yet() {
    let text = declaration("A", "2000-01-01", "2000-03-01T00:00:00Z");
    let report = assess(DECLARE, &text, "2000-02-15");
    let f = finding(&report, "A", "c");
    for v in &f.violations {
        assert!(
            v.at.as_deref().is_none_or(|t| t <= report.at.as_str()),
            "a violation dated after the report's instant {}: {v:#?}",
            report.at
        );
    }
    expect(
        "not yet delivered",
        f,
        Status::Violation,
        &["missing_declaration"],
    );
    // Once delivered, it is late.
    let report = assess(DECLARE, &text, "2000-03-02");
    expect(
        "delivered late",
        finding(&report, "A", "c"),
        Status::Violation,
        &["late_declaration"],
    );
}
