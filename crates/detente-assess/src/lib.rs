//! The facts model and the assessment engine.
//!
//! Owns the facts (declarations, items, events, notifications, observations) and the pure,
//! deterministic engine that turns a checked treaty and facts into findings. It refuses
//! I/O, the clock, randomness and hash-map iteration order: the same inputs give the same
//! report, byte for byte, on every machine.

pub mod engine;
pub mod facts;
pub mod geo;
pub mod report;
pub use detente_lang::suggest;
pub mod value;
