//! rpcgen's code generators and the `Builder` used from `build.rs`.

pub mod output;
pub mod python;
pub mod typescript;
