//! rpcgen's code generators and the `Builder` used from `build.rs`; with the `pull` feature (on
//! by default), [`pull`]: the `.rpc` definition of a running zerorpc server.

pub mod builder;
pub mod output;
#[cfg(feature = "pull")]
pub mod pull;
pub mod python;
pub mod rpc_printer;
pub mod rust;
pub mod typescript;

pub use builder::Builder;
