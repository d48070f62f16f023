"""The asyncio AsyncClient against the real zerorpc-python server, each test under asyncio.run."""

from __future__ import annotations

import asyncio
import contextvars
import threading

import pytest
from conftest import CALL_TIMEOUT, HEARTBEAT, Peer, busy_loop, wait_until

from rpcgen_runtime import AsyncClient, ClientClosed, ProtocolError, RemoteError, TimeoutExpired, TooLarge


def connect(peer: Peer, *, timeout: float = CALL_TIMEOUT) -> AsyncClient:
    return AsyncClient(peer.endpoint, heartbeat=HEARTBEAT, timeout=timeout)


def test_calls(peer: Peer) -> None:
    async def main() -> None:
        async with connect(peer) as rpc:
            assert await rpc.call("hello", "world") == "Hello, world"
            assert await rpc.call("echo", {"big": 2**63 + 5, "raw": b"\x00\xff"}) == {
                "big": 2**63 + 5,
                "raw": b"\x00\xff",
            }
            assert await rpc.call("nothing") is None

    asyncio.run(main())


def test_each_task_sends_its_own_request_header_entries(peer: Peer) -> None:
    trace_id: contextvars.ContextVar[str] = contextvars.ContextVar("trace_id")

    async def main() -> None:
        async with AsyncClient(
            peer.endpoint, heartbeat=HEARTBEAT, request_header=lambda method: {"trace_id": trace_id.get()}
        ) as rpc:

            async def traced(n: int) -> object:
                trace_id.set(f"t-{n}")
                return await rpc.call("header_entry", "trace_id")

            seen = await asyncio.gather(*(traced(n) for n in range(20)))
            assert seen == [f"t-{n}" for n in range(20)]

    asyncio.run(main())


def test_max_message_size(peer: Peer) -> None:
    async def main() -> None:
        async with AsyncClient(peer.endpoint, heartbeat=HEARTBEAT, max_message_size=150) as rpc:
            with pytest.raises(TooLarge, match="cannot send 'echo': the request is"):
                await rpc.call("echo", b"x" * 200)
            with pytest.raises(TooLarge, match="the reply to 'sample' is"):
                await rpc.call("sample")
            assert await rpc.call("hello", "small") == "Hello, small"

    asyncio.run(main())
    with pytest.raises(ValueError, match="max_message_size"):
        AsyncClient(peer.endpoint, max_message_size=0)


def test_remote_errors(peer: Peer) -> None:
    async def main() -> None:
        async with connect(peer) as rpc:
            with pytest.raises(RemoteError) as raised:
                await rpc.call("fail", "async boom")
            assert (raised.value.name, raised.value.message) == ("ValueError", "async boom")
            with pytest.raises(RemoteError, match="NameError"):
                await rpc.call("no_such_method")
            with pytest.raises(ProtocolError):
                await rpc.call("count", 2)

    asyncio.run(main())


def test_streams(peer: Peer) -> None:
    async def main() -> None:
        async with connect(peer) as rpc:
            assert [item async for item in rpc.stream("count", 1000)] == list(range(1000))
            assert [item async for item in rpc.stream("empty_stream")] == []

    asyncio.run(main())


def test_leaving_a_stream_early_abandons_it(peer: Peer) -> None:
    async def main() -> None:
        async with connect(peer) as rpc:
            async with rpc.stream("count", 1000) as items:
                async for item in items:
                    if item == 2:
                        break
            assert [item async for item in items] == []
            channels = rpc._connection._channels
            wait_until(lambda: not channels)
            assert await rpc.call("hello", "after") == "Hello, after"

    asyncio.run(main())


def test_200_concurrent_calls_share_one_connection(peer: Peer) -> None:
    async def main() -> list[object]:
        async with connect(peer) as rpc:
            results: list[object] = await asyncio.gather(
                *(rpc.call("echo", [number, "y" * number]) for number in range(200))
            )
            return results

    assert asyncio.run(main()) == [[number, "y" * number] for number in range(200)]


def test_concurrent_streams_and_calls(peer: Peer) -> None:
    async def main() -> None:
        async with connect(peer) as rpc:

            async def collect(count: int) -> list[object]:
                return [item async for item in rpc.stream("count", count)]

            streams = [collect(count) for count in (0, 1, 150, 300)]
            calls = [rpc.call("add", number, 1) for number in range(20)]
            results = await asyncio.gather(*streams, *calls)
            assert results[:4] == [[], [0], list(range(150)), list(range(300))]
            assert results[4:] == [number + 1 for number in range(20)]

    asyncio.run(main())


def test_a_timeout(peer: Peer) -> None:
    async def main() -> None:
        async with connect(peer) as rpc:
            with pytest.raises(TimeoutExpired, match="'slow'"):
                await rpc.call("slow", 5, timeout=0.3)
            assert await rpc.call("slow", 0.1) == 0.1

    asyncio.run(main())


def test_cancelling_a_call_abandons_it(peer: Peer) -> None:
    async def main() -> None:
        async with connect(peer) as rpc:
            task = asyncio.ensure_future(rpc.call("slow", 5))
            channels = rpc._connection._channels
            while not channels:
                await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            wait_until(lambda: not channels)
            assert await rpc.call("hello", "next") == "Hello, next"

    asyncio.run(main())


def test_heartbeats_continue_while_the_event_loop_is_busy(peer: Peer) -> None:
    # The server gives up on a client it has not heard from for 3 heartbeats; the loop is blocked
    # by CPU work for 4, while a 3.5 s call is in flight.
    async def main() -> None:
        async with connect(peer) as rpc:
            task = asyncio.ensure_future(rpc.call("slow", 3.5))
            await asyncio.sleep(0.1)
            assert busy_loop(4 * HEARTBEAT) > 0
            assert await task == 3.5

    asyncio.run(main())


def test_close_fails_pending_calls_and_leaves_no_thread(peer: Peer) -> None:
    before = set(threading.enumerate())

    async def main() -> None:
        rpc = connect(peer)
        pending = asyncio.ensure_future(rpc.call("slow", 10))
        await asyncio.sleep(0.1)
        await rpc.close()
        with pytest.raises(ClientClosed):
            await pending
        with pytest.raises(ClientClosed):
            await rpc.call("hello", "x")
        await rpc.close()

    asyncio.run(main())
    assert set(threading.enumerate()) == before
