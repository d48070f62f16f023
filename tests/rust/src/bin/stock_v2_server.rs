//! Serves version 2 of the evolution fixture's stock service (`rpcgen_e2e::evolution`) for the
//! TypeScript and Python evolution tests, which call it with clients generated from version 1.
//!
//! Usage: `stock-v2-server`. Binds a free port on 127.0.0.1, prints `READY <endpoint>`, and serves
//! until its stdin closes.

use std::process::ExitCode;

use rpcgen_e2e::evolution::{v2, StockV2};
use rpcgen_runtime::Server;
use tokio::io::AsyncReadExt as _;

#[tokio::main]
async fn main() -> ExitCode {
    let started = Server::builder(v2::stock::stock_service(StockV2::default()))
        .bind("tcp://127.0.0.1:0")
        .start()
        .await;
    let server = match started {
        Ok(server) => server,
        Err(error) => {
            eprintln!("stock-v2-server: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("READY {}", server.endpoint());
    server
        .run_until(async {
            // Reads until end of file (or an error): the parent closed stdin, or went away.
            let mut discarded = Vec::new();
            let _ = tokio::io::stdin().read_to_end(&mut discarded).await;
        })
        .await;
    ExitCode::SUCCESS
}
