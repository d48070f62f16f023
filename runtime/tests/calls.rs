//! Rust client against Rust server on 127.0.0.1: values, errors, concurrency, timeouts,
//! introspection and transports.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use common::{client_for, damaged, demo, demo_builder, free_port, Probe};
use rmpv::Value;
use rpcgen_runtime::{CallError, CallOptions, Client, MethodInfo, Server, Service, SetupError};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Ticket {
    id: u64,
    title: String,
    tags: Vec<String>,
    #[serde(with = "serde_bytes")]
    attachment: Vec<u8>,
    body: Option<String>,
}

#[tokio::test]
async fn values_of_every_kind_travel_both_ways() {
    let (server, client, _) = demo().await;
    assert_eq!(client.call::<i64, _>("add", (2, 3)).await.unwrap(), 5);
    assert_eq!(
        client.call::<String, _>("hello", ("world",)).await.unwrap(),
        "Hello, world"
    );
    client.call::<(), _>("nothing", ()).await.unwrap();
    let ticket = Ticket {
        id: u64::MAX,
        title: "héllo".into(),
        tags: vec!["a".into(), "b".into()],
        attachment: vec![0, 1, 255],
        body: None,
    };
    assert_eq!(
        client.call::<Ticket, _>("echo", (&ticket,)).await.unwrap(),
        ticket
    );
    let echoed: Value = client.call("echo", (&ticket,)).await.unwrap();
    let title = echoed
        .as_map()
        .and_then(|map| map.iter().find(|(key, _)| key.as_str() == Some("title")))
        .map(|(_, value)| value.clone());
    assert_eq!(title, Some(Value::from("héllo")), "structs travel as maps");
    for value in [
        Value::Nil,
        Value::from(true),
        Value::from(-(1i64 << 62)),
        Value::F64(1.5),
        Value::Binary(vec![1, 2, 3]),
        Value::Array(vec![Value::from("x"), Value::Nil]),
        Value::Ext(3, vec![9]),
    ] {
        let echoed: Value = client.call("echo", (&value,)).await.unwrap();
        assert_eq!(echoed, value);
    }
    let map = BTreeMap::from([("k".to_string(), vec![1u8, 2])]);
    assert_eq!(
        client
            .call::<BTreeMap<String, Vec<u8>>, _>("echo", (&map,))
            .await
            .unwrap(),
        map
    );
    server.shutdown().await;
}

#[tokio::test]
async fn errors_name_the_method_and_the_problem() {
    let (server, client, _) = demo().await;

    let error = client.call::<(), _>("nosuch", ()).await.unwrap_err();
    let remote = error.remote().expect("an ERR reply");
    assert_eq!(remote.name, "NameError");
    assert!(remote.message.contains("nosuch"), "{remote}");
    assert_eq!(error.method(), "nosuch");

    let error = client.call::<i64, _>("add", (1,)).await.unwrap_err();
    let remote = error.remote().unwrap();
    assert_eq!(remote.name, "TypeError");
    assert_eq!(
        remote.message,
        "`add` takes 2 arguments (a, b) but 1 was given"
    );

    let error = client.call::<i64, _>("add", (1, "two")).await.unwrap_err();
    let remote = error.remote().unwrap();
    assert_eq!(remote.name, "TypeError");
    assert!(
        remote.message.contains("argument 1 (`b`) of `add`"),
        "{remote}"
    );

    let error = client
        .call::<(), _>("fail", ("bad input",))
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "remote method `fail` failed with ValueError: bad input"
    );

    for method in ["explode", "explode_blocking"] {
        let error = client.call::<(), _>(method, ()).await.unwrap_err();
        let remote = error.remote().unwrap();
        assert_eq!(remote.name, "Panic");
        assert!(remote.message.contains("kaboom"), "{remote}");
    }
    // The server keeps serving after panics.
    assert_eq!(client.call::<i64, _>("add", (1, 1)).await.unwrap(), 2);

    let error = client.call::<u8, _>("hello", ("x",)).await.unwrap_err();
    assert!(matches!(error, CallError::Decode { .. }), "{error}");
    assert!(error
        .to_string()
        .starts_with("could not decode the reply of `hello`"));

    let error = client.call::<Vec<u64>, _>("count", (3,)).await.unwrap_err();
    assert!(matches!(error, CallError::Protocol { .. }), "{error}");
    server.shutdown().await;
}

#[tokio::test]
async fn one_client_shared_by_many_tasks_runs_calls_concurrently() {
    const CALLS: usize = 40;
    let barrier = Arc::new(tokio::sync::Barrier::new(CALLS));
    let service = Service::new("Barrier").unary(MethodInfo::new("meet").param("n"), move |args| {
        let barrier = barrier.clone();
        async move {
            // Only returns once all calls are in flight at the same time.
            barrier.wait().await;
            args.get::<u64>(0)
        }
    });
    let server = Server::bind("tcp://127.0.0.1:0", service).await.unwrap();
    let client = Client::connect(server.endpoint()).unwrap();
    let calls: Vec<_> = (0..CALLS as u64)
        .map(|n| {
            let client = client.clone();
            tokio::spawn(async move { client.call::<u64, _>("meet", (n,)).await })
        })
        .collect();
    for (n, call) in calls.into_iter().enumerate() {
        assert_eq!(call.await.unwrap().unwrap(), n as u64);
    }
    server.shutdown().await;
}

#[tokio::test]
async fn a_call_times_out_with_a_clear_error() {
    let (server, client, _) = demo().await;
    // Answered once: the timeout of a slow call says nothing about connecting.
    assert_eq!(client.call::<i64, _>("add", (1, 1)).await.unwrap(), 2);
    let error = client
        .call_with::<f64, _>(
            "sleep",
            (5.0,),
            CallOptions::timeout(Duration::from_millis(300)),
        )
        .await
        .unwrap_err();
    assert_eq!(
        error,
        CallError::Timeout {
            method: "sleep".into(),
            timeout: Duration::from_millis(300),
            never_connected: None,
        }
    );
    assert_eq!(
        error.to_string(),
        "timeout after 300ms, when calling remote method `sleep`"
    );
    // The late reply is dropped quietly and the client keeps working.
    assert_eq!(client.call::<i64, _>("add", (2, 2)).await.unwrap(), 4);
    server.shutdown().await;
}

#[tokio::test]
async fn a_call_to_a_server_that_is_not_running_says_it_never_connected() {
    let endpoint = format!("tcp://127.0.0.1:{}", free_port());
    let client = Client::builder(&endpoint)
        .timeout(Duration::from_millis(300))
        .connect()
        .unwrap();
    let error = client.call::<i64, _>("add", (1, 2)).await.unwrap_err();
    assert_eq!(
        error,
        CallError::Timeout {
            method: "add".into(),
            timeout: Duration::from_millis(300),
            never_connected: Some(vec![endpoint.clone()]),
        }
    );
    assert_eq!(
        error.to_string(),
        format!(
            "timeout after 300ms, when calling remote method `add`: never connected to \
             `{endpoint}` (is a zerorpc server running and listening there?)"
        )
    );
    let error = client
        .call_stream::<u64, _>("count", (3,))
        .await
        .unwrap_err();
    assert_eq!(
        error,
        CallError::Timeout {
            method: "count".into(),
            timeout: Duration::from_millis(300),
            never_connected: Some(vec![endpoint.clone()]),
        }
    );

    let other = format!("tcp://127.0.0.1:{}", free_port());
    let client = Client::builder(&endpoint)
        .add_endpoint(&other)
        .timeout(Duration::from_millis(300))
        .connect()
        .unwrap();
    let error = client.call::<i64, _>("add", (1, 2)).await.unwrap_err();
    assert!(
        error.to_string().ends_with(&format!(
            ": never connected to any of `{endpoint}`, `{other}` (are zerorpc servers running \
             and listening there?)"
        )),
        "{error}"
    );
}

#[tokio::test]
async fn long_calls_outlive_many_heartbeat_intervals() {
    // Four heartbeat intervals: the blocking handler runs on the blocking pool, so heartbeats go on.
    let (server, client, _) = demo().await;
    let (blocked, slept) = tokio::join!(
        client.call::<f64, _>("block", (2.0,)),
        client.call::<f64, _>("sleep", (2.0,))
    );
    assert_eq!((blocked.unwrap(), slept.unwrap()), (2.0, 2.0));
    server.shutdown().await;
}

#[tokio::test]
async fn introspection_describes_the_service() {
    let (server, client, _) = demo().await;
    let pong: (String, String) = client.call("_zerorpc_ping", ()).await.unwrap();
    assert_eq!(pong, ("pong".to_string(), "Demo".to_string()));
    assert_eq!(
        client.call::<String, _>("_zerorpc_name", ()).await.unwrap(),
        "Demo"
    );
    let listed: Vec<String> = client.call("_zerorpc_list", ()).await.unwrap();
    assert!(listed.contains(&"add".to_string()) && listed.contains(&"count".to_string()));
    let help: Option<String> = client.call("_zerorpc_help", ("add",)).await.unwrap();
    assert_eq!(help.as_deref(), Some("Adds two integers."));
    let inspected: Value = client.call("_zerorpc_inspect", ()).await.unwrap();
    let text = inspected.to_string();
    assert!(
        text.contains("\"add\": {\"args\": [{\"name\": \"a\"}, {\"name\": \"b\"}], \"doc\": \"Adds two integers.\"}"),
        "{text}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn ipc_endpoints_work() {
    let path = std::env::temp_dir().join(format!("rpcgen-runtime-{}.sock", std::process::id()));
    let endpoint = format!("ipc://{}", path.display());
    let server = demo_builder(Arc::new(Probe::default()))
        .bind(endpoint.clone())
        .start()
        .await
        .unwrap();
    let client = client_for(&endpoint);
    assert_eq!(client.call::<i64, _>("add", (20, 22)).await.unwrap(), 42);
    server.shutdown().await;
    let _ = std::fs::remove_file(path);
}

#[cfg(unix)]
#[tokio::test]
async fn an_ipc_socket_file_left_by_a_crash_is_bound_again_but_a_live_one_is_not_taken() {
    let path = std::env::temp_dir().join(format!("rpcgen-stale-{}.sock", std::process::id()));
    let endpoint = format!("ipc://{}", path.display());
    // A listener dropped without removing its file, as a crashed server leaves it.
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    assert!(path.exists());
    let server = demo_builder(Arc::new(Probe::default()))
        .bind(endpoint.clone())
        .start()
        .await
        .unwrap();
    let client = client_for(&endpoint);
    assert_eq!(client.call::<i64, _>("add", (20, 22)).await.unwrap(), 42);

    // While that server listens, another one cannot take its file.
    let error = demo_builder(Arc::new(Probe::default()))
        .bind(endpoint.clone())
        .start()
        .await
        .expect_err("the second bind fails");
    assert!(
        matches!(&error, SetupError::Transport { action: "bind", .. }),
        "{error}"
    );
    assert_eq!(client.call::<i64, _>("add", (1, 2)).await.unwrap(), 3);
    server.shutdown().await;
    let _ = std::fs::remove_file(path);
}

#[tokio::test]
async fn setup_errors_are_clear() {
    let error = Client::connect("nonsense").unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("`nonsense` is not a valid endpoint"),
        "{error}"
    );
    let error = Client::connect("127.0.0.1:4242").unwrap_err().to_string();
    assert!(
        error.ends_with("(endpoints are written `tcp://HOST:PORT` or `ipc://PATH`)"),
        "{error}"
    );
    let error = Client::connect("tcp://127.0.0.1").unwrap_err().to_string();
    assert!(!error.contains("endpoints are written"), "{error}");
    let zero = Some(Duration::ZERO);
    let error = Client::builder("tcp://127.0.0.1:9")
        .heartbeat(zero)
        .connect();
    assert!(matches!(error, Err(SetupError::ZeroHeartbeat)));
    let error = Server::builder(Service::new("S"))
        .bind("tcp://127.0.0.1:0")
        .heartbeat(zero)
        .start()
        .await;
    assert!(matches!(error, Err(SetupError::ZeroHeartbeat)));
    let error = Server::builder(Service::new("S"))
        .start()
        .await
        .err()
        .unwrap();
    assert!(error.to_string().contains("no endpoint"), "{error}");
    let taken = Server::bind("tcp://127.0.0.1:0", Service::new("S"))
        .await
        .unwrap();
    let error = Server::bind(taken.endpoint().to_string(), Service::new("S"))
        .await
        .err()
        .unwrap();
    assert!(error.to_string().starts_with("could not bind"), "{error}");
}

/// How a test server damages a reply: given the encoded `OK` event and where its header ends.
type Damage = Box<dyn FnMut(Vec<u8>, usize) -> Vec<u8> + Send>;

/// A server that answers every request for `echo` with its argument in a reply that `damage`
/// spoils, and `healthy` with an intact one.
async fn damaging_server(mut damage: Damage) -> (String, tokio::task::JoinHandle<()>) {
    use rpcgen_runtime::event::{Event, Header};
    use zeromq::{Socket, SocketRecv, SocketSend, ZmqMessage};

    let mut socket = zeromq::RouterSocket::new();
    let endpoint = socket.bind("tcp://127.0.0.1:0").await.unwrap().to_string();
    let task = tokio::spawn(async move {
        while let Ok(message) = socket.recv().await {
            let mut frames = message.into_vec();
            let Some(request) = frames.pop().and_then(|frame| Event::decode(&frame).ok()) else {
                continue;
            };
            let (Some(id), None) = (request.header.message_id(), request.header.response_to())
            else {
                continue; // heartbeats
            };
            let mut header = Header::new();
            header.insert("response_to", id.clone());
            let mut header_bytes = Vec::new();
            rmpv::encode::write_value(&mut header_bytes, &Value::Map(header.entries().to_vec()))
                .unwrap();
            let reply = Event {
                header,
                name: "OK".to_string(),
                args: request.args.clone(),
            }
            .encode();
            let reply = if request.name == "echo" {
                damage(reply, 1 + header_bytes.len())
            } else {
                reply
            };
            frames.push(reply.into());
            if socket
                .send(ZmqMessage::try_from(frames).unwrap())
                .await
                .is_err()
            {
                break;
            }
        }
    });
    (endpoint, task)
}

/// [`damaged`] at random (seeded).
fn random_damage(seed: u64) -> Damage {
    use rand::SeedableRng;

    let mut random = rand::rngs::StdRng::seed_from_u64(seed);
    Box::new(move |reply, _| damaged(reply, &mut random))
}

#[tokio::test]
async fn damaged_replies_end_every_call_and_the_client_goes_on() {
    let (endpoint, server) = damaging_server(random_damage(3)).await;
    let client = Client::builder(&endpoint)
        .timeout(Duration::from_millis(500))
        .connect()
        .unwrap();
    let ticket = Ticket {
        id: 7,
        title: "héllo".into(),
        tags: vec!["a".into()],
        attachment: vec![1, 2, 3],
        body: Some("b".into()),
    };
    let calls = (0..1_000).map(|_| client.call::<Ticket, _>("echo", (&ticket,)));
    let outcomes = futures::future::join_all(calls).await;
    let returned = outcomes.iter().filter(|outcome| outcome.is_ok()).count();
    let timed_out = outcomes
        .iter()
        .filter(|outcome| matches!(outcome, Err(CallError::Timeout { .. })))
        .count();
    // About a tenth still reads as a ticket (a changed byte inside a string), a third fails as it
    // is decoded, and over half cannot be matched to its call (its header was damaged) and ends
    // in the timeout.
    assert!(
        returned > 0 && timed_out > 0,
        "{returned} returned, {timed_out} timed out"
    );
    assert!(
        returned + timed_out < 1_000,
        "no call failed on a damaged reply"
    );
    assert_eq!(
        client.call::<String, _>("healthy", ("ok",)).await.unwrap(),
        "ok"
    );
    server.abort();
}

#[tokio::test]
async fn a_reply_cut_after_its_header_fails_its_call_at_once() {
    let (endpoint, server) = damaging_server(Box::new(|mut reply, header_end| {
        reply.truncate(header_end);
        reply
    }))
    .await;
    // Long enough that a timeout would be another error than the one asserted.
    let client = Client::builder(&endpoint)
        .timeout(Duration::from_secs(30))
        .connect()
        .unwrap();
    let error = client.call::<String, _>("echo", ("x",)).await.unwrap_err();
    match &error {
        CallError::Protocol { method, detail } => {
            assert_eq!(method, "echo");
            assert!(
                detail.starts_with("the server's answer cannot be read: "),
                "{detail}"
            );
        }
        other => panic!("expected a protocol error, got {other:?}"),
    }
    assert_eq!(
        client.call::<String, _>("healthy", ("ok",)).await.unwrap(),
        "ok"
    );
    server.abort();
}

#[tokio::test]
async fn servers_clients_and_services_print_what_identifies_them() {
    let (server, client, probe) = demo().await;
    let printed = format!("{server:?} {client:?}");
    assert_eq!(printed.matches(server.endpoint()).count(), 2, "{printed}");
    let service = format!("{:?}", common::demo_service(probe));
    assert!(
        service.starts_with("Service { name: \"Demo\", methods: [") && service.contains("\"add\""),
        "{service}"
    );
    server.shutdown().await;
}
