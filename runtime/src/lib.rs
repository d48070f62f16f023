//! The rpcgen runtime: zerorpc v3 servers and clients over ZeroMQ and MessagePack.

pub mod error;
pub mod event;
pub mod value;
