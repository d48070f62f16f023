//! The commands that talk to running servers, on the command line: `rpcgen pull`,
//! `rpcgen breaking --against-server` and `rpcgen call`, against runtime services served in this
//! process and against the real zerorpc-python peer: what they print, and how they fail.

use std::path::PathBuf;
use std::process::{Output, Stdio};

use rpcgen_runtime::{Bytes, MethodInfo, ParamInfo, RemoteError, Server, Service};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

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

    let renamed = rpcgen(&["pull", "--service", "Store", server.endpoint()]).await;
    assert_eq!(renamed.stdout, printed.stdout);
    assert_eq!(
        stderr(&renamed),
        "printed common.rpc, shop.rpc: the contract the server publishes (--package and \
         --service ignored: they only name a draft)\n"
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

    for command in ["pull", "call"] {
        let output = rpcgen(&[command, "--timeout", "0", "tcp://127.0.0.1:1", "m"]).await;
        assert_eq!(output.status.code(), Some(2), "{command}");
        assert!(
            stderr(&output).contains("0 is not in 1..=86400"),
            "{}",
            stderr(&output)
        );
    }

    let output = rpcgen(&["pull", "nowhere"]).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).starts_with("error: cannot pull from `nowhere`: "),
        "{}",
        stderr(&output)
    );

    // A port that accepts connections and never answers, not even the ZeroMQ handshake (kept
    // open: no other process can take it meanwhile).
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("tcp://{}", silent.local_addr().unwrap());
    let no_answer = format!(
        "error: cannot pull from `{endpoint}`: no answer to `_zerorpc_inspect` within 1s: never \
         connected (is a zerorpc server running and listening there?)\n\n"
    );
    let output = rpcgen(&["pull", "--timeout", "1", &endpoint]).await;
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stderr(&output), no_answer);
    let output = rpcgen(&["call", "--timeout", "1", &endpoint, "m"]).await;
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output),
        format!(
            "error: timeout after 1s, when calling remote method `_zerorpc_inspect`: never \
             connected to `{endpoint}` (is a zerorpc server running and listening there?)\n\n"
        )
    );

    let new = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/shop/api/shop.rpc");
    let output = rpcgen(&[
        "breaking",
        "--against-server",
        &endpoint,
        "--timeout",
        "1",
        new,
    ])
    .await;
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stderr(&output), no_answer);
    let output = rpcgen(&["breaking", "--against", new, "--timeout", "1", new]).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("'--against <OLD>' cannot be used with '--timeout <SECONDS>'"),
        "{}",
        stderr(&output)
    );
    drop(silent);
}

#[tokio::test]
async fn breaking_compares_with_the_contract_a_server_publishes() {
    let server = shop().await;
    let endpoint = server.endpoint();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("common.rpc"), COMMON).unwrap();
    let new = dir.path().join("shop.rpc");
    let new = new.to_str().unwrap();

    let added = SHOP.replace("}\n", "    name() -> string;\n}\n");
    std::fs::write(new, added).unwrap();
    let output = rpcgen(&["breaking", "--against-server", endpoint, new]).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));

    std::fs::write(new, SHOP.replace("    price() -> common.Money;\n", "")).unwrap();
    let output = rpcgen(&["breaking", "--against-server", endpoint, new]).await;
    assert_eq!(output.status.code(), Some(1));
    let folder = endpoint.replace("://", ":");
    let report = stderr(&output);
    assert!(
        report.contains("error: shop.Shop.price: new servers have no method `price`"),
        "{report}"
    );
    assert!(
        report.contains(&format!("--> {folder}/shop.rpc:6:5")),
        "{report}"
    );
    assert!(
        report.ends_with(&format!(
            "1 breaking change from `the contract of {endpoint}` to `{new}`\n"
        )),
        "{report}"
    );
    server.shutdown().await;

    let plain = Server::bind("tcp://127.0.0.1:0", Service::new("Plain"))
        .await
        .unwrap();
    let output = rpcgen(&["breaking", "--against-server", plain.endpoint(), new]).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("publishes no contract (it was not generated by rpcgen)"),
        "{}",
        stderr(&output)
    );
    plain.shutdown().await;
}

/// The contract of [`notes`].
const NOTES: &str = "package notes;\n\nstruct Note {\n    id: u64,\n    text: string,\n    \
                     photo: bytes,\n}\n\nservice Notes {\n    note(id: u64, raw: bool?) -> Note;\n    \
                     count(n: u32) -> stream<u32>;\n    size(blob: bytes) -> u64;\n}\n";

/// A service with a typed method, a stream and an error, registered as generated code would.
async fn notes() -> Server {
    let service = Service::new("Notes")
        .contract("notes.rpc", [("notes.rpc", NOTES)])
        .blocking(
            MethodInfo::new("note")
                .param_info(ParamInfo::new("id").type_name("u64"))
                .param_info(ParamInfo::new("raw").type_name("bool?").optional())
                .returns("Note"),
            |args| {
                let id: u64 = args.get(0)?;
                if id == 0 {
                    return Err(RemoteError::new("NotFound", "no note 0"));
                }
                if id == 1 {
                    // A typed error as rpcgen servers send it: its fields in the traceback.
                    let traceback = "NotFound: id=1\nrpcgen-error-fields: gaJpZAE=\n";
                    return Err(RemoteError::new("NotFound", "id=1").with_traceback(traceback));
                }
                let note = rpcgen_runtime::Value::Map(vec![
                    ("id".into(), id.into()),
                    ("text".into(), "milk".into()),
                    (
                        "photo".into(),
                        rpcgen_runtime::Value::Binary(vec![0, 1, 255]),
                    ),
                ]);
                Ok(note)
            },
        )
        .stream(
            MethodInfo::new("count").param_info(ParamInfo::new("n").type_name("u32")),
            |args| async move {
                let n: u32 = args.get(0)?;
                Ok(futures::stream::iter((0..n).map(Ok::<_, RemoteError>)))
            },
        )
        .blocking(
            MethodInfo::new("size").param_info(ParamInfo::new("blob").type_name("bytes")),
            |args| Ok(args.get::<Bytes>(0)?.len()),
        );
    Server::bind("tcp://127.0.0.1:0", service).await.unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn call_prints_results_as_json_and_streams_as_lines() {
    let server = notes().await;
    let endpoint = server.endpoint();
    let output = rpcgen(&["call", endpoint, "note", "7"]).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "{\n  \"id\": 7,\n  \"text\": \"milk\",\n  \"photo\": {\n    \"$bytes\": \"AAH/\"\n  }\n}\n"
    );
    // The server says that `count` streams: one JSON value per line.
    let output = rpcgen(&["call", endpoint, "count", "3"]).await;
    assert_eq!(
        (output.status.code(), stdout(&output)),
        (Some(0), "0\n1\n2\n".into())
    );
    let output = rpcgen(&["call", endpoint, "size", r#"{"$bytes": "AAH/"}"#]).await;
    assert_eq!(stdout(&output), "3\n");
    server.shutdown().await;
}

#[tokio::test]
async fn call_refuses_what_the_server_would_and_reports_remote_errors() {
    let server = notes().await;
    let endpoint = server.endpoint();
    let expect_error = |output: Output, expected: &str| {
        assert_eq!(output.status.code(), Some(1));
        assert_eq!(stderr(&output), format!("error: {expected}\n\n"));
    };
    expect_error(
        rpcgen(&["call", endpoint, "not", "1"]).await,
        "the server has no method `not`; it has: count, note, size",
    );
    expect_error(
        rpcgen(&["call", endpoint, "note"]).await,
        "`note` takes 1 to 2 arguments, got 0: note(id: u64, raw?: bool?)",
    );
    expect_error(
        rpcgen(&["call", endpoint, "note", "0"]).await,
        "remote method `note` failed with NotFound: no note 0",
    );
    expect_error(
        rpcgen(&["call", endpoint, "note", "1"]).await,
        "remote method `note` failed with NotFound: id=1\nfields: {\"id\":1}",
    );
    expect_error(
        rpcgen(&["call", endpoint, "size", r#"{"$bytes": "%%"}"#]).await,
        "`{\"$bytes\": …}` must hold base64 text: Invalid symbol 37, offset 0.",
    );
    expect_error(
        rpcgen(&["call", endpoint, "note", "[7"]).await,
        "the argument `[7` is not valid JSON: EOF while parsing a list at line 1 column 2",
    );
    // zerorpc's built-ins are not in the server's list of methods, and still answer.
    let output = rpcgen(&["call", endpoint, "_zerorpc_ping"]).await;
    assert_eq!(
        stdout(&output),
        "[\n  \"pong\",\n  \"Notes\"\n]\n",
        "{}",
        stderr(&output)
    );
    server.shutdown().await;
}

#[tokio::test]
async fn call_stops_quietly_when_its_reader_goes() {
    let server = notes().await;
    let mut call = Command::new(env!("CARGO_BIN_EXE_rpcgen"))
        .args(["call", server.endpoint(), "count", "1000000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut items = BufReader::new(call.stdout.take().unwrap()).lines();
    assert_eq!(items.next_line().await.unwrap().as_deref(), Some("0"));
    drop(items);
    let output = tokio::time::timeout(std::time::Duration::from_secs(60), call.wait_with_output())
        .await
        .expect("rpcgen ends once nobody reads")
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    // The server learns that the stream's reader is gone only when its heartbeats stop: stop it
    // at once instead of waiting for the stream.
    drop(server);
}

#[tokio::test]
async fn pull_does_not_replace_a_file_with_other_contents_unless_forced() {
    let server = shop().await;
    let out = tempfile::tempdir().unwrap();
    let out_dir = out.path().to_str().unwrap();
    let own = "// my own notes\npackage shop;\n";
    std::fs::write(out.path().join("shop.rpc"), own).unwrap();
    let output = rpcgen(&["pull", "--out", out_dir, server.endpoint()]).await;
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output),
        format!(
            "error: `{out_dir}/shop.rpc` exists with other contents: pull into another folder, or \
             add --force to replace it\n\n"
        )
    );
    assert_eq!(
        std::fs::read_to_string(out.path().join("shop.rpc")).unwrap(),
        own
    );
    let forced = rpcgen(&["pull", "--force", "--out", out_dir, server.endpoint()]).await;
    assert_eq!(forced.status.code(), Some(0), "{}", stderr(&forced));
    assert_eq!(
        std::fs::read_to_string(out.path().join("shop.rpc")).unwrap(),
        SHOP
    );
    // Pulling again over the same files is fine.
    let again = rpcgen(&["pull", "--out", out_dir, server.endpoint()]).await;
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    server.shutdown().await;
}

/// The venv's Python with zerorpc: `RPCGEN_PYTHON` or `<repository>/.venv`.
fn python() -> PathBuf {
    std::env::var_os("RPCGEN_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python"))
}

/// Starts the real zerorpc-python peer and returns it (killed when dropped) with its endpoint.
async fn python_peer() -> (Child, String) {
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/zerorpc_peer.py");
    let mut child = Command::new(python())
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the zerorpc-python peer starts (scripts/test.sh creates .venv/)");
    let mut line = String::new();
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
    tokio::time::timeout(
        std::time::Duration::from_secs(60),
        stdout.read_line(&mut line),
    )
    .await
    .expect("the peer is ready within a minute")
    .expect("the peer's stdout");
    let endpoint = line
        .trim()
        .strip_prefix("READY ")
        .expect("READY <endpoint>");
    (child, endpoint.to_string())
}

#[tokio::test]
async fn call_talks_to_zerorpc_python() {
    let (_peer, endpoint) = python_peer().await;
    let output = rpcgen(&["call", &endpoint, "hello", "world"]).await;
    assert_eq!(stdout(&output), "\"Hello, world\"\n", "{}", stderr(&output));
    // Negative numbers are arguments; options may follow them.
    let output = rpcgen(&["call", &endpoint, "add", "-2", "44", "--timeout", "20"]).await;
    assert_eq!(stdout(&output), "42\n", "{}", stderr(&output));
    // zerorpc-python does not say which methods stream.
    let output = rpcgen(&["call", &endpoint, "count", "2"]).await;
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output),
        "error: `count` answered with a stream: add --stream to read its items\n\n"
    );
    let output = rpcgen(&["call", "--stream", &endpoint, "count", "2"]).await;
    assert_eq!(stdout(&output), "0\n1\n");
    // zerorpc-python's parameter lists are not checked here (it reads `*args` as none): the
    // server itself refuses a wrong count.
    let output = rpcgen(&["call", &endpoint, "hello"]).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).starts_with("error: remote method `hello` failed with TypeError: "),
        "{}",
        stderr(&output)
    );
    let output = rpcgen(&["call", &endpoint, "fail", "boom"]).await;
    assert_eq!(output.status.code(), Some(1));
    let report = stderr(&output);
    assert!(
        report.starts_with("error: remote method `fail` failed with ValueError: boom\nTraceback"),
        "{report}"
    );
}
