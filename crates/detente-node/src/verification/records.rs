//! The seven verification records as log entries: which record an entry body is (by its
//! domain tag), who speaks for it, and where it is (origin and index, for receipts).

use detente_escrow::FormatError;
use detente_escrow::commit::{COMMITMENT_TAG, Commitment};
use detente_escrow::inspection::{INSPECTION_REPORT_TAG, InspectionReport};
use detente_escrow::limit::{LIMIT_PROOF_TAG, LimitProof, OPENING_TAG, Opening};
use detente_escrow::randomness::{
    SEED_COMMITMENT_TAG, SEED_REVEAL_TAG, SeedCommitment, SeedReveal,
};
use detente_escrow::reveal::{REVEAL_TAG, Reveal};
use detente_ledger::entry::MAX_ENTRY_BYTES;
use serde::Serialize;
use std::fmt;

/// Where a record is: the log it is in and its index there. With the log's checkpoint,
/// this is what `detente receipt` needs to prove the record to anyone.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct RecordRef {
    pub origin: String,
    pub index: u64,
}

impl fmt::Display for RecordRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.origin, self.index)
    }
}

/// One verification record, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// A party's commitment to its item-level declaration.
    Commitment(Commitment),
    /// One region (or part of one) of a committed declaration, disclosed.
    Reveal(Reveal),
    /// A party's commitment to its seed for a round of joint randomness.
    SeedCommitment(SeedCommitment),
    /// A party's seed for a round.
    SeedReveal(SeedReveal),
    /// What inspectors found at one site.
    Inspection(InspectionReport),
    /// A proof that a committed number is at most a bound.
    LimitProof(LimitProof),
    /// The opening of a limit proof's commitment (discloses the number).
    Opening(Opening),
}

/// The tags, in the order they are tried (no tag is a prefix of another).
const TAGS: [(&str, &str); 7] = [
    (COMMITMENT_TAG, "commitment"),
    (REVEAL_TAG, "reveal"),
    (SEED_COMMITMENT_TAG, "seed commitment"),
    (SEED_REVEAL_TAG, "seed reveal"),
    (INSPECTION_REPORT_TAG, "inspection report"),
    (LIMIT_PROOF_TAG, "limit proof"),
    (OPENING_TAG, "limit opening"),
];

impl Record {
    /// Decodes an entry body: its domain tag says which record it is. The error says
    /// what is wrong and at which byte.
    pub fn decode(body: &[u8]) -> Result<Record, String> {
        let format = |e: FormatError| e.to_string();
        if body.len() > MAX_ENTRY_BYTES {
            return Err(format!(
                "{} bytes, more than a log entry may hold ({MAX_ENTRY_BYTES})",
                body.len()
            ));
        }
        if body.starts_with(COMMITMENT_TAG.as_bytes()) {
            return Commitment::decode(body)
                .map(Record::Commitment)
                .map_err(format);
        }
        if body.starts_with(REVEAL_TAG.as_bytes()) {
            return Reveal::decode(body).map(Record::Reveal).map_err(format);
        }
        if body.starts_with(SEED_COMMITMENT_TAG.as_bytes()) {
            return SeedCommitment::decode(body)
                .map(Record::SeedCommitment)
                .map_err(format);
        }
        if body.starts_with(SEED_REVEAL_TAG.as_bytes()) {
            return SeedReveal::decode(body)
                .map(Record::SeedReveal)
                .map_err(format);
        }
        if body.starts_with(INSPECTION_REPORT_TAG.as_bytes()) {
            return InspectionReport::decode(body)
                .map(Record::Inspection)
                .map_err(format);
        }
        if body.starts_with(LIMIT_PROOF_TAG.as_bytes()) {
            return LimitProof::decode(body)
                .map(Record::LimitProof)
                .map_err(format);
        }
        if body.starts_with(OPENING_TAG.as_bytes()) {
            return Opening::decode(body).map(Record::Opening).map_err(format);
        }
        let start: String = String::from_utf8_lossy(body.get(..40).unwrap_or(body))
            .chars()
            .map(|c| if c.is_control() { '.' } else { c })
            .collect();
        Err(format!(
            "not a verification record: it starts with {start:?}, not one of the tags {}",
            TAGS.iter()
                .map(|(t, _)| format!("`{t}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }

    /// The canonical bytes (the entry body).
    pub fn encode(&self) -> Result<Vec<u8>, FormatError> {
        match self {
            Record::Commitment(r) => r.encode(),
            Record::Reveal(r) => r.encode(),
            Record::SeedCommitment(r) => r.encode(),
            Record::SeedReveal(r) => r.encode(),
            Record::Inspection(r) => r.encode(),
            Record::LimitProof(r) => r.encode(),
            Record::Opening(r) => r.encode(),
        }
    }

    /// What the record is, in words.
    pub fn name(&self) -> &'static str {
        match self {
            Record::Commitment(_) => "commitment",
            Record::Reveal(_) => "reveal",
            Record::SeedCommitment(_) => "seed commitment",
            Record::SeedReveal(_) => "seed reveal",
            Record::Inspection(_) => "inspection report",
            Record::LimitProof(_) => "limit proof",
            Record::Opening(_) => "limit opening",
        }
    }

    /// The party the record speaks for: it must be the party whose log holds it.
    pub fn speaker(&self) -> &str {
        match self {
            Record::Commitment(r) => &r.party,
            Record::Reveal(r) => &r.party,
            Record::SeedCommitment(r) => &r.party,
            Record::SeedReveal(r) => &r.party,
            Record::Inspection(r) => &r.inspector,
            Record::LimitProof(r) => &r.context.party,
            Record::Opening(r) => &r.context.party,
        }
    }
}

/// The largest entry body a log of `origin` can hold: the ledger's entry limit less the
/// entry's own header (magic, version, kind, index, time, origin, body length).
pub fn max_body_bytes(origin: &str) -> usize {
    MAX_ENTRY_BYTES.saturating_sub(13 + 1 + 1 + 8 + 8 + 2 + origin.len() + 4)
}

/// Splits a reveal into parts whose encodings each fit in `max_body` bytes, in index
/// order (one part if it fits). Every part names the same party, date, root, tree size
/// and region; the checks put the parts of one region back together. An item too large
/// for a part of its own is refused (it cannot happen with valid items: an item is at
/// most about 300 KB).
pub fn split_reveal(reveal: &Reveal, max_body: usize) -> Result<Vec<Vec<u8>>, String> {
    let header =
        REVEAL_TAG.len() + 2 + reveal.party.len() + 10 + 32 + 8 + 2 + reveal.region.len() + 4;
    let mut parts: Vec<Reveal> = Vec::new();
    let mut current: Vec<detente_escrow::reveal::RevealedItem> = Vec::new();
    let mut size = header;
    for item in &reveal.items {
        let item_len = item
            .item
            .encode()
            .map_err(|e| format!("item {:?}: {e}", item.item.id))?
            .len();
        let len = 8 + 32 + item_len + 1 + 32 * item.proof.len();
        if header + len > max_body {
            return Err(format!(
                "item {:?} alone takes {} bytes, more than a log entry can hold ({max_body})",
                item.item.id,
                header + len
            ));
        }
        if size + len > max_body && !current.is_empty() {
            parts.push(Reveal {
                items: std::mem::take(&mut current),
                ..reveal_header(reveal)
            });
            size = header;
        }
        size += len;
        current.push(item.clone());
    }
    if !current.is_empty() || parts.is_empty() {
        parts.push(Reveal {
            items: current,
            ..reveal_header(reveal)
        });
    }
    let mut bodies = Vec::with_capacity(parts.len());
    for (i, part) in parts.iter().enumerate() {
        let body = part
            .encode()
            .map_err(|e| format!("reveal part {}: {e}", i + 1))?;
        if body.len() > max_body {
            return Err(format!(
                "reveal part {} is {} bytes, more than a log entry can hold ({max_body})",
                i + 1,
                body.len()
            ));
        }
        bodies.push(body);
    }
    Ok(bodies)
}

fn reveal_header(reveal: &Reveal) -> Reveal {
    Reveal {
        party: reveal.party.clone(),
        as_of: reveal.as_of.clone(),
        root: reveal.root,
        tree_size: reveal.tree_size,
        region: reveal.region.clone(),
        items: Vec::new(),
    }
}
