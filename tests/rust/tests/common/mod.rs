//! Helpers shared by the end-to-end tests: the example shop served in this process, the venv's
//! Python, and Python scripts and peers run as child processes.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use rpcgen_example_shop::{shop, Shop};
use rpcgen_runtime::{Client, Server, Service};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Heartbeat of Rust-to-Rust tests: short, with room for a loaded 2-core machine.
pub const HEARTBEAT: Duration = Duration::from_millis(500);
/// Heartbeat when zerorpc-python is on the other side (its settings take whole seconds).
pub const PYTHON_HEARTBEAT: Duration = Duration::from_secs(1);
/// The longest a child process may take to start or to finish its work.
const CHILD_LIMIT: Duration = Duration::from_secs(60);

/// The wire names of the example shop's methods, sorted: what introspection must list.
pub const SHOP_WIRE_METHODS: [&str; 10] = [
    "attach",
    "close",
    "first",
    "get",
    "history",
    "move",
    "open",
    "report",
    "stats",
    "ticket_list",
];

/// The repository's root.
pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Serves a fresh example shop on a free loopback port.
pub async fn start_shop(heartbeat: Duration) -> Server {
    serve(shop::tickets_service(Shop::new()), heartbeat).await
}

/// Serves `service` on a free loopback port.
pub async fn serve(service: Service, heartbeat: Duration) -> Server {
    Server::builder(service)
        .bind("tcp://127.0.0.1:0")
        .heartbeat(Some(heartbeat))
        .start()
        .await
        .expect("the server starts")
}

/// A runtime client for `endpoint` with the given heartbeat and a generous default timeout.
pub fn runtime_client(endpoint: &str, heartbeat: Duration) -> Client {
    Client::builder(endpoint)
        .heartbeat(Some(heartbeat))
        .timeout(Duration::from_secs(20))
        .connect()
        .expect("a valid endpoint")
}

/// The venv's Python with zerorpc, from `RPCGEN_PYTHON` or `<repository>/.venv`.
pub fn python() -> PathBuf {
    let python = std::env::var_os("RPCGEN_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join(".venv/bin/python"));
    assert!(
        python.exists(),
        "no Python venv with zerorpc at {}: run scripts/test.sh once (it creates .venv/), or set \
         RPCGEN_PYTHON",
        python.display()
    );
    python
}

/// Runs a Python script with arguments and returns its stdout; fails the test with its stderr
/// when it does not succeed within the limit.
pub async fn run_python(script: &str, args: &[&str]) -> String {
    let run = Command::new(python())
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(script))
        .args(args)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(CHILD_LIMIT, run)
        .await
        .unwrap_or_else(|_| panic!("{script} did not finish within {CHILD_LIMIT:?}"))
        .expect("python runs");
    assert!(
        output.status.success(),
        "{script} failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("the script prints UTF-8")
}

/// Starts the real zerorpc-python peer (`tests/fixtures/zerorpc_peer.py`) and returns it with its
/// endpoint; it stops when the returned child is dropped.
pub async fn python_peer() -> (Child, String) {
    start_peer(python(), "tests/fixtures/zerorpc_peer.py").await
}

/// Starts the real zerorpc-node peer (`tests/fixtures/zerorpc_node_peer.cjs`), like
/// [`python_peer`].
pub async fn node_peer() -> (Child, String) {
    let zerorpc = workspace().join("node_modules/zerorpc/package.json");
    assert!(
        zerorpc.exists(),
        "zerorpc-node is not installed ({} is missing): run scripts/test.sh once (it runs npm ci)",
        zerorpc.display()
    );
    start_peer("node".into(), "tests/fixtures/zerorpc_node_peer.cjs").await
}

/// Runs a peer script of the repository with 1 s heartbeats and waits for its `READY <endpoint>`.
async fn start_peer(program: PathBuf, script: &str) -> (Child, String) {
    let mut child = Command::new(&program)
        .arg(workspace().join(script))
        .args(["--heartbeat", "1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        // The zerorpc servers log every ERR they send with a stack; keep test output readable.
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|error| panic!("{script} starts with {}: {error}", program.display()));
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
    let mut line = String::new();
    tokio::time::timeout(CHILD_LIMIT, stdout.read_line(&mut line))
        .await
        .expect("the peer prints READY in time")
        .expect("reading the peer's stdout");
    let endpoint = line
        .trim()
        .strip_prefix("READY ")
        .unwrap_or_else(|| panic!("unexpected first line from the peer: {line:?}"))
        .to_string();
    (child, endpoint)
}
