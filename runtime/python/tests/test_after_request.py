"""The ``after_request`` hook and ``log_requests``, against the real zerorpc-python server."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import re
import time
from typing import Any

import pytest
from conftest import CALL_TIMEOUT, HEARTBEAT, Peer, free_endpoint, run_in_thread, wait_until

from rpcgen_runtime import (
    AsyncClient,
    Cancelled,
    Client,
    ClientClosed,
    Failed,
    ProtocolError,
    RemoteError,
    RequestRecord,
    Returned,
    StreamOpened,
    TimeoutExpired,
    log_requests,
)

ELAPSED = r"\d+\.\d\d ms"
"""How log_requests writes a time."""


def recording_client(peer: Peer, records: list[RequestRecord], *, timeout: float = CALL_TIMEOUT) -> Client:
    return Client(peer.endpoint, heartbeat=HEARTBEAT, timeout=timeout, after_request=records.append)


def test_a_returned_call_is_recorded_once(peer: Peer) -> None:
    records: list[RequestRecord] = []
    with recording_client(peer, records) as rpc:
        started = time.perf_counter()
        assert rpc.call("add", 1, 2) == 3
        took = time.perf_counter() - started
    assert len(records) == 1
    record = records[0]
    assert (record.method, record.args, record.endpoint) == ("add", (1, 2), peer.endpoint)
    assert record.outcome == Returned(3)
    assert 0 < record.elapsed <= took


def test_a_remote_error_is_recorded_as_the_error_the_call_raised(peer: Peer) -> None:
    records: list[RequestRecord] = []
    with recording_client(peer, records) as rpc, pytest.raises(RemoteError) as raised:
        rpc.call("fail", "boom")
    assert [(record.method, record.args, record.outcome) for record in records] == [
        ("fail", ("boom",), Failed(raised.value))
    ]
    assert raised.value.name == "ValueError"


def test_a_protocol_error_is_recorded(peer: Peer) -> None:
    records: list[RequestRecord] = []
    with recording_client(peer, records) as rpc, pytest.raises(ProtocolError) as raised:
        rpc.call("count", 2)
    assert [record.outcome for record in records] == [Failed(raised.value)]


def test_a_timeout_is_recorded_when_the_wait_gives_up(peer: Peer) -> None:
    records: list[RequestRecord] = []
    with recording_client(peer, records) as rpc, pytest.raises(TimeoutExpired) as raised:
        rpc.call("slow", 2, timeout=0.2)
    assert len(records) == 1
    assert records[0].outcome == Failed(raised.value)
    assert records[0].endpoint == peer.endpoint
    assert records[0].elapsed > 0


def test_a_call_no_server_took_has_no_endpoint() -> None:
    records: list[RequestRecord] = []
    nobody = [free_endpoint(), free_endpoint()]
    rpc = Client(nobody, heartbeat=HEARTBEAT, after_request=records.append)
    with rpc, pytest.raises(TimeoutExpired):
        rpc.call("hello", "x", timeout=0.2)
    assert [(record.endpoint, type(record.outcome)) for record in records] == [(None, Failed)]


def test_a_call_ended_by_close_is_recorded(peer: Peer) -> None:
    records: list[RequestRecord] = []
    rpc = recording_client(peer, records)
    join = run_in_thread(lambda: rpc.call("slow", 10))
    channels = rpc._connection._channels
    wait_until(lambda: channels)
    rpc.close()
    closed = join()
    assert isinstance(closed, ClientClosed)
    assert [record.outcome for record in records] == [Failed(closed)]


def test_calls_refused_before_sending_are_not_requests(peer: Peer) -> None:
    records: list[RequestRecord] = []
    rpc = recording_client(peer, records)
    with pytest.raises(TypeError):
        rpc.call("echo", object())
    rpc.close()
    with pytest.raises(ClientClosed):
        rpc.call("hello", "x")
    assert records == []


def test_a_stream_is_recorded_once_at_its_first_reply(peer: Peer) -> None:
    records: list[RequestRecord] = []
    with recording_client(peer, records) as rpc:
        started = time.perf_counter()
        stream = rpc.stream("count", 5)
        wait_until(lambda: stream._channel.first_reply is not None)
        assert records == []
        assert next(stream) == 0
        read = time.perf_counter() - started
        assert len(records) == 1
        assert list(stream) == [1, 2, 3, 4]
    assert len(records) == 1
    record = records[0]
    assert (record.method, record.args, record.endpoint) == ("count", (5,), peer.endpoint)
    assert record.outcome == StreamOpened()
    assert 0 < record.elapsed <= read


def test_a_stream_closed_before_its_first_item_is_read_is_recorded_as_cancelled(peer: Peer) -> None:
    records: list[RequestRecord] = []
    with recording_client(peer, records) as rpc:
        with rpc.stream("count", 3):
            pass
        answered = rpc.stream("count", 4)
        wait_until(lambda: answered._channel.first_reply is not None)
        answered.close()
        answered.close()
        rpc.stream("count", 5)  # Dropped at once: collected, it is closed.
        with rpc.stream("count", 6) as read:
            assert next(read) == 0
        assert rpc.call("add", 1, 2) == 3
    assert [(record.method, record.args, record.outcome) for record in records] == [
        ("count", (3,), Cancelled()),
        ("count", (4,), Cancelled()),
        ("count", (5,), Cancelled()),
        ("count", (6,), StreamOpened()),
        ("add", (1, 2), Returned(3)),
    ]


def test_a_stream_answered_without_streaming_is_recorded_as_such(peer: Peer) -> None:
    records: list[RequestRecord] = []
    with recording_client(peer, records) as rpc:
        assert list(rpc.stream("empty_stream")) == []
        assert list(rpc.stream("add", 1, 2)) == [3]
        with pytest.raises(RemoteError) as raised:
            list(rpc.stream("fail", "no stream"))
    assert [record.outcome for record in records] == [StreamOpened(), StreamOpened(), Failed(raised.value)]


def test_the_asyncio_client_records_in_the_calling_task(peer: Peer) -> None:
    request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
    seen: list[tuple[str, RequestRecord]] = []

    def after_request(record: RequestRecord) -> None:
        seen.append((request_id.get(), record))

    async def call_as(name: str, rpc: AsyncClient, *args: object) -> object:
        request_id.set(name)
        return await rpc.call("add", *args)

    async def main() -> None:
        async with AsyncClient(
            peer.endpoint, heartbeat=HEARTBEAT, timeout=CALL_TIMEOUT, after_request=after_request
        ) as rpc:
            assert list(await asyncio.gather(call_as("a", rpc, 1, 2), call_as("b", rpc, 3, 4))) == [3, 7]
            request_id.set("stream")
            assert [item async for item in rpc.stream("count", 3)] == [0, 1, 2]
            request_id.set("errors")
            with pytest.raises(RemoteError):
                await rpc.call("fail", "async boom")
            with pytest.raises(TimeoutExpired):
                await rpc.call("slow", 2, timeout=0.2)
            waiting = asyncio.ensure_future(rpc.call("slow", 10))
            channels = rpc._connection._channels
            deadline = time.monotonic() + 10
            while not any(channel.args == (10,) for channel in tuple(channels.values())):
                assert time.monotonic() < deadline, "the call of slow(10) was not sent in time"
                await asyncio.sleep(0.01)
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting

    asyncio.run(main())
    summary = [(name, record.method, record.args, type(record.outcome)) for name, record in seen]
    assert sorted(summary[:2]) == [("a", "add", (1, 2), Returned), ("b", "add", (3, 4), Returned)]
    assert summary[2:] == [
        ("stream", "count", (3,), StreamOpened),
        ("errors", "fail", ("async boom",), Failed),
        ("errors", "slow", (2,), Failed),
        ("errors", "slow", (10,), Cancelled),
    ]
    errors = [record.outcome.error for _, record in seen[3:] if isinstance(record.outcome, Failed)]
    assert [type(error) for error in errors] == [RemoteError, TimeoutExpired]


def test_asyncio_calls_their_caller_gives_up_are_recorded_once_as_cancelled(peer: Peer) -> None:
    records: list[RequestRecord] = []

    async def sent(rpc: AsyncClient, *args: object) -> None:
        """Waits until the call with ``args`` has been sent (its channel is open)."""
        channels = rpc._connection._channels
        deadline = time.monotonic() + CALL_TIMEOUT
        while not any(channel.args == args for channel in tuple(channels.values())):
            assert time.monotonic() < deadline, f"the call with {args} was not sent in time"
            await asyncio.sleep(0.01)

    async def main() -> None:
        async with AsyncClient(
            peer.endpoint, heartbeat=HEARTBEAT, timeout=CALL_TIMEOUT, after_request=records.append
        ) as rpc:
            # wait_for cancels the call's task at its timeout, and raises TimeoutError for it.
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(rpc.call("slow", 10), 0.2)
            task = asyncio.ensure_future(rpc.call("slow", 11))
            await sent(rpc, 11)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            # A stream whose first reply is late (slow is no stream: it would answer OK in 10 s).
            late = rpc.stream("slow", 12)
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(late.__anext__(), 0.2)
            await late.aclose()
            assert await rpc.call("add", 1, 2) == 3

    asyncio.run(main())
    assert [(record.method, record.args, record.outcome) for record in records] == [
        ("slow", (10,), Cancelled()),
        ("slow", (11,), Cancelled()),
        ("slow", (12,), Cancelled()),
        ("add", (1, 2), Returned(3)),
    ]
    assert all(record.elapsed > 0 for record in records)


async def async_hook(record: RequestRecord) -> None:
    pass


class AsyncHook:
    async def __call__(self, record: RequestRecord) -> None:
        pass


@pytest.mark.parametrize("client_class", [Client, AsyncClient])
@pytest.mark.parametrize("name", ["after_request", "request_header"])
@pytest.mark.parametrize("hook", [async_hook, AsyncHook()], ids=["async def", "async __call__"])
def test_an_async_hook_is_refused(client_class: type[Client | AsyncClient], name: str, hook: object) -> None:
    arguments: dict[str, Any] = {name: hook}
    with pytest.raises(TypeError, match=rf"^{name} must be a plain function, not a coroutine function"):
        client_class(free_endpoint(), **arguments)


@pytest.mark.parametrize("name", ["after_request", "request_header"])
def test_a_hook_that_is_not_callable_is_refused(name: str) -> None:
    arguments: dict[str, Any] = {name: "log"}
    with pytest.raises(TypeError, match=rf"^{name} must be a function or None, got 'log'$"):
        Client(free_endpoint(), **arguments)


def test_a_failing_hook_is_logged_and_the_call_still_returns(
    peer: Peer, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(record: RequestRecord) -> None:
        raise RuntimeError(f"hook broke on {record.method}")

    with Client(peer.endpoint, heartbeat=HEARTBEAT, timeout=CALL_TIMEOUT, after_request=broken) as rpc:
        assert rpc.call("add", 1, 2) == 3
        with pytest.raises(RemoteError, match="boom"):
            rpc.call("fail", "boom")
    failures = [entry for entry in caplog.records if entry.name == "rpcgen_runtime"]
    assert [entry.levelno for entry in failures] == [logging.ERROR, logging.ERROR]
    assert "after_request hook failed" in failures[0].getMessage()
    assert failures[0].exc_info is not None
    assert str(failures[0].exc_info[1]) == "hook broke on add"


def test_log_requests_logs_successes_declared_errors_and_cancellations_at_info_and_failures_at_warning(
    peer: Peer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="rpcgen")
    with Client(
        peer.endpoint, heartbeat=HEARTBEAT, timeout=CALL_TIMEOUT, after_request=log_requests()
    ) as rpc:
        assert rpc.call("add", 1, 2) == 3
        assert list(rpc.stream("count", 2)) == [0, 1]
        with pytest.raises(RemoteError):
            rpc.call("fail", "boom")
        with pytest.raises(RemoteError):
            rpc.call("fail", "expected", errors=("ValueError",))
        with rpc.stream("slow", 5) as late:
            wait_until(lambda: late._channel.server is not None)
    lines = [(entry.levelno, entry.getMessage()) for entry in caplog.records if entry.name == "rpcgen"]
    server = re.escape(peer.endpoint)
    expected = [
        (logging.INFO, rf"add\(1, 2\) -> 3 in {ELAPSED} from {server}"),
        (logging.INFO, rf"count\(2\) -> stream in {ELAPSED} from {server}"),
        (
            logging.WARNING,
            rf"fail\('boom'\) failed in {ELAPSED} from {server}: RemoteError: ValueError: boom",
        ),
        (
            logging.INFO,
            rf"fail\('expected'\) returned a declared error in {ELAPSED} from {server}: "
            rf"RemoteError: ValueError: expected",
        ),
        (logging.INFO, rf"slow\(5\) cancelled by the caller in {ELAPSED} from {server}"),
    ]
    assert len(lines) == len(expected)
    for (level, message), (expected_level, pattern) in zip(lines, expected):
        assert level == expected_level
        assert re.fullmatch(pattern, message), message


def test_log_requests_cuts_long_values_and_takes_a_logger(
    peer: Peer, caplog: pytest.LogCaptureFixture
) -> None:
    calls = logging.getLogger("test_after_request.calls")
    caplog.set_level(logging.INFO, logger=calls.name)
    hook = log_requests(calls, max_value_chars=8)
    with Client(peer.endpoint, heartbeat=HEARTBEAT, timeout=CALL_TIMEOUT, after_request=hook) as rpc:
        assert rpc.call("echo", "abcdefghij") == "abcdefghij"
        assert rpc.call("add", 1, 2) == 3
    messages = [entry.getMessage() for entry in caplog.records if entry.name == calls.name]
    assert len(messages) == 2
    assert re.fullmatch(rf"echo\('abcdefg…\) -> 'abcdefg… in {ELAPSED} from .+", messages[0])
    assert re.fullmatch(rf"add\(1, 2\) -> 3 in {ELAPSED} from .+", messages[1])


def test_log_requests_formats_nothing_for_a_logger_that_drops_the_line() -> None:
    class Unprintable:
        def __repr__(self) -> str:
            raise AssertionError("repr() called for a line nobody logs")

    silent = logging.getLogger("test_after_request.silent")
    silent.setLevel(logging.ERROR)
    log_requests(silent)(RequestRecord("echo", (Unprintable(),), None, Returned(Unprintable()), 0.001))


def test_log_requests_refuses_a_negative_length() -> None:
    with pytest.raises(ValueError, match="max_value_chars"):
        log_requests(max_value_chars=-1)
