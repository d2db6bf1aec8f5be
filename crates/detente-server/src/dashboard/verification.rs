//! Verification: per party, what it committed to (the escrow of its item-level declaration),
//! what it has revealed and whether that checks, where the revealed items are, the
//! inspections of it and what they found, how likely the inspections so far were to catch
//! hiding sites, and the limits it proved without disclosure; then the seed rounds that drew
//! the inspection sites. Everything is computed by the node from the verification records
//! of the logs it holds ([`Node::verification_state`](detente_node::Node)), and every record
//! named links to its entry and its receipt.
//!
//! The as-of bar replays the logs to a checkpoint (the records up to it) and sets the
//! instant the proved limits' findings are assessed at. `hidden=K` sets the number of
//! hiding sites assumed for the detection probability (default 1); each party's form
//! changes it through htmx (`/dashboard/verification/detection` answers the fragment).

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use detente_assess::report::{Finding, Status};
use detente_node::facts::{LogFacts, LogInput};
use detente_node::home::hex;
use detente_node::verification::state::{
    CommitmentState, Detection, InspectionState, PartyState, ProofState, RoundState,
    VerificationFinding, logged_records,
};
use detente_node::verification::{
    PROVED_WITHOUT_DISCLOSURE, Record, RecordRef, Severity, StateOptions, VerificationState,
    apply_limit_proofs, read_verification,
};
use detente_node::{Node, NodeError, Store};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::asof::{self, AsOf, AsOfForm};
use super::{Layout, Viewer, error_page, format, node_error, render};
use crate::AppState;

/// The most hiding sites the detection form accepts (the probability is exact for any
/// number, but more sites than any party has mean nothing).
pub const MAX_HIDDEN: u64 = 1_000_000_000;
/// How many region colours the stylesheet has (`r0` … `r5`).
const REGION_COLOURS: usize = 6;

/// A record named on the page: its entry and its receipt.
#[derive(Debug, Clone)]
pub struct RecordLink {
    pub label: String,
    pub href: String,
    pub receipt: String,
}

fn link<S: Store>(node: &Node<S>, r: &RecordRef) -> RecordLink {
    let q = format!("origin={}&index={}", format::encode(&r.origin), r.index);
    let party = node
        .network()
        .party_of_origin(&r.origin)
        .map_or_else(|| r.origin.clone(), |p| p.name.clone());
    RecordLink {
        label: format!("{party} #{}", r.index),
        href: format!("/dashboard/fact?{q}"),
        receipt: format!("/api/v1/receipt?{q}"),
    }
}

#[derive(Debug, Clone)]
pub struct FindingRow {
    pub reason: String,
    pub severity: &'static str,
    pub class: &'static str,
    pub mark: &'static str,
    pub detail: String,
    pub ids: Vec<String>,
    pub records: Vec<RecordLink>,
}

fn finding_row<S: Store>(node: &Node<S>, f: &VerificationFinding) -> FindingRow {
    let violation = f.severity == Severity::Violation;
    FindingRow {
        reason: f.reason.to_owned(),
        severity: if violation { "violation" } else { "pending" },
        class: if violation {
            "st-violation"
        } else {
            "st-pending"
        },
        mark: if violation { "✗" } else { "…" },
        detail: f.detail.clone(),
        ids: f.ids.clone(),
        records: f.records.iter().map(|r| link(node, r)).collect(),
    }
}

#[derive(Debug, Clone)]
pub struct RegionRow {
    pub region: String,
    pub class: String,
    pub records: Vec<RecordLink>,
    /// The count committed for the region, or why there is none.
    pub committed: String,
    pub revealed: u64,
    pub sites: u64,
    pub clean: bool,
    pub findings: usize,
}

#[derive(Debug, Clone)]
pub struct CommitmentRow {
    pub record: RecordLink,
    pub as_of: String,
    pub total: u64,
    pub root: String,
    pub root_short: String,
    /// (region, count), or empty when the party withheld them.
    pub counts: Vec<(String, u64)>,
    pub revealed: u64,
    pub latest: bool,
    pub regions: Vec<RegionRow>,
    /// What is not revealed yet, in words.
    pub unrevealed: Vec<String>,
}

/// One mark on a map: a site (or a region, on the overview).
#[derive(Debug, Clone)]
pub struct Mark {
    pub x: String,
    pub y: String,
    pub r: String,
    /// A ring around an inspected site: `visited` (as declared) or `flagged` (with
    /// findings), or empty.
    pub ring: &'static str,
    pub ring_r: String,
    pub class: String,
    pub title: String,
    pub label: String,
    pub label_x: String,
    pub label_y: String,
}

#[derive(Debug, Clone)]
pub struct MapView {
    pub view_box: String,
    /// Graticule path data every few degrees within the view.
    pub grat: String,
    pub font: String,
    pub marks: Vec<Mark>,
    pub caption: String,
}

/// A region's sites, drawn on their own (a site plan): the world outline is far too
/// coarse at that scale.
#[derive(Debug, Clone)]
pub struct SitePlan {
    pub region: String,
    /// Where the plan is, in words (the mean of its sites).
    pub centre: String,
    pub class: String,
    pub marks: Vec<Mark>,
    pub scale_x2: String,
    pub scale_label: String,
    pub unlocated: usize,
}

#[derive(Debug, Clone)]
pub struct Outcome {
    pub reason: String,
    pub ids: Vec<String>,
    pub detail: String,
    pub records: Vec<RecordLink>,
}

#[derive(Debug, Clone)]
pub struct InspectionRow {
    pub record: RecordLink,
    pub inspector: String,
    pub site: String,
    pub date: String,
    pub region: String,
    pub status: String,
    pub status_class: &'static str,
    pub drawn: Vec<String>,
    pub found: u64,
    pub outcomes: Vec<Outcome>,
}

#[derive(Debug, Clone)]
pub struct DetectionRow {
    pub region: String,
    pub sites: u64,
    pub inspected: u64,
    pub probability: String,
}

/// A party's detection table and the form that changes `k` (the htmx fragment).
#[derive(Debug, Clone)]
pub struct DetectionView {
    pub party: String,
    pub anchor: String,
    pub hidden: u64,
    pub rows: Vec<DetectionRow>,
    /// The as-of selection the form keeps.
    pub keep: Vec<(String, String)>,
    pub error: String,
}

#[derive(Debug, Clone)]
pub struct OpeningRow {
    pub record: RecordLink,
    pub value: u64,
    pub matches: bool,
}

#[derive(Debug, Clone)]
pub struct ProofRow {
    pub record: RecordLink,
    pub provision: String,
    pub provision_href: String,
    pub bound: u64,
    pub as_of: String,
    pub verified: bool,
    pub error: String,
    pub openings: Vec<OpeningRow>,
    /// The finding for the provision at the instant, in words, and its class.
    pub finding: String,
    pub finding_class: &'static str,
    /// How the finding stands on this proof.
    pub finding_note: String,
}

#[derive(Debug, Clone)]
pub struct PartyView {
    pub party: String,
    pub anchor: String,
    /// Nothing committed, inspected, proved or found about the party.
    pub empty: bool,
    pub violations: usize,
    pub pending: usize,
    pub commitments: Vec<CommitmentRow>,
    pub map: Option<MapView>,
    pub plans: Vec<SitePlan>,
    pub legend: Vec<(String, String)>,
    pub inspections: Vec<InspectionRow>,
    pub detection: DetectionView,
    pub proofs: Vec<ProofRow>,
    pub findings: Vec<FindingRow>,
}

#[derive(Debug, Clone)]
pub struct SeedRow {
    pub party: String,
    pub committed: Option<RecordLink>,
    pub revealed: Option<RecordLink>,
}

#[derive(Debug, Clone)]
pub struct DrawRow {
    pub party: String,
    pub region: String,
    pub candidates: u64,
    /// (site, inspected) in draw order.
    pub sites: Vec<(String, bool)>,
    pub more: u64,
}

#[derive(Debug, Clone)]
pub struct RoundView {
    pub round: String,
    pub status: String,
    pub class: &'static str,
    pub parties: Vec<SeedRow>,
    pub combined_seed: String,
    pub fixed_by: Option<RecordLink>,
    pub draws: Vec<DrawRow>,
}

#[derive(askama::Template)]
#[template(path = "verification.html")]
struct VerificationPage {
    layout: Layout,
    asof: AsOfForm,
    parties: Vec<PartyView>,
    rounds: Vec<RoundView>,
    summary: Vec<(String, u64)>,
    violations: usize,
    pending: usize,
    problems: Vec<String>,
    engine_error: String,
    inputs: Vec<asof::InputLine>,
    /// The instant the proved limits' findings are assessed at.
    at: String,
}

#[derive(askama::Template)]
#[template(path = "verification_detection.html")]
struct DetectionFragment {
    d: DetectionView,
}

/// The number of hiding sites asked for: `hidden=K`, a whole number from 1.
fn hidden_of(rest: &[(String, String)]) -> Result<u64, String> {
    let Some((_, value)) = rest.iter().rev().find(|(k, _)| k == "hidden") else {
        return Ok(StateOptions::default().hidden);
    };
    let value = value.trim();
    if value.is_empty() {
        return Ok(StateOptions::default().hidden);
    }
    match value.parse::<u64>() {
        Ok(k) if (1..=MAX_HIDDEN).contains(&k) => Ok(k),
        _ => Err(format!(
            "the number of hiding sites is a whole number from 1 to {MAX_HIDDEN}, not `{value}`"
        )),
    }
}

/// The verification records of every log as selected: the latest, or each log up to the
/// checkpoint chosen.
async fn logs_as_of<S: Store>(node: &Node<S>, asof: &AsOf) -> Result<Vec<LogInput>, NodeError> {
    let mut logs = node.verification_logs().await?;
    if asof.replays() {
        logs.retain_mut(|l| match asof.sizes.get(&l.party) {
            Some(0) => false,
            Some(size) => {
                l.entries.retain(|e| e.index < *size);
                true
            }
            None => true,
        });
    }
    Ok(logs)
}

/// The verified limit proofs as selected, for the pages whose findings must read
/// "proved without disclosure" like this one's (the overview, the provision pages).
pub(super) async fn limit_proofs_as_of<S: Store>(
    node: &Node<S>,
    asof: &AsOf,
    facts: &LogFacts,
) -> Result<Vec<detente_node::verification::ProofState>, NodeError> {
    let logs = logs_as_of(node, asof).await?;
    Ok(state_of(node, asof, &logs, facts, 1).limit_proofs)
}

/// The state as selected, naming the checkpoints it was read at.
fn state_of<S: Store>(
    node: &Node<S>,
    asof: &AsOf,
    logs: &[LogInput],
    facts: &LogFacts,
    hidden: u64,
) -> VerificationState {
    let mut state = read_verification(logs, &node.treaty().treaty, &StateOptions { hidden });
    if asof.replays() {
        state.inputs.clone_from(&facts.inputs);
    }
    state
}

/// `GET /dashboard/verification`.
pub async fn page<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    viewer: Viewer,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let node = &state.node;
    let (asof, rest) = match AsOf::parse(node, pairs) {
        Ok(parsed) => parsed,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, e),
    };
    let hidden = match hidden_of(&rest) {
        Ok(k) => k,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, e),
    };
    let facts = match asof.facts(node).await {
        Ok(f) => f,
        Err(e) => return node_error(e),
    };
    let mut form = match asof::form(node, &asof, "/dashboard/verification", &facts).await {
        Ok(f) => f,
        Err(e) => return node_error(e),
    };
    if hidden != StateOptions::default().hidden {
        form.hidden.push(("hidden".to_owned(), hidden.to_string()));
    }
    let logs = match logs_as_of(node, &asof).await {
        Ok(l) => l,
        Err(e) => return node_error(e),
    };
    let vstate = state_of(node, &asof, &logs, &facts, hidden);
    let (findings, engine_error) = match limit_findings(node, &facts, &asof, &vstate) {
        Ok(f) => (f, String::new()),
        Err(e) => (
            Vec::new(),
            format!("the findings of the proved limits could not be computed: {e}"),
        ),
    };
    let reveals = revealed_items(&logs);
    let parties = node
        .treaty()
        .treaty
        .parties
        .iter()
        .map(|p| party_view(node, &asof, &vstate, &reveals, &findings, p))
        .collect();
    let rounds = vstate
        .rounds
        .iter()
        .map(|r| round_view(node, r, &vstate.inspections))
        .collect();
    let page = VerificationPage {
        layout: Layout::new(
            &state,
            &viewer,
            "Verification",
            "verification",
            &asof.query(),
        ),
        asof: form,
        parties,
        rounds,
        summary: vstate
            .summary
            .iter()
            .map(|(k, v)| ((*k).to_owned(), *v))
            .collect(),
        violations: vstate
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Violation)
            .count(),
        pending: vstate
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Pending)
            .count(),
        problems: vstate.problems.iter().map(ToString::to_string).collect(),
        engine_error,
        at: format::instant_short(asof.at),
        inputs: vstate
            .inputs
            .iter()
            .map(|i| asof::InputLine {
                name: i.name.clone(),
                size: i.records,
                root: i.sha256.clone(),
            })
            .collect(),
    };
    render(&page)
}

/// `GET /dashboard/verification/detection?party=P&hidden=K`: one party's detection table,
/// for htmx to swap in. A bad `K` is said inside the fragment.
pub async fn detection<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    _viewer: Viewer,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let node = &state.node;
    let (asof, rest) = match AsOf::parse(node, pairs) {
        Ok(parsed) => parsed,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, e),
    };
    let Some(party) = rest
        .iter()
        .find(|(k, _)| k == "party")
        .map(|(_, v)| v.clone())
        .filter(|p| node.network().party(p).is_some())
    else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "the detection table is of a party: `party` names one of the network's",
        );
    };
    let (hidden, error) = match hidden_of(&rest) {
        Ok(k) => (k, String::new()),
        Err(e) => (StateOptions::default().hidden, e),
    };
    let facts = match asof.facts(node).await {
        Ok(f) => f,
        Err(e) => return node_error(e),
    };
    let logs = match logs_as_of(node, &asof).await {
        Ok(l) => l,
        Err(e) => return node_error(e),
    };
    let vstate = state_of(node, &asof, &logs, &facts, hidden);
    let mut d = detection_view(
        &asof,
        &party,
        hidden,
        vstate.parties.iter().find(|p| p.party == party),
    );
    d.error = error;
    render(&DetectionFragment { d })
}

/// The report's findings at the instant, with the verified limit proofs applied (as
/// `Node::report_with_verification` does, at the selection).
fn limit_findings<S: Store>(
    node: &Node<S>,
    facts: &LogFacts,
    asof: &AsOf,
    vstate: &VerificationState,
) -> Result<Vec<Finding>, String> {
    let engine = asof::engine(node, facts, &asof.options())?;
    let mut report = engine.assess(asof.at);
    apply_limit_proofs(&mut report, &vstate.limit_proofs);
    Ok(report.findings)
}

/// A revealed item where it is: its region, id, category and site, and its location.
#[derive(Debug, Clone)]
struct Placed {
    id: String,
    category: String,
    site: String,
    location: Option<(f64, f64)>,
}

/// The items of every reveal record, by the record.
fn revealed_items(logs: &[LogInput]) -> BTreeMap<RecordRef, Vec<Placed>> {
    let (records, _) = logged_records(logs);
    records
        .into_iter()
        .filter_map(|r| match r.record {
            Record::Reveal(reveal) => Some((
                r.at,
                reveal
                    .items
                    .iter()
                    .map(|it| Placed {
                        id: it.item.id.clone(),
                        category: it.item.category.clone(),
                        site: it.item.site().to_owned(),
                        location: it.item.location.map(|l| (l.lat(), l.lon())),
                    })
                    .collect(),
            )),
            _ => None,
        })
        .collect()
}

fn anchor(prefix: &str, name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{prefix}-{safe}")
}

fn percent(p: f64) -> String {
    let pct = p * 100.0;
    if pct > 0.0 && pct < 0.1 {
        format!("{pct:.4}%")
    } else {
        format!("{pct:.1}%")
    }
}

fn detection_view(
    asof: &AsOf,
    party: &str,
    hidden: u64,
    state: Option<&PartyState>,
) -> DetectionView {
    let rows = state
        .map(|s| s.detection.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|d: &Detection| DetectionRow {
            region: d
                .region
                .clone()
                .unwrap_or_else(|| "all revealed regions".to_owned()),
            sites: d.sites,
            inspected: d.inspected,
            probability: d.probability.map_or_else(
                || {
                    format!(
                        "— ({} hiding sites assumed, only {} revealed)",
                        d.hidden, d.sites
                    )
                },
                percent,
            ),
        })
        .collect();
    let keep = asof
        .pairs()
        .into_iter()
        .filter(|(k, _)| k == "at" || k.starts_with("cp_"))
        .collect();
    DetectionView {
        party: party.to_owned(),
        anchor: anchor("detection", party),
        hidden,
        rows,
        keep,
        error: String::new(),
    }
}

fn party_view<S: Store>(
    node: &Node<S>,
    asof: &AsOf,
    vstate: &VerificationState,
    reveals: &BTreeMap<RecordRef, Vec<Placed>>,
    report: &[Finding],
    party: &str,
) -> PartyView {
    let state = vstate.parties.iter().find(|p| p.party == party);
    let mine: Vec<&VerificationFinding> = vstate
        .findings
        .iter()
        .filter(|f| f.party == party)
        .collect();
    let commitments: Vec<&CommitmentState> = state
        .map(|s| s.commitments.iter().collect())
        .unwrap_or_default();
    let latest = commitments.last().copied();

    // Regions are coloured in the order of the latest commitment's regions.
    let mut colours: BTreeMap<String, String> = BTreeMap::new();
    for c in commitments.iter().rev() {
        for r in &c.regions {
            let n = colours.len() % REGION_COLOURS;
            colours
                .entry(r.region.clone())
                .or_insert_with(|| format!("r{n}"));
        }
    }
    let colour = |region: &str| colours.get(region).cloned().unwrap_or_default();

    let commitment_rows = commitments
        .iter()
        .map(|c| commitment_row(node, c, latest == Some(*c), &mine, &colour))
        .collect();

    // Inspections of the party, and the sites inspected (with findings or not).
    let inspections: Vec<&InspectionState> = vstate
        .inspections
        .iter()
        .filter(|i| i.inspected == party)
        .collect();
    let mut inspected: BTreeMap<String, bool> = BTreeMap::new();
    let inspection_rows = inspections
        .iter()
        .map(|i| {
            let outcomes: Vec<Outcome> = mine
                .iter()
                .filter(|f| {
                    matches!(
                        f.reason,
                        "undeclared_item" | "missing_item" | "attribute_mismatch"
                    ) && f.records.first() == Some(&i.record)
                })
                .map(|f| Outcome {
                    reason: f.reason.to_owned(),
                    ids: f.ids.clone(),
                    detail: f.detail.clone(),
                    records: f.records.iter().map(|r| link(node, r)).collect(),
                })
                .collect();
            if i.status == "reconciled" {
                let slot = inspected.entry(i.site.clone()).or_insert(false);
                *slot |= !outcomes.is_empty();
            }
            let (status, status_class) = match i.status {
                "reconciled" if outcomes.is_empty() => {
                    ("✓ reconciled: as declared".to_owned(), "st-compliant")
                }
                "reconciled" => (
                    format!(
                        "✗ reconciled: {}",
                        format::count_of(outcomes.len(), "finding", "findings")
                    ),
                    "st-violation",
                ),
                "site_not_revealed" => (
                    "… site not revealed yet (reconciled once it is)".to_owned(),
                    "st-pending",
                ),
                "no_declaration" => (
                    "? no commitment as of the inspection date".to_owned(),
                    "st-nodata",
                ),
                other => (other.replace('_', " "), "st-pending"),
            };
            InspectionRow {
                record: link(node, &i.record),
                inspector: i.inspector.clone(),
                site: i.site.clone(),
                date: i.date.clone(),
                region: i.region.clone().unwrap_or_default(),
                status,
                status_class,
                drawn: i
                    .drawn
                    .iter()
                    .map(|d| format!("{} in round {}", ordinal(d.position), d.round))
                    .collect(),
                found: i.found,
                outcomes,
            }
        })
        .collect();

    // The map and the site plans of the latest commitment's revealed regions.
    let mut sites: Vec<SiteMark> = Vec::new();
    if let Some(c) = latest {
        for region in &c.regions {
            let mut seen: BTreeSet<&str> = BTreeSet::new();
            let mut by_site: BTreeMap<&str, Vec<&Placed>> = BTreeMap::new();
            for r in &region.records {
                for item in reveals.get(r).map(Vec::as_slice).unwrap_or_default() {
                    if seen.insert(item.id.as_str()) {
                        by_site.entry(item.site.as_str()).or_default().push(item);
                    }
                }
            }
            for (site, items) in by_site {
                let located: Vec<(f64, f64)> = items.iter().filter_map(|i| i.location).collect();
                let n = located.len() as f64;
                let location = (!located.is_empty()).then(|| {
                    (
                        located.iter().map(|p| p.0).sum::<f64>() / n,
                        located.iter().map(|p| p.1).sum::<f64>() / n,
                    )
                });
                sites.push(SiteMark {
                    region: region.region.clone(),
                    class: colour(&region.region),
                    site: site.to_owned(),
                    items: items
                        .iter()
                        .map(|i| format!("{} ({})", i.id, i.category))
                        .collect(),
                    location,
                    inspected: inspected.get(site).copied(),
                });
            }
        }
    }
    let map = overview_map(&sites);
    let plans = site_plans(&sites);
    let mut legend: Vec<(String, String)> = colours
        .iter()
        .map(|(region, class)| (class.clone(), region.clone()))
        .collect();
    legend.sort();

    let proofs = vstate
        .limit_proofs
        .iter()
        .filter(|p| p.party == party)
        .map(|p| proof_row(node, asof, p, report))
        .collect();

    PartyView {
        empty: commitments.is_empty()
            && inspections.is_empty()
            && mine.is_empty()
            && !vstate.limit_proofs.iter().any(|p| p.party == party),
        party: party.to_owned(),
        anchor: anchor("party", party),
        violations: mine
            .iter()
            .filter(|f| f.severity == Severity::Violation)
            .count(),
        pending: mine
            .iter()
            .filter(|f| f.severity == Severity::Pending)
            .count(),
        commitments: commitment_rows,
        map,
        plans,
        legend,
        inspections: inspection_rows,
        detection: detection_view(asof, party, vstate.hidden, state),
        proofs,
        findings: mine.iter().map(|f| finding_row(node, f)).collect(),
    }
}

fn ordinal(n: u64) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("drawn {n}{suffix}")
}

fn commitment_row<S: Store>(
    node: &Node<S>,
    c: &CommitmentState,
    latest: bool,
    findings: &[&VerificationFinding],
    colour: &dyn Fn(&str) -> String,
) -> CommitmentRow {
    let region_findings = |region: &str| {
        findings
            .iter()
            .filter(|f| {
                matches!(f.reason, "reveal_mismatch" | "incomplete_reveal")
                    && f.records.contains(&c.record)
                    && f.evidence.get("region").and_then(|v| v.as_str()) == Some(region)
            })
            .count()
    };
    let counts: Vec<(String, u64)> = c
        .region_counts
        .as_ref()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), *v)).collect())
        .unwrap_or_default();
    let revealed_names: BTreeSet<&str> = c.regions.iter().map(|r| r.region.as_str()).collect();
    let mut unrevealed: Vec<String> = counts
        .iter()
        .filter(|(region, _)| !revealed_names.contains(region.as_str()))
        .map(|(region, n)| {
            format!(
                "region {region}: {} committed, not revealed yet",
                format::count_of(usize::try_from(*n).unwrap_or(usize::MAX), "item", "items")
            )
        })
        .collect();
    // With the counts published, the regions not revealed say where the rest is; a range
    // is then worth a line only if it is an omission from a revealed region.
    for u in c
        .unrevealed
        .iter()
        .filter(|u| counts.is_empty() || u.within.is_some())
    {
        let span = u.end.saturating_sub(u.start);
        let positions = if span == 1 {
            format!("position {}", u.start + 1)
        } else {
            format!("positions {}–{}", u.start + 1, u.end)
        };
        unrevealed.push(match &u.within {
            Some(region) => format!(
                "{positions} of the committed list ({span} items) lie within region {region}'s revealed items but were not revealed: an omission"
            ),
            None => format!(
                "{positions} of the committed list ({span} items) are not revealed yet (between or beside the regions revealed)"
            ),
        });
    }
    CommitmentRow {
        record: link(node, &c.record),
        as_of: c.as_of.clone(),
        total: c.total,
        root_short: format::short_hash(&c.root),
        root: c.root.clone(),
        counts,
        revealed: c.revealed,
        latest,
        regions: c
            .regions
            .iter()
            .map(|r| RegionRow {
                region: r.region.clone(),
                class: colour(&r.region),
                records: r.records.iter().map(|x| link(node, x)).collect(),
                committed: r
                    .committed
                    .map_or_else(|| "not published".to_owned(), |n| n.to_string()),
                revealed: r.revealed,
                sites: r.sites,
                clean: r.clean,
                findings: region_findings(&r.region),
            })
            .collect(),
        unrevealed,
    }
}

fn proof_row<S: Store>(
    node: &Node<S>,
    asof: &AsOf,
    p: &ProofState,
    report: &[Finding],
) -> ProofRow {
    let provision = node.treaty().treaty.provision(&p.provision);
    let finding = report
        .iter()
        .find(|f| f.provision == p.provision && f.party == p.party);
    let by_this = finding
        .and_then(|f| f.evidence.get("proof"))
        .is_some_and(|e| {
            e.get("origin").and_then(|v| v.as_str()) == Some(p.record.origin.as_str())
                && e.get("index").and_then(|v| v.as_u64()) == Some(p.record.index)
        });
    let at = format::instant_short(asof.at);
    let (text, class, note) = match finding {
        None if provision.is_none() => (
            "—".to_owned(),
            "",
            format!(
                "`{}` is not a provision of the treaty: the proof applies to no finding",
                p.provision
            ),
        ),
        None => (
            "—".to_owned(),
            "",
            format!("no finding for {} at {at}", p.party),
        ),
        Some(f) => {
            let note = if by_this {
                format!("{PROVED_WITHOUT_DISCLOSURE}: this proof establishes it")
            } else if !p.verified {
                "the proof does not verify and counts for nothing".to_owned()
            } else if p.as_of.as_str() > at.get(..10).unwrap_or_default() {
                format!("the proof is as of {}, after {at}", p.as_of)
            } else if matches!(f.status, Status::Violation) && !p.openings.is_empty() {
                "an opening of the proof breaks the limit".to_owned()
            } else if f.value.is_some() {
                "assessed from declared values".to_owned()
            } else {
                "not established by this proof".to_owned()
            };
            (
                format!(
                    "{} {}",
                    format::status_mark(f.status),
                    format::status_label(f.status)
                ),
                format::status_class(f.status),
                note,
            )
        }
    };
    ProofRow {
        record: link(node, &p.record),
        provision_href: provision
            .map(|x| {
                format!(
                    "/dashboard/provision/{}?{}",
                    format::encode(&x.id),
                    asof.query()
                )
            })
            .unwrap_or_default(),
        provision: p.provision.clone(),
        bound: p.bound,
        as_of: p.as_of.clone(),
        verified: p.verified,
        error: p.error.clone().unwrap_or_default(),
        openings: p
            .openings
            .iter()
            .map(|o| OpeningRow {
                record: link(node, &o.record),
                value: o.value,
                matches: o.matches,
            })
            .collect(),
        finding: text,
        finding_class: class,
        finding_note: note,
    }
}

fn round_view<S: Store>(
    node: &Node<S>,
    r: &RoundState,
    inspections: &[InspectionState],
) -> RoundView {
    let (status, class) = match r.status {
        "complete" => ("✓ complete", "st-compliant"),
        "awaiting_commitment" => ("… awaiting a seed commitment", "st-pending"),
        "awaiting_reveal" => ("… awaiting a seed reveal", "st-pending"),
        "void" => ("✗ void", "st-violation"),
        other => (other, "st-pending"),
    };
    RoundView {
        round: r.round.clone(),
        status: status.to_owned(),
        class,
        parties: r
            .parties
            .iter()
            .map(|p| SeedRow {
                party: p.party.clone(),
                committed: p.committed.as_ref().map(|x| link(node, x)),
                revealed: p.revealed.as_ref().map(|x| link(node, x)),
            })
            .collect(),
        combined_seed: r.combined_seed.clone().unwrap_or_default(),
        fixed_by: r.candidates_fixed_by.as_ref().map(|x| link(node, x)),
        draws: r
            .draws
            .iter()
            .map(|d| {
                let visited: BTreeSet<&str> = inspections
                    .iter()
                    .filter(|i| i.inspected == d.party && i.region.as_deref() == Some(&d.region))
                    .map(|i| i.site.as_str())
                    .collect();
                DrawRow {
                    party: d.party.clone(),
                    region: d.region.clone(),
                    candidates: d.candidates,
                    sites: d
                        .first
                        .iter()
                        .map(|s| (s.clone(), visited.contains(s.as_str())))
                        .collect(),
                    more: d.candidates.saturating_sub(d.first.len() as u64),
                }
            })
            .collect(),
    }
}

// ----- the maps ---------------------------------------------------------------------------

/// A site of a revealed region.
#[derive(Debug, Clone)]
struct SiteMark {
    region: String,
    class: String,
    site: String,
    items: Vec<String>,
    /// (lat, lon), the mean of its items' locations.
    location: Option<(f64, f64)>,
    /// Whether it was inspected (and then whether with findings).
    inspected: Option<bool>,
}

fn num(v: f64) -> String {
    let text = format!("{v:.4}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".to_owned()
    } else {
        text.to_owned()
    }
}

/// `45°E`, `12°S`, `0°`, rounded to a whole degree.
fn degrees(v: f64, positive: char, negative: char) -> String {
    let d = v.round();
    if d == 0.0 {
        "0°".to_owned()
    } else if d > 0.0 {
        format!("{d}°{positive}")
    } else {
        format!("{}°{negative}", -d)
    }
}

fn site_title(s: &SiteMark) -> String {
    let shown: Vec<&str> = s.items.iter().take(8).map(String::as_str).collect();
    format!(
        "site {} (region {}): {}{}{}",
        s.site,
        s.region,
        shown.join(", "),
        if s.items.len() > shown.len() {
            format!(" and {} more", s.items.len() - shown.len())
        } else {
            String::new()
        },
        match s.inspected {
            Some(true) => " — inspected, with findings",
            Some(false) => " — inspected, as declared",
            None => "",
        }
    )
}

fn site_ring(s: &SiteMark) -> &'static str {
    match s.inspected {
        Some(true) => "flagged",
        Some(false) => "visited",
        None => "",
    }
}

fn site_class(s: &SiteMark) -> String {
    format!(
        "site {}{}",
        s.class,
        match s.inspected {
            Some(true) => " flagged",
            Some(false) => " visited",
            None => "",
        }
    )
}

/// The revealed regions on the world outline, zoomed to them: one ring per region (its
/// sites are too close together to tell apart at this scale; the site plans show them).
fn overview_map(sites: &[SiteMark]) -> Option<MapView> {
    let located: Vec<(&SiteMark, (f64, f64))> = sites
        .iter()
        .filter_map(|s| s.location.map(|l| (s, l)))
        .collect();
    if located.is_empty() {
        return None;
    }
    let (mut lat_min, mut lat_max, mut lon_min, mut lon_max) =
        (90.0f64, -90.0f64, 180.0f64, -180.0f64);
    for (_, (lat, lon)) in &located {
        lat_min = lat_min.min(*lat);
        lat_max = lat_max.max(*lat);
        lon_min = lon_min.min(*lon);
        lon_max = lon_max.max(*lon);
    }
    // At least 40° wide (the outline is 1:110m), 2:1, and inside the world.
    let mut w = ((lon_max - lon_min) * 1.5).max(40.0);
    let mut h = w / 2.0;
    if (lat_max - lat_min) * 1.5 > h {
        h = (lat_max - lat_min) * 1.5;
        w = h * 2.0;
    }
    let (w, h) = (w.min(360.0), h.min(180.0));
    let cx = (lon_min + lon_max) / 2.0 + 180.0;
    let cy = 90.0 - (lat_min + lat_max) / 2.0;
    let x0 = (cx - w / 2.0).clamp(0.0, 360.0 - w);
    let y0 = (cy - h / 2.0).clamp(0.0, 180.0 - h);
    let step = if w > 120.0 { 30.0 } else { 10.0 };
    let mut grat = String::new();
    let mut g = (x0 / step).ceil() * step;
    while g < x0 + w {
        grat.push_str(&format!("M{} {}V{}", num(g), num(y0), num(y0 + h)));
        g += step;
    }
    let mut g = (y0 / step).ceil() * step;
    while g < y0 + h {
        grat.push_str(&format!("M{} {}H{}", num(x0), num(g), num(x0 + w)));
        g += step;
    }
    // One ring per region, around the mean of its sites, and a dot per site.
    struct RegionAcc {
        class: String,
        points: Vec<(f64, f64)>,
        items: usize,
    }
    let mut regions: BTreeMap<&str, RegionAcc> = BTreeMap::new();
    for (s, l) in &located {
        let entry = regions
            .entry(s.region.as_str())
            .or_insert_with(|| RegionAcc {
                class: s.class.clone(),
                points: Vec::new(),
                items: 0,
            });
        entry.points.push(*l);
        entry.items += s.items.len();
    }
    let unit = w / 100.0;
    let mut marks = Vec::new();
    for (region, acc) in &regions {
        let (class, points, n_sites, n_items) =
            (&acc.class, &acc.points, acc.points.len(), acc.items);
        let n = points.len() as f64;
        let lat = points.iter().map(|p| p.0).sum::<f64>() / n;
        let lon = points.iter().map(|p| p.1).sum::<f64>() / n;
        let (x, y) = (lon + 180.0, 90.0 - lat);
        marks.push(Mark {
            x: num(x),
            y: num(y),
            r: num(unit * 1.6),
            ring: "",
            ring_r: String::new(),
            class: format!("region-ring {class}"),
            title: format!(
                "region {region}: {} at {}",
                format::count_of(n_items, "item", "items"),
                format::count_of(n_sites, "site", "sites")
            ),
            label: (*region).to_owned(),
            label_x: num(x + unit * 2.2),
            label_y: num(y + unit * 0.8),
        });
    }
    for (s, (lat, lon)) in &located {
        marks.push(Mark {
            x: num(lon + 180.0),
            y: num(90.0 - lat),
            r: num(unit * 0.45),
            ring: site_ring(s),
            ring_r: num(unit * 0.9),
            class: site_class(s),
            title: site_title(s),
            label: String::new(),
            label_x: String::new(),
            label_y: String::new(),
        });
    }
    Some(MapView {
        view_box: format!("{} {} {} {}", num(x0), num(y0), num(w), num(h)),
        grat,
        font: num(unit * 2.4),
        marks,
        caption: format!(
            "{} to {}, {} to {} (equirectangular; land: Natural Earth 1:110m). One ring per revealed region, around its sites.",
            degrees(x0 - 180.0, 'E', 'W'),
            degrees(x0 + w - 180.0, 'E', 'W'),
            degrees(90.0 - y0 - h, 'N', 'S'),
            degrees(90.0 - y0, 'N', 'S')
        ),
    })
}

/// Each revealed region's sites on a plan of their own: x east, y north, to scale (a
/// local projection: longitude shrunk by the cosine of the latitude), with a scale bar.
fn site_plans(sites: &[SiteMark]) -> Vec<SitePlan> {
    const W: f64 = 160.0;
    const H: f64 = 90.0;
    const PAD: f64 = 14.0;
    const KM_PER_DEGREE: f64 = 111.195;
    let mut by_region: BTreeMap<&str, Vec<&SiteMark>> = BTreeMap::new();
    for s in sites {
        by_region.entry(s.region.as_str()).or_default().push(s);
    }
    let mut plans = Vec::new();
    for (region, list) in by_region {
        let located: Vec<(&SiteMark, (f64, f64))> = list
            .iter()
            .filter_map(|s| s.location.map(|l| (*s, l)))
            .collect();
        let class = list.first().map(|s| s.class.clone()).unwrap_or_default();
        if located.is_empty() {
            plans.push(SitePlan {
                region: region.to_owned(),
                centre: String::new(),
                class,
                marks: Vec::new(),
                scale_x2: String::new(),
                scale_label: String::new(),
                unlocated: list.len(),
            });
            continue;
        }
        let n = located.len() as f64;
        let lat0 = located.iter().map(|(_, l)| l.0).sum::<f64>() / n;
        let k = lat0.to_radians().cos().max(0.01);
        // Kilometres east and north of the first site.
        let (first_lat, first_lon) = located.first().map_or((0.0, 0.0), |(_, l)| *l);
        let xy: Vec<(f64, f64)> = located
            .iter()
            .map(|(_, (lat, lon))| {
                (
                    (lon - first_lon) * k * KM_PER_DEGREE,
                    (lat - first_lat) * KM_PER_DEGREE,
                )
            })
            .collect();
        let (mut x_min, mut x_max, mut y_min, mut y_max) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for (x, y) in &xy {
            x_min = x_min.min(*x);
            x_max = x_max.max(*x);
            y_min = y_min.min(*y);
            y_max = y_max.max(*y);
        }
        // At least 2 km across, so that one site alone is not a division by zero.
        let span_km = ((x_max - x_min) / (W - 2.0 * PAD))
            .max((y_max - y_min) / (H - 2.0 * PAD))
            .max(2.0 / (W - 2.0 * PAD));
        let scale = 1.0 / span_km; // plan units per km
        let (cx, cy) = ((x_min + x_max) / 2.0, (y_min + y_max) / 2.0);
        let marks = located
            .iter()
            .zip(&xy)
            .map(|((s, _), (x, y))| {
                let px = W / 2.0 + (x - cx) * scale;
                let py = H / 2.0 - (y - cy) * scale;
                let r = 1.6 + (s.items.len() as f64).sqrt() * 0.6;
                Mark {
                    x: num(px),
                    y: num(py),
                    r: num(r),
                    ring: site_ring(s),
                    ring_r: num(r + 1.4),
                    class: site_class(s),
                    title: site_title(s),
                    label: s.site.clone(),
                    label_x: num(px),
                    label_y: num(py - r - 2.2),
                }
            })
            .collect();
        // A scale bar of a round length about a quarter of the width.
        let target = (W / 4.0) / scale;
        let bar_km = [
            0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0,
        ]
        .into_iter()
        .rfind(|b| *b <= target)
        .unwrap_or(0.1);
        let lon0 = located.iter().map(|(_, l)| l.1).sum::<f64>() / n;
        plans.push(SitePlan {
            region: region.to_owned(),
            centre: format!(
                "{:.2}°{}, {:.2}°{}",
                lat0.abs(),
                if lat0 < 0.0 { 'S' } else { 'N' },
                lon0.abs(),
                if lon0 < 0.0 { 'W' } else { 'E' }
            ),
            class,
            marks,
            scale_x2: num(6.0 + bar_km * scale),
            scale_label: format!("{} km", num(bar_km)),
            unlocated: list.len() - located.len(),
        });
    }
    plans
}

// ----- a record's entry, in words (for the fact page) -------------------------------------

/// A verification record's entry body in words, for the fact page: what the record says,
/// without the bytes that only a verifier needs (salts and proofs stay in the receipt).
pub fn describe_record(body: &[u8]) -> String {
    let record = match Record::decode(body) {
        Ok(r) => r,
        Err(e) => return format!("An entry of kind verification that is not a record: {e}."),
    };
    let mut out = String::new();
    match &record {
        Record::Commitment(c) => {
            out.push_str(&format!(
                "Commitment of {} to its item-level declaration as of {}: {} items, Merkle root {}.\n",
                c.party,
                c.as_of,
                c.total,
                hex(&c.root)
            ));
            match &c.region_counts {
                Some(counts) => {
                    let list: Vec<String> = counts.iter().map(|(r, n)| format!("{r} {n}")).collect();
                    out.push_str(&format!("Items per region (published): {}.\n", list.join(", ")));
                }
                None => out.push_str("Items per region: withheld.\n"),
            }
            out.push_str("The items and their salts stay in the party's data folder until revealed.");
        }
        Record::Reveal(r) => {
            out.push_str(&format!(
                "Reveal by {} of region {} of its commitment as of {} (root {}, {} items committed): {} items, each with its salt and inclusion proof.\n",
                r.party,
                r.region,
                r.as_of,
                hex(&r.root),
                r.tree_size,
                r.items.len()
            ));
            for it in r.items.iter().take(200) {
                let attributes: Vec<String> = it
                    .item
                    .attributes
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                out.push_str(&format!(
                    "  #{} {} ({}) {}{}\n",
                    it.index,
                    it.item.id,
                    it.item.category,
                    attributes.join(" "),
                    it.item
                        .location
                        .map(|l| format!(" at {:.4}°, {:.4}°", l.lat(), l.lon()))
                        .unwrap_or_default()
                ));
            }
            if r.items.len() > 200 {
                out.push_str(&format!("  … and {} more\n", r.items.len() - 200));
            }
        }
        Record::SeedCommitment(s) => out.push_str(&format!(
            "Seed commitment of {} for round {}: {}.",
            s.party,
            s.round,
            hex(&s.hash)
        )),
        Record::SeedReveal(s) => out.push_str(&format!(
            "Seed of {} for round {}: {}.",
            s.party,
            s.round,
            hex(&s.seed)
        )),
        Record::Inspection(i) => {
            out.push_str(&format!(
                "Inspection report by {} of {}'s site {} on {}: {} items found.\n",
                i.inspector,
                i.inspected,
                i.site,
                i.date,
                i.found.len()
            ));
            for f in &i.found {
                let attributes: Vec<String> = f
                    .attributes
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                out.push_str(&format!(
                    "  {} ({}) {}\n",
                    f.id.as_deref().unwrap_or("without id"),
                    f.category,
                    attributes.join(" ")
                ));
            }
        }
        Record::LimitProof(p) => out.push_str(&format!(
            "Limit proof by {}: its `{}` as of {} is at most {}. Pedersen commitment {}; range proof of {} bytes. The number is not disclosed.",
            p.context.party,
            p.context.quantity,
            p.context.as_of,
            p.bound,
            hex(&p.commitment),
            p.proof.len()
        )),
        Record::Opening(o) => out.push_str(&format!(
            "Opening by {} of its limit proof of `{}` as of {}: the number is {}.",
            o.context.party, o.context.quantity, o.context.as_of, o.value
        )),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_sites_are_a_whole_number_from_one() {
        let q = |v: &str| hidden_of(&[("hidden".to_owned(), v.to_owned())]);
        assert_eq!(hidden_of(&[]), Ok(1));
        assert_eq!(q(""), Ok(1));
        assert_eq!(q("3"), Ok(3));
        assert!(q("0").is_err());
        assert!(q("-1").is_err());
        assert!(q("lots").is_err());
        assert!(q("1000000001").is_err());
    }

    #[test]
    fn ordinals_and_percentages_read_as_words() {
        assert_eq!(ordinal(1), "drawn 1st");
        assert_eq!(ordinal(2), "drawn 2nd");
        assert_eq!(ordinal(12), "drawn 12th");
        assert_eq!(ordinal(23), "drawn 23rd");
        assert_eq!(percent(0.25), "25.0%");
        assert_eq!(percent(0.000_01), "0.0010%");
        assert_eq!(percent(0.0), "0.0%");
    }

    #[test]
    fn one_site_alone_gets_a_plan_with_a_scale() {
        let s = SiteMark {
            region: "kozelsk".to_owned(),
            class: "r0".to_owned(),
            site: "K-01".to_owned(),
            items: vec!["K-01-1 (icbm_launcher)".to_owned()],
            location: Some((53.98, 35.745)),
            inspected: None,
        };
        let plans = site_plans(std::slice::from_ref(&s));
        assert_eq!(plans.len(), 1);
        assert_eq!(plans[0].marks[0].x, "80");
        assert_eq!(plans[0].marks[0].y, "45");
        assert!(!plans[0].scale_label.is_empty());
        let map = overview_map(&[s]).unwrap();
        assert_eq!(map.view_box, "195.745 26.02 40 20");
    }
}
