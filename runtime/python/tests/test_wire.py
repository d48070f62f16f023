"""Byte-level and channel-level tests, without a network: ids, encoding, decoding, credit.

The expectations come from the captured vectors in ../shared/vectors/zerorpc-v3.json (what the real
zerorpc-python and zerorpc-node put on the wire) and from the protocol notes.
"""

from __future__ import annotations

import concurrent.futures
import json
import pickle
import re
from typing import Any

import msgpack  # type: ignore[import-untyped, unused-ignore]
import pytest
from conftest import VECTORS

import rpcgen_runtime
from rpcgen_runtime import (
    _END,
    DEFAULT_MAX_MESSAGE_SIZE,
    ProtocolError,
    RemoteError,
    TimeoutExpired,
    TooLarge,
    _Channel,
    _channel_key,
    _decode_event,
    _encode_channel_event,
    _encode_request,
    _Event,
    _MessageIds,
    _read_head,
    _UnreadableEvent,
)

ALL_VECTORS: list[dict[str, Any]] = json.loads(VECTORS.read_text())["vectors"]
SERVER_TO_CLIENT = [vector for vector in ALL_VECTORS if vector["direction"] == "server->client"]


def vector(name: str) -> dict[str, Any]:
    return next(v for v in ALL_VECTORS if v["name"] == name)


def from_json(value: Any) -> Any:
    """Turns the vectors' JSON notation back into Python values ({"$bin": hex} is bytes)."""
    if isinstance(value, dict):
        if set(value) == {"$bin"}:
            return bytes.fromhex(value["$bin"])
        return {
            (bytes.fromhex(key[5:]) if key.startswith("$bin:") else key): from_json(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [from_json(item) for item in value]
    return value


class ChannelRecorder:
    """Stands in for the connection behind a channel: records credit grants and abandons."""

    def __init__(self) -> None:
        self.grants: list[int] = []
        self.abandoned = 0

    def channel(self, *, streaming: bool) -> _Channel:
        return _Channel(
            "method",
            (),
            streaming=streaming,
            errors=(),
            grant=lambda _channel, count: self.grants.append(count),
            abandon=lambda _channel: self._abandon(),
        )

    def _abandon(self) -> None:
        self.abandoned += 1


def take_now(channel: _Channel) -> Any:
    future = channel.take()
    assert future.done(), "expected a result to be ready"
    return future.result()


def event(name: str, args: Any) -> _Event:
    return _Event({"message_id": b"1" * 32, "v": 3, "response_to": b"0" * 32}, name, args)


# --- message ids


def test_message_ids_look_like_zerorpc_python_ids() -> None:
    ids = _MessageIds()
    first, second = ids(), ids()
    for message_id in (first, second):
        assert re.fullmatch(rb"[0-9a-f]{32}", message_id)
    # Consecutive ids share the 24-hex suffix and count up by one (unless the series restarted).
    if first[8:] == second[8:]:
        assert int(second[:8], 16) == int(first[:8], 16) + 1


def test_message_ids_are_unique_across_many_events() -> None:
    ids = _MessageIds()
    assert len({ids() for _ in range(10_000)}) == 10_000


# --- encoding


def test_request_for_hello_is_byte_identical_to_zerorpc_python() -> None:
    captured = vector("py_request_hello")
    message_id = from_json(captured["decoded"][0]["message_id"])
    assert _encode_request(message_id, "hello", ("world",)).hex() == captured["hex"]


@pytest.mark.parametrize(
    ("name", "wire_name"), [("py_client_heartbeat", "_zpc_hb"), ("py_zpc_more", "_zpc_more")]
)
def test_channel_events_are_byte_identical_to_zerorpc_python(name: str, wire_name: str) -> None:
    captured = vector(name)
    header, event_name, args = from_json(captured["decoded"])
    assert event_name == wire_name
    encoded = _encode_channel_event(header["message_id"], header["response_to"], event_name, args)
    assert encoded.hex() == captured["hex"]


def test_integers_keep_their_full_64_bit_range() -> None:
    for number in (2**63 + 5, 2**64 - 1, -(2**63)):
        args = msgpack.unpackb(_encode_request(b"0" * 32, "echo", (number,)))[2]
        assert args == [number]


KEY_ADVICE = "map keys must be strings or bytes"

LONG_MAP: dict[object, int] = {str(n): n for n in range(100)}
LONG_MAP[7] = 7


@pytest.mark.parametrize(
    ("args", "extras", "where"),
    [
        (({1: "one"},), None, "argument 0 has the map key 1 (int)"),
        (("x", {"scores": [{"a": 1}, {2: "b"}]}), None, "argument 1['scores'][1] has the map key 2 (int)"),
        (([{b"bin": {None: 1}}],), None, "argument 0[0][b'bin'] has the map key None (NoneType)"),
        (({"a": 1, (1, 2): 3},), None, "argument 0 has the map key (1, 2) (tuple)"),
        (({True: "yes"},), None, "argument 0 has the map key True (bool)"),
        # A long list of scalars with one map at its end, and a long map: each is walked.
        (([*range(100), {"n": {3.5: 1}}],), None, "argument 0[100]['n'] has the map key 3.5 (float)"),
        ((LONG_MAP,), None, "argument 0 has the map key 7 (int)"),
        ((), {"trace": {"ids": {3: "x"}}}, "header entry 'trace'['ids'] has the map key 3 (int)"),
        (("ok",), {"spans": [{4: "x"}]}, "header entry 'spans'[0] has the map key 4 (int)"),
    ],
)
def test_map_keys_other_than_text_are_refused_with_their_place(
    args: tuple[Any, ...], extras: dict[str, Any] | None, where: str
) -> None:
    # A zerorpc-python server drops a request holding one without answering: refuse to send it.
    with pytest.raises(TypeError, match=re.escape(where)) as raised:
        _encode_request(b"0" * 32, "echo", args, extras)
    assert KEY_ADVICE in str(raised.value)


def test_the_first_bad_map_key_is_named_in_the_order_they_are_sent() -> None:
    args = ({"a": [{"b": {5: 5}}], 6: 6},)
    with pytest.raises(TypeError, match=re.escape("argument 0['a'][0]['b'] has the map key 5")):
        _encode_request(b"0" * 32, "echo", args)


def test_string_and_bytes_map_keys_are_sent() -> None:
    args = ({"text": {b"bytes": [{"deep": 1}]}}, [*range(100)], {str(n): [n] for n in range(100)})
    extras = {"trace": {"id": b"1", b"raw": ["x"]}}
    header, name, sent = msgpack.unpackb(_encode_request(b"0" * 32, "echo", args, extras), raw=False)
    assert (header["trace"], name, sent) == (extras["trace"], "echo", list(args))


def test_map_keys_are_walked_in_python_only_when_msgpack_refuses_one(monkeypatch: pytest.MonkeyPatch) -> None:
    # msgpack reads the packed request back at C speed (strict_map_key); the Python walk that names
    # the place of a bad key runs only after that failed.
    walked: list[str] = []
    walk = rpcgen_runtime._check_map_keys

    def counting_walk(value: object, where: str) -> None:
        walked.append(where)
        walk(value, where)

    monkeypatch.setattr(rpcgen_runtime, "_check_map_keys", counting_walk)
    many = [{"id": n, "tags": {"a": [n], b"b": {"c": n}}} for n in range(1_000)]
    _encode_request(b"0" * 32, "echo", (many, "x", [1, 2]), {"trace": {"ids": [{"n": 1}]}})
    _encode_request(b"0" * 32, "echo", (b"x" * 100_000,))
    assert walked == []
    with pytest.raises(TypeError, match=re.escape("argument 1[999]['tags'] has the map key 7 (int)")):
        _encode_request(b"0" * 32, "echo", ("x", [*many[:-1], {"tags": {7: 7}}]), {"trace": {"id": 1}})
    assert walked == ["argument 0", "argument 1"]


def request_size(method: str, *args: Any) -> int:
    return len(_encode_request(b"0" * 32, method, args))


def test_a_request_above_the_limit_is_refused() -> None:
    limit = request_size("echo", b"x" * 1_000)
    assert len(_encode_request(b"0" * 32, "echo", (b"x" * 1_000,), None, limit)) == limit
    with pytest.raises(TooLarge) as raised:
        _encode_request(b"0" * 32, "echo", (b"x" * 1_001,), None, limit)
    error = raised.value
    assert (error.method, error.what, error.size, error.limit) == ("echo", "request", limit + 1, limit)
    assert str(error) == (
        f"cannot send 'echo': the request is {limit + 1} bytes, above the limit of {limit} bytes "
        "(max_message_size)"
    )
    assert DEFAULT_MAX_MESSAGE_SIZE == 100 * 1024 * 1024


def test_too_large_errors_describe_their_call_and_survive_pickling() -> None:
    error = TooLarge("fetch", "reply", 2_000, 1_000)
    assert (
        str(error) == "the reply to 'fetch' is 2000 bytes, above the limit of 1000 bytes (max_message_size)"
    )
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.method, copy.what, copy.size, copy.limit, str(copy)) == (
        "fetch",
        "reply",
        2_000,
        1_000,
        str(error),
    )


def test_a_timeout_names_the_servers_never_connected_to_and_survives_pickling() -> None:
    error = TimeoutExpired("timeout after 1s waiting for 'add'", never_connected=("tcp://127.0.0.1:9",))
    assert str(error) == (
        "timeout after 1s waiting for 'add': never connected to `tcp://127.0.0.1:9` "
        "(is a zerorpc server running and listening there?)"
    )
    copy = pickle.loads(pickle.dumps(error))
    assert (str(copy), copy.never_connected) == (str(error), ("tcp://127.0.0.1:9",))
    plain = TimeoutExpired("timeout after 1s waiting for 'add'")
    assert (str(plain), plain.never_connected) == ("timeout after 1s waiting for 'add'", None)


def test_the_head_of_an_event_is_read_without_its_args() -> None:
    header = {"message_id": b"1" * 32, "v": 3, "response_to": b"0" * 32}
    event = msgpack.packb([header, "OK", [b"x" * 1_000_000]], use_bin_type=True)
    assert _read_head(event) == (b"0" * 32, "OK")
    # Cut off inside the args: the head is still there.
    assert _read_head(event[:200]) == (b"0" * 32, "OK")
    assert _read_head(b"\xc1" * 100) == (None, None)
    assert _read_head(msgpack.packb([1, 2])) == (None, None)


# --- decoding


@pytest.mark.parametrize("captured", SERVER_TO_CLIENT, ids=lambda v: v["name"])
def test_every_server_to_client_vector_decodes(captured: dict[str, Any]) -> None:
    frames = [bytes.fromhex(frame) for frame in captured["frames_hex"]]
    decoded = _decode_event(frames)
    assert [decoded.header, decoded.name, decoded.args] == from_json(captured["decoded"])
    response_to = decoded.header["response_to"]
    expected_key = response_to if isinstance(response_to, bytes) else response_to.encode()
    assert _channel_key(response_to) == expected_key


@pytest.mark.parametrize("captured", SERVER_TO_CLIENT, ids=lambda v: v["name"])
def test_every_server_to_client_vector_reaches_the_caller(captured: dict[str, Any]) -> None:
    _, name, args = from_json(captured["decoded"])
    decoded = _decode_event([bytes.fromhex(frame) for frame in captured["frames_hex"]])
    recorder = ChannelRecorder()
    channel = recorder.channel(streaming=name in ("STREAM", "STREAM_DONE"))
    finished = channel.handle(decoded)
    if name == "OK":
        assert finished
        assert take_now(channel) == args[0]
    elif name == "ERR":
        assert finished
        with pytest.raises(RemoteError) as raised:
            take_now(channel)
        if len(args) == 3:
            assert (raised.value.name, raised.value.message, raised.value.traceback) == tuple(args)
        else:  # protocol v1: a bare repr
            assert raised.value.message == args[0]
    elif name == "STREAM":
        assert not finished
        assert take_now(channel) == args
    elif name == "STREAM_DONE":
        assert finished
        assert take_now(channel) is _END
    else:
        assert name == "_zpc_hb"
        assert not finished
        assert not channel.take().done()


@pytest.mark.parametrize(
    "frames",
    [
        [bytes.fromhex(vector("py_reply_ok")["hex"])],
        [b"", bytes.fromhex(vector("py_reply_ok")["hex"])],
        [b"envelope", b"", bytes.fromhex(vector("py_reply_ok")["hex"])],
    ],
    ids=["no delimiter", "delimiter", "extra envelope"],
)
def test_replies_decode_with_or_without_a_delimiter(frames: list[bytes]) -> None:
    assert _decode_event(frames).args == ["Hello, world"]


@pytest.mark.parametrize(
    "payload",
    [
        b"\xc1",  # never used in msgpack
        msgpack.packb([{}, "OK"]),
        msgpack.packb(["header", "OK", [1]]),
        msgpack.packb([{}, b"OK", [1]], use_bin_type=True),
        msgpack.packb({"not": "an array"}),
        b"\x93\x80\xa2OK",  # truncated
    ],
)
def test_malformed_events_are_refused(payload: bytes) -> None:
    with pytest.raises(ProtocolError):
        _decode_event([b"", payload])


@pytest.mark.parametrize("name", [b"OK", 7, None])
def test_an_event_whose_name_is_not_a_string_keeps_its_response_to(name: object) -> None:
    # So that the call its header names fails at once, instead of waiting for its timeout.
    payload = msgpack.packb([{"message_id": b"1", "response_to": b"0" * 32}, name, [1]], use_bin_type=True)
    with pytest.raises(_UnreadableEvent, match="the event name is not a string") as raised:
        _decode_event([b"", payload])
    assert raised.value.response_to == b"0" * 32


def test_integer_map_keys_are_accepted() -> None:
    payload = msgpack.packb([{"response_to": b"x"}, "OK", [{1: "one"}]])
    assert _decode_event([payload]).args == [{1: "one"}]


# --- channels


def test_an_err_with_more_than_three_parts_keeps_the_first_three() -> None:
    channel = ChannelRecorder().channel(streaming=False)
    channel.handle(event("ERR", ["NotFound", "no ticket 7", None, {"id": 7}]))
    with pytest.raises(RemoteError) as raised:
        take_now(channel)
    assert (raised.value.name, raised.value.message, raised.value.traceback) == (
        "NotFound",
        "no ticket 7",
        None,
    )
    assert str(raised.value) == "NotFound: no ticket 7"


@pytest.mark.parametrize(
    ("args", "parts"),
    [
        (["ValueError", "bad"], ("ValueError", "bad", None)),
        ([b"N\xff", b"m", b"tb"], ("N\ufffd", "m", "tb")),
        ([7, "message", 8], ("Error", "message", None)),
        (["", None, None], ("", "", None)),
        ([], ("Error", "", None)),
        (None, ("Error", "", None)),
        ([b"v1 text"], ("Error", "v1 text", None)),
    ],
)
def test_err_parts_that_are_missing_or_not_text_take_the_defaults_of_every_runtime(
    args: object, parts: tuple[str, str, str | None]
) -> None:
    channel = ChannelRecorder().channel(streaming=False)
    channel.handle(event("ERR", args))
    with pytest.raises(RemoteError) as raised:
        take_now(channel)
    assert (raised.value.name, raised.value.message, raised.value.traceback) == parts


def test_a_stream_reply_to_a_plain_call_is_a_protocol_error() -> None:
    channel = ChannelRecorder().channel(streaming=False)
    assert channel.handle(event("STREAM", 0))
    with pytest.raises(ProtocolError, match="stream"):
        take_now(channel)


def test_an_unknown_reply_is_a_protocol_error() -> None:
    channel = ChannelRecorder().channel(streaming=False)
    assert channel.handle(event("MAYBE", [1]))
    with pytest.raises(ProtocolError, match="MAYBE"):
        take_now(channel)


def test_ok_nil_answering_a_stream_is_an_empty_stream() -> None:
    channel = ChannelRecorder().channel(streaming=True)
    assert channel.handle(event("OK", [None]))
    assert take_now(channel) is _END


def test_ok_with_a_value_answering_a_stream_is_a_stream_of_that_value() -> None:
    channel = ChannelRecorder().channel(streaming=True)
    assert channel.handle(event("OK", [[1, 2]]))
    assert take_now(channel) == [1, 2]
    assert take_now(channel) is _END


def test_a_stream_error_comes_after_the_items_sent_before_it() -> None:
    channel = ChannelRecorder().channel(streaming=True)
    channel.handle(event("STREAM", "a"))
    channel.handle(event("ERR", ["ValueError", "boom", None]))
    assert take_now(channel) == "a"
    with pytest.raises(RemoteError, match="boom"):
        take_now(channel)
    assert take_now(channel) is _END


def test_a_waiting_reader_gets_the_next_item() -> None:
    channel = ChannelRecorder().channel(streaming=True)
    future = channel.take()
    assert not future.done()
    channel.handle(event("STREAM", {"n": 1}))
    assert future.result(timeout=0) == {"n": 1}


def test_credit_is_granted_like_zerorpc_python() -> None:
    recorder = ChannelRecorder()
    channel = recorder.channel(streaming=True)
    granted_at: list[tuple[int, int]] = []
    for taken in range(1, 251):
        channel.handle(event("STREAM", taken))
        before = len(recorder.grants)
        assert take_now(channel) == taken
        granted_at.extend((taken, count) for count in recorder.grants[before:])
    # First grant of the full window when the second item is read, then the window is topped up
    # whenever fewer than half of it is left.
    assert granted_at == [(2, 100), (53, 51), (104, 51), (155, 51), (206, 51)]


def test_no_credit_is_granted_once_the_stream_is_over() -> None:
    recorder = ChannelRecorder()
    channel = recorder.channel(streaming=True)
    channel.handle(event("STREAM", 0))
    channel.handle(event("STREAM_DONE", None))
    assert take_now(channel) == 0
    assert take_now(channel) is _END
    assert recorder.grants == []


def test_a_server_that_ignores_credit_ends_the_stream_after_the_items_sent_within_it() -> None:
    channel = ChannelRecorder().channel(streaming=True)
    # Never read: the server may send one window (and slack), not more.
    over = [channel.handle(event("STREAM", item)) for item in range(103)]
    assert over == [False] * 102 + [True]
    assert [take_now(channel) for _ in range(102)] == list(range(102))
    with pytest.raises(ProtocolError, match="more items than the stream credit allowed"):
        take_now(channel)
    assert take_now(channel) is _END


def test_cancelling_a_wait_abandons_the_channel() -> None:
    recorder = ChannelRecorder()
    channel = recorder.channel(streaming=True)
    future = channel.take()
    assert future.cancel()
    assert recorder.abandoned == 1
    channel.handle(event("STREAM", 1))
    assert take_now(channel) is _END


def test_only_one_reader_may_wait_at_a_time() -> None:
    channel = ChannelRecorder().channel(streaming=True)
    channel.take()
    with pytest.raises(RuntimeError, match="already being read"):
        channel.take()


def test_a_result_for_a_reader_that_gave_up_is_dropped() -> None:
    recorder = ChannelRecorder()
    channel = recorder.channel(streaming=False)
    future: concurrent.futures.Future[Any] = channel.take()
    future.cancel()
    channel.handle(event("OK", ["late"]))
    assert future.cancelled()
