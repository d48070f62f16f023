"""The clients generated from examples/shop/api/shop.rpc against the Rust example server.

Every method, blocking and asyncio, on a fresh server per test: typed values both ways, both
declared errors, streams of structs and of enums with data, the methods' own timeouts, a timeout,
a deprecated method, and a lost remote when the server is killed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import CALL_TIMEOUT, HEARTBEAT, Server, start_shop
from shop_api.common import Money
from shop_api.rpcgen_runtime import LostRemote, RemoteError, RequestRecord, TimeoutExpired
from shop_api.shop import (
    AsyncTicketsClient,
    EventClosed,
    EventMoved,
    EventOpened,
    NewTicket,
    NotFound,
    Priority,
    Rejected,
    Ticket,
    TicketsClient,
)

PRINTER = NewTicket(
    title="The printer is on fire",
    body="Smoke since 9:00.",
    tags=["hardware", "urgent"],
    priority=Priority.High,
    price=Money(cents=4900, currency="EUR"),
)
TYPO = NewTicket(title="Typo on the home page", body=None, tags=[], priority=Priority.Low, price=None)


def connect(server: Server, *, timeout: float = CALL_TIMEOUT) -> TicketsClient:
    return TicketsClient(server.endpoint, heartbeat=HEARTBEAT, timeout=timeout)


def connect_async(server: Server, *, timeout: float = CALL_TIMEOUT) -> AsyncTicketsClient:
    return AsyncTicketsClient(server.endpoint, heartbeat=HEARTBEAT, timeout=timeout)


def opened(ticket_id: int, new: NewTicket) -> Ticket:
    """The ticket the example server makes of `new`."""
    return Ticket(
        id=ticket_id,
        title=new.title,
        body=new.body,
        tags=new.tags,
        priority=new.priority,
        attachment=None,
        extra={"source": "rpcgen example"},
        price=new.price,
    )


def test_every_method_with_the_blocking_client(shop: Server) -> None:
    with connect(shop) as client:
        printer = client.open(PRINTER)
        assert printer == opened(1, PRINTER)
        typo = client.open(TYPO)
        assert typo == opened(2, TYPO)
        assert client.get(printer.id) == printer

        client.attach(printer.id, b"\x00smoke.jpg\xff")
        assert client.get(printer.id).attachment == b"\x00smoke.jpg\xff"
        client.move_to(typo.id, "web")
        assert client.stats() == {Priority.High: 1, Priority.Low: 1}
        assert [ticket.id for ticket in client.list(None)] == [printer.id, typo.id]
        assert [ticket.title for ticket in client.list(Priority.Normal)] == [PRINTER.title]
        assert client.report(0.01) == "2 open tickets"

        client.close_(typo.id, "fixed")
        with pytest.raises(NotFound):
            client.get(typo.id)
        assert list(client.history()) == [
            EventOpened(value=printer),
            EventOpened(value=typo),
            EventMoved(value0=typo.id, value1="web"),
            EventClosed(id=typo.id, reason="fixed"),
        ]
        with pytest.warns(DeprecationWarning, match=r"Tickets.first\(\) is deprecated: use list"):
            first = client.first()
        assert first is not None
        assert first.id == printer.id


def test_every_method_with_the_asyncio_client(shop: Server) -> None:
    async def main() -> None:
        async with connect_async(shop) as client:
            printer = await client.open(PRINTER)
            assert printer == opened(1, PRINTER)
            await client.attach(printer.id, b"log")
            await client.move_to(printer.id, "hardware")
            assert (await client.get(printer.id)).attachment == b"log"
            assert await client.stats() == {Priority.High: 1}
            assert [ticket.id async for ticket in client.list(Priority.High)] == [printer.id]
            assert await client.report(0.01) == "1 open tickets"
            await client.close_(printer.id, "done")
            assert [event async for event in client.history()] == [
                EventOpened(value=printer),
                EventMoved(value0=printer.id, value1="hardware"),
                EventClosed(id=printer.id, reason="done"),
            ]
            assert [ticket async for ticket in client.list(None)] == []
            with pytest.warns(DeprecationWarning, match="use list"):
                assert await client.first() is None

    asyncio.run(main())


def test_declared_errors_are_raised_typed(shop: Server) -> None:
    with connect(shop) as client:
        with pytest.raises(NotFound) as missing:
            client.get(999)
        assert missing.value.id == 999
        assert missing.value.name == "NotFound"
        assert isinstance(missing.value, RemoteError)
        calls: list[Callable[[], None]] = [lambda: client.attach(7, b"x"), lambda: client.close_(7, "gone")]
        for call in calls:
            with pytest.raises(NotFound) as raised:
                call()
            assert raised.value.id == 7

        with pytest.raises(Rejected) as rejected:
            client.open(dataclasses.replace(TYPO, title=" "))
        assert (rejected.value.message_, rejected.value.field) == ("a ticket needs a title", "title")
        # The error's `message` field is also the readable message every zerorpc client shows.
        assert rejected.value.message == "a ticket needs a title"
        assert str(rejected.value) == "Rejected: a ticket needs a title"

    async def main() -> None:
        async with connect_async(shop) as client:
            with pytest.raises(NotFound) as missing:
                await client.get(12345)
            assert missing.value.id == 12345

    asyncio.run(main())


def test_after_request_knows_the_errors_each_method_declares(shop: Server) -> None:
    records: list[RequestRecord] = []
    with TicketsClient(
        shop.endpoint, heartbeat=HEARTBEAT, timeout=CALL_TIMEOUT, after_request=records.append
    ) as client:
        with pytest.raises(NotFound):
            client.get(999)
        with pytest.raises(RemoteError):
            client.report(1000)
    assert [(record.method, record.errors) for record in records] == [
        ("get", ("NotFound",)),
        ("report", ()),
    ]


def test_an_undeclared_error_stays_an_untyped_remote_error(shop: Server) -> None:
    with connect(shop) as client, pytest.raises(RemoteError) as raised:
        client.report(1000)
    assert type(raised.value) is RemoteError
    assert raised.value.name == "ValueError"
    assert "not 1000" in raised.value.message


def test_arguments_are_checked_before_anything_is_sent(shop: Server) -> None:
    with connect(shop) as client:
        bad = dataclasses.replace(PRINTER, priority="High")  # type: ignore[arg-type]
        with pytest.raises(
            TypeError, match=r"Tickets.open\(\) argument 'ticket': NewTicket.priority: expected"
        ):
            client.open(bad)
        with pytest.raises(ValueError, match=r"Tickets.get\(\) argument 'id'"):
            client.get(-1)
        # Nothing was opened by the refused calls.
        assert client.stats() == {}


def test_methods_wait_as_long_as_their_timeout_says(shop: Server) -> None:
    # The client's own default is short, but `report` declares @timeout(60s) and `get` inherits the
    # service's @timeout(10s): both wait longer than the client's default.
    with connect(shop, timeout=0.2) as client:
        assert client.report(0.6) == "0 open tickets"
        with pytest.raises(TimeoutExpired, match="'report'"):
            client.report(5, timeout=0.3)
        assert client.open(TYPO).id == 1

    async def main() -> None:
        async with connect_async(shop, timeout=0.2) as client:
            assert await client.report(0.6) == "1 open tickets"
            with pytest.raises(TimeoutExpired):
                await client.report(5, timeout=0.3)

    asyncio.run(main())


def test_many_concurrent_asyncio_calls(shop: Server) -> None:
    async def main() -> list[Ticket]:
        async with connect_async(shop) as client:
            opened = await asyncio.gather(
                *(client.open(dataclasses.replace(TYPO, title=f"#{n}")) for n in range(50))
            )
            return await asyncio.gather(*(client.get(ticket.id) for ticket in opened))

    tickets = asyncio.run(main())
    assert sorted(ticket.title for ticket in tickets) == sorted(f"#{n}" for n in range(50))
    assert sorted(ticket.id for ticket in tickets) == list(range(1, 51))


def test_a_killed_server_is_a_lost_remote(own_server: Callable[[Callable[[Path], Server]], Server]) -> None:
    server = own_server(start_shop)
    with connect(server) as client:
        assert client.open(TYPO).id == 1
        killer = threading.Timer(0.5, server.kill)
        killer.start()
        try:
            with pytest.raises(LostRemote):
                client.report(30)
        finally:
            killer.join()


def test_a_killed_server_is_a_lost_remote_for_the_asyncio_client(
    own_server: Callable[[Callable[[Path], Server]], Server],
) -> None:
    server = own_server(start_shop)

    async def main() -> None:
        async with connect_async(server) as client:
            call = asyncio.ensure_future(client.report(30))
            await asyncio.sleep(0.5)
            server.kill()
            with pytest.raises(LostRemote):
                await call

    asyncio.run(main())
