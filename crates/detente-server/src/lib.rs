//! detente's HTTP server: the peer endpoints other nodes mirror and cosign through, and
//! the JSON API (`/api/v1`).
//!
//! Peer endpoints (`/peer/v1/…`) answer only requests signed by a node key of the network
//! file (see `detente_node::auth`). Every API call needs an operator token and checks the
//! operator's role ([`operators`], [`api`]); `/metrics` needs a viewer; `/healthz`, the
//! OpenAPI document and its Swagger UI are open.
//!
//! Every error is JSON of one shape: `{"error": {"status": 400, "code": "…", "message":
//! "…"}}`.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use detente_assess::engine::Options;
use detente_lang::time::{Date, Instant};
use detente_node::auth::{AuthError, RequestVerifier, Sender};
use detente_node::node::NodeError;
use detente_node::peer::{
    CosignatureBody, EntriesBody, MirroredCheckpoint, MirrorsBody, encode_hashes,
};
use detente_node::{Node, Store};
use serde::Deserialize;
use std::sync::Arc;

pub mod api;
pub mod chart;
pub mod dashboard;
pub mod metrics;
pub mod operators;
use operators::Authenticated;

/// Largest request body on peer endpoints, in bytes.
pub const MAX_PEER_BODY: usize = 64 * 1024;
/// Largest submission body, in bytes: what the node accepts in one submission.
pub const MAX_SUBMIT_BODY: usize = detente_node::node::MAX_SUBMISSION_BYTES;
/// Longest a request may take, reading its body included; a slow or stalled client is
/// answered 408 and its request dropped (appends are cancel-safe: nothing half-written).
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// What every handler shares.
#[derive(Debug)]
pub struct AppState<S: Store> {
    pub node: Arc<Node<S>>,
    verifier: RequestVerifier,
    /// Engines kept across requests while the facts do not change.
    pub engines: api::engines::Engines,
    pub metrics: Arc<metrics::Metrics>,
    /// The facts of the logs with the store revision they were read at (see
    /// [`AppState::facts`]).
    facts: std::sync::Mutex<Option<(u64, Arc<detente_node::facts::LogFacts>)>>,
    /// The verified limit proofs of the logs with the store revision they were read at
    /// (see [`AppState::limit_proofs`]).
    limit_proofs: LimitProofsCache,
}

type LimitProofsCache =
    std::sync::Mutex<Option<(u64, Arc<Vec<detente_node::verification::ProofState>>)>>;

impl<S: Store> AppState<S> {
    pub fn new(node: Arc<Node<S>>) -> AppState<S> {
        let verifier = RequestVerifier::new(node.network(), node.origin());
        let metrics = Arc::new(metrics::Metrics::new(node.clock().now_ms()));
        AppState {
            node,
            verifier,
            engines: api::engines::Engines::new(),
            metrics,
            facts: std::sync::Mutex::new(None),
            limit_proofs: std::sync::Mutex::new(None),
        }
    }

    /// The facts of every log the node holds, as `Node::log_facts` reads them, kept while
    /// the store's revision stays the same. One small query per request instead of the
    /// node's check of every log and its cosignatures (two queries per log: sixty for the
    /// thirty logs of a CFE-scale network), which cost more than the assessment itself.
    /// A change by another process sharing the data folder changes the revision too.
    pub async fn facts(&self) -> Result<Arc<detente_node::facts::LogFacts>, NodeError> {
        let revision = self.node.store().revision().await?;
        if let Some((held, facts)) = self
            .facts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            && *held == revision
        {
            return Ok(facts.clone());
        }
        // Read after the revision: if the logs change meanwhile, the facts are newer than
        // the revision they are kept under, and the next request reads them again.
        let facts = self.node.log_facts().await?;
        *self
            .facts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some((revision, facts.clone()));
        Ok(facts)
    }
}

impl<S: Store> AppState<S> {
    /// The limit proofs in the logs, verified, kept while the store's revision stays the
    /// same: a report's limit findings read "proved without disclosure" from them
    /// (`detente_node::verification::apply_limit_proofs`), as on the dashboard and in
    /// `detente prove verify --at`.
    pub async fn limit_proofs(
        &self,
    ) -> Result<Arc<Vec<detente_node::verification::ProofState>>, NodeError> {
        let revision = self.node.store().revision().await?;
        if let Some((held, proofs)) = self
            .limit_proofs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            && *held == revision
        {
            return Ok(proofs.clone());
        }
        let state = self
            .node
            .verification_state(&detente_node::verification::StateOptions::default())
            .await?;
        let proofs = Arc::new(state.limit_proofs);
        *self
            .limit_proofs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some((revision, proofs.clone()));
        Ok(proofs)
    }
}

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(code = self.code, reason = %self.message, "request failed");
        } else {
            tracing::warn!(status = self.status.as_u16(), code = self.code, reason = %self.message, "request refused");
        }
        let body = serde_json::json!({
            "error": {"status": self.status.as_u16(), "code": self.code, "message": self.message}
        });
        (self.status, Json(body)).into_response()
    }
}

impl From<NodeError> for ApiError {
    fn from(e: NodeError) -> ApiError {
        match &e {
            NodeError::Rejected(_) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "rejected", e.to_string())
            }
            NodeError::Invalid(_) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", e.to_string())
            }
            NodeError::NotFound(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "not_found", e.to_string())
            }
            NodeError::Store(detente_node::StoreError::Conflict { .. }) => {
                ApiError::new(StatusCode::CONFLICT, "conflict", e.to_string())
            }
            _ => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", e.to_string())
    }
}

/// The router of one node.
pub fn router<S: Store>(state: Arc<AppState<S>>) -> Router {
    let peer = Router::new()
        .route("/peer/v1/checkpoint", get(peer_checkpoint::<S>))
        .route("/peer/v1/entries", get(peer_entries::<S>))
        .route("/peer/v1/consistency", get(peer_consistency::<S>))
        .route("/peer/v1/inclusion", get(peer_inclusion::<S>))
        .route("/peer/v1/cosignature", post(peer_cosignature::<S>))
        .route("/peer/v1/mirrors", get(peer_mirrors::<S>))
        .layer(DefaultBodyLimit::max(MAX_PEER_BODY));
    let api = api::routes::<S>()
        .route("/api/v1/letters", get(api_letters::<S>))
        .route("/metrics", get(metrics::metrics::<S>))
        .route("/healthz", get(|| async { "ok\n" }));
    let tracked = state.metrics.clone();
    peer.merge(api)
        .fallback(|uri: Uri| async move {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no endpoint {}", uri.path()),
            )
        })
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(axum::middleware::map_response(json_errors))
        .merge(dashboard::routes::<S>())
        .layer(axum::middleware::from_fn_with_state(
            tracked,
            metrics::track,
        ))
        .with_state(state)
}

/// Gives the answers axum and tower make themselves (405, 408, 413…) the one JSON error
/// shape of every other error.
async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (code, message) = match status {
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "this endpoint does not take that method".to_owned(),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            "too_large",
            "the request body is larger than this endpoint accepts".to_owned(),
        ),
        StatusCode::REQUEST_TIMEOUT => (
            "timeout",
            format!(
                "the request took longer than {} s",
                REQUEST_TIMEOUT.as_secs()
            ),
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            "the request body's content type is not accepted here".to_owned(),
        ),
        other => (
            "error",
            other
                .canonical_reason()
                .unwrap_or("the request failed")
                .to_owned(),
        ),
    };
    ApiError::new(status, code, message).into_response()
}

/// A peer `GET` request whose signature was checked and whose query was parsed into `Q`.
struct PeerGet<Q>(Q);

/// No query parameters (any given is refused).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NoQuery {}

impl<S: Store, Q: serde::de::DeserializeOwned> axum::extract::FromRequestParts<Arc<AppState<S>>>
    for PeerGet<Q>
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &Arc<AppState<S>>,
    ) -> Result<Self, Self::Rejection> {
        authenticate(state, &parts.headers, &parts.method, &parts.uri, b"")?;
        let Query(query) = Query::<Q>::try_from_uri(&parts.uri)
            .map_err(|e| ApiError::bad_request(e.body_text()))?;
        Ok(PeerGet(query))
    }
}

/// Checks a peer request's signature.
fn authenticate<S: Store>(
    state: &AppState<S>,
    headers: &HeaderMap,
    method: &Method,
    uri: &Uri,
    body: &[u8],
) -> Result<Sender, ApiError> {
    let path = uri
        .path_and_query()
        .map_or_else(|| uri.path().to_owned(), |p| p.as_str().to_owned());
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    Ok(state.verifier.verify(
        header,
        method.as_str(),
        &path,
        body,
        state.node.clock().now_secs(),
    )?)
}

async fn peer_checkpoint<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    PeerGet(NoQuery {}): PeerGet<NoQuery>,
) -> Result<Response, ApiError> {
    let note = state
        .node
        .checkpoint_with_cosignatures(state.node.origin())
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "empty_log",
                "this node's log is empty",
            )
        })?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], note).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Range {
    from: u64,
    to: u64,
}

async fn peer_entries<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    PeerGet(range): PeerGet<Range>,
) -> Result<Json<EntriesBody>, ApiError> {
    if range.to < range.from {
        return Err(ApiError::bad_request(format!(
            "`to` ({}) is before `from` ({})",
            range.to, range.from
        )));
    }
    let entries = state
        .node
        .entries(state.node.origin(), range.from, range.to)
        .await?;
    Ok(Json(EntriesBody {
        entries: entries.iter().map(|e| BASE64.encode(e)).collect(),
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Sizes {
    old: u64,
    new: u64,
}

async fn peer_consistency<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    PeerGet(sizes): PeerGet<Sizes>,
) -> Result<Response, ApiError> {
    let proof = state
        .node
        .consistency_proof(state.node.origin(), sizes.old, sizes.new)
        .await?;
    Ok(Json(encode_hashes(&proof)).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InclusionQuery {
    index: u64,
    size: u64,
}

async fn peer_inclusion<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    PeerGet(query): PeerGet<InclusionQuery>,
) -> Result<Response, ApiError> {
    let proof = state
        .node
        .inclusion_proof(state.node.origin(), query.index, query.size)
        .await?;
    Ok(Json(encode_hashes(&proof)).into_response())
}

async fn peer_cosignature<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    headers: HeaderMap,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> Result<Response, ApiError> {
    let sender = authenticate(&state, &headers, &method, &uri, &body)?;
    let body: CosignatureBody = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            format!("cosignature body: {e}"),
        )
    })?;
    let new = state
        .node
        .receive_cosignature(&sender.party, body.size, &body.line)
        .await?;
    Ok(Json(serde_json::json!({"new": new})).into_response())
}

async fn peer_mirrors<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    PeerGet(NoQuery {}): PeerGet<NoQuery>,
) -> Result<Json<MirrorsBody>, ApiError> {
    let logs = state
        .node
        .mirrored_checkpoints()
        .await?
        .into_iter()
        .map(|(origin, checkpoint)| MirroredCheckpoint { origin, checkpoint })
        .collect();
    Ok(Json(MirrorsBody { logs }))
}

/// The assessment options of a query: `interpretation`, `assume_in_force`, and `set` as
/// `name=value` (repeatable, and comma-separated within one). Other names are left for
/// the caller, in order.
pub fn assessment_options(
    pairs: Vec<(String, String)>,
) -> Result<(Options, Vec<(String, String)>), ApiError> {
    let mut options = Options::default();
    let mut rest = Vec::new();
    for (name, value) in pairs {
        match name.as_str() {
            "interpretation" => options.interpretation = Some(value),
            "assume_in_force" => {
                options.assume_in_force = Some(Date::parse(&value).ok_or_else(|| {
                    ApiError::bad_request(format!("assume_in_force: `{value}` is not a date"))
                })?);
            }
            "set" => {
                for assignment in value.split(',') {
                    let (param, param_value) = assignment.split_once('=').ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "set: `{assignment}` is not an assignment; write `set=sdv_ceiling=2000`"
                        ))
                    })?;
                    options
                        .params
                        .insert(param.trim().to_owned(), param_value.trim().to_owned());
                }
            }
            _ => rest.push((name, value)),
        }
    }
    Ok((options, rest))
}

/// Parses an instant given as `name` in a query.
pub fn query_instant(name: &str, value: Option<&str>) -> Result<Instant, ApiError> {
    let text = value.ok_or_else(|| {
        ApiError::bad_request(format!(
            "`{name}` is required: a date (1980-01-01) or an instant in UTC (1980-01-01T12:00:00Z)"
        ))
    })?;
    Instant::parse(text).ok_or_else(|| {
        ApiError::bad_request(format!(
            "{name}: `{text}` is not a date (1980-01-01) or an instant in UTC (1980-01-01T12:00:00Z)"
        ))
    })
}

/// Every letter entry in the logs the node holds: metadata only (the node cannot read a
/// letter, and never sends one's bytes here).
async fn api_letters<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    _operator: Authenticated,
) -> Result<Response, ApiError> {
    let listed = detente_node::letters::list(&state.node)
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?;
    let at = |secs: i64| detente_lang::time::Instant::from_unix_seconds(secs).to_string();
    let letters: Vec<_> = listed
        .into_iter()
        .map(|m| {
            serde_json::json!({
                "origin": m.origin,
                "party": m.party,
                "index": m.index,
                "sender": m.sender,
                "addressee": m.addressee,
                "appended_at": at(m.appended_at_ms.div_euclid(1000)),
                "appended_at_ms": m.appended_at_ms,
                "size": m.size,
                "problem": m.problem,
                "cosigned_by": m.cosigned_by.iter().map(|c| serde_json::json!({
                    "cosigner": c.cosigner,
                    "at": at(i64::try_from(c.timestamp).unwrap_or(i64::MAX)),
                    "timestamp": c.timestamp,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(Json(serde_json::json!({ "letters": letters })).into_response())
}
