#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Property tests: the parser and checker never panic on any input, and formatting valid
//! treaties is a fixed point that keeps their meaning.

use detente_lang::{check_source, format::format_source};
use proptest::prelude::*;

const TOKENS: &[&str] = &[
    "treaty",
    "t",
    "\"title\"",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ",",
    ":",
    "=",
    "+",
    "-",
    "*",
    "/",
    "<=",
    ">=",
    "==",
    "parties",
    "US",
    "USSR",
    "param",
    "quantity",
    "category",
    "event",
    "limit",
    "ban",
    "notify",
    "declare",
    "objective",
    "deferred",
    "interpretation",
    "count",
    "sum",
    "where",
    "within",
    "per",
    "year",
    "over",
    "12",
    "months",
    "24h",
    "2400",
    "4.45",
    "1977-10-03",
    "1979-06-18T10:00:00Z",
    "in_force",
    "declared",
    "steps",
    "to",
    "every",
    "until",
    "from",
    "for",
    "item",
    "except",
    "and",
    "or",
    "not",
    "in",
    "\n",
    " ",
    "// c\n",
    "\"",
    "x",
    "a-b",
];

fn tokens() -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(TOKENS), 0..120)
        .prop_map(|parts| parts.join(" "))
}

/// Valid treaties from a small grammar: params, quantities, a limit and a ban.
fn treaties() -> impl Strategy<Value = String> {
    (1i64..5000, 1i64..5000, 0usize..3, any::<bool>(), any::<bool>()).prop_map(
        |(ceiling, later, extra, comment, steps)| {
            let mut s = String::from("treaty gen \"Generated\" {\n  parties A, B\n  in_force 2000-01-31\n");
            if comment {
                s.push_str("  // a comment\n");
            }
            s.push_str(&format!("  param ceiling = {ceiling} \"note\"\n"));
            s.push_str("  category launcher { mobile: bool, kind: enum(silo, road) }\n");
            s.push_str("  quantity launchers = count(launcher) declared\n");
            for i in 0..extra {
                s.push_str(&format!("  quantity q{i} = launchers * {} + (ceiling - 1)\n", i + 2));
            }
            if steps {
                s.push_str("  objective o \"O\" {\n    launchers <= steps ceiling to 10 every 1 year until in_force + 5 years\n  }\n");
            } else {
                s.push_str(&format!("  limit l \"L\" {{\n    launchers <= ceiling, {later} from 2001-01-01 for A\n    launchers <= ceiling\n  }}\n"));
            }
            s.push_str("  ban m \"M\" from in_force + 1 month {\n    item launcher where mobile and kind == road\n  }\n}\n");
            s
        },
    )
}

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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_bytes_give_diagnostics_not_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let text = String::from_utf8_lossy(&bytes);
        let checked = check_source(&text);
        prop_assert!(checked.treaty.is_some() || !checked.diagnostics.is_empty());
        let _ = format_source(&text);
    }

    #[test]
    fn token_soup_gives_diagnostics_not_panics(text in tokens()) {
        let checked = check_source(&text);
        prop_assert!(checked.treaty.is_some() || !checked.diagnostics.is_empty());
        let _ = format_source(&text);
    }

    #[test]
    fn formatting_is_a_fixed_point_that_keeps_meaning(source in treaties()) {
        let before = check_source(&source);
        prop_assert!(before.treaty.is_some(), "{:?}", before.diagnostics);
        let once = format_source(&source).expect("valid treaties format");
        let twice = format_source(&once).expect("formatted treaties format");
        prop_assert_eq!(&once, &twice);
        let after = check_source(&once);
        prop_assert_eq!(
            strip_spans(&format!("{:?}", before.treaty)),
            strip_spans(&format!("{:?}", after.treaty))
        );
    }
}

#[test]
fn deep_nesting_is_a_diagnostic_not_a_stack_overflow() {
    let deep = format!(
        "treaty t {{ parties A, B param p = {}1{} }}",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    let checked = check_source(&deep);
    assert!(checked.diagnostics.iter().any(|d| d.code == "E0002"));
    let long = format!(
        "treaty t {{ parties A, B param p = 1{} }}",
        "+1".repeat(100_000)
    );
    let checked = check_source(&long);
    assert!(checked.diagnostics.iter().any(|d| d.code == "E0003"));
}
