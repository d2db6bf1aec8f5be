//! The probability that inspections find hidden items.
//!
//! Model: of `N` sites, `k` hide undeclared items (each at a distinct site), and `n`
//! sites are inspected, chosen uniformly at random without replacement (as the joint
//! draw does). An inspection of a hiding site finds what is hidden there. Then
//!
//! ```text
//! P(detect) = 1 - C(N-k, n) / C(N, n)
//! ```
//!
//! (hypergeometric: the chance that at least one inspected site is a hiding one).
//!
//! The ratio is computed without forming any binomial coefficient:
//! `C(N-k, n)/C(N, n) = prod_{i<n} (1 - k/(N-i)) = prod_{i<k} (1 - n/(N-i))`, so with
//! `a = min(n, k)` and `b = max(n, k)`, `ln P(miss) = sum_{i<a} ln_1p(-b/(N-i))`, and
//! `P(detect) = -expm1(ln P(miss))`. Each term is exact to a rounding, and `expm1`
//! keeps small probabilities accurate. When both `n` and `k` exceed 2^20 the sum would
//! be long, so a closed form from Stirling's series is used instead, arranged so that the
//! large terms cancel analytically (see [`ln_miss_stirling`]); a log-gamma implemented
//! here covers the rest.

use std::fmt;

/// Above this many terms, the product is replaced by a closed form.
const DIRECT_TERMS: u64 = 1 << 20;

/// Why a probability could not be computed.
#[derive(Debug, Clone, PartialEq)]
pub enum ProbabilityError {
    /// More hiding sites than sites.
    HiddenExceedsSites {
        /// Hiding sites `k`.
        hidden: u64,
        /// Sites `N`.
        sites: u64,
    },
    /// More inspections than sites.
    InspectedExceedsSites {
        /// Inspected sites `n`.
        inspected: u64,
        /// Sites `N`.
        sites: u64,
    },
    /// A confidence must be a number from 0 to 1.
    InvalidConfidence {
        /// The value given.
        confidence: f64,
    },
    /// With nothing hidden, no number of inspections detects anything.
    NothingHidden {
        /// The confidence asked for.
        confidence: f64,
    },
}

impl fmt::Display for ProbabilityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProbabilityError::HiddenExceedsSites { hidden, sites } => write!(
                f,
                "{hidden} hiding sites is more than the {sites} sites there are"
            ),
            ProbabilityError::InspectedExceedsSites { inspected, sites } => write!(
                f,
                "{inspected} inspections is more than the {sites} sites there are"
            ),
            ProbabilityError::InvalidConfidence { confidence } => {
                write!(f, "confidence {confidence} is not between 0 and 1")
            }
            ProbabilityError::NothingHidden { confidence } => write!(
                f,
                "with no hiding site, no number of inspections reaches confidence {confidence}"
            ),
        }
    }
}

impl std::error::Error for ProbabilityError {}

/// `ln(C(N-k, n) / C(N, n))`, the log of the probability that `n` uniformly drawn sites
/// out of `N` miss all `k` hiding ones (`-inf` when a miss is impossible).
pub fn ln_miss_probability(
    sites: u64,
    hidden: u64,
    inspected: u64,
) -> Result<f64, ProbabilityError> {
    let (big_n, k, n) = (sites, hidden, inspected);
    if k > big_n {
        return Err(ProbabilityError::HiddenExceedsSites { hidden, sites });
    }
    if n > big_n {
        return Err(ProbabilityError::InspectedExceedsSites { inspected, sites });
    }
    if k == 0 || n == 0 {
        return Ok(0.0);
    }
    if n > big_n - k {
        return Ok(f64::NEG_INFINITY);
    }
    let (a, b) = (n.min(k), n.max(k));
    if a <= DIRECT_TERMS {
        return Ok(ln_miss_direct(big_n, a, b));
    }
    if big_n - n - k >= DIRECT_TERMS {
        return Ok(ln_miss_stirling(big_n, k, n));
    }
    Ok(ln_miss_lgamma(big_n, k, n))
}

/// `sum_{i<a} ln(1 - b/(N-i))`: exact to rounding in every term. Requires `a + b <= N`.
fn ln_miss_direct(big_n: u64, a: u64, b: u64) -> f64 {
    let bf = b as f64;
    (0..a).map(|i| (-(bf / (big_n - i) as f64)).ln_1p()).sum()
}

/// The Stirling-series form for `N - n - k`, `n`, `k` all large. With
/// `lnf(x) = ln x!` and `D(a, d) = lnf(a + d) - lnf(a)`:
///
/// ```text
/// ln P(miss) = D(N-k-n, n) - D(N-n, n)
/// D(a, d)    = (a + 1/2) ln_1p(d/a) + d ln(a + d) - d + c(a + d) - c(a)
/// c(x)       = 1/(12x) - 1/(360x^3)        (the remaining terms are below 1e-35)
/// ```
///
/// so the `d ln(a + d)` terms combine into `n ln_1p(-k/N)` and the `-d` terms cancel,
/// leaving only terms of size about `n` whose difference is the answer.
pub fn ln_miss_stirling(sites: u64, hidden: u64, inspected: u64) -> f64 {
    let (big_n, k, n) = (sites as f64, hidden as f64, inspected as f64);
    let a1 = (sites - hidden - inspected) as f64;
    let a2 = (sites - inspected) as f64;
    let c = |x: f64| 1.0 / (12.0 * x) - 1.0 / (360.0 * x * x * x);
    let part1 = (a1 + 0.5) * (n / a1).ln_1p() - (a2 + 0.5) * (n / a2).ln_1p();
    let part2 = n * (-k / big_n).ln_1p();
    let part3 = (c(a1 + n) - c(a1)) - (c(a2 + n) - c(a2));
    part1 + part2 + part3
}

/// `lnf(N-k) - lnf(N-k-n) - lnf(N) + lnf(N-n)` with [`ln_gamma`]. Loses absolute
/// accuracy of about `1e-16 * N ln N`; used only where the miss probability is tiny.
fn ln_miss_lgamma(big_n: u64, k: u64, n: u64) -> f64 {
    let lnf = |x: u64| ln_gamma(x as f64 + 1.0);
    lnf(big_n - k) - lnf(big_n - k - n) - lnf(big_n) + lnf(big_n - n)
}

/// `ln Γ(x)` for `x > 0` (NaN otherwise): Stirling's series after shifting `x` to at
/// least 15 with `Γ(x) = Γ(x + 1) / x`; relative error about 1e-15.
pub fn ln_gamma(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return f64::NAN;
    }
    if x.is_infinite() {
        return x;
    }
    let mut x = x;
    let mut shift = 0.0;
    while x < 15.0 {
        shift += x.ln();
        x += 1.0;
    }
    let inv = 1.0 / x;
    let inv2 = inv * inv;
    let series = inv
        * (1.0 / 12.0
            - inv2 * (1.0 / 360.0 - inv2 * (1.0 / 1260.0 - inv2 * (1.0 / 1680.0 - inv2 / 1188.0))));
    (x - 0.5) * x.ln() - x + 0.5 * (2.0 * std::f64::consts::PI).ln() + series - shift
}

/// The probability that inspecting `inspected` of `sites` sites, chosen uniformly
/// without replacement, visits at least one of the `hidden` sites that hide undeclared
/// items. 0 when nothing is hidden or nothing inspected; 1 when
/// `inspected > sites - hidden`.
pub fn detection_probability(
    sites: u64,
    hidden: u64,
    inspected: u64,
) -> Result<f64, ProbabilityError> {
    let ln_miss = ln_miss_probability(sites, hidden, inspected)?;
    Ok((-ln_miss.exp_m1()).clamp(0.0, 1.0))
}

/// The fewest inspections that detect `hidden` hiding sites out of `sites` with at
/// least probability `confidence` (0 for a confidence of 0;
/// `sites - hidden + 1` for a confidence of 1).
pub fn sites_needed(sites: u64, hidden: u64, confidence: f64) -> Result<u64, ProbabilityError> {
    if !(0.0..=1.0).contains(&confidence) {
        return Err(ProbabilityError::InvalidConfidence { confidence });
    }
    if hidden > sites {
        return Err(ProbabilityError::HiddenExceedsSites { hidden, sites });
    }
    if confidence <= 0.0 {
        return Ok(0);
    }
    if hidden == 0 {
        return Err(ProbabilityError::NothingHidden { confidence });
    }
    // P rises with n and reaches 1 at n = sites - hidden + 1 (<= sites).
    let (mut lo, mut hi) = (0u64, sites - hidden + 1);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if detection_probability(sites, hidden, mid)? >= confidence {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    Ok(lo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln_gamma_matches_factorials() {
        let mut f = 0.0f64;
        for n in 1..170u32 {
            f += f64::from(n).ln();
            let g = ln_gamma(f64::from(n) + 1.0);
            assert!((g - f).abs() <= 1e-13 * f.abs().max(1.0), "{n}: {g} vs {f}");
        }
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-14);
    }
}
