"""Checks and converts values between rpcgen's generated Python types and their MessagePack form.

rpcgen copies this module, unchanged, next to every generated Python client (beside
``rpcgen_runtime.py``). Generated modules describe each IDL type with a *codec* from here and each
remote method with a ``Method``; this module does the work they share:

- on the way out, it checks every value against its declared type before anything is sent: a wrong
  type raises ``TypeError``, an integer out of its type's range (or a float too large for ``f32``)
  raises ``ValueError``, both naming the method, the parameter and where in the value it is
  (``Tickets.create() argument 'ticket': Ticket.tags[2]: expected str, got int 7``);
- on the way in, it checks every reply against the declared type and converts it to the generated
  classes; a mismatch raises ``rpcgen_runtime.ProtocolError`` with the same kind of path;
- it turns a server's ``ERR`` naming an error the method declares into the generated exception,
  reading the error's fields as docs/errors.md specifies; any other error stays the runtime's
  ``RemoteError``, untouched.

The wire forms match rpcgen's Rust servers: a struct is a map keyed by field wire names, a unit enum
variant its wire name, a variant with data a one-key map ``{wire_name: payload}``, ``T?`` nil when
absent, ``bytes`` bin. Decoding accepts what other zerorpc peers send for the same values: an
integral float for an integer (zerorpc-node sends large integers as float64), an integer for a
float, bin holding UTF-8 for a string (a field's or a variant's name too) and a string for bytes.
Map keys the type does not declare are ignored, so a server may add fields.
"""

from __future__ import annotations

import base64
import binascii
import math
import warnings
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Generic, Protocol, TypeVar

import msgpack  # type: ignore[import-untyped, unused-ignore]

from . import rpcgen_runtime as _rt

T = TypeVar("T")
K = TypeVar("K")
E = TypeVar("E", bound=Enum)

_F32_MAX = 3.4028234663852886e38
"""The largest finite 32-bit float."""

_ERROR_FIELDS_LINE = "rpcgen-error-fields: "
"""The traceback line of an ``ERR`` that carries a typed error's fields (docs/errors.md)."""


# ---------------------------------------------------------------------------------------------
# Errors that say where in a value the problem is


class ValueMismatch(Exception):
    """Base of the errors raised for a value that does not match its declared type.

    ``problem`` says what is wrong, ``path`` where (``Ticket.tags[2]``), ``context`` which call it
    belongs to. Each level of a nested value adds its part of the path as the error passes through.
    """

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.context = ""
        self._root = ""
        self._segments: list[str] = []  # Innermost first.

    def within(self, segment: str, root: str = "") -> None:
        """Records that the value was at ``segment`` (``.tags``, ``[2]``) of a value named ``root``."""
        self._segments.append(segment)
        self._root = root

    @property
    def path(self) -> str:
        """Where the value is, from the outermost value (empty for the outermost value itself)."""
        return self._root + "".join(reversed(self._segments))

    def __str__(self) -> str:
        parts = [part for part in (self.context, self.path, self.problem) if part]
        return ": ".join(parts)


class EncodeTypeError(ValueMismatch, TypeError):
    """A value to send has the wrong type."""


class EncodeRangeError(ValueMismatch, ValueError):
    """A value to send has the right type but does not fit its IDL type (an integer's range)."""


class DecodeError(ValueMismatch, _rt.ProtocolError):
    """A value the server sent does not match its declared type."""


def describe(value: object) -> str:
    """A value for an error message: its type and a shortened repr (``int 7``, ``str 'x'``)."""
    if value is None:
        return "None"
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


def _mismatch(expected: str, value: object) -> str:
    return f"expected {expected}, got {describe(value)}"


# ---------------------------------------------------------------------------------------------
# Codecs: one per IDL type


class Codec(Generic[T]):
    """How values of one IDL type are checked and converted.

    ``encode(value)`` checks a Python value and returns its wire form (raising EncodeTypeError or
    EncodeRangeError); ``decode(wire)`` checks a value as MessagePack decoded it and returns the
    Python value (raising DecodeError). Generated modules build codecs with the functions below.
    """

    __slots__ = ("decode", "encode")

    def __init__(self, encode: Callable[[object], Any], decode: Callable[[object], T]) -> None:
        self.encode = encode
        self.decode = decode


def _encode_bool(value: object) -> Any:
    if isinstance(value, bool):
        return value
    raise EncodeTypeError(_mismatch("bool", value))


def _decode_bool(wire: object) -> bool:
    if isinstance(wire, bool):
        return wire
    raise DecodeError(_mismatch("bool", wire))


def _integer(name: str, bits: int, *, signed: bool) -> Codec[int]:
    """An integer type and its range; ``bool`` is not accepted as an integer."""
    low, high = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
    expected = f"int ({name})"

    def out_of_range(value: object) -> str:
        return f"expected an integer in {low}..={high} ({name}), got {value}"

    def encode(value: object) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            if low <= value <= high:
                return int(value)
            raise EncodeRangeError(out_of_range(value))
        raise EncodeTypeError(_mismatch(expected, value))

    def decode(wire: object) -> int:
        if isinstance(wire, int) and not isinstance(wire, bool):
            number = wire
        elif isinstance(wire, float) and wire.is_integer():
            number = int(wire)
        else:
            raise DecodeError(_mismatch(expected, wire))
        if not low <= number <= high:
            raise DecodeError(out_of_range(wire))
        return number

    return Codec(encode, decode)


def _floating(name: str, limit: float) -> Codec[float]:
    """A float type; an ``int`` is accepted (and sent as a float), ``bool`` is not."""
    expected = f"float ({name})"

    def check(value: object, type_error: type[ValueMismatch], range_error: type[ValueMismatch]) -> float:
        if isinstance(value, float):
            if math.isfinite(value) and abs(value) > limit:
                raise range_error(f"expected a float that fits {name}, got {value}")
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            try:
                number = float(value)
            except OverflowError:
                number = math.inf
            if math.isinf(number) or abs(number) > limit:
                raise range_error(f"expected a float that fits {name}, got {value}")
            return number
        raise type_error(_mismatch(expected, value))

    def encode(value: object) -> Any:
        return check(value, EncodeTypeError, EncodeRangeError)

    def decode(wire: object) -> float:
        return check(wire, DecodeError, DecodeError)

    return Codec(encode, decode)


def _encode_str(value: object) -> Any:
    if isinstance(value, str):
        return value
    raise EncodeTypeError(_mismatch("str", value))


def _decode_str(wire: object) -> str:
    text = _received_text(wire)
    if isinstance(text, str):
        return text
    if isinstance(wire, bytes):
        raise DecodeError(f"expected str, got bytes that are not UTF-8: {describe(wire)}")
    raise DecodeError(_mismatch("str", wire))


def _received_text(wire: object) -> object:
    """Bytes received where text is expected (a string, a name) read as UTF-8, as the Rust runtime does.

    Bytes that are not UTF-8, and anything else, are left as they are.
    """
    if isinstance(wire, bytes):
        try:
            return wire.decode("utf-8")
        except UnicodeDecodeError:
            return wire
    return wire


def _encode_bytes(value: object) -> Any:
    if isinstance(value, bytes):
        return value
    raise EncodeTypeError(_mismatch("bytes", value))


def _decode_bytes(wire: object) -> bytes:
    if isinstance(wire, bytes):
        return wire
    if isinstance(wire, str):
        return wire.encode("utf-8")
    raise DecodeError(_mismatch("bytes", wire))


def _untouched(value: object) -> Any:
    return value


def _encode_nil(value: object) -> Any:
    if value is None:
        return None
    raise EncodeTypeError(_mismatch("None", value))


def _decode_nil(wire: object) -> None:
    if wire is not None:
        raise DecodeError(_mismatch("nil (the method returns nothing)", wire))


BOOL = Codec(_encode_bool, _decode_bool)
"""``bool``."""
I8 = _integer("i8", 8, signed=True)
"""``i8``."""
I16 = _integer("i16", 16, signed=True)
"""``i16``."""
I32 = _integer("i32", 32, signed=True)
"""``i32``."""
I64 = _integer("i64", 64, signed=True)
"""``i64``."""
U8 = _integer("u8", 8, signed=False)
"""``u8``."""
U16 = _integer("u16", 16, signed=False)
"""``u16``."""
U32 = _integer("u32", 32, signed=False)
"""``u32``."""
U64 = _integer("u64", 64, signed=False)
"""``u64``."""
F32 = _floating("f32", _F32_MAX)
"""``f32`` (sent as a 64-bit float, like every float)."""
F64 = _floating("f64", math.inf)
"""``f64``."""
STR = Codec(_encode_str, _decode_str)
"""``string``."""
BYTES = Codec(_encode_bytes, _decode_bytes)
"""``bytes``."""
ANY: Codec[Any] = Codec(_untouched, _untouched)
"""``any``: any MessagePack value, passed through untouched both ways."""
NIL = Codec(_encode_nil, _decode_nil)
"""The result of a method declared without one: nil."""


def _each(items: list[Any], convert: Callable[[object], Any]) -> list[Any]:
    converted = []
    for index, item in enumerate(items):
        try:
            converted.append(convert(item))
        except ValueMismatch as error:
            error.within(f"[{index}]")
            raise
    return converted


def list_of(item: Codec[T]) -> Codec[list[T]]:
    """``list<T>``: a Python ``list`` (a tuple is refused, as the annotation says)."""

    def encode(value: object) -> Any:
        if not isinstance(value, list):
            raise EncodeTypeError(_mismatch("list", value))
        return _each(value, item.encode)

    def decode(wire: object) -> list[T]:
        if not isinstance(wire, list):
            raise DecodeError(_mismatch("a list", wire))
        return _each(wire, item.decode)

    return Codec(encode, decode)


def _entries(
    mapping: dict[Any, Any], convert_key: Callable[[object], Any], convert_value: Callable[[object], Any]
) -> dict[Any, Any]:
    converted = {}
    for key, value in mapping.items():
        try:
            converted_key = convert_key(key)
        except ValueMismatch as error:
            error.problem = f"key: {error.problem}"
            error.within(f"[{key!r}]")
            raise
        try:
            converted[converted_key] = convert_value(value)
        except ValueMismatch as error:
            error.within(f"[{key!r}]")
            raise
    return converted


def map_of(key: Codec[K], value: Codec[T]) -> Codec[dict[K, T]]:
    """``map<K, V>``: a Python ``dict``; keys are strings or unit enums."""

    def encode(mapping: object) -> Any:
        if not isinstance(mapping, dict):
            raise EncodeTypeError(_mismatch("dict", mapping))
        return _entries(mapping, key.encode, value.encode)

    def decode(wire: object) -> dict[K, T]:
        if not isinstance(wire, dict):
            raise DecodeError(_mismatch("a map", wire))
        return _entries(wire, key.decode, value.decode)

    return Codec(encode, decode)


def optional(inner: Codec[T]) -> Codec[T | None]:
    """``T?``: ``None`` (nil on the wire) or a ``T``."""

    def encode(value: object) -> Any:
        return None if value is None else inner.encode(value)

    def decode(wire: object) -> T | None:
        return None if wire is None else inner.decode(wire)

    return Codec(encode, decode)


def enum_of(enum: type[E]) -> Codec[E]:
    """A unit enum: a generated ``enum.Enum`` whose values are the variants' wire names."""

    def encode(value: object) -> Any:
        if isinstance(value, enum):
            return value.value
        raise EncodeTypeError(_mismatch(enum.__name__, value))

    def decode(wire: object) -> E:
        try:
            return enum(_received_text(wire))
        except ValueError:
            names = ", ".join(repr(member.value) for member in enum)
            raise DecodeError(f"expected one of {names} ({enum.__name__}), got {describe(wire)}") from None

    return Codec(encode, decode)


class _ToWire(Protocol):
    def to_wire(self) -> Any: ...


def named(name: str, types: type[Any] | tuple[type[Any], ...], decode: Callable[[object], T]) -> Codec[T]:
    """A struct or an enum with data, whose generated classes convert themselves.

    ``types`` is the struct's class, or the tuple of an enum's variant classes; ``decode`` is the
    generated function that reads the wire form.
    """

    def encode(value: object) -> Any:
        if isinstance(value, types):
            convertible: _ToWire = value
            return convertible.to_wire()
        raise EncodeTypeError(_mismatch(name, value))

    return Codec(encode, decode)


# ---------------------------------------------------------------------------------------------
# Reading and writing structs, variants and errors field by field


_ABSENT = object()
"""A field the wire map does not hold."""


class FieldReader:
    """The fields of a struct's (or struct variant's) wire map, read one by one with their codecs.

    ``type_name`` roots the path of errors (``Ticket.tags[2]``); ``prefix`` is the part of the path
    before the field names (``.Polygon`` for the fields of the variant ``Polygon``).
    """

    def __init__(self, wire: object, type_name: str, prefix: str = "") -> None:
        if not isinstance(wire, dict):
            raise DecodeError(_mismatch(f"a map for {type_name}{prefix}", wire))
        self._fields: dict[Any, Any] = wire
        self._type_name = type_name
        self._prefix = prefix

    def take(self, wire_name: str, codec: Codec[T]) -> T:
        """The value of the field ``wire_name``; a missing field reads as nil.

        A field whose name came as bytes (bin) counts too, as in the Rust runtime.
        """
        wire = self._fields.get(wire_name, _ABSENT)
        if wire is _ABSENT:
            wire = self._fields.get(wire_name.encode(), _ABSENT)
        try:
            return codec.decode(None if wire is _ABSENT else wire)
        except ValueMismatch as error:
            if wire is _ABSENT:
                error.problem = "missing"
            error.within(f"{self._prefix}.{wire_name}", self._type_name)
            raise


class FieldWriter:
    """Converts the fields of a generated value for its wire form, naming the field on error."""

    def __init__(self, type_name: str) -> None:
        self._type_name = type_name

    def put(self, attribute: str, codec: Codec[Any], value: object) -> Any:
        """The wire form of the field ``attribute`` holding ``value``."""
        try:
            return codec.encode(value)
        except ValueMismatch as error:
            error.within(f".{attribute}", self._type_name)
            raise


_NO_PAYLOAD = object()
"""The payload of a variant sent as a bare string."""


class VariantReader:
    """The wire form of an enum with data: a unit variant's name, or ``{name: payload}``."""

    def __init__(self, wire: object, type_name: str) -> None:
        self._type_name = type_name
        self.name: object  # The variant's wire name; the generated code compares it with the known ones.
        if isinstance(wire, (str, bytes)):
            self.name, self._payload = _received_text(wire), _NO_PAYLOAD
        elif isinstance(wire, dict) and len(wire) == 1:
            ((name, self._payload),) = wire.items()
            self.name = _received_text(name)
        else:
            expected = f"a variant of {type_name} (a string or a map with one key)"
            raise DecodeError(_mismatch(expected, wire))

    def _decode(self, segment: str, codec: Codec[T], wire: object) -> T:
        try:
            return codec.decode(wire)
        except ValueMismatch as error:
            error.within(segment, self._type_name)
            raise

    def _data(self) -> object:
        if self._payload is _NO_PAYLOAD:
            raise DecodeError(f"the variant {self.name!r} of {self._type_name} needs data, got none")
        return self._payload

    def unit(self) -> None:
        """Checks that the variant came as a bare string, as a variant without data does."""
        if self._payload is not _NO_PAYLOAD:
            data = describe(self._payload)
            raise DecodeError(f"the variant {self.name!r} of {self._type_name} has no data, got {data}")

    def value(self, codec: Codec[T]) -> T:
        """The payload of a variant with one value."""
        return self._decode(f".{self.name}", codec, self._data())

    def item(self, index: int, count: int, codec: Codec[T]) -> T:
        """Item ``index`` of the payload of a variant with ``count`` values (an array)."""
        items = self._data()
        if not isinstance(items, list) or len(items) != count:
            expected = f"a list of {count} values for {self._type_name}.{self.name}"
            raise DecodeError(_mismatch(expected, items))
        return self._decode(f".{self.name}[{index}]", codec, items[index])

    def fields(self) -> FieldReader:
        """The fields of a variant with named fields."""
        try:
            return FieldReader(self._data(), self._type_name, f".{self.name}")
        except ValueMismatch as error:
            error.within(f".{self.name}", self._type_name)
            raise

    def unknown(self) -> DecodeError:
        """The error for a variant name the type does not declare."""
        return DecodeError(f"unknown variant {self.name!r} of {self._type_name}")


def error_fields(error: _rt.RemoteError, type_name: str) -> FieldReader:
    """The fields a typed error carries in its traceback (docs/errors.md); DecodeError if none."""
    lines = (error.traceback or "").splitlines()
    encoded = next((line for line in reversed(lines) if line.startswith(_ERROR_FIELDS_LINE)), None)
    if encoded is None:
        raise DecodeError(f"the error {error.name!r} carries no fields")
    try:
        packed = base64.b64decode(encoded[len(_ERROR_FIELDS_LINE) :].strip(), validate=True)
        fields = msgpack.unpackb(packed, raw=False, strict_map_key=False)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise DecodeError(f"the fields of the error {error.name!r} do not decode: {exc}") from None
    return FieldReader(fields, type_name)


def warn_deprecated(message: str) -> None:
    """Emits a DeprecationWarning that points at the code calling the generated method."""
    warnings.warn(message, DeprecationWarning, stacklevel=3)


# ---------------------------------------------------------------------------------------------
# Methods


ErrorDecoder = Callable[[_rt.RemoteError], _rt.RemoteError]
"""Rebuilds a declared error from the runtime's RemoteError; raises DecodeError if it cannot."""


@dataclass(frozen=True)
class Method(Generic[T]):
    """One remote method as a generated client calls it.

    ``label`` names it in messages (``Tickets.get``); ``wire_name`` is the zerorpc event name;
    ``params`` are the parameters' names and codecs in declaration order; ``result`` decodes the
    reply (or each item of a stream); ``errors`` maps the name of each declared error to its
    decoder; ``default_timeout`` is the method's ``@timeout`` in seconds, for calls that give none.
    """

    label: str
    wire_name: str
    params: Sequence[tuple[str, Codec[Any]]]
    result: Codec[T]
    errors: Mapping[str, ErrorDecoder] = field(default_factory=dict)
    default_timeout: float | None = None

    def arguments(self, values: Sequence[object]) -> list[Any]:
        """The wire form of the call's arguments, each checked against its parameter's type."""
        encoded = []
        for (name, codec), value in zip(self.params, values):
            try:
                encoded.append(codec.encode(value))
            except ValueMismatch as error:
                error.context = f"{self.label}() argument {name!r}"
                raise
        return encoded

    def timeout(self, timeout: float | None) -> float | None:
        """The timeout for one call: the caller's, else the method's ``@timeout``, else None."""
        return self.default_timeout if timeout is None else timeout

    def decode_result(self, wire: object, what: str = "returned") -> T:
        """The reply (or a stream item) decoded; DecodeError saying which call it was."""
        try:
            return self.result.decode(wire)
        except ValueMismatch as error:
            error.context = f"{self.label}() {what} a value that does not match its declared type"
            raise

    def typed_error(self, error: _rt.RemoteError) -> _rt.RemoteError:
        """The declared error ``error`` carries, or ``error`` itself (docs/errors.md)."""
        decoder = self.errors.get(error.name)
        if decoder is None:
            return error
        try:
            return decoder(error)
        except DecodeError:
            return error

    def call(self, client: _rt.Client, values: Sequence[object], timeout: float | None) -> T:
        """Calls the method with a blocking client and returns the decoded result."""
        arguments = self.arguments(values)
        try:
            reply = client.call(
                self.wire_name, *arguments, timeout=self.timeout(timeout), errors=tuple(self.errors)
            )
        except _rt.RemoteError as error:
            raise self.typed_error(error) from None
        return self.decode_result(reply)

    async def call_async(self, client: _rt.AsyncClient, values: Sequence[object], timeout: float | None) -> T:
        """Calls the method with an asyncio client and returns the decoded result."""
        arguments = self.arguments(values)
        try:
            reply = await client.call(
                self.wire_name, *arguments, timeout=self.timeout(timeout), errors=tuple(self.errors)
            )
        except _rt.RemoteError as error:
            raise self.typed_error(error) from None
        return self.decode_result(reply)

    def stream(self, client: _rt.Client, values: Sequence[object], timeout: float | None) -> ItemStream[T]:
        """Calls a streaming method with a blocking client; the call is sent at once."""
        stream = client.stream(
            self.wire_name, *self.arguments(values), timeout=self.timeout(timeout), errors=tuple(self.errors)
        )
        return ItemStream(self, stream)

    def stream_async(
        self, client: _rt.AsyncClient, values: Sequence[object], timeout: float | None
    ) -> AsyncItemStream[T]:
        """Calls a streaming method with an asyncio client; the call is sent at once."""
        stream = client.stream(
            self.wire_name, *self.arguments(values), timeout=self.timeout(timeout), errors=tuple(self.errors)
        )
        return AsyncItemStream(self, stream)


class ItemStream(Iterator[T]):
    """The typed items of one streaming call (an iterator); ``close()`` or ``with`` stops it early.

    An item that does not match the declared type raises ProtocolError and ends the stream; a
    declared error sent by the server is raised as its generated exception.
    """

    def __init__(self, method: Method[T], stream: _rt.Stream) -> None:
        self._method = method
        self._stream = stream

    def __next__(self) -> T:
        try:
            wire = next(self._stream)
        except _rt.RemoteError as error:
            raise self._method.typed_error(error) from None
        try:
            return self._method.decode_result(wire, "streamed")
        except DecodeError:
            self.close()
            raise

    def close(self) -> None:
        """Stops reading: the stream ends and the server's later items are dropped."""
        self._stream.close()

    def __enter__(self) -> ItemStream[T]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncItemStream(AsyncIterator[T]):
    """The typed items of one streaming call (an async iterator); ``aclose()`` stops it early.

    It behaves like ItemStream, for ``async for`` and ``async with``.
    """

    def __init__(self, method: Method[T], stream: _rt.AsyncStream) -> None:
        self._method = method
        self._stream = stream

    async def __anext__(self) -> T:
        try:
            wire = await self._stream.__anext__()
        except _rt.RemoteError as error:
            raise self._method.typed_error(error) from None
        try:
            return self._method.decode_result(wire, "streamed")
        except DecodeError:
            await self.aclose()
            raise

    async def aclose(self) -> None:
        """Stops reading: the stream ends and the server's later items are dropped."""
        await self._stream.aclose()

    async def __aenter__(self) -> AsyncItemStream[T]:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
