#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Limit proofs: prove -> verify, refusal above the bound, tampering, binding to the
//! context, openings, and size.

use detente_escrow::limit::{
    LimitContext, LimitError, LimitProof, MAX_BOUND, MAX_LIMIT_PROOF_BYTES, Opening,
    RANGE_PROOF_BYTES, check_opening, prove_at_most, verify_at_most,
};
use proptest::prelude::*;
use rand08::SeedableRng as _;
use rand08::rngs::StdRng;

fn ctx() -> LimitContext {
    LimitContext::new("USSR", "strategic_delivery_vehicles", "1979-06-18").unwrap()
}

fn rng(seed: u8) -> StdRng {
    StdRng::from_seed([seed; 32])
}

#[test]
fn a_proof_verifies_and_its_opening_matches() {
    let (proof, opening) = prove_at_most(&ctx(), 2_250, 2_400, &mut rng(1)).unwrap();
    verify_at_most(&proof, 2_400, &ctx()).unwrap();
    check_opening(&proof, &opening).unwrap();
    let bytes = proof.encode().unwrap();
    assert!(bytes.len() < 1024, "{}", bytes.len());
    assert_eq!(proof.proof.len(), RANGE_PROOF_BYTES);
    assert_eq!(LimitProof::decode(&bytes).unwrap(), proof);
    assert_eq!(
        Opening::decode(&opening.encode().unwrap()).unwrap(),
        opening
    );
    // The opening's Debug output keeps the blinding secret.
    assert!(format!("{opening:?}").contains("<secret>"));
}

#[test]
fn edge_values_prove() {
    for (value, bound) in [(0, 0), (0, MAX_BOUND), (MAX_BOUND, MAX_BOUND), (7, 7)] {
        let (proof, _) = prove_at_most(&ctx(), value, bound, &mut rng(2)).unwrap();
        verify_at_most(&proof, bound, &ctx()).unwrap();
    }
}

#[test]
fn the_prover_refuses_a_value_above_the_bound_or_a_bound_too_large() {
    assert_eq!(
        prove_at_most(&ctx(), 2_401, 2_400, &mut rng(3)).unwrap_err(),
        LimitError::ValueAboveBound {
            value: 2_401,
            bound: 2_400
        }
    );
    assert_eq!(
        prove_at_most(&ctx(), 1, 1 << 32, &mut rng(3)).unwrap_err(),
        LimitError::BoundTooLarge { bound: 1 << 32 }
    );
    let (proof, _) = prove_at_most(&ctx(), 1, 2, &mut rng(3)).unwrap();
    assert!(matches!(
        verify_at_most(&proof, u64::MAX, &ctx()),
        Err(LimitError::BoundTooLarge { .. })
    ));
}

#[test]
fn a_proof_does_not_verify_for_a_lower_bound_even_if_the_claimed_bound_is_changed() {
    // 2250 <= 2400 is proved. Claiming the same proof shows <= 2200 must fail, whether
    // or not the record's bound field is edited to match.
    let (proof, _) = prove_at_most(&ctx(), 2_250, 2_400, &mut rng(4)).unwrap();
    assert_eq!(
        verify_at_most(&proof, 2_200, &ctx()).unwrap_err(),
        LimitError::BoundMismatch {
            proved: 2_400,
            expected: 2_200
        }
    );
    let mut edited = proof.clone();
    edited.bound = 2_200;
    assert_eq!(
        verify_at_most(&edited, 2_200, &ctx()).unwrap_err(),
        LimitError::VerificationFailed
    );
    // Even a higher bound fails: the proof is bound to exactly its bound.
    edited.bound = 3_000;
    assert_eq!(
        verify_at_most(&edited, 3_000, &ctx()).unwrap_err(),
        LimitError::VerificationFailed
    );
}

#[test]
fn a_proof_is_bound_to_party_quantity_and_date() {
    let (proof, _) = prove_at_most(&ctx(), 5, 10, &mut rng(5)).unwrap();
    for other in [
        LimitContext::new("US", "strategic_delivery_vehicles", "1979-06-18").unwrap(),
        LimitContext::new("USSR", "mirv_launchers", "1979-06-18").unwrap(),
        LimitContext::new("USSR", "strategic_delivery_vehicles", "1979-06-19").unwrap(),
    ] {
        assert!(matches!(
            verify_at_most(&proof, 10, &other),
            Err(LimitError::ContextMismatch { .. })
        ));
        // Relabelling the record does not help: the transcript binds the context.
        let mut relabelled = proof.clone();
        relabelled.context = other.clone();
        assert_eq!(
            verify_at_most(&relabelled, 10, &other).unwrap_err(),
            LimitError::VerificationFailed
        );
    }
}

#[test]
fn a_wrong_opening_is_refused() {
    let (proof, opening) = prove_at_most(&ctx(), 2_250, 2_400, &mut rng(6)).unwrap();
    let mut lie = opening.clone();
    lie.value = 2_200;
    assert_eq!(
        check_opening(&proof, &lie).unwrap_err(),
        LimitError::OpeningMismatch { value: 2_200 }
    );
    let mut blind = opening.clone();
    blind.blinding[0] ^= 1;
    assert!(matches!(
        check_opening(&proof, &blind),
        Err(LimitError::OpeningMismatch { .. })
    ));
    let mut other = opening;
    other.context.quantity = "mirv_launchers".into();
    assert!(matches!(
        check_opening(&proof, &other),
        Err(LimitError::ContextMismatch { .. })
    ));
}

#[test]
fn proofs_with_the_same_seed_are_identical_and_fresh_blindings_differ() {
    let a = prove_at_most(&ctx(), 100, 200, &mut rng(7)).unwrap();
    let b = prove_at_most(&ctx(), 100, 200, &mut rng(7)).unwrap();
    let c = prove_at_most(&ctx(), 100, 200, &mut rng(8)).unwrap();
    assert_eq!(a.0, b.0);
    assert_ne!(a.0.commitment, c.0.commitment);
}

#[test]
fn aggregated_proof_is_smaller_than_two_single_proofs() {
    // Measured here so the choice in the docs stays true: one aggregated proof for two
    // 32-bit values vs two single proofs.
    use bulletproofs::{BulletproofGens, PedersenGens, RangeProof};
    use curve25519_dalek_v4::scalar::Scalar;
    let (pc, bp) = (PedersenGens::default(), BulletproofGens::new(32, 2));
    let r = Scalar::from(5u64);
    let mut t = merlin::Transcript::new(b"size");
    let (single, _) =
        RangeProof::prove_single_with_rng(&bp, &pc, &mut t, 5, &r, 32, &mut rng(9)).unwrap();
    let single = single.to_bytes().len();
    assert_eq!(single, 608);
    assert_eq!(RANGE_PROOF_BYTES, 672);
    assert!(RANGE_PROOF_BYTES < 2 * single);
    const { assert!(MAX_LIMIT_PROOF_BYTES < 1024) };
    // The largest names still fit under 1 KB.
    let long = "x".repeat(128);
    let c = LimitContext::new(&long, &long, "1979-06-18").unwrap();
    let (p, _) = prove_at_most(&c, 1, 2, &mut rng(9)).unwrap();
    assert_eq!(p.encode().unwrap().len(), MAX_LIMIT_PROOF_BYTES);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn prove_then_verify(bound in 0u64..=MAX_BOUND, frac in 0.0f64..=1.0, seed: u8) {
        let value = ((bound as f64) * frac) as u64;
        let (proof, opening) = prove_at_most(&ctx(), value, bound, &mut rng(seed)).unwrap();
        let decoded = LimitProof::decode(&proof.encode().unwrap()).unwrap();
        prop_assert!(verify_at_most(&decoded, bound, &ctx()).is_ok());
        prop_assert!(check_opening(&decoded, &opening).is_ok());
    }

    #[test]
    fn a_proof_made_for_a_higher_bound_never_verifies_for_a_bound_below_the_value(
        value in 1u64..=MAX_BOUND, seed: u8, below in 1u64..1000,
    ) {
        // The honest prover has value <= its bound; a cheater relabels the bound to one
        // below the value (and no prover would make that proof in the first place).
        let claimed = value.saturating_sub(below);
        let refused = matches!(
            prove_at_most(&ctx(), value, claimed, &mut rng(seed)),
            Err(LimitError::ValueAboveBound { .. })
        );
        prop_assert!(refused);
        let (mut proof, _) = prove_at_most(&ctx(), value, MAX_BOUND, &mut rng(seed)).unwrap();
        proof.bound = claimed;
        prop_assert_eq!(verify_at_most(&proof, claimed, &ctx()), Err(LimitError::VerificationFailed));
    }

    #[test]
    fn any_flipped_bit_in_a_proof_fails(byte in 0usize..RANGE_PROOF_BYTES + 32, bit in 0u8..8) {
        let (proof, _) = prove_at_most(&ctx(), 1_000, 2_400, &mut rng(10)).unwrap();
        let mut bad = proof.clone();
        if byte < 32 {
            bad.commitment[byte] ^= 1 << bit;
        } else {
            bad.proof[byte - 32] ^= 1 << bit;
        }
        prop_assert!(verify_at_most(&bad, 2_400, &ctx()).is_err());
    }
}
