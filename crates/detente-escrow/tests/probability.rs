#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Detection probability: brute force for small N, two log-space references for large N,
//! edge cases and `sites_needed`.

use detente_escrow::probability::{
    ProbabilityError, detection_probability, ln_gamma, ln_miss_probability, ln_miss_stirling,
    sites_needed,
};
use proptest::prelude::*;

/// Enumerates every n-subset of N sites (as bit masks) and counts those that avoid the
/// k hiding sites (sites 0..k; by symmetry any k sites give the same count).
fn brute_force(big_n: u32, k: u32, n: u32) -> (u128, u128) {
    let hiding: u32 = (1u32 << k) - 1;
    let (mut miss, mut all) = (0u128, 0u128);
    for mask in 0u32..(1u32 << big_n) {
        if mask.count_ones() == n {
            all += 1;
            if mask & hiding == 0 {
                miss += 1;
            }
        }
    }
    (miss, all)
}

#[test]
fn matches_brute_force_enumeration_for_small_n() {
    for big_n in 0..=14u32 {
        for k in 0..=big_n {
            for n in 0..=big_n {
                let (miss, all) = brute_force(big_n, k, n);
                // Exact: P = (all - miss) / all, as a rational; compare in f64.
                let exact = (all - miss) as f64 / all as f64;
                let p =
                    detection_probability(u64::from(big_n), u64::from(k), u64::from(n)).unwrap();
                assert!(
                    (p - exact).abs() <= 64.0 * f64::EPSILON * exact,
                    "N={big_n} k={k} n={n}: {p} vs {exact} ({miss}/{all})"
                );
            }
        }
    }
}

/// ln C(N-k, n) - ln C(N, n) by the product over n terms (the other order than the
/// implementation's, which loops over min(n, k)), summed in f64 with ln (not ln_1p).
fn reference_product(big_n: u64, k: u64, n: u64) -> f64 {
    (0..n)
        .map(|i| ((big_n - k - i) as f64).ln() - ((big_n - i) as f64).ln())
        .sum()
}

/// The same by log-gamma, in f64 (accurate only when the result is not tiny).
fn reference_lgamma(big_n: u64, k: u64, n: u64) -> f64 {
    let lnf = |x: u64| ln_gamma(x as f64 + 1.0);
    lnf(big_n - k) - lnf(big_n - k - n) - lnf(big_n) + lnf(big_n - n)
}

#[test]
fn large_n_agrees_with_two_log_space_computations() {
    let cases: &[(u64, u64, u64)] = &[
        (1_000, 10, 50),
        (10_000, 1, 100),
        (100_000, 50, 200),
        (1_000_000, 1_000, 1_000),
        (1_000_000_000, 100, 10_000),
        (10_000_000_000, 100_000, 50_000),
    ];
    for &(big_n, k, n) in cases {
        let ours = ln_miss_probability(big_n, k, n).unwrap();
        let product = reference_product(big_n, k, n);
        let lgamma = reference_lgamma(big_n, k, n);
        // The product reference loses ~n ulps of each ln term (each about ln N).
        let tol_product = 1e-15 * n as f64 * (big_n as f64).ln();
        assert!(
            (ours - product).abs() <= tol_product.max(1e-12 * ours.abs()),
            "product N={big_n} k={k} n={n}: {ours} vs {product}"
        );
        // The lgamma reference loses ~1e-16 * N ln N absolutely.
        let tol_lgamma = 4e-16 * big_n as f64 * (big_n as f64).ln();
        assert!(
            (ours - lgamma).abs() <= tol_lgamma.max(1e-12),
            "lgamma N={big_n} k={k} n={n}: {ours} vs {lgamma}"
        );
        let p = detection_probability(big_n, k, n).unwrap();
        assert!((0.0..=1.0).contains(&p));
    }
    // So large that N - i rounds to N in f64: only the ln_1p form still resolves it; it
    // matches the first-order value -nk/N (the next term is far below the tolerance).
    let big_n = u64::MAX / 2;
    let ours = ln_miss_probability(big_n, 3, 1_000).unwrap();
    let first_order = -3.0 * 1_000.0 / big_n as f64;
    assert!(
        (ours - first_order).abs() <= 1e-12 * first_order.abs(),
        "{ours}"
    );
    // The familiar approximation P ~ 1 - exp(-nk/N) for N much larger than n and k.
    let p = detection_probability(1_000_000_000, 1_000, 1_000).unwrap();
    let approx = -(-1e-3f64).exp_m1();
    assert!((p - approx).abs() < 1e-9, "{p} vs {approx}");
}

#[test]
fn the_closed_form_for_huge_n_and_k_agrees_with_the_direct_sum() {
    // Both n and k above 2^20: the implementation switches to the Stirling form. Compare
    // it with the direct product at a size where the direct sum is still affordable.
    for &(big_n, k, n) in &[
        (1u64 << 50, 1u64 << 21, 1u64 << 21),
        (1 << 45, 3 << 20, 5 << 20),
        (1 << 60, 1 << 22, 1 << 21),
    ] {
        let stirling = ln_miss_stirling(big_n, k, n);
        let direct: f64 = (0..n.min(k))
            .map(|i| (-(n.max(k) as f64) / (big_n - i) as f64).ln_1p())
            .sum();
        assert!(
            (stirling - direct).abs() <= 8e-16 * n.max(k) as f64,
            "N={big_n} k={k} n={n}: {stirling} vs {direct}"
        );
        assert_eq!(ln_miss_probability(big_n, k, n).unwrap(), stirling);
    }
    // Nearly everything inspected and hidden: P is 1 to double precision.
    let p = detection_probability(5 << 20, 2 << 20, 2 << 20).unwrap();
    assert_eq!(p, 1.0);
}

#[test]
fn edge_cases() {
    assert_eq!(detection_probability(100, 0, 50).unwrap(), 0.0);
    assert_eq!(detection_probability(100, 10, 0).unwrap(), 0.0);
    assert_eq!(detection_probability(100, 10, 91).unwrap(), 1.0);
    assert!(detection_probability(100, 10, 90).unwrap() < 1.0);
    assert_eq!(detection_probability(100, 100, 1).unwrap(), 1.0);
    assert_eq!(detection_probability(0, 0, 0).unwrap(), 0.0);
    assert_eq!(detection_probability(1, 1, 1).unwrap(), 1.0);
    assert_eq!(
        detection_probability(10, 11, 1),
        Err(ProbabilityError::HiddenExceedsSites {
            hidden: 11,
            sites: 10
        })
    );
    assert!(matches!(
        detection_probability(10, 1, 11),
        Err(ProbabilityError::InspectedExceedsSites { .. })
    ));
    assert_eq!(
        detection_probability(u64::MAX, u64::MAX, u64::MAX).unwrap(),
        1.0
    );
    let tiny = detection_probability(u64::MAX, 1, 1).unwrap();
    assert!((tiny * u64::MAX as f64 - 1.0).abs() < 1e-15, "{tiny}");
}

#[test]
fn sites_needed_is_the_smallest_sufficient_n() {
    // 1000 sites, 5 hiding, 95%.
    let n = sites_needed(1000, 5, 0.95).unwrap();
    assert!(detection_probability(1000, 5, n).unwrap() >= 0.95);
    assert!(detection_probability(1000, 5, n - 1).unwrap() < 0.95);
    assert_eq!(sites_needed(1000, 5, 0.0).unwrap(), 0);
    assert_eq!(sites_needed(1000, 5, 1.0).unwrap(), 996);
    assert_eq!(sites_needed(10, 10, 1.0).unwrap(), 1);
    assert!(matches!(
        sites_needed(10, 0, 0.5),
        Err(ProbabilityError::NothingHidden { .. })
    ));
    assert_eq!(sites_needed(10, 0, 0.0).unwrap(), 0);
    for bad in [-0.1, 1.1, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            sites_needed(10, 1, bad),
            Err(ProbabilityError::InvalidConfidence { .. })
        ));
    }
    assert!(sites_needed(1_000_000_000, 10, 0.99).unwrap() > 300_000_000);
}

proptest! {
    #[test]
    fn probability_rises_with_inspections_and_with_hidden_sites(
        big_n in 1u64..5_000, k_frac in 0.0f64..1.0, n_frac in 0.0f64..1.0,
    ) {
        let k = ((big_n as f64) * k_frac) as u64;
        let n = ((big_n as f64) * n_frac) as u64;
        let p = detection_probability(big_n, k, n).unwrap();
        prop_assert!((0.0..=1.0).contains(&p));
        if n < big_n {
            prop_assert!(detection_probability(big_n, k, n + 1).unwrap() >= p - 1e-15);
        }
        if k < big_n {
            prop_assert!(detection_probability(big_n, k + 1, n).unwrap() >= p - 1e-15);
        }
        // Symmetry: C(N-k,n)/C(N,n) = C(N-n,k)/C(N,k).
        let q = detection_probability(big_n, n, k).unwrap();
        prop_assert!((p - q).abs() <= 1e-12, "{} vs {}", p, q);
    }
}
