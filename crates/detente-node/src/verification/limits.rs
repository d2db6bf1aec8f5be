//! Limit proofs in the report: a deterministic step after the engine.
//!
//! The engine assesses a limit from declared values; a party that proved its number is
//! within the limit without declaring it gets `no_data` from the engine alone. This step
//! turns such a finding into `compliant`, with evidence "proved without disclosure"
//! naming the proof's log entry, bound and date, when the party has a **verified** proof
//! for the provision (the proof's quantity is the provision's id)
//!
//! * whose bound is at most the finding's bound (below it, for a `<` limit), and
//! * whose `as_of` is on or before the instant assessed
//!
//! (of several, the latest `as_of`, then the smallest bound, then the first in the
//! logs). An opening of an applicable proof that does not match it, or that discloses a
//! value above the finding's bound, makes the finding a `violation` (reason
//! `opening_mismatch` or `opened_above_bound`) whatever the engine said. Findings the
//! engine computed from declared values otherwise stand as they are.

use std::collections::BTreeMap;

use detente_assess::report::{Finding, Num, Report, Status, Violation, summarize};
use serde_json::json;

use super::state::ProofState;

/// The evidence key of a limit established by a proof.
pub const PROOF_EVIDENCE: &str = "proof";
/// The words the evidence gives for its method.
pub const PROVED_WITHOUT_DISCLOSURE: &str = "proved without disclosure";

/// Whether a proved bound establishes the finding's comparison.
fn establishes(proved: u64, bound: Num, comparison: &str) -> bool {
    let proved = proved as f64;
    match comparison {
        "<=" => proved <= bound.as_f64(),
        "<" => proved < bound.as_f64(),
        _ => false,
    }
}

/// Whether a disclosed value breaks the finding's comparison.
fn breaks(value: u64, bound: Num, comparison: &str) -> bool {
    let value = value as f64;
    match comparison {
        "<=" => value > bound.as_f64(),
        "<" => value >= bound.as_f64(),
        _ => false,
    }
}

/// Applies the verified limit proofs to the report's limit findings (see the module
/// documentation). The summary is recomputed if anything changed.
pub fn apply_limit_proofs(report: &mut Report, proofs: &[ProofState]) {
    let date = report.at.get(..10).unwrap_or_default().to_owned();
    let mut changed = false;
    for f in &mut report.findings {
        if f.kind != "limit" || matches!(f.status, Status::NotYetInForce | Status::Expired) {
            continue;
        }
        let applicable: Vec<&ProofState> = proofs
            .iter()
            .filter(|p| {
                p.verified
                    && p.party == f.party
                    && p.provision == f.provision
                    && p.as_of.as_str() <= date.as_str()
            })
            .collect();
        if applicable.is_empty() {
            continue;
        }
        if openings_break(f, &applicable) {
            changed = true;
            continue;
        }
        if f.status != Status::NoData {
            continue;
        }
        let (Some(bound), Some(comparison)) = (f.bound, f.comparison) else {
            continue;
        };
        let best = applicable
            .iter()
            .filter(|p| establishes(p.bound, bound, comparison))
            .fold(None::<&&ProofState>, |best, p| match best {
                Some(b)
                    if (b.as_of.as_str(), std::cmp::Reverse(b.bound))
                        >= (p.as_of.as_str(), std::cmp::Reverse(p.bound)) =>
                {
                    Some(b)
                }
                _ => Some(p),
            });
        let Some(p) = best else { continue };
        f.status = Status::Compliant;
        f.reason = None;
        let mut evidence = json!({
            "method": PROVED_WITHOUT_DISCLOSURE,
            "origin": p.record.origin,
            "index": p.record.index,
            "bound": p.bound,
            "as_of": p.as_of,
        });
        if let Some(o) = p.openings.iter().find(|o| o.matches)
            && let Some(map) = evidence.as_object_mut()
        {
            // Opened since: the number is now known, and shown.
            map.insert("opened_value".into(), json!(o.value));
            map.insert(
                "opening".into(),
                json!({"origin": o.record.origin, "index": o.record.index}),
            );
            if let Ok(v) = i64::try_from(o.value) {
                f.value = Some(Num::Int(v));
                f.margin = match bound {
                    Num::Int(b) => Some(Num::Int(b.saturating_sub(v))),
                    Num::Dec(b) => Some(Num::Dec(b - v as f64)),
                };
            }
        }
        f.evidence.insert(PROOF_EVIDENCE.to_owned(), evidence);
        changed = true;
    }
    if changed {
        report.summary = summarize(&report.findings);
    }
}

/// Adds a violation for every opening of an applicable proof that does not match it or
/// discloses a value beyond the finding's bound; whether any was added.
fn openings_break(f: &mut Finding, applicable: &[&ProofState]) -> bool {
    let mut added = false;
    for p in applicable {
        for o in &p.openings {
            let mut evidence = BTreeMap::new();
            evidence.insert(
                "proof".to_owned(),
                json!({"origin": p.record.origin, "index": p.record.index, "bound": p.bound, "as_of": p.as_of}),
            );
            evidence.insert(
                "opening".to_owned(),
                json!({"origin": o.record.origin, "index": o.record.index, "value": o.value}),
            );
            if !o.matches {
                f.violations.push(Violation {
                    reason: "opening_mismatch",
                    ids: Vec::new(),
                    at: None,
                    detail: format!(
                        "the opening at {} (value {}) does not open the proof at {} that {}'s `{}` as of {} is at most {}",
                        o.record, o.value, p.record, p.party, p.provision, p.as_of, p.bound
                    ),
                    evidence,
                });
                added = true;
            } else if let (Some(bound), Some(comparison)) = (f.bound, f.comparison)
                && breaks(o.value, bound, comparison)
            {
                f.violations.push(Violation {
                    reason: "opened_above_bound",
                    ids: Vec::new(),
                    at: None,
                    detail: format!(
                        "the opening at {} discloses {} for `{}` as of {}: {} {comparison} {bound} does not hold",
                        o.record, o.value, p.provision, p.as_of, o.value
                    ),
                    evidence,
                });
                added = true;
            }
        }
    }
    if added {
        f.status = Status::Violation;
        f.reason = None;
    }
    added
}
