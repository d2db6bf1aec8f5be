//! The `detente` binary.
fn main() {}
