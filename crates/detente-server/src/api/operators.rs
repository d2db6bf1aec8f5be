//! Operators, for admins: list, add (the token is answered once), remove.

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use detente_node::Store;
use detente_node::users::{Role, UserError, add_user};
use std::sync::Arc;

use super::{
    bad_request, internal, invalid_field, json_bytes, json_object, pretty_json, require, text_field,
};
use crate::operators::Authenticated;
use crate::{ApiError, AppState};

/// `GET /api/v1/operators`: every operator, by name, with role and creation time. Tokens
/// are never shown (only their hashes are kept).
pub async fn list<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    operator: Authenticated,
) -> Result<Response, ApiError> {
    require(&operator, Role::Admin, "listing operators")?;
    let users = state.node.store().users().await.map_err(internal)?;
    let listed: Vec<_> = users
        .into_iter()
        .map(|u| {
            serde_json::json!({
                "name": u.name,
                "role": u.role,
                "created_at": detente_lang::time::Instant::from_unix_seconds(u.created_at_ms.div_euclid(1000)).to_string(),
            })
        })
        .collect();
    Ok(json_bytes(
        StatusCode::OK,
        pretty_json(&serde_json::json!({ "operators": listed }))?,
    ))
}

/// `POST /api/v1/operators` `{"name", "role"}`: adds an operator and answers its token,
/// the only time it is ever shown.
pub async fn add<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    operator: Authenticated,
    body: Bytes,
) -> Result<Response, ApiError> {
    let admin = require(&operator, Role::Admin, "adding an operator")?;
    let map = json_object(&body, &["name", "role"])?;
    let name = text_field(&map, "name", 64)?;
    let role_text = text_field(&map, "role", 16)?;
    let role = Role::parse(&role_text).ok_or_else(|| {
        invalid_field(
            "role",
            format!(
                "`{role_text}` is not a role; the roles are {}",
                Role::ALL.map(Role::name).join(", ")
            ),
        )
    })?;
    let token = add_user(state.node.store(), &name, role, state.node.clock().now_ms())
        .await
        .map_err(|e| match e {
            UserError::BadName(_) => invalid_field("name", e),
            UserError::Store(detente_node::StoreError::Exists(_)) => {
                ApiError::new(StatusCode::CONFLICT, "exists", format!("`name`: {e}"))
            }
            UserError::Store(e) => internal(e),
        })?;
    tracing::info!(admin = %admin.name, added = %name, %role, "operator added");
    Ok(json_bytes(
        StatusCode::CREATED,
        pretty_json(&serde_json::json!({"name": name, "role": role, "token": token}))?,
    ))
}

/// `DELETE /api/v1/operators/{name}`: removes an operator; its token stops working at
/// once. The last admin is not removed (409), so that the node always has someone who
/// can manage operators without the data folder.
pub async fn remove<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    operator: Authenticated,
    name: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let admin = require(&operator, Role::Admin, "removing an operator")?;
    let Path(name) = name.map_err(|e| bad_request(e.body_text()))?;
    let users = state.node.store().users().await.map_err(internal)?;
    let Some(target) = users.iter().find(|u| u.name == name) else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!(
                "there is no operator `{}`",
                name.chars().take(64).collect::<String>()
            ),
        ));
    };
    let admins = users
        .iter()
        .filter(|u| u.role == Role::Admin.name())
        .count();
    if target.role == Role::Admin.name() && admins <= 1 {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "last_admin",
            format!("`{name}` is the only admin; add another admin before removing it"),
        ));
    }
    state
        .node
        .store()
        .remove_user(&name)
        .await
        .map_err(internal)?;
    tracing::info!(admin = %admin.name, removed = %name, "operator removed");
    Ok(json_bytes(
        StatusCode::OK,
        pretty_json(&serde_json::json!({ "removed": name }))?,
    ))
}
