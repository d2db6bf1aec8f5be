//! Checking a whole store from its bytes: every entry against its stored hash and its
//! place, every checkpoint's signature and root, every cosignature. Nothing is trusted
//! but the keys in the network file.

use detente_ledger::checkpoint::{self, Cosignature, open_checkpoint};
use detente_ledger::entry::Entry;
use detente_ledger::merkle::{self, Tree};
use std::collections::BTreeMap;

use crate::network::Network;
use crate::node::READ_PAGE;
use crate::store::{Hash, Store, StoreError};

/// Problems reported per log before the rest are only counted.
const MAX_PROBLEMS_PER_LOG: usize = 20;

/// What was checked in one log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LogChecked {
    pub origin: String,
    pub entries: u64,
    pub checkpoints: usize,
    pub cosignatures: usize,
    /// The root of all the entries, as recomputed (hex).
    pub root: String,
    /// Each problem found, the first bad entry first.
    pub problems: Vec<String>,
    /// Problems beyond those listed.
    pub more_problems: u64,
}

/// The result of checking every log of a store.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Checked {
    pub logs: Vec<LogChecked>,
    pub equivocations: usize,
}

impl Checked {
    pub fn is_clean(&self) -> bool {
        self.logs.iter().all(|l| l.problems.is_empty())
    }
}

use crate::home::hex;

struct Problems {
    list: Vec<String>,
    more: u64,
}

impl Problems {
    fn push(&mut self, problem: String) {
        if self.list.len() < MAX_PROBLEMS_PER_LOG {
            self.list.push(problem);
        } else {
            self.more += 1;
        }
    }
}

/// Checks every log in `store`; `progress(origin, done, total)` is called as entries are
/// read.
pub async fn check_store<S: Store>(
    store: &S,
    network: &Network,
    mut progress: impl FnMut(&str, u64, u64),
) -> Result<Checked, StoreError> {
    let mut logs = Vec::new();
    let cosigners: BTreeMap<String, _> = network
        .cosigner_verifiers()
        .into_iter()
        .map(|v| (v.name().to_owned(), v))
        .collect();
    for state in store.logs().await? {
        let origin = state.origin.clone();
        let mut problems = Problems {
            list: Vec::new(),
            more: 0,
        };
        let verifier = network
            .party_of_origin(&origin)
            .and_then(|p| network.log_verifier(p));
        if verifier.is_none() {
            problems.push(format!(
                "{origin}: no party of the network file has this log; its signatures can't be checked"
            ));
        }
        // Entries: each one's bytes against its stored leaf hash, its place and its form.
        let mut tree = Tree::new();
        let mut from = 0;
        while from < state.size {
            let to = state.size.min(from + READ_PAGE);
            let page = store.entries(&origin, from, to).await?;
            if page.is_empty() {
                problems.push(format!(
                    "{origin}: entries {from}..{} are missing",
                    state.size
                ));
                break;
            }
            for stored in page {
                let expected = tree.len();
                if stored.index != expected {
                    problems.push(format!(
                        "{origin}: entry {expected} is missing (the next stored entry is {})",
                        stored.index
                    ));
                }
                let leaf: Hash = merkle::leaf_hash(&stored.bytes);
                if leaf != stored.leaf_hash {
                    problems.push(format!(
                        "{origin}: entry {}: its bytes do not hash to its stored leaf hash (the entry or its hash was changed)",
                        stored.index
                    ));
                }
                match Entry::decode(&stored.bytes) {
                    Ok(entry) if entry.origin != origin || entry.index != stored.index => {
                        problems.push(format!(
                            "{origin}: entry {}: it says it is entry {} of {}",
                            stored.index, entry.index, entry.origin
                        ));
                    }
                    Ok(_) => {}
                    Err(e) => problems.push(format!("{origin}: entry {}: {e}", stored.index)),
                }
                tree.push(leaf);
            }
            from = tree.len();
            progress(&origin, from, state.size);
        }
        // Checkpoints: signature, then root against the recomputed tree.
        let checkpoints = store.checkpoints(&origin).await?;
        let mut opened = BTreeMap::new();
        for stored in &checkpoints {
            let Some(verifier) = &verifier else {
                break;
            };
            match open_checkpoint(&stored.note, verifier) {
                Err(e) => problems.push(format!(
                    "{origin}: checkpoint at size {}: {e}",
                    stored.size
                )),
                Ok((cp, _)) if cp.size != stored.size => problems.push(format!(
                    "{origin}: checkpoint stored at size {} says size {}",
                    stored.size, cp.size
                )),
                Ok((cp, _)) => match tree.root_at(cp.size) {
                    Ok(root) if root == cp.root => {
                        opened.insert(cp.size, cp);
                    }
                    Ok(_) => problems.push(format!(
                        "{origin}: checkpoint at size {}: its root is not the root of stored entries 0..{}",
                        cp.size, cp.size
                    )),
                    Err(e) => problems.push(format!(
                        "{origin}: checkpoint at size {}: {e}",
                        cp.size
                    )),
                },
            }
        }
        match checkpoints.last() {
            Some(last) if last.size != tree.len() => problems.push(format!(
                "{origin}: the latest checkpoint covers {} entries, but {} are stored",
                last.size,
                tree.len()
            )),
            None if !tree.is_empty() => problems.push(format!(
                "{origin}: {} entries and no checkpoint",
                tree.len()
            )),
            _ => {}
        }
        // Cosignatures: by a network key, on a checkpoint that verified.
        let cosignatures = store.cosignatures(&origin).await?;
        for stored in &cosignatures {
            let place = format!(
                "{origin}: cosignature by {} at size {}",
                stored.cosigner, stored.size
            );
            let Some(cosigner) = cosigners.get(&stored.cosigner) else {
                problems.push(format!("{place}: not a node of the network file"));
                continue;
            };
            let Some(cp) = opened.get(&stored.size) else {
                problems.push(format!("{place}: no valid checkpoint at that size"));
                continue;
            };
            match Cosignature::parse_line(&stored.line) {
                Err(e) => problems.push(format!("{place}: {e}")),
                Ok(c) if c.timestamp != stored.timestamp => problems.push(format!(
                    "{place}: stored with time {} but signed with time {}",
                    stored.timestamp, c.timestamp
                )),
                Ok(c) => {
                    if let Err(e) = checkpoint::verify_cosignature(cp, &c, cosigner) {
                        problems.push(format!("{place}: {e}"));
                    }
                }
            }
        }
        logs.push(LogChecked {
            origin,
            entries: tree.len(),
            checkpoints: checkpoints.len(),
            cosignatures: cosignatures.len(),
            root: hex(&tree.root()),
            problems: problems.list,
            more_problems: problems.more,
        });
    }
    Ok(Checked {
        logs,
        equivocations: store.equivocations().await?.len(),
    })
}
