//! Exports: findings and timelines as CSV and JSON, items and observations as GeoJSON, and
//! the receipts of the facts behind violations. Each export says what it was made from:
//! the instant, the checkpoint of every log (size and root), the params and the treaty
//! source's hash (CSV: `#` lines before the header; JSON and GeoJSON: a `provenance`
//! member; a report's own `at`, `inputs` and `assumptions` say it too).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use detente_assess::facts::{AttrValue, Attributes};
use detente_assess::geo::Point;
use detente_assess::report::{Assumptions, InputRef, Report};
use detente_lang::time::{Date, Instant};
use detente_node::replay::fact_places;
use detente_node::{Node, Store};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;

use super::asof::{self, AsOf, AsOfForm};
use super::deadlines::parse_duration;
use super::{Layout, Viewer, error_page, format, node_error, render};
use crate::AppState;

/// The most receipts one export holds.
pub const MAX_RECEIPTS: usize = 500;

#[derive(askama::Template)]
#[template(path = "exports.html")]
struct ExportsPage {
    layout: Layout,
    asof: AsOfForm,
    links: Vec<(String, String, String)>,
    timeline_from: String,
    timeline_to: String,
    query: String,
    /// The selection with its instant pinned, for the forms below the list.
    pinned: Vec<(String, String)>,
    provisions: Vec<(String, String)>,
    parties: Vec<String>,
}

const FILES: [(&str, &str); 7] = [
    (
        "findings.csv",
        "the findings, one row per party and provision",
    ),
    (
        "findings.json",
        "the report: findings with their evidence and violations",
    ),
    (
        "timeline.csv",
        "value and bound of every limit and objective over time",
    ),
    ("timeline.json", "the same timeline as JSON"),
    (
        "items.geojson",
        "items that exist at the instant, with their locations",
    ),
    (
        "observations.geojson",
        "observations up to the instant, one feature per point seen",
    ),
    ("receipts.json", "receipts of the facts named by violations"),
];

pub async fn page<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    viewer: Viewer,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let node = &state.node;
    let (asof, _facts, form) = match asof::select(node, pairs, "/dashboard/exports").await {
        Ok(selected) => selected,
        Err(page) => return page,
    };
    let mut pinned = asof.clone();
    pinned.at_given = true;
    let query = pinned.query();
    let (from, to, _) = timeline_range(node, &asof);
    let treaty = &node.treaty().treaty;
    let page = ExportsPage {
        layout: Layout::new(&state, &viewer, "Exports", "exports", &asof.query()),
        asof: form,
        links: FILES
            .iter()
            .map(|(name, what)| {
                (
                    name.to_string(),
                    format!("/dashboard/exports/{name}?{query}"),
                    what.to_string(),
                )
            })
            .collect(),
        timeline_from: from.date().to_string(),
        timeline_to: to.date().to_string(),
        query: query.clone(),
        pinned: pinned.pairs(),
        provisions: treaty
            .provisions
            .iter()
            .map(|p| (p.id.clone(), p.title.clone()))
            .collect(),
        parties: treaty.parties.clone(),
    };
    render(&page)
}

/// A timeline's default span: entry into force (or five years back) to the instant, by
/// month.
fn timeline_range<S: Store>(
    node: &Node<S>,
    asof: &AsOf,
) -> (Instant, Instant, detente_lang::time::Duration) {
    let in_force = asof.assume_in_force.or(node.treaty().treaty.in_force);
    let (from, _, every) = super::provision::chart_range(in_force, asof.at, None);
    let from = in_force.map_or(from, Date::start).min(asof.at);
    (from, asof.at, every)
}

/// What an export was made from, as JSON.
fn provenance<S: Store>(
    node: &Node<S>,
    what: &str,
    at: &str,
    inputs: &[InputRef],
    assumptions: &Assumptions,
) -> Value {
    json!({
        "export": what,
        "node": node.party(),
        "made_at": format::now(node.clock()).to_string(),
        "treaty": {"id": node.treaty().treaty.name, "source_sha256": node.treaty().source_sha256},
        "at": at,
        "checkpoints": inputs.iter().map(|i| json!({"log": i.name, "size": i.records, "root": i.sha256})).collect::<Vec<_>>(),
        "in_force": assumptions.in_force,
        "in_force_assumed": assumptions.in_force_assumed,
        "interpretation": assumptions.interpretation,
        "params": assumptions.params,
        "overridden": assumptions.overridden,
    })
}

/// The provenance as `#` lines, for the top of a CSV file.
fn provenance_lines(p: &Value) -> String {
    let mut out = String::new();
    let field = |name: &str| p.get(name).map(format::json_inline).unwrap_or_default();
    out.push_str(&format!(
        "# detente export: {} (node {}, made {})\n",
        field("export"),
        field("node"),
        field("made_at")
    ));
    if let Some(t) = p.get("treaty") {
        out.push_str(&format!(
            "# treaty: {} (source sha256 {})\n",
            t.get("id").map(format::json_inline).unwrap_or_default(),
            t.get("source_sha256")
                .map(format::json_inline)
                .unwrap_or_default()
        ));
    }
    out.push_str(&format!("# at: {}\n", field("at")));
    for c in p
        .get("checkpoints")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        out.push_str(&format!(
            "# checkpoint: {} size {} root {}\n",
            c.get("log").map(format::json_inline).unwrap_or_default(),
            c.get("size").map(format::json_inline).unwrap_or_default(),
            c.get("root").map(format::json_inline).unwrap_or_default()
        ));
    }
    out.push_str(&format!(
        "# in force: {}{}\n",
        field("in_force"),
        if p.get("in_force_assumed").and_then(Value::as_bool) == Some(true) {
            " (assumed)"
        } else {
            ""
        }
    ));
    if let Some(params) = p.get("params").and_then(Value::as_object) {
        let list: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{k}={}", format::json_inline(v)))
            .collect();
        out.push_str(&format!("# params: {}\n", list.join("; ")));
    }
    let overridden = field("overridden");
    if overridden != "[]" {
        out.push_str(&format!("# overridden: {overridden}\n"));
    }
    out
}

/// A CSV field, quoted when it must be.
fn csv(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) || field.starts_with('#') {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

fn attributes(attrs: &Attributes) -> Value {
    Value::Object(
        attrs
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    AttrValue::Bool(b) => json!(b),
                    AttrValue::Int(i) => json!(i),
                    AttrValue::Decimal(d) => json!(d),
                    AttrValue::Text(t) => json!(t),
                };
                (k.to_string(), v)
            })
            .collect(),
    )
}

fn point(p: Point) -> Value {
    json!({"type": "Point", "coordinates": [p.lon, p.lat]})
}

fn download(name: &str, content_type: &'static str, body: String) -> Response {
    let mut response = ([(header::CONTENT_TYPE, content_type)], body).into_response();
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

fn pretty(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

fn findings_csv(report: &Report, p: &Value) -> String {
    let mut out = provenance_lines(p);
    out.push_str("party,provision,kind,title,status,value,comparison,bound,margin,effective_from,until,violations,reasons,no_data_reason\n");
    for f in &report.findings {
        let reasons: BTreeSet<&str> = f.violations.iter().map(|v| v.reason).collect();
        let row = [
            f.party.clone(),
            f.provision.clone(),
            f.kind.to_owned(),
            f.title.clone(),
            f.status.as_str().to_owned(),
            format::num(f.value),
            f.comparison.unwrap_or("").to_owned(),
            format::num(f.bound),
            format::num(f.margin),
            f.effective_from.clone().unwrap_or_default(),
            f.until.clone().unwrap_or_default(),
            f.violations.len().to_string(),
            reasons.into_iter().collect::<Vec<_>>().join(" "),
            f.reason.clone().unwrap_or_default(),
        ];
        out.push_str(&row.iter().map(|c| csv(c)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}

#[derive(Debug, serde::Deserialize, Default)]
struct ExportQuery {
    from: Option<String>,
    to: Option<String>,
    every: Option<String>,
    provision: Option<String>,
    party: Option<String>,
}

/// `GET /dashboard/exports/{file}`.
pub async fn file<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    _viewer: Viewer,
    Path(name): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let node = &state.node;
    if !FILES.iter().any(|(n, _)| *n == name) {
        return error_page(
            StatusCode::NOT_FOUND,
            format!("there is no export `{name}`"),
        );
    }
    let (asof, rest) = match AsOf::parse(node, pairs) {
        Ok(x) => x,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, e),
    };
    let mut extra = ExportQuery::default();
    for (k, v) in rest {
        let v = Some(v).filter(|v| !v.trim().is_empty());
        match k.as_str() {
            "from" => extra.from = v,
            "to" => extra.to = v,
            "every" => extra.every = v,
            "provision" => extra.provision = v,
            "party" => extra.party = v,
            other => {
                return error_page(
                    StatusCode::BAD_REQUEST,
                    format!("unknown parameter `{other}`"),
                );
            }
        }
    }
    let facts = match asof.facts(node).await {
        Ok(f) => f,
        Err(e) => return node_error(e),
    };
    let engine = match asof::engine(node, &facts, &asof.options()) {
        Ok(e) => e,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, e),
    };
    let at = asof.at.to_string();
    let assumptions = engine.assumptions();
    let p = provenance(node, &name, &at, &facts.inputs, &assumptions);
    match name.as_str() {
        "findings.json" => {
            let report = engine.assess(asof.at);
            let mut value = serde_json::to_value(&report).unwrap_or(Value::Null);
            if let Some(obj) = value.as_object_mut() {
                obj.insert("provenance".to_owned(), p);
            }
            download(&name, "application/json", pretty(&value))
        }
        "findings.csv" => {
            let report = engine.assess(asof.at);
            download(&name, "text/csv; charset=utf-8", findings_csv(&report, &p))
        }
        "timeline.csv" | "timeline.json" => {
            let (default_from, default_to, default_every) = timeline_range(node, &asof);
            let from = match extra.from.as_deref().map(format::parse_instant) {
                None => default_from,
                Some(Some(t)) => t,
                Some(None) => return error_page(StatusCode::BAD_REQUEST, "from: not a date"),
            };
            let to = match extra.to.as_deref().map(format::parse_instant) {
                None => default_to,
                Some(Some(t)) => t,
                Some(None) => return error_page(StatusCode::BAD_REQUEST, "to: not a date"),
            };
            let every = match extra.every.as_deref().map(parse_duration) {
                None => default_every,
                Some(Some(d)) if d.count > 0 => d,
                _ => {
                    return error_page(
                        StatusCode::BAD_REQUEST,
                        "every: a duration such as `1 month`, `7 days` or `24h`",
                    );
                }
            };
            if to < from {
                return error_page(StatusCode::BAD_REQUEST, "`to` is before `from`");
            }
            let timeline = engine.timeline(from, to, every);
            let mut p = p;
            if let Some(obj) = p.as_object_mut() {
                obj.insert(
                    "at".to_owned(),
                    json!(format!(
                        "{} to {}, every {}",
                        timeline.from, timeline.to, timeline.every
                    )),
                );
            }
            if name.ends_with(".json") {
                let mut value = serde_json::to_value(&timeline).unwrap_or(Value::Null);
                if let Some(obj) = value.as_object_mut() {
                    obj.insert("provenance".to_owned(), p);
                }
                download(&name, "application/json", pretty(&value))
            } else {
                let mut out = provenance_lines(&p);
                out.push_str("at,party,provision,status,value,bound,margin\n");
                for t in &timeline.points {
                    let row = [
                        t.at.clone(),
                        t.party.clone(),
                        t.provision.clone(),
                        t.status.as_str().to_owned(),
                        format::num(t.value),
                        format::num(t.bound),
                        format::num(t.margin),
                    ];
                    out.push_str(&row.iter().map(|c| csv(c)).collect::<Vec<_>>().join(","));
                    out.push('\n');
                }
                download(&name, "text/csv; charset=utf-8", out)
            }
        }
        "items.geojson" => {
            let features: Vec<Value> = facts
                .facts
                .items
                .iter()
                .filter(|i| i.exists_at(asof.at))
                .filter_map(|i| {
                    let location = i.location?;
                    Some(json!({
                        "type": "Feature",
                        "id": i.id.as_ref(),
                        "geometry": point(location),
                        "properties": {
                            "party": i.party.as_ref(),
                            "id": i.id.as_ref(),
                            "category": i.category.as_ref(),
                            "attributes": attributes(&i.attributes),
                            "from": i.from.to_string(),
                            "until": i.until.map(|u| u.to_string()),
                        }
                    }))
                })
                .collect();
            let value = json!({"type": "FeatureCollection", "provenance": p, "features": features});
            download(&name, "application/geo+json", pretty(&value))
        }
        "observations.geojson" => {
            let mut features = Vec::new();
            for o in facts.facts.observations.iter().filter(|o| o.at <= asof.at) {
                for (what, pt) in [
                    ("launch_point", o.launch_point),
                    ("impact_point", o.impact_point),
                    ("location", o.location),
                ] {
                    if let Some(pt) = pt {
                        features.push(json!({
                            "type": "Feature",
                            "geometry": point(pt),
                            "properties": {
                                "id": o.id,
                                "observer": o.observer.as_ref(),
                                "party": o.party.as_ref(),
                                "type": o.observed_type.as_ref(),
                                "at": o.at.to_string(),
                                "point": what,
                                "mb": o.mb,
                                "category": o.category.as_deref(),
                                "attributes": attributes(&o.attributes),
                            }
                        }));
                    }
                }
            }
            let value = json!({"type": "FeatureCollection", "provenance": p, "features": features});
            download(&name, "application/geo+json", pretty(&value))
        }
        "receipts.json" => {
            let report = engine.assess(asof.at);
            let places = fact_places(&facts.facts);
            let mut wanted = BTreeSet::new();
            for f in &report.findings {
                if extra.provision.as_ref().is_some_and(|x| *x != f.provision)
                    || extra.party.as_ref().is_some_and(|x| *x != f.party)
                {
                    continue;
                }
                for v in &f.violations {
                    for id in &v.ids {
                        for place in places.get(id).into_iter().flatten() {
                            wanted.insert((
                                place.origin.clone(),
                                place.index,
                                id.clone(),
                                place.kind,
                            ));
                        }
                    }
                }
            }
            drop(engine);
            let total = wanted.len();
            let mut receipts = Vec::new();
            for (origin, index, id, kind) in wanted.into_iter().take(MAX_RECEIPTS) {
                match node.receipt(&origin, index).await {
                    Ok((entry, receipt)) => receipts.push(json!({
                        "fact": id,
                        "kind": kind,
                        "origin": origin,
                        "index": index,
                        "entry": BASE64.encode(entry),
                        "receipt": receipt.format(),
                    })),
                    Err(e) => return node_error(e),
                }
            }
            let value = json!({
                "provenance": p,
                "filter": {"provision": extra.provision, "party": extra.party},
                "total": total,
                "left_out": total.saturating_sub(receipts.len()),
                "receipts": receipts,
            });
            download(&name, "application/json", pretty(&value))
        }
        _ => error_page(
            StatusCode::NOT_FOUND,
            format!("there is no export `{name}`"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_when_they_must_be() {
        assert_eq!(csv("plain"), "plain");
        assert_eq!(csv("a,b"), "\"a,b\"");
        assert_eq!(csv("say \"no\""), "\"say \"\"no\"\"\"");
        assert_eq!(csv("#not a comment"), "\"#not a comment\"");
    }

    #[test]
    fn provenance_lines_name_the_instant_checkpoints_and_params() {
        let p = json!({
            "export": "findings.csv", "node": "US", "made_at": "2026-01-01T00:00:00Z",
            "treaty": {"id": "t", "source_sha256": "ab"},
            "at": "1980-12-31T00:00:00Z",
            "checkpoints": [{"log": "detente/t/US", "size": 42, "root": "cd"}],
            "in_force": "1977-10-03", "in_force_assumed": false,
            "params": {"sdv_ceiling": 2000}, "overridden": ["sdv_ceiling"],
        });
        let text = provenance_lines(&p);
        assert!(text.contains("# at: 1980-12-31T00:00:00Z\n"), "{text}");
        assert!(
            text.contains("# checkpoint: detente/t/US size 42 root cd\n"),
            "{text}"
        );
        assert!(text.contains("# params: sdv_ceiling=2000\n"), "{text}");
        assert!(text.contains("# overridden: [\"sdv_ceiling\"]\n"), "{text}");
    }
}
