/**
 * rpcgen's TypeScript client runtime: calls zerorpc v3 services (ZeroMQ + MessagePack).
 *
 * Generated TypeScript clients import this module. It is one self-contained file that needs only
 * the `zeromq` v6 and `@msgpack/msgpack` packages and Node built-ins, so the code generator copies
 * it verbatim next to each generated client. It implements the client half of zerorpc:
 *
 * - one DEALER socket per {@link Client}; every call or stream is a channel on it, keyed by the id
 *   of its request, so any number of calls run concurrently on one connection;
 * - per-channel heartbeats (`_zpc_hb`) and lost-remote detection with zerorpc-python's timing;
 * - a time limit for the first reply of each call (default and per call), and an `AbortSignal` per
 *   call to abandon it;
 * - streams as async iterables, granting `_zpc_more` credit exactly as zerorpc-python does;
 * - a limit on the size of requests and replies ({@link ClientOptions.maxMessageSize}, 100 MiB);
 * - remote errors (`ERR`) as {@link RemoteError}; every error raised here extends {@link RpcError}.
 *
 * Values map to MessagePack as: `bin` ⇄ `Uint8Array`, nil ⇄ `null`, and integers encoded in 64 bits
 * (int64/uint64) arrive as `bigint`, so no integer ever loses precision. The runtime writes
 * MessagePack itself ({@link Writer}; `@msgpack/msgpack` decodes): outgoing integers, number or
 * bigint, in their smallest form, like zerorpc-python writes them; the `f32`/`f64` arguments of
 * generated clients as float64, whole ones too ({@link Float64}). What has no MessagePack form, a
 * string with a lone surrogate among them, is refused before anything is sent, with an error that
 * says where it is. docs/runtime-ts.md explains the choices.
 */

import { randomBytes, randomInt } from "node:crypto";
import { inspect } from "node:util";
import { Decoder, ExtData } from "@msgpack/msgpack";
import { Dealer, type Observer } from "zeromq";

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/** Base class of every error a call can end with: catch it to handle them all. */
export class RpcError extends Error {
  /** Makes an error whose `name` is the name of its class. */
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The server raised an error (a zerorpc `ERR` reply). */
export class RemoteError extends RpcError {
  /** The remote error's type, e.g. `ValueError` from Python or `Error` from Node. */
  readonly remoteName: string;
  /** The remote error's message (empty when the server sent none). */
  readonly remoteMessage: string;
  /** The remote traceback or stack trace, when the server sent one. */
  readonly remoteTraceback: string | null;

  /** Makes the error from the three parts of an `ERR` reply. */
  constructor(remoteName: string, remoteMessage: string, remoteTraceback: string | null) {
    super(remoteMessage === "" ? remoteName : `${remoteName}: ${remoteMessage}`);
    this.remoteName = remoteName;
    this.remoteMessage = remoteMessage;
    this.remoteTraceback = remoteTraceback;
  }
}

/**
 * No reply arrived within the call's time limit. When the client had never connected to any of its
 * servers by then, {@link TimeoutExpiredError.neverConnected} lists them and the message says so:
 * the call most likely waited for a server that is not running.
 */
export class TimeoutExpiredError extends RpcError {
  /**
   * The client's endpoints when it had never connected to any of them (completed ZeroMQ's
   * handshake) by the time the call timed out; `undefined` when it had, if only before the call.
   */
  readonly neverConnected: readonly string[] | undefined;

  /**
   * Makes the error; non-empty `neverConnected` endpoints add to `message` that the client never
   * connected to them, in the Rust runtime's words.
   */
  constructor(message: string, neverConnected?: readonly string[]) {
    const endpoints = neverConnected ?? [];
    super(endpoints.length === 0 ? message : `${message}: ${neverConnectedReason(endpoints)}`);
    this.neverConnected = neverConnected;
  }
}

/** Why a call to `endpoints`, none of which the client ever connected to, had no reply. */
function neverConnectedReason(endpoints: readonly string[]): string {
  const listed = endpoints.map((endpoint) => `\`${endpoint}\``).join(", ");
  return endpoints.length === 1
    ? `never connected to ${listed} (is a zerorpc server running and listening there?)`
    : `never connected to any of ${listed} (are zerorpc servers running and listening there?)`;
}

/** The server stopped sending heartbeats: it died, is blocked, or the network is down. */
export class LostRemoteError extends RpcError {}

/** The server sent something this runtime cannot interpret. */
export class ProtocolError extends RpcError {}

/** The call was made on a closed client, or was still pending when the client was closed. */
export class ClientClosedError extends RpcError {}

/**
 * A request or reply was larger than the client's {@link ClientOptions.maxMessageSize}: a request
 * is refused before anything is sent, a reply (or stream item) fails its call without being decoded.
 */
export class TooLargeError extends RpcError {
  /** Whether it was the call's `"request"` or a `"reply"` (also a stream item) that was too large. */
  readonly what: "request" | "reply";
  /** The size of the encoded event, in bytes. */
  readonly size: number;
  /** The client's limit, in bytes. */
  readonly limit: number;

  /**
   * Makes the error for an event of `size` bytes above `limit`; `call` names the call, e.g.
   * `"echo" on tcp://127.0.0.1:4242`.
   */
  constructor(what: "request" | "reply", size: number, limit: number, call: string) {
    const of = what === "request" ? "for" : "to";
    super(`the ${what} ${of} ${call} is ${size} bytes, above the limit of ${limit} bytes (maxMessageSize)`);
    this.what = what;
    this.size = size;
    this.limit = limit;
  }
}

// ---------------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------------

const MIN_INT64 = -(2n ** 63n);
const MAX_UINT64 = 2n ** 64n - 1n;
/** Integers in this range have a MessagePack form shorter than 64 bits; they travel as numbers. */
const MIN_INT32 = -(2 ** 31);
const MAX_UINT32 = 2 ** 32 - 1;
/**
 * How many levels of arrays and maps one argument (or header entry) may nest: a Rust rpcgen server
 * reads 128 levels (`value::MAX_DEPTH`), and the arguments' array is the first of them. The Python
 * and Rust clients send 127 levels too.
 */
const MAX_VALUE_DEPTH = 127;

/**
 * Whether the converters are checking the arguments of a call (true) or reading a reply (false).
 * Generated code runs the same converters both ways; reading is lenient where the Rust runtime is
 * (a `bin` for a string, a `str` for bytes, a `number` beyond 2^53 for a 64-bit integer, as
 * zerorpc-node sends one), checking arguments is strict. Converters are synchronous, so
 * {@link whileSending} sets it around one call's arguments and nothing else ever sees it set.
 */
let sending = false;

/** Runs `convert` with the converters checking arguments (see {@link sending}). */
function whileSending<T>(convert: () => T): T {
  const outer = sending;
  sending = true;
  try {
    return convert();
  } finally {
    sending = outer;
  }
}

/**
 * A number that travels as MessagePack float64 even when it is whole: the encoder writes any
 * safe-integer `number` (`3`, `-0` too) as an integer. When a generated client sends an argument,
 * the `f32` and `f64` converters wrap each whole value in one, so that a peer gets the float its
 * schema says (and `-0` keeps its sign); {@link RequestRecord.args} shows them. Wrap a number in an
 * `any` value to send it as a float too.
 */
export class Float64 {
  /** Wraps `value`, to be sent as float64. */
  constructor(readonly value: number) {}

  /** Shows the number itself in `util.inspect`, and so in {@link logRequests} lines. */
  [inspect.custom](): string {
    return inspect(this.value);
  }
}

/**
 * A float converted for the wire: when sending, a whole number becomes a {@link Float64} (other
 * numbers are written as float64 anyway). The converted arguments go only to the encoder (and, as
 * sent, to {@link ClientOptions.afterRequest}), so the marker stands in for the `number` it wraps.
 */
function floatForWire(number: number): number {
  return sending && Number.isSafeInteger(number) ? (new Float64(number) as unknown as number) : number;
}

/**
 * Returns an integer received from the wire (a `number` or a `bigint`) as a `bigint`.
 * Generated code calls it for `i64` and `u64` values; `what` names the value in the error.
 * An argument of a generated method given as a `number` must be a safe integer (at most 2^53 − 1
 * in magnitude): a larger one has already been rounded, so it is a RangeError asking for a bigint.
 */
export function toBigInt(value: unknown, what: string): bigint {
  if (typeof value === "bigint") {
    return value;
  }
  if (typeof value === "number" && Number.isInteger(value)) {
    if (sending && !Number.isSafeInteger(value)) {
      throw new RangeError(
        `${what}: the number ${BigInt(value)} is outside ±Number.MAX_SAFE_INTEGER, so it may already be rounded: pass a bigint instead (e.g. 2n ** 63n, not 2 ** 63)`,
      );
    }
    return BigInt(value);
  }
  throw new TypeError(`${what}: expected an integer, got ${describe(value)}`);
}

/**
 * Returns a number received from the wire (a `number`, or a `bigint` a number holds exactly) as a
 * `number`. Generated code calls it for integers up to 32 bits and floats; `what` names the value.
 */
export function toNumber(value: unknown, what: string): number {
  if (typeof value === "number") {
    return value;
  }
  if (typeof value === "bigint") {
    if (value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)) {
      return Number(value);
    }
    throw new RangeError(`${what}: ${value} does not fit in a JavaScript number without rounding`);
  }
  throw new TypeError(`${what}: expected a number, got ${describe(value)}`);
}

/** Turns a decoded MessagePack map key into an object key; `bin` keys are read as UTF-8 text. */
function mapKeyToProperty(key: unknown): string | number {
  if (typeof key === "string" || typeof key === "number") {
    return key;
  }
  if (typeof key === "bigint") {
    return key.toString();
  }
  if (key instanceof Uint8Array) {
    return utf8.decode(key);
  }
  throw new ProtocolError(`a map key cannot be ${describe(key)}`);
}

/** A short, safe description of a value for error messages. */
function describe(value: unknown): string {
  const rendered = inspect(value, { depth: 1, breakLength: Infinity });
  return rendered.length > 80 ? `${rendered.slice(0, 77)}...` : rendered;
}

/** The message of anything thrown. */
function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// ---------------------------------------------------------------------------------------------
// MessagePack encoding
// ---------------------------------------------------------------------------------------------

/** `String.prototype.isWellFormed` (Node 20+), which the ES2022 library does not declare. */
const { isWellFormed } = String.prototype as unknown as { isWellFormed(this: string): boolean };
/** A UTF-16 surrogate that is not half of a pair, which a string with no UTF-8 form holds. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why `text`, which holds a lone surrogate, cannot be sent: it has no UTF-8 form. */
function notUnicodeReason(text: string): string {
  const index = text.search(LONE_SURROGATE);
  return `cannot send a string that is not valid Unicode (a lone surrogate at index ${index}): ${describe(text)}`;
}

/**
 * A value the encoder refuses: the error it becomes, and where the value is. The path holds the
 * keys and indexes from the argument or header entry down to the value, filled in as the refusal
 * leaves each container around it.
 */
class Unsendable {
  readonly path: (string | number)[] = [];

  /** Refuses a value for `reason`, with an error of type `kind`. */
  constructor(
    readonly kind: TypeErrorConstructor | RangeErrorConstructor,
    readonly reason: string,
  ) {}
}

/** Adds `key`, the index or key of the container item being written, to the path of a refusal. */
function within(error: unknown, key: string | number): unknown {
  if (error instanceof Unsendable) {
    error.path.unshift(key);
  }
  return error;
}

/** How many keys of a refused value's path its error shows before `…`. */
const SHOWN_PATH_KEYS = 12;

/**
 * Where in an event a refused value is, for its error: the arguments' and header's items start
 * the path with their index and key, e.g. `args[1].tags[0]` or `header.trace_id`.
 */
function describePath(path: readonly (string | number)[]): string {
  if (path.length === 0) {
    return "the event name";
  }
  const steps = path.slice(0, SHOWN_PATH_KEYS).map((key) => {
    if (typeof key === "number") {
      return `[${key}]`;
    }
    return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
  });
  const root = typeof path[0] === "number" ? "args" : "header";
  return `${root}${steps.join("")}${path.length > SHOWN_PATH_KEYS ? "…" : ""}`;
}

/**
 * The tags of a MessagePack type whose head gives a length (of a `str`, a `bin`, an array, a map or
 * an extension's data): a fix form, whose tag holds lengths below `fixLimit` (0 when there is none),
 * then forms with 8-bit (when there is one), 16-bit and 32-bit lengths.
 */
interface LengthTags {
  readonly fix: number;
  readonly fixLimit: number;
  readonly tag8: number | undefined;
  readonly tag16: number;
  readonly tag32: number;
}

/** The {@link LengthTags} of MessagePack's `str`, `bin`, array, map and extension types. */
const STR: LengthTags = { fix: 0xa0, fixLimit: 32, tag8: 0xd9, tag16: 0xda, tag32: 0xdb };
const BIN: LengthTags = { fix: 0, fixLimit: 0, tag8: 0xc4, tag16: 0xc5, tag32: 0xc6 };
const ARRAY: LengthTags = { fix: 0x90, fixLimit: 16, tag8: undefined, tag16: 0xdc, tag32: 0xdd };
const MAP: LengthTags = { fix: 0x80, fixLimit: 16, tag8: undefined, tag16: 0xde, tag32: 0xdf };
const EXT: LengthTags = { fix: 0, fixLimit: 0, tag8: 0xc7, tag16: 0xc8, tag32: 0xc9 };
/** The tags of the extensions whose data has one of these lengths (fixext 1 to 16). */
const FIXEXT_TAGS: ReadonlyMap<number, number> = new Map([
  [1, 0xd4],
  [2, 0xd5],
  [4, 0xd6],
  [8, 0xd7],
  [16, 0xd8],
]);
/** MessagePack's extension type of timestamps, which carry a `Date`. */
const TIMESTAMP_TYPE = -1;
/** Strings up to this long are first tried as ASCII, copied by a loop; longer ones go through `TextEncoder`. */
const ASCII_LOOP_MAX_LENGTH = 64;
/** The size a {@link Writer}'s buffer starts with, and returns to after an event larger than {@link KEPT_BUFFER_BYTES}. */
const INITIAL_BUFFER_BYTES = 2048;
/** The largest buffer a {@link Writer} keeps between events. */
const KEPT_BUFFER_BYTES = 1024 * 1024;

/**
 * Writes values as MessagePack, as zerorpc-python writes them: integers (`number` or `bigint`) in
 * their smallest form (int64/uint64 beyond 32 bits), other numbers and {@link Float64}s as float64,
 * strings as `str`, byte arrays as `bin`, `null` and `undefined` as nil, arrays, `Map`s with string
 * keys and other objects (their own enumerable string keys) as arrays and maps, a `Date` as a
 * timestamp and an `ExtData` as its extension. What MessagePack, or a Rust rpcgen server, cannot
 * carry is refused with an {@link Unsendable}: a string with a lone surrogate, an integer beyond 64
 * bits, a `Map` key that is not a string, a function, a symbol, an invalid `Date`, and a value
 * nested deeper than {@link MAX_VALUE_DEPTH} levels (a cyclic one among them).
 */
class Writer {
  private bytes = new Uint8Array(INITIAL_BUFFER_BYTES);
  private view = new DataView(this.bytes.buffer);
  private length = 0;

  /**
   * A copy of what was written since {@link reset}: a `Buffer` from Node's pool of small buffers,
   * several times faster to make for a small event than an array of its own.
   */
  written(): Uint8Array {
    const copy = Buffer.allocUnsafe(this.length);
    copy.set(this.bytes.subarray(0, this.length));
    return copy;
  }

  /** Starts over, letting go of a buffer that a large event made grow beyond {@link KEPT_BUFFER_BYTES}. */
  reset(): void {
    this.length = 0;
    if (this.bytes.byteLength > KEPT_BUFFER_BYTES) {
      this.bytes = new Uint8Array(INITIAL_BUFFER_BYTES);
      this.view = new DataView(this.bytes.buffer);
    }
  }

  /** Writes `value`; `depth` counts the arrays and maps around it within its argument or header entry. */
  value(value: unknown, depth: number): void {
    switch (typeof value) {
      case "string":
        return this.text(value);
      case "number":
        return this.number(value);
      case "bigint":
        return this.bigint(value);
      case "boolean":
        return this.tagged(value ? 0xc3 : 0xc2, 0);
      case "undefined":
        return this.tagged(0xc0, 0);
      case "object":
        return value === null ? this.tagged(0xc0, 0) : this.object(value, depth);
      default:
        throw new Unsendable(TypeError, `cannot send a ${typeof value}: ${describe(value)}`);
    }
  }

  /**
   * Writes an item of an array (`key` is its index) or an entry of a map (`key`, a string, is
   * written first); a refusal inside names `key` in its path.
   */
  item(key: string | number, value: unknown, depth: number): void {
    try {
      if (typeof key === "string") {
        this.text(key);
      }
      this.value(value, depth);
    } catch (error) {
      throw within(error, key);
    }
  }

  /** Writes the head of a value of the type `tags` gives, whose length (bytes, items or entries) is `count`. */
  head(count: number, tags: LengthTags): void {
    if (count < tags.fixLimit) {
      this.tagged(tags.fix | count, 0);
    } else if (count < 0x100 && tags.tag8 !== undefined) {
      this.tagged(tags.tag8, 1, count);
    } else if (count < 0x10000) {
      this.tagged(tags.tag16, 2, count);
    } else if (count <= MAX_UINT32) {
      this.tagged(tags.tag32, 4, count);
    } else {
      throw new Unsendable(RangeError, `a length of ${count} is beyond MessagePack's limit of ${MAX_UINT32}`);
    }
  }

  /**
   * Writes `text` as UTF-8, in a `str` (or with other `tags`: {@link BIN} for the ASCII ids of the
   * header); a lone surrogate, which has no UTF-8 form, is refused.
   */
  text(text: string, tags = STR): void {
    if (text.length <= ASCII_LOOP_MAX_LENGTH && this.ascii(text, tags)) {
      return;
    }
    if (!isWellFormed.call(text)) {
      throw new Unsendable(TypeError, notUnicodeReason(text));
    }
    const size = Buffer.byteLength(text, "utf8");
    this.head(size, tags);
    const at = this.advance(size);
    utf8Encoder.encodeInto(text, this.bytes.subarray(at, at + size));
  }

  /** Writes `text` in one pass if it is all ASCII (one byte per character); false, with nothing written, if not. */
  private ascii(text: string, tags: LengthTags): boolean {
    const start = this.length;
    const { length } = text;
    this.head(length, tags);
    const at = this.advance(length);
    const { bytes } = this;
    for (let index = 0; index < length; index += 1) {
      const code = text.charCodeAt(index);
      if (code >= 0x80) {
        this.length = start;
        return false;
      }
      bytes[at + index] = code;
    }
    return true;
  }

  /** Writes a safe integer in its smallest integer form, any other number as float64. */
  private number(value: number): void {
    if (!Number.isSafeInteger(value)) {
      this.float64(value);
    } else if (value >= MIN_INT32 && value <= MAX_UINT32) {
      this.int32(value);
    } else {
      this.int64(BigInt(value));
    }
  }

  /** Writes a bigint in its smallest integer form; one beyond 64 bits is refused. */
  private bigint(value: bigint): void {
    if (value >= MIN_INT32 && value <= MAX_UINT32) {
      this.int32(Number(value));
    } else if (value >= MIN_INT64 && value <= MAX_UINT64) {
      this.int64(value);
    } else {
      throw new Unsendable(RangeError, `the integer ${value} does not fit in 64 bits, so MessagePack cannot carry it`);
    }
  }

  /** Writes an integer in [−2^31, 2^32 − 1] in its smallest form, as zerorpc-python does. */
  private int32(value: number): void {
    if (value >= -0x20 && value < 0x80) {
      this.tagged(value & 0xff, 0); // a positive or negative fixint: the value is its own tag
    } else if (value >= 0) {
      if (value < 0x100) {
        this.tagged(0xcc, 1, value);
      } else if (value < 0x10000) {
        this.tagged(0xcd, 2, value);
      } else {
        this.tagged(0xce, 4, value);
      }
    } else if (value >= -0x80) {
      this.tagged(0xd0, 1, value);
    } else if (value >= -0x8000) {
      this.tagged(0xd1, 2, value);
    } else {
      this.tagged(0xd2, 4, value);
    }
  }

  /** Writes an integer beyond 32 bits (and within 64) as uint64 when positive, else as int64. */
  private int64(value: bigint): void {
    const at = this.advance(9);
    this.view.setUint8(at, value >= 0n ? 0xcf : 0xd3);
    this.view.setBigUint64(at + 1, value); // two's complement when negative
  }

  /** Writes a number as float64. */
  private float64(value: number): void {
    const at = this.advance(9);
    this.view.setUint8(at, 0xcb);
    this.view.setFloat64(at + 1, value);
  }

  /** Writes an object: bytes, a {@link Float64}, a `Date`, an `ExtData`, or an array or a map. */
  private object(value: object, depth: number): void {
    if (ArrayBuffer.isView(value)) {
      const bytes = value instanceof Uint8Array ? value : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
      this.head(bytes.byteLength, BIN);
      this.raw(bytes);
    } else if (value instanceof Float64) {
      this.float64(value.value);
    } else if (value instanceof Date) {
      this.timestamp(value);
    } else if (value instanceof ExtData) {
      this.extension(value);
    } else if (depth >= MAX_VALUE_DEPTH) {
      throw new Unsendable(
        RangeError,
        `a value is nested deeper than ${MAX_VALUE_DEPTH} levels of arrays and maps, the most a Rust rpcgen server reads (is it cyclic?)`,
      );
    } else if (Array.isArray(value)) {
      this.head(value.length, ARRAY);
      for (let index = 0; index < value.length; index += 1) {
        this.item(index, value[index], depth + 1);
      }
    } else if (value instanceof Map) {
      this.map(value, depth + 1);
    } else {
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record);
      this.head(keys.length, MAP);
      for (const key of keys) {
        this.item(key, record[key], depth + 1);
      }
    }
  }

  /** Writes a `Map` as a map, in its order; a key that is not a string is refused. */
  private map(map: ReadonlyMap<unknown, unknown>, depth: number): void {
    this.head(map.size, MAP);
    for (const [key, value] of map) {
      if (typeof key !== "string") {
        throw new Unsendable(TypeError, `a Map key must be a string to be sent, got ${describe(key)}`);
      }
      this.item(key, value, depth);
    }
  }

  /** Writes an `ExtData` (whose data must be bytes, not a function). */
  private extension({ type, data }: ExtData): void {
    if (typeof data === "function") {
      throw new Unsendable(TypeError, "cannot send an ExtData whose data is a function: give its bytes");
    }
    this.extensionHead(type, data.byteLength);
    this.raw(data);
  }

  /**
   * Writes a `Date` as a timestamp, in the shortest of MessagePack's three forms that holds it:
   * 32-bit seconds, 30-bit nanoseconds and 34-bit seconds, or 32-bit nanoseconds and signed 64-bit
   * seconds. An invalid `Date` is refused.
   */
  private timestamp(date: Date): void {
    const milliseconds = date.getTime();
    if (Number.isNaN(milliseconds)) {
      throw new Unsendable(TypeError, "cannot send an invalid Date");
    }
    const seconds = Math.floor(milliseconds / 1000);
    const nanoseconds = (milliseconds - seconds * 1000) * 1_000_000;
    if (seconds >= 0 && seconds < 2 ** 34) {
      if (nanoseconds === 0 && seconds <= MAX_UINT32) {
        this.extensionHead(TIMESTAMP_TYPE, 4);
        const at = this.advance(4);
        this.view.setUint32(at, seconds);
      } else {
        this.extensionHead(TIMESTAMP_TYPE, 8);
        const at = this.advance(8);
        this.view.setUint32(at, nanoseconds * 4 + Math.floor(seconds / 2 ** 32));
        this.view.setUint32(at + 4, seconds % 2 ** 32);
      }
    } else {
      this.extensionHead(TIMESTAMP_TYPE, 12);
      const at = this.advance(12);
      this.view.setUint32(at, nanoseconds);
      this.view.setBigInt64(at + 4, BigInt(seconds));
    }
  }

  /** Writes the head of an extension of `type` whose data is `size` bytes long. */
  private extensionHead(type: number, size: number): void {
    const fixext = FIXEXT_TAGS.get(size);
    if (fixext === undefined) {
      this.head(size, EXT);
      this.tagged(type & 0xff, 0);
    } else {
      this.tagged(fixext, 1, type);
    }
  }

  /** Writes the one-byte `tag`, then `value` in the `size` bytes after it (big-endian; two's complement when negative). */
  private tagged(tag: number, size: 0 | 1 | 2 | 4, value = 0): void {
    const at = this.advance(1 + size);
    const { view } = this;
    view.setUint8(at, tag);
    if (size === 1) {
      view.setUint8(at + 1, value);
    } else if (size === 2) {
      view.setUint16(at + 1, value);
    } else if (size === 4) {
      view.setUint32(at + 1, value);
    }
  }

  /** Writes `bytes` as they are. */
  private raw(bytes: Uint8Array): void {
    const at = this.advance(bytes.byteLength);
    this.bytes.set(bytes, at);
  }

  /**
   * Reserves the next `size` bytes, growing the buffer when needed, and returns where they start.
   * Read {@link bytes} and {@link view} only after calling it: growing replaces them.
   */
  private advance(size: number): number {
    const at = this.length;
    const end = at + size;
    if (end > this.bytes.byteLength) {
      const bytes = new Uint8Array(Math.max(end, 2 * this.bytes.byteLength));
      bytes.set(this.bytes.subarray(0, at));
      this.bytes = bytes;
      this.view = new DataView(bytes.buffer);
    }
    this.length = end;
    return at;
  }
}

// ---------------------------------------------------------------------------------------------
// Events on the wire
// ---------------------------------------------------------------------------------------------

const PROTOCOL_VERSION = 3;
/** MessagePack's first byte of a 3-element array: every zerorpc event starts with it. */
const EVENT_ARRAY_HEAD = 0x93;

const utf8 = new TextDecoder();
/** Decodes a `bin` read where a string is expected: invalid UTF-8 throws, a BOM is kept (as in Rust). */
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
/** Encodes text as UTF-8: strings sent (but short ASCII ones), and a `str` read where bytes are expected. */
const utf8Encoder = new TextEncoder();
const decoder = new Decoder({ useBigInt64: true, mapKeyConverter: mapKeyToProperty });

/** One decoded zerorpc event: `[header, name, args]`. */
export interface DecodedEvent {
  /** The header: `message_id`, `v`, `response_to` and any extra keys the peer added. */
  readonly header: Readonly<Record<string, unknown>>;
  /** A method name, or `OK`, `ERR`, `STREAM`, `STREAM_DONE`, `_zpc_hb`, `_zpc_more`. */
  readonly name: string;
  /** The arguments; their shape depends on the name. */
  readonly args: unknown;
}

/** A {@link ProtocolError} for an event that could not be read, with the channel it names, if any. */
class UnreadableEventError extends ProtocolError {
  /** The event's `response_to`, when its header could be read. */
  readonly responseTo: unknown;

  /** Makes the error; `responseTo` is `undefined` when unknown. */
  constructor(message: string, responseTo: unknown) {
    super(message);
    this.responseTo = responseTo;
  }
}

/** Header keys the protocol itself uses; entries from {@link ClientOptions.requestHeader} cannot replace them. */
const PROTOCOL_KEYS: ReadonlySet<string> = new Set(["message_id", "v", "response_to"]);

/**
 * Encodes a request, the first event of a channel: `[{message_id, v: 3, ...extras}, method, args]`,
 * the id sent as `bin` like zerorpc-python does (`messageId` is its ASCII text). Entries of `extras`
 * named like the protocol's keys are left out. A value that cannot be sent (see {@link Writer}) is
 * a TypeError or RangeError naming where it is: `invalid request for "m": args[0].tags[2]: …`.
 */
export function encodeRequest(
  messageId: string,
  method: string,
  args: readonly unknown[],
  extras: Readonly<Record<string, unknown>> = {},
): Uint8Array {
  return encodeEvent(messageId, undefined, extras, method, args);
}

/**
 * Encodes a later event of channel `channelId` (a heartbeat, `_zpc_more`):
 * `[{message_id, v: 3, response_to}, name, args]`, both ids sent as `bin`.
 */
export function encodeChannelEvent(messageId: string, channelId: string, name: string, args: readonly unknown[]): Uint8Array {
  return encodeEvent(messageId, channelId, {}, name, args);
}

/** The writer {@link encodeEvent} uses; while it is busy (a getter of a value being sent makes a call), it makes another. */
let idleWriter: Writer | undefined = new Writer();

/**
 * Encodes `[header, name, args]`, the header's keys in zerorpc-python's order: `message_id`, `v`,
 * the entries of `extras` not named like the protocol's keys, then `response_to` when given. A
 * refused value becomes a TypeError or RangeError that names the call and the value's place.
 */
function encodeEvent(
  messageId: string,
  responseTo: string | undefined,
  extras: Readonly<Record<string, unknown>>,
  name: string,
  args: readonly unknown[],
): Uint8Array {
  const keys = Object.keys(extras).filter((key) => !PROTOCOL_KEYS.has(key));
  const writer = idleWriter ?? new Writer();
  idleWriter = undefined;
  try {
    writer.head(3, ARRAY);
    writer.head(keys.length + (responseTo === undefined ? 2 : 3), MAP);
    writer.text("message_id");
    writer.text(messageId, BIN);
    writer.text("v");
    writer.value(PROTOCOL_VERSION, 0);
    for (const key of keys) {
      writer.item(key, extras[key], 0);
    }
    if (responseTo !== undefined) {
      writer.text("response_to");
      writer.text(responseTo, BIN);
    }
    writer.text(name);
    writer.head(args.length, ARRAY);
    for (let index = 0; index < args.length; index += 1) {
      writer.item(index, args[index], 0);
    }
    return writer.written();
  } catch (error) {
    if (error instanceof Unsendable) {
      throw new error.kind(`invalid request for "${name}": ${describePath(error.path)}: ${error.reason}`);
    }
    throw error;
  } finally {
    writer.reset();
    idleWriter = writer;
  }
}

/** Decodes one event; throws a {@link ProtocolError} when `frame` is not a zerorpc event. */
export function decodeEvent(frame: Uint8Array): DecodedEvent {
  const bytes = plainBytes(frame);
  let decoded: unknown;
  try {
    decoded = decoder.decode(bytes);
  } catch (error) {
    throw new UnreadableEventError(`undecodable MessagePack: ${messageOf(error)}`, readHead(bytes).responseTo);
  }
  if (!Array.isArray(decoded) || decoded.length !== 3) {
    throw new ProtocolError(`not a zerorpc event (expected [header, name, args]): ${describe(decoded)}`);
  }
  const [header, name, args]: unknown[] = decoded;
  if (!isRecord(header)) {
    throw new ProtocolError(`the event header is not a map: ${describe(header)}`);
  }
  if (typeof name !== "string") {
    throw new UnreadableEventError(`the event name is not a string: ${describe(name)}`, header["response_to"]);
  }
  return { header, name, args };
}

/** A plain Uint8Array view of `frame`, so that `bin` values decode as Uint8Array rather than Buffer. */
function plainBytes(frame: Uint8Array): Uint8Array {
  return new Uint8Array(frame.buffer, frame.byteOffset, frame.byteLength);
}

/**
 * Reads only the start of an event (its header, then its name) without decoding its arguments: for
 * an event whose body cannot be decoded, or that is too large to be. A part that cannot be read,
 * and all that follows it, is `undefined`.
 */
function readHead(bytes: Uint8Array): { responseTo: unknown; name: unknown } {
  const head: { responseTo: unknown; name: unknown } = { responseTo: undefined, name: undefined };
  if (bytes[0] !== EVENT_ARRAY_HEAD) {
    return head;
  }
  const parts = decoder.decodeMulti(bytes.subarray(1));
  try {
    const header = parts.next();
    if (header.done === true || !isRecord(header.value)) {
      return head;
    }
    head.responseTo = header.value["response_to"];
    const name = parts.next();
    head.name = name.done === true ? undefined : name.value;
  } catch {
    // What was read so far stands.
  } finally {
    parts.return();
  }
  return head;
}

/** Whether a decoded value is a MessagePack map. */
function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value);
}

/** The channel key of a `response_to`: the text of our ids, whether echoed as `bin` or as `str`. */
function channelKeyOf(responseTo: unknown): string | undefined {
  if (responseTo instanceof Uint8Array) {
    return Buffer.from(responseTo.buffer, responseTo.byteOffset, responseTo.byteLength).toString("latin1");
  }
  return typeof responseTo === "string" ? responseTo : undefined;
}

/**
 * Makes message ids the way zerorpc-python does: 8 hex digits of a counter, then 24 random hex
 * digits; the counter starts at a random value and is re-seeded (with a new suffix) at a random
 * stop value. Every event sent gets a fresh id.
 */
class MessageIdGenerator {
  private suffix = "";
  private counter = 0;
  private stop = 0;

  /** Starts at a random counter value. */
  constructor() {
    this.reseed();
  }

  /** The next id, as 32 lowercase hex characters. */
  next(): string {
    if (this.counter >= this.stop) {
      this.reseed();
    } else {
      this.counter += 1;
    }
    return this.counter.toString(16).padStart(8, "0") + this.suffix;
  }

  /** Picks a new suffix, counter and stop value. */
  private reseed(): void {
    this.suffix = randomBytes(12).toString("hex");
    this.counter = randomInt(0, 2 ** 32);
    this.stop = randomInt(this.counter, 2 ** 32);
  }
}

/** One id sequence per process, like zerorpc-python's one per context. */
const messageIds = new MessageIdGenerator();

// ---------------------------------------------------------------------------------------------
// Channels
// ---------------------------------------------------------------------------------------------

/** A channel is declared lost when this many heartbeat ticks in a row pass without news from it. */
const LOST_AFTER_SILENT_TICKS = 3;
/** How many stream items a client lets the server send ahead (zerorpc-python's window). */
const STREAM_WINDOW = 100;
/**
 * How many replies may wait to be taken before the next one ends the channel: a server that keeps
 * to its credit never gets there (the Rust client's limit).
 */
const MAX_WAITING_REPLIES = STREAM_WINDOW + 2;

/** What a channel needs from the client that owns it. */
interface ChannelOwner {
  /** Sends one encoded event to the server that has `channel`; failures end `channel`. */
  send(event: Uint8Array, channel: Channel): void;
  /** Stops routing events to `channel`. */
  forget(channel: Channel): void;
  /** The owner's endpoints when it has never connected to any of them, else `undefined`. */
  neverConnected(): readonly string[] | undefined;
}

/** Settings of one channel. */
interface ChannelSettings {
  /** Interval between heartbeats, or null for none (and no lost-remote detection). */
  readonly heartbeatMs: number | null;
  /** Time limit for the first reply, or null for none. */
  readonly timeoutMs: number | null;
  /** Cancels the channel when it aborts (see {@link CallOptions.signal}). */
  readonly signal: AbortSignal | undefined;
}

/**
 * One call or stream in progress: queues the replies routed to it, heartbeats, watches the remote's
 * heartbeats, the time limit and the call's signal, and grants stream credit as the replies are taken.
 */
class Channel {
  /** The call, for messages: `"method" on endpoint`, the endpoint of the server that has it. */
  call: string;
  private readonly inbox: DecodedEvent[] = [];
  private waiter: { resolve(event: DecodedEvent): void; reject(error: unknown): void } | null = null;
  /** What the channel ended with, once it failed or was cancelled. */
  private failure: { readonly error: unknown } | null = null;
  /** Whether the channel ended because its signal aborted. */
  private cancelled = false;
  private readonly onAbort = (): void => this.cancel();
  private active = true;
  private silentTicks = 0;
  private heartbeatTimer: ReturnType<typeof setInterval> | null = null;
  private timeoutTimer: ReturnType<typeof setTimeout> | null = null;
  /** Events the server may send without further credit, counting those not yet taken. */
  private reservedSlots = 1;
  private hasTakenBefore = false;

  /**
   * Opens the channel of `call` and starts its time limit and its watch on the signal; the owner
   * sends the request, and calls {@link taken} once a server has it.
   */
  constructor(
    readonly id: string,
    call: string,
    private readonly owner: ChannelOwner,
    private readonly settings: ChannelSettings,
  ) {
    this.call = call;
    const { timeoutMs } = settings;
    if (timeoutMs !== null) {
      this.timeoutTimer = setTimeout(
        () =>
          this.fail(
            new TimeoutExpiredError(
              `timeout after ${timeoutMs / 1000}s waiting for the reply to ${this.call}`,
              owner.neverConnected(),
            ),
          ),
        timeoutMs,
      );
    }
    settings.signal?.addEventListener("abort", this.onAbort, { once: true });
  }

  /** Whether the channel still takes events (it has not ended, failed or been closed). */
  get isOpen(): boolean {
    return this.active;
  }

  /** A server has the request: starts the heartbeats and the watch on the server's, if they are on. */
  taken(): void {
    const { heartbeatMs } = this.settings;
    if (this.active && this.heartbeatTimer === null && heartbeatMs !== null) {
      this.heartbeatTimer = setInterval(() => this.onHeartbeatTick(heartbeatMs), heartbeatMs);
    }
  }

  /** Counts any event from the server on this channel as a sign of life. */
  heard(): void {
    this.silentTicks = 0;
  }

  /** Takes an event routed to this channel. */
  accept(event: DecodedEvent): void {
    this.heard();
    if (event.name === "_zpc_hb" || event.name === "_zpc_more") {
      return;
    }
    this.clearTimeout();
    if (this.inbox.length >= MAX_WAITING_REPLIES) {
      this.fail(new ProtocolError(`the server sent more items than the stream credit allowed to ${this.call}`));
    } else if (this.waiter === null) {
      this.inbox.push(event);
    } else {
      this.waiter.resolve(event);
      this.waiter = null;
    }
  }

  /** The next reply (heartbeats and credit excluded); rejects once the channel failed. */
  async next(): Promise<DecodedEvent> {
    this.grantCreditIfLow();
    const event = this.inbox.shift() ?? (await this.nextArrival());
    this.reservedSlots -= 1;
    return event;
  }

  /** Ends the channel with `error`: the pending or next {@link next} rejects with it. */
  fail(error: RpcError): void {
    this.end(error);
  }

  /** Whether `error`, thrown by a call on this channel, is the reason its signal aborted it with. */
  isCancellation(error: unknown): boolean {
    return this.cancelled && this.failure?.error === error;
  }

  /**
   * Stops the timers, the watch on the signal and the routing of events; the server's side ends on
   * heartbeat loss.
   */
  close(): void {
    this.active = false;
    if (this.heartbeatTimer !== null) {
      clearInterval(this.heartbeatTimer);
    }
    this.clearTimeout();
    this.settings.signal?.removeEventListener("abort", this.onAbort);
    this.owner.forget(this);
  }

  /** Ends the channel with its signal's reason, dropping the replies not taken yet. */
  private cancel(): void {
    if (this.active) {
      this.cancelled = true;
      this.inbox.length = 0;
      this.end(this.settings.signal?.reason);
    }
  }

  /** Ends the channel with `error` (anything, for a signal's reason), unless it has ended. */
  private end(error: unknown): void {
    if (!this.active) {
      return;
    }
    this.failure = { error };
    this.close();
    this.waiter?.reject(error);
    this.waiter = null;
  }

  /** Like zerorpc-python: from the second take on, tops the window up when half of it is used. */
  private grantCreditIfLow(): void {
    if (!this.hasTakenBefore) {
      this.hasTakenBefore = true;
      return;
    }
    if (this.active && this.reservedSlots < STREAM_WINDOW / 2) {
      const grant = STREAM_WINDOW - this.reservedSlots;
      this.reservedSlots = STREAM_WINDOW;
      this.emit("_zpc_more", [grant]);
    }
  }

  /** Waits for the next event to arrive, unless the channel has failed. */
  private nextArrival(): Promise<DecodedEvent> {
    if (this.failure !== null) {
      return Promise.reject(this.failure.error);
    }
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /** Sends a heartbeat, or declares the remote lost after too long a silence (py's timing). */
  private onHeartbeatTick(heartbeatMs: number): void {
    this.silentTicks += 1;
    if (this.silentTicks >= LOST_AFTER_SILENT_TICKS) {
      const seconds = (heartbeatMs * (LOST_AFTER_SILENT_TICKS - 1)) / 1000;
      this.fail(
        new LostRemoteError(
          `lost remote: no heartbeat for over ${seconds}s while waiting for ${this.call} ` +
            `(is the server alive, and is its heartbeat interval at most this client's?)`,
        ),
      );
      return;
    }
    this.emit("_zpc_hb", [0]);
  }

  /** Sends a control event on this channel. */
  private emit(name: string, args: unknown[]): void {
    this.owner.send(encodeChannelEvent(messageIds.next(), this.id, name, args), this);
  }

  /** Stops the first-reply timer. */
  private clearTimeout(): void {
    if (this.timeoutTimer !== null) {
      clearTimeout(this.timeoutTimer);
      this.timeoutTimer = null;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Client
// ---------------------------------------------------------------------------------------------

const DEFAULT_HEARTBEAT_SECONDS = 5;
const DEFAULT_TIMEOUT_SECONDS = 30;
/** Default {@link ClientOptions.maxMessageSize}: 100 MiB, as the Rust runtime's `Config`. */
const DEFAULT_MAX_MESSAGE_SIZE = 100 * 1024 * 1024;
/** Longest delay Node timers support, in seconds. */
const MAX_TIMER_SECONDS = 2_147_483;
const EMPTY_FRAME = new Uint8Array(0);
/** How often the calls that no server has taken yet are offered again while a connected server's queue is full. */
const UNSENT_RETRY_MS = 20;

/**
 * A client's {@link ClientOptions.requestHeader} hook: the header entries to add to a request of
 * `method`.
 */
export type RequestHeader = (method: string) => Readonly<Record<string, unknown>>;

/**
 * How a request ended, for {@link ClientOptions.afterRequest}: the value it returned, the start of
 * a stream (for a stream the record is made at its first reply), the error it failed with, or its
 * cancellation by the call's {@link CallOptions.signal} (for a stream, before its first reply).
 */
export type RequestOutcome =
  | { readonly kind: "returned"; readonly value: unknown }
  | { readonly kind: "stream" }
  | { readonly kind: "failed"; readonly error: unknown }
  | { readonly kind: "cancelled" };

/** A request that ended, as {@link ClientOptions.afterRequest} sees it. */
export interface RequestRecord {
  /** The method called. */
  readonly method: string;
  /** The arguments as sent (a generated client's converted ones: a whole `f32`/`f64` as a {@link Float64}). */
  readonly args: readonly unknown[];
  /** The server that had the request; `undefined` when none took it (none was connected). */
  readonly endpoint: string | undefined;
  /** How it ended. */
  readonly outcome: RequestOutcome;
  /** Milliseconds from the request to its end (for a stream: to its first reply). */
  readonly elapsedMs: number;
  /** The names of the errors the method declares ({@link CallOptions.errors}); empty for a call by name without them. */
  readonly errors: readonly string[];
}

/** A client's {@link ClientOptions.afterRequest} hook. */
export type AfterRequest = (record: RequestRecord) => void;

/** Settings of a {@link Client}. */
export interface ClientOptions {
  /**
   * Seconds between heartbeats on each call in progress (default 5). The server must use the same
   * interval or a shorter one: a call fails with {@link LostRemoteError} once the server has been
   * silent for two to three intervals. `null` turns heartbeats off, as the Python and Rust clients
   * can: no `_zpc_hb` is sent and silence never fails a call, which then ends with its reply, its
   * time limit, an error or {@link Client.close}.
   */
  readonly heartbeatSeconds?: number | null;
  /**
   * Default time limit, in seconds, for the first reply of each call (default 30); `null` waits
   * without limit (heartbeats still detect a server that dies once it has the call; a call made
   * while no server is up waits for one until the client is closed).
   */
  readonly timeoutSeconds?: number | null;
  /**
   * Largest event, in bytes of MessagePack, sent or accepted (default 100 MiB, as in the Rust
   * runtime): a larger request is refused with a {@link TooLargeError} before anything is sent, and
   * a larger reply or stream item fails its call with one, having read only its header and name.
   * A whole number in [1, `Number.MAX_SAFE_INTEGER`].
   */
  readonly maxMessageSize?: number;
  /**
   * Called with the method's name for every request, in the caller's async context (so it can
   * read an `AsyncLocalStorage`); the entries it returns join the request's header, as
   * zerorpc-python's `get_task_context` middleware does. A server reads them there: a trace id,
   * say. The protocol's own keys (`message_id`, `v`, `response_to`) are ignored.
   */
  readonly requestHeader?: RequestHeader;
  /**
   * Called once for every request that was sent, when it ends (for a stream: at its first reply),
   * with its method, arguments, server, outcome and duration: for logging ({@link logRequests}) or
   * metrics. An exception it throws does not change the call's outcome; it is reported as a
   * process warning.
   */
  readonly afterRequest?: AfterRequest;
}

/** Settings of one call or stream. */
export interface CallOptions {
  /**
   * Time limit, in seconds, for the first reply (for a stream: its first item), overriding the
   * client's; `null` waits without limit.
   */
  readonly timeoutSeconds?: number | null;
  /**
   * Abandons the call (or the stream, at any point) when it aborts: the call rejects with the
   * signal's `reason` (an `AbortError` `DOMException` unless `abort(reason)` gave one), the
   * replies not taken yet are dropped, and {@link ClientOptions.afterRequest} sees
   * `{ kind: "cancelled" }` unless the request ended before (a stream, at its first reply).
   * Nothing is sent to the server (zerorpc has no cancel event): a call no server has taken yet
   * is never sent, and for one a server has, the heartbeats stop, so that a server that watches
   * them drops its handler a few intervals later. A signal that has already aborted rejects the
   * call before anything is sent. Each call in progress listens to its signal: Node warns
   * (`MaxListenersExceededWarning`) when more than 10 share one, unless
   * `events.setMaxListeners(n, signal)` raised the limit.
   */
  readonly signal?: AbortSignal;
  /**
   * The names of the errors the method declares (its `throws`), which generated clients pass:
   * {@link RequestRecord.errors} shows them to {@link ClientOptions.afterRequest}, and
   * {@link logRequests} logs a declared error as an answer (to `info`), not as a failure.
   */
  readonly errors?: readonly string[];
}

/** One server of a client: its socket, and the sending to it. */
interface ServerLink {
  readonly endpoint: string;
  readonly socket: Dealer;
  /** Whether the socket has ever completed ZeroMQ's handshake with the server (see {@link watchConnection}). */
  reached: boolean;
  /**
   * Whether the server is connected: ZeroMQ completed a handshake with it and reported no drop
   * since (see {@link watchConnection}). Only then is it sent anything.
   */
  linked: boolean;
  /**
   * Sends one event of `channel` after those before it, unless the channel has ended, the client
   * closed or the server is no longer connected by then: resolves to whether it was sent. Rejects
   * when the socket cannot take it: at once with an `EAGAIN` error when ZeroMQ's queue to the
   * server is full (see {@link isRefusal}).
   */
  send(event: Uint8Array, channel: Channel): Promise<boolean>;
}

/** A call in progress, and the server that has its request (none yet while it waits for one). */
interface OpenCall {
  readonly channel: Channel;
  server: ServerLink | undefined;
}

/** A call whose request no server has taken yet. */
interface UnsentCall {
  readonly open: OpenCall;
  readonly method: string;
  readonly request: Uint8Array;
}

/**
 * A zerorpc client connected to one server endpoint, e.g. `tcp://127.0.0.1:4242`, or to several
 * servers of one service, which then share the calls.
 *
 * Creating it never blocks: ZeroMQ connects in the background and reconnects by itself. A call
 * waits in the client until a server is connected and takes its request, within its time limit
 * (a {@link TimeoutExpiredError} says when the client never connected); a call that ends before
 * then is never sent. Call {@link close} when done: a client keeps Node running until it is
 * closed, as it watches its connection.
 */
export class Client {
  /** The endpoint this client calls (the first, for several servers). */
  readonly endpoint: string;
  /** Every endpoint this client calls. */
  readonly endpoints: readonly string[];
  private readonly servers: ServerLink[] = [];
  /** The calls in progress, by the id of their channel. */
  private readonly calls = new Map<string, OpenCall>();
  /**
   * The calls no server has taken yet, by the id of their channel, oldest first (a call that ends
   * leaves at once), and the timer of their next offer.
   */
  private readonly unsent = new Map<string, UnsentCall>();
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  /** Whether {@link offerUnsent} is running (it offers one call at a time). */
  private offering = false;
  /** Sends a channel's events to the server that has it, and forgets the channel. */
  private readonly owner: ChannelOwner = {
    send: (event, channel) => this.sendOn(channel, event),
    forget: (channel) => {
      this.calls.delete(channel.id);
      this.unsent.delete(channel.id);
    },
    neverConnected: () => (this.servers.some((server) => server.reached) ? undefined : this.endpoints),
  };
  private readonly heartbeatMs: number | null;
  private readonly timeoutMs: number | null;
  private readonly maxMessageSize: number;
  private readonly requestHeader: RequestHeader | undefined;
  private readonly afterRequest: AfterRequest | undefined;
  /** Where the search for the next call's server starts. */
  private turn = 0;
  private receiving = false;
  private closed = false;

  /**
   * Connects to `endpoint`, or to each of several endpoints: each call then goes to the next
   * connected server in turn (and waits in the client while none is), and its heartbeats and stream
   * credit to that server only. Throws a TypeError for an invalid endpoint or option.
   */
  constructor(endpoint: string | readonly string[], options: ClientOptions = {}) {
    const endpoints: unknown[] = Array.isArray(endpoint) ? [...endpoint] : [endpoint];
    if (endpoints.length === 0 || !endpoints.every((each) => typeof each === "string")) {
      throw new TypeError(`the endpoint must be a string or a non-empty array of strings, got ${describe(endpoint)}`);
    }
    this.endpoints = endpoints as string[];
    this.endpoint = this.endpoints[0] ?? "";
    this.heartbeatMs = timeLimitMs(options.heartbeatSeconds, DEFAULT_HEARTBEAT_SECONDS * 1000, "heartbeatSeconds");
    this.timeoutMs = timeLimitMs(options.timeoutSeconds, DEFAULT_TIMEOUT_SECONDS * 1000, "timeoutSeconds");
    this.maxMessageSize = byteLimit(options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE, "maxMessageSize");
    for (const hook of ["requestHeader", "afterRequest"] as const) {
      if (options[hook] !== undefined && typeof options[hook] !== "function") {
        throw new TypeError(`${hook} must be a function, got ${describe(options[hook])}`);
      }
    }
    this.requestHeader = options.requestHeader;
    this.afterRequest = options.afterRequest;
    for (const each of this.endpoints) {
      this.servers.push(this.connectTo(each));
    }
  }

  /** Connects a socket to one server; throws (after closing the sockets so far) when it cannot. */
  private connectTo(endpoint: string): ServerLink {
    // linger 0: closing discards unsent heartbeats instead of keeping Node alive to deliver them.
    // sendTimeout 0: a send never waits inside ZeroMQ, where a call that ends could not take its
    // request back; it is refused when ZeroMQ's queue to the server is full (1000 messages, the
    // default), that is when the server is not reading. ZeroMQ would queue a request for a server
    // that is not up yet and deliver it whenever the server comes up, so the socket is sent
    // anything only while its server is linked. Not `immediate`, which would do that in ZeroMQ: when
    // a connection drops, it discards the replies that arrived but were not read yet.
    const socket = new Dealer({ linger: 0, sendTimeout: 0 });
    // Observed before it connects, so that no handshake goes unseen.
    const { events } = socket;
    try {
      socket.connect(endpoint);
    } catch (error) {
      socket.close();
      for (const server of this.servers) {
        server.socket.close();
      }
      throw new TypeError(`cannot connect to "${endpoint}": ${messageOf(error)}`);
    }
    // One send at a time: zeromq rejects a second send while the first waits for the peer.
    let outgoing: Promise<unknown> = Promise.resolve();
    const send = (event: Uint8Array, channel: Channel): Promise<boolean> => {
      const sent = outgoing.then(async () => {
        if (this.closed || !channel.isOpen || !server.linked) {
          return false;
        }
        await socket.send([EMPTY_FRAME, event]);
        return true;
      });
      outgoing = sent.catch(() => false);
      return sent;
    };
    const server: ServerLink = { endpoint, socket, send, reached: false, linked: false };
    void watchConnection(server, events, {
      connected: () => void this.offerUnsent(),
      disconnected: () => this.connectionDropped(server),
    });
    return server;
  }

  /**
   * Called when `server`'s connection has dropped (it is no longer linked): delivers the replies
   * that arrived before the drop, then reconnects the socket afresh, which discards what ZeroMQ
   * still held for the dropped connection (requests, heartbeats), and ends the calls the server had
   * in {@link LostRemoteError}. ZeroMQ would otherwise send what it held to the server once it is
   * back, though those calls have ended; and closing the connection (`disconnect`) discards the
   * replies not read yet, hence the reading first.
   */
  private async connectionDropped(server: ServerLink): Promise<void> {
    await this.readReceived(server);
    if (this.closed) {
      return;
    }
    try {
      server.socket.disconnect(server.endpoint);
      server.socket.connect(server.endpoint);
    } catch (error) {
      const reason = messageOf(error);
      this.shutDown((call) => new RpcError(`reconnecting to ${server.endpoint} failed (${reason}) during ${call}`));
      return;
    }
    this.loseCallsOf(server);
  }

  /**
   * Waits until the receive loop has dispatched every message `server`'s socket holds. ZeroMQ
   * queues the replies of a connection before it reports that the connection dropped, so they are
   * all there by then, and no more arrive from that connection.
   */
  private async readReceived(server: ServerLink): Promise<void> {
    do {
      await new Promise((resolve) => setImmediate(resolve));
    } while (this.receiving && !this.closed && this.holdsUnread(server));
  }

  /**
   * Whether `server`'s socket holds a message the receive loop has not taken yet. Reading
   * `readable` makes ZeroMQ process its pending commands, and so may consume the wake-up that the
   * loop's pending `receive` waits for, which would then wait for the next message (measured: 49
   * times in 50 with a reply waiting); so when a message is there, an empty send, which sends
   * nothing, makes zeromq hand it to that `receive` (it checks for a message after every send).
   */
  private holdsUnread(server: ServerLink): boolean {
    if (!server.socket.readable) {
      return false;
    }
    void server.socket.send([]);
    return true;
  }

  /**
   * Ends every call that `server` has with {@link LostRemoteError}: its connection dropped, and the
   * replies of a dropped connection never arrive (ZeroMQ reconnects, but as a new peer), so they
   * need not wait for the heartbeats to stop.
   */
  private loseCallsOf(server: ServerLink): void {
    for (const open of [...this.calls.values()]) {
      if (open.server === server) {
        open.channel.fail(
          new LostRemoteError(`lost remote: the connection to ${server.endpoint} dropped during ${open.channel.call}`),
        );
      }
    }
  }

  /**
   * Sends a heartbeat or credit of `channel` to the server that has it, unless that server's
   * connection has dropped (the call is about to end in {@link LostRemoteError}).
   */
  private sendOn(channel: Channel, event: Uint8Array): void {
    const server = this.calls.get(channel.id)?.server;
    server?.send(event, channel).catch((error: unknown) => {
      channel.fail(
        isRefusal(error)
          ? new LostRemoteError(
              `lost remote: ${server.endpoint} is not reading (ZeroMQ's queue to it is full) during ${channel.call}`,
            )
          : sendFailure(server, error),
      );
    });
  }

  /** How many calls and streams are in progress. */
  get pendingCalls(): number {
    return this.calls.size;
  }

  /**
   * Calls `method` with positional `args` and resolves with its return value. `T` is not checked:
   * generated clients pass the declared type and convert the value.
   *
   * Rejects with {@link RemoteError}, {@link TimeoutExpiredError}, {@link LostRemoteError},
   * {@link ProtocolError} (also when the method streams: use {@link stream}),
   * {@link TooLargeError} (a request or reply above {@link ClientOptions.maxMessageSize}) or
   * {@link ClientClosedError}, and with a TypeError or RangeError for arguments MessagePack cannot
   * carry; with the reason of `options.signal` when it aborts.
   */
  async call<T = unknown>(method: string, args: readonly unknown[], options: CallOptions = {}): Promise<T> {
    const open = this.openChannel(method, args, options);
    const ended = this.requestEnded(method, args, options, open);
    try {
      const value = await replyValue(open.channel);
      ended({ kind: "returned", value });
      return value as T;
    } catch (error) {
      ended(failureOutcome(open.channel, error));
      throw error;
    } finally {
      open.channel.close();
    }
  }

  /**
   * Calls the streaming method `method` and yields its items. The request is sent when iteration
   * starts; the time limit covers the first item. Leaving a `for await` loop early (or calling
   * `return()`) ends the call, and so does `options.signal`, at any point. Items of type `T` are
   * not checked. Errors are those of {@link call}.
   */
  async *stream<T = unknown>(
    method: string,
    args: readonly unknown[],
    options: CallOptions = {},
  ): AsyncGenerator<T, void, undefined> {
    const open = this.openChannel(method, args, options);
    const ended = this.requestEnded(method, args, options, open);
    const items = channelItems(open.channel) as AsyncGenerator<T, void, undefined>;
    try {
      let first: IteratorResult<T, void>;
      try {
        first = await items.next();
      } catch (error) {
        ended(failureOutcome(open.channel, error));
        throw error;
      }
      ended({ kind: "stream" });
      if (first.done === true) {
        return;
      }
      yield first.value;
      yield* items;
    } finally {
      // Closes the channel when the caller leaves before the end.
      await items.return();
    }
  }

  /**
   * Closes the connection. Pending calls and streams reject with {@link ClientClosedError}; no
   * timer or socket is left behind. Closing twice does nothing.
   */
  close(): void {
    if (this.closed) {
      return;
    }
    this.shutDown((call) => new ClientClosedError(`the client was closed while waiting for ${call}`));
  }

  /**
   * What reports a request's end to {@link ClientOptions.afterRequest}: call it once, with the
   * outcome. An exception of the hook is reported as a process warning, not thrown.
   */
  private requestEnded(
    method: string,
    args: readonly unknown[],
    options: CallOptions,
    open: OpenCall,
  ): (outcome: RequestOutcome) => void {
    const hook = this.afterRequest;
    if (hook === undefined) {
      return () => {};
    }
    const started = performance.now();
    // A copy: the caller may change its array while the request is in progress.
    const sent = [...args];
    const errors = options.errors ?? [];
    const warn = (error: unknown) =>
      process.emitWarning(`the afterRequest hook failed on ${method}: ${messageOf(error)}`, "RpcgenWarning");
    return (outcome) => {
      const record = { method, args: sent, endpoint: open.server?.endpoint, outcome, elapsedMs: performance.now() - started, errors };
      try {
        // An async hook's promise is not awaited, but its rejection becomes the same warning.
        const result: unknown = hook(record);
        if (isThenable(result)) {
          result.then(undefined, warn);
        }
      } catch (error) {
        warn(error);
      }
    };
  }

  /**
   * Opens a channel for a call and sends its request; a request above the size limit throws, and
   * so does an aborted signal (its reason).
   */
  private openChannel(method: string, args: readonly unknown[], options: CallOptions): OpenCall {
    if (this.closed) {
      throw new ClientClosedError(`cannot call ${describeCall(method, this.endpoint)}: the client is closed`);
    }
    if (typeof method !== "string" || method === "") {
      throw new TypeError(`the method name must be a non-empty string, got ${describe(method)}`);
    }
    if (!Array.isArray(args)) {
      throw new TypeError(`the arguments of ${method} must be an array, got ${describe(args)}`);
    }
    const timeoutMs = timeLimitMs(options.timeoutSeconds, this.timeoutMs, "timeoutSeconds");
    const { signal } = options;
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw new TypeError(`signal must be an AbortSignal, got ${describe(signal)}`);
    }
    signal?.throwIfAborted();
    const id = messageIds.next();
    const request = encodeRequest(id, method, args, this.headerEntries(method));
    const call = describeCall(method, this.endpoints.join(", "));
    if (request.byteLength > this.maxMessageSize) {
      throw new TooLargeError("request", request.byteLength, this.maxMessageSize, call);
    }
    const channel = new Channel(id, call, this.owner, { heartbeatMs: this.heartbeatMs, timeoutMs, signal });
    const open: OpenCall = { channel, server: undefined };
    this.calls.set(id, open);
    this.startReceiving();
    this.unsent.set(id, { open, method, request });
    void this.offerUnsent();
    return open;
  }

  /**
   * Offers the waiting calls, oldest first, to the connected servers in turn, and again when a
   * server connects, or a little later when the connected ones refuse one: their queues are full.
   * A call that ends meanwhile is never sent.
   */
  private async offerUnsent(): Promise<void> {
    if (this.offering) {
      return;
    }
    this.offering = true;
    try {
      // A Map's iteration skips the entries deleted and visits those added while it runs.
      for (const waiting of this.unsent.values()) {
        if (!(await this.offer(waiting))) {
          if (!this.closed && this.servers.some((server) => server.linked)) {
            this.retryTimer ??= setTimeout(() => {
              this.retryTimer = null;
              void this.offerUnsent();
            }, UNSENT_RETRY_MS);
          }
          return;
        }
        this.unsent.delete(waiting.open.channel.id);
      }
    } finally {
      this.offering = false;
    }
  }

  /**
   * Offers one call to each connected server in turn; false when none takes it while it waits (a
   * server whose connection drops meanwhile does not take it).
   */
  private async offer({ open, method, request }: UnsentCall): Promise<boolean> {
    const count = this.servers.length;
    for (let offset = 0; offset < count && open.channel.isOpen; offset += 1) {
      const index = (this.turn + offset) % count;
      const server = this.servers[index] as ServerLink;
      if (!server.linked) {
        continue;
      }
      try {
        if (!(await server.send(request, open.channel))) {
          continue;
        }
      } catch (error) {
        if (isRefusal(error)) {
          continue;
        }
        open.channel.fail(sendFailure(server, error));
        return true;
      }
      this.turn = (index + 1) % count;
      open.server = server;
      open.channel.call = describeCall(method, server.endpoint);
      open.channel.taken();
      return true;
    }
    return !open.channel.isOpen;
  }

  /** The entries {@link ClientOptions.requestHeader} adds to a request of `method`. */
  private headerEntries(method: string): Readonly<Record<string, unknown>> | undefined {
    const entries: unknown = this.requestHeader?.(method);
    if (entries !== undefined && (typeof entries !== "object" || entries === null || Array.isArray(entries))) {
      throw new TypeError(`requestHeader must return an object of header entries, got ${describe(entries)}`);
    }
    return entries as Readonly<Record<string, unknown>> | undefined;
  }

  /** Starts the receive loops on the first call. */
  private startReceiving(): void {
    if (!this.receiving) {
      this.receiving = true;
      for (const server of this.servers) {
        void this.receiveLoop(server);
      }
    }
  }

  /** Routes every event from `server` to its channel until the client is closed. */
  private async receiveLoop(server: ServerLink): Promise<void> {
    while (!this.closed) {
      let frames: Uint8Array[];
      try {
        frames = await server.socket.receive();
      } catch (error) {
        if (!this.closed) {
          const reason = messageOf(error);
          this.shutDown((call) => new RpcError(`receiving from ${server.endpoint} failed (${reason}) during ${call}`));
        }
        return;
      }
      this.dispatch(frames);
    }
  }

  /** Routes one message (`["", event]`, or just `[event]`) to the channel it answers. */
  private dispatch(frames: readonly Uint8Array[]): void {
    const frame = frames[frames.length - 1];
    if (frame === undefined) {
      return;
    }
    if (frame.byteLength > this.maxMessageSize) {
      this.refuseTooLarge(frame);
      return;
    }
    let event: DecodedEvent;
    try {
      event = decodeEvent(frame);
    } catch (error) {
      this.reportUnreadable(error);
      return;
    }
    // Events for channels that are gone (late replies, heartbeats after a timeout) are dropped.
    this.channelAnswered(event.header["response_to"])?.accept(event);
  }

  /**
   * Fails the call a too-large event answers, with a {@link TooLargeError}, reading only the
   * event's header and name: its arguments are never decoded. A too-large heartbeat or credit
   * event counts as a sign of life, as any event does; one for a call that has ended is dropped,
   * and one whose header names no call is dropped with a process warning.
   */
  private refuseTooLarge(frame: Uint8Array): void {
    const size = frame.byteLength;
    const { responseTo, name } = readHead(plainBytes(frame));
    if (channelKeyOf(responseTo) === undefined) {
      const from = this.endpoints.join(", ");
      process.emitWarning(
        `dropped an event of ${size} bytes from ${from}, above the limit of ${this.maxMessageSize} bytes, that names no call`,
        "RpcgenWarning",
      );
      return;
    }
    const channel = this.channelAnswered(responseTo);
    if (name === "_zpc_hb" || name === "_zpc_more") {
      channel?.heard();
    } else {
      channel?.fail(new TooLargeError("reply", size, this.maxMessageSize, channel.call));
    }
  }

  /** Fails the call an unreadable event answers; warns when no call can be identified. */
  private reportUnreadable(error: unknown): void {
    const channel = error instanceof UnreadableEventError ? this.channelAnswered(error.responseTo) : undefined;
    if (channel === undefined) {
      const from = this.endpoints.join(", ");
      process.emitWarning(`dropped an unreadable event from ${from}: ${messageOf(error)}`, "RpcgenWarning");
    } else {
      channel.fail(new ProtocolError(`unreadable reply to ${channel.call}: ${messageOf(error)}`));
    }
  }

  /** The open channel a `response_to` names, if any. */
  private channelAnswered(responseTo: unknown): Channel | undefined {
    const key = channelKeyOf(responseTo);
    return key === undefined ? undefined : this.calls.get(key)?.channel;
  }

  /** Closes the socket after failing every open channel with the error `reasonFor` makes. */
  private shutDown(reasonFor: (call: string) => RpcError): void {
    this.closed = true;
    for (const { channel } of [...this.calls.values()]) {
      channel.fail(reasonFor(channel.call));
    }
    this.unsent.clear();
    if (this.retryTimer !== null) {
      clearTimeout(this.retryTimer);
    }
    for (const server of this.servers) {
      server.socket.close();
    }
  }
}

/** What {@link watchConnection} calls when a server's connection is made or dropped. */
interface ConnectionHandlers {
  /** ZeroMQ completed its handshake with the server: the calls waiting for a server can go. */
  connected(): void;
  /** A connection that had completed its handshake dropped; the next events wait for the promise. */
  disconnected(): Promise<void>;
}

/**
 * Reads the events of `server`'s socket until the socket is closed: marks the server reached at its
 * first completed ZeroMQ handshake (a port where something else listens never completes one), links
 * it at every handshake and unlinks it when that connection drops, calling `handlers` then. Every
 * event is read, before and after the first handshake: once an observer's queue is full, ZeroMQ
 * blocks its I/O thread, and so every socket of the process, and closing the observer alone leaves
 * ZeroMQ's monitor of the socket running, to the same end. The pending read keeps Node running
 * until the socket is closed.
 */
async function watchConnection(server: ServerLink, events: Observer, handlers: ConnectionHandlers): Promise<void> {
  try {
    for await (const event of events) {
      if (event.type === "handshake") {
        server.reached = true;
        server.linked = true;
        handlers.connected();
      } else if (event.type === "disconnect" && server.linked) {
        server.linked = false;
        await handlers.disconnected();
      }
    }
  } catch (error) {
    if (!server.socket.closed) {
      process.emitWarning(`stopped watching the connection to ${server.endpoint}: ${messageOf(error)}`, "RpcgenWarning");
    }
  }
}

/** The error that ends a call when sending to `server` failed with `error`. */
function sendFailure(server: ServerLink, error: unknown): RpcError {
  return new RpcError(`cannot send to ${server.endpoint}: ${messageOf(error)}`);
}

/** Whether a send failed because the socket is not connected (its server is down). */
function isRefusal(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "EAGAIN";
}

/** How a request whose call threw `error` ended: cancelled when that is its signal's reason, else failed. */
function failureOutcome(channel: Channel, error: unknown): RequestOutcome {
  return channel.isCancellation(error) ? { kind: "cancelled" } : { kind: "failed", error };
}

/** Whether `value` is a promise, or anything else with a `then` method. */
function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function";
}

/** `"method" on endpoint`, for messages. */
function describeCall(method: string, endpoint: string): string {
  return `"${method}" on ${endpoint}`;
}

/** The value a call's reply carries, or the error it stands for. */
async function replyValue(channel: Channel): Promise<unknown> {
  const reply = await channel.next();
  switch (reply.name) {
    case "OK":
      return okValue(reply);
    case "ERR":
      throw remoteErrorOf(reply.args);
    case "STREAM":
    case "STREAM_DONE":
      throw new ProtocolError(`${channel.call} answered with a stream: use stream()`);
    default:
      throw unexpectedReply(reply, channel.call);
  }
}

/** The items of a stream's replies, up to its end or its error; closes the channel when done. */
async function* channelItems(channel: Channel): AsyncGenerator<unknown, void, undefined> {
  try {
    for (;;) {
      const reply = await channel.next();
      switch (reply.name) {
        case "STREAM":
          yield reply.args;
          break;
        case "STREAM_DONE":
          return;
        case "OK": {
          // A zerorpc-node server ends a stream that sent no item with OK [last item or nil].
          const last = okValue(reply);
          if (last !== null) {
            yield last;
          }
          return;
        }
        case "ERR":
          throw remoteErrorOf(reply.args);
        default:
          throw unexpectedReply(reply, channel.call);
      }
    }
  } finally {
    channel.close();
  }
}

/** The value of an `OK` reply (`[value]`). */
function okValue(reply: DecodedEvent): unknown {
  if (!Array.isArray(reply.args)) {
    throw new ProtocolError(`an OK reply must carry [value], got ${describe(reply.args)}`);
  }
  const value: unknown = reply.args[0];
  return value === undefined ? null : value;
}

/**
 * The error an `ERR` reply carries, read as the Rust runtime reads it: `[name, message, traceback]`
 * from the first elements (more are ignored, fewer leave the rest out), each a `str` or a `bin`
 * read as UTF-8 (invalid sequences become U+FFFD). A missing or non-text name is `"Error"`, a
 * missing message empty, a missing traceback null; a protocol-v1 `[message]` is named `"Error"`.
 */
function remoteErrorOf(args: unknown): RemoteError {
  const parts: readonly unknown[] = Array.isArray(args) ? args : [];
  if (parts.length === 1) {
    return new RemoteError("Error", errorText(parts[0]) ?? "", null);
  }
  const [name, message, traceback] = parts;
  return new RemoteError(errorText(name) ?? "Error", errorText(message) ?? "", errorText(traceback) ?? null);
}

/** A part of an `ERR` reply as text: a `str`, or a `bin` decoded as UTF-8; else `undefined`. */
function errorText(value: unknown): string | undefined {
  if (typeof value === "string") {
    return value;
  }
  return value instanceof Uint8Array ? utf8.decode(value) : undefined;
}

/** The error for a reply event this runtime does not know. */
function unexpectedReply(reply: DecodedEvent, call: string): ProtocolError {
  return new ProtocolError(`unexpected "${reply.name}" event in reply to ${call}`);
}

/** Validates a positive number of seconds and returns it in milliseconds. */
function secondsToMs(seconds: number, option: string): number {
  if (typeof seconds !== "number" || !(seconds > 0 && seconds <= MAX_TIMER_SECONDS)) {
    throw new TypeError(`${option} must be a number of seconds in (0, ${MAX_TIMER_SECONDS}], got ${describe(seconds)}`);
  }
  return seconds * 1000;
}

/** Validates a size limit: a whole number of bytes, at least 1. */
function byteLimit(bytes: number, option: string): number {
  if (typeof bytes !== "number" || !Number.isSafeInteger(bytes) || bytes < 1) {
    throw new TypeError(`${option} must be a whole number of bytes in [1, ${Number.MAX_SAFE_INTEGER}], got ${describe(bytes)}`);
  }
  return bytes;
}

/** A duration of `option` in milliseconds: `fallbackMs` when `seconds` is undefined, none when null. */
function timeLimitMs(seconds: number | null | undefined, fallbackMs: number | null, option: string): number | null {
  if (seconds === undefined) {
    return fallbackMs;
  }
  return seconds === null ? null : secondsToMs(seconds, option);
}

// ---------------------------------------------------------------------------------------------
// Logging requests
// ---------------------------------------------------------------------------------------------

/** Settings of {@link logRequests}. */
export interface LogRequestsOptions {
  /**
   * Where the line of a request that returned, started a stream, ended in an error its method
   * declares or was cancelled by the caller goes; default `console.info`.
   */
  readonly info?: (line: string) => void;
  /** Where the line of a request that failed goes; default `console.warn`. */
  readonly warn?: (line: string) => void;
  /**
   * How many characters of the arguments, and of the result, a line shows before `…` (default 256,
   * as in the Rust runtime); a negative or fractional number is a RangeError.
   */
  readonly maxValueChars?: number;
}

/**
 * An {@link ClientOptions.afterRequest} hook that logs one line per request, like the Rust
 * runtime's `TracingLayer`: `add(1, 2) -> 3 in 0.41 ms from tcp://127.0.0.1:4242`,
 * `count(5) -> stream in 0.38 ms from …`, `slow(60) cancelled by the caller in 100.23 ms from …`,
 * `get(7) returned a declared error in 0.45 ms from …: NotFound: …` (an error the method declares,
 * {@link CallOptions.errors}: an answer, not a failure), or
 * `hello(1) failed in 0.52 ms from …: RemoteError: …` (to `warn`). Values are shown with
 * `util.inspect`; the arguments, and the result, are each cut to `maxValueChars` characters
 * followed by `…`.
 */
export function logRequests(options: LogRequestsOptions = {}): AfterRequest {
  const info = options.info ?? ((line: string) => console.info(line));
  const warn = options.warn ?? ((line: string) => console.warn(line));
  const maxChars = options.maxValueChars ?? 256;
  if (!Number.isInteger(maxChars) || maxChars < 0) {
    throw new RangeError(`maxValueChars must be a whole number of characters, got ${describe(maxChars)}`);
  }
  // As the Rust TracingLayer: at most maxChars characters (not UTF-16 units), then "…".
  const shorten = (text: string) => {
    const characters = Array.from(text);
    return characters.length > maxChars ? `${characters.slice(0, maxChars).join("")}…` : text;
  };
  const render = (value: unknown) => inspect(value, { depth: 4, breakLength: Infinity });
  const show = (value: unknown) => shorten(render(value));
  return ({ method, args, endpoint, outcome, elapsedMs, errors }) => {
    const shownArgs = shorten(args.map(render).join(", "));
    const took = `in ${elapsedMs.toFixed(2)} ms${endpoint === undefined ? "" : ` from ${endpoint}`}`;
    switch (outcome.kind) {
      case "returned":
        info(`${method}(${shownArgs}) -> ${show(outcome.value)} ${took}`);
        break;
      case "stream":
        info(`${method}(${shownArgs}) -> stream ${took}`);
        break;
      case "failed":
        if (outcome.error instanceof RemoteError && errors.includes(outcome.error.remoteName)) {
          info(`${method}(${shownArgs}) returned a declared error ${took}: ${String(outcome.error)}`);
        } else {
          warn(`${method}(${shownArgs}) failed ${took}: ${String(outcome.error)}`);
        }
        break;
      case "cancelled":
        info(`${method}(${shownArgs}) cancelled by the caller ${took}`);
        break;
    }
  };
}

// ---------------------------------------------------------------------------------------------
// Typed values and methods (what generated clients call)
// ---------------------------------------------------------------------------------------------

/**
 * Checks one value against a schema type and returns it in its TypeScript form, or throws a
 * TypeError/RangeError whose message starts with `path`, e.g. `Ticket.tags[2]: expected a string,
 * got 7`. Generated clients run converters on every argument before sending it and on every
 * reply: the TypeScript form of a value is its wire form, so one converter serves both directions.
 * Reading a reply (and a direct call) is lenient where the Rust runtime is: `string` accepts a
 * `bin` of valid UTF-8, `bytes` a `str`, `i64`/`u64` a `number` beyond 2^53. Arguments of
 * {@link callMethod} and {@link streamMethod} are checked strictly: a `string` must be a string,
 * `bytes` a `Uint8Array`, a 64-bit integer a `bigint` or a safe-integer `number`.
 */
export type Converter<T> = (value: unknown, path: string) => T;

/** A `bool`. */
export const toBool: Converter<boolean> = (value, path) => {
  if (typeof value === "boolean") {
    return value;
  }
  throw new TypeError(`${path}: expected a boolean, got ${describe(value)}`);
};

/** A converter for integers of at most 32 bits, which are `number`s in TypeScript. */
function integerConverter(min: number, max: number): Converter<number> {
  return (value, path) => {
    const number = toNumber(value, path);
    if (!Number.isInteger(number)) {
      throw new TypeError(`${path}: expected an integer, got ${describe(value)}`);
    }
    if (number < min || number > max) {
      throw new RangeError(`${path}: ${number} is out of range [${min}, ${max}]`);
    }
    return number;
  };
}

/** A converter for 64-bit integers, which are `bigint`s in TypeScript (a `number` is accepted). */
function bigIntConverter(min: bigint, max: bigint): Converter<bigint> {
  return (value, path) => {
    const integer = toBigInt(value, path);
    if (integer < min || integer > max) {
      throw new RangeError(`${path}: ${integer} is out of range [${min}, ${max}]`);
    }
    return integer;
  };
}

/** An `i8`. */
export const toI8 = integerConverter(-(2 ** 7), 2 ** 7 - 1);
/** An `i16`. */
export const toI16 = integerConverter(-(2 ** 15), 2 ** 15 - 1);
/** An `i32`. */
export const toI32 = integerConverter(MIN_INT32, 2 ** 31 - 1);
/** An `i64`, as a `bigint`. */
export const toI64 = bigIntConverter(MIN_INT64, 2n ** 63n - 1n);
/** A `u8`. */
export const toU8 = integerConverter(0, 2 ** 8 - 1);
/** A `u16`. */
export const toU16 = integerConverter(0, 2 ** 16 - 1);
/** A `u32`. */
export const toU32 = integerConverter(0, MAX_UINT32);
/** A `u64`, as a `bigint`. */
export const toU64 = bigIntConverter(0n, MAX_UINT64);
/**
 * An `f64` (an integer is accepted too, as MessagePack peers may send integral floats as ints).
 * An argument is sent as float64, a whole one too (see {@link Float64}).
 */
export const toF64: Converter<number> = (value, path) => floatForWire(toNumber(value, path));
/** The largest finite `f32`, 2^128 − 2^104. */
const F32_MAX = 3.4028234663852886e38;
/**
 * An `f32`: a `number`, read like an `f64` and sent as float64 too. An argument must fit: a finite
 * number beyond ±{@link F32_MAX} is a RangeError, as a Rust server would make it infinite (NaN and
 * the infinities are f32 values). Reading stays lenient.
 */
export const toF32: Converter<number> = (value, path) => {
  const number = toNumber(value, path);
  if (sending && Number.isFinite(number) && Math.abs(number) > F32_MAX) {
    throw new RangeError(`${path}: expected a float that fits f32, got ${number}`);
  }
  return floatForWire(number);
};

/**
 * Whether `text` is to be refused as an argument: it holds a lone surrogate, so it has no UTF-8 form.
 * The encoder refuses it too, but can only say where by position (`args[0].tags[2]`); checked here,
 * the error names the parameter and the fields. Strings are only checked when sending.
 */
function unsendable(text: string): boolean {
  return sending && !isWellFormed.call(text);
}

/** The TypeError for a string that {@link unsendable} refuses, naming `path` and the surrogate. */
function notUnicode(text: string, path: string): TypeError {
  return new TypeError(`${path}: ${notUnicodeReason(text)}`);
}

/**
 * A `bin` received where text is expected (a string, a variant's name) read as the UTF-8 text it
 * holds, as the Rust runtime reads it (a zerorpc-python server may return `bytes`); a `bin` that is
 * not valid UTF-8, and anything else, is left as it is. Arguments are not read this way: they must
 * be strings.
 */
function receivedText(value: unknown): unknown {
  if (value instanceof Uint8Array && !sending) {
    try {
      return strictUtf8.decode(value);
    } catch {
      return value;
    }
  }
  return value;
}

/**
 * A `string`. In a reply, a `bin` (Python `bytes`, a Node `Buffer`) is accepted too and decoded as
 * UTF-8, as the Rust runtime does; invalid UTF-8 is a TypeError. An argument must be a string of
 * valid Unicode (no lone surrogate).
 */
export const toText: Converter<string> = (value, path) => {
  if (typeof value === "string") {
    if (unsendable(value)) {
      throw notUnicode(value, path);
    }
    return value;
  }
  const text = receivedText(value);
  if (typeof text === "string") {
    return text;
  }
  if (value instanceof Uint8Array && !sending) {
    throw new TypeError(`${path}: expected a string, got bytes that are not valid UTF-8: ${describe(value)}`);
  }
  throw new TypeError(`${path}: expected a string, got ${describe(value)}`);
};

/**
 * `bytes`, a `Uint8Array` (a Node `Buffer` is one too). In a reply, a `str` is accepted too and
 * becomes its UTF-8 bytes, as in the Rust runtime. An argument must be a `Uint8Array`.
 */
export const toBytes: Converter<Uint8Array> = (value, path) => {
  if (value instanceof Uint8Array) {
    return value;
  }
  if (typeof value === "string" && !sending) {
    return utf8Encoder.encode(value);
  }
  throw new TypeError(`${path}: expected bytes (a Uint8Array), got ${describe(value)}`);
};

/** `any`: any value, untouched. */
export const toAny: Converter<unknown> = (value) => value;

/** The result of a method that returns nothing: nil on the wire. */
export const toVoid: Converter<void> = (value, path) => {
  if (value !== null && value !== undefined) {
    throw new TypeError(`${path}: expected nil, got ${describe(value)}`);
  }
};

/** `list<T>`: an array whose items `item` converts. */
export function listOf<T>(item: Converter<T>): Converter<T[]> {
  return (value, path) => {
    if (!Array.isArray(value)) {
      throw new TypeError(`${path}: expected a list, got ${describe(value)}`);
    }
    return value.map((entry: unknown, index) => item(entry, `${path}[${index}]`));
  };
}

/** `T?`: nil (`null`, or `undefined` when sending) becomes `null`; anything else is converted. */
export function optionalOf<T>(inner: Converter<T>): Converter<T | null> {
  return (value, path) => (value === null || value === undefined ? null : inner(value, path));
}

/** `map<string, V>`: a map whose values `item` converts; an argument's keys must be valid Unicode. */
export function mapOf<V>(item: Converter<V>): Converter<{ [key: string]: V }> {
  return (value, path) =>
    convertMap(
      value,
      path,
      (key) => {
        if (unsendable(key)) {
          throw notUnicode(key, `${path} key ${JSON.stringify(key)}`);
        }
        return key;
      },
      item,
    );
}

/** `map<K, V>` where `K` is an enum of unit variants: `key` checks each key. */
export function enumMapOf<K extends string, V>(key: Converter<K>, item: Converter<V>): Converter<{ [name in K]?: V }> {
  // Every key was checked to be a K, so the map is one from K.
  return (value, path) =>
    convertMap(value, path, (name) => key(name, `${path} key ${JSON.stringify(name)}`), item) as { [name in K]?: V };
}

/** Converts every entry of a map into a new plain object. */
function convertMap<V>(
  value: unknown,
  path: string,
  key: (name: string) => string,
  item: Converter<V>,
): { [key: string]: V } {
  const entries = Object.entries(toRecord(value, path));
  return Object.fromEntries(entries.map(([name, entry]) => [key(name), item(entry, `${path}[${JSON.stringify(name)}]`)]));
}

/** A map (a struct, or a struct variant's payload) as a record of its entries. */
export function toRecord(value: unknown, path: string): Record<string, unknown> {
  if (isRecord(value) && !(value instanceof Map) && !(value instanceof Date)) {
    return value;
  }
  throw new TypeError(`${path}: expected a map, got ${describe(value)}`);
}

/** The payload of a tuple variant with several values: an array of exactly `length` items. */
export function toTuple(value: unknown, path: string, length: number): unknown[] {
  if (Array.isArray(value) && value.length === length) {
    return value;
  }
  throw new TypeError(`${path}: expected a list of ${length} values, got ${describe(value)}`);
}

/** A unit-only enum: one of `names` (the variants' wire names); a reply may hold the name as `bin`. */
export function oneOf<const N extends string>(value: unknown, path: string, names: readonly N[]): N {
  const received = receivedText(value);
  const name = names.find((candidate) => candidate === received);
  if (name === undefined) {
    throw new TypeError(`${path}: expected one of ${names.map((n) => JSON.stringify(n)).join(", ")}, got ${describe(value)}`);
  }
  return name;
}

/**
 * An enum with data: a unit variant's wire name (one of `units`; a reply may hold it as `bin`), or a
 * map with one key, the wire name of a variant with data (one of `data`). Returns the variant's wire
 * name and its payload.
 */
export function toVariant<const U extends string, const D extends string>(
  value: unknown,
  path: string,
  units: readonly U[],
  data: readonly D[],
): [U, undefined] | [D, unknown] {
  const received = receivedText(value);
  if (typeof received === "string") {
    const unit = units.find((candidate) => candidate === received);
    if (unit !== undefined) {
      return [unit, undefined];
    }
  } else if (isRecord(value)) {
    const entries = Object.entries(value);
    const [entry] = entries;
    const variant = entries.length === 1 ? data.find((candidate) => candidate === entry?.[0]) : undefined;
    if (variant !== undefined) {
      return [variant, entry?.[1]];
    }
  }
  const expected = [
    ...units.map((name) => JSON.stringify(name)),
    ...(data.length > 0 ? [`a map with one key among ${data.map((name) => JSON.stringify(name)).join(", ")}`] : []),
  ];
  throw new TypeError(`${path}: expected ${expected.join(" or ")}, got ${describe(value)}`);
}

/** An IDL `error` type: the static side of its generated class, which extends {@link RemoteError}. */
export interface ErrorType {
  /** The IDL name of the error, which names it in an `ERR` reply. */
  readonly errorName: string;
  /** Builds the typed error from its decoded fields and the `ERR` reply; throws when they do not fit. */
  fromFields(fields: unknown, remote: RemoteError): RemoteError;
}

/** One parameter of a {@link MethodSpec}. */
export interface ParamSpec {
  /** The parameter's name, for error messages. */
  readonly name: string;
  /** Checks the argument before it is sent. */
  readonly convert: Converter<unknown>;
}

/** What a generated client knows about one method; `T` is its result (or stream item) type. */
export interface MethodSpec<T> {
  /** The name a call sends (the method's wire name). */
  readonly name: string;
  /** The parameters, in wire order. */
  readonly params: readonly ParamSpec[];
  /** Converts the result, or each item of a stream. */
  readonly result: Converter<T>;
  /** The declared result type as written in the IDL, which starts error paths (`Ticket.tags[2]`). */
  readonly resultType: string;
  /** The errors the method declares (`throws`). */
  readonly errors: readonly ErrorType[];
  /** The method's default time limit in seconds (`@timeout`), used unless the call sets one. */
  readonly timeoutSeconds?: number;
}

/** The prefix of the line that carries an rpcgen error's fields in an `ERR` traceback (docs/errors.md). */
const ERROR_FIELDS_PREFIX = "rpcgen-error-fields: ";
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The fields of a typed rpcgen error, from the last `rpcgen-error-fields: <base64>` line of an
 * `ERR` traceback (docs/errors.md), decoded from MessagePack; `undefined` when there is no such line
 * or it does not decode.
 */
export function decodeErrorFields(traceback: string | null): unknown {
  const line = traceback
    ?.split("\n")
    .reverse()
    .find((candidate) => candidate.startsWith(ERROR_FIELDS_PREFIX));
  const encoded = line?.slice(ERROR_FIELDS_PREFIX.length).trim();
  if (encoded === undefined || !BASE64.test(encoded)) {
    return undefined;
  }
  try {
    return decoder.decode(new Uint8Array(Buffer.from(encoded, "base64")));
  } catch {
    return undefined;
  }
}

/**
 * Calls a method the way a generated client does: checks the arguments (a TypeError or RangeError
 * before anything is sent), applies the method's default time limit, turns an `ERR` naming a
 * declared error into that error's class, and converts the result (a {@link ProtocolError} when it
 * does not match the schema). Other failures are those of {@link Client.call}.
 */
export async function callMethod<T>(
  client: Client,
  spec: MethodSpec<T>,
  args: readonly unknown[],
  options: CallOptions = {},
): Promise<T> {
  const wireArgs = convertArguments(client, spec, args);
  let reply: unknown;
  try {
    reply = await client.call(spec.name, wireArgs, methodCallOptions(spec, options));
  } catch (error) {
    throw declaredError(error, spec.errors);
  }
  return convertReply(client, spec, reply, "the reply to");
}

/**
 * Calls a streaming method the way a generated client does (see {@link callMethod}); converts each
 * item. The arguments are checked at once (a TypeError or RangeError is thrown here); the request is
 * sent when iteration starts.
 */
export function streamMethod<T>(
  client: Client,
  spec: MethodSpec<T>,
  args: readonly unknown[],
  options: CallOptions = {},
): AsyncGenerator<T, void, undefined> {
  const wireArgs = convertArguments(client, spec, args);
  return streamItems(client, spec, wireArgs, methodCallOptions(spec, options));
}

/** The converted items of a stream, with declared errors turned into their classes. */
async function* streamItems<T>(
  client: Client,
  spec: MethodSpec<T>,
  wireArgs: unknown[],
  options: CallOptions,
): AsyncGenerator<T, void, undefined> {
  try {
    for await (const item of client.stream(spec.name, wireArgs, options)) {
      yield convertReply(client, spec, item, "an item streamed by");
    }
  } catch (error) {
    throw declaredError(error, spec.errors);
  }
}

/** The call's options, with the errors the method declares, and its default time limit unless the call sets one. */
function methodCallOptions(spec: MethodSpec<unknown>, options: CallOptions): CallOptions {
  const errors = spec.errors.map((type) => type.errorName);
  if (options.timeoutSeconds !== undefined || spec.timeoutSeconds === undefined) {
    return { ...options, errors };
  }
  return { ...options, timeoutSeconds: spec.timeoutSeconds, errors };
}

/** Converts the arguments of a call, naming the call in the error when one does not fit. */
function convertArguments(client: Client, spec: MethodSpec<unknown>, args: readonly unknown[]): unknown[] {
  try {
    return whileSending(() => spec.params.map((param, index) => param.convert(args[index], param.name)));
  } catch (error) {
    const message = `invalid argument for ${describeCall(spec.name, client.endpoint)}: ${messageOf(error)}`;
    throw error instanceof RangeError ? new RangeError(message) : new TypeError(message);
  }
}

/** Converts a result or stream item, as a {@link ProtocolError} when it does not match the schema. */
function convertReply<T>(client: Client, spec: MethodSpec<T>, value: unknown, what: string): T {
  try {
    return spec.result(value, spec.resultType);
  } catch (error) {
    throw new ProtocolError(`${what} ${describeCall(spec.name, client.endpoint)} does not match the schema: ${messageOf(error)}`);
  }
}

/** The declared error an `ERR` reply stands for, or `error` itself when it is not one. */
function declaredError(error: unknown, errors: readonly ErrorType[]): unknown {
  if (!(error instanceof RemoteError)) {
    return error;
  }
  const type = errors.find((candidate) => candidate.errorName === error.remoteName);
  const fields = type === undefined ? undefined : decodeErrorFields(error.remoteTraceback);
  if (type === undefined || fields === undefined) {
    return error;
  }
  try {
    return type.fromFields(fields, error);
  } catch {
    return error;
  }
}
