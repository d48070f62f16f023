"""The client against a hand-built ROUTER, to see exactly what it sends and what replies it accepts."""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import Iterator
from typing import Any

import msgpack  # type: ignore[import-untyped, unused-ignore]
import pytest
import zmq
from conftest import run_in_thread, wait_until

import rpcgen_runtime
from rpcgen_runtime import (
    Client,
    Failed,
    ProtocolError,
    RequestRecord,
    TimeoutExpired,
    TooLarge,
    _encode_request,
)

HEARTBEAT = 0.3


@contextlib.contextmanager
def raw_router(endpoint: str | None = None) -> Iterator[tuple[zmq.Socket[bytes], int]]:
    """A ROUTER bound to ``endpoint`` (by default a free loopback port) and its port, closed (with its
    context) on exit."""
    context = zmq.Context()
    router = context.socket(zmq.ROUTER)
    router.linger = 0
    try:
        if endpoint is None:
            yield router, router.bind_to_random_port("tcp://127.0.0.1")
        else:
            router.bind(endpoint)
            yield router, int(endpoint.rsplit(":", 1)[1])
    finally:
        router.close()
        context.term()


def next_request(router: zmq.Socket[bytes]) -> tuple[bytes, bytes, Any]:
    """Waits (10 s at most) for the next request: the client's routing id, the event frame and its
    message id."""
    assert router.poll(10_000), "no request arrived"
    identity, _, request = router.recv_multipart()
    return identity, request, msgpack.unpackb(request, raw=False)[0]["message_id"]


def reply(channel_id: bytes, name: Any, args: Any) -> bytes:
    """A reply event on the channel `channel_id` (a name that is not a str if the test wants one)."""
    header = {"message_id": "reply-1", "v": 3, "response_to": channel_id}
    packed: bytes = msgpack.packb([header, name, args], use_bin_type=True)
    return packed


def test_requests_heartbeats_and_a_reply_without_delimiter() -> None:
    with (
        raw_router() as (router, port),
        Client(f"tcp://127.0.0.1:{port}", heartbeat=HEARTBEAT, timeout=10) as client,
    ):
        join = run_in_thread(lambda: client.call("hello", "raw"))
        assert router.poll(10_000), "no request arrived"
        identity, delimiter, request = router.recv_multipart()
        header, name, args = msgpack.unpackb(request, raw=False)
        assert (delimiter, name, args) == (b"", "hello", ["raw"])
        assert list(header) == ["message_id", "v"]
        assert header["v"] == 3
        channel_id = header["message_id"]
        assert isinstance(channel_id, bytes)
        assert re.fullmatch(rb"[0-9a-f]{32}", channel_id)

        beats = answer_heartbeats(router, identity, channel_id, wanted=3)
        assert [beat[1:] for beat in beats] == [("_zpc_hb", [0])] * 3
        for beat_header, _, _ in beats:
            assert list(beat_header) == ["message_id", "v", "response_to"]
            assert beat_header["response_to"] == channel_id
        assert len({beat_header["message_id"] for beat_header, _, _ in beats} | {channel_id}) == 4

        # No delimiter frame, and the channel id echoed as a str rather than bin.
        reply_header = {"message_id": "reply-1", "v": 3, "response_to": channel_id.decode()}
        router.send_multipart([identity, msgpack.packb([reply_header, "OK", ["Hello, raw"]])])
        assert join() == "Hello, raw"


def answer_heartbeats(
    router: zmq.Socket[bytes], identity: bytes, channel_id: bytes, wanted: int
) -> list[tuple[dict[str, Any], str, Any]]:
    """Collects the client's next ``wanted`` events, answering each with a server heartbeat."""
    events = []
    for number in range(wanted):
        assert router.poll(10_000), "no heartbeat arrived"
        _, _, payload = router.recv_multipart()
        header, name, args = msgpack.unpackb(payload, raw=False)
        events.append((header, name, args))
        beat = [{"message_id": f"beat-{number}", "v": 3, "response_to": channel_id}, "_zpc_hb", [0]]
        router.send_multipart([identity, b"", msgpack.packb(beat, use_bin_type=True)])
    return events


def test_a_reply_too_deeply_nested_to_decode_fails_its_call_at_once() -> None:
    # A long timeout and no heartbeat: the call must end with the reply, not by waiting.
    with (
        raw_router() as (router, port),
        Client(f"tcp://127.0.0.1:{port}", heartbeat=None, timeout=60) as client,
    ):
        join = run_in_thread(lambda: client.call("deep"))
        identity, _, channel_id = next_request(router)
        header = msgpack.packb({"message_id": "reply-1", "v": 3, "response_to": channel_id})
        # [header, "OK", [5,000 nested arrays]]: more than msgpack's unpacker will nest.
        reply = b"\x93" + header + b"\xa2OK\x91" + b"\x91" * 5_000 + b"\xc0"
        router.send_multipart([identity, b"", reply])
        outcome = join()
        assert isinstance(outcome, ProtocolError), outcome
        assert re.search(r"unreadable reply to 'deep'.*StackError", str(outcome)), outcome


def test_a_reply_whose_name_is_not_a_string_fails_its_call_at_once() -> None:
    # Its header names the call, but not what the event is: the call ends now, not at its timeout.
    with (
        raw_router() as (router, port),
        Client(f"tcp://127.0.0.1:{port}", heartbeat=None, timeout=60) as client,
    ):
        join = run_in_thread(lambda: client.call("named"))
        identity, _, channel_id = next_request(router)
        started = time.monotonic()
        router.send_multipart([identity, b"", reply(channel_id, b"OK", ["?"])])
        outcome = join()
        assert time.monotonic() - started < 10
        assert isinstance(outcome, ProtocolError), outcome
        assert re.search(r"unreadable reply to 'named'.*name is not a string: b'OK'", str(outcome)), outcome


def test_map_keys_other_than_text_are_refused_before_anything_is_sent() -> None:
    # A zerorpc-python server would drop such a request without answering; this one never answers,
    # so without the check the calls would end in TimeoutExpired.
    entries: dict[str, Any] = {}
    with (
        raw_router() as (router, port),
        Client(
            f"tcp://127.0.0.1:{port}", heartbeat=None, timeout=5, request_header=lambda _: entries
        ) as client,
    ):
        in_args = r"cannot send 'echo': argument 1\['counts'\] has the map key 1 \(int\): map keys must be"
        with pytest.raises(TypeError, match=in_args):
            client.call("echo", "x", {"counts": {1: "one"}})
        entries["trace"] = {"ids": {2: "x"}}
        in_header = r"cannot send 'echo': header entry 'trace'\['ids'\] has the map key 2 \(int\)"
        with pytest.raises(TypeError, match=in_header):
            client.stream("echo", "fine")
        assert not router.poll(300), "a refused request reached the server"

        # The client still sends what it may: text and bytes keys.
        entries["trace"] = {"ids": {"2": "x"}}
        join = run_in_thread(lambda: client.call("echo", {"1": {b"2": 3}}))
        assert router.poll(10_000), "no request arrived"
        identity, _, request = router.recv_multipart()
        header, name, args = msgpack.unpackb(request, raw=False)
        assert (header["trace"], name, args) == ({"ids": {"2": "x"}}, "echo", [{"1": {b"2": 3}}])
        reply_header = {"message_id": "reply-1", "v": 3, "response_to": header["message_id"]}
        router.send_multipart([identity, b"", msgpack.packb([reply_header, "OK", args], use_bin_type=True)])
        assert join() == {"1": {b"2": 3}}


def test_a_server_that_never_answered_still_counts_as_connected() -> None:
    # What counts is ZeroMQ's handshake, not a reply: a timeout from a silent server does not say
    # that nothing is listening.
    with (
        raw_router() as (router, port),
        Client(f"tcp://127.0.0.1:{port}", heartbeat=None, timeout=0.3) as client,
    ):
        wait_until(lambda: client._connection.reached)
        with pytest.raises(TimeoutExpired) as raised:
            client.call("hello", "x")
        next_request(router)
    assert raised.value.never_connected is None
    assert "never connected" not in str(raised.value)


def test_a_request_above_max_message_size_is_refused_before_anything_is_sent() -> None:
    limit = len(_encode_request(b"0" * 32, "echo", (b"x" * 1_000,)))
    records: list[RequestRecord] = []
    with (
        raw_router() as (router, port),
        Client(
            f"tcp://127.0.0.1:{port}", heartbeat=None, max_message_size=limit, after_request=records.append
        ) as client,
    ):
        with pytest.raises(TooLarge) as raised:
            client.call("echo", b"x" * 1_001)
        assert (raised.value.what, raised.value.size, raised.value.limit) == ("request", limit + 1, limit)
        assert str(raised.value).startswith(f"cannot send 'echo': the request is {limit + 1} bytes")
        with pytest.raises(TooLarge, match="cannot send 'echo'"):
            client.stream("echo", b"x" * 5_000)
        assert not router.poll(300), "a refused request reached the server"
        assert records == []

        # A request of exactly the limit is sent.
        join = run_in_thread(lambda: client.call("echo", b"x" * 1_000))
        identity, request, channel_id = next_request(router)
        assert len(request) == limit
        router.send_multipart([identity, b"", reply(channel_id, "OK", ["fine"])])
        assert join() == "fine"


def test_a_reply_above_max_message_size_fails_its_call_without_being_decoded(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    decoded_sizes: list[int] = []
    decode = rpcgen_runtime._decode_event

    def recording_decode(frames: Any) -> Any:
        decoded_sizes.append(len(frames[-1]))
        return decode(frames)

    monkeypatch.setattr(rpcgen_runtime, "_decode_event", recording_decode)
    caplog.set_level(logging.DEBUG, logger="rpcgen_runtime")
    records: list[RequestRecord] = []
    with (
        raw_router() as (router, port),
        Client(
            f"tcp://127.0.0.1:{port}",
            heartbeat=None,
            timeout=60,
            max_message_size=1_000,
            after_request=records.append,
        ) as client,
    ):
        join = run_in_thread(lambda: client.call("big"))
        identity, _, channel_id = next_request(router)
        # Too large, but not a reply: a message that is not MessagePack, one for no open call, and
        # a heartbeat of the call (a sign of life, as for the Rust client). None fails the call.
        router.send_multipart([identity, b"", b"\xc1" * 2_000])
        router.send_multipart([identity, b"", reply(b"9" * 32, "OK", [b"x" * 2_000])])
        router.send_multipart([identity, b"", reply(channel_id, "_zpc_hb", [b"x" * 2_000])])
        too_big = reply(channel_id, "OK", [b"x" * 2_000])
        started = time.monotonic()
        router.send_multipart([identity, b"", too_big])
        outcome = join()
        assert time.monotonic() - started < 10
        assert isinstance(outcome, TooLarge), outcome
        assert (outcome.method, outcome.what, outcome.size, outcome.limit) == (
            "big",
            "reply",
            len(too_big),
            1_000,
        )
        assert str(outcome) == (
            f"the reply to 'big' is {len(too_big)} bytes, above the limit of 1000 bytes (max_message_size)"
        )
        assert [record.outcome for record in records] == [Failed(outcome)]

        # A stream gets the items before the one that is too large, then the error.
        items = client.stream("items")
        identity, _, channel_id = next_request(router)
        for item in (1, 2):
            router.send_multipart([identity, b"", reply(channel_id, "STREAM", item)])
        router.send_multipart([identity, b"", reply(channel_id, "STREAM", b"x" * 2_000)])
        assert [next(items), next(items)] == [1, 2]
        with pytest.raises(TooLarge, match="the reply to 'items' is"):
            next(items)
    assert max(decoded_sizes) <= 1_000, "a message above the limit was decoded"
    dropped = [
        entry.getMessage() for entry in caplog.records if "above max_message_size" in entry.getMessage()
    ]
    assert [(message.split(": ")[-1]) for message in dropped] == [
        "above max_message_size (1000 bytes) and its header cannot be read",
        "above max_message_size (1000 bytes) and for no open channel",
    ]
