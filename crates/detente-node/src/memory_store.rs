//! An in-memory [`crate::store::Store`] (filled in by the store work).
