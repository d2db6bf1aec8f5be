//! `POST /api/v1/submit`: appends the party's own facts (JSON Lines) to its log.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use detente_node::Store;
use detente_node::users::Role;
use std::sync::Arc;

use super::{bad_request, require};
use crate::operators::Authenticated;
use crate::{ApiError, AppState};

/// Needs an analyst at least; each record is then checked against the operator's role
/// (analysts write observations, officers the party's own facts of every kind), and one
/// record the role may not write refuses the whole submission.
pub async fn submit<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    operator: Authenticated,
    body: Bytes,
) -> Result<Response, ApiError> {
    let operator = require(&operator, Role::Analyst, "submitting facts")?;
    let text = std::str::from_utf8(&body)
        .map_err(|e| bad_request(format!("the body is not UTF-8 (byte {})", e.valid_up_to())))?;
    let source = format!("submission by {}", operator.name);
    let submitted = state
        .node
        .submit_part(text, &source, 1, Some(operator.role))
        .await?;
    state.metrics.count_submitted(submitted.appended);
    tracing::info!(operator = %operator.name, appended = submitted.appended, size = submitted.size, "submitted");
    Ok(Json(submitted).into_response())
}
