//! Replaying the logs: the facts every log held at a checkpoint of the caller's choosing,
//! and where each fact sits in the logs (for receipts).
//!
//! [`Node::log_facts`] reads every log at its latest checkpoint. A replay reads each log
//! truncated at a size at which the log has a signed checkpoint (its own node signed one
//! there; this node stored it), checking the first `size` leaves against that checkpoint's
//! root, and counts only the cosignatures on checkpoints up to that size. The result names
//! the checkpoints it was read at, so a report computed from it says what it was computed
//! from, as every report does.

use std::collections::BTreeMap;

use detente_assess::facts::{Facts, Origin};
use detente_ledger::checkpoint::open_checkpoint;
use detente_ledger::entry::Entry;

use crate::facts::{LogFacts, LogInput};
use crate::node::{Node, NodeError, READ_PAGE};
use crate::store::{Store, StoredCheckpoint, StoredCosignature};

/// One checkpoint a log can be replayed to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CheckpointMark {
    pub size: u64,
    /// When this node stored the checkpoint (milliseconds since the Unix epoch).
    pub stored_at_ms: i64,
}

/// Where a fact is: the log and the index of the entry that holds it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct FactPlace {
    /// `declaration`, `item`, `event`, `notification` or `observation`.
    pub kind: &'static str,
    pub origin: String,
    pub index: u64,
}

/// The entry a fact was read from: facts read from logs have one source per log (named
/// by its origin) and line = index + 1 (see [`crate::facts::read_logs`]).
pub fn place_of(facts: &Facts, kind: &'static str, origin: Origin) -> Option<FactPlace> {
    let name = facts.source_name(origin);
    if name.is_empty() || origin.line == 0 {
        return None;
    }
    Some(FactPlace {
        kind,
        origin: name.to_owned(),
        index: origin.line - 1,
    })
}

/// Every fact with an id, by id: the entries that hold it (an id may name facts of
/// several kinds, or a fact repeated in two entries).
pub fn fact_places(facts: &Facts) -> BTreeMap<String, Vec<FactPlace>> {
    let mut places: BTreeMap<String, Vec<FactPlace>> = BTreeMap::new();
    let mut add = |id: &str, kind: &'static str, origin: Origin| {
        if let Some(place) = place_of(facts, kind, origin) {
            let list = places.entry(id.to_owned()).or_default();
            if !list.contains(&place) {
                list.push(place);
            }
        }
    };
    for record in facts.records() {
        if let Some(id) = record.id {
            add(id, record.kind, record.origin);
        }
    }
    for list in places.values_mut() {
        list.sort();
    }
    places
}

impl<S: Store> Node<S> {
    /// Every checkpoint stored of each log (its own node's signed checkpoints, as this
    /// node received them), by origin, then size.
    pub async fn checkpoint_marks(&self) -> Result<Vec<(String, Vec<CheckpointMark>)>, NodeError> {
        let mut out = Vec::new();
        for origin in self.origins() {
            let marks = self
                .store
                .checkpoints(&origin)
                .await?
                .into_iter()
                .map(|c| CheckpointMark {
                    size: c.size,
                    stored_at_ms: c.stored_at_ms,
                })
                .collect();
            out.push((origin, marks));
        }
        Ok(out)
    }

    /// Every checkpoint stored of one log, by size.
    pub async fn stored_checkpoints(
        &self,
        origin: &str,
    ) -> Result<Vec<StoredCheckpoint>, NodeError> {
        Ok(self.store.checkpoints(origin).await?)
    }

    /// Every cosignature held on checkpoints of one log, by size, then cosigner.
    pub async fn cosignatures(&self, origin: &str) -> Result<Vec<StoredCosignature>, NodeError> {
        Ok(self.store.cosignatures(origin).await?)
    }

    /// The facts of every log, each read at the size `sizes` gives for its origin (a log
    /// not named is read at its latest checkpoint). A size must be one at which the log
    /// has a stored checkpoint; 0 reads the log as empty.
    pub async fn log_facts_at(&self, sizes: &BTreeMap<String, u64>) -> Result<LogFacts, NodeError> {
        let origins = self.origins();
        if let Some(unknown) = sizes.keys().find(|o| !origins.contains(o)) {
            return Err(NodeError::Invalid(format!(
                "this node holds no log `{unknown}`"
            )));
        }
        let mut logs = Vec::new();
        for origin in &origins {
            let mut view = self.view(origin).await;
            self.catch_up(origin, &mut view).await?;
            let Some(latest) = view.checkpoint.clone() else {
                continue;
            };
            let size = sizes.get(origin).copied().unwrap_or(latest.size);
            if size == 0 {
                continue;
            }
            let checkpoint = if size == latest.size {
                latest
            } else {
                let stored = self
                    .store
                    .checkpoints(origin)
                    .await?
                    .into_iter()
                    .find(|c| c.size == size)
                    .ok_or_else(|| {
                        NodeError::Invalid(format!(
                            "log {origin} has no checkpoint at size {size}; choose one of the sizes listed"
                        ))
                    })?;
                let verifier = self
                    .network
                    .party_of_origin(origin)
                    .and_then(|p| self.network.log_verifier(p))
                    .ok_or_else(|| NodeError::Config(format!("no key for log {origin}")))?;
                let (cp, _) =
                    open_checkpoint(&stored.note, &verifier).map_err(|e| NodeError::Corrupt {
                        origin: origin.clone(),
                        detail: format!("the checkpoint at size {size}: {e}"),
                    })?;
                let root = view.tree.root_at(size).map_err(|e| NodeError::Corrupt {
                    origin: origin.clone(),
                    detail: format!("root at size {size}: {e}"),
                })?;
                if root != cp.root {
                    return Err(NodeError::Corrupt {
                        origin: origin.clone(),
                        detail: format!(
                            "the first {size} entries do not have the root of the checkpoint signed at that size"
                        ),
                    });
                }
                cp
            };
            drop(view);
            let mut entries = Vec::new();
            let mut from = 0;
            while from < size {
                let to = size.min(from + READ_PAGE);
                for stored in self.store.entries(origin, from, to).await? {
                    entries.push(Self::decode_stored(origin, &stored)?);
                }
                from = to;
            }
            let cosignatures = self
                .store
                .cosignatures(origin)
                .await?
                .into_iter()
                .filter(|c| c.size <= size)
                .collect();
            logs.push(LogInput {
                origin: origin.clone(),
                party: self
                    .network
                    .party_of_origin(origin)
                    .map(|p| p.name.clone())
                    .unwrap_or_default(),
                checkpoint,
                entries,
                cosignatures,
            });
        }
        Ok(crate::facts::read_logs(&logs, &self.treaty.treaty))
    }

    /// One entry of a log, decoded after checking its bytes against its leaf hash.
    pub async fn entry(&self, origin: &str, index: u64) -> Result<Entry, NodeError> {
        let stored = self
            .store
            .entries(origin, index, index.saturating_add(1))
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| NodeError::NotFound(format!("log {origin} has no entry {index}")))?;
        Self::decode_stored(origin, &stored)
    }
}
