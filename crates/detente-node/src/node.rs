//! One party's node: it writes its own log, mirrors and cosigns the others', catches
//! equivocation, and assesses the treaty from what the logs hold.
//!
//! The store is the truth; the node keeps in memory only the Merkle tree of each log (its
//! leaf hashes and subtree hashes) and the latest checkpoint, and catches up from the store
//! before every write, so a `detente submit` in one process and a `detente serve` in another
//! can share a data folder.

use detente_ledger::checkpoint::{
    self, Checkpoint, Cosignature, cosign, open_checkpoint, sign_checkpoint,
};
use detente_ledger::entry::{Entry, EntryKind, MAX_ENTRY_BYTES};
use detente_ledger::merkle::{self, Tree};
use detente_ledger::note::{Signer, Verifier};
use detente_ledger::receipt::Receipt;
use ed25519_dalek::SigningKey;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use crate::clock::Clock;
use crate::home::{Home, TreatyBundle};
use crate::network::Network;
use crate::peer::{Peer, PeerError};
use crate::store::{
    Hash, Store, StoreError, StoredCheckpoint, StoredCosignature, StoredEntry, StoredEquivocation,
};

/// Entries read from the store at a time when a whole log is read.
pub const READ_PAGE: u64 = 10_000;
/// Entries fetched from a peer per request.
pub const FETCH_PAGE: u64 = 1_000;
/// Largest submission, in bytes.
pub const MAX_SUBMISSION_BYTES: usize = 64 * 1024 * 1024;

/// Why a node operation failed.
#[derive(Debug)]
pub enum NodeError {
    /// The submission is not acceptable; nothing was written. One message per problem,
    /// each starting with `source:line:`.
    Rejected(Vec<String>),
    /// The store's contents disagree with their signatures: the data folder was damaged.
    Corrupt {
        origin: String,
        detail: String,
    },
    Store(StoreError),
    /// A request that is not valid (an unknown param, a cosignature that does not
    /// verify…); nothing was changed.
    Invalid(String),
    /// Something the network file or the data folder should have made impossible.
    Config(String),
    /// The entry or log asked for does not exist.
    NotFound(String),
}

impl fmt::Display for NodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeError::Rejected(problems) => {
                write!(f, "the submission was refused; nothing was written:")?;
                for p in problems.iter().take(50) {
                    write!(f, "\n  {p}")?;
                }
                if problems.len() > 50 {
                    write!(f, "\n  … and {} more", problems.len() - 50)?;
                }
                Ok(())
            }
            NodeError::Corrupt { origin, detail } => {
                write!(f, "log {origin} in the store is damaged: {detail}")
            }
            NodeError::Store(e) => write!(f, "{e}"),
            NodeError::Invalid(message) => write!(f, "{message}"),
            NodeError::Config(message) => write!(f, "{message}"),
            NodeError::NotFound(message) => write!(f, "{message}"),
        }
    }
}

impl std::error::Error for NodeError {}

impl From<StoreError> for NodeError {
    fn from(e: StoreError) -> NodeError {
        NodeError::Store(e)
    }
}

/// Why mirroring a peer's log stopped.
#[derive(Debug)]
pub enum MirrorError {
    /// The peer could not be reached, or answered something that is not a valid answer.
    Peer(PeerError),
    /// The checkpoint is not signed by the party's key in the network file.
    Forged(String),
    /// The party showed a checkpoint inconsistent with one it signed before; recorded.
    Equivocation(String),
    /// The log is frozen at its last consistent checkpoint after an equivocation.
    Frozen(String),
    /// The entries served do not match the signed checkpoint, or are malformed.
    BadEntries(String),
    Node(NodeError),
}

impl fmt::Display for MirrorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MirrorError::Peer(e) => write!(f, "{e}"),
            MirrorError::Forged(d) => write!(f, "refused a forged checkpoint: {d}"),
            MirrorError::Equivocation(d) => write!(f, "equivocation: {d}"),
            MirrorError::Frozen(origin) => write!(
                f,
                "log {origin} is frozen at its last consistent checkpoint after an equivocation"
            ),
            MirrorError::BadEntries(d) => write!(f, "refused the entries served: {d}"),
            MirrorError::Node(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for MirrorError {}

impl From<NodeError> for MirrorError {
    fn from(e: NodeError) -> MirrorError {
        MirrorError::Node(e)
    }
}

impl From<StoreError> for MirrorError {
    fn from(e: StoreError) -> MirrorError {
        MirrorError::Node(NodeError::Store(e))
    }
}

impl From<PeerError> for MirrorError {
    fn from(e: PeerError) -> MirrorError {
        MirrorError::Peer(e)
    }
}

/// What a submission did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Submitted {
    /// Entries appended.
    pub appended: u64,
    /// Records skipped because the log already holds them, byte for byte.
    pub already_logged: u64,
    /// Index of the first entry appended.
    pub first_index: u64,
    /// The log's size afterwards.
    pub size: u64,
    /// The signed checkpoint covering them.
    pub checkpoint: String,
}

/// What one mirroring step did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Mirrored {
    pub origin: String,
    pub from_size: u64,
    pub to_size: u64,
    /// Whether this node's cosignature reached the log's node.
    pub cosignature_delivered: bool,
}

/// Leaves pushed onto a tree and not yet stored. Dropped without [`Pending::keep`] (an
/// error, or the caller's future cancelled mid-append when a client hangs up), it takes
/// them off again, so the tree never runs ahead of the store.
struct Pending<'a> {
    tree: &'a mut Tree,
    from: u64,
    kept: bool,
}

impl<'a> Pending<'a> {
    fn new(tree: &'a mut Tree) -> Pending<'a> {
        let from = tree.len();
        Pending {
            tree,
            from,
            kept: false,
        }
    }

    fn keep(mut self) {
        self.kept = true;
    }
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        if !self.kept {
            self.tree.truncate(self.from);
        }
    }
}

/// The in-memory view of one log.
#[derive(Debug, Default)]
pub(crate) struct LogView {
    pub(crate) tree: Tree,
    pub(crate) checkpoint: Option<Checkpoint>,
    /// The signed note of `checkpoint` (log signature only).
    pub(crate) note: Option<String>,
    pub(crate) frozen: bool,
    /// For the node's own log: what submissions are checked against (see [`OwnFacts`]).
    pub(crate) own: Option<OwnFacts>,
}

/// What a submission is checked against, kept between submissions (under the lock of the
/// own log's view) so that a submission does not read the whole log back from the store:
/// at 73,000 entries that read was four fifths of the time of a 1,000-record submission.
/// Entries another process appended meanwhile are read on the next submission (the
/// entries from `size` on); a submission cancelled midway leaves none, and the next one
/// reads the log again.
#[derive(Default)]
pub(crate) struct OwnFacts {
    /// Entries of the log read into it.
    size: u64,
    /// The bodies of its fact entries, in log order.
    bodies: Vec<Vec<u8>>,
    /// The same, to recognise a record already logged.
    known: std::collections::HashSet<Vec<u8>>,
    /// The problems the bodies have alone, once read (`facts::existing_problems`).
    before: Option<BTreeSet<String>>,
}

impl fmt::Debug for OwnFacts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnFacts")
            .field("size", &self.size)
            .field("bodies", &self.bodies.len())
            .field("before", &self.before.as_ref().map(BTreeSet::len))
            .finish()
    }
}

/// The latest state of mirroring one peer, for ledger health.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct MirrorHealth {
    pub last_attempt_ms: Option<i64>,
    pub last_success_ms: Option<i64>,
    pub last_error: Option<String>,
    pub consecutive_failures: u32,
}

/// A node: its identity, its store and its view of every log. (Fields are visible to the
/// crate so that each use case can live in a module of its own with an `impl` block.)
#[derive(Debug)]
pub struct Node<S: Store> {
    pub(crate) store: S,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) network: Network,
    pub(crate) treaty: Arc<TreatyBundle>,
    pub(crate) party: String,
    pub(crate) origin: String,
    pub(crate) signer: Signer,
    pub(crate) key: SigningKey,
    /// One lock per log, so that mirroring one log (which waits on a peer) never holds up
    /// another: two nodes mirroring each other at once each hold the lock of the other's
    /// log while asking for proofs of it, which need only the lock of the asked node's own.
    pub(crate) logs: std::sync::Mutex<BTreeMap<String, Arc<tokio::sync::Mutex<LogView>>>>,
    pub(crate) health: std::sync::Mutex<BTreeMap<String, MirrorHealth>>,
    pub(crate) facts_cache: std::sync::Mutex<Option<(FactsKey, Arc<crate::facts::LogFacts>)>>,
}

/// What the facts read from the logs depend on.
type FactsKey = Vec<(String, u64, usize)>;

impl<S: Store> Node<S> {
    /// Opens a node on `store`, checking every log it holds: the latest checkpoint's
    /// signature, and the root of the stored leaf hashes against it.
    pub async fn open(home: &Home, store: S, clock: Arc<dyn Clock>) -> Result<Node<S>, NodeError> {
        let origin = home.origin();
        let signer = Signer::from_seed(&origin, home.key.to_bytes())
            .map_err(|e| NodeError::Config(format!("node key: {e}")))?;
        let node = Node {
            store,
            clock,
            network: home.network.clone(),
            treaty: Arc::new(home.treaty.clone()),
            party: home.node.party.clone(),
            origin,
            signer,
            key: home.key.clone(),
            logs: std::sync::Mutex::new(BTreeMap::new()),
            health: std::sync::Mutex::new(BTreeMap::new()),
            facts_cache: std::sync::Mutex::new(None),
        };
        let frozen: BTreeSet<String> = node
            .store
            .equivocations()
            .await?
            .into_iter()
            .map(|e| e.origin)
            .collect();
        for state in node.store.logs().await? {
            if node.network.party_of_origin(&state.origin).is_none() {
                return Err(NodeError::Corrupt {
                    origin: state.origin.clone(),
                    detail: "the store holds a log of no party in the network file".into(),
                });
            }
        }
        for party in &node.network.parties {
            let origin = node.network.origin(&party.name);
            let mut view = node.view(&origin).await;
            view.frozen = frozen.contains(&origin);
            node.catch_up(&origin, &mut view).await?;
        }
        Ok(node)
    }

    pub fn party(&self) -> &str {
        &self.party
    }

    /// The lock of one log's view (made empty the first time).
    pub(crate) fn log(&self, origin: &str) -> Arc<tokio::sync::Mutex<LogView>> {
        let mut logs = self
            .logs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        logs.entry(origin.to_owned()).or_default().clone()
    }

    /// One log's view, locked.
    pub(crate) async fn view(&self, origin: &str) -> tokio::sync::OwnedMutexGuard<LogView> {
        self.log(origin).lock_owned().await
    }

    /// Every log the node has a view of (each party's), sorted.
    pub(crate) fn origins(&self) -> Vec<String> {
        self.logs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .keys()
            .cloned()
            .collect()
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub fn network(&self) -> &Network {
        &self.network
    }

    pub fn treaty(&self) -> &TreatyBundle {
        &self.treaty
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    pub fn clock_handle(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    pub fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    fn verifier_of(&self, origin: &str) -> Result<Verifier, NodeError> {
        self.network
            .party_of_origin(origin)
            .and_then(|p| self.network.log_verifier(p))
            .ok_or_else(|| NodeError::Config(format!("no key for log {origin}")))
    }

    /// Brings `view` up to what the store holds (another process may have appended),
    /// checking the latest checkpoint's signature and root.
    pub(crate) async fn catch_up(&self, origin: &str, view: &mut LogView) -> Result<(), NodeError> {
        let state = self
            .store
            .logs()
            .await?
            .into_iter()
            .find(|s| s.origin == origin);
        let Some(state) = state else {
            return Ok(());
        };
        let held = view.tree.len();
        if state.size < held {
            return Err(NodeError::Corrupt {
                origin: origin.to_owned(),
                detail: format!(
                    "the store has {} entries, fewer than the {held} this node had read",
                    state.size
                ),
            });
        }
        let mut from = held;
        while from < state.size {
            let to = state.size.min(from.saturating_add(READ_PAGE * 10));
            for hash in self.store.leaf_hashes(origin, from, to).await? {
                view.tree.push(hash);
            }
            from = to;
        }
        let Some(stored) = state.checkpoint else {
            if state.size > 0 {
                return Err(NodeError::Corrupt {
                    origin: origin.to_owned(),
                    detail: format!("{} entries but no checkpoint", state.size),
                });
            }
            return Ok(());
        };
        if view.note.as_deref() == Some(stored.note.as_str()) {
            return Ok(());
        }
        let verifier = self.verifier_of(origin)?;
        let (cp, _) = open_checkpoint(&stored.note, &verifier).map_err(|e| NodeError::Corrupt {
            origin: origin.to_owned(),
            detail: format!("the checkpoint at size {}: {e}", stored.size),
        })?;
        if cp.size != view.tree.len() || cp.root != view.tree.root() {
            return Err(NodeError::Corrupt {
                origin: origin.to_owned(),
                detail: format!(
                    "the stored entries (size {}) do not have the root of the signed checkpoint (size {})",
                    view.tree.len(),
                    cp.size
                ),
            });
        }
        view.checkpoint = Some(cp);
        view.note = Some(stored.note);
        Ok(())
    }

    /// Appends this party's own facts (JSON Lines). Every record must be valid against the
    /// treaty, be the party's own (`party`, or `observer` for an observation), and agree
    /// with what the log already holds; otherwise nothing is written. Records the log
    /// already holds byte for byte (after canonical encoding) are skipped, so a submission
    /// retried after a lost answer does not double anything.
    pub async fn submit(&self, text: &str, source_name: &str) -> Result<Submitted, NodeError> {
        self.submit_part(text, source_name, 1, None).await
    }

    /// [`Node::submit`] for a part of a larger file whose first line is line `first_line`
    /// of `source_name` (each part is appended on its own, atomically), by an operator of
    /// `role` (records its role may not write are refused), or by the holder of the data
    /// folder (`None`: any record of the party's own).
    pub async fn submit_part(
        &self,
        text: &str,
        source_name: &str,
        first_line: u64,
        role: Option<crate::users::Role>,
    ) -> Result<Submitted, NodeError> {
        if text.len() > MAX_SUBMISSION_BYTES {
            return Err(NodeError::Rejected(vec![format!(
                "{source_name}: {} bytes; a submission is at most {MAX_SUBMISSION_BYTES}",
                text.len()
            )]));
        }
        let mut view = self.view(&self.origin).await;
        self.catch_up(&self.origin, &mut view).await?;
        let first_index = view.tree.len();
        // Taken out while in use: if this future is dropped midway, the next submission
        // reads the log again rather than trust a half-updated copy.
        let mut own = match view.own.take() {
            Some(own) if own.size <= first_index => own,
            _ => OwnFacts::default(),
        };
        if own.size < first_index {
            for body in self
                .fact_bodies(&self.origin, own.size, first_index)
                .await?
            {
                own.known.insert(body.clone());
                own.bodies.push(body);
            }
            own.size = first_index;
            own.before = None;
        }
        if own.before.is_none() {
            own.before = Some(crate::facts::existing_problems(
                &self.origin,
                &own.bodies,
                &self.treaty.treaty,
            ));
        }
        let prepared = crate::facts::prepare_submission_against(
            text,
            source_name,
            first_line,
            role,
            &self.party,
            &self.origin,
            &own.bodies,
            own.before.as_ref(),
            &self.treaty.treaty,
        );
        let bodies = match prepared {
            Ok(bodies) => bodies,
            Err(problems) => {
                view.own = Some(own);
                return Err(NodeError::Rejected(problems));
            }
        };
        let mut seen = BTreeSet::new();
        let mut fresh = Vec::new();
        let mut already_logged = 0;
        for body in &bodies {
            if own.known.contains(body) || !seen.insert(body.as_slice()) {
                already_logged += 1;
            } else {
                fresh.push(body.clone());
            }
        }
        if fresh.is_empty() {
            view.own = Some(own);
            return Ok(Submitted {
                appended: 0,
                already_logged,
                first_index,
                size: first_index,
                checkpoint: view.note.clone().unwrap_or_default(),
            });
        }
        let appended = self
            .append_own(
                &mut view,
                fresh.iter().map(|b| (EntryKind::Fact, b.clone())).collect(),
            )
            .await;
        let note = match appended {
            Ok(note) => note,
            Err(e) => {
                // Nothing was appended: what was read still describes the log.
                view.own = Some(own);
                return Err(e);
            }
        };
        let size = view.tree.len();
        // A log without problems stays without: every problem the submission could bring
        // was refused above. A log with problems has them read again next time, under the
        // entries' own numbering.
        if !own.before.as_ref().is_some_and(BTreeSet::is_empty) {
            own.before = None;
        }
        for body in fresh {
            own.known.insert(body.clone());
            own.bodies.push(body);
        }
        own.size = size;
        view.own = Some(own);
        drop(view);
        Ok(Submitted {
            appended: size - first_index,
            already_logged,
            first_index,
            size,
            checkpoint: note,
        })
    }

    /// Appends entries of any kind to this node's own log, with the checkpoint that covers
    /// them, in one transaction; returns the signed checkpoint.
    pub async fn append_entries(
        &self,
        entries: Vec<(EntryKind, Vec<u8>)>,
    ) -> Result<(u64, String), NodeError> {
        let mut view = self.view(&self.origin).await;
        self.catch_up(&self.origin, &mut view).await?;
        let first = view.tree.len();
        let note = self.append_own(&mut view, entries).await?;
        Ok((first, note))
    }

    async fn append_own(
        &self,
        view: &mut LogView,
        bodies: Vec<(EntryKind, Vec<u8>)>,
    ) -> Result<String, NodeError> {
        let start = view.tree.len();
        let now = self.clock.now_ms();
        let mut stored = Vec::with_capacity(bodies.len());
        for (offset, (kind, body)) in bodies.into_iter().enumerate() {
            let index = start + offset as u64;
            let bytes = Entry {
                origin: self.origin.clone(),
                index,
                appended_at_ms: now,
                kind,
                body,
            }
            .try_encode()
            .map_err(|e| NodeError::Rejected(vec![format!("entry {index}: {e}")]))?;
            stored.push(StoredEntry {
                index,
                leaf_hash: merkle::leaf_hash(&bytes),
                bytes,
            });
        }
        let pending = Pending::new(&mut view.tree);
        for entry in &stored {
            pending.tree.push(entry.leaf_hash);
        }
        let cp = Checkpoint {
            origin: self.origin.clone(),
            size: pending.tree.len(),
            root: pending.tree.root(),
            extensions: Vec::new(),
        };
        let note = sign_checkpoint(&cp, &self.signer)
            .map_err(|e| NodeError::Config(format!("signing the checkpoint: {e}")))?;
        // What is signed must verify before it is stored.
        open_checkpoint(&note, &self.signer.verifier()).map_err(|e| NodeError::Corrupt {
            origin: self.origin.clone(),
            detail: format!("the new checkpoint does not verify: {e}"),
        })?;
        let checkpoint = StoredCheckpoint {
            size: cp.size,
            note: note.clone(),
            stored_at_ms: now,
        };
        self.store
            .append(&self.origin, start, &stored, &checkpoint)
            .await?;
        pending.keep();
        view.checkpoint = Some(cp);
        view.note = Some(note.clone());
        Ok(note)
    }

    /// Decodes a stored entry after checking its bytes against its stored leaf hash (which
    /// the tree, checked against the signed root, was built from) and its place.
    pub(crate) fn decode_stored(origin: &str, stored: &StoredEntry) -> Result<Entry, NodeError> {
        let corrupt = |detail: String| NodeError::Corrupt {
            origin: origin.to_owned(),
            detail: format!("entry {}: {detail}", stored.index),
        };
        if merkle::leaf_hash(&stored.bytes) != stored.leaf_hash {
            return Err(corrupt(
                "its bytes do not hash to its leaf hash; run `detente log verify`".into(),
            ));
        }
        let entry = Entry::decode(&stored.bytes).map_err(|e| corrupt(e.to_string()))?;
        if entry.origin != origin || entry.index != stored.index {
            return Err(corrupt(format!(
                "it says it is entry {} of {}",
                entry.index, entry.origin
            )));
        }
        Ok(entry)
    }

    /// The bodies of the fact entries `from..size` of a log.
    async fn fact_bodies(
        &self,
        origin: &str,
        from: u64,
        size: u64,
    ) -> Result<Vec<Vec<u8>>, NodeError> {
        let mut bodies = Vec::new();
        let mut from = from;
        while from < size {
            let to = size.min(from + READ_PAGE);
            for stored in self.store.entries(origin, from, to).await? {
                let entry = Self::decode_stored(origin, &stored)?;
                if entry.kind == EntryKind::Fact {
                    bodies.push(entry.body);
                }
            }
            from = to;
        }
        Ok(bodies)
    }

    /// This node's latest checkpoint of `origin`, with every cosignature held on it.
    pub async fn checkpoint_with_cosignatures(
        &self,
        origin: &str,
    ) -> Result<Option<String>, NodeError> {
        let note = {
            let mut view = self.view(origin).await;
            self.catch_up(origin, &mut view).await?;
            view.note
                .clone()
                .zip(view.checkpoint.as_ref().map(|c| c.size))
        };
        let Some((note, size)) = note else {
            return Ok(None);
        };
        let cosignatures: Vec<Cosignature> = self
            .store
            .cosignatures(origin)
            .await?
            .into_iter()
            .filter(|c| c.size == size)
            .filter_map(|c| Cosignature::parse_line(&c.line).ok())
            .collect();
        checkpoint::with_cosignatures(&note, &cosignatures)
            .map(Some)
            .map_err(|e| NodeError::Corrupt {
                origin: origin.to_owned(),
                detail: format!("checkpoint at size {size}: {e}"),
            })
    }

    /// The encoded entries `from..to` of `origin` (at most [`FETCH_PAGE`]).
    pub async fn entries(
        &self,
        origin: &str,
        from: u64,
        to: u64,
    ) -> Result<Vec<Vec<u8>>, NodeError> {
        let to = to.min(from.saturating_add(FETCH_PAGE));
        Ok(self
            .store
            .entries(origin, from, to)
            .await?
            .into_iter()
            .map(|e| e.bytes)
            .collect())
    }

    /// A consistency proof between two sizes of `origin`.
    pub async fn consistency_proof(
        &self,
        origin: &str,
        old_size: u64,
        new_size: u64,
    ) -> Result<Vec<Hash>, NodeError> {
        let mut view = self.view(origin).await;
        self.catch_up(origin, &mut view).await?;
        view.tree
            .consistency_proof(old_size, new_size)
            .map_err(|e| NodeError::NotFound(format!("consistency proof for {origin}: {e}")))
    }

    /// An inclusion proof for entry `index` of `origin` in the tree of `size` entries.
    pub async fn inclusion_proof(
        &self,
        origin: &str,
        index: u64,
        size: u64,
    ) -> Result<Vec<Hash>, NodeError> {
        let mut view = self.view(origin).await;
        self.catch_up(origin, &mut view).await?;
        view.tree
            .inclusion_proof(index, size)
            .map_err(|e| NodeError::NotFound(format!("inclusion proof for {origin}: {e}")))
    }

    /// A receipt for entry `index` of `origin`: the entry's bytes and a C2SP tlog-proof
    /// against this node's latest checkpoint of that log, with its cosignatures.
    pub async fn receipt(&self, origin: &str, index: u64) -> Result<(Vec<u8>, Receipt), NodeError> {
        let note = self
            .checkpoint_with_cosignatures(origin)
            .await?
            .ok_or_else(|| NodeError::NotFound(format!("log {origin} is empty")))?;
        let size = self
            .view(origin)
            .await
            .checkpoint
            .as_ref()
            .map_or(0, |c| c.size);
        if index >= size {
            return Err(NodeError::NotFound(format!(
                "log {origin} has {size} entries; there is no entry {index}"
            )));
        }
        let proof = self.inclusion_proof(origin, index, size).await?;
        let entry = self
            .store
            .entries(origin, index, index + 1)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| NodeError::NotFound(format!("entry {index} of {origin}")))?;
        Ok((
            entry.bytes,
            Receipt {
                index,
                proof,
                checkpoint_note: note,
                extra: None,
            },
        ))
    }

    /// Takes a cosignature of this node's own log from another node: it must be by a
    /// network key and verify against the checkpoint this node signed at `size`.
    pub async fn receive_cosignature(
        &self,
        from_party: &str,
        size: u64,
        line: &str,
    ) -> Result<bool, NodeError> {
        let party = self
            .network
            .party(from_party)
            .ok_or_else(|| NodeError::Invalid(format!("`{from_party}` is not a party")))?;
        let verifier = self
            .network
            .cosigner_verifier(party)
            .ok_or_else(|| NodeError::Config(format!("no key for {from_party}")))?;
        let cosignature = Cosignature::parse_line(line)
            .map_err(|e| NodeError::Invalid(format!("cosignature: {e}")))?;
        let stored = self
            .store
            .checkpoints(&self.origin)
            .await?
            .into_iter()
            .find(|c| c.size == size)
            .ok_or_else(|| {
                NodeError::Invalid(format!("this log has no checkpoint at size {size}"))
            })?;
        let (cp, _) = open_checkpoint(&stored.note, &self.signer.verifier()).map_err(|e| {
            NodeError::Corrupt {
                origin: self.origin.clone(),
                detail: format!("checkpoint at size {size}: {e}"),
            }
        })?;
        checkpoint::verify_cosignature(&cp, &cosignature, &verifier).map_err(|e| {
            NodeError::Invalid(format!(
                "the cosignature by {from_party} does not verify against the checkpoint at size {size}: {e}"
            ))
        })?;
        Ok(self
            .store
            .add_cosignature(&StoredCosignature {
                origin: self.origin.clone(),
                size,
                cosigner: verifier.name().to_owned(),
                timestamp: cosignature.timestamp,
                line: cosignature.line(),
            })
            .await?)
    }

    /// The latest checkpoint this node holds of every other party's log (signed notes),
    /// for peers that compare notes.
    pub async fn mirrored_checkpoints(&self) -> Result<Vec<(String, String)>, NodeError> {
        let mut held = Vec::new();
        for origin in self.origins() {
            if origin != self.origin
                && let Some(note) = self.view(&origin).await.note.clone()
            {
                held.push((origin, note));
            }
        }
        Ok(held)
    }

    /// Mirrors one peer's log once: fetches its checkpoint; checks the signature and the
    /// consistency with the checkpoint held; fetches and checks the new entries; stores
    /// them with the checkpoint; cosigns it and gives the cosignature back. Then compares
    /// notes: the checkpoints the peer holds of other logs must agree with this node's.
    pub async fn mirror(&self, peer: &impl Peer) -> Result<Mirrored, MirrorError> {
        let started = self.clock.now_ms();
        let result = self.mirror_once(peer).await;
        let now = self.clock.now_ms();
        if let Ok(mut health) = self.health.lock() {
            let h = health.entry(peer.party().to_owned()).or_default();
            h.last_attempt_ms = Some(started);
            match &result {
                Ok(_) => {
                    h.last_success_ms = Some(now);
                    h.last_error = None;
                    h.consecutive_failures = 0;
                }
                Err(e) => {
                    h.last_error = Some(e.to_string());
                    h.consecutive_failures = h.consecutive_failures.saturating_add(1);
                }
            }
        }
        result
    }

    /// The state of mirroring each peer.
    pub fn mirror_health(&self) -> BTreeMap<String, MirrorHealth> {
        self.health.lock().map(|h| h.clone()).unwrap_or_default()
    }

    async fn mirror_once(&self, peer: &impl Peer) -> Result<Mirrored, MirrorError> {
        let party = self
            .network
            .party(peer.party())
            .ok_or_else(|| NodeError::Config(format!("`{}` is not a party", peer.party())))?;
        let origin = self.network.origin(&party.name);
        if origin == self.origin {
            return Err(NodeError::Config("a node does not mirror its own log".into()).into());
        }
        let verifier = self.verifier_of(&origin)?;
        let served = peer.checkpoint().await?;
        if let Err(e) = detente_ledger::note::Note::parse(&served) {
            return Err(MirrorError::Peer(PeerError {
                peer: party.name.clone(),
                what: "checkpoint".into(),
                detail: format!("not a signed note: {e}"),
            }));
        }
        let (cp, note) = open_checkpoint(&served, &verifier).map_err(|e| {
            MirrorError::Forged(format!(
                "the checkpoint {origin} served is not signed by its key in the network file: {e}"
            ))
        })?;
        // The log's own signature line only; cosignatures are checked and kept apart.
        let log_note = log_signed_note(&note, &verifier);

        let mut view = self.view(&origin).await;
        self.catch_up(&origin, &mut view).await?;
        if view.frozen {
            return Err(MirrorError::Frozen(origin));
        }
        let held = view.tree.len();
        let from_size = held;
        if cp.size < held {
            // An older checkpoint: it must describe a prefix of what is held.
            let root = view
                .tree
                .root_at(cp.size)
                .map_err(|e| MirrorError::BadEntries(format!("root at size {}: {e}", cp.size)))?;
            if root != cp.root {
                let held_note = view.note.clone().unwrap_or_default();
                self.record_equivocation(&mut view, &origin, held_note, log_note.clone(), format!(
                    "a checkpoint at size {} has a root different from the first {} entries of the log held (size {held})",
                    cp.size, cp.size
                ))
                .await?;
                return Err(MirrorError::Equivocation(format!(
                    "{origin} signed a checkpoint at size {} that contradicts its log",
                    cp.size
                )));
            }
        } else if cp.size == held {
            if held > 0 && view.checkpoint.as_ref().map(|c| c.root) != Some(cp.root) {
                let held_note = view.note.clone().unwrap_or_default();
                self.record_equivocation(
                    &mut view,
                    &origin,
                    held_note,
                    log_note.clone(),
                    format!("two checkpoints at size {held} with different roots"),
                )
                .await?;
                return Err(MirrorError::Equivocation(format!(
                    "{origin} signed two different checkpoints at size {held}"
                )));
            }
        } else {
            if held > 0 {
                let proof = peer.consistency(held, cp.size).await?;
                let held_root = view.tree.root();
                if let Err(e) =
                    merkle::verify_consistency(held, cp.size, &held_root, &cp.root, &proof)
                {
                    // A wrong proof alone proves nothing against the party (answers are not
                    // signed). Its whole log does: if the entries it serves have its new
                    // signed root but their first `held` do not have the root it signed
                    // before, it has signed two histories.
                    let mut theirs = Tree::new();
                    self.fetch_entries(peer, &origin, &mut theirs, cp.size)
                        .await
                        .map_err(|fetch| {
                            MirrorError::BadEntries(format!(
                                "the consistency proof from size {held} to {} does not verify ({e}), and the log served to check it was refused: {fetch}",
                                cp.size
                            ))
                        })?;
                    if theirs.root() != cp.root {
                        return Err(MirrorError::BadEntries(format!(
                            "the consistency proof from size {held} to {} does not verify ({e}), and the entries served do not have the signed root",
                            cp.size
                        )));
                    }
                    if theirs.root_at(held).ok() == Some(held_root) {
                        return Err(MirrorError::BadEntries(format!(
                            "the consistency proof from size {held} to {} does not verify ({e}), though the log is consistent; refused",
                            cp.size
                        )));
                    }
                    let held_note = view.note.clone().unwrap_or_default();
                    self.record_equivocation(&mut view,
                        &origin,
                        held_note,
                        log_note.clone(),
                        format!(
                            "the checkpoint at size {} is not consistent with the one held at size {held}: the {} entries served have the new signed root, but their first {held} do not have the root signed at size {held}",
                            cp.size, cp.size
                        ),
                    )
                    .await?;
                    return Err(MirrorError::Equivocation(format!(
                        "{origin}: the checkpoint at size {} does not extend the one at size {held}",
                        cp.size
                    )));
                }
            }
            let pending = Pending::new(&mut view.tree);
            let stored = self
                .fetch_entries(peer, &origin, pending.tree, cp.size)
                .await?;
            if pending.tree.root() != cp.root {
                return Err(MirrorError::BadEntries(format!(
                    "the entries {held}..{} served do not have the root of the signed checkpoint",
                    cp.size
                )));
            }
            let checkpoint = StoredCheckpoint {
                size: cp.size,
                note: log_note.clone(),
                stored_at_ms: self.clock.now_ms(),
            };
            self.store
                .append(&origin, held, &stored, &checkpoint)
                .await?;
            pending.keep();
            view.checkpoint = Some(cp.clone());
            view.note = Some(log_note.clone());
        }
        drop(view);

        // Cosignatures on this checkpoint by other parties, carried in the served note.
        self.keep_cosignatures(&origin, &cp, &note).await?;
        let latest = self.view(&origin).await.checkpoint.clone();
        let mut delivered = false;
        if let Some(latest) = latest
            && latest.size == cp.size
        {
            let cosignature = cosign(&latest, &self.signer, self.clock.now_secs().max(0) as u64);
            let mine = self.network.origin(&self.party);
            let already = self
                .store
                .cosignatures(&origin)
                .await?
                .into_iter()
                .find(|c| c.size == latest.size && c.cosigner == mine);
            let line = match already {
                // One cosignature per checkpoint: its time is the proof of receipt.
                Some(c) => c.line,
                None => {
                    let line = cosignature.line();
                    self.store
                        .add_cosignature(&StoredCosignature {
                            origin: origin.clone(),
                            size: latest.size,
                            cosigner: mine,
                            timestamp: cosignature.timestamp,
                            line: line.clone(),
                        })
                        .await?;
                    line
                }
            };
            let carried = note
                .signatures
                .iter()
                .any(|s| Cosignature::parse_line(&s.line()).is_ok_and(|c| c.line() == line));
            delivered = carried || peer.add_cosignature(latest.size, &line).await.is_ok();
        }
        self.compare_notes(peer).await?;
        self.invalidate_facts();
        Ok(Mirrored {
            origin,
            from_size,
            to_size: cp.size,
            cosignature_delivered: delivered,
        })
    }

    async fn fetch_entries(
        &self,
        peer: &impl Peer,
        origin: &str,
        tree: &mut Tree,
        size: u64,
    ) -> Result<Vec<StoredEntry>, MirrorError> {
        let mut stored = Vec::new();
        while tree.len() < size {
            let from = tree.len();
            let to = size.min(from + FETCH_PAGE);
            let page = peer.entries(from, to).await?;
            if page.is_empty() {
                return Err(MirrorError::BadEntries(format!(
                    "asked for entries {from}..{to} and got none"
                )));
            }
            if page.len() as u64 > to - from {
                return Err(MirrorError::BadEntries(format!(
                    "asked for {} entries ({from}..{to}) and got {}",
                    to - from,
                    page.len()
                )));
            }
            for (offset, bytes) in page.into_iter().enumerate() {
                let index = from + offset as u64;
                if bytes.len() > MAX_ENTRY_BYTES {
                    return Err(MirrorError::BadEntries(format!(
                        "entry {index}: {} bytes; an entry is at most {MAX_ENTRY_BYTES}",
                        bytes.len()
                    )));
                }
                let entry = Entry::decode(&bytes)
                    .map_err(|e| MirrorError::BadEntries(format!("entry {index}: {e}")))?;
                if entry.origin != origin || entry.index != index {
                    return Err(MirrorError::BadEntries(format!(
                        "entry {index}: it is entry {} of {}, not entry {index} of {origin}",
                        entry.index, entry.origin
                    )));
                }
                let leaf_hash = merkle::leaf_hash(&bytes);
                tree.push(leaf_hash);
                stored.push(StoredEntry {
                    index,
                    leaf_hash,
                    bytes,
                });
            }
        }
        Ok(stored)
    }

    /// Keeps the cosignatures in a served note that verify by a network key.
    async fn keep_cosignatures(
        &self,
        origin: &str,
        cp: &Checkpoint,
        note: &detente_ledger::note::Note,
    ) -> Result<(), NodeError> {
        let cosigners = self.network.cosigner_verifiers();
        for signature in &note.signatures {
            let Some(verifier) = cosigners
                .iter()
                .find(|v| v.name() == signature.name && v.key_id() == signature.key_id)
            else {
                continue;
            };
            let Ok(cosignature) = Cosignature::parse_line(&signature.line()) else {
                continue;
            };
            if checkpoint::verify_cosignature(cp, &cosignature, verifier).is_ok() {
                self.store
                    .add_cosignature(&StoredCosignature {
                        origin: origin.to_owned(),
                        size: cp.size,
                        cosigner: verifier.name().to_owned(),
                        timestamp: cosignature.timestamp,
                        line: cosignature.line(),
                    })
                    .await?;
            }
        }
        Ok(())
    }

    /// Compares this node's view of every log with the checkpoints `peer` holds of them.
    async fn compare_notes(&self, peer: &impl Peer) -> Result<(), MirrorError> {
        let Ok(theirs) = peer.mirrors().await else {
            // An older peer, or a transient failure: comparing notes is best effort.
            return Ok(());
        };
        for (origin, served) in theirs {
            let Ok(verifier) = self.verifier_of(&origin) else {
                continue;
            };
            let Ok((cp, note)) = open_checkpoint(&served, &verifier) else {
                continue;
            };
            let log_note = log_signed_note(&note, &verifier);
            let mut view = self.view(&origin).await;
            self.catch_up(&origin, &mut view).await?;
            if view.frozen || cp.size > view.tree.len() {
                continue;
            }
            let root = view.tree.root_at(cp.size).ok();
            if root != Some(cp.root) {
                let held_note = view.note.clone().unwrap_or_default();
                self.record_equivocation(&mut view,
                    &origin,
                    held_note,
                    log_note,
                    format!(
                        "{} holds a checkpoint of this log at size {} whose root differs from the log held here",
                        peer.party(),
                        cp.size
                    ),
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn record_equivocation(
        &self,
        view: &mut LogView,
        origin: &str,
        held_note: String,
        conflicting_note: String,
        detail: String,
    ) -> Result<(), NodeError> {
        tracing::error!(origin, %detail, "equivocation: log frozen at its last consistent checkpoint");
        self.store
            .add_equivocation(&StoredEquivocation {
                origin: origin.to_owned(),
                held_note,
                conflicting_note,
                detail,
                detected_at_ms: self.clock.now_ms(),
            })
            .await?;
        view.frozen = true;
        Ok(())
    }

    /// Every equivocation recorded.
    pub async fn equivocations(&self) -> Result<Vec<StoredEquivocation>, NodeError> {
        Ok(self.store.equivocations().await?)
    }

    /// (origin, size, root, frozen) of every log, by origin.
    pub async fn log_heads(&self) -> Vec<(String, u64, Hash, bool)> {
        let mut heads = Vec::new();
        for origin in self.origins() {
            let view = self.view(&origin).await;
            let (size, root) = view
                .checkpoint
                .as_ref()
                .map_or((0, merkle::empty_root()), |c| (c.size, c.root));
            heads.push((origin, size, root, view.frozen));
        }
        heads
    }

    pub(crate) fn invalidate_facts(&self) {
        if let Ok(mut cache) = self.facts_cache.lock() {
            *cache = None;
        }
    }

    /// The facts in every log, as the engine reads them, with the checkpoints they come
    /// from. Cached until a log or its cosignatures change.
    pub async fn log_facts(&self) -> Result<Arc<crate::facts::LogFacts>, NodeError> {
        let mut heads = Vec::new();
        for origin in self.origins() {
            let mut view = self.view(&origin).await;
            self.catch_up(&origin, &mut view).await?;
            if let Some(cp) = view.checkpoint.clone() {
                heads.push((origin, cp));
            }
        }
        let mut cosignatures = BTreeMap::new();
        let mut key = Vec::new();
        for (origin, cp) in &heads {
            let list = self.store.cosignatures(origin).await?;
            key.push((origin.clone(), cp.size, list.len()));
            cosignatures.insert(origin.clone(), list);
        }
        if let Ok(cache) = self.facts_cache.lock()
            && let Some((cached_key, facts)) = cache.as_ref()
            && *cached_key == key
        {
            return Ok(facts.clone());
        }
        let mut logs_entries = Vec::new();
        for (origin, cp) in &heads {
            let mut entries = Vec::new();
            let mut from = 0;
            while from < cp.size {
                let to = cp.size.min(from + READ_PAGE);
                for stored in self.store.entries(origin, from, to).await? {
                    entries.push(Self::decode_stored(origin, &stored)?);
                }
                from = to;
            }
            logs_entries.push(crate::facts::LogInput {
                origin: origin.clone(),
                party: self
                    .network
                    .party_of_origin(origin)
                    .map(|p| p.name.clone())
                    .unwrap_or_default(),
                checkpoint: cp.clone(),
                entries,
                cosignatures: cosignatures.remove(origin).unwrap_or_default(),
            });
        }
        let facts = Arc::new(crate::facts::read_logs(&logs_entries, &self.treaty.treaty));
        if let Ok(mut cache) = self.facts_cache.lock() {
            *cache = Some((key, facts.clone()));
        }
        Ok(facts)
    }
}

/// The note with only the log's own signature line (cosignatures removed).
fn log_signed_note(note: &detente_ledger::note::Note, log: &Verifier) -> String {
    let own: Vec<_> = note
        .signatures
        .iter()
        .filter(|s| s.name == log.name() && s.key_id == log.key_id())
        .cloned()
        .collect();
    detente_ledger::note::Note {
        text: note.text.clone(),
        signatures: own,
    }
    .format()
}

impl<S: Store> Node<S> {
    /// The report at `at`, computed from the logs held, naming their checkpoints.
    pub async fn report(
        &self,
        at: detente_lang::time::Instant,
        options: &detente_assess::engine::Options,
    ) -> Result<detente_assess::report::Report, NodeError> {
        let facts = self.log_facts().await?;
        let engine = detente_assess::engine::Engine::new(
            &self.treaty.treaty,
            &facts.facts,
            self.treaty.zones.clone(),
            options,
            detente_assess::engine::Provenance {
                source_sha256: self.treaty.source_sha256.clone(),
                inputs: facts.inputs.clone(),
            },
        )
        .map_err(|e| NodeError::Invalid(e.to_string()))?;
        Ok(engine.assess(at))
    }
}
