//! The raw baseline: a DEALER client and a ROUTER echo server on the same `zeromq` crate as the
//! runtime, exchanging the exact bytes a zerorpc call and its reply carry, with no MessagePack
//! work, no channels and no heartbeats: the floor the typed runtime is compared with.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rpcgen_bench::measure::{Budget, Limits, Summary};
use zeromq::{Socket, SocketRecv, SocketSend, ZmqMessage};

/// How long the raw client waits for one reply before giving up.
const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

/// Binds a ROUTER on a free loopback port that answers every request with `reply`, keeping the
/// request's envelope; returns its endpoint and the task serving it (abort it to stop).
pub async fn start_echo_server(
    reply: Bytes,
) -> Result<(String, tokio::task::JoinHandle<()>), String> {
    let mut socket = zeromq::RouterSocket::new();
    let endpoint = socket
        .bind("tcp://127.0.0.1:0")
        .await
        .map_err(|error| format!("raw ROUTER bind: {error}"))?
        .to_string();
    let (mut sender, mut receiver) = socket.split();
    let task = tokio::spawn(async move {
        while let Ok(request) = receiver.recv().await {
            let mut frames = request.into_vec();
            if let Some(payload) = frames.last_mut() {
                *payload = reply.clone();
            }
            let Ok(message) = ZmqMessage::try_from(frames) else {
                continue;
            };
            if sender.send(message).await.is_err() {
                break;
            }
        }
    });
    Ok((endpoint, task))
}

/// A DEALER that sends one fixed request and expects one fixed reply.
pub struct RawClient {
    sender: zeromq::DealerSendHalf,
    receiver: zeromq::DealerRecvHalf,
    request: Bytes,
    reply: Bytes,
}

impl RawClient {
    /// Connects to a raw echo server.
    pub async fn connect(endpoint: &str, request: Bytes, reply: Bytes) -> Result<Self, String> {
        let mut socket = zeromq::DealerSocket::new();
        socket
            .connect(endpoint)
            .await
            .map_err(|error| format!("raw DEALER connect to {endpoint}: {error}"))?;
        let (sender, receiver) = socket.split();
        Ok(Self {
            sender,
            receiver,
            request,
            reply,
        })
    }

    /// Makes one round trip and checks that the reply is byte for byte the expected one.
    pub async fn verify(&mut self) -> Result<(), String> {
        self.send().await?;
        let reply = self.receive().await?;
        if reply != self.reply {
            return Err("the raw server answered unexpected bytes".to_string());
        }
        Ok(())
    }

    /// Keeps up to `window` requests in flight until the budget runs out; a request's latency
    /// runs from its send to its reply (the server answers in order).
    pub async fn pipeline(&mut self, window: usize, limits: Limits) -> Result<Summary, String> {
        let budget = Budget::new(limits);
        let mut in_flight = VecDeque::with_capacity(window);
        let mut latencies = Vec::new();
        let mut open = true;
        let started = Instant::now();
        loop {
            while open && in_flight.len() < window {
                open = budget.take();
                if open {
                    in_flight.push_back(Instant::now());
                    self.send().await?;
                }
            }
            let Some(sent) = in_flight.pop_front() else {
                break;
            };
            let reply = self.receive().await?;
            latencies.push(sent.elapsed());
            if reply.len() != self.reply.len() {
                return Err(format!(
                    "the raw server answered {} bytes instead of {}",
                    reply.len(),
                    self.reply.len()
                ));
            }
        }
        Summary::from_latencies(latencies, started.elapsed())
            .ok_or_else(|| "no call completed within the limits".to_string())
    }

    async fn send(&mut self) -> Result<(), String> {
        let message = ZmqMessage::try_from(vec![Bytes::new(), self.request.clone()])
            .map_err(|error| error.to_string())?;
        self.sender
            .send(message)
            .await
            .map_err(|error| format!("raw send: {error}"))
    }

    async fn receive(&mut self) -> Result<Bytes, String> {
        let message = tokio::time::timeout(REPLY_TIMEOUT, self.receiver.recv())
            .await
            .map_err(|_| format!("no raw reply within {REPLY_TIMEOUT:?}"))?
            .map_err(|error| format!("raw receive: {error}"))?;
        message
            .into_vec()
            .pop()
            .ok_or_else(|| "the raw server sent an empty message".to_string())
    }
}
