//! detente's log: the bytes and proofs that let one party show another, offline,
//! that something was logged and when the other side saw it.
//!
//! * [`entry`]: the canonical, versioned, domain-separated bytes of one log entry
//!   (what a leaf hash covers).
//! * [`merkle`]: RFC 6962 / RFC 9162 Merkle tree hashing, inclusion and consistency
//!   proofs, and an in-memory tree that answers them in O(log n).
//! * [`note`]: C2SP signed notes (`c2sp.org/signed-note`) with Ed25519 keys.
//! * [`checkpoint`]: C2SP checkpoints (`c2sp.org/tlog-checkpoint`) and timestamped
//!   Ed25519 cosignatures (`c2sp.org/tlog-cosignature`).
//! * [`receipt`]: C2SP proofs (`c2sp.org/tlog-proof`), the offline receipt for one entry.
//!
//! The crate is pure: no I/O, no clock, no randomness. Every time and key comes
//! from the caller, so the same inputs always give the same bytes, and a test or
//! a third-party verifier can reproduce anything a node produced.
//! The byte formats are specified in `docs/ledger-format.md`.

#![forbid(unsafe_code)]

pub mod checkpoint;
pub mod entry;
pub mod merkle;
pub mod note;
pub mod receipt;
mod text;

/// A SHA-256 digest: a leaf hash, an interior node hash or a tree root.
pub type Hash = [u8; 32];
