//! The pest parser generated from `rpc.pest`, the grammar of `.rpc` files.

/// Parses `.rpc` text; [`Rule::file`] is the entry point for a whole file.
#[derive(pest_derive::Parser)]
#[grammar = "rpc.pest"]
pub(crate) struct RpcParser;
