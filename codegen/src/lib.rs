//! rpcgen's code generators and the `Builder` used from `build.rs`; with the `remote` feature (on
//! by default), what the commands that talk to running servers use: [`pull`] (the `.rpc`
//! definition of a running zerorpc server) and [`call`] (JSON arguments and results).

pub mod builder;
#[cfg(feature = "remote")]
pub mod call;
pub mod output;
pub mod problems;
#[cfg(feature = "remote")]
pub mod pull;
pub mod python;
pub mod rpc_printer;
pub mod rust;
pub mod typescript;

pub use builder::Builder;
