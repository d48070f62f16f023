//! zerorpc's one-way patterns over 127.0.0.1. Listeners (`Puller`, `Subscriber`) fed by PUSH and
//! PUB sockets of the `zeromq` crate: every event runs, bad ones are refused without stopping the
//! listener, a connecting listener comes back after its sender restarts, and shutdown waits for
//! running handlers (or cancels them after a grace period). The `Publisher` feeds a subscribing
//! listener, the `Pusher` a pulling one (waiting for it, and coming back after it restarts), and
//! both refuse what they cannot send. Interop with zerorpc-python's `Pusher`, `Puller`,
//! `Publisher` and `Subscriber` is in `interop_python.rs`.

mod common;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{capture_logs, eventually, jobs_service, Failures, Mailbox};
use futures::StreamExt;
use rpcgen_runtime::event::{encode_event, Event, Header};
use rpcgen_runtime::{Arguments, CallError, Listener, Publisher, Pusher, TracingLayer};
use zeromq::{Socket, SocketEvent, SocketRecv, SocketSend, ZmqMessage};

/// A one-way event, as zerorpc's PUSH and PUB send it: one frame, no delimiter.
fn event(method: &str, args: impl Arguments) -> ZmqMessage {
    let mut encoded = Vec::new();
    args.encode_arguments(&mut encoded).expect("encodable");
    ZmqMessage::from(encode_event(&Header::new(), method, &encoded))
}

/// Sends `message` once the socket has a peer (the `zeromq` crate refuses to send before).
async fn send_when_connected(socket: &mut impl SocketSend, message: ZmqMessage) {
    let started = Instant::now();
    while socket.send(message.clone()).await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no peer within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn pusher_to(endpoint: &str) -> zeromq::PushSocket {
    let mut pusher = zeromq::PushSocket::new();
    pusher.connect(endpoint).await.expect("the listener is up");
    pusher
}

/// A bound puller of the jobs service running up to `concurrency` handlers at once, and a
/// pusher connected to it.
async fn puller(concurrency: u32) -> (Listener, Arc<Mailbox>, zeromq::PushSocket) {
    let mailbox = Arc::new(Mailbox::default());
    let listener = Listener::puller(jobs_service(mailbox.clone()))
        .bind("tcp://127.0.0.1:0")
        .concurrency(concurrency)
        .start()
        .await
        .unwrap();
    let pusher = pusher_to(listener.endpoint()).await;
    (listener, mailbox, pusher)
}

/// Waits until `count` handlers of `wait` have started.
async fn waiting(mailbox: &Mailbox, count: u64) {
    eventually("the handlers started", || {
        mailbox.waiting.load(Ordering::SeqCst) == count
    })
    .await;
}

#[tokio::test]
async fn a_puller_runs_every_event_and_refuses_bad_ones_without_stopping() {
    let mailbox = Arc::new(Mailbox::default());
    let listener = Listener::puller(jobs_service(mailbox.clone()))
        .bind("tcp://127.0.0.1:0")
        .max_message_size(1_000)
        .layer(Failures(mailbox.clone()))
        .start()
        .await
        .unwrap();
    let mut pusher = pusher_to(listener.endpoint()).await;
    for n in 0..50 {
        pusher.send(event("record", (n,))).await.unwrap();
    }
    pusher
        .send(ZmqMessage::from("not a zerorpc event"))
        .await
        .unwrap();
    pusher.send(event("no_such_method", (1,))).await.unwrap();
    pusher.send(event("record", ("fifty",))).await.unwrap();
    pusher
        .send(event("record", ("x".repeat(2_000),)))
        .await
        .unwrap();
    pusher.send(event("explode", ())).await.unwrap();
    pusher.send(event("count", (3,))).await.unwrap();
    pusher
        .send(event("record_blocking", (1_000,)))
        .await
        .unwrap();
    pusher.send(event("record", (999,))).await.unwrap();
    // One at a time, in order (the default, as zerorpc-python's Puller does it).
    let mut expected: Vec<i64> = (0..50).collect();
    expected.extend([1_000, 999]);
    eventually("every good event ran", || {
        *mailbox.records.lock().unwrap() == expected
    })
    .await;
    mailbox
        .failures_become(&[
            "count TypeError",
            "explode Panic",
            "no_such_method NameError",
            "record MessageTooLarge",
            "record TypeError",
        ])
        .await;
    listener.shutdown().await;
}

#[tokio::test]
async fn a_subscriber_takes_what_a_publisher_publishes() {
    let mailbox = Arc::new(Mailbox::default());
    let listener = Listener::subscriber(jobs_service(mailbox.clone()))
        .bind("tcp://127.0.0.1:0")
        .start()
        .await
        .unwrap();
    let mut publisher = zeromq::PubSocket::new();
    publisher.connect(listener.endpoint()).await.unwrap();
    // A subscription takes a moment to reach the publisher, which drops events until then.
    let started = Instant::now();
    while mailbox.records.lock().unwrap().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "nothing arrived in 10 s"
        );
        publisher.send(event("record", (7,))).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(mailbox.records.lock().unwrap().iter().all(|&n| n == 7));
    listener.shutdown().await;
}

#[tokio::test]
async fn a_publisher_reaches_a_subscribing_listener() {
    let publisher = Publisher::bind("tcp://127.0.0.1:0").await.unwrap();
    let mailbox = Arc::new(Mailbox::default());
    let listener = Listener::subscriber(jobs_service(mailbox.clone()))
        .connect(publisher.endpoint())
        .start()
        .await
        .unwrap();
    publish_until_heard(&publisher, &mailbox, 5).await;
    for n in 6..=10 {
        publisher.publish("record", (n,)).await.unwrap();
    }
    eventually("every later event arrived", || {
        mailbox.records.lock().unwrap().ends_with(&[6, 7, 8, 9, 10])
    })
    .await;
    listener.shutdown().await;
}

/// Publishes `record(n)` every 20 ms until `mailbox` has a record of `n` (a subscription takes
/// a moment to reach a publisher, which drops events until then).
async fn publish_until_heard(publisher: &Publisher, mailbox: &Mailbox, n: i64) {
    let started = Instant::now();
    while !mailbox.records.lock().unwrap().contains(&n) {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "record({n}) not heard in 10 s"
        );
        publisher.publish("record", (n,)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_connecting_publisher_comes_back_after_its_subscriber_restarts() {
    let first = Arc::new(Mailbox::default());
    let listener = Listener::subscriber(jobs_service(first.clone()))
        .bind("tcp://127.0.0.1:0")
        .start()
        .await
        .unwrap();
    let endpoint = listener.endpoint().to_string();
    let publisher = Publisher::connect(&endpoint).unwrap();
    assert_eq!(publisher.endpoint(), endpoint);
    publish_until_heard(&publisher, &first, 1).await;
    listener.shutdown().await;
    // Published while nobody listens: dropped, without an error.
    publisher.publish("record", (2,)).await.unwrap();
    let second = Arc::new(Mailbox::default());
    let started = Instant::now();
    let restarted = loop {
        // The old socket lets go of its port in the background.
        let restarting = Listener::subscriber(jobs_service(second.clone()))
            .bind(&endpoint)
            .start()
            .await;
        match restarting {
            Ok(listener) => break listener,
            Err(error) => assert!(started.elapsed() < Duration::from_secs(10), "{error}"),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    publish_until_heard(&publisher, &second, 3).await;
    restarted.shutdown().await;
}

#[tokio::test]
async fn a_pusher_waits_for_a_puller_and_gives_it_every_event_in_order() {
    let pusher = Pusher::bind("tcp://127.0.0.1:0").await.unwrap();
    // Nobody pulls yet: the first push waits for a puller.
    let first = tokio::spawn({
        let pusher = pusher.clone();
        async move { pusher.push("record", (0,)).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!first.is_finished(), "a push waits while nobody pulls");
    let mailbox = Arc::new(Mailbox::default());
    let listener = Listener::puller(jobs_service(mailbox.clone()))
        .connect(pusher.endpoint())
        .start()
        .await
        .unwrap();
    first.await.unwrap().unwrap();
    for n in 1..100 {
        pusher.push("record", (n,)).await.unwrap();
    }
    let expected: Vec<i64> = (0..100).collect();
    eventually("every event ran, in order", || {
        *mailbox.records.lock().unwrap() == expected
    })
    .await;
    listener.shutdown().await;
}

#[tokio::test]
async fn a_connecting_pusher_sees_its_puller_go_and_gives_the_next_one_every_event() {
    let first = Arc::new(Mailbox::default());
    let listener = Listener::puller(jobs_service(first.clone()))
        .bind("tcp://127.0.0.1:0")
        .start()
        .await
        .unwrap();
    let endpoint = listener.endpoint().to_string();
    let pusher = Pusher::connect(&endpoint).unwrap();
    assert_eq!(pusher.endpoint(), endpoint);
    pusher.push("record", (1,)).await.unwrap();
    eventually("the first event ran", || first.sorted_records() == [1]).await;
    listener.shutdown().await;
    // A PULL socket of the `zeromq` crate takes the listener's place; it tells when the pusher
    // has connected again, which the pusher does only once it has seen the listener go. (The
    // crate's own PUSH socket never saw it: every event pushed after the restart vanished
    // without an error.)
    let mut restarted = zeromq::PullSocket::new();
    let mut monitor = restarted.monitor();
    let started = Instant::now();
    while let Err(error) = restarted.bind(&endpoint).await {
        assert!(started.elapsed() < Duration::from_secs(10), "{error}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let reconnected = async {
        while let Some(event) = monitor.next().await {
            if matches!(event, SocketEvent::Accepted(..)) {
                return;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), reconnected)
        .await
        .expect("the pusher connects again within 10 s");
    for n in 2..=11 {
        pusher.push("record", (n,)).await.unwrap();
    }
    let mut received = Vec::new();
    for _ in 2..=11 {
        let message = tokio::time::timeout(Duration::from_secs(10), restarted.recv())
            .await
            .expect("each event arrives within 10 s")
            .unwrap();
        let event = Event::decode(&message.into_vec()[0]).unwrap();
        assert_eq!(event.name, "record");
        received.push(event.args[0].as_i64().unwrap());
    }
    assert_eq!(received, (2..=11).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_pusher_refuses_what_it_cannot_send_and_times_out_without_a_puller() {
    let pusher = Pusher::bind("tcp://127.0.0.1:0")
        .await
        .unwrap()
        .max_message_size(100)
        .timeout(Duration::from_millis(200));
    let error = pusher.push("record", (1,)).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "timeout after 200ms, when calling remote method `record`"
    );
    let error = pusher.push("record", ("x".repeat(200),)).await.unwrap_err();
    assert!(matches!(error, CallError::TooLarge { .. }), "{error}");
    let keyed = std::collections::HashMap::from([(1u8, "one")]);
    let error = pusher.push("record", (keyed,)).await.unwrap_err();
    assert!(matches!(error, CallError::Encode { .. }), "{error}");
    let error = Pusher::connect("nowhere").expect_err("an invalid endpoint");
    assert!(error.to_string().contains("nowhere"), "{error}");
}

#[tokio::test]
async fn a_publisher_refuses_what_it_cannot_send_and_drops_what_nobody_hears() {
    let publisher = Publisher::bind("tcp://127.0.0.1:0")
        .await
        .unwrap()
        .max_message_size(100);
    // Nobody subscribes: the event is dropped, as ZeroMQ's PUB does.
    publisher.publish("record", (1,)).await.unwrap();
    let error = publisher
        .publish("record", ("x".repeat(200),))
        .await
        .unwrap_err();
    assert!(matches!(error, CallError::TooLarge { .. }), "{error}");
    let keyed = std::collections::HashMap::from([(1u8, "one")]);
    let error = publisher.publish("record", (keyed,)).await.unwrap_err();
    assert!(matches!(error, CallError::Encode { .. }), "{error}");
    let error = Publisher::bind("nowhere")
        .await
        .expect_err("an invalid endpoint");
    assert!(error.to_string().contains("nowhere"), "{error}");
}

#[tokio::test]
async fn a_connecting_puller_comes_back_after_its_pusher_restarts() {
    let mailbox = Arc::new(Mailbox::default());
    let mut pusher = zeromq::PushSocket::new();
    let endpoint = pusher.bind("tcp://127.0.0.1:0").await.unwrap().to_string();
    let listener = Listener::puller(jobs_service(mailbox.clone()))
        .connect(&endpoint)
        .start()
        .await
        .unwrap();
    send_when_connected(&mut pusher, event("record", (1,))).await;
    eventually("the first event ran", || mailbox.sorted_records() == [1]).await;
    drop(pusher);
    // The old socket lets go of its port in the background.
    let mut restarted = zeromq::PushSocket::new();
    let started = Instant::now();
    while let Err(error) = restarted.bind(&endpoint).await {
        assert!(started.elapsed() < Duration::from_secs(10), "{error}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    send_when_connected(&mut restarted, event("record", (2,))).await;
    eventually("an event after the restart ran", || {
        mailbox.sorted_records() == [1, 2]
    })
    .await;
    listener.shutdown().await;
}

#[tokio::test]
async fn events_run_one_at_a_time_unless_told_otherwise() {
    for (concurrency, overlapping) in [(1, false), (2, true)] {
        let (listener, mailbox, mut pusher) = puller(concurrency).await;
        pusher.send(event("wait", (0.5,))).await.unwrap();
        pusher.send(event("wait", (0.5,))).await.unwrap();
        waiting(&mailbox, 2).await;
        // The second started before the first ended only when two may run at once.
        let finished_first = mailbox.records.lock().unwrap().len();
        assert_eq!(
            finished_first == 0,
            overlapping,
            "concurrency {concurrency}"
        );
        listener.shutdown().await;
        assert_eq!(*mailbox.records.lock().unwrap(), [-1, -1]);
    }
}

#[tokio::test]
async fn shutdown_waits_for_running_handlers() {
    let (listener, mailbox, mut pusher) = puller(1).await;
    pusher.send(event("wait", (0.3,))).await.unwrap();
    waiting(&mailbox, 1).await;
    listener.shutdown().await;
    assert_eq!(*mailbox.records.lock().unwrap(), [-1]);
}

#[tokio::test]
async fn shutdown_within_cancels_handlers_after_the_grace_period() {
    let (listener, mailbox, mut pusher) = puller(1).await;
    pusher.send(event("wait", (30.0,))).await.unwrap();
    waiting(&mailbox, 1).await;
    let started = Instant::now();
    listener.shutdown_within(Duration::from_millis(100)).await;
    assert!(started.elapsed() < Duration::from_secs(10));
    // The dropped handler never records.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(mailbox.records.lock().unwrap().is_empty());
}

#[test]
fn a_listener_needs_an_endpoint_and_a_runtime() {
    let service = || jobs_service(Arc::new(Mailbox::default()));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let error = runtime
        .block_on(Listener::puller(service()).start())
        .expect_err("no endpoint");
    assert!(error.to_string().contains("endpoint"), "{error}");
    let error = runtime
        .block_on(Listener::subscriber(service()).connect("nowhere").start())
        .expect_err("an invalid endpoint");
    assert!(error.to_string().contains("nowhere"), "{error}");
    let error = futures::executor::block_on(
        Listener::puller(service())
            .bind("tcp://127.0.0.1:0")
            .start(),
    )
    .expect_err("no Tokio runtime");
    assert!(error.to_string().contains("Tokio"), "{error}");
}

#[tokio::test]
async fn each_event_runs_in_the_span_of_the_tracing_layer() {
    let (logs, _guard) = capture_logs();
    let mailbox = Arc::new(Mailbox::default());
    let listener = Listener::puller(jobs_service(mailbox.clone()))
        .bind("tcp://127.0.0.1:0")
        .layer(TracingLayer::default())
        .start()
        .await
        .unwrap();
    let mut pusher = pusher_to(listener.endpoint()).await;
    send_when_connected(&mut pusher, event("record", (7,))).await;
    eventually("the event ran", || mailbox.sorted_records() == [7]).await;
    listener.shutdown().await;
    let log = logs.text();
    let served = log
        .lines()
        .find(|line| line.contains("served call"))
        .unwrap_or_else(|| panic!("no served-call line in:\n{log}"));
    assert!(served.contains("call{method=\"record\" id="), "{served}");
}
