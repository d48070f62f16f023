//! The benchmark service: the same three echo methods and one stream as
//! `bench/zerorpc_server.py` (and as `tests/python/bench/bench.rpc` describes), served by the
//! rpcgen runtime in `runtime-bench` and in `bench-server`.

use std::collections::HashMap;

use rpcgen_runtime::Bytes;
use rpcgen_runtime::{MethodInfo, RemoteError, Service};

/// The typed service the rpcgen servers run: each method decodes its argument into its Rust
/// type and returns it, as generated code would. One difference: the map is a `HashMap`, where
/// generated code uses `BTreeMap` (about 8 % slower here; see "The map type" in
/// docs/benchmarks.md).
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
        .stream(
            MethodInfo::new("items")
                .param("count")
                .param("size")
                .returns("string"),
            |args| async move {
                let count = args.get::<u64>(0)?;
                let item = "x".repeat(args.get::<usize>(1)?);
                Ok(futures::stream::iter(
                    (0..count).map(move |_| Ok::<_, RemoteError>(item.clone())),
                ))
            },
        )
}
