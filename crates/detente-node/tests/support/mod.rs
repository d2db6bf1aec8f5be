//! What the in-process node tests share: a network of two parties (US and USSR of the
//! Carter-1977 treaty) with real data folders (`Home::init` in a temporary folder, keys made
//! by `generate_key` and a network file written here), nodes opened on them with a
//! [`ManualClock`], and [`LocalPeer`], a [`Peer`] that calls another in-process node's
//! methods directly.
//!
//! Each test file compiles this module on its own (`mod support;`), and none uses all of it.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use detente_node::home::{Home, generate_key};
use detente_node::memory_store::MemoryStore;
use detente_node::network::encode_key;
use detente_node::store::{Hash, Store};
use detente_node::{Clock, ManualClock, Node, Peer, PeerError};

pub const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
pub const US: &str = "detente/carter_1977/US";
pub const USSR: &str = "detente/carter_1977/USSR";

// ----- set-up ------------------------------------------------------------------------------

/// A network of two parties, US and USSR, each with a data folder.
pub struct Net {
    pub dir: tempfile::TempDir,
    pub us: Home,
    pub ussr: Home,
}

pub fn treaty_path() -> PathBuf {
    Path::new(ROOT).join("treaties/carter-1977.treaty")
}

/// US and USSR with no principals.
pub fn network() -> Net {
    network_with("", "")
}

/// US and USSR, each party's entry in the network file followed by `us_principals` and
/// `ussr_principals` (`[[party.principal]]` blocks, or nothing).
pub fn network_with(us_principals: &str, ussr_principals: &str) -> Net {
    let dir = tempfile::tempdir().unwrap();
    let us_dir = dir.path().join("us");
    let ussr_dir = dir.path().join("ussr");
    let us_key = generate_key(&us_dir).unwrap();
    let ussr_key = generate_key(&ussr_dir).unwrap();
    let network = dir.path().join("network.toml");
    std::fs::write(
        &network,
        format!(
            "treaty = \"carter_1977\"\n\n\
             [[party]]\nname = \"US\"\nurl = \"http://127.0.0.1:9\"\nnode_key = \"{}\"\n{}\n\
             [[party]]\nname = \"USSR\"\nurl = \"http://127.0.0.1:9\"\nnode_key = \"{}\"\n{}",
            encode_key(&us_key),
            us_principals,
            encode_key(&ussr_key),
            ussr_principals,
        ),
    )
    .unwrap();
    let us = Home::init(&us_dir, &treaty_path(), "US", &network).unwrap();
    let ussr = Home::init(&ussr_dir, &treaty_path(), "USSR", &network).unwrap();
    Net { dir, us, ussr }
}

/// The node of `home` on a fresh [`MemoryStore`], on `clock`.
pub async fn open(home: &Home, clock: &ManualClock) -> Node<MemoryStore> {
    open_on(home, MemoryStore::new(), clock).await
}

/// The node of `home` on `store`, on `clock`.
pub async fn open_on<S: Store>(home: &Home, store: S, clock: &ManualClock) -> Node<S> {
    let clock: Arc<dyn Clock> = Arc::new(clock.clone());
    Node::open(home, store, clock).await.unwrap()
}

// ----- a peer served by another node in this process ---------------------------------------

/// The peer protocol answered by another in-process node: what `detente-server`'s peer
/// endpoints do, minus HTTP. `checkpoint` can be replaced by a note of the test's choosing.
pub struct LocalPeer<'a, S: Store> {
    pub node: &'a Node<S>,
    /// The party of the node that mirrors through this peer: the sender of cosignatures.
    pub caller: String,
    pub served_checkpoint: Option<String>,
    /// Serve consistency proofs with one bit of each hash flipped.
    pub bad_proof: bool,
}

impl<'a, S: Store> LocalPeer<'a, S> {
    pub fn new(node: &'a Node<S>, caller: &str) -> Self {
        LocalPeer {
            node,
            caller: caller.to_owned(),
            served_checkpoint: None,
            bad_proof: false,
        }
    }

    pub fn serving(node: &'a Node<S>, caller: &str, checkpoint: String) -> Self {
        LocalPeer {
            served_checkpoint: Some(checkpoint),
            ..LocalPeer::new(node, caller)
        }
    }

    fn error(&self, what: &str, e: impl std::fmt::Display) -> PeerError {
        PeerError {
            peer: self.node.party().to_owned(),
            what: what.to_owned(),
            detail: e.to_string(),
        }
    }
}

impl<S: Store> Peer for LocalPeer<'_, S> {
    fn party(&self) -> &str {
        self.node.party()
    }

    async fn checkpoint(&self) -> Result<String, PeerError> {
        if let Some(note) = &self.served_checkpoint {
            return Ok(note.clone());
        }
        let note = self
            .node
            .checkpoint_with_cosignatures(self.node.origin())
            .await
            .map_err(|e| self.error("checkpoint", e))?
            .ok_or_else(|| self.error("checkpoint", "this node's log is empty"));
        // The answer's way back: other tasks run meanwhile, as they would.
        tokio::task::yield_now().await;
        note
    }

    async fn entries(&self, from: u64, to: u64) -> Result<Vec<Vec<u8>>, PeerError> {
        self.node
            .entries(self.node.origin(), from, to)
            .await
            .map_err(|e| self.error("entries", e))
    }

    async fn consistency(&self, old_size: u64, new_size: u64) -> Result<Vec<Hash>, PeerError> {
        // A network round trip: let other tasks run meanwhile, as they would.
        tokio::task::yield_now().await;
        let mut proof = self
            .node
            .consistency_proof(self.node.origin(), old_size, new_size)
            .await
            .map_err(|e| self.error("consistency proof", e))?;
        if self.bad_proof {
            for hash in &mut proof {
                hash[0] ^= 1;
            }
        }
        Ok(proof)
    }

    async fn add_cosignature(&self, size: u64, line: &str) -> Result<(), PeerError> {
        self.node
            .receive_cosignature(&self.caller, size, line)
            .await
            .map(|_| ())
            .map_err(|e| self.error("cosignature", e))
    }

    async fn mirrors(&self) -> Result<Vec<(String, String)>, PeerError> {
        self.node
            .mirrored_checkpoints()
            .await
            .map_err(|e| self.error("mirrors", e))
    }
}
