//! The zerorpc client: one DEALER connection that multiplexes any number of concurrent calls.
//!
//! A [`Client`] is a cheap handle (`Clone + Send + Sync`) on a connection task. Creating it never
//! blocks: the task connects in the background, and calls made before the server is up wait for
//! it within their timeout (the [`CallError::Timeout`] of a client that never connected says so).
//! A client of several servers ([`ClientBuilder::add_endpoint`]) has a connection task for each
//! and spreads its calls over those that are connected; every event of a call (its heartbeats and
//! stream credits too) stays on the connection it was sent on. The `zeromq` crate never
//! reconnects a DEALER, so the task watches the connection (disconnect events, send errors,
//! heartbeat loss with nothing received) and rebuilds the socket with backoff; calls in flight on
//! a lost connection end in [`CallError::LostRemote`], later calls go to the new connection.
//!
//! Each call is a channel that ends in a value, an error, a timeout or a lost remote, unless its
//! caller drops it first (middleware hears of each end once, of a dropped call as
//! [`RequestOutcome::Cancelled`]). The connection task keeps the heartbeats of all its channels
//! with one clock: every interval it sends `_zpc_hb` on each open channel and ends those whose
//! server has gone silent. Streams forward their items from a background task while the consumer
//! grants credit as it takes them, so a slow consumer bounds what is buffered.

use std::collections::VecDeque;
use std::marker::PhantomData;
use std::ops::Range;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
// Randomly seeded, and faster than SipHash on short ids (see the server).
use foldhash::HashMap;
use futures::Stream;
use rmpv::Value;
use serde::de::DeserializeOwned;
use tokio::sync::{mpsc, oneshot, Notify};
use tokio::time::{Instant, Interval, MissedTickBehavior};

use crate::channel::{CreditWindow, STREAM_WINDOW};
use crate::config::Config;
use crate::error::{CallError, RemoteError, SetupError, STREAM_ANSWER};
use crate::event::{self, Frame, Header};
use crate::middleware::{in_span, nested_span, Middleware, RequestContext, RequestOutcome};
use crate::msgpack::first_item;
use crate::transport::{self, DealerConnection, CONNECT_ATTEMPT, RECONNECT_BACKOFF};
use crate::value::{from_frame, Arguments};

/// Per-call settings that override the client's [`Config`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallOptions {
    /// How long to wait for the first reply; the client's default when `None`.
    pub timeout: Option<Duration>,
    /// The names of the errors the method declares (an IDL method's `throws`), which generated
    /// clients fill in. Middleware reads them in [`RequestContext::errors`]: an `ERR` with one of
    /// them is an answer the caller expects, which [`crate::TracingLayer`] logs at INFO, not WARN.
    pub errors: &'static [&'static str],
}

impl CallOptions {
    /// Options with a timeout.
    pub fn timeout(timeout: Duration) -> Self {
        Self {
            timeout: Some(timeout),
            ..Self::default()
        }
    }
}

/// Builds a [`Client`].
pub struct ClientBuilder {
    endpoints: Vec<String>,
    config: Config,
    middleware: Vec<Arc<dyn Middleware>>,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ClientBuilder")
            .field("endpoints", &self.endpoints)
            .field("config", &self.config)
            .field("layers", &self.middleware.len())
            .finish()
    }
}

impl ClientBuilder {
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

    /// Sets the default call timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.config.timeout = timeout;
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

    /// Adds another server running the same service. The client keeps a connection to each
    /// server and sends each call to the next connected one in turn (to the next one at all
    /// when none is connected, where the call waits for it; calls waiting for a server move to
    /// another as soon as one is connected). A call's heartbeats and stream credits go to the
    /// server it was sent to, so long calls and streams work on any of them; a zerorpc-python
    /// client connected to several servers spreads those events over all of them, and its
    /// streams stall (two concurrent 1,000-item streams over two servers both ended in
    /// `LostRemote`, measured). Calls in flight on a server that goes away end in
    /// [`CallError::LostRemote`]; later calls go to the others.
    pub fn add_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoints.push(endpoint.into());
        self
    }

    /// Creates the client and starts connecting in the background. Fails only for an invalid
    /// endpoint or outside a Tokio runtime; an unreachable server is not an error, but a call that
    /// times out before the client ever connected says so in its [`CallError::Timeout`].
    pub fn connect(self) -> Result<Client, SetupError> {
        self.config.check()?;
        for endpoint in &self.endpoints {
            transport::validate_endpoint(endpoint)?;
        }
        let runtime =
            tokio::runtime::Handle::try_current().map_err(|_| SetupError::NoTokioRuntime)?;
        let came_up = Arc::new(Notify::new());
        let inner = Arc::new_cyclic(|client: &Weak<Inner>| {
            let connections = self
                .endpoints
                .into_iter()
                .enumerate()
                .map(|(index, endpoint)| {
                    let (outgoing, requests) = mpsc::unbounded_channel();
                    let status = Arc::new(Status::default());
                    runtime.spawn(maintain_connection(
                        ConnectionTask {
                            client: client.clone(),
                            index,
                            endpoint: endpoint.clone(),
                            status: status.clone(),
                            came_up: came_up.clone(),
                        },
                        self.config.clone(),
                        requests,
                    ));
                    Connection {
                        endpoint,
                        outgoing,
                        status,
                    }
                })
                .collect();
            Inner {
                connections,
                next: AtomicUsize::new(0),
                config: self.config,
                middleware: self.middleware,
            }
        });
        Ok(Client { inner })
    }
}

/// A zerorpc client. Clones share one connection; all of them may call concurrently.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    /// One per server; never empty.
    connections: Box<[Connection]>,
    /// Where the search for the next call's connection starts.
    next: AtomicUsize,
    config: Config,
    middleware: Vec<Arc<dyn Middleware>>,
}

/// A connection task, as the client's handles see it.
struct Connection {
    endpoint: String,
    outgoing: mpsc::UnboundedSender<Outgoing>,
    /// Set by the task itself.
    status: Arc<Status>,
}

/// Whether a connection task is connected, and whether it has been.
#[derive(Default)]
struct Status {
    /// Whether the task holds a live connection.
    up: AtomicBool,
    /// Whether it has ever held one.
    reached: AtomicBool,
}

impl Inner {
    /// The connection for the next call: the next connected one in turn, else the next one.
    fn pick(&self) -> usize {
        let count = self.connections.len();
        if count == 1 {
            return 0;
        }
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        self.connected_from(start, None).unwrap_or(start % count)
    }

    /// The first connected connection in turn from `start`, other than `except`.
    fn connected_from(&self, start: usize, except: Option<usize>) -> Option<usize> {
        let count = self.connections.len();
        (start..start + count)
            .map(|turn| turn % count)
            .find(|&index| {
                Some(index) != except && self.connections[index].status.up.load(Ordering::Relaxed)
            })
    }

    /// The error of a call of `method` whose `timeout` expired: it says whether the client has
    /// ever connected.
    fn timeout(&self, method: &str, timeout: Duration) -> CallError {
        let reached = self
            .connections
            .iter()
            .any(|connection| connection.status.reached.load(Ordering::Relaxed));
        CallError::Timeout {
            method: method.to_string(),
            timeout,
            never_connected: (!reached).then(|| {
                self.connections
                    .iter()
                    .map(|connection| connection.endpoint.clone())
                    .collect()
            }),
        }
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Client")
            .field("endpoints", &self.endpoints().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// What callers ask of the connection task.
enum Outgoing {
    /// Send a request and route the channel's events to `inbound`.
    Open {
        /// The request's id as MessagePack: a view of `payload`.
        key: Bytes,
        payload: Bytes,
        inbound: InboundSender,
        /// For a stream, which connection carries it, updated when the request moves to
        /// another one before it is sent (its credits follow).
        carrier: Option<Arc<AtomicUsize>>,
    },
    /// Send a credit on the current connection (dropped while disconnected).
    Control { payload: Bytes },
}

/// Where the connection task delivers a channel's events: a unary call takes one, a stream
/// every event up to its last.
enum InboundSender {
    /// The one answer of a unary call, until it is sent.
    Once(Option<oneshot::Sender<Inbound>>),
    /// The events of a stream.
    Many(mpsc::UnboundedSender<Inbound>),
}

impl InboundSender {
    /// A connected sender and receiver.
    fn pair(stream: bool) -> (Self, InboundReceiver) {
        if stream {
            let (sender, receiver) = mpsc::unbounded_channel();
            (Self::Many(sender), InboundReceiver::Many(receiver))
        } else {
            let (sender, receiver) = oneshot::channel();
            (Self::Once(Some(sender)), InboundReceiver::Once(receiver))
        }
    }

    /// Delivers `inbound`; returns whether the channel can take more.
    fn send(&mut self, inbound: Inbound) -> bool {
        match self {
            Self::Once(sender) => {
                if let Some(sender) = sender.take() {
                    let _ = sender.send(inbound);
                }
                false
            }
            Self::Many(sender) => sender.send(inbound).is_ok(),
        }
    }

    /// Whether the channel's caller has gone.
    fn is_closed(&self) -> bool {
        match self {
            Self::Once(sender) => sender.as_ref().is_none_or(oneshot::Sender::is_closed),
            Self::Many(sender) => sender.is_closed(),
        }
    }
}

/// The caller's end of [`InboundSender`].
enum InboundReceiver {
    Once(oneshot::Receiver<Inbound>),
    Many(mpsc::UnboundedReceiver<Inbound>),
}

impl InboundReceiver {
    /// The next delivery; `None` when the connection task has dropped the channel.
    async fn recv(&mut self) -> Option<Inbound> {
        match self {
            Self::Once(receiver) => receiver.await.ok(),
            Self::Many(receiver) => receiver.recv().await,
        }
    }
}

/// What the connection task tells a channel.
enum Inbound {
    /// An event of the channel, boxed to keep the channel's blocks small.
    Event(Box<Frame>),
    /// The reply was larger than the maximum message size.
    TooLarge(usize),
    /// The connection was lost.
    Lost(String),
    /// The server answered with an event whose header names the call but whose name cannot be
    /// read (nor, so, what kind of event it was); why.
    Unreadable(String),
}

impl Client {
    /// Creates a client for `endpoint` with the default configuration (see [`ClientBuilder::connect`]).
    pub fn connect(endpoint: impl Into<String>) -> Result<Self, SetupError> {
        Self::builder(endpoint).connect()
    }

    /// Starts building a client.
    pub fn builder(endpoint: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            endpoints: vec![endpoint.into()],
            config: Config::default(),
            middleware: Vec::new(),
        }
    }

    /// The endpoint this client connects to (the first one, for a client of several servers).
    pub fn endpoint(&self) -> &str {
        &self.inner.connections[0].endpoint
    }

    /// Every endpoint this client connects to, in the order they were given.
    pub fn endpoints(&self) -> impl Iterator<Item = &str> {
        self.inner
            .connections
            .iter()
            .map(|connection| connection.endpoint.as_str())
    }

    /// Calls `method` with positional `args` and decodes the result as `R`.
    pub async fn call<R: DeserializeOwned + 'static, A: Arguments>(
        &self,
        method: &str,
        args: A,
    ) -> Result<R, CallError> {
        self.call_with(method, args, CallOptions::default()).await
    }

    /// Like [`Client::call`], with per-call options.
    pub async fn call_with<R: DeserializeOwned + 'static, A: Arguments>(
        &self,
        method: &str,
        args: A,
        options: CallOptions,
    ) -> Result<R, CallError> {
        in_span(self.request_span(method), self.unary(method, args, options)).await
    }

    /// [`Client::call_with`], in the request's span.
    async fn unary<R: DeserializeOwned + 'static, A: Arguments>(
        &self,
        method: &str,
        args: A,
        options: CallOptions,
    ) -> Result<R, CallError> {
        let mut request = self.open(method, &args, options.errors, false)?;
        let timeout = options.timeout.unwrap_or(self.inner.config.timeout);
        let reply = match tokio::time::timeout(timeout, request.channel.next(method)).await {
            Err(_) => Err(self.inner.timeout(method, timeout)),
            Ok(Err(error)) => Err(error),
            Ok(Ok(event)) => unary_reply(method, &event),
        };
        if request.report.is_pending() {
            let returned = match &reply {
                Ok(value) => Ok(crate::value::read_value(&mut &value[..]).unwrap_or(Value::Nil)),
                Err(error) => Err(error),
            };
            request.report.finish(match &returned {
                Ok(value) => RequestOutcome::Returned(value),
                Err(error) => RequestOutcome::Failed(error),
            });
        }
        decode(method, &reply?)
    }

    /// Calls a streaming method; resolves when the first reply arrives (within the timeout),
    /// then yields items as the server sends them. Later items wait without a time limit, but a
    /// lost server still ends the stream.
    pub async fn call_stream<T: DeserializeOwned + 'static, A: Arguments>(
        &self,
        method: &str,
        args: A,
    ) -> Result<CallStream<T>, CallError> {
        self.call_stream_with(method, args, CallOptions::default())
            .await
    }

    /// Like [`Client::call_stream`], with per-call options.
    pub async fn call_stream_with<T: DeserializeOwned + 'static, A: Arguments>(
        &self,
        method: &str,
        args: A,
        options: CallOptions,
    ) -> Result<CallStream<T>, CallError> {
        let opening = self.open_stream(method, args, options);
        in_span(self.request_span(method), opening).await
    }

    /// [`Client::call_stream_with`], in the request's span.
    async fn open_stream<T: DeserializeOwned + 'static, A: Arguments>(
        &self,
        method: &str,
        args: A,
        options: CallOptions,
    ) -> Result<CallStream<T>, CallError> {
        let request = self.open(method, &args, options.errors, true)?;
        let (forward, items) = mpsc::channel(STREAM_WINDOW as usize + 2);
        let channel_id = request.channel.id.clone();
        let Request {
            channel,
            carrier,
            mut report,
        } = request;
        // `open` gives every stream a carrier.
        let carrier = carrier.unwrap_or_default();
        tokio::spawn(pump(channel, method.to_string(), forward));
        let mut stream = CallStream {
            client: self.inner.clone(),
            carrier,
            method: method.to_string(),
            channel_id,
            items,
            window: CreditWindow::default(),
            credit_checked: false,
            buffered: None,
            finished: false,
            item: PhantomData,
        };
        let timeout = options.timeout.unwrap_or(self.inner.config.timeout);
        let first = match tokio::time::timeout(timeout, stream.take()).await {
            Ok(first) => first,
            Err(_) => Some(Err(self.inner.timeout(method, timeout))),
        };
        report.finish(match &first {
            Some(Err(error)) => RequestOutcome::Failed(error),
            _ => RequestOutcome::StreamOpened,
        });
        stream.buffered = match first {
            Some(Err(error)) => return Err(error),
            first => Some(first),
        };
        Ok(stream)
    }

    /// The span a request for `method` runs in (see [`Middleware::request_span`]).
    fn request_span(&self, method: &str) -> tracing::Span {
        nested_span(&self.inner.middleware, |layer| layer.request_span(method))
    }

    /// The header entries the middleware adds to a request for `method`: the last value of
    /// each key, without the protocol's own keys.
    fn header_extras(&self, method: &str) -> Header {
        let mut extras = Header::default();
        for middleware in &self.inner.middleware {
            for (key, value) in middleware.request_header(method) {
                if event::is_protocol_key(&key) {
                    tracing::debug!(target: "rpcgen", key, "ignoring a protocol key from middleware");
                } else {
                    extras.insert(&key, value);
                }
            }
        }
        extras
    }

    /// Encodes and sends a request, returning its open channel, which takes one answer or, for
    /// a `stream`, many events. Middleware sees the request begin once it is encoded, with the
    /// `errors` the method declares.
    fn open<A: Arguments>(
        &self,
        method: &str,
        args: &A,
        errors: &'static [&'static str],
        stream: bool,
    ) -> Result<Request, CallError> {
        let started = Instant::now();
        let extras = self.header_extras(method);
        let (payload, id) =
            encode_request(method, &extras, args, self.inner.config.max_message_size)?;
        let id = payload.slice(id);
        let mut report = Report::begin(&self.inner, method, errors, &payload, started);
        let (inbound_sender, inbound) = InboundSender::pair(stream);
        let connection = self.inner.pick();
        let carrier = stream.then(|| Arc::new(AtomicUsize::new(connection)));
        let opened = self.inner.connections[connection]
            .outgoing
            .send(Outgoing::Open {
                key: id.clone(),
                payload,
                inbound: inbound_sender,
                carrier: carrier.clone(),
            });
        if opened.is_err() {
            let error = lost(
                method,
                "the client's connection task has stopped".to_string(),
            );
            report.finish(RequestOutcome::Failed(&error));
            return Err(error);
        }
        Ok(Request {
            channel: Channel {
                client: self.inner.clone(),
                id,
                inbound,
            },
            carrier,
            report,
        })
    }
}

/// Encodes a request event of `method` with a fresh message id, the `extras` in its header and
/// `args`; returns it with where its id (as MessagePack) lies. Fails when the arguments cannot be
/// encoded or the event is larger than `limit` bytes.
pub(crate) fn encode_request<A: Arguments>(
    method: &str,
    extras: &Header,
    args: &A,
    limit: usize,
) -> Result<(Bytes, Range<usize>), CallError> {
    // Room for small arguments; larger ones grow the buffer once.
    let (mut payload, id) = event::request_prefix(method, extras, 64);
    args.encode_arguments(&mut payload)
        .map_err(|source| CallError::Encode {
            method: method.to_string(),
            source,
        })?;
    if payload.len() > limit {
        return Err(CallError::TooLarge {
            method: method.to_string(),
            what: "request",
            size: payload.len(),
            limit,
        });
    }
    Ok((Bytes::from(payload), id))
}

/// A request in flight.
struct Request {
    channel: Channel,
    /// For a stream, which of the client's connections carries it.
    carrier: Option<Arc<AtomicUsize>>,
    report: Report,
}

/// Tells the client's middleware how a request ended ([`Middleware::after_request`]), exactly
/// once for each request it saw begin: with [`Report::finish`], else as
/// [`RequestOutcome::Cancelled`] when dropped, which is what happens when the caller drops the
/// call before it ends. Holds nothing when the client has no middleware.
struct Report(Option<Pending>);

/// A request that middleware saw begin, and not yet end.
struct Pending {
    client: Arc<Inner>,
    request: OwnedRequest,
    started: Instant,
}

impl Report {
    /// Shows middleware the request encoded in `payload` ([`Middleware::before_request`]).
    fn begin(
        client: &Arc<Inner>,
        method: &str,
        errors: &'static [&'static str],
        payload: &Bytes,
        started: Instant,
    ) -> Self {
        if client.middleware.is_empty() {
            return Self(None);
        }
        // Our own request always parses; middleware sees it as dynamic values.
        let (header, args) = Frame::parse(payload.clone())
            .map(|frame| (frame.header(), frame.args_value()))
            .unwrap_or((Header::default(), Value::Nil));
        let request = OwnedRequest {
            method: method.to_string(),
            header,
            args,
            errors,
        };
        for middleware in &client.middleware {
            middleware.before_request(&request.borrow());
        }
        Self(Some(Pending {
            client: client.clone(),
            request,
            started,
        }))
    }

    /// Whether middleware still waits for the request's outcome.
    fn is_pending(&self) -> bool {
        self.0.is_some()
    }

    /// Shows middleware how the request ended, unless it has been shown already.
    fn finish(&mut self, outcome: RequestOutcome<'_>) {
        let Some(Pending {
            client,
            request,
            started,
        }) = self.0.take()
        else {
            return;
        };
        let elapsed = started.elapsed();
        for layer in &client.middleware {
            layer.after_request(&request.borrow(), &outcome, elapsed);
        }
    }
}

impl Drop for Report {
    fn drop(&mut self) {
        self.finish(RequestOutcome::Cancelled);
    }
}

/// A request as middleware sees it.
struct OwnedRequest {
    method: String,
    header: Header,
    args: Value,
    errors: &'static [&'static str],
}

impl OwnedRequest {
    fn borrow(&self) -> RequestContext<'_> {
        RequestContext {
            method: &self.method,
            header: &self.header,
            args: &self.args,
            errors: self.errors,
        }
    }
}

/// Reads the value of an `OK` (as MessagePack), or the error of an `ERR`.
fn unary_reply(method: &str, event: &Frame) -> Result<Bytes, CallError> {
    match event.name() {
        event::OK => ok_value(method, event.args()),
        event::ERR => Err(remote_error(method, event)),
        event::STREAM | event::STREAM_DONE => Err(CallError::Protocol {
            method: method.to_string(),
            detail: STREAM_ANSWER.to_string(),
        }),
        other => Err(unexpected(method, other)),
    }
}

/// The value of `OK [value]`, as MessagePack.
fn ok_value(method: &str, args: Bytes) -> Result<Bytes, CallError> {
    match first_item(&args) {
        Ok(value) => Ok(args.slice_ref(value)),
        Err(kind) => Err(CallError::Protocol {
            method: method.to_string(),
            detail: format!("OK carried {kind} instead of [value]"),
        }),
    }
}

/// Decodes a result or a stream item (a [`Bytes`] one is a view of the received bytes).
fn decode<T: DeserializeOwned + 'static>(method: &str, value: &Bytes) -> Result<T, CallError> {
    from_frame(value, value).map_err(|source| CallError::Decode {
        method: method.to_string(),
        source,
    })
}

fn unexpected(method: &str, name: &str) -> CallError {
    CallError::Protocol {
        method: method.to_string(),
        detail: format!("unexpected event `{name}`"),
    }
}

/// The name of a remote error whose `ERR` reply names none.
const UNNAMED_ERROR: &str = "Error";

/// Reads `[name, message, traceback]` (a part that is missing or not text takes its default:
/// the name `Error`, an empty message, no traceback; parts after the third are ignored), or protocol
/// v1's `[message]`, named `Error`. The TS and Python runtimes read it the same way.
fn remote_error(method: &str, event: &Frame) -> CallError {
    let args = event.args_value();
    let text = |value: Option<&Value>| {
        value.and_then(|value| match value {
            Value::String(text) => text.as_str().map(str::to_string),
            Value::Binary(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
            _ => None,
        })
    };
    let parts = args.as_array().map(Vec::as_slice).unwrap_or_default();
    let error = match parts {
        [message] => RemoteError::new(UNNAMED_ERROR, text(Some(message)).unwrap_or_default()),
        _ => RemoteError {
            name: text(parts.first()).unwrap_or_else(|| UNNAMED_ERROR.to_string()),
            message: text(parts.get(1)).unwrap_or_default(),
            traceback: text(parts.get(2)),
        },
    };
    CallError::Remote {
        method: method.to_string(),
        error,
    }
}

/// The caller's end of one channel.
struct Channel {
    client: Arc<Inner>,
    /// The channel's id as MessagePack.
    id: Bytes,
    inbound: InboundReceiver,
}

impl Channel {
    /// Waits for the channel's next event (the connection task keeps heartbeats to itself).
    async fn next(&mut self, method: &str) -> Result<Frame, CallError> {
        match self.inbound.recv().await {
            Some(Inbound::Event(event)) => Ok(*event),
            Some(Inbound::TooLarge(size)) => Err(CallError::TooLarge {
                method: method.to_string(),
                what: "reply",
                size,
                limit: self.client.config.max_message_size,
            }),
            Some(Inbound::Lost(reason)) => Err(lost(method, reason)),
            Some(Inbound::Unreadable(reason)) => Err(CallError::Protocol {
                method: method.to_string(),
                detail: format!("the server's answer cannot be read: {reason}"),
            }),
            None => Err(lost(
                method,
                "the client's connection task has stopped".into(),
            )),
        }
    }
}

fn lost(method: &str, reason: String) -> CallError {
    CallError::LostRemote {
        method: method.to_string(),
        reason,
    }
}

fn send_control(connection: &Connection, channel_id: &[u8], name: &str, number: u64) {
    let _ = connection.outgoing.send(Outgoing::Control {
        payload: control_event(channel_id, name, number),
    });
}

/// `name [number]` on a channel: a heartbeat or a credit.
fn control_event(channel_id: &[u8], name: &str, number: u64) -> Bytes {
    // Args `[number]`: a one-element array then an integer of at most 9 bytes.
    let mut payload = event::reply_prefix(channel_id, name, 10);
    payload.push(0x91);
    let _ = rmp::encode::write_uint(&mut payload, number);
    Bytes::from(payload)
}

/// Forwards a stream's events to its consumer until the stream ends (or the consumer goes).
async fn pump(mut channel: Channel, method: String, items: mpsc::Sender<Result<Frame, CallError>>) {
    loop {
        let next = tokio::select! {
            () = items.closed() => return,
            next = channel.next(&method) => next,
        };
        let last = !matches!(&next, Ok(event) if event.name() == event::STREAM);
        match items.try_send(next) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                let overflow = CallError::Protocol {
                    method,
                    detail: "the server sent more items than the stream credit allowed".into(),
                };
                let _ = items.send(Err(overflow)).await;
                return;
            }
            Err(mpsc::error::TrySendError::Closed(_)) => return,
        }
        if last {
            return;
        }
    }
}

/// The items of a streaming call. Taking an item grants the server credit for more, so a slow
/// consumer keeps at most 100 items buffered.
pub struct CallStream<T> {
    client: Arc<Inner>,
    /// Which of the client's connections carries the stream.
    carrier: Arc<AtomicUsize>,
    method: String,
    channel_id: Bytes,
    items: mpsc::Receiver<Result<Frame, CallError>>,
    window: CreditWindow,
    credit_checked: bool,
    buffered: Option<Option<Result<T, CallError>>>,
    finished: bool,
    item: PhantomData<fn() -> T>,
}

// Items are only moved in and out, never pinned, so the stream is `Unpin` whatever `T` is.
impl<T> Unpin for CallStream<T> {}

impl<T> std::fmt::Debug for CallStream<T> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("CallStream")
            .field("method", &self.method)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl<T: DeserializeOwned + 'static> CallStream<T> {
    /// Takes the next item, for the first reply.
    async fn take(&mut self) -> Option<Result<T, CallError>> {
        std::future::poll_fn(|context| self.poll_take(context)).await
    }

    fn poll_take(&mut self, context: &mut Context<'_>) -> Poll<Option<Result<T, CallError>>> {
        if self.finished {
            return Poll::Ready(None);
        }
        if !self.credit_checked {
            if let Some(grant) = self.window.before_take() {
                let connection = &self.client.connections[self.carrier.load(Ordering::Relaxed)];
                send_control(connection, &self.channel_id, event::MORE, grant);
            }
            self.credit_checked = true;
        }
        let next = match self.items.poll_recv(context) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(next) => next,
        };
        self.credit_checked = false;
        self.window.taken();
        let event = match next {
            Some(Ok(event)) => event,
            Some(Err(error)) => return self.end(Some(Err(error))),
            None => {
                let reason = "the stream ended without STREAM_DONE".to_string();
                let lost = CallError::LostRemote {
                    method: self.method.clone(),
                    reason,
                };
                return self.end(Some(Err(lost)));
            }
        };
        match event.name() {
            event::STREAM => Poll::Ready(Some(decode(&self.method, &event.args()))),
            event::STREAM_DONE => self.end(None),
            // zerorpc-node ends a stream that sent nothing with `OK [nil]` (or `OK [last]`).
            event::OK => match ok_value(&self.method, event.args()) {
                Ok(last) if last[..] == [0xc0] => self.end(None),
                Ok(last) => {
                    let item = decode(&self.method, &last);
                    self.end(Some(item))
                }
                Err(error) => self.end(Some(Err(error))),
            },
            event::ERR => {
                let error = remote_error(&self.method, &event);
                self.end(Some(Err(error)))
            }
            other => {
                let error = unexpected(&self.method, other);
                self.end(Some(Err(error)))
            }
        }
    }

    fn end(&mut self, last: Option<Result<T, CallError>>) -> Poll<Option<Result<T, CallError>>> {
        self.finished = true;
        Poll::Ready(last)
    }
}

impl<T: DeserializeOwned + 'static> Stream for CallStream<T> {
    type Item = Result<T, CallError>;

    fn poll_next(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if let Some(first) = this.buffered.take() {
            return Poll::Ready(first);
        }
        this.poll_take(context)
    }
}

/// Who a connection task is, among the connections of its client.
struct ConnectionTask {
    /// The client, to hand waiting calls to its other connections; weak, so that the task ends
    /// when the last handle on the client is dropped.
    client: Weak<Inner>,
    /// This connection's place in the client's connections.
    index: usize,
    endpoint: String,
    /// What the task tells the client's handles.
    status: Arc<Status>,
    /// Notified by each of the client's tasks when it connects.
    came_up: Arc<Notify>,
}

impl ConnectionTask {
    /// Moves the calls waiting for this server, which is not connected, to a connected one of
    /// the client's other servers, if there is one. They were never sent, so none runs twice.
    fn hand_over(&self, waiting: &mut VecDeque<Outgoing>) {
        let Some(client) = self.client.upgrade().filter(|_| !waiting.is_empty()) else {
            return;
        };
        let mut start = self.index + 1;
        for _ in 0..waiting.len() {
            let Some(other) = client.connected_from(start, Some(self.index)) else {
                return;
            };
            start = other + 1;
            let Some(open) = waiting.pop_front() else {
                return;
            };
            if let Outgoing::Open {
                carrier: Some(carrier),
                ..
            } = &open
            {
                carrier.store(other, Ordering::Relaxed);
            }
            if let Err(mpsc::error::SendError(unsent)) =
                client.connections[other].outgoing.send(open)
            {
                waiting.push_back(unsent);
            }
        }
    }
}

/// The connection task: connects, sends, routes replies to channels, and rebuilds the socket
/// when the server goes away. While not connected, it hands the calls waiting for it to the
/// client's other servers that are. Ends when every handle on the client is gone.
async fn maintain_connection(
    task: ConnectionTask,
    config: Config,
    mut requests: mpsc::UnboundedReceiver<Outgoing>,
) {
    let endpoint = task.endpoint.as_str();
    let mut waiting = VecDeque::new();
    let mut backoff = RECONNECT_BACKOFF.0;
    loop {
        task.hand_over(&mut waiting);
        let attempt = transport::connect_dealer(endpoint, CONNECT_ATTEMPT, config.max_message_size);
        tokio::pin!(attempt);
        let connected = loop {
            tokio::select! {
                connected = &mut attempt => break connected,
                request = requests.recv() => match request {
                    None => return,
                    Some(open @ Outgoing::Open { .. }) => {
                        waiting.push_back(open);
                        task.hand_over(&mut waiting);
                    }
                    Some(Outgoing::Control { .. }) => {}
                },
                () = task.came_up.notified() => task.hand_over(&mut waiting),
            }
        };
        let connection = match connected {
            Ok(connection) => connection,
            Err(error) => {
                tracing::debug!(target: "rpcgen", endpoint, %error, "connection attempt failed");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(RECONNECT_BACKOFF.1);
                continue;
            }
        };
        backoff = RECONNECT_BACKOFF.0;
        tracing::debug!(target: "rpcgen", endpoint, "connected");
        task.status.reached.store(true, Ordering::Relaxed);
        task.status.up.store(true, Ordering::Relaxed);
        task.came_up.notify_waiters();
        let mut session = Session {
            connection,
            channels: HashMap::default(),
            config: &config,
            heartbeat: config.heartbeat.map(|interval| {
                let mut clock = tokio::time::interval_at(Instant::now() + interval, interval);
                clock.set_missed_tick_behavior(MissedTickBehavior::Delay);
                clock
            }),
            last_received: Instant::now(),
            sweep_at: 64,
        };
        let lost = session.serve(&mut waiting, &mut requests).await;
        task.status.up.store(false, Ordering::Relaxed);
        match lost {
            None => return,
            Some(reason) => {
                tracing::info!(target: "rpcgen", endpoint, %reason, "connection lost; reconnecting");
                session.fail_all(&reason);
            }
        }
    }
}

/// One live connection and the channels opened on it.
struct Session<'a> {
    connection: DealerConnection,
    channels: HashMap<Bytes, OpenChannel>,
    config: &'a Config,
    /// Ticks every heartbeat interval, when heartbeats are on.
    heartbeat: Option<Interval>,
    last_received: Instant,
    sweep_at: usize,
}

/// A channel whose request has been sent on the connection.
struct OpenChannel {
    inbound: InboundSender,
    /// When the server last sent a heartbeat on the channel; until its first, one interval
    /// after the request was sent (a server is not expected to beat before that).
    heard: Instant,
}

/// The next tick of the heartbeat clock; never, when heartbeats are off.
async fn next_beat(heartbeat: &mut Option<Interval>) -> Instant {
    match heartbeat {
        Some(clock) => clock.tick().await,
        None => std::future::pending().await,
    }
}

impl Session<'_> {
    /// Serves until the connection is lost (returns why) or every client handle is gone (`None`).
    async fn serve(
        &mut self,
        waiting: &mut VecDeque<Outgoing>,
        requests: &mut mpsc::UnboundedReceiver<Outgoing>,
    ) -> Option<String> {
        while let Some(request) = waiting.pop_front() {
            if let Err(reason) = self.handle(request).await {
                return Some(reason);
            }
        }
        loop {
            let result = tokio::select! {
                request = requests.recv() => match request {
                    None => return None,
                    Some(request) => self.handle(request).await,
                },
                received = self.connection.receiver.recv() => match received {
                    Ok(payload) => {
                        self.last_received = Instant::now();
                        self.route(payload);
                        Ok(())
                    }
                    Err(error) => Err(format!("receiving failed: {error}")),
                },
                () = self.connection.watch.disconnected() => {
                    Err("the server closed the connection".to_string())
                }
                now = next_beat(&mut self.heartbeat) => self.beat(now).await,
            };
            if let Err(reason) = result {
                return Some(reason);
            }
        }
    }

    async fn handle(&mut self, request: Outgoing) -> Result<(), String> {
        match request {
            Outgoing::Open {
                key,
                payload,
                mut inbound,
                ..
            } => {
                if inbound.is_closed() {
                    return Ok(());
                }
                if let Err(reason) = self.send(payload).await {
                    inbound.send(Inbound::Lost(reason.clone()));
                    return Err(reason);
                }
                let grace = self.config.heartbeat.unwrap_or_default();
                let heard = Instant::now() + grace;
                self.channels.insert(key, OpenChannel { inbound, heard });
                if self.channels.len() >= self.sweep_at {
                    self.channels
                        .retain(|_, channel| !channel.inbound.is_closed());
                    self.sweep_at = self.channels.len() * 2 + 64;
                }
                Ok(())
            }
            Outgoing::Control { payload } => self.send(payload).await,
        }
    }

    async fn send(&mut self, payload: Bytes) -> Result<(), String> {
        self.connection
            .sender
            .send(payload)
            .await
            .map_err(|error| format!("sending failed: {error}"))
    }

    /// A heartbeat tick: ends the channels whose server has been silent for two intervals
    /// (and the connection, when nothing at all came for as long), then beats on the others.
    async fn beat(&mut self, now: Instant) -> Result<(), String> {
        let Some(interval) = self.config.heartbeat else {
            return Ok(());
        };
        let silence = interval * 2;
        let mut any_silent = false;
        self.channels.retain(|_, channel| {
            if now.saturating_duration_since(channel.heard) < silence {
                return !channel.inbound.is_closed();
            }
            any_silent = true;
            let reason = format!("no heartbeat from the server for {silence:?}");
            channel.inbound.send(Inbound::Lost(reason));
            false
        });
        if any_silent && self.last_received.elapsed() >= silence {
            return Err(format!(
                "nothing received from the server for {:?}",
                self.last_received.elapsed()
            ));
        }
        let beats: Vec<Bytes> = self
            .channels
            .keys()
            .map(|channel_id| control_event(channel_id, event::HEARTBEAT, 0))
            .collect();
        for payload in beats {
            self.send(payload).await?;
        }
        Ok(())
    }

    /// Hands an event to its channel.
    fn route(&mut self, payload: Bytes) {
        let size = payload.len();
        let event = match Frame::parse(payload) {
            Ok(event) => event,
            Err(unparsed) => {
                let channel = unparsed
                    .response_to
                    .and_then(|channel_id| self.channels.remove(&channel_id));
                match channel {
                    Some(mut channel) => {
                        channel
                            .inbound
                            .send(Inbound::Unreadable(unparsed.error.reason));
                    }
                    None => tracing::warn!(
                        target: "rpcgen", reason = %unparsed.error, "dropping a message that is not a zerorpc event"
                    ),
                }
                return;
            }
        };
        let Some(key) = event.response_to() else {
            tracing::debug!(target: "rpcgen", name = event.name(), "dropping an event without response_to");
            return;
        };
        let Some(channel) = self.channels.get_mut(&key) else {
            tracing::debug!(target: "rpcgen", name = event.name(), "dropping an event for a call that has ended");
            return;
        };
        let name = event.name();
        if name == event::HEARTBEAT {
            channel.heard = self.last_received;
            return;
        }
        if name == event::MORE {
            return;
        }
        let last = matches!(name, event::OK | event::ERR | event::STREAM_DONE);
        let takes_more = if size > self.config.max_message_size {
            channel.inbound.send(Inbound::TooLarge(size));
            false
        } else {
            channel.inbound.send(Inbound::Event(Box::new(event)))
        };
        if last || !takes_more {
            self.channels.remove(&key);
        }
    }

    /// Ends every open channel with a lost remote.
    fn fail_all(&mut self, reason: &str) {
        for (_, mut channel) in self.channels.drain() {
            channel.inbound.send(Inbound::Lost(format!(
                "the connection to the server was lost ({reason})"
            )));
        }
    }
}

#[cfg(test)]
mod tests {
    use rmpv::Value;

    use super::*;
    use crate::event::Event;

    /// The name, message and traceback a client reads from an `ERR` reply with `args`.
    fn parts(args: Value) -> (String, String, Option<String>) {
        let frame = Frame::parse(Bytes::from(Event::new("ERR", args).encode())).unwrap();
        let CallError::Remote { error, .. } = remote_error("m", &frame) else {
            panic!("an ERR reply is a remote error");
        };
        (error.name, error.message, error.traceback)
    }

    #[test]
    fn err_parts_that_are_missing_or_not_text_take_the_defaults_of_every_runtime() {
        let text = |text: &str| Value::from(text);
        let owned = |name: &str, message: &str| (name.to_string(), message.to_string(), None);
        assert_eq!(
            parts(Value::Array(vec![text("ValueError"), text("bad")])),
            owned("ValueError", "bad")
        );
        assert_eq!(
            parts(Value::Array(vec![
                Value::from(7),
                text("message"),
                Value::from(8)
            ])),
            owned("Error", "message")
        );
        assert_eq!(parts(Value::Array(vec![])), owned("Error", ""));
        assert_eq!(parts(Value::Nil), owned("Error", ""));
        assert_eq!(
            parts(Value::Array(vec![Value::Binary(b"v1 text".to_vec())])),
            owned("Error", "v1 text")
        );
        let bin = |bytes: &[u8]| Value::Binary(bytes.to_vec());
        assert_eq!(
            parts(Value::Array(vec![bin(b"N\xff"), bin(b"m"), bin(b"tb")])),
            (
                "N\u{fffd}".to_string(),
                "m".to_string(),
                Some("tb".to_string())
            )
        );
    }
}
