//! The overview: every provision against every party, coloured by status (with the
//! status in words), with counts, as of an instant or a replay of the logs.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use detente_assess::report::{Report, Status};
use detente_node::Store;
use std::collections::BTreeMap;
use std::sync::Arc;

use super::asof::{self, AsOfForm, InputLine};
use super::{Layout, Viewer, error_page, format, node_error, render};
use crate::AppState;

#[derive(Debug, Clone)]
pub struct Cell {
    pub label: &'static str,
    pub mark: &'static str,
    pub class: &'static str,
    /// `2481 / 2400`, or the reason for no data.
    pub detail: String,
    pub violations: usize,
    pub href: String,
}

#[derive(Debug, Clone)]
pub struct Row {
    pub id: String,
    pub title: String,
    pub kind: String,
    pub article: String,
    pub href: String,
    /// One per party, in the order of the header; `None` where the provision does not
    /// bind that party.
    pub cells: Vec<Option<Cell>>,
}

#[derive(Debug, Clone)]
pub struct Count {
    pub label: &'static str,
    pub mark: &'static str,
    pub class: &'static str,
    pub count: u64,
}

#[derive(askama::Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    layout: Layout,
    asof: AsOfForm,
    parties: Vec<String>,
    rows: Vec<Row>,
    counts: Vec<Count>,
    /// Per party: the counts of its findings, by status (non-zero only).
    party_counts: Vec<(String, Vec<Count>)>,
    deferred: Vec<(String, String, String)>,
    inputs: Vec<InputLine>,
    left_out: Vec<String>,
}

/// The counts of a list of statuses, in the order of [`Status::ALL`].
pub fn counts(statuses: impl Iterator<Item = Status>, keep_zero: bool) -> Vec<Count> {
    let mut by: BTreeMap<Status, u64> = BTreeMap::new();
    for s in statuses {
        *by.entry(s).or_default() += 1;
    }
    Status::ALL
        .iter()
        .map(|s| Count {
            label: format::status_label(*s),
            mark: format::status_mark(*s),
            class: format::status_class(*s),
            count: by.get(s).copied().unwrap_or(0),
        })
        .filter(|c| keep_zero || c.count > 0)
        .collect()
}

/// The matrix of a report: rows by provision (in treaty order), a cell per party.
pub fn matrix(report: &Report, treaty: &detente_lang::model::Treaty, query: &str) -> Vec<Row> {
    let suffix = if query.is_empty() {
        String::new()
    } else {
        format!("?{query}")
    };
    treaty
        .provisions
        .iter()
        .map(|p| {
            let href = format!("/dashboard/provision/{}{suffix}", format::encode(&p.id));
            let cells = treaty
                .parties
                .iter()
                .map(|party| {
                    report
                        .findings
                        .iter()
                        .find(|f| f.provision == p.id && f.party == *party)
                        .map(|f| Cell {
                            label: format::status_label(f.status),
                            mark: format::status_mark(f.status),
                            class: format::status_class(f.status),
                            detail: format::value_bound(f.value, f.comparison, f.bound)
                                .or_else(|| f.reason.clone())
                                .unwrap_or_default(),
                            violations: f.violations.len(),
                            href: format!("{href}#party-{}", format::encode(party)),
                        })
                })
                .collect();
            Row {
                id: p.id.clone(),
                title: p.title.clone(),
                kind: report
                    .findings
                    .iter()
                    .find(|f| f.provision == p.id)
                    .map_or_else(|| p.kind.keyword().to_owned(), |f| f.kind.to_owned()),
                article: p.article.clone().unwrap_or_default(),
                href,
                cells,
            }
        })
        .collect()
}

pub async fn page<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    viewer: Viewer,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let node = &state.node;
    let (asof, facts, form) = match asof::select(node, pairs, "/dashboard").await {
        Ok(selected) => selected,
        Err(page) => return page,
    };
    let proofs = match super::verification::limit_proofs_as_of(node, &asof, &facts).await {
        Ok(p) => p,
        Err(e) => return node_error(e),
    };
    let mut report = match asof::engine(node, &facts, &asof.options()) {
        Ok(engine) => engine.assess(asof.at),
        Err(e) => return error_page(StatusCode::BAD_REQUEST, e),
    };
    detente_node::verification::apply_limit_proofs(&mut report, &proofs);
    let treaty = &node.treaty().treaty;
    let query = asof.query();
    let page = OverviewPage {
        layout: Layout::new(&state, &viewer, "Overview", "overview", &query),
        asof: form,
        parties: treaty.parties.clone(),
        rows: matrix(&report, treaty, &query),
        counts: counts(report.findings.iter().map(|f| f.status), true),
        party_counts: treaty
            .parties
            .iter()
            .map(|party| {
                (
                    party.clone(),
                    counts(
                        report
                            .findings
                            .iter()
                            .filter(|f| f.party == *party)
                            .map(|f| f.status),
                        false,
                    ),
                )
            })
            .collect(),
        deferred: report
            .deferred
            .iter()
            .map(|d| {
                (
                    d.id.clone(),
                    d.title.clone(),
                    d.note.clone().unwrap_or_default(),
                )
            })
            .collect(),
        inputs: asof::input_lines(&facts),
        left_out: facts.problems.clone(),
    };
    render(&page)
}
