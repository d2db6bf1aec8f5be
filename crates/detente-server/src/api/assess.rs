//! Assessments from the logs: the report at an instant, a timeline, the reductions each
//! party still owes, and the findings with the log entries behind each violation.
//!
//! All four run on the engine kept for the current facts ([`super::engines`]), so an
//! answer costs the assessment, not the indexing of the facts.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use detente_assess::engine::{Engine, Options};
use detente_assess::report::{Status, summarize};
use detente_lang::time::{Duration, Instant, TimeUnit};
use detente_node::Store;
use detente_node::users::Role;
use serde_json::Value;
use std::sync::Arc;

use super::engines::{EngineFailure, Prepared};
use super::{Params, bad_request, internal, json_bytes, pretty_json, query_pairs, require};
use crate::operators::Authenticated;
use crate::{ApiError, AppState, assessment_options, query_instant};

/// The most instants one timeline may have (each gives one point per party and limit).
pub const MAX_TIMELINE_INSTANTS: usize = 1000;
/// The most log entries listed for one violation (the rest are counted).
pub const MAX_ENTRIES_PER_VIOLATION: usize = 1000;

const OPTIONS: [&str; 3] = ["interpretation", "assume_in_force", "set"];

type QueryArg = Result<Query<Vec<(String, String)>>, QueryRejection>;

/// Runs `work` with the engine for the node's current facts and `options`.
pub async fn with_engine<S, R, F>(
    state: &AppState<S>,
    options: Options,
    work: F,
) -> Result<R, ApiError>
where
    S: Store,
    R: Send + 'static,
    F: for<'e, 't, 'f> FnOnce(&'e Engine<'t, 'f>, &'e Prepared<'e>) -> R + Send + 'static,
{
    let facts = state.facts().await?;
    state
        .engines
        .run(facts, state.node.treaty_handle(), options, work)
        .await
        .map_err(|e| match e {
            EngineFailure::Options(e) => bad_request(e.to_string()),
            EngineFailure::Failed => internal(e),
        })
}

/// The assessment options and the other parameters of a query, checked against `allowed`
/// (which lists the options too, for the message).
fn options_and_params(
    query: QueryArg,
    allowed: &'static [&'static str],
) -> Result<(Options, Params), ApiError> {
    let (options, rest) = assessment_options(query_pairs(query)?)?;
    Ok((options, Params::new(rest, allowed)?))
}

fn instant_param(params: &Params, name: &str) -> Result<Instant, ApiError> {
    query_instant(name, params.one(name)?)
}

/// Parties named by a repeatable `party`, each checked against the treaty's.
fn parties_param<S: Store>(state: &AppState<S>, params: &Params) -> Result<Vec<String>, ApiError> {
    let treaty = &state.node.treaty().treaty;
    let parties = params.all("party");
    for party in &parties {
        if !treaty.parties.contains(party) {
            return Err(bad_request(format!(
                "party: `{}` is not a party of the treaty; its parties are {}",
                party.chars().take(64).collect::<String>(),
                treaty.parties.join(", ")
            )));
        }
    }
    Ok(parties)
}

/// `GET /api/v1/report`: the report of `assess --format json`, byte for byte, except that
/// a limit the engine has no value for reads `compliant`, "proved without disclosure",
/// where the party's log holds a verified limit proof for it (docs/verification.md).
pub async fn report<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    operator: Authenticated,
    query: QueryArg,
) -> Result<Response, ApiError> {
    require(&operator, Role::Viewer, "reading the report")?;
    const ALLOWED: &[&str] = &["at", OPTIONS[0], OPTIONS[1], OPTIONS[2]];
    let (options, params) = options_and_params(query, ALLOWED)?;
    let at = instant_param(&params, "at")?;
    let proofs = state.limit_proofs().await?;
    let body = with_engine(&state, options, move |engine, _| {
        let mut report = engine.assess(at);
        detente_node::verification::apply_limit_proofs(&mut report, &proofs);
        pretty_json(&report)
    })
    .await??;
    Ok(json_bytes(StatusCode::OK, body))
}

/// A duration written as the CLI's `--every` takes it: `1 month`, `6 months`, `30 days`.
pub fn parse_every(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let count = text
        .get(..split)
        .and_then(|n| n.parse::<i64>().ok())
        .filter(|n| *n > 0)?;
    let unit = TimeUnit::from_word(text.get(split..)?.trim())?;
    Some(Duration::new(count, unit))
}

/// How many instants a timeline from `from` to `to` by `every` has, counted as the engine
/// steps (up to `MAX_TIMELINE_INSTANTS + 1`).
fn count_instants(from: Instant, to: Instant, every: Duration) -> usize {
    let mut k = 0i64;
    let mut n = 0usize;
    while let Some(t) = from.checked_add(Duration::new(every.count.saturating_mul(k), every.unit)) {
        if t > to || n > MAX_TIMELINE_INSTANTS {
            break;
        }
        n += 1;
        k += 1;
    }
    n
}

/// `GET /api/v1/timeline`: limits and objectives at every step from `from` to `to`.
pub async fn timeline<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    operator: Authenticated,
    query: QueryArg,
) -> Result<Response, ApiError> {
    require(&operator, Role::Viewer, "reading a timeline")?;
    const ALLOWED: &[&str] = &[
        "from", "to", "every", "party", OPTIONS[0], OPTIONS[1], OPTIONS[2],
    ];
    let (options, params) = options_and_params(query, ALLOWED)?;
    let from = instant_param(&params, "from")?;
    let to = instant_param(&params, "to")?;
    if to < from {
        return Err(bad_request(format!("to: `{to}` is before from (`{from}`)")));
    }
    let every_text = params.one("every")?.unwrap_or("1 month");
    let every = parse_every(every_text).ok_or_else(|| {
        bad_request(format!(
            "every: `{}` is not a duration; write it as `1 month`, `6 months`, `1 year` or `30 days`",
            every_text.chars().take(64).collect::<String>()
        ))
    })?;
    let instants = count_instants(from, to, every);
    if instants > MAX_TIMELINE_INSTANTS {
        return Err(bad_request(format!(
            "every: from {from} to {to} by {every} is more than {MAX_TIMELINE_INSTANTS} instants; take a longer step or a shorter span"
        )));
    }
    let parties = parties_param(&state, &params)?;
    let body = with_engine(&state, options, move |engine, _| {
        let mut timeline = engine.timeline(from, to, every);
        if !parties.is_empty() {
            timeline.points.retain(|p| parties.contains(&p.party));
        }
        pretty_json(&timeline)
    })
    .await??;
    Ok(json_bytes(StatusCode::OK, body))
}

/// `GET /api/v1/plan`: for each party (or those named), the milestones it still has to
/// meet and what it owes.
pub async fn plan<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    operator: Authenticated,
    query: QueryArg,
) -> Result<Response, ApiError> {
    require(&operator, Role::Viewer, "reading a plan")?;
    const ALLOWED: &[&str] = &["at", "party", OPTIONS[0], OPTIONS[1], OPTIONS[2]];
    let (options, params) = options_and_params(query, ALLOWED)?;
    let at = instant_param(&params, "at")?;
    let mut parties = parties_param(&state, &params)?;
    if parties.is_empty() {
        parties = state.node.treaty().treaty.parties.clone();
    }
    let body = with_engine(&state, options, move |engine, _| {
        let plans: Vec<_> = parties.iter().map(|p| engine.plan(p, at)).collect();
        pretty_json(&plans)
    })
    .await??;
    Ok(json_bytes(StatusCode::OK, body))
}

/// `GET /api/v1/findings`: the report's findings (optionally only some parties,
/// provisions or statuses), each violation with the log entries that hold the facts it
/// names and a link to each entry's receipt.
pub async fn findings<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    operator: Authenticated,
    query: QueryArg,
) -> Result<Response, ApiError> {
    require(&operator, Role::Viewer, "reading findings")?;
    const ALLOWED: &[&str] = &[
        "at",
        "party",
        "provision",
        "status",
        OPTIONS[0],
        OPTIONS[1],
        OPTIONS[2],
    ];
    let (options, params) = options_and_params(query, ALLOWED)?;
    let at = instant_param(&params, "at")?;
    let parties = parties_param(&state, &params)?;
    let provisions = params.all("provision");
    {
        let treaty = &state.node.treaty().treaty;
        for p in &provisions {
            if treaty.provision(p).is_none() {
                let ids: Vec<&str> = treaty.provisions.iter().map(|p| p.id.as_str()).collect();
                return Err(bad_request(format!(
                    "provision: `{}` is not a provision of the treaty; its provisions are {}",
                    p.chars().take(64).collect::<String>(),
                    ids.join(", ")
                )));
            }
        }
    }
    let mut statuses = Vec::new();
    for s in params.all("status") {
        let status = Status::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| {
                bad_request(format!(
                    "status: `{}` is not a status; the statuses are {}",
                    s.chars().take(64).collect::<String>(),
                    Status::ALL.map(Status::as_str).join(", ")
                ))
            })?;
        statuses.push(status);
    }
    let proofs = state.limit_proofs().await?;
    let body = with_engine(&state, options, move |engine, prepared| {
        let mut report = engine.assess(at);
        detente_node::verification::apply_limit_proofs(&mut report, &proofs);
        report.findings.retain(|f| {
            (parties.is_empty() || parties.contains(&f.party))
                && (provisions.is_empty() || provisions.contains(&f.provision))
                && (statuses.is_empty() || statuses.contains(&f.status))
        });
        report.summary = summarize(&report.findings);
        let mut value = serde_json::to_value(&report).map_err(internal)?;
        add_entries(&mut value, prepared);
        pretty_json(&value)
    })
    .await??;
    Ok(json_bytes(StatusCode::OK, body))
}

/// Adds to each violation of a serialized report the entries holding the facts it names:
/// `entries` [{id, origin, index, receipt}] and, when there are more than
/// [`MAX_ENTRIES_PER_VIOLATION`], `entries_left_out`.
fn add_entries(report: &mut Value, prepared: &Prepared<'_>) {
    let by_id = prepared.entries_by_id();
    let Some(findings) = report.get_mut("findings").and_then(Value::as_array_mut) else {
        return;
    };
    for finding in findings {
        let Some(violations) = finding.get_mut("violations").and_then(Value::as_array_mut) else {
            continue;
        };
        for violation in violations {
            let ids: Vec<String> = violation
                .get("ids")
                .and_then(Value::as_array)
                .map(|ids| {
                    ids.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            let mut entries = Vec::new();
            let mut left_out = 0u64;
            for id in &ids {
                for at in by_id.get(id).map(Vec::as_slice).unwrap_or(&[]) {
                    if entries.len() >= MAX_ENTRIES_PER_VIOLATION {
                        left_out += 1;
                        continue;
                    }
                    entries.push(serde_json::json!({
                        "id": id,
                        "origin": at.origin,
                        "index": at.index,
                        "receipt": at.receipt_path(),
                    }));
                }
            }
            if let Some(object) = violation.as_object_mut() {
                object.insert("entries".to_owned(), Value::Array(entries));
                if left_out > 0 {
                    object.insert("entries_left_out".to_owned(), Value::from(left_out));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_is_read_as_the_cli_reads_it_and_timelines_are_bounded() {
        assert_eq!(
            parse_every("6 months"),
            Some(Duration::new(6, TimeUnit::Month))
        );
        assert_eq!(parse_every("0 days"), None);
        assert_eq!(parse_every("soon"), None);
        let from = Instant::parse("1980-01-01").unwrap();
        let to = Instant::parse("1981-01-01").unwrap();
        assert_eq!(
            count_instants(from, to, Duration::new(1, TimeUnit::Month)),
            13
        );
        let far = Instant::parse("2200-01-01").unwrap();
        assert_eq!(
            count_instants(from, far, Duration::new(1, TimeUnit::Day)),
            MAX_TIMELINE_INSTANTS + 1
        );
    }
}
