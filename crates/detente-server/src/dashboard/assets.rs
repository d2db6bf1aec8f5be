//! The dashboard's static files, compiled into the binary: nothing is fetched from
//! elsewhere, so the pages work on a network cut off from the internet.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// htmx 2.0.11 (`npm pack htmx.org@2.0.11`, `package/dist/htmx.min.js`; BSD Zero Clause).
pub const HTMX: &[u8] = include_bytes!("../../assets/htmx.min.js");
/// The stylesheet.
pub const STYLE: &[u8] = include_bytes!("../../assets/style.css");
/// Natural Earth 1:110m land (public domain) as one SVG path, equirectangular, made by
/// `assets/land-110m.py` (see `assets/README.md`).
pub const WORLD: &[u8] = include_bytes!("../../assets/world.svg");

/// A short hash of every asset, put in the pages' links to them (`?v=…`): a browser that
/// cached an older stylesheet fetches the new one as soon as a new build serves it.
pub fn version() -> &'static str {
    static VERSION: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let mut all = Vec::with_capacity(HTMX.len() + STYLE.len() + WORLD.len());
        for (_, _, bytes) in FILES {
            all.extend_from_slice(bytes);
        }
        detente_node::home::sha256_hex(&all)
            .get(..12)
            .unwrap_or_default()
            .to_owned()
    });
    VERSION.as_str()
}

/// (name, content type, bytes)
const FILES: [(&str, &str, &[u8]); 3] = [
    ("htmx.min.js", "text/javascript; charset=utf-8", HTMX),
    ("style.css", "text/css; charset=utf-8", STYLE),
    ("world.svg", "image/svg+xml", WORLD),
];

/// `GET /assets/{name}`: open to anyone (the login page needs its stylesheet), cached for
/// an hour.
pub async fn serve(Path(name): Path<String>) -> Response {
    match FILES.iter().find(|(n, _, _)| *n == name) {
        Some((_, content_type, bytes)) => (
            [
                (header::CONTENT_TYPE, *content_type),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            *bytes,
        )
            .into_response(),
        None => super::error_page(StatusCode::NOT_FOUND, format!("there is no asset `{name}`")),
    }
}
