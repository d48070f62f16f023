/**
 * The client generated from tests/fixtures/peer.rpc against the real zerorpc-python peer
 * (tests/fixtures/zerorpc_peer.py): every method, streams, an untyped remote error, arguments
 * refused before sending, replies that do not match the schema, timeouts and a killed server; and
 * against the real zerorpc-node peer, whose 64-bit values arrive as float64.
 */

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  Client,
  LostRemoteError,
  ProtocolError,
  RemoteError,
  TimeoutExpiredError,
} from "../build/generated/rpcgen-runtime.js";
import { PeerClient, type Sample } from "../build/generated/peer.js";
import { PeerClient as MismatchedPeerClient } from "../build/generated/peer_mismatch.js";
import { collect, rejection, startNodePeer, startPythonPeer, type RunningServer } from "./support/servers.js";

/** Heartbeat of the peers and clients: short, so that the lost-remote test stays quick. */
const HEARTBEAT_SECONDS = 1;
/** Hang guard for each suite (never an assertion on speed). */
const SUITE_LIMIT_MS = 90_000;

describe("generated client against zerorpc-python", { timeout: SUITE_LIMIT_MS }, () => {
  let peer: RunningServer;
  let connection: Client;
  let client: PeerClient;

  before(async () => {
    peer = await startPythonPeer(HEARTBEAT_SECONDS);
    connection = new Client(peer.endpoint, { heartbeatSeconds: HEARTBEAT_SECONDS });
    client = new PeerClient(connection);
  });

  after(async () => {
    connection.close();
    await peer.stop();
  });

  test("hello, add, nothing and byte_len", async () => {
    assert.equal(await client.hello("world"), "Hello, world");
    assert.equal(await client.add(2n, 3n), 5n);
    assert.equal(await client.add(2n ** 62n, 2n ** 62n - 1n), 2n ** 63n - 1n);
    assert.equal(await client.add(-(2n ** 63n), 0n), -(2n ** 63n));
    assert.equal(await client.nothing(), undefined);
    assert.equal(await client.byteLen(new Uint8Array([0, 1, 255])), 3n);
  });

  test("requestHeader entries reach the server", async () => {
    const traced = new Client(peer.endpoint, {
      heartbeatSeconds: HEARTBEAT_SECONDS,
      requestHeader: (method) => ({ trace_id: `t-1 ${method}` }),
    });
    try {
      assert.equal(await new PeerClient(traced).headerEntry("trace_id"), "t-1 header_entry");
    } finally {
      traced.close();
    }
    assert.equal(await client.headerEntry("trace_id"), null);
  });

  test("echo returns any value untouched", async () => {
    const values: unknown[] = [null, true, "héllo", 1.5, 42, 2n ** 64n - 1n, new Uint8Array([9]), [1, "two"], { a: { b: [] } }];
    for (const value of values) {
      assert.deepEqual(await client.echo(value), value);
    }
  });

  test("sample decodes into the Sample interface, 64-bit integers exact", async () => {
    const expected: Sample = {
      nil: null,
      true: true,
      false: false,
      small: 7,
      negative: -3,
      big: 2n ** 63n + 5n,
      min_i64: -(2n ** 63n),
      float: 1.5,
      text: "héllo",
      bytes: new Uint8Array([0, 1, 255]),
      list: [1, "two", 3],
      map: { a: 1, b: [true, null] },
    };
    assert.deepEqual(await client.sample(), expected);
  });

  test("streams yield every item, and none for an empty stream", async () => {
    assert.deepEqual(await collect(client.count(5)), [0, 1, 2, 3, 4]);
    assert.deepEqual(await collect(client.count(250)), Array.from({ length: 250 }, (_, index) => index));
    assert.deepEqual(await collect(client.emptyStream()), []);
  });

  test("leaving a stream early ends the call", async () => {
    const seen: number[] = [];
    for await (const item of client.count(1000)) {
      seen.push(item);
      if (item === 2) {
        break;
      }
    }
    assert.deepEqual(seen, [0, 1, 2]);
    assert.equal(connection.pendingCalls, 0);
    assert.equal(await client.hello("again"), "Hello, again");
  });

  test("a Python exception is an untyped RemoteError", async () => {
    const error = await rejection(client.fail("boom"));
    assert.ok(error instanceof RemoteError, String(error));
    assert.equal(error.remoteName, "ValueError");
    assert.equal(error.remoteMessage, "boom");
    assert.match(error.remoteTraceback ?? "", /ValueError: boom/);
  });

  test("arguments that do not fit are refused before anything is sent", async () => {
    const tooBig = await rejection(client.add(2n ** 63n, 0n));
    assert.ok(tooBig instanceof RangeError, String(tooBig));
    assert.match(tooBig.message, /^invalid argument for "add" on tcp:\/\/127\.0\.0\.1:\d+: a: 9223372036854775808 is out of range/);
    const negative = (): unknown => client.count(-1);
    assert.throws(negative, { name: "RangeError", message: /n: -1 is out of range \[0, 4294967295\]/ });
    const notText = await rejection(client.hello(7 as unknown as string));
    assert.ok(notText instanceof TypeError);
    assert.match(notText.message, /name: expected a string, got 7$/);
    assert.equal(connection.pendingCalls, 0);
  });

  test("replies that do not match the schema are ProtocolErrors naming the path", async () => {
    const mismatched = new MismatchedPeerClient(connection);
    const error = await rejection(mismatched.hello("x"));
    assert.ok(error instanceof ProtocolError, String(error));
    assert.match(error.message, /^the reply to "hello" on tcp:\/\/\S+ does not match the schema: u32: expected a number, got 'Hello, x'$/);
    const streamed = await rejection(collect(mismatched.count(3)));
    assert.ok(streamed instanceof ProtocolError, String(streamed));
    assert.match(streamed.message, /^an item streamed by "count" on \S+ does not match the schema: string: expected a string, got 0$/);
  });

  test("a call that outlives its time limit fails with TimeoutExpiredError", async () => {
    const error = await rejection(client.slow(3, { timeoutSeconds: 0.3 }));
    assert.ok(error instanceof TimeoutExpiredError, String(error));
    assert.equal(await client.slow(0.05, { timeoutSeconds: 10 }), 0.05);
  });
});

describe("generated client against a zerorpc-python peer that dies", { timeout: SUITE_LIMIT_MS }, () => {
  test("a call in progress fails with LostRemoteError", async () => {
    const peer = await startPythonPeer(HEARTBEAT_SECONDS);
    const connection = new Client(peer.endpoint, { heartbeatSeconds: HEARTBEAT_SECONDS, timeoutSeconds: null });
    try {
      const client = new PeerClient(connection);
      assert.equal(await client.hello("first"), "Hello, first");
      const pending = rejection(client.slow(60));
      // Requests arrive in order: once a later call is answered, the peer has the slow one (a
      // request the client could not send before the peer died would wait for it instead).
      assert.equal(await client.hello("second"), "Hello, second");
      peer.kill();
      const error = await pending;
      assert.ok(error instanceof LostRemoteError, String(error));
    } finally {
      connection.close();
      await peer.stop();
    }
  });
});

describe("generated client against zerorpc-node", { timeout: SUITE_LIMIT_MS }, () => {
  test("every method; 64-bit fields sent as float64 decode to exact bigints", async () => {
    const peer = await startNodePeer(HEARTBEAT_SECONDS);
    const connection = new Client(peer.endpoint, { heartbeatSeconds: HEARTBEAT_SECONDS });
    try {
      const client = new PeerClient(connection);
      assert.equal(await client.add(2n ** 40n, 1n), 2n ** 40n + 1n);
      assert.equal(await client.hello("node"), "Hello, node");
      assert.equal(await client.nothing(), undefined);
      const expected: Sample = {
        nil: null,
        true: true,
        false: false,
        small: 7,
        negative: -3,
        big: 2n ** 63n,
        min_i64: -(2n ** 63n),
        float: 1.5,
        text: "héllo",
        bytes: new Uint8Array([0, 1, 255]),
        list: [1, "two", 3],
        map: { a: 1, b: [true, null] },
      };
      assert.deepEqual(await client.sample(), expected);
      assert.equal(await client.byteLen(new Uint8Array([0, 1, 255])), 3n);
      assert.deepEqual(await collect(client.count(250)), Array.from({ length: 250 }, (_, index) => index));
      assert.deepEqual(await collect(client.emptyStream()), []);
      const error = await rejection(client.fail("boom"));
      assert.ok(error instanceof RemoteError, String(error));
      assert.equal(error.remoteName, "Error");
      assert.equal(error.remoteMessage, "boom");
    } finally {
      connection.close();
      await peer.stop();
    }
  });
});
