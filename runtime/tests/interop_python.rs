//! Interop with the real zerorpc-python from PyPI, both ways: a zerorpc-python client calls a Rust
//! server, and a Rust client calls a zerorpc-python server. Both sides use 1 s heartbeats.

mod common;

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use common::{collect_stream, demo_builder, HeaderEntries, Probe};
use rmpv::Value;
use rpcgen_runtime::{CallError, Client};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const HEARTBEAT: Duration = Duration::from_secs(1);

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The venv's Python, from `RPCGEN_PYTHON` or `<workspace>/.venv`.
fn python() -> PathBuf {
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

/// Starts tests/fixtures/zerorpc_peer.py and returns it with its endpoint.
async fn python_server() -> (Child, String) {
    let mut child = Command::new(python())
        .arg(workspace().join("tests/fixtures/zerorpc_peer.py"))
        .args(["--heartbeat", "1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        // zerorpc-python logs every ERR it sends with a traceback; keep test output readable.
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the zerorpc-python peer starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    let mut stdout = BufReader::new(stdout);
    let read = stdout.read_line(&mut line);
    tokio::time::timeout(Duration::from_secs(30), read)
        .await
        .expect("the peer prints READY within 30 s")
        .expect("reading the peer's stdout");
    let endpoint = line
        .trim()
        .strip_prefix("READY ")
        .unwrap_or_else(|| panic!("unexpected first line from the peer: {line:?}"))
        .to_string();
    (child, endpoint)
}

fn field<'a>(map: &'a Value, key: &str) -> &'a Value {
    map.as_map()
        .and_then(|pairs| pairs.iter().find(|(name, _)| name.as_str() == Some(key)))
        .map(|(_, value)| value)
        .unwrap_or_else(|| panic!("no key {key} in {map}"))
}

#[tokio::test]
async fn a_rust_client_calls_zerorpc_python() {
    let (_peer, endpoint) = python_server().await;
    let client = Client::builder(&endpoint)
        .heartbeat(Some(HEARTBEAT))
        .timeout(Duration::from_secs(20))
        .connect()
        .unwrap();

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
        Value::from(u64::MAX),
        Value::from(i64::MIN),
        Value::F64(-0.5),
        Value::from("héllo"),
        Value::Binary(vec![0, 255]),
        Value::Array(vec![Value::from(1), Value::from("two")]),
        Value::Map(vec![(Value::from("k"), Value::Binary(vec![1]))]),
    ] {
        let echoed: Value = client.call("echo", (&value,)).await.unwrap();
        assert_eq!(echoed, value);
    }

    let sample: Value = client.call("sample", ()).await.unwrap();
    assert_eq!(field(&sample, "big").as_u64(), Some((1 << 63) + 5));
    assert_eq!(field(&sample, "min_i64").as_i64(), Some(i64::MIN));
    assert_eq!(field(&sample, "text").as_str(), Some("héllo"));
    assert_eq!(field(&sample, "bytes"), &Value::Binary(vec![0, 1, 255]));
    assert_eq!(field(&sample, "nil"), &Value::Nil);

    let error = client.call::<(), _>("fail", ("boom",)).await.unwrap_err();
    let remote = error.remote().expect("ERR");
    assert_eq!(
        (remote.name.as_str(), remote.message.as_str()),
        ("ValueError", "boom")
    );
    assert!(remote
        .traceback
        .as_deref()
        .unwrap_or_default()
        .contains("Traceback"));

    let error = client.call::<(), _>("nosuch", ()).await.unwrap_err();
    assert_eq!(error.remote().unwrap().name, "NameError");

    let items: Vec<u64> = collect_stream(&client, "count", (1000,)).await;
    assert_eq!(items, (0..1000).collect::<Vec<_>>());
    let empty: Vec<u64> = collect_stream(&client, "empty_stream", ()).await;
    assert!(empty.is_empty());

    let pong: Vec<String> = client.call("_zerorpc_ping", ()).await.unwrap();
    assert_eq!(pong[0], "pong");
    // zerorpc-python 0.6.3 cannot inspect on Python >= 3.11 (no inspect.getargspec).
    match client.call::<Value, _>("_zerorpc_inspect", ()).await {
        Ok(inspected) => assert!(field(&inspected, "methods").as_map().is_some()),
        Err(CallError::Remote { error, .. }) => assert_eq!(error.name, "AttributeError"),
        Err(other) => panic!("{other}"),
    }

    // Longer than three heartbeat intervals.
    assert_eq!(client.call::<f64, _>("slow", (3.5,)).await.unwrap(), 3.5);

    // Header entries from client middleware reach zerorpc-python's load_task_context.
    let traced = Client::builder(&endpoint)
        .layer(HeaderEntries(vec![("trace_id", "trace-of-{method}")]))
        .connect()
        .unwrap();
    let seen: Option<String> = traced.call("header_entry", ("trace_id",)).await.unwrap();
    assert_eq!(seen.as_deref(), Some("trace-of-header_entry"));
    let absent: Option<String> = client.call("header_entry", ("trace_id",)).await.unwrap();
    assert_eq!(absent, None);
}

#[tokio::test]
async fn zerorpc_python_calls_a_rust_server() {
    let server = demo_builder(Arc::new(Probe::default()))
        .heartbeat(Some(HEARTBEAT))
        .start()
        .await
        .unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/py_client.py");
    let run = Command::new(python())
        .arg(script)
        .arg(server.endpoint())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .expect("the Python client finishes within 120 s")
        .expect("the Python client runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the zerorpc-python client failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.starts_with("PASSED"), "{stdout}");
    server.shutdown().await;
}
