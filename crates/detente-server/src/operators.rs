//! Who is asking: the operator a request's token belongs to, and the role checks every API
//! call and page makes.
//!
//! A token comes as `Authorization: Bearer TOKEN` (API clients) or as the `detente_token`
//! cookie (the dashboard, set at login). No token is 401; a token of no operator is 401; an
//! operator whose role does not allow the call is 403. Every refusal is logged.

use axum::extract::FromRequestParts;
use axum::http::{StatusCode, header, request::Parts};
use detente_node::Store;
use detente_node::users::{Operator, Role};
use std::sync::Arc;

use crate::{ApiError, AppState};

/// The cookie the dashboard keeps the token in.
pub const TOKEN_COOKIE: &str = "detente_token";

/// The token a request carries, from its `Authorization` header or its cookie.
pub fn request_token(parts: &Parts) -> Option<String> {
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let text = value.to_str().ok()?;
        return text.strip_prefix("Bearer ").map(|t| t.trim().to_owned());
    }
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == TOKEN_COOKIE)
        .map(|(_, value)| value.trim().to_owned())
}

/// An authenticated operator (any role). Use [`Authenticated::require`] for more.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Operator);

impl Authenticated {
    /// Refuses (403) unless the operator's role is at least `role`; `action` says what was
    /// asked, as in "filing a notification".
    pub fn require(&self, role: Role, action: &str) -> Result<&Operator, ApiError> {
        if self.0.role >= role {
            return Ok(&self.0);
        }
        let article = if matches!(self.0.role, Role::Analyst | Role::Officer | Role::Admin) {
            "an"
        } else {
            "a"
        };
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "`{}` is {article} {}; {action} needs the {role} role",
                self.0.name, self.0.role
            ),
        ))
    }
}

impl<S: Store> FromRequestParts<Arc<AppState<S>>> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState<S>>,
    ) -> Result<Self, Self::Rejection> {
        let Some(token) = request_token(parts) else {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                format!(
                    "{} needs an operator token: `Authorization: Bearer TOKEN` (make one with `detente user add NAME --role viewer --data DIR`)",
                    parts.uri.path()
                ),
            ));
        };
        let operator = detente_node::users::authenticate(state.node.store(), &token)
            .await
            .map_err(|e| {
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
            })?
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthenticated",
                    "the token is not the token of any operator of this node",
                )
            })?;
        tracing::debug!(operator = %operator.name, role = %operator.role, path = parts.uri.path(), "authenticated");
        Ok(Authenticated(operator))
    }
}
