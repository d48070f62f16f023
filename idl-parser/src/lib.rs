//! The rpcgen IDL front end: parses `.rpc` files, resolves them into one IR and reports diagnostics.
