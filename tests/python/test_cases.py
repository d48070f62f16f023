"""Every wire form of the IDL through a real zerorpc-python server, and the checks on both ways.

The clients come from tests/python/cases.rpc, which declares typed views of the peer's methods:
`echo` sends values back untouched, so a value that survives the round trip was encoded the way
it decodes; services named `Mismatch` declare replies the peer does not send.
"""

from __future__ import annotations

import asyncio
import dataclasses
import warnings
from typing import Any

import pytest

from cases_api.cases import (
    AsyncEchoShapesClient,
    AsyncMismatchClient,
    EchoEverythingClient,
    EchoShapesClient,
    Everything,
    LegacyClient,
    LenientClient,
    Level,
    MismatchClient,
    MoreMismatchClient,
    Point,
    Shape,
    ShapeCircle,
    ShapeEmpty,
    ShapePolygon,
    ShapeRect,
    shape_from_wire,
)
from cases_api.rpcgen_runtime import ProtocolError
from conftest import CALL_TIMEOUT, HEARTBEAT, Server
from peer_api.peer import PeerClient

EVERYTHING = Everything(
    flag=True,
    tiny=-128,
    small=-32768,
    medium=-(2**31),
    large=-(2**63),
    byte=255,
    word=65535,
    double_word=2**32 - 1,
    quad_word=2**64 - 1,
    single=1.5,
    double=-0.25,
    text="héllo ✓",
    blob=b"\x00\xff",
    anything={"nested": [1, None, b"x"]},
    maybe=None,
    level=Level.High,
    shape=ShapePolygon(points=[Point(x=1.0, y=2.0)], closed=True),
    shapes=[ShapeEmpty(), ShapeCircle(value=2.0), ShapeRect(value0=3.0, value1=4.0)],
    by_level={Level.Low: [1, 2**64 - 1], Level.High: None},
    nested={"a": {"b": [b"1", None]}},
    class_="a keyword",
    kind_name="a wire name",
    point=Point(x=0.5, y=-0.5),
)

# The wire form of EVERYTHING, written out by hand: what an rpcgen Rust server reads.
EVERYTHING_ON_THE_WIRE: dict[str, Any] = {
    "flag": True,
    "tiny": -128,
    "small": -32768,
    "medium": -(2**31),
    "large": -(2**63),
    "byte": 255,
    "word": 65535,
    "double_word": 2**32 - 1,
    "quad_word": 2**64 - 1,
    "single": 1.5,
    "double": -0.25,
    "text": "héllo ✓",
    "blob": b"\x00\xff",
    "anything": {"nested": [1, None, b"x"]},
    "maybe": None,
    "level": "high",
    "shape": {"Polygon": {"points": [{"x": 1.0, "y": 2.0}], "is_closed": True}},
    "shapes": ["Empty", {"Circle": 2.0}, {"Rect": [3.0, 4.0]}],
    "by_level": {"Low": [1, 2**64 - 1], "high": None},
    "nested": {"a": {"b": [b"1", None]}},
    "class": "a keyword",
    "kind": "a wire name",
    "point": {"x": 0.5, "y": -0.5},
}


def test_values_travel_in_the_wire_form_rust_servers_use(peer: Server) -> None:
    assert EVERYTHING.to_wire() == EVERYTHING_ON_THE_WIRE
    assert Everything.from_wire(EVERYTHING_ON_THE_WIRE) == EVERYTHING
    # An untyped zerorpc peer sees plain maps, strings and lists, and sends them back as they were.
    with PeerClient(peer.endpoint, heartbeat=HEARTBEAT, timeout=CALL_TIMEOUT) as untyped:
        assert untyped.echo(EVERYTHING.to_wire()) == EVERYTHING_ON_THE_WIRE


def as_bin(wire: Any) -> Any:
    """``wire`` with every str as bytes, map keys included: what a server that returns bytes sends."""
    if isinstance(wire, str):
        return wire.encode()
    if isinstance(wire, list):
        return [as_bin(item) for item in wire]
    if isinstance(wire, dict):
        return {as_bin(key): as_bin(item) for key, item in wire.items()}
    return wire


def test_names_and_strings_sent_as_bin_are_read_as_the_rust_runtime_reads_them(peer: Server) -> None:
    # Field names, enum variant names, map keys and strings, all as bin; `anything` stays as it was.
    wire = {**as_bin(EVERYTHING_ON_THE_WIRE), b"anything": EVERYTHING_ON_THE_WIRE["anything"]}
    with PeerClient(peer.endpoint, heartbeat=HEARTBEAT, timeout=CALL_TIMEOUT) as untyped:
        echoed = untyped.echo(wire)
    assert echoed[b"level"] == b"high"
    assert Everything.from_wire(echoed) == EVERYTHING


def test_every_field_survives_a_round_trip(peer: Server) -> None:
    with EchoEverythingClient(peer.endpoint, heartbeat=HEARTBEAT, timeout=CALL_TIMEOUT) as client:
        assert client.echo(EVERYTHING) == EVERYTHING
        variant = dataclasses.replace(EVERYTHING, maybe="present", point=None, level=Level.Low)
        assert client.echo(variant) == variant


def test_every_variant_shape_survives_a_round_trip(peer: Server) -> None:
    shapes: list[Shape] = [
        ShapeEmpty(),
        ShapeCircle(value=1),
        ShapeRect(value0=0.5, value1=-2.0),
        ShapePolygon(points=[], closed=False),
        ShapePolygon(points=[Point(x=1.0, y=1.0), Point(x=2.0, y=3.5)], closed=True),
    ]
    with EchoShapesClient(peer.endpoint, heartbeat=HEARTBEAT, timeout=CALL_TIMEOUT) as client:
        echoed = client.echo(shapes)
    assert echoed == shapes
    assert isinstance(echoed[1], ShapeCircle)
    assert type(echoed[1].value) is float  # The int 1 was sent as a float, as f64 says.

    async def main() -> list[Shape]:
        async with AsyncEchoShapesClient(peer.endpoint, heartbeat=HEARTBEAT, timeout=CALL_TIMEOUT) as client:
            return await client.echo(shapes)

    assert asyncio.run(main()) == shapes


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        (
            {"shapes": [ShapeCircle(value="big")]},  # type: ignore[arg-type]
            TypeError,
            "Everything.shapes[0].value: expected float (f64), got str 'big'",
        ),
        ({"byte": 256}, ValueError, "Everything.byte: expected an integer in 0..=255 (u8), got 256"),
        ({"tiny": True}, TypeError, "Everything.tiny: expected int (i8), got bool True"),
        ({"single": 1e39}, ValueError, "Everything.single: expected a float that fits f32, got 1e+39"),
        (
            {"by_level": {"Low": [1]}},
            TypeError,
            "Everything.by_level['Low']: key: expected Level, got str 'Low'",
        ),
        (
            {"nested": {"a": {"b": [b"x", "y"]}}},
            TypeError,
            "Everything.nested['a']['b'][1]: expected bytes, got str 'y'",
        ),
        ({"shapes": (ShapeEmpty(),)}, TypeError, "Everything.shapes: expected list, got tuple"),
        ({"point": {"x": 1.0, "y": 2.0}}, TypeError, "Everything.point: expected Point, got dict"),
        ({"shape": Level.Low}, TypeError, "Everything.shape: expected Shape, got Level"),
        ({"maybe": b"bytes"}, TypeError, "Everything.maybe: expected str, got bytes b'bytes'"),
    ],
)
def test_arguments_are_checked_with_a_path_to_the_bad_value(
    peer: Server, change: dict[str, Any], error: type[Exception], message: str
) -> None:
    value = dataclasses.replace(EVERYTHING, **change)
    client = EchoEverythingClient(peer.endpoint, heartbeat=HEARTBEAT, timeout=CALL_TIMEOUT)
    with client, pytest.raises(error) as raised:
        client.echo(value)
    assert str(raised.value).startswith("EchoEverything.echo() argument 'value': ")
    assert message in str(raised.value)
    with pytest.raises(error) as raised:
        value.to_wire()
    assert str(raised.value).startswith(message)


def test_a_value_of_the_wrong_class_is_refused() -> None:
    # No server listens here: a refused argument fails at once, before anything is sent or awaited.
    client = EchoEverythingClient("tcp://127.0.0.1:9", heartbeat=HEARTBEAT, timeout=CALL_TIMEOUT)
    with client, pytest.raises(TypeError, match=r"argument 'value': expected Everything, got dict"):
        client.echo(EVERYTHING_ON_THE_WIRE)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda client: client.hello_as_number("x"),
            "Mismatch.hello_as_number() returned a value that does not match its declared type: "
            "expected int (u64), got str 'Hello, x'",
        ),
        (
            lambda client: client.sample_as_signed(),
            "SignedSample.big: expected an integer in -9223372036854775808..=9223372036854775807 (i64), "
            "got 9223372036854775813",
        ),
        (
            lambda client: client.echo_as_points([{"x": 1.0, "y": "two"}]),
            "[0].y: expected float (f64), got str 'two'",
        ),
        (lambda client: client.echo_as_points([{"x": 1.0}]), "[0].y: missing"),
        (lambda client: client.echo_as_points({"x": 1.0}), "expected a list, got dict"),
        (lambda client: client.nothing_as_number(), "expected int (u64), got None"),
    ],
)
def test_a_reply_that_does_not_match_is_a_protocol_error_with_a_path(
    peer: Server, call: Any, message: str
) -> None:
    with MismatchClient(peer.endpoint, heartbeat=HEARTBEAT, timeout=CALL_TIMEOUT) as client:
        with pytest.raises(ProtocolError) as raised:
            call(client)
        assert message in str(raised.value)
        # The connection is still fine.
        assert client.echo_as_points([{"x": 1, "y": 2}]) == [Point(x=1.0, y=2.0)]


@pytest.mark.parametrize(
    ("wire", "message"),
    [
        ({"Hexagon": 1}, "unknown variant 'Hexagon' of Shape"),
        ({"Rect": [1.0]}, "expected a list of 2 values for Shape.Rect, got list [1.0]"),
        ({"Circle": "big"}, "Shape.Circle: expected float (f64), got str 'big'"),
        ("Circle", "the variant 'Circle' of Shape needs data, got none"),
        ({"Empty": 1}, "the variant 'Empty' of Shape has no data, got int 1"),
        ({"Polygon": {"points": [], "closed": True}}, "Shape.Polygon.is_closed: missing"),
        ({"Circle": 1.0, "Empty": None}, "expected a variant of Shape (a string or a map with one key)"),
    ],
)
def test_an_enum_with_data_that_does_not_match(peer: Server, wire: Any, message: str) -> None:
    client = MoreMismatchClient(peer.endpoint, heartbeat=HEARTBEAT, timeout=CALL_TIMEOUT)
    with client, pytest.raises(ProtocolError, match="echo_as_shape") as raised:
        client.echo_as_shape(wire)
    assert message in str(raised.value)
    with pytest.raises(ProtocolError) as direct:
        shape_from_wire(wire)
    assert message in str(direct.value)


def test_a_method_that_returns_nothing_refuses_a_value(peer: Server) -> None:
    client = MoreMismatchClient(peer.endpoint, heartbeat=HEARTBEAT, timeout=CALL_TIMEOUT)
    expected = r"expected nil \(the method returns nothing\), got str 'Hello, x'"
    with client, pytest.raises(ProtocolError, match=expected):
        client.hello_as_unit("x")


def test_a_stream_item_that_does_not_match_ends_the_stream(peer: Server) -> None:
    with MismatchClient(peer.endpoint, heartbeat=HEARTBEAT, timeout=CALL_TIMEOUT) as client:
        stream = client.count_as_text(5)
        with pytest.raises(
            ProtocolError, match=r"count_as_text\(\) streamed a value .*expected str, got int 0"
        ):
            next(stream)
        assert list(stream) == []

    async def main() -> None:
        async with AsyncMismatchClient(peer.endpoint, heartbeat=HEARTBEAT, timeout=CALL_TIMEOUT) as client:
            with pytest.raises(ProtocolError, match="expected str, got int 0"):
                async for _ in client.count_as_text(5):
                    pass
            with pytest.raises(ProtocolError, match="expected int"):
                await client.hello_as_number("async")

    asyncio.run(main())


def test_what_other_peers_send_is_accepted(peer: Server) -> None:
    with LenientClient(peer.endpoint, heartbeat=HEARTBEAT, timeout=CALL_TIMEOUT) as client:
        integers = client.echo_as_integers([3.0, 3000000000.0, 7])
        assert integers == [3, 3000000000, 7]
        assert all(type(n) is int for n in integers)
        assert client.hello_as_bytes("bytes") == b"Hello, bytes"
    with MismatchClient(peer.endpoint, heartbeat=HEARTBEAT, timeout=CALL_TIMEOUT) as client:
        # A map key the type does not declare is ignored, so servers may add fields.
        assert client.echo_as_points([{"x": 1.0, "y": 2.0, "z": 3.0}]) == [Point(x=1.0, y=2.0)]


def test_deprecated_services_and_methods_warn(peer: Server) -> None:
    with pytest.warns(DeprecationWarning, match="the service Legacy is deprecated: use the Peer service"):
        client = LegacyClient(peer.endpoint, heartbeat=HEARTBEAT, timeout=CALL_TIMEOUT)
    with client:
        with pytest.warns(
            DeprecationWarning, match=r"Legacy.greet\(\) is deprecated: use Peer.hello"
        ) as caught:
            assert client.greet("old") == "Hello, old"
        # The warning points at the caller, not at generated code.
        assert caught[0].filename == __file__
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert client.endpoint == peer.endpoint
