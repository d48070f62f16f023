//! The example's binaries as a user runs them: `shop-server` on a free port prints its endpoint,
//! and `shop-client` calls every method against it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Kills the server when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `shop-server` on a free loopback port and returns it with the endpoint it printed.
fn start_server() -> (Running, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_shop-server"))
        .args(["--bind", "tcp://127.0.0.1:0", "--heartbeat", "1"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("shop-server starts");
    let stdout = child.stdout.take().expect("stdout is piped");
    let server = Running(child);
    let (first_line, received) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = first_line.send(line);
    });
    let line = received
        .recv_timeout(Duration::from_secs(30))
        .expect("shop-server prints its endpoint within 30 s");
    let endpoint = line
        .trim()
        .strip_prefix("READY ")
        .unwrap_or_else(|| panic!("unexpected first line from shop-server: {line:?}"))
        .to_string();
    (server, endpoint)
}

#[test]
fn the_client_binary_calls_every_method_of_the_server_binary() {
    let (_server, endpoint) = start_server();
    assert!(
        !endpoint.ends_with(":0"),
        "the real port is printed: {endpoint}"
    );
    let output = Command::new(env!("CARGO_BIN_EXE_shop-client"))
        .arg(&endpoint)
        .output()
        .expect("shop-client runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "shop-client failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for expected in [
        "opened #1: The printer is on fire",
        "rejected: a ticket needs a title (field `title`)",
        "#1 has a 15-byte attachment",
        "no ticket #999",
        "stats: {Low: 1, High: 1}",
        "4 event(s) so far",
        "a slow report timed out after 100ms",
        "first ticket (deprecated call): Some(1)",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
}

#[test]
fn the_server_explains_bad_arguments() {
    let output = Command::new(env!("CARGO_BIN_EXE_shop-server"))
        .args(["--heartbeat", "soon"])
        .output()
        .expect("shop-server runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("`--heartbeat soon` is not a positive number of seconds"),
        "{stderr}"
    );
    assert!(stderr.contains("usage: shop-server"), "{stderr}");
}
