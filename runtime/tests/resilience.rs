//! Heartbeats, lost remotes, server restarts, late servers and stuck clients, on 127.0.0.1.

mod common;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::{client_for, collect_stream, demo, demo_builder, eventually, free_port, Probe};
use rmpv::Value;
use rpcgen_runtime::event::{encode_event, Event, Header};
use rpcgen_runtime::{CallError, CallOptions};
use zeromq::{Socket, SocketRecv, SocketSend, ZmqMessage};

/// A raw DEALER that speaks zerorpc by hand.
async fn raw_dealer(endpoint: &str) -> zeromq::DealerSocket {
    let mut socket = zeromq::DealerSocket::new();
    socket.connect(endpoint).await.expect("raw dealer connects");
    socket
}

fn request(name: &str, args: &[u8]) -> (Value, ZmqMessage) {
    let header = Header::new();
    let id = header.message_id().unwrap().clone();
    let payload = encode_event(&header, name, args);
    let message = ZmqMessage::try_from(vec![Bytes::new(), Bytes::from(payload)]).unwrap();
    (id, message)
}

#[tokio::test]
async fn a_server_that_never_answers_ends_in_lost_remote() {
    let mut silent = zeromq::RouterSocket::new();
    let endpoint = silent.bind("tcp://127.0.0.1:0").await.unwrap().to_string();
    let client = client_for(&endpoint);
    let call = tokio::spawn(async move { client.call::<(), _>("anything", ()).await });
    // The request arrives; the fake server never replies nor beats.
    let received = silent.recv().await.unwrap();
    let event = Event::decode(received.get(2).unwrap()).unwrap();
    assert_eq!(event.name, "anything");
    let error = call.await.unwrap().unwrap_err();
    assert!(matches!(error, CallError::LostRemote { .. }), "{error}");
    assert!(error
        .to_string()
        .starts_with("lost the remote while calling `anything`"));
}

#[tokio::test]
async fn the_client_beats_on_every_open_call_and_ends_only_the_silent_one() {
    let mut server = zeromq::RouterSocket::new();
    let endpoint = server.bind("tcp://127.0.0.1:0").await.unwrap().to_string();
    let client = client_for(&endpoint);
    let beating = tokio::spawn({
        let client = client.clone();
        async move { client.call::<String, _>("beating", ()).await }
    });
    let silent = tokio::spawn({
        let client = client.clone();
        async move { client.call::<String, _>("silent", ()).await }
    });
    // The fake server answers the client's heartbeats on `beating` only, until `silent` ends.
    let mut calls: Vec<(Value, String)> = Vec::new();
    let mut beats_heard = std::collections::HashMap::<String, u32>::new();
    let mut routing_id = Bytes::new();
    while !silent.is_finished() {
        let Ok(Ok(message)) = tokio::time::timeout(Duration::from_millis(100), server.recv()).await
        else {
            continue;
        };
        routing_id = message.get(0).unwrap().clone();
        let event = Event::decode(message.get(2).unwrap()).unwrap();
        if event.name != "_zpc_hb" {
            calls.push((event.header.message_id().unwrap().clone(), event.name));
            continue;
        }
        assert_eq!(event.args, Value::Array(vec![Value::from(0)]));
        let channel_id = event.header.response_to().unwrap();
        let channel = (calls.iter().find(|(id, _)| id == channel_id))
            .map(|(_, name)| name.clone())
            .unwrap();
        *beats_heard.entry(channel.clone()).or_default() += 1;
        if channel == "beating" {
            let beat = encode_event(
                &Header::reply_to(event.header.response_to().unwrap()),
                "_zpc_hb",
                &[0x91, 0x00],
            );
            let mut reply = message.into_vec();
            reply[2] = Bytes::from(beat);
            server
                .send(ZmqMessage::try_from(reply).unwrap())
                .await
                .unwrap();
        }
    }
    let error = silent.await.unwrap().unwrap_err();
    assert!(matches!(error, CallError::LostRemote { .. }), "{error}");
    assert!(
        error.to_string().contains("no heartbeat from the server"),
        "{error}"
    );
    assert!(beats_heard["silent"] >= 1, "{beats_heard:?}");
    assert!(beats_heard["beating"] >= 2, "{beats_heard:?}");
    // The call whose server kept beating is still open, and its answer arrives.
    assert!(!beating.is_finished());
    let (id, _) = calls.iter().find(|(_, name)| name == "beating").unwrap();
    let answer = encode_event(&Header::reply_to(id), "OK", &[0x91, 0xa3, b'y', b'e', b's']);
    server
        .send(ZmqMessage::try_from(vec![routing_id, Bytes::new(), Bytes::from(answer)]).unwrap())
        .await
        .unwrap();
    assert_eq!(beating.await.unwrap().unwrap(), "yes");
}

#[tokio::test]
async fn the_server_cancels_the_handler_of_a_lost_caller() {
    let (server, _client, probe) = demo().await;
    let mut caller = raw_dealer(server.endpoint()).await;
    let (_, message) = request("wait_forever", &[0x90]);
    caller.send(message).await.unwrap();
    // The raw caller never beats: after about three intervals the server cancels the handler.
    eventually("the handler is cancelled", || {
        probe.cancelled.load(Ordering::SeqCst) == 1
    })
    .await;
    // Meanwhile the server heartbeated on the channel, with the request id echoed.
    let beat = caller.recv().await.unwrap();
    let beat = Event::decode(beat.get(1).unwrap()).unwrap();
    assert_eq!(beat.name, "_zpc_hb");
    server.shutdown().await;
}

#[tokio::test]
async fn blocking_work_learns_that_its_caller_was_lost() {
    let (server, _client, probe) = demo().await;
    let mut caller = raw_dealer(server.endpoint()).await;
    // A blocking handler, and an async one that hands its work to a thread.
    for method in ["block_until_cancelled", "offload_until_cancelled"] {
        let (_, message) = request(method, &[0x90]);
        caller.send(message).await.unwrap();
    }
    eventually("both handlers run", || {
        probe.started.load(Ordering::SeqCst) == 2
    })
    .await;
    // A thread cannot be dropped; each sees its call's cancellation and returns.
    eventually("both see their cancellation", || {
        probe.cancelled.load(Ordering::SeqCst) == 2
    })
    .await;
    server.shutdown().await;
}

#[tokio::test]
async fn calls_made_before_the_server_is_up_wait_for_it() {
    let endpoint = format!("tcp://127.0.0.1:{}", free_port());
    let client = client_for(&endpoint);
    let early = tokio::spawn({
        let client = client.clone();
        async move { client.call::<i64, _>("add", (1, 2)).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let server = demo_builder(Arc::new(Probe::default()))
        .bind(endpoint.clone())
        .start()
        .await
        .unwrap();
    assert_eq!(early.await.unwrap().unwrap(), 3);
    server.shutdown().await;

    let nobody = client_for(&format!("tcp://127.0.0.1:{}", free_port()));
    let error = nobody
        .call_with::<(), _>(
            "add",
            (1, 2),
            CallOptions::timeout(Duration::from_millis(300)),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, CallError::Timeout { .. }), "{error}");
}

#[tokio::test]
async fn the_client_recovers_when_the_server_restarts() {
    let endpoint = format!("tcp://127.0.0.1:{}", free_port());
    let start = || {
        demo_builder(Arc::new(Probe::default()))
            .bind(endpoint.clone())
            .start()
    };
    let server = start().await.unwrap();
    let client = client_for(&endpoint);
    assert_eq!(client.call::<i64, _>("add", (1, 1)).await.unwrap(), 2);

    let in_flight = tokio::spawn({
        let client = client.clone();
        async move { client.call::<f64, _>("sleep", (30.0,)).await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    drop(server);
    let error = in_flight.await.unwrap().unwrap_err();
    assert!(
        matches!(
            error,
            CallError::LostRemote { .. } | CallError::Timeout { .. }
        ),
        "{error}"
    );

    // The old listener closes asynchronously: retry the bind for a while.
    let mut restarted = None;
    for _ in 0..50 {
        match start().await {
            Ok(server) => {
                restarted = Some(server);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    let server = restarted.expect("the server restarts on the same port");
    // The same client, with no intervention, reaches the new server.
    assert_eq!(client.call::<i64, _>("add", (2, 2)).await.unwrap(), 4);
    let stream: Vec<u64> = collect_stream(&client, "count", (3,)).await;
    assert_eq!(stream, [0, 1, 2]);
    server.shutdown().await;
}

#[tokio::test]
async fn a_stuck_client_does_not_stall_the_others() {
    let probe = Arc::new(Probe::default());
    let server = demo_builder(probe.clone())
        .heartbeat(None)
        .start()
        .await
        .unwrap();
    // A client asks for a huge stream, grants a huge credit, and never reads.
    let mut stuck = raw_dealer(server.endpoint()).await;
    let (id, message) = request("count_probed", &[0x91, 0xce, 0x00, 0x07, 0xa1, 0x20]);
    stuck.send(message).await.unwrap();
    let more = encode_event(
        &Header::reply_to(&id),
        "_zpc_more",
        &[0x91, 0xce, 0x00, 0x0f, 0x42, 0x40],
    );
    stuck
        .send(ZmqMessage::try_from(vec![Bytes::new(), Bytes::from(more)]).unwrap())
        .await
        .unwrap();
    // Wait until the server can no longer push to it: production stops growing.
    let mut last = 0;
    for _ in 0..600 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = probe.produced.load(Ordering::SeqCst);
        if now > 0 && now == last {
            break;
        }
        last = now;
    }
    let stalled_at = probe.produced.load(Ordering::SeqCst);
    assert!(
        stalled_at < 500_000,
        "the stream must be held back by the stuck reader"
    );
    // Every other client is still served.
    let others: Vec<_> = (0..4)
        .map(|n| {
            let client = client_for(server.endpoint());
            tokio::spawn(async move {
                for _ in 0..10 {
                    assert_eq!(client.call::<i64, _>("add", (n, 1)).await.unwrap(), n + 1);
                }
                collect_stream::<u64, _>(&client, "count", (200,))
                    .await
                    .len()
            })
        })
        .collect();
    for other in others {
        assert_eq!(other.await.unwrap(), 200);
    }
    drop(stuck);
    server.shutdown_within(Duration::from_millis(100)).await;
}

#[tokio::test]
async fn heartbeats_flow_while_a_call_runs() {
    let (server, _client, _) = demo().await;
    let mut caller = raw_dealer(server.endpoint()).await;
    let (id, message) = request("sleep", &[0x91, 0xcb, 0x40, 0x00, 0, 0, 0, 0, 0, 0]);
    caller.send(message).await.unwrap();
    let mut beats = 0;
    loop {
        let frames = caller.recv().await.unwrap();
        assert_eq!(
            frames.get(0).map(|frame| frame.len()),
            Some(0),
            "delimiter first"
        );
        let event = Event::decode(frames.get(1).unwrap()).unwrap();
        assert_eq!(
            event.header.response_to(),
            Some(&id),
            "ids are echoed verbatim"
        );
        match event.name.as_str() {
            "_zpc_hb" => {
                assert_eq!(event.args, Value::Array(vec![Value::from(0)]));
                beats += 1;
                let beat = encode_event(&Header::reply_to(&id), "_zpc_hb", &[0x91, 0x00]);
                caller
                    .send(ZmqMessage::try_from(vec![Bytes::new(), Bytes::from(beat)]).unwrap())
                    .await
                    .unwrap();
            }
            "OK" => break,
            other => panic!("unexpected {other}"),
        }
    }
    // A 2 s call with 0.5 s heartbeats: several beats arrived before the answer.
    assert!(beats >= 2, "{beats} heartbeats");
    server.shutdown().await;
}

/// A raw DEALER bound on `endpoint`, as zerorpc's `Client().bind(..)`; retries while the port is
/// still held by a socket closed a moment ago.
async fn bound_dealer(endpoint: &str) -> zeromq::DealerSocket {
    for _ in 0..50 {
        let mut socket = zeromq::DealerSocket::new();
        if socket.bind(endpoint).await.is_ok() {
            return socket;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("cannot bind {endpoint}");
}

/// Calls `add(a, b)` through a raw DEALER and returns the `OK` reply's value. A bound DEALER of
/// the `zeromq` crate refuses to send before a peer connects (libzmq would queue), so the request
/// is sent again until the server has connected (at most 20 s).
async fn add_through(dealer: &mut zeromq::DealerSocket, a: i64, b: i64) -> Value {
    let (id, message) = request("add", &rmp_serde::to_vec(&(a, b)).unwrap());
    let mut tries = 0;
    while let Err(error) = dealer.send(message.clone()).await {
        tries += 1;
        assert!(tries < 200, "the server never connected: {error}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let reply = tokio::time::timeout(Duration::from_secs(20), dealer.recv())
        .await
        .expect("the server answers")
        .unwrap();
    let reply = Event::decode(reply.get(1).unwrap()).unwrap();
    assert_eq!(reply.name, "OK", "{}", reply.args);
    assert_eq!(reply.header.response_to(), Some(&id));
    reply.args.as_array().expect("OK [value]")[0].clone()
}

#[tokio::test]
async fn a_server_that_connects_finds_a_late_client_and_finds_it_again_after_it_restarts() {
    let endpoint = format!("tcp://127.0.0.1:{}", free_port());
    // Nothing listens on `endpoint` yet: starting does not wait for it.
    let server = demo_builder(Arc::new(Probe::default()))
        .connect(endpoint.clone())
        .start()
        .await
        .unwrap();
    assert_eq!(server.endpoints()[1], endpoint);
    let mut dealer = bound_dealer(&endpoint).await;
    assert_eq!(add_through(&mut dealer, 1, 2).await, Value::from(3));

    // The client restarts: the server's socket for `endpoint` is rebuilt and connects again.
    drop(dealer);
    let mut dealer = bound_dealer(&endpoint).await;
    assert_eq!(add_through(&mut dealer, 20, 22).await, Value::from(42));
    // The endpoint the server binds served all along.
    let client = client_for(server.endpoint());
    assert_eq!(client.call::<i64, _>("add", (2, 2)).await.unwrap(), 4);
    server.shutdown().await;
}
