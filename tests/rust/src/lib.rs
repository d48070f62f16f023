//! The Rust that rpcgen generates for every valid IDL golden file (twice: with `BTreeMap` and with
//! `HashMap` for maps) and for the zerorpc-python peer (see `build.rs`), compiled here so that
//! `cargo clippy -- -D warnings` over the workspace proves it warning-free. The tests in `tests/`
//! use these modules and the example shop (`examples/shop`). [`evolution`] holds two versions of
//! one service and a server of the second, which clients of the first call.

/// Every generated package, side by side (they refer to each other as `super::<package>`).
pub mod generated {
    include!(concat!(env!("OUT_DIR"), "/generated.rs"));
}

/// The golden packages again, generated with `HashMap` for `map<K, V>`
/// (`rpcgen::Builder::map_type`).
pub mod hash_maps {
    include!(concat!(env!("OUT_DIR"), "/hash_maps.rs"));
}

pub mod evolution;
