/**
 * Wire-level tests: the bytes the runtime encodes equal the captured zerorpc-python bytes (requests,
 * heartbeats, `_zpc_more`, and replies written with the same header), every captured event decodes,
 * and integers keep their exact value in both directions.
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  decodeEvent,
  encodeChannelEvent,
  encodeRequest,
  Float64,
  ProtocolError,
  toBigInt,
  toNumber,
} from "../src/rpcgen-runtime.js";
import { bytesHex, fromNotation, hexBytes, loadVectors, type Vector } from "./support/vectors.js";

/** The ASCII text of a vector's `{"$bin": hex}` id. */
function idText(notation: unknown): string {
  const bytes = fromNotation(notation);
  assert.ok(bytes instanceof Uint8Array);
  return Buffer.from(bytes).toString("latin1");
}

/**
 * Whether the runtime's encoder can write a captured event as it is: a header of `message_id`, `v`
 * (3) and, on a later event of a channel, `response_to`, in that order, with `bin` ids; arguments in
 * an array; no `bin` map key (read as text, so written back as `str`).
 */
function expressible(captured: Vector): boolean {
  const [header, , args] = captured.decoded as [Record<string, unknown>, unknown, unknown];
  const keys = Object.keys(header).join(",");
  const ids = [header["message_id"], header["response_to"] ?? { $bin: "" }];
  return (
    (keys === "message_id,v" || keys === "message_id,v,response_to") &&
    header["v"] === 3 &&
    ids.every((id) => fromNotation(id) instanceof Uint8Array) &&
    Array.isArray(args) &&
    !JSON.stringify(captured.decoded).includes('"$bin:')
  );
}

describe("encoding matches the captured zerorpc-python events byte for byte: every one the encoder can express", () => {
  for (const captured of loadVectors().filter(expressible)) {
    test(`${captured.name} (${captured.direction})`, () => {
      const [header] = captured.decoded as [Record<string, unknown>];
      const { name, args } = decodeEvent(hexBytes(captured.hex));
      const messageId = idText(header["message_id"]);
      const encoded =
        header["response_to"] === undefined
          ? encodeRequest(messageId, name, args as unknown[])
          : encodeChannelEvent(messageId, idText(header["response_to"]), name, args as unknown[]);
      assert.equal(bytesHex(encoded), captured.hex);
    });
  }
});

describe("decoding", () => {
  for (const captured of loadVectors()) {
    test(`accepts ${captured.name} (${captured.direction})`, () => {
      const [header, name, args] = fromNotation(captured.decoded) as [unknown, unknown, unknown];
      assert.deepEqual(decodeEvent(hexBytes(captured.hex)), { header, name, args });
    });
  }

  test("bin values decode as plain Uint8Array, even from a Buffer", () => {
    const event = decodeEvent(Buffer.from(encodeRequest("0".repeat(32), "m", [new Uint8Array([1, 2])])));
    const [bytes] = event.args as [unknown];
    assert.equal(Object.getPrototypeOf(bytes), Uint8Array.prototype);
    assert.deepEqual(bytes, new Uint8Array([1, 2]));
  });

  test("64-bit integer forms decode as bigint, shorter forms as number", () => {
    const values = [2 ** 32 - 1, 2 ** 32, -(2 ** 31), -(2 ** 31) - 1, 2n ** 64n - 1n];
    const event = decodeEvent(encodeRequest("0".repeat(32), "m", values));
    assert.deepEqual(event.args, [2 ** 32 - 1, 2n ** 32n, -(2 ** 31), -(2n ** 31n) - 1n, 2n ** 64n - 1n]);
  });

  test("rejects what is not a zerorpc event with a ProtocolError", () => {
    assert.throws(() => decodeEvent(new Uint8Array([0xc1])), ProtocolError);
    assert.throws(() => decodeEvent(hexBytes("92a16101")), /expected \[header, name, args\]/);
    assert.throws(() => decodeEvent(hexBytes("93c0a16190")), /header is not a map/);
    assert.throws(() => decodeEvent(hexBytes("9380c390")), /name is not a string/);
  });
});

describe("integers are written in zerorpc-python's smallest form", () => {
  const id = "0".repeat(32);
  const prefix = bytesHex(encodeRequest(id, "m", [])).slice(0, -2);
  /** The bytes of `value` as the runtime writes it. */
  const formOf = (value: unknown): string => {
    const encoded = bytesHex(encodeRequest(id, "m", [value]));
    assert.ok(encoded.startsWith(`${prefix}91`));
    return encoded.slice(prefix.length + 2);
  };

  const cases: [string, unknown, string][] = [
    ["0", 0, "00"],
    ["127", 127, "7f"],
    ["128", 128, "cc80"],
    ["65536", 65536, "ce00010000"],
    ["2^32 - 1", 2 ** 32 - 1, "ceffffffff"],
    ["2^32", 2 ** 32, "cf0000000100000000"],
    ["2^53 - 1", Number.MAX_SAFE_INTEGER, "cf001fffffffffffff"],
    ["-1", -1, "ff"],
    ["-33", -33, "d0df"],
    ["-129", -129, "d1ff7f"],
    ["-2^31", -(2 ** 31), "d280000000"],
    ["-2^31 - 1", -(2 ** 31) - 1, "d3ffffffff7fffffff"],
    ["bigint 5", 5n, "05"],
    ["bigint -200", -200n, "d1ff38"],
    ["bigint 2^63 + 5", 2n ** 63n + 5n, "cf8000000000000005"],
    ["bigint 2^64 - 1", 2n ** 64n - 1n, "cfffffffffffffffff"],
    ["bigint -2^63", -(2n ** 63n), "d38000000000000000"],
    ["1.5", 1.5, "cb3ff8000000000000"],
    ["unsafe integral number 2^60 stays a float", 2 ** 60, "cb43b0000000000000"],
    ["nested", { list: [2 ** 40, 1n] }, "81a46c69737492cf000001000000000001"],
  ];
  for (const [label, value, expected] of cases) {
    test(label, () => assert.equal(formOf(value), expected));
  }

  test("integers beyond 64 bits are refused with a RangeError", () => {
    assert.throws(() => encodeRequest(id, "m", [2n ** 64n]), RangeError);
    assert.throws(() => encodeRequest(id, "m", [[-(2n ** 63n) - 1n]]), /does not fit in 64 bits/);
  });
});

describe("other values", () => {
  const id = "0".repeat(32);
  const argsHex = (value: unknown): string => bytesHex(encodeRequest(id, "m", [value])).slice(-2 * 5);

  test("a Map with string keys is sent as a map", () => {
    assert.equal(argsHex(new Map([["a", 1]])), "9181a16101");
  });

  test("a Float64 is sent as float64, even when whole or -0", () => {
    assert.ok(bytesHex(encodeRequest(id, "m", [new Float64(3)])).endsWith("91cb4008000000000000"));
    assert.ok(bytesHex(encodeRequest(id, "m", [[new Float64(-0)]])).endsWith("9191cb8000000000000000"));
  });

  test("a Map with other keys is refused", () => {
    assert.throws(() => encodeRequest(id, "m", [new Map([[1, "a"]])]), /Map key must be a string/);
  });

  test("a __proto__ key is sent as data, and refused with a clear error when received", () => {
    const value: unknown = JSON.parse('{"__proto__": 1}');
    const encoded = encodeRequest(id, "m", [value]);
    assert.ok(bytesHex(encoded).endsWith(`9181a95f5f70726f746f5f5f01`));
    assert.throws(() => decodeEvent(encoded), (error: unknown) => {
      assert.ok(error instanceof ProtocolError);
      assert.match(error.message, /__proto__ is not allowed/);
      return true;
    });
  });

  test("a cyclic value is refused", () => {
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    assert.throws(() => encodeRequest(id, "m", cyclic), /nested deeper than 127 levels .* \(is it cyclic\?\)$/);
  });
});

describe("nesting: 127 levels in an argument, as a Rust rpcgen server reads (128 with the arguments' array)", () => {
  const id = "0".repeat(32);
  /** `levels` arrays, or single-entry maps, around a nil. */
  const nested = (levels: number, container: "array" | "map"): unknown => {
    let value: unknown = null;
    for (let level = 0; level < levels; level += 1) {
      value = container === "array" ? [value] : { k: value };
    }
    return value;
  };

  for (const container of ["array", "map"] as const) {
    test(`${container}s: 127 levels are sent in an argument and in a header entry, 128 are a RangeError`, () => {
      const deepest = nested(127, container);
      const sent = decodeEvent(encodeRequest(id, "m", [deepest], { trace: deepest }));
      assert.deepEqual(sent.args, [deepest]);
      assert.deepEqual(sent.header["trace"], deepest);
      const tooDeep = nested(128, container);
      assert.throws(() => encodeRequest(id, "m", [tooDeep]), RangeError);
      assert.throws(() => encodeRequest(id, "m", [], { trace: tooDeep }), RangeError);
    });
  }

  test("whatever the depth, a value is sent or refused with the runtime's RangeError, never the encoder's error", () => {
    for (let levels = 90; levels <= 140; levels += 1) {
      const value = nested(levels, levels % 2 === 0 ? "array" : "map");
      for (const encode of [() => encodeRequest(id, "m", [value]), () => encodeRequest(id, "m", [], { trace: value })]) {
        if (levels <= 127) {
          encode();
        } else {
          assert.throws(encode, { name: "RangeError", message: /nested deeper than 127 levels/ });
        }
      }
    }
  });
});

describe("integer helpers for generated code", () => {
  test("toBigInt accepts numbers and bigints", () => {
    assert.equal(toBigInt(7, "x"), 7n);
    assert.equal(toBigInt(2n ** 63n + 5n, "x"), 2n ** 63n + 5n);
  });

  test("toBigInt refuses non-integers", () => {
    assert.throws(() => toBigInt(1.5, "field id"), /field id: expected an integer, got 1\.5/);
    assert.throws(() => toBigInt("7", "field id"), TypeError);
  });

  test("toNumber accepts numbers and bigints a number holds exactly", () => {
    assert.equal(toNumber(1.5, "x"), 1.5);
    assert.equal(toNumber(2n ** 32n, "x"), 2 ** 32);
  });

  test("toNumber refuses bigints a number cannot hold, and non-numbers", () => {
    assert.throws(() => toNumber(2n ** 53n, "count"), RangeError);
    assert.throws(() => toNumber(null, "count"), /count: expected a number, got null/);
  });
});
