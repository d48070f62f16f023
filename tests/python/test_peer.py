"""The clients generated from tests/fixtures/peer.rpc against the real zerorpc-python peer.

Every method of the peer, blocking and asyncio: values of every MessagePack kind (with field names
that are Python builtins and 2^63 + 5 in a u64), streams, an untyped remote error, a timeout, and a
lost remote when the server is killed. And the same client against the zerorpc-node peer, whose
64-bit values arrive as floats.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import CALL_TIMEOUT, HEARTBEAT, Server, start_peer
from peer_api.peer import AsyncPeerClient, PeerClient, Sample
from peer_api.rpcgen_runtime import (
    Failed,
    LostRemote,
    RemoteError,
    RequestRecord,
    Returned,
    StreamOpened,
    TimeoutExpired,
)

# What the peer's sample() returns, written out independently of the peer.
EXPECTED_SAMPLE = Sample(
    nil=None,
    true=True,
    false=False,
    small=7,
    negative=-3,
    big=2**63 + 5,
    min_i64=-(2**63),
    float=1.5,
    text="héllo",
    bytes=b"\x00\x01\xff",
    list=[1, "two", 3.0],
    map={"a": 1, "b": [True, None]},
)


def connect(server: Server, *, timeout: float = CALL_TIMEOUT) -> PeerClient:
    return PeerClient(server.endpoint, heartbeat=HEARTBEAT, timeout=timeout)


def connect_async(server: Server, *, timeout: float = CALL_TIMEOUT) -> AsyncPeerClient:
    return AsyncPeerClient(server.endpoint, heartbeat=HEARTBEAT, timeout=timeout)


def test_every_method_with_the_blocking_client(peer: Server) -> None:
    with connect(peer) as client:
        assert client.endpoint == peer.endpoint
        assert client.echo({"nested": [1, b"\x02", None]}) == {"nested": [1, b"\x02", None]}
        assert client.add(2**62, 2**62 - 1) == 2**63 - 1
        assert client.hello("wörld") == "Hello, wörld"
        client.nothing()  # Raises unless the reply is nil.
        assert client.sample() == EXPECTED_SAMPLE
        assert client.byte_len(b"\x00" * 1000) == 1000
        assert list(client.count(250)) == list(range(250))
        assert list(client.empty_stream()) == []
        assert client.slow(0.01) == 0.01


def test_every_method_with_the_asyncio_client(peer: Server) -> None:
    async def main() -> None:
        async with connect_async(peer) as client:
            assert client.endpoint == peer.endpoint
            assert await client.echo([True, 2**64 - 1]) == [True, 2**64 - 1]
            assert await client.add(-5, 3) == -2
            assert await client.hello("async") == "Hello, async"
            await client.nothing()
            assert await client.sample() == EXPECTED_SAMPLE
            assert await client.byte_len(b"abc") == 3
            assert [n async for n in client.count(120)] == list(range(120))
            assert [item async for item in client.empty_stream()] == []
            assert await client.slow(0.01) == 0.01

    asyncio.run(main())


def test_request_header_entries_reach_the_server(peer: Server) -> None:
    # The blocking client asks in the calling thread, the asyncio client in the calling task.
    trace_id: contextvars.ContextVar[str] = contextvars.ContextVar("trace_id", default="none")

    def request_header(method: str) -> dict[str, str]:
        return {"trace_id": f"{trace_id.get()} {method}"}

    trace_id.set("t-blocking")
    with PeerClient(peer.endpoint, heartbeat=HEARTBEAT, request_header=request_header) as client:
        assert client.header_entry("trace_id") == "t-blocking header_entry"

    async def main() -> list[object]:
        traced_client = AsyncPeerClient(peer.endpoint, heartbeat=HEARTBEAT, request_header=request_header)
        async with traced_client as client:

            async def traced(n: int) -> object:
                trace_id.set(f"t-{n}")
                return await client.header_entry("trace_id")

            return await asyncio.gather(*(traced(n) for n in range(10)))

    assert asyncio.run(main()) == [f"t-{n} header_entry" for n in range(10)]


def test_after_request_sees_the_requests_of_both_clients(peer: Server) -> None:
    records: list[RequestRecord] = []
    with PeerClient(peer.endpoint, heartbeat=HEARTBEAT, after_request=records.append) as client:
        assert client.add(1, 2) == 3
        assert list(client.count(2)) == [0, 1]

    async def main() -> None:
        recorded_client = AsyncPeerClient(peer.endpoint, heartbeat=HEARTBEAT, after_request=records.append)
        async with recorded_client as client:
            with pytest.raises(RemoteError, match="boom"):
                await client.fail("boom")

    asyncio.run(main())
    assert [(record.method, record.args, record.endpoint) for record in records] == [
        ("add", (1, 2), peer.endpoint),
        ("count", (2,), peer.endpoint),
        ("fail", ("boom",), peer.endpoint),
    ]
    assert [type(record.outcome) for record in records] == [Returned, StreamOpened, Failed]
    assert records[0].outcome == Returned(3)


def test_concurrent_asyncio_calls_share_one_connection(peer: Server) -> None:
    async def main() -> list[int]:
        async with connect_async(peer) as client:
            return await asyncio.gather(*(client.add(n, 1) for n in range(200)))

    assert asyncio.run(main()) == [n + 1 for n in range(200)]


def test_calls_from_several_threads_share_one_client(peer: Server) -> None:
    results: dict[int, list[str]] = {}
    with connect(peer) as client:

        def work(worker: int) -> None:
            results[worker] = [client.hello(f"{worker}-{n}") for n in range(20)]

        threads = [threading.Thread(target=work, args=(worker,)) for worker in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=CALL_TIMEOUT)
    assert results == {worker: [f"Hello, {worker}-{n}" for n in range(20)] for worker in range(8)}


def test_a_python_exception_is_an_untyped_remote_error(peer: Server) -> None:
    with connect(peer) as client, pytest.raises(RemoteError) as raised:
        client.fail("boom")
    assert type(raised.value) is RemoteError
    assert (raised.value.name, raised.value.message) == ("ValueError", "boom")
    assert raised.value.traceback is not None
    assert "ValueError: boom" in raised.value.traceback

    async def main() -> None:
        async with connect_async(peer) as client:
            await client.fail("async boom")

    with pytest.raises(RemoteError, match="ValueError: async boom"):
        asyncio.run(main())


def test_arguments_are_checked_before_anything_is_sent(peer: Server) -> None:
    with connect(peer) as client:
        with pytest.raises(TypeError, match=r"Peer.add\(\) argument 'b': expected int \(i64\), got str '2'"):
            client.add(1, "2")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match=r"argument 'a': expected int \(i64\), got bool True"):
            client.add(True, 2)
        with pytest.raises(
            ValueError, match=r"argument 'a': expected an integer in .*\(i64\), got 9223372036854775808"
        ):
            client.add(2**63, 0)
        with pytest.raises(ValueError, match=r"Peer.count\(\) argument 'n': .*\(u32\), got -1"):
            client.count(-1)
        with pytest.raises(TypeError, match=r"Peer.byte_len\(\) argument 'b': expected bytes, got bytearray"):
            client.byte_len(bytearray(b"x"))  # type: ignore[arg-type]
        # The client still works: nothing half-sent is left behind.
        assert client.add(1, 2) == 3


def test_a_timeout(peer: Server) -> None:
    with connect(peer) as client:
        with pytest.raises(TimeoutExpired, match="'slow'"):
            client.slow(5, timeout=0.3)
        assert client.slow(0.01, timeout=5) == 0.01

    async def main() -> None:
        async with connect_async(peer, timeout=0.3) as client:
            with pytest.raises(TimeoutExpired):
                await client.slow(5)
            assert await client.hello("again", timeout=5) == "Hello, again"

    asyncio.run(main())


def test_a_killed_server_is_a_lost_remote(own_server: Callable[[Callable[[Path], Server]], Server]) -> None:
    server = own_server(start_peer)
    with connect(server) as client:
        assert client.hello("before") == "Hello, before"
        killer = threading.Timer(0.5, server.kill)
        killer.start()
        try:
            with pytest.raises(LostRemote):
                client.slow(60)
        finally:
            killer.join()


def test_a_killed_server_is_a_lost_remote_for_the_asyncio_client(
    own_server: Callable[[Callable[[Path], Server]], Server],
) -> None:
    server = own_server(start_peer)

    async def main() -> None:
        async with connect_async(server) as client:
            assert await client.slow(0.01) == 0.01
            slow = asyncio.ensure_future(client.slow(60))
            await asyncio.sleep(0.5)
            await asyncio.get_running_loop().run_in_executor(None, server.kill)
            with pytest.raises(LostRemote):
                await slow

    asyncio.run(main())


def test_the_generated_client_against_zerorpc_node(node_peer: Server) -> None:
    # zerorpc-node sends numbers beyond 32 bits as floats: typed fields take integral ones exactly.
    with connect(node_peer) as client:
        total = client.add(2**40, 1)
        assert total == 2**40 + 1
        assert type(total) is int
        assert client.hello("node") == "Hello, node"
        client.nothing()
        sample = client.sample()
        # Equal values of other types would compare equal: the integers must be ints.
        assert type(sample.big) is int
        assert type(sample.min_i64) is int
        assert sample == Sample(
            nil=None,
            true=True,
            false=False,
            small=7,
            negative=-3,
            big=2**63,
            min_i64=-(2**63),
            float=1.5,
            text="héllo",
            bytes=b"\x00\x01\xff",
            list=[1, "two", 3],
            map={"a": 1, "b": [True, None]},
        )
        assert client.byte_len(b"abc") == 3
        assert list(client.count(250)) == list(range(250))
        assert list(client.empty_stream()) == []
        with pytest.raises(RemoteError) as caught:
            client.fail("boom")
        assert (caught.value.name, caught.value.message) == ("Error", "boom")


def test_a_generated_client_of_two_servers(peer: Server, node_peer: Server) -> None:
    # The zerorpc-python and the zerorpc-node peer serve the same methods: calls go to each in turn.
    with PeerClient([peer.endpoint, node_peer.endpoint], heartbeat=HEARTBEAT, timeout=CALL_TIMEOUT) as client:
        assert client.endpoint == peer.endpoint
        assert [client.add(n, 1) for n in range(10)] == [n + 1 for n in range(10)]
        assert [list(client.count(150)) for _ in range(2)] == [list(range(150))] * 2
