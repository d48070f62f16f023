//! `runtime-bench`: calls per second and p50/p99 latency of the Rust runtime, side by side with
//! a raw `zeromq` DEALER/ROUTER round trip and with zerorpc-python's own server.
//!
//! ```text
//! cargo run --release -p rpcgen-bench --bin runtime-bench -- [--quick] [--rounds N]
//!     [--seconds S] [--threads N] [--case echo|echo-32|dict|bytes|stream]
//!     [--target raw|raw-typed|rpcgen|python|python-both|node]
//! ```
//!
//! Two raw baselines use the same `zeromq` crate with no channels or heartbeats: one exchanges
//! fixed bytes (the transport alone), the other also encodes and decodes the value with plain
//! rmp-serde on both sides (the least any typed RPC does).
//!
//! Every case runs against every target in one process, so a noisy machine affects them alike:
//! targets take turns within each round, and the table shows each target's median round.
//! The rpcgen server and the raw server run on one Tokio runtime, the clients on another, every
//! caller in a task of its runtime (a caller on the thread that blocks on the runtime would pay a
//! wake-up between threads on every reply); the zerorpc-python server (bench/zerorpc_server.py)
//! runs in its own process and is called twice: by the same Rust client as the rpcgen server, and
//! by zerorpc-python's own client (bench/zerorpc_client.py, a third process), the whole stack that
//! rpcgen replaces. zerorpc-node's server (bench/zerorpc_node_server.cjs) runs in a process too,
//! called by the Rust client.
//! Everything listens on 127.0.0.1 only.

mod cases;
mod options;
mod raw;
mod zerorpc_client;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use rpcgen_bench::cpu;
use rpcgen_bench::measure::{run_callers, Limits, Summary};
use rpcgen_bench::peer::{self, ChildPeer};
use rpcgen_bench::service;
use rpcgen_bench::table::{self, Row};
use rpcgen_runtime::{Client, Server};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::runtime::Handle;
use tokio::sync::Mutex;

use cases::{Case, StreamCase};
use options::{Options, Target};

/// How long one call may take before the benchmark reports it as failed.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// How long zerorpc-python or zerorpc-node may take to start.
const PEER_START: Duration = Duration::from_secs(30);
/// Why the raw targets have no row for a stream: they exchange one request and one reply.
const NO_RAW_STREAM: &str = "no raw baseline for streams";
/// How long zerorpc-python's client may take to answer a measurement beyond its time limit.
const PYTHON_ANSWER_MARGIN: Duration = Duration::from_secs(30);

fn main() {
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    if let Err(message) = run(&options) {
        eprintln!("runtime-bench: {message}");
        std::process::exit(1);
    }
}

fn run(options: &Options) -> Result<(), String> {
    if options.spin && options.threads > 1 {
        eprintln!(
            "runtime-bench: --spin keeps one worker per runtime busy; with --threads {} the \
             others still sleep, so expect slower, not faster, round trips",
            options.threads
        );
    }
    let server_runtime = runtime("server", options.threads)?;
    let client_runtime = runtime("client", options.threads)?;
    let servers = server_runtime.handle().clone();
    let rows = client_runtime.block_on(measure_all(options, &servers))?;
    println!("{}", table::render(&rows));
    print_reading(&rows);
    println!("load average after the run: {}", load_average());
    Ok(())
}

fn runtime(side: &str, threads: usize) -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name(format!("bench-{side}"))
        .enable_all()
        .build()
        .map_err(|error| format!("could not start the {side} runtime: {error}"))
}

/// The targets every case is measured against, each ready to call.
struct Targets {
    servers: Handle,
    rpcgen: Client,
    python: Result<Client, String>,
    python_pid: Option<u32>,
    /// zerorpc-python's client, connected to zerorpc-python's server.
    python_client: Result<Arc<Mutex<ChildPeer>>, String>,
    python_client_pid: Option<u32>,
    node: Result<Client, String>,
    node_pid: Option<u32>,
}

impl Targets {
    /// The processes whose CPU time a call to `target` costs: this one (clients, and the Rust
    /// servers), plus zerorpc-python's server and client, or zerorpc-node's server, where they
    /// take part.
    fn processes(&self, target: Target) -> Vec<u32> {
        let mut pids = vec![std::process::id()];
        if matches!(target, Target::Python | Target::PythonBoth) {
            pids.extend(self.python_pid);
        }
        if target == Target::PythonBoth {
            pids.extend(self.python_client_pid);
        }
        if target == Target::Node {
            pids.extend(self.node_pid);
        }
        pids
    }
}

async fn measure_all(options: &Options, servers: &Handle) -> Result<Vec<Row>, String> {
    println!("{}", options.describe());
    println!("load average before the run: {}", load_average());
    let rpcgen_server = servers
        .spawn(Server::bind("tcp://127.0.0.1:0", service::service()))
        .await
        .map_err(|error| format!("the rpcgen server task failed: {error}"))?
        .map_err(|error| format!("the rpcgen server did not start: {error}"))?;
    let python_server = if options.wants(Target::Python) || options.wants(Target::PythonBoth) {
        start_python("zerorpc_server.py", &[]).await
    } else {
        Err("not selected".to_string())
    };
    let python_client = match &python_server {
        Ok(server) if options.wants(Target::PythonBoth) => {
            start_python("zerorpc_client.py", &[server.endpoint()]).await
        }
        Ok(_) => Err("not selected".to_string()),
        Err(reason) => Err(reason.clone()),
    };
    let node_server = if options.wants(Target::Node) {
        start_node_server().await
    } else {
        Err("not selected".to_string())
    };
    let targets = Targets {
        servers: servers.clone(),
        rpcgen: client(rpcgen_server.endpoint())?,
        python: match &python_server {
            Ok(peer) => client(peer.endpoint()),
            Err(reason) => Err(reason.clone()),
        },
        python_pid: python_server.as_ref().ok().and_then(ChildPeer::pid),
        python_client_pid: python_client.as_ref().ok().and_then(ChildPeer::pid),
        python_client: python_client.map(|peer| Arc::new(Mutex::new(peer))),
        node: match &node_server {
            Ok(peer) => client(peer.endpoint()),
            Err(reason) => Err(reason.clone()),
        },
        node_pid: node_server.as_ref().ok().and_then(ChildPeer::pid),
    };
    let mut rows = Vec::new();
    rows.extend(measure_case(options, &targets, &cases::echo()).await);
    rows.extend(measure_case(options, &targets, &cases::echo_concurrent()).await);
    rows.extend(measure_case(options, &targets, &cases::dict()).await);
    rows.extend(measure_case(options, &targets, &cases::large_bytes()).await);
    rows.extend(measure_case(options, &targets, &cases::items_stream()).await);
    // Every runner holding the client is gone by now; were one left, dropping kills the process.
    if let Ok(Ok(peer)) = targets.python_client.map(Arc::try_unwrap) {
        peer.into_inner().stop().await;
    }
    for peer in [python_server, node_server].into_iter().flatten() {
        peer.stop().await;
    }
    let _ = servers.spawn(rpcgen_server.shutdown()).await;
    Ok(rows)
}

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Starts one of the zerorpc-python scripts beside this crate's manifest.
async fn start_python(script: &str, args: &[&str]) -> Result<ChildPeer, String> {
    let python = peer::python(&repository());
    if !python.exists() {
        return Err(format!(
            "no Python at {} (run scripts/test.sh once to create .venv, or set RPCGEN_PYTHON)",
            python.display()
        ));
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join(script);
    let script = script.to_string_lossy();
    let args: Vec<&str> = std::iter::once(&*script)
        .chain(args.iter().copied())
        .collect();
    ChildPeer::start(&python, &args, PEER_START).await
}

/// Starts zerorpc-node's benchmark server, bench/zerorpc_node_server.cjs.
async fn start_node_server() -> Result<ChildPeer, String> {
    if !repository().join("node_modules/zerorpc").is_dir() {
        return Err(
            "zerorpc-node is not installed (run scripts/test.sh once: it runs npm ci)".into(),
        );
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("zerorpc_node_server.cjs");
    ChildPeer::start(Path::new("node"), &[&script.to_string_lossy()], PEER_START).await
}

fn client(endpoint: &str) -> Result<Client, String> {
    Client::builder(endpoint)
        .timeout(CALL_TIMEOUT)
        .connect()
        .map_err(|error| format!("could not create a client for {endpoint}: {error}"))
}

/// A target prepared for one case.
enum Runner {
    Raw {
        /// Shared with the task that measures it, which runs on a worker like the callers of
        /// the other targets.
        client: Arc<tokio::sync::Mutex<raw::RawClient>>,
        server: tokio::task::JoinHandle<()>,
    },
    Typed(Client),
    /// zerorpc-python's client, and the call's arguments as a MessagePack array.
    PythonClient {
        peer: Arc<Mutex<ChildPeer>>,
        arguments: Vec<u8>,
    },
}

impl Runner {
    /// zerorpc-python's client for `arguments`, checked with one call (the script checks the
    /// answer of the first call of every measurement).
    async fn python_client(
        targets: &Targets,
        kind: zerorpc_client::Kind,
        method: &str,
        arguments: Vec<u8>,
    ) -> Result<Self, String> {
        let mut runner = Self::PythonClient {
            peer: targets.python_client.clone()?,
            arguments,
        };
        let one_call = Limits {
            calls: 1,
            duration: CALL_TIMEOUT,
        };
        runner.measure_python(kind, method, 1, one_call).await?;
        Ok(runner)
    }

    /// Has zerorpc-python's client make the calls, when this runner is that client.
    async fn measure_python(
        &mut self,
        kind: zerorpc_client::Kind,
        method: &str,
        callers: usize,
        limits: Limits,
    ) -> Result<Summary, String> {
        let Self::PythonClient { peer, arguments } = self else {
            return Err("not zerorpc-python's client".to_string());
        };
        let command = zerorpc_client::command(kind, method, callers, limits, arguments);
        let answer = peer
            .lock()
            .await
            .request(&command, limits.duration + PYTHON_ANSWER_MARGIN)
            .await?;
        zerorpc_client::summary(&answer)
    }
}

/// What a case measures: a call that echoes its argument, or a stream read to its end.
trait Workload {
    /// The short name `--case` selects, and the description shown in the table.
    fn names(&self) -> (&'static str, &'static str);
    /// Readies `target`, checking with one call that it answers correctly.
    async fn prepare(&self, targets: &Targets, target: Target) -> Result<Runner, String>;
    /// Measures on a prepared target within `limits`.
    async fn measure(&self, runner: &mut Runner, limits: Limits) -> Result<Summary, String>;
}

impl<T> Workload for Case<T>
where
    T: Serialize + DeserializeOwned + PartialEq + Send + Sync + 'static,
{
    fn names(&self) -> (&'static str, &'static str) {
        (self.id, self.label)
    }

    async fn prepare(&self, targets: &Targets, target: Target) -> Result<Runner, String> {
        let client = match target {
            Target::Raw | Target::RawTyped => {
                let (request, reply) = cases::wire_frames(self)?;
                let fixed = raw::Fixed { request, reply };
                let payload: Arc<dyn raw::Payload> = if target == Target::Raw {
                    Arc::new(fixed)
                } else {
                    Arc::new(raw::Typed::new(self.value.clone(), &fixed)?)
                };
                let (endpoint, server) = targets
                    .servers
                    .spawn(raw::start_echo_server(payload.clone()))
                    .await
                    .map_err(|error| format!("the raw server task failed: {error}"))??;
                let mut client = raw::RawClient::connect(&endpoint, payload).await?;
                client.verify().await?;
                let client = Arc::new(tokio::sync::Mutex::new(client));
                return Ok(Runner::Raw { client, server });
            }
            Target::Rpcgen => targets.rpcgen.clone(),
            Target::Python => targets.python.clone()?,
            Target::Node => targets.node.clone()?,
            Target::PythonBoth => {
                let arguments = rpcgen_runtime::value::encode(&(&*self.value,))
                    .map_err(|error| error.to_string())?;
                let kind = zerorpc_client::Kind::Call;
                return Runner::python_client(targets, kind, self.method, arguments).await;
            }
        };
        let answer: T = client
            .call(self.method, (&*self.value,))
            .await
            .map_err(|error| error.to_string())?;
        if answer != *self.value {
            return Err(format!("`{}` answered a different value", self.method));
        }
        Ok(Runner::Typed(client))
    }

    async fn measure(&self, runner: &mut Runner, limits: Limits) -> Result<Summary, String> {
        match runner {
            Runner::Raw { client, .. } => {
                let client = client.clone();
                let concurrency = self.concurrency;
                tokio::spawn(async move { client.lock().await.pipeline(concurrency, limits).await })
                    .await
                    .map_err(|error| format!("the raw client task failed: {error}"))?
            }
            Runner::Typed(client) => {
                let client = client.clone();
                let method = self.method;
                let value = self.value.clone();
                run_callers(self.concurrency, limits, move || {
                    let client = client.clone();
                    let value = value.clone();
                    async move {
                        client
                            .call::<T, _>(method, (&*value,))
                            .await
                            .map(drop)
                            .map_err(|error| error.to_string())
                    }
                })
                .await
            }
            Runner::PythonClient { .. } => {
                let kind = zerorpc_client::Kind::Call;
                runner
                    .measure_python(kind, self.method, self.concurrency, limits)
                    .await
            }
        }
    }
}

impl Workload for StreamCase {
    fn names(&self) -> (&'static str, &'static str) {
        (self.id, self.label)
    }

    async fn prepare(&self, targets: &Targets, target: Target) -> Result<Runner, String> {
        let client = match target {
            Target::Raw | Target::RawTyped => return Err(NO_RAW_STREAM.to_string()),
            Target::Rpcgen => targets.rpcgen.clone(),
            Target::Python => targets.python.clone()?,
            Target::Node => targets.node.clone()?,
            Target::PythonBoth => {
                let arguments = rpcgen_runtime::value::encode(&(self.count, self.size))
                    .map_err(|error| error.to_string())?;
                let kind = zerorpc_client::Kind::Stream;
                return Runner::python_client(targets, kind, self.method, arguments).await;
            }
        };
        read_stream(&client, self.method, self.count, self.size).await?;
        Ok(Runner::Typed(client))
    }

    async fn measure(&self, runner: &mut Runner, limits: Limits) -> Result<Summary, String> {
        match runner {
            Runner::Raw { .. } => Err(NO_RAW_STREAM.to_string()),
            Runner::Typed(client) => {
                let client = client.clone();
                let (method, count, size) = (self.method, self.count, self.size);
                run_callers(1, limits, move || {
                    let client = client.clone();
                    async move { read_stream(&client, method, count, size).await }
                })
                .await
            }
            Runner::PythonClient { .. } => {
                let kind = zerorpc_client::Kind::Stream;
                runner.measure_python(kind, self.method, 1, limits).await
            }
        }
    }
}

/// Calls the streaming `method` and reads it to its end, checking every item.
async fn read_stream(client: &Client, method: &str, count: u64, size: u64) -> Result<(), String> {
    let mut items = client
        .call_stream::<String, _>(method, (count, size))
        .await
        .map_err(|error| error.to_string())?;
    let mut received = 0;
    while let Some(item) = items.next().await {
        let item = item.map_err(|error| error.to_string())?;
        if item.len() as u64 != size {
            return Err(format!("`{method}` sent an item of {} bytes", item.len()));
        }
        received += 1;
    }
    if received != count {
        return Err(format!("`{method}` sent {received} items, not {count}"));
    }
    Ok(())
}

impl Drop for Runner {
    fn drop(&mut self) {
        if let Self::Raw { server, .. } = self {
            server.abort();
        }
    }
}

/// With `--spin`, one task on the server runtime and one on the client runtime that yield in a
/// loop while an in-process target is measured: each worker then polls for I/O between messages
/// instead of sleeping, so no message waits for a sleeping CPU to wake. The tasks stop when this
/// is dropped.
struct Spinners(Vec<tokio::task::JoinHandle<()>>);

impl Spinners {
    fn start(options: &Options, targets: &Targets, target: Target) -> Self {
        if !options.spin || !target.in_process() {
            return Self(Vec::new());
        }
        let spin = || async {
            loop {
                tokio::task::yield_now().await;
            }
        };
        Self(vec![targets.servers.spawn(spin()), tokio::spawn(spin())])
    }
}

impl Drop for Spinners {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// Measures one case, when selected, against every selected target: a warm-up, then rounds in
/// which targets take turns; each target's row is its median round by calls per second.
async fn measure_case(options: &Options, targets: &Targets, case: &impl Workload) -> Vec<Row> {
    let (id, label) = case.names();
    if !options.wants_case(id) {
        return Vec::new();
    }
    let selected = options.targets();
    let mut runners = Vec::new();
    for &target in &selected {
        let mut runner = case.prepare(targets, target).await;
        if let Ok(ready) = &mut runner {
            let _spinners = Spinners::start(options, targets, target);
            if let Err(error) = case.measure(ready, options.warm_up).await {
                runner = Err(format!("warm-up failed: {error}"));
            }
        }
        runners.push(runner);
    }
    let mut rounds: Vec<Vec<Result<Summary, String>>> = vec![Vec::new(); selected.len()];
    for round in 1..=options.rounds {
        for ((target, runner), results) in selected.iter().zip(&mut runners).zip(&mut rounds) {
            let Ok(runner) = runner else { continue };
            let processes = targets.processes(*target);
            let spinners = Spinners::start(options, targets, *target);
            let cpu_before = cpu::total_time(&processes);
            let result = case.measure(runner, options.limits).await;
            drop(spinners);
            let cpu_used = cpu::total_time(&processes)
                .zip(cpu_before)
                .map(|(after, before)| after.saturating_sub(before));
            let result = result.map(|summary| Summary {
                cpu: cpu_used,
                ..summary
            });
            eprintln!(
                "{} · {} · round {round}: {}",
                label,
                target.label(),
                match &result {
                    Ok(summary) => format!("{:.0} calls/s", summary.calls_per_second()),
                    Err(error) => error.clone(),
                }
            );
            results.push(result);
        }
    }
    selected
        .iter()
        .zip(runners)
        .zip(rounds)
        .map(|((target, runner), results)| Row {
            case: label.to_string(),
            target: target.label().to_string(),
            outcome: runner.and_then(|_| median_round(results)),
        })
        .collect()
}

/// The round with the median throughput, or the first failure.
fn median_round(results: Vec<Result<Summary, String>>) -> Result<Summary, String> {
    let mut summaries = results.into_iter().collect::<Result<Vec<_>, _>>()?;
    summaries.sort_by(|a, b| a.calls_per_second().total_cmp(&b.calls_per_second()));
    let middle = summaries.len() / 2;
    summaries
        .into_iter()
        .nth(middle)
        .ok_or_else(|| "no round ran".to_string())
}

/// Prints, per case, how the rpcgen runtime compares with the issue's targets.
fn print_reading(rows: &[Row]) {
    let measured = |case: &str, target: Target| {
        rows.iter()
            .find(|row| row.case == case && row.target == target.label())
            .and_then(|row| row.outcome.as_ref().ok())
    };
    let mut cases: Vec<&str> = rows.iter().map(|row| row.case.as_str()).collect();
    cases.dedup();
    println!("Against the targets (calls/s of rpcgen ÷ calls/s of the other):");
    for case in cases {
        let Some(rpcgen) = measured(case, Target::Rpcgen) else {
            continue;
        };
        let ratio = |other: &Summary| rpcgen.calls_per_second() / other.calls_per_second();
        let versus_raw = measured(case, Target::Raw).map_or("not measured".to_string(), |raw| {
            let ratio = ratio(raw);
            let verdict = if ratio >= 0.85 { "met" } else { "MISSED" };
            // With one caller the raw round trip is bimodal on some machines (a woken or a still
            // awake peer); the median latency is the reading least moved by that.
            let by_latency = raw.p50.as_secs_f64() / rpcgen.p50.as_secs_f64();
            format!("{ratio:.2} of raw (≥ 0.85: {verdict}; by p50 {by_latency:.2})")
        });
        let versus_typed = measured(case, Target::RawTyped).map_or(String::new(), |floor| {
            format!("; {:.2} of raw + rmp-serde", ratio(floor))
        });
        let versus_python = |target: Target, whose: &str| {
            measured(case, target).map_or(format!("{whose} not measured"), |python| {
                let ratio = ratio(python);
                let verdict = if ratio >= 8.0 { "met" } else { "MISSED" };
                format!("{ratio:.1}× {whose} (≥ 8×: {verdict})")
            })
        };
        let versus_node = measured(case, Target::Node).map_or(String::new(), |node| {
            format!("; {:.1}× zerorpc-node's server", ratio(node))
        });
        println!(
            "- {case}: {versus_raw}{versus_typed}; {}; {}{versus_node}",
            versus_python(Target::Python, "zerorpc-python's server"),
            versus_python(Target::PythonBoth, "zerorpc-python client + server"),
        );
    }
}

/// The system's load averages, when the platform shows them.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".to_string())
}
