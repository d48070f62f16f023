//! The zerorpc server: a ROUTER socket that runs every call on its own task.
//!
//! One dispatcher task reads the socket and routes each event: a request opens a channel and
//! spawns a call task; heartbeats and credits are handed to the call of the channel they name
//! (a heartbeat as a flag its clock reads, so it does not wake the call). Each call task
//! runs its handler, heartbeats, watches for a lost caller (and then cancels the handler), obeys
//! the stream credit, and answers `OK`, `STREAM`/`STREAM_DONE` or `ERR`.
//!
//! Each call task sends its own replies: a client that stops reading fills only its own queue
//! in the socket, so only its calls wait (the `zeromq` crate has no high-water mark: sending to a
//! full peer queue waits), every other client is served, and the dispatcher never sends.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
// The channel tables are keyed by ids that peers choose: foldhash is seeded at random per
// process (resisting crafted collisions) and hashes these short keys several times faster than
// SipHash.
use foldhash::HashMap;
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use rmpv::Value;
use tokio::sync::{mpsc, watch, Notify, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::channel::{Beat, HeartbeatClock};
use crate::config::Config;
use crate::error::{RemoteError, SetupError};
use crate::event::{self, Frame, Header, Unparsed};
use crate::introspection;
use crate::middleware::{in_span, nested_span, CallContext, CallOutcome, Middleware};
use crate::msgpack::first_item;
use crate::service::{
    encode_result, Args, CallInfo, CancelFlag, Cancellation, EncodedValue, Handler, ItemStream,
    Reply, Service,
};
use crate::transport::{self, Incoming, RouterSender, ServerSockets};
use crate::value::{from_slice, Arguments};

/// How long a stopping server waits for its last replies to reach slow peers.
const FLUSH_LIMIT: Duration = Duration::from_secs(5);

/// Builds and starts a [`Server`].
pub struct ServerBuilder {
    service: Service,
    config: Config,
    middleware: Vec<Arc<dyn Middleware>>,
    binds: Vec<String>,
    connects: Vec<String>,
    concurrency_limit: Option<u32>,
}

impl std::fmt::Debug for ServerBuilder {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ServerBuilder")
            .field("service", &self.service)
            .field("config", &self.config)
            .field("layers", &self.middleware.len())
            .field("binds", &self.binds)
            .field("connects", &self.connects)
            .field("concurrency_limit", &self.concurrency_limit)
            .finish()
    }
}

impl ServerBuilder {
    /// Replaces the whole configuration.
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Sets the heartbeat interval (`None` disables heartbeats).
    pub fn heartbeat(mut self, interval: Option<Duration>) -> Self {
        self.config.heartbeat = interval;
        self
    }

    /// Sets the maximum message size in bytes.
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.config.max_message_size = bytes;
        self
    }

    /// Adds a middleware; hooks run in the order layers were added.
    pub fn layer(mut self, middleware: impl Middleware) -> Self {
        self.middleware.push(Arc::new(middleware));
        self
    }

    /// Runs at most `calls` handlers at once (at least 1), as zerorpc-python's `pool_size`
    /// does; by default there is no limit. A stream holds its place until it ends. A request
    /// beyond the limit waits for a call to end, with its channel open (heartbeats flow, so its
    /// caller does not think the server lost) and within its caller's timeout; introspection
    /// (`_zerorpc_ping`, ...) never waits, so health checks answer under load.
    pub fn concurrency_limit(mut self, calls: u32) -> Self {
        self.concurrency_limit = Some(calls.max(1));
        self
    }

    /// Listens on an endpoint (`tcp://127.0.0.1:0` picks a free port; see [`Server::endpoints`]).
    pub fn bind(mut self, endpoint: impl Into<String>) -> Self {
        self.binds.push(endpoint.into());
        self
    }

    /// Connects to a client that binds (zerorpc's `Client().bind(..)`), or to a broker. Never
    /// waits for it: the connection is made in the background, and remade with backoff whenever
    /// the peer there goes away (a client that restarts, say), as zerorpc-python's server does.
    ///
    /// ```no_run
    /// # async fn demo(service: rpcgen_runtime::Service) -> Result<(), rpcgen_runtime::SetupError> {
    /// // zerorpc-python: c = zerorpc.Client(); c.bind("tcp://127.0.0.1:4242"); c.add(1, 2)
    /// let server = rpcgen_runtime::Server::builder(service)
    ///     .connect("tcp://127.0.0.1:4242")
    ///     .start()
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn connect(mut self, endpoint: impl Into<String>) -> Self {
        self.connects.push(endpoint.into());
        self
    }

    /// Opens the socket and starts serving.
    pub async fn start(self) -> Result<Server, SetupError> {
        self.config.check()?;
        transport::check_startable(&self.binds, &self.connects)?;
        let (sockets, endpoints) = transport::open_server_sockets(
            &self.binds,
            &self.connects,
            self.config.max_message_size,
        )
        .await?;
        let (stop, stop_signal) = watch::channel(Stop::Serving);
        let shared = Arc::new(Shared {
            service: self.service,
            config: self.config,
            middleware: self.middleware,
            turns: self
                .concurrency_limit
                .map(|calls| Arc::new(Semaphore::new(calls as usize))),
        });
        let task = tokio::spawn(Dispatcher::new(shared).run(sockets, stop_signal));
        Ok(Server {
            endpoints,
            stop,
            task: Some(task),
        })
    }
}

/// A running server. Dropping it stops it at once; [`Server::shutdown`] stops it gracefully.
///
/// ```
/// use std::time::Duration;
///
/// use rpcgen_runtime::{Client, MethodInfo, RemoteError, Server, Service, TracingLayer};
///
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let service = Service::new("Status").unary(MethodInfo::new("version"), |_| async {
///     Ok::<_, RemoteError>(env!("CARGO_PKG_VERSION"))
/// });
/// let server = Server::builder(service)
///     .bind("tcp://127.0.0.1:0")            // port 0: the system picks one
///     .heartbeat(Some(Duration::from_secs(5)))
///     .concurrency_limit(64)                 // at most 64 handlers at once
///     .layer(TracingLayer::default())        // logs every call with `tracing`
///     .start()
///     .await?;
/// let client = Client::connect(server.endpoint())?;
/// let version: String = client.call("version", ()).await?;
/// assert_eq!(version, env!("CARGO_PKG_VERSION"));
/// // In a service's `main`: `server.run_until(tokio::signal::ctrl_c()).await`.
/// server.shutdown_within(Duration::from_secs(10)).await;
/// # Ok(())
/// # }
/// ```
pub struct Server {
    endpoints: Vec<String>,
    stop: watch::Sender<Stop>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Server")
            .field("endpoints", &self.endpoints)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Stop {
    Serving,
    Drain { deadline: Option<Instant> },
}

impl Server {
    /// Starts building a server for a service.
    pub fn builder(service: Service) -> ServerBuilder {
        ServerBuilder {
            service,
            config: Config::default(),
            middleware: Vec::new(),
            binds: Vec::new(),
            connects: Vec::new(),
            concurrency_limit: None,
        }
    }

    /// Serves `service` on `endpoint` with the default configuration.
    pub async fn bind(endpoint: impl Into<String>, service: Service) -> Result<Self, SetupError> {
        Self::builder(service).bind(endpoint).start().await
    }

    /// The endpoints the server listens on (with real port numbers), then those it connects to.
    pub fn endpoints(&self) -> &[String] {
        &self.endpoints
    }

    /// The first endpoint (see [`Server::endpoints`]).
    pub fn endpoint(&self) -> &str {
        &self.endpoints[0]
    }

    /// Stops gracefully: new requests are refused with `ERR ShuttingDown`, calls in flight
    /// (streams included) run to their end, queued replies are flushed, then the socket closes.
    pub async fn shutdown(self) {
        self.stop_with(None).await;
    }

    /// Like [`Server::shutdown`], but calls still running after `grace` are cancelled.
    pub async fn shutdown_within(self, grace: Duration) {
        self.stop_with(Some(Instant::now() + grace)).await;
    }

    /// Serves until `signal` resolves (for example `tokio::signal::ctrl_c()`), then shuts down
    /// gracefully.
    pub async fn run_until<F: Future>(self, signal: F) {
        signal.await;
        self.shutdown().await;
    }

    async fn stop_with(mut self, deadline: Option<Instant>) {
        let _ = self.stop.send(Stop::Drain { deadline });
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

struct Shared {
    service: Service,
    config: Config,
    middleware: Vec<Arc<dyn Middleware>>,
    /// One permit per handler that may run, when the server has a concurrency limit.
    turns: Option<Arc<Semaphore>>,
}

/// A channel is named by the peer's routing id and the request's id, as MessagePack.
type ChannelKey = (Bytes, Bytes);

struct Dispatcher {
    shared: Arc<Shared>,
    /// What the dispatcher tells each open channel's call.
    channels: HashMap<ChannelKey, Arc<CallSignals>>,
    /// Call tasks that have not ended yet.
    running: usize,
    /// Dropped with the dispatcher, which tells calls still sending to give up.
    alive: watch::Sender<()>,
    ended: mpsc::UnboundedSender<ChannelKey>,
    ended_signal: mpsc::UnboundedReceiver<ChannelKey>,
    accepting: bool,
}

impl Dispatcher {
    fn new(shared: Arc<Shared>) -> Self {
        let (ended, ended_signal) = mpsc::unbounded_channel();
        Self {
            shared,
            channels: HashMap::default(),
            running: 0,
            alive: watch::channel(()).0,
            ended,
            ended_signal,
            accepting: true,
        }
    }

    async fn run(mut self, mut sockets: ServerSockets, mut stop: watch::Receiver<Stop>) {
        let mut deadline = None;
        loop {
            if !self.accepting && self.channels.is_empty() {
                break;
            }
            let drain_expired = async {
                match deadline {
                    Some(deadline) => tokio::time::sleep_until(deadline).await,
                    None => futures::future::pending().await,
                }
            };
            tokio::select! {
                incoming = sockets.recv() => match incoming {
                    Some(incoming) => self.route(incoming),
                    None => break,
                },
                Some(key) = self.ended_signal.recv() => self.release(&key),
                changed = stop.changed(), if self.accepting => {
                    if changed.is_err() {
                        break;
                    }
                    if let Stop::Drain { deadline: limit } = *stop.borrow() {
                        self.accepting = false;
                        deadline = limit;
                    }
                }
                () = drain_expired => {
                    tracing::warn!(
                        target: "rpcgen",
                        calls = self.channels.len(),
                        "shutdown grace period over; cancelling the calls still running"
                    );
                    break;
                }
            }
        }
        self.flush().await;
    }

    /// Cancels the calls still running, then lets them end and deliver what they are sending,
    /// within [`FLUSH_LIMIT`].
    async fn flush(mut self) {
        self.cancel_all();
        let finished = async {
            while self.running > 0 && self.ended_signal.recv().await.is_some() {
                self.running -= 1;
            }
        };
        if tokio::time::timeout(FLUSH_LIMIT, finished).await.is_err() {
            tracing::warn!(target: "rpcgen", "some replies could not be delivered before shutdown");
        }
    }

    fn route(&mut self, incoming: Incoming) {
        let Incoming {
            peer,
            envelope,
            payload,
            reply,
        } = incoming;
        let size = payload.len();
        let limit = self.shared.config.max_message_size;
        let request = match Frame::parse(payload) {
            Ok(frame) => match frame.response_to() {
                Some(channel_id) => {
                    match self.channels.get(&(peer, channel_id)) {
                        Some(signals) => signals.control(&frame),
                        None => tracing::debug!(
                            target: "rpcgen",
                            name = frame.name(),
                            "dropping an event for a channel that is not open"
                        ),
                    }
                    return;
                }
                None if size > limit => {
                    let error = RemoteError::new(
                        "MessageTooLarge",
                        format!(
                            "the request for `{}` is {size} bytes, above the server's limit of \
                             {limit} bytes",
                            frame.name()
                        ),
                    );
                    Request::Refused(frame, error)
                }
                None => Request::Event(frame),
            },
            Err(Unparsed {
                error,
                message_id,
                response_to,
            }) => match (error.header, message_id, response_to) {
                (Some(header), Some(id), None) => {
                    let reason = format!("bad request: {}", error.reason);
                    Request::Unreadable(header, id, RemoteError::new("ProtocolError", reason))
                }
                _ => {
                    tracing::warn!(
                        target: "rpcgen",
                        reason = %error.reason,
                        bytes = size,
                        "dropping a message that is not a zerorpc event"
                    );
                    return;
                }
            },
        };
        self.open(peer, envelope, reply, request);
    }

    fn open(
        &mut self,
        peer: Bytes,
        envelope: Vec<Bytes>,
        sender: RouterSender,
        mut request: Request,
    ) {
        let channel_id = match &request {
            Request::Event(frame) | Request::Refused(frame, _) => frame.message_id(),
            Request::Unreadable(_, id, _) => id.clone(),
        };
        let key = (peer.clone(), channel_id.clone());
        if self.channels.contains_key(&key) {
            tracing::debug!(target: "rpcgen", "dropping a request that reuses an open channel's id");
            return;
        }
        if !self.accepting {
            if let Request::Event(frame) = request {
                let error = RemoteError::new(
                    "ShuttingDown",
                    "the server is shutting down; try again later",
                );
                request = Request::Refused(frame, error);
            }
        }
        let signals = Arc::new(CallSignals::default());
        self.channels.insert(key.clone(), signals.clone());
        let call = Call {
            shared: self.shared.clone(),
            channel_id,
            envelope,
            sender,
            server_alive: self.alive.subscribe(),
            signals,
            credit: 1,
            clock: HeartbeatClock::start(self.shared.config.heartbeat),
            _end: EndGuard {
                key: Some(key),
                ended: self.ended.clone(),
            },
        };
        self.running += 1;
        // Boxed: a call's future is about 2 KiB, which Tokio would otherwise copy three times
        // on its way into and out of the task (about 5 % of the instructions of an echo call).
        tokio::spawn(Box::pin(call.run(request)));
    }

    fn release(&mut self, key: &ChannelKey) {
        self.channels.remove(key);
        self.running -= 1;
    }

    fn cancel_all(&mut self) {
        for (_, signals) in self.channels.drain() {
            signals.cancel();
        }
    }
}

impl Drop for Dispatcher {
    fn drop(&mut self) {
        self.cancel_all();
    }
}

/// What the dispatcher tells a running call. A heartbeat only sets a flag, which the call's
/// clock reads at its next tick, so heartbeats never wake the call; credit and cancellation do.
#[derive(Default)]
struct CallSignals {
    /// Whether the caller has beaten since the call's clock last ticked.
    heard: AtomicBool,
    /// Credit granted with `_zpc_more` and not yet taken by the call.
    granted: AtomicU64,
    /// Set once the call must end (the server is stopping, or the caller was lost); handlers
    /// read it through their [`Cancellation`].
    cancelled: AtomicBool,
    /// Wakes the call for credit or cancellation.
    wake: Notify,
}

impl CallSignals {
    /// Takes in a heartbeat or a credit from the caller.
    fn control(&self, event: &Frame) {
        match event.name() {
            event::HEARTBEAT => self.heard.store(true, Ordering::Relaxed),
            event::MORE => {
                let args = event.args();
                let grant = first_item(&args)
                    .ok()
                    .and_then(|n| from_slice::<u64>(n).ok());
                match grant {
                    Some(grant) => {
                        let _ = self.granted.fetch_update(
                            Ordering::Release,
                            Ordering::Relaxed,
                            |granted| Some(granted.saturating_add(grant)),
                        );
                        self.wake.notify_one();
                    }
                    None => {
                        let args = event.args_value();
                        tracing::debug!(target: "rpcgen", %args, "ignoring a bad _zpc_more")
                    }
                }
            }
            other => {
                tracing::debug!(target: "rpcgen", name = other, "ignoring an unexpected event on a call")
            }
        }
    }

    /// Ends the call: its handler is dropped at its next wake-up.
    fn cancel(&self) {
        self.cancelled.store(true, Ordering::Release);
        self.wake.notify_one();
    }
}

impl CancelFlag for CallSignals {
    fn is_set(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }
}

/// Tells the dispatcher that a channel closed, however its task ended.
struct EndGuard {
    key: Option<ChannelKey>,
    ended: mpsc::UnboundedSender<ChannelKey>,
}

impl Drop for EndGuard {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            let _ = self.ended.send(key);
        }
    }
}

/// A request that opens a channel.
enum Request {
    /// A request to serve.
    Event(Frame),
    /// A readable request to answer with this error.
    Refused(Frame, RemoteError),
    /// A request of which only the header could be read, its `message_id` as received, and
    /// the error that explains why.
    Unreadable(Header, Bytes, RemoteError),
}

/// What a call produces next.
pub(crate) enum Stage {
    Unary(BoxFuture<'static, Reply>),
    Starting(BoxFuture<'static, Result<ItemStream, RemoteError>>),
    Streaming(ItemStream),
}

enum Produced {
    Reply(Reply),
    Started(Result<ItemStream, RemoteError>),
    Item(Option<Reply>),
}

/// The server's end of one channel.
struct Call {
    shared: Arc<Shared>,
    /// The request's id as MessagePack, echoed in `response_to`.
    channel_id: Bytes,
    envelope: Vec<Bytes>,
    sender: RouterSender,
    /// Ends when the server stops for good.
    server_alive: watch::Receiver<()>,
    signals: Arc<CallSignals>,
    credit: u64,
    clock: HeartbeatClock,
    _end: EndGuard,
}

/// Finds the method a request names (or answers introspection) and checks its arguments; the
/// stage to run for it. `cancellation` is the call's, handed to its handler.
pub(crate) fn stage(
    service: &Service,
    request: &Frame,
    cancellation: Cancellation,
) -> Result<Stage, RemoteError> {
    let method_name = request.name();
    if let Some(answer) = introspection::answer(service, method_name, &request.args()) {
        return Ok(Stage::Unary(
            futures::future::ready(answer.and_then(|value| encode_result(method_name, value)))
                .boxed(),
        ));
    }
    let method = service.method(method_name).ok_or_else(|| {
        RemoteError::new(
            "NameError",
            format!(
                "unknown method `{method_name}` (service `{}`)",
                service.name()
            ),
        )
    })?;
    let call = CallInfo::new(request.header_bytes(), cancellation);
    let args = Args::check(method.info.clone(), request.args(), call)?;
    let info = method.info.clone();
    Ok(match &method.handler {
        Handler::Async(handler) => Stage::Unary(handler(args)),
        Handler::Blocking(handler) => {
            let handler = handler.clone();
            let span = CallSpan::current();
            Stage::Unary(
                tokio::task::spawn_blocking(move || span.run(|| handler(args)))
                    .map(move |joined| {
                        joined.unwrap_or_else(|error| match error.try_into_panic() {
                            Ok(panic) => Err(panic_error(&info.name, &*panic)),
                            Err(_) => Err(RemoteError::new(
                                "Cancelled",
                                format!("the handler of `{}` was cancelled", info.name),
                            )),
                        })
                    })
                    .boxed(),
            )
        }
        Handler::Stream(handler) => Stage::Starting(handler(args)),
    })
}

/// The span of a call, taken to the thread of its blocking handler with the subscriber of the
/// call's task (which may be a scoped default that another thread would not see, as in tests).
/// Only when there is a span: a call without one costs nothing here.
struct CallSpan(Option<(tracing::Span, tracing::Dispatch)>);

impl CallSpan {
    /// The span the caller is in (the call's), if any.
    fn current() -> Self {
        let span = tracing::Span::current();
        Self((!span.is_none()).then(|| (span, tracing::dispatcher::get_default(Clone::clone))))
    }

    /// Runs `work` on this thread, in the span and with the subscriber when there is a span.
    fn run<T>(self, work: impl FnOnce() -> T) -> T {
        match self.0 {
            None => work(),
            Some((span, subscriber)) => {
                tracing::dispatcher::with_default(&subscriber, || span.in_scope(work))
            }
        }
    }
}

/// Runs a handler's future, turning a panic into an `ERR Panic`.
pub(crate) async fn unwinding<T>(
    handler: impl Future<Output = Result<T, RemoteError>>,
    method: &str,
) -> Result<T, RemoteError> {
    AssertUnwindSafe(handler)
        .catch_unwind()
        .await
        .unwrap_or_else(|panic| Err(panic_error(method, &*panic)))
}

fn panic_error(method: &str, panic: &(dyn std::any::Any + Send)) -> RemoteError {
    let detail = panic
        .downcast_ref::<&str>()
        .map(|text| text.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_string());
    RemoteError::new(
        "Panic",
        format!("the handler of `{method}` panicked: {detail}"),
    )
}

impl Call {
    async fn run(mut self, request: Request) {
        let shared = self.shared.clone();
        // Middleware sees the header and arguments as dynamic values: decode them only for it.
        let observed = !shared.middleware.is_empty();
        let (method, header, args) = match &request {
            Request::Event(frame) | Request::Refused(frame, _) if observed => {
                (frame.name(), frame.header(), frame.args_value())
            }
            Request::Event(frame) | Request::Refused(frame, _) => {
                (frame.name(), Header::default(), Value::Nil)
            }
            Request::Unreadable(header, ..) => ("", header.clone(), Value::Nil),
        };
        let context = CallContext {
            method,
            header: &header,
            args: &args,
            info: observed
                .then(|| shared.service.registered(method))
                .flatten(),
        };
        let span = nested_span(&shared.middleware, |layer| layer.call_span(&context));
        in_span(span, self.serve(&shared, &request, &context)).await;
    }

    /// Answers `request`, calling the middleware's hooks when there is middleware.
    async fn serve(&mut self, shared: &Shared, request: &Request, context: &CallContext<'_>) {
        let observed = !shared.middleware.is_empty();
        let started = Instant::now();
        let outcome = match self.wait_for_turn(shared, request, context.method).await {
            Err(reason) => Ok(Finished::Cancelled(reason)),
            // The turn, if any, is held until the call has answered.
            Ok(_turn) => {
                let stage = match request {
                    Request::Event(frame) => {
                        let cancellation = Cancellation::new(self.signals.clone());
                        stage(&shared.service, frame, cancellation)
                    }
                    Request::Refused(_, error) | Request::Unreadable(_, _, error) => {
                        Err(error.clone())
                    }
                };
                match stage {
                    Err(error) => {
                        self.send_error(context, &error).await;
                        Err(error)
                    }
                    Ok(stage) => {
                        for middleware in &shared.middleware {
                            middleware.before_call(context);
                        }
                        self.drive(context, stage).await
                    }
                }
            }
        };
        if !observed {
            return;
        }
        let elapsed = started.elapsed();
        let returned;
        let outcome = match &outcome {
            Ok(Finished::Returned(bytes)) => {
                returned = crate::value::read_value(&mut &bytes[..]).unwrap_or(Value::Nil);
                CallOutcome::Returned(&returned)
            }
            Ok(Finished::Streamed(items)) => CallOutcome::Streamed { items: *items },
            Ok(Finished::Cancelled(reason)) => CallOutcome::Cancelled { reason },
            Err(error) => CallOutcome::Failed(error),
        };
        for middleware in &shared.middleware {
            middleware.after_call(context, &outcome, elapsed);
        }
    }

    /// Runs the handler while heartbeating and obeying the credit; ends with the answer sent or
    /// the call cancelled.
    async fn drive(
        &mut self,
        context: &CallContext<'_>,
        mut stage: Stage,
    ) -> Result<Finished, RemoteError> {
        let mut items = 0u64;
        // A handler that answers at once needs no heartbeat: its answer goes out before the
        // clock is first polled, so the clock never arms a timer.
        let method = context.method;
        let mut ready = match &mut stage {
            Stage::Unary(reply) => unwinding(reply, method).now_or_never().map(Produced::Reply),
            _ => None,
        };
        loop {
            let produced = match ready.take() {
                Some(produced) => produced,
                None => {
                    let produce = async {
                        match &mut stage {
                            Stage::Unary(reply) => Produced::Reply(unwinding(reply, method).await),
                            Stage::Starting(start) => {
                                Produced::Started(unwinding(start, method).await)
                            }
                            Stage::Streaming(stream) => Produced::Item(
                                unwinding(stream.next().map(Ok), method)
                                    .await
                                    .unwrap_or_else(|panic| Some(Err(panic))),
                            ),
                        }
                    };
                    tokio::select! {
                        biased;
                        signal = self.caller_signal() => match self.heed(signal, method).await {
                            Some(reason) => return Ok(Finished::Cancelled(reason)),
                            None => continue,
                        },
                        produced = produce, if self.credit > 0 => produced,
                    }
                }
            };
            match produced {
                Produced::Reply(Ok(value)) => {
                    return match self.send_value(event::OK, value, true).await {
                        Ok(sent) => Ok(Finished::Returned(sent)),
                        Err(error) => {
                            self.send_error(context, &error).await;
                            Err(error)
                        }
                    };
                }
                Produced::Started(Ok(stream)) => stage = Stage::Streaming(stream),
                Produced::Item(Some(Ok(item))) => {
                    if let Err(error) = self.send_value(event::STREAM, item, false).await {
                        self.send_error(context, &error).await;
                        return Err(error);
                    }
                    items += 1;
                }
                Produced::Item(None) => {
                    self.send(event::STREAM_DONE, &[0xc0]).await;
                    return Ok(Finished::Streamed(items));
                }
                Produced::Reply(Err(error))
                | Produced::Started(Err(error))
                | Produced::Item(Some(Err(error))) => {
                    self.send_error(context, &error).await;
                    return Err(error);
                }
            }
        }
    }

    /// Under the server's concurrency limit, waits for a permit to run the handler of `request`,
    /// keeping the channel alive meanwhile; fails with the reason when the call must end first
    /// (the caller was lost, or the server stopped). Without a limit, for introspection and for
    /// a request that is answered with an error at once, there is nothing to wait for (`None`).
    async fn wait_for_turn(
        &mut self,
        shared: &Shared,
        request: &Request,
        method: &str,
    ) -> Result<Option<OwnedSemaphorePermit>, String> {
        let (Request::Event(_), Some(turns)) = (request, &shared.turns) else {
            return Ok(None);
        };
        if introspection::answers(method) {
            return Ok(None);
        }
        loop {
            tokio::select! {
                biased;
                signal = self.caller_signal() => if let Some(reason) = self.heed(signal, method).await {
                    return Err(reason);
                },
                turn = turns.clone().acquire_owned() => {
                    return turn.map(Some).map_err(|_| "the server stopped".to_string());
                }
            }
        }
    }

    /// Waits for what the channel asks of the call while its handler runs or waits: a wake-up
    /// (credit, or cancellation) or a tick of its heartbeat clock.
    async fn caller_signal(&mut self) -> CallerSignal {
        tokio::select! {
            biased;
            () = self.signals.wake.notified() => CallerSignal::Woken,
            beat = self.clock.tick(&self.signals.heard) => CallerSignal::Beat(beat),
        }
    }

    /// Acts on a [`CallerSignal`]: takes credit, sends a heartbeat, or says why the call must
    /// end.
    async fn heed(&mut self, signal: CallerSignal, method: &str) -> Option<String> {
        match signal {
            CallerSignal::Woken => {
                if self.signals.cancelled.load(Ordering::Acquire) {
                    return Some("the server stopped".into());
                }
                let granted = self.signals.granted.swap(0, Ordering::Acquire);
                self.credit = self.credit.saturating_add(granted);
                None
            }
            CallerSignal::Beat(Beat::Send) => {
                self.send_heartbeat().await;
                None
            }
            CallerSignal::Beat(Beat::Lost) => {
                let lost = self.clock.interval().unwrap_or_default() * 2;
                let reason = format!("lost the caller (no heartbeat for {lost:?})");
                self.signals.cancel();
                tracing::warn!(target: "rpcgen", method, %reason, "cancelling call");
                Some(reason)
            }
        }
    }

    /// Sends `OK [value]` (`wrap`) or `STREAM value`, unless it is too large.
    /// Returns the value as sent.
    async fn send_value(
        &mut self,
        name: &str,
        mut value: EncodedValue,
        wrap: bool,
    ) -> Result<Bytes, RemoteError> {
        let limit = self.shared.config.max_message_size;
        let mut prefix = self.frame_prefix(name, 1);
        if wrap {
            prefix.push(0x91);
        }
        let size = prefix.len() + value.value().len();
        if size > limit {
            return Err(RemoteError::new(
                "MessageTooLarge",
                format!("the reply is {size} bytes, above the server's limit of {limit} bytes"),
            ));
        }
        let source = value.take_source();
        let (payload, value) = value.into_event(&prefix);
        self.deliver(payload.clone(), true).await;
        if let Some(source) = source {
            if name == event::OK {
                // A call's answer is queued: let the socket's writer send it before the value
                // is freed. A stream item is freed at once: the next one is on its way.
                tokio::task::yield_now().await;
            }
            drop(source);
        }
        Ok(payload.slice(value))
    }

    async fn send_error(&mut self, context: &CallContext<'_>, error: &RemoteError) {
        for middleware in &self.shared.middleware {
            middleware.on_error(context, error);
        }
        let mut args = Vec::new();
        let encoded = (&error.name, &error.message, &error.traceback).encode_arguments(&mut args);
        debug_assert!(encoded.is_ok(), "strings always encode");
        self.send(event::ERR, &args).await;
    }

    async fn send_heartbeat(&mut self) {
        let payload = self.frame(event::HEARTBEAT, &[0x91, 0x00]);
        self.deliver(payload.into(), false).await;
    }

    async fn send(&mut self, name: &str, args: &[u8]) {
        let payload = self.frame(name, args);
        self.deliver(payload.into(), true).await;
    }

    fn frame(&self, name: &str, args: &[u8]) -> Vec<u8> {
        let mut payload = self.frame_prefix(name, args.len());
        payload.extend_from_slice(args);
        payload
    }

    /// An event of this channel up to its arguments, with room for `args_capacity` bytes more.
    fn frame_prefix(&self, name: &str, args_capacity: usize) -> Vec<u8> {
        event::reply_prefix(&self.channel_id, name, args_capacity)
    }

    /// Sends an event to the peer, waiting while its queue is full; every event but a
    /// heartbeat consumes one credit.
    async fn deliver(&mut self, payload: Bytes, uses_credit: bool) {
        if uses_credit {
            self.credit = self.credit.saturating_sub(1);
        }
        let mut frames = Vec::with_capacity(self.envelope.len() + 1);
        frames.extend_from_slice(&self.envelope);
        frames.push(payload);
        tokio::select! {
            sent = self.sender.send(frames) => if let Err(error) = sent {
                tracing::debug!(target: "rpcgen", %error, "reply dropped: the caller is gone");
            },
            // Only an error ever comes: the server stopped, and the reply is abandoned.
            _ = self.server_alive.changed() => {}
        }
    }
}

/// How a call that did not fail ended.
/// What a channel asked of its call (see [`Call::caller_signal`]).
enum CallerSignal {
    /// The dispatcher woke the call: credit arrived, or the call is cancelled.
    Woken,
    /// The heartbeat clock ticked.
    Beat(Beat),
}

enum Finished {
    /// The value as sent.
    Returned(Bytes),
    Streamed(u64),
    Cancelled(String),
}
