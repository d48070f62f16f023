//! A demo service and helpers shared by the integration tests.

#![allow(dead_code)]

pub mod foreign;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use rmpv::Value;
use rpcgen_runtime::{
    Arguments, CallInfo, Cancellation, Client, MethodInfo, Middleware, ParamInfo, RemoteError,
    Server, ServerBuilder, Service,
};
use serde::de::DeserializeOwned;

/// A short heartbeat that keeps lost-remote tests fast, with room for a loaded 2-core machine.
pub const HEARTBEAT: Duration = Duration::from_millis(500);

/// Counts what the demo service's handlers did, so tests can observe the server side.
#[derive(Default)]
pub struct Probe {
    /// Items produced by `count_probed` so far.
    pub produced: AtomicU64,
    /// Calls of `wait_forever`, `block_until_cancelled` and `offload_until_cancelled` that
    /// started.
    pub started: AtomicU64,
    /// Handlers of `wait_forever` that were dropped, and of the two others that saw their
    /// cancellation.
    pub cancelled: AtomicU64,
}

/// Sets a flag when dropped: proves a handler future was cancelled.
struct DropFlag(Arc<Probe>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.cancelled.fetch_add(1, Ordering::SeqCst);
    }
}

/// Client middleware that adds header entries, as zerorpc-python's `get_task_context` does;
/// `{method}` in a value becomes the called method's name.
pub struct HeaderEntries(pub Vec<(&'static str, &'static str)>);

impl Middleware for HeaderEntries {
    fn request_header(&self, method: &str) -> Vec<(String, Value)> {
        self.0
            .iter()
            .map(|(key, value)| {
                (
                    key.to_string(),
                    Value::from(value.replace("{method}", method)),
                )
            })
            .collect()
    }
}

/// Blocking work that checks its call's cancellation every 10 ms, for at most 30 s.
fn wait_until_cancelled(cancellation: &Cancellation, probe: &Probe) -> Result<(), RemoteError> {
    probe.started.fetch_add(1, Ordering::SeqCst);
    // Bounded: a test that never cancels fails on its own wait, not on this loop.
    for _ in 0..3_000 {
        if cancellation.is_cancelled() {
            probe.cancelled.fetch_add(1, Ordering::SeqCst);
            return Err(RemoteError::new("Cancelled", "gave up"));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}

/// The contract the demo service publishes (a part of it: the runtime does not read it).
const DEMO_CONTRACT: &str = "package demo;\n\nservice Demo {\n    add(a: i64, b: i64) -> i64;\n}\n";

/// The service the tests call.
pub fn demo_service(probe: Arc<Probe>) -> Service {
    let produced = probe.clone();
    let cancellable = probe.clone();
    let blocking = probe.clone();
    let offloading = probe;
    Service::new("Demo")
        .doc("A service for tests.")
        // What generated code registers; foreign clients must take the extra inspect key.
        .contract("demo.rpc", [("demo.rpc", DEMO_CONTRACT)])
        .unary(MethodInfo::new("echo").param("value"), |args| async move {
            args.get::<Value>(0)
        })
        .unary(
            MethodInfo::new("add").doc("Adds two integers.").param("a").param("b"),
            |args| async move { Ok(args.get::<i64>(0)? + args.get::<i64>(1)?) },
        )
        .unary(
            MethodInfo::new("hello")
                .param("name")
                .param_info(ParamInfo::new("greeting").optional()),
            |args| async move {
                let greeting = args.get::<Option<String>>(1)?;
                let greeting = greeting.as_deref().unwrap_or("Hello");
                Ok(format!("{greeting}, {}", args.get::<String>(0)?))
            },
        )
        .unary(MethodInfo::new("nothing"), |_| async { Ok(()) })
        .unary(MethodInfo::new("sleep").param("seconds"), |args| async move {
            let seconds = args.get::<f64>(0)?;
            tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
            Ok(seconds)
        })
        .blocking(MethodInfo::new("block").param("seconds"), |args| {
            let seconds = args.get::<f64>(0)?;
            std::thread::sleep(Duration::from_secs_f64(seconds));
            Ok(seconds)
        })
        .unary(MethodInfo::new("fail").param("message"), |args| async move {
            Err::<(), _>(RemoteError::new("ValueError", args.get::<String>(0)?))
        })
        .unary(MethodInfo::new("explode"), |_| async {
            if true {
                panic!("kaboom");
            }
            Ok(())
        })
        .blocking(MethodInfo::new("explode_blocking"), |_| {
            if true {
                panic!("blocking kaboom");
            }
            Ok(())
        })
        .unary(MethodInfo::new("bytes").param("size"), |args| async move {
            Ok(serde_bytes::ByteBuf::from(vec![7u8; args.get::<usize>(0)?]))
        })
        .unary(MethodInfo::new("wait_forever"), move |_| {
            cancellable.started.fetch_add(1, Ordering::SeqCst);
            let flag = DropFlag(cancellable.clone());
            async move {
                let _flag = flag;
                futures::future::pending::<()>().await;
                Ok(())
            }
        })
        .blocking(MethodInfo::new("block_until_cancelled"), move |args| {
            wait_until_cancelled(args.cancellation(), &blocking)
        })
        .unary(MethodInfo::new("offload_until_cancelled"), move |_| {
            let probe = offloading.clone();
            async move {
                // As a generated service's method would: no `Args` at hand.
                let cancellation = Cancellation::current().expect("inside a handler");
                tokio::task::spawn_blocking(move || wait_until_cancelled(&cancellation, &probe))
                    .await
                    .expect("the thread ends")
            }
        })
        .unary(MethodInfo::new("header_entry").param("key"), |args| async move {
            let key = args.get::<String>(0)?;
            // As a generated service's method would: from the current call, not from `Args`.
            let header = CallInfo::current().expect("inside a handler").header();
            Ok(header.get(&key).cloned())
        })
        .stream(
            MethodInfo::new("header_entry_per_item").param("key").param("n"),
            |args| async move {
                let key = args.get::<String>(0)?;
                let n = args.get::<usize>(1)?;
                // Read while each item is produced, not when the stream starts.
                Ok(futures::stream::repeat_with(move || {
                    let call = CallInfo::current().ok_or_else(|| {
                        RemoteError::new("LookupError", "no current call while producing an item")
                    })?;
                    Ok(call.header().get(&key).cloned())
                })
                .take(n))
            },
        )
        .stream(MethodInfo::new("count").param("n"), |args| async move {
            let n = args.get::<u64>(0)?;
            Ok(futures::stream::iter(0..n).map(Ok))
        })
        .stream(MethodInfo::new("count_then_panic").param("n"), |args| async move {
            let n = args.get::<u64>(0)?;
            Ok(futures::stream::iter(0..=n).map(move |item| {
                if item == n {
                    panic!("stream kaboom");
                }
                Ok(item)
            }))
        })
        .stream(MethodInfo::new("count_then_fail").param("n"), |args| async move {
            let n = args.get::<u64>(0)?;
            let items = futures::stream::iter(0..n).map(Ok);
            let failure = futures::stream::once(async {
                Err(RemoteError::new("ValueError", "stream broke"))
            });
            Ok(items.chain(failure))
        })
        .stream(MethodInfo::new("count_probed").param("n"), move |args| {
            let probe = produced.clone();
            async move {
                let n = args.get::<u64>(0)?;
                Ok(futures::stream::iter(0..n).map(move |item| {
                    probe.produced.fetch_add(1, Ordering::SeqCst);
                    Ok(item)
                }))
            }
        })
}

/// A server builder for the demo service on a free loopback port, with short heartbeats.
pub fn demo_builder(probe: Arc<Probe>) -> ServerBuilder {
    Server::builder(demo_service(probe))
        .bind("tcp://127.0.0.1:0")
        .heartbeat(Some(HEARTBEAT))
}

/// Starts the demo service and a client for it.
pub async fn demo() -> (Server, Client, Arc<Probe>) {
    let probe = Arc::new(Probe::default());
    let server = demo_builder(probe.clone())
        .start()
        .await
        .expect("server starts");
    let client = client_for(server.endpoint());
    (server, client, probe)
}

/// A client with short heartbeats and a 10 s timeout.
pub fn client_for(endpoint: &str) -> Client {
    Client::builder(endpoint)
        .heartbeat(Some(HEARTBEAT))
        .timeout(Duration::from_secs(10))
        .connect()
        .expect("client")
}

/// Calls the streaming `method` and collects every item, panicking if the call or an item fails.
pub async fn collect_stream<T: DeserializeOwned + 'static, A: Arguments>(
    client: &Client,
    method: &str,
    args: A,
) -> Vec<T> {
    client
        .call_stream::<T, _>(method, args)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap()
}

/// Waits (at most 20 s) until `condition` holds.
pub async fn eventually(what: &str, condition: impl Fn() -> bool) {
    for _ in 0..2000 {
        if condition() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting until {what}");
}

/// A free TCP port on the loopback interface.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

/// What the one-way test service saw.
#[derive(Default)]
pub struct Mailbox {
    /// The numbers `record` and `record_blocking` received, in the order their handlers ran.
    pub records: std::sync::Mutex<Vec<i64>>,
    /// Each failed event, as `method ErrorName`, recorded by the [`Failures`] middleware.
    pub failures: std::sync::Mutex<Vec<String>>,
    /// Handlers of `wait` that started.
    pub waiting: AtomicU64,
}

impl Mailbox {
    /// The numbers recorded so far, sorted (handlers run concurrently).
    pub fn sorted_records(&self) -> Vec<i64> {
        let mut records = self.records.lock().unwrap().clone();
        records.sort_unstable();
        records
    }

    /// Waits until the failures recorded, sorted, are `expected`.
    pub async fn failures_become(&self, expected: &[&str]) {
        let sorted = || {
            let mut failures = self.failures.lock().unwrap().clone();
            failures.sort();
            failures
        };
        eventually("the failures expected are recorded", || {
            sorted() == expected
        })
        .await;
    }
}

/// The service of the one-way tests (named like the calls of tests/python/py_sender.py).
pub fn jobs_service(mailbox: Arc<Mailbox>) -> Service {
    let recorded = mailbox.clone();
    let recorded_blocking = mailbox.clone();
    Service::new("Jobs")
        .unary(MethodInfo::new("record").param("n"), move |args| {
            let mailbox = recorded.clone();
            async move {
                mailbox.records.lock().unwrap().push(args.get(0)?);
                Ok(())
            }
        })
        .blocking(MethodInfo::new("record_blocking").param("n"), move |args| {
            recorded_blocking.records.lock().unwrap().push(args.get(0)?);
            Ok(())
        })
        .unary(MethodInfo::new("wait").param("seconds"), move |args| {
            let mailbox = mailbox.clone();
            async move {
                mailbox.waiting.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_secs_f64(args.get(0)?)).await;
                mailbox.records.lock().unwrap().push(-1);
                Ok(())
            }
        })
        .unary(MethodInfo::new("explode"), |_| async {
            if true {
                panic!("one-way kaboom");
            }
            Ok(())
        })
        .stream(MethodInfo::new("count").param("n"), |args| async move {
            let n = args.get::<u64>(0)?;
            Ok(futures::stream::iter(0..n).map(Ok))
        })
}

/// Listener middleware that records every failed event in a [`Mailbox`].
pub struct Failures(pub Arc<Mailbox>);

impl Middleware for Failures {
    fn on_error(&self, call: &rpcgen_runtime::CallContext<'_>, error: &RemoteError) {
        let line = format!("{} {}", call.method, error.name);
        self.0.failures.lock().unwrap().push(line);
    }
}

/// What a `tracing` subscriber wrote, as [`capture_logs`] sets one up.
#[derive(Clone, Default)]
pub struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl Captured {
    /// Everything written so far.
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Makes a `tracing` fmt subscriber (no colours) the default of this thread until the guard is
/// dropped, writing into the returned [`Captured`]. Tests run on a current-thread runtime, so the
/// tasks of the servers they start log there too.
pub fn capture_logs() -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    (captured, tracing::subscriber::set_default(subscriber))
}

/// `frame` damaged the way a broken peer or a bad link would: a byte changed, the frame cut
/// short, or a byte inserted, where `random` says.
pub fn damaged(mut frame: Vec<u8>, random: &mut impl rand::Rng) -> Vec<u8> {
    let at = random.random_range(0..frame.len());
    match random.random_range(0..3) {
        0 => frame[at] = random.random(),
        1 => frame.truncate(at),
        _ => frame.insert(at, random.random()),
    }
    frame
}
