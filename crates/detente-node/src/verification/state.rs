//! The verification state of every party, computed from the logs a node holds.
//!
//! Pure and deterministic: the verification entries of every log are read in one order
//! that every node holding the same checkpoints computes alike — by the time each log's
//! node says it appended the entry, ties broken by origin, and never out of a log's own
//! index order — and every list in the result has a fixed order. Two nodes holding the
//! same checkpoints therefore produce byte-identical JSON.
//!
//! What is checked (the findings' reason codes):
//!
//! * reveals against the commitment they open (`reveal_mismatch`, `incomplete_reveal`);
//!   the parts of one region (a large region is revealed in several records, each small
//!   enough for a log entry) are put back together and checked as one reveal, then
//!   [`coverage`] checks the regions against each other;
//! * rounds of joint randomness (`early_seed_reveal`, `bad_seed_reveal`, and, while the
//!   others' seeds are out, `seed_not_revealed`, which is pending rather than a
//!   violation until the parties' deadline passes); the sites each complete round draws
//!   from every region revealed before the round's first seed was revealed;
//! * inspection reports reconciled with the revealed items (`undeclared_item`,
//!   `missing_item`, `attribute_mismatch`);
//! * limit proofs (`limit_proof_invalid`) and their openings (`opening_mismatch`,
//!   `opened_above_bound`);
//! * and the chance that the inspections so far would have found `k` hiding sites.
//!
//! Records that cannot be read, or that a party wrote for another, are left out and
//! listed as problems; they never stop the rest from being checked.

use std::collections::{BTreeMap, BTreeSet};

use detente_assess::report::InputRef;
use detente_escrow::commit::{Commitment, Item, item_leaf};
use detente_escrow::inspection::{InspectionFinding, InspectionReport, reconcile};
use detente_escrow::limit::{LimitProof, Opening, check_opening, verify_at_most};
use detente_escrow::probability::detection_probability;
use detente_escrow::randomness::{RoundFault, SeedRound, draw_sites};
use detente_escrow::reveal::{
    Coverage, MismatchReason, Reveal, RevealCheck, RevealViolation, check_reveal, coverage,
};
use detente_lang::ast::ProvisionKind;
use detente_lang::model::Treaty;
use detente_ledger::entry::EntryKind;
use detente_ledger::merkle::verify_inclusion;
use serde::Serialize;
use serde_json::{Value, json};

use super::records::{Record, RecordRef};
use crate::facts::LogInput;
use crate::home::hex;

/// The most item-level `reveal_mismatch` findings listed per region; the rest are
/// counted in one more finding.
pub const MAX_ITEM_FINDINGS: usize = 100;
/// How many sites of each draw the state lists (the first `n` of a draw are the draw of
/// `n`; `detente inspect draw` gives any `n`).
pub const DRAW_LISTED: usize = 20;

/// How the state is computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateOptions {
    /// The number of hiding sites `k` assumed for the detection probability.
    pub hidden: u64,
}

impl Default for StateOptions {
    fn default() -> StateOptions {
        StateOptions { hidden: 1 }
    }
}

/// Whether a finding is a breach of the verification protocol now, or something that
/// may still be put right (a seed not revealed yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Violation,
    Pending,
}

/// One finding, about one party, with the records behind it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerificationFinding {
    /// The party the finding is about (the committing, inspected or proving party).
    pub party: String,
    /// The reason code, e.g. `undeclared_item`.
    pub reason: &'static str,
    pub severity: Severity,
    pub detail: String,
    /// The item ids involved.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ids: Vec<String>,
    /// The log entries the finding rests on (for receipts).
    pub records: Vec<RecordRef>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub evidence: BTreeMap<String, Value>,
}

/// An entry that could not be read as a verification record, or was left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordProblem {
    pub origin: String,
    pub index: u64,
    pub detail: String,
}

impl std::fmt::Display for RecordProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.origin, self.index, self.detail)
    }
}

/// A verification record read from a log, where it is and who wrote it.
#[derive(Debug, Clone)]
pub struct LoggedRecord {
    pub at: RecordRef,
    /// The party whose log holds it (and for whom it speaks).
    pub party: String,
    /// When the log's node says it appended it.
    pub appended_at_ms: i64,
    pub record: Record,
}

/// The verification records of every log, in the order every node computes alike (see
/// the module documentation), and the entries left out.
pub fn logged_records(logs: &[LogInput]) -> (Vec<LoggedRecord>, Vec<RecordProblem>) {
    let lists: Vec<Vec<&detente_ledger::entry::Entry>> = logs
        .iter()
        .map(|l| {
            l.entries
                .iter()
                .filter(|e| e.kind == EntryKind::Verification)
                .collect()
        })
        .collect();
    let mut cursor = vec![0usize; lists.len()];
    let mut records = Vec::new();
    let mut problems = Vec::new();
    loop {
        let mut best: Option<(i64, &str, usize)> = None;
        for (li, (list, log)) in lists.iter().zip(logs).enumerate() {
            let Some(entry) = cursor.get(li).and_then(|c| list.get(*c)) else {
                continue;
            };
            let key = (entry.appended_at_ms, log.origin.as_str());
            if best.is_none_or(|(t, o, _)| key < (t, o)) {
                best = Some((key.0, key.1, li));
            }
        }
        let Some((_, _, li)) = best else { break };
        let (Some(log), Some(list), Some(c)) = (logs.get(li), lists.get(li), cursor.get_mut(li))
        else {
            break;
        };
        let Some(entry) = list.get(*c) else { break };
        *c += 1;
        let at = RecordRef {
            origin: log.origin.clone(),
            index: entry.index,
        };
        match Record::decode(&entry.body) {
            Err(detail) => problems.push(RecordProblem {
                origin: at.origin,
                index: at.index,
                detail: format!("{detail}; left out"),
            }),
            Ok(record) if record.speaker() != log.party => problems.push(RecordProblem {
                origin: at.origin,
                index: at.index,
                detail: format!(
                    "a {} of {} in the log of {}; left out",
                    record.name(),
                    record.speaker(),
                    log.party
                ),
            }),
            Ok(record) => records.push(LoggedRecord {
                at,
                party: log.party.clone(),
                appended_at_ms: entry.appended_at_ms,
                record,
            }),
        }
    }
    (records, problems)
}

// ----- the state, as JSON ---------------------------------------------------------------

/// Every party's verification state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerificationState {
    /// The logs it was computed from: name = origin, sha256 = root, records = size.
    pub inputs: Vec<InputRef>,
    /// The number of hiding sites assumed for the detection probabilities.
    pub hidden: u64,
    pub parties: Vec<PartyState>,
    pub rounds: Vec<RoundState>,
    pub inspections: Vec<InspectionState>,
    pub limit_proofs: Vec<ProofState>,
    pub findings: Vec<VerificationFinding>,
    /// Findings by reason code.
    pub summary: BTreeMap<&'static str, u64>,
    pub problems: Vec<RecordProblem>,
}

impl VerificationState {
    /// Whether a finding is a violation (not merely pending).
    pub fn has_violation(&self) -> bool {
        self.findings
            .iter()
            .any(|f| f.severity == Severity::Violation)
    }

    /// Keeps only what is about `party`: its commitments, its inspections (as the
    /// inspected party), its proofs and the findings about it. Rounds are kept whole.
    pub fn retain_party(&mut self, party: &str) {
        self.parties.retain(|p| p.party == party);
        self.inspections.retain(|i| i.inspected == party);
        self.limit_proofs.retain(|p| p.party == party);
        self.findings.retain(|f| f.party == party);
        self.summary = summarize(&self.findings);
    }

    /// The first `n` sites a complete round draws from a party's region.
    pub fn draw(
        &self,
        round: &str,
        party: &str,
        region: &str,
        n: usize,
    ) -> Result<Vec<String>, String> {
        let Some(r) = self.rounds.iter().find(|r| r.round == round) else {
            return Err(format!(
                "no seed has been committed for round {round:?} in the logs held"
            ));
        };
        if r.combined_seed.is_none() {
            return Err(format!(
                "round {round:?} is {}: there is no combined seed to draw with{}",
                r.status.replace('_', " "),
                if r.status == "void" {
                    "; run a new round"
                } else {
                    "; once every party has revealed its seed (and the logs are mirrored), there will be"
                }
            ));
        }
        let Some(d) = r
            .draws
            .iter()
            .find(|d| d.party == party && d.region == region)
        else {
            let regions: Vec<String> = r
                .draws
                .iter()
                .filter(|d| d.party == party)
                .map(|d| d.region.clone())
                .collect();
            return Err(format!(
                "round {round:?} draws no sites from {party}'s region {region:?}: only regions revealed (and checked) before the round's first seed was revealed are drawn from{}",
                if regions.is_empty() {
                    format!("; {party} had revealed none")
                } else {
                    format!("; {party}'s are {}", regions.join(", "))
                }
            ));
        };
        if n > d.order.len() {
            return Err(format!(
                "{n} sites asked for, but {party}'s region {region:?} has only {} revealed sites",
                d.order.len()
            ));
        }
        Ok(d.order.iter().take(n).cloned().collect())
    }
}

/// Counts of findings by reason code.
pub fn summarize(findings: &[VerificationFinding]) -> BTreeMap<&'static str, u64> {
    let mut summary = BTreeMap::new();
    for f in findings {
        *summary.entry(f.reason).or_insert(0) += 1;
    }
    summary
}

/// One party: what it committed to and revealed, and how likely the inspections so far
/// were to catch hiding sites.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartyState {
    pub party: String,
    pub commitments: Vec<CommitmentState>,
    /// For the party's latest commitment: per revealed region, then all regions together.
    pub detection: Vec<Detection>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CommitmentState {
    pub record: RecordRef,
    pub as_of: String,
    /// The number of items committed to.
    pub total: u64,
    pub root: String,
    /// The items per region, if the party published them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region_counts: Option<BTreeMap<String, u64>>,
    /// Items revealed and checked.
    pub revealed: u64,
    pub regions: Vec<RegionState>,
    /// Index ranges no reveal accounts for yet.
    pub unrevealed: Vec<UnrevealedRange>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegionState {
    pub region: String,
    /// The reveal records of the region (several when it was split).
    pub records: Vec<RecordRef>,
    /// The count committed for the region, if published.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub committed: Option<u64>,
    /// Items that checked.
    pub revealed: u64,
    /// Distinct inspection sites among them.
    pub sites: u64,
    /// Whether the region's reveals check with nothing to report.
    pub clean: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnrevealedRange {
    pub start: u64,
    pub end: u64,
    /// The region whose revealed items surround the range (then it is an omission).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub within: Option<String>,
}

/// The chance that inspecting `inspected` of `sites` sites, drawn at random, finds at
/// least one of `hidden` hiding ones.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Detection {
    /// The region, or `None` for all revealed regions together.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Revealed sites (N).
    pub sites: u64,
    /// Of them, sites inspected and reconciled (n).
    pub inspected: u64,
    /// Hiding sites assumed (k).
    pub hidden: u64,
    /// P(detect), rounded to 6 decimals; `None` when more sites are assumed hiding than
    /// there are.
    pub probability: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoundState {
    pub round: String,
    /// `complete`, `awaiting_commitment`, `awaiting_reveal` or `void`.
    pub status: &'static str,
    pub parties: Vec<SeedParty>,
    /// The combined seed (hex), once every party has revealed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub combined_seed: Option<String>,
    /// The first seed reveal: the regions revealed before it are the ones drawn from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub candidates_fixed_by: Option<RecordRef>,
    pub draws: Vec<DrawState>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeedParty {
    pub party: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub committed: Option<RecordRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revealed: Option<RecordRef>,
}

/// The sites a complete round draws from one region, in draw order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DrawState {
    pub party: String,
    pub region: String,
    /// The number of candidate sites (N).
    pub candidates: u64,
    /// The first sites of the draw (at most [`DRAW_LISTED`]).
    pub first: Vec<String>,
    /// The whole draw.
    #[serde(skip)]
    pub order: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InspectionState {
    pub record: RecordRef,
    pub inspector: String,
    pub inspected: String,
    pub site: String,
    pub date: String,
    /// The region of the site, if revealed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// `reconciled`; `site_not_revealed` (reconciled once the site is revealed, or once
    /// every committed item is); or `no_declaration` (no commitment as of the date).
    pub status: &'static str,
    /// Items the inspectors reported.
    pub found: u64,
    /// Findings of the reconciliation.
    pub findings: u64,
    /// Where a complete round's draw put the site (1 = drawn first).
    pub drawn: Vec<DrawnAt>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DrawnAt {
    pub round: String,
    pub position: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProofState {
    pub record: RecordRef,
    pub party: String,
    /// The limit provision the proof is about (the proof's quantity).
    pub provision: String,
    pub as_of: String,
    pub bound: u64,
    /// Whether the range proof verifies.
    pub verified: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub openings: Vec<OpeningState>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpeningState {
    pub record: RecordRef,
    /// The value the opening discloses.
    pub value: u64,
    /// Whether it opens this proof's commitment.
    pub matches: bool,
}

// ----- computing it -----------------------------------------------------------------------

struct CommitAcc {
    at: RecordRef,
    commitment: Commitment,
    parts: Vec<(RecordRef, Reveal)>,
}

struct StrayReveal {
    at: RecordRef,
    party: String,
    reveal: Reveal,
    /// The party's latest commitment before it, if any.
    against: Option<Commitment>,
}

struct RoundAcc {
    round: Option<SeedRound>,
    commits: BTreeMap<String, RecordRef>,
    reveals: BTreeMap<String, Vec<RecordRef>>,
    /// The record behind each fault, in the order of the round's faults.
    fault_refs: Vec<RecordRef>,
    frozen: Option<(RecordRef, Vec<Candidates>)>,
}

struct Candidates {
    party: String,
    region: String,
    sites: Vec<String>,
}

struct ProofAcc {
    at: RecordRef,
    proof: LimitProof,
    error: Option<String>,
    openings: Vec<OpeningState>,
}

/// A region's reveals, checked together.
struct RegionCheck {
    region: String,
    parts: Vec<RecordRef>,
    check: RevealCheck,
    /// Reveals naming another date or tree size than the commitment.
    header: Vec<(RecordRef, RevealViolation)>,
    /// Second copies of an index (a changed item, or the same item revealed again
    /// differently), each with the record it is in.
    extra: Vec<(RecordRef, RevealViolation)>,
    /// The records each index was revealed in.
    index_refs: BTreeMap<u64, Vec<RecordRef>>,
    /// The items that checked, with the record that revealed them, in index order.
    items: Vec<(Item, RecordRef)>,
}

struct CommitCheck {
    regions: Vec<RegionCheck>,
    coverage: Coverage,
}

impl CommitCheck {
    fn sites(&self) -> Vec<Candidates> {
        let party = String::new();
        self.regions
            .iter()
            .map(|r| {
                let sites: BTreeSet<String> =
                    r.items.iter().map(|(i, _)| i.site().to_owned()).collect();
                Candidates {
                    party: party.clone(),
                    region: r.region.clone(),
                    sites: sites.into_iter().collect(),
                }
            })
            .filter(|c| !c.sites.is_empty())
            .collect()
    }
}

/// Checks every region revealed against one commitment, each region's parts together.
fn check_commitment(acc: &CommitAcc) -> CommitCheck {
    let c = &acc.commitment;
    let mut groups: BTreeMap<&str, Vec<&(RecordRef, Reveal)>> = BTreeMap::new();
    for part in &acc.parts {
        groups.entry(part.1.region.as_str()).or_default().push(part);
    }
    let mut regions = Vec::new();
    for (region, parts) in groups {
        let mut header = Vec::new();
        let mut copies: Vec<(&detente_escrow::reveal::RevealedItem, &RecordRef)> = Vec::new();
        for (at, part) in &parts {
            if part.as_of != c.as_of {
                header.push((
                    at.clone(),
                    RevealViolation::WrongCommitment {
                        field: "as_of",
                        committed: c.as_of.clone(),
                        revealed: part.as_of.clone(),
                    },
                ));
            }
            if part.tree_size != c.total {
                header.push((
                    at.clone(),
                    RevealViolation::WrongCommitment {
                        field: "tree_size",
                        committed: c.total.to_string(),
                        revealed: part.tree_size.to_string(),
                    },
                ));
            }
            copies.extend(part.items.iter().map(|it| (it, at)));
        }
        copies.sort_by_key(|(it, _)| it.index);
        // One copy per index goes into the merged reveal: the first that matches the
        // commitment (or the first, if none does). A part published twice, byte for
        // byte, is one reveal; any other copy of an index is a mismatch of its own.
        let mut kept: Vec<(&detente_escrow::reveal::RevealedItem, &RecordRef)> =
            Vec::with_capacity(copies.len());
        let mut extra: Vec<(RecordRef, RevealViolation)> = Vec::new();
        let matches = |it: &detente_escrow::reveal::RevealedItem| {
            verify_inclusion(
                &item_leaf(&it.salt, &it.item),
                it.index,
                c.total,
                &it.proof,
                &c.root,
            )
        };
        let mut i = 0;
        while i < copies.len() {
            let index = copies.get(i).map_or(0, |(it, _)| it.index);
            let end = copies
                .iter()
                .skip(i)
                .position(|(it, _)| it.index != index)
                .map_or(copies.len(), |n| i + n);
            let group = copies.get(i..end).unwrap_or(&[]);
            i = end.max(i + 1);
            if let [only] = group {
                kept.push(*only);
                continue;
            }
            let chosen = group
                .iter()
                .position(|(it, _)| matches(it).is_ok())
                .unwrap_or(0);
            let Some(first) = group.get(chosen) else {
                continue;
            };
            kept.push(*first);
            for (n, (it, at)) in group.iter().enumerate() {
                if n == chosen || *it == first.0 {
                    continue;
                }
                let reason = match matches(it) {
                    Err(e) => MismatchReason::Proof(e),
                    Ok(()) => MismatchReason::DuplicateIndex,
                };
                extra.push((
                    (*at).clone(),
                    RevealViolation::ItemMismatch {
                        index: it.index,
                        id: it.item.id.clone(),
                        reason,
                    },
                ));
            }
        }
        let merged = Reveal {
            party: c.party.clone(),
            as_of: c.as_of.clone(),
            root: c.root,
            tree_size: c.total,
            region: region.to_owned(),
            items: kept.iter().map(|(it, _)| (*it).clone()).collect(),
        };
        let check = check_reveal(c, &merged);
        let index_refs: BTreeMap<u64, Vec<RecordRef>> = kept
            .iter()
            .map(|(it, at)| (it.index, vec![(*at).clone()]))
            .collect();
        let mut items = Vec::with_capacity(check.verified.len());
        for (index, _) in &check.verified {
            let k = kept.partition_point(|(k, _)| k.index < *index);
            if let Some((it, at)) = kept.get(k) {
                items.push((it.item.clone(), (*at).clone()));
            }
        }
        regions.push(RegionCheck {
            region: region.to_owned(),
            parts: parts.iter().map(|(at, _)| at.clone()).collect(),
            check,
            header,
            extra,
            index_refs,
            items,
        });
    }
    let checks: Vec<RevealCheck> = regions.iter().map(|r| r.check.clone()).collect();
    let coverage = coverage(c, &checks);
    CommitCheck { regions, coverage }
}

/// Rounded to 6 decimals (and never `-0`), so the JSON is short and the same everywhere.
fn round_to_micro(p: f64) -> f64 {
    let r = (p * 1e6).round() / 1e6;
    if r == 0.0 { 0.0 } else { r }
}

fn finding(
    party: &str,
    reason: &'static str,
    severity: Severity,
    detail: String,
    records: Vec<RecordRef>,
) -> VerificationFinding {
    // The reason is a field of its own; the detail need not repeat it.
    let detail = match detail
        .strip_prefix(reason)
        .and_then(|d| d.strip_prefix(": "))
    {
        Some(rest) => rest.to_owned(),
        None => detail,
    };
    VerificationFinding {
        party: party.to_owned(),
        reason,
        severity,
        detail,
        ids: Vec::new(),
        records,
        evidence: BTreeMap::new(),
    }
}

/// The verification state of every party from the logs (see the module documentation).
/// `logs` must be in origin order (as the node lists them).
pub fn read_verification(
    logs: &[LogInput],
    treaty: &Treaty,
    options: &StateOptions,
) -> VerificationState {
    let (records, mut problems) = logged_records(logs);
    let parties: Vec<&str> = {
        let mut p: Vec<&str> = treaty.parties.iter().map(String::as_str).collect();
        p.sort_unstable();
        p.dedup();
        p
    };
    let problem = |at: &RecordRef, detail: String| RecordProblem {
        origin: at.origin.clone(),
        index: at.index,
        detail,
    };

    let mut commits: BTreeMap<String, Vec<CommitAcc>> = BTreeMap::new();
    let mut strays: Vec<StrayReveal> = Vec::new();
    let mut rounds: BTreeMap<String, RoundAcc> = BTreeMap::new();
    let mut reports: Vec<(RecordRef, InspectionReport)> = Vec::new();
    let mut proofs: Vec<ProofAcc> = Vec::new();
    let mut findings: Vec<VerificationFinding> = Vec::new();
    let mut opening_findings: Vec<VerificationFinding> = Vec::new();

    for LoggedRecord {
        at, party, record, ..
    } in records
    {
        match record {
            Record::Commitment(commitment) => {
                commits.entry(party).or_default().push(CommitAcc {
                    at,
                    commitment,
                    parts: Vec::new(),
                });
            }
            Record::Reveal(reveal) => {
                let list = commits.entry(party.clone()).or_default();
                if let Some(c) = list
                    .iter_mut()
                    .rev()
                    .find(|c| c.commitment.root == reveal.root)
                {
                    c.parts.push((at, reveal));
                } else {
                    strays.push(StrayReveal {
                        at,
                        party,
                        against: list.last().map(|c| c.commitment.clone()),
                        reveal,
                    });
                }
            }
            Record::SeedCommitment(sc) => {
                let acc = rounds
                    .entry(sc.round.clone())
                    .or_insert_with(|| new_round(&sc.round, &parties));
                let Some(round) = acc.round.as_mut() else {
                    problems.push(problem(
                        &at,
                        "the treaty names no parties for a round; left out".into(),
                    ));
                    continue;
                };
                match round.commit(sc) {
                    Ok(()) => {
                        acc.commits.insert(party, at);
                    }
                    Err(e) => problems.push(problem(&at, format!("{e}; left out"))),
                }
            }
            Record::SeedReveal(sr) => {
                let acc = rounds
                    .entry(sr.round.clone())
                    .or_insert_with(|| new_round(&sr.round, &parties));
                if acc.frozen.is_none() {
                    // From the first seed out, the regions drawn from are fixed: no party
                    // can then reveal a region to steer a draw it could compute.
                    let mut candidates = Vec::new();
                    for (p, list) in &commits {
                        if let Some(latest) = list.last() {
                            for mut c in check_commitment(latest).sites() {
                                c.party.clone_from(p);
                                candidates.push(c);
                            }
                        }
                    }
                    acc.frozen = Some((at.clone(), candidates));
                }
                let Some(round) = acc.round.as_mut() else {
                    problems.push(problem(
                        &at,
                        "the treaty names no parties for a round; left out".into(),
                    ));
                    continue;
                };
                let faults = round.status().faults.len();
                match round.reveal(sr) {
                    Ok(()) => {
                        if round.status().faults.len() > faults {
                            acc.fault_refs.push(at.clone());
                        }
                        acc.reveals.entry(party).or_default().push(at);
                    }
                    Err(e) => problems.push(problem(&at, format!("{e}; left out"))),
                }
            }
            Record::Inspection(report) => {
                if report.inspected == report.inspector {
                    problems.push(problem(
                        &at,
                        format!(
                            "an inspection report of {} on itself; left out",
                            report.inspector
                        ),
                    ));
                } else if !parties.contains(&report.inspected.as_str()) {
                    problems.push(problem(
                        &at,
                        format!(
                            "an inspection of {:?}, which is not a party of the treaty; left out",
                            report.inspected
                        ),
                    ));
                } else {
                    reports.push((at, report));
                }
            }
            Record::LimitProof(proof) => {
                match treaty.provision(&proof.context.quantity) {
                    Some(p) if p.kind == ProvisionKind::Limit => {}
                    _ => {
                        let limits: Vec<&str> = treaty
                            .provisions
                            .iter()
                            .filter(|p| p.kind == ProvisionKind::Limit)
                            .map(|p| p.id.as_str())
                            .collect();
                        problems.push(problem(
                            &at,
                            format!(
                                "a limit proof about `{}`, which is not a limit provision of the treaty (its limits are {}); it applies to no finding",
                                proof.context.quantity,
                                limits.join(", ")
                            ),
                        ));
                    }
                }
                let error = verify_at_most(&proof, proof.bound, &proof.context)
                    .err()
                    .map(|e| e.to_string());
                proofs.push(ProofAcc {
                    at,
                    proof,
                    error,
                    openings: Vec::new(),
                });
            }
            Record::Opening(opening) => {
                open(
                    &at,
                    &party,
                    &opening,
                    &mut proofs,
                    &mut opening_findings,
                    &mut problems,
                );
            }
        }
    }

    // Commitments and reveals.
    let mut party_states = Vec::new();
    let mut checks: BTreeMap<String, Vec<(Commitment, CommitCheck)>> = BTreeMap::new();
    for (party, list) in &commits {
        let mut states = Vec::new();
        for acc in list {
            let check = check_commitment(acc);
            reveal_findings(party, acc, &check, &mut findings);
            states.push(commitment_state(acc, &check));
            checks
                .entry(party.clone())
                .or_default()
                .push((acc.commitment.clone(), check));
        }
        if !states.is_empty() {
            party_states.push(PartyState {
                party: party.clone(),
                commitments: states,
                detection: Vec::new(),
            });
        }
    }
    for stray in &strays {
        findings.push(stray_finding(stray));
    }

    // Rounds.
    let mut round_states = Vec::new();
    for (name, acc) in &rounds {
        round_states.push(round_state(name, acc, &parties, &mut findings));
    }

    // Inspections.
    let mut inspections = Vec::new();
    let mut inspected_sites: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (at, report) in &reports {
        let state = inspection_state(at, report, &checks, &round_states, &mut findings);
        if state.status == "reconciled" {
            inspected_sites
                .entry(report.inspected.clone())
                .or_default()
                .insert(report.site.clone());
        }
        inspections.push(state);
    }

    // Detection probabilities, for each party's latest commitment.
    for ps in &mut party_states {
        let Some((_, check)) = checks.get(&ps.party).and_then(|l| l.last()) else {
            continue;
        };
        let inspected = inspected_sites.get(&ps.party);
        let mut all_sites = BTreeSet::new();
        let mut all_inspected = 0u64;
        for region in &check.regions {
            let sites: BTreeSet<&str> = region.items.iter().map(|(i, _)| i.site()).collect();
            if sites.is_empty() {
                continue;
            }
            let n = sites
                .iter()
                .filter(|s| inspected.is_some_and(|i| i.contains(**s)))
                .count() as u64;
            ps.detection.push(detection(
                Some(&region.region),
                sites.len() as u64,
                n,
                options.hidden,
            ));
            for s in sites {
                if all_sites.insert(s.to_owned()) && inspected.is_some_and(|i| i.contains(s)) {
                    all_inspected += 1;
                }
            }
        }
        if !all_sites.is_empty() {
            ps.detection.push(detection(
                None,
                all_sites.len() as u64,
                all_inspected,
                options.hidden,
            ));
        }
    }

    // Limit proofs.
    let mut proof_states = Vec::new();
    for p in proofs {
        if let Some(error) = &p.error {
            let mut f = finding(
                &p.proof.context.party,
                "limit_proof_invalid",
                Severity::Violation,
                format!(
                    "the proof that {}'s `{}` as of {} is at most {} does not verify: {error}",
                    p.proof.context.party,
                    p.proof.context.quantity,
                    p.proof.context.as_of,
                    p.proof.bound
                ),
                vec![p.at.clone()],
            );
            f.evidence
                .insert("provision".into(), json!(p.proof.context.quantity));
            findings.push(f);
        }
        proof_states.push(ProofState {
            record: p.at,
            party: p.proof.context.party.clone(),
            provision: p.proof.context.quantity.clone(),
            as_of: p.proof.context.as_of.clone(),
            bound: p.proof.bound,
            verified: p.error.is_none(),
            error: p.error,
            openings: p.openings,
        });
    }
    findings.extend(opening_findings);

    VerificationState {
        inputs: logs
            .iter()
            .map(|l| InputRef {
                name: l.origin.clone(),
                sha256: hex(&l.checkpoint.root),
                records: l.checkpoint.size,
            })
            .collect(),
        hidden: options.hidden,
        parties: party_states,
        rounds: round_states,
        inspections,
        limit_proofs: proof_states,
        summary: summarize(&findings),
        findings,
        problems,
    }
}

fn new_round(round: &str, parties: &[&str]) -> RoundAcc {
    RoundAcc {
        round: SeedRound::new(round, parties).ok(),
        commits: BTreeMap::new(),
        reveals: BTreeMap::new(),
        fault_refs: Vec::new(),
        frozen: None,
    }
}

/// An opening: matched against the party's earlier proofs with the same context.
fn open(
    at: &RecordRef,
    party: &str,
    opening: &Opening,
    proofs: &mut [ProofAcc],
    findings: &mut Vec<VerificationFinding>,
    problems: &mut Vec<RecordProblem>,
) {
    let ctx = &opening.context;
    let mut candidates: Vec<&mut ProofAcc> = proofs
        .iter_mut()
        .filter(|p| p.proof.context == *ctx)
        .collect();
    if candidates.is_empty() {
        problems.push(RecordProblem {
            origin: at.origin.clone(),
            index: at.index,
            detail: format!(
                "an opening of {party}'s `{}` as of {}, but no limit proof of it precedes it; left out",
                ctx.quantity, ctx.as_of
            ),
        });
        return;
    }
    let matched: Vec<bool> = candidates
        .iter()
        .map(|p| check_opening(&p.proof, opening).is_ok())
        .collect();
    let mut evidence = BTreeMap::new();
    evidence.insert("provision".to_owned(), json!(ctx.quantity));
    evidence.insert("as_of".to_owned(), json!(ctx.as_of));
    evidence.insert("opened_value".to_owned(), json!(opening.value));
    if !matched.iter().any(|m| *m) {
        let mut records = vec![at.clone()];
        for p in &mut candidates {
            records.push(p.at.clone());
            p.openings.push(OpeningState {
                record: at.clone(),
                value: opening.value,
                matches: false,
            });
        }
        let mut f = finding(
            party,
            "opening_mismatch",
            Severity::Violation,
            format!(
                "the opening of `{}` as of {} (value {}) opens none of {party}'s proofs of it: {party} committed to one number and now discloses another",
                ctx.quantity, ctx.as_of, opening.value
            ),
            records,
        );
        f.evidence = evidence;
        findings.push(f);
        return;
    }
    // Every earlier opening of the same quantity and date that disclosed another value:
    // the party has committed to two numbers for one quantity on one date.
    let conflicting: BTreeSet<(u64, RecordRef)> = candidates
        .iter()
        .flat_map(|p| p.openings.iter())
        .filter(|o| o.matches && o.value != opening.value)
        .map(|o| (o.value, o.record.clone()))
        .collect();
    for (p, m) in candidates.iter_mut().zip(&matched) {
        if !*m {
            continue;
        }
        p.openings.push(OpeningState {
            record: at.clone(),
            value: opening.value,
            matches: true,
        });
        if opening.value > p.proof.bound {
            let mut f = finding(
                party,
                "opened_above_bound",
                Severity::Violation,
                format!(
                    "the opening of `{}` as of {} discloses {}, above the bound {} the proof claimed",
                    ctx.quantity, ctx.as_of, opening.value, p.proof.bound
                ),
                vec![at.clone(), p.at.clone()],
            );
            f.evidence = evidence.clone();
            findings.push(f);
        }
    }
    if !conflicting.is_empty() {
        let mut records: Vec<RecordRef> = conflicting.iter().map(|(_, r)| r.clone()).collect();
        records.push(at.clone());
        let values: BTreeSet<u64> = conflicting.iter().map(|(v, _)| *v).collect();
        let mut f = finding(
            party,
            "opening_mismatch",
            Severity::Violation,
            format!(
                "{party} has opened `{}` as of {} to {} before, and now to {}: it committed to more than one number",
                ctx.quantity,
                ctx.as_of,
                values
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(" and "),
                opening.value
            ),
            records,
        );
        f.evidence = evidence;
        findings.push(f);
    }
}

fn reveal_findings(
    party: &str,
    acc: &CommitAcc,
    check: &CommitCheck,
    findings: &mut Vec<VerificationFinding>,
) {
    for region in &check.regions {
        for (at, v) in region.header.iter().chain(&region.extra) {
            let mut f = finding(
                party,
                v.code(),
                Severity::Violation,
                v.to_string(),
                vec![at.clone(), acc.at.clone()],
            );
            f.evidence.insert("region".into(), json!(region.region));
            if let RevealViolation::ItemMismatch { index, id, .. } = v {
                f.ids = vec![id.clone()];
                f.evidence.insert("index".into(), json!(index));
            }
            findings.push(f);
        }
        let mut items_listed = 0usize;
        let mut items_more = 0usize;
        let mut more_refs: BTreeSet<RecordRef> = BTreeSet::new();
        for v in &region.check.violations {
            match v {
                RevealViolation::ItemMismatch { index, id, .. } => {
                    let mut records = region.index_refs.get(index).cloned().unwrap_or_default();
                    if items_listed >= MAX_ITEM_FINDINGS {
                        items_more += 1;
                        more_refs.extend(records);
                        continue;
                    }
                    items_listed += 1;
                    records.push(acc.at.clone());
                    let mut f =
                        finding(party, v.code(), Severity::Violation, v.to_string(), records);
                    f.ids = vec![id.clone()];
                    f.evidence.insert("region".into(), json!(region.region));
                    f.evidence.insert("index".into(), json!(index));
                    findings.push(f);
                }
                RevealViolation::Incomplete {
                    committed,
                    revealed,
                    missing,
                } => {
                    let mut records = region.parts.clone();
                    records.push(acc.at.clone());
                    let mut f =
                        finding(party, v.code(), Severity::Violation, v.to_string(), records);
                    f.evidence.insert("region".into(), json!(region.region));
                    f.evidence.insert("revealed".into(), json!(revealed));
                    if let Some(c) = committed {
                        f.evidence.insert("committed".into(), json!(c));
                    }
                    f.evidence.insert(
                        "missing".into(),
                        json!(missing.iter().map(|(s, e)| [s, e]).collect::<Vec<_>>()),
                    );
                    findings.push(f);
                }
                RevealViolation::WrongCommitment { .. } => {
                    let mut records = region.parts.clone();
                    records.push(acc.at.clone());
                    let mut f =
                        finding(party, v.code(), Severity::Violation, v.to_string(), records);
                    f.evidence.insert("region".into(), json!(region.region));
                    findings.push(f);
                }
            }
        }
        if items_more > 0 {
            let mut records: Vec<RecordRef> = more_refs.into_iter().collect();
            records.push(acc.at.clone());
            let mut f = finding(
                party,
                "reveal_mismatch",
                Severity::Violation,
                format!(
                    "reveal_mismatch: {items_more} more items of region {:?} do not match the commitment",
                    region.region
                ),
                records,
            );
            f.evidence.insert("region".into(), json!(region.region));
            f.evidence.insert("count".into(), json!(items_more));
            findings.push(f);
        }
    }
    for v in &check.coverage.violations {
        let names: Vec<&str> = match v {
            detente_escrow::reveal::CoverageViolation::RegionsOutOfOrder { earlier, later } => {
                vec![earlier, later]
            }
            detente_escrow::reveal::CoverageViolation::Interleaved { region, other } => {
                vec![region, other]
            }
        };
        let mut records: Vec<RecordRef> = check
            .regions
            .iter()
            .filter(|r| names.contains(&r.region.as_str()))
            .flat_map(|r| r.parts.iter().cloned())
            .collect();
        records.push(acc.at.clone());
        findings.push(finding(
            party,
            v.code(),
            Severity::Violation,
            v.to_string(),
            records,
        ));
    }
}

fn commitment_state(acc: &CommitAcc, check: &CommitCheck) -> CommitmentState {
    let c = &acc.commitment;
    CommitmentState {
        record: acc.at.clone(),
        as_of: c.as_of.clone(),
        total: c.total,
        root: hex(&c.root),
        region_counts: c
            .region_counts
            .as_ref()
            .map(|counts| counts.iter().cloned().collect()),
        revealed: check.coverage.revealed(),
        regions: check
            .regions
            .iter()
            .map(|r| RegionState {
                region: r.region.clone(),
                records: r.parts.clone(),
                committed: c.region_range(&r.region).map(|(_, n)| n),
                revealed: r.items.len() as u64,
                sites: r
                    .items
                    .iter()
                    .map(|(i, _)| i.site())
                    .collect::<BTreeSet<_>>()
                    .len() as u64,
                clean: r.header.is_empty() && r.extra.is_empty() && r.check.is_clean(),
            })
            .collect(),
        unrevealed: check
            .coverage
            .unrevealed
            .iter()
            .map(|u| UnrevealedRange {
                start: u.start,
                end: u.end,
                within: u.within.clone(),
            })
            .collect(),
    }
}

fn stray_finding(stray: &StrayReveal) -> VerificationFinding {
    let r = &stray.reveal;
    let detail = match &stray.against {
        None => format!(
            "reveal_mismatch: a reveal of region {:?} against root {}, but {} has no commitment before it in its log",
            r.region,
            hex(&r.root),
            stray.party
        ),
        Some(c) => {
            let check = check_reveal(c, r);
            format!(
                "reveal_mismatch: a reveal of region {:?} against root {}, which is not the root of any commitment of {} before it (its latest is {}); none of its {} items can be checked ({} do not match the latest)",
                r.region,
                hex(&r.root),
                stray.party,
                hex(&c.root),
                r.items.len(),
                check
                    .violations
                    .iter()
                    .filter(|v| matches!(v, RevealViolation::ItemMismatch { .. }))
                    .count()
            )
        }
    };
    let mut f = finding(
        &stray.party,
        "reveal_mismatch",
        Severity::Violation,
        detail,
        vec![stray.at.clone()],
    );
    f.evidence.insert("region".into(), json!(r.region));
    f
}

fn round_state(
    name: &str,
    acc: &RoundAcc,
    parties: &[&str],
    findings: &mut Vec<VerificationFinding>,
) -> RoundState {
    let status = acc.round.as_ref().map(SeedRound::status);
    let revealed: Vec<String> = status
        .as_ref()
        .map(|s| s.revealed.clone())
        .unwrap_or_default();
    let seed_parties: Vec<SeedParty> = parties
        .iter()
        .map(|p| SeedParty {
            party: (*p).to_owned(),
            committed: acc.commits.get(*p).cloned(),
            revealed: if revealed.iter().any(|r| r == p) {
                acc.reveals.get(*p).and_then(|l| l.last()).cloned()
            } else {
                None
            },
        })
        .collect();
    let Some(status) = status else {
        return RoundState {
            round: name.to_owned(),
            status: "void",
            parties: seed_parties,
            combined_seed: None,
            candidates_fixed_by: None,
            draws: Vec::new(),
        };
    };
    for (fault, at) in status.faults.iter().zip(&acc.fault_refs) {
        let (party, reason) = match fault {
            RoundFault::EarlyReveal { party } => (party, "early_seed_reveal"),
            RoundFault::BadReveal { party } => (party, "bad_seed_reveal"),
        };
        let mut f = finding(
            party,
            reason,
            Severity::Violation,
            format!("round {name:?}: {fault}"),
            vec![at.clone()],
        );
        f.evidence.insert("round".into(), json!(name));
        findings.push(f);
    }
    let void = status.is_void();
    if !void && !status.revealed.is_empty() {
        for p in &status.awaiting_reveal {
            let mut records: Vec<RecordRef> = acc.commits.get(p).cloned().into_iter().collect();
            for r in &status.revealed {
                records.extend(acc.reveals.get(r).and_then(|l| l.last()).cloned());
            }
            let mut f = finding(
                p,
                "seed_not_revealed",
                Severity::Pending,
                format!(
                    "round {name:?}: {p} committed to a seed but has not revealed it, though {} {} revealed theirs; the round has no draw until it does",
                    status.revealed.join(" and "),
                    if status.revealed.len() == 1 {
                        "has"
                    } else {
                        "have"
                    }
                ),
                records,
            );
            f.evidence.insert("round".into(), json!(name));
            findings.push(f);
        }
    }
    let label = if void {
        "void"
    } else if status.is_complete() {
        "complete"
    } else if !status.awaiting_commitment.is_empty() {
        "awaiting_commitment"
    } else {
        "awaiting_reveal"
    };
    let mut draws = Vec::new();
    if let (Some(combined), Some((_, candidates))) = (status.combined, &acc.frozen) {
        for c in candidates {
            if let Ok(order) = draw_sites(&combined, &c.sites, c.sites.len()) {
                draws.push(DrawState {
                    party: c.party.clone(),
                    region: c.region.clone(),
                    candidates: c.sites.len() as u64,
                    first: order.iter().take(DRAW_LISTED).cloned().collect(),
                    order,
                });
            }
        }
    }
    RoundState {
        round: name.to_owned(),
        status: label,
        parties: seed_parties,
        combined_seed: status.combined.map(|h| hex(&h)),
        candidates_fixed_by: acc.frozen.as_ref().map(|(at, _)| at.clone()),
        draws,
    }
}

fn inspection_state(
    at: &RecordRef,
    report: &InspectionReport,
    checks: &BTreeMap<String, Vec<(Commitment, CommitCheck)>>,
    rounds: &[RoundState],
    findings: &mut Vec<VerificationFinding>,
) -> InspectionState {
    let mut state = InspectionState {
        record: at.clone(),
        inspector: report.inspector.clone(),
        inspected: report.inspected.clone(),
        site: report.site.clone(),
        date: report.date.clone(),
        region: None,
        status: "no_declaration",
        found: report.found.len() as u64,
        findings: 0,
        drawn: Vec::new(),
    };
    // The declaration in force on the inspection date: the latest commitment as of then.
    let Some((_, check)) = checks.get(&report.inspected).and_then(|list| {
        list.iter()
            .rev()
            .find(|(c, _)| c.as_of.as_str() <= report.date.as_str())
    }) else {
        return state;
    };
    let mut declared: Vec<Item> = Vec::new();
    let mut declared_refs: BTreeMap<&str, &RecordRef> = BTreeMap::new();
    for region in &check.regions {
        for (item, r) in &region.items {
            if item.site() == report.site {
                if state.region.is_none() {
                    state.region = Some(region.region.clone());
                }
                declared.push(item.clone());
                declared_refs.insert(item.id.as_str(), r);
            }
        }
    }
    for round in rounds {
        if let Some(region) = &state.region
            && let Some(d) = round
                .draws
                .iter()
                .find(|d| d.party == report.inspected && d.region == *region)
            && let Some(p) = d.order.iter().position(|s| *s == report.site)
        {
            state.drawn.push(DrawnAt {
                round: round.round.clone(),
                position: p as u64 + 1,
            });
        }
    }
    if declared.is_empty() && !check.coverage.is_complete() {
        state.status = "site_not_revealed";
        return state;
    }
    state.status = "reconciled";
    for f in reconcile(report, &declared) {
        let mut records = vec![at.clone()];
        if let InspectionFinding::MissingItem { id, .. }
        | InspectionFinding::AttributeMismatch { id, .. } = &f
            && let Some(r) = declared_refs.get(id.as_str())
        {
            records.push((*r).clone());
        }
        let mut vf = finding(
            &report.inspected,
            f.code(),
            Severity::Violation,
            format!(
                "{} (inspection by {} at site {:?} on {})",
                f, report.inspector, report.site, report.date
            ),
            records,
        );
        vf.ids = f.ids();
        vf.evidence.insert("site".into(), json!(report.site));
        vf.evidence.insert("date".into(), json!(report.date));
        vf.evidence
            .insert("inspector".into(), json!(report.inspector));
        if let InspectionFinding::UndeclaredItem {
            found, category, ..
        } = &f
        {
            vf.evidence.insert("found".into(), json!(found));
            vf.evidence.insert("category".into(), json!(category));
        }
        if let InspectionFinding::AttributeMismatch {
            found,
            attribute,
            declared,
            observed,
            ..
        } = &f
        {
            vf.evidence.insert("found".into(), json!(found));
            vf.evidence.insert("attribute".into(), json!(attribute));
            vf.evidence.insert(
                "declared".into(),
                declared
                    .as_ref()
                    .map_or(Value::Null, |v| json!(v.to_string())),
            );
            vf.evidence
                .insert("observed".into(), json!(observed.to_string()));
        }
        findings.push(vf);
        state.findings += 1;
    }
    state
}

fn detection(region: Option<&str>, sites: u64, inspected: u64, hidden: u64) -> Detection {
    Detection {
        region: region.map(str::to_owned),
        sites,
        inspected,
        hidden,
        probability: detection_probability(sites, hidden, inspected)
            .ok()
            .map(round_to_micro),
    }
}
