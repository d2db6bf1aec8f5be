//! The verification tools of `detente-escrow` in a node: escrowed declarations revealed
//! region by region, jointly drawn inspections, inspection reports, and limits proved
//! without disclosure (docs/verification.md, "How nodes use it").
//!
//! * [`records`]: the seven records as `EntryKind::Verification` entries (the body is the
//!   record's own bytes, starting with its tag `detente-escrow/<record>/v1`), and the
//!   splitting of a large reveal into parts that fit a log entry.
//! * [`private`]: what a party keeps in `DATA/private/` and never logs: the items and
//!   salts of its commitments, its seeds, the openings of its limit proofs.
//! * [`state`]: every party's verification state from the logs held, deterministically,
//!   with findings that name the log entries behind them.
//! * [`limits`]: the limit proofs applied to the report.
//! * `actions`: the node's use cases ([`Node::escrow_commit`](crate::Node::escrow_commit),
//!   `escrow_reveal`, `seed_commit`, `seed_reveal`, `file_inspection`, `prove_limit`,
//!   `open_limit`, `verification_state`, `report_with_verification`).

mod actions;
pub mod limits;
pub mod private;
pub mod records;
pub mod state;

pub use actions::{Appended, Committed, Revealed};
pub use limits::{PROVED_WITHOUT_DISCLOSURE, apply_limit_proofs};
pub use records::{Record, RecordRef};
pub use state::{
    ProofState, Severity, StateOptions, VerificationFinding, VerificationState, read_verification,
};
