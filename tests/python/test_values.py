"""rpcgen_values without a network: typed errors as docs/errors.md encodes them, and codec limits."""

from __future__ import annotations

import base64
import math
import re

import msgpack  # type: ignore[import-untyped, unused-ignore]
import pytest

from shop_api import rpcgen_values
from shop_api.rpcgen_runtime import ProtocolError, RemoteError
from shop_api.shop import NotFound, Rejected

# The example of docs/errors.md: NotFound { id: 42 }.
NOT_FOUND_42 = RemoteError("NotFound", "id=42", "NotFound: id=42\nrpcgen-error-fields: gaJpZCo=\n")


def fields_line(fields: dict[str, object]) -> str:
    return "rpcgen-error-fields: " + base64.b64encode(msgpack.packb(fields)).decode()


def test_a_typed_error_is_read_from_its_fields_line() -> None:
    error = NotFound.from_remote(NOT_FOUND_42)
    assert error.id == 42
    assert (error.name, error.message, error.traceback) == (
        "NotFound",
        "id=42",
        NOT_FOUND_42.traceback,
    )
    big = RemoteError(
        "NotFound", "m", f"older line\n{fields_line({'id': 1})}\n{fields_line({'id': 2**64 - 1})}\n"
    )
    assert NotFound.from_remote(big).id == 2**64 - 1  # The last fields line counts.


@pytest.mark.parametrize(
    ("traceback", "problem"),
    [
        (None, "carries no fields"),
        ("Traceback (most recent call last):\nNotFound: 42\n", "carries no fields"),
        ("rpcgen-error-fields: not base64!\n", "do not decode"),
        (fields_line({"id": "forty-two"}), "NotFound.id: expected int (u64), got str 'forty-two'"),
        (fields_line({}), "NotFound.id: missing"),
    ],
)
def test_an_error_without_readable_fields_is_not_typed(traceback: str | None, problem: str) -> None:
    remote = RemoteError("NotFound", "no ticket", traceback)
    with pytest.raises(ProtocolError, match=re.escape(problem)):
        NotFound.from_remote(remote)


def test_a_method_keeps_the_remote_error_when_it_cannot_type_it() -> None:
    method = rpcgen_values.Method(
        "Tickets.get",
        "get",
        [("id", rpcgen_values.U64)],
        rpcgen_values.ANY,
        errors={"NotFound": NotFound.from_remote},
    )
    assert isinstance(method.typed_error(NOT_FOUND_42), NotFound)
    untyped = RemoteError(
        "NotFound", "from a Python server", "Traceback ...\nNotFound: from a Python server\n"
    )
    assert method.typed_error(untyped) is untyped
    undeclared = RemoteError("Rejected", "x", "x\n" + fields_line({"message": "x", "field": "y"}))
    assert method.typed_error(undeclared) is undeclared
    assert isinstance(Rejected.from_remote(undeclared), Rejected)


def test_integer_and_float_limits() -> None:
    assert rpcgen_values.I8.encode(-128) == -128
    with pytest.raises(ValueError, match=r"-128..=127 \(i8\), got 128"):
        rpcgen_values.I8.encode(128)
    with pytest.raises(ProtocolError, match=r"0..=255 \(u8\), got -1"):
        rpcgen_values.U8.decode(-1)
    with pytest.raises(ProtocolError, match="expected int"):
        rpcgen_values.U64.decode(1.5)
    assert rpcgen_values.U64.decode(float(2**53)) == 2**53
    assert rpcgen_values.F32.encode(3.0e38) == 3.0e38
    assert math.isinf(rpcgen_values.F32.encode(math.inf))
    with pytest.raises(ValueError, match="fits f32"):
        rpcgen_values.F32.encode(2**200)
    with pytest.raises(ValueError, match="fits f64"):
        rpcgen_values.F64.encode(2**1100)
    with pytest.raises(TypeError, match="expected float"):
        rpcgen_values.F64.encode(False)


def test_strings_and_bytes() -> None:
    assert rpcgen_values.STR.decode(b"caf\xc3\xa9") == "café"
    with pytest.raises(ProtocolError, match="not UTF-8"):
        rpcgen_values.STR.decode(b"\xff")
    assert rpcgen_values.BYTES.decode("é") == b"\xc3\xa9"
    with pytest.raises(TypeError, match="expected bytes, got memoryview"):
        rpcgen_values.BYTES.encode(memoryview(b"x"))
    assert rpcgen_values.ANY.encode(object) is object
