//! The sending end of zerorpc's one-way patterns: a [`Publisher`] gives every event to each
//! `Subscriber` connected at the time (PUB), a [`Pusher`] gives each event to one `Puller` (PUSH),
//! zerorpc-python's or a [`crate::Listener`].
//!
//! A one-way event is a request without a channel: `[header, method, args]` in one frame. Nothing
//! answers it, so sending succeeds once a socket has taken the event; whether a handler ran, or
//! failed, only the receiving side knows (and logs).
//!
//! Both bind (their peers connect) or connect to one peer that binds, and then connect again, in
//! the background, after that peer restarts: the `zeromq` crate does not reconnect PUB and PUSH
//! sockets. Clones share the socket.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{watch, Mutex};
use tokio::time::Instant;

use crate::client::encode_request;
use crate::config::{Config, DEFAULT_MAX_MESSAGE_SIZE};
use crate::error::{CallError, SetupError};
use crate::event::Header;
use crate::transport::{
    self, keep_connected, DisconnectWatch, Handed, Outbox, OutboxKind, CONNECT_ATTEMPT,
};
use crate::value::Arguments;

/// The limit of what a sender's socket reads from its peers (subscribers send only their
/// subscriptions, pullers nothing): the default event limit.
const PEERS_LIMIT: usize = DEFAULT_MAX_MESSAGE_SIZE;

/// How often a [`Pusher`] with no puller looks again: from the first step to the last,
/// doubling.
const PUSH_RETRY: (Duration, Duration) = (Duration::from_millis(2), Duration::from_millis(50));

/// What a publisher and a pusher share: the socket (absent while a connecting one has no
/// connection), where it is, and the limit of the events it sends.
#[derive(Clone)]
struct Outlet {
    outbox: Arc<Mutex<Option<Outbox>>>,
    endpoint: Arc<str>,
    max_message_size: usize,
    /// Stops the background connection, when there is one, once the last clone is dropped.
    _stop: Arc<StopOnDrop>,
}

/// Sets its flag when dropped.
struct StopOnDrop(watch::Sender<bool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.send_replace(true);
    }
}

impl Outlet {
    async fn bind(kind: OutboxKind, endpoint: String) -> Result<Outlet, SetupError> {
        let binds = [endpoint];
        transport::check_startable(&binds, &[])?;
        let (outbox, bound) = transport::bind_outbox(kind, &binds, PEERS_LIMIT).await?;
        Ok(Self::new(Some(outbox), &bound[0]).0)
    }

    fn connect(kind: OutboxKind, endpoint: String) -> Result<Outlet, SetupError> {
        transport::check_startable(&[], std::slice::from_ref(&endpoint))?;
        transport::validate_endpoint(&endpoint)?;
        let (outlet, stopped) = Self::new(None, &endpoint);
        let outbox = outlet.outbox.clone();
        tokio::spawn(async move {
            let connect =
                || transport::connect_outbox(kind, &endpoint, CONNECT_ATTEMPT, PEERS_LIMIT);
            let serve = |(connected, mut watch): (Outbox, DisconnectWatch)| {
                let outbox = outbox.clone();
                async move {
                    *outbox.lock().await = Some(connected);
                    watch.disconnected().await;
                    *outbox.lock().await = None;
                    Some("the peer went away".to_string())
                }
            };
            keep_connected(&endpoint, stopped, connect, serve).await;
        });
        Ok(outlet)
    }

    fn new(outbox: Option<Outbox>, endpoint: &str) -> (Outlet, watch::Receiver<bool>) {
        let (stop, stopped) = watch::channel(false);
        let outlet = Outlet {
            outbox: Arc::new(Mutex::new(outbox)),
            endpoint: endpoint.into(),
            max_message_size: Config::default().max_message_size,
            _stop: Arc::new(StopOnDrop(stop)),
        };
        (outlet, stopped)
    }

    /// The event calling `method` with `args`.
    fn encode<A: Arguments>(&self, method: &str, args: &A) -> Result<Bytes, CallError> {
        let (payload, _) = encode_request(method, &Header::default(), args, self.max_message_size)?;
        Ok(payload)
    }

    /// Gives `payload` to the socket; gives it back when there is no socket, or no peer to take
    /// it, now.
    async fn hand(&self, method: &str, payload: Bytes) -> Result<Handed, CallError> {
        let mut outbox = self.outbox.lock().await;
        let Some(socket) = outbox.as_mut() else {
            return Ok(Handed::NoPeer(payload));
        };
        socket
            .send(payload)
            .await
            .map_err(|reason| CallError::LostRemote {
                method: method.to_string(),
                reason: format!("the socket failed: {reason}"),
            })
    }
}

impl std::fmt::Debug for Outlet {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Outlet")
            .field("endpoint", &self.endpoint)
            .field("max_message_size", &self.max_message_size)
            .finish_non_exhaustive()
    }
}

/// zerorpc's `Publisher`: sends one-way events to every `Subscriber` connected at the time
/// (zerorpc-python's, or a [`crate::Listener::subscriber`]). It binds and subscribers connect to
/// it, or it connects to a subscriber that binds (and connects again, in the background, after
/// that subscriber restarts). An event published while nobody is subscribed is dropped, and a
/// subscriber that does not read never holds up publishing. Clones share the socket.
///
/// ```no_run
/// use rpcgen_runtime::Publisher;
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let publisher = Publisher::bind("tcp://127.0.0.1:4244").await?;
/// // zerorpc-python: zerorpc.Subscriber(handler).connect("tcp://127.0.0.1:4244")
/// publisher.publish("price_changed", ("tea", 350)).await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Publisher {
    outlet: Outlet,
}

impl Publisher {
    /// Listens on `endpoint` (`tcp://127.0.0.1:0` picks a free port; see
    /// [`Publisher::endpoint`]).
    pub async fn bind(endpoint: impl Into<String>) -> Result<Publisher, SetupError> {
        let outlet = Outlet::bind(OutboxKind::Pub, endpoint.into()).await?;
        Ok(Publisher { outlet })
    }

    /// Connects to a subscriber that binds `endpoint`. Never waits: the connection is made, and
    /// remade after the subscriber restarts, in the background; until then events are dropped.
    pub fn connect(endpoint: impl Into<String>) -> Result<Publisher, SetupError> {
        let outlet = Outlet::connect(OutboxKind::Pub, endpoint.into())?;
        Ok(Publisher { outlet })
    }

    /// The endpoint listened on (with the port chosen) or connected to.
    pub fn endpoint(&self) -> &str {
        &self.outlet.endpoint
    }

    /// Refuses events larger than `bytes` (default 100 MiB, as a server's limit).
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.outlet.max_message_size = bytes;
        self
    }

    /// Publishes a call of `method` with `args` to the subscribers connected now. Fails only
    /// when the arguments cannot be encoded, the event is too large, or the socket failed.
    pub async fn publish<A: Arguments>(&self, method: &str, args: A) -> Result<(), CallError> {
        let payload = self.outlet.encode(method, &args)?;
        self.outlet.hand(method, payload).await.map(drop)
    }
}

/// zerorpc's `Pusher`: sends each one-way event to one `Puller` (zerorpc-python's, or a
/// [`crate::Listener::puller`]), in turn when several are connected. It binds and pullers connect
/// to it, or it connects to a puller that binds (and connects again, in the background, after
/// that puller restarts). Clones share the socket.
///
/// [`Pusher::push`] waits for a puller when none is connected, up to the pusher's timeout
/// (default 30 s, as a client's), and returns once a puller's connection has taken the event.
/// Nothing acknowledges an event: one taken by a puller that goes away before it reads it is
/// lost, as with zerorpc's own pushers.
///
/// ```no_run
/// use rpcgen_runtime::Pusher;
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// // zerorpc-python: zerorpc.Puller(handler).bind("tcp://127.0.0.1:4245")
/// let pusher = Pusher::connect("tcp://127.0.0.1:4245")?;
/// pusher.push("record", ("tea", 350)).await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Pusher {
    outlet: Outlet,
    timeout: Duration,
}

impl Pusher {
    /// Listens on `endpoint` (`tcp://127.0.0.1:0` picks a free port; see [`Pusher::endpoint`]).
    pub async fn bind(endpoint: impl Into<String>) -> Result<Pusher, SetupError> {
        let outlet = Outlet::bind(OutboxKind::Push, endpoint.into()).await?;
        Ok(Pusher::new(outlet))
    }

    /// Connects to a puller that binds `endpoint`. Never waits: the connection is made, and
    /// remade after the puller restarts, in the background; until then [`Pusher::push`] waits.
    pub fn connect(endpoint: impl Into<String>) -> Result<Pusher, SetupError> {
        let outlet = Outlet::connect(OutboxKind::Push, endpoint.into())?;
        Ok(Pusher::new(outlet))
    }

    fn new(outlet: Outlet) -> Pusher {
        Pusher {
            outlet,
            timeout: Config::default().timeout,
        }
    }

    /// The endpoint listened on (with the port chosen) or connected to.
    pub fn endpoint(&self) -> &str {
        &self.outlet.endpoint
    }

    /// Refuses events larger than `bytes` (default 100 MiB, as a server's limit).
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.outlet.max_message_size = bytes;
        self
    }

    /// How long [`Pusher::push`] waits for a puller (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Pushes a call of `method` with `args` to one puller, waiting for one to connect when
    /// there is none. Fails when the arguments cannot be encoded, the event is too large, no
    /// puller came within the timeout ([`CallError::Timeout`]), or the socket failed.
    pub async fn push<A: Arguments>(&self, method: &str, args: A) -> Result<(), CallError> {
        let mut payload = self.outlet.encode(method, &args)?;
        let deadline = Instant::now() + self.timeout;
        let mut pause = PUSH_RETRY.0;
        loop {
            match self.outlet.hand(method, payload).await? {
                Handed::Taken => return Ok(()),
                Handed::NoPeer(back) => payload = back,
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(CallError::Timeout {
                    method: method.to_string(),
                    timeout: self.timeout,
                    never_connected: None,
                });
            }
            tokio::time::sleep(pause.min(deadline - now)).await;
            pause = (pause * 2).min(PUSH_RETRY.1);
        }
    }
}
