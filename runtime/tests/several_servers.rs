//! A client of several servers (`ClientBuilder::add_endpoint`): calls are spread over the
//! connected servers, every event of a call stays with its server (long calls and streams work),
//! and calls move to the other servers when one goes away, and back when it returns.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{collect_stream, free_port, HEARTBEAT};
use futures::StreamExt;
use rpcgen_runtime::{CallError, Client, MethodInfo, Server, Service};

/// A service that says which server answered, and has a slow method and a stream.
fn named_service(name: &'static str) -> Service {
    Service::new("Named")
        .unary(MethodInfo::new("name"), move |_| async move {
            Ok(name.to_string())
        })
        .unary(
            MethodInfo::new("slow").param("seconds"),
            move |args| async move {
                tokio::time::sleep(Duration::from_secs_f64(args.get::<f64>(0)?)).await;
                Ok(name.to_string())
            },
        )
        .stream(MethodInfo::new("count").param("n"), |args| async move {
            let n = args.get::<u64>(0)?;
            Ok(futures::stream::iter(0..n).map(Ok))
        })
}

async fn start(name: &'static str, endpoint: &str) -> Server {
    Server::builder(named_service(name))
        .bind(endpoint)
        .heartbeat(Some(HEARTBEAT))
        .start()
        .await
        .expect("server starts")
}

fn client_of(endpoints: &[&str]) -> Client {
    let mut builder = Client::builder(endpoints[0])
        .heartbeat(Some(HEARTBEAT))
        .timeout(Duration::from_secs(10));
    for endpoint in &endpoints[1..] {
        builder = builder.add_endpoint(*endpoint);
    }
    builder.connect().expect("client")
}

/// Which server answered each of `calls` calls of `name`, counted.
async fn answers(client: &Client, calls: usize) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for _ in 0..calls {
        let name: String = client.call("name", ()).await.unwrap();
        *counts.entry(name).or_default() += 1;
    }
    counts
}

/// Calls until every one of `names` has answered (at most 20 s): each connection is up.
async fn until_all_answer(client: &Client, names: &[&str]) {
    for _ in 0..2000 {
        let seen = answers(client, names.len()).await;
        if names.iter().all(|name| seen.contains_key(*name)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("not every server of {names:?} answered within 20 s");
}

#[tokio::test]
async fn calls_are_spread_over_the_servers_and_stay_with_theirs() {
    let a = start("a", "tcp://127.0.0.1:0").await;
    let b = start("b", "tcp://127.0.0.1:0").await;
    let client = client_of(&[a.endpoint(), b.endpoint()]);
    assert_eq!(
        client.endpoints().collect::<Vec<_>>(),
        [a.endpoint(), b.endpoint()]
    );
    until_all_answer(&client, &["a", "b"]).await;

    // In turns while both are connected.
    let counts = answers(&client, 40).await;
    assert_eq!(counts, BTreeMap::from([("a".into(), 20), ("b".into(), 20)]));

    // Calls longer than three heartbeat intervals, on both servers at once: each server hears
    // the heartbeats of its own calls.
    let slow_calls = (0..4).map(|_| client.call::<String, _>("slow", (1.6,)));
    let mut served_by: Vec<String> = futures::future::try_join_all(slow_calls).await.unwrap();
    served_by.sort();
    assert_eq!(served_by, ["a", "a", "b", "b"]);

    // Streams longer than the credit window, on both servers at once: each gets its credit.
    let streams = (0..2).map(|_| collect_stream::<u64, _>(&client, "count", (1000,)));
    let streamed =
        tokio::time::timeout(Duration::from_secs(30), futures::future::join_all(streams))
            .await
            .expect("the streams end");
    for items in streamed {
        assert_eq!(items, (0..1000).collect::<Vec<_>>());
    }
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test]
async fn calls_go_to_the_other_servers_while_one_is_gone_and_back_when_it_returns() {
    let a_endpoint = format!("tcp://127.0.0.1:{}", free_port());
    let a = start("a", &a_endpoint).await;
    let b = start("b", "tcp://127.0.0.1:0").await;
    let client = client_of(&[&a_endpoint, b.endpoint()]);
    until_all_answer(&client, &["a", "b"]).await;

    a.shutdown().await;
    // A call sent to `a` before the client saw it go ends in lost-remote; once it has seen it,
    // every call goes to `b`.
    let mut only_b = false;
    for _ in 0..200 {
        let mut names = Vec::new();
        for _ in 0..10 {
            match client.call::<String, _>("name", ()).await {
                Ok(name) => names.push(name),
                Err(error) => assert!(matches!(error, CallError::LostRemote { .. }), "{error}"),
            }
        }
        if names.len() == 10 && names.iter().all(|name| name == "b") {
            only_b = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(only_b, "calls still went to the stopped server after 10 s");

    let a_again = start("a", &a_endpoint).await;
    until_all_answer(&client, &["a", "b"]).await;
    let counts = answers(&client, 10).await;
    assert_eq!(counts, BTreeMap::from([("a".into(), 5), ("b".into(), 5)]));
    a_again.shutdown().await;
    b.shutdown().await;
}

#[tokio::test]
async fn calls_waiting_for_their_server_move_to_the_first_that_comes_up() {
    let a_endpoint = format!("tcp://127.0.0.1:{}", free_port());
    let b_endpoint = format!("tcp://127.0.0.1:{}", free_port());
    let client = client_of(&[&a_endpoint, &b_endpoint]);
    // Neither server is up: the calls are spread over both connections, and wait.
    let calls: Vec<_> = (0..6)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.call::<String, _>("name", ()).await })
        })
        .collect();
    let streams: Vec<_> = (0..2)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { collect_stream::<u64, _>(&client, "count", (300,)).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Only `b` comes: the calls waiting for `a` move to it, the streams with their credit.
    let b = start("b", &b_endpoint).await;
    for call in calls {
        assert_eq!(call.await.unwrap().unwrap(), "b");
    }
    for stream in streams {
        let items = tokio::time::timeout(Duration::from_secs(30), stream)
            .await
            .expect("the stream ends: its credit reaches its server");
        assert_eq!(items.unwrap(), (0..300).collect::<Vec<_>>());
    }
    b.shutdown().await;
}

#[tokio::test]
async fn an_invalid_extra_endpoint_is_refused() {
    let error = Client::builder("tcp://127.0.0.1:1")
        .add_endpoint("not an endpoint")
        .connect()
        .unwrap_err();
    assert!(error.to_string().contains("not an endpoint"), "{error}");
}
