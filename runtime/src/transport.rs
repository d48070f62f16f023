//! The seam between the runtime and ZeroMQ.
//!
//! Everything else in the crate sees only these few types: ROUTER sockets for servers (receive
//! a request with its envelope and the socket to answer on, send frames back), a DEALER for
//! clients (connect once, send and receive event frames, learn when the peer went away), an
//! inbox for one-way listeners (a PULL or SUB socket that only receives) and an outbox for
//! publishers (a PUB socket that only sends), and [`keep_connected`], which remakes a connection
//! after its peer goes away. They wrap the pure-Rust `zeromq` crate, which never reconnects a
//! socket by itself (libzmq does); a libzmq backend would replace this module only.

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use tokio::sync::{mpsc, watch};
use zeromq::{Socket, SocketEvent, SocketRecv, SocketSend, ZmqMessage};

use crate::error::SetupError;

/// How long one connection attempt may take before the socket is rebuilt.
pub(crate) const CONNECT_ATTEMPT: Duration = Duration::from_secs(2);
/// The first and the longest pause between failed connection attempts.
pub(crate) const RECONNECT_BACKOFF: (Duration, Duration) =
    (Duration::from_millis(100), Duration::from_secs(1));

/// Checks that an endpoint is one ZeroMQ understands (`tcp://host:port`, `ipc:///path`).
pub(crate) fn validate_endpoint(endpoint: &str) -> Result<(), SetupError> {
    endpoint
        .parse::<zeromq::Endpoint>()
        .map(|_| ())
        .map_err(|error| {
            let hint = if endpoint.contains("://") {
                ""
            } else {
                " (endpoints are written `tcp://HOST:PORT` or `ipc://PATH`)"
            };
            SetupError::InvalidEndpoint {
                endpoint: endpoint.to_string(),
                reason: format!("{error}{hint}"),
            }
        })
}

/// Checks what every socket owner needs before it starts: an endpoint, and a Tokio runtime to
/// run on.
pub(crate) fn check_startable(binds: &[String], connects: &[String]) -> Result<(), SetupError> {
    if binds.is_empty() && connects.is_empty() {
        return Err(SetupError::NoEndpoint);
    }
    tokio::runtime::Handle::try_current().map_err(|_| SetupError::NoTokioRuntime)?;
    Ok(())
}

fn transport_error(action: &'static str, endpoint: &str, error: impl ToString) -> SetupError {
    SetupError::Transport {
        action,
        endpoint: endpoint.to_string(),
        reason: error.to_string(),
    }
}

/// A request as a ROUTER received it.
pub(crate) struct Incoming {
    /// The routing id of the peer that sent it.
    pub peer: Bytes,
    /// The frames to put before a reply: the routing id, any extra envelope frames, and the empty
    /// delimiter (added when the sender omitted it, as zerorpc-python does).
    pub envelope: Vec<Bytes>,
    /// The event frame.
    pub payload: Bytes,
    /// The socket it came on, which carries the replies.
    pub reply: RouterSender,
}

/// The receiving half of a server socket, with a sender for the replies to what it receives.
struct RouterReceiver {
    inner: zeromq::RouterRecvHalf,
    reply: RouterSender,
}

/// The sending half of a server socket; clones share the socket.
#[derive(Clone)]
pub(crate) struct RouterSender {
    inner: zeromq::RouterSendHalf,
}

/// The options every socket starts from: a peer is dropped as soon as a frame header says that
/// its message would be larger than twice `max_message_size` (and at least 16 MiB more than it).
/// Up to that size a message reaches the runtime, which answers a too large request with `ERR`
/// (or fails the call a too large reply answers); beyond it, the peer is cut off before anything
/// is reserved for the message (the `zeromq` crate would reserve whatever a frame header claims:
/// third_party/README.md).
fn socket_options(max_message_size: usize) -> zeromq::SocketOptions {
    const LEAST_MARGIN: usize = 16 * 1024 * 1024;
    let mut options = zeromq::SocketOptions::default();
    options.max_message_size(max_message_size.saturating_add(max_message_size.max(LEAST_MARGIN)));
    options
}

/// How many requests received on connected sockets may wait for the server to read them.
const CONNECTED_QUEUE: usize = 64;

/// Everything a server receives: one ROUTER socket listens on every endpoint it binds, and each
/// endpoint it connects to has a socket of its own, remade whenever the peer there goes away
/// (for example a client that binds and restarts), as libzmq would. Dropping it closes them all.
pub(crate) struct ServerSockets {
    bound: Option<RouterReceiver>,
    connected: mpsc::Receiver<Incoming>,
    /// Dropped with the sockets, which stops the tasks that keep the connected ones.
    _stop: watch::Sender<bool>,
}

/// Opens a server's sockets: binds one to every endpoint of `binds`, and starts connecting to
/// each of `connects` in the background (never waiting for the peer there). Returns them with
/// the endpoints served: those bound (with the port chosen by the system when an endpoint asked
/// for port 0), then those connected to.
pub(crate) async fn open_server_sockets(
    binds: &[String],
    connects: &[String],
    max_message_size: usize,
) -> Result<(ServerSockets, Vec<String>), SetupError> {
    for endpoint in connects {
        validate_endpoint(endpoint)?;
    }
    let mut endpoints = Vec::new();
    let mut bound = None;
    if !binds.is_empty() {
        let mut socket = zeromq::RouterSocket::with_options(socket_options(max_message_size));
        endpoints = bind_all(&mut socket, binds).await?;
        bound = Some(RouterReceiver::new(socket));
    }
    let (stop, stopped) = watch::channel(false);
    let (forward, connected) = mpsc::channel(CONNECTED_QUEUE);
    for endpoint in connects {
        endpoints.push(endpoint.clone());
        tokio::spawn(forward_connected(
            endpoint.clone(),
            max_message_size,
            forward.clone(),
            stopped.clone(),
        ));
    }
    let sockets = ServerSockets {
        bound,
        connected,
        _stop: stop,
    };
    Ok((sockets, endpoints))
}

impl ServerSockets {
    /// Waits for the next message on any of the sockets; `None` when the bound socket closed.
    pub async fn recv(&mut self) -> Option<Incoming> {
        let bound = async {
            match &mut self.bound {
                Some(receiver) => receiver.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            incoming = bound => incoming,
            Some(incoming) = self.connected.recv() => Some(incoming),
        }
    }
}

/// Keeps a ROUTER socket connected to `endpoint` and hands what it receives to `forward`, until
/// `stopped` or the receiver of `forward` is gone.
async fn forward_connected(
    endpoint: String,
    max_message_size: usize,
    forward: mpsc::Sender<Incoming>,
    stopped: watch::Receiver<bool>,
) {
    let connect = || async {
        let (socket, watch) = connect_watched(&endpoint, CONNECT_ATTEMPT, max_message_size).await?;
        Ok((RouterReceiver::new(socket), watch))
    };
    let serve = |(mut receiver, mut watch): (RouterReceiver, DisconnectWatch)| {
        let forward = &forward;
        async move {
            loop {
                tokio::select! {
                    incoming = receiver.recv() => {
                        let Some(incoming) = incoming else {
                            return Some("the socket closed".to_string());
                        };
                        if forward.send(incoming).await.is_err() {
                            return None;
                        }
                    }
                    () = watch.disconnected() => return Some("the peer went away".to_string()),
                }
            }
        }
    };
    keep_connected(&endpoint, stopped, connect, serve).await;
}

impl RouterReceiver {
    fn new(socket: zeromq::RouterSocket) -> Self {
        let (send, receive) = socket.split();
        Self {
            inner: receive,
            reply: RouterSender { inner: send },
        }
    }

    /// Waits for the next message; `None` when the socket is closed.
    async fn recv(&mut self) -> Option<Incoming> {
        loop {
            let message = self.inner.recv().await.ok()?;
            let mut frames = message.into_vec();
            if frames.len() < 2 {
                continue;
            }
            let payload = frames.pop().unwrap_or_default();
            if frames.last().is_some_and(|frame| !frame.is_empty()) || frames.len() == 1 {
                frames.push(Bytes::new());
            }
            let peer = frames[0].clone();
            return Some(Incoming {
                peer,
                envelope: frames,
                payload,
                reply: self.reply.clone(),
            });
        }
    }
}

impl RouterSender {
    /// Sends one message (envelope frames then the event); waits while the peer's queue is full.
    pub async fn send(&mut self, frames: Vec<Bytes>) -> Result<(), String> {
        let message = ZmqMessage::try_from(frames).map_err(|error| error.to_string())?;
        self.inner
            .send(message)
            .await
            .map_err(|error| error.to_string())
    }
}

/// A connected client socket.
pub(crate) struct DealerConnection {
    /// Sends event frames.
    pub sender: DealerSender,
    /// Receives event frames.
    pub receiver: DealerReceiver,
    /// Tells when the peer went away.
    pub watch: DisconnectWatch,
}

/// Watches a client socket for the loss of its peer.
pub(crate) struct DisconnectWatch {
    monitor: futures::channel::mpsc::Receiver<SocketEvent>,
}

/// The sending half of a client socket.
pub(crate) struct DealerSender {
    inner: zeromq::DealerSendHalf,
}

/// The receiving half of a client socket.
pub(crate) struct DealerReceiver {
    inner: zeromq::DealerRecvHalf,
}

/// Connects to `endpoint` with `connect`, retrying with backoff, and hands each connection to
/// `serve`; when `serve` returns why the connection was lost, connects again. Ends when `serve`
/// returns `None` or `stopped` becomes true (or its sender is gone).
pub(crate) async fn keep_connected<T, Connecting, Serving>(
    endpoint: &str,
    mut stopped: watch::Receiver<bool>,
    connect: impl Fn() -> Connecting,
    mut serve: impl FnMut(T) -> Serving,
) where
    Connecting: Future<Output = Result<T, String>>,
    Serving: Future<Output = Option<String>>,
{
    let mut backoff = RECONNECT_BACKOFF.0;
    loop {
        let connected = tokio::select! {
            connected = connect() => connected,
            _ = stopped.wait_for(|stopped| *stopped) => return,
        };
        match connected {
            Ok(connection) => {
                backoff = RECONNECT_BACKOFF.0;
                let lost = tokio::select! {
                    lost = serve(connection) => lost,
                    _ = stopped.wait_for(|stopped| *stopped) => None,
                };
                let Some(reason) = lost else {
                    return;
                };
                tracing::info!(target: "rpcgen", endpoint, %reason, "reconnecting");
            }
            Err(error) => {
                tracing::debug!(target: "rpcgen", endpoint, %error, "connection attempt failed");
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    _ = stopped.wait_for(|stopped| *stopped) => return,
                }
                backoff = (backoff * 2).min(RECONNECT_BACKOFF.1);
            }
        }
    }
}

/// Connects a DEALER to `endpoint`, giving up after `attempt_timeout` (the `zeromq` crate keeps
/// retrying a refused connection until then).
pub(crate) async fn connect_dealer(
    endpoint: &str,
    attempt_timeout: Duration,
    max_message_size: usize,
) -> Result<DealerConnection, String> {
    let (socket, watch): (zeromq::DealerSocket, _) =
        connect_watched(endpoint, attempt_timeout, max_message_size).await?;
    let (send, receive) = socket.split();
    Ok(DealerConnection {
        sender: DealerSender { inner: send },
        receiver: DealerReceiver { inner: receive },
        watch,
    })
}

impl DisconnectWatch {
    /// Resolves when the socket lost its peer (the `zeromq` crate never reconnects a DEALER or
    /// a PULL socket).
    pub async fn disconnected(&mut self) {
        while let Some(event) = self.monitor.next().await {
            if matches!(event, SocketEvent::Disconnected(_)) {
                return;
            }
        }
        futures::future::pending::<()>().await;
    }
}

impl DealerSender {
    /// Sends one event with the empty delimiter frame in front, as zerorpc peers expect.
    pub async fn send(&mut self, payload: Bytes) -> Result<(), String> {
        let message =
            ZmqMessage::try_from(vec![Bytes::new(), payload]).map_err(|error| error.to_string())?;
        self.inner
            .send(message)
            .await
            .map_err(|error| error.to_string())
    }
}

impl DealerReceiver {
    /// Waits for the next event frame (the last frame of a message).
    pub async fn recv(&mut self) -> Result<Bytes, String> {
        loop {
            let message = self.inner.recv().await.map_err(|error| error.to_string())?;
            if let Some(payload) = message.into_vec().pop() {
                return Ok(payload);
            }
        }
    }
}

/// Which socket an [`Inbox`] is: zerorpc's `Puller` (PULL) or `Subscriber` (SUB).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InboxKind {
    /// Takes its share of the events that PUSH peers send.
    Pull,
    /// Takes every event that PUB peers publish (it subscribes to all of them).
    Sub,
}

/// A socket that only receives events.
pub(crate) enum Inbox {
    /// A `Puller`'s.
    Pull(zeromq::PullSocket),
    /// A `Subscriber`'s, subscribed to every event.
    Sub(zeromq::SubSocket),
}

impl Inbox {
    /// Waits for the next event frame (the last frame of a message; zerorpc's PUSH and PUB send
    /// one frame, without a delimiter).
    pub async fn recv(&mut self) -> Result<Bytes, String> {
        loop {
            let message = match self {
                Inbox::Pull(socket) => socket.recv().await,
                Inbox::Sub(socket) => socket.recv().await,
            };
            let message = message.map_err(|error| error.to_string())?;
            if let Some(payload) = message.into_vec().pop() {
                return Ok(payload);
            }
        }
    }
}

/// Binds `socket` to every endpoint; returns the endpoints it listens on.
async fn bind_all(
    socket: &mut impl Socket,
    endpoints: &[String],
) -> Result<Vec<String>, SetupError> {
    let mut bound = Vec::new();
    for endpoint in endpoints {
        validate_endpoint(endpoint)?;
        if let Some(path) = endpoint.strip_prefix("ipc://") {
            remove_stale_ipc_socket(std::path::Path::new(path));
        }
        let listening = socket
            .bind(endpoint)
            .await
            .map_err(|error| transport_error("bind", endpoint, error))?;
        bound.push(listening.to_string());
    }
    Ok(bound)
}

/// Removes the socket file at `path` when nothing listens on it any more: a process that
/// crashed, or was killed, leaves its `ipc://` file behind, and binding there again would fail
/// with "address in use" until someone deletes it (libzmq deletes it before binding, whoever
/// listens; a file that a live socket still accepts on is left alone here, and the bind fails).
fn remove_stale_ipc_socket(path: &std::path::Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let is_socket =
            std::fs::symlink_metadata(path).is_ok_and(|meta| meta.file_type().is_socket());
        let refused = || {
            std::os::unix::net::UnixStream::connect(path)
                .is_err_and(|error| error.kind() == std::io::ErrorKind::ConnectionRefused)
        };
        if is_socket && refused() {
            match std::fs::remove_file(path) {
                Ok(()) => tracing::info!(
                    target: "rpcgen",
                    path = %path.display(),
                    "removed a socket file nobody listens on any more"
                ),
                Err(error) => tracing::debug!(
                    target: "rpcgen",
                    path = %path.display(),
                    %error,
                    "could not remove a stale socket file"
                ),
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// Opens an inbox that listens on `endpoints`; returns it with the endpoints it listens on (with
/// the port chosen by the system when an endpoint asked for port 0).
pub(crate) async fn bind_inbox(
    kind: InboxKind,
    endpoints: &[String],
    max_message_size: usize,
) -> Result<(Inbox, Vec<String>), SetupError> {
    let options = socket_options(max_message_size);
    Ok(match kind {
        InboxKind::Pull => {
            let mut socket = zeromq::PullSocket::with_options(options);
            let bound = bind_all(&mut socket, endpoints).await?;
            (Inbox::Pull(socket), bound)
        }
        InboxKind::Sub => {
            let mut socket = zeromq::SubSocket::with_options(options);
            let bound = bind_all(&mut socket, endpoints).await?;
            socket
                .subscribe("")
                .await
                .map_err(|error| transport_error("subscribe", &bound.join(" "), error))?;
            (Inbox::Sub(socket), bound)
        }
    })
}

/// Opens a socket and connects it to `endpoint`, giving up after `attempt_timeout`; returns it with
/// a watch that tells when the peer went away.
async fn connect_watched<S: Socket>(
    endpoint: &str,
    attempt_timeout: Duration,
    max_message_size: usize,
) -> Result<(S, DisconnectWatch), String> {
    let mut options = socket_options(max_message_size);
    options.connect_timeout(attempt_timeout);
    let mut socket = S::with_options(options);
    let monitor = socket.monitor();
    socket
        .connect(endpoint)
        .await
        .map_err(|error| error.to_string())?;
    Ok((socket, DisconnectWatch { monitor }))
}

/// Connects an inbox to `endpoint`, giving up after `attempt_timeout`; returns it with a watch
/// that tells when its peer went away (the `zeromq` crate does not reconnect a PULL socket).
pub(crate) async fn connect_inbox(
    kind: InboxKind,
    endpoint: &str,
    attempt_timeout: Duration,
    max_message_size: usize,
) -> Result<(Inbox, DisconnectWatch), String> {
    Ok(match kind {
        InboxKind::Pull => {
            let (socket, watch) =
                connect_watched(endpoint, attempt_timeout, max_message_size).await?;
            (Inbox::Pull(socket), watch)
        }
        InboxKind::Sub => {
            let (mut socket, watch): (zeromq::SubSocket, _) =
                connect_watched(endpoint, attempt_timeout, max_message_size).await?;
            socket
                .subscribe("")
                .await
                .map_err(|error| error.to_string())?;
            (Inbox::Sub(socket), watch)
        }
    })
}

/// Which socket an [`Outbox`] is: zerorpc's `Publisher` (PUB) or `Pusher` (PUSH).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OutboxKind {
    /// Gives every event to each subscriber connected at the time, and drops it when there is
    /// none (sending never waits for a slow subscriber).
    Pub,
    /// Gives each event to one of the pullers connected at the time, in turn.
    Push,
}

/// A socket that only sends events, one frame each, as zerorpc's PUB and PUSH send them.
pub(crate) enum Outbox {
    /// A `Publisher`'s.
    Pub(zeromq::PubSocket),
    /// A `Pusher`'s.
    Push(zeromq::PushSocket),
}

/// What became of an event given to an [`Outbox`].
#[derive(Debug)]
pub(crate) enum Handed {
    /// The socket took it (a PUB socket takes it also when nobody subscribes, and drops it).
    Taken,
    /// A PUSH socket has no puller to take it now: the event, given back.
    NoPeer(Bytes),
}

impl Outbox {
    /// Gives one event to the socket.
    pub async fn send(&mut self, payload: Bytes) -> Result<Handed, String> {
        let sent = match self {
            Outbox::Pub(socket) => socket.send(ZmqMessage::from(payload)).await,
            Outbox::Push(socket) => socket.send(ZmqMessage::from(payload)).await,
        };
        match sent {
            Ok(()) => Ok(Handed::Taken),
            Err(zeromq::ZmqError::ReturnToSender { message, .. }) => {
                Ok(Handed::NoPeer(message.into_vec().pop().unwrap_or_default()))
            }
            Err(error) => Err(error.to_string()),
        }
    }
}

/// Opens an outbox that listens on `endpoints`; returns it with the endpoints it listens on.
pub(crate) async fn bind_outbox(
    kind: OutboxKind,
    endpoints: &[String],
    max_message_size: usize,
) -> Result<(Outbox, Vec<String>), SetupError> {
    let options = socket_options(max_message_size);
    Ok(match kind {
        OutboxKind::Pub => {
            let mut socket = zeromq::PubSocket::with_options(options);
            let bound = bind_all(&mut socket, endpoints).await?;
            (Outbox::Pub(socket), bound)
        }
        OutboxKind::Push => {
            let mut socket = zeromq::PushSocket::with_options(options);
            let bound = bind_all(&mut socket, endpoints).await?;
            (Outbox::Push(socket), bound)
        }
    })
}

/// Connects an outbox to a peer that binds `endpoint`, giving up after `attempt_timeout`;
/// returns it with a watch that tells when the peer went away.
pub(crate) async fn connect_outbox(
    kind: OutboxKind,
    endpoint: &str,
    attempt_timeout: Duration,
    max_message_size: usize,
) -> Result<(Outbox, DisconnectWatch), String> {
    Ok(match kind {
        OutboxKind::Pub => {
            let (socket, watch) =
                connect_watched(endpoint, attempt_timeout, max_message_size).await?;
            (Outbox::Pub(socket), watch)
        }
        OutboxKind::Push => {
            let (socket, watch) =
                connect_watched(endpoint, attempt_timeout, max_message_size).await?;
            (Outbox::Push(socket), watch)
        }
    })
}
