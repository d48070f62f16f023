"""The clients against the real zerorpc-node server (tests/fixtures/zerorpc_node_peer.cjs).

zerorpc-node answers differently from zerorpc-python: numbers beyond 32 bits come back as floats,
errors are named after the JavaScript error, an empty stream ends with ``OK [nil]``, and an
unknown method gets no answer at all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from conftest import CALL_TIMEOUT, HEARTBEAT, Peer

from rpcgen_runtime import AsyncClient, Client, LostRemote, RemoteError


@pytest.fixture
def node_client(node_peer: Peer) -> Iterator[Client]:
    """A blocking client of the shared zerorpc-node server."""
    with Client(node_peer.endpoint, heartbeat=HEARTBEAT, timeout=CALL_TIMEOUT) as rpc:
        yield rpc


def test_plain_calls(node_client: Client) -> None:
    assert node_client.call("hello", "world") == "Hello, world"
    assert node_client.call("add", 2, 40) == 42
    assert node_client.call("nothing") is None
    assert node_client.call("byte_len", b"\x00" * 70_000) == 70_000


@pytest.mark.parametrize(
    "value",
    [None, True, -300, 1.5, "héllo ✓", b"\x00\x01\xff", [1, "two", None], {"a": {"b": [True]}}],
)
def test_echo_returns_values_that_fit_32_bits_unchanged(node_client: Client, value: object) -> None:
    result = node_client.call("echo", value)
    assert result == value
    assert type(result) is type(value)


def test_numbers_beyond_32_bits_come_back_as_floats(node_client: Client) -> None:
    result = node_client.call("echo", 2**40)
    assert result == 2**40
    assert type(result) is float
    # zerorpc-node holds numbers as JavaScript numbers: 2^63 + 5 comes back rounded.
    assert node_client.call("echo", 2**63 + 5) == float(2**63)
    sample = node_client.call("sample")
    assert (sample["big"], sample["min_i64"]) == (float(2**63), float(-(2**63)))
    assert sample["bytes"] == b"\x00\x01\xff"
    assert sample["text"] == "héllo"


def test_an_error_is_named_after_the_javascript_error(node_client: Client) -> None:
    with pytest.raises(RemoteError) as caught:
        node_client.call("fail", "boom")
    assert (caught.value.name, caught.value.message) == ("Error", "boom")
    assert (caught.value.traceback or "").startswith("Error: boom\n    at ")


def test_a_missing_argument_is_zerorpc_nodes_type_error(node_client: Client) -> None:
    with pytest.raises(RemoteError) as caught:
        node_client.call("add", 1)
    assert (caught.value.name, caught.value.message) == ("TypeError", "reply is not a function")


def test_an_unknown_method_that_is_never_answered_is_lost_remote(node_client: Client) -> None:
    with pytest.raises(LostRemote):
        node_client.call("no_such_method", timeout=30)
    assert node_client.call("add", 1, 1) == 2


def test_streams(node_client: Client) -> None:
    assert list(node_client.stream("count", 1000)) == list(range(1000))
    assert list(node_client.stream("empty_stream")) == []


def test_introspection(node_client: Client) -> None:
    assert node_client.call("_zerorpc_ping") == ["pong", ""]
    inspected = node_client.call("_zerorpc_inspect")
    assert [arg["name"] for arg in inspected["methods"]["add"]["args"]] == ["a", "b"]


def test_a_call_longer_than_three_heartbeats_succeeds(node_client: Client) -> None:
    assert node_client.call("slow", 3.5) == 3.5


def test_concurrent_asyncio_calls(node_peer: Peer) -> None:
    async def calls() -> list[object]:
        async with AsyncClient(node_peer.endpoint, heartbeat=HEARTBEAT, timeout=CALL_TIMEOUT) as rpc:
            return list(await asyncio.gather(*(rpc.call("add", n, 1000) for n in range(200))))

    assert asyncio.run(calls()) == [n + 1000 for n in range(200)]
