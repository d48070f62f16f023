//! rpcgen's code generators and the `Builder` used from `build.rs`.

pub mod builder;
pub mod output;
pub mod python;
pub mod rpc_printer;
pub mod rust;
pub mod typescript;

pub use builder::Builder;
