//! Bare DEALER/ROUTER over loopback TCP with libzmq and with the `zeromq` crate, side by side,
//! and beneath them a bare TCP socket.
//!
//! The question it answers: would a libzmq transport backend make the runtime faster? Each round
//! starts a server process (this binary with `serve`), then a one-caller client measures round
//! trips of 32 bytes and of 1 MiB, and a one-way burst of 1 MiB messages (each acknowledged with
//! one byte). Rounds alternate between the libraries; the table shows the median round. The bare
//! TCP rows (blocking `std::net` sockets, each message prefixed with its length) are the floor
//! of this machine: what any messaging library pays for the same exchange over loopback. The
//! spinning bare TCP rows use the same sockets non-blocking, and both sides poll them in a loop
//! instead of sleeping until data comes: the floor of an implementation that keeps a core busy
//! per side (round trips only: the burst would need three spinning threads on two cores).

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
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
    BareTcp,
    BareTcpSpin,
}

impl Library {
    const ALL: [Library; 4] = [
        Library::Libzmq,
        Library::ZeromqCrate,
        Library::BareTcp,
        Library::BareTcpSpin,
    ];

    fn name(self) -> &'static str {
        match self {
            Library::Libzmq => "libzmq",
            Library::ZeromqCrate => "zeromq-crate",
            Library::BareTcp => "bare-tcp",
            Library::BareTcpSpin => "bare-tcp-spin",
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
            Some("bare-tcp") => serve_bare_tcp(false),
            Some("bare-tcp-spin") => serve_bare_tcp(true),
            _ => panic!("usage: transport-probe serve libzmq|zeromq-crate|bare-tcp|bare-tcp-spin"),
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
        for library in Library::ALL {
            if library == Library::BareTcpSpin && matches!(case, Case::Burst) {
                continue;
            }
            let mut rounds: Vec<Round> = Vec::new();
            for _ in 0..ROUNDS {
                let mut server = Server::start(library);
                rounds.push(match library {
                    Library::Libzmq => run_libzmq(&server.endpoint, case),
                    Library::ZeromqCrate => run_zeromq_crate(&server.endpoint, case),
                    Library::BareTcp => run_bare_tcp(&server.endpoint, case, false),
                    Library::BareTcpSpin => run_bare_tcp(&server.endpoint, case, true),
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

/// Writes one length-prefixed message: one write for a short message (with `TCP_NODELAY` two
/// writes would be two segments), two for a long one (no copy of the payload).
fn write_message(stream: &mut TcpStream, payload: &[u8]) {
    const SHORT: usize = 4096;
    let length = u32::try_from(payload.len())
        .expect("message under 4 GiB")
        .to_le_bytes();
    if payload.len() <= SHORT {
        let mut message = [0; SHORT + 4];
        message[..4].copy_from_slice(&length);
        message[4..4 + payload.len()].copy_from_slice(payload);
        write_full(stream, &message[..4 + payload.len()]).expect("write");
    } else {
        write_full(stream, &length).expect("write");
        write_full(stream, payload).expect("write");
    }
}

/// Reads one length-prefixed message into `buffer`; false when the peer closed the connection.
fn read_message(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> bool {
    let mut length = [0; 4];
    if read_full(stream, &mut length).is_err() {
        return false;
    }
    buffer.resize(u32::from_le_bytes(length) as usize, 0);
    read_full(stream, buffer).expect("read");
    true
}

/// Whether an I/O error only means "not now": a non-blocking socket that has nothing to give or
/// no room yet, or a signal.
fn is_transient(error: &std::io::Error) -> bool {
    matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted)
}

/// `read_exact` that also works on a non-blocking socket, polling it until the bytes are there.
fn read_full(stream: &mut TcpStream, buffer: &mut [u8]) -> std::io::Result<()> {
    let mut filled = 0;
    while filled < buffer.len() {
        match stream.read(&mut buffer[filled..]) {
            Ok(0) => return Err(ErrorKind::UnexpectedEof.into()),
            Ok(read) => filled += read,
            Err(error) if is_transient(&error) => std::hint::spin_loop(),
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

/// `write_all` that also works on a non-blocking socket, polling it until the bytes are out.
fn write_full(stream: &mut TcpStream, mut bytes: &[u8]) -> std::io::Result<()> {
    while !bytes.is_empty() {
        match stream.write(bytes) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(written) => bytes = &bytes[written..],
            Err(error) if is_transient(&error) => std::hint::spin_loop(),
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

/// A bare TCP echo server; `spin` polls a non-blocking socket instead of sleeping in `read`.
fn serve_bare_tcp(spin: bool) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    println!("{}", listener.local_addr().expect("address"));
    let mut buffer = Vec::new();
    for stream in listener.incoming() {
        let mut stream = stream.expect("accept");
        stream.set_nodelay(true).expect("nodelay");
        stream.set_nonblocking(spin).expect("nonblocking");
        while read_message(&mut stream, &mut buffer) {
            if wants_ack(&buffer) {
                write_message(&mut stream, ACK);
            } else {
                write_message(&mut stream, &buffer);
            }
        }
    }
}

fn run_bare_tcp(endpoint: &str, case: Case, spin: bool) -> Round {
    let mut stream = TcpStream::connect(endpoint).expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    stream.set_nonblocking(spin).expect("nonblocking");
    let body = payload(case);
    let mut reply = Vec::new();
    let start = Instant::now();
    let mut times = Vec::new();
    match case {
        Case::RoundTrip { size, max_calls } => {
            while times.len() < max_calls && start.elapsed() < ROUND_TIME {
                let sent = Instant::now();
                write_message(&mut stream, &body);
                assert!(read_message(&mut stream, &mut reply));
                assert_eq!(reply.len(), size);
                times.push(sent.elapsed());
            }
            let calls = times.len();
            summarise(times, calls, start.elapsed())
        }
        Case::Burst => {
            let mut acks_stream = stream.try_clone().expect("clone");
            let acks = std::thread::spawn(move || {
                let mut ack = Vec::new();
                for _ in 0..BURST_MESSAGES {
                    assert!(read_message(&mut acks_stream, &mut ack));
                }
            });
            for _ in 0..BURST_MESSAGES {
                write_message(&mut stream, &body);
            }
            acks.join().expect("acks");
            let elapsed = start.elapsed();
            summarise(vec![elapsed], BURST_MESSAGES, elapsed)
        }
    }
}
