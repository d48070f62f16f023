//! The benchmark service: the same three echo methods as `bench/zerorpc_server.py`, served by the
//! rpcgen runtime in `runtime-bench` and in `bench-server`.

use std::collections::HashMap;

use rpcgen_runtime::Bytes;
use rpcgen_runtime::{MethodInfo, Service};

/// The typed service the rpcgen servers run: each method decodes its argument into its Rust
/// type and returns it, as generated code would.
pub fn service() -> Service {
    Service::new("Bench")
        .doc("Echo methods for rpcgen's runtime benchmark.")
        .unary(
            MethodInfo::new("echo").param("text").returns("string"),
            |args| async move { args.get::<String>(0) },
        )
        .unary(
            MethodInfo::new("echo_map")
                .param("entries")
                .returns("map<string, i64>"),
            |args| async move { args.get::<HashMap<String, i64>>(0) },
        )
        .unary(
            MethodInfo::new("echo_bytes").param("data").returns("bytes"),
            |args| async move { args.get::<Bytes>(0) },
        )
}
