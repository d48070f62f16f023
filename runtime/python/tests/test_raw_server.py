"""The client against a hand-built ROUTER, to see exactly what it sends and what replies it accepts."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from typing import Any

import msgpack  # type: ignore[import-untyped, unused-ignore]
import pytest
import zmq
from conftest import run_in_thread

from rpcgen_runtime import Client, ProtocolError

HEARTBEAT = 0.3


@contextlib.contextmanager
def raw_router() -> Iterator[tuple[zmq.Socket[bytes], int]]:
    """A ROUTER bound to a free loopback port, closed (with its context) on exit."""
    context = zmq.Context()
    router = context.socket(zmq.ROUTER)
    router.linger = 0
    try:
        yield router, router.bind_to_random_port("tcp://127.0.0.1")
    finally:
        router.close()
        context.term()


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
        assert router.poll(10_000), "no request arrived"
        identity, _, request = router.recv_multipart()
        channel_id = msgpack.unpackb(request, raw=False)[0]["message_id"]
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
        assert router.poll(10_000), "no request arrived"
        identity, _, request = router.recv_multipart()
        channel_id = msgpack.unpackb(request, raw=False)[0]["message_id"]
        header = {"message_id": "reply-1", "v": 3, "response_to": channel_id}
        started = time.monotonic()
        router.send_multipart([identity, b"", msgpack.packb([header, b"OK", ["?"]], use_bin_type=True)])
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
