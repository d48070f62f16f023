"""Client side of zerorpc v3 (ZeroMQ + MessagePack) for rpcgen's generated Python clients.

This one file is the whole runtime: rpcgen copies it next to every generated Python client, which
then needs only ``pyzmq`` and ``msgpack``. It can also be used on its own to call any zerorpc server
(zerorpc-python, zerorpc-node, rpcgen's Rust servers) without gevent::

    with Client("tcp://127.0.0.1:4242") as client:
        client.call("hello", "world")            # -> "Hello, world"
        for n in client.stream("count", 3):      # 0, 1, 2
            ...

    async with AsyncClient("tcp://127.0.0.1:4242") as client:
        await client.call("hello", "world")
        async for n in client.stream("count", 3):
            ...

How it works: each client owns one background I/O thread and one DEALER socket per server that only
that thread touches. Callers (any thread, or an asyncio loop) hand it work through a queue and wait on
``concurrent.futures.Future`` objects that it completes. The thread sends requests, matches replies
to their channel, sends a heartbeat on every open channel and detects a silent server, so all of that
keeps working while the calling thread is busy. The wire format follows zerorpc-python 0.6.3 byte for
byte; docs/runtime-python.md describes the behaviour and the choices.
"""

from __future__ import annotations

import asyncio
import builtins
import concurrent.futures
import contextlib
import heapq
import inspect
import io
import itertools
import logging
import math
import random
import socket
import threading
import time
import uuid
import weakref
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, NamedTuple, Union

import msgpack  # type: ignore[import-untyped, unused-ignore]
import zmq
from zmq.utils.monitor import parse_monitor_message

__all__ = [
    "AfterRequest",
    "AsyncClient",
    "AsyncStream",
    "Cancelled",
    "Client",
    "ClientClosed",
    "Endpoints",
    "Failed",
    "LostRemote",
    "ProtocolError",
    "RemoteError",
    "RequestHeader",
    "RequestRecord",
    "Returned",
    "RpcError",
    "Stream",
    "StreamOpened",
    "TimeoutExpired",
    "TooLarge",
    "log_requests",
]

logger = logging.getLogger(__name__)

PROTOCOL_VERSION = 3
"""The zerorpc protocol version this runtime speaks (the ``v`` of every header it sends)."""

DEFAULT_MAX_MESSAGE_SIZE = 100 * 1024 * 1024
"""A client's default ``max_message_size`` in bytes: 100 MiB, the largest event zerorpc-python reads,
and the default of rpcgen's Rust runtime."""

_CREDIT_WINDOW = 100
"""How many stream events a reader lets the server send ahead, as zerorpc-python's client does."""

_RECEIVE_BATCH = 256
"""Most messages the I/O thread reads in a row before it looks at its queue and timers again."""

_DRAIN_LIMIT = 2 * 1000
"""Most messages the I/O thread reads from a socket whose connection dropped before it ends the calls
left: twice the 1000 that ZeroMQ queues for it at most (its default receive high-water mark)."""

_WATCHED_EVENTS = zmq.EVENT_HANDSHAKE_SUCCEEDED | zmq.EVENT_DISCONNECTED
"""What the monitor of each socket reports: a connection made (its handshake done) or dropped."""

_UNSENT_RETRY_MS = 20
"""How often a client retries the calls that no server took yet while one of its servers is connected
(and so refused them: its queue is full)."""

_END = object()
"""Marks the end of a stream in a channel's queue of results."""

_PROTOCOL_KEYS = frozenset({"message_id", "v", "response_to"})
"""Header keys the protocol itself uses; entries from a ``request_header`` hook cannot replace them."""

Endpoints = Union[str, Sequence[str]]
"""Where a client connects: one ZeroMQ endpoint such as ``"tcp://127.0.0.1:4242"``, or the endpoints of
several servers of one service, which then share the calls."""

RequestHeader = Callable[[str], Mapping[str, Any]]
"""A client's ``request_header`` hook: called with the method's name for every request, in the
calling thread (or task), so it can read thread-locals and context variables. The entries it returns
join the request's header, as zerorpc-python's ``get_task_context`` middleware does; a server reads
them there (a trace id, say). Keys must be strings, and the keys of maps in the values strings or
bytes; the protocol's own keys are ignored."""


# ---------------------------------------------------------------------------------------------
# Errors


class RpcError(Exception):
    """Base class of every error this runtime raises for a call."""


class RemoteError(RpcError):
    """The server answered with an error (a zerorpc ``ERR`` event).

    ``name`` is the remote error's type (``"ValueError"``, ``"NameError"`` for an unknown method, or
    a declared rpcgen error), ``message`` its text, ``traceback`` the remote traceback or ``None``.
    """

    def __init__(self, name: str, message: str, traceback: str | None = None) -> None:
        super().__init__(name, message, traceback)
        self.name = name
        self.message = message
        self.traceback = traceback

    def __str__(self) -> str:
        return f"{self.name}: {self.message}" if self.message else self.name


class TimeoutExpired(RpcError, TimeoutError):
    """No answer came within the call's timeout; the call is abandoned.

    ``never_connected`` holds the client's endpoints when it had never connected to any of them by
    then: the call most likely waited for a server that is not running, and the message ends in
    ``: never connected to `tcp://...` (is a zerorpc server running and listening there?)``. It is
    None when the client had connected, if only before the call.
    """

    def __init__(self, message: str, *, never_connected: tuple[str, ...] | None = None) -> None:
        reason = _never_connected(never_connected) if never_connected else ""
        super().__init__(message + reason)
        self.never_connected = never_connected


def _never_connected(endpoints: tuple[str, ...]) -> str:
    """The end of the message of a timeout of a client that never connected to ``endpoints``."""
    listed = ", ".join(f"`{endpoint}`" for endpoint in endpoints)
    if len(endpoints) == 1:
        return f": never connected to {listed} (is a zerorpc server running and listening there?)"
    return f": never connected to any of {listed} (are zerorpc servers running and listening there?)"


class LostRemote(RpcError):
    """The connection to the server dropped, or the server fell silent, while a call waited for it.

    A dropped connection (the server's process died or closed its socket) ends the calls the
    server had at once; silence, after the missed heartbeats.
    """


class ClientClosed(RpcError):
    """The client was closed before or while the call ran."""


class ProtocolError(RpcError):
    """The server answered in a way zerorpc does not allow for this call."""


class TooLarge(RpcError):
    """A request or a reply of ``method`` is larger than the client's ``max_message_size``.

    ``what`` is ``"request"`` (refused before anything was sent) or ``"reply"`` (the call failed
    without the reply being decoded); ``size`` is the encoded event's size and ``limit`` the
    client's ``max_message_size``, in bytes.
    """

    def __init__(self, method: str, what: Literal["request", "reply"], size: int, limit: int) -> None:
        super().__init__(method, what, size, limit)
        self.method = method
        self.what = what
        self.size = size
        self.limit = limit

    def __str__(self) -> str:
        if self.what == "request":
            start = f"cannot send {self.method!r}: the request is"
        else:
            start = f"the reply to {self.method!r} is"
        return f"{start} {self.size} bytes, above the limit of {self.limit} bytes (max_message_size)"


# ---------------------------------------------------------------------------------------------
# Records of requests, for the after_request hook


@dataclass(frozen=True)
class Returned:
    """The server answered the call with ``value`` (``OK``)."""

    value: Any


@dataclass(frozen=True)
class StreamOpened:
    """The server answered a stream: its first reply was an item, the stream's end, or ``OK``.

    ``OK`` is how zerorpc-node sends a stream of at most one item.
    """


@dataclass(frozen=True)
class Failed:
    """The request failed with ``error``.

    A RemoteError (the server answered ``ERR``), TimeoutExpired, LostRemote, ClientClosed,
    ProtocolError or TooLarge, as the call raised it; or what interrupted the wait, such as
    ``KeyboardInterrupt`` (a cancelled wait is Cancelled).
    """

    error: BaseException


@dataclass(frozen=True)
class Cancelled:
    """The caller gave the request up before it ended; for a stream, before reading its first reply.

    An asyncio task awaiting the call was cancelled (``task.cancel()``, an ``asyncio.wait_for`` or
    ``asyncio.timeout`` around it), and still gets its ``CancelledError``; or the stream was closed
    or collected. Nothing more is read, and nothing is sent to the server (zerorpc has no cancel
    event): it learns from the heartbeats that stop, as after a timeout.
    """


_Outcome = Union[Returned, StreamOpened, Failed, Cancelled]
"""How a request ended, as a RequestRecord says."""


@dataclass(frozen=True)
class RequestRecord:
    """One request and how it went, as the ``after_request`` hook receives it."""

    method: str
    """The method's name."""
    args: tuple[Any, ...]
    """The arguments as sent."""
    endpoint: str | None
    """The endpoint of the server the request went to; None if no server had taken it yet (none was
    connected)."""
    outcome: Returned | StreamOpened | Failed | Cancelled
    """How the request ended; for a stream, how its first reply went."""
    elapsed: float
    """Seconds from the start of the request to that end (``time.perf_counter()``)."""
    errors: tuple[str, ...] = ()
    """The names of the errors the method declares (its ``throws``), which generated clients pass
    in ``errors=``; empty for a call by name without them."""


AfterRequest = Callable[[RequestRecord], None]
"""A client's ``after_request`` hook: called with a RequestRecord once for every request sent, in
the thread (or task) that waits for the reply, when the call ends or, for a stream, when its first
reply is read. A call whose awaiting task is cancelled is reported as Cancelled in that task, and a
stream closed (or collected) before its first reply was read as Cancelled where it is closed. An
exception from the hook is logged to this module's logger and does not change the call's outcome.
It must be a plain function: a client refuses a coroutine function (``async def``) with TypeError,
since nothing would await it. log_requests() makes a hook that logs every call."""


def log_requests(logger: logging.Logger | None = None, *, max_value_chars: int = 256) -> AfterRequest:
    """An ``after_request`` hook that logs one line per request, like rpcgen's Rust TracingLayer.

    It logs to ``logger``, by default the ``rpcgen`` logger: calls that returned, streams that
    opened, errors the method declares (``RequestRecord.errors``: answers, not failures) and
    requests cancelled by the caller at INFO, failed requests at WARNING::

        add(1, 2) -> 3 in 0.41 ms from tcp://127.0.0.1:4242
        count(5) -> stream in 0.38 ms from tcp://127.0.0.1:4242
        get(7) returned a declared error in 0.45 ms from tcp://127.0.0.1:4242: RemoteError: NotFound: ...
        slow(60) cancelled by the caller in 100.23 ms from tcp://127.0.0.1:4242
        hello(1) failed in 0.52 ms from tcp://127.0.0.1:4242: RemoteError: TypeError: ...

    The arguments are the ``repr()`` of each, joined with ``", "``, and the result is its
    ``repr()``; each of the two is cut to ``max_value_chars`` characters followed by ``…`` when
    longer. The time is in milliseconds; the ``from <endpoint>`` part is left out when no server took
    the request. Nothing is formatted when the logger would drop the line. A negative
    ``max_value_chars`` raises ValueError.
    """
    if max_value_chars < 0:
        raise ValueError(f"max_value_chars must not be negative, got {max_value_chars!r}")
    target = logging.getLogger("rpcgen") if logger is None else logger

    def shorten(text: str) -> str:
        return text if len(text) <= max_value_chars else text[:max_value_chars] + "…"

    def log_request(record: RequestRecord) -> None:
        outcome = record.outcome
        failed = isinstance(outcome, Failed)
        declared = (
            isinstance(outcome, Failed)
            and isinstance(outcome.error, RemoteError)
            and outcome.error.name in record.errors
        )
        level = logging.WARNING if failed and not declared else logging.INFO
        if not target.isEnabledFor(level):
            return
        call = f"{record.method}({shorten(', '.join(map(repr, record.args)))})"
        elapsed_ms = record.elapsed * 1000
        server = "" if record.endpoint is None else f" from {record.endpoint}"
        if isinstance(outcome, Failed):
            kind, text = type(outcome.error).__name__, str(outcome.error)
            error = f"{kind}: {text}" if text else kind
            what = "returned a declared error" if declared else "failed"
            target.log(level, "%s %s in %.2f ms%s: %s", call, what, elapsed_ms, server, error)
        elif isinstance(outcome, Cancelled):
            target.info("%s cancelled by the caller in %.2f ms%s", call, elapsed_ms, server)
        else:
            result = "stream" if isinstance(outcome, StreamOpened) else shorten(repr(outcome.value))
            target.info("%s -> %s in %.2f ms%s", call, result, elapsed_ms, server)

    return log_request


# ---------------------------------------------------------------------------------------------
# Wire format


class _MessageIds:
    """Makes message ids exactly like zerorpc-python: 32 lowercase hex ASCII characters.

    The first 8 are a counter, +1 per event, starting at a random value; the last 24 come from a
    random UUID and stay the same until the counter reaches a random stop value, when both restart.
    Thread-safe.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._restart()

    def _restart(self) -> None:
        self._suffix = uuid.uuid4().hex[8:].encode("ascii")
        self._counter = random.randrange(2**32)
        self._stop = random.randrange(self._counter, 2**32)

    def __call__(self) -> bytes:
        with self._lock:
            if self._counter >= self._stop:
                self._restart()
            else:
                self._counter += 1
            return b"%08x" % self._counter + self._suffix


_new_message_id = _MessageIds()


class _Event(NamedTuple):
    """One decoded zerorpc event: ``[header, name, args]``."""

    header: dict[Any, Any]
    name: str
    args: Any


def _pack(event: list[Any]) -> bytes:
    packed: bytes = msgpack.packb(event, use_bin_type=True)
    return packed


_MAP_TYPES: tuple[type[Mapping[Any, Any]], ...] = (dict, getattr(builtins, "frozendict", dict))
"""What msgpack packs as a map (``frozendict`` from Python 3.15 on)."""

_TEXT_KEY_TYPES = (str, bytes, bytearray, memoryview)
"""What msgpack packs as a str or a bin: the only map keys a zerorpc-python receiver reads."""

_CONTAINER_TYPES: tuple[type, ...] = (*_MAP_TYPES, list, tuple)
"""What msgpack packs as a map or an array: the only values that can hold a map key."""


class _MapKeyError(TypeError):
    """A map key other than a string or bytes in a request, which zerorpc-python would drop."""


def _map_keys_are_text(payload: bytes) -> bool:
    """Whether every map key in the packed ``payload`` is a str or a bin, checked at C speed.

    msgpack's ``strict_map_key`` is exactly the rule of a zerorpc-python receiver (msgpack 1.x):
    str or bin keys only. ``raw=True`` leaves strings undecoded, since only the keys' kinds matter.
    """
    try:
        msgpack.unpackb(payload, raw=True, strict_map_key=True)
    except ValueError:  # msgpack's own errors are ValueErrors too.
        return False
    return True


def _check_map_keys(value: object, where: str) -> None:
    """Refuses ``value`` if a map in it has a key other than a string or bytes.

    Runs only once ``_map_keys_are_text`` found such a key somewhere in the request, to say where:
    ``where`` names the value in the error (``argument 0``); the error adds the path to the map that
    holds the key (``argument 0['scores'][2]``) and names the first such key in the order msgpack
    packs them. The walk keeps its own stack, so any value msgpack packs can be walked.
    """
    # One entry per open container: its (step, item) pairs, whether it is a map, and its path as a
    # chain of (parent path, step) pairs from the top (None), formatted only for an error.
    stack: list[tuple[Iterator[tuple[object, object]], bool, object]] = []
    _enter(stack, value, None)
    while stack:
        entries, is_map, path = stack[-1]
        for step, item in entries:
            if is_map and not isinstance(step, _TEXT_KEY_TYPES):
                raise _MapKeyError(
                    f"{where}{_format_path(path)} has the map key {step!r} ({type(step).__name__}): "
                    "map keys must be strings or bytes, as zerorpc-python drops any message with "
                    "other keys without answering (convert integer keys to strings)"
                )
            if _enter(stack, item, (path, step)):
                break
        else:
            stack.pop()


def _enter(
    stack: list[tuple[Iterator[tuple[object, object]], bool, object]], item: object, path: object
) -> bool:
    """Pushes ``item`` on the walk's ``stack`` if it is a map or an array; True if it was."""
    if isinstance(item, _MAP_TYPES):
        stack.append((iter(item.items()), True, path))  # As msgpack packs it, even a subclass.
    elif isinstance(item, (list, tuple)):
        stack.append((enumerate(item), False, path))
    else:
        return False
    return True


def _format_path(path: object) -> str:
    """Formats a path of ``_check_map_keys`` as Python subscripts: ``['scores'][2]``."""
    steps: list[str] = []
    while isinstance(path, tuple):
        path, step = path
        steps.append(f"[{step!r}]")
    return "".join(reversed(steps))


def _holds_containers(args: Sequence[Any], header: Mapping[str, Any]) -> bool:
    """Whether an argument or a header value is a map or an array, the only values with map keys.

    A request without one (a large bytes, say) is not read back by _map_keys_are_text, which would
    copy every str and bin in it.
    """
    # Loops rather than any() over a generator: a third of the time on a small call.
    for value in args:
        if isinstance(value, _CONTAINER_TYPES):
            return True
    for value in header.values():  # noqa: SIM110
        if isinstance(value, _CONTAINER_TYPES):
            return True
    return False


def _encode_request(
    message_id: bytes,
    method: str,
    args: Sequence[Any],
    extras: Mapping[str, Any] | None = None,
    limit: int | None = None,
) -> bytes:
    """Encodes the event that opens a channel: a call of ``method`` with positional ``args``.

    The header holds the protocol's keys, then the ``extras`` that are not protocol keys. Raises
    TypeError for what MessagePack cannot carry and for header keys that are not strings,
    _MapKeyError (a TypeError) for a map key anywhere in the arguments or the extras that is not a
    string or bytes (a zerorpc-python server would drop the request without answering), and
    TooLarge for an event larger than ``limit`` bytes.
    """
    header: dict[str, Any] = {"message_id": message_id, "v": PROTOCOL_VERSION}
    for key, value in (extras or {}).items():
        if not isinstance(key, str):
            raise TypeError(f"header keys must be strings, got {key!r}")
        if key not in _PROTOCOL_KEYS:
            header[key] = value
    # Packed first: msgpack refuses cycles and values nested too deeply before anything is checked.
    payload = _pack([header, method, args])
    if limit is not None and len(payload) > limit:
        raise TooLarge(method, "request", len(payload), limit)
    if _holds_containers(args, header) and not _map_keys_are_text(payload):
        for index, arg in enumerate(args):
            _check_map_keys(arg, f"argument {index}")
        for key, value in header.items():
            if key not in _PROTOCOL_KEYS:
                _check_map_keys(value, f"header entry {key!r}")
        raise _MapKeyError(
            "msgpack refuses a map key in the request: map keys must be strings or bytes, as "
            "zerorpc-python drops any message with other keys without answering"
        )
    return payload


def _encode_channel_event(message_id: bytes, channel_id: bytes, name: str, args: Any) -> bytes:
    """Encodes a later event of an open channel (a heartbeat or a credit grant)."""
    header = {"message_id": message_id, "v": PROTOCOL_VERSION, "response_to": channel_id}
    return _pack([header, name, args])


class _UnreadableEvent(ProtocolError):
    """An event that cannot be read, with its header's ``response_to`` when that was readable.

    Its body is not MessagePack (values nested too deeply, say), or its name is not a string, so
    what it says cannot be known; the call its header names fails with a ProtocolError.
    """

    def __init__(self, message: str, response_to: object) -> None:
        super().__init__(message)
        self.response_to = response_to


def _decode_event(frames: Sequence[bytes]) -> _Event:
    """Decodes a received message: the event is its last frame, with or without a delimiter."""
    if not frames:
        raise ProtocolError("empty message")
    try:
        event = msgpack.unpackb(frames[-1], raw=False, strict_map_key=False)
    except (ValueError, TypeError) as exc:
        # msgpack's StackError (values nested too deeply) has no message of its own.
        reason = str(exc) or type(exc).__name__
        raise _UnreadableEvent(f"not a MessagePack event: {reason}", _read_head(frames[-1])[0]) from exc
    if not isinstance(event, list) or len(event) != 3:
        raise ProtocolError(f"an event must be an array of 3 items, got {event!r:.80}")
    header, name, args = event
    if not isinstance(header, dict):
        raise ProtocolError(f"an event needs a map header, got {event!r:.80}")
    if not isinstance(name, str):
        # The header names the call, which can fail at once rather than wait for its timeout.
        raise _UnreadableEvent(f"the event name is not a string: {name!r:.80}", header.get("response_to"))
    return _Event(header, name, args)


def _read_head(frame: bytes) -> tuple[object, object]:
    """The ``response_to`` and the name of an event, without decoding its args.

    For an event that cannot be decoded or is too large to be: (None, None) when its header cannot
    be read, and None for a name that cannot. Reads only as much of ``frame`` as the two take.
    """
    unpacker = msgpack.Unpacker(io.BytesIO(frame), read_size=4096, raw=False, strict_map_key=False)
    try:
        if unpacker.read_array_header() != 3:
            return None, None
        header = unpacker.unpack()
    except (ValueError, TypeError, msgpack.UnpackException):
        return None, None
    response_to = header.get("response_to") if isinstance(header, dict) else None
    try:
        name = unpacker.unpack()
    except (ValueError, TypeError, msgpack.UnpackException):
        name = None
    return response_to, name


def _channel_key(response_to: object) -> bytes | None:
    """The channel id an event answers to, as bytes (peers echo ids as msgpack bin or str)."""
    if isinstance(response_to, bytes):
        return response_to
    if isinstance(response_to, str):
        return response_to.encode("utf-8")
    return None


_UNNAMED_ERROR = "Error"
"""The name of a remote error whose ERR reply names none."""


def _error_text(value: object) -> str | None:
    """A part of an ERR reply as text: a str, or bytes read as UTF-8; None for anything else."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return None


def _remote_error(args: object) -> RemoteError:
    """Reads ERR args as the Rust and TS runtimes do.

    ``[name, message, traceback]`` (v3): a part that is missing or not text takes its default (the
    name ``Error``, an empty message, no traceback), parts after the third are ignored. The bare
    ``[message]`` of a v1 peer is named ``Error``.
    """
    parts = args if isinstance(args, list) else []
    if len(parts) == 1:
        return RemoteError(_UNNAMED_ERROR, _error_text(parts[0]) or "")
    name, message, traceback = [*parts, None, None, None][:3]
    name_text = _error_text(name)
    return RemoteError(
        _UNNAMED_ERROR if name_text is None else name_text,
        _error_text(message) or "",
        _error_text(traceback),
    )


# ---------------------------------------------------------------------------------------------
# Channels


def _settle(future: concurrent.futures.Future[Any], value: Any, error: BaseException | None) -> None:
    try:
        if error is None:
            future.set_result(value)
        else:
            future.set_exception(error)
    except concurrent.futures.InvalidStateError:
        pass  # The reader gave up on this future (timeout or cancellation) in the meantime.


class _Channel:
    """One call or stream: its id, the results waiting for the reader, and its stream credit.

    The I/O thread feeds results in with ``put``; the one reader takes them out with ``take``, which
    also grants the server more stream credit the way zerorpc-python's client does (a window of 100
    events, topped up when fewer than half are left). ``grant`` and ``abandon`` are how the channel
    asks its connection to send ``_zpc_more`` or to stop serving it. Its id is a new message id: the
    id of the request that opens it. ``record`` tells the ``after_request`` hook how it went.
    """

    # What the after_request record shows, the kind of call, and its two requests to the connection.
    # RUF100: the copies in generated code are checked with PLR0913 off, where this noqa is unused.
    def __init__(  # noqa: PLR0913, RUF100
        self,
        method: str,
        args: tuple[Any, ...],
        *,
        streaming: bool,
        errors: tuple[str, ...],
        grant: Callable[[_Channel, int], None],
        abandon: Callable[[_Channel], None],
    ) -> None:
        self.id = _new_message_id()
        self.method = method
        self.args = args  # For the after_request hook: empty when the connection has none.
        self.errors = errors  # For the after_request hook: the names of the declared errors.
        self.streaming = streaming
        self.started = time.perf_counter()
        self._grant = grant
        self._abandon = abandon
        # Reader side, guarded by _lock (re-entrant: a Stream collected by the garbage collector while
        # this thread holds the lock abandons its channel from inside the critical section).
        self._lock = threading.RLock()
        self._results: deque[tuple[Any, BaseException | None]] = deque()
        self._waiter: concurrent.futures.Future[Any] | None = None
        self._ended = False
        self._reading = False
        self._reserved = 1
        self._recorded = False
        self._replied_at: float | None = None  # When put handed over the first result.
        # Written by the I/O thread only: which of the connection's servers took the request (None
        # until one has), the name of the server's first reply event, and heartbeats.
        self.server: int | None = None
        self.first_reply: str | None = None
        self.opened_at = 0.0
        self.next_beat = 0.0
        self.last_heard: float | None = None

    def take(self) -> concurrent.futures.Future[Any]:
        """The next result: a value, ``_END`` once the channel is over, or the error that ended it."""
        grant = 0
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        with self._lock:
            if self._waiter is not None:
                raise RuntimeError(f"the stream of {self.method!r} is already being read")
            if self._reading and not self._ended and self._reserved < _CREDIT_WINDOW // 2:
                grant = _CREDIT_WINDOW - self._reserved
                self._reserved = _CREDIT_WINDOW
            self._reading = True
            self._reserved -= 1
            if self._results:
                _settle(future, *self._results.popleft())
            elif self._ended:
                future.set_result(_END)
            else:
                self._waiter = future
                future.add_done_callback(self._on_waiter_done)
        if grant:
            self._grant(self, grant)
        return future

    def _on_waiter_done(self, future: concurrent.futures.Future[Any]) -> None:
        if future.cancelled():
            self.abandon()

    @property
    def ended(self) -> bool:
        """Whether the channel is over (answered, failed or abandoned)."""
        with self._lock:
            return self._ended

    def abandon(self) -> None:
        """Stops the channel from the reader's side: later events are dropped, reads see the end."""
        with self._lock:
            if self._ended:
                return
            self._ended = True
            self._results.clear()
            waiter, self._waiter = self._waiter, None
        if waiter is not None:
            waiter.cancel()
        self._abandon(self)

    def put(self, value: Any = None, error: BaseException | None = None, *, last: bool = False) -> None:
        """Hands one result to the reader (I/O thread); ``last`` marks the channel as over."""
        with self._lock:
            if self._ended:
                return
            if self._replied_at is None:
                self._replied_at = time.perf_counter()
            self._ended = last
            waiter, self._waiter = self._waiter, None
            if waiter is None:
                self._results.append((value, error))
                return
        _settle(waiter, value, error)

    def fail(self, error: RpcError) -> None:
        """Ends the channel with ``error`` (I/O thread)."""
        self.put(error=error, last=True)

    def handle(self, event: _Event) -> bool:
        """Applies one event from the server (I/O thread); returns True when the channel is over."""
        name, args = event.name, event.args
        if name in ("_zpc_hb", "_zpc_more"):
            return False
        if self.first_reply is None:
            self.first_reply = name
        if name == "ERR":
            self.fail(_remote_error(args))
        elif name == "OK":
            self._handle_ok(args)
        elif name == "STREAM" and self.streaming:
            if self._over_credit():
                self.fail(
                    ProtocolError(
                        f"the server of {self.method!r} sent more items than the stream credit allowed"
                    )
                )
                return True
            self.put(args)
            return False
        elif name == "STREAM_DONE" and self.streaming:
            self.put(_END, last=True)
        elif name in ("STREAM", "STREAM_DONE"):
            self.fail(ProtocolError(f"{self.method!r} answered with a stream: read it with stream()"))
        else:
            self.fail(ProtocolError(f"unexpected event {name!r} in the reply to {self.method!r}"))
        return True

    def _over_credit(self) -> bool:
        """Whether the items waiting for the reader fill the window and its slack, as in the Rust client.

        A server that keeps to its credit never gets there (at most one window of items can wait),
        so the stream ends in ``ProtocolError`` instead of buffering without limit.
        """
        with self._lock:
            return len(self._results) >= _CREDIT_WINDOW + 2

    def _handle_ok(self, args: object) -> None:
        if args is None or args == []:
            value = None
        elif isinstance(args, list):
            value = args[0]
        else:
            self.fail(ProtocolError(f"malformed OK reply to {self.method!r}: {args!r:.80}"))
            return
        if not self.streaming:
            self.put(value, last=True)
            return
        # A node server ends a stream that has sent nothing yet with OK [last item], nil meaning none.
        if value is not None:
            self.put(value)
        self.put(_END, last=True)

    def outcome(self, result: Any, error: BaseException | None) -> _Outcome:
        """How the reader's wait on this channel, ended by ``result`` or ``error``, ended the request.

        A cancelled wait (its asyncio task was cancelled, or another thread or task closed the
        stream) is Cancelled, and so is a wait that found the stream already closed by its reader.
        """
        if isinstance(error, (asyncio.CancelledError, concurrent.futures.CancelledError)):
            return Cancelled()
        if error is not None:
            return Failed(error)
        if self.first_reply is None:
            return Cancelled()
        if self.streaming:
            return StreamOpened()
        return Returned(None if result is _END else result)

    def record(self, outcome: _Outcome, endpoints: Sequence[str]) -> RequestRecord | None:
        """The record of this request for the ``after_request`` hook, the first time it ends.

        Later ends (a stream's next items, its close once its first reply was read) get None.
        ``endpoints`` are the connection's, which ``server`` indexes. The request ended when its
        answer arrived, or now when none had or the caller gave it up.
        """
        with self._lock:
            if self._recorded:
                return None
            self._recorded = True
            replied_at = self._replied_at
        given_up = isinstance(outcome, Cancelled)
        ended = time.perf_counter() if replied_at is None or given_up else replied_at
        endpoint = None if self.server is None else endpoints[self.server]
        return RequestRecord(self.method, self.args, endpoint, outcome, ended - self.started, self.errors)

    def silence_deadline(self, interval: float) -> float:
        """When the server counts as lost: two heartbeats after the last one, as zerorpc-python.

        A server never heard from is granted one extra interval, so it is lost three intervals after
        the channel opened.
        """
        heard = self.last_heard if self.last_heard is not None else self.opened_at + interval
        return heard + 2 * interval


# ---------------------------------------------------------------------------------------------
# The connection and its I/O thread


class _Connection:
    """One DEALER socket per endpoint, owned by a background I/O thread.

    Any thread may call ``open``, ``request_close`` and ``close``; everything else runs on the I/O
    thread, which is the only one touching the sockets and the table of open channels. Each call goes
    to the next connected server in turn whose socket takes it, and all of its events (heartbeats,
    stream credit) go to that server.

    Each socket has a monitor socket that hears of its completed ZMTP handshakes and of its dropped
    connections, read by the I/O thread with the sockets. A handshake tells a timeout that the client
    did connect (``reached``), and makes the server connected (``_linked``): only then is it handed
    requests, so a call that no connected server takes waits in this connection (``_unsent``), not in
    the queue of a socket whose server is down, and a call given up meanwhile is never sent. A
    dropped connection ends every call its server had in LostRemote at once, since their replies can
    no longer come (ZeroMQ reconnects, but as a new peer), and the socket is reconnected afresh, which
    discards what ZeroMQ still held for that connection. A socket refuses a request or a heartbeat
    only when its queue is full (1000 messages): the server is not reading.
    """

    def __init__(
        self,
        endpoints: Sequence[str],
        heartbeat: float | None,
        request_header: RequestHeader | None,
        after_request: AfterRequest | None,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
    ) -> None:
        self.endpoints = tuple(endpoints)
        self.endpoint = ", ".join(self.endpoints)  # In messages about the whole connection.
        self._heartbeat = heartbeat
        self._request_header = request_header
        self._after_request = after_request
        self._max_message_size = max_message_size
        self._context = zmq.Context()
        self._sockets: list[zmq.Socket[bytes]] = []
        # The monitor of each socket, and whether its connection is up: handshake completed and not
        # dropped since, as far as the monitor told yet (I/O thread only).
        self._monitors: list[zmq.Socket[bytes]] = []
        self._linked: list[bool] = []
        # Whether a socket has ever completed a handshake with its server (set by the I/O thread).
        self.reached = False
        try:
            for endpoint in self.endpoints:
                dealer = self._context.socket(zmq.DEALER)
                dealer.linger = 0
                self._sockets.append(dealer)
                # Before connecting, so that no handshake goes unseen.
                self._monitors.append(dealer.get_monitor_socket(_WATCHED_EVENTS))
                self._linked.append(False)
                try:
                    dealer.connect(endpoint)
                except zmq.ZMQError as exc:
                    raise ValueError(f"cannot connect to {endpoint!r}: {exc}") from exc
        except BaseException:
            self._close_sockets()
            raise
        # I/O thread only: where the next call's search for a server starts, and the calls no server
        # has taken yet, with their requests, by channel id, oldest first.
        self._turns = itertools.count()
        self._unsent: dict[bytes, tuple[_Channel, bytes]] = {}
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._wake_reader.setblocking(False)
        self._wake_writer.setblocking(False)
        # Shared with callers, guarded by _lock (re-entrant for the same reason as _Channel._lock).
        self._lock = threading.RLock()
        self._commands: deque[Callable[[], None]] = deque()
        self._wake_pending = False
        self._closed = False
        self._closed_reason = f"the client for {endpoint} is closed"
        # I/O thread only.
        self._channels: dict[bytes, _Channel] = {}
        self._timers: list[tuple[float, int, _Channel]] = []
        self._timer_order = itertools.count()
        self._stopping = False
        # Completed by the I/O thread once it has released the socket and is about to exit.
        self.stopped: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._thread = threading.Thread(target=self._run, name=f"rpcgen-io {endpoint}", daemon=True)
        self._thread.start()

    # --- any thread

    def open(
        self, method: str, args: Sequence[Any], *, streaming: bool, errors: Sequence[str] = ()
    ) -> _Channel:
        """Sends a call of ``method`` and returns the channel its replies arrive on.

        ``errors`` are the names of the errors the method declares, for the ``after_request`` hook.
        """
        channel = _Channel(
            method,
            () if self._after_request is None else tuple(args),
            streaming=streaming,
            errors=tuple(errors),
            grant=self._request_credit,
            abandon=self._request_forget,
        )
        extras = None if self._request_header is None else self._request_header(method)
        try:
            payload = _encode_request(channel.id, method, args, extras, self._max_message_size)
        except _MapKeyError as exc:
            raise TypeError(f"cannot send {method!r}: {exc}") from None
        except (TypeError, ValueError, OverflowError) as exc:
            what = "arguments" if extras is None else "arguments or header entries"
            raise TypeError(f"cannot encode the {what} of {method!r} as MessagePack: {exc}") from exc
        if not self._submit(lambda: self._start(channel, payload)):
            raise ClientClosed(self._closed_reason)
        return channel

    def report(self, channel: _Channel, result: Any = None, error: BaseException | None = None) -> None:
        """Calls the ``after_request`` hook, if any, once the reader's first wait on ``channel`` ended.

        Runs in the reader's thread or task; ``result`` or ``error`` is how the wait ended (see
        ``_Channel.outcome``).
        """
        if self._after_request is not None:
            self._report(self._after_request, channel, channel.outcome(result, error))

    def report_closed(self, channel: _Channel) -> None:
        """Calls the ``after_request`` hook, if any, for a stream its reader closes or drops.

        The request is Cancelled, unless the reader read its first reply (which was reported then).
        """
        if self._after_request is not None:
            self._report(self._after_request, channel, Cancelled())

    def _report(self, hook: AfterRequest, channel: _Channel, outcome: _Outcome) -> None:
        """Calls ``hook`` with the record of ``channel``'s end, unless it was reported already.

        An exception from the hook is logged, so that it does not change the call's outcome.
        """
        record = channel.record(outcome, self.endpoints)
        if record is None:
            return
        try:
            hook(record)
        except Exception:
            logger.exception("the after_request hook failed on a request of %r", channel.method)

    def timeout_error(self, channel: _Channel, timeout: float | None) -> TimeoutExpired:
        """The error for a reader of ``channel`` that waited ``timeout`` seconds in vain.

        It names the client's endpoints in ``never_connected`` when none of them was ever reached.
        """
        return TimeoutExpired(
            f"timeout after {timeout}s waiting for {channel.method!r} from {self._server_of(channel)}",
            never_connected=None if self.reached else self.endpoints,
        )

    def _server_of(self, channel: _Channel) -> str:
        """The endpoint of the server that took ``channel``'s request; all of them before one has."""
        return self.endpoint if channel.server is None else self.endpoints[channel.server]

    def request_close(self) -> None:
        """Asks the I/O thread to fail every open call with ClientClosed and exit; does not wait."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._wake()

    def close(self) -> None:
        """Closes the connection and waits for the I/O thread to exit. Idempotent."""
        self.request_close()
        if threading.current_thread() is not self._thread:
            self._thread.join()

    def _request_credit(self, channel: _Channel, count: int) -> None:
        self._submit(lambda: self._send_credit(channel, count))

    def _request_forget(self, channel: _Channel) -> None:
        self._submit(lambda: self._forget(channel))

    def _submit(self, command: Callable[[], None]) -> bool:
        """Queues ``command`` for the I/O thread; False when the connection is closed."""
        with self._lock:
            if self._closed:
                return False
            self._commands.append(command)
            self._wake()
        return True

    def _wake(self) -> None:
        """Makes the I/O thread's poll return, at most one pending byte at a time (lock held)."""
        if not self._wake_pending:
            self._wake_pending = True
            with contextlib.suppress(BlockingIOError):  # Full: the thread has wake-ups to read.
                self._wake_writer.send(b"\0")

    # --- I/O thread

    def _run(self) -> None:
        try:
            self._serve()
        except Exception as exc:
            logger.exception("the rpcgen I/O thread for %s failed", self.endpoint)
            self._closed_reason = f"the client for {self.endpoint} stopped: {exc!r}"
        finally:
            self._shut_down()

    def _serve(self) -> None:
        poller = zmq.Poller()
        for each in (*self._sockets, *self._monitors):
            poller.register(each, zmq.POLLIN)
        poller.register(self._wake_reader.fileno(), zmq.POLLIN)
        while True:
            ready = dict(poller.poll(self._poll_timeout_ms()))
            # Monitors before commands: a call made after a reconnection that the monitor reported
            # along with the drop before it must not be ended by that drop.
            for server, dealer in enumerate(self._sockets):
                if dealer in ready:
                    self._receive(dealer, _RECEIVE_BATCH)
                if self._monitors[server] in ready:
                    self._watch(server)
            if self._wake_reader.fileno() in ready and self._run_commands():
                return
            self._send_unsent()
            self._run_timers()

    def _watch(self, server: int) -> None:
        """Reads the events of ``server``'s monitor: completed handshakes and dropped connections.

        A connection that drops after its handshake ends the calls the server has; one that drops
        before (a TCP peer that is not a ZeroMQ server, say) never carried a request, and ends none.
        """
        monitor = self._monitors[server]
        for _ in range(_RECEIVE_BATCH):
            try:
                frames = monitor.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            event = parse_monitor_message(frames)["event"]
            if event == zmq.EVENT_HANDSHAKE_SUCCEEDED:
                self.reached = True
                self._linked[server] = True
            elif event == zmq.EVENT_DISCONNECTED and self._linked[server]:
                self._linked[server] = False
                self._lose_calls_of(server)

    def _lose_calls_of(self, server: int) -> None:
        """Ends in LostRemote every call that ``server``, whose connection dropped, has.

        The replies that arrived before the connection dropped are read first: ZeroMQ queued them
        before it reported the drop, and they still end their calls normally. Then the socket
        reconnects afresh: ZeroMQ would otherwise keep the requests and heartbeats it had not sent
        yet, and send them to the server when it is back, though their calls have ended.
        """
        dealer, endpoint = self._sockets[server], self.endpoints[server]
        self._receive(dealer, _DRAIN_LIMIT)
        dealer.disconnect(endpoint)
        dealer.connect(endpoint)
        where = f"lost the remote at {endpoint}: the connection dropped"
        lost = [channel for channel in self._channels.values() if channel.server == server]
        for channel in lost:
            del self._channels[channel.id]
            channel.fail(LostRemote(f"{where} while waiting for {channel.method!r}"))

    def _close_sockets(self) -> None:
        """Stops the monitoring, closes the monitors and the sockets, then terminates the context."""
        for dealer in self._sockets:
            dealer.disable_monitor()
        for each in (*self._monitors, *self._sockets):
            each.close(linger=0)
        self._context.term()

    def _send_unsent(self) -> None:
        """Sends the calls no server has taken yet, oldest first, until one finds no server.

        Each goes to the next connected server in turn that takes it; those whose caller gave them up
        are dropped unsent.
        """
        while self._unsent:
            oldest = next(iter(self._unsent))
            channel, payload = self._unsent[oldest]
            if not channel.ended:
                server = self._hand_over(payload)
                if server is None:
                    return
                self._opened(channel, server)
            del self._unsent[oldest]

    def _hand_over(self, payload: bytes) -> int | None:
        """Sends a request to the next connected server in turn that takes it; returns that server.

        Only a server whose handshake the monitor reported, and no drop since, is offered requests:
        a socket would queue a request for a server that is down, and send it when the server comes
        up, even if its call had ended by then.
        """
        count = len(self._sockets)
        start = next(self._turns)
        for turn in range(start, start + count):
            server = turn % count
            if self._linked[server] and self._send(server, payload):
                return server
        return None

    def _run_commands(self) -> bool:
        """Runs the queued commands; True when the connection is closing."""
        with contextlib.suppress(BlockingIOError):
            self._wake_reader.recv(4096)
        with self._lock:
            self._wake_pending = False
            commands, self._commands = self._commands, deque()
            self._stopping = self._closed
        for command in commands:
            command()
        return self._stopping

    def _shut_down(self) -> None:
        with self._lock:
            self._closed = True
            commands, self._commands = self._commands, deque()
            self._wake_writer.close()
        self._stopping = True
        for command in commands:
            command()
        for channel in (*self._channels.values(), *(channel for channel, _ in self._unsent.values())):
            channel.fail(ClientClosed(self._closed_reason))
        self._channels.clear()
        self._unsent.clear()
        self._timers.clear()
        self._close_sockets()
        self._wake_reader.close()
        self.stopped.set_result(None)

    def _send(self, server: int, payload: bytes) -> bool:
        """Sends one event without blocking; False when ZeroMQ's queue to the server is full."""
        try:
            self._sockets[server].send_multipart([b"", payload], zmq.NOBLOCK)
        except zmq.Again:
            return False
        return True

    def _start(self, channel: _Channel, payload: bytes) -> None:
        if self._stopping:
            channel.fail(ClientClosed(self._closed_reason))
            return
        self._unsent[channel.id] = (channel, payload)
        self._send_unsent()

    def _opened(self, channel: _Channel, server: int) -> None:
        """Registers a channel whose request ``server`` has taken, and starts its heartbeats."""
        channel.server = server
        self._channels[channel.id] = channel
        if self._heartbeat is not None:
            channel.opened_at = time.monotonic()
            channel.next_beat = channel.opened_at + self._heartbeat
            self._schedule(channel, self._heartbeat)

    def _send_on(self, channel: _Channel, name: str, args: list[Any]) -> None:
        """Sends a heartbeat or a credit on a registered ``channel``, to the server that has it.

        Ends the call in ``LostRemote`` when the socket refuses the event (a lost credit would
        stall a stream): ZeroMQ's queue to the server is full, so it has not been reading.
        """
        server = channel.server
        event = _encode_channel_event(_new_message_id(), channel.id, name, args)
        if server is None or self._send(server, event):
            return
        del self._channels[channel.id]
        where = f"lost the remote at {self.endpoints[server]}"
        channel.fail(
            LostRemote(f"{where}: its queue is full, it is not reading, while waiting for {channel.method!r}")
        )

    def _send_credit(self, channel: _Channel, count: int) -> None:
        if self._channels.get(channel.id) is channel:
            self._send_on(channel, "_zpc_more", [count])

    def _forget(self, channel: _Channel) -> None:
        """Drops a channel its reader abandoned, open or still waiting for a server to take it."""
        if self._channels.get(channel.id) is channel:
            del self._channels[channel.id]
        self._unsent.pop(channel.id, None)

    def _receive(self, dealer: zmq.Socket[bytes], limit: int) -> None:
        """Reads and dispatches the messages waiting on ``dealer``, ``limit`` at most."""
        for _ in range(limit):
            try:
                frames = dealer.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            self._dispatch(frames)

    def _dispatch(self, frames: list[bytes]) -> None:
        if frames and len(frames[-1]) > self._max_message_size:
            self._refuse_too_large(frames[-1])
            return
        try:
            event = _decode_event(frames)
        except ProtocolError as exc:
            self._report_unreadable(exc)
            return
        channel = self._channel_answered(event.header.get("response_to"))
        if channel is None:
            logger.debug("dropping %r from %s: no open channel for it", event.name, self.endpoint)
            return
        channel.last_heard = time.monotonic()
        if channel.handle(event):
            del self._channels[channel.id]

    def _refuse_too_large(self, frame: bytes) -> None:
        """Fails the call an event larger than ``max_message_size`` answers, without decoding it.

        Its header and name are read (from the start of the frame only) to find the call. A
        heartbeat or credit counts as a sign of life and is otherwise ignored, as the Rust client
        does; an event for no open call is dropped, with a warning when its header cannot be read.
        """
        response_to, name = _read_head(frame)
        channel = self._channel_answered(response_to)
        if channel is None:
            level = logging.WARNING if _channel_key(response_to) is None else logging.DEBUG
            logger.log(
                level,
                "dropping a message of %d bytes from %s: above max_message_size (%d bytes) and %s",
                len(frame),
                self.endpoint,
                self._max_message_size,
                "for no open channel" if level == logging.DEBUG else "its header cannot be read",
            )
            return
        channel.last_heard = time.monotonic()
        if name in ("_zpc_hb", "_zpc_more"):
            return
        del self._channels[channel.id]
        channel.fail(TooLarge(channel.method, "reply", len(frame), self._max_message_size))

    def _report_unreadable(self, error: ProtocolError) -> None:
        """Fails the call an unreadable event answers; warns when no call can be identified."""
        response_to = error.response_to if isinstance(error, _UnreadableEvent) else None
        channel = self._channel_answered(response_to)
        if channel is None:
            logger.warning("dropping a message from %s: %s", self.endpoint, error)
            return
        del self._channels[channel.id]
        channel.fail(ProtocolError(f"unreadable reply to {channel.method!r}: {error}"))

    def _channel_answered(self, response_to: object) -> _Channel | None:
        """The open channel a ``response_to`` names, if any."""
        key = _channel_key(response_to)
        return self._channels.get(key) if key is not None else None

    def _schedule(self, channel: _Channel, interval: float) -> None:
        when = min(channel.next_beat, channel.silence_deadline(interval))
        heapq.heappush(self._timers, (when, next(self._timer_order), channel))

    def _poll_timeout_ms(self) -> int | None:
        # Without a connected server, the monitor's report of a handshake ends the wait instead.
        retry = _UNSENT_RETRY_MS if self._unsent and any(self._linked) else None
        if not self._timers:
            return retry
        due = max(0, math.ceil((self._timers[0][0] - time.monotonic()) * 1000))
        return due if retry is None else min(due, retry)

    def _run_timers(self) -> None:
        """Sends due heartbeats and fails the channels whose server went silent."""
        interval = self._heartbeat
        if interval is None:
            return
        now = time.monotonic()
        while self._timers and self._timers[0][0] <= now:
            _, _, channel = heapq.heappop(self._timers)
            if self._channels.get(channel.id) is not channel:
                continue
            if now >= channel.silence_deadline(interval):
                del self._channels[channel.id]
                heard = channel.opened_at if channel.last_heard is None else channel.last_heard
                silent = now - heard
                channel.fail(
                    LostRemote(
                        f"lost the remote at {self._server_of(channel)}: "
                        f"nothing heard for {silent:.1f}s "
                        f"(heartbeat every {interval:g}s) while waiting for {channel.method!r}"
                    )
                )
                continue
            if now >= channel.next_beat:
                self._send_on(channel, "_zpc_hb", [0])
                channel.next_beat += interval
                if channel.next_beat <= now:
                    channel.next_beat = now + interval
            self._schedule(channel, interval)


# ---------------------------------------------------------------------------------------------
# Waiting for results


def _wait_blocking(
    connection: _Connection,
    channel: _Channel,
    future: concurrent.futures.Future[Any],
    timeout: float | None,
) -> Any:
    """Waits for ``future``, a result of ``channel``, and reports how the wait ended."""
    try:
        done, _ = concurrent.futures.wait((future,), timeout)
        if not done and future.cancel():
            raise connection.timeout_error(channel, timeout)
        result = future.result()
    except BaseException as error:
        future.cancel()
        connection.report(channel, error=error)
        raise
    connection.report(channel, result)
    return result


async def _wait_async(
    connection: _Connection,
    channel: _Channel,
    future: concurrent.futures.Future[Any],
    timeout: float | None,
) -> Any:
    """Awaits ``future``, a result of ``channel``, and reports how the wait ended."""
    # Cancelling the awaited wrapper (timeout or task cancellation) cancels `future`, which
    # abandons the channel.
    try:
        result = await asyncio.wait_for(asyncio.wrap_future(future), timeout)
    except asyncio.TimeoutError:
        timed_out = connection.timeout_error(channel, timeout)
        connection.report(channel, error=timed_out)
        raise timed_out from None
    except BaseException as error:
        connection.report(channel, error=error)
        raise
    connection.report(channel, result)
    return result


def _checked_seconds(what: str, seconds: float) -> float:
    if not seconds > 0:
        raise ValueError(f"{what} must be a positive number of seconds, got {seconds!r}")
    return seconds


def _checked_bytes(what: str, size: int) -> int:
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        raise ValueError(f"{what} must be a positive whole number of bytes, got {size!r}")
    return size


def _check_hook(what: str, hook: object) -> None:
    """Refuses a ``hook`` that is not None or a plain function: the runtime never awaits one."""
    if hook is None:
        return
    if not callable(hook):
        raise TypeError(f"{what} must be a function or None, got {hook!r}")
    if inspect.iscoroutinefunction(hook) or inspect.iscoroutinefunction(hook.__call__):
        raise TypeError(f"{what} must be a plain function, not a coroutine function (async def): {hook!r}")


class _ClientBase:
    """What both clients share: the connection, its settings and its clean-up."""

    # One keyword-only argument per setting. RUF100: the copies in generated code are checked with
    # PLR0913 off, where this noqa is unused.
    def __init__(  # noqa: PLR0913, RUF100
        self,
        endpoint: Endpoints,
        *,
        heartbeat: float | None = 5.0,
        timeout: float = 30.0,
        request_header: RequestHeader | None = None,
        after_request: AfterRequest | None = None,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
    ) -> None:
        if heartbeat is not None:
            _checked_seconds("heartbeat", heartbeat)
        _checked_bytes("max_message_size", max_message_size)
        self._timeout = _checked_seconds("timeout", timeout)
        endpoints = [endpoint] if isinstance(endpoint, str) else list(endpoint)
        if not endpoints or not all(isinstance(each, str) for each in endpoints):
            raise ValueError(f"endpoint must be a string or a non-empty list of strings, got {endpoint!r}")
        _check_hook("request_header", request_header)
        _check_hook("after_request", after_request)
        self._connection = _Connection(endpoints, heartbeat, request_header, after_request, max_message_size)
        self._release = weakref.finalize(self, self._connection.close)

    @property
    def endpoint(self) -> str:
        """The ZeroMQ endpoint this client is connected to (the first, for several servers)."""
        return self._connection.endpoints[0]

    @property
    def endpoints(self) -> tuple[str, ...]:
        """Every endpoint this client is connected to."""
        return self._connection.endpoints

    def _limit(self, timeout: float | None) -> float | None:
        """The wait limit for one call in seconds; None for no limit (a timeout of ``math.inf``)."""
        seconds = self._timeout if timeout is None else _checked_seconds("timeout", timeout)
        return None if math.isinf(seconds) else seconds


class _StreamBase:
    """What both streams share: the channel they read, its wait limit, and abandoning it."""

    def __init__(self, client: _ClientBase, channel: _Channel, timeout: float | None) -> None:
        self._client = client  # Keeps the client, and so its connection, open while reading.
        self._channel = channel
        self._timeout = timeout

    def __del__(self) -> None:
        self._abandon()

    def _abandon(self) -> None:
        """Stops reading; a stream whose first reply was not read yet is reported as Cancelled."""
        self._channel.abandon()
        self._client._connection.report_closed(self._channel)


# ---------------------------------------------------------------------------------------------
# Blocking client


class Client(_ClientBase):
    """A blocking zerorpc client, safe to share between threads.

    ``endpoint`` is a ZeroMQ endpoint such as ``"tcp://127.0.0.1:4242"``, or a list of the endpoints
    of several servers of one service: each call then goes to the next connected server in turn,
    and its heartbeats and stream credit to that server only. Creating a client never blocks: calls
    made before the server is up wait for it within their timeout. ``heartbeat`` is
    the interval in seconds of the zerorpc heartbeat (it must match the server's; ``None`` turns
    heartbeats and lost-remote detection off). ``timeout`` is the default limit in seconds for each
    wait of a call (``math.inf`` for none). ``max_message_size`` is the largest event in bytes that
    the client sends or reads (default 100 MiB): a larger request raises TooLarge before anything is
    sent, a larger reply fails its call with TooLarge. ``request_header`` (see RequestHeader) adds
    entries such as a trace id to every request's header. ``after_request`` (see AfterRequest) is
    called with a RequestRecord when each call ends, or a stream's first reply is read:
    ``log_requests()`` makes one that logs every call. ``close()`` or leaving a ``with`` block stops
    the I/O thread and closes the socket.
    """

    def call(
        self, method: str, /, *args: Any, timeout: float | None = None, errors: Sequence[str] = ()
    ) -> Any:
        """Calls ``method`` with positional ``args`` and returns its result.

        Raises RemoteError when the server answers with an error, TimeoutExpired when no answer
        comes within ``timeout`` seconds (default: the client's), LostRemote when the connection to
        the server drops or the server stops heartbeating, ClientClosed when the client is closed.
        ``errors`` names the errors the method declares (generated clients pass them): the
        ``after_request`` hook sees them in ``RequestRecord.errors``.
        """
        channel = self._connection.open(method, args, streaming=False, errors=errors)
        return _wait_blocking(self._connection, channel, channel.take(), self._limit(timeout))

    def stream(
        self, method: str, /, *args: Any, timeout: float | None = None, errors: Sequence[str] = ()
    ) -> Stream:
        """Calls a streaming ``method`` and returns an iterator over the items it sends.

        The call is sent right away. ``timeout`` bounds each wait for the next item. Stopping early
        (``break``, ``close()``, leaving a ``with`` block) abandons the stream. ``errors`` is as for
        ``call``.
        """
        channel = self._connection.open(method, args, streaming=True, errors=errors)
        return Stream(self, channel, self._limit(timeout))

    def close(self) -> None:
        """Fails pending calls with ClientClosed, stops the I/O thread and closes the socket."""
        self._release()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class Stream(_StreamBase):
    """The items of one streaming call, as an iterator (from ``Client.stream``)."""

    def __iter__(self) -> Stream:
        return self

    def __next__(self) -> Any:
        future = self._channel.take()
        item = _wait_blocking(self._client._connection, self._channel, future, self._timeout)
        if item is _END:
            raise StopIteration
        return item

    def close(self) -> None:
        """Stops reading: the stream ends and the server's later items are dropped."""
        self._abandon()

    def __enter__(self) -> Stream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


# ---------------------------------------------------------------------------------------------
# asyncio client


class AsyncClient(_ClientBase):
    """An asyncio zerorpc client: any number of concurrent awaits share its one connection.

    The arguments mean what they mean for Client. Use it as ``async with AsyncClient(...)`` or
    ``await client.close()`` when done.
    """

    async def call(
        self, method: str, /, *args: Any, timeout: float | None = None, errors: Sequence[str] = ()
    ) -> Any:
        """Calls ``method`` with positional ``args`` and returns its result.

        Raises like Client.call, and ``errors`` is as there. Cancelling the awaiting task abandons
        the call.
        """
        channel = self._connection.open(method, args, streaming=False, errors=errors)
        return await _wait_async(self._connection, channel, channel.take(), self._limit(timeout))

    def stream(
        self, method: str, /, *args: Any, timeout: float | None = None, errors: Sequence[str] = ()
    ) -> AsyncStream:
        """Calls a streaming ``method`` and returns an async iterator over the items it sends.

        The call is sent right away. ``timeout`` bounds each wait for the next item. Stopping early
        (``break``, ``aclose()``, leaving an ``async with`` block) abandons the stream. ``errors``
        is as for ``Client.call``.
        """
        channel = self._connection.open(method, args, streaming=True, errors=errors)
        return AsyncStream(self, channel, self._limit(timeout))

    async def close(self) -> None:
        """Fails pending calls with ClientClosed, stops the I/O thread and closes the socket."""
        self._connection.request_close()
        await asyncio.wrap_future(self._connection.stopped)
        self._release()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()


class AsyncStream(_StreamBase):
    """The items of one streaming call, as an async iterator (from ``AsyncClient.stream``)."""

    def __aiter__(self) -> AsyncStream:
        return self

    async def __anext__(self) -> Any:
        future = self._channel.take()
        item = await _wait_async(self._client._connection, self._channel, future, self._timeout)
        if item is _END:
            raise StopAsyncIteration
        return item

    async def aclose(self) -> None:
        """Stops reading: the stream ends and the server's later items are dropped."""
        self._abandon()

    async def __aenter__(self) -> AsyncStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
