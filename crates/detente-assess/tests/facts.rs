#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The facts loader: round trips, every error with its position, contradictions, limits,
//! order independence, validation against a vocabulary, and robustness on any input.

use std::collections::BTreeMap;

use detente_assess::facts::{
    AttrType, AttrValue, FactError, FactErrorKind, Facts, FactsLoader, MAX_ERRORS, MAX_LINE_BYTES,
    Number, Origin, Vocabulary, load_str, locate_column,
};
use detente_assess::geo::{KM_PER_NMI, Point};
use detente_lang::time::{Date, Instant};
use proptest::prelude::*;

/// One record of every kind, with every optional field somewhere.
const ALL_KINDS: &str = r#"{"kind": "declaration", "party": "USSR", "as_of": "1979-06-18", "quantities": {"sdv": 2504, "civil_defense_musd": 1250.5}, "id": "d-1979", "delivered_at": "1979-06-20T09:30:00Z"}
{"kind": "declaration", "party": "US", "as_of": "1979-06-18", "quantities": {"sdv": 2283}}
{"kind": "item", "party": "US", "id": "mm3-001", "category": "icbm_launcher", "attributes": {"mirv": true, "basing": "silo", "warheads": 3, "throw_weight_kg": 1150.5}, "location": {"lat": 47.5, "lon": -111.2}, "from": "1979-01-01", "until": "1985-06-30T12:00:00Z"}
{"kind": "item", "party": "USSR", "id": "base-7", "category": "military_base", "from": "1976-03-01T00:00:00Z"}
{"kind": "item", "party": "USSR", "id": "ss20-1", "category": "icbm_launcher", "attributes": {}, "location": null, "from": "1977-01-01", "until": null}

{"kind": "event", "party": "USSR", "id": "e-1", "type": "nuclear_explosion", "at": "1979-08-04T03:57:00Z", "location": {"lat": 49.9, "lon": 78.8}, "attributes": {"purpose": "weapons", "yield_kt": 150}}
{"kind": "notification", "party": "USSR", "id": "n-1", "provision": "d", "event_type": "missile_test_launch", "sent_at": "1988-06-01T08:00:00Z", "received_at": "1988-06-01T08:05:00Z", "window": {"from": "1988-06-03T00:00:00Z", "to": "1988-06-03T06:00:00Z"}, "launch_area": {"circle": {"center": {"lat": 62.9, "lon": 40.5}, "radius_nmi": 10}}, "impact_area": {"polygon": [{"lat": 53, "lon": 158}, {"lat": 53, "lon": 160}, {"lat": 55, "lon": 160}]}}
{"kind": "notification", "party": "US", "id": "n-2", "provision": "d", "event_type": "missile_test_launch", "sent_at": "1988-07-01T08:00:00Z", "launch_area": {"zone": "range_head"}, "impact_area": {"circle": {"center": {"lat": 9, "lon": 167.7}, "radius_km": 50}}}
{"kind": "observation", "observer": "US", "party": "USSR", "id": "o-1", "type": "missile_test_launch", "at": "1988-06-03T02:00:00Z", "launch_point": {"lat": 62.9, "lon": 40.6}, "impact_point": {"lat": 54, "lon": 159}}
{"kind": "observation", "observer": "US", "party": "USSR", "id": "o-2", "type": "nuclear_explosion", "at": "1979-08-04T03:57:00Z", "location": {"lat": 49.9, "lon": 78.8}, "mb": 6.1, "category": "military_base", "attributes": {"purpose": "weapons"}}
"#;

fn load(text: &str) -> Facts {
    let (facts, errors) = load_str("f.jsonl", text);
    assert!(errors.is_empty(), "unexpected errors: {errors:#?}");
    facts
}

fn instant(text: &str) -> Instant {
    let parsed = Instant::parse(text);
    assert!(parsed.is_some(), "bad test instant {text}");
    parsed.unwrap_or(Instant::from_unix_seconds(0))
}

/// The facts with every origin and source name cleared, to compare content only.
fn content(mut facts: Facts) -> Facts {
    facts.sources.clear();
    let none = Origin::default();
    facts.declarations.iter_mut().for_each(|r| r.origin = none);
    facts.items.iter_mut().for_each(|r| r.origin = none);
    facts.events.iter_mut().for_each(|r| r.origin = none);
    facts.notifications.iter_mut().for_each(|r| r.origin = none);
    facts.observations.iter_mut().for_each(|r| r.origin = none);
    facts
}

fn render(errors: &[FactError]) -> String {
    let mut out = String::new();
    for e in errors {
        out.push_str(&format!(
            "{e}\n  field: {}\n  help: {}\n",
            e.field.as_deref().unwrap_or("-"),
            e.help.as_deref().unwrap_or("-")
        ));
    }
    out
}

#[test]
fn every_kind_loads_with_its_values() {
    let facts = load(ALL_KINDS);
    assert_eq!(facts.sources, ["f.jsonl"]);
    assert_eq!(facts.len(), 10);

    // Declarations: by party, so US first.
    let [us, ussr] = &facts.declarations[..] else {
        panic!("{:?}", facts.declarations)
    };
    assert_eq!((&*us.party, us.origin.line), ("US", 2));
    assert_eq!(us.quantity("sdv"), Some(Number::Int(2283)));
    assert_eq!(ussr.as_of, Date::new(1979, 6, 18).unwrap());
    assert_eq!(
        ussr.quantity("civil_defense_musd"),
        Some(Number::Decimal(1250.5))
    );
    assert_eq!(ussr.id.as_deref(), Some("d-1979"));
    assert_eq!(ussr.delivered_at, Some(instant("1979-06-20T09:30:00Z")));

    let [mm3, base, ss20] = &facts.items[..] else {
        panic!("{:?}", facts.items)
    };
    assert_eq!(&*mm3.id, "mm3-001");
    assert_eq!(mm3.from, instant("1979-01-01T00:00:00Z"));
    assert_eq!(mm3.until, Some(instant("1985-06-30T12:00:00Z")));
    assert_eq!(mm3.location, Some(Point::new(47.5, -111.2)));
    let names: Vec<&str> = mm3.attributes.iter().map(|(n, _)| &**n).collect();
    assert_eq!(names, ["basing", "mirv", "throw_weight_kg", "warheads"]);
    assert_eq!(mm3.attributes.get("mirv"), Some(&AttrValue::Bool(true)));
    assert_eq!(mm3.attributes.get("warheads"), Some(&AttrValue::Int(3)));
    assert_eq!(
        mm3.attributes.get("throw_weight_kg"),
        Some(&AttrValue::Decimal(1150.5))
    );
    assert_eq!(
        mm3.attributes.get("basing"),
        Some(&AttrValue::Text("silo".to_owned()))
    );
    assert!(mm3.exists_at(instant("1979-01-01T00:00:00Z")));
    assert!(!mm3.exists_at(instant("1985-06-30T12:00:00Z")));
    assert!(base.attributes.is_empty() && base.location.is_none() && base.until.is_none());
    assert!(ss20.until.is_none() && ss20.location.is_none());

    let [explosion] = &facts.events[..] else {
        panic!()
    };
    assert_eq!(&*explosion.event_type, "nuclear_explosion");
    assert_eq!(
        explosion.attributes.get("yield_kt"),
        Some(&AttrValue::Int(150))
    );

    let [n2, n1] = &facts.notifications[..] else {
        panic!()
    };
    assert_eq!((n1.id.as_str(), n2.id.as_str()), ("n-1", "n-2"));
    let window = n1.window.unwrap();
    assert!(window.contains(instant("1988-06-03T06:00:00Z")));
    assert!(!window.contains(instant("1988-06-03T06:00:01Z")));
    let Some(detente_assess::facts::Area::Circle { radius_km, .. }) = &n1.launch_area else {
        panic!("{:?}", n1.launch_area)
    };
    assert_eq!(*radius_km, 10.0 * KM_PER_NMI);
    let launch = n1.launch_area.as_ref().unwrap();
    assert_eq!(launch.contains(Point::new(62.9, 40.6)), Some(true));
    assert_eq!(
        n1.impact_area
            .as_ref()
            .unwrap()
            .contains(Point::new(54.0, 159.0)),
        Some(true)
    );
    assert_eq!(
        n2.launch_area
            .as_ref()
            .unwrap()
            .contains(Point::new(0.0, 0.0)),
        None
    );
    assert!(n2.window.is_none() && n2.received_at.is_none());

    let [o1, o2] = &facts.observations[..] else {
        panic!()
    };
    assert_eq!(&*o1.observed_type, "missile_test_launch");
    assert_eq!(o1.impact_point, Some(Point::new(54.0, 159.0)));
    assert_eq!(o2.mb, Some(6.1));
    assert_eq!(o2.category.as_deref(), Some("military_base"));
}

#[test]
fn every_kind_round_trips() {
    let facts = load(ALL_KINDS);
    let text = facts.to_json_lines();
    for line in text.lines() {
        assert!(line.starts_with("{\"kind\":"), "{line}");
    }
    let again = load(&text);
    assert_eq!(again.to_json_lines(), text, "writing is a fixpoint");
    assert_eq!(content(again), content(facts));
}

#[test]
fn strings_with_escapes_round_trip() {
    let line = r#"{"kind": "event", "party": "U\u0053", "id": "q\"uote\\d\n\u0001é", "type": "t", "at": "1979-01-01", "attributes": {"n\u00e4me": "tab\there"}}"#;
    let facts = load(line);
    let [e] = &facts.events[..] else { panic!() };
    assert_eq!(&*e.party, "US");
    assert_eq!(&*e.id, "q\"uote\\d\n\u{1}é");
    assert_eq!(
        e.attributes.get("näme"),
        Some(&AttrValue::Text("tab\there".to_owned()))
    );
    assert_eq!(content(load(&facts.to_json_lines())), content(facts));
}

/// Each case: one line, and every error it gives, rendered with its field and help.
#[test]
fn each_error_names_its_position_field_and_fix() {
    let notification = r#"{"kind": "notification", "party": "US", "id": "n1", "provision": "d", "event_type": "l", "sent_at": "1979-06-18T10:00:00Z""#;
    let item =
        r#"{"kind": "item", "party": "US", "id": "m1", "category": "c", "from": "1979-01-01""#;
    let cases: Vec<(String, &str)> = vec![
        // Not JSON.
        (
            r#"{"kind": "item","#.to_owned(),
            "f.jsonl:1:16: expected a value, found the end of the line\n  field: -\n  help: -\n",
        ),
        (
            r#"{"kind": "event", "party": "US", "id": "e1", "type": "t", "at": "1979-06-18", "attributes": {"a": tru}}"#.to_owned(),
            "f.jsonl:1:102: invalid literal: expected `true`, `false` or `null`\n  field: attributes.a\n  help: strings are written in double quotes\n",
        ),
        (
            r#"{"kind": "event", "party": "US", "id": "e1", "type": "t", "at": "1979-06-18", "attributes": {"a": 1,}}"#.to_owned(),
            "f.jsonl:1:101: trailing comma\n  field: attributes\n  help: -\n",
        ),
        (
            r#"{"kind": "event", "party": "US", "id": "e1", "type": "t", "at": "1979-06-18"} {}"#.to_owned(),
            "f.jsonl:1:79: unexpected text after the record\n  field: -\n  help: each line holds one JSON object\n",
        ),
        // Not a record.
        (
            "[1, 2]".to_owned(),
            "f.jsonl:1:1: expected a record like `{\"kind\": \"item\", …}`, found an array\n  field: -\n  help: each line holds one JSON object\n",
        ),
        (
            "{}".to_owned(),
            "f.jsonl:1:1: missing field `kind`\n  field: kind\n  help: the kinds are `declaration`, `item`, `event`, `notification` and `observation`\n",
        ),
        (
            r#"{"party": "US", "kind": "item"}"#.to_owned(),
            "f.jsonl:1:2: the first field must be `kind`, found `party`\n  field: party\n  help: every record starts with its kind, e.g. `{\"kind\": \"item\", …}`\n",
        ),
        (
            r#"{"kind": "itme"}"#.to_owned(),
            "f.jsonl:1:10: unknown record kind `itme`\n  field: kind\n  help: did you mean `item`?\n",
        ),
        (
            r#"{"kind": 5}"#.to_owned(),
            "f.jsonl:1:10: expected a record kind, found `5`\n  field: kind\n  help: the kinds are `declaration`, `item`, `event`, `notification` and `observation`\n",
        ),
        // Fields: missing, unknown, repeated, of the wrong JSON type.
        (
            r#"{"kind": "item", "party": "US", "id": "m1", "category": "c"}"#.to_owned(),
            "f.jsonl:1:1: missing field `from`\n  field: from\n  help: an `item` needs `party`, `id`, `category` and `from`\n",
        ),
        (
            r#"{"kind": "item", "party": "US", "id": "m1", "categroy": "c"}"#.to_owned(),
            "f.jsonl:1:45: unknown field `categroy` in an `item` record\n  field: categroy\n  help: did you mean `category`?\n",
        ),
        (
            r#"{"kind": "item", "party": "Ü", "ïd": "m1"}"#.to_owned(),
            "f.jsonl:1:32: unknown field `ïd` in an `item` record\n  field: ïd\n  help: did you mean `id`?\n",
        ),
        (
            r#"{"kind": "item", "party": "US", "party": "USSR"}"#.to_owned(),
            "f.jsonl:1:33: field `party` is given twice\n  field: party\n  help: -\n",
        ),
        (
            r#"{"kind": "item", "kind": "item"}"#.to_owned(),
            "f.jsonl:1:18: field `kind` is given twice\n  field: kind\n  help: -\n",
        ),
        (
            r#"{"kind": "item", "party": 7}"#.to_owned(),
            "f.jsonl:1:27: expected a name in a string, found `7`\n  field: party\n  help: -\n",
        ),
        (
            r#"{"kind": "item", "party": ""}"#.to_owned(),
            "f.jsonl:1:27: a name must not be empty\n  field: party\n  help: -\n",
        ),
        (
            format!(r#"{item}, "attributes": {{"mirv": [true]}}}}"#),
            "f.jsonl:1:107: expected a bool, a number or a string, found an array\n  field: attributes.mirv\n  help: -\n",
        ),
        (
            format!(r#"{item}, "attributes": {{"mirv": true, "mirv": false}}}}"#),
            "f.jsonl:1:113: attribute `mirv` is given twice\n  field: attributes.mirv\n  help: -\n",
        ),
        (
            format!(r#"{item}, "attributes": [[[[[[[[[[]]]]]]]]]]}}"#),
            "f.jsonl:1:98: expected attributes like `{\"mirv\": true}`, found an array\n  field: attributes\n  help: -\n",
        ),
        // Values: dates, instants, numbers, coordinates, intervals, areas.
        (
            r#"{"kind": "declaration", "party": "US", "as_of": "1979-13-01", "quantities": {}}"#.to_owned(),
            "f.jsonl:1:49: expected a date like `1979-06-18`, found `1979-13-01`\n  field: as_of\n  help: dates are written `YYYY-MM-DD` and must exist in the calendar\n",
        ),
        (
            r#"{"kind": "declaration", "party": "US", "as_of": "1979-06-18T00:00:00Z", "quantities": {}}"#.to_owned(),
            "f.jsonl:1:49: expected a date like `1979-06-18`, found `1979-06-18T00:00:00Z`\n  field: as_of\n  help: this field takes a date, without a time of day\n",
        ),
        (
            r#"{"kind": "declaration", "party": "US", "as_of": "1979-06-18", "quantities": {"sdv": "2400"}}"#.to_owned(),
            "f.jsonl:1:85: expected a number, found `\"2400\"`\n  field: quantities.sdv\n  help: -\n",
        ),
        (
            r#"{"kind": "declaration", "party": "US", "as_of": "1979-06-18", "quantities": {"sdv": 1, "sdv": 2}}"#.to_owned(),
            "f.jsonl:1:88: quantity `sdv` is given twice\n  field: quantities.sdv\n  help: -\n",
        ),
        (
            r#"{"kind": "declaration", "party": "US", "as_of": "1979-06-18", "quantities": {"sdv": 9223372036854775808}}"#.to_owned(),
            "f.jsonl:1:85: integer `9223372036854775808` is too large; integers are 64-bit signed\n  field: quantities.sdv\n  help: -\n",
        ),
        (
            r#"{"kind": "item", "party": "US", "id": "m1", "category": "c", "from": "1979-02-29"}"#.to_owned(),
            "f.jsonl:1:70: expected a date like `1979-06-18` or an instant like `1979-06-18T10:00:00Z`, found `1979-02-29`\n  field: from\n  help: instants are UTC, written `YYYY-MM-DDTHH:MM:SSZ`; a date `YYYY-MM-DD` means midnight\n",
        ),
        (
            format!(r#"{item}, "until": "1979-01-01"}}"#),
            "f.jsonl:1:93: `until` must be later than `from` (`1979-01-01T00:00:00Z`), found `1979-01-01T00:00:00Z`\n  field: until\n  help: an item exists from `from` up to, not including, `until`\n",
        ),
        (
            format!(r#"{item}, "location": {{"lat": 95, "lon": 0}}}}"#),
            "f.jsonl:1:104: latitude `95` is out of range; expected -90 to 90\n  field: location.lat\n  help: -\n",
        ),
        (
            format!(r#"{item}, "location": {{"lat": 5}}}}"#),
            "f.jsonl:1:96: missing field `lon`\n  field: location.lon\n  help: a location is written `{\"lat\": …, \"lon\": …}`\n",
        ),
        (
            format!(r#"{item}, "location": {{"lat": 5, "lng": 3}}}}"#),
            "f.jsonl:1:107: unknown field `lng` in a location\n  field: location.lng\n  help: a location has the fields `lat` and `lon`\n",
        ),
        (
            r#"{"kind": "event", "party": "US", "id": "e1", "type": "t", "at": "1979-06-18 10:00"}"#.to_owned(),
            "f.jsonl:1:65: expected an instant like `1979-06-18T10:00:00Z`, found `1979-06-18 10:00`\n  field: at\n  help: instants are UTC, written `YYYY-MM-DDTHH:MM:SSZ`; a date `YYYY-MM-DD` means midnight\n",
        ),
        (
            r#"{"kind": "observation", "observer": "US", "party": "USSR", "id": "o1", "type": "x", "at": "1979-06-18", "mb": "5.2"}"#.to_owned(),
            "f.jsonl:1:111: expected a number, found `\"5.2\"`\n  field: mb\n  help: -\n",
        ),
        (
            format!(r#"{notification}, "window": {{"from": "1979-06-20T00:00:00Z", "to": "1979-06-19T00:00:00Z"}}}}"#),
            "f.jsonl:1:174: a window must not end before it starts: `to` is `1979-06-19T00:00:00Z`, `from` is `1979-06-20T00:00:00Z`\n  field: window.to\n  help: -\n",
        ),
        (
            format!(r#"{notification}, "window": {{"from": "1979-06-20T00:00:00Z"}}}}"#),
            "f.jsonl:1:135: missing field `to`\n  field: window.to\n  help: a window is written `{\"from\": …, \"to\": …}`\n",
        ),
        (
            format!(r#"{notification}, "launch_area": {{"circle": {{"center": {{"lat": 1, "lon": 2}}, "radius_km": 5, "radius_nmi": 3}}}}}}"#),
            "f.jsonl:1:200: a circle has one radius: give `radius_km` or `radius_nmi`\n  field: launch_area.circle.radius_nmi\n  help: -\n",
        ),
        (
            format!(r#"{notification}, "launch_area": {{"circle": {{"center": {{"lat": 1, "lon": 2}}}}}}}}"#),
            "f.jsonl:1:151: missing field `radius_km`\n  field: launch_area.circle.radius_km\n  help: a circle is written `{\"center\": {\"lat\": …, \"lon\": …}, \"radius_km\": …}`\n",
        ),
        (
            format!(r#"{notification}, "launch_area": {{"circle": {{"center": {{"lat": 1, "lon": 2}}, "radius_km": -1}}}}}}"#),
            "f.jsonl:1:197: a radius must be positive, found `-1`\n  field: launch_area.circle.radius_km\n  help: -\n",
        ),
        (
            format!(r#"{notification}, "impact_area": {{"polygon": [{{"lat": 1, "lon": 2}}, {{"lat": 1, "lon": 3}}]}}}}"#),
            "f.jsonl:1:152: a polygon needs at least 3 points, found 2\n  field: impact_area.polygon\n  help: -\n",
        ),
        (
            format!(r#"{notification}, "impact_area": {{"polygon": [{{"lat": 1, "lon": 2}}, {{"lat": 1, "lon": 3}}, {{"lat": 1, "lon": 300}}]}}}}"#),
            "f.jsonl:1:215: longitude `300` is out of range; expected -180 to 180\n  field: impact_area.polygon[2].lon\n  help: -\n",
        ),
        (
            format!(r#"{notification}, "impact_area": {{"zone": "x", "polygon": []}}}}"#),
            "f.jsonl:1:154: an area is exactly one of `circle`, `polygon` or `zone`\n  field: impact_area.polygon\n  help: -\n",
        ),
        (
            format!(r#"{notification}, "impact_area": {{}}}}"#),
            "f.jsonl:1:140: an empty area: expected `circle`, `polygon` or `zone`\n  field: impact_area\n  help: an area is one of `{\"circle\": …}`, `{\"polygon\": […]}` or `{\"zone\": \"name\"}`\n",
        ),
        (
            format!(r#"{notification}, "impact_area": {{"square": 1}}}}"#),
            "f.jsonl:1:141: unknown field `square` in an area\n  field: impact_area.square\n  help: an area has the fields `circle`, `polygon` and `zone`\n",
        ),
    ];
    for (line, expected) in cases {
        let (facts, errors) = load_str("f.jsonl", &line);
        assert_eq!(render(&errors), expected, "\n{line}");
        assert!(facts.is_empty());
    }
}

#[test]
fn lines_are_counted_and_blank_lines_skipped() {
    let text = "\u{feff}{\"kind\": \"item\", \"party\": \"US\", \"id\": \"a\", \"category\": \"c\", \"from\": \"1979-01-01\"}\r\n\
                \r\n   \n\
                {\"kind\": \"item\", \"party\": \"US\", \"id\": \"b\", \"category\": \"c\", \"from\": 1}\r\n\
                not json\n";
    let (facts, errors) = load_str("f.jsonl", text);
    assert_eq!(facts.items.len(), 1);
    assert_eq!(
        render(&errors),
        "f.jsonl:4:69: expected a date like `1979-06-18` or an instant like `1979-06-18T10:00:00Z`, found `1`\n  field: from\n  help: instants are UTC, written `YYYY-MM-DDTHH:MM:SSZ`; a date `YYYY-MM-DD` means midnight\n\
         f.jsonl:5:2: invalid literal: expected `true`, `false` or `null`\n  field: -\n  help: strings are written in double quotes\n"
    );
    assert_eq!(errors[0].kind, FactErrorKind::Field);
    assert_eq!(errors[1].kind, FactErrorKind::Json);
}

#[test]
fn contradictions_are_errors_and_identical_repeats_are_not() {
    let text = r#"{"kind":"item","party":"US","id":"m1","category":"c","from":"1979-01-01","until":"1980-01-01"}
{"kind":"item","party":"US","id":"m1","category":"c","from":"1980-01-01"}
{"kind":"item","party":"US","id":"m1","category":"c","from":"1979-06-01","until":"1979-07-01"}
{"kind":"item","party":"US","id":"m1","category":"c","from":"1979-01-01","until":"1980-01-01"}
{"kind":"item","party":"USSR","id":"m1","category":"c","from":"1979-01-01"}
{"kind":"declaration","party":"US","as_of":"1979-06-18","quantities":{"sdv":2400,"mirv":1320}}
{"kind":"declaration","party":"US","as_of":"1979-06-18","quantities":{"sdv":2400.0}}
{"kind":"declaration","party":"US","as_of":"1979-06-18","quantities":{"sdv":2504}}
{"kind":"declaration","party":"US","as_of":"1979-06-18","quantities":{"sdv":2400,"mirv":1320}}
{"kind":"declaration","party":"USSR","as_of":"1979-06-18","quantities":{"sdv":2504}}
{"kind":"event","party":"US","id":"e1","type":"t","at":"1979-06-18T10:00:00Z"}
{"kind":"event","party":"US","id":"e1","type":"t","at":"1979-06-18T10:00:00Z"}
{"kind":"event","party":"US","id":"e1","type":"t","at":"1979-06-18T11:00:00Z"}
{"kind":"event","party":"USSR","id":"e1","type":"t","at":"1979-06-18T11:00:00Z"}
{"kind":"notification","party":"US","id":"n1","provision":"d","event_type":"t","sent_at":"1979-06-17"}
{"kind":"notification","party":"US","id":"n1","provision":"d","event_type":"t","sent_at":"1979-06-16"}
{"kind":"observation","observer":"USSR","party":"US","id":"o1","type":"t","at":"1979-06-18"}
{"kind":"observation","observer":"USSR","party":"US","id":"o1","type":"t","at":"1979-06-18","mb":4.5}
{"kind":"observation","observer":"US","party":"USSR","id":"o1","type":"t","at":"1979-06-18","mb":4.5}
"#;
    let (facts, errors) = load_str("f.jsonl", text);
    assert_eq!(
        render(&errors),
        "f.jsonl:3: item `m1` of `US` overlaps its record at `f.jsonl:1`\n  field: id\n  help: an item may have several records only if their intervals `[from, until)` do not overlap\n\
         f.jsonl:8: `sdv` of `US` as of `1979-06-18` is declared `2504` here and `2400` at `f.jsonl:6`\n  field: quantities.sdv\n  help: a party declares each quantity once per date; identical repeats are fine\n\
         f.jsonl:13: event `e1` of `US` is already recorded with different content at `f.jsonl:11`\n  field: id\n  help: an id names one record of its party; identical repeats are fine\n\
         f.jsonl:16: notification `n1` of `US` is already recorded with different content at `f.jsonl:15`\n  field: id\n  help: an id names one record of its party; identical repeats are fine\n\
         f.jsonl:18: observation `o1` by `USSR` is already recorded with different content at `f.jsonl:17`\n  field: id\n  help: an id names one record of its party; identical repeats are fine\n"
    );
    assert!(
        errors
            .iter()
            .all(|e| e.kind == FactErrorKind::Contradiction && e.column == 0)
    );
    // Identical repeats collapse into the first; contradicting records are all kept.
    assert_eq!(facts.items.len(), 4);
    assert_eq!(facts.declarations.len(), 4);
    assert_eq!(facts.events.len(), 3);
    let lines: Vec<u64> = facts.events.iter().map(|e| e.origin.line).collect();
    assert_eq!(lines, [11, 13, 14]);
}

#[test]
fn an_item_overlapping_an_open_ended_record_is_caught_beyond_its_neighbour() {
    let text = r#"{"kind":"item","party":"US","id":"m1","category":"c","from":"1979-01-01"}
{"kind":"item","party":"US","id":"m1","category":"c","from":"1979-03-01","until":"1979-04-01"}
{"kind":"item","party":"US","id":"m1","category":"c","from":"1985-01-01"}
"#;
    let (_, errors) = load_str("f.jsonl", text);
    let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "f.jsonl:2: item `m1` of `US` overlaps its record at `f.jsonl:1`",
            "f.jsonl:3: item `m1` of `US` overlaps its record at `f.jsonl:1`",
        ]
    );
}

#[test]
fn merging_sources_checks_across_them() {
    let a = load_str(
        "a.jsonl",
        r#"{"kind":"declaration","party":"US","as_of":"1979-06-18","quantities":{"sdv":2400}}"#,
    )
    .0;
    let b = load_str(
        "b.jsonl",
        "\n{\"kind\":\"declaration\",\"party\":\"US\",\"as_of\":\"1979-06-18\",\"quantities\":{\"sdv\":2401}}",
    )
    .0;
    let (merged, errors) = a.merge(b);
    assert_eq!(merged.sources, ["a.jsonl", "b.jsonl"]);
    let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "b.jsonl:2: `sdv` of `US` as of `1979-06-18` is declared `2401` here and `2400` at `a.jsonl:1`"
        ]
    );

    // The same through one loader with two sources.
    let mut loader = FactsLoader::new("a.jsonl");
    loader.push_line(
        r#"{"kind":"declaration","party":"US","as_of":"1979-06-18","quantities":{"sdv":2400}}"#,
    );
    loader.start_source("b.jsonl");
    loader.push_line("");
    loader.push_line(
        r#"{"kind":"declaration","party":"US","as_of":"1979-06-18","quantities":{"sdv":2401}}"#,
    );
    let (facts, errors) = loader.finish();
    assert_eq!(
        errors.iter().map(ToString::to_string).collect::<Vec<_>>(),
        shown
    );
    assert_eq!(content(facts), content(merged));
}

#[test]
fn limits_give_errors_not_panics() {
    // A line over 1 MiB.
    let long = format!(
        r#"{{"kind": "item", "id": "{}"}}"#,
        "x".repeat(MAX_LINE_BYTES)
    );
    let (_, errors) = load_str("f.jsonl", &long);
    assert_eq!(
        errors.iter().map(ToString::to_string).collect::<Vec<_>>(),
        ["f.jsonl:1:1: line is too long: 1048602 bytes, the limit is 1048576 bytes (1 MiB)"]
    );
    assert_eq!(errors[0].kind, FactErrorKind::Limit);

    // Deep nesting anywhere is refused at its first level, without recursion.
    let deep = [
        "[".repeat(200_000),
        format!(
            r#"{{"kind": "item", "attributes": {{"a": {}"#,
            "[".repeat(200_000)
        ),
        format!(
            r#"{{"kind": "item", "location": {}"#,
            "{\"lat\":".repeat(100_000)
        ),
    ];
    let expected = [
        "f.jsonl:1:1: expected a record like `{\"kind\": \"item\", …}`, found an array",
        "f.jsonl:1:38: expected a bool, a number or a string, found an array",
        "f.jsonl:1:37: expected a number, found an object",
    ];
    for (text, expected) in deep.iter().zip(expected) {
        let (_, errors) = load_str("f.jsonl", text);
        assert_eq!(
            errors.iter().map(ToString::to_string).collect::<Vec<_>>(),
            [expected]
        );
    }

    // Past MAX_ERRORS errors the loader says so once and stops.
    let garbage = "x\n".repeat(MAX_ERRORS + 50);
    let (_, errors) = load_str("f.jsonl", &garbage);
    assert_eq!(errors.len(), MAX_ERRORS + 1);
    let last = errors.last().unwrap();
    assert_eq!(
        last.to_string(),
        "f.jsonl:1001: too many errors: only the first 1000 are shown"
    );
    assert_eq!(last.kind, FactErrorKind::Limit);
}

/// A small deterministic generator (xorshift), so that failures can be replayed from the
/// printed seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn varied_facts(rng: &mut Rng, records: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for i in 0..records {
        let party = if rng.below(2) == 0 { "US" } else { "USSR" };
        let line = match rng.below(5) {
            0 => format!(
                r#"{{"kind":"item","party":"{party}","id":"m{}","category":"c{}","attributes":{{"mirv":{},"w":{},"x":{}.5}},"location":{{"lat":{},"lon":{}}},"from":"19{}-01-01"}}"#,
                i,
                rng.below(3),
                rng.below(2) == 0,
                rng.below(10),
                rng.below(10),
                rng.below(90),
                rng.below(180),
                70 + rng.below(20)
            ),
            1 => format!(
                r#"{{"kind":"event","party":"{party}","id":"e{i}","type":"t{}","at":"1980-0{}-01T10:00:00Z","attributes":{{"k":"v{}"}}}}"#,
                rng.below(3),
                1 + rng.below(9),
                rng.below(3)
            ),
            2 => format!(
                r#"{{"kind":"declaration","party":"{party}","as_of":"198{}-01-01","quantities":{{"q{i}":{}}}}}"#,
                rng.below(10),
                rng.below(3000)
            ),
            3 => format!(
                r#"{{"kind":"notification","party":"{party}","id":"n{i}","provision":"d","event_type":"t","sent_at":"1988-06-0{}T08:00:00Z","launch_area":{{"zone":"z{}"}}}}"#,
                1 + rng.below(9),
                rng.below(3)
            ),
            _ => format!(
                r#"{{"kind":"observation","observer":"{party}","party":"US","id":"o{i}","type":"t","at":"1988-06-03","mb":{}.{}}}"#,
                3 + rng.below(4),
                rng.below(10)
            ),
        };
        lines.push(line);
    }
    // Identical repeats, which collapse wherever they land.
    for _ in 0..records / 10 {
        let index = rng.below(lines.len() as u64) as usize;
        let copy = lines.get(index).cloned().unwrap_or_default();
        lines.push(copy);
    }
    lines
}

#[test]
fn line_order_does_not_matter() {
    let seed = 0x5eed_0000_1979_0618;
    println!("seed {seed:#x}");
    let mut rng = Rng(seed);
    let lines = varied_facts(&mut rng, 400);
    let reference = load(&lines.join("\n"));
    assert!(reference.len() >= 400);
    for round in 0..5 {
        let mut shuffled = lines.clone();
        for i in (1..shuffled.len()).rev() {
            shuffled.swap(i, rng.below(i as u64 + 1) as usize);
        }
        let facts = load(&shuffled.join("\n"));
        assert_eq!(
            facts.to_json_lines(),
            reference.to_json_lines(),
            "round {round}"
        );
        assert_eq!(content(facts), content(reference.clone()), "round {round}");
    }
}

/// Items with several records each, ids of every length (sharing long prefixes, one a
/// prefix of another, one ending in a NUL), in the plain form of generated files.
fn item_records(rng: &mut Rng, items: usize) -> Vec<String> {
    let long = "x".repeat(40);
    let ids = [
        "a".to_owned(),
        "a\\u0000".to_owned(),
        "ab".to_owned(),
        "P05-acv-000000".to_owned(),
        "P05-acv-0000001".to_owned(),
        "x".repeat(16),
        format!("{}a", "x".repeat(16)),
        "x".repeat(32),
        format!("{long}b"),
        format!("{long}a"),
        long.clone(),
    ];
    let mut lines = Vec::new();
    for n in 0..items {
        let party = ["P01", "P02", "P1", "P10"][rng.below(4) as usize];
        // Some ids differ only by trailing NULs.
        let nuls = ["q", "q\\u0000", "q\\u0000\\u0000"];
        let id = match nuls.get(n) {
            Some(id) => (*id).to_owned(),
            None => format!("{}#{}", ids[n % ids.len()], n / ids.len()),
        };
        let mut year = 1970 + rng.below(10);
        for _ in 0..1 + rng.below(4) {
            let until = year + 1 + rng.below(3);
            lines.push(format!(
                r#"{{"kind":"item","party":"{party}","id":"{id}","category":"c{}","attributes":{{"a":{},"b":"v{}"}},"from":"{year}-01-01","until":"{until}-01-01"}}"#,
                rng.below(2),
                rng.below(2) == 0,
                rng.below(2),
            ));
            year = until;
        }
        lines.push(format!(
            r#"{{"kind":"event","party":"{party}","id":"{id}","type":"t","at":"1980-01-01T00:00:0{}Z"}}"#,
            rng.below(2)
        ));
    }
    lines
}

#[test]
fn items_are_in_order_whatever_the_line_order() {
    let seed = 0x5eed_0000_1990_1119;
    println!("seed {seed:#x}");
    let mut rng = Rng(seed);
    let lines = item_records(&mut rng, 300);
    let reference = load(&lines.join("\n"));
    let key = |i: &detente_assess::facts::Item| (i.party.to_string(), i.id.to_string(), i.from);
    assert!(reference.items.windows(2).all(|w| key(&w[0]) < key(&w[1])));
    assert!(reference.items.len() > 300);
    for round in 0..5 {
        let mut shuffled = lines.clone();
        if round > 0 {
            for i in (1..shuffled.len()).rev() {
                shuffled.swap(i, rng.below(i as u64 + 1) as usize);
            }
        }
        // Some records twice, identical: they collapse into the first.
        for _ in 0..20 {
            let copy = shuffled[rng.below(shuffled.len() as u64) as usize].clone();
            shuffled.push(copy);
        }
        let facts = load(&shuffled.join("\n"));
        assert_eq!(
            facts.to_json_lines(),
            reference.to_json_lines(),
            "round {round}"
        );
        assert_eq!(content(facts), content(reference.clone()), "round {round}");
    }
}

fn vocabulary() -> Vocabulary {
    let attrs = |pairs: &[(&str, AttrType)]| -> BTreeMap<String, AttrType> {
        pairs
            .iter()
            .map(|(n, t)| ((*n).to_owned(), t.clone()))
            .collect()
    };
    Vocabulary {
        parties: vec!["US".to_owned(), "USSR".to_owned()],
        categories: [
            (
                "icbm_launcher".to_owned(),
                attrs(&[
                    ("mirv", AttrType::Bool),
                    ("warheads", AttrType::Int),
                    ("throw_weight_kg", AttrType::Decimal),
                    (
                        "basing",
                        AttrType::Enum(vec!["silo".to_owned(), "road".to_owned()]),
                    ),
                ]),
            ),
            ("military_base".to_owned(), BTreeMap::new()),
        ]
        .into_iter()
        .collect(),
        event_types: [
            ("missile_test_launch".to_owned(), BTreeMap::new()),
            (
                "nuclear_explosion".to_owned(),
                attrs(&[("purpose", AttrType::Text), ("yield_kt", AttrType::Decimal)]),
            ),
        ]
        .into_iter()
        .collect(),
        declarable_quantities: vec!["sdv".to_owned(), "civil_defense_musd".to_owned()],
        provisions: vec!["d".to_owned()],
        zones: vec!["range_head".to_owned()],
    }
}

#[test]
fn the_sample_facts_fit_the_vocabulary() {
    assert_eq!(load(ALL_KINDS).validate(&vocabulary()), []);
}

#[test]
fn validation_names_unknown_names_and_wrong_types() {
    let text = r#"{"kind":"declaration","party":"USR","as_of":"1979-06-18","quantities":{"sdvs":1}}
{"kind":"item","party":"US","id":"m1","category":"icbm_lancher","from":"1979-01-01"}
{"kind":"item","party":"US","id":"m2","category":"icbm_launcher","attributes":{"mirv":"true","warheads":1.5,"throw_weight_kg":1000,"basing":"sea","basin":"silo"},"from":"1979-01-01"}
{"kind":"item","party":"US","id":"m3","category":"icbm_launcher","attributes":{"basing":"rode","warheads":"3"},"from":"1979-01-01"}
{"kind":"item","party":"US","id":"b1","category":"military_base","attributes":{"size":3},"from":"1979-01-01"}
{"kind":"event","party":"UK","id":"e1","type":"nuclear_explosions","at":"1979-01-01"}
{"kind":"event","party":"US","id":"e2","type":"nuclear_explosion","at":"1979-01-01","attributes":{"yield_kt":"big"}}
{"kind":"notification","party":"US","id":"n1","provision":"e","event_type":"missile_test","sent_at":"1979-01-01","launch_area":{"zone":"range_heads"},"impact_area":{"zone":"ocean"}}
{"kind":"observation","observer":"RU","party":"US","id":"o1","type":"military_bas","at":"1979-01-01","category":"warship"}
"#;
    let facts = load(text);
    let errors = facts.validate(&vocabulary());
    let expected = "\
f.jsonl:1: unknown party `USR`
  field: party
  help: did you mean `USSR`?
f.jsonl:1: unknown quantity `sdvs`
  field: quantities.sdvs
  help: did you mean `sdv`?
f.jsonl:2: unknown category `icbm_lancher`
  field: category
  help: did you mean `icbm_launcher`?
f.jsonl:3: unknown attribute `basin` of `icbm_launcher`
  field: attributes.basin
  help: did you mean `basing`?
f.jsonl:3: attribute `basing` must be one of `silo`, `road`, found `sea`
  field: attributes.basing
  help: -
f.jsonl:3: attribute `mirv` must be a bool, found `\"true\"`
  field: attributes.mirv
  help: write `true` without quotes
f.jsonl:3: attribute `warheads` must be an int, found `1.5`
  field: attributes.warheads
  help: an int attribute takes whole numbers written without a decimal point
f.jsonl:4: attribute `basing` must be one of `silo`, `road`, found `rode`
  field: attributes.basing
  help: did you mean `road`?
f.jsonl:4: attribute `warheads` must be an int, found `\"3\"`
  field: attributes.warheads
  help: write `3` without quotes
f.jsonl:5: unknown attribute `size` of `military_base`
  field: attributes.size
  help: `military_base` has no attributes
f.jsonl:6: unknown party `UK`
  field: party
  help: did you mean `US`?
f.jsonl:6: unknown event type `nuclear_explosions`
  field: type
  help: did you mean `nuclear_explosion`?
f.jsonl:7: attribute `yield_kt` must be a decimal, found `\"big\"`
  field: attributes.yield_kt
  help: -
f.jsonl:8: unknown provision `e`
  field: provision
  help: the treaty's provisions are `d`
f.jsonl:8: unknown event type `missile_test`
  field: event_type
  help: did you mean `missile_test_launch`?
f.jsonl:8: unknown zone `range_heads`
  field: launch_area.zone
  help: did you mean `range_head`?
f.jsonl:8: unknown zone `ocean`
  field: impact_area.zone
  help: the treaty's zones are `range_head`
f.jsonl:9: unknown party `RU`
  field: observer
  help: the treaty's parties are `US`, `USSR`
f.jsonl:9: unknown event type or category `military_bas`
  field: type
  help: did you mean `military_base`?
f.jsonl:9: unknown category `warship`
  field: category
  help: the treaty's categories are `icbm_launcher`, `military_base`
";
    assert_eq!(render(&errors), expected);
    assert!(errors.iter().all(|e| e.column == 0));

    // A renderer that still has the line can point at the field.
    let line = text.lines().nth(2).unwrap();
    assert_eq!(locate_column(line, "attributes.basing"), Some(141));
    assert_eq!(&line[140..145], "\"sea\"");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_text_loads_without_panicking(text in any::<String>()) {
        let (_, errors) = load_str("p.jsonl", &text);
        for e in &errors {
            prop_assert!(e.line >= 1);
        }
    }

    /// Lines handed to the loader directly may hold anything, even line breaks.
    #[test]
    fn any_lines_pushed_load_without_panicking(lines in proptest::collection::vec(any::<String>(), 0..8)) {
        let mut loader = FactsLoader::new("p.jsonl");
        for line in &lines {
            loader.push_line(line);
        }
        let (_, errors) = loader.finish();
        for e in &errors {
            prop_assert!(e.line >= 1 && e.line <= lines.len() as u64);
        }
    }

    #[test]
    fn any_bytes_load_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = load_str("p.jsonl", &text);
    }

    /// Valid records with a few characters deleted, inserted or replaced: the loader must
    /// neither panic nor point outside the line.
    #[test]
    fn damaged_records_give_errors_inside_the_line(
        which in 0usize..10,
        edits in proptest::collection::vec((any::<usize>(), 0u8..3, prop::sample::select(
            vec!['{', '}', '[', ']', '"', ':', ',', '\\', '0', '9', '-', '.', 'e', 'a', ' ', 'é', 'T', 'Z'],
        )), 1..6),
    ) {
        let lines: Vec<&str> = ALL_KINDS.lines().filter(|l| !l.is_empty()).collect();
        let mut chars: Vec<char> = lines[which % lines.len()].chars().collect();
        for (at, op, c) in edits {
            let at = at % (chars.len() + 1);
            match op {
                0 if at < chars.len() => { chars.remove(at); }
                1 => chars.insert(at, c),
                _ if at < chars.len() => chars[at] = c,
                _ => chars.push(c),
            }
        }
        let line: String = chars.iter().collect();
        let (facts, errors) = load_str("p.jsonl", &line);
        prop_assert!(facts.len() + errors.len() as u64 >= 1, "{line}");
        for e in &errors {
            prop_assert_eq!(e.line, 1);
            prop_assert!(e.column >= 1 && e.column <= chars.len() as u64 + 1, "{e} in {line}");
            prop_assert!(!e.message.is_empty() && !e.message.ends_with('.'), "{e}");
        }
    }
}
