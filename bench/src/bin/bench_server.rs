//! Serves the benchmark service (`rpcgen_bench::service`) with the rpcgen runtime, for clients in
//! other processes: the Python client benchmark (`tests/python/bench/client_bench.py`) runs it.
//!
//! Usage: `bench-server [--heartbeat SECONDS]`. Binds a free port on 127.0.0.1, prints
//! `READY <endpoint>`, and serves until its stdin closes.

use std::process::ExitCode;
use std::time::Duration;

use rpcgen_runtime::Server;
use tokio::io::AsyncReadExt;

const USAGE: &str = "usage: bench-server [--heartbeat SECONDS]  (default 5)";

fn heartbeat(mut args: impl Iterator<Item = String>) -> Result<Duration, String> {
    match (args.next().as_deref(), args.next(), args.next()) {
        (None, _, _) => Ok(Duration::from_secs(5)),
        (Some("--heartbeat"), Some(seconds), None) => seconds
            .parse::<f64>()
            .ok()
            .and_then(|seconds| Duration::try_from_secs_f64(seconds).ok())
            .filter(|interval| !interval.is_zero())
            .ok_or(format!(
                "`--heartbeat {seconds}` is not a positive number of seconds"
            )),
        _ => Err("unexpected arguments".to_string()),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let heartbeat = match heartbeat(std::env::args().skip(1)) {
        Ok(heartbeat) => heartbeat,
        Err(problem) => {
            eprintln!("bench-server: {problem}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let started = Server::builder(rpcgen_bench::service::service())
        .bind("tcp://127.0.0.1:0")
        .heartbeat(Some(heartbeat))
        .start()
        .await;
    let server = match started {
        Ok(server) => server,
        Err(error) => {
            eprintln!("bench-server: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("READY {}", server.endpoint());
    server
        .run_until(async {
            let mut stdin = tokio::io::stdin();
            let mut buffer = [0u8; 256];
            while matches!(stdin.read(&mut buffer).await, Ok(read) if read > 0) {}
        })
        .await;
    ExitCode::SUCCESS
}
