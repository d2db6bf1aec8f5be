//! Letters between principals, as the node knows them: metadata only. A letter is sealed to
//! its addressee's key, which no node holds; the node stores, mirrors and cosigns the sealed
//! envelope and knows only who sent it, to whom, when, and its size. This page lists every
//! letter entry of every log the node holds, with its receipt (which other parties' nodes
//! have cosigned a checkpoint covering it, and when). Nothing here opens an envelope, and
//! no letter's content is ever sent to the server.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use detente_lang::time::Instant;
use detente_node::letters::envelope::Envelope;
use detente_node::letters::{self, Cosigned, LetterMeta};
use detente_node::store::StoredCosignature;
use detente_node::{Node, Store};
use std::collections::BTreeMap;
use std::sync::Arc;

use super::asof::{self, AsOf, AsOfForm};
use super::{Layout, Viewer, error_page, format, render};
use crate::AppState;

/// One cosignature covering a letter: the receipt by that party's node.
#[derive(Debug, Clone)]
pub struct Receipt {
    pub party: String,
    pub at: String,
    /// How long after the entry was appended.
    pub after: String,
    /// Whether it is the addressee's party's node (the receipt that matters most).
    pub addressee: bool,
}

#[derive(Debug, Clone)]
pub struct LetterRow {
    pub log_party: String,
    pub origin: String,
    pub index: u64,
    pub sender: String,
    pub addressee: String,
    pub appended: String,
    pub appended_relative: String,
    pub size: String,
    /// Why the envelope cannot be read as one, if it cannot.
    pub problem: String,
    pub receipts: Vec<Receipt>,
    pub fact_href: String,
    pub receipt_href: String,
}

#[derive(askama::Template)]
#[template(path = "letters.html")]
struct LettersPage {
    layout: Layout,
    asof: AsOfForm,
    rows: Vec<LetterRow>,
    /// (log party, letters) for the counts line.
    per_log: Vec<(String, usize)>,
    /// Whether the selection is a replay or an instant (not "now, latest").
    replayed: bool,
}

/// `1 byte`, `4,812 bytes`.
pub fn bytes(n: u64) -> String {
    let digits = n.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{grouped} {}", if n == 1 { "byte" } else { "bytes" })
}

fn instant_of_secs(secs: u64) -> Instant {
    Instant::from_unix_seconds(i64::try_from(secs).unwrap_or(i64::MAX))
}

/// The earliest cosignature of each other node on a checkpoint covering entry `index`,
/// counting only checkpoints up to `size` and cosignatures made by `until`.
fn covering(
    cosignatures: &[StoredCosignature],
    origin: &str,
    index: u64,
    size: Option<u64>,
    until: Option<Instant>,
) -> Vec<Cosigned> {
    let mut earliest: BTreeMap<&str, u64> = BTreeMap::new();
    for c in cosignatures.iter().filter(|c| {
        c.size > index
            && c.cosigner != origin
            && size.is_none_or(|s| c.size <= s)
            && until.is_none_or(|t| instant_of_secs(c.timestamp) <= t)
    }) {
        let at = earliest.entry(c.cosigner.as_str()).or_insert(c.timestamp);
        *at = (*at).min(c.timestamp);
    }
    earliest
        .into_iter()
        .map(|(cosigner, timestamp)| Cosigned {
            cosigner: cosigner.to_owned(),
            timestamp,
        })
        .collect()
}

/// The letters as of the selection: entries up to each log's chosen checkpoint, appended by
/// the instant chosen (when one is given), with the cosignatures made by then.
async fn rows<S: Store>(node: &Node<S>, asof: &AsOf) -> Result<Vec<LetterRow>, String> {
    let listed = letters::list(node).await.map_err(|e| e.to_string())?;
    let until = asof.at_given.then_some(asof.at);
    let replays = asof.replays() || asof.at_given;
    let mut cosignatures: BTreeMap<String, Vec<StoredCosignature>> = BTreeMap::new();
    let mut out: Vec<(i64, LetterRow)> = Vec::new();
    for meta in listed {
        let size = asof.sizes.get(&meta.party).copied();
        if size.is_some_and(|s| meta.index >= s) {
            continue;
        }
        let appended = format::instant_of_ms(meta.appended_at_ms);
        if until.is_some_and(|t| appended > t) {
            continue;
        }
        let covered = if replays {
            if !cosignatures.contains_key(&meta.origin) {
                let held = node
                    .cosignatures(&meta.origin)
                    .await
                    .map_err(|e| e.to_string())?;
                cosignatures.insert(meta.origin.clone(), held);
            }
            let held = cosignatures
                .get(&meta.origin)
                .map(Vec::as_slice)
                .unwrap_or_default();
            covering(held, &meta.origin, meta.index, size, until)
        } else {
            meta.cosigned_by
                .iter()
                .filter(|c| c.cosigner != meta.origin)
                .cloned()
                .collect()
        };
        out.push((
            meta.appended_at_ms,
            row(node, asof, &meta, appended, &covered),
        ));
    }
    // Newest first; then by log and index, so the order is the same on every load.
    out.sort_by(|(a, ra), (b, rb)| {
        b.cmp(a)
            .then_with(|| ra.origin.cmp(&rb.origin))
            .then_with(|| rb.index.cmp(&ra.index))
    });
    Ok(out.into_iter().map(|(_, r)| r).collect())
}

fn row<S: Store>(
    node: &Node<S>,
    asof: &AsOf,
    meta: &LetterMeta,
    appended: Instant,
    covered: &[Cosigned],
) -> LetterRow {
    let party_name = |origin: &str| {
        node.network()
            .party_of_origin(origin)
            .map_or_else(|| origin.to_owned(), |p| p.name.clone())
    };
    let addressee = meta.addressee.clone().unwrap_or_default();
    let addressee_party = addressee.split('/').next().unwrap_or_default().to_owned();
    let receipts = covered
        .iter()
        .map(|c| {
            let at = instant_of_secs(c.timestamp);
            let party = party_name(&c.cosigner);
            Receipt {
                addressee: !addressee_party.is_empty() && party == addressee_party,
                at: format::instant_minutes(at),
                after: format::span(at.seconds_since(appended).max(0)),
                party,
            }
        })
        .collect();
    let q = format!(
        "origin={}&index={}",
        format::encode(&meta.origin),
        meta.index
    );
    LetterRow {
        log_party: meta.party.clone(),
        origin: meta.origin.clone(),
        index: meta.index,
        sender: meta.sender.clone().unwrap_or_default(),
        addressee,
        appended: format::instant_minutes(appended),
        appended_relative: format::relative(appended, asof.at),
        size: bytes(meta.size),
        problem: meta.problem.clone().unwrap_or_default(),
        receipts,
        fact_href: format!("/dashboard/fact?{q}"),
        receipt_href: format!("/api/v1/receipt?{q}"),
    }
}

/// `GET /dashboard/letters`: every letter entry of every log held, newest first.
pub async fn page<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    viewer: Viewer,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let node = &state.node;
    // Reading the facts at the selection checks the checkpoints chosen.
    let (asof, _facts, form) = match asof::select(node, pairs, "/dashboard/letters").await {
        Ok(selected) => selected,
        Err(page) => return page,
    };
    let rows = match rows(node, &asof).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "listing letters failed");
            return error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the letters could not be listed: {e}"),
            );
        }
    };
    let mut per_log: BTreeMap<String, usize> = BTreeMap::new();
    for r in &rows {
        *per_log.entry(r.log_party.clone()).or_default() += 1;
    }
    let page = LettersPage {
        layout: Layout::new(&state, &viewer, "Letters", "letters", &asof.query()),
        asof: form,
        rows,
        per_log: per_log.into_iter().collect(),
        replayed: asof.replays() || asof.at_given,
    };
    render(&page)
}

/// A letter entry's body in words, for the fact page: the envelope's header, never an
/// attempt to open it.
pub fn describe_envelope(body: &[u8]) -> String {
    match Envelope::decode(body) {
        Ok(e) => format!(
            "A sealed letter from {} to {}: {} in all, {} of them ciphertext.\n\
             This node cannot read it: only the addressee's key opens it, on the addressee's own machine, \
             with detente letter read --data DIR --key KEY_FILE --party PARTY INDEX.",
            e.sender,
            e.addressee,
            bytes(body.len() as u64),
            bytes(e.ciphertext.len() as u64)
        ),
        Err(problem) => format!(
            "An entry of kind letter whose envelope cannot be read ({problem}): {}.",
            bytes(body.len() as u64)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_grouped_by_thousands() {
        assert_eq!(bytes(1), "1 byte");
        assert_eq!(bytes(612), "612 bytes");
        assert_eq!(bytes(4812), "4,812 bytes");
        assert_eq!(bytes(1_048_576), "1,048,576 bytes");
    }
}
