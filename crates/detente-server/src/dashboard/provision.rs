//! A provision's page (its value against its bound over time, the milestones of its
//! schedule, each party's finding with its evidence, the violations with the facts behind
//! them) and a fact's page (the entry that holds it, its receipt, its cosignatures).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use detente_assess::engine::Engine;
use detente_assess::report::{Finding, Timeline};
use detente_lang::model::{Provision, Rule};
use detente_lang::time::{Date, Duration, Instant, TimeUnit};
use detente_ledger::entry::EntryKind;
use detente_node::facts::LogFacts;
use detente_node::replay::{FactPlace, fact_places};
use detente_node::{Node, Store};
use std::collections::BTreeMap;
use std::sync::Arc;

use super::asof::{self, AsOf, AsOfForm};
use super::{Layout, Viewer, error_page, format, node_error, render};
use crate::AppState;

/// A link to a fact: its page and its receipt.
#[derive(Debug, Clone)]
pub struct FactLink {
    pub id: String,
    pub kind: &'static str,
    pub party: String,
    pub href: String,
    pub receipt: String,
}

impl FactLink {
    pub fn new<S: Store>(node: &Node<S>, id: &str, place: &FactPlace) -> FactLink {
        let q = format!(
            "origin={}&index={}",
            format::encode(&place.origin),
            place.index
        );
        FactLink {
            id: id.to_owned(),
            kind: place.kind,
            party: node
                .network()
                .party_of_origin(&place.origin)
                .map(|p| p.name.clone())
                .unwrap_or_default(),
            href: format!("/dashboard/fact?{q}"),
            receipt: format!("/api/v1/receipt?{q}"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ViolationRow {
    pub at: String,
    pub reason: String,
    pub detail: String,
    pub evidence: String,
    pub facts: Vec<FactLink>,
    /// Ids no fact of the logs carries (a missing declaration has none).
    pub unknown: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct MilestoneRow {
    pub date: String,
    pub bound: String,
    /// `passed`, or the time left.
    pub when: String,
    /// At a passed milestone: the value and status then; ahead: what is still owed.
    pub value: String,
    pub state: String,
    pub class: &'static str,
}

#[derive(Debug, Clone)]
pub struct PartySection {
    pub party: String,
    pub anchor: String,
    pub label: &'static str,
    pub mark: &'static str,
    pub class: &'static str,
    pub facts: Vec<(String, String)>,
    pub evidence: Vec<EvidenceItem>,
    pub violations: Vec<ViolationRow>,
    pub milestones: Vec<MilestoneRow>,
}

#[derive(askama::Template)]
#[template(path = "provision.html")]
struct ProvisionPage {
    layout: Layout,
    asof: AsOfForm,
    id: String,
    kind: String,
    article: String,
    source: String,
    chart: String,
    chart_note: String,
    sections: Vec<PartySection>,
}

/// The provision's source text in the treaty.
fn source_of(node_source: &str, provision: &Provision) -> String {
    let (start, end) = (provision.span.start as usize, provision.span.end as usize);
    node_source.get(start..end).unwrap_or("").to_owned()
}

/// One member of a finding's evidence: a value on one line, or a table when it is a map
/// or list of records (the quantities behind a value, the declarations checked…).
#[derive(Debug, Clone)]
pub struct EvidenceItem {
    pub key: String,
    pub text: String,
    pub columns: Vec<String>,
    pub rows: Vec<(String, Vec<String>)>,
}

pub fn evidence_item(key: &str, value: &serde_json::Value) -> EvidenceItem {
    let records: Option<Vec<(String, &serde_json::Map<String, serde_json::Value>)>> = match value {
        serde_json::Value::Object(map) if !map.is_empty() => map
            .iter()
            .map(|(k, v)| v.as_object().map(|o| (k.clone(), o)))
            .collect(),
        serde_json::Value::Array(list) if !list.is_empty() => list
            .iter()
            .enumerate()
            .map(|(i, v)| v.as_object().map(|o| ((i + 1).to_string(), o)))
            .collect(),
        _ => None,
    };
    let Some(records) = records else {
        return EvidenceItem {
            key: key.to_owned(),
            text: format::json_inline(value),
            columns: Vec::new(),
            rows: Vec::new(),
        };
    };
    let mut columns: Vec<String> = Vec::new();
    for (_, record) in &records {
        for k in record.keys() {
            if !columns.contains(k) {
                columns.push(k.clone());
            }
        }
    }
    let rows = records
        .iter()
        .map(|(name, record)| {
            (
                name.clone(),
                columns
                    .iter()
                    .map(|c| record.get(c).map(format::json_inline).unwrap_or_default())
                    .collect(),
            )
        })
        .collect();
    EvidenceItem {
        key: key.to_owned(),
        text: String::new(),
        columns,
        rows,
    }
}

/// A compact line of a violation's evidence.
fn evidence_line(evidence: &BTreeMap<String, serde_json::Value>) -> String {
    evidence
        .iter()
        .map(|(k, v)| format!("{k}: {}", format::json_inline(v)))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Links to the facts a violation names.
pub fn violation_rows<S: Store>(
    node: &Node<S>,
    finding: &Finding,
    places: &BTreeMap<String, Vec<FactPlace>>,
) -> Vec<ViolationRow> {
    finding
        .violations
        .iter()
        .map(|v| {
            let mut facts = Vec::new();
            let mut unknown = Vec::new();
            for id in &v.ids {
                match places.get(id) {
                    Some(list) => facts.extend(list.iter().map(|p| FactLink::new(node, id, p))),
                    None => unknown.push(id.clone()),
                }
            }
            ViolationRow {
                at: v
                    .at
                    .as_deref()
                    .map(format::report_instant)
                    .unwrap_or_default(),
                reason: v.reason.to_owned(),
                detail: v.detail.clone(),
                evidence: evidence_line(&v.evidence),
                facts,
                unknown,
            }
        })
        .collect()
}

/// The span and step of a chart: from before entry into force (or five years before
/// `at`) to a little after `at` or the last milestone, in at most about 240 steps.
pub fn chart_range(
    in_force: Option<Date>,
    at: Instant,
    last: Option<Date>,
) -> (Instant, Instant, Duration) {
    let from = in_force
        .map(Date::start)
        .and_then(|t| t.checked_add(Duration::new(-6, TimeUnit::Month)))
        .unwrap_or_else(|| {
            at.checked_add(Duration::new(-5, TimeUnit::Year))
                .unwrap_or(at)
        });
    let end = last.map(Date::start).map_or(at, |l| l.max(at));
    let to = end
        .checked_add(Duration::new(6, TimeUnit::Month))
        .unwrap_or(end)
        .max(from);
    let months = to.seconds_since(from) / (30 * 86_400);
    let step = (months / 240 + 1).max(1);
    (from, to, Duration::new(step, TimeUnit::Month))
}

/// The timeline of one provision.
fn provision_timeline(
    engine: &Engine<'_, '_>,
    id: &str,
    range: (Instant, Instant, Duration),
) -> Timeline {
    let mut timeline = engine.timeline(range.0, range.1, range.2);
    timeline.points.retain(|p| p.provision == id);
    timeline
}

pub async fn page<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let node = &state.node;
    let Some(provision) = node.treaty().treaty.provision(&id).cloned() else {
        return error_page(
            StatusCode::NOT_FOUND,
            format!("the treaty has no provision `{id}`"),
        );
    };
    let asof = match AsOf::parse(node, pairs) {
        Ok((asof, _)) => asof,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, e),
    };
    let facts = match asof.facts(node).await {
        Ok(f) => f,
        Err(e) => return node_error(e),
    };
    let action = format!("/dashboard/provision/{}", format::encode(&id));
    let form = match asof::form(node, &asof, &action, &facts).await {
        Ok(f) => f,
        Err(e) => return node_error(e),
    };
    let proofs = match super::verification::limit_proofs_as_of(node, &asof, &facts).await {
        Ok(p) => p,
        Err(e) => return node_error(e),
    };
    let built = match build(node, &facts, &asof, &provision, &proofs) {
        Ok(b) => b,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, e),
    };
    let page = ProvisionPage {
        layout: Layout::new(
            &state,
            &viewer,
            format!("{} — {}", provision.id, provision.title),
            "provision",
            &asof.query(),
        ),
        asof: form,
        id: provision.id.clone(),
        kind: built.kind,
        article: provision.article.clone().unwrap_or_default(),
        source: source_of(&node.treaty().source, &provision),
        chart: built.chart,
        chart_note: built.chart_note,
        sections: built.sections,
    };
    render(&page)
}

struct Built {
    kind: String,
    chart: String,
    chart_note: String,
    sections: Vec<PartySection>,
}

fn build<S: Store>(
    node: &Node<S>,
    facts: &LogFacts,
    asof: &AsOf,
    provision: &Provision,
    proofs: &[detente_node::verification::ProofState],
) -> Result<Built, String> {
    let engine = asof::engine(node, facts, &asof.options())?;
    let mut report = engine.assess(asof.at);
    detente_node::verification::apply_limit_proofs(&mut report, proofs);
    let places = fact_places(&facts.facts);
    let now = format::now(node.clock());
    let in_force = report.assumptions.in_force.as_deref().and_then(Date::parse);
    let is_limit = matches!(provision.rule, Rule::Limit { .. });
    let mut sections = Vec::new();
    let mut last_milestone = None;
    let mut kind = String::new();
    for party in &node.treaty().treaty.parties {
        let Some(finding) = report
            .findings
            .iter()
            .find(|f| f.provision == provision.id && f.party == *party)
        else {
            continue;
        };
        kind = finding.kind.to_owned();
        let mut kv = Vec::new();
        let mut push = |k: &str, v: Option<String>| {
            if let Some(v) = v.filter(|v| !v.is_empty()) {
                kv.push((k.to_owned(), v));
            }
        };
        push("value", finding.value.map(|v| v.to_string()));
        push(
            "bound",
            finding
                .bound
                .map(|b| format!("{} {b}", format::comparison(finding.comparison))),
        );
        push(
            "margin (bound − value)",
            finding.margin.map(|m| m.to_string()),
        );
        push("in effect from", finding.effective_from.clone());
        push("until", finding.until.clone());
        push("no data because", finding.reason.clone());
        push(
            "stale",
            finding.stale.as_ref().map(|s| {
                format!(
                    "the latest data is as of {}, but a declaration as of {} was due",
                    s.data_as_of, s.due_as_of
                )
            }),
        );
        let evidence = finding
            .evidence
            .iter()
            .map(|(k, v)| evidence_item(k, v))
            .collect();
        let mut milestones = Vec::new();
        if is_limit {
            let start = finding
                .effective_from
                .as_deref()
                .and_then(Date::parse)
                .or(in_force);
            let before = start
                .and_then(|d| d.add_days(-1))
                .map_or(asof.at, Date::start);
            let ahead: BTreeMap<String, detente_assess::report::Milestone> = engine
                .plan(party, asof.at)
                .milestones
                .into_iter()
                .filter(|m| m.provision == provision.id)
                .map(|m| (m.date.clone(), m))
                .collect();
            for m in engine
                .plan(party, before)
                .milestones
                .into_iter()
                .filter(|m| m.provision == provision.id)
            {
                let Some(date) = Date::parse(&m.date) else {
                    continue;
                };
                last_milestone = last_milestone.max(Some(date));
                let row = if let Some(owed) = ahead.get(&m.date) {
                    MilestoneRow {
                        date: m.date.clone(),
                        bound: m.bound.to_string(),
                        when: format::relative(date.start(), asof.at),
                        value: format!("now {}", owed.current_value),
                        state: if owed.reduction_owed.as_f64() > 0.0 {
                            format!(
                                "{} still owed ({} a year)",
                                owed.reduction_owed, owed.per_year
                            )
                        } else {
                            "already met".to_owned()
                        },
                        class: if owed.reduction_owed.as_f64() > 0.0 {
                            "st-nodata"
                        } else {
                            "st-compliant"
                        },
                    }
                } else {
                    let then = engine
                        .timeline(date.start(), date.start(), Duration::new(1, TimeUnit::Day))
                        .points
                        .into_iter()
                        .find(|p| p.provision == provision.id && p.party == *party);
                    MilestoneRow {
                        date: m.date.clone(),
                        bound: m.bound.to_string(),
                        when: "passed".to_owned(),
                        value: then
                            .as_ref()
                            .map(|p| format::num(p.value))
                            .unwrap_or_default(),
                        state: then
                            .as_ref()
                            .map(|p| format::status_label(p.status).to_owned())
                            .unwrap_or_default(),
                        class: then.as_ref().map_or("", |p| format::status_class(p.status)),
                    }
                };
                milestones.push(row);
            }
        }
        sections.push(PartySection {
            anchor: format!("party-{party}"),
            party: party.clone(),
            label: format::status_label(finding.status),
            mark: format::status_mark(finding.status),
            class: format::status_class(finding.status),
            facts: kv,
            evidence,
            violations: violation_rows(node, finding, &places),
            milestones,
        });
    }
    let (chart, chart_note) = if is_limit {
        let range = chart_range(in_force, asof.at, last_milestone);
        let timeline = provision_timeline(&engine, &provision.id, range);
        match crate::chart::render(&timeline) {
            Ok(svg) if !timeline.points.is_empty() => (
                svg,
                format!(
                    "Value and bound of each party from {} to {}, every {}; the node's clock reads {}.",
                    format::instant_short(range.0),
                    format::instant_short(range.1),
                    range.2,
                    format::instant_minutes(now)
                ),
            ),
            Ok(_) => (String::new(), "No value or bound to draw.".to_owned()),
            Err(e) => (String::new(), format!("The chart could not be drawn: {e}")),
        }
    } else {
        (String::new(), String::new())
    };
    Ok(Built {
        kind,
        chart,
        chart_note,
        sections,
    })
}

#[derive(askama::Template)]
#[template(path = "fact.html")]
struct FactPage {
    layout: Layout,
    origin: String,
    party: String,
    index: u64,
    appended_at: String,
    kind: String,
    body: String,
    receipt_href: String,
    receipt: String,
    receipts: Vec<(String, String, u64)>,
    mentions: Vec<(String, String, String, String)>,
}

#[derive(Debug, serde::Deserialize)]
pub struct FactQuery {
    origin: String,
    index: u64,
}

/// `GET /dashboard/fact?origin=&index=`.
pub async fn fact<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    viewer: Viewer,
    query: Result<Query<FactQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(query)) = query else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "a fact is named by `origin` (a log) and `index` (a whole number)",
        );
    };
    let node = &state.node;
    let entry = match node.entry(&query.origin, query.index).await {
        Ok(e) => e,
        Err(e) => return node_error(e),
    };
    let (_, receipt) = match node.receipt(&query.origin, query.index).await {
        Ok(r) => r,
        Err(e) => return node_error(e),
    };
    let cosignatures = match node.cosignatures(&query.origin).await {
        Ok(c) => c,
        Err(e) => return node_error(e),
    };
    // The first cosignature by each other party on a checkpoint covering the entry: its
    // receipt of it.
    let mut first: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for c in cosignatures
        .iter()
        .filter(|c| c.size > query.index && c.cosigner != query.origin)
    {
        let slot = first
            .entry(c.cosigner.clone())
            .or_insert((c.timestamp, c.size));
        if c.timestamp < slot.0 {
            *slot = (c.timestamp, c.size);
        }
    }
    let receipts = first
        .into_iter()
        .map(|(cosigner, (t, size))| {
            (
                cosigner,
                format::instant_minutes(Instant::from_unix_seconds(
                    i64::try_from(t).unwrap_or(i64::MAX),
                )),
                size,
            )
        })
        .collect();
    let record: Option<serde_json::Value> = match entry.kind {
        EntryKind::Fact => serde_json::from_slice(&entry.body).ok(),
        EntryKind::Letter | EntryKind::Verification => None,
    };
    // A letter is a sealed envelope and a verification record is bytes: both are said in
    // words (the bytes themselves are in the receipt).
    let body = match entry.kind {
        EntryKind::Letter => super::letters::describe_envelope(&entry.body),
        EntryKind::Verification => super::verification::describe_record(&entry.body),
        EntryKind::Fact => record
            .as_ref()
            .and_then(|v| serde_json::to_string_pretty(v).ok())
            .unwrap_or_else(|| String::from_utf8_lossy(&entry.body).into_owned()),
    };
    let fact_id = record
        .as_ref()
        .and_then(|v| v.get("id"))
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    // Where the current findings name this fact.
    let mut mentions = Vec::new();
    if let Some(fact_id) = &fact_id
        && let Ok(facts) = node.log_facts().await
        && let Ok(engine) = asof::engine(node, &facts, &Default::default())
    {
        let report = engine.assess(format::now(node.clock()));
        for f in &report.findings {
            for v in &f.violations {
                if v.ids.iter().any(|i| i == fact_id) {
                    mentions.push((
                        f.provision.clone(),
                        f.party.clone(),
                        v.reason.to_owned(),
                        format!(
                            "/dashboard/provision/{}#party-{}",
                            format::encode(&f.provision),
                            format::encode(&f.party)
                        ),
                    ));
                }
            }
        }
    }
    let q = format!(
        "origin={}&index={}",
        format::encode(&query.origin),
        query.index
    );
    let page = FactPage {
        layout: Layout::new(
            &state,
            &viewer,
            format!(
                "Entry {} of {}{}",
                query.index,
                query.origin,
                fact_id.map(|i| format!(": {i}")).unwrap_or_default()
            ),
            "fact",
            "",
        ),
        party: node
            .network()
            .party_of_origin(&query.origin)
            .map(|p| p.name.clone())
            .unwrap_or_default(),
        origin: query.origin,
        index: query.index,
        appended_at: format::instant_minutes(format::instant_of_ms(entry.appended_at_ms)),
        kind: format!("{:?}", entry.kind).to_lowercase(),
        body,
        receipt_href: format!("/api/v1/receipt?{q}"),
        receipt: receipt.format(),
        receipts,
        mentions,
    };
    render(&page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_span_entry_into_force_to_after_the_instant_in_few_steps() {
        let in_force = Date::parse("1977-10-03");
        let at = Instant::parse("1980-12-31").unwrap_or(Instant::from_unix_seconds(0));
        let (from, to, every) = chart_range(in_force, at, Date::parse("1982-10-03"));
        assert_eq!(from.to_string(), "1977-04-03T00:00:00Z");
        assert_eq!(to.to_string(), "1983-04-03T00:00:00Z");
        assert_eq!(every, Duration::new(1, TimeUnit::Month));
        let far = Instant::parse("2026-01-01").unwrap_or(at);
        let (_, _, every) = chart_range(in_force, far, None);
        assert_eq!(every, Duration::new(3, TimeUnit::Month));
    }
}
