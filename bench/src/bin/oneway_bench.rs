//! Measures one-way events (zerorpc's PUSH/PULL) handled per second. A PUSH socket of the
//! `zeromq` crate sends `record(i)` events as fast as it can to one of three receivers: a bare
//! PULL socket that only counts messages (the floor of the transport), rpcgen's
//! `Listener::puller` (each event decoded, its argument checked, its handler run on a task of its
//! own, one at a time), and zerorpc-python's own `Puller` (`bench/zerorpc_puller.py`). A round
//! ends when the receiver has handled every event, so it measures the receiver. A fourth target
//! sends with rpcgen's `Pusher` (each event encoded, and awaited until its socket took it) to
//! `Listener::puller`: rpcgen at both ends. Targets take turns; the table shows each one's median
//! round.
//!
//! Usage: `oneway-bench [--events N] [--rounds R]` (defaults 20000 and 3). Everything runs on
//! 127.0.0.1; zerorpc-python runs with `$RPCGEN_PYTHON`, else `.venv/bin/python`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rpcgen_bench::peer::{python, ChildPeer};
use rpcgen_runtime::event::{encode_event, Header};
use rpcgen_runtime::{Arguments, Listener, MethodInfo, Pusher, RemoteError, Service};
use zeromq::{Socket, SocketRecv, SocketSend, ZmqMessage};

const USAGE: &str = "usage: oneway-bench [--events N] [--rounds R]  (defaults 20000, 3)";
/// The longest a round may take before it is given up.
const ROUND_LIMIT: Duration = Duration::from_secs(120);

/// A receiver of the events, and what sends them.
#[derive(Clone, Copy)]
enum Target {
    RawPull,
    Rpcgen,
    Python,
    /// rpcgen's `Pusher` sending to rpcgen's `Listener::puller`.
    RpcgenPusher,
}

impl Target {
    const ALL: [Target; 4] = [
        Target::RawPull,
        Target::Rpcgen,
        Target::Python,
        Target::RpcgenPusher,
    ];

    fn label(self) -> &'static str {
        match self {
            Target::RawPull => "bare zeromq PULL (counts messages)",
            Target::Rpcgen => "rpcgen Listener::puller",
            Target::Python => "zerorpc-python Puller",
            Target::RpcgenPusher => "rpcgen Listener::puller, sent by rpcgen Pusher",
        }
    }
}

/// What sends the events.
enum Sender {
    /// A PUSH socket of the `zeromq` crate, sending events encoded beforehand.
    RawPush(zeromq::PushSocket),
    /// rpcgen's `Pusher`, encoding each event as it pushes it.
    Pusher(Pusher),
}

impl Sender {
    async fn connect(target: Target, endpoint: &str) -> Result<Sender, String> {
        if let Target::RpcgenPusher = target {
            let pusher = Pusher::connect(endpoint).map_err(|error| error.to_string())?;
            return Ok(Sender::Pusher(pusher));
        }
        let mut push = zeromq::PushSocket::new();
        push.connect(endpoint)
            .await
            .map_err(|error| error.to_string())?;
        Ok(Sender::RawPush(push))
    }

    async fn send(&mut self, n: u64) -> Result<(), String> {
        match self {
            Sender::RawPush(push) => push
                .send(event(n)?)
                .await
                .map_err(|error| error.to_string()),
            Sender::Pusher(pusher) => pusher
                .push("record", (n,))
                .await
                .map_err(|error| error.to_string()),
        }
    }
}

/// A running receiver, and how to ask it how many events it has handled.
enum Receiver {
    Counted {
        endpoint: String,
        handled: Arc<AtomicU64>,
        /// Keeps the receiver running: a listener, or the task of the bare PULL.
        _running: Box<dyn Send>,
    },
    Python(Box<ChildPeer>),
}

impl Receiver {
    async fn start(target: Target) -> Result<Receiver, String> {
        let handled = Arc::new(AtomicU64::new(0));
        match target {
            Target::RawPull => {
                let mut pull = zeromq::PullSocket::new();
                let endpoint = pull
                    .bind("tcp://127.0.0.1:0")
                    .await
                    .map_err(|error| error.to_string())?
                    .to_string();
                let counter = handled.clone();
                let task = tokio::spawn(async move {
                    while pull.recv().await.is_ok() {
                        counter.fetch_add(1, Ordering::Relaxed);
                    }
                });
                let running = AbortOnDrop(task);
                Ok(Receiver::Counted {
                    endpoint,
                    handled,
                    _running: Box::new(running),
                })
            }
            Target::Rpcgen | Target::RpcgenPusher => {
                let counter = handled.clone();
                let service = Service::new("Bench").unary(
                    MethodInfo::new("record").param("n"),
                    move |args| {
                        let counter = counter.clone();
                        async move {
                            let _: u64 = args.get(0)?;
                            counter.fetch_add(1, Ordering::Relaxed);
                            Ok::<_, RemoteError>(())
                        }
                    },
                );
                let listener = Listener::puller(service)
                    .bind("tcp://127.0.0.1:0")
                    .start()
                    .await
                    .map_err(|error| error.to_string())?;
                Ok(Receiver::Counted {
                    endpoint: listener.endpoint().to_string(),
                    handled,
                    _running: Box::new(listener),
                })
            }
            Target::Python => {
                let repository = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
                let script = repository.join("bench/zerorpc_puller.py");
                let script = script.to_string_lossy();
                let peer = ChildPeer::start(
                    &python(&repository),
                    &[script.as_ref()],
                    Duration::from_secs(30),
                )
                .await?;
                Ok(Receiver::Python(Box::new(peer)))
            }
        }
    }

    fn endpoint(&self) -> &str {
        match self {
            Receiver::Counted { endpoint, .. } => endpoint,
            Receiver::Python(peer) => peer.endpoint(),
        }
    }

    async fn handled(&mut self) -> Result<u64, String> {
        match self {
            Receiver::Counted { handled, .. } => Ok(handled.load(Ordering::Relaxed)),
            Receiver::Python(peer) => peer
                .request("count", Duration::from_secs(10))
                .await?
                .parse()
                .map_err(|error| format!("the Python puller's count: {error}")),
        }
    }

    /// Waits until `count` events were handled; polls every millisecond.
    async fn wait_for(&mut self, count: u64, started: Instant) -> Result<(), String> {
        while self.handled().await? < count {
            if started.elapsed() > ROUND_LIMIT {
                return Err(format!("not all events were handled in {ROUND_LIMIT:?}"));
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        Ok(())
    }

    async fn stop(self) {
        if let Receiver::Python(peer) = self {
            peer.stop().await;
        }
    }
}

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The event `record(n)`, as zerorpc's PUSH sends it: one frame.
fn event(n: u64) -> Result<ZmqMessage, String> {
    let mut args = Vec::new();
    (n,).encode_arguments(&mut args)
        .map_err(|error| error.to_string())?;
    Ok(ZmqMessage::from(encode_event(
        &Header::new(),
        "record",
        &args,
    )))
}

/// One round: `events` events after one that proves the connection; returns events per second.
async fn round(target: Target, events: u64) -> Result<f64, String> {
    let mut receiver = Receiver::start(target).await?;
    let mut sender = Sender::connect(target, receiver.endpoint()).await?;
    sender.send(0).await?;
    receiver.wait_for(1, Instant::now()).await?;
    let started = Instant::now();
    for n in 1..=events {
        sender.send(n).await?;
    }
    receiver.wait_for(events + 1, started).await?;
    let elapsed = started.elapsed();
    receiver.stop().await;
    Ok(events as f64 / elapsed.as_secs_f64())
}

fn options() -> Result<(u64, usize), String> {
    let mut events = 20_000;
    let mut rounds = 3;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("`{flag}` needs a value"))?;
        let number = |what: &str| {
            value.parse::<u64>().ok().filter(|n| *n > 0).ok_or(format!(
                "`{flag} {value}`: {what} must be a positive integer"
            ))
        };
        match flag.as_str() {
            "--events" => events = number("events")?,
            "--rounds" => rounds = number("rounds")? as usize,
            _ => return Err(format!("unknown option `{flag}`")),
        }
    }
    Ok((events, rounds))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let (events, rounds) = match options() {
        Ok(options) => options,
        Err(problem) => {
            eprintln!("oneway-bench: {problem}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut results: Vec<Vec<f64>> = vec![Vec::new(); Target::ALL.len()];
    for number in 1..=rounds {
        for (index, target) in Target::ALL.into_iter().enumerate() {
            match round(target, events).await {
                Ok(rate) => {
                    eprintln!("round {number}: {}: {rate:.0} events/s", target.label());
                    results[index].push(rate);
                }
                Err(problem) => {
                    eprintln!("oneway-bench: {}: {problem}", target.label());
                    return ExitCode::FAILURE;
                }
            }
        }
    }
    println!("| receiver | events/s (median of {rounds} rounds of {events}) |");
    println!("| --- | --- |");
    for (target, mut rates) in Target::ALL.into_iter().zip(results) {
        rates.sort_by(f64::total_cmp);
        println!("| {} | {:.0} |", target.label(), rates[rates.len() / 2]);
    }
    ExitCode::SUCCESS
}
