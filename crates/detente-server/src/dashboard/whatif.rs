//! What-if: the findings under other params (an interpretation, an assumed entry into
//! force), beside the findings as the treaty stands. Nothing is written: the engine is a
//! pure function of the treaty, the logs and the options, and this page only reads.
//!
//! The form posts nothing: it is a GET whose results htmx swaps into the page
//! (`/dashboard/what-if/findings` answers the fragment); without scripts the same GET
//! reloads the whole page.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use detente_assess::report::{Finding, Report};
use detente_node::Store;
use std::sync::Arc;

use super::asof::{self, AsOf, AsOfForm};
use super::overview::{Count, counts};
use super::{Layout, Viewer, error_page, format, node_error, render};
use crate::AppState;

#[derive(Debug, Clone)]
pub struct ParamField {
    pub name: String,
    pub input: String,
    pub ty: String,
    pub default: String,
    pub value: String,
    pub note: String,
}

#[derive(Debug, Clone)]
pub struct Side {
    pub label: &'static str,
    pub mark: &'static str,
    pub class: &'static str,
    pub detail: String,
}

#[derive(Debug, Clone)]
pub struct CompareRow {
    pub provision: String,
    pub title: String,
    pub party: String,
    pub href: String,
    pub before: Side,
    pub after: Side,
    pub changed: bool,
}

/// The results fragment.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub error: String,
    pub overrides: Vec<(String, String, String)>,
    pub rows: Vec<CompareRow>,
    pub before: Vec<Count>,
    pub after: Vec<Count>,
    pub changed: usize,
    pub at: String,
}

#[derive(askama::Template)]
#[template(path = "whatif.html")]
struct WhatIfPage {
    layout: Layout,
    asof: AsOfForm,
    at_value: String,
    cps: Vec<(String, String)>,
    params: Vec<ParamField>,
    interpretations: Vec<(String, String, bool)>,
    assume_in_force: String,
    outcome: Outcome,
}

#[derive(askama::Template)]
#[template(path = "whatif_results.html")]
struct WhatIfFragment {
    outcome: Outcome,
}

/// Reads `p_NAME` fields into `set` overrides (empty fields keep the default).
fn overrides(rest: &[(String, String)]) -> Vec<(String, String)> {
    rest.iter()
        .filter_map(|(k, v)| {
            let name = k.strip_prefix("p_")?;
            let v = v.trim();
            (!v.is_empty()).then(|| (name.to_owned(), v.to_owned()))
        })
        .collect()
}

fn side(f: Option<&Finding>) -> Side {
    match f {
        Some(f) => Side {
            label: format::status_label(f.status),
            mark: format::status_mark(f.status),
            class: format::status_class(f.status),
            detail: format::value_bound(f.value, f.comparison, f.bound)
                .or_else(|| f.reason.clone())
                .unwrap_or_else(|| {
                    if f.violations.is_empty() {
                        String::new()
                    } else {
                        format::count_of(f.violations.len(), "violation", "violations")
                    }
                }),
        },
        None => Side {
            label: "does not apply",
            mark: "",
            class: "",
            detail: String::new(),
        },
    }
}

fn compare(before: &Report, after: &Report, query: &str) -> Vec<CompareRow> {
    let mut rows = Vec::new();
    for f in &before.findings {
        let other = after
            .findings
            .iter()
            .find(|g| g.party == f.party && g.provision == f.provision);
        let changed = other.is_none_or(|g| {
            g.status != f.status
                || g.value != f.value
                || g.bound != f.bound
                || g.violations.len() != f.violations.len()
        });
        rows.push(CompareRow {
            provision: f.provision.clone(),
            title: f.title.clone(),
            party: f.party.clone(),
            href: format!(
                "/dashboard/provision/{}?{query}#party-{}",
                format::encode(&f.provision),
                format::encode(&f.party)
            ),
            before: side(Some(f)),
            after: side(other),
            changed,
        });
    }
    rows
}

struct Computed {
    asof: AsOf,
    facts: Arc<detente_node::facts::LogFacts>,
    outcome: Outcome,
    defaults: std::collections::BTreeMap<String, serde_json::Value>,
}

async fn compute<S: Store>(
    state: &AppState<S>,
    pairs: Vec<(String, String)>,
) -> Result<Computed, Response> {
    let node = &state.node;
    let (mut asof, rest) =
        AsOf::parse(node, pairs).map_err(|e| error_page(StatusCode::BAD_REQUEST, e))?;
    asof.set.extend(overrides(&rest));
    let facts = asof.facts(node).await.map_err(node_error)?;
    let mut baseline = asof.clone();
    baseline.set.clear();
    baseline.interpretation = None;
    baseline.assume_in_force = None;
    let base_engine = asof::engine(node, &facts, &baseline.options())
        .map_err(|e| error_page(StatusCode::BAD_REQUEST, e))?;
    let before = base_engine.assess(asof.at);
    let defaults = before.assumptions.params.clone();
    let mut outcome = Outcome {
        at: asof.at.to_string(),
        before: counts(before.findings.iter().map(|f| f.status), true),
        ..Outcome::default()
    };
    match asof::engine(node, &facts, &asof.options()) {
        Ok(engine) => {
            let after = engine.assess(asof.at);
            outcome.overrides = asof
                .set
                .iter()
                .map(|(n, v)| {
                    (
                        n.clone(),
                        defaults.get(n).map(format::json_inline).unwrap_or_default(),
                        after
                            .assumptions
                            .params
                            .get(n)
                            .map(format::json_inline)
                            .unwrap_or_else(|| v.clone()),
                    )
                })
                .collect();
            if let Some(i) = &asof.interpretation {
                outcome
                    .overrides
                    .push(("interpretation".into(), String::new(), i.clone()));
            }
            if let Some(d) = asof.assume_in_force {
                outcome.overrides.push((
                    "entry into force".into(),
                    before.assumptions.in_force.clone().unwrap_or_default(),
                    d.to_string(),
                ));
            }
            outcome.after = counts(after.findings.iter().map(|f| f.status), true);
            outcome.rows = compare(&before, &after, &asof.query());
            outcome.changed = outcome.rows.iter().filter(|r| r.changed).count();
        }
        Err(e) => outcome.error = e,
    }
    Ok(Computed {
        asof,
        facts,
        outcome,
        defaults,
    })
}

/// `GET /dashboard/what-if`: the form, with the results of what it carries.
pub async fn page<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    viewer: Viewer,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let computed = match compute(&state, pairs).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let node = &state.node;
    let treaty = &node.treaty().treaty;
    let asof = &computed.asof;
    let form = match asof::form(node, asof, "/dashboard/what-if", &computed.facts).await {
        Ok(f) => f,
        Err(e) => return node_error(e),
    };
    let given = |name: &str| {
        asof.set
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let params = treaty
        .params
        .iter()
        .map(|p| ParamField {
            input: format!("p_{}", p.name),
            ty: p.ty.to_string(),
            default: computed
                .defaults
                .get(&p.name)
                .map(|v| match v {
                    serde_json::Value::Null => "no value".to_owned(),
                    other => format::json_inline(other),
                })
                .unwrap_or_default(),
            value: given(&p.name),
            note: p.note.clone().unwrap_or_default(),
            name: p.name.clone(),
        })
        .collect();
    let page = WhatIfPage {
        layout: Layout::new(&state, &viewer, "What-if", "what-if", ""),
        at_value: form.at_value.clone(),
        cps: asof
            .sizes
            .iter()
            .map(|(p, s)| (format!("cp_{p}"), s.to_string()))
            .collect(),
        asof: form,
        params,
        interpretations: treaty
            .interpretations
            .iter()
            .map(|i| {
                (
                    i.id.clone(),
                    i.title.clone(),
                    asof.interpretation.as_deref() == Some(i.id.as_str()),
                )
            })
            .collect(),
        assume_in_force: asof
            .assume_in_force
            .map(|d| d.to_string())
            .unwrap_or_default(),
        outcome: computed.outcome,
    };
    render(&page)
}

/// `GET /dashboard/what-if/findings`: the results fragment htmx swaps in.
pub async fn findings<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    _viewer: Viewer,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    match compute(&state, pairs).await {
        Ok(c) => render(&WhatIfFragment { outcome: c.outcome }),
        Err(r) => r,
    }
}

#[cfg(test)]
mod tests {
    use super::overrides;

    #[test]
    fn empty_param_fields_keep_their_defaults() {
        let rest = vec![
            ("p_sdv_ceiling".to_owned(), " 2000 ".to_owned()),
            ("p_mirv_ceiling".to_owned(), String::new()),
            ("other".to_owned(), "x".to_owned()),
        ];
        assert_eq!(
            overrides(&rest),
            vec![("sdv_ceiling".to_owned(), "2000".to_owned())]
        );
    }
}
