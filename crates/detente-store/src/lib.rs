//! SQLite implementation of the node's store.
