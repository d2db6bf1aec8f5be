//! An in-memory [`Store`], for tests and for nodes that need no durability.
//!
//! It has exactly the semantics of the SQLite store (`detente-store`); one conformance
//! suite (`crates/detente-store/tests/conformance.rs`) runs against both:
//!
//! - [`Store::append`] checks, in this order: the shape of the append (entries indexed
//!   `expected_size, expected_size + 1, …`, `checkpoint.size == expected_size +
//!   entries.len()`, and sizes that fit in an `i64` as SQL stores them) →
//!   [`StoreError::InvalidAppend`]; then the log's current size (0 for an absent log) →
//!   [`StoreError::Conflict`]; then, for an append with no entries, the checkpoint
//!   already stored at that size: the same note again is accepted and changes nothing
//!   (the first `stored_at_ms` stays), a different note is [`StoreError::InvalidAppend`]
//!   (nothing is ever rewritten; two different notes for one size are the node's business
//!   to record as an equivocation).
//! - A rejected append changes nothing, not even creating the log.
//! - Cosignature sizes and timestamps above `i64::MAX` are rejected with
//!   [`StoreError::Backend`] (SQL stores them as `INTEGER`).
//! - Reads of an unknown origin return nothing rather than an error.
//!
//! Clones share one state. A poisoned lock (a panic while holding it) becomes
//! [`StoreError::Backend`].

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::store::{
    Hash, LogState, Store, StoreError, StoredAcknowledgement, StoredCheckpoint, StoredCosignature,
    StoredEntry, StoredEquivocation, StoredUser, different_checkpoint_detail, validate_append,
    validate_cosignature,
};

/// A [`Store`] kept in memory; clones share the same logs.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    logs: BTreeMap<String, MemoryLog>,
    /// Per origin, keyed (size, cosigner, timestamp) → signature line.
    cosignatures: BTreeMap<String, BTreeMap<(u64, String, u64), String>>,
    equivocations: Vec<StoredEquivocation>,
    users: BTreeMap<String, StoredUser>,
    /// Keyed (party, notification id).
    acknowledgements: BTreeMap<(String, String), StoredAcknowledgement>,
    /// See [`Store::revision`]: bumped by every append of entries and every new
    /// cosignature.
    revision: u64,
}

#[derive(Debug, Default)]
struct MemoryLog {
    entries: Vec<StoredEntry>,
    checkpoints: BTreeMap<u64, StoredCheckpoint>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> Result<MutexGuard<'_, State>, StoreError> {
        self.state
            .lock()
            .map_err(|_| StoreError::Backend("memory store: lock poisoned by a panic".to_owned()))
    }
}

/// The range `from..to` of a log of `len` entries, clamped to the log.
fn clamp(from: u64, to: u64, len: usize) -> std::ops::Range<usize> {
    let len64 = u64::try_from(len).unwrap_or(u64::MAX);
    let to = to.min(len64);
    let from = from.min(to);
    let as_usize = |n: u64| usize::try_from(n).unwrap_or(len);
    as_usize(from)..as_usize(to)
}

impl Store for MemoryStore {
    async fn logs(&self) -> Result<Vec<LogState>, StoreError> {
        let state = self.lock()?;
        Ok(state
            .logs
            .iter()
            .map(|(origin, log)| {
                let size = u64::try_from(log.entries.len()).unwrap_or(u64::MAX);
                LogState {
                    origin: origin.clone(),
                    size,
                    checkpoint: log.checkpoints.get(&size).cloned(),
                }
            })
            .collect())
    }

    async fn append(
        &self,
        origin: &str,
        expected_size: u64,
        entries: &[StoredEntry],
        checkpoint: &StoredCheckpoint,
    ) -> Result<(), StoreError> {
        validate_append(origin, expected_size, entries, checkpoint)?;
        let mut state = self.lock()?;
        let actual = state.logs.get(origin).map_or(0, |log| {
            u64::try_from(log.entries.len()).unwrap_or(u64::MAX)
        });
        if actual != expected_size {
            return Err(StoreError::Conflict {
                origin: origin.to_owned(),
                expected: expected_size,
                actual,
            });
        }
        if entries.is_empty()
            && let Some(held) = state
                .logs
                .get(origin)
                .and_then(|log| log.checkpoints.get(&checkpoint.size))
        {
            return if held.note == checkpoint.note {
                Ok(())
            } else {
                Err(StoreError::InvalidAppend {
                    origin: origin.to_owned(),
                    detail: different_checkpoint_detail(checkpoint.size),
                })
            };
        }
        if !entries.is_empty() {
            state.revision += 1;
        }
        let log = state.logs.entry(origin.to_owned()).or_default();
        log.entries.extend_from_slice(entries);
        log.checkpoints.insert(checkpoint.size, checkpoint.clone());
        Ok(())
    }

    async fn entries(
        &self,
        origin: &str,
        from: u64,
        to: u64,
    ) -> Result<Vec<StoredEntry>, StoreError> {
        let state = self.lock()?;
        Ok(state
            .logs
            .get(origin)
            .and_then(|log| log.entries.get(clamp(from, to, log.entries.len())))
            .map(<[StoredEntry]>::to_vec)
            .unwrap_or_default())
    }

    async fn leaf_hashes(&self, origin: &str, from: u64, to: u64) -> Result<Vec<Hash>, StoreError> {
        let state = self.lock()?;
        Ok(state
            .logs
            .get(origin)
            .and_then(|log| log.entries.get(clamp(from, to, log.entries.len())))
            .map(|entries| entries.iter().map(|entry| entry.leaf_hash).collect())
            .unwrap_or_default())
    }

    async fn checkpoints(&self, origin: &str) -> Result<Vec<StoredCheckpoint>, StoreError> {
        let state = self.lock()?;
        Ok(state
            .logs
            .get(origin)
            .map(|log| log.checkpoints.values().cloned().collect())
            .unwrap_or_default())
    }

    async fn add_cosignature(&self, cosignature: &StoredCosignature) -> Result<bool, StoreError> {
        validate_cosignature(cosignature)?;
        let mut state = self.lock()?;
        let key = (
            cosignature.size,
            cosignature.cosigner.clone(),
            cosignature.timestamp,
        );
        let held = state
            .cosignatures
            .entry(cosignature.origin.clone())
            .or_default();
        if held.contains_key(&key) {
            return Ok(false);
        }
        held.insert(key, cosignature.line.clone());
        state.revision += 1;
        Ok(true)
    }

    async fn cosignatures(&self, origin: &str) -> Result<Vec<StoredCosignature>, StoreError> {
        let state = self.lock()?;
        Ok(state
            .cosignatures
            .get(origin)
            .map(|held| {
                held.iter()
                    .map(|((size, cosigner, timestamp), line)| StoredCosignature {
                        origin: origin.to_owned(),
                        size: *size,
                        cosigner: cosigner.clone(),
                        timestamp: *timestamp,
                        line: line.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn add_equivocation(&self, equivocation: &StoredEquivocation) -> Result<(), StoreError> {
        self.lock()?.equivocations.push(equivocation.clone());
        Ok(())
    }

    async fn equivocations(&self) -> Result<Vec<StoredEquivocation>, StoreError> {
        Ok(self.lock()?.equivocations.clone())
    }

    async fn add_user(&self, user: &StoredUser) -> Result<(), StoreError> {
        let mut state = self.lock()?;
        if state.users.contains_key(&user.name) {
            return Err(StoreError::Exists(format!("user `{}`", user.name)));
        }
        state.users.insert(user.name.clone(), user.clone());
        Ok(())
    }

    async fn users(&self) -> Result<Vec<StoredUser>, StoreError> {
        Ok(self.lock()?.users.values().cloned().collect())
    }

    async fn remove_user(&self, name: &str) -> Result<bool, StoreError> {
        Ok(self.lock()?.users.remove(name).is_some())
    }

    async fn add_acknowledgement(
        &self,
        acknowledgement: &StoredAcknowledgement,
    ) -> Result<bool, StoreError> {
        let mut state = self.lock()?;
        let key = (
            acknowledgement.party.clone(),
            acknowledgement.notification_id.clone(),
        );
        if state.acknowledgements.contains_key(&key) {
            return Ok(false);
        }
        state.acknowledgements.insert(key, acknowledgement.clone());
        Ok(true)
    }

    async fn acknowledgements(&self) -> Result<Vec<StoredAcknowledgement>, StoreError> {
        Ok(self.lock()?.acknowledgements.values().cloned().collect())
    }

    async fn revision(&self) -> Result<u64, StoreError> {
        Ok(self.lock()?.revision)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

    use super::*;

    fn entry(index: u64) -> StoredEntry {
        StoredEntry {
            index,
            leaf_hash: [u8::try_from(index % 256).unwrap(); 32],
            bytes: vec![1, 2, 3],
        }
    }

    fn checkpoint(size: u64) -> StoredCheckpoint {
        StoredCheckpoint {
            size,
            note: format!("note {size}"),
            stored_at_ms: 7,
        }
    }

    #[tokio::test]
    async fn append_then_read_and_conflict() {
        let store = MemoryStore::new();
        let entries: Vec<_> = (0..3).map(entry).collect();
        store
            .append("o", 0, &entries, &checkpoint(3))
            .await
            .unwrap();
        assert_eq!(store.entries("o", 1, 10).await.unwrap(), entries[1..]);
        assert_eq!(
            store.leaf_hashes("o", 5, 2).await.unwrap(),
            Vec::<Hash>::new()
        );
        let err = store
            .append("o", 2, &[entry(2)], &checkpoint(3))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict { actual: 3, .. }));
        let logs = store.logs().await.unwrap();
        assert_eq!(logs.len(), 1);
        assert_eq!(logs[0].checkpoint, Some(checkpoint(3)));
    }

    #[tokio::test]
    async fn poisoned_lock_is_a_backend_error() {
        let store = MemoryStore::new();
        let clone = store.clone();
        let _ = std::thread::spawn(move || {
            let _guard = clone.state.lock().unwrap();
            panic!("poison the lock");
        })
        .join();
        assert!(matches!(
            store.logs().await.unwrap_err(),
            StoreError::Backend(message) if message.contains("poisoned")
        ));
    }
}
