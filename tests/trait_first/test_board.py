"""The Python client generated with `rpcgen generate --from-rust` from examples/trait-first/src/board.rs,
calling the trait-first Rust server (board-server): values, declared errors, streams, wire names."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest
from board_api.board import (
    BoardClient,
    ChangePinned,
    ChangeRemoved,
    Colour,
    NoSuchNote,
    Refused,
)

CALL_TIMEOUT = 10.0


@pytest.fixture
def endpoint() -> Iterator[str]:
    """A fresh board-server on 127.0.0.1; it stops when its stdin closes."""
    server = subprocess.Popen(
        [os.environ["RPCGEN_BOARD_SERVER"], "tcp://127.0.0.1:0"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None and server.stdin is not None
    ready = server.stdout.readline().split()
    assert ready[:1] == ["READY"], f"board-server did not start: {ready}"
    yield ready[1]
    server.stdin.close()
    server.wait(timeout=10)


def test_every_method_from_python(endpoint: str) -> None:
    with BoardClient(endpoint, timeout=CALL_TIMEOUT) as client:
        milk = client.pin("milk", Colour.Rose, ["shopping"])
        assert (milk.id, milk.text, milk.colour, milk.tags) == (
            1,
            "milk",
            Colour.Rose,
            ["shopping"],
        )
        with pytest.raises(Refused) as refused:
            client.pin("  ", Colour.Blue, [])
        assert refused.value.message_ == "a note needs text"
        client.attach(milk.id, b"\x00\xff")
        assert client.get(milk.id).attachment == b"\x00\xff"
        with pytest.raises(NoSuchNote) as missing:
            client.get(42)
        assert missing.value.id == 42
        assert [note.id for note in client.notes()] == [1]
        assert client.count() == {Colour.Rose: 1}
        client.remove(milk.id)
        with pytest.raises(NoSuchNote):
            client.remove(milk.id)
        changes = list(client.changes())
        assert isinstance(changes[0], ChangePinned) and changes[0].value.id == milk.id
        assert changes[1] == ChangeRemoved(milk.id)
        with pytest.warns(DeprecationWarning, match="use notes"):
            assert client.first() is None
