//! The seam between the runtime and ZeroMQ.
//!
//! Everything else in the crate sees only these few types: a ROUTER for servers (receive a
//! request with its envelope, send frames back) and a DEALER for clients (connect once, send and
//! receive event frames, learn when the peer went away). They wrap the pure-Rust `zeromq` crate;
//! a libzmq backend would replace this module only.

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use zeromq::{Socket, SocketEvent, SocketRecv, SocketSend, ZmqMessage};

use crate::error::SetupError;

/// Checks that an endpoint is one ZeroMQ understands (`tcp://host:port`, `ipc:///path`).
pub(crate) fn validate_endpoint(endpoint: &str) -> Result<(), SetupError> {
    endpoint
        .parse::<zeromq::Endpoint>()
        .map(|_| ())
        .map_err(|error| SetupError::InvalidEndpoint {
            endpoint: endpoint.to_string(),
            reason: error.to_string(),
        })
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
}

/// The receiving half of a server socket.
pub(crate) struct RouterReceiver {
    inner: zeromq::RouterRecvHalf,
}

/// The sending half of a server socket; clones share the socket.
#[derive(Clone)]
pub(crate) struct RouterSender {
    inner: zeromq::RouterSendHalf,
}

/// Opens a ROUTER socket, binds and connects it, and returns its halves and the endpoints it
/// listens on (with the port chosen by the system when the endpoint asked for port 0).
pub(crate) async fn open_router(
    binds: &[String],
    connects: &[String],
) -> Result<(RouterReceiver, RouterSender, Vec<String>), SetupError> {
    let mut socket = zeromq::RouterSocket::new();
    let mut endpoints = Vec::new();
    for endpoint in binds {
        validate_endpoint(endpoint)?;
        let bound = socket
            .bind(endpoint)
            .await
            .map_err(|error| transport_error("bind", endpoint, error))?;
        endpoints.push(bound.to_string());
    }
    for endpoint in connects {
        validate_endpoint(endpoint)?;
        socket
            .connect(endpoint)
            .await
            .map_err(|error| transport_error("connect", endpoint, error))?;
        endpoints.push(endpoint.clone());
    }
    let (send, receive) = socket.split();
    Ok((
        RouterReceiver { inner: receive },
        RouterSender { inner: send },
        endpoints,
    ))
}

impl RouterReceiver {
    /// Waits for the next message; `None` when the socket is closed.
    pub async fn recv(&mut self) -> Option<Incoming> {
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

/// Connects a DEALER to `endpoint`, giving up after `attempt_timeout` (the `zeromq` crate keeps
/// retrying a refused connection until then).
pub(crate) async fn connect_dealer(
    endpoint: &str,
    attempt_timeout: Duration,
) -> Result<DealerConnection, String> {
    let mut options = zeromq::SocketOptions::default();
    options.connect_timeout(attempt_timeout);
    let mut socket = zeromq::DealerSocket::with_options(options);
    let monitor = socket.monitor();
    socket
        .connect(endpoint)
        .await
        .map_err(|error| error.to_string())?;
    let (send, receive) = socket.split();
    Ok(DealerConnection {
        sender: DealerSender { inner: send },
        receiver: DealerReceiver { inner: receive },
        watch: DisconnectWatch { monitor },
    })
}

impl DisconnectWatch {
    /// Resolves when the socket lost its peer (the `zeromq` crate never reconnects a DEALER).
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
