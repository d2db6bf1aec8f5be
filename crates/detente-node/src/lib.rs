//! A detente node's use cases: submitting a party's own facts to its log, mirroring and
//! cosigning the other parties' logs, catching equivocation, issuing receipts and
//! assessing the treaty from what the logs hold.
//!
//! The node owns the [`store::Store`] and [`clock::Clock`] traits; the SQLite store lives
//! in `detente-store`, the HTTP server in `detente-server`, and the wiring in the CLI.

pub mod auth;
pub mod clock;
pub mod facts;
pub mod home;
pub mod letters;
pub mod memory_store;
pub mod network;
pub mod node;
pub mod peer;
pub mod queries;
pub mod replay;
pub mod store;
pub mod sync;
pub mod users;
pub mod verification;
pub mod verify;

pub use clock::{Clock, ManualClock, SystemClock};
pub use home::Home;
pub use network::Network;
pub use node::{MirrorError, Mirrored, Node, NodeError, Submitted};
pub use peer::{HttpPeer, Peer, PeerError};
pub use store::{Store, StoreError};
