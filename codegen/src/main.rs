//! The `rpcgen` command-line tool.

fn main() {}
