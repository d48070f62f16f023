//! Starting the foreign peers of the interop tests: scripts run by the repository's Python venv
//! (zerorpc-python) or by Node with the repository's `node_modules/` (zerorpc-node).

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use rmpv::Value;
use rpcgen_runtime::Client;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

use super::collect_stream;

/// The heartbeat of the foreign peers and of the clients and servers that talk to them.
pub const HEARTBEAT: Duration = Duration::from_secs(1);

/// The lines a started script printed after its first one.
pub type Output = Lines<BufReader<ChildStdout>>;

/// The repository's root.
pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The venv's Python, from `RPCGEN_PYTHON` or `<workspace>/.venv`.
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

/// `node`, after checking that zerorpc-node is installed in `<workspace>/node_modules`.
pub fn node() -> &'static str {
    let zerorpc = workspace().join("node_modules/zerorpc/package.json");
    assert!(
        zerorpc.exists(),
        "zerorpc-node is not installed ({} is missing): run scripts/test.sh once (it runs npm ci)",
        zerorpc.display()
    );
    "node"
}

/// Runs `program` with `args` and waits for its first line, `READY <endpoint>`; returns the
/// running script, the endpoint and its later lines. The script is killed when dropped.
pub async fn start(program: impl AsRef<OsStr>, args: &[&OsStr]) -> (Child, String, Output) {
    let program = program.as_ref();
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        // Both zerorpc servers log every ERR they send with a stack; keep test output readable.
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|error| panic!("{} {args:?} does not start: {error}", program.display()));
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    tokio::time::timeout(Duration::from_secs(30), stdout.read_line(&mut line))
        .await
        .expect("the script prints READY within 30 s")
        .expect("reading the script's stdout");
    let endpoint = line
        .trim()
        .strip_prefix("READY ")
        .unwrap_or_else(|| panic!("unexpected first line from {args:?}: {line:?}"))
        .to_string();
    (child, endpoint, stdout.lines())
}

/// Runs `program` with `args` to its end (at most 120 s) and asserts that it printed `PASSED …`;
/// returns that line.
pub async fn run_checks(program: impl AsRef<OsStr>, args: &[&OsStr]) -> String {
    let program = program.as_ref();
    let run = Command::new(program).args(args).kill_on_drop(true).output();
    let output = tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .expect("the checks finish within 120 s")
        .expect("the checks run");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.starts_with("PASSED"),
        "{} {args:?} failed:\n{stdout}\n{}",
        program.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    stdout.trim().to_string()
}

/// The value of `key` in a MessagePack map.
pub fn field<'a>(map: &'a Value, key: &str) -> &'a Value {
    map.as_map()
        .and_then(|pairs| pairs.iter().find(|(name, _)| name.as_str() == Some(key)))
        .map(|(_, value)| value)
        .unwrap_or_else(|| panic!("no key {key} in {map}"))
}

/// A client for a foreign peer, with its heartbeat and a 20 s timeout.
pub fn peer_client(endpoint: &str) -> Client {
    Client::builder(endpoint)
        .heartbeat(Some(HEARTBEAT))
        .timeout(Duration::from_secs(20))
        .connect()
        .expect("client")
}

/// Calls the methods of tests/fixtures/peer.rpc that zerorpc-python and zerorpc-node answer
/// alike, and checks the answers: plain values, bytes, values that fit 32 bits echoed untouched,
/// a 1,000-item and an empty stream, and a call longer than three heartbeat intervals.
pub async fn check_what_every_peer_answers_alike(client: &Client) {
    assert_eq!(client.call::<i64, _>("add", (2, 3)).await.unwrap(), 5);
    assert_eq!(
        client.call::<String, _>("hello", ("rust",)).await.unwrap(),
        "Hello, rust"
    );
    client.call::<(), _>("nothing", ()).await.unwrap();
    let bytes = serde_bytes::Bytes::new(b"\x00\x01\x02");
    assert_eq!(
        client.call::<u64, _>("byte_len", (bytes,)).await.unwrap(),
        3
    );
    for value in [
        Value::Nil,
        Value::from(true),
        Value::from(-7),
        Value::F64(-0.5),
        Value::from("héllo"),
        Value::Binary(vec![0, 255]),
        Value::Array(vec![Value::from(1), Value::from("two")]),
        Value::Map(vec![(Value::from("k"), Value::Binary(vec![1]))]),
    ] {
        let echoed: Value = client.call("echo", (&value,)).await.unwrap();
        assert_eq!(echoed, value);
    }

    let items: Vec<u64> = collect_stream(client, "count", (1000,)).await;
    assert_eq!(items, (0..1000).collect::<Vec<_>>());
    let empty: Vec<u64> = collect_stream(client, "empty_stream", ()).await;
    assert!(empty.is_empty());

    assert_eq!(client.call::<f64, _>("slow", (3.5,)).await.unwrap(), 3.5);
}
