"""A dropped connection ends the calls in flight on it at once in LostRemote, heartbeats on or off.

Against the real zerorpc-python server (killed, then started again on the same endpoint) and against
hand-built ROUTERs (closed mid-call), which show exactly which calls a drop ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import msgpack  # type: ignore[import-untyped, unused-ignore]
import pytest
import zmq
from conftest import CALL_TIMEOUT, Peer, free_endpoint, run_in_thread, wait_until
from test_raw_server import next_request, raw_router, reply

from rpcgen_runtime import AsyncClient, Client, LostRemote, TimeoutExpired

LONG = 60.0
"""A timeout (and a heartbeat) far longer than any test: only the dropped connection ends a call."""


@pytest.mark.parametrize("heartbeat", [None, LONG])
def test_a_killed_server_ends_the_call_at_once_and_the_client_works_when_it_is_back(
    own_peer: Callable[..., Peer], heartbeat: float | None
) -> None:
    server = own_peer()
    with Client(server.endpoint, heartbeat=heartbeat, timeout=LONG) as rpc:
        assert rpc.call("hello", "x") == "Hello, x"
        join = run_in_thread(lambda: rpc.call("slow", LONG))
        wait_until(lambda: rpc._connection._channels)
        server.kill()
        outcome = join()
        assert isinstance(outcome, LostRemote), outcome
        assert str(outcome) == (
            f"lost the remote at {server.endpoint}: the connection dropped while waiting for 'slow'"
        )
        own_peer(bind=server.endpoint)
        assert rpc.call("hello", "again") == "Hello, again"
        assert list(rpc.stream("count", 3)) == [0, 1, 2]


def test_the_asyncio_client_ends_its_calls_at_once_and_works_when_the_server_is_back(
    own_peer: Callable[..., Peer],
) -> None:
    server = own_peer()

    async def main() -> None:
        async with AsyncClient(server.endpoint, heartbeat=None, timeout=LONG) as rpc:
            assert await rpc.call("hello", "x") == "Hello, x"
            calls = [asyncio.ensure_future(rpc.call("slow", LONG)) for _ in range(3)]
            while len(rpc._connection._channels) < len(calls):
                await asyncio.sleep(0.01)
            await asyncio.get_running_loop().run_in_executor(None, server.kill)
            outcomes = await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), CALL_TIMEOUT)
            assert [type(outcome) for outcome in outcomes] == [LostRemote] * 3
            own_peer(bind=server.endpoint)
            assert await rpc.call("add", 1, 2) == 3

    asyncio.run(main())


def stream_item(channel_id: bytes, item: object) -> bytes:
    """A STREAM event carrying ``item`` on the channel ``channel_id``."""
    header = {"message_id": "item", "v": 3, "response_to": channel_id}
    packed: bytes = msgpack.packb([header, "STREAM", item], use_bin_type=True)
    return packed


def test_a_stream_gets_the_items_sent_before_the_drop_then_lost_remote() -> None:
    with (
        raw_router() as (router, port),
        Client(f"tcp://127.0.0.1:{port}", heartbeat=None, timeout=LONG) as rpc,
    ):
        items = rpc.stream("count", 10)
        identity, _, channel_id = next_request(router)
        for item in (0, 1):
            router.send_multipart([identity, b"", stream_item(channel_id, item)])
        assert next(items) == 0
        router.close()
        assert next(items) == 1
        with pytest.raises(LostRemote, match="dropped while waiting for 'count'"):
            next(items)
        with pytest.raises(StopIteration):
            next(items)


def test_a_reply_sent_just_before_the_drop_still_ends_its_call() -> None:
    # The server answers and closes at once: the reply is read before the drop ends anything.
    for _ in range(5):
        with raw_router() as (router, port), Client(f"tcp://127.0.0.1:{port}", heartbeat=None) as rpc:
            join = run_in_thread(lambda: rpc.call("hello", "x"))
            identity, _, channel_id = next_request(router)
            router.linger = 1000  # Closing delivers the reply first.
            router.send_multipart([identity, b"", reply(channel_id, "OK", ["bye"])])
            router.close()
            assert join() == "bye"


def test_a_drop_ends_only_the_calls_of_that_server() -> None:
    with (
        raw_router() as (first, first_port),
        raw_router() as (second, second_port),
        Client(
            [f"tcp://127.0.0.1:{first_port}", f"tcp://127.0.0.1:{second_port}"], heartbeat=None, timeout=LONG
        ) as rpc,
    ):
        wait_until(lambda: all(rpc._connection._linked))
        joins = [run_in_thread(functools.partial(rpc.call, "slow", n)) for n in range(2)]
        # Round robin over two connected servers: each gets one of the two calls.
        _, request, _ = next_request(first)
        on_first = msgpack.unpackb(request)[2][0]
        identity, _, channel_id = next_request(second)
        first.close()
        lost = joins[on_first]()
        assert isinstance(lost, LostRemote), lost
        assert str(lost).startswith(
            f"lost the remote at tcp://127.0.0.1:{first_port}: the connection dropped"
        )
        assert len(rpc._connection._channels) == 1
        second.send_multipart([identity, b"", reply(channel_id, "OK", ["still here"])])
        assert joins[1 - on_first]() == "still here"


def test_a_connection_that_drops_before_its_handshake_ends_no_call() -> None:
    # A plain TCP listener that takes each connection and closes it: ZeroMQ reports the drop, but
    # no request went out on a connection without a handshake, so the call waits for its timeout.
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(0.05)
        endpoint = f"tcp://127.0.0.1:{listener.getsockname()[1]}"
        stop = threading.Event()

        def refuse() -> None:
            deadline = time.monotonic() + CALL_TIMEOUT
            while not stop.is_set() and time.monotonic() < deadline:
                try:
                    connection, _ = listener.accept()
                except TimeoutError:
                    continue
                connection.close()

        refuser = threading.Thread(target=refuse)
        refuser.start()
        try:
            with (
                Client(endpoint, heartbeat=None, timeout=1.0) as rpc,
                pytest.raises(TimeoutExpired) as raised,
            ):
                rpc.call("hello", "x")
        finally:
            stop.set()
            refuser.join()
    assert raised.value.never_connected == (endpoint,)


EXIT_SCRIPT = """
import threading
import zmq
from rpcgen_runtime import AsyncClient, Client, LostRemote

context = zmq.Context()
router = context.socket(zmq.ROUTER)
router.linger = 0
endpoint = f"tcp://127.0.0.1:{router.bind_to_random_port('tcp://127.0.0.1')}"
client = Client(endpoint, heartbeat=None, timeout=60)
idle = AsyncClient(endpoint, heartbeat=None, timeout=60)
outcome = []

def call():
    try:
        client.call("slow")
    except LostRemote as error:
        outcome.append(error)

caller = threading.Thread(target=call)
caller.start()
assert router.poll(10_000)
router.close()
caller.join(30)
context.term()
print(type(outcome[0]).__name__)
"""


def test_clients_left_open_at_exit_close_without_a_warning() -> None:
    # Python's development mode shows every ResourceWarning (an unclosed socket, say).
    runtime = Path(__file__).resolve().parents[1]
    finished = subprocess.run(
        [sys.executable, "-X", "dev", "-c", EXIT_SCRIPT],
        cwd=runtime,
        capture_output=True,
        text=True,
        timeout=CALL_TIMEOUT,
        check=False,
    )
    assert (finished.returncode, finished.stdout, finished.stderr) == (0, "LostRemote\n", "")


def answer_first_request(endpoint: str, method: str) -> None:
    """Binds a ROUTER to ``endpoint``, checks that its first request is a call of ``method`` and
    answers it with ``OK "answered"``. ZeroMQ keeps the order of a socket's messages: a request sent
    before that call would come first."""
    with raw_router(endpoint) as (router, _):
        identity, request, channel_id = next_request(router)
        assert msgpack.unpackb(request)[1] == method
        router.linger = 1000  # Closing delivers the answer first.
        router.send_multipart([identity, b"", reply(channel_id, "OK", ["answered"])])


def test_calls_given_up_before_the_server_came_up_never_reach_it() -> None:
    endpoint = free_endpoint()
    with Client(endpoint, heartbeat=None, timeout=LONG) as rpc:
        with pytest.raises(TimeoutExpired):
            rpc.call("timed_out", timeout=0.2)
        rpc.stream("closed").close()
        wait_until(lambda: not rpc._connection._unsent)  # Given up, they are not kept either.
        waiting = run_in_thread(lambda: rpc.call("waited"))
        answer_first_request(endpoint, "waited")
        assert waiting() == "answered"


def test_an_asyncio_call_cancelled_before_the_server_came_up_never_reaches_it() -> None:
    endpoint = free_endpoint()

    async def main() -> None:
        async with AsyncClient(endpoint, heartbeat=None, timeout=LONG) as rpc:
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(rpc.call("cancelled"), 0.2)
            waiting = asyncio.ensure_future(rpc.call("waited"))
            await asyncio.get_running_loop().run_in_executor(None, answer_first_request, endpoint, "waited")
            assert await asyncio.wait_for(waiting, CALL_TIMEOUT) == "answered"

    asyncio.run(main())


@contextlib.contextmanager
def stalled_router(endpoint: str) -> Iterator[None]:
    """A ROUTER bound to ``endpoint`` that takes one message off TCP and never reads it: ZeroMQ
    stops reading a connection when its queue is full (receive high-water mark 1), the small TCP
    buffer soon fills."""
    context = zmq.Context()
    router = context.socket(zmq.ROUTER)
    router.linger = 0
    router.rcvhwm = 1  # Before binding: the connections it accepts take the options of that moment.
    router.rcvbuf = 4096
    try:
        router.bind(endpoint)
        yield
    finally:
        router.close()
        context.term()


def test_requests_zeromq_had_not_sent_when_the_connection_dropped_never_reach_the_returning_server() -> None:
    # Most of the client's large requests wait in ZeroMQ's queue when the stalled server goes away.
    # Their calls end then; the server that comes back must not get them.
    endpoint = free_endpoint()
    with Client(endpoint, heartbeat=None, timeout=LONG) as rpc:
        with stalled_router(endpoint):
            wait_until(lambda: rpc._connection.reached)
            joins = [run_in_thread(functools.partial(rpc.call, "stalled", b"x" * 2**20)) for _ in range(30)]
            wait_until(lambda: len(rpc._connection._channels) == len(joins))
        assert [type(join()) for join in joins] == [LostRemote] * len(joins)
        after = run_in_thread(lambda: rpc.call("after"))
        answer_first_request(endpoint, "after")
        assert after() == "answered"
