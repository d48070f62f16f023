/**
 * The runtime's own MessagePack encoder: byte for byte what the runtime sent before it had one
 * (`@msgpack/msgpack`'s Encoder after the runtime's preparation of values) for thousands of values,
 * and, where it deliberately differs, what it does instead: a lone surrogate, a function, a symbol
 * or an invalid `Date` is refused with an error naming where it is, a `Map` keeps its order.
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Encoder, ExtData } from "@msgpack/msgpack";
import { decodeEvent, encodeChannelEvent, encodeRequest, Float64 } from "../src/rpcgen-runtime.js";
import { bytesHex } from "./support/vectors.js";

/** `@msgpack/msgpack`'s Encoder as the runtime set it up, with its private `encodeObject` wrapped for {@link Float64}. */
const legacyEncoder = new Encoder({ useBigInt64: true, maxDepth: 130 });
{
  const internals = legacyEncoder as unknown as {
    encodeObject(object: unknown, depth: number): void;
    encodeNumberAsFloat(value: number): void;
  };
  const encodeObject = internals.encodeObject.bind(legacyEncoder);
  const encodeFloat = internals.encodeNumberAsFloat.bind(legacyEncoder);
  internals.encodeObject = (object, depth) =>
    object instanceof Float64 ? encodeFloat(object.value) : encodeObject(object, depth);
}

/**
 * A value as the runtime prepared it for that encoder: integers beyond 32 bits as bigints, others
 * as numbers, a `Map` as an object.
 */
function legacyPrepared(value: unknown): unknown {
  if (typeof value === "number") {
    return Number.isSafeInteger(value) && (value < -(2 ** 31) || value > 2 ** 32 - 1) ? BigInt(value) : value;
  }
  if (typeof value === "bigint") {
    return value >= -(2n ** 31n) && value <= 2n ** 32n - 1n ? Number(value) : value;
  }
  if (
    typeof value !== "object" ||
    value === null ||
    ArrayBuffer.isView(value) ||
    value instanceof Date ||
    value instanceof ExtData ||
    value instanceof Float64
  ) {
    return value;
  }
  if (Array.isArray(value)) {
    return value.map((item: unknown) => legacyPrepared(item));
  }
  const entries = value instanceof Map ? [...(value as Map<string, unknown>)] : Object.entries(value);
  return Object.fromEntries(entries.map(([key, item]) => [key, legacyPrepared(item)]));
}

/** The event the runtime encoded before it had its own encoder. */
function legacyEvent(
  messageId: string,
  responseTo: string | undefined,
  name: string,
  args: readonly unknown[],
  extras = {},
): string {
  const header: Record<string, unknown> = { message_id: new TextEncoder().encode(messageId), v: 3 };
  for (const [key, value] of Object.entries(extras)) {
    if (!["message_id", "v", "response_to"].includes(key)) {
      header[key] = legacyPrepared(value);
    }
  }
  if (responseTo !== undefined) {
    header["response_to"] = new TextEncoder().encode(responseTo);
  }
  return bytesHex(legacyEncoder.encode([header, name, args.map((arg) => legacyPrepared(arg))]));
}

const id = "0123456789abcdef0123456789abcdef";
const channel = "fedcba9876543210fedcba9876543210";

/** A small deterministic random generator (xorshift32), so that every run checks the same values. */
class Random {
  private state: number;

  /** Starts from `seed` (not 0). */
  constructor(seed: number) {
    this.state = seed;
  }

  /** A whole number in [0, 2^32). */
  next(): number {
    this.state ^= this.state << 13;
    this.state ^= this.state >>> 17;
    this.state ^= this.state << 5;
    return this.state >>> 0;
  }

  /** A whole number in [0, limit). */
  below(limit: number): number {
    return this.next() % limit;
  }

  /** One of `choices`. */
  pick<T>(choices: readonly T[]): T {
    return choices[this.below(choices.length)] as T;
  }
}

/** Lengths around the limits of MessagePack's forms and of `@msgpack/msgpack`'s string paths. */
const LENGTHS = [0, 1, 2, 3, 4, 8, 15, 16, 17, 31, 32, 33, 49, 50, 51, 63, 64, 65, 100, 255, 256, 300];
/** Characters of 1, 2, 3 and 4 bytes of UTF-8 (the last two a surrogate pair). */
const CHARACTERS = ["a", "~", "\u0000", "\u007f", "é", "\u0080", "\u07ff", "€", "\u0800", "\uffff", "日", "😀", "\u{10ffff}"];

/** A string of `length` characters; ASCII only, or mixed. */
function randomText(random: Random, length: number): string {
  const ascii = random.below(2) === 0;
  let text = "";
  for (let index = 0; index < length; index += 1) {
    text += ascii ? String.fromCharCode(0x20 + random.below(0x5f)) : random.pick(CHARACTERS);
  }
  return text;
}

/**
 * An integer of a random size in [−2^63, 2^64): a number when a number holds it exactly (but one
 * time in four), else a bigint.
 */
function randomInteger(random: Random): number | bigint {
  const bits = random.below(65);
  const magnitude = ((BigInt(random.next()) << 32n) | BigInt(random.next())) & ((1n << BigInt(bits)) - 1n);
  const integer = random.below(2) === 0 || bits === 64 ? magnitude : -magnitude - 1n;
  const safe = integer >= BigInt(Number.MIN_SAFE_INTEGER) && integer <= BigInt(Number.MAX_SAFE_INTEGER);
  return safe && random.below(4) !== 0 ? Number(integer) : integer;
}

/** A number of any kind: special, whole or not, from its 64 random bits. */
function randomNumber(random: Random): number {
  const special = [0, -0, NaN, Infinity, -Infinity, 0.5, -1.5, 2 ** 53, 2 ** 60, -(2 ** 53) - 2, Number.MAX_VALUE];
  if (random.below(3) === 0) {
    return random.pick(special);
  }
  const view = new DataView(new ArrayBuffer(8));
  view.setUint32(0, random.next());
  view.setUint32(4, random.next());
  return view.getFloat64(0);
}

/** Random bytes, as many as one of {@link LENGTHS}. */
function randomUint8Array(random: Random): Uint8Array {
  return Uint8Array.from({ length: random.pick(LENGTHS) }, () => random.below(256));
}

/** Random bytes as a Uint8Array, a Buffer or another view of them. */
function randomBytes(random: Random): ArrayBufferView {
  const bytes = randomUint8Array(random);
  switch (random.below(5)) {
    case 0:
      return Buffer.from(bytes);
    case 1:
      return new Int16Array(bytes.buffer, 0, Math.floor(bytes.length / 2));
    case 2:
      return new DataView(bytes.buffer, Math.min(1, bytes.length));
    default:
      return bytes;
  }
}

/** A valid `Date` within ±2^52 ms of 1970, or one at a limit of the timestamp forms. */
function randomDate(random: Random): Date {
  const limits = [0, 1, 999, 1000, -1, -1000, -1001, (2 ** 32 - 1) * 1000, 2 ** 32 * 1000, 2 ** 32 * 1000 + 1];
  limits.push((2 ** 34 - 1) * 1000 + 999, 2 ** 34 * 1000);
  if (random.below(2) === 0) {
    return new Date(random.pick(limits));
  }
  return new Date((random.next() * 2 ** 20 + random.below(2 ** 20)) * (random.below(2) === 0 ? 1 : -1));
}

/** How many items or entries an array or a map has: around the limit of the fix forms. */
const SIZES = [0, 1, 5, 15, 16, 17];

/**
 * A key of a few characters, that looks like an array index (`"2"`) only when `indexLike` allows
 * it: a `Map`'s and the header's keys do not, as the encoder writes those in another order than
 * `@msgpack/msgpack` did (see the tests below).
 */
function randomKey(random: Random, indexLike: boolean): string {
  const key = randomText(random, random.pick([0, 1, 3, 8, 40]));
  return !indexLike && /^\d+$/.test(key) ? `k${key}` : key;
}

/** The entries of a map, with keys that may look like array indexes when `indexLike`. */
function randomEntries(random: Random, depth: number, indexLike: boolean): [string, unknown][] {
  return Array.from({ length: random.pick(SIZES) }, () => [randomKey(random, indexLike), randomValue(random, depth)]);
}

/** A value of any kind the runtime sends, with arrays and maps at most `depth` more levels deep. */
function randomValue(random: Random, depth: number): unknown {
  const kind = random.below(depth > 0 ? 16 : 12);
  switch (kind) {
    case 0:
      return random.pick([null, undefined, true, false]);
    case 1:
    case 2:
      return randomInteger(random);
    case 3:
      return randomNumber(random);
    case 4:
    case 5:
      return randomText(random, random.pick(LENGTHS));
    case 6:
      return randomBytes(random);
    case 7:
      return new Float64(random.below(2) === 0 ? randomNumber(random) : random.below(1000) - 500);
    case 8:
      return randomDate(random);
    case 9:
      return new ExtData(random.below(256) - 128, randomUint8Array(random));
    case 10:
      return random.pick([0, -0, 127, 128, -32, -33, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, -(2 ** 31), -(2 ** 31) - 1]);
    case 11:
      return random.pick([2n ** 64n - 1n, -(2n ** 63n), 2n ** 63n, 5n, -5n, 2n ** 32n - 1n, 2n ** 32n]);
    case 12:
      return Array.from({ length: random.pick(SIZES) }, () => randomValue(random, depth - 1));
    case 13:
      return Object.fromEntries(randomEntries(random, depth - 1, true));
    case 14:
      return new Map(randomEntries(random, depth - 1, false));
    default: {
      const sparse: unknown[] = [];
      sparse[random.below(5)] = randomValue(random, depth - 1);
      return sparse;
    }
  }
}

describe("the encoder writes what @msgpack/msgpack wrote for the runtime, byte for byte", () => {
  /** A class instance is sent as a map of its own enumerable fields. */
  class Point {
    readonly x = 1;
    readonly y = -2.5;
    /** Not sent: it is on the prototype. */
    get norm(): number {
      return Math.hypot(this.x, this.y);
    }
  }
  /** Values at the limits of MessagePack's forms, and objects of several kinds. */
  const chosen: [string, unknown][] = [
    ["a string of 65,535 bytes", "x".repeat(65535)],
    ["a string of 65,536 bytes", "é".repeat(32768)],
    ["a string of 70,000 mixed characters", "a😀é€".repeat(17500)],
    ["65,536 bytes", new Uint8Array(65536).fill(7)],
    ["an array of 65,536 items", Array.from({ length: 65536 }, (_, index) => index)],
    ["a map of 65,536 entries", Object.fromEntries(Array.from({ length: 65536 }, (_, index) => [`k${index}`, index]))],
    ["an extension of 65,536 bytes", new ExtData(5, new Uint8Array(65536))],
    ["a class instance", new Point()],
    ["an object with index-like keys", { b: 1, 2: "two", a: [3], 10: null }],
    ["a __proto__ key", JSON.parse('{"__proto__": 1, "x": 2}')],
    ["an object with an undefined field", { a: undefined }],
    ["nested values", { list: [1, [2, [3, new Map([["k", new Float64(4)]])]]], bytes: Buffer.from("hi") }],
  ];
  for (const [label, value] of chosen) {
    test(label, () => {
      assert.equal(bytesHex(encodeRequest(id, "m", [value])), legacyEvent(id, undefined, "m", [value]));
    });
  }

  test("3,000 random values, as arguments and as header entries", () => {
    const random = new Random(0x5eed);
    for (let round = 0; round < 3000; round += 1) {
      const args = Array.from({ length: random.below(4) }, () => randomValue(random, 3));
      const extras = random.below(4) === 0 ? Object.fromEntries(randomEntries(random, 2, false)) : {};
      const method = randomText(random, random.pick([1, 5, 40]));
      const expected = legacyEvent(id, undefined, method, args, extras);
      assert.equal(bytesHex(encodeRequest(id, method, args, extras)), expected, `round ${round}`);
    }
  });

  test("values that cross the end of the encoder's buffer, as it starts (2 KiB, back to it after an event above 1 MiB)", () => {
    const tails = [
      new Uint8Array(3000),
      new Uint8Array(5),
      new ExtData(3, new Uint8Array(20)),
      new Date(1_700_000_000_000),
      new Date(1_700_000_000_123),
      new Date(-1),
      new Float64(2),
      2 ** 40,
      2n ** 63n,
      -70000,
      "é".repeat(30),
      "x".repeat(100),
    ];
    for (let padding = 1990; padding < 2050; padding += 1) {
      for (const tail of tails) {
        encodeRequest(id, "m", [new Uint8Array(1100 * 1024)]);
        const args = ["x".repeat(padding), tail];
        const expected = legacyEvent(id, undefined, "m", args);
        assert.equal(bytesHex(encodeRequest(id, "m", args)), expected, `${padding}: ${String(tail)}`);
      }
    }
  });

  test("heartbeats and stream credit", () => {
    for (const [name, args] of [
      ["_zpc_hb", [0]],
      ["_zpc_more", [100]],
      ["_zpc_more", [51]],
    ] as const) {
      assert.equal(bytesHex(encodeChannelEvent(id, channel, name, args)), legacyEvent(id, channel, name, args));
    }
  });
});

describe("where the encoder deliberately differs", () => {
  /** The bytes of the argument `value` (after the event's header and name, in the arguments' array). */
  const argumentHex = (value: unknown): string => {
    const prefix = bytesHex(encodeRequest(id, "m", [])).slice(0, -2);
    return bytesHex(encodeRequest(id, "m", [value])).slice(prefix.length + 2);
  };

  test("a Map is sent in its own order, index-like keys too (it went through an object, which put them first)", () => {
    assert.equal(argumentHex(new Map([["b", 1], ["2", 2]])), "82a16201a13202");
    assert.equal(legacyEvent(id, undefined, "m", [new Map([["b", 1], ["2", 2]])]).slice(-14), "82a13202a16201");
  });

  test("header entries follow message_id and v, keys that look like indexes too", () => {
    const { header } = decodeEvent(encodeRequest(id, "m", [], { 1: "one", trace: "t" }));
    assert.deepEqual(Object.keys(header), ["1", "message_id", "v", "trace"]); // the decoder's object sorts them again
    const hex = bytesHex(encodeRequest(id, "m", [], { 1: "one" }));
    assert.ok(hex.startsWith(`9383aa${bytesHex(Buffer.from("message_id"))}c420`), hex);
    assert.ok(hex.endsWith(`a17603a131a36f6e65a16d90`), hex);
  });

  /** Asserts that sending `args` (and `extras`) throws a `type` error whose message says `where` and `why`. */
  const refused = (args: unknown[], type: typeof TypeError | typeof RangeError, message: RegExp, extras = {}): void => {
    assert.throws(() => encodeRequest(id, "rename", args, extras), (error: unknown) => {
      assert.ok(error instanceof type, String(error));
      assert.equal(error.constructor, type);
      assert.match(error.message, message);
      return true;
    });
  };

  test("a string with a lone surrogate is refused with a TypeError naming where it is, however long and wherever it is", () => {
    const reason = String.raw`cannot send a string that is not valid Unicode \(a lone surrogate at index 1\): 'a\\ud83d'`;
    refused(["a\ud83d"], TypeError, new RegExp(String.raw`^invalid request for "rename": args\[0\]: ${reason}$`));
    refused(["ok", ["x", { list: [1, "\udc00 low first"] }]], TypeError, /: args\[1\]\[1\]\.list\[1\]: .* at index 0\)/);
    refused([`${"long ".repeat(20)}\ud800`], TypeError, /: args\[0\]: .* at index 100\)/);
    refused([{ "key \ud83d": 1 }], TypeError, /: args\[0\]\["key \\ud83d"\]: .* at index 4\)/);
    refused([new Map([["\ud83d", 1]])], TypeError, /: args\[0\]\["\\ud83d"\]: /);
    refused([], TypeError, /: header\.trace_id\[0\]: /, { trace_id: ["\ud83d"] });
    refused([], TypeError, /: header\["\\ud83d"\]: /, { "\ud83d": 1 });
    assert.throws(() => encodeRequest(id, "\ud83d", []), /^TypeError: invalid request for "\ud83d": the event name: cannot send/);
  });

  test("well-formed text of every size is sent as UTF-8, surrogate pairs as 4 bytes", () => {
    for (const text of ["", "😀", "a😀b", "😀".repeat(40), "日本".repeat(100)]) {
      const { args } = decodeEvent(encodeRequest(id, "m", [text]));
      assert.deepEqual(args, [text]);
    }
  });

  test("functions and symbols are refused with a TypeError naming where they are (it was a plain Error)", () => {
    const message = /^invalid request for "rename": args\[0\]\.callback: cannot send a function: \[Function: callback\]$/;
    refused([{ callback: () => 1 }], TypeError, message);
    refused([1, [Symbol("s")]], TypeError, /: args\[1\]\[0\]: cannot send a symbol: Symbol\(s\)$/);
  });

  test("an invalid Date is refused (it was sent as the timestamp of 1970-01-01)", () => {
    refused([new Date(NaN)], TypeError, /: args\[0\]: cannot send an invalid Date$/);
    assert.ok(legacyEvent(id, undefined, "m", [new Date(NaN)]).endsWith(`91c70cff${"00".repeat(12)}`));
  });

  test("an ExtData whose data is a function is refused", () => {
    const lazy = new ExtData(1, () => new Uint8Array(1));
    refused([lazy], TypeError, /: args\[0\]: cannot send an ExtData whose data is a function/);
  });

  test("the errors of integers, Map keys and nesting say where the value is", () => {
    refused([[1, 2n ** 64n]], RangeError, /: args\[0\]\[1\]: the integer 18446744073709551616 does not fit in 64 bits/);
    refused([{ m: new Map([[1, "a"]]) }], TypeError, /: args\[0\]\.m: a Map key must be a string to be sent, got 1$/);
    const cyclic: { self?: unknown } = {};
    cyclic.self = cyclic;
    const shownPath = String.raw`args\[0\]` + String.raw`\.self`.repeat(11);
    refused([cyclic], RangeError, new RegExp(`: ${shownPath}…: a value is nested deeper than 127 levels`));
  });

  test("a getter that sends a request while its object is encoded gets its own buffer", () => {
    const value = {
      get inner(): string {
        return bytesHex(encodeRequest(id, "inner", ["x".repeat(10)]));
      },
    };
    const outer = decodeEvent(encodeRequest(id, "outer", [value, "after"]));
    const [{ inner }] = outer.args as [{ inner: string }];
    assert.equal(inner, bytesHex(encodeRequest(id, "inner", ["x".repeat(10)])));
    assert.deepEqual(outer.name, "outer");
    assert.equal((outer.args as unknown[])[1], "after");
  });

  test("a refused value leaves the encoder ready for the next event", () => {
    assert.throws(() => encodeRequest(id, "m", [["x".repeat(5000), "\ud83d"]]), TypeError);
    assert.equal(bytesHex(encodeRequest(id, "m", [1])), legacyEvent(id, undefined, "m", [1]));
  });
});
