//! Interop with the real zerorpc-node from npm (`zerorpc` 0.9.8, run on zeromq v6's v5-compat
//! layer: see tests/fixtures/zerorpc_node.cjs), both ways: a Rust client calls a zerorpc-node
//! server, and a zerorpc-node client calls a Rust server, both sides with 1 s heartbeats.
//!
//! zerorpc-node differs from zerorpc-python on the wire in ways these tests pin down: numbers
//! beyond 32 bits travel as float64, an empty stream ends with `OK [nil]`, an error's name is the
//! JavaScript error's, and an unknown method gets no answer at all.

mod common;

use std::ffi::OsStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::foreign::{self, field, node, peer_client, workspace, HEARTBEAT};
use common::{demo_builder, Probe};
use rmpv::Value;
use rpcgen_runtime::{CallError, Client};
use serde::Deserialize;
use tokio::process::Child;

/// Starts tests/fixtures/zerorpc_node_peer.cjs and returns it with its endpoint.
async fn node_server() -> (Child, String) {
    let peer = workspace().join("tests/fixtures/zerorpc_node_peer.cjs");
    let (child, endpoint, _) = foreign::start(
        node(),
        &[peer.as_os_str(), "--heartbeat".as_ref(), "1".as_ref()],
    )
    .await;
    (child, endpoint)
}

/// What the zerorpc-node peer's `sample()` returns, typed as generated code would type it.
#[derive(Debug, Deserialize)]
struct Sample {
    small: u8,
    negative: i8,
    big: u64,
    min_i64: i64,
    float: f64,
    text: String,
    bytes: serde_bytes::ByteBuf,
    list: Vec<Value>,
}

#[tokio::test]
async fn a_rust_client_calls_zerorpc_node() {
    let (_peer, endpoint) = node_server().await;
    let client = peer_client(&endpoint);
    foreign::check_what_every_peer_answers_alike(&client).await;

    // Beyond 32 bits, zerorpc-node answers with a float64; typed results take it back exactly.
    let echoed: Value = client.call("echo", (1u64 << 40,)).await.unwrap();
    assert_eq!(echoed, Value::F64((1u64 << 40) as f64));
    let echoed: u64 = client.call("echo", (1u64 << 40,)).await.unwrap();
    assert_eq!(echoed, 1 << 40);
    let echoed: i64 = client.call("echo", (-(1i64 << 40),)).await.unwrap();
    assert_eq!(echoed, -(1 << 40));

    let sample: Sample = client.call("sample", ()).await.unwrap();
    assert_eq!((sample.small, sample.negative), (7, -3));
    assert_eq!(sample.big, 1 << 63);
    assert_eq!(sample.min_i64, i64::MIN);
    assert_eq!(sample.float, 1.5);
    assert_eq!(sample.text, "héllo");
    assert_eq!(sample.bytes.as_slice(), [0, 1, 255]);
    assert_eq!(
        sample.list,
        [Value::from(1), Value::from("two"), Value::from(3)]
    );

    let error = client.call::<(), _>("fail", ("boom",)).await.unwrap_err();
    let remote = error.remote().expect("ERR");
    assert_eq!(
        (remote.name.as_str(), remote.message.as_str()),
        ("Error", "boom")
    );
    assert!(remote
        .traceback
        .as_deref()
        .unwrap_or_default()
        .contains("Error: boom"));
    // A missing argument: zerorpc-node passes its reply callback in the argument's place.
    let error = client.call::<i64, _>("add", (1,)).await.unwrap_err();
    let remote = error.remote().expect("ERR");
    assert_eq!(
        (remote.name.as_str(), remote.message.as_str()),
        ("TypeError", "reply is not a function")
    );

    let pong: Vec<String> = client.call("_zerorpc_ping", ()).await.unwrap();
    assert_eq!(pong, ["pong", ""]);
    let inspected: Value = client.call("_zerorpc_inspect", ()).await.unwrap();
    let add = field(field(&inspected, "methods"), "add");
    let args: Vec<&str> = field(add, "args")
        .as_array()
        .unwrap()
        .iter()
        .map(|arg| field(arg, "name").as_str().unwrap())
        .collect();
    assert_eq!(args, ["a", "b"]);
}

#[tokio::test]
async fn an_unknown_method_on_zerorpc_node_ends_in_lost_remote_not_a_hang() {
    let (_peer, endpoint) = node_server().await;
    let client = Client::builder(&endpoint)
        .heartbeat(Some(HEARTBEAT))
        .timeout(Duration::from_secs(30))
        .connect()
        .unwrap();
    // Connected: a known method answers.
    client.call::<(), _>("nothing", ()).await.unwrap();
    // zerorpc-node drops a request for a method it does not have, without a reply or a
    // heartbeat; the call ends when the channel's heartbeats are missed, long before its timeout.
    let started = Instant::now();
    let error = client.call::<(), _>("nosuch", ()).await.unwrap_err();
    assert!(
        matches!(error, CallError::LostRemote { .. }),
        "expected lost remote, got {error}"
    );
    assert!(started.elapsed() < Duration::from_secs(20));
    // The connection is fine for the next call.
    assert_eq!(client.call::<i64, _>("add", (1, 1)).await.unwrap(), 2);
}

#[tokio::test]
async fn zerorpc_node_calls_a_rust_server() {
    let server = demo_builder(Arc::new(Probe::default()))
        .heartbeat(Some(HEARTBEAT))
        .start()
        .await
        .unwrap();
    let script = workspace().join("runtime/tests/node/node_client.cjs");
    let endpoint = OsStr::new(server.endpoint());
    foreign::run_checks(node(), &[script.as_os_str(), endpoint]).await;
    server.shutdown().await;
}
