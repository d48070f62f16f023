//! The rpcgen IDL front end: parses `.rpc` files, resolves them into one IR and reports diagnostics.
//!
//! - [`compile`] / [`Compiler`]: `.rpc` files (and their imports) → [`ir::Schema`], or
//!   [`Diagnostics`] that render like rustc.
//! - [`rust_front`]: the same IR from annotated Rust traits and types (`#[rpcgen::service]`).
//! - [`format_source`]: the canonical formatting of one file, comments kept.
//! - [`compat`]: which changes between two versions of a schema break deployed programs;
//!   [`locate`]: where each declaration of a compiled schema is written; [`contract`]: the part
//!   of a schema one service's callers need.
//! - [`ir`]: the schema every backend consumes; [`naming`]: how IDL names become identifiers in
//!   each target language.
//!
//! The pipeline: `rpc.pest` (the grammar) → `ast` (syntax tree with spans) → `resolve` (checks
//! names, types and attributes) → `ir`. docs/idl.md is the language reference.

#![warn(missing_docs)]

pub mod compat;
pub mod contract;
pub mod diagnostic;
pub mod ir;
pub mod locate;
pub mod naming;
pub mod rust_front;
pub mod source;

mod ast;
mod compile;
mod format;
mod grammar;
mod resolve;
mod syntax_error;
mod trivia;
mod wording;

pub use ast::rpc_string_literal;
pub use compile::{compile, Compiler};
pub use diagnostic::{Diagnostic, Diagnostics};
pub use format::format_source;
pub use ir::Schema;
pub use source::{FsLoader, MemoryLoader, SourceLoader};
