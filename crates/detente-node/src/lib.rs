//! A detente node's use cases.

pub mod memory_store;
pub mod store;
