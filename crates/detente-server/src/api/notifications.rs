//! Notifications: those received from the other parties (in their mirrored logs), those
//! this party sent (in its own log), and the office's acknowledgements.
//!
//! The proof that a notification was received is a cosignature: the receiving node's
//! signature, with its time, on a checkpoint of the sender's log that covers the entry.
//! An acknowledgement is something else: a person of this office saying "seen". It is
//! kept in this node's store only, never appended to the party's log, because it is the
//! office's own work record, not a statement the party makes to the others under the
//! treaty; putting it in the log would make every click of a duty officer a signed,
//! permanent entry that the other parties mirror and that assessments would have to read.

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use detente_node::Store;
use detente_node::queries::MAX_NAME_CHARS;
use detente_node::users::Role;
use std::sync::Arc;

use super::{
    Params, bad_request, json_bytes, json_object, pretty_json, query_pairs, require, text_field,
};
use crate::operators::Authenticated;
use crate::{ApiError, AppState};

fn flag(params: &Params, name: &str) -> Result<Option<bool>, ApiError> {
    match params.one(name)? {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(other) => Err(bad_request(format!(
            "{name}: `{}` is not `true` or `false`",
            other.chars().take(64).collect::<String>()
        ))),
    }
}

/// `GET /api/v1/notifications/incoming`: the other parties' notifications, with this
/// node's time of receipt, the lead time it left, and who acknowledged it.
pub async fn incoming<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    operator: Authenticated,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    require(&operator, Role::Viewer, "reading notifications")?;
    let params = Params::new(query_pairs(query)?, &["party", "acknowledged"])?;
    let party = params.one("party")?.map(str::to_owned);
    let acknowledged = flag(&params, "acknowledged")?;
    let mut list = state.node.incoming_notifications().await?;
    list.retain(|n| {
        party.as_ref().is_none_or(|p| *p == n.party)
            && acknowledged.is_none_or(|a| a == n.acknowledged.is_some())
    });
    let body = pretty_json(&serde_json::json!({ "notifications": list }))?;
    Ok(json_bytes(StatusCode::OK, body))
}

/// `GET /api/v1/notifications/outgoing`: this party's notifications, with each other
/// party's cosignature time (its proof of receipt) and the lead time that left.
pub async fn outgoing<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    operator: Authenticated,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    require(&operator, Role::Viewer, "reading notifications")?;
    Params::new(query_pairs(query)?, &[])?;
    let list = state.node.outgoing_notifications().await?;
    let body = pretty_json(&serde_json::json!({ "notifications": list }))?;
    Ok(json_bytes(StatusCode::OK, body))
}

/// `POST /api/v1/notifications/ack` `{"party", "id"}`: records that the calling officer
/// acknowledged that notification. Acknowledging again changes nothing (`new: false`,
/// and the first acknowledgement is answered).
pub async fn acknowledge<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    operator: Authenticated,
    body: Bytes,
) -> Result<Response, ApiError> {
    let operator = require(&operator, Role::Officer, "acknowledging a notification")?;
    let map = json_object(&body, &["party", "id"])?;
    let party = text_field(&map, "party", MAX_NAME_CHARS)?;
    let id = text_field(&map, "id", MAX_NAME_CHARS)?;
    let (acknowledged, new) = state.node.acknowledge(&party, &id, &operator.name).await?;
    if new {
        tracing::info!(operator = %operator.name, party, id, "notification acknowledged");
    }
    let body = pretty_json(&serde_json::json!({
        "party": party,
        "id": id,
        "acknowledged": acknowledged,
        "new": new,
    }))?;
    Ok(json_bytes(StatusCode::OK, body))
}
