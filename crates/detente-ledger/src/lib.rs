//! detente's log (pure).
