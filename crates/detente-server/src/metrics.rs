//! `/metrics` in the Prometheus text format (version 0.0.4), and the middleware that
//! times every request and writes its log line.
//!
//! A few atomics are all this needs, so there is no metrics library: request latencies are
//! one histogram per (route, status), with the route as axum matched it (`/api/v1/report`,
//! never the query or a path parameter, so the label set stays small); log sizes, mirror
//! lag and equivocations are read from the node when scraped.
//!
//! | metric | type | labels |
//! | --- | --- | --- |
//! | `detente_http_request_duration_seconds` | histogram | `route`, `status` |
//! | `detente_log_entries` | gauge | `origin` |
//! | `detente_log_frozen` | gauge (0/1) | `origin` |
//! | `detente_mirror_lag_seconds` | gauge | `party` |
//! | `detente_mirror_last_success_timestamp_seconds` | gauge | `party` |
//! | `detente_mirror_consecutive_failures` | gauge | `party` |
//! | `detente_equivocations` | gauge | `origin` |
//! | `detente_submitted_entries_total` | counter | |
//! | `detente_start_time_seconds` | gauge | |

use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use detente_node::Store;
use detente_node::users::Role;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tracing::Instrument as _;

use crate::operators::Authenticated;
use crate::{ApiError, AppState};

/// Upper bounds of the latency buckets, in seconds (`+Inf` follows).
pub const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// One latency histogram.
#[derive(Debug, Default)]
struct Histogram {
    /// Counts per bucket (not cumulative); the last is `+Inf`.
    buckets: [AtomicU64; BUCKETS.len() + 1],
    sum_micros: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    fn observe(&self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let slot = BUCKETS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(BUCKETS.len());
        if let Some(bucket) = self.buckets.get(slot) {
            bucket.fetch_add(1, Ordering::Relaxed);
        }
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }
}

/// The server's own counters (what the node cannot tell when scraped).
#[derive(Debug)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, u16), Arc<Histogram>>>,
    submitted: AtomicU64,
    started_ms: i64,
}

impl Metrics {
    /// Metrics of a server started at `started_ms` (the node's clock).
    pub fn new(started_ms: i64) -> Metrics {
        Metrics {
            requests: Mutex::new(BTreeMap::new()),
            submitted: AtomicU64::new(0),
            started_ms,
        }
    }

    /// Records one answered request.
    pub fn observe(&self, route: &str, status: u16, elapsed: Duration) {
        let histogram = {
            let mut requests = self.requests.lock().unwrap_or_else(PoisonError::into_inner);
            requests
                .entry((route.to_owned(), status))
                .or_default()
                .clone()
        };
        histogram.observe(elapsed);
    }

    /// Counts entries appended through the API.
    pub fn count_submitted(&self, entries: u64) {
        self.submitted.fetch_add(entries, Ordering::Relaxed);
    }

    /// The request histograms in the text format.
    fn write_requests(&self, out: &mut String) {
        let requests: Vec<((String, u16), Arc<Histogram>)> = self
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        out.push_str("# HELP detente_http_request_duration_seconds Time to answer a request, by route and status.\n");
        out.push_str("# TYPE detente_http_request_duration_seconds histogram\n");
        for ((route, status), h) in requests {
            let labels = format!("route=\"{}\",status=\"{status}\"", label(&route));
            let mut cumulative = 0u64;
            for (bound, bucket) in BUCKETS.iter().zip(h.buckets.iter()) {
                cumulative += bucket.load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "detente_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}"
                );
            }
            let count = h.count.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "detente_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {count}"
            );
            let sum = h.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
            let _ = writeln!(
                out,
                "detente_http_request_duration_seconds_sum{{{labels}}} {sum}"
            );
            let _ = writeln!(
                out,
                "detente_http_request_duration_seconds_count{{{labels}}} {count}"
            );
        }
    }
}

/// A label value with `\`, `"` and newlines escaped.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn gauge_header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// The whole text of `/metrics`.
pub async fn render<S: Store>(state: &AppState<S>) -> Result<String, ApiError> {
    let node = &state.node;
    let now_ms = node.clock().now_ms();
    let mut out = String::new();

    gauge_header(
        &mut out,
        "detente_log_entries",
        "gauge",
        "Entries in each log this node holds (its own and its mirrors), at its latest checkpoint.",
    );
    let heads = node.log_heads().await;
    for (origin, size, _, _) in &heads {
        let _ = writeln!(
            out,
            "detente_log_entries{{origin=\"{}\"}} {size}",
            label(origin)
        );
    }
    gauge_header(
        &mut out,
        "detente_log_frozen",
        "gauge",
        "1 if an equivocation froze the log at its last consistent checkpoint.",
    );
    for (origin, _, _, frozen) in &heads {
        let _ = writeln!(
            out,
            "detente_log_frozen{{origin=\"{}\"}} {}",
            label(origin),
            u8::from(*frozen)
        );
    }

    let health = node.mirror_health();
    let peers: Vec<String> = node
        .network()
        .parties
        .iter()
        .filter(|p| p.name != node.party())
        .map(|p| p.name.clone())
        .collect();
    gauge_header(
        &mut out,
        "detente_mirror_lag_seconds",
        "gauge",
        "Seconds since the last successful mirroring of each peer (since the server started, if none yet).",
    );
    for party in &peers {
        let since = health
            .get(party)
            .and_then(|h| h.last_success_ms)
            .unwrap_or(state.metrics.started_ms);
        let lag = (now_ms.saturating_sub(since)).max(0) as f64 / 1000.0;
        let _ = writeln!(
            out,
            "detente_mirror_lag_seconds{{party=\"{}\"}} {lag}",
            label(party)
        );
    }
    gauge_header(
        &mut out,
        "detente_mirror_last_success_timestamp_seconds",
        "gauge",
        "When each peer was last mirrored successfully (0: not since the server started).",
    );
    for party in &peers {
        let at = health
            .get(party)
            .and_then(|h| h.last_success_ms)
            .map_or(0.0, |ms| ms as f64 / 1000.0);
        let _ = writeln!(
            out,
            "detente_mirror_last_success_timestamp_seconds{{party=\"{}\"}} {at}",
            label(party)
        );
    }
    gauge_header(
        &mut out,
        "detente_mirror_consecutive_failures",
        "gauge",
        "Failed mirroring attempts of each peer since its last success.",
    );
    for party in &peers {
        let failures = health.get(party).map_or(0, |h| h.consecutive_failures);
        let _ = writeln!(
            out,
            "detente_mirror_consecutive_failures{{party=\"{}\"}} {failures}",
            label(party)
        );
    }

    let mut equivocations: BTreeMap<String, u64> = heads
        .iter()
        .map(|(origin, ..)| (origin.clone(), 0))
        .collect();
    for e in node.equivocations().await? {
        *equivocations.entry(e.origin).or_default() += 1;
    }
    gauge_header(
        &mut out,
        "detente_equivocations",
        "gauge",
        "Equivocations recorded against each log (two checkpoints that cannot both be true).",
    );
    for (origin, n) in &equivocations {
        let _ = writeln!(
            out,
            "detente_equivocations{{origin=\"{}\"}} {n}",
            label(origin)
        );
    }

    gauge_header(
        &mut out,
        "detente_submitted_entries_total",
        "counter",
        "Entries appended to this node's own log through the API since the server started.",
    );
    let _ = writeln!(
        out,
        "detente_submitted_entries_total {}",
        state.metrics.submitted.load(Ordering::Relaxed)
    );
    gauge_header(
        &mut out,
        "detente_start_time_seconds",
        "gauge",
        "When the server started (seconds since the Unix epoch).",
    );
    let _ = writeln!(
        out,
        "detente_start_time_seconds {}",
        state.metrics.started_ms as f64 / 1000.0
    );
    state.metrics.write_requests(&mut out);
    Ok(out)
}

/// `GET /metrics`, for a viewer: Prometheus sends the token with
/// `authorization: {credentials_file: …}` in its scrape configuration.
pub async fn metrics<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    operator: Authenticated,
) -> Result<Response, ApiError> {
    crate::api::require(&operator, Role::Viewer, "reading metrics")?;
    let text = render(&state).await?;
    Ok((
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response())
}

/// Times each request, counts it under its route and status, and logs one line for it
/// inside a span naming the method, the route and (once known) the operator: refusals
/// (401, 403) and client errors at `warn`, server errors at `error`, the rest at `info`.
pub async fn track(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let span = tracing::info_span!(
        "request",
        method = %method,
        route = %route,
        operator = tracing::field::Empty,
    );
    let started = std::time::Instant::now();
    let response = next.run(request).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let status = response.status();
    metrics.observe(&route, status.as_u16(), elapsed);
    let _entered = span.enter();
    let ms = elapsed.as_secs_f64() * 1000.0;
    let code = status.as_u16();
    if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
        tracing::warn!(status = code, path, elapsed_ms = ms, "refused");
    } else if status.is_server_error() {
        tracing::error!(status = code, path, elapsed_ms = ms, "failed");
    } else if status.is_client_error() {
        tracing::warn!(status = code, path, elapsed_ms = ms, "answered");
    } else if route == "/healthz" || route == "/metrics" || route.starts_with("/peer/") {
        // Polled often; visible with DETENTE_LOG=debug.
        tracing::debug!(status = code, path, elapsed_ms = ms, "answered");
    } else {
        tracing::info!(status = code, path, elapsed_ms = ms, "answered");
    }
    response
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn histograms_are_cumulative_in_the_text_format() {
        let m = Metrics::new(0);
        m.observe("/api/v1/report", 200, Duration::from_micros(800));
        m.observe("/api/v1/report", 200, Duration::from_millis(30));
        m.observe("/api/v1/report", 200, Duration::from_secs(60));
        let mut out = String::new();
        m.write_requests(&mut out);
        let labels = "route=\"/api/v1/report\",status=\"200\"";
        for (le, n) in [
            ("0.001", 1),
            ("0.025", 1),
            ("0.05", 2),
            ("10", 2),
            ("+Inf", 3),
        ] {
            let line = format!(
                "detente_http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {n}\n"
            );
            assert!(out.contains(&line), "{line} in\n{out}");
        }
        assert!(out.contains(&format!(
            "detente_http_request_duration_seconds_count{{{labels}}} 3\n"
        )));
        assert!(out.contains(&format!(
            "detente_http_request_duration_seconds_sum{{{labels}}} 60.0308\n"
        )));
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
