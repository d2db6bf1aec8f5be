//! The dashboard: the web pages an implementation office works in, rendered on the server
//! (askama templates in `templates/`, htmx for the partial updates of the what-if page),
//! with every asset served from the binary.
//!
//! | path | page |
//! | --- | --- |
//! | `/login`, `/logout` | paste an operator token; the `detente_token` cookie |
//! | `/dashboard` | overview: the status matrix (party × provision), as of an instant or checkpoints |
//! | `/dashboard/provision/{id}` | a provision: value against bound, milestones, findings, violations |
//! | `/dashboard/fact?origin=&index=` | one entry of a log: the fact, its receipt, its cosignatures |
//! | `/dashboard/deadlines` | declarations due, launch windows, phase-in dates, sunsets |
//! | `/dashboard/notifications` | incoming and outgoing notifications; officers file one |
//! | `/dashboard/letters` | letters between principals, as metadata only (never their content) |
//! | `/dashboard/map` | zones, items and observations on a world outline |
//! | `/dashboard/verification` | escrowed declarations, reveals, seed rounds, inspections, detection probability, limit proofs |
//! | `/dashboard/ledger` | checkpoints, cosignatures, mirror freshness, equivocations |
//! | `/dashboard/what-if` | findings under other params, nothing written |
//! | `/dashboard/exports` | CSV, JSON and GeoJSON exports, receipts |
//! | `/assets/…` | the stylesheet, htmx and the world outline |
//!
//! Every page needs an operator (any role reads); filing a notification needs an officer.
//! A browser without a valid token is sent to `/login`. The routes are merged into the
//! node's router after its JSON error layer, so the pages answer HTML, errors included.

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts};
use axum::http::{HeaderValue, StatusCode, header, request::Parts};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use detente_node::Store;
use detente_node::users::Role;
use std::sync::Arc;

use crate::AppState;
use crate::operators::Authenticated;

mod asof;
mod assets;
mod deadlines;
mod exports;
mod format;
mod ledger;
mod letters;
mod login;
mod map;
mod notifications;
mod overview;
mod provision;
mod verification;
mod whatif;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_pages;

/// Largest form body the dashboard accepts, in bytes.
pub const MAX_FORM_BODY: usize = 64 * 1024;
/// Longest a page may take.
pub const PAGE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// The dashboard's routes, to merge into the node's router (before its state is given).
pub fn routes<S: Store>() -> Router<Arc<AppState<S>>> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/dashboard") }))
        .route("/login", get(login::form).post(login::submit::<S>))
        .route("/logout", get(login::logout).post(login::logout))
        .route("/assets/{name}", get(assets::serve))
        .route("/dashboard", get(overview::page::<S>))
        .route("/dashboard/provision/{id}", get(provision::page::<S>))
        .route("/dashboard/fact", get(provision::fact::<S>))
        .route("/dashboard/deadlines", get(deadlines::page::<S>))
        .route(
            "/dashboard/notifications",
            get(notifications::page::<S>).post(notifications::file::<S>),
        )
        .route("/dashboard/letters", get(letters::page::<S>))
        .route("/dashboard/map", get(map::page::<S>))
        .route("/dashboard/verification", get(verification::page::<S>))
        .route(
            "/dashboard/verification/detection",
            get(verification::detection::<S>),
        )
        .route("/dashboard/ledger", get(ledger::page::<S>))
        .route("/dashboard/what-if", get(whatif::page::<S>))
        .route("/dashboard/what-if/findings", get(whatif::findings::<S>))
        .route("/dashboard/exports", get(exports::page::<S>))
        .route("/dashboard/exports/{file}", get(exports::file::<S>))
        .route("/dashboard/{*rest}", get(not_found))
        .layer(DefaultBodyLimit::max(MAX_FORM_BODY))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            PAGE_TIMEOUT,
        ))
        .layer(axum::middleware::map_response(page_headers))
}

/// A page the dashboard does not have (for an operator; others are sent to log in).
async fn not_found(_viewer: Viewer, uri: axum::http::Uri) -> Response {
    error_page(
        StatusCode::NOT_FOUND,
        format!("the dashboard has no page {}", uri.path()),
    )
}

/// What every dashboard answer carries: no caching of pages (they show a log's live
/// state and an operator's name), a content security policy that allows nothing from
/// elsewhere, and no framing.
async fn page_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let is_asset = headers
        .get(header::CACHE_CONTROL)
        .is_some_and(|v| v.as_bytes().starts_with(b"public"));
    if !is_asset {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
             object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// An operator looking at a page. Built on [`Authenticated`]: a request without a valid
/// token is sent to `/login` (htmx requests are told to go there with `HX-Redirect`).
#[derive(Debug, Clone)]
pub struct Viewer(pub Authenticated);

impl Viewer {
    pub fn name(&self) -> &str {
        &self.0.0.name
    }

    pub fn role(&self) -> Role {
        self.0.0.role
    }

    /// [`Authenticated::require`], answered as an HTML page.
    pub async fn require(&self, role: Role, action: &str) -> Result<(), Response> {
        match self.0.require(role, action) {
            Ok(_) => Ok(()),
            Err(e) => Err(error_page_from(e.into_response()).await),
        }
    }
}

impl<S: Store> FromRequestParts<Arc<AppState<S>>> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState<S>>,
    ) -> Result<Self, Self::Rejection> {
        match Authenticated::from_request_parts(parts, state).await {
            Ok(operator) => Ok(Viewer(operator)),
            Err(e) => {
                let response = e.into_response();
                if response.status() != StatusCode::UNAUTHORIZED {
                    return Err(error_page_from(response).await);
                }
                let next = parts
                    .uri
                    .path_and_query()
                    .map_or("/dashboard", |p| p.as_str())
                    .to_owned();
                let target = format!("/login?next={}", format::encode(&next));
                if parts.headers.contains_key("hx-request") {
                    let mut answer = StatusCode::UNAUTHORIZED.into_response();
                    if let Ok(value) = HeaderValue::from_str(&target) {
                        answer.headers_mut().insert("hx-redirect", value);
                    }
                    return Err(answer);
                }
                Err(Redirect::to(&target).into_response())
            }
        }
    }
}

/// What the navigation bar and the page frame show.
#[derive(Debug, Clone)]
pub struct Layout {
    pub title: String,
    pub party: String,
    pub treaty: String,
    pub operator: String,
    pub role: String,
    /// The node's clock, for "as of now".
    pub now: String,
    /// The query string (as-of and params) the nav links carry, with its `?`, or empty.
    pub query: String,
    pub nav: Vec<NavItem>,
}

#[derive(Debug, Clone)]
pub struct NavItem {
    pub label: &'static str,
    pub href: String,
    pub current: bool,
}

/// The pages of the nav bar: (section, label, path).
const NAV: [(&str, &str, &str); 9] = [
    ("overview", "Overview", "/dashboard"),
    ("deadlines", "Deadlines", "/dashboard/deadlines"),
    ("notifications", "Notifications", "/dashboard/notifications"),
    ("letters", "Letters", "/dashboard/letters"),
    ("map", "Map", "/dashboard/map"),
    ("verification", "Verification", "/dashboard/verification"),
    ("ledger", "Ledger", "/dashboard/ledger"),
    ("what-if", "What-if", "/dashboard/what-if"),
    ("exports", "Exports", "/dashboard/exports"),
];

impl Layout {
    /// The frame of a page of `section` (a key of the nav bar, or another word for a page
    /// outside it); `query` is the as-of selection the nav links keep.
    pub fn new<S: Store>(
        state: &AppState<S>,
        viewer: &Viewer,
        title: impl Into<String>,
        section: &str,
        query: &str,
    ) -> Layout {
        let query = if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        };
        Layout {
            title: title.into(),
            party: state.node.party().to_owned(),
            treaty: state.node.treaty().treaty.title.clone(),
            operator: viewer.name().to_owned(),
            role: viewer.role().name().to_owned(),
            now: format::instant_minutes(format::now(state.node.clock())),
            nav: NAV
                .iter()
                .map(|(key, label, path)| NavItem {
                    label,
                    href: format!("{path}{query}"),
                    current: *key == section,
                })
                .collect(),
            query,
        }
    }
}

#[derive(askama::Template)]
#[template(path = "error.html")]
struct ErrorPage {
    status: u16,
    reason: String,
    message: String,
}

/// An HTML page for an error.
pub fn error_page(status: StatusCode, message: impl Into<String>) -> Response {
    let page = ErrorPage {
        status: status.as_u16(),
        reason: status.canonical_reason().unwrap_or("Error").to_owned(),
        message: message.into(),
    };
    match askama::Template::render(&page) {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => (status, format!("{status}: {e}")).into_response(),
    }
}

/// The HTML page of an API error answer (`{"error": {"message": …}}`), same status.
pub async fn error_page_from(response: Response) -> Response {
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), MAX_FORM_BODY)
        .await
        .unwrap_or_default();
    let message = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| {
            v.get("error")
                .and_then(|e| e.get("message"))
                .and_then(|m| m.as_str())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
    error_page(status, message)
}

/// Renders a template into an HTML answer (a 500 page if rendering fails).
pub fn render(template: &impl askama::Template) -> Response {
    render_status(StatusCode::OK, template)
}

pub fn render_status(status: StatusCode, template: &impl askama::Template) -> Response {
    match template.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => error_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the page could not be rendered: {e}"),
        ),
    }
}

/// A node error as a page.
pub fn node_error(e: detente_node::NodeError) -> Response {
    use detente_node::NodeError;
    let status = match &e {
        NodeError::Invalid(_) | NodeError::Rejected(_) => StatusCode::BAD_REQUEST,
        NodeError::NotFound(_) => StatusCode::NOT_FOUND,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    if status.is_server_error() {
        tracing::error!(error = %e, "dashboard page failed");
    }
    error_page(status, e.to_string())
}
