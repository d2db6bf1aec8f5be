//! `GET /api/v1/facts`: the facts of one kind, page by page, each as its party logged it,
//! with the entry that holds it and a link to that entry's receipt.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use detente_node::Store;
use detente_node::queries::{EntryRef, FactKind, MAX_FACTS_PAGE, facts_page};
use detente_node::users::Role;
use serde_json::Value;
use std::sync::Arc;

use super::{Params, bad_request, json_bytes, pretty_json, query_pairs, require};
use crate::operators::Authenticated;
use crate::{ApiError, AppState};

/// Facts per page unless `limit` says otherwise.
pub const DEFAULT_LIMIT: u64 = 100;
/// The largest `offset` accepted (more than any log's facts: `MAX_RECORDS`).
pub const MAX_OFFSET: u64 = 10_000_000;

pub async fn list<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    operator: Authenticated,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    require(&operator, Role::Viewer, "reading facts")?;
    let params = Params::new(query_pairs(query)?, &["kind", "party", "limit", "offset"])?;
    let kinds = || FactKind::ALL.map(FactKind::name).join(", ");
    let kind_text = params
        .one("kind")?
        .ok_or_else(|| bad_request(format!("`kind` is required: one of {}", kinds())))?;
    let kind = FactKind::parse(kind_text).ok_or_else(|| {
        bad_request(format!(
            "kind: `{}` is not a kind of fact; the kinds are {}",
            kind_text.chars().take(64).collect::<String>(),
            kinds()
        ))
    })?;
    let party = params.one("party")?.map(str::to_owned);
    if let Some(party) = &party {
        let parties = &state.node.treaty().treaty.parties;
        if !parties.contains(party) {
            return Err(bad_request(format!(
                "party: `{}` is not a party of the treaty; its parties are {}",
                party.chars().take(64).collect::<String>(),
                parties.join(", ")
            )));
        }
    }
    let limit = params.number("limit", DEFAULT_LIMIT, 1, MAX_FACTS_PAGE as u64)?;
    let offset = params.number("offset", 0, 0, MAX_OFFSET)?;
    let facts = state.facts().await?;
    let (total, page) = facts_page(
        &facts,
        kind,
        party.as_deref(),
        usize::try_from(offset).unwrap_or(usize::MAX),
        usize::try_from(limit).unwrap_or(MAX_FACTS_PAGE),
    );
    let logged = state.node.logged_facts(&page).await?;
    let listed: Vec<Value> = logged
        .into_iter()
        .map(|f| {
            let receipt = EntryRef {
                origin: f.origin.clone(),
                index: f.index,
            }
            .receipt_path();
            serde_json::json!({
                "origin": f.origin,
                "index": f.index,
                "appended_at": f.appended_at,
                "record": f.record,
                "receipt": receipt,
            })
        })
        .collect();
    let body = pretty_json(&serde_json::json!({
        "kind": kind,
        "party": party,
        "total": total,
        "offset": offset,
        "limit": limit,
        "facts": listed,
    }))?;
    Ok(json_bytes(StatusCode::OK, body))
}
