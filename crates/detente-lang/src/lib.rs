//! The detente treaty language.
//!
//! Owns the lexer, the parser (which never fails: it returns a syntax tree and
//! diagnostics), the checker (names, types, cycles; it yields a [`model::Treaty`]), the
//! formatter, source spans and diagnostics, and the calendar arithmetic of the language.
//!
//! It refuses I/O, the clock, async and every other detente crate: a treaty is text in,
//! values out. Zone files are named by the checked treaty but read by the caller.

pub mod ast;
pub mod check;
pub mod diag;
pub mod format;
pub mod lexer;
pub mod model;
pub mod parser;
pub mod suggest;
pub mod time;

pub use check::{Checked, check, check_source};
pub use diag::{Diagnostic, LineIndex, Severity, Span};
pub use parser::parse;
