//! Interop with the real zerorpc-python from PyPI, both ways: a zerorpc-python client calls a Rust
//! server, and a Rust client calls a zerorpc-python server (both sides with 1 s heartbeats); and
//! zerorpc-python's one-way senders, a `Pusher` and a `Publisher`, feed Rust listeners, and a Rust
//! `Publisher` feeds its `Subscriber`, a Rust `Pusher` its `Puller` (across the puller's restart);
//! and zerorpc-python's command-line tool lists a Rust server's methods.

mod common;

use std::ffi::OsStr;
use std::sync::Arc;
use std::time::Duration;

use common::foreign::{self, field, peer_client, python, workspace, Output, HEARTBEAT};
use common::{
    demo_builder, demo_service, eventually, free_port, jobs_service, Failures, HeaderEntries,
    Mailbox, Probe,
};
use rmpv::Value;
use rpcgen_runtime::{CallError, Client, Listener, Publisher, Pusher, Server};
use tokio::process::Child;

/// Starts tests/fixtures/zerorpc_peer.py and returns it with its endpoint.
async fn python_server() -> (Child, String) {
    let peer = workspace().join("tests/fixtures/zerorpc_peer.py");
    let (child, endpoint, _) = foreign::start(
        python(),
        &[peer.as_os_str(), "--heartbeat".as_ref(), "1".as_ref()],
    )
    .await;
    (child, endpoint)
}

/// Starts tests/python/py_oneway.py with `args` (see the script); returns it with the endpoint
/// it connected to or bound, and the rest of its output.
async fn python_oneway(args: &[&str]) -> (Child, String, Output) {
    let script = workspace().join("runtime/tests/python/py_oneway.py");
    let mut all = vec![script.as_os_str()];
    all.extend(args.iter().map(OsStr::new));
    foreign::start(python(), &all).await
}

#[tokio::test]
async fn a_rust_client_calls_zerorpc_python() {
    let (_peer, endpoint) = python_server().await;
    let client = peer_client(&endpoint);
    foreign::check_what_every_peer_answers_alike(&client).await;

    // Beyond 32 bits, zerorpc-python answers in kind.
    for value in [Value::from(u64::MAX), Value::from(i64::MIN)] {
        let echoed: Value = client.call("echo", (&value,)).await.unwrap();
        assert_eq!(echoed, value);
    }

    let sample: Value = client.call("sample", ()).await.unwrap();
    assert_eq!(field(&sample, "big").as_u64(), Some((1 << 63) + 5));
    assert_eq!(field(&sample, "min_i64").as_i64(), Some(i64::MIN));
    assert_eq!(field(&sample, "text").as_str(), Some("héllo"));
    assert_eq!(field(&sample, "bytes"), &Value::Binary(vec![0, 1, 255]));
    assert_eq!(field(&sample, "nil"), &Value::Nil);

    let error = client.call::<(), _>("fail", ("boom",)).await.unwrap_err();
    let remote = error.remote().expect("ERR");
    assert_eq!(
        (remote.name.as_str(), remote.message.as_str()),
        ("ValueError", "boom")
    );
    assert!(remote
        .traceback
        .as_deref()
        .unwrap_or_default()
        .contains("Traceback"));

    let error = client.call::<(), _>("nosuch", ()).await.unwrap_err();
    assert_eq!(error.remote().unwrap().name, "NameError");

    let pong: Vec<String> = client.call("_zerorpc_ping", ()).await.unwrap();
    assert_eq!(pong[0], "pong");
    // zerorpc-python 0.6.3 cannot inspect on Python >= 3.11 (no inspect.getargspec).
    match client.call::<Value, _>("_zerorpc_inspect", ()).await {
        Ok(inspected) => assert!(field(&inspected, "methods").as_map().is_some()),
        Err(CallError::Remote { error, .. }) => assert_eq!(error.name, "AttributeError"),
        Err(other) => panic!("{other}"),
    }

    // Header entries from client middleware reach zerorpc-python's load_task_context.
    let traced = Client::builder(&endpoint)
        .layer(HeaderEntries(vec![("trace_id", "trace-of-{method}")]))
        .connect()
        .unwrap();
    let seen: Option<String> = traced.call("header_entry", ("trace_id",)).await.unwrap();
    assert_eq!(seen.as_deref(), Some("trace-of-header_entry"));
    let absent: Option<String> = client.call("header_entry", ("trace_id",)).await.unwrap();
    assert_eq!(absent, None);
}

#[tokio::test]
async fn zerorpc_python_calls_a_rust_server() {
    let server = demo_builder(Arc::new(Probe::default()))
        .heartbeat(Some(HEARTBEAT))
        .start()
        .await
        .unwrap();
    let script = workspace().join("runtime/tests/python/py_client.py");
    let endpoint = OsStr::new(server.endpoint());
    foreign::run_checks(python(), &[script.as_os_str(), endpoint]).await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_rust_server_that_connects_serves_a_binding_zerorpc_python_client_and_its_successor() {
    let endpoint = format!("tcp://127.0.0.1:{}", free_port());
    let server = Server::builder(demo_service(Arc::new(Probe::default())))
        .connect(endpoint.clone())
        .heartbeat(Some(HEARTBEAT))
        .start()
        .await
        .unwrap();
    let script = workspace().join("runtime/tests/python/py_client.py");
    let args = [
        script.as_os_str(),
        OsStr::new("--bind"),
        OsStr::new(&endpoint),
    ];
    // The second client binds the same endpoint after the first one exited: the server's socket
    // is rebuilt and connects to it.
    for _ in 0..2 {
        foreign::run_checks(python(), &args).await;
    }
    server.shutdown().await;
}

/// Runs zerorpc-python's command-line tool with `args` and returns what it printed.
async fn zerorpc_cli(args: &[&str]) -> String {
    let run = tokio::process::Command::new(python())
        .args([
            "-c",
            "import sys; from zerorpc.cli import main; sys.exit(main())",
        ])
        .args(args)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("the zerorpc tool finishes within 60 s")
        .expect("the zerorpc tool runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "zerorpc {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[tokio::test]
async fn zerorpc_python_s_command_line_tool_lists_a_rust_server_s_methods() {
    // The tool reads `_zerorpc_inspect` in its generic shape. (Its calls fail on Python 3.10 and
    // newer, in the tool itself: it tests results against `collections.Iterator`.)
    let server = demo_builder(Arc::new(Probe::default()))
        .start()
        .await
        .unwrap();
    let listing = zerorpc_cli(&[server.endpoint()]).await;
    assert!(listing.contains("[Demo]\n"), "{listing}");
    assert!(
        listing
            .lines()
            .any(|line| line.starts_with("add ") && line.ends_with(" Adds two integers.")),
        "{listing}"
    );
    let signatures = zerorpc_cli(&[server.endpoint(), "--inspect"]).await;
    for signature in ["add(a, b)", "hello(name, greeting)", "nothing(??)"] {
        assert!(
            signatures.lines().any(|line| line == signature),
            "{signature} in {signatures}"
        );
    }
    server.shutdown().await;
}

#[tokio::test]
async fn zerorpc_python_pushes_to_a_rust_puller() {
    let mailbox = Arc::new(Mailbox::default());
    let listener = Listener::puller(jobs_service(mailbox.clone()))
        .bind("tcp://127.0.0.1:0")
        .layer(Failures(mailbox.clone()))
        .start()
        .await
        .unwrap();
    let (_pusher, _, _) = python_oneway(&["push", listener.endpoint()]).await;
    let expected: Vec<i64> = (0..=100).collect();
    eventually("every pushed record ran", || {
        mailbox.sorted_records() == expected
    })
    .await;
    mailbox
        .failures_become(&[
            "count TypeError",
            "explode Panic",
            "no_such_method NameError",
            "record TypeError",
            "record TypeError",
        ])
        .await;
    listener.shutdown().await;
}

#[tokio::test]
async fn a_rust_subscriber_follows_a_zerorpc_python_publisher_across_its_restart() {
    let mailbox = Arc::new(Mailbox::default());
    let (publisher, endpoint, _) = python_oneway(&["publish", "tcp://127.0.0.1:*", "0"]).await;
    let listener = Listener::subscriber(jobs_service(mailbox.clone()))
        .connect(&endpoint)
        .start()
        .await
        .unwrap();
    let received = || mailbox.records.lock().unwrap().len();
    eventually("published events arrive", || received() >= 3).await;
    drop(publisher);
    // The restarted publisher counts from a million: its events are told apart.
    let (_publisher, _, _) = python_oneway(&["publish", &endpoint, "1000000"]).await;
    eventually("events of the restarted publisher arrive", || {
        mailbox.sorted_records().last() >= Some(&1_000_002)
    })
    .await;
    listener.shutdown().await;
}

#[tokio::test]
async fn a_rust_publisher_reaches_a_zerorpc_python_subscriber() {
    let publisher = Publisher::bind("tcp://127.0.0.1:0").await.unwrap();
    let (_subscriber, _, mut output) = python_oneway(&["subscribe", publisher.endpoint()]).await;
    // Publish until the subscription has arrived and one event got through, then five more.
    let started = std::time::Instant::now();
    let first = loop {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "nothing arrived in 30 s"
        );
        publisher.publish("record", (0,)).await.unwrap();
        let line = tokio::time::timeout(Duration::from_millis(50), output.next_line()).await;
        if let Ok(line) = line {
            break line
                .unwrap()
                .expect("the subscriber prints what it receives");
        }
    };
    assert_eq!(first, "GOT 0");
    for n in 1..=5 {
        publisher.publish("record", (n,)).await.unwrap();
    }
    let mut received = Vec::new();
    while received.last().map(String::as_str) != Some("GOT 5") {
        received.push(next_line(&mut output).await);
    }
    // Zeros still in flight when the loop stopped may come first.
    received.retain(|line| line != "GOT 0");
    assert_eq!(received, ["GOT 1", "GOT 2", "GOT 3", "GOT 4", "GOT 5"]);
}

#[tokio::test]
async fn a_rust_pusher_feeds_a_zerorpc_python_puller_across_its_restart() {
    let (mut puller, endpoint, mut output) = python_oneway(&["pull", "tcp://127.0.0.1:*"]).await;
    let pusher = Pusher::connect(&endpoint).unwrap();
    for n in 0..10 {
        pusher.push("record", (n,)).await.unwrap();
    }
    assert_eq!(next_lines(&mut output, 10).await, got_lines(0..10));
    puller.kill().await.unwrap();
    // The pusher sees the puller go at once, long before a new one is up, and waits for it.
    let (_puller, _, mut output) = python_oneway(&["pull", &endpoint]).await;
    for n in 10..20 {
        pusher.push("record", (n,)).await.unwrap();
    }
    assert_eq!(next_lines(&mut output, 10).await, got_lines(10..20));
}

/// The next line a script prints, within 10 s.
async fn next_line(output: &mut Output) -> String {
    tokio::time::timeout(Duration::from_secs(10), output.next_line())
        .await
        .expect("a line within 10 s")
        .unwrap()
        .expect("the script prints what it receives")
}

/// The next `count` lines a script prints, each within 10 s.
async fn next_lines(output: &mut Output, count: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for _ in 0..count {
        lines.push(next_line(output).await);
    }
    lines
}

/// What a subscriber or puller script prints for `record(n)` of each `n`.
fn got_lines(numbers: std::ops::Range<i64>) -> Vec<String> {
    numbers.map(|n| format!("GOT {n}")).collect()
}

#[tokio::test]
async fn a_rust_client_spreads_long_calls_and_streams_over_two_zerorpc_python_servers() {
    let (_first, first) = python_server().await;
    let (_second, second) = python_server().await;
    let client = Client::builder(&first)
        .add_endpoint(&second)
        .heartbeat(Some(HEARTBEAT))
        .timeout(Duration::from_secs(20))
        .connect()
        .unwrap();
    // Longer than three heartbeat intervals on both servers at once, then streams longer than
    // the credit window: each server gets the heartbeats and credits of its own calls
    // (zerorpc-python's own client, connected to both, spreads them, and its streams stall).
    let slow_calls = (0..4).map(|_| client.call::<f64, _>("slow", (3.5,)));
    let answers = futures::future::try_join_all(slow_calls).await.unwrap();
    assert_eq!(answers, [3.5; 4]);
    let streams = (0..2).map(|_| common::collect_stream::<u64, _>(&client, "count", (1000,)));
    for items in futures::future::join_all(streams).await {
        assert_eq!(items, (0..1000).collect::<Vec<_>>());
    }
}
