/**
 * The converters and error-field decoding that generated clients use: what they accept, what they
 * convert, and the paths in their errors.
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { inspect } from "node:util";
import { Encoder } from "@msgpack/msgpack";
import {
  callMethod,
  Client,
  decodeErrorFields,
  enumMapOf,
  Float64,
  listOf,
  logRequests,
  mapOf,
  oneOf,
  optionalOf,
  toAny,
  toBool,
  toBytes,
  toF32,
  toF64,
  toI32,
  toI64,
  toI8,
  toRecord,
  toText,
  toTuple,
  toU64,
  toU8,
  toVariant,
  toVoid,
  streamMethod,
  type Converter,
  type MethodSpec,
} from "../src/rpcgen-runtime.js";

describe("scalar converters", () => {
  test("integers up to 32 bits are numbers, range-checked", () => {
    assert.equal(toU8(255, "x"), 255);
    assert.equal(toI8(-128, "x"), -128);
    assert.equal(toI32(7n, "x"), 7);
    assert.throws(() => toU8(256, "n"), { name: "RangeError", message: "n: 256 is out of range [0, 255]" });
    assert.throws(() => toU8(-1, "n"), RangeError);
    assert.throws(() => toI32(1.5, "n"), { name: "TypeError", message: "n: expected an integer, got 1.5" });
    assert.throws(() => toI32("1", "n"), TypeError);
  });

  test("64-bit integers are bigints, range-checked", () => {
    assert.equal(toU64(5, "x"), 5n);
    assert.equal(toU64(2n ** 64n - 1n, "x"), 2n ** 64n - 1n);
    assert.equal(toI64(-(2n ** 63n), "x"), -(2n ** 63n));
    assert.throws(() => toU64(-1n, "id"), { name: "RangeError", message: /^id: -1 is out of range/ });
    assert.throws(() => toI64(2n ** 63n, "id"), RangeError);
    assert.throws(() => toU64(null, "id"), { name: "TypeError", message: "id: expected an integer, got null" });
  });

  test("other scalars", () => {
    assert.equal(toBool(true, "b"), true);
    assert.throws(() => toBool(1, "b"), { message: "b: expected a boolean, got 1" });
    assert.equal(toF64(3, "f"), 3);
    assert.equal(toF64(2n, "f"), 2);
    assert.ok(Object.is(toF64(-0, "f"), -0), "a whole float is a plain number when read");
    assert.equal(toText("é", "s"), "é");
    assert.throws(() => toText(7, "Ticket.tags[2]"), { message: "Ticket.tags[2]: expected a string, got 7" });
    const bytes = new Uint8Array([1, 2]);
    assert.equal(toBytes(bytes, "b"), bytes);
    assert.throws(() => toBytes(7, "b"), { name: "TypeError", message: "b: expected bytes (a Uint8Array), got 7" });
    const anything = { a: [1n] };
    assert.equal(toAny(anything, "a"), anything);
    assert.equal(toVoid(null, "r"), undefined);
    assert.throws(() => toVoid(0, "r"), { message: "r: expected nil, got 0" });
  });
});

describe("reading is lenient on str and bin, as in the Rust runtime", () => {
  test("a string accepts a bin of valid UTF-8 (zerorpc-python bytes, a zerorpc-node Buffer)", () => {
    assert.equal(toText(new TextEncoder().encode("héllo"), "s"), "héllo");
    assert.equal(toText(Buffer.from("\ufeffa"), "s"), "\ufeffa", "a BOM is text, as in Rust");
    assert.equal(toText(new Uint8Array(0), "s"), "");
    assert.deepEqual(listOf(toText)([Buffer.from("a"), "b"], "tags"), ["a", "b"]);
  });

  test("a bin of invalid UTF-8 is refused, naming what was expected", () => {
    assert.throws(() => toText(new Uint8Array([0x61, 0xff]), "Ticket.title"), {
      name: "TypeError",
      message: /^Ticket\.title: expected a string, got bytes that are not valid UTF-8: Uint8Array\(2\) \[ 97, 255 \]$/,
    });
  });

  test("an enum's variant name accepts a bin of valid UTF-8", () => {
    assert.equal(oneOf(Buffer.from("warn"), "level", ["Debug", "warn"]), "warn");
    assert.deepEqual(toVariant(Buffer.from("Empty"), "s", ["Empty"], ["Circle"]), ["Empty", undefined]);
    assert.throws(() => oneOf(new Uint8Array([0xff]), "level", ["Debug"]), {
      message: 'level: expected one of "Debug", got Uint8Array(1) [ 255 ]',
    });
  });

  test("bytes accept a str, as its UTF-8 bytes", () => {
    assert.deepEqual(toBytes("é", "b"), new Uint8Array([0xc3, 0xa9]));
    assert.deepEqual(optionalOf(toBytes)("", "b"), new Uint8Array(0));
  });

  test("a 64-bit integer accepts a number beyond 2^53 (zerorpc-node sends them as float64)", () => {
    assert.equal(toU64(2 ** 63, "big"), 2n ** 63n);
  });
});

describe("arguments of generated methods are checked strictly", () => {
  /** A method `m` of one parameter, `name`, that `convert` checks. */
  const method = (name: string, convert: Converter<unknown>): MethodSpec<void> => ({
    name: "m",
    params: [{ name, convert }],
    result: toVoid,
    resultType: "void",
    errors: [],
  });
  // Nothing listens there: every call below must be refused before anything is sent. A short time
  // limit makes a call that was wrongly sent fail the test quickly.
  const options = { timeoutSeconds: 0.5 };

  test("a string must be a string and bytes a Uint8Array", async () => {
    const client = new Client("tcp://127.0.0.1:9");
    try {
      await assert.rejects(callMethod(client, method("name", toText), [Buffer.from("x")], options), {
        name: "TypeError",
        message: /^invalid argument for "m" on tcp:\/\/127\.0\.0\.1:9: name: expected a string, got /,
      });
      await assert.rejects(callMethod(client, method("data", toBytes), ["x"], options), {
        name: "TypeError",
        message: /: data: expected bytes \(a Uint8Array\), got 'x'$/,
      });
      assert.throws(() => streamMethod(client, method("tags", listOf(toText)), [[new Uint8Array(1)]]), {
        name: "TypeError",
        message: /: tags\[0\]: expected a string, got /,
      });
      // Reading is lenient again once the arguments were refused.
      assert.equal(toText(Buffer.from("x"), "s"), "x");
      assert.equal(client.pendingCalls, 0);
    } finally {
      client.close();
    }
  });

  test("a string, a string in a list or struct, and a string map's key must be valid Unicode", async () => {
    const client = new Client("tcp://127.0.0.1:9");
    const point = (value: unknown, path: string) => ({ label: toText(toRecord(value, path)["label"], `${path}.label`) });
    try {
      await assert.rejects(callMethod(client, method("name", toText), ["a\uD83D"], options), {
        name: "TypeError",
        message: /^invalid argument for "m" on \S+: name: cannot send a string that is not valid Unicode \(a lone surrogate at index 1\): 'a\\ud83d'$/,
      });
      const long = `${"x".repeat(300)}\uDE00y`;
      assert.throws(() => streamMethod(client, method("names", listOf(toText)), [["ok", long]]), {
        name: "TypeError",
        message: /: names\[1\]: cannot send a string that is not valid Unicode \(a lone surrogate at index 300\)/,
      });
      assert.throws(() => streamMethod(client, method("point", point), [{ label: "\uDE00\uD83D" }]), {
        message: /: point\.label: cannot send a string that is not valid Unicode \(a lone surrogate at index 0\)/,
      });
      assert.throws(() => streamMethod(client, method("scores", mapOf(toI32)), [{ ok: 1, "b\uD83D": 2 }]), {
        message: /: scores key "b\\ud83d": cannot send a string that is not valid Unicode \(a lone surrogate at index 1\)/,
      });
      // Surrogate pairs are valid Unicode; checked at once, the requests would only go out once iterated.
      assert.doesNotThrow(() => streamMethod(client, method("scores", mapOf(toText)), [{ "😀": "😀x", "": "" }]));
      assert.equal(client.pendingCalls, 0);
      // Reading stays as it was: a JavaScript string is taken as it is.
      assert.equal(toText("a\uD83D", "s"), "a\uD83D");
    } finally {
      client.close();
    }
  });

  test("an f32 must fit f32: a finite number beyond ±f32::MAX is refused, NaN and infinities are not", async () => {
    const client = new Client("tcp://127.0.0.1:9");
    const f32Max = 3.4028234663852886e38;
    try {
      await assert.rejects(callMethod(client, method("ratio", toF32), [1e39], options), {
        name: "RangeError",
        message: /^invalid argument for "m" on \S+: ratio: expected a float that fits f32, got 1e\+39$/,
      });
      assert.throws(() => streamMethod(client, method("ratios", listOf(toF32)), [[f32Max, -f32Max * 1.0000001]]), {
        name: "RangeError",
        message: /: ratios\[1\]: expected a float that fits f32, got -3\.40282\d*e\+38$/,
      });
      for (const fits of [f32Max, -f32Max, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 5e-324]) {
        // Checked at once; the request would only go out once iterated.
        assert.doesNotThrow(() => streamMethod(client, method("ratio", toF32), [fits]));
      }
      assert.equal(client.pendingCalls, 0);
      // Reading stays lenient: a Rust server's f32 can hold no such value, other peers decide.
      assert.equal(toF32(1e39, "ratio"), 1e39);
    } finally {
      client.close();
    }
  });

  test("a 64-bit integer given as a number beyond 2^53 is refused: it is already rounded", async () => {
    const client = new Client("tcp://127.0.0.1:9");
    try {
      await assert.rejects(callMethod(client, method("id", toU64), [2 ** 53], options), {
        name: "RangeError",
        message:
          /^invalid argument for "m" on \S+: id: the number 9007199254740992 is outside ±Number\.MAX_SAFE_INTEGER, so it may already be rounded: pass a bigint instead \(e\.g\. 2n \*\* 63n, not 2 \*\* 63\)$/,
      });
      await assert.rejects(callMethod(client, method("ids", listOf(toI64)), [[1, -(2 ** 63)]], options), {
        name: "RangeError",
        message: /: ids\[1\]: the number -9223372036854775808 is outside .*: pass a bigint instead/,
      });
      assert.equal(client.pendingCalls, 0);
      // Still accepted when reading a reply.
      assert.equal(toI64(-(2 ** 63), "x"), -(2n ** 63n));
    } finally {
      client.close();
    }
  });
});

describe("Float64, the form of a whole f32/f64 argument", () => {
  test("shows as its number in util.inspect and in logRequests lines", () => {
    assert.equal(inspect(new Float64(-0)), "-0");
    const lines: string[] = [];
    const log = logRequests({ info: (line) => lines.push(line) });
    const args = [new Float64(3), { x: new Float64(2) }];
    log({ method: "measure", args, endpoint: undefined, outcome: { kind: "returned", value: null }, elapsedMs: 1, errors: [] });
    assert.deepEqual(lines, ["measure(3, { x: 2 }) -> null in 1.00 ms"]);
  });
});

describe("container converters", () => {
  test("lists, optionals and maps convert their items and extend the path", () => {
    assert.deepEqual(listOf(toU64)([1, 2n], "l"), [1n, 2n]);
    assert.throws(() => listOf(toText)(["a", "b", 7], "Ticket.tags"), {
      message: "Ticket.tags[2]: expected a string, got 7",
    });
    assert.throws(() => listOf(toText)("a", "l"), { message: "l: expected a list, got 'a'" });
    assert.equal(optionalOf(toText)(null, "o"), null);
    assert.equal(optionalOf(toText)(undefined, "o"), null);
    assert.equal(optionalOf(toText)("x", "o"), "x");
    assert.deepEqual(mapOf(toU64)({ a: 1 }, "m"), { a: 1n });
    assert.throws(() => mapOf(toU64)({ "a b": "x" }, "m"), { message: 'm["a b"]: expected an integer, got \'x\'' });
    assert.throws(() => mapOf(toU64)([], "m"), { message: "m: expected a map, got []" });
    assert.throws(() => mapOf(toU64)(new Map(), "m"), TypeError);
  });

  test("maps keyed by an enum check their keys", () => {
    const color = (value: unknown, path: string) => oneOf(value, path, ["Red", "Green"]);
    assert.deepEqual(enumMapOf(color, toU8)({ Red: 1 }, "m"), { Red: 1 });
    assert.throws(() => enumMapOf(color, toU8)({ Blue: 1 }, "m"), {
      message: 'm key "Blue": expected one of "Red", "Green", got \'Blue\'',
    });
  });

  test("records and tuples", () => {
    assert.deepEqual(toRecord({ a: 1 }, "r"), { a: 1 });
    assert.throws(() => toRecord(null, "r"), TypeError);
    assert.throws(() => toRecord(new Uint8Array(1), "r"), TypeError);
    assert.deepEqual(toTuple([1, "a"], "t", 2), [1, "a"]);
    assert.throws(() => toTuple([1], "Shape.Rect", 2), { message: "Shape.Rect: expected a list of 2 values, got [ 1 ]" });
  });
});

describe("enum converters", () => {
  test("unit enums are one of their wire names", () => {
    assert.equal(oneOf("warn", "level", ["Debug", "warn"]), "warn");
    assert.throws(() => oneOf("Warning", "level", ["Debug", "warn"]), {
      message: "level: expected one of \"Debug\", \"warn\", got 'Warning'",
    });
  });

  test("enums with data are a unit name or a one-key map", () => {
    assert.deepEqual(toVariant("Empty", "s", ["Empty"], ["Circle"]), ["Empty", undefined]);
    assert.deepEqual(toVariant({ Circle: 1.5 }, "s", ["Empty"], ["Circle"]), ["Circle", 1.5]);
    const refused = [{ Circle: 1, Other: 2 }, { Empty: null }, "Circle", 7, {}];
    for (const value of refused) {
      assert.throws(() => toVariant(value, "Shape", ["Empty"], ["Circle"]), {
        name: "TypeError",
        message: /^Shape: expected "Empty" or a map with one key among "Circle", got /,
      });
    }
  });
});

describe("decodeErrorFields", () => {
  const encoded = (value: unknown) => Buffer.from(new Encoder({ useBigInt64: true }).encode(value)).toString("base64");

  test("reads the last fields line of a traceback", () => {
    const traceback = `NotFound: id=42\nrpcgen-error-fields: ${encoded({ id: 1 })}\nrpcgen-error-fields: ${encoded({ id: 2n ** 63n })}\n`;
    assert.deepEqual(decodeErrorFields(traceback), { id: 2n ** 63n });
    assert.deepEqual(decodeErrorFields("rpcgen-error-fields: gaJpZCo="), { id: 42 });
  });

  test("is undefined without a readable fields line", () => {
    assert.equal(decodeErrorFields(null), undefined);
    assert.equal(decodeErrorFields("Traceback (most recent call last):\nValueError: boom\n"), undefined);
    assert.equal(decodeErrorFields("rpcgen-error-fields: not base64!"), undefined);
    assert.equal(decodeErrorFields("rpcgen-error-fields: wQ=="), undefined);
  });
});
