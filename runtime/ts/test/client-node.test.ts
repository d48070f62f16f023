/**
 * The client against the real zerorpc-node server (tests/fixtures/zerorpc_node_peer.cjs): values
 * as msgpack-lite sends them back, errors, streams, heartbeats, concurrency, and the unknown method
 * that zerorpc-node never answers.
 */

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Client, LostRemoteError } from "../src/rpcgen-runtime.js";
import { collect, rejectsRemotely } from "./support/calls.js";
import { startNodePeer, type Peer } from "./support/peers.js";

/** Heartbeat of the peer and client: short, so that the lost-remote test stays quick. */
const HEARTBEAT_SECONDS = 1;
/** Hang guard for the suite (never an assertion on speed). */
const SUITE_LIMIT_MS = 60_000;

describe("client against zerorpc-node", { timeout: SUITE_LIMIT_MS }, () => {
  let peer: Peer;
  let client: Client;

  before(async () => {
    peer = await startNodePeer(HEARTBEAT_SECONDS);
    client = new Client(peer.endpoint, { heartbeatSeconds: HEARTBEAT_SECONDS });
  });

  after(async () => {
    client.close();
    await peer.stop();
  });

  test("hello, add, nothing and byte_len", async () => {
    assert.equal(await client.call("hello", ["world"]), "Hello, world");
    assert.equal(await client.call("add", [2, 3]), 5);
    assert.equal(await client.call("nothing", []), null);
    assert.equal(await client.call("byte_len", [new Uint8Array(70_000)]), 70_000);
  });

  describe("echo returns values as msgpack-lite re-encodes them", () => {
    const cases: [string, unknown, unknown][] = [
      ["nil", null, null],
      ["true", true, true],
      ["negative int", -300, -300],
      ["float", 1.5, 1.5],
      ["string", "héllo ✓", "héllo ✓"],
      ["bytes", new Uint8Array([0, 1, 255]), new Uint8Array([0, 1, 255])],
      ["nested map", { a: { b: { c: null, d: [true] } } }, { a: { b: { c: null, d: [true] } } }],
      ["2^40 sent as uint64 comes back a float64, so a number", 2n ** 40n, 2 ** 40],
      ["2^63 + 5 comes back rounded to 2^63 by zerorpc-node", 2n ** 63n + 5n, 2 ** 63],
    ];
    for (const [label, sent, expected] of cases) {
      test(label, async () => assert.deepEqual(await client.call("echo", [sent]), expected));
    }
  });

  test("sample() holds float64s where zerorpc-python sends 64-bit integers", async () => {
    assert.deepEqual(await client.call("sample", []), {
      nil: null,
      true: true,
      false: false,
      small: 7,
      negative: -3,
      big: 2 ** 63,
      min_i64: -(2 ** 63),
      float: 1.5,
      text: "héllo",
      bytes: new Uint8Array([0, 1, 255]),
      list: [1, "two", 3],
      map: { a: 1, b: [true, null] },
    });
  });

  test("an Error passed to reply rejects with RemoteError named after it, its stack as traceback", async () => {
    const error = await rejectsRemotely(client.call("fail", ["boom"]), "Error");
    assert.equal(error.remoteMessage, "boom");
    assert.match(error.remoteTraceback ?? "", /^Error: boom\n {4}at /);
  });

  test("a missing argument is zerorpc-node's TypeError: its reply callback takes the argument's place", async () => {
    const error = await rejectsRemotely(client.call("add", [1]), "TypeError");
    assert.equal(error.remoteMessage, "reply is not a function");
  });

  test("an unknown method, which zerorpc-node never answers, rejects with LostRemoteError", async () => {
    await assert.rejects(client.call("nosuch", [], { timeoutSeconds: 30 }), (error: unknown) => {
      assert.ok(error instanceof LostRemoteError, String(error));
      assert.match(error.message, /while waiting for "nosuch"/);
      return true;
    });
    assert.equal(await client.call("add", [1, 1]), 2);
  });

  test("count(1000) streams 0..999, and empty_stream's OK [nil] is an empty stream", async () => {
    const items = await collect(client.stream<number>("count", [1000]));
    assert.deepEqual(items, Array.from({ length: 1000 }, (_, index) => index));
    assert.deepEqual(await collect(client.stream("empty_stream", [])), []);
  });

  test("introspection", async () => {
    assert.deepEqual(await client.call("_zerorpc_ping", []), ["pong", ""]);
    const inspected = (await client.call("_zerorpc_inspect", [])) as {
      methods: Record<string, { args: { name: string }[] }>;
    };
    assert.deepEqual(
      inspected.methods["add"]?.args.map((arg) => arg.name),
      ["a", "b"],
    );
  });

  test("200 concurrent calls on one client", async () => {
    const calls = Array.from({ length: 200 }, (_, index) => client.call<number>("add", [index, 1000]));
    assert.deepEqual(await Promise.all(calls), Array.from({ length: 200 }, (_, index) => index + 1000));
    assert.equal(client.pendingCalls, 0);
  });

  test("slow(3.5), longer than three heartbeat intervals, succeeds", async () => {
    assert.equal(await client.call("slow", [3.5]), 3.5);
  });
});
