//! Serves the example ticket shop.
//!
//! Usage: `shop-server [--bind ENDPOINT] [--heartbeat SECONDS]`. Prints `READY <endpoint>` once it
//! listens (with the real port when the endpoint asks for port 0), then serves until Ctrl-C.

use std::process::ExitCode;
use std::time::Duration;

use rpcgen_example_shop::{shop, Shop};
use rpcgen_runtime::Server;

const USAGE: &str = "usage: shop-server [--bind ENDPOINT] [--heartbeat SECONDS]\n\
    defaults: --bind tcp://127.0.0.1:4242 --heartbeat 5";

/// The command-line options.
struct Options {
    bind: String,
    heartbeat: Duration,
}

impl Options {
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
        let mut options = Options {
            bind: "tcp://127.0.0.1:4242".to_string(),
            heartbeat: Duration::from_secs(5),
        };
        while let Some(arg) = args.next() {
            let mut value = || args.next().ok_or(format!("`{arg}` needs a value"));
            match arg.as_str() {
                "--bind" => options.bind = value()?,
                "--heartbeat" => {
                    let text = value()?;
                    options.heartbeat = text
                        .parse::<f64>()
                        .ok()
                        .and_then(|seconds| Duration::try_from_secs_f64(seconds).ok())
                        .filter(|interval| !interval.is_zero())
                        .ok_or(format!(
                            "`--heartbeat {text}` is not a positive number of seconds"
                        ))?;
                }
                other => return Err(format!("unknown argument `{other}`")),
            }
        }
        Ok(options)
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(problem) => {
            eprintln!("shop-server: {problem}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let started = Server::builder(shop::tickets_service(Shop::new()))
        .bind(&options.bind)
        .heartbeat(Some(options.heartbeat))
        .start()
        .await;
    let server = match started {
        Ok(server) => server,
        Err(error) => {
            eprintln!("shop-server: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("READY {}", server.endpoint());
    server
        .run_until(async {
            if tokio::signal::ctrl_c().await.is_err() {
                // Without signal handling, serve until the process is killed.
                std::future::pending::<()>().await;
            }
        })
        .await;
    ExitCode::SUCCESS
}
