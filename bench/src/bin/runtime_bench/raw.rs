//! The raw baselines: a DEALER client and a ROUTER echo server on the same `zeromq` crate as the
//! runtime, exchanging the bytes a zerorpc call and its reply carry, with no channels and no
//! heartbeats. With [`Fixed`] payloads they do no MessagePack work at all: the floor of the
//! transport. With [`Typed`] payloads each side also does the least a typed RPC must do, with
//! plain rmp-serde: the client encodes the argument and decodes the result, the server decodes
//! the argument and encodes the result.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rpcgen_bench::measure::{Budget, Limits, Summary};
use serde::de::DeserializeOwned;
use serde::Serialize;
use zeromq::{Socket, SocketRecv, SocketSend, ZmqMessage};

/// How long the raw client waits for one reply before giving up.
const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

/// What the raw peers put in their messages.
pub trait Payload: Send + Sync + 'static {
    /// The client's next request event.
    fn request(&self) -> Result<Bytes, String>;
    /// The server's reply event to `request`.
    fn answer(&self, request: &[u8]) -> Result<Bytes, String>;
    /// The client's use of a reply while measuring: as little as a caller would do.
    fn accept(&self, reply: &[u8]) -> Result<(), String>;
    /// The client's full check of a reply, before measuring.
    fn verify(&self, reply: &[u8]) -> Result<(), String>;
}

/// The same request and reply bytes every time, with no MessagePack work.
pub struct Fixed {
    /// The request event.
    pub request: Bytes,
    /// The reply event.
    pub reply: Bytes,
}

impl Payload for Fixed {
    fn request(&self) -> Result<Bytes, String> {
        Ok(self.request.clone())
    }

    fn answer(&self, _request: &[u8]) -> Result<Bytes, String> {
        Ok(self.reply.clone())
    }

    fn accept(&self, reply: &[u8]) -> Result<(), String> {
        if reply.len() == self.reply.len() {
            Ok(())
        } else {
            Err(format!(
                "the raw server answered {} bytes instead of {}",
                reply.len(),
                self.reply.len()
            ))
        }
    }

    fn verify(&self, reply: &[u8]) -> Result<(), String> {
        if reply == self.reply {
            Ok(())
        } else {
            Err("the raw server answered unexpected bytes".to_string())
        }
    }
}

/// Events whose argument or result is encoded and decoded as a `T` on every message, behind the
/// same event starts as [`Fixed`]'s (a request's and a reply's start never change here).
pub struct Typed<T> {
    value: Arc<T>,
    request_start: Bytes,
    reply_start: Bytes,
}

impl<T> Typed<T> {
    /// Events for `value`, given the fixed events that carry it as `[value]`.
    pub fn new(value: Arc<T>, fixed: &Fixed) -> Result<Self, String>
    where
        T: Serialize,
    {
        let args = rmp_serde::to_vec_named(&(&*value,)).map_err(|error| error.to_string())?;
        let start = |event: &Bytes| {
            event
                .len()
                .checked_sub(args.len())
                .filter(|&start| event[start..] == args[..])
                .map(|start| event.slice(..start))
                .ok_or_else(|| "the fixed events do not end with the argument".to_string())
        };
        Ok(Self {
            request_start: start(&fixed.request)?,
            reply_start: start(&fixed.reply)?,
            value,
        })
    }

    fn event(start: &[u8], value: &T) -> Result<Bytes, String>
    where
        T: Serialize,
    {
        let mut event = start.to_vec();
        (value,)
            .serialize(&mut rmp_serde::Serializer::new(&mut event).with_struct_map())
            .map_err(|error| error.to_string())?;
        Ok(Bytes::from(event))
    }

    fn decode(event: &[u8], start: &Bytes) -> Result<T, String>
    where
        T: DeserializeOwned,
    {
        let args = event
            .get(start.len()..)
            .ok_or("an event shorter than its start")?;
        rmp_serde::from_slice::<(T,)>(args)
            .map(|(value,)| value)
            .map_err(|error| error.to_string())
    }
}

impl<T> Payload for Typed<T>
where
    T: Serialize + DeserializeOwned + PartialEq + Send + Sync + 'static,
{
    fn request(&self) -> Result<Bytes, String> {
        Self::event(&self.request_start, &self.value)
    }

    fn answer(&self, request: &[u8]) -> Result<Bytes, String> {
        let value = Self::decode(request, &self.request_start)?;
        Self::event(&self.reply_start, &value)
    }

    fn accept(&self, reply: &[u8]) -> Result<(), String> {
        Self::decode(reply, &self.reply_start).map(drop)
    }

    fn verify(&self, reply: &[u8]) -> Result<(), String> {
        if Self::decode(reply, &self.reply_start)? == *self.value {
            Ok(())
        } else {
            Err("the raw server answered a different value".to_string())
        }
    }
}

/// Binds a ROUTER on a free loopback port that answers every request with the payload's answer,
/// keeping the request's envelope; returns its endpoint and the task serving it (abort it to
/// stop).
pub async fn start_echo_server(
    payload: Arc<dyn Payload>,
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
            let Some(last) = frames.last_mut() else {
                continue;
            };
            let Ok(answer) = payload.answer(last) else {
                continue;
            };
            *last = answer;
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

/// A DEALER that sends the payload's requests and checks its replies.
pub struct RawClient {
    sender: zeromq::DealerSendHalf,
    receiver: zeromq::DealerRecvHalf,
    payload: Arc<dyn Payload>,
}

impl RawClient {
    /// Connects to a raw echo server.
    pub async fn connect(endpoint: &str, payload: Arc<dyn Payload>) -> Result<Self, String> {
        let mut socket = zeromq::DealerSocket::new();
        socket
            .connect(endpoint)
            .await
            .map_err(|error| format!("raw DEALER connect to {endpoint}: {error}"))?;
        let (sender, receiver) = socket.split();
        Ok(Self {
            sender,
            receiver,
            payload,
        })
    }

    /// Makes one round trip and checks the reply fully.
    pub async fn verify(&mut self) -> Result<(), String> {
        self.send().await?;
        let reply = self.receive().await?;
        self.payload.verify(&reply)
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
            self.payload.accept(&reply)?;
            latencies.push(sent.elapsed());
        }
        Summary::from_latencies(latencies, started.elapsed())
            .ok_or_else(|| "no call completed within the limits".to_string())
    }

    async fn send(&mut self) -> Result<(), String> {
        let message = ZmqMessage::try_from(vec![Bytes::new(), self.payload.request()?])
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
