//! Streaming calls: items, flow control with a slow consumer, errors, and the shapes other
//! zerorpc servers use to end a stream.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use common::{client_for, collect_stream, demo, eventually};
use futures::{StreamExt, TryStreamExt};
use rmpv::Value;
use rpcgen_runtime::event::{encode_event, Event, Header};
use rpcgen_runtime::{CallError, Client, RemoteError};
use zeromq::{Socket, SocketRecv, SocketSend, ZmqMessage};

#[tokio::test]
async fn a_thousand_items_arrive_in_order() {
    let (server, client, _) = demo().await;
    let items: Vec<u64> = collect_stream(&client, "count", (1000,)).await;
    assert_eq!(items, (0..1000).collect::<Vec<_>>());
    let empty: Vec<u64> = collect_stream(&client, "count", (0,)).await;
    assert!(empty.is_empty());
    server.shutdown().await;
}

#[tokio::test]
async fn errors_before_and_during_a_stream_are_reported() {
    let (server, client, _) = demo().await;
    let error = client
        .call_stream::<u64, _>("count", ("many",))
        .await
        .unwrap_err();
    assert_eq!(error.remote().unwrap().name, "TypeError");
    let error = two_items_then_an_error(&client, "count_then_fail").await;
    assert_eq!(error.message, "stream broke");
    // A panic while producing an item ends the stream with ERR Panic after the items sent.
    let error = two_items_then_an_error(&client, "count_then_panic").await;
    assert_eq!(error.name, "Panic");
    assert!(error.message.contains("stream kaboom"), "{error}");
    server.shutdown().await;
}

/// Calls `method` for two items and checks that they arrive before the stream's remote error,
/// which it returns.
async fn two_items_then_an_error(client: &Client, method: &str) -> RemoteError {
    let items: Vec<Result<u64, CallError>> = client
        .call_stream(method, (2,))
        .await
        .unwrap()
        .collect()
        .await;
    assert_eq!(items.len(), 3);
    assert_eq!(items[1].as_ref().unwrap(), &1);
    items[2].as_ref().unwrap_err().remote().unwrap().clone()
}

#[tokio::test]
async fn a_slow_consumer_bounds_what_the_server_produces() {
    let (server, client, probe) = demo().await;
    let mut stream = client
        .call_stream::<u64, _>("count_probed", (10_000,))
        .await
        .unwrap();
    assert_eq!(stream.next().await.unwrap().unwrap(), 0);
    assert_eq!(stream.next().await.unwrap().unwrap(), 1);
    // One item before any credit, then a window of 100: production stops there.
    eventually("the first window is produced", || {
        probe.produced.load(Ordering::SeqCst) >= 101
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(probe.produced.load(Ordering::SeqCst) <= 102);
    // Heartbeats keep the idle stream alive; consuming resumes production.
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let rest: Vec<u64> = stream.try_collect().await.unwrap();
    assert_eq!(rest.len(), 9_998);
    server.shutdown().await;
}

/// Serves one request with canned replies from a raw ROUTER, as another zerorpc server would.
async fn fake_server(replies: Vec<(&'static str, Vec<u8>)>) -> String {
    let mut router = zeromq::RouterSocket::new();
    let endpoint = router.bind("tcp://127.0.0.1:0").await.unwrap().to_string();
    tokio::spawn(async move {
        let request = router.recv().await.unwrap();
        let peer = request.get(0).unwrap().clone();
        let event = Event::decode(request.get(2).unwrap()).unwrap();
        let id = event.header.message_id().unwrap().clone();
        for (name, args) in replies {
            let payload = encode_event(&Header::reply_to(&id), name, &args);
            let frames = vec![peer.clone(), Bytes::new(), Bytes::from(payload)];
            router
                .send(ZmqMessage::try_from(frames).unwrap())
                .await
                .unwrap();
        }
        // Keep the socket open until the test is done with it.
        let _ = router.recv().await;
    });
    endpoint
}

#[tokio::test]
async fn streams_ended_the_node_way_are_understood() {
    // zerorpc-node ends an empty stream with OK [nil].
    let client = client_for(&fake_server(vec![("OK", vec![0x91, 0xc0])]).await);
    let items: Vec<u64> = collect_stream(&client, "s", ()).await;
    assert!(items.is_empty());
    // zerorpc-node's STREAM_DONE carries [] instead of nil.
    let replies = vec![("STREAM", vec![0x07]), ("STREAM_DONE", vec![0x90])];
    let client = client_for(&fake_server(replies).await);
    let items: Vec<u64> = collect_stream(&client, "s", ()).await;
    assert_eq!(items, [7]);
}

#[tokio::test]
async fn node_floats_and_sloppy_types_are_accepted() {
    // msgpack-lite sends 3000000000 as float64.
    let reply = vec![0x91, 0xcb, 0x41, 0xe6, 0x5a, 0x0b, 0xc0, 0, 0, 0];
    let client = client_for(&fake_server(vec![("OK", reply)]).await);
    assert_eq!(
        client.call::<u64, _>("big", ()).await.unwrap(),
        3_000_000_000
    );
    // bin where a string is expected.
    let client = client_for(&fake_server(vec![("OK", vec![0x91, 0xc4, 0x01, b'x'])]).await);
    assert_eq!(client.call::<String, _>("text", ()).await.unwrap(), "x");
    // A v1-style ERR with a single element still ends the call with an error.
    let client = client_for(&fake_server(vec![("ERR", vec![0x91, 0xa1, b'e'])]).await);
    let error = client.call::<Value, _>("old", ()).await.unwrap_err();
    assert_eq!(error.remote().unwrap().message, "e");
}
