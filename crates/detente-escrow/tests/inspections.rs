#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Joint randomness (seed rounds, the draw) and inspection reconciliation.

mod common;

use detente_escrow::commit::{Item, Value};
use detente_escrow::inspection::{FoundItem, InspectionFinding, InspectionReport, reconcile};
use detente_escrow::randomness::{
    DrawError, DrawStream, RoundError, RoundFault, SeedCommitment, SeedReveal, SeedRound,
    draw_sites, joint_seed, seed_hash,
};
use proptest::prelude::*;

const ROUND: &str = "inspections-1979-Q3";

fn seed(b: u8) -> [u8; 32] {
    [b; 32]
}

fn commit(round: &mut SeedRound, party: &str, s: u8) {
    round
        .commit(SeedCommitment::new(ROUND, party, &seed(s)).unwrap())
        .unwrap();
}

fn reveal(round: &mut SeedRound, party: &str, s: u8) {
    round
        .reveal(SeedReveal {
            round: ROUND.into(),
            party: party.into(),
            seed: seed(s),
        })
        .unwrap();
}

#[test]
fn a_round_completes_only_when_every_party_has_revealed() {
    let mut r = SeedRound::new(ROUND, &["USSR", "US"]).unwrap();
    let st = r.status();
    assert_eq!(st.awaiting_commitment, ["US", "USSR"]);
    commit(&mut r, "US", 1);
    commit(&mut r, "USSR", 2);
    reveal(&mut r, "USSR", 2);
    let st = r.status();
    assert_eq!(st.revealed, ["USSR"]);
    assert_eq!(st.awaiting_reveal, ["US"]);
    assert!(!st.is_complete());
    reveal(&mut r, "US", 1);
    let st = r.status();
    assert!(st.is_complete() && !st.is_void());
    assert_eq!(
        st.combined.unwrap(),
        joint_seed(ROUND, &[("USSR".into(), seed(2)), ("US".into(), seed(1))])
    );
    // Order of arguments does not matter; the seeds are sorted by party.
    assert_eq!(
        joint_seed(ROUND, &[("US".into(), seed(1)), ("USSR".into(), seed(2))]),
        st.combined.unwrap()
    );
}

#[test]
fn a_bad_reveal_is_a_fault_and_the_right_seed_still_counts() {
    let mut r = SeedRound::new(ROUND, &["US", "USSR"]).unwrap();
    commit(&mut r, "US", 1);
    commit(&mut r, "USSR", 2);
    reveal(&mut r, "US", 9);
    assert_eq!(
        r.status().faults,
        [RoundFault::BadReveal { party: "US".into() }]
    );
    assert_eq!(r.status().awaiting_reveal, ["US", "USSR"]);
    reveal(&mut r, "US", 1);
    reveal(&mut r, "USSR", 2);
    assert!(r.status().is_complete());
    assert!(matches!(
        r.reveal(SeedReveal {
            round: ROUND.into(),
            party: "US".into(),
            seed: seed(1)
        }),
        Err(RoundError::AlreadyRevealed { .. })
    ));
}

#[test]
fn a_reveal_before_every_commitment_voids_the_round() {
    let mut r = SeedRound::new(ROUND, &["US", "USSR"]).unwrap();
    commit(&mut r, "US", 1);
    reveal(&mut r, "US", 1);
    commit(&mut r, "USSR", 2);
    reveal(&mut r, "USSR", 2);
    let st = r.status();
    assert!(st.is_void());
    assert!(!st.is_complete());
    assert_eq!(st.faults, [RoundFault::EarlyReveal { party: "US".into() }]);
}

#[test]
fn records_for_other_rounds_or_parties_are_refused() {
    let mut r = SeedRound::new(ROUND, &["US", "USSR"]).unwrap();
    assert!(matches!(
        r.commit(SeedCommitment::new("other", "US", &seed(1)).unwrap()),
        Err(RoundError::WrongRound { .. })
    ));
    assert!(matches!(
        r.commit(SeedCommitment::new(ROUND, "UK", &seed(1)).unwrap()),
        Err(RoundError::UnknownParty { .. })
    ));
    commit(&mut r, "US", 1);
    assert!(matches!(
        r.commit(SeedCommitment::new(ROUND, "US", &seed(3)).unwrap()),
        Err(RoundError::AlreadyCommitted { .. })
    ));
    assert!(SeedRound::new(ROUND, &["US", "US"]).is_err());
    assert!(SeedRound::new(ROUND, &[]).is_err());
}

#[test]
fn a_seed_commitment_binds_round_and_party() {
    let s = seed(7);
    assert_ne!(seed_hash(ROUND, "US", &s), seed_hash(ROUND, "USSR", &s));
    assert_ne!(seed_hash(ROUND, "US", &s), seed_hash("r2", "US", &s));
    let c = SeedCommitment::new(ROUND, "US", &s).unwrap();
    let copied = SeedCommitment {
        party: "USSR".into(),
        ..c.clone()
    };
    let rv = SeedReveal {
        round: ROUND.into(),
        party: "USSR".into(),
        seed: s,
    };
    // Copying another party's commitment does not let a party reuse its seed.
    assert!(!rv.opens(&copied));
    assert_eq!(SeedCommitment::decode(&c.encode().unwrap()).unwrap(), c);
    assert_eq!(SeedReveal::decode(&rv.encode().unwrap()).unwrap(), rv);
}

fn sites(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("site-{i:04}")).collect()
}

#[test]
fn the_draw_is_reproducible_distinct_and_checks_its_input() {
    let combined = joint_seed(ROUND, &[("US".into(), seed(1)), ("USSR".into(), seed(2))]);
    let c = sites(50);
    let a = draw_sites(&combined, &c, 10).unwrap();
    assert_eq!(a, draw_sites(&combined, &c, 10).unwrap());
    let mut d = a.clone();
    d.sort();
    d.dedup();
    assert_eq!(d.len(), 10);
    // A prefix of a longer draw is the shorter draw.
    assert_eq!(draw_sites(&combined, &c, 20).unwrap()[..10], a[..]);
    assert_eq!(draw_sites(&combined, &c, 50).unwrap().len(), 50);
    assert!(draw_sites(&combined, &c, 0).unwrap().is_empty());
    assert_eq!(
        draw_sites(&combined, &c, 51),
        Err(DrawError::TooMany {
            wanted: 51,
            candidates: 50
        })
    );
    let mut unsorted = c.clone();
    unsorted.swap(3, 4);
    assert_eq!(
        draw_sites(&combined, &unsorted, 1),
        Err(DrawError::NotSorted { position: 4 })
    );
    let other = joint_seed(ROUND, &[("US".into(), seed(1)), ("USSR".into(), seed(3))]);
    assert_ne!(draw_sites(&other, &c, 10).unwrap(), a);
}

#[test]
fn the_draw_is_close_to_uniform() {
    // 3000 draws of 1 site out of 6: each count within 5 sigma of 500.
    let mut counts = [0u32; 6];
    let c = sites(6);
    for i in 0..3000u32 {
        let combined = joint_seed(ROUND, &[("US".into(), seed(1)), (format!("P{i}"), seed(2))]);
        let s = draw_sites(&combined, &c, 1).unwrap();
        counts[c.iter().position(|x| *x == s[0]).unwrap()] += 1;
    }
    for n in counts {
        assert!((n as i64 - 500).abs() < 5 * 21, "{counts:?}");
    }
    // `below` stays below its bound, including awkward ones.
    let mut st = DrawStream::new(&[0; 32]);
    for m in [1u64, 2, 3, 7, (1 << 63) + 1, u64::MAX] {
        for _ in 0..100 {
            assert!(st.below(m) < m);
        }
    }
}

proptest! {
    #[test]
    fn the_draw_never_repeats_a_site(s: [u8; 32], len in 1usize..200, frac in 0.0f64..=1.0) {
        let c = sites(len);
        let n = ((len as f64) * frac) as usize;
        let d = draw_sites(&s, &c, n).unwrap();
        let mut u = d.clone();
        u.sort();
        u.dedup();
        prop_assert_eq!(u.len(), n);
    }
}

// ---- inspections ----

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

fn found(id: Option<&str>, category: &str, attrs: &[(&str, Value)]) -> FoundItem {
    let mut attributes: Vec<(String, Value)> = attrs
        .iter()
        .map(|(n, v)| ((*n).to_owned(), v.clone()))
        .collect();
    attributes.sort_by(|a, b| a.0.cmp(&b.0));
    FoundItem {
        id: id.map(str::to_owned),
        category: category.into(),
        attributes,
    }
}

fn report(site: &str, found: Vec<FoundItem>) -> InspectionReport {
    InspectionReport {
        inspector: "US".into(),
        inspected: "USSR".into(),
        site: site.into(),
        date: "1979-09-03".into(),
        found,
    }
}

#[test]
fn an_inspection_that_finds_what_was_declared_has_no_findings() {
    let items = common::items();
    let r = report(
        "site-a1",
        vec![
            found(
                Some("a-002"),
                "icbm_launcher",
                &[("mirv", Value::Bool(true))],
            ),
            found(None, "icbm_launcher", &[("warheads", Value::Integer(3))]),
        ],
    );
    assert_eq!(reconcile(&r, &items), []);
    let bytes = r.encode().unwrap();
    assert_eq!(InspectionReport::decode(&bytes).unwrap(), r);
}

#[test]
fn undeclared_missing_and_mismatched_items_are_found_with_evidence() {
    let items = common::items();
    // site-b2 declares b-002 (launcher, 1 warhead) and b-010 (bomber).
    let r = report(
        "site-b2",
        vec![
            found(
                Some("b-002"),
                "icbm_launcher",
                &[("warheads", Value::Integer(3))],
            ),
            found(Some("x-999"), "icbm_launcher", &[]),
            found(None, "icbm_launcher", &[]),
        ],
    );
    let f = reconcile(&r, &items);
    assert_eq!(
        f,
        [
            InspectionFinding::AttributeMismatch {
                found: 0,
                id: "b-002".into(),
                attribute: "warheads".into(),
                declared: Some(Value::Integer(1)),
                observed: Value::Integer(3),
            },
            InspectionFinding::UndeclaredItem {
                found: 1,
                id: Some("x-999".into()),
                category: "icbm_launcher".into(),
            },
            InspectionFinding::UndeclaredItem {
                found: 2,
                id: None,
                category: "icbm_launcher".into(),
            },
            InspectionFinding::MissingItem {
                id: "b-010".into(),
                category: "heavy_bomber".into(),
            },
        ]
    );
    let codes: Vec<_> = f.iter().map(InspectionFinding::code).collect();
    assert_eq!(
        codes,
        [
            "attribute_mismatch",
            "undeclared_item",
            "undeclared_item",
            "missing_item"
        ]
    );
    assert_eq!(f[3].ids(), ["b-010"]);
}

#[test]
fn an_anonymous_item_prefers_the_declared_item_it_agrees_with() {
    let items = vec![
        Item::new(
            "r",
            "k-1",
            "launcher",
            vec![("mirv".into(), Value::Bool(false))],
            None,
        )
        .unwrap(),
        Item::new(
            "r",
            "k-2",
            "launcher",
            vec![("mirv".into(), Value::Bool(true))],
            None,
        )
        .unwrap(),
    ];
    // Site of an item without a `site` attribute is its id: put both at one site.
    let items: Vec<Item> = items
        .into_iter()
        .map(|mut i| {
            i.attributes.push(("site".into(), text("s")));
            i.attributes.sort_by(|a, b| a.0.cmp(&b.0));
            i
        })
        .collect();
    let r = report(
        "s",
        vec![
            found(None, "launcher", &[("mirv", Value::Bool(true))]),
            found(None, "launcher", &[("mirv", Value::Bool(true))]),
        ],
    );
    let f = reconcile(&r, &items);
    // One matches k-2 exactly; the other can only be k-1, with a mismatch.
    assert_eq!(
        f,
        [InspectionFinding::AttributeMismatch {
            found: 1,
            id: "k-1".into(),
            attribute: "mirv".into(),
            declared: Some(Value::Bool(false)),
            observed: Value::Bool(true),
        }]
    );
    assert!(f[0].to_string().starts_with("attribute_mismatch"));
}

#[test]
fn a_report_with_a_repeated_id_is_refused() {
    let r = report(
        "s",
        vec![found(Some("a"), "c", &[]), found(Some("a"), "c", &[])],
    );
    assert!(r.encode().is_err());
    let mut ok = report(
        "s",
        vec![found(Some("a"), "c", &[]), found(Some("b"), "c", &[])],
    );
    let mut bytes = ok.encode().unwrap();
    // Turn the second id "b" into "a" in the bytes: the decoder refuses it with the offset.
    let pos = bytes.iter().rposition(|b| *b == b'b').unwrap();
    bytes[pos] = b'a';
    let e = InspectionReport::decode(&bytes).unwrap_err();
    assert_eq!(e.offset, Some(pos - 2));
    ok.found.clear();
    assert!(InspectionReport::decode(&ok.encode().unwrap()).is_ok());
}
