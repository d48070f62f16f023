//! The receiving end of zerorpc's one-way patterns: a [`Listener`] serves a [`Service`] to
//! `Pusher`s (as a `Puller`, on a PULL socket) or to `Publisher`s (as a `Subscriber`, on a SUB
//! socket subscribed to every event), zerorpc's or rpcgen's ([`crate::Pusher`],
//! [`crate::Publisher`]).
//!
//! A one-way event is a request without a channel: `[header, method, args]` in one frame, no
//! reply, no heartbeat. Each event runs its handler on a task of its own, and what the handler
//! returns is dropped. Nothing can be answered, so an event that cannot run (not a zerorpc event,
//! too large, an unknown method, wrong arguments, a streaming method) and a handler's error or
//! panic are logged with `tracing` (target `rpcgen`) and shown to middleware, and the listener
//! goes on.
//!
//! Events run one at a time, in the order they arrive, as zerorpc-python's `Puller` and
//! `Subscriber` run them; [`ListenerBuilder::concurrency`] lets more run at once. While that many
//! run, the listener stops reading and the senders' queues hold the rest.
//!
//! A listener that connects (rather than binds) rebuilds its socket with backoff when the peer
//! goes away, as the client does: the `zeromq` crate does not reconnect a PULL socket.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use rmpv::Value;
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::config::Config;
use crate::error::{RemoteError, SetupError};
use crate::event::{Frame, Header};
use crate::middleware::{in_span, nested_span, CallContext, CallOutcome, Middleware};
use crate::server::{stage, unwinding, Stage};
use crate::service::{CancelFlag, Cancellation, EncodedValue, Service};
use crate::transport::{self, keep_connected, DisconnectWatch, Inbox, InboxKind, CONNECT_ATTEMPT};

/// Builds and starts a [`Listener`]: [`Listener::puller`] or [`Listener::subscriber`].
pub struct ListenerBuilder {
    kind: InboxKind,
    service: Service,
    config: Config,
    middleware: Vec<Arc<dyn Middleware>>,
    binds: Vec<String>,
    connects: Vec<String>,
    concurrency: u32,
}

impl std::fmt::Debug for ListenerBuilder {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ListenerBuilder")
            .field("kind", &self.kind)
            .field("service", &self.service)
            .field("config", &self.config)
            .field("layers", &self.middleware.len())
            .field("binds", &self.binds)
            .field("connects", &self.connects)
            .field("concurrency", &self.concurrency)
            .finish()
    }
}

impl ListenerBuilder {
    /// Lets up to `limit` handlers run at once (at least 1, the default: one at a time, in
    /// order). Events then start in order but may finish in any order.
    pub fn concurrency(mut self, limit: u32) -> Self {
        self.concurrency = limit.max(1);
        self
    }

    /// Sets the maximum event size in bytes (larger events are dropped, with a warning).
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.config.max_message_size = bytes;
        self
    }

    /// Adds a middleware; hooks run in the order layers were added. `before_call`, `after_call`
    /// and `on_error` see every event as a call whose answer goes nowhere.
    pub fn layer(mut self, middleware: impl Middleware) -> Self {
        self.middleware.push(Arc::new(middleware));
        self
    }

    /// Listens on an endpoint (`tcp://127.0.0.1:0` picks a free port; see
    /// [`Listener::endpoints`]); senders connect to it.
    pub fn bind(mut self, endpoint: impl Into<String>) -> Self {
        self.binds.push(endpoint.into());
        self
    }

    /// Connects to a sender that binds. Never waits for it: the connection is made, and remade
    /// after the sender restarts, in the background.
    pub fn connect(mut self, endpoint: impl Into<String>) -> Self {
        self.connects.push(endpoint.into());
        self
    }

    /// Opens the sockets and starts handling events.
    pub async fn start(self) -> Result<Listener, SetupError> {
        transport::check_startable(&self.binds, &self.connects)?;
        for endpoint in &self.connects {
            transport::validate_endpoint(endpoint)?;
        }
        let (stop, stopped) = watch::channel(false);
        let shared = Arc::new(Shared {
            service: self.service,
            config: self.config,
            middleware: self.middleware,
            in_flight: Arc::new(Semaphore::new(self.concurrency as usize)),
            concurrency: self.concurrency,
            cancel: Arc::new(watch::channel(false).0),
            stopped,
        });
        let mut readers = Vec::new();
        let mut endpoints = Vec::new();
        if !self.binds.is_empty() {
            let limit = shared.config.max_message_size;
            let (inbox, bound) = transport::bind_inbox(self.kind, &self.binds, limit).await?;
            endpoints = bound;
            readers.push(tokio::spawn(read(shared.clone(), inbox)));
        }
        for endpoint in self.connects {
            endpoints.push(endpoint.clone());
            readers.push(tokio::spawn(read_connected(
                shared.clone(),
                self.kind,
                endpoint,
            )));
        }
        Ok(Listener {
            endpoints,
            stop,
            shared,
            readers,
        })
    }
}

/// A running one-way listener. Dropping it stops reading at once (handlers already running
/// finish); [`Listener::shutdown`] also waits for them.
///
/// ```no_run
/// use rpcgen_runtime::{Listener, MethodInfo, RemoteError, Service};
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let service = Service::new("Jobs").unary(MethodInfo::new("resize").param("path"), |args| {
///     async move {
///         let path: String = args.get(0)?;
///         println!("resizing {path}");
///         Ok::<_, RemoteError>(())
///     }
/// });
/// // zerorpc-python: zerorpc.Pusher().connect("tcp://127.0.0.1:4243"), then .resize("a.png")
/// let puller = Listener::puller(service).bind("tcp://127.0.0.1:4243").start().await?;
/// # puller.shutdown().await;
/// # Ok(())
/// # }
/// ```
pub struct Listener {
    endpoints: Vec<String>,
    stop: watch::Sender<bool>,
    shared: Arc<Shared>,
    readers: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Listener")
            .field("endpoints", &self.endpoints)
            .finish_non_exhaustive()
    }
}

impl Listener {
    /// zerorpc's `Puller`: takes its share of the events of `Pusher`s (PULL).
    pub fn puller(service: Service) -> ListenerBuilder {
        Self::builder(InboxKind::Pull, service)
    }

    /// zerorpc's `Subscriber`: takes every event `Publisher`s publish (SUB, subscribed to all).
    pub fn subscriber(service: Service) -> ListenerBuilder {
        Self::builder(InboxKind::Sub, service)
    }

    fn builder(kind: InboxKind, service: Service) -> ListenerBuilder {
        ListenerBuilder {
            kind,
            service,
            config: Config::default(),
            middleware: Vec::new(),
            binds: Vec::new(),
            connects: Vec::new(),
            concurrency: 1,
        }
    }

    /// The first endpoint listened on or connected to.
    pub fn endpoint(&self) -> &str {
        &self.endpoints[0]
    }

    /// Every endpoint: those bound (with the ports chosen), then those connected to.
    pub fn endpoints(&self) -> &[String] {
        &self.endpoints
    }

    /// Stops reading, then waits for the handlers still running.
    pub async fn shutdown(self) {
        self.shutdown_within(Duration::MAX).await;
    }

    /// Stops reading, then waits up to `limit` for the handlers still running; then cancels the
    /// rest (async handlers are dropped, blocking ones see their [`Cancellation`] set).
    pub async fn shutdown_within(mut self, limit: Duration) {
        let _ = self.stop.send(true);
        for reader in self.readers.drain(..) {
            let _ = reader.await;
        }
        let finished = self.shared.in_flight.acquire_many(self.shared.concurrency);
        if tokio::time::timeout(limit, finished).await.is_err() {
            tracing::warn!(
                target: "rpcgen",
                "listener shutdown grace period over; cancelling the handlers still running"
            );
            self.shared.cancel.send_replace(true);
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        for reader in &self.readers {
            reader.abort();
        }
    }
}

/// What every reader and handler task of a listener shares.
struct Shared {
    service: Service,
    config: Config,
    middleware: Vec<Arc<dyn Middleware>>,
    /// One permit per handler that may run.
    in_flight: Arc<Semaphore>,
    /// How many permits there are.
    concurrency: u32,
    /// Set when shutdown gave up waiting: handlers' cancellation.
    cancel: Arc<watch::Sender<bool>>,
    /// Becomes true when the listener stops reading.
    stopped: watch::Receiver<bool>,
}

/// Reads a bound inbox until the listener stops.
async fn read(shared: Arc<Shared>, inbox: Inbox) {
    if let Drained::Lost(error) = drain(&shared, inbox, None).await {
        tracing::warn!(target: "rpcgen", %error, "the listener's socket failed");
    }
}

/// Keeps an inbox connected to `endpoint` and reads it until the listener stops, rebuilding it
/// with backoff whenever the peer goes away.
async fn read_connected(shared: Arc<Shared>, kind: InboxKind, endpoint: String) {
    let stopped = shared.stopped.clone();
    let limit = shared.config.max_message_size;
    let connect = || transport::connect_inbox(kind, &endpoint, CONNECT_ATTEMPT, limit);
    let serve = |(inbox, watch)| async {
        match drain(&shared, inbox, Some(watch)).await {
            Drained::Lost(reason) => Some(reason),
            Drained::Stopped => None,
        }
    };
    keep_connected(&endpoint, stopped, connect, serve).await;
}

/// Why [`drain`] stopped reading.
enum Drained {
    /// The listener stopped.
    Stopped,
    /// The socket failed or its peer went away.
    Lost(String),
}

/// Hands every event of `inbox` to a handler until the listener stops or the socket is lost
/// (its receive fails, or `watch` sees its peer go).
async fn drain(
    shared: &Arc<Shared>,
    mut inbox: Inbox,
    mut watch: Option<DisconnectWatch>,
) -> Drained {
    let mut stopped = shared.stopped.clone();
    loop {
        let Some(permit) = permit(shared, &mut stopped).await else {
            return Drained::Stopped;
        };
        let peer_gone = async {
            match &mut watch {
                Some(watch) => watch.disconnected().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            received = inbox.recv() => match received {
                Ok(payload) => spawn_handler(shared, payload, permit),
                Err(error) => return Drained::Lost(error),
            },
            () = peer_gone => return Drained::Lost("the sender went away".to_string()),
            _ = stopped.wait_for(|stopped| *stopped) => return Drained::Stopped,
        }
    }
}

/// A permit to run one more handler, once fewer than the listener's concurrency run; `None`
/// when the listener stopped first.
async fn permit(
    shared: &Shared,
    stopped: &mut watch::Receiver<bool>,
) -> Option<OwnedSemaphorePermit> {
    tokio::select! {
        permit = shared.in_flight.clone().acquire_owned() => permit.ok(),
        _ = stopped.wait_for(|stopped| *stopped) => None,
    }
}

fn spawn_handler(shared: &Arc<Shared>, payload: Bytes, permit: OwnedSemaphorePermit) {
    tokio::spawn(handle(shared.clone(), payload, permit));
}

/// Runs one event's handler and reports how it ended.
async fn handle(shared: Arc<Shared>, payload: Bytes, _permit: OwnedSemaphorePermit) {
    let size = payload.len();
    let frame = match Frame::parse(payload) {
        Ok(frame) => frame,
        Err(unparsed) => {
            tracing::warn!(
                target: "rpcgen",
                reason = %unparsed.error,
                bytes = size,
                "dropping a message that is not a zerorpc event"
            );
            return;
        }
    };
    // Middleware sees the header and arguments as dynamic values: decode them only for it.
    let observed = !shared.middleware.is_empty();
    let (header, args) = if observed {
        (frame.header(), frame.args_value())
    } else {
        (Header::default(), Value::Nil)
    };
    let context = CallContext {
        method: frame.name(),
        header: &header,
        args: &args,
        info: observed
            .then(|| shared.service.registered(frame.name()))
            .flatten(),
    };
    let span = nested_span(&shared.middleware, |layer| layer.call_span(&context));
    let serve = async {
        for middleware in &shared.middleware {
            middleware.before_call(&context);
        }
        let started = Instant::now();
        let outcome = run(&shared, &frame, size).await;
        let elapsed = started.elapsed();
        let returned;
        let outcome = match &outcome {
            Ok(value) => {
                returned = if observed {
                    crate::value::read_value(&mut value.value()).unwrap_or(Value::Nil)
                } else {
                    Value::Nil
                };
                CallOutcome::Returned(&returned)
            }
            Err(Ended::Failed(error)) => {
                tracing::warn!(
                    target: "rpcgen",
                    method = frame.name(),
                    error = %error,
                    "a one-way event failed; nobody can be told"
                );
                for middleware in &shared.middleware {
                    middleware.on_error(&context, error);
                }
                CallOutcome::Failed(error)
            }
            Err(Ended::Cancelled) => CallOutcome::Cancelled {
                reason: "the listener stopped without waiting for the handler",
            },
        };
        for middleware in &shared.middleware {
            middleware.after_call(&context, &outcome, elapsed);
        }
    };
    in_span(span, serve).await;
}

/// How an event's handler ended, when it did not return.
enum Ended {
    Failed(RemoteError),
    Cancelled,
}

/// Checks the event and runs its handler; returns its encoded result, which nobody receives.
async fn run(shared: &Shared, frame: &Frame, size: usize) -> Result<EncodedValue, Ended> {
    let limit = shared.config.max_message_size;
    if size > limit {
        return Err(Ended::Failed(RemoteError::new(
            "MessageTooLarge",
            format!("the event is {size} bytes, above the listener's limit of {limit} bytes"),
        )));
    }
    let cancellation = Cancellation::new(shared.cancel.clone());
    let reply = match stage(&shared.service, frame, cancellation).map_err(Ended::Failed)? {
        Stage::Unary(reply) => reply,
        Stage::Starting(_) | Stage::Streaming(_) => {
            return Err(Ended::Failed(RemoteError::new(
                "TypeError",
                format!(
                    "`{}` answers with a stream, which a one-way event cannot read",
                    frame.name()
                ),
            )))
        }
    };
    let mut cancelled = shared.cancel.subscribe();
    tokio::select! {
        result = unwinding(reply, frame.name()) => result.map_err(Ended::Failed),
        _ = cancelled.wait_for(|cancelled| *cancelled) => Err(Ended::Cancelled),
    }
}

/// A listener's cancellation: set when its shutdown stops waiting for handlers.
impl CancelFlag for watch::Sender<bool> {
    fn is_set(&self) -> bool {
        *self.borrow()
    }
}
