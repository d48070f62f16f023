"""Clients generated from version 1 of the evolution fixture's stock service (tests/fixtures/evolution)
call a Rust server of version 2, which changes it only in ways `rpcgen breaking` accepts: every call
works, with the values version 1 expects, blocking and asyncio. And the client of version 2, whose
optional parameter at the end a call may leave out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import CALL_TIMEOUT, Server, start_stock_v2
from stock_v1.stock import AsyncStockClient, Item, StockClient, Summary, Unit, Unknown
from stock_v2.stock import StockClient as StockClientV2
from stock_v2.stock import StockItem


@pytest.fixture
def stock_v2(tmp_path: Path) -> Iterator[Server]:
    """A server of version 2 with an empty stock, for one test (default heartbeat: 5 s)."""
    server = start_stock_v2(tmp_path / "stock.log")
    yield server
    server.stop()


def test_version_1_clients_call_a_version_2_server(stock_v2: Server) -> None:
    with StockClient(stock_v2.endpoint, timeout=CALL_TIMEOUT) as stock:
        # Arguments the server now reads as wider types (u16 to u32, an enum with a new variant).
        assert stock.add("bolt", 3, Unit.Box) == 30
        assert stock.add("bolt", 2**16 - 1, Unit.Piece) == 65_565
        # A result whose type was renamed, with a renamed field and a new one (shelf).
        bolt = Item(sku="bolt", count=65_565)
        assert stock.get("bolt") == bolt
        # A declared error with a new field.
        with pytest.raises(Unknown) as raised:
            stock.get("bolts")
        assert raised.value.sku == "bolts"
        # A struct argument without the new optional field.
        nut = Item(sku="nut", count=5)
        assert stock.put(nut) == nut
        # Stream items of the renamed type, and a result struct with a new field.
        assert list(stock.all()) == [bolt, nut]
        assert stock.summary() == Summary(items=2)


def test_the_asyncio_client_of_version_1_too(stock_v2: Server) -> None:
    async def calls() -> None:
        async with AsyncStockClient(stock_v2.endpoint, timeout=CALL_TIMEOUT) as stock:
            assert await stock.add("washer", 1, Unit.Box) == 10
            assert [item async for item in stock.all()] == [Item(sku="washer", count=10)]
            assert await stock.summary() == Summary(items=1)

    asyncio.run(calls())


def test_a_version_2_client_may_leave_out_the_optional_parameter_at_the_end(stock_v2: Server) -> None:
    with StockClientV2(stock_v2.endpoint, timeout=CALL_TIMEOUT) as stock:
        stock.put(StockItem(sku="bolt", pieces=3, shelf="B2"))
        stock.put(StockItem(sku="nut", pieces=5, shelf=None))
        assert [item.sku for item in stock.all()] == ["bolt", "nut"]
        assert [item.sku for item in stock.all("B2")] == ["bolt"]
        assert [item.sku for item in stock.all(shelf=None, timeout=10)] == ["bolt", "nut"]
