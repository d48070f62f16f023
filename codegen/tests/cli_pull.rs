//! `rpcgen pull` on the command line, against a runtime service served in this process: what it
//! writes, what it says, and how it fails.

use std::process::Output;

use rpcgen_runtime::{MethodInfo, Server, Service};
use tokio::process::Command;

async fn rpcgen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rpcgen"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .await
        .expect("rpcgen runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

const COMMON: &str = "package common;\n\n/// A sum of money.\nstruct Money {\n    cents: i64,\n}\n";
const SHOP: &str =
    "package shop;\n\nimport \"common.rpc\";\n\nservice Shop {\n    price() -> common.Money;\n}\n";

async fn shop() -> Server {
    let service = Service::new("Shop")
        .contract("shop.rpc", [("common.rpc", COMMON), ("shop.rpc", SHOP)])
        .blocking(MethodInfo::new("price"), |_| Ok(()));
    Server::bind("tcp://127.0.0.1:0", service).await.unwrap()
}

#[tokio::test]
async fn pull_writes_the_published_contract_and_says_so() {
    let server = shop().await;
    let out = tempfile::tempdir().unwrap();
    let out_dir = out.path().to_str().unwrap();
    let output = rpcgen(&["pull", "--out", out_dir, server.endpoint()]).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stderr(&output),
        format!(
            "wrote {out_dir}/common.rpc, {out_dir}/shop.rpc: the contract the server publishes\n"
        )
    );
    let read = |name: &str| std::fs::read_to_string(out.path().join(name)).unwrap();
    assert_eq!(
        (read("common.rpc"), read("shop.rpc")),
        (COMMON.into(), SHOP.into())
    );

    let printed = rpcgen(&["pull", server.endpoint()]).await;
    assert_eq!(printed.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&printed.stdout),
        format!("{COMMON}\n{SHOP}")
    );
    server.shutdown().await;
}

#[tokio::test]
async fn pull_fails_clearly() {
    let output = rpcgen(&["pull", "--package", "Not Valid", "tcp://127.0.0.1:1"]).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("`Not Valid` cannot name a package"),
        "{}",
        stderr(&output)
    );

    let output = rpcgen(&["pull", "nowhere"]).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).starts_with("error: cannot pull from `nowhere`: "),
        "{}",
        stderr(&output)
    );

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = format!("tcp://127.0.0.1:{port}");
    let output = rpcgen(&["pull", "--timeout", "1", &endpoint]).await;
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output),
        format!(
            "error: cannot pull from `{endpoint}`: no answer to `_zerorpc_inspect` within 1s: is \
             a zerorpc server listening there? (a slow one: raise --timeout)\n\n"
        )
    );
}
