"""A client of several servers: ``Client([endpoint, endpoint, ...])``.

The two servers are the zerorpc-python and the zerorpc-node peer (same methods), told apart by
what ``_zerorpc_ping`` answers. Calls go to each in turn; long calls and streams work on both at
once (each server gets the heartbeats and credit of its own calls); calls move to the other server
while one is gone, and come back when it returns.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import CALL_TIMEOUT, HEARTBEAT, Peer, free_endpoint, start_node_peer

from rpcgen_runtime import AsyncClient, Client, LostRemote

PYTHON = "Peer"  # What zerorpc-python's _zerorpc_ping names: the served class.
NODE = ""  # zerorpc-node's names nothing.


def who(client: Client, calls: int) -> Counter[str]:
    """Which server answered each of ``calls`` pings, counted."""
    return Counter(client.call("_zerorpc_ping")[1] for _ in range(calls))


def until_both_answer(client: Client) -> None:
    deadline = time.monotonic() + 20
    while set(who(client, 2)) != {PYTHON, NODE}:
        assert time.monotonic() < deadline, "not both servers answered within 20 s"
        time.sleep(0.01)


def test_calls_long_calls_and_streams_go_to_both_servers(
    own_peer: Callable[..., Peer], node_peer: Peer
) -> None:
    python_peer = own_peer()
    with Client(
        [python_peer.endpoint, node_peer.endpoint], heartbeat=HEARTBEAT, timeout=CALL_TIMEOUT
    ) as client:
        assert client.endpoints == (python_peer.endpoint, node_peer.endpoint)
        assert client.endpoint == python_peer.endpoint
        until_both_answer(client)
        assert who(client, 10) == Counter({PYTHON: 5, NODE: 5})
        with ThreadPoolExecutor(4) as pool:
            # Longer than three heartbeat intervals, two on each server at once.
            assert list(pool.map(lambda _: client.call("slow", 3.5), range(4))) == [3.5] * 4
            # Longer than the credit window, one on each server at once.
            streams = pool.map(lambda _: list(client.stream("count", 1000)), range(2))
            assert list(streams) == [list(range(1000))] * 2


def test_calls_go_to_the_other_server_while_one_is_gone(
    own_peer: Callable[..., Peer], node_peer: Peer
) -> None:
    python_peer = own_peer()
    endpoint = python_peer.endpoint
    with Client([endpoint, node_peer.endpoint], heartbeat=HEARTBEAT, timeout=CALL_TIMEOUT) as client:
        until_both_answer(client)
        python_peer.kill()
        # A call sent before the client saw the server go ends in LostRemote; then all go to node.
        deadline = time.monotonic() + 20
        while True:
            try:
                if who(client, 10) == Counter({NODE: 10}):
                    break
            except LostRemote:
                pass
            assert time.monotonic() < deadline, "calls still went to the killed server"
        own_peer(bind=endpoint)
        until_both_answer(client)


def test_calls_no_server_took_go_to_the_first_that_comes_up(tmp_path: Path) -> None:
    # Neither server is up: the calls wait in the client, not in a socket's queue, so when only
    # one server comes, all of them go to it, a stream with its credit.
    node_endpoint = free_endpoint()
    endpoints = [free_endpoint(), node_endpoint]
    with (
        Client(endpoints, heartbeat=HEARTBEAT, timeout=CALL_TIMEOUT) as client,
        ThreadPoolExecutor(8) as pool,
    ):
        pings = [pool.submit(client.call, "_zerorpc_ping") for _ in range(6)]
        stream = pool.submit(lambda: list(client.stream("count", 300)))
        time.sleep(0.3)
        node = start_node_peer(tmp_path / "node.log", bind=node_endpoint)
        try:
            assert [ping.result()[1] for ping in pings] == [NODE] * 6
            assert stream.result() == list(range(300))
        finally:
            node.stop()


def test_the_asyncio_client_takes_several_servers(own_peer: Callable[..., Peer], node_peer: Peer) -> None:
    python_peer = own_peer()

    async def main() -> list[object]:
        endpoints = [python_peer.endpoint, node_peer.endpoint]
        async with AsyncClient(endpoints, heartbeat=HEARTBEAT, timeout=CALL_TIMEOUT) as client:
            return list(await asyncio.gather(*(client.call("add", n, 1) for n in range(100))))

    assert asyncio.run(main()) == [n + 1 for n in range(100)]


@pytest.mark.parametrize("endpoint", [[], ["tcp://127.0.0.1:1", "not an endpoint"], [b"tcp://127.0.0.1:1"]])
def test_a_bad_list_of_endpoints_is_refused(endpoint: object) -> None:
    with pytest.raises(ValueError, match="endpoint"):
        Client(endpoint)  # type: ignore[arg-type]
