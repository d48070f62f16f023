//! The rpcgen runtime: zerorpc v3 servers and clients over ZeroMQ and MessagePack.
//!
//! Generated code (and hand-written code) builds on a small dynamic API:
//!
//! * a [`Service`] names methods and registers handlers with their [`MethodInfo`];
//!   [`Server::builder`] serves it on one or more endpoints;
//! * a [`Client`] calls methods by name with a tuple of arguments and decodes a typed result;
//!   it is cheap to clone and share, never blocks on connecting, and reconnects by itself;
//! * a [`Listener`] serves a `Service` to zerorpc's one-way senders (`Pusher`, `Publisher`), and
//!   a [`Publisher`] broadcasts one-way events to zerorpc's `Subscriber`s, a [`Pusher`] hands
//!   each to one of its `Puller`s.
//!
//! Everything on the wire is byte-compatible with zerorpc-python and zerorpc-node: see
//! [`event`] for the event format and [`value`] for how values are encoded.
//!
//! ```
//! use rpcgen_runtime::{Client, MethodInfo, RemoteError, Server, Service};
//!
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let service = Service::new("Calc").unary(
//!     MethodInfo::new("add").doc("Adds two numbers.").param("a").param("b"),
//!     |args| async move { Ok::<_, RemoteError>(args.get::<i64>(0)? + args.get::<i64>(1)?) },
//! );
//! let server = Server::bind("tcp://127.0.0.1:0", service).await?;
//! let client = Client::connect(server.endpoint())?;
//! let sum: i64 = client.call("add", (2, 3)).await?;
//! assert_eq!(sum, 5);
//! server.shutdown().await;
//! # Ok(())
//! # }
//! ```

#![warn(missing_debug_implementations)]

mod channel;
mod client;
mod config;
mod error;
pub mod event;
pub mod generated_support;
mod introspection;
mod middleware;
mod msgpack;
mod oneway;
mod outbound;
mod server;
mod service;
mod transport;
pub mod value;

pub use client::{CallOptions, CallStream, Client, ClientBuilder};
pub use config::Config;
pub use error::{CallError, DecodeError, EncodeError, RemoteError, SetupError};
pub use generated_support::{serde, BoxStream, Bytes, Stream, StreamExt, Value};
pub use middleware::{
    CallContext, CallOutcome, Middleware, PropagateHeader, RequestContext, RequestOutcome,
    TracingLayer,
};
pub use oneway::{Listener, ListenerBuilder};
pub use outbound::{Publisher, Pusher};
pub use server::{Server, ServerBuilder};
pub use service::{Args, CallInfo, Cancellation, MethodInfo, MethodKind, ParamInfo, Service};
pub use value::Arguments;
