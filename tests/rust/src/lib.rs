//! The Rust that rpcgen generates for every valid IDL golden file and for the zerorpc-python peer
//! (see `build.rs`), compiled here so that `cargo clippy -- -D warnings` over the workspace proves
//! it warning-free. The tests in `tests/` use these modules and the example shop
//! (`examples/shop`).

/// Every generated package, side by side (they refer to each other as `super::<package>`).
pub mod generated {
    include!(concat!(env!("OUT_DIR"), "/generated.rs"));
}
