#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Known-answer vectors in `test_data/escrow/`.
//!
//! Each file is regenerated from fixed inputs (fixed items and salts, fixed seeds, a
//! ChaCha `StdRng` seeded with fixed bytes for the limit proof) and compared with the
//! stored one, so any change to a byte format or hash shows up as a diff. Regenerate
//! with `UPDATE_EXPECT=1 cargo test -p detente-escrow --test vectors` and read the diff.
//! Separately, the stored records are decoded and checked as a verifier would, without
//! regenerating anything.

mod common;

use std::fmt::Write as _;
use std::path::PathBuf;

use common::{escrow, hex, unhex};
use detente_escrow::commit::Value;
use detente_escrow::commit::{Commitment, item_commitment};
use detente_escrow::inspection::{FoundItem, InspectionReport, reconcile};
use detente_escrow::limit::{
    LimitContext, LimitProof, Opening, check_opening, prove_at_most, verify_at_most,
};
use detente_escrow::probability::{detection_probability, sites_needed};
use detente_escrow::randomness::{SeedCommitment, SeedReveal, SeedRound, draw_sites};
use detente_escrow::reveal::{Reveal, check_reveal};
use detente_ledger::merkle::leaf_hash;
use rand08::SeedableRng as _;

const PARTY: &str = "USSR";
const AS_OF: &str = "1979-06-18";
const HEADER: &str = "# Regenerate: UPDATE_EXPECT=1 cargo test -p detente-escrow --test vectors\n";

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../test_data/escrow")
}

fn commit_vectors() -> String {
    let e = escrow();
    let mut s = String::new();
    s.push_str("# detente-escrow known-answer vectors: item commitments, Merkle root, records.\n");
    s.push_str(
        "# Items: crates/detente-escrow/tests/common/mod.rs; the salt of the item given i-th\n",
    );
    s.push_str("# is SHA-256(\"detente-escrow test salt \" || decimal i). Formats: docs/verification.md.\n");
    s.push_str(HEADER);
    for (i, (item, salt)) in e.items().iter().zip(e.salts()).enumerate() {
        let c = item_commitment(salt, item);
        writeln!(s, "\n[leaf {i}] region={} id={}", item.region, item.id).unwrap();
        writeln!(s, "salt = {}", hex(salt)).unwrap();
        writeln!(s, "item = {}", hex(&item.encode().unwrap())).unwrap();
        writeln!(s, "item-commitment = {}", hex(&c)).unwrap();
        writeln!(s, "leaf-hash = {}", hex(&leaf_hash(&c))).unwrap();
    }
    writeln!(s, "\n[tree]\nsize = {}\nroot = {}", e.len(), hex(&e.root())).unwrap();
    let with = e.commitment(PARTY, AS_OF, true).unwrap();
    let without = e.commitment(PARTY, AS_OF, false).unwrap();
    writeln!(s, "\n[records] party={PARTY} as_of={AS_OF}").unwrap();
    writeln!(
        s,
        "commitment-with-counts = {}",
        hex(&with.encode().unwrap())
    )
    .unwrap();
    writeln!(
        s,
        "commitment-withheld = {}",
        hex(&without.encode().unwrap())
    )
    .unwrap();
    let reveal = e.reveal(PARTY, AS_OF, "bravo").unwrap();
    writeln!(s, "reveal-bravo = {}", hex(&reveal.encode().unwrap())).unwrap();
    s
}

fn randomness_vectors() -> String {
    let round = "inspections-1979-Q3";
    let us = [0x11u8; 32];
    let ussr = [0x22u8; 32];
    let mut r = SeedRound::new(round, &["US", "USSR"]).unwrap();
    let cu = SeedCommitment::new(round, "US", &us).unwrap();
    let cr = SeedCommitment::new(round, "USSR", &ussr).unwrap();
    r.commit(cu.clone()).unwrap();
    r.commit(cr.clone()).unwrap();
    let ru = SeedReveal {
        round: round.into(),
        party: "US".into(),
        seed: us,
    };
    let rr = SeedReveal {
        round: round.into(),
        party: "USSR".into(),
        seed: ussr,
    };
    r.reveal(rr.clone()).unwrap();
    r.reveal(ru.clone()).unwrap();
    let combined = r.status().combined.unwrap();
    let sites: Vec<String> = (1..=20).map(|i| format!("site-{i:02}")).collect();
    let drawn = draw_sites(&combined, &sites, 5).unwrap();
    let mut s = String::new();
    s.push_str("# detente-escrow known-answer vectors: joint randomness.\n");
    s.push_str(
        "# Seeds: US = 32 bytes 0x11, USSR = 32 bytes 0x22; candidates site-01 .. site-20.\n",
    );
    s.push_str(HEADER);
    writeln!(s, "\nround = {round}").unwrap();
    writeln!(s, "seed-commitment-US = {}", hex(&cu.encode().unwrap())).unwrap();
    writeln!(s, "seed-commitment-USSR = {}", hex(&cr.encode().unwrap())).unwrap();
    writeln!(s, "seed-reveal-US = {}", hex(&ru.encode().unwrap())).unwrap();
    writeln!(s, "seed-reveal-USSR = {}", hex(&rr.encode().unwrap())).unwrap();
    writeln!(s, "combined-seed = {}", hex(&combined)).unwrap();
    writeln!(s, "draw-5-of-20 = {}", drawn.join(" ")).unwrap();
    s
}

fn inspection_vectors() -> String {
    let report = InspectionReport {
        inspector: "US".into(),
        inspected: "USSR".into(),
        site: "site-b2".into(),
        date: "1979-09-03".into(),
        found: vec![
            FoundItem {
                id: Some("b-002".into()),
                category: "icbm_launcher".into(),
                attributes: vec![("warheads".into(), Value::Integer(3))],
            },
            FoundItem {
                id: None,
                category: "icbm_launcher".into(),
                attributes: vec![],
            },
        ],
    };
    let mut s = String::new();
    s.push_str("# detente-escrow known-answer vectors: an inspection report and its findings\n");
    s.push_str("# against the fixed items of commit.txt.\n");
    s.push_str(HEADER);
    writeln!(s, "\nreport = {}", hex(&report.encode().unwrap())).unwrap();
    for f in reconcile(&report, common::escrow().items()) {
        writeln!(s, "finding = {f}").unwrap();
    }
    s.push_str("\n# detection probability P(N sites, k hiding, n inspected), 12 decimals\n");
    for (big_n, k, n) in [
        (10u64, 1u64, 1u64),
        (100, 5, 20),
        (1000, 5, 450),
        (1_000_000, 100, 30_000),
    ] {
        let p = detection_probability(big_n, k, n).unwrap();
        writeln!(s, "p N={big_n} k={k} n={n} = {p:.12}").unwrap();
    }
    for (big_n, k, c) in [
        (1000u64, 5u64, 0.95f64),
        (1000, 1, 0.5),
        (1_000_000, 100, 0.99),
    ] {
        writeln!(
            s,
            "sites-needed N={big_n} k={k} confidence={c} = {}",
            sites_needed(big_n, k, c).unwrap()
        )
        .unwrap();
    }
    s
}

const LIMIT_SEED: [u8; 32] = *b"detente-escrow limit proof KAT 1";

fn limit_context() -> LimitContext {
    LimitContext::new(PARTY, "strategic_delivery_vehicles", AS_OF).unwrap()
}

fn limit_vectors() -> String {
    let mut rng = rand08::rngs::StdRng::from_seed(LIMIT_SEED);
    let (proof, opening) = prove_at_most(&limit_context(), 2_250, 2_400, &mut rng).unwrap();
    let bytes = proof.encode().unwrap();
    let mut s = String::new();
    s.push_str(
        "# detente-escrow known-answer vectors: a limit proof (value 2250 <= bound 2400).\n",
    );
    s.push_str(
        "# Blinding and prover randomness from rand 0.8 StdRng (ChaCha12) seeded with the\n",
    );
    s.push_str("# 32 ASCII bytes \"detente-escrow limit proof KAT 1\".\n");
    s.push_str(HEADER);
    writeln!(
        s,
        "\nparty = {PARTY}\nquantity = strategic_delivery_vehicles\nas_of = {AS_OF}"
    )
    .unwrap();
    writeln!(s, "value = 2250\nbound = 2400").unwrap();
    writeln!(s, "proof-record-bytes = {}", bytes.len()).unwrap();
    writeln!(s, "proof-record = {}", hex(&bytes)).unwrap();
    writeln!(s, "opening-record = {}", hex(&opening.encode().unwrap())).unwrap();
    s
}

fn check_file(name: &str, content: &str) -> Option<String> {
    let path = dir().join(name);
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::create_dir_all(dir()).unwrap();
        std::fs::write(&path, content).unwrap();
        return None;
    }
    let stored = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_EXPECT=1)", path.display()));
    if stored == content {
        return None;
    }
    let mut diff = format!("{name} differs from what the code produces now:\n");
    for (i, (a, b)) in stored.lines().zip(content.lines()).enumerate() {
        if a != b {
            writeln!(diff, "line {}:\n- {a}\n+ {b}", i + 1).unwrap();
        }
    }
    if stored.lines().count() != content.lines().count() {
        writeln!(
            diff,
            "line counts: stored {}, now {}",
            stored.lines().count(),
            content.lines().count()
        )
        .unwrap();
    }
    Some(diff)
}

#[test]
fn regenerated_vectors_equal_the_stored_files() {
    let problems: Vec<String> = [
        ("commit.txt", commit_vectors()),
        ("randomness.txt", randomness_vectors()),
        ("inspection.txt", inspection_vectors()),
        ("limit.txt", limit_vectors()),
    ]
    .iter()
    .filter_map(|(name, content)| check_file(name, content))
    .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The value of `key = value` in a stored vector file.
fn stored(name: &str, key: &str) -> String {
    let text = std::fs::read_to_string(dir().join(name)).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{key} = ")))
        .unwrap_or_else(|| panic!("{name}: no {key}"))
        .to_owned()
}

#[test]
fn the_stored_limit_proof_still_verifies_and_opens() {
    let proof = LimitProof::decode(&unhex(&stored("limit.txt", "proof-record"))).unwrap();
    let opening = Opening::decode(&unhex(&stored("limit.txt", "opening-record"))).unwrap();
    let bound: u64 = stored("limit.txt", "bound").parse().unwrap();
    verify_at_most(&proof, bound, &limit_context()).unwrap();
    check_opening(&proof, &opening).unwrap();
    assert_eq!(opening.value, 2_250);
    assert!(verify_at_most(&proof, bound - 1, &limit_context()).is_err());
    // Regenerating with the same seed gives the same bytes.
    let mut rng = rand08::rngs::StdRng::from_seed(LIMIT_SEED);
    let (again, _) = prove_at_most(&limit_context(), 2_250, 2_400, &mut rng).unwrap();
    assert_eq!(again, proof);
}

#[test]
fn the_stored_commitment_and_reveal_still_check() {
    let c = Commitment::decode(&unhex(&stored("commit.txt", "commitment-with-counts"))).unwrap();
    let r = Reveal::decode(&unhex(&stored("commit.txt", "reveal-bravo"))).unwrap();
    let check = check_reveal(&c, &r);
    assert!(check.is_clean(), "{:?}", check.violations);
    assert_eq!(hex(&c.root), stored("commit.txt", "root"));
    let w = Commitment::decode(&unhex(&stored("commit.txt", "commitment-withheld"))).unwrap();
    assert!(check_reveal(&w, &r).is_clean());
}
