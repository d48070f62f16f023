"""Fixtures for the Python runtime's tests: real zerorpc servers on 127.0.0.1.

The zerorpc-python servers are ``tests/fixtures/zerorpc_peer.py`` of the repository, run with the
interpreter that runs the tests (the repository's venv, which has zerorpc 0.6.3); the zerorpc-node
server is ``tests/fixtures/zerorpc_node_peer.cjs``, run by ``node`` with the repository's
``node_modules/`` (zerorpc 0.9.8 from npm).
"""

from __future__ import annotations

import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from rpcgen_runtime import Client

REPO = Path(__file__).resolve().parents[3]
PEER_SCRIPT = REPO / "tests" / "fixtures" / "zerorpc_peer.py"
NODE_PEER_SCRIPT = REPO / "tests" / "fixtures" / "zerorpc_node_peer.cjs"
VECTORS = REPO.parent / "shared" / "vectors" / "zerorpc-v3.json"

HEARTBEAT = 1.0
"""Heartbeat interval of the test servers and clients, in seconds (they must agree)."""

CALL_TIMEOUT = 20.0
"""Default call timeout of the test clients: far above any expected wait, so only hangs hit it."""

STARTUP_LIMIT = 30.0


class Peer:
    """A running zerorpc server."""

    def __init__(self, process: subprocess.Popen[bytes], endpoint: str) -> None:
        self.process = process
        self.endpoint = endpoint

    def kill(self) -> None:
        """Kills the server at once, as a crash would."""
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """Stops the server by closing its stdin; kills it if it does not exit."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()
        if self.process.stdout is not None:
            self.process.stdout.close()


def start_peer(log: Path, *, bind: str = "tcp://127.0.0.1:*", heartbeat: float = HEARTBEAT) -> Peer:
    """Starts a zerorpc-python server and waits (bounded) for its READY line."""
    return start_server([sys.executable, str(PEER_SCRIPT)], log, bind=bind, heartbeat=heartbeat)


def start_node_peer(log: Path, *, bind: str = "tcp://127.0.0.1:*") -> Peer:
    """Starts the zerorpc-node server and waits (bounded) for its READY line."""
    return start_server(["node", str(NODE_PEER_SCRIPT)], log, bind=bind)


def start_server(
    command: list[str], log: Path, *, bind: str = "tcp://127.0.0.1:*", heartbeat: float = HEARTBEAT
) -> Peer:
    """Runs a peer script with ``--bind`` and ``--heartbeat`` and waits for its READY line."""
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [*command, "--bind", bind, "--heartbeat", str(heartbeat)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
    assert process.stdout is not None
    readable, _, _ = select.select([process.stdout], [], [], STARTUP_LIMIT)
    line = process.stdout.readline() if readable else b""
    if not line.startswith(b"READY "):
        process.kill()
        process.wait(timeout=10)
        raise RuntimeError(f"the zerorpc peer did not start; its log:\n{log.read_text()}")
    return Peer(process, line.split()[1].decode())


def free_endpoint() -> str:
    """A loopback endpoint with a port that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"tcp://127.0.0.1:{port}"


def wait_until(condition: Callable[[], object], limit: float = 10.0) -> None:
    """Waits until ``condition()`` is true, polling; fails the test after ``limit`` seconds."""
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


def busy_loop(seconds: float) -> int:
    """Keeps the calling thread busy in pure Python (holding the GIL as much as it can)."""
    end = time.monotonic() + seconds
    rounds = 0
    while time.monotonic() < end:
        rounds += sum(range(100)) % 7 + 1
    return rounds


def run_in_thread(function: Callable[[], object]) -> Callable[[], object]:
    """Runs ``function`` in a new thread; returns a function that joins it and gives its outcome."""
    outcome: list[object] = []

    def target() -> None:
        try:
            outcome.append(function())
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=target)
    thread.start()

    def join() -> object:
        thread.join(timeout=CALL_TIMEOUT * 2)
        assert not thread.is_alive(), "the thread did not finish"
        return outcome[0]

    return join


@pytest.fixture(scope="session")
def peer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Peer]:
    """One zerorpc-python server shared by the tests that do not stop it."""
    server = start_peer(tmp_path_factory.mktemp("peer") / "peer.log")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def node_peer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Peer]:
    """One zerorpc-node server shared by the tests that call it."""
    server = start_node_peer(tmp_path_factory.mktemp("node_peer") / "node_peer.log")
    yield server
    server.stop()


@pytest.fixture
def own_peer(tmp_path: Path) -> Iterator[Callable[..., Peer]]:
    """Starts servers for one test (to kill them, or to start them late); stops them after it."""
    started: list[Peer] = []

    def start(*, bind: str = "tcp://127.0.0.1:*", heartbeat: float = HEARTBEAT) -> Peer:
        server = start_peer(tmp_path / f"peer{len(started)}.log", bind=bind, heartbeat=heartbeat)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def client(peer: Peer) -> Iterator[Client]:
    """A blocking client of the shared server."""
    with Client(peer.endpoint, heartbeat=HEARTBEAT, timeout=CALL_TIMEOUT) as rpc:
        yield rpc
