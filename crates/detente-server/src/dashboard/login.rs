//! `/login` (an operator pastes its token) and `/logout`.
//!
//! The token goes into the `detente_token` cookie: `HttpOnly` (no script reads it),
//! `SameSite=Strict` (no other site's page can make the browser send it, which is what
//! keeps the officer's form safe from cross-site posts), `Path=/`, for 12 hours (a watch).

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use detente_node::Store;
use serde::Deserialize;
use std::sync::Arc;

use super::{error_page, render_status};
use crate::AppState;
use crate::operators::TOKEN_COOKIE;

/// How long the cookie lasts, in seconds.
pub const COOKIE_MAX_AGE: u64 = 12 * 3600;

#[derive(askama::Template)]
#[template(path = "login.html")]
struct LoginPage {
    next: String,
    error: String,
    message: String,
}

#[derive(Debug, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
    out: Option<String>,
}

/// Only a path on this server: `/…`, not `//host…` or a URL.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/dashboard".to_owned(),
    }
}

pub async fn form(
    query: Result<Query<NextQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let (next, out) = query.map_or((None, None), |Query(q)| (q.next, q.out));
    render_status(
        StatusCode::OK,
        &LoginPage {
            next: safe_next(next.as_deref()),
            error: String::new(),
            message: if out.is_some() {
                "You are logged out.".to_owned()
            } else {
                String::new()
            },
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    token: String,
    next: Option<String>,
}

pub async fn submit<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    form: Result<Form<LoginForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "the login form was not sent whole; reload the page and paste the token again",
        );
    };
    let next = safe_next(form.next.as_deref());
    let token = form.token.trim();
    let refuse = |error: &str| {
        tracing::warn!("dashboard login refused: {error}");
        render_status(
            StatusCode::UNAUTHORIZED,
            &LoginPage {
                next: next.clone(),
                error: error.to_owned(),
                message: String::new(),
            },
        )
    };
    if token.is_empty() {
        return refuse("paste the token `detente user add` printed for you");
    }
    // A token is printable ASCII without separators; anything else is not one of ours and
    // must not reach a header.
    if !token
        .chars()
        .all(|c| c.is_ascii_graphic() && c != ';' && c != ',')
    {
        return refuse("that is not an operator token of this node");
    }
    let operator = match detente_node::users::authenticate(state.node.store(), token).await {
        Ok(Some(operator)) => operator,
        Ok(None) => return refuse("that is not an operator token of this node"),
        Err(e) => {
            return error_page(StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
        }
    };
    tracing::info!(operator = %operator.name, role = %operator.role, "dashboard login");
    let cookie = format!(
        "{TOKEN_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={COOKIE_MAX_AGE}"
    );
    let mut response = Redirect::to(&next).into_response();
    match HeaderValue::from_str(&cookie) {
        Ok(value) => {
            response.headers_mut().insert(header::SET_COOKIE, value);
            response
        }
        Err(_) => refuse("that is not an operator token of this node"),
    }
}

/// Clears the cookie and goes back to the login page.
pub async fn logout() -> Response {
    let mut response = Redirect::to("/login?out=1").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("detente_token=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed_after_login() {
        assert_eq!(
            safe_next(Some("/dashboard/map?at=1980-01-01")),
            "/dashboard/map?at=1980-01-01"
        );
        assert_eq!(safe_next(Some("//evil.example/")), "/dashboard");
        assert_eq!(safe_next(Some("https://evil.example/")), "/dashboard");
        assert_eq!(safe_next(Some("/\\evil.example")), "/dashboard");
        assert_eq!(safe_next(None), "/dashboard");
    }
}
