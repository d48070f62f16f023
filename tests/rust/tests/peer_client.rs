//! A generated client (from `tests/fixtures/peer.rpc`) calls the real zerorpc-python peer: typed
//! values across the full integer range, bytes, dynamic values, streams and Python's errors.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{python_peer, runtime_client, PYTHON_HEARTBEAT};
use futures::TryStreamExt;
use rpcgen_e2e::generated::peer::{PeerClient, Sample};
use rpcgen_runtime::{Bytes, CallError, Client, Middleware, Value};

#[tokio::test]
async fn a_generated_client_calls_zerorpc_python() {
    let (_peer, endpoint) = python_peer().await;
    let client = PeerClient::from_client(runtime_client(&endpoint, PYTHON_HEARTBEAT));

    assert_eq!(client.hello("generated").await.unwrap(), "Hello, generated");
    assert_eq!(client.add(i64::MAX - 1, 1).await.unwrap(), i64::MAX);
    client.nothing().await.unwrap();
    assert_eq!(client.byte_len(&[0, 1, 2, 255]).await.unwrap(), 4);
    let nested = Value::Map(vec![(
        Value::from("list"),
        Value::Array(vec![
            Value::Nil,
            Value::Binary(vec![7]),
            Value::from(u64::MAX),
        ]),
    )]);
    assert_eq!(client.echo(&nested).await.unwrap(), nested);

    let sample = client.sample().await.unwrap();
    assert_eq!(
        sample,
        Sample {
            nil: Value::Nil,
            r#true: true,
            r#false: false,
            small: 7,
            negative: -3,
            big: (1 << 63) + 5,
            min_i64: i64::MIN,
            float: 1.5,
            text: "héllo".to_string(),
            bytes: Bytes::from(vec![0, 1, 255]),
            list: vec![Value::from(1), Value::from("two"), Value::F64(3.0)],
            map: BTreeMap::from([
                ("a".to_string(), Value::from(1)),
                (
                    "b".to_string(),
                    Value::Array(vec![Value::Boolean(true), Value::Nil])
                ),
            ]),
        }
    );

    let counted: Vec<u32> = client.count(5).await.unwrap().try_collect().await.unwrap();
    assert_eq!(counted, [0, 1, 2, 3, 4]);
    let nothing: Vec<Value> = client
        .empty_stream()
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert!(nothing.is_empty());

    let error = client.fail("boom").await.unwrap_err();
    let remote = error.remote().expect("an ERR from Python");
    assert_eq!(
        (remote.name.as_str(), remote.message.as_str()),
        ("ValueError", "boom")
    );

    assert_eq!(client.slow(0.1).await.unwrap(), 0.1);
    match client
        .with_timeout(Duration::from_millis(200))
        .slow(3.0)
        .await
    {
        Err(CallError::Timeout { method, .. }) => assert_eq!(method, "slow"),
        other => panic!("expected a timeout, got {other:?}"),
    }
}

/// Adds a trace id to every request, as a tracing layer would.
struct TraceId;

impl Middleware for TraceId {
    fn request_header(&self, method: &str) -> Vec<(String, Value)> {
        vec![("trace_id".to_string(), Value::from(format!("t-1 {method}")))]
    }
}

#[tokio::test]
async fn header_entries_of_client_middleware_reach_zerorpc_python() {
    let (_peer, endpoint) = python_peer().await;
    let traced = Client::builder(&endpoint)
        .heartbeat(Some(PYTHON_HEARTBEAT))
        .layer(TraceId)
        .connect()
        .unwrap();
    let seen = PeerClient::from_client(traced)
        .header_entry("trace_id")
        .await
        .unwrap();
    assert_eq!(seen, Value::from("t-1 header_entry"));
    let plain = PeerClient::from_client(runtime_client(&endpoint, PYTHON_HEARTBEAT));
    assert_eq!(plain.header_entry("trace_id").await.unwrap(), Value::Nil);
}
