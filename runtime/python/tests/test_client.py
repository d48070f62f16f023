"""The blocking Client against the real zerorpc-python server (tests/fixtures/zerorpc_peer.py)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from conftest import CALL_TIMEOUT, HEARTBEAT, Peer, busy_loop, free_endpoint, run_in_thread, wait_until

from rpcgen_runtime import (
    Client,
    ClientClosed,
    LostRemote,
    ProtocolError,
    RemoteError,
    RpcError,
    TimeoutExpired,
    TooLarge,
)

# What the server's sample() returns, written out independently of the server.
SAMPLE = {
    "nil": None,
    "true": True,
    "false": False,
    "small": 7,
    "negative": -3,
    "big": 2**63 + 5,
    "min_i64": -(2**63),
    "float": 1.5,
    "text": "héllo",
    "bytes": b"\x00\x01\xff",
    "list": [1, "two", 3.0],
    "map": {"a": 1, "b": [True, None]},
}

VALUES = [
    None,
    True,
    False,
    0,
    -1,
    2**31,
    2**63 + 5,
    2**64 - 1,
    -(2**63),
    1.5,
    -0.25,
    "",
    "héllo wörld ✓",
    b"",
    b"\x00\x01\xff" * 100,
    [],
    [1, "two", 3.0, None, b"\x04"],
    {},
    {"nested": {"deeper": {"list": [{"a": 1}, {"b": [2, 3]}], "bytes": b"\xfe"}}},
    {b"bytes key": "value", "str key": 2},
]


def test_hello(client: Client) -> None:
    assert client.call("hello", "world") == "Hello, world"


def test_add(client: Client) -> None:
    assert client.call("add", 2, 40) == 42
    assert client.call("add", 2**62, 2**62) == 2**63
    assert client.call("add", [1], [2]) == [1, 2]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_echo_returns_every_value_kind_unchanged(client: Client, value: Any) -> None:
    result = client.call("echo", value)
    assert result == value
    assert type(result) is type(value)


def test_tuples_travel_as_lists(client: Client) -> None:
    assert client.call("echo", (1, (2, 3))) == [1, [2, 3]]


def test_sample_has_one_value_of_every_kind(client: Client) -> None:
    assert client.call("sample") == SAMPLE


def test_bytes_arrive_as_bytes(client: Client) -> None:
    assert client.call("byte_len", b"\x00" * 1000) == 1000


def test_nothing_returns_none(client: Client) -> None:
    assert client.call("nothing") is None


def test_a_remote_exception_is_a_remote_error(client: Client) -> None:
    with pytest.raises(RemoteError) as raised:
        client.call("fail", "boom")
    error = raised.value
    assert (error.name, error.message) == ("ValueError", "boom")
    assert error.traceback is not None
    assert error.traceback.startswith("Traceback (most recent call last):")
    assert error.traceback.endswith("ValueError: boom\n")
    assert str(error) == "ValueError: boom"


def test_an_unknown_method_is_a_name_error(client: Client) -> None:
    with pytest.raises(RemoteError) as raised:
        client.call("no_such_method")
    assert (raised.value.name, raised.value.message) == ("NameError", "no_such_method")


def test_wrong_arguments_are_a_type_error(client: Client) -> None:
    with pytest.raises(RemoteError) as raised:
        client.call("hello", "a", "b")
    assert raised.value.name == "TypeError"


def test_unencodable_arguments_fail_before_sending(client: Client) -> None:
    with pytest.raises(TypeError, match="'echo'"):
        client.call("echo", object())
    with pytest.raises(TypeError, match="'echo'"):
        client.call("echo", 2**64)
    assert client.call("hello", "still fine") == "Hello, still fine"


def test_integer_map_keys_fail_before_sending(client: Client) -> None:
    # zerorpc-python would drop the request unanswered: the call would end in LostRemote.
    with pytest.raises(TypeError, match=r"'echo': argument 0\[0\] has the map key 1 \(int\)"):
        client.call("echo", [{1: "one"}])
    assert client.call("echo", {"1": "one"}) == {"1": "one"}


def test_max_message_size_against_zerorpc_python(peer: Peer) -> None:
    with Client(peer.endpoint, heartbeat=HEARTBEAT, timeout=CALL_TIMEOUT, max_message_size=150) as small:
        # Refused before sending: the request alone is above the limit.
        with pytest.raises(
            TooLarge, match=r"cannot send 'echo': the request is \d+ bytes, above the limit of 150"
        ):
            small.call("echo", b"x" * 200)
        # Sent, but the server's answer (its sample of every value kind) is above it.
        with pytest.raises(
            TooLarge, match=r"the reply to 'sample' is \d+ bytes, above the limit of 150"
        ) as raised:
            small.call("sample")
        assert raised.value.what == "reply"
        assert raised.value.size > 150
        assert small.call("hello", "small") == "Hello, small"


def test_a_stream_of_a_thousand_items(client: Client) -> None:
    assert list(client.stream("count", 1000)) == list(range(1000))


def test_an_empty_stream(client: Client) -> None:
    assert list(client.stream("empty_stream")) == []


def test_breaking_out_of_a_stream_abandons_it(client: Client) -> None:
    seen = []
    for item in client.stream("count", 1000):
        seen.append(item)
        if item == 4:
            break
    assert seen == [0, 1, 2, 3, 4]
    channels = client._connection._channels
    wait_until(lambda: not channels)
    assert client.call("hello", "after") == "Hello, after"


def test_closing_a_stream_ends_it(client: Client) -> None:
    with client.stream("count", 1000) as items:
        assert next(items) == 0
    assert list(items) == []


def test_calling_a_streaming_method_as_a_plain_call_is_an_error(client: Client) -> None:
    with pytest.raises(ProtocolError, match="stream"):
        client.call("count", 3)


def test_a_call_longer_than_three_heartbeats_succeeds(client: Client) -> None:
    assert client.call("slow", 3.5) == 3.5


def test_a_per_call_timeout(client: Client) -> None:
    with pytest.raises(TimeoutExpired, match="'slow'"):
        client.call("slow", 5, timeout=0.3)
    assert client.call("hello", "again") == "Hello, again"


def test_the_client_timeout_is_the_default(peer: Peer) -> None:
    with Client(peer.endpoint, heartbeat=HEARTBEAT, timeout=0.3) as short:
        with pytest.raises(TimeoutExpired) as raised:
            short.call("slow", 5)
        assert isinstance(raised.value, TimeoutError)
        assert short.call("slow", 0.1, timeout=CALL_TIMEOUT) == 0.1


def test_a_stream_that_never_answers_times_out() -> None:
    # Nothing listens and heartbeats are off, so only the timeout can end the wait.
    endpoint = free_endpoint()
    with Client(endpoint, heartbeat=None, timeout=0.3) as lonely:
        items = lonely.stream("count", 3)
        with pytest.raises(TimeoutExpired):
            next(items)
        assert list(items) == []


def test_a_timeout_before_the_client_ever_connected_says_so() -> None:
    endpoint = free_endpoint()
    with Client(endpoint, heartbeat=HEARTBEAT, timeout=0.3) as nobody:
        with pytest.raises(TimeoutExpired) as raised:
            nobody.call("add", 1, 2)
        assert raised.value.never_connected == (endpoint,)
        assert str(raised.value) == (
            f"timeout after 0.3s waiting for 'add' from {endpoint}: never connected to `{endpoint}` "
            "(is a zerorpc server running and listening there?)"
        )
        with pytest.raises(TimeoutExpired) as raised:
            next(nobody.stream("count", 3))
        assert raised.value.never_connected == (endpoint,)
    other = free_endpoint()
    with (
        Client([endpoint, other], heartbeat=HEARTBEAT, timeout=0.3) as nobody,
        pytest.raises(TimeoutExpired) as raised,
    ):
        nobody.call("add", 1, 2)
    assert raised.value.never_connected == (endpoint, other)
    assert str(raised.value).endswith(
        f": never connected to any of `{endpoint}`, `{other}` "
        "(are zerorpc servers running and listening there?)"
    )


def test_a_port_where_no_zeromq_peer_listens_counts_as_never_connected() -> None:
    # A plain TCP listener takes the connection but never completes ZeroMQ's handshake.
    with socket.create_server(("127.0.0.1", 0)) as listener:
        endpoint = f"tcp://127.0.0.1:{listener.getsockname()[1]}"
        rpc = Client(endpoint, heartbeat=HEARTBEAT, timeout=0.3)
        with rpc, pytest.raises(TimeoutExpired) as raised:
            rpc.call("hello", "x")
    assert raised.value.never_connected == (endpoint,)


def test_a_timeout_after_the_server_answered_once_does_not_say_never_connected(
    own_peer: Callable[..., Peer],
) -> None:
    server = own_peer()
    with Client(server.endpoint, heartbeat=HEARTBEAT, timeout=0.3) as rpc:
        assert rpc.call("hello", "x") == "Hello, x"
        with pytest.raises(TimeoutExpired) as slow:
            rpc.call("slow", 5)
        server.kill()
        with pytest.raises(TimeoutExpired) as gone:
            rpc.call("hello", "anyone?")
    assert (slow.value.never_connected, gone.value.never_connected) == (None, None)
    assert str(slow.value) == f"timeout after 0.3s waiting for 'slow' from {server.endpoint}"
    assert "never connected" not in str(gone.value)


def test_200_concurrent_calls_from_threads_share_one_client(client: Client) -> None:
    callers = 200
    start = threading.Barrier(callers, timeout=CALL_TIMEOUT)

    def caller(number: int) -> Callable[[], object]:
        def call() -> object:
            start.wait()
            return client.call("echo", [number, "x" * number])

        return call

    joins = [run_in_thread(caller(number)) for number in range(callers)]
    assert [join() for join in joins] == [[number, "x" * number] for number in range(callers)]


def test_heartbeats_continue_while_the_reading_thread_is_busy(client: Client) -> None:
    # The server gives up on a client it has not heard from for 3 heartbeats; stay busy for 4.
    with client.stream("count", 5) as items:
        assert next(items) == 0
        assert busy_loop(4 * HEARTBEAT) > 0
        assert list(items) == [1, 2, 3, 4]


def test_a_killed_server_is_a_lost_remote(own_peer: Callable[..., Peer]) -> None:
    doomed = own_peer()
    with Client(doomed.endpoint, heartbeat=HEARTBEAT, timeout=60) as rpc:
        assert rpc.call("hello", "x") == "Hello, x"
        killer = threading.Timer(0.5, doomed.kill)
        killer.start()
        try:
            with pytest.raises(LostRemote, match="'slow'"):
                rpc.call("slow", 30)
        finally:
            killer.join()


def test_a_call_made_before_the_server_is_up_waits_for_it(own_peer: Callable[..., Peer]) -> None:
    endpoint = free_endpoint()
    # The call waits in the client until the server is connected, then its heartbeats start.
    with Client(endpoint, heartbeat=HEARTBEAT, timeout=CALL_TIMEOUT) as early:
        join = run_in_thread(lambda: early.call("hello", "early bird"))
        unsent = early._connection._unsent
        wait_until(lambda: unsent)
        time.sleep(3.5 * HEARTBEAT)  # Longer than a sent call waits for a first sign of life.
        own_peer(bind=endpoint)
        assert join() == "Hello, early bird"


def test_creating_a_client_for_a_missing_server_does_not_block() -> None:
    with Client(free_endpoint()) as nobody:
        assert nobody.endpoint.startswith("tcp://127.0.0.1:")


def test_close_fails_pending_calls_and_refuses_new_ones(peer: Peer) -> None:
    rpc = Client(peer.endpoint, heartbeat=HEARTBEAT, timeout=CALL_TIMEOUT)
    join = run_in_thread(lambda: rpc.call("slow", 10))
    channels = rpc._connection._channels
    wait_until(lambda: channels)
    rpc.close()
    assert isinstance(join(), ClientClosed)
    with pytest.raises(ClientClosed):
        rpc.call("hello", "x")
    rpc.close()


def test_close_leaves_no_thread_behind(peer: Peer) -> None:
    before = set(threading.enumerate())
    with Client(peer.endpoint, heartbeat=HEARTBEAT) as rpc:
        assert rpc.call("hello", "x") == "Hello, x"
        assert list(rpc.stream("count", 3)) == [0, 1, 2]
        assert len(set(threading.enumerate()) - before) == 1
    assert set(threading.enumerate()) == before


def test_a_forgotten_client_is_closed_when_collected(peer: Peer) -> None:
    before = set(threading.enumerate())
    rpc = Client(peer.endpoint, heartbeat=HEARTBEAT)
    assert rpc.call("hello", "x") == "Hello, x"
    del rpc
    assert set(threading.enumerate()) == before


def test_request_header_entries_reach_the_server_middleware(peer: Peer) -> None:
    # zerorpc-python's load_task_context sees them, as it sees its own client's get_task_context.
    local = threading.local()
    methods: list[str] = []

    def request_header(method: str) -> dict[str, Any]:
        methods.append(method)
        return {"trace_id": getattr(local, "trace_id", None), "message_id": "forged", "v": 9}

    with Client(peer.endpoint, heartbeat=HEARTBEAT, request_header=request_header) as traced:

        def traced_call(trace_id: str) -> object:
            local.trace_id = trace_id
            return traced.call("header_entry", "trace_id")

        # Called in the calling thread: each thread's own trace id travels with its request.
        assert run_in_thread(lambda: traced_call("t-thread"))() == "t-thread"
        assert traced_call("t-main") == "t-main"
        # The protocol's keys stay the runtime's.
        assert traced.call("header_entry", "v") == 3
        assert traced.call("header_entry", "message_id") != "forged"
        assert list(traced.stream("count", 2)) == [0, 1]
    assert methods == ["header_entry", "header_entry", "header_entry", "header_entry", "count"]


@pytest.mark.parametrize(
    ("entries", "error"),
    [
        ({1: "x"}, "header keys must be strings, got 1"),
        ({"x": object()}, "header entries of 'hello'"),
        ({"x": [{1: "y"}]}, r"'hello': header entry 'x'\[0\] has the map key 1"),
    ],
)
def test_bad_request_header_entries_fail_before_sending(peer: Peer, entries: Any, error: str) -> None:
    bad = Client(peer.endpoint, heartbeat=HEARTBEAT, request_header=lambda method: entries)
    with bad, pytest.raises(TypeError, match=error):
        bad.call("hello", "x")


def test_a_stream_keeps_its_client_open(peer: Peer) -> None:
    items = Client(peer.endpoint, heartbeat=HEARTBEAT).stream("count", 3)
    assert list(items) == [0, 1, 2]


def test_without_heartbeats_calls_still_work(peer: Peer) -> None:
    with Client(peer.endpoint, heartbeat=None) as quiet:
        assert quiet.call("hello", "quiet") == "Hello, quiet"


@pytest.mark.parametrize(("heartbeat", "timeout"), [(0, 30.0), (5.0, 0), (5.0, -1.0), (float("nan"), 30.0)])
def test_invalid_settings_are_refused(heartbeat: float, timeout: float) -> None:
    with pytest.raises(ValueError, match="positive number of seconds"):
        Client("tcp://127.0.0.1:1", heartbeat=heartbeat, timeout=timeout)


@pytest.mark.parametrize("size", [0, -1, 1.5, True, "1000", None])
def test_an_invalid_max_message_size_is_refused(size: Any) -> None:
    with pytest.raises(ValueError, match="max_message_size must be a positive whole number of bytes"):
        Client("tcp://127.0.0.1:1", max_message_size=size)


def test_an_invalid_endpoint_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot connect to 'nowhere'"):
        Client("nowhere")


def test_every_error_is_an_rpc_error() -> None:
    for error in (RemoteError, TimeoutExpired, LostRemote, ClientClosed, ProtocolError):
        assert issubclass(error, RpcError)
