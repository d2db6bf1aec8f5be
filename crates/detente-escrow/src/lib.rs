//! Verification tools (pure).
