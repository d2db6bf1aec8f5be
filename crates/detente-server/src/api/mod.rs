//! The JSON API under `/api/v1`: what an implementation office's tools read and write.
//!
//! Every endpoint needs an operator token (see [`crate::operators`]) and checks its role:
//! reads need `viewer`, observations `analyst`, the party's own facts and acknowledgements
//! `officer`, operators `admin`. The OpenAPI document (`/api/v1/openapi.json`) and its
//! Swagger UI (`/api/v1/docs`) are the exceptions: they describe the interface and hold
//! nothing of the party's, and a client must be able to read how to authenticate before
//! it can.
//!
//! Queries are checked by name: an unknown, repeated or malformed parameter is 400 and
//! the message names it. Bodies are size-limited (413) and checked field by field: a body
//! that is not a JSON object is 400, a field that is missing, unknown or of the wrong type
//! is 422, each message starting with the field's name.

use axum::Router;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::extract::rejection::QueryRejection;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use detente_node::Store;
use detente_node::users::{Operator, Role};
use serde_json::{Map, Value};
use std::sync::Arc;

use crate::operators::Authenticated;
use crate::{ApiError, AppState};

pub mod assess;
pub mod doc;
pub mod engines;
pub mod facts;
pub mod ledger;
pub mod notifications;
pub mod operators;
pub mod submit;

/// Largest JSON body of the small endpoints (acknowledgements, operators), in bytes.
pub const MAX_JSON_BODY: usize = 16 * 1024;

/// The `/api/v1` routes (the letters route is added beside them in [`crate::router`]).
pub fn routes<S: Store>() -> Router<Arc<AppState<S>>> {
    let small = DefaultBodyLimit::max(MAX_JSON_BODY);
    Router::new()
        .route("/api/v1/report", get(assess::report::<S>))
        .route("/api/v1/timeline", get(assess::timeline::<S>))
        .route("/api/v1/plan", get(assess::plan::<S>))
        .route("/api/v1/findings", get(assess::findings::<S>))
        .route("/api/v1/facts", get(facts::list::<S>))
        .route(
            "/api/v1/notifications/incoming",
            get(notifications::incoming::<S>),
        )
        .route(
            "/api/v1/notifications/outgoing",
            get(notifications::outgoing::<S>),
        )
        .route(
            "/api/v1/notifications/ack",
            post(notifications::acknowledge::<S>).layer(small),
        )
        .route("/api/v1/log", get(ledger::log::<S>))
        .route("/api/v1/receipt", get(ledger::receipt::<S>))
        .route(
            "/api/v1/submit",
            post(submit::submit::<S>).layer(DefaultBodyLimit::max(crate::MAX_SUBMIT_BODY)),
        )
        .route(
            "/api/v1/operators",
            get(operators::list::<S>)
                .post(operators::add::<S>)
                .layer(small),
        )
        .route(
            "/api/v1/operators/{name}",
            axum::routing::delete(operators::remove::<S>),
        )
        .merge(doc::routes())
}

/// The operator of a request, once its role is checked; also names the operator in the
/// request's log line.
pub fn require<'a>(
    auth: &'a Authenticated,
    role: Role,
    action: &str,
) -> Result<&'a Operator, ApiError> {
    tracing::Span::current().record("operator", auth.0.name.as_str());
    auth.require(role, action)
}

/// The query of a request as name–value pairs, in order.
pub fn query_pairs(
    query: Result<axum::extract::Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Vec<(String, String)>, ApiError> {
    query
        .map(|q| q.0)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", e.body_text()))
}

/// Query parameters checked by name: unknown names are refused, each parameter is taken
/// once (or, for a repeatable one, every time it appears).
#[derive(Debug)]
pub struct Params {
    pairs: Vec<(String, String)>,
    allowed: &'static [&'static str],
}

impl Params {
    /// Refuses a parameter not in `allowed` (400, naming it and the ones allowed).
    pub fn new(
        pairs: Vec<(String, String)>,
        allowed: &'static [&'static str],
    ) -> Result<Params, ApiError> {
        if let Some((name, _)) = pairs.iter().find(|(n, _)| !allowed.contains(&n.as_str())) {
            return Err(bad_request(format!(
                "unknown query parameter `{}`; expected {}",
                name.chars().take(64).collect::<String>(),
                allowed.join(", ")
            )));
        }
        Ok(Params { pairs, allowed })
    }

    /// The one value of `name`, if given; 400 if given twice.
    pub fn one(&self, name: &str) -> Result<Option<&str>, ApiError> {
        debug_assert!(self.allowed.contains(&name));
        let mut values = self.pairs.iter().filter(|(n, _)| n == name);
        let first = values.next().map(|(_, v)| v.as_str());
        if values.next().is_some() {
            return Err(bad_request(format!(
                "`{name}` is given more than once; give it once"
            )));
        }
        Ok(first)
    }

    /// Every value of a repeatable parameter, comma-separated values split.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|(n, _)| n == name)
            .flat_map(|(_, v)| v.split(','))
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// A whole number between `min` and `max`, `default` when absent.
    pub fn number(&self, name: &str, default: u64, min: u64, max: u64) -> Result<u64, ApiError> {
        let Some(text) = self.one(name)? else {
            return Ok(default);
        };
        text.trim()
            .parse::<u64>()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| {
                bad_request(format!(
                    "{name}: `{}` is not a whole number from {min} to {max}",
                    text.chars().take(64).collect::<String>()
                ))
            })
    }
}

pub fn bad_request(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
}

/// A 422 about one field of a body; the message starts with the field's name.
pub fn invalid_field(field: &str, message: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_body",
        format!("`{field}`: {message}"),
    )
}

pub fn internal(message: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        message.to_string(),
    )
}

/// A body that must be a JSON object with only the fields `fields` (400 if it is not an
/// object, 422 for an unknown field).
pub fn json_object(body: &Bytes, fields: &[&str]) -> Result<Map<String, Value>, ApiError> {
    let expected = || {
        fields
            .iter()
            .map(|f| format!("`{f}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(bad_request(format!(
            "the body is empty; send a JSON object with {}",
            expected()
        )));
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| bad_request(format!("the body is not JSON: {e}")))?;
    let Value::Object(map) = value else {
        return Err(bad_request(format!(
            "the body is not a JSON object; send an object with {}",
            expected()
        )));
    };
    if let Some(name) = map.keys().find(|k| !fields.contains(&k.as_str())) {
        return Err(invalid_field(
            &name.chars().take(64).collect::<String>(),
            format!("unknown field; the fields are {}", expected()),
        ));
    }
    Ok(map)
}

/// A required text field of at most `max_chars` characters, not empty.
pub fn text_field(
    map: &Map<String, Value>,
    field: &str,
    max_chars: usize,
) -> Result<String, ApiError> {
    match map.get(field) {
        None => Err(invalid_field(field, "missing")),
        Some(Value::String(text)) if text.trim().is_empty() => {
            Err(invalid_field(field, "is empty"))
        }
        Some(Value::String(text)) if text.chars().count() > max_chars => Err(invalid_field(
            field,
            format!("longer than {max_chars} characters"),
        )),
        Some(Value::String(text)) => Ok(text.trim().to_owned()),
        Some(other) => Err(invalid_field(
            field,
            format!("expected a string, found {}", json_type(other)),
        )),
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A JSON answer, pretty-printed and ending with a newline (as the CLI prints it).
pub fn pretty_json<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, ApiError> {
    let mut body = serde_json::to_vec_pretty(value).map_err(internal)?;
    body.push(b'\n');
    Ok(body)
}

/// An `application/json` answer of bytes already serialized.
pub fn json_bytes(status: StatusCode, body: Vec<u8>) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}
