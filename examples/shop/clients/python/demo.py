"""Calls the example ticket shop from Python.

It uses the client that rpcgen generated from api/shop.rpc into ./gen (scripts/demo.sh does
that). Usage: python demo.py ENDPOINT
"""

from __future__ import annotations

import asyncio
import sys

from gen.common import Money
from gen.shop import (
    AsyncTicketsClient,
    NewTicket,
    NotFound,
    Priority,
    Rejected,
    Ticket,
    TicketsClient,
)


def describe(ticket: Ticket) -> str:
    """One line per ticket: id, priority and title."""
    return f"#{ticket.id} [{ticket.priority.value}] {ticket.title}"


def blocking_calls(endpoint: str) -> None:
    """Every kind of call with the blocking client."""
    with TicketsClient(endpoint) as tickets:
        opened = tickets.open(
            NewTicket(
                title="Password reset mail never arrives",
                body=None,
                tags=["mail"],
                priority=Priority.High,
                price=Money(cents=990, currency="USD"),
            )
        )
        print(f"open        -> {describe(opened)}")
        print(f"get         -> {describe(tickets.get(opened.id))}")
        print("ticket_list -> (stream)")
        for ticket in tickets.list(Priority.Normal):
            print(f"                {describe(ticket)}")
        try:
            tickets.get(999_999)
        except NotFound as error:
            print(f"get 999999  -> typed error NotFound(id={error.id})")
        try:
            tickets.open(
                NewTicket(
                    title="", body=None, tags=[], priority=Priority.Low, price=None
                )
            )
        except Rejected as error:
            print(
                f'open ""     -> typed error Rejected(field={error.field!r}, message={error.message_!r})'
            )


async def concurrent_calls(endpoint: str) -> None:
    """Many calls at once on one connection with the asyncio client."""
    async with AsyncTicketsClient(endpoint) as tickets:
        stats = await tickets.stats()
        reports = await asyncio.gather(*(tickets.report(0.1) for _ in range(5)))
        counts = {priority.value: count for priority, count in stats.items()}
        print(f"stats       -> {counts} (asyncio)")
        print(f"report x5   -> {len(reports)} reports computed concurrently (asyncio)")


def main() -> None:
    """Runs the blocking calls, then the asyncio ones."""
    endpoint = sys.argv[1] if len(sys.argv) > 1 else "tcp://127.0.0.1:4242"
    blocking_calls(endpoint)
    asyncio.run(concurrent_calls(endpoint))


if __name__ == "__main__":
    main()
