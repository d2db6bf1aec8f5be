//! Verification tools for detente (pure: no I/O, no clock, no randomness of its own).
//!
//! * [`commit`]: a party commits to its complete item-level declaration (salted SHA-256
//!   per item, an RFC 6962 Merkle root over them in (region, id) order) and keeps the
//!   items and salts in an [`commit::Escrow`].
//! * [`reveal`]: region by region, the items with their salts and inclusion proofs;
//!   every node checks them (`reveal_mismatch`, `incomplete_reveal`).
//! * [`randomness`]: commit-then-reveal joint seeds and a reproducible draw of
//!   inspection sites.
//! * [`inspection`]: inspection reports reconciled with the revealed items
//!   (`undeclared_item`, `missing_item`, `attribute_mismatch`).
//! * [`probability`]: the chance that `n` inspections out of `N` sites find `k` hiding
//!   ones, and the `n` needed for a confidence.
//! * [`limit`]: Pedersen commitments and Bulletproofs range proofs that a committed
//!   number is at most a bound; openings checked against them.
//!
//! Every record that becomes a log entry (commitment, reveal, seed commitment, seed
//! reveal, inspection report, limit proof, opening) has canonical, versioned,
//! domain-separated bytes (`detente-escrow/<record>/v1`) with `encode`/`decode`; the
//! decoders bound their input and never panic. Randomness (salts, seeds, blindings) is
//! always passed in. The protocol and byte formats are in `docs/verification.md`.

#![forbid(unsafe_code)]

pub mod codec;
pub mod commit;
pub mod inspection;
pub mod limit;
pub mod probability;
pub mod randomness;
pub mod reveal;

pub use codec::{FormatError, Problem};
pub use detente_ledger::Hash;
