//! Client middleware hears how every request ended, exactly once: with a value, an error, a
//! timeout, an opened stream, or dropped by its caller before it ended.

mod common;

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{capture_logs, demo, eventually, free_port, HEARTBEAT};
use futures::StreamExt;
use rpcgen_runtime::{
    CallError, CallOptions, Client, MethodInfo, Middleware, RequestContext, RequestOutcome, Server,
    Service, TracingLayer,
};

/// Counts the requests that began and records how each one ended, as `method outcome`.
#[derive(Clone, Default)]
struct Outcomes {
    begun: Arc<Mutex<Vec<String>>>,
    ended: Arc<Mutex<Vec<String>>>,
}

impl Outcomes {
    fn begun(&self) -> usize {
        self.begun.lock().unwrap().len()
    }

    fn ended(&self) -> Vec<String> {
        self.ended.lock().unwrap().clone()
    }

    /// Checks that every request that began ended once, and how they ended.
    fn assert_ended(&self, expected: &[&str]) {
        let ended = self.ended();
        assert_eq!(self.begun(), ended.len(), "{ended:?}");
        assert_eq!(ended, expected);
    }
}

impl Middleware for Outcomes {
    fn before_request(&self, request: &RequestContext<'_>) {
        self.begun.lock().unwrap().push(request.method.to_string());
    }

    fn after_request(
        &self,
        request: &RequestContext<'_>,
        outcome: &RequestOutcome<'_>,
        _elapsed: Duration,
    ) {
        let outcome = match outcome {
            RequestOutcome::Returned(value) => format!("returned {value}"),
            RequestOutcome::StreamOpened => "stream".to_string(),
            RequestOutcome::Failed(CallError::Timeout { .. }) => "timeout".to_string(),
            RequestOutcome::Failed(error) => match error.remote() {
                Some(remote) => format!("failed {}", remote.name),
                None => format!("failed: {error}"),
            },
            RequestOutcome::Cancelled => "cancelled".to_string(),
        };
        let line = format!("{} {outcome}", request.method);
        self.ended.lock().unwrap().push(line);
    }
}

/// A client of `endpoint` with short heartbeats and the `outcomes` layer.
fn observed_client(endpoint: &str, outcomes: &Outcomes) -> Client {
    Client::builder(endpoint)
        .heartbeat(Some(HEARTBEAT))
        .timeout(Duration::from_secs(10))
        .layer(outcomes.clone())
        .connect()
        .unwrap()
}

/// How long a test waits for a call that takes seconds before it gives up on it.
const PATIENCE: Duration = Duration::from_millis(300);

#[tokio::test]
async fn every_request_ends_once_however_it_ends() {
    let (server, _, _) = demo().await;
    let outcomes = Outcomes::default();
    let client = observed_client(server.endpoint(), &outcomes);

    assert_eq!(client.call::<i64, _>("add", (1, 2)).await.unwrap(), 3);
    client.call::<(), _>("fail", ("x",)).await.unwrap_err();
    let timeout = CallOptions::timeout(PATIENCE);
    let error = client
        .call_with::<f64, _>("sleep", (5.0,), timeout)
        .await
        .unwrap_err();
    assert!(matches!(error, CallError::Timeout { .. }), "{error}");

    let mut stream = client.call_stream::<u64, _>("count", (3,)).await.unwrap();
    assert_eq!(stream.next().await.unwrap().unwrap(), 0);
    // Dropping a stream after it opened is not another end of its request.
    drop(stream);

    let dropped = tokio::time::timeout(PATIENCE, client.call::<f64, _>("sleep", (5.0,))).await;
    assert!(dropped.is_err(), "the call cannot end before its sleep");
    // Dropped in a `select!` by the branch that won.
    tokio::select! {
        slept = client.call::<f64, _>("sleep", (5.0,)) => panic!("slept {slept:?}"),
        () = tokio::time::sleep(PATIENCE) => {}
    }
    // Dropped with the task that made it.
    let task = tokio::spawn({
        let client = client.clone();
        async move { client.call::<f64, _>("sleep", (5.0,)).await }
    });
    eventually("the call in the task has begun", || outcomes.begun() == 7).await;
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());

    outcomes.assert_ended(&[
        "add returned 3",
        "fail failed ValueError",
        "sleep timeout",
        "count stream",
        "sleep cancelled",
        "sleep cancelled",
        "sleep cancelled",
    ]);
    server.shutdown().await;
}

#[tokio::test]
async fn a_stream_dropped_before_its_first_reply_is_cancelled() {
    let service = Service::new("Late").stream(MethodInfo::new("late_count"), |_| async {
        tokio::time::sleep(Duration::from_secs(5)).await;
        Ok(futures::stream::iter(0..3u64).map(Ok))
    });
    let server = Server::bind("tcp://127.0.0.1:0", service).await.unwrap();
    let outcomes = Outcomes::default();
    let client = observed_client(server.endpoint(), &outcomes);
    let opening = client.call_stream::<u64, _>("late_count", ());
    assert!(tokio::time::timeout(PATIENCE, opening).await.is_err());
    outcomes.assert_ended(&["late_count cancelled"]);
    server.shutdown_within(Duration::ZERO).await;
}

#[tokio::test]
async fn calls_dropped_while_waiting_for_a_server_are_cancelled() {
    // Nobody listens: the calls wait for a server until their callers give up.
    let outcomes = Outcomes::default();
    let client = observed_client(&format!("tcp://127.0.0.1:{}", free_port()), &outcomes);
    let dropped = tokio::time::timeout(PATIENCE, client.call::<i64, _>("add", (1, 2))).await;
    assert!(dropped.is_err());
    let opening = client.call_stream::<u64, _>("count", (3,));
    assert!(tokio::time::timeout(PATIENCE, opening).await.is_err());
    outcomes.assert_ended(&["add cancelled", "count cancelled"]);
}

#[tokio::test]
async fn the_server_drops_the_handler_of_a_call_its_caller_dropped() {
    let (server, client, probe) = demo().await;
    let started = || probe.started.load(Ordering::SeqCst) == 1;
    tokio::select! {
        ended = client.call::<(), _>("wait_forever", ()) => panic!("ended: {ended:?}"),
        () = eventually("the handler has started", started) => {}
    }
    // The client stops heartbeating the call, so the server soon counts its caller as lost.
    eventually("the server drops the handler", || {
        probe.cancelled.load(Ordering::SeqCst) == 1
    })
    .await;
    // The client goes on.
    assert_eq!(client.call::<i64, _>("add", (2, 2)).await.unwrap(), 4);
    server.shutdown().await;
}

#[tokio::test]
async fn the_tracing_layer_logs_a_request_its_caller_dropped() {
    let (logs, _guard) = capture_logs();
    let (server, _, _) = demo().await;
    let client = Client::builder(server.endpoint())
        .layer(TracingLayer::default())
        .connect()
        .unwrap();
    let dropped = tokio::time::timeout(PATIENCE, client.call::<f64, _>("sleep", (5.0,))).await;
    assert!(dropped.is_err());
    server.shutdown().await;
    let log = logs.text();
    let line = log
        .lines()
        .find(|line| line.contains("call cancelled by the caller"))
        .unwrap_or_else(|| panic!("no cancelled line in:\n{log}"));
    for part in [
        " INFO ",
        "request{method=\"sleep\"}",
        "args=[5]",
        "elapsed_ms=",
    ] {
        assert!(line.contains(part), "{part} missing from {line}");
    }
}
