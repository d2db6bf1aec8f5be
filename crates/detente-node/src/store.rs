//! What a node keeps, behind one trait so that the embedded SQLite store
//! (`detente-store`) and a PostgreSQL store can serve the same callers.
//!
//! A store holds logs, each named by its origin (`detente/<treaty>/<party>`): the node's
//! own log and a mirror of every other party's. It keeps bytes and numbers; it does not
//! check signatures or hashes (the node does), but it does keep its promises:
//!
//! - [`Store::append`] is atomic: the entries and the checkpoint that covers them are
//!   written together or not at all, and are durable when it returns.
//! - Appends are ordered: an append names the size it expects the log to have, and fails
//!   with [`StoreError::Conflict`] if another writer got there first.
//! - Nothing is ever rewritten. The only writes after an append are cosignatures and
//!   equivocation records, which are added, never replaced.

use std::future::Future;

/// A SHA-256 hash.
pub type Hash = [u8; 32];

/// One entry as stored: its position, its RFC 6962 leaf hash and its encoded bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEntry {
    pub index: u64,
    pub leaf_hash: Hash,
    pub bytes: Vec<u8>,
}

/// A signed checkpoint of a log at `size` entries, as the log's own node signed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    pub size: u64,
    /// The C2SP signed note: checkpoint body, blank line, the log's signature line.
    /// Cosignatures are kept apart ([`StoredCosignature`]).
    pub note: String,
    /// When this node stored it (milliseconds since the Unix epoch, from the node's clock).
    pub stored_at_ms: i64,
}

/// A cosignature on the checkpoint of `origin` at `size`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCosignature {
    pub origin: String,
    pub size: u64,
    /// The cosigner's key name (its own log's origin).
    pub cosigner: String,
    /// The time the cosigner put in the cosignature (seconds since the Unix epoch).
    pub timestamp: u64,
    /// The signature line, exactly as it appears in a signed note (`— name base64…`,
    /// without the newline).
    pub line: String,
}

/// Two checkpoints of one log that cannot both be true.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEquivocation {
    pub origin: String,
    /// The checkpoint held before (signed note).
    pub held_note: String,
    /// The checkpoint that contradicts it (signed note).
    pub conflicting_note: String,
    /// Why they contradict each other.
    pub detail: String,
    pub detected_at_ms: i64,
}

/// An operator of this node: a name, a role, and the SHA-256 (hex) of the token the
/// operator presents. The token itself is never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredUser {
    pub name: String,
    /// `viewer`, `analyst`, `officer` or `admin` (see `crate::users::Role`).
    pub role: String,
    pub token_sha256: String,
    pub created_at_ms: i64,
}

/// An operator's acknowledgement that this office has seen a notification of another
/// party. Kept by this node only, never written to a log: the proof of receipt that the
/// treaty relies on is the node's cosignature on the checkpoint covering the notification;
/// an acknowledgement is the office's own record that a person read it, by whom and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAcknowledgement {
    /// The party whose notification it is.
    pub party: String,
    /// The notification's `id`.
    pub notification_id: String,
    /// The operator who acknowledged it.
    pub operator: String,
    /// When (milliseconds since the Unix epoch, from the node's clock).
    pub acknowledged_at_ms: i64,
}

/// The state of one log in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogState {
    pub origin: String,
    /// Number of entries stored.
    pub size: u64,
    /// The checkpoint covering all of them (none while the log is empty).
    pub checkpoint: Option<StoredCheckpoint>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The log does not have the size the append expected: another writer appended first.
    #[error("log {origin} has {actual} entries, but the append expected {expected}")]
    Conflict {
        origin: String,
        expected: u64,
        actual: u64,
    },
    /// The append is malformed: entry indices not consecutive from the expected size, or
    /// a checkpoint size that is not the size after the append.
    #[error("invalid append to {origin}: {detail}")]
    InvalidAppend { origin: String, detail: String },
    /// A record with this key already exists (and records are never replaced).
    #[error("{0} already exists")]
    Exists(String),
    /// The store could not be opened, read or written.
    #[error("store: {0}")]
    Backend(String),
}

/// Where a node keeps its logs. Every method is atomic on its own.
pub trait Store: Send + Sync + 'static {
    /// Every log held, sorted by origin.
    fn logs(&self) -> impl Future<Output = Result<Vec<LogState>, StoreError>> + Send;

    /// Appends `entries` to the log `origin` (created if absent, with `expected_size` 0),
    /// together with `checkpoint`, in one durable transaction. `entries` must be indexed
    /// `expected_size, expected_size + 1, …`, and `checkpoint.size` must be
    /// `expected_size + entries.len()`. An append with no entries just records the
    /// checkpoint (which must then be at the current size).
    fn append(
        &self,
        origin: &str,
        expected_size: u64,
        entries: &[StoredEntry],
        checkpoint: &StoredCheckpoint,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The entries with `from <= index < to` (fewer if the log is shorter), in order.
    fn entries(
        &self,
        origin: &str,
        from: u64,
        to: u64,
    ) -> impl Future<Output = Result<Vec<StoredEntry>, StoreError>> + Send;

    /// The leaf hashes of the entries with `from <= index < to`, in order (for rebuilding
    /// the tree without reading the entries).
    fn leaf_hashes(
        &self,
        origin: &str,
        from: u64,
        to: u64,
    ) -> impl Future<Output = Result<Vec<Hash>, StoreError>> + Send;

    /// Every checkpoint stored for `origin`, by size.
    fn checkpoints(
        &self,
        origin: &str,
    ) -> impl Future<Output = Result<Vec<StoredCheckpoint>, StoreError>> + Send;

    /// Adds a cosignature; returns false if the same (origin, size, cosigner, timestamp)
    /// was already there.
    fn add_cosignature(
        &self,
        cosignature: &StoredCosignature,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Every cosignature on checkpoints of `origin`, by size, then cosigner, then timestamp.
    fn cosignatures(
        &self,
        origin: &str,
    ) -> impl Future<Output = Result<Vec<StoredCosignature>, StoreError>> + Send;

    /// Records an equivocation (kept for ever, as evidence).
    fn add_equivocation(
        &self,
        equivocation: &StoredEquivocation,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Every equivocation recorded, in the order recorded.
    fn equivocations(
        &self,
    ) -> impl Future<Output = Result<Vec<StoredEquivocation>, StoreError>> + Send;

    /// Adds an operator; [`StoreError::Exists`] if the name is taken.
    fn add_user(&self, user: &StoredUser) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Every operator, by name.
    fn users(&self) -> impl Future<Output = Result<Vec<StoredUser>, StoreError>> + Send;

    /// Removes an operator; false if there was none of that name.
    fn remove_user(&self, name: &str) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Records an acknowledgement; false (and nothing changed: the first one stands) if
    /// this party's notification was already acknowledged.
    fn add_acknowledgement(
        &self,
        acknowledgement: &StoredAcknowledgement,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Every acknowledgement, by party, then notification id.
    fn acknowledgements(
        &self,
    ) -> impl Future<Output = Result<Vec<StoredAcknowledgement>, StoreError>> + Send;

    /// A number that grows whenever a log grows or a cosignature is added, by any writer
    /// of this store (another process sharing the data folder included). Two equal
    /// readings mean that the entries and cosignatures in the store are as they were, so a
    /// reader can keep what it derived from them (the facts of the logs) without reading
    /// every log again to find out. Other writes (checkpoints at an unchanged size,
    /// equivocations, operators, acknowledgements) may leave it as it is.
    fn revision(&self) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

// Validation shared by every store implementation, so that they refuse the same appends
// with the same messages.

/// The largest size or index an SQL `INTEGER` can hold.
const MAX_SQL_INTEGER: u64 = i64::MAX as u64;

/// Checks the shape of an append, before looking at the log: the same checks, with the
/// same messages, as the SQLite store.
pub fn validate_append(
    origin: &str,
    expected_size: u64,
    entries: &[StoredEntry],
    checkpoint: &StoredCheckpoint,
) -> Result<(), StoreError> {
    let invalid = |detail: String| StoreError::InvalidAppend {
        origin: origin.to_owned(),
        detail,
    };
    if checkpoint.size > MAX_SQL_INTEGER {
        return Err(invalid(format!(
            "checkpoint size {} is larger than the largest storable size {MAX_SQL_INTEGER}",
            checkpoint.size
        )));
    }
    let new_size = u64::try_from(entries.len())
        .ok()
        .and_then(|n| expected_size.checked_add(n));
    if new_size != Some(checkpoint.size) {
        return Err(invalid(format!(
            "checkpoint size {} is not the size after the append ({expected_size} + {} entries)",
            checkpoint.size,
            entries.len()
        )));
    }
    for (position, (entry, expected_index)) in entries.iter().zip(expected_size..).enumerate() {
        if entry.index != expected_index {
            return Err(invalid(format!(
                "entry {position} of the append has index {}, expected {expected_index}",
                entry.index
            )));
        }
    }
    Ok(())
}

/// Checks that a cosignature's numbers fit in an SQL `INTEGER`.
pub fn validate_cosignature(cosignature: &StoredCosignature) -> Result<(), StoreError> {
    for (what, value) in [
        ("size", cosignature.size),
        ("timestamp", cosignature.timestamp),
    ] {
        if value > MAX_SQL_INTEGER {
            return Err(StoreError::Backend(format!(
                "cosignature by {} on {} at size {}: {what} {value} is larger than the largest \
                 storable integer {MAX_SQL_INTEGER}",
                cosignature.cosigner, cosignature.origin, cosignature.size
            )));
        }
    }
    Ok(())
}

/// The message of the [`StoreError::InvalidAppend`] for a second, different checkpoint
/// at one size.
pub fn different_checkpoint_detail(size: u64) -> String {
    format!(
        "a different checkpoint is already stored at size {size}; stored checkpoints are never \
         replaced"
    )
}
