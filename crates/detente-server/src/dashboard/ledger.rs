//! Ledger health: each party's latest checkpoint and who cosigned it, how fresh the
//! mirrors are, and equivocation alerts with both checkpoints as evidence.

use axum::extract::State;
use axum::response::Response;
use detente_lang::time::Instant;
use detente_node::Store;
use std::sync::Arc;

use super::{Layout, Viewer, format, node_error, render};
use crate::AppState;

/// A mirror whose last success is older than this is shown as stale, in seconds.
pub const STALE_AFTER_SECS: i64 = 300;

#[derive(Debug, Clone)]
pub struct LogRow {
    pub origin: String,
    pub party: String,
    pub role: &'static str,
    pub size: u64,
    pub root: String,
    pub root_short: String,
    pub frozen: bool,
    pub stored: String,
    pub checkpoints: usize,
    pub cosigned: Vec<(String, String)>,
    pub cosignatures_held: usize,
    pub note: String,
}

#[derive(Debug, Clone)]
pub struct MirrorRow {
    pub party: String,
    pub state: String,
    pub class: &'static str,
    pub last_success: String,
    pub last_attempt: String,
    pub failures: u32,
    pub error: String,
}

#[derive(Debug, Clone)]
pub struct Alert {
    pub origin: String,
    pub detail: String,
    pub detected: String,
    pub held: String,
    pub conflicting: String,
}

#[derive(askama::Template)]
#[template(path = "ledger.html")]
struct LedgerPage {
    layout: Layout,
    logs: Vec<LogRow>,
    mirrors: Vec<MirrorRow>,
    alerts: Vec<Alert>,
    left_out: Vec<String>,
    stale_after: String,
}

pub async fn page<S: Store>(State(state): State<Arc<AppState<S>>>, viewer: Viewer) -> Response {
    let node = &state.node;
    let now = format::now(node.clock());
    let mut logs = Vec::new();
    for (origin, size, root, frozen) in node.log_heads().await {
        let party = node
            .network()
            .party_of_origin(&origin)
            .map(|p| p.name.clone())
            .unwrap_or_default();
        let checkpoints = match node.stored_checkpoints(&origin).await {
            Ok(c) => c,
            Err(e) => return node_error(e),
        };
        let cosignatures = match node.cosignatures(&origin).await {
            Ok(c) => c,
            Err(e) => return node_error(e),
        };
        let note = match node.checkpoint_with_cosignatures(&origin).await {
            Ok(n) => n.unwrap_or_default(),
            Err(e) => return node_error(e),
        };
        let cosigned = cosignatures
            .iter()
            .filter(|c| c.size == size && c.cosigner != origin)
            .map(|c| {
                let t = Instant::from_unix_seconds(i64::try_from(c.timestamp).unwrap_or(i64::MAX));
                (
                    node.network()
                        .party_of_origin(&c.cosigner)
                        .map_or(c.cosigner.clone(), |p| p.name.clone()),
                    format!(
                        "{} ({})",
                        format::instant_minutes(t),
                        format::relative(t, now)
                    ),
                )
            })
            .collect();
        logs.push(LogRow {
            role: if origin == node.origin() {
                "own log"
            } else {
                "mirror"
            },
            party,
            size,
            root: detente_node::home::hex(&root),
            root_short: format::short_hash(&detente_node::home::hex(&root)),
            frozen,
            stored: checkpoints
                .last()
                .map(|c| {
                    let t = format::instant_of_ms(c.stored_at_ms);
                    format!(
                        "{} ({})",
                        format::instant_minutes(t),
                        format::relative(t, now)
                    )
                })
                .unwrap_or_else(|| "never".to_owned()),
            checkpoints: checkpoints.len(),
            cosigned,
            cosignatures_held: cosignatures.len(),
            note,
            origin,
        });
    }
    let mirrors = node
        .mirror_health()
        .into_iter()
        .map(|(party, h)| {
            let age = h
                .last_success_ms
                .map(|ms| now.seconds_since(format::instant_of_ms(ms)));
            let (state, class) = match (h.consecutive_failures, age) {
                (0, Some(a)) if a <= STALE_AFTER_SECS => ("fresh".to_owned(), "st-compliant"),
                (0, Some(_)) => ("stale".to_owned(), "st-nodata"),
                (n, _) if n > 0 => (format!("failing ({n} in a row)"), "st-violation"),
                _ => ("not yet mirrored".to_owned(), "st-pending"),
            };
            let when = |ms: Option<i64>| {
                ms.map(|ms| {
                    let t = format::instant_of_ms(ms);
                    format!(
                        "{} ({})",
                        format::instant_minutes(t),
                        format::relative(t, now)
                    )
                })
                .unwrap_or_else(|| "never".to_owned())
            };
            MirrorRow {
                party,
                state,
                class,
                last_success: when(h.last_success_ms),
                last_attempt: when(h.last_attempt_ms),
                failures: h.consecutive_failures,
                error: h.last_error.unwrap_or_default(),
            }
        })
        .collect();
    let alerts = match node.equivocations().await {
        Ok(list) => list
            .into_iter()
            .map(|e| Alert {
                origin: e.origin,
                detail: e.detail,
                detected: format::instant_minutes(format::instant_of_ms(e.detected_at_ms)),
                held: e.held_note,
                conflicting: e.conflicting_note,
            })
            .collect(),
        Err(e) => return node_error(e),
    };
    let left_out = match node.log_facts().await {
        Ok(f) => f.problems.clone(),
        Err(e) => return node_error(e),
    };
    let page = LedgerPage {
        layout: Layout::new(&state, &viewer, "Ledger", "ledger", ""),
        logs,
        mirrors,
        alerts,
        left_out,
        stale_after: format::span(STALE_AFTER_SECS),
    };
    render(&page)
}
