//! Ledger health and receipts: `GET /api/v1/log` and `GET /api/v1/receipt`.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use detente_node::Store;
use detente_node::users::Role;
use serde::Deserialize;
use std::sync::Arc;

use super::{bad_request, require};
use crate::operators::Authenticated;
use crate::{ApiError, AppState};

/// `GET /api/v1/log`: every log's size and root, the entries assessments leave out,
/// mirroring health and equivocations.
pub async fn log<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    operator: Authenticated,
) -> Result<Response, ApiError> {
    require(&operator, Role::Viewer, "reading ledger health")?;
    let logs: Vec<_> = state
        .node
        .log_heads()
        .await
        .into_iter()
        .map(|(origin, size, root, frozen)| {
            serde_json::json!({
                "origin": origin,
                "size": size,
                "root": detente_node::home::hex(&root),
                "frozen": frozen,
            })
        })
        .collect();
    let equivocations: Vec<_> = state
        .node
        .equivocations()
        .await?
        .into_iter()
        .map(|e| {
            serde_json::json!({
                "origin": e.origin,
                "detail": e.detail,
                "held_checkpoint": e.held_note,
                "conflicting_checkpoint": e.conflicting_note,
                "detected_at_ms": e.detected_at_ms,
            })
        })
        .collect();
    // Entries of the logs that assessments leave out (see docs/ledger-format.md).
    let left_out = state.facts().await?.problems.clone();
    Ok(Json(serde_json::json!({
        "party": state.node.party(),
        "origin": state.node.origin(),
        "logs": logs,
        "left_out": left_out,
        "mirrors": state.node.mirror_health(),
        "equivocations": equivocations,
    }))
    .into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptQuery {
    origin: Option<String>,
    index: u64,
}

/// `GET /api/v1/receipt?origin=…&index=…`: an entry's bytes and its C2SP tlog-proof.
pub async fn receipt<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    operator: Authenticated,
    query: Result<Query<ReceiptQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    require(&operator, Role::Viewer, "reading a receipt")?;
    let Query(query) = query.map_err(|e| bad_request(e.body_text()))?;
    let origin = query
        .origin
        .unwrap_or_else(|| state.node.origin().to_owned());
    let (entry, receipt) = state.node.receipt(&origin, query.index).await?;
    Ok(Json(serde_json::json!({
        "origin": origin,
        "index": query.index,
        "entry": BASE64.encode(entry),
        "receipt": receipt.format(),
    }))
    .into_response())
}
