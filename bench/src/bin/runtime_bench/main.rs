//! `runtime-bench`: calls per second and p50/p99 latency of the Rust runtime, side by side with
//! a raw `zeromq` DEALER/ROUTER round trip and with zerorpc-python's own server.
//!
//! ```text
//! cargo run --release -p rpcgen-bench --bin runtime-bench -- [--quick] [--rounds N]
//!     [--seconds S] [--threads N] [--case echo|echo-32|dict|bytes]
//!     [--target raw|raw-typed|rpcgen|python|python-both]
//! ```
//!
//! Two raw baselines use the same `zeromq` crate with no channels or heartbeats: one exchanges
//! fixed bytes (the transport alone), the other also encodes and decodes the value with plain
//! rmp-serde on both sides (the least any typed RPC does).
//!
//! Every case runs against every target in one process, so a noisy machine affects them alike:
//! targets take turns within each round, and the table shows each target's median round.
//! The rpcgen server and the raw server run on one Tokio runtime, the clients on another; the
//! zerorpc-python server (bench/zerorpc_server.py) runs in its own process and is called twice:
//! by the same Rust client as the rpcgen server, and by zerorpc-python's own client
//! (bench/zerorpc_client.py, a third process), the whole stack that rpcgen replaces. Everything
//! listens on 127.0.0.1 only.

mod cases;
mod options;
mod raw;
mod zerorpc_client;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

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

use cases::Case;
use options::{Options, Target};

/// How long one call may take before the benchmark reports it as failed.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// How long zerorpc-python may take to start.
const PYTHON_START: Duration = Duration::from_secs(30);
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
}

impl Targets {
    /// The processes whose CPU time a call to `target` costs: this one (clients, and the Rust
    /// servers), plus zerorpc-python's server and client where they take part.
    fn processes(&self, target: Target) -> Vec<u32> {
        let mut pids = vec![std::process::id()];
        if matches!(target, Target::Python | Target::PythonBoth) {
            pids.extend(self.python_pid);
        }
        if target == Target::PythonBoth {
            pids.extend(self.python_client_pid);
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
    };
    let mut rows = Vec::new();
    rows.extend(measure_case(options, &targets, &cases::echo()).await);
    rows.extend(measure_case(options, &targets, &cases::echo_concurrent()).await);
    rows.extend(measure_case(options, &targets, &cases::dict()).await);
    rows.extend(measure_case(options, &targets, &cases::large_bytes()).await);
    // Every runner holding the client is gone by now; were one left, dropping kills the process.
    if let Ok(Ok(peer)) = targets.python_client.map(Arc::try_unwrap) {
        peer.into_inner().stop().await;
    }
    if let Ok(peer) = python_server {
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
    ChildPeer::start(&python, &args, PYTHON_START).await
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
        client: raw::RawClient,
        server: tokio::task::JoinHandle<()>,
    },
    Typed(Client),
    /// zerorpc-python's client, and the argument as MessagePack.
    PythonClient {
        peer: Arc<Mutex<ChildPeer>>,
        argument: Vec<u8>,
    },
}

impl Runner {
    /// Prepares `target` for `case` and checks, with one call, that it answers correctly.
    async fn prepare<T>(targets: &Targets, target: Target, case: &Case<T>) -> Result<Self, String>
    where
        T: Serialize + DeserializeOwned + PartialEq + Send + Sync + 'static,
    {
        let client = match target {
            Target::Raw | Target::RawTyped => {
                let (request, reply) = cases::wire_frames(case)?;
                let fixed = raw::Fixed { request, reply };
                let payload: Arc<dyn raw::Payload> = if target == Target::Raw {
                    Arc::new(fixed)
                } else {
                    Arc::new(raw::Typed::new(case.value.clone(), &fixed)?)
                };
                let (endpoint, server) = targets
                    .servers
                    .spawn(raw::start_echo_server(payload.clone()))
                    .await
                    .map_err(|error| format!("the raw server task failed: {error}"))??;
                let mut client = raw::RawClient::connect(&endpoint, payload).await?;
                client.verify().await?;
                return Ok(Self::Raw { client, server });
            }
            Target::Rpcgen => targets.rpcgen.clone(),
            Target::Python => targets.python.clone()?,
            Target::PythonBoth => {
                let mut runner = Self::PythonClient {
                    peer: targets.python_client.clone()?,
                    argument: rpcgen_runtime::value::encode(&*case.value)
                        .map_err(|error| error.to_string())?,
                };
                // The script checks that the first call of every measurement echoes the value.
                let one_call = Limits {
                    calls: 1,
                    duration: CALL_TIMEOUT,
                };
                runner.measure(case, one_call).await?;
                return Ok(runner);
            }
        };
        let answer: T = client
            .call(case.method, (&*case.value,))
            .await
            .map_err(|error| error.to_string())?;
        if answer != *case.value {
            return Err(format!("`{}` answered a different value", case.method));
        }
        Ok(Self::Typed(client))
    }

    /// Measures the case within `limits`.
    async fn measure<T>(&mut self, case: &Case<T>, limits: Limits) -> Result<Summary, String>
    where
        T: Serialize + DeserializeOwned + Send + Sync + 'static,
    {
        match self {
            Self::Raw { client, .. } => client.pipeline(case.concurrency, limits).await,
            Self::Typed(client) => {
                let client = client.clone();
                let method = case.method;
                let value = case.value.clone();
                run_callers(case.concurrency, limits, move || {
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
            Self::PythonClient { peer, argument } => {
                let command =
                    zerorpc_client::command(case.method, case.concurrency, limits, argument);
                let answer = peer
                    .lock()
                    .await
                    .request(&command, limits.duration + PYTHON_ANSWER_MARGIN)
                    .await?;
                zerorpc_client::summary(&answer)
            }
        }
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        if let Self::Raw { server, .. } = self {
            server.abort();
        }
    }
}

/// Measures one case, when selected, against every selected target: a warm-up, then rounds in
/// which targets take turns; each target's row is its median round by calls per second.
async fn measure_case<T>(options: &Options, targets: &Targets, case: &Case<T>) -> Vec<Row>
where
    T: Serialize + DeserializeOwned + PartialEq + Send + Sync + 'static,
{
    if !options.wants_case(case.id) {
        return Vec::new();
    }
    let selected = options.targets();
    let mut runners = Vec::new();
    for &target in &selected {
        let mut runner = Runner::prepare(targets, target, case).await;
        if let Ok(ready) = &mut runner {
            if let Err(error) = ready.measure(case, options.warm_up).await {
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
            let cpu_before = cpu::total_time(&processes);
            let result = runner.measure(case, options.limits).await;
            let cpu_used = cpu::total_time(&processes)
                .zip(cpu_before)
                .map(|(after, before)| after.saturating_sub(before));
            let result = result.map(|summary| Summary {
                cpu: cpu_used,
                ..summary
            });
            eprintln!(
                "{} · {} · round {round}: {}",
                case.label,
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
            case: case.label.to_string(),
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
            format!("{ratio:.2} of raw (≥ 0.85: {verdict})")
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
        println!(
            "- {case}: {versus_raw}{versus_typed}; {}; {}",
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
