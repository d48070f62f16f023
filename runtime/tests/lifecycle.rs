//! Limits, graceful shutdown, bad input on the wire, middleware and the tracing layer.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use common::{
    capture_logs, client_for, collect_stream, damaged, demo, demo_builder, HeaderEntries, Probe,
};
use rmpv::Value;
use rpcgen_runtime::event::{encode_event, Event, Header};
use rpcgen_runtime::{
    CallContext, CallError, CallOptions, CallOutcome, Client, MethodInfo, Middleware,
    PropagateHeader, RemoteError, RequestContext, RequestOutcome, Server, Service, TracingLayer,
};
use zeromq::{Socket, SocketRecv, SocketSend, ZmqMessage};

#[tokio::test]
async fn messages_above_the_limit_are_refused_with_an_error() {
    let server = demo_builder(Arc::new(Probe::default()))
        .max_message_size(1000)
        .start()
        .await
        .unwrap();
    let client = client_for(server.endpoint());
    let big = serde_bytes::ByteBuf::from(vec![1u8; 2000]);
    let error = client.call::<Value, _>("echo", (&big,)).await.unwrap_err();
    let remote = error.remote().expect("the server answers ERR");
    assert_eq!(remote.name, "MessageTooLarge");
    assert!(remote
        .message
        .contains("above the server's limit of 1000 bytes"));

    let error = client.call::<Value, _>("bytes", (5000,)).await.unwrap_err();
    assert_eq!(error.remote().unwrap().name, "MessageTooLarge");
    assert_eq!(client.call::<i64, _>("add", (1, 2)).await.unwrap(), 3);

    let small_client = Client::builder(server.endpoint())
        .max_message_size(100)
        .connect()
        .unwrap();
    let error = small_client
        .call::<Value, _>("echo", (&big,))
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            CallError::TooLarge {
                what: "request",
                ..
            }
        ),
        "{error}"
    );
    let error = small_client
        .call::<Value, _>("bytes", (500,))
        .await
        .unwrap_err();
    assert!(
        matches!(error, CallError::TooLarge { what: "reply", .. }),
        "{error}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn graceful_shutdown_finishes_calls_in_flight() {
    let (server, client, _) = demo().await;
    let in_flight = tokio::spawn({
        let client = client.clone();
        async move { client.call::<f64, _>("sleep", (0.5,)).await }
    });
    let stream = client.call_stream::<u64, _>("count", (300,)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let shutdown = tokio::spawn(server.shutdown());
    tokio::time::sleep(Duration::from_millis(100)).await;
    let refused = client.call::<i64, _>("add", (1, 1)).await.unwrap_err();
    assert_eq!(
        refused.remote().map(|e| e.name.as_str()),
        Some("ShuttingDown")
    );
    use futures::TryStreamExt;
    let items: Vec<u64> = stream.try_collect().await.unwrap();
    assert_eq!(items.len(), 300);
    assert_eq!(in_flight.await.unwrap().unwrap(), 0.5);
    shutdown.await.unwrap();
}

#[tokio::test]
async fn a_grace_period_cancels_what_is_left() {
    let (server, client, probe) = demo().await;
    let stuck = tokio::spawn({
        let client = client.clone();
        async move { client.call::<(), _>("wait_forever", ()).await }
    });
    common::eventually("the call is running", || {
        probe.started.load(std::sync::atomic::Ordering::SeqCst) == 1
    })
    .await;
    let blocked = tokio::spawn({
        let client = client.clone();
        async move { client.call::<(), _>("block_until_cancelled", ()).await }
    });
    common::eventually("both calls are running", || {
        probe.started.load(std::sync::atomic::Ordering::SeqCst) == 2
    })
    .await;
    server.shutdown_within(Duration::from_millis(200)).await;
    let error = stuck.await.unwrap().unwrap_err();
    assert!(matches!(error, CallError::LostRemote { .. }), "{error}");
    let error = blocked.await.unwrap().unwrap_err();
    assert!(matches!(error, CallError::LostRemote { .. }), "{error}");
    // The async handler was dropped; the blocking one saw its cancellation and returned.
    common::eventually("both handlers are cancelled", || {
        probe.cancelled.load(std::sync::atomic::Ordering::SeqCst) == 2
    })
    .await;
}

#[tokio::test]
async fn bad_input_on_the_wire_never_stops_the_server() {
    let (server, client, _) = demo().await;
    let mut raw = zeromq::DealerSocket::new();
    raw.connect(server.endpoint()).await.unwrap();
    // Not MessagePack at all: logged and dropped.
    raw.send(ZmqMessage::try_from(vec![Bytes::new(), Bytes::from_static(&[0xc1, 0x00])]).unwrap())
        .await
        .unwrap();
    // A request whose name is bin: answered with ERR, since its id is known.
    let header = Header::new();
    let mut frame = vec![0x93];
    rmpv::encode::write_value(&mut frame, &Value::Map(header.entries().to_vec())).unwrap();
    frame.extend_from_slice(&[0xc4, 0x03, b'a', b'd', b'd', 0x90]);
    raw.send(ZmqMessage::try_from(vec![Bytes::new(), Bytes::from(frame)]).unwrap())
        .await
        .unwrap();
    let reply = raw.recv().await.unwrap();
    let reply = Event::decode(reply.get(1).unwrap()).unwrap();
    assert_eq!(reply.name, "ERR");
    assert_eq!(reply.header.response_to(), header.message_id());
    assert!(
        reply.args.to_string().contains("ProtocolError"),
        "{}",
        reply.args
    );
    // A request cut short after its header, whose id "abc" is written the long way (str8): an
    // ERR too, whose `response_to` is those very bytes.
    let mut frame = vec![0x93, 0x82, 0xaa];
    frame.extend_from_slice(b"message_id");
    frame.extend_from_slice(&[0xd9, 0x03, b'a', b'b', b'c', 0xa1, b'v', 0x03]);
    raw.send(ZmqMessage::try_from(vec![Bytes::new(), Bytes::from(frame)]).unwrap())
        .await
        .unwrap();
    let reply = raw.recv().await.unwrap().get(1).unwrap().to_vec();
    let echoed = [&[0xab][..], b"response_to", &[0xd9, 0x03], b"abc"].concat();
    assert!(
        reply.windows(echoed.len()).any(|window| window == echoed),
        "{reply:x?}"
    );
    let reply = Event::decode(&reply).unwrap();
    assert_eq!(reply.name, "ERR");
    assert!(
        reply.args.to_string().contains("not valid MessagePack"),
        "{}",
        reply.args
    );
    // A request without the delimiter frame is still answered, with the delimiter.
    let hello = encode_event(&Header::new(), "hello", &[0x91, 0xa1, b'x']);
    raw.send(ZmqMessage::from(hello)).await.unwrap();
    let reply = raw.recv().await.unwrap();
    assert_eq!(reply.len(), 2);
    assert!(reply.get(0).unwrap().is_empty());
    let reply = Event::decode(reply.get(1).unwrap()).unwrap();
    assert_eq!(reply.args, Value::Array(vec![Value::from("Hello, x")]));
    assert_eq!(client.call::<i64, _>("add", (1, 2)).await.unwrap(), 3);
    server.shutdown().await;
}

/// Sends one event frame on a raw DEALER and decodes the reply.
async fn ask(raw: &mut zeromq::DealerSocket, frame: Vec<u8>) -> Event {
    raw.send(ZmqMessage::try_from(vec![Bytes::new(), Bytes::from(frame)]).unwrap())
        .await
        .unwrap();
    let reply = raw.recv().await.unwrap();
    Event::decode(reply.get(1).unwrap()).unwrap()
}

/// `levels` arrays around a nil, as MessagePack.
fn nested(levels: usize) -> Vec<u8> {
    [vec![0x91; levels], vec![0xc0]].concat()
}

#[tokio::test]
async fn deeply_nested_input_gets_an_error_not_a_stack_overflow() {
    // Middleware makes the server also decode arguments and headers as dynamic values.
    let server = demo_builder(Arc::new(Probe::default()))
        .layer(TracingLayer::default())
        .start()
        .await
        .unwrap();
    let mut raw = zeromq::DealerSocket::new();
    raw.connect(server.endpoint()).await.unwrap();
    // 100,000 levels in 100 kB: refused with an error, by a handler and by introspection.
    for method in ["echo", "_zerorpc_args"] {
        let reply = ask(
            &mut raw,
            encode_event(&Header::new(), method, &nested(100_000)),
        )
        .await;
        assert_eq!(reply.name, "ERR", "{method}: {}", reply.args);
        if method == "echo" {
            assert!(
                reply.args.to_string().contains("nested deeper"),
                "{}",
                reply.args
            );
        }
    }
    // A header with a deeply nested extra entry: the call is still served.
    let mut header = Header::new();
    header.insert("trace", Value::Nil);
    let mut frame = encode_event(&header, "hello", &[0x91, 0xa1, b'x']);
    let trace = frame
        .windows(6)
        .position(|bytes| bytes == b"\xa5trace")
        .unwrap();
    frame.splice(trace + 6..trace + 7, nested(100_000));
    let reply = ask(&mut raw, frame).await;
    assert_eq!(reply.args, Value::Array(vec![Value::from("Hello, x")]));
    // Within the limit (the arguments' array is the first level), a nested value comes back.
    let args = [vec![0x91], nested(rpcgen_runtime::value::MAX_DEPTH - 1)].concat();
    let reply = ask(&mut raw, encode_event(&Header::new(), "echo", &args)).await;
    assert_eq!(reply.name, "OK", "{}", reply.args);
    assert_eq!(
        reply.encode()[reply.encode().len() - args.len()..],
        args[..]
    );
    server.shutdown().await;
}

/// Records every hook call as a line of text.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<String>>>);

impl Recorder {
    fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
    fn push(&self, line: String) {
        self.0.lock().unwrap().push(line);
    }
}

impl Recorder {
    /// Records a header that carries a `trace_id`, as `header key=value ...`.
    fn push_header(&self, header: &Header) {
        if header.get("trace_id").is_some() {
            let entries: Vec<String> = header
                .entries()
                .iter()
                .map(|(key, value)| format!("{}={value}", key.as_str().unwrap_or("?")))
                .collect();
            self.push(format!("header {}", entries.join(" ")));
        }
    }
}

impl Middleware for Recorder {
    fn before_call(&self, call: &CallContext<'_>) {
        self.push_header(call.header);
        self.push(format!("before_call {} {}", call.method, call.args));
    }
    fn after_call(&self, call: &CallContext<'_>, outcome: &CallOutcome<'_>, _: Duration) {
        let outcome = match outcome {
            CallOutcome::Returned(value) => format!("returned {value}"),
            CallOutcome::Streamed { items } => format!("streamed {items}"),
            CallOutcome::Failed(error) => format!("failed {}", error.name),
            CallOutcome::Cancelled { .. } => "cancelled".to_string(),
        };
        self.push(format!("after_call {} {outcome}", call.method));
    }
    fn on_error(&self, call: &CallContext<'_>, error: &RemoteError) {
        self.push(format!("on_error {} {}", call.method, error.name));
    }
    fn before_request(&self, request: &RequestContext<'_>) {
        self.push_header(request.header);
        self.push(format!(
            "before_request {} {}",
            request.method, request.args
        ));
    }
    fn after_request(
        &self,
        request: &RequestContext<'_>,
        outcome: &RequestOutcome<'_>,
        _: Duration,
    ) {
        let outcome = match outcome {
            RequestOutcome::Returned(value) => format!("returned {value}"),
            RequestOutcome::StreamOpened => "stream".to_string(),
            RequestOutcome::Failed(error) => format!("failed {}", error.method()),
            RequestOutcome::Cancelled => "cancelled".to_string(),
        };
        self.push(format!("after_request {} {outcome}", request.method));
    }
}

#[tokio::test]
async fn client_middleware_adds_header_entries_that_the_server_sees() {
    let recorder = Recorder::default();
    let server = demo_builder(Arc::new(Probe::default()))
        .layer(recorder.clone())
        .start()
        .await
        .unwrap();
    let client = Client::builder(server.endpoint())
        .layer(HeaderEntries(vec![
            ("trace_id", "trace-of-{method}"),
            ("tenant", "first"),
            // The protocol's keys stay the runtime's: the call still finds its reply.
            ("message_id", "forged"),
        ]))
        .layer(HeaderEntries(vec![("tenant", "second")]))
        .layer(recorder.clone())
        .connect()
        .unwrap();
    assert_eq!(client.call::<i64, _>("add", (1, 2)).await.unwrap(), 3);
    server.shutdown().await;
    let lines = recorder.lines();
    // The client's own before_request, then the server's before_call, see the same header.
    let headers: Vec<&String> = lines
        .iter()
        .filter(|line| line.starts_with("header"))
        .collect();
    assert_eq!(headers.len(), 2, "{lines:?}");
    for header in headers {
        assert!(header.contains("trace_id=\"trace-of-add\""), "{header}");
        assert!(header.contains("tenant=\"second\""), "{header}");
        assert!(!header.contains("forged"), "{header}");
    }
}

#[tokio::test]
async fn a_trace_id_flows_through_a_relaying_server() {
    let (downstream, _, _) = demo().await;
    // A server whose handler calls another service, with a client that propagates trace ids.
    let onward = Client::builder(downstream.endpoint())
        .layer(PropagateHeader::keys(["trace_id"]))
        .connect()
        .unwrap();
    let relay = Service::new("Relay").unary(MethodInfo::new("relay").param("key"), move |args| {
        let onward = onward.clone();
        async move {
            let key = args.get::<String>(0)?;
            onward
                .call::<Option<String>, _>("header_entry", (key,))
                .await
                .map_err(|error| RemoteError::new("CallError", error.to_string()))
        }
    });
    let upstream = Server::bind("tcp://127.0.0.1:0", relay).await.unwrap();
    let caller = Client::builder(upstream.endpoint())
        .layer(HeaderEntries(vec![("trace_id", "t-1"), ("tenant", "x")]))
        .connect()
        .unwrap();
    let relayed = |key: &'static str| caller.call::<Option<String>, _>("relay", (key,));
    assert_eq!(relayed("trace_id").await.unwrap().as_deref(), Some("t-1"));
    // Only the chosen keys travel on.
    assert_eq!(relayed("tenant").await.unwrap(), None);
    // Outside a handler the layer adds nothing.
    let direct = Client::builder(downstream.endpoint())
        .layer(PropagateHeader::keys(["trace_id"]))
        .connect()
        .unwrap();
    let seen: Option<String> = direct.call("header_entry", ("trace_id",)).await.unwrap();
    assert_eq!(seen, None);
    upstream.shutdown().await;
    downstream.shutdown().await;
}

#[tokio::test]
async fn a_stream_produces_its_items_inside_its_call() {
    let (server, _, _) = demo().await;
    let client = Client::builder(server.endpoint())
        .layer(HeaderEntries(vec![("trace_id", "t-2")]))
        .connect()
        .unwrap();
    // Each item reads `CallInfo::current()` as it is produced, after the stream has started.
    let items: Vec<Option<String>> =
        collect_stream(&client, "header_entry_per_item", ("trace_id", 3)).await;
    assert_eq!(items, vec![Some("t-2".to_string()); 3]);
    server.shutdown().await;
}

#[tokio::test]
async fn middleware_sees_every_call() {
    let server_side = Recorder::default();
    let client_side = Recorder::default();
    let server = demo_builder(Arc::new(Probe::default()))
        .layer(server_side.clone())
        .start()
        .await
        .unwrap();
    let client = Client::builder(server.endpoint())
        .layer(client_side.clone())
        .connect()
        .unwrap();
    client.call::<i64, _>("add", (1, 2)).await.unwrap();
    client.call::<(), _>("fail", ("x",)).await.unwrap_err();
    client.call::<(), _>("nosuch", ()).await.unwrap_err();
    let _: Vec<u64> = collect_stream(&client, "count", (2,)).await;
    server.shutdown().await;
    assert_eq!(
        server_side.lines(),
        [
            "before_call add [1, 2]",
            "after_call add returned 3",
            "before_call fail [\"x\"]",
            "on_error fail ValueError",
            "after_call fail failed ValueError",
            "on_error nosuch NameError",
            "after_call nosuch failed NameError",
            "before_call count [2]",
            "after_call count streamed 2",
        ]
    );
    assert_eq!(
        client_side.lines(),
        [
            "before_request add [1, 2]",
            "after_request add returned 3",
            "before_request fail [\"x\"]",
            "after_request fail failed fail",
            "before_request nosuch []",
            "after_request nosuch failed nosuch",
            "before_request count [2]",
            "after_request count stream",
        ]
    );
}

#[tokio::test]
async fn the_tracing_layer_logs_method_arguments_result_and_time() {
    let (logs, _guard) = capture_logs();
    let server = demo_builder(Arc::new(Probe::default()))
        .layer(TracingLayer::default())
        .start()
        .await
        .unwrap();
    let client = Client::builder(server.endpoint())
        .layer(TracingLayer::default())
        .connect()
        .unwrap();
    client.call::<String, _>("hello", ("log",)).await.unwrap();
    client.call::<(), _>("fail", ("oops",)).await.unwrap_err();
    server.shutdown().await;
    let log = logs.text();
    let served = log
        .lines()
        .find(|line| line.contains("served call"))
        .unwrap_or_else(|| panic!("no served-call line in:\n{log}"));
    for part in [
        "method=\"hello\"",
        "args=[\"log\"]",
        "result=\"Hello, log\"",
        "elapsed_ms=",
    ] {
        assert!(served.contains(part), "{part} missing from {served}");
    }
    assert!(log.contains("call returned"), "{log}");
    let failed = log
        .lines()
        .find(|line| line.contains("call failed") && line.contains("WARN"));
    assert!(failed.is_some_and(|line| line.contains("oops")), "{log}");
}

/// Server: a span `traced{trace_id}` for calls whose header has a `trace_id`.
struct TraceSpans;

impl Middleware for TraceSpans {
    fn call_span(&self, call: &CallContext<'_>) -> Option<tracing::Span> {
        let trace_id = call.header.get("trace_id")?.as_str()?.to_string();
        Some(tracing::info_span!("traced", trace_id = %trace_id))
    }
}

/// Server: a DEBUG span, which the tests' INFO subscriber filters out.
struct DebugSpans;

impl Middleware for DebugSpans {
    fn call_span(&self, _call: &CallContext<'_>) -> Option<tracing::Span> {
        Some(tracing::debug_span!("hidden"))
    }
}

/// Client: sends a fixed `trace_id` in every request's header.
struct TraceId(&'static str);

impl Middleware for TraceId {
    fn request_header(&self, _method: &str) -> Vec<(String, Value)> {
        vec![("trace_id".to_string(), Value::from(self.0))]
    }
}

#[tokio::test]
async fn calls_run_in_the_spans_the_middleware_gives() {
    use futures::StreamExt;

    let (logs, _guard) = capture_logs();
    let service = Service::new("Spans")
        .unary(MethodInfo::new("greet"), |_| async {
            tracing::info!("greeting");
            Ok("hi")
        })
        .blocking(MethodInfo::new("work"), |_| {
            tracing::info!("working");
            Ok(1)
        })
        .stream(MethodInfo::new("count"), |_| async {
            Ok(futures::stream::iter(1..=2).map(|n| {
                tracing::info!(n, "counting");
                Ok(n)
            }))
        });
    let server = Server::builder(service)
        .bind("tcp://127.0.0.1:0")
        .layer(TracingLayer::default())
        .layer(TraceSpans)
        .layer(DebugSpans)
        .start()
        .await
        .unwrap();
    let client = Client::builder(server.endpoint())
        .layer(TraceId("t-42"))
        .connect()
        .unwrap();
    assert_eq!(client.call::<String, _>("greet", ()).await.unwrap(), "hi");
    assert_eq!(client.call::<i64, _>("work", ()).await.unwrap(), 1);
    assert_eq!(collect_stream::<i64, _>(&client, "count", ()).await, [1, 2]);
    let plain = Client::connect(server.endpoint()).unwrap();
    assert_eq!(plain.call::<String, _>("greet", ()).await.unwrap(), "hi");
    server.shutdown().await;

    // What the handlers log (the blocking one on its own thread, the stream for each item) and
    // what the tracing layer logs, all inside `call{method, id}`, then inside `traced` (the
    // filtered-out span of the last layer takes nothing away).
    let log = logs.text();
    for (method, message, count) in [
        ("greet", "greeting", 1),
        ("work", "working", 1),
        ("count", "counting", 2),
        ("greet", "served call", 1),
        ("work", "served call", 1),
        ("count", "served stream", 1),
    ] {
        let span = format!("call{{method=\"{method}\" id=");
        let traced: Vec<&str> = log
            .lines()
            .filter(|line| line.contains(message) && line.contains(&span))
            .filter(|line| line.contains("}:traced{trace_id=t-42}:"))
            .collect();
        assert_eq!(traced.len(), count, "{method} {message} in:\n{log}");
        for line in traced {
            let (_, after) = line.split_once(&span).unwrap();
            let id: String = after.chars().take_while(char::is_ascii_hexdigit).collect();
            assert_eq!(id.len(), 32, "{line}");
        }
    }
    // A call without a trace id runs in the layer's span only.
    let untraced = log
        .lines()
        .find(|line| line.contains("greeting") && !line.contains("traced"))
        .unwrap_or_else(|| panic!("no untraced greeting in:\n{log}"));
    assert!(untraced.contains("call{method=\"greet\" id="), "{untraced}");
}

/// A request for `method` with `args` (already an array) under a fresh header.
fn request_frame(method: &str, args: &Value) -> Vec<u8> {
    Event {
        header: Header::new(),
        name: method.to_string(),
        args: args.clone(),
    }
    .encode()
}

/// A value's MessagePack bytes, to compare ids exactly (a NaN id equals itself here).
fn msgpack(value: &Value) -> Vec<u8> {
    let mut bytes = Vec::new();
    rmpv::encode::write_value(&mut bytes, value).unwrap();
    bytes
}

/// Sends `count` damaged requests on a raw DEALER; every one that still reads as a request (an
/// event with a message id and no `response_to`) must be answered, and the server must go on
/// serving. Seeded, so a failure repeats.
async fn survives_damaged_requests(server: &Server, seed: u64, count: usize) {
    use rand::{Rng, SeedableRng};

    let bases = [
        ("echo", Value::Array(vec![Value::from("hello")])),
        (
            "echo",
            Value::Array(vec![Value::Map(vec![
                (Value::from("id"), Value::from(7)),
                (Value::from("tags"), Value::Array(vec![Value::from("a")])),
                (Value::from("blob"), Value::Binary(vec![1, 2, 3])),
            ])]),
        ),
        ("add", Value::Array(vec![Value::from(1), Value::from(-2)])),
        (
            "hello",
            Value::Array(vec![Value::from("x"), Value::from("Hi")]),
        ),
        ("fail", Value::Array(vec![Value::from("no")])),
        ("nothing", Value::Array(vec![])),
    ];
    let mut random = rand::rngs::StdRng::seed_from_u64(seed);
    let mut raw = zeromq::DealerSocket::new();
    raw.connect(server.endpoint()).await.unwrap();
    let mut expected = std::collections::HashSet::new();
    for _ in 0..count {
        let (method, args) = &bases[random.random_range(0..bases.len())];
        let frame = damaged(request_frame(method, args), &mut random);
        if let Ok(event) = Event::decode(&frame) {
            if let (Some(id), None) = (event.header.message_id(), event.header.response_to()) {
                expected.insert(msgpack(id));
            }
        }
        raw.send(ZmqMessage::try_from(vec![Bytes::new(), Bytes::from(frame)]).unwrap())
            .await
            .unwrap();
    }
    let answered = async {
        while !expected.is_empty() {
            let reply = raw.recv().await.unwrap();
            let reply = Event::decode(reply.get(1).unwrap()).unwrap();
            if let Some(id) = reply.header.response_to() {
                expected.remove(&msgpack(id));
            }
        }
    };
    let unanswered = tokio::time::timeout(Duration::from_secs(20), answered).await;
    assert!(unanswered.is_ok(), "seed {seed}: requests left unanswered");
    let client = client_for(server.endpoint());
    assert_eq!(client.call::<i64, _>("add", (1, 2)).await.unwrap(), 3);
}

#[tokio::test]
async fn damaged_requests_are_answered_or_dropped_and_the_server_goes_on() {
    let server = demo_builder(Arc::new(Probe::default()))
        .start()
        .await
        .unwrap();
    survives_damaged_requests(&server, 1, 2_000).await;
    server.shutdown().await;
    // With middleware the server also decodes each header and arguments as dynamic values.
    let observed = demo_builder(Arc::new(Probe::default()))
        .layer(Recorder::default())
        .start()
        .await
        .unwrap();
    survives_damaged_requests(&observed, 2, 2_000).await;
    observed.shutdown().await;
}

/// Client: records the name of the span each `request_header` runs in.
#[derive(Clone, Default)]
struct SpanSeen(Arc<Mutex<Vec<String>>>);

impl Middleware for SpanSeen {
    fn request_header(&self, _method: &str) -> Vec<(String, Value)> {
        let span = tracing::Span::current();
        let name = span.metadata().map_or("none", |metadata| metadata.name());
        self.0.lock().unwrap().push(name.to_string());
        Vec::new()
    }
}

#[tokio::test]
async fn requests_run_in_the_spans_the_client_middleware_gives() {
    use tracing::Instrument;

    let (logs, _guard) = capture_logs();
    let (server, _, _) = demo().await;
    let seen = SpanSeen::default();
    let client = Client::builder(server.endpoint())
        .layer(TracingLayer::default())
        .layer(seen.clone())
        .connect()
        .unwrap();
    let checkout = tracing::info_span!("checkout", order = 12);
    let sum = client.call::<i64, _>("add", (1, 2));
    assert_eq!(sum.instrument(checkout.clone()).await.unwrap(), 3);
    let items = collect_stream::<i64, _>(&client, "count", (2,));
    assert_eq!(items.instrument(checkout).await.len(), 2);
    server.shutdown().await;

    // The header is made inside the request's span, so a layer can write its trace context.
    assert_eq!(*seen.0.lock().unwrap(), ["request", "request"]);
    let log = logs.text();
    for (line, method) in [("call returned", "add"), ("stream opened", "count")] {
        let line = log
            .lines()
            .find(|each| each.contains(line))
            .unwrap_or_else(|| panic!("no `{line}` in:\n{log}"));
        let spans = format!("checkout{{order=12}}:request{{method=\"{method}\"}}:");
        assert!(line.contains(&spans), "{line}");
    }
}

/// ZMTP 3.0's greeting for the NULL mechanism, as a client sends it.
fn zmtp_greeting() -> Vec<u8> {
    let mut greeting = vec![0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 3, 0];
    let mut mechanism = b"NULL".to_vec();
    mechanism.resize(20, 0);
    greeting.extend(mechanism);
    greeting.resize(64, 0);
    greeting
}

#[tokio::test]
async fn a_peer_announcing_a_huge_frame_is_cut_off_and_the_server_goes_on() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let (server, client, _) = demo().await;
    let address = server.endpoint().trim_start_matches("tcp://").to_string();
    // Before the patched codec, the server reserved the claimed terabyte and the process aborted.
    for claimed in [1u64 << 40, 300 * 1024 * 1024] {
        let mut peer = tokio::net::TcpStream::connect(&address).await.unwrap();
        peer.write_all(&zmtp_greeting()).await.unwrap();
        let mut greeting = [0u8; 64];
        peer.read_exact(&mut greeting).await.unwrap();
        let mut frame = vec![0x06];
        frame.extend(claimed.to_be_bytes());
        peer.write_all(&frame).await.unwrap();
        // The server closes the connection: reads end (a reset counts too), without waiting for
        // the claimed bytes.
        let mut rest = Vec::new();
        let closed =
            tokio::time::timeout(Duration::from_secs(5), peer.read_to_end(&mut rest)).await;
        assert!(
            closed.is_ok(),
            "the connection stayed open after claiming {claimed} bytes"
        );
    }
    assert_eq!(client.call::<i64, _>("add", (1, 2)).await.unwrap(), 3);
    server.shutdown().await;
}

#[tokio::test]
async fn a_concurrency_limit_makes_calls_wait_their_turn_but_never_introspection() {
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let service = Service::new("Gated").unary(MethodInfo::new("hold").param("n"), {
        let (running, peak, gate) = (running.clone(), peak.clone(), gate.clone());
        move |args| {
            let (running, peak, gate) = (running.clone(), peak.clone(), gate.clone());
            async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                gate.acquire().await.expect("the gate stays open").forget();
                running.fetch_sub(1, Ordering::SeqCst);
                args.get::<u32>(0)
            }
        }
    });
    let server = Server::builder(service)
        .bind("tcp://127.0.0.1:0")
        .heartbeat(Some(common::HEARTBEAT))
        .concurrency_limit(2)
        .start()
        .await
        .unwrap();
    let client = client_for(server.endpoint());
    let calls: Vec<_> = (0..5u32)
        .map(|n| {
            let client = client.clone();
            tokio::spawn(async move { client.call::<u32, _>("hold", (n,)).await })
        })
        .collect();
    common::eventually("two handlers run", || running.load(Ordering::SeqCst) == 2).await;
    // Longer than the three heartbeat intervals after which a silent channel is lost: the
    // waiting calls' channels beat, so their callers keep waiting.
    tokio::time::sleep(common::HEARTBEAT * 4).await;
    assert_eq!(running.load(Ordering::SeqCst), 2);
    let pong: Vec<String> = client.call("_zerorpc_ping", ()).await.unwrap();
    assert_eq!(pong, ["pong", "Gated"]);

    gate.add_permits(5);
    let mut answers = Vec::new();
    for call in calls {
        answers.push(call.await.unwrap().unwrap());
    }
    assert_eq!(answers, [0, 1, 2, 3, 4]);
    assert_eq!(peak.load(Ordering::SeqCst), 2);
    server.shutdown().await;
}

#[tokio::test]
async fn the_tracing_layers_log_a_declared_error_as_an_answer_and_others_as_failures() {
    let (logs, _guard) = capture_logs();
    let service = Service::new("Tickets").unary(
        MethodInfo::new("get").param("id").error("NotFound"),
        |args| async move {
            match args.get::<u64>(0)? {
                0 => Err(RemoteError::new("NotFound", "no ticket 0")),
                id => Err::<(), _>(RemoteError::new(
                    "ValueError",
                    format!("ticket {id} is odd"),
                )),
            }
        },
    );
    let server = Server::builder(service)
        .bind("tcp://127.0.0.1:0")
        .layer(TracingLayer::default())
        .start()
        .await
        .unwrap();
    let client = Client::builder(server.endpoint())
        .layer(TracingLayer::default())
        .connect()
        .unwrap();
    let declares_not_found = || CallOptions {
        errors: &["NotFound"],
        ..CallOptions::default()
    };
    for id in [0, 7] {
        client
            .call_with::<(), _>("get", (id,), declares_not_found())
            .await
            .unwrap_err();
    }
    let inspected: Value = client.call("_zerorpc_inspect", ()).await.unwrap();
    server.shutdown().await;
    let log = logs.text();
    let line = |texts: [&str; 2]| {
        log.lines()
            .find(|line| texts.iter().all(|text| line.contains(text)))
            .unwrap_or_else(|| panic!("no line with {texts:?} in:\n{log}"))
    };
    let served = line(["no ticket 0", "served call with a declared error"]);
    assert!(served.contains(" INFO "), "{served}");
    let returned = line(["no ticket 0", "call returned a declared error"]);
    assert!(returned.contains(" INFO "), "{returned}");
    let failed: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("ticket 7 is odd"))
        .collect();
    assert_eq!(
        failed.len(),
        2,
        "the server and the client each log it:\n{log}"
    );
    for line in failed {
        assert!(
            line.contains(" WARN ") && line.contains("call failed"),
            "{line}"
        );
    }
    assert!(
        inspected.to_string().contains("\"errors\": [\"NotFound\"]"),
        "{inspected}"
    );
}
