//! Serves the notes board.
//!
//! Usage: `board-server [ENDPOINT]` (default `tcp://127.0.0.1:4243`). Prints `READY <endpoint>`
//! once it listens (with the real port when the endpoint asks for port 0), then serves until
//! Ctrl-C or until its standard input closes.

use std::process::ExitCode;

use rpcgen_example_trait_first::{board, Notes};
use rpcgen_runtime::Server;
use tokio::io::AsyncReadExt;

#[tokio::main]
async fn main() -> ExitCode {
    let endpoint = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "tcp://127.0.0.1:4243".to_string());
    let server = match Server::bind(endpoint, board::board_service(Notes::new())).await {
        Ok(server) => server,
        Err(error) => {
            eprintln!("board-server: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("READY {}", server.endpoint());
    server
        .run_until(async {
            let mut stdin = tokio::io::stdin();
            let mut buffer = [0u8; 64];
            let closed =
                async { while stdin.read(&mut buffer).await.is_ok_and(|read| read > 0) {} };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                () = closed => {}
            }
        })
        .await;
    ExitCode::SUCCESS
}
