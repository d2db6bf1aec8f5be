//! One limit decision over declared aggregates (issue 3's goal: under 5 µs).
//!
//! The smallest public path that makes one decision is [`Engine::assess`] on a treaty with
//! exactly one limit and one party: it looks up the party's latest declarations as of the
//! instant, evaluates the limit's expression, finds the bound in force, compares, and
//! builds the finding with its evidence. The other benches put that figure in context: the
//! quantities alone, the same decision over items counted through the index, and the
//! shipped New START treaty (counted per finding).
//!
//! Run: `cargo bench -p detente-assess --bench decision`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use detente_assess::engine::{Engine, Options, Provenance};
use detente_assess::facts::{Facts, load_str};
use detente_lang::model::Treaty;
use detente_lang::time::Instant;
use divan::counter::ItemsCount;
use divan::{Bencher, black_box};
use std::collections::BTreeMap;
use std::fmt::Write as _;

fn main() {
    divan::main();
}

/// One party, one limit on a declared aggregate that is also the sum of three declared
/// components (as New START's `launchers`), a schedule with a later step.
const ONE_LIMIT: &str = r#"
treaty one_limit "One limit over declared aggregates" {
  parties US
  in_force 2011-02-05
  quantity deployed_launchers: int declared
  quantity nondeployed_launchers: int declared
  quantity heavy_bombers: int declared
  quantity launchers = deployed_launchers + nondeployed_launchers + heavy_bombers declared
  limit launchers "Deployed and non-deployed launchers" article "II.1(c)" {
    launchers <= 900, 800 from 2018-02-05
  }
}
"#;

/// Twenty semi-annual declarations of the four quantities (a handful per year).
fn declarations() -> String {
    let mut text = String::new();
    for year in 2011..2021 {
        for (k, month) in ["03", "09"].iter().enumerate() {
            let n = (year - 2011) * 2 + k as i32;
            let deployed = 700 - n * 5;
            let nondeployed = 150 - n * 2;
            let bombers = 60 - n / 4;
            let _ = writeln!(
                text,
                r#"{{"kind":"declaration","party":"US","id":"us-{year}-{month}","as_of":"{year}-{month}-01","quantities":{{"deployed_launchers":{deployed},"nondeployed_launchers":{nondeployed},"heavy_bombers":{bombers},"launchers":{}}}}}"#,
                deployed + nondeployed + bombers
            );
        }
    }
    text
}

fn treaty(source: &str) -> Treaty {
    let checked = detente_lang::check_source(source);
    assert!(
        checked.diagnostics.iter().all(|d| !d.is_error()),
        "{:?}",
        checked.diagnostics
    );
    checked.treaty.unwrap()
}

fn facts(text: &str) -> Facts {
    let (facts, errors) = load_str("bench.jsonl", text);
    assert!(errors.is_empty(), "{errors:?}");
    facts
}

fn engine<'t, 'f>(treaty: &'t Treaty, facts: &'f Facts) -> Engine<'t, 'f> {
    Engine::new(
        treaty,
        facts,
        BTreeMap::new(),
        &Options::default(),
        Provenance::default(),
    )
    .unwrap()
}

fn at(text: &str) -> Instant {
    Instant::parse(text).unwrap()
}

/// The goal's figure: one `assess` = one decision (one limit, one party).
#[divan::bench]
fn one_limit_declared(bencher: Bencher) {
    let treaty = treaty(ONE_LIMIT);
    let facts = facts(&declarations());
    let engine = engine(&treaty, &facts);
    let t = at("2020-09-15");
    let report = engine.assess(t);
    assert_eq!(report.findings.len(), 1);
    assert!(report.findings[0].value.is_some());
    bencher.bench_local(|| engine.assess(black_box(t)));
}

/// The part of that decision that finds the quantities (latest declarations, the computed
/// sum): every quantity of the one party at the instant.
#[divan::bench]
fn quantities_only(bencher: Bencher) {
    let treaty = treaty(ONE_LIMIT);
    let facts = facts(&declarations());
    let engine = engine(&treaty, &facts);
    let t = at("2020-09-15");
    bencher.bench_local(|| engine.quantities_at(black_box("US"), black_box(t)));
}

/// The same decision over a count of items read through the index (10,000 items, 100,000
/// records), for comparison with the declared path.
#[divan::bench]
fn one_limit_counted_items(bencher: Bencher) {
    let source = r#"
treaty counted "One limit over counted items" {
  parties P01
  in_force 1991-01-01
  category battle_tank { active_unit: bool }
  quantity battle_tanks = count(battle_tank where active_unit)
  limit tanks "Battle tanks" { battle_tanks <= 4000 }
}
"#;
    let mut text = String::new();
    for item in 0..10_000u32 {
        for r in 0..10u32 {
            let year = 1991 + r * 2;
            let _ = writeln!(
                text,
                r#"{{"kind":"item","party":"P01","id":"t{item}","category":"battle_tank","attributes":{{"active_unit":{}}},"from":"{year}-0{}-01","until":"{}-0{}-01"}}"#,
                (item + r) % 3 != 0,
                1 + item % 9,
                year + 2,
                1 + item % 9,
            );
        }
    }
    let treaty = treaty(source);
    let facts = facts(&text);
    let engine = engine(&treaty, &facts);
    let t = at("2002-07-15");
    let report = engine.assess(t);
    assert_eq!(report.findings.len(), 1);
    bencher.bench_local(|| engine.assess(black_box(t)));
}

/// The shipped New START treaty on its shipped aggregates: every provision for both
/// parties; the counter gives the time per finding.
#[divan::bench]
fn new_start_per_finding(bencher: Bencher) {
    let treaty = treaty(include_str!("../../../treaties/new-start-2010.treaty"));
    let facts = facts(include_str!(
        "../../../scenarios/new-start/aggregates.jsonl"
    ));
    let engine = engine(&treaty, &facts);
    let t = at("2020-09-01");
    let findings = engine.assess(t).findings.len();
    assert!(findings > 0);
    bencher
        .counter(ItemsCount::new(findings))
        .bench_local(|| engine.assess(black_box(t)));
}
