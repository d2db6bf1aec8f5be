//! The report contract: what `assess` returns, serialized as the JSON of DESIGN.md.
//!
//! Field order is fixed by the struct definitions and maps are `BTreeMap`s, so the JSON is
//! byte-identical for identical inputs.

use serde::Serialize;
use std::collections::BTreeMap;

/// A number as the report prints it: integers without a fraction.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Num {
    Int(i64),
    Dec(f64),
}

impl Num {
    pub fn as_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Dec(d) => d,
        }
    }

    pub fn is_int(self) -> bool {
        matches!(self, Num::Int(_))
    }
}

impl std::fmt::Display for Num {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Num::Int(i) => write!(f, "{i}"),
            Num::Dec(d) => {
                if d.fract() == 0.0 && d.abs() < 1e15 {
                    write!(f, "{d:.0}")
                } else {
                    write!(f, "{}", (d * 1000.0).round() / 1000.0)
                }
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Compliant,
    Violation,
    NotYetInForce,
    Expired,
    NoData,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Compliant,
        Status::Violation,
        Status::NotYetInForce,
        Status::Expired,
        Status::NoData,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Compliant => "compliant",
            Status::Violation => "violation",
            Status::NotYetInForce => "not_yet_in_force",
            Status::Expired => "expired",
            Status::NoData => "no_data",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TreatyRef {
    pub id: String,
    pub title: String,
    pub source_sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assumptions {
    /// The entry-into-force date used (the treaty's, or an assumed one), if any.
    pub in_force: Option<String>,
    /// Whether `in_force` was assumed by the user rather than stated by the treaty.
    pub in_force_assumed: bool,
    /// Every param with the value used (`null` when it has none).
    pub params: BTreeMap<String, serde_json::Value>,
    /// Params the user overrode.
    pub overridden: Vec<String>,
    pub interpretation: Option<String>,
}

/// One input the report was computed from: a facts file and its hash, or a log checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct InputRef {
    pub name: String,
    pub sha256: String,
    pub records: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    pub reason: &'static str,
    /// The ids of the facts involved.
    pub ids: Vec<String>,
    /// When the violating fact happened or began.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    pub detail: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub evidence: BTreeMap<String, serde_json::Value>,
}

/// Declared data older than the last declaration that was due.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Staleness {
    pub data_as_of: String,
    pub due_as_of: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub party: String,
    pub provision: String,
    pub kind: &'static str,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub article: Option<String>,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Num>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bound: Option<Num>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub margin: Option<Num>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparison: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// Why there is no data, for `no_data`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub violations: Vec<Violation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stale: Option<Staleness>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub evidence: BTreeMap<String, serde_json::Value>,
}

impl Finding {
    /// Whether this finding should count towards the exit code: a binding provision in
    /// violation (objectives are not binding).
    pub fn is_binding_violation(&self) -> bool {
        self.status == Status::Violation && self.kind != "objective"
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeferredIssue {
    pub id: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub treaty: TreatyRef,
    pub at: String,
    pub assumptions: Assumptions,
    pub inputs: Vec<InputRef>,
    pub findings: Vec<Finding>,
    pub deferred: Vec<DeferredIssue>,
    pub summary: BTreeMap<&'static str, u64>,
}

impl Report {
    pub fn has_binding_violation(&self) -> bool {
        self.findings.iter().any(Finding::is_binding_violation)
    }
}

pub fn summarize(findings: &[Finding]) -> BTreeMap<&'static str, u64> {
    let mut summary: BTreeMap<&'static str, u64> =
        Status::ALL.iter().map(|s| (s.as_str(), 0)).collect();
    for f in findings {
        if let Some(n) = summary.get_mut(f.status.as_str()) {
            *n += 1;
        }
    }
    summary
}

/// One row of a timeline: a provision's value and bound for one party at one instant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimelinePoint {
    pub at: String,
    pub party: String,
    pub provision: String,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Num>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bound: Option<Num>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub margin: Option<Num>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timeline {
    pub treaty: TreatyRef,
    pub from: String,
    pub to: String,
    pub every: String,
    pub assumptions: Assumptions,
    pub inputs: Vec<InputRef>,
    pub points: Vec<TimelinePoint>,
}

/// One milestone a party still has to meet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Milestone {
    pub provision: String,
    pub kind: &'static str,
    pub date: String,
    pub bound: Num,
    pub current_value: Num,
    /// How much the value must fall (or rise, for a floor) to meet the milestone; 0 if met.
    pub reduction_owed: Num,
    pub days_left: i64,
    /// The reduction owed per year of time left.
    pub per_year: Num,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub treaty: TreatyRef,
    pub party: String,
    pub at: String,
    pub assumptions: Assumptions,
    pub inputs: Vec<InputRef>,
    pub milestones: Vec<Milestone>,
    /// Limits whose value is unknown, with the reason.
    pub unknown: Vec<(String, String)>,
}
