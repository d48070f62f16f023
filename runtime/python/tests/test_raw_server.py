"""The client against a hand-built ROUTER, to see exactly what it sends and what replies it accepts."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

import msgpack  # type: ignore[import-untyped, unused-ignore]
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
