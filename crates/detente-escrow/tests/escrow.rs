#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Commit, reveal and check: the round trip, every kind of tampering, completeness
//! with and without published counts, and coverage across reveals.

mod common;

use common::{escrow, items, salt, salted};
use detente_escrow::commit::{
    Commitment, Escrow, EscrowError, Item, Value, item_commitment, item_leaf,
};
use detente_escrow::reveal::{
    CoverageViolation, MismatchReason, Reveal, RevealViolation, check_reveal, coverage,
};
use detente_ledger::merkle::{Tree, leaf_hash};
use proptest::prelude::*;
use sha2::{Digest as _, Sha256};

const PARTY: &str = "USSR";
const AS_OF: &str = "1979-06-18";

#[test]
fn items_are_ordered_by_region_then_id_and_regions_are_contiguous() {
    let e = escrow();
    let keys: Vec<(&str, &str)> = e
        .items()
        .iter()
        .map(|i| (i.region.as_str(), i.id.as_str()))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    let regions: Vec<(&str, u64, u64)> = e
        .regions()
        .iter()
        .map(|r| (r.region.as_str(), r.start, r.count))
        .collect();
    assert_eq!(
        regions,
        [("alpha", 0, 3), ("bravo", 3, 3), ("charlie", 6, 3)]
    );
    // The salts moved with their items.
    let original = items();
    for (item, s) in e.items().iter().zip(e.salts()) {
        let i = original.iter().position(|o| o == item).unwrap();
        assert_eq!(*s, salt(i));
    }
}

#[test]
fn the_root_is_the_rfc6962_root_over_the_item_commitments() {
    let e = escrow();
    let leaves: Vec<_> = e
        .items()
        .iter()
        .zip(e.salts())
        .map(|(i, s)| leaf_hash(&item_commitment(s, i)))
        .collect();
    assert_eq!(e.root(), Tree::from_leaf_hashes(leaves.clone()).root());
    assert_eq!(leaves[0], item_leaf(&e.salts()[0], &e.items()[0]));
}

#[test]
fn the_item_commitment_is_the_documented_hash() {
    let e = escrow();
    let item = &e.items()[0];
    let mut bytes = b"detente-escrow/item/v1".to_vec();
    bytes.extend_from_slice(&e.salts()[0]);
    bytes.extend_from_slice(&item.encode().unwrap());
    let by_hand: [u8; 32] = Sha256::digest(&bytes).into();
    assert_eq!(item_commitment(&e.salts()[0], item), by_hand);
}

#[test]
fn duplicate_ids_and_invalid_items_are_refused() {
    let mut s = salted();
    let mut dup = s[1].0.clone();
    dup.region = "zulu".to_owned();
    s.push((dup, [9; 32]));
    assert!(matches!(
        Escrow::new(s),
        Err(EscrowError::DuplicateId { id }) if id == "a-001"
    ));

    let mut bad = salted();
    bad[0].0.attributes.swap(0, 1);
    let err = Escrow::new(bad).unwrap_err();
    assert!(err.to_string().contains("sorted"), "{err}");

    assert!(Item::new("", "x", "c", vec![], None).is_err());
    assert!(
        Item::new(
            "r",
            "x",
            "c",
            vec![
                ("a".into(), Value::Bool(true)),
                ("a".into(), Value::Bool(false))
            ],
            None
        )
        .is_err()
    );
}

#[test]
fn commitment_records_round_trip_and_reject_bad_counts() {
    let e = escrow();
    for publish in [false, true] {
        let c = e.commitment(PARTY, AS_OF, publish).unwrap();
        let bytes = c.encode().unwrap();
        assert_eq!(Commitment::decode(&bytes).unwrap(), c);
    }
    let mut c = e.commitment(PARTY, AS_OF, true).unwrap();
    c.region_counts.as_mut().unwrap()[0].1 += 1;
    assert!(c.encode().unwrap_err().to_string().contains("add up"));
    assert!(e.commitment(PARTY, "1979-02-30", false).is_err());
}

#[test]
fn an_honest_reveal_checks_clean_with_and_without_counts() {
    let e = escrow();
    for publish in [false, true] {
        let c = e.commitment(PARTY, AS_OF, publish).unwrap();
        for region in ["alpha", "bravo", "charlie"] {
            let r = e.reveal(PARTY, AS_OF, region).unwrap();
            let bytes = r.encode().unwrap();
            let decoded = Reveal::decode(&bytes).unwrap();
            assert_eq!(decoded, r);
            let check = check_reveal(&c, &decoded);
            assert!(check.is_clean(), "{region}: {:?}", check.violations);
            assert_eq!(check.verified.len(), 3);
        }
    }
    assert!(matches!(
        e.reveal(PARTY, AS_OF, "delta"),
        Err(EscrowError::UnknownRegion { .. })
    ));
}

fn mismatches(v: &[RevealViolation]) -> Vec<(u64, String)> {
    v.iter()
        .filter_map(|x| match x {
            RevealViolation::ItemMismatch { index, reason, .. } => {
                Some((*index, format!("{reason:?}")))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn an_omitted_item_is_incomplete_with_counts_at_either_end_but_only_inside_without() {
    let e = escrow();
    let with = e.commitment(PARTY, AS_OF, true).unwrap();
    let without = e.commitment(PARTY, AS_OF, false).unwrap();
    for drop in 0..3 {
        let mut r = e.reveal(PARTY, AS_OF, "bravo").unwrap();
        let gone = r.items.remove(drop).index;
        let check = check_reveal(&with, &r);
        assert_eq!(
            check.violations,
            [RevealViolation::Incomplete {
                committed: Some(3),
                revealed: 2,
                missing: vec![(gone, gone + 1)],
            }]
        );
        assert_eq!(check.violations[0].code(), "incomplete_reveal");
        let check = check_reveal(&without, &r);
        if drop == 1 {
            // A hole inside the revealed range is visible without counts.
            assert_eq!(check.violations.len(), 1);
            assert_eq!(check.violations[0].code(), "incomplete_reveal");
        } else {
            // At the ends it is not (it could be a neighbouring region's item)...
            assert!(check.is_clean(), "{:?}", check.violations);
        }
    }
    // ...until coverage: reveal every region, leaving out bravo's last item.
    let mut b = e.reveal(PARTY, AS_OF, "bravo").unwrap();
    b.items.pop();
    let checks: Vec<_> = ["alpha", "charlie"]
        .iter()
        .map(|r| check_reveal(&without, &e.reveal(PARTY, AS_OF, r).unwrap()))
        .chain([check_reveal(&without, &b)])
        .collect();
    let cov = coverage(&without, &checks);
    assert!(!cov.is_complete());
    assert_eq!(cov.revealed(), 8);
    assert_eq!(cov.unrevealed.len(), 1);
    assert_eq!((cov.unrevealed[0].start, cov.unrevealed[0].end), (5, 6));
    assert_eq!(cov.unrevealed[0].within, None);
    assert!(cov.violations.is_empty());
    let full: Vec<_> = ["alpha", "bravo", "charlie"]
        .iter()
        .map(|r| check_reveal(&without, &e.reveal(PARTY, AS_OF, r).unwrap()))
        .collect();
    assert!(coverage(&without, &full).is_complete());
}

#[test]
fn false_region_counts_are_caught() {
    let e = escrow();
    // Claim alpha has 2 and bravo 4: alpha's third item falls outside its range, and
    // bravo's range starts with an alpha item it cannot reveal.
    let mut c = e.commitment(PARTY, AS_OF, true).unwrap();
    c.region_counts = Some(vec![
        ("alpha".into(), 2),
        ("bravo".into(), 4),
        ("charlie".into(), 3),
    ]);
    let a = check_reveal(&c, &e.reveal(PARTY, AS_OF, "alpha").unwrap());
    assert_eq!(
        mismatches(&a.violations),
        [(2, "OutsideRegionRange { start: 0, end: 2 }".to_owned())]
    );
    let b = check_reveal(&c, &e.reveal(PARTY, AS_OF, "bravo").unwrap());
    assert_eq!(
        b.violations,
        [RevealViolation::Incomplete {
            committed: Some(4),
            revealed: 3,
            missing: vec![(2, 3)],
        }]
    );
}

#[test]
fn a_reveal_against_another_commitment_is_a_mismatch() {
    let e = escrow();
    let c = e.commitment(PARTY, AS_OF, false).unwrap();
    let mut r = e.reveal(PARTY, AS_OF, "alpha").unwrap();
    r.party = "US".into();
    r.tree_size = 10;
    let check = check_reveal(&c, &r);
    let fields: Vec<_> = check
        .violations
        .iter()
        .filter_map(|v| match v {
            RevealViolation::WrongCommitment { field, .. } => Some(*field),
            _ => None,
        })
        .collect();
    assert_eq!(fields, ["party", "tree_size"]);
    // The items are still checked against the commitment, and still verify.
    assert_eq!(check.verified.len(), 3);
}

#[test]
fn items_of_another_region_and_repeated_indices_are_mismatches() {
    let e = escrow();
    let c = e.commitment(PARTY, AS_OF, false).unwrap();
    let mut r = e.reveal(PARTY, AS_OF, "alpha").unwrap();
    let b = e.reveal(PARTY, AS_OF, "bravo").unwrap();
    r.items.push(b.items[0].clone());
    r.items.push(r.items[0].clone());
    let check = check_reveal(&c, &r);
    assert_eq!(
        mismatches(&check.violations),
        [
            (0, "DuplicateIndex".to_owned()),
            (3, "WrongRegion { region: \"bravo\" }".to_owned())
        ]
    );
    assert!(
        check
            .violations
            .iter()
            .all(|v| v.code() == "reveal_mismatch")
    );
}

#[test]
fn a_tree_out_of_region_order_is_caught_by_coverage() {
    // Build a tree by hand in which a "zulu" item sits between alpha's and bravo's.
    let e = escrow();
    let mut order: Vec<(Item, [u8; 32])> = e
        .items()
        .iter()
        .cloned()
        .zip(e.salts().iter().copied())
        .collect();
    let hidden = Item::new("zulu", "z-001", "icbm_launcher", vec![], None).unwrap();
    order.insert(3, (hidden, [42; 32]));
    let leaves: Vec<_> = order.iter().map(|(i, s)| item_leaf(s, i)).collect();
    let tree = Tree::from_leaf_hashes(leaves);
    let c = Commitment {
        party: PARTY.into(),
        as_of: AS_OF.into(),
        total: tree.len(),
        root: tree.root(),
        region_counts: None,
    };
    let reveal_of = |region: &str| Reveal {
        party: PARTY.into(),
        as_of: AS_OF.into(),
        root: tree.root(),
        tree_size: tree.len(),
        region: region.into(),
        items: order
            .iter()
            .enumerate()
            .filter(|(_, (i, _))| i.region == region)
            .map(|(n, (i, s))| detente_escrow::reveal::RevealedItem {
                index: n as u64,
                salt: *s,
                item: i.clone(),
                proof: tree.inclusion_proof(n as u64, tree.len()).unwrap(),
            })
            .collect(),
    };
    let checks: Vec<_> = ["alpha", "bravo", "charlie", "zulu"]
        .iter()
        .map(|r| check_reveal(&c, &reveal_of(r)))
        .collect();
    assert!(checks.iter().all(|c| c.is_clean()));
    let cov = coverage(&c, &checks);
    assert!(cov.is_complete());
    assert_eq!(
        cov.violations,
        [CoverageViolation::RegionsOutOfOrder {
            earlier: "zulu".into(),
            later: "bravo".into()
        }]
    );
}

/// Any single change to a revealed item is caught, and reported as `reveal_mismatch`.
fn tampered(which: u8, at: usize, byte: u8) -> Option<MismatchReason> {
    let e = escrow();
    let c = e.commitment(PARTY, AS_OF, true).unwrap();
    let mut r = e.reveal(PARTY, AS_OF, "charlie").unwrap();
    let it = &mut r.items[at % 3];
    match which % 6 {
        0 => it.salt[usize::from(byte) % 32] ^= 1 << (byte % 8),
        1 => it.item.id.push(char::from(b'a' + byte % 26)),
        2 => {
            let n = it.item.attributes.len();
            it.item.attributes[usize::from(byte) % n].1 = Value::Integer(i64::from(byte) + 1000);
        }
        3 => {
            let n = it.proof.len();
            it.proof[usize::from(byte) % n][usize::from(byte) % 32] ^= 0x80;
        }
        4 => it.index = it.index.wrapping_add(u64::from(byte % 200) + 1),
        _ => it.item.location = None,
    }
    let check = check_reveal(&c, &r);
    assert_eq!(check.verified.len(), 2, "{:?}", check.violations);
    check.violations.iter().find_map(|v| match v {
        RevealViolation::ItemMismatch { reason, .. } => Some(reason.clone()),
        _ => None,
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn any_change_to_an_item_salt_proof_or_index_is_caught(which in 0u8..6, at in 0usize..3, byte: u8) {
        let reason = tampered(which, at, byte);
        prop_assert!(matches!(reason, Some(MismatchReason::Proof(_))), "{reason:?}");
    }

    #[test]
    fn commit_reveal_check_round_trip(
        spec in prop::collection::vec((0u8..5, 0u16..1000, any::<i64>(), any::<bool>()), 1..40),
        publish: bool,
        seed: [u8; 32],
    ) {
        let mut items = Vec::new();
        for (region, id, n, b) in &spec {
            let item = Item::new(
                &format!("region-{region}"),
                &format!("id-{id:04}"),
                "thing",
                vec![("n".into(), Value::Integer(*n)), ("b".into(), Value::Bool(*b))],
                None,
            ).unwrap();
            if !items.iter().any(|i: &Item| i.id == item.id) {
                items.push(item);
            }
        }
        let salted: Vec<_> = items
            .into_iter()
            .enumerate()
            .map(|(i, it)| {
                let s: [u8; 32] = Sha256::new().chain_update(seed).chain_update(i.to_be_bytes()).finalize().into();
                (it, s)
            })
            .collect();
        let e = Escrow::new(salted).unwrap();
        let c = Commitment::decode(&e.commitment(PARTY, AS_OF, publish).unwrap().encode().unwrap()).unwrap();
        let mut checks = Vec::new();
        for region in e.regions() {
            let r = Reveal::decode(&e.reveal(PARTY, AS_OF, &region.region).unwrap().encode().unwrap()).unwrap();
            let check = check_reveal(&c, &r);
            prop_assert!(check.is_clean(), "{:?}", check.violations);
            prop_assert_eq!(check.verified.len() as u64, region.count);
            checks.push(check);
        }
        let cov = coverage(&c, &checks);
        prop_assert!(cov.is_complete());
        prop_assert!(cov.violations.is_empty());
        prop_assert_eq!(cov.revealed(), e.len());
    }
}
