//! Bare DEALER/ROUTER over loopback TCP with libzmq and with the `zeromq` crate, side by side.
//!
//! The question it answers: would a libzmq transport backend make the runtime faster? Each round
//! starts a server process (this binary with `serve`), then a one-caller client measures round
//! trips of 32 bytes and of 1 MiB, and a one-way burst of 1 MiB messages (each acknowledged with
//! one byte). Rounds alternate between the two libraries; the table shows the median round.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use zeromq::{Socket, SocketRecv, SocketSend, ZmqMessage};

const ROUNDS: usize = 3;
const ROUND_TIME: Duration = Duration::from_secs(2);
const BURST_MESSAGES: usize = 200;
const MIB: usize = 1 << 20;

/// First payload byte that asks the server for a one-byte acknowledgement instead of an echo.
const ACK_MARK: u8 = b'a';

#[derive(Clone, Copy, PartialEq)]
enum Library {
    Libzmq,
    ZeromqCrate,
}

impl Library {
    fn name(self) -> &'static str {
        match self {
            Library::Libzmq => "libzmq",
            Library::ZeromqCrate => "zeromq-crate",
        }
    }
}

/// One measurement: round trips of `size` bytes, or a burst of acknowledged messages.
#[derive(Clone, Copy)]
enum Case {
    RoundTrip { size: usize, max_calls: usize },
    Burst,
}

impl Case {
    fn label(self) -> String {
        match self {
            Case::RoundTrip { size, .. } if size >= MIB => "1 MiB round trip".into(),
            Case::RoundTrip { size, .. } => format!("{size} B round trip"),
            Case::Burst => format!("{BURST_MESSAGES} × 1 MiB one way"),
        }
    }
}

/// What one round measured: operations per second and the median operation time.
struct Round {
    per_second: f64,
    median: Duration,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("serve") {
        match args.get(2).map(String::as_str) {
            Some("libzmq") => serve_libzmq(),
            Some("zeromq-crate") => serve_zeromq_crate(),
            _ => panic!("usage: transport-probe serve libzmq|zeromq-crate"),
        }
        return;
    }
    let cases = [
        Case::RoundTrip {
            size: 32,
            max_calls: 100_000,
        },
        Case::RoundTrip {
            size: MIB,
            max_calls: 5_000,
        },
        Case::Burst,
    ];
    println!("| case | library | per second | time |");
    println!("| --- | --- | --- | --- |");
    for case in cases {
        for library in [Library::Libzmq, Library::ZeromqCrate] {
            let mut rounds: Vec<Round> = Vec::new();
            for _ in 0..ROUNDS {
                let mut server = Server::start(library);
                rounds.push(match library {
                    Library::Libzmq => run_libzmq(&server.endpoint, case),
                    Library::ZeromqCrate => run_zeromq_crate(&server.endpoint, case),
                });
                server.stop();
            }
            rounds.sort_by(|a, b| a.per_second.total_cmp(&b.per_second));
            let median = &rounds[ROUNDS / 2];
            let (unit, time) = match case {
                Case::Burst => ("MiB/s", "whole burst"),
                Case::RoundTrip { .. } => ("calls/s", "median call"),
            };
            println!(
                "| {} | {} | {:.0} {unit} | {:.1} µs ({time}) |",
                case.label(),
                library.name(),
                median.per_second,
                median.median.as_secs_f64() * 1e6
            );
        }
    }
}

/// A server child process and the endpoint it bound.
struct Server {
    child: Child,
    endpoint: String,
}

impl Server {
    fn start(library: Library) -> Server {
        let mut child = Command::new(std::env::current_exe().expect("own path"))
            .args(["serve", library.name()])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the server");
        let mut endpoint = String::new();
        BufReader::new(child.stdout.take().expect("piped stdout"))
            .read_line(&mut endpoint)
            .expect("read the endpoint");
        Server {
            child,
            endpoint: endpoint.trim().to_string(),
        }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether a payload asks for a one-byte acknowledgement instead of an echo.
fn wants_ack(payload: &[u8]) -> bool {
    payload.first() == Some(&ACK_MARK)
}

/// The one-byte acknowledgement of a burst message.
const ACK: &[u8] = b"k";

/// Receives every frame of one message as `zmq::Message`s, which libzmq fills without a copy.
fn recv_frames(socket: &zmq::Socket) -> Vec<zmq::Message> {
    let mut frames = Vec::new();
    loop {
        let frame = socket.recv_msg(0).expect("recv");
        let more = frame.get_more();
        frames.push(frame);
        if !more {
            return frames;
        }
    }
}

fn serve_libzmq() {
    let context = zmq::Context::new();
    let socket = context.socket(zmq::ROUTER).expect("socket");
    socket.bind("tcp://127.0.0.1:0").expect("bind");
    let endpoint = socket
        .get_last_endpoint()
        .expect("endpoint")
        .expect("utf-8");
    println!("{endpoint}");
    loop {
        let mut frames = recv_frames(&socket);
        let payload = frames.pop().expect("payload");
        for frame in frames {
            socket.send(frame, zmq::SNDMORE).expect("send");
        }
        if wants_ack(&payload) {
            socket.send(ACK, 0).expect("send");
        } else {
            socket.send(payload, 0).expect("send");
        }
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn serve_zeromq_crate() {
    let mut socket = zeromq::RouterSocket::new();
    let endpoint = socket.bind("tcp://127.0.0.1:0").await.expect("bind");
    println!("{endpoint}");
    loop {
        let mut frames = socket.recv().await.expect("recv").into_vec();
        let payload = frames.pop().expect("payload");
        frames.push(if wants_ack(&payload) {
            Bytes::from_static(ACK)
        } else {
            payload
        });
        let reply = ZmqMessage::try_from(frames).expect("frames");
        socket.send(reply).await.expect("send");
    }
}

fn payload(case: Case) -> Vec<u8> {
    match case {
        Case::RoundTrip { size, .. } => vec![b'e'; size],
        Case::Burst => vec![ACK_MARK; MIB],
    }
}

/// Sorts operation times and turns them into a round.
fn summarise(mut times: Vec<Duration>, operations: usize, elapsed: Duration) -> Round {
    times.sort();
    Round {
        per_second: operations as f64 / elapsed.as_secs_f64(),
        median: times[times.len() / 2],
    }
}

fn run_libzmq(endpoint: &str, case: Case) -> Round {
    let context = zmq::Context::new();
    let socket = context.socket(zmq::DEALER).expect("socket");
    socket.connect(endpoint).expect("connect");
    let body = payload(case);
    let start = Instant::now();
    let mut times = Vec::new();
    match case {
        Case::RoundTrip { size, max_calls } => {
            while times.len() < max_calls && start.elapsed() < ROUND_TIME {
                let sent = Instant::now();
                socket.send_multipart([&b""[..], &body], 0).expect("send");
                let reply = recv_frames(&socket);
                assert_eq!(reply.last().map(|frame| frame.len()), Some(size));
                times.push(sent.elapsed());
            }
            let calls = times.len();
            summarise(times, calls, start.elapsed())
        }
        Case::Burst => {
            for _ in 0..BURST_MESSAGES {
                socket.send_multipart([&b""[..], &body], 0).expect("send");
            }
            for _ in 0..BURST_MESSAGES {
                recv_frames(&socket);
            }
            let elapsed = start.elapsed();
            summarise(vec![elapsed], BURST_MESSAGES, elapsed)
        }
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn run_zeromq_crate(endpoint: &str, case: Case) -> Round {
    let mut socket = zeromq::DealerSocket::new();
    socket.connect(endpoint).await.expect("connect");
    let body = Bytes::from(payload(case));
    let message = || ZmqMessage::try_from(vec![Bytes::new(), body.clone()]).expect("frames");
    let start = Instant::now();
    let mut times = Vec::new();
    match case {
        Case::RoundTrip { size, max_calls } => {
            while times.len() < max_calls && start.elapsed() < ROUND_TIME {
                let sent = Instant::now();
                socket.send(message()).await.expect("send");
                let reply = socket.recv().await.expect("recv").into_vec();
                assert_eq!(reply.last().map(Bytes::len), Some(size));
                times.push(sent.elapsed());
            }
            let calls = times.len();
            summarise(times, calls, start.elapsed())
        }
        Case::Burst => {
            let (mut send, mut receive) = socket.split();
            let acks = tokio::spawn(async move {
                for _ in 0..BURST_MESSAGES {
                    receive.recv().await.expect("recv");
                }
            });
            for _ in 0..BURST_MESSAGES {
                send.send(message()).await.expect("send");
            }
            acks.await.expect("acks");
            let elapsed = start.elapsed();
            summarise(vec![elapsed], BURST_MESSAGES, elapsed)
        }
    }
}
